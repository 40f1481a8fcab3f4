"""Load and validate the inputs a command needs (SPEC 2), point-in-time cut at a date if asked."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.config import Config, DataConfig
from pipeline.errors import InputError, NotEnoughDataError
from pipeline.inputs.contracts import prepare_events, prepare_leads, prepare_outcomes
from pipeline.inputs.io import find_optional_table, find_table, read_table

log = logging.getLogger(__name__)


@dataclass
class Inputs:
    leads: pd.DataFrame
    events: pd.DataFrame | None = None
    outcomes: pd.DataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def data_end(self) -> pd.Timestamp | None:
        """The latest timestamp anywhere in the data: what 'now' means for this data set."""
        stamps = []
        if "created_at" in self.leads:
            stamps.append(self.leads["created_at"].max())
        if self.events is not None and len(self.events):
            stamps.append(self.events["timestamp"].max())
        if self.outcomes is not None:
            stamps.append(self.outcomes["converted_at"].max())
        stamps = [s for s in stamps if pd.notna(s)]
        return max(stamps) if stamps else None

    def known_at(self, until: pd.Timestamp) -> Inputs:
        """Only what was known before `until`: later leads, events and conversions are dropped."""
        leads = self.leads[self.leads["created_at"] < until].reset_index(drop=True)
        events = None if self.events is None else self.events[self.events["timestamp"] < until].reset_index(drop=True)
        outcomes = None
        if self.outcomes is not None:
            outcomes = self.outcomes.copy()
            outcomes.loc[outcomes["converted_at"] >= until, "converted_at"] = pd.NaT
        return Inputs(leads, events, outcomes, self.sources)


def load_training_inputs(cfg: Config, data: str | Path | None = None) -> Inputs:
    """The leads (+ events and outcomes in events mode) from `--data` or the config's data.path."""
    root = Path(data or cfg.data.path or ".")
    dc = cfg.data
    if root.is_file():
        if dc.mode != "static":
            raise InputError(f"{root}: --data must be a folder with leads, events and outcomes files "
                             "(or use data.mode: static)")
        leads_path = root
    else:
        leads_path = find_table(root, dc.leads)
    leads = prepare_leads(read_table(leads_path, [dc.lead_columns.lead_id]), dc, str(leads_path))
    inputs = Inputs(leads, sources={"leads": str(leads_path)})
    if dc.mode == "static":
        _check_both_classes(leads, str(leads_path), dc.lead_columns.label or "label")
        return inputs
    outcomes_path = find_table(root, dc.outcomes)
    inputs.outcomes = prepare_outcomes(read_table(outcomes_path, [dc.outcome_columns.lead_id]), dc, str(outcomes_path))
    inputs.sources["outcomes"] = str(outcomes_path)
    _check_outcomes_cover(inputs, str(outcomes_path), dc.outcome_columns.converted_at)
    events_path = find_optional_table(root, dc.events) if dc.events else None
    if events_path is not None:
        _add_events(inputs, dc, events_path)
    return inputs


def load_scoring_inputs(cfg: Config, leads_path: str | Path, events_path: str | Path | None) -> Inputs:
    dc = cfg.data
    leads = prepare_leads(read_table(leads_path, [dc.lead_columns.lead_id]), dc, str(leads_path), scoring=True)
    inputs = Inputs(leads, sources={"leads": str(leads_path)})
    if events_path is not None:
        _add_events(inputs, dc, events_path)
    return inputs


def _add_events(inputs: Inputs, dc: DataConfig, events_path: str | Path) -> None:
    """The events file, checked by its contract; events of leads not in `inputs.leads` are dropped (said once)."""
    frame = read_table(events_path, [dc.event_columns.lead_id])
    inputs.events = prepare_events(frame, dc, str(events_path), inputs.leads["lead_id"])
    inputs.sources["events"] = str(events_path)


def _check_both_classes(leads: pd.DataFrame, source: str, column: str) -> None:
    """Static mode: a label column with one class only cannot train anything."""
    counts = leads["label"].value_counts()
    if len(counts) < 2:
        raise NotEnoughDataError(
            f"{source}: label column '{column}' has one class only (all {len(leads):,} rows are {counts.index[0]}); "
            f"training needs both converted and non-converted leads"
        )


def _check_outcomes_cover(inputs: Inputs, source: str, column: str = "converted_at") -> None:
    """Leads missing from the outcomes file are treated as not converted, with a warning; no conversion at
    all is an error (nothing to learn from); conversions before the lead was created are reported."""
    outcomes = inputs.outcomes
    unknown = ~outcomes["lead_id"].isin(inputs.leads["lead_id"])
    if unknown.any():
        log.warning("%s: %d outcomes of leads not in the leads file were ignored", source, int(unknown.sum()))
        outcomes = outcomes[~unknown]
    missing = ~inputs.leads["lead_id"].isin(outcomes["lead_id"])
    if missing.any():
        log.warning("%s: %d leads have no outcome row and count as not converted", source, int(missing.sum()))
    inputs.outcomes = inputs.leads[["lead_id"]].merge(outcomes, on="lead_id", how="left")
    converted = inputs.outcomes["converted_at"].notna()
    if not converted.any():
        raise NotEnoughDataError(
            f"{source}: column '{column}' is empty for all {len(inputs.leads):,} leads: no conversions to learn from"
        )
    early = (inputs.outcomes["converted_at"] < inputs.leads["created_at"]).fillna(False)
    if early.any():
        log.warning("%s: %d leads converted before they were created (e.g. %s); they are never open, so never "
                    "training examples", source, int(early.sum()), ", ".join(inputs.outcomes.loc[early, "lead_id"].head(3)))
