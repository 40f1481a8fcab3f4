"""The data readiness verdict shown before training: is there enough history and enough conversions for an
honest model? "ready", "usable with caution" (trains, with the reasons to be careful), or "not enough data"
(training refuses: `pipeline.inputs.examples` raises NotEnoughDataError with a message starting that way)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import Config
from pipeline.inputs.data import Inputs
from pipeline.inputs.examples import PARTS, RECENT, Examples

READY, CAUTION = "ready", "usable with caution"
MIN_TRAIN_CONVERSIONS = 200  # below this the learnt weights are noisy (a few hundred distinct converters)
MIN_EVAL_CONVERSIONS = 30    # an AUC on fewer conversions has a standard error above ~0.03


def assess(cfg: Config, inputs: Inputs, examples: Examples) -> dict[str, Any]:
    """Counts of the data and of each part, what training will use, and the verdict with its reasons."""
    known = examples.known or inputs
    out: dict[str, Any] = {"leads": int(len(known.leads))}
    notes: list[str] = []
    if examples.until is not None:
        converted = known.outcomes["converted_at"].notna() if known.outcomes is not None else pd.Series(dtype=bool)
        first = known.leads["created_at"].min()
        days = int((examples.until - first) / pd.Timedelta(days=1))
        out |= {"conversions": int(converted.sum()), "history_days": days, "history_months": round(days / 30.44, 1),
                "horizon_days": cfg.training.horizon_days}
        if days < cfg.training.horizon_days + 26 * 7:
            notes.append(f"{out['history_months']} months of history for a {cfg.training.horizon_days}-day horizon: "
                         f"evaluation periods are short")
        if examples.split.get("outcomes_recorded_from"):
            notes.append(f"no conversion recorded before {examples.split['outcomes_recorded_from']}: earlier "
                         f"snapshots are not used (were outcomes tracked only from then on?)")
        if examples.split.get("sizing") == "shares":
            notes.append("history too short for the configured weeks: parts sized as shares of the label-complete dates")
    else:
        out["conversions"] = int(np.sum(examples.y))
    parts = {}
    for part in PARTS + ((RECENT,) if examples.until is not None else ()):
        rows = examples.part == part
        if not rows.any() and part in ("test", RECENT):
            continue
        entry = {"rows": int(rows.sum()), "conversions": int(examples.y[rows].sum()) if part != RECENT else
                 int(examples.y_final[rows].sum())}
        if examples.until is not None:
            dates = pd.DatetimeIndex(examples.table["as_of"].to_numpy()[rows]).unique()
            entry["dates"] = len(dates)
            if len(dates):
                entry["from"], entry["to"] = str(dates.min().date()), str(dates.max().date())
        parts[part] = entry
    out["parts"] = parts
    for part in ("val", "test"):
        if part in parts and parts[part]["conversions"] < MIN_EVAL_CONVERSIONS:
            notes.append(f"{part} period has {parts[part]['conversions']} conversions: its metrics are noisy")
    if parts["train"]["conversions"] < MIN_TRAIN_CONVERSIONS:
        notes.append(f"training has {parts['train']['conversions']} conversions (fewer than {MIN_TRAIN_CONVERSIONS})")
    if examples.until is not None and examples.split.get("val_labels_known_at") and "val" in parts:
        val_end = pd.Timestamp(parts["val"]["to"])
        if val_end + pd.Timedelta(days=cfg.training.horizon_days) > examples.until:
            notes.append("validation labels are not complete (history shorter than the horizon): probabilities "
                         "are calibrated on partly observed labels and read low")
    out["uses"] = _uses(examples, parts, cfg)
    out["verdict"] = CAUTION if notes else READY
    out["notes"] = notes
    return out


def _uses(examples: Examples, parts: dict[str, Any], cfg: Config) -> str:
    split = examples.split
    words = []
    for part in PARTS:
        if part in parts:
            known_at = split.get(f"{part}_labels_known_at")
            words.append(f"{part} {parts[part]['rows']:,} rows / {parts[part]['conversions']:,} conversions"
                         + (f" (labels as known at {known_at})" if known_at else ""))
    if cfg.training.refit:
        total = sum(p["rows"] for p in parts.values())
        words.append(f"final refit on all {total:,} rows")
    return "; ".join(words)


def readiness_line(readiness: dict[str, Any]) -> str:
    """One line for the terminal: the verdict, the key counts and the reasons for caution."""
    head = f"Data readiness: {readiness['verdict']} ({readiness['leads']:,} leads, {readiness['conversions']:,} conversions"
    if "history_months" in readiness:
        head += f", {readiness['history_months']} months of history"
    head += ")"
    return head + "".join(f"\n  - {n}" for n in readiness["notes"])
