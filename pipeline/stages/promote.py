"""The promotion gate: `champion` moves only to a challenger that passes absolute criteria and beats
the current champion re-scored on the challenger's own (latest) test period."""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from mlflow.tracking import MlflowClient

from models.metrics import evaluate
from pipeline import tracking
from pipeline.config import Config, PromotionConfig
from pipeline.errors import LeadscoreError, first_line
from pipeline.inputs.data import Inputs
from pipeline.inputs.examples import Examples

log = logging.getLogger(__name__)


@dataclass
class Decision:
    decision: str  # "promoted" or "kept"
    challenger_version: str
    champion_version: str | None
    reasons: list[str] = field(default_factory=list)
    challenger_metrics: dict[str, float] = field(default_factory=dict)
    champion_metrics: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(challenger: dict[str, float], champion: dict[str, float] | None, policy: PromotionConfig,
           champion_version: str | None = None, why_champion_failed: str = "") -> tuple[bool, list[str]]:
    """The gate's rule, without I/O: (promote?, reasons). The challenger must pass the absolute floors
    (test ROC AUC, test ECE) and, when there is a champion, beat its metric on the same test period by more
    than `min_improvement` (a tie keeps the champion); a champion that could not be scored loses."""
    failures, reasons = [], []
    if challenger["test_roc_auc"] < policy.min_test_roc_auc:
        failures.append(f"test_roc_auc {challenger['test_roc_auc']:.4f} < required {policy.min_test_roc_auc}")
    if challenger["test_ece"] > policy.max_test_ece:
        failures.append(f"test_ece {challenger['test_ece']:.4f} > allowed {policy.max_test_ece}")
    if champion_version is not None and not failures:
        if why_champion_failed:
            reasons.append(f"champion v{champion_version} could not score the new test period ({why_champion_failed}); "
                           "it loses")
        else:
            key = policy.metric.removeprefix("test_")
            ours, theirs = challenger[policy.metric], champion[key]
            if ours <= theirs + policy.min_improvement:  # a tie is not better: the champion stays
                failures.append(f"{policy.metric} {ours:.4f} does not beat champion v{champion_version}'s {theirs:.4f} "
                                f"on the same test period by more than {policy.min_improvement}")
            else:
                reasons.append(f"{policy.metric} {ours:.4f} beats champion v{champion_version}'s {theirs:.4f} "
                               f"on the same test period")
    if failures:
        return False, failures + reasons
    if champion_version is None:
        reasons.append("first model to pass the absolute criteria")
    return True, reasons


def gate(cfg: Config, challenger_version: str, challenger_metrics: dict[str, float], examples: Examples,
         inputs: Inputs) -> Decision:
    """Rescore the champion on the challenger's test period, `decide`, record the decision, move the alias."""
    champion = tracking.alias_version(cfg.mlflow.registered_model, tracking.CHAMPION)
    d = Decision("kept", challenger_version, champion,
                 challenger_metrics={k: v for k, v in challenger_metrics.items() if k.startswith("test_")})
    if champion == challenger_version:
        d.reasons = [f"version {challenger_version} is already champion"]
        record(cfg, d)
        return d
    why = ""
    if champion is not None and _passes_floors(challenger_metrics, cfg.promotion):
        d.champion_metrics, why = rescore_champion(cfg, champion, examples, inputs)
    promoted, d.reasons = decide(challenger_metrics, d.champion_metrics, cfg.promotion, champion, why)
    d.decision = "promoted" if promoted else "kept"
    record(cfg, d)
    return d


def _passes_floors(metrics: dict[str, float], policy: PromotionConfig) -> bool:
    """Only a challenger above the floors is worth rescoring the champion for."""
    return metrics["test_roc_auc"] >= policy.min_test_roc_auc and metrics["test_ece"] <= policy.max_test_ece


def rescore_champion(cfg: Config, version: str, examples: Examples, inputs: Inputs) -> tuple[dict[str, float], str]:
    """The champion's metrics on the challenger's test rows, with features rebuilt by the champion's
    own builder from the raw inputs known at the challenger's cut-off.

    A refitted champion has learnt from every snapshot up to its own training date, which can include the
    challenger's test period; so its *evaluated* model (tag `evaluated_model_uri`: fitted only before its
    validation period) is the one rescored, as the challenger's test metrics are its evaluated model's too."""
    uri = f"models:/{cfg.mlflow.registered_model}/{version}"
    try:
        tags = MlflowClient().get_model_version(cfg.mlflow.registered_model, version).tags
        uri = tags.get("evaluated_model_uri") or uri
        scorer = tracking.load_pyfunc(uri).unwrap_python_model().scorer
        X, y = examples.rows("test")
        known = inputs.known_at(examples.until) if examples.until is not None else inputs
        leads = known.leads.set_index("lead_id").loc[X["lead_id"]].reset_index()
        as_of = X["as_of"] if examples.until is not None else None
        table = scorer.builder.transform(leads, known.events, as_of)
        return evaluate(y, scorer.probability(table)), ""
    except Exception as exc:  # noqa: BLE001 - any failure to score means the champion loses
        return {}, f"{type(exc).__name__}: {str(exc)[:120]}"


def record(cfg: Config, d: Decision) -> None:
    """Decision and reasons as tags on the challenger version; champion alias moved on success."""
    client = MlflowClient()
    name = cfg.mlflow.registered_model
    client.set_model_version_tag(name, d.challenger_version, "gate.decision", d.decision)
    client.set_model_version_tag(name, d.challenger_version, "gate.reasons", json.dumps(d.reasons)[:4000])
    if d.decision == "promoted":
        move_champion(cfg, d.challenger_version, "gate", "; ".join(d.reasons))
    log.info("Gate: %s v%s (%s)", d.decision, d.challenger_version, "; ".join(d.reasons))


def move_champion(cfg: Config, version: str, by: str, reason: str) -> dict[str, Any]:
    """Point `champion` at `version` and append the move to the model's champion history tag."""
    client = MlflowClient()
    name = cfg.mlflow.registered_model
    previous = tracking.alias_version(name, tracking.CHAMPION)
    history = _history(cfg)
    history.append({"version": str(version), "previous": previous, "by": by, "reason": reason[:200],
                    "at": datetime.now(UTC).isoformat(timespec="seconds")})
    tracking.set_alias(name, tracking.CHAMPION, str(version))
    client.set_registered_model_tag(name, "champion_history", json.dumps(history[-50:]))
    client.set_model_version_tag(name, str(version), "champion.since", history[-1]["at"])
    return {"champion_version": str(version), "previous_champion": previous, "by": by, "reason": reason}


def _history(cfg: Config) -> list[dict[str, Any]]:
    try:
        tags = MlflowClient().get_registered_model(cfg.mlflow.registered_model).tags
    except Exception:  # noqa: BLE001 - no model yet means no history
        return []
    return json.loads(tags.get("champion_history", "[]"))


def manual_promote(cfg: Config, version: str, reason: str) -> dict[str, Any]:
    tracking.setup(cfg, demo_fallback=True)
    name = cfg.mlflow.registered_model
    try:
        MlflowClient().get_model_version(name, str(version))
    except Exception as exc:  # noqa: BLE001
        cause = first_line(exc, 120)
        raise LeadscoreError(f"models:/{name}/{version}: no such registered version ({cause})") from None
    out = move_champion(cfg, version, "manual", reason)
    MlflowClient().set_model_version_tag(name, str(version), "gate.decision", "promoted (manual)")
    return out


def rollback(cfg: Config, reason: str) -> dict[str, Any]:
    """Champion goes back to the version that held it before the current one."""
    tracking.setup(cfg, demo_fallback=True)
    history = _history(cfg)
    current = tracking.alias_version(cfg.mlflow.registered_model, tracking.CHAMPION)
    previous = next((h["previous"] for h in reversed(history) if h["version"] == current and h["previous"]), None)
    if previous is None:
        raise LeadscoreError(f"{cfg.mlflow.registered_model}: no earlier champion to roll back to")
    return move_champion(cfg, previous, "rollback", reason)
