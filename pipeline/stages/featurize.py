"""`leadscore features`: the lead-level feature table as of a date. Without a model, a builder is fitted
on the given leads (exploration); with `--model-uri`, the model's own fitted builder makes exactly the
table that model takes, e.g. the rows a client POSTs to `mlflow models serve`."""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from pipeline.config import Config
from pipeline.inputs.as_of import as_of_cut
from pipeline.inputs.data import load_scoring_inputs
from pipeline.inputs.io import check_output, write_table
from pipeline.model_uri import check_model_uri

log = logging.getLogger(__name__)


def run_features(cfg: Config, leads: str, events: str | None, as_of: pd.Timestamp, output: str | Path,
                 model_uri: str | None = None, workdir: str | Path | None = None) -> int:
    check_output(output)
    if model_uri is not None:
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
    from pipeline.tracking import load_model  # MLflow: imported only once the inputs are known good

    _, model, _ = load_model(cfg, model_uri, workdir)
    return model.unwrap_python_model().scorer.builder
