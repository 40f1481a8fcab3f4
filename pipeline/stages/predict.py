"""`leadscore predict`, the pandas engine: batch scoring with the registered model (SPEC 4), streamed in
chunks on this machine and written atomically. (`--engine spark` is `pipeline.spark.engine`; the CLI
chooses.)

Order of work: the output path, the model URI's form and the inputs are checked first (cheap, no
MLflow import), then the model is loaded, then scores are written in one atomic step. A failure at
any point leaves the previous output file and the registry as they were. Which models may load is
`pipeline.model_uri`; what a batch does besides reading its inputs (the model's checks, the steps
such as the alerts, the drift report, the batch run, the summary) is the core in `pipeline.scoring.batch`.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pipeline.config import Config
from pipeline.console import Reporter
from pipeline.inputs.chunks import chunked_inputs
from pipeline.scoring.batch import ScoredBatch, plan_batch
from pipeline.scoring.steps import BatchStep

log = logging.getLogger(__name__)


def run_predict(cfg: Config, leads: str, events: str | None, output: str | Path, as_of: pd.Timestamp | None = None,
                model_uri: str | None = None, reporter: Reporter | None = None, workdir: str | Path | None = None,
                previous: str | None = None, outcomes: str | None = None, steps: Sequence[BatchStep] = ()) -> dict:
    """Score the leads and write OUTPUT atomically; returns the JSON summary (rows, grades, alerts...).

    The inputs are streamed (`pipeline.inputs.chunks`): read and checked in batches, partitioned by lead into
    chunks of `scoring.chunk_leads` leads, each scored with its own events, so peak memory follows the
    chunk size. Inputs of one chunk keep the file's row order; larger ones come out grouped by chunk
    (join on lead_id). All checks of the inputs run before the model is loaded.

    With `outcomes` (a file of lead_id, converted_at; default: the config's `scoring.outcomes`), leads
    that converted before as_of are not scored (nor alerted); the warning says how many. STEPS run on
    every chunk after the batch's own (`pipeline.scoring.batch.batch_steps`)."""
    reporter = reporter or Reporter(quiet=True)
    plan = plan_batch(cfg, output, as_of, model_uri, previous, outcomes)
    as_of = plan.as_of
    with chunked_inputs(cfg.data, leads, events, as_of, cfg.scoring.chunk_leads, previous, plan.outcomes,
                        cfg.training.max_lead_age_days) as inputs:
        core = ScoredBatch.open(plan, inputs.sources, workdir, steps, reporter)  # MLflow only once the inputs are good
        reporter.step(f"Scoring with {plan.model_uri} (version {core.version or '-'}) as of {as_of}"
                      + (f", {inputs.n_chunks} chunks" if inputs.n_chunks > 1 else ""))
        builder = core.scorer.builder
        with core, reporter.progress("Scoring leads", inputs.leads_total) as update:
            for chunk in inputs.chunks():
                core.checks.before(chunk.leads, chunk.events)
                table = builder.transform(chunk.leads, chunk.events, as_of)
                core.checks.after(table)
                core.part(core.predict(table), chunk.leads, table, chunk.previous)
                update(core.rows, inputs.leads_total)
        inputs.warn_unknown_events()
    return core.finish(inputs.leads_converted, inputs.leads_old, chunks=inputs.n_chunks)
