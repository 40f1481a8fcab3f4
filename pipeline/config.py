"""The YAML config: one pydantic model per section, unknown keys rejected with a suggestion."""
from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, PrivateAttr, ValidationError, model_validator

from features.metadata import PERSONAL_ROLES
from pipeline.config_sections import AccountsConfig, OutputConfig, Section, SegmentsConfig
from pipeline.errors import ConfigError, first_line

DEFAULT_CONFIG = Path("configs/default.yaml")


_Section = Section  # unknown keys are errors, assignments are validated (pipeline.config_sections.Section)


class LeadColumns(_Section):
    """Maps the user's column names to the roles leadscore knows (SPEC 2)."""

    lead_id: str = "lead_id"
    created_at: str | None = "created_at"
    label: str | None = None
    email: str | None = "email"
    first_name: str | None = "first_name"
    last_name: str | None = "last_name"
    job_title: str | None = "job_title"
    company: str | None = "company"
    company_domain: str | None = "company_domain"
    industry: str | None = "industry"
    employees: str | None = "employees"
    annual_revenue: str | None = "annual_revenue"
    country: str | None = "country"
    lead_source: str | None = "lead_source"
    phone: str | None = "phone"
    budget: str | None = "budget"
    authority: str | None = "authority"
    need: str | None = "need"
    timeline: str | None = "timeline"
    owner: str | None = "owner"
    status: str | None = "status"


class EventColumns(_Section):
    lead_id: str = "lead_id"
    timestamp: str = "timestamp"
    event_type: str = "event_type"
    channel: str | None = "channel"
    value: str | None = "value"


class OutcomeColumns(_Section):
    lead_id: str = "lead_id"
    converted_at: str = "converted_at"


class DataConfig(_Section):
    mode: Literal["events", "static"] = "events"
    path: str | None = "data/sample"
    leads: str = "leads"
    events: str | None = Field("events", description="null: no events file (profile features only).")
    outcomes: str = "outcomes"
    date_format: str | None = Field(None, description="strftime layout of text dates, e.g. '%d-%m-%Y'; null: ISO "
                                    "8601, or a day-first / month-first layout detected when only one reads all.")
    lead_columns: LeadColumns = Field(default_factory=LeadColumns)
    event_columns: EventColumns = Field(default_factory=EventColumns)
    outcome_columns: OutcomeColumns = Field(default_factory=OutcomeColumns)
    exclude_columns: list[str] = Field(
        default_factory=lambda: ["status", "owner"],
        description="Columns filled in after sales contact (they leak the label) or not meant as features.",
    )
    personal_columns: list[str] = Field(
        default_factory=lambda: list(PERSONAL_ROLES),
        description="Roles holding personal data: used for quality flags, never as raw features or in tracking.",
    )

    @model_validator(mode="after")
    def _static_needs_label(self) -> DataConfig:
        if self.mode == "static" and not self.lead_columns.label:
            raise ValueError("data.mode 'static' needs data.lead_columns.label (the converted 0/1 column)")
        return self


SizeBand = Literal["1-9", "10-49", "50-199", "200-999", "1000-4999", "5000+"]
Seniority = Literal["owner_founder", "c_level", "vp", "head", "director", "manager", "senior", "individual",
                    "intern_student"]


class IcpConfig(_Section):
    """The ideal customer profile: one 0/1 feature per criterion and `icp_match`, the share of criteria met.
    Values match case-insensitively (countries also by common codes: US, UK, DE...); an empty list turns
    a criterion off. Defaults: a B2B SaaS vendor selling to tech-forward mid-market and enterprise companies
    in North America and Western Europe, through decision makers."""

    industries: list[str] = Field(default_factory=lambda: [
        "Software", "SaaS", "Information Technology", "Internet", "Fintech", "Healthcare Technology", "E-commerce"])
    size_bands: list[SizeBand] = Field(default_factory=lambda: ["50-199", "200-999", "1000-4999"])
    countries: list[str] = Field(default_factory=lambda: [
        "United States", "Canada", "United Kingdom", "Germany", "Netherlands", "France", "Sweden", "Denmark",
        "Norway", "Finland", "Switzerland", "Austria", "Ireland", "Australia"])
    seniorities: list[Seniority] = Field(default_factory=lambda: ["owner_founder", "c_level", "vp", "head", "director"])


class JunkConfig(_Section):
    """junk_flag = profile rules (throw-away address, test entry, fake name with free mail or invalid phone) or a
    bot-like signup burst together with a weak profile signal (free mail, invalid or missing email or phone...)."""

    bot_burst_events: int = Field(15, ge=0, description="Activities within one hour (the hour after the lead's first "
                                                        "activity, or any clock hour) that make a bot-like burst; "
                                                        "0 turns the engagement rule off.")


class EngagementConfig(_Section):
    windows_days: list[int] = Field(default_factory=lambda: [7, 30, 90])
    half_life_days: float = Field(14.0, gt=0)
    high_intent: list[str] = Field(
        default_factory=lambda: ["pricing_page_view", "demo_request", "free_trial_signup", "contact_sales"]
    )
    negative: list[str] = Field(default_factory=lambda: ["unsubscribe", "careers_page_view", "email_bounce"])
    email_open: list[str] = Field(default_factory=lambda: ["email_open"])
    email_click: list[str] = Field(default_factory=lambda: ["email_click"])
    event_types: list[str] | None = Field(
        None, description="Event types to build per-type features for; default: those seen in training data."
    )
    min_type_count: int = Field(20, ge=1, description="Event types rarer than this in training get no own columns.")


class FeaturesConfig(_Section):
    use_events: bool = Field(True, description="false: profile features only (the events file is ignored).")
    engagement: EngagementConfig = Field(default_factory=EngagementConfig)
    icp: IcpConfig = Field(default_factory=IcpConfig)
    junk: JunkConfig = Field(default_factory=JunkConfig)
    rare_category_min_share: float = Field(0.005, ge=0, lt=1)
    max_categories: int = Field(30, ge=2)


class TrainingConfig(_Section):
    horizon_days: int = Field(90, gt=0)
    snapshot_every_days: int = Field(7, gt=0)
    max_lead_age_days: int = Field(180, gt=0)
    test_weeks: int = Field(8, gt=0, description="Test period in weeks, when the history holds twice val + test weeks "
                            "of label-complete snapshots; else test_share of them.")
    val_weeks: int = Field(8, gt=0)
    test_share: float = Field(0.2, gt=0, lt=0.5, description="Short histories: share of label-complete dates for test.")
    val_share: float = Field(0.2, gt=0, lt=0.5)
    min_label_days: int = Field(7, gt=0, description="A training snapshot needs this many days of observed label "
                                "before its part's labels are read (and before the end of the data).")
    gap_days: int | None = Field(None, ge=0, description="Extra embargo between train and validation; default 0: "
                                 "labels are read as known at the next part's start, so none crosses into it.")
    refit: bool = Field(True, description="Refit the best model on every labelled snapshot for the registered version.")
    static_test_share: float = Field(0.2, gt=0, lt=1)
    static_val_share: float = Field(0.2, gt=0, lt=1)
    max_rows: int = Field(2_000_000, gt=0)
    min_positives: int = Field(40, ge=1)
    min_negatives: int = Field(40, ge=1)
    seed: int = 42
    selection_metric: str = "val_roc_auc"


class BacktestConfig(_Section):
    """`leadscore backtest` judges every model on what happened after T, never on an internal test period, so
    its split has none: validation (early stopping, calibration, selection) is the last `val_weeks` of the
    label-complete dates before T, or `val_share` of the dates on a short history. `null` keeps training's."""
    gap_days: int | None = Field(None, ge=0, description="Extra embargo between the internal train and validation.")
    val_weeks: int | None = Field(4, gt=0)

    def applied_to(self, training: TrainingConfig) -> TrainingConfig:
        changes = {k: v for k, v in self.model_dump().items() if v is not None}
        return training.model_copy(update=changes)


class LogRegConfig(_Section):
    enabled: bool = True
    C: float | None = Field(None, gt=0, description="Fixed inverse regularisation; null = chosen by time-aware CV.")
    C_grid: list[float] = Field(default_factory=lambda: [0.01, 0.03, 0.1, 0.3])
    cv_folds: int = Field(3, ge=2)
    numeric: Literal["log", "spline", "raw"] = "log"
    max_iter: int = Field(2000, gt=0)
    cv_max_rows: int | None = Field(300_000, gt=0, description="Choose C (and fit imputation / scaling) on a "
                                    "seeded sample of at most this many training rows; null = all rows.")


class LightGBMConfig(_Section):
    enabled: bool = True
    num_leaves: int = Field(7, ge=2)
    max_depth: int = Field(3, ge=-1)
    learning_rate: float = Field(0.1, gt=0)
    n_estimators: int = Field(600, gt=0)
    min_child_samples: int = Field(100, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    reg_lambda: float = Field(1.0, ge=0)
    early_stopping_rounds: int = Field(50, gt=0)
    search_budget: int = Field(4, ge=1, description="Parameter sets tried (1 = just these); each is a nested run.")


class PointsConfig(_Section):
    enabled: bool = True
    rules: str = Field("scoring_rules.yaml", description="Rules YAML, relative to the config file's folder.")


class SuggestedPointsConfig(_Section):
    """`points suggest` and model `points_suggested`: points from historical close rates."""

    enabled: bool = True
    min_support: int = Field(50, ge=1)
    smoothing: float = Field(20.0, ge=0)
    scale: float = Field(10.0, gt=0)
    bins: int = Field(5, ge=2)
    max_rules: int = Field(100, ge=1)
    max_features: int = Field(15, ge=1)


class ModelsConfig(_Section):
    points: PointsConfig = Field(default_factory=PointsConfig)
    points_suggested: SuggestedPointsConfig = Field(default_factory=SuggestedPointsConfig)
    logreg: LogRegConfig = Field(default_factory=LogRegConfig)
    lightgbm: LightGBMConfig = Field(default_factory=LightGBMConfig)


class GradesConfig(_Section):
    """by: capacity -> A is the top `A` share of validation leads, B the next `B`, C the next `C`, D the rest.
    by: precision -> A, B, C are conversion-rate targets: grade A holds the leads above the lowest cut at
    which the leads above it convert at rate A or better on validation, and so on."""

    by: Literal["capacity", "precision"] = "capacity"
    A: float = Field(0.10, gt=0, lt=1)
    B: float = Field(0.20, gt=0, lt=1)
    C: float = Field(0.30, gt=0, lt=1)

    @model_validator(mode="after")
    def _consistent(self) -> GradesConfig:
        if self.by == "capacity" and self.A + self.B + self.C >= 1:
            raise ValueError("grades.A + grades.B + grades.C must be below 1 (D takes the rest)")
        if self.by == "precision" and not self.A > self.B > self.C:
            raise ValueError("with grades.by: precision the targets must fall: A > B > C")
        return self


class AlertsConfig(_Section):
    """`predict --previous`: which crossings since the previous scoring are alerts. The points model
    uses its own rules' hot / MQL thresholds (in points) instead."""

    hot_grade: Literal["A", "B", "C"] = Field("A", description="Hot = this grade or better.")
    mql_score: int = Field(70, ge=0, le=100, description="Marketing-qualified = score (0-100) at or above this.")


class MatrixConfig(_Section):
    """The combined grade "A2": a fit letter from fit_score and an engagement digit from engagement_score.
    fit: shares of validation leads given A, B, C (D the rest); engagement: shares given 1, 2, 3 (4 the rest)."""

    fit: list[float] = Field(default_factory=lambda: [0.25, 0.25, 0.25], description="Shares for A, B, C.")
    engagement: list[float] = Field(default_factory=lambda: [0.25, 0.25, 0.25], description="Shares for 1, 2, 3.")

    @model_validator(mode="after")
    def _shares(self) -> MatrixConfig:
        for key in ("fit", "engagement"):
            shares = getattr(self, key)
            if len(shares) != 3 or not all(0 < x < 1 for x in shares) or sum(shares) >= 1:
                raise ValueError(f"matrix.{key} must be 3 shares, each between 0 and 1, summing to less than 1 "
                                 f"(the last class takes the rest); got {shares}")
        return self


class LabelConfig(_Section):
    """How one column reads in the reasons: `name` replaces the humanised column name ('Pagevalues' ->
    'Value of pages viewed'), `values` maps raw category values to words ('purchased_list' -> 'Bought list')."""

    name: str | None = None
    values: dict[str, str] = Field(default_factory=dict)


class ScoringConfig(_Section):
    calibration: Literal["auto", "isotonic", "sigmoid"] = "auto"
    min_contribution: float = Field(0.05, ge=0, description="A source whose contribution is smaller than this "
                                                             "(in log-odds) is no reason.")
    labels: dict[str, LabelConfig] = Field(default_factory=dict, description="Per column: words for its name and "
                                                                             "category values in the reasons.")
    outcomes: str | None = Field(None, description="predict: outcomes file (lead_id, converted_at); leads converted "
                                                   "before as_of are not scored. `predict --outcomes` overrides it.")
    chunk_leads: int = Field(100_000, ge=1_000, description="predict scores this many leads at a time: peak "
                                                            "memory follows the chunk, not the input size.")
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    grades: GradesConfig = Field(default_factory=GradesConfig)
    top_positive: int = Field(3, ge=0)
    top_negative: int = Field(2, ge=0)
    matrix: MatrixConfig = Field(default_factory=MatrixConfig)
    drift_warn_psi: float = Field(0.2, gt=0, le=10, description="predict warns when the score or a feature drifts "
                                                                "above this PSI against the model's reference.")
    history: str | None = Field(None, description="predict: the score history folder (relative to the config file); "
                                                  "`predict --history DIR` overrides it.")


class PromotionConfig(_Section):
    """The gate a challenger must pass to become champion (SPEC 3, retrain)."""

    metric: str = "test_roc_auc"
    min_improvement: float = Field(0.0, ge=0, description="Challenger must beat the champion by at least this.")
    min_test_roc_auc: float = Field(0.65, ge=0, le=1)
    max_test_ece: float = Field(0.05, ge=0, le=1)


class MlflowConfig(_Section):
    tracking_uri: str | None = None
    experiment: str = "lead-scoring"
    batch_experiment: str = "lead-scoring-batch"
    registered_model: str = "lead-scorer"


class Config(_Section):
    data: DataConfig = Field(default_factory=DataConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    accounts: AccountsConfig = Field(default_factory=AccountsConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)
    segments: SegmentsConfig = Field(default_factory=SegmentsConfig)
    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)
    _source_dir: Path | None = PrivateAttr(default=None)

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the config file's folder (or to configs/ for built-in defaults)."""
        path = Path(relative)
        if path.is_absolute():
            return path
        return (self._source_dir or DEFAULT_CONFIG.parent) / path

    def fingerprint(self) -> str:
        """A stable hash of the resolved config (for tags and 'nothing changed' checks)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def flat_params(self) -> dict[str, str]:
        """The resolved config as flat MLflow params (`section.key`: value)."""
        flat = _flatten(self.model_dump(mode="json"))
        return {k: json.dumps(v) if isinstance(v, (list, dict)) else str(v) for k, v in flat}


def _flatten(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            items.extend(_flatten(value, name + "."))
        else:
            items.append((name, value))
    return items


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a YAML config; a missing default file means the built-in defaults."""
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.exists():
        if path == DEFAULT_CONFIG:
            return Config()  # built-in defaults; relative paths resolve against ./configs
        raise ConfigError(f"{path}: config file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML ({first_line(str(exc), None)})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    cfg = parse_config(raw, source=str(path))
    cfg._source_dir = path.resolve().parent
    return cfg


def parse_config(raw: dict[str, Any], source: str = "config") -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc.errors()[0], raw)}") from None


def _describe(error: dict[str, Any], raw: dict[str, Any]) -> str:
    loc = [str(p) for p in error["loc"]]
    where = ".".join(loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        suggestion = _suggest(loc, raw)
        hint = f"; did you mean '{suggestion}'?" if suggestion else ""
        return f"unknown key '{where}'{hint}"
    if error["type"] == "value_error":
        return error["msg"].removeprefix("Value error, ")
    return f"'{where}': {error['msg']} (got {error.get('input')!r})"


def _suggest(loc: list[str], raw: dict[str, Any]) -> str | None:
    """Closest valid key at the same level as an unknown key."""
    model: type[BaseModel] = Config
    for part in loc[:-1]:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    matches = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1, cutoff=0.5)
    return ".".join(loc[:-1] + matches[:1]) if matches else None

