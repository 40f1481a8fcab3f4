"""Training examples: point-in-time snapshots (events mode) or one row per lead (static mode),
with their features, labels and the train / val / test split."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from features.builder import LeadFeatureBuilder
from features.snapshots import label_read_at, open_lead_snapshots, snapshot_dates
from models.splits import SplitError, date_balance_weights, plan_time_split, stratified_split
from pipeline.config import Config
from pipeline.errors import NotEnoughDataError
from pipeline.inputs.contracts import LABEL
from pipeline.inputs.data import Inputs

log = logging.getLogger(__name__)
PARTS = ("train", "val", "test")
RECENT = "recent"  # snapshot dates after the last label-complete one: used only by the final refit


@dataclass
class Examples:
    table: pd.DataFrame  # lead_id, as_of, features..., junk_flag
    y: np.ndarray
    part: np.ndarray
    builder: LeadFeatureBuilder
    split: dict[str, str]
    until: pd.Timestamp | None
    known: Inputs | None = None  # the inputs as known at `until`, to rebuild features with another builder
    y_final: np.ndarray | None = None  # every row's label read at `until`: what the final refit learns from
    readiness: dict | None = None  # the data readiness verdict (pipeline.inputs.readiness)

    def rows(self, part: str) -> tuple[pd.DataFrame, np.ndarray]:
        """The part's rows (index reset) and labels. Snapshot tables are in time order, so a part is one block
        of rows: then this is a view (copy-on-write), not a copy of a third of the table per model."""
        where = np.flatnonzero(self.part == part)
        if len(where) and where[-1] - where[0] + 1 == len(where):
            return self.table.iloc[where[0]: where[-1] + 1].reset_index(drop=True), self.y[where[0]: where[-1] + 1].copy()
        return self.table.iloc[where].reset_index(drop=True), self.y[where]

    def counts(self) -> dict[str, dict[str, int]]:
        return {p: {"rows": int((self.part == p).sum()), "conversions": int(self.y[self.part == p].sum())} for p in PARTS}

    def train_weights(self) -> np.ndarray | None:
        """Date-balanced weights of the train rows (snapshot examples; None for static ones)."""
        if self.until is None:
            return None
        X, y = self.rows("train")
        return date_balance_weights(y, X["as_of"].to_numpy())

    def final(self) -> Examples:
        """The final refit's examples: every row, labels read at `until`, all in part "train"."""
        y = self.y if self.y_final is None else self.y_final
        return Examples(self.table, y, np.full(len(y), "train", dtype=object), self.builder, self.split, self.until,
                        self.known, y, self.readiness)


def excluded_columns(cfg: Config) -> list[str]:
    """Config exclusions in role names (a user column mapped to a role is excluded under that role); the
    account id column (`accounts.column`) groups leads into accounts and is no feature either."""
    roles = {col: role for role, col in cfg.data.lead_columns.model_dump().items() if col}
    account = {cfg.accounts.column} if cfg.accounts.column else set()
    return sorted({roles.get(c, c) for c in cfg.data.exclude_columns} | set(cfg.data.personal_columns) | account)


def make_builder(cfg: Config, use_events: bool, half_life_days: float | None = None) -> LeadFeatureBuilder:
    eng = cfg.features.engagement.model_dump()
    if half_life_days is not None:
        eng["half_life_days"] = half_life_days
    return LeadFeatureBuilder(exclude=excluded_columns(cfg), engagement=eng,
                              use_events=use_events and cfg.features.use_events, icp=cfg.features.icp.model_dump(),
                              bot_burst_events=cfg.features.junk.bot_burst_events)


def build_examples(cfg: Config, inputs: Inputs, until: pd.Timestamp | None, with_test: bool = True) -> Examples:
    """Training examples with their parts; `with_test=False` (backtest) needs no internal test period."""
    if cfg.data.mode == "static":
        return _static_examples(cfg, inputs)
    return _snapshot_examples(cfg, inputs, until, with_test)


def effective_until(inputs: Inputs, until: pd.Timestamp | None) -> pd.Timestamp:
    """`until` (default now), but never past the end of the data: later snapshots would look unconverted."""
    end = inputs.data_end()
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    until = until or now
    if end is not None and until > end:
        until = end.ceil("D")
    return until


def _snapshot_examples(cfg: Config, inputs: Inputs, until: pd.Timestamp | None, with_test: bool = True) -> Examples:
    """Snapshot rows of the leads open at each date, split by `models.splits.plan_time_split`: the labels of
    every part read as known at the next part's start, evaluation parts label-complete, and the dates after
    the last label-complete one kept for the final refit (labels read at `until`)."""
    tc = cfg.training
    until = effective_until(inputs, until)
    known = inputs.known_at(until)
    first = known.leads["created_at"].min()
    dates = snapshot_dates(first, until - pd.Timedelta(days=tc.min_label_days), tc.snapshot_every_days)
    dates, outcomes_from = _when_outcomes_were_recorded(dates, known, tc.horizon_days)
    try:
        split = plan_time_split(dates, until, tc.horizon_days, test_weeks=tc.test_weeks, val_weeks=tc.val_weeks,
                                test_share=tc.test_share, val_share=tc.val_share, min_label_days=tc.min_label_days,
                                gap_days=tc.gap_days or 0, with_test=with_test)
    except SplitError as exc:
        raise NotEnoughDataError(f"not enough data: history {first.date()}..{until.date()}: {exc}") from None
    snaps = open_lead_snapshots(known.leads, known.outcomes, dates, tc.horizon_days, tc.max_lead_age_days,
                                with_conversion=True)
    part = split.assign(snaps["as_of"]).to_numpy(copy=True)
    part[(part == "") & (snaps["as_of"].to_numpy() > split.val.max())] = RECENT
    snaps["part"] = part
    snaps = snaps[snaps["part"] != ""]
    snaps = _cap_rows(snaps, tc.max_rows, tc.seed)
    as_of, converted = snaps["as_of"].to_numpy(), snaps["converted_at"].to_numpy()
    y = label_read_at(as_of, converted, tc.horizon_days, split.cuts(snaps["part"]))
    y_final = label_read_at(as_of, converted, tc.horizon_days, np.full(len(snaps), np.datetime64(until, "ns")))
    check_class_counts(y, snaps["part"].to_numpy(), cfg, with_test)
    builder = make_builder(cfg, use_events=known.events is not None).fit(known.leads, known.events)
    lead_rows = known.leads.set_index("lead_id").loc[snaps["lead_id"]].reset_index()
    table = builder.transform(lead_rows, known.events, snaps["as_of"].reset_index(drop=True))
    info = {**split.describe(), "until": str(until)}
    if outcomes_from is not None:
        info["outcomes_recorded_from"] = str(outcomes_from.date())
    return Examples(table, y, snaps["part"].to_numpy(), builder, info, until, known, y_final)


def _when_outcomes_were_recorded(dates: pd.DatetimeIndex, known: Inputs,
                                 horizon_days: int) -> tuple[pd.DatetimeIndex, pd.Timestamp | None]:
    """Snapshot dates whose whole label window ends before the first recorded conversion hold only
    "not converted" labels that may just be unrecorded: a CRM often starts tracking outcomes months after
    its first leads. Those dates are dropped, and the date conversions start is returned (None when the
    first conversion comes within a horizon of the first snapshot: nothing is dropped)."""
    converted = known.outcomes["converted_at"].dropna() if known.outcomes is not None else pd.Series(dtype="datetime64[ns]")
    if converted.empty or len(dates) == 0:
        return dates, None
    first_conversion = converted.min()
    keep = dates + pd.Timedelta(days=horizon_days) > first_conversion
    if keep.all():
        return dates, None
    log.warning("no conversion is recorded before %s although leads exist from %s: snapshots whose %d-day label "
                "window ends before then are not used (outcomes may have been tracked only from then on)",
                first_conversion.date(), dates.min().date(), horizon_days)
    return dates[keep], first_conversion


def _static_examples(cfg: Config, inputs: Inputs) -> Examples:
    leads = inputs.leads
    y = leads[LABEL].to_numpy()
    tc = cfg.training
    part = stratified_split(leads[LABEL], tc.static_test_share, tc.static_val_share, tc.seed).to_numpy()
    check_class_counts(y, part, cfg)
    builder = make_builder(cfg, use_events=False).fit(leads.drop(columns=[LABEL]))
    table = builder.transform(leads.drop(columns=[LABEL]), None, None)
    return Examples(table, y, part, builder, {"split": "stratified"}, None, inputs)


def with_half_life(examples: Examples, half_life_days: float) -> Examples:
    """The same rows and labels with the decayed engagement counts recomputed for another half-life (a points
    rule set's own). Only those columns are built; the rest of the table is shared with `examples` (a shallow
    copy: copy-on-write), so this costs a few columns, not a second feature table. The result equals the
    table of a builder refitted with that half-life (tests/pipeline/inputs/test_examples_memory.py)."""
    builder = examples.builder.with_half_life(half_life_days)
    columns = builder.half_life_columns()
    if not columns or half_life_days == examples.builder.engagement_.half_life_days:
        return replace(examples, builder=builder)
    known = examples.known
    as_of = examples.table["as_of"] if examples.until is not None else None
    decayed = builder.transform_half_life(examples.table["lead_id"], known.events if known is not None else None, as_of)
    table = examples.table.copy(deep=False)
    table[columns] = decayed[columns].set_axis(table.index)
    return replace(examples, table=table, builder=builder)


def _cap_rows(snaps: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """A seeded random subset when there are more snapshot rows than `max_rows` (same share per part)."""
    if len(snaps) <= max_rows:
        return snaps.reset_index(drop=True)
    log.warning("sampling %d of %d snapshot rows (training.max_rows)", max_rows, len(snaps))
    return snaps.sample(n=max_rows, random_state=seed).sort_values(["as_of", "lead_id"]).reset_index(drop=True)


def check_class_counts(y: np.ndarray, part: np.ndarray, cfg: Config, with_test: bool = True) -> None:
    """Refuse to train on too few conversions or non-conversions, as the commercial tools do."""
    tc = cfg.training
    train = part == "train"
    pos, neg = int(y[train].sum()), int((1 - y[train]).sum())
    if pos < tc.min_positives or neg < tc.min_negatives:
        raise NotEnoughDataError(
            f"not enough data: training needs at least {tc.min_positives} converted and {tc.min_negatives} "
            f"non-converted examples; "
            f"the training period has {pos} converted and {neg} non-converted"
        )
    for p in ("val", "test") if with_test else ("val",):
        rows = part == p
        if rows.sum() == 0 or y[rows].min() == y[rows].max():
            raise NotEnoughDataError(
                f"the {p} period has {int(rows.sum())} examples and {int(y[rows].sum())} conversions; "
                f"both classes are needed to evaluate (more data, or larger training.val_share / test_share)"
            )
