"""The promotion gate: `champion` moves only to a challenger that passes absolute criteria and beats
the current champion re-scored on the challenger's own (latest) test period."""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from mlflow.tracking import MlflowClient

from models.metrics import evaluate
from pipeline import tracking
from pipeline.config import Config
from pipeline.data import Inputs
from pipeline.errors import LeadscoreError
from pipeline.examples import Examples

log = logging.getLogger("leadscore")


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


def gate(cfg: Config, challenger_version: str, challenger_metrics: dict[str, float], examples: Examples,
         inputs: Inputs) -> Decision:
    pc = cfg.promotion
    name = cfg.mlflow.registered_model
    champion = tracking.alias_version(name, tracking.CHAMPION)
    d = Decision("kept", challenger_version, champion, challenger_metrics={k: v for k, v in challenger_metrics.items() if k.startswith("test_")})
    failures = []
    if challenger_metrics["test_roc_auc"] < pc.min_test_roc_auc:
        failures.append(f"test_roc_auc {challenger_metrics['test_roc_auc']:.4f} < required {pc.min_test_roc_auc}")
    if challenger_metrics["test_ece"] > pc.max_test_ece:
        failures.append(f"test_ece {challenger_metrics['test_ece']:.4f} > allowed {pc.max_test_ece}")
    if champion == challenger_version:
        failures.append(f"version {challenger_version} is already champion")
    elif champion is not None and not failures:
        champ_metrics, why = rescore_champion(cfg, champion, examples, inputs)
        d.champion_metrics = champ_metrics
        if why:
            d.reasons.append(f"champion v{champion} could not score the new test period ({why}); it loses")
        else:
            key = pc.metric.removeprefix("test_")
            ours, theirs = challenger_metrics[pc.metric], champ_metrics[key]
            if ours <= theirs + pc.min_improvement:  # a tie is not better: the champion stays
                failures.append(f"{pc.metric} {ours:.4f} does not beat champion v{champion}'s {theirs:.4f} "
                                f"on the same test period by more than {pc.min_improvement}")
            else:
                d.reasons.append(f"{pc.metric} {ours:.4f} beats champion v{champion}'s {theirs:.4f} on the same test period")
    if failures:
        d.reasons = failures + d.reasons
    else:
        d.decision = "promoted"
        if champion is None:
            d.reasons.append("first model to pass the absolute criteria")
    record(cfg, d)
    return d


def rescore_champion(cfg: Config, version: str, examples: Examples, inputs: Inputs) -> tuple[dict[str, float], str]:
    """The champion's metrics on the challenger's test rows, with features rebuilt by the champion's
    own builder from the raw inputs known at the challenger's cut-off."""
    uri = f"models:/{cfg.mlflow.registered_model}/{version}"
    try:
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
                    "at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
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
        cause = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
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
