"""`leadscore predict --engine spark`: the same scoring on PySpark, for event logs too big for one machine.

Nothing about features or scores is implemented twice. The work is split so that each piece runs the
pandas code the rest of leadscore runs:

1. The leads file is read and checked on the driver with `pipeline.inputs.contracts.prepare_leads` (one row per
   lead: it fits where a million leads fit). The events file is probed there too (readable, required
   columns, its first rows through `prepare_events`), so the common mistakes give the same one-line
   errors as the pandas path before Spark even starts.
2. Spark reads the events (`spark.read.parquet` / `csv`) and runs `prepare_events` on every batch
   (`mapInPandas`): the same column mapping, id and timestamp checks, cell repairs, on every row as on
   the pandas path; then it drops the events at or after `as_of` and those of unknown leads, counting
   both. Parquet nanosecond timestamps are read as integers (`spark.sql.legacy.parquet.nanosAsLong`)
   and stay nanoseconds all the way, so no event moves by the microsecond Spark timestamps would round to.
3. Leads and events meet per bucket (`cogroup(...).applyInPandas`) and the model's own fitted
   `LeadFeatureBuilder.transform` builds the feature table there. A bucket is a hash of the lead's
   normalised e-mail (its lead id when it has none), because `duplicate_email` compares leads with the
   same address; events get their lead's bucket through a join, which also finds events of unknown leads.
   Each bucket also counts what the pandas path counts per chunk on the same feature table: event
   types the model has no features for, unseen categories (`pipeline.scoring.checks.ChunkChecks`) and the
   features' drift bins (`models.drift.DriftAccumulator`; bin counts add up).
4. Scores come from `mlflow.pyfunc.spark_udf` on the registered pyfunc (a struct result with the
   model's output columns), then Spark writes Parquet parts to a hidden folder beside OUTPUT, and the
   driver streams the parts back (pyarrow, one batch at a time) through the batch core both engines
   run (`pipeline.scoring.batch`: the steps, OUTPUT written atomically, the counts). The folder is
   removed whatever happens. Rows keep the leads file order.
5. With `--previous`, the driver reads and checks the previous scores file batch by batch with the
   pandas path's own reader (`pipeline.inputs.chunks.read_previous`: the same one-line errors) into a Parquet
   file in that folder; Spark joins it to the scores (the last row of a lead counts), and the core's
   alerts step writes `OUT.alerts.EXT` (`models.alerts.crossings`) from each batch. The driver counts
   the score's drift bins there too and adds the buckets' feature counts; the core writes the drift
   reports, the batch run and the warnings, as on the pandas path.

What the executors report (warnings, counts, checks, drift bins) reaches the driver through one Spark
accumulator, keyed by the unit of work (events batch, lead bucket): a task that Spark runs twice
(a retry, a recomputed partition) counts once, and the drift counts must cover exactly the scored leads.

Configuration (environment):
- `LEADSCORE_SPARK_MASTER` (else `SPARK_MASTER`, else `local[2]`): where to run, e.g. `local[8]`,
  `spark://host:7077`, `yarn`. Executors need leadscore installed (`pip install leadscore[spark]`) and
  the model store reachable; `spark-defaults.conf` (`SPARK_CONF_DIR`) sets memory and the rest.
- `LEADSCORE_SPARK_BUCKETS`: number of lead buckets (default: at most 50,000 leads each, and one per
  core when each gets at least 5,000); each bucket's leads and events are one pandas frame on one executor.

Same as the pandas path (checked in tests/e2e/test_spark.py): scores to 1e-9, the alerts file, the
drift reports and the batch run's metrics and artifacts, and the lines of the warnings counted over the
whole input (leads left out, events at or after as_of, events of unknown leads, event types without
features, unseen categories, missing columns, drift). Differences from the pandas path: the contract
checks events batch by batch on the executors, so a cell-level warning is one line per kind with the
count over the whole file but example rows from one batch (marked so when there are several), and an
error's count covers the first failing batch; row numbers are file rows for Parquet
(`_metadata.row_index`) and unknown for CSV (example values are shown instead). The events file is only
probed before the model loads, so an error in its later rows comes after a `--previous` file's error
and after the model load, and warnings come in another order (the events' after scoring). Output rows
(and alerts) are always in the leads file's order; the pandas path groups inputs larger than one chunk
by chunk. The summary and the batch run have no `chunks` (the run has the tag `engine=spark`). With
`--outcomes`, the events of the converted leads left out count among the "events of leads not in the
leads file" here (the pandas path does not count them).
Executors score with the installed leadscore code, as the pandas path does (see `model_with_installed_code`).

The modules: this entry (`run_predict_spark`), `session` (PySpark, master, session), `events` (probe,
read, clean), `tasks` (the accumulator, the executors' warnings and errors), `score` (buckets, features,
spark_udf, schemas) and `output` (workspace, parts streamed back, drift bins, --previous).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pipeline.config import Config
from pipeline.console import Reporter
from pipeline.errors import InputError, LeadscoreError
from pipeline.scoring.batch import ScoredBatch, plan_batch
from pipeline.scoring.steps import BatchStep
from pipeline.spark.events import probe_events
from pipeline.spark.output import (
    BatchObserver,
    score_batches,
    spark_workspace,
    split_previous,
    stage_previous,
    with_previous,
    write_parts,
)
from pipeline.spark.score import feature_frame, pinned_uri, score_frame
from pipeline.spark.session import require_pyspark, spark_session
from pipeline.spark.tasks import KeyedParam, TaskReports, raise_task_errors

log = logging.getLogger(__name__)


def run_predict_spark(cfg: Config, leads: str, events: str | None, output: str | Path, as_of: pd.Timestamp | None = None,
                      model_uri: str | None = None, reporter: Reporter | None = None,
                      workdir: str | Path | None = None, previous: str | None = None, outcomes: str | None = None,
                      steps: Sequence[BatchStep] = ()) -> dict:
    """Score the leads on Spark and write OUTPUT atomically, with the alerts and drift report of
    `pipeline.stages.predict.run_predict` beside it; the same summary keys (but `chunks`) and the same
    batch run. STEPS run on every batch after the batch's own, as there."""
    from pipeline.inputs.as_of import as_of_cut
    from pipeline.inputs.chunks import merged_warnings
    from pipeline.inputs.data import load_scoring_inputs

    require_pyspark()
    reporter = reporter or Reporter(quiet=True)
    plan = plan_batch(cfg, output, as_of, model_uri, previous, outcomes)
    as_of = plan.as_of
    sources = {"leads": str(leads)} | ({"events": str(events)} if events is not None else {})
    with spark_workspace(plan.output) as folder:
        with merged_warnings():  # held until all inputs passed their checks: after an error, its line only
            inputs = load_scoring_inputs(cfg, leads, None)  # the leads on the driver, same contract
            events_probe = probe_events(cfg, events) if events is not None else None
            inputs = as_of_cut(inputs, as_of)
            inputs.leads, skipped, old = open_and_counted(cfg, inputs.leads, as_of, plan.outcomes, sources)
            staged = stage_previous(previous, folder, cfg.scoring.chunk_leads) if previous else None

        core = ScoredBatch.open(plan, sources, workdir, steps, reporter)  # MLflow only once the inputs are known good
        core.checks.before(inputs.leads, None)  # missing columns, no --events file: once, here
        builder, drift = core.scorer.builder, core.drift
        spark = spark_session()
        reporter.step(f"Scoring with {plan.model_uri} (version {core.version or '-'}) as of {as_of} on Spark "
                      f"({spark.sparkContext.master})")
        notes = spark.sparkContext.accumulator({}, KeyedParam())
        try:
            features = feature_frame(spark, cfg, builder, inputs.leads, events_probe, as_of, notes,
                                     core.checks.detached(), drift.accumulator.reference if drift.enabled else None)
            scores, units = score_frame(spark, features, pinned_uri(plan.model_uri, core.version), core.version,
                                        core.model, builder, inputs.leads, folder)
            if staged is not None:
                scores = with_previous(spark, scores, staged)
            write_parts(scores, folder)
        except Exception as exc:  # noqa: BLE001 - errors raised inside Spark tasks come back wrapped
            raise_task_errors(exc)
            raise
        reports = TaskReports.collect(notes.value)
        observe = BatchObserver(drift, core.thresholds)
        observe.add_feature_counts(reports.drift, len(inputs.leads))  # checked before anything is written
        core.drift_result = observe.drift_result  # the buckets counted the features, the driver the scores
        with core:
            for frame in score_batches(folder, units):
                observe(frame)
                scored, previous_rows = split_previous(frame)
                core.part(scored, inputs.leads, previous=previous_rows)
            if core.rows == 0:
                raise LeadscoreError("Spark produced no scores (no leads to score)")
    reports.warn(sources.get("events", ""), as_of)
    for part in reports.checks:
        core.checks.merge(part)
    return core.finish(skipped, old, engine="spark")


def open_and_counted(cfg: Config, leads: pd.DataFrame, as_of: pd.Timestamp, outcomes: str | None,
                     sources: dict[str, str]) -> tuple[pd.DataFrame, int, int]:
    """The default engine's open-leads rule on the driver's leads: without those converted before as_of
    (given an OUTCOMES file), with the same warnings."""
    from pipeline.inputs.chunks import converted_before, open_leads, warn_open_leads

    converted = converted_before(cfg.data, Path(outcomes), as_of, cfg.scoring.chunk_leads) if outcomes else None
    kept, skipped, old = open_leads(leads, converted, as_of, cfg.training.max_lead_age_days)
    if skipped and kept.empty:
        raise InputError(f"{sources['leads']}: every lead created before {as_of} had converted by then "
                         f"({skipped} leads, {outcomes}); nothing to score")
    warn_open_leads(sources["leads"], skipped, old, as_of, cfg.training.max_lead_age_days, outcomes)
    return kept, skipped, old
