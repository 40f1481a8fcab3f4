"""`leadscore features`: the lead-level feature table as of a date. Without a model, a builder is fitted
on the given leads (exploration); with `--model-uri`, the model's own fitted builder makes exactly the
table that model takes, e.g. the rows a client POSTs to `mlflow models serve`."""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from pipeline.config import Config
from pipeline.inputs.data import Inputs, load_scoring_inputs
from pipeline.errors import InputError
from pipeline.inputs.io import check_output, write_table

log = logging.getLogger("leadscore")


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
            log.warning("%s: %d leads created at or after %s were left out", inputs.sources["leads"], int(later.sum()), as_of)
            leads = leads[~later].reset_index(drop=True)
    events = inputs.events
    if events is not None:
        later = events["timestamp"] >= as_of
        if later.any():
            log.warning("%s: %d events at or after %s were ignored", inputs.sources.get("events"), int(later.sum()), as_of)
            events = events[~later].reset_index(drop=True)
    return Inputs(leads, events, None, inputs.sources)


def run_features(cfg: Config, leads: str, events: str | None, as_of: pd.Timestamp, output: str | Path,
                 model_uri: str | None = None, workdir: str | Path | None = None) -> int:
    check_output(output)
    if model_uri is not None:
        from pipeline.stages.predict import check_model_uri

        check_model_uri(model_uri)
    inputs = as_of_cut(load_scoring_inputs(cfg, leads, events), as_of)
    if model_uri is not None:
        builder = model_builder(cfg, model_uri, workdir)
    else:
        from pipeline.inputs.examples import make_builder  # sklearn: imported only once the inputs are known good

        builder = make_builder(cfg, use_events=inputs.events is not None).fit(inputs.leads, inputs.events)
    table = builder.transform(inputs.leads, inputs.events, as_of)
    write_table(table, output)
    return len(table)


def model_builder(cfg: Config, model_uri: str, workdir: str | Path | None = None) -> object:
    """The fitted feature builder stored inside a registered scoring model."""
    from pipeline.stages.predict import load_model  # MLflow: imported only once the inputs are known good

    _, model, _ = load_model(cfg, model_uri, workdir)
    return model.unwrap_python_model().scorer.builder
