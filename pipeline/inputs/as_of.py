"""The point-in-time cut of whole-table scoring inputs: only leads created, and events that happened,
before as_of (`leadscore features`, and the Spark engine's leads on the driver)."""
from __future__ import annotations

import logging

import pandas as pd

from pipeline.errors import InputError
from pipeline.inputs.data import Inputs

log = logging.getLogger(__name__)


def as_of_cut(inputs: Inputs, as_of: pd.Timestamp) -> Inputs:
    """Leads created before as_of and their events before as_of; later data is left out with one
    warning per file. No lead at all before as_of is an error (an empty output helps nobody)."""
    leads = inputs.leads
    if "created_at" in leads:
        later = leads["created_at"] >= as_of
        if later.all():
            raise InputError(
                f"{inputs.sources['leads']}: no lead was created before {as_of} (column 'created_at' runs from "
                f"{leads['created_at'].min()} to {leads['created_at'].max()}); check --as-of"
            )
        if later.any():
            log.warning("%s: %d leads created at or after %s were left out", inputs.sources["leads"],
                        int(later.sum()), as_of)
            leads = leads[~later].reset_index(drop=True)
    events = inputs.events
    if events is not None:
        later = events["timestamp"] >= as_of
        if later.any():
            log.warning("%s: %d events at or after %s were ignored", inputs.sources.get("events"), int(later.sum()), as_of)
            events = events[~later].reset_index(drop=True)
    return Inputs(leads, events, None, inputs.sources)
