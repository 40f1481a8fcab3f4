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
   types the model has no features for, unseen categories (`pipeline.stages.predict.ChunkChecks`) and the
   features' drift bins (`models.drift.DriftAccumulator`; bin counts add up).
4. Scores come from `mlflow.pyfunc.spark_udf` on the registered pyfunc (a struct result with the
   model's output columns), then Spark writes Parquet parts to a hidden folder beside OUTPUT, and the
   parts are streamed (pyarrow, one batch at a time) into one file that replaces OUTPUT atomically
   (`pipeline.inputs.io.atomic_file`). The folder is removed whatever happens. Rows keep the leads file order.
5. With `--previous`, the driver reads and checks the previous scores file batch by batch with the
   pandas path's own reader (`pipeline.inputs.chunks._read_previous`: the same one-line errors) into a Parquet
   file in that folder; Spark joins it to the scores (the last row of a lead counts), and the driver
   writes `OUT.alerts.EXT` with `models.alerts.crossings` while it streams the scores into OUTPUT. It
   counts the score's drift bins there too, adds the buckets' feature counts, and writes the drift
   reports, the batch run and the warnings with `pipeline.scoring.drift` and `pipeline.stages.predict`, as that path does.

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
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import Config, DataConfig
from pipeline.console import Reporter
from pipeline.errors import InputError, LeadscoreError

log = logging.getLogger("leadscore")

DEFAULT_MASTER = "local[2]"
LEADS_PER_BUCKET = 50_000
MIN_LEADS_PER_BUCKET = 5_000
PROBE_ROWS = 1_000
NAT_NS = int(np.iinfo(np.int64).min)  # NaT as int64 nanoseconds
INSTALL_HINT = "pip install 'leadscore[spark]' (or: pip install 'pyspark>=3.5'); Java 17+ must be on PATH"
_ERROR_MARK = "LEADSCORE-INPUT-ERROR<<"
_ERROR_END = ">>"
_COUNT_RE = re.compile(r"^(.*?: )(\d+)( .*)$", re.DOTALL)  # "FILE: 3 events without ..."
_ROWS_RE = re.compile(r"rows (\d+(?:, \d+)*)( and \d+ more)?")


# ----------------------------------------------------------------------------------------------------
# entry point


def open_and_counted(cfg: Config, leads: pd.DataFrame, as_of: pd.Timestamp, outcomes: str | None,
                     sources: dict[str, str]) -> tuple[pd.DataFrame, int, int]:
    """The default engine's open-leads rule on the driver's leads: without those converted before as_of
    (given outcomes), with the same warnings."""
    from pipeline.inputs.chunks import converted_before, open_leads, warn_open_leads
    from pipeline.stages.predict import outcomes_file

    outcomes = outcomes_file(cfg, outcomes)
    converted = converted_before(cfg.data, Path(outcomes), as_of, cfg.scoring.chunk_leads) if outcomes else None
    kept, skipped, old = open_leads(leads, converted, as_of, cfg.training.max_lead_age_days)
    if skipped and kept.empty:
        raise InputError(f"{sources['leads']}: every lead created before {as_of} had converted by then "
                         f"({skipped} leads, {outcomes}); nothing to score")
    warn_open_leads(sources["leads"], skipped, old, as_of, cfg.training.max_lead_age_days, outcomes)
    return kept, skipped, old


def run_predict_spark(cfg: Config, leads: str, events: str | None, output: str | Path, as_of: pd.Timestamp | None = None,
                      model_uri: str | None = None, reporter: Reporter | None = None,
                      workdir: str | Path | None = None, previous: str | None = None, outcomes: str | None = None) -> dict:
    """Score the leads on Spark and write OUTPUT atomically, with the alerts and drift report of
    `run_predict` beside it; the same summary keys (but `chunks`) and the same batch run."""
    from contextlib import ExitStack

    from models.alerts import ALERT_COLUMNS
    from pipeline.inputs.chunks import merged_warnings
    from pipeline.inputs.data import load_scoring_inputs
    from pipeline.scoring.drift import BatchDrift, warn_drift, write_drift_reports
    from pipeline.stages.featurize import as_of_cut
    from pipeline.inputs.io import TableWriter, check_output
    from pipeline.stages.predict import (ChunkChecks, _log_batch, alert_thresholds, alerts_path, check_model_uri,
                                  default_model_uri, load_model)

    require_pyspark()
    reporter = reporter or Reporter(quiet=True)
    output = check_output(output)
    alerts_output = alerts_path(output) if previous else None
    model_uri = model_uri or default_model_uri(cfg)
    check_model_uri(model_uri)
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.now(tz="UTC").tz_localize(None)
    sources = {"leads": str(leads)} | ({"events": str(events)} if events is not None else {})
    with _spark_workspace(output) as folder:
        with merged_warnings():  # held until all inputs passed their checks: after an error, its line only
            inputs = load_scoring_inputs(cfg, leads, None)  # the leads on the driver, same contract
            events_probe = probe_events(cfg, events) if events is not None else None
            inputs = as_of_cut(inputs, as_of)
            inputs.leads, skipped, old = open_and_counted(cfg, inputs.leads, as_of, outcomes, sources)
            staged = stage_previous(previous, folder, cfg.scoring.chunk_leads) if previous else None

        uri, model, version = load_model(cfg, model_uri, workdir)  # MLflow only once the inputs are known good
        pinned = _pinned_uri(model_uri, version)
        scorer = model.unwrap_python_model().scorer
        checks = ChunkChecks(scorer, sources)
        checks.before(inputs.leads, None)  # missing columns, no --events file: once, here
        drift = BatchDrift(scorer, warn_psi=cfg.scoring.drift_warn_psi)
        thresholds = alert_thresholds(scorer, cfg)
        spark = spark_session()
        reporter.step(f"Scoring with {model_uri} (version {version or '-'}) as of {as_of} on Spark ({spark.sparkContext.master})")
        notes = spark.sparkContext.accumulator({}, _KeyedParam())
        try:
            features = feature_frame(spark, cfg, scorer.builder, inputs.leads, events_probe, as_of, notes,
                                     checks.detached(), drift.accumulator.reference if drift.enabled else None)
            scores, units = score_frame(spark, features, pinned, version, model, scorer.builder, inputs.leads, folder)
            if staged is not None:
                scores = with_previous(spark, scores, staged)
            write_parts(scores, folder)
        except Exception as exc:  # noqa: BLE001 - errors raised inside Spark tasks come back wrapped
            _raise_input_error(exc)
            _raise_task_error(exc)
            raise
        reports = TaskReports.collect(notes.value)
        observe = BatchObserver(drift, thresholds)
        observe.add_feature_counts(reports.drift, len(inputs.leads))  # checked before anything is written
        with ExitStack() as stack:
            if alerts_output is not None:
                observe.alerts = stack.enter_context(TableWriter(alerts_output, ALERT_COLUMNS))
            summary = combine_parts(folder, output, observe, units)
    reports.warn(sources.get("events", ""), as_of)
    for part in reports.checks:
        checks.merge(part)
    checks.warn()
    drifted = observe.drift_result()
    out = {"output": str(output), "rows": summary["rows"], "grades": summary["grades"],
           "mean_probability": round(summary["mean_probability"], 6), "engine": "spark",
           "skipped_converted": skipped, "older_than_max_age": old}
    if observe.alerts is not None:
        out |= {"alerts_output": str(alerts_output), "alerts": observe.alerts.rows}
    drift_files = write_drift_reports(drifted, output) if drifted is not None else []
    if drifted is not None:
        out |= {"drift_report": str(drift_files[1]), "psi_score": round(drifted.score.psi, 4),
                "features_drifted": len(drifted.drifted())}
    _log_batch(cfg, uri, model_uri, version, as_of, out, drifted, drift_files, tags={"engine": "spark"})
    if drifted is not None:
        warn_drift(drifted, log, report=drift_files[1])
    reporter.step(f"Wrote {out['rows']:,} scores to {output}"
                  + (f"; {out['alerts']:,} leads newly crossed hot / MQL: {alerts_output}" if alerts_output else ""))
    return out


def require_pyspark() -> None:
    """PySpark is an optional extra: without it, one line saying how to install it (exit 2)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise LeadscoreError(f"--engine spark needs PySpark, which is not installed: {INSTALL_HINT}") from None
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise LeadscoreError(f"--engine spark needs Java (no `java` on PATH and JAVA_HOME is not set): {INSTALL_HINT}")


def spark_master() -> str:
    return os.environ.get("LEADSCORE_SPARK_MASTER") or os.environ.get("SPARK_MASTER") or DEFAULT_MASTER


def spark_session() -> Any:
    """The SparkSession (created once per process): UTC, Arrow transfers, this Python on the workers.

    The JVM's own console output (log4j lines, stage progress, executor stack traces) goes to an
    unlinked temporary file unless --debug: a failure reaches the user as one line from the driver.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers import leadscore and the model
    debug = log.isEnabledFor(logging.DEBUG)
    builder = (SparkSession.builder.master(spark_master()).appName("leadscore-predict")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.legacy.parquet.nanosAsLong", "true")
               .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.executorEnv.PYTHONWARNINGS", "ignore"))
    with contextlib.nullcontext() if debug else _jvm_output_hidden():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN" if debug else "ERROR")
    return spark


@contextlib.contextmanager
def _jvm_output_hidden() -> Iterator[None]:
    """Start the JVM with its stderr on an unlinked temporary file (it inherits file descriptor 2)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(prefix="leadscore-spark-") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


# ----------------------------------------------------------------------------------------------------
# events: probe on the driver, read and clean on Spark


@dataclass(frozen=True)
class EventsProbe:
    """What the driver learnt from the events file: its kind and its nanosecond timestamp columns."""

    path: Path
    parquet: bool
    ns_columns: frozenset[str]


def probe_events(cfg: Config, path: str | Path) -> EventsProbe:
    """Readable file, required columns, first rows through the contract: the pandas path's one-line errors."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.inputs.contracts import prepare_events
    from pipeline.inputs.io import _check_readable, _one_line

    path = Path(path)
    _check_readable(path)
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty (no header, no rows)")
    parquet = path.suffix.lower() != ".csv"
    ns_columns: set[str] = set()
    if parquet:
        try:
            handle = pq.ParquetFile(path)
            schema = handle.schema_arrow
            head = next(handle.iter_batches(batch_size=PROBE_ROWS), None)
            head = head.to_pandas() if head is not None else schema.empty_table().to_pandas()
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({_one_line(exc)})") from None
        ns_columns = {f.name for f in schema if pa.types.is_timestamp(f.type) and f.type.unit == "ns"}
    else:
        head = _csv_head(path)
    with _muted() if len(head) else contextlib.nullcontext():  # a header-only file: its warning, once
        prepare_events(head, cfg.data, str(path))
    return EventsProbe(path, parquet, frozenset(ns_columns))


def _csv_head(path: Path) -> pd.DataFrame:
    """The first rows of a CSV file, with the checks `pipeline.inputs.io.read_table` makes on the whole file."""
    import io

    from pipeline.inputs.io import _bad_byte, _check_csv_head, _one_line

    _check_csv_head(path)
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
    if len(head) == 1 << 20 and b"\n" in head:
        head = head[: head.rfind(b"\n") + 1]  # whole lines only
    try:
        return pd.read_csv(io.BytesIO(head), encoding="utf-8-sig", nrows=PROBE_ROWS, dtype=str)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file is empty (no header, no rows)") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({_bad_byte(path, exc)}); re-export the file as CSV UTF-8") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({_one_line(exc)})") from None


@contextlib.contextmanager
def _muted() -> Iterator[None]:
    """Warnings of the probe would repeat those of the full run: keep only its errors."""
    previous = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(previous)


def read_events(spark: Any, cfg: DataConfig, probe: EventsProbe) -> Any:
    """The raw events as a Spark frame: mapped columns only, with file row numbers (Parquet). All rows,
    those at or after as_of too: the contract checks them and the warning counts them, as on the pandas path."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    path = str(probe.path)
    if probe.parquet:
        frame = spark.read.parquet(path).select("*", F.col("_metadata.row_index").alias("_row"))
    else:
        frame = (spark.read.option("header", True).option("inferSchema", False).option("escape", '"')
                 .option("encoding", "UTF-8").csv(path))
        frame = frame.toDF(*[c.lstrip("\ufeff") for c in frame.columns]).withColumn("_row", F.lit(None).cast("long"))
    wanted = [c for c in cfg.event_columns.model_dump().values() if c and c in frame.columns]
    frame = frame.select(*[F.col(f"`{c}`") for c in wanted], "_row")
    ts = cfg.event_columns.timestamp
    if ts in probe.ns_columns and isinstance(frame.schema[ts].dataType, T.LongType):
        # no nulls (see `to_ns`): an empty time becomes NaT again, and the contract rejects it
        frame = frame.withColumn(ts, F.coalesce(F.col(f"`{ts}`"), F.lit(NAT_NS)))
    return frame


def clean_events(raw: Any, lead_buckets: Any, cfg: DataConfig, source: str, ns_columns: frozenset[str],
                 as_of: pd.Timestamp, notes: Any) -> Any:
    """Every batch of events through `prepare_events`, then only those before as_of of known leads, with
    their lead's bucket; timestamps leave as int64 nanoseconds. Each batch reports its warnings and the
    events it left out (late, of unknown leads) under its own key (see `_KeyedParam`)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    cols = cfg.event_columns
    joined = raw.withColumn("_lead_key", F.col(f"`{cols.lead_id}`").cast("string")).join(
        lead_buckets, on="_lead_key", how="left").drop("_lead_key")
    raw_columns = [c for c in raw.columns if c != "_row"]
    fields = [T.StructField("_bucket", T.IntegerType()), T.StructField("_row", T.LongType()),
              T.StructField("lead_id", T.StringType()), T.StructField("timestamp", T.LongType()),
              T.StructField("event_type", T.StringType())]
    if cols.channel and cols.channel in raw_columns:
        fields.append(T.StructField("channel", T.StringType()))
    if cols.value and cols.value in raw_columns:
        fields.append(T.StructField("value", T.DoubleType()))
    schema = T.StructType(fields)
    names = [f.name for f in fields]
    as_of_ns = int(as_of.as_unit("ns").value)
    ts = cols.timestamp

    def clean(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from pyspark import TaskContext

        from pipeline.inputs.chunks import stable_hash
        from pipeline.inputs.contracts import prepare_events

        context = TaskContext.get()
        partition = context.partitionId() if context is not None else -1
        for number, batch in enumerate(batches):
            rows = batch["_row"].to_numpy() if batch["_row"].notna().all() else None
            frame = batch[raw_columns].reset_index(drop=True)
            if ts in ns_columns:
                frame[ts] = from_ns(frame[ts])
            warnings: list[str] = []
            with _captured(warnings, rows):
                events = prepare_events(frame, cfg, source)
            bucket = batch["_bucket"].to_numpy()
            before = (events["timestamp"] < pd.Timestamp(as_of_ns)).to_numpy()
            known = ~pd.isna(bucket)
            stray = before & ~known
            if warnings or not before.all() or stray.any():  # (a batch with nothing to say sends nothing)
                notes.add({("events", partition, number): {
                    "warnings": warnings, "late": int((~before).sum()), "unknown": int(stray.sum()),
                    "unknown_leads": np.unique(stable_hash(events.loc[stray, "lead_id"])) if stray.any() else None}})
            keep = before & known
            out = events.loc[keep].copy()
            out["_bucket"] = bucket[keep].astype(np.int32)
            out["_row"] = pd.array(batch["_row"].to_numpy()[keep], dtype="Int64")
            out["timestamp"] = to_ns(out["timestamp"])
            if "channel" in out:
                out["channel"] = out["channel"].astype("string").astype(object)
            yield out[names]

    return joined.mapInPandas(clean, schema)


class _KeyedParam:
    """A Spark accumulator of {key: report}: each unit of work (an events batch, a lead bucket) reports
    under its own key, so one that Spark runs twice (a retried task, a recomputed partition) counts once.
    (Spark merges the accumulators of successful tasks only.)"""

    def zero(self, value: dict) -> dict:
        return {}

    def addInPlace(self, a: dict, b: dict) -> dict:  # noqa: N802 - Spark's name
        a.update(b)
        return a


class _Capture(logging.Handler):
    def __init__(self, sink: list[str], rows: np.ndarray | None):
        super().__init__(logging.WARNING)
        self.sink, self.rows = sink, rows

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(file_rows(record.getMessage(), self.rows))


@contextlib.contextmanager
def _captured(sink: list[str], rows: np.ndarray | None) -> Iterator[None]:
    """Inside a Spark task: the contract's warnings go to SINK (then to the driver), its errors come back marked."""
    handler = _Capture(sink, rows)
    saved = (log.handlers[:], log.level, log.propagate)
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING)
    log.propagate = False
    try:
        yield
    except LeadscoreError as exc:
        raise RuntimeError(f"{_ERROR_MARK}{file_rows(str(exc), rows)}{_ERROR_END}") from None
    finally:
        log.handlers[:], log.level, log.propagate = saved


def file_rows(message: str, rows: np.ndarray | None) -> str:
    """Batch row numbers in a contract message ("rows 3, 9") as file row numbers, or, when the file's
    rows are not known (CSV on Spark), as "e.g." before the example values."""
    def swap(match: re.Match) -> str:
        if rows is None:
            return "e.g."
        mapped = [str(int(rows[int(n) - 1]) + 1) for n in match.group(1).split(", ")]
        return "rows " + ", ".join(mapped) + (match.group(2) or "")
    return _ROWS_RE.sub(swap, message).replace(", e.g. (", " (e.g. ").replace(", e.g.", "")


@dataclass
class TaskReports:
    """What the executors sent back, in a stable order: the contract's warnings and the counts of events
    left out (per events batch), the input checks and the drift counts (per lead bucket)."""

    warnings: list[str]
    late: int = 0
    unknown: int = 0
    unknown_leads: int = 0
    checks: list[Any] = field(default_factory=list)
    drift: list[Any] = field(default_factory=list)

    @classmethod
    def collect(cls, notes: dict) -> "TaskReports":
        out = cls([])
        hashes = []
        for key in sorted(notes):  # buckets, then events batches in partition order
            report = notes[key]
            if key[0] == "events":
                out.warnings += report["warnings"]
                out.late += report["late"]
                out.unknown += report["unknown"]
                if report["unknown_leads"] is not None:
                    hashes.append(report["unknown_leads"])
            else:
                if report["checks"] is not None:
                    out.checks.append(report["checks"])
                if report["drift"] is not None:
                    out.drift.append(report["drift"])
        out.unknown_leads = len(np.unique(np.concatenate(hashes))) if hashes else 0
        return out

    def warn(self, source: str, as_of: pd.Timestamp) -> None:
        """The pandas path's lines: the contract's warnings per kind, then the events left out."""
        _emit_notes(self.warnings)
        if self.late:
            log.warning("%s: %d events at or after %s were ignored", source, self.late, as_of)
        if self.unknown:
            log.warning("%s: %d events of %d leads not in the leads file were ignored", source, self.unknown,
                        self.unknown_leads)


def _emit_notes(warnings: list[str]) -> None:
    """The executors' contract warnings on the driver, one line per kind (the contract warns per batch
    there): the first batch's line with the count summed over all batches."""
    merged: dict[str, tuple[str, int, int]] = {}
    for text in warnings:
        match = _COUNT_RE.match(text)
        key = re.sub(r"\(.*\)$", "", re.sub(r"\d+", "N", text))
        first, total, parts = merged.get(key, (text, 0, 0))
        merged[key] = (first, total + (int(match.group(2)) if match else 0), parts + 1)
    for first, total, parts in merged.values():
        match = _COUNT_RE.match(first)
        if parts > 1 and match:
            first = f"{match.group(1)}{total}{match.group(3)} [examples from the first of {parts} parts of the file]"
        log.warning("%s", first)


def _raise_input_error(exc: BaseException) -> None:
    """An InputError raised in a Spark task reaches the driver inside a Java / Python error: unwrap it."""
    text = str(exc)
    start = text.find(_ERROR_MARK)
    if start >= 0:
        end = text.find(_ERROR_END, start + len(_ERROR_MARK))
        raise InputError(text[start + len(_ERROR_MARK): end if end > 0 else None].strip()) from None


def _raise_task_error(exc: BaseException) -> None:
    """Any other Python error in a task: its own last line ("KeyError: 'x'"), not Spark's wrapper text."""
    text = str(exc)
    if "Traceback (most recent call last)" not in text:
        return
    lines = [line.strip() for line in text.split("Traceback (most recent call last)", 1)[1].splitlines()]
    last = next((line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b", line)), None)
    if last:
        raise RuntimeError(f"a Spark task failed: {last[:300]}") from None


# ----------------------------------------------------------------------------------------------------
# features and scores


def bucket_count(n_leads: int, parallelism: int) -> int:
    configured = os.environ.get("LEADSCORE_SPARK_BUCKETS")
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise LeadscoreError(f"LEADSCORE_SPARK_BUCKETS={configured!r}: expected a whole number") from None
    # enough buckets for every core once there is work for them (a bucket's Python workers import pandas,
    # scikit-learn, LightGBM and MLflow first: small buckets cost more than they save)
    return max(math.ceil(n_leads / LEADS_PER_BUCKET), min(parallelism, math.ceil(n_leads / MIN_LEADS_PER_BUCKET)))


def lead_buckets(leads: pd.DataFrame, n: int) -> np.ndarray:
    """Leads that share an e-mail address share a bucket (duplicate_email compares them); others by id."""
    key = leads["lead_id"].astype(str)
    if "email" in leads:
        email = leads["email"].astype("string").str.strip().str.lower()
        key = ("e:" + email).fillna("i:" + key)
    return (pd.util.hash_pandas_object(key.astype(str), index=False).to_numpy() % np.uint64(n)).astype(np.int32)


def feature_frame(spark: Any, cfg: Config, builder: Any, leads: pd.DataFrame, probe: EventsProbe | None,
                  as_of: pd.Timestamp, notes: Any, checks: Any = None, reference: Any = None) -> Any:
    """The lead-level feature table as a Spark frame (`_row` = the lead's row in the leads file).

    Each bucket also counts, on the feature table exactly as the model's builder made it, what the
    pandas path counts per chunk: `checks` (a detached `ChunkChecks`: unknown event types, unseen
    categories) and, with a drift `reference`, the features' drift bins (`DriftAccumulator`, with the
    scores left missing: they come later, from spark_udf, and the driver counts them). Both go back
    to the driver through NOTES under the bucket's number."""
    from pyspark.sql import functions as F

    n = bucket_count(len(leads), spark.sparkContext.defaultParallelism)
    spark.conf.set("spark.sql.shuffle.partitions", str(n))  # one shuffle partition per bucket, not 200
    leads = leads.reset_index(drop=True).copy()
    leads["_row"] = np.arange(len(leads), dtype=np.int64)
    leads["_bucket"] = lead_buckets(leads, n)
    dtypes = leads.dtypes.to_dict()
    stamps = [c for c, d in dtypes.items() if pd.api.types.is_datetime64_any_dtype(d)]
    shipped = leads.copy()
    for col in stamps:  # nanoseconds as integers: Spark timestamps would round to microseconds
        shipped[col] = to_ns(leads[col])
    leads_sdf = spark.createDataFrame(_arrow_safe(shipped)).repartition(n, "_bucket")
    sample = builder.transform(leads.head(2).drop(columns=["_row", "_bucket"]), None, as_of)
    out_schema = _spark_schema(sample, extra={"_row": "long"})
    out_names = [f.name for f in out_schema.fields]
    has_events = probe is not None
    if has_events:
        keys = leads_sdf.select(F.col("lead_id").alias("_lead_key"), "_bucket")
        raw = read_events(spark, cfg.data, probe)
        events_sdf = clean_events(raw, keys, cfg.data, str(probe.path), probe.ns_columns, as_of, notes)
    else:
        events_sdf = spark.createDataFrame([], "_bucket int, _row long, lead_id string, timestamp long, event_type string")

    def build(lead_part: pd.DataFrame, event_part: pd.DataFrame) -> pd.DataFrame:
        if len(lead_part) == 0:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in out_names})
        part = lead_part.sort_values("_row", kind="stable").reset_index(drop=True)
        for col in stamps:
            part[col] = from_ns(part[col])
        part = _restore_dtypes(part, dtypes)
        ev = None
        if has_events:
            ev = event_part.sort_values(["_row", "lead_id", "timestamp"], kind="stable").reset_index(drop=True)
            ev["timestamp"] = from_ns(ev["timestamp"])
            ev = ev.drop(columns=["_bucket", "_row"])
        leads_only = part.drop(columns=["_row", "_bucket"])
        table = builder.transform(leads_only, ev, as_of)
        _report_bucket(notes, int(part["_bucket"].iloc[0]), table, leads_only, ev, checks, reference)
        table["_row"] = part["_row"].to_numpy()
        return _to_schema(table, out_schema)

    return leads_sdf.groupBy("_bucket").cogroup(events_sdf.groupBy("_bucket")).applyInPandas(build, out_schema)


def _report_bucket(notes: Any, bucket: int, table: pd.DataFrame, leads: pd.DataFrame, events: pd.DataFrame | None,
                   checks: Any, reference: Any) -> None:
    """One bucket's input checks and features' drift counts, sent to the driver under the bucket's key."""
    from models.drift import DriftAccumulator

    counted = None
    if checks is not None:
        counted = checks.detached()
        counted.before(leads, events)
        counted.after(table)
    partial = None
    if reference is not None:
        partial = DriftAccumulator(reference)
        partial.update(table, np.full(len(table), np.nan))  # the scores: counted on the driver
    notes.add({("bucket", bucket): {"checks": counted, "drift": partial}})


def to_ns(values: pd.Series) -> np.ndarray:
    """Datetimes as int64 nanoseconds with NaT as int64 min: a column without nulls, which Arrow and
    pandas hand over as int64 (a nullable one would come back as float64 and lose nanoseconds)."""
    return values.astype("datetime64[ns]").to_numpy().view(np.int64).copy()


def from_ns(values: pd.Series) -> pd.Series:
    """The inverse of `to_ns` (int64 min is NaT in numpy's datetime64 too)."""
    return pd.Series(np.asarray(values, dtype=np.int64).view("datetime64[ns]"), index=values.index)


def score_frame(spark: Any, features: Any, model_uri: str, version: str, model: Any, builder: Any,
                leads: pd.DataFrame, folder: Path) -> Any:
    """The pyfunc's SPEC 4 columns through `mlflow.pyfunc.spark_udf` (plus `_row`), and the time unit
    of each datetime column as the model returns it (Spark keeps microseconds)."""
    import mlflow.pyfunc
    from pyspark.sql import functions as F

    schema = model.metadata.get_input_schema()
    inputs = schema.input_names() if schema is not None else [c for c in features.columns if c != "_row"]
    inputs = [c for c in inputs if c in features.columns]
    result, stamps = _result_type(model, builder, leads, version)
    udf = mlflow.pyfunc.spark_udf(spark, str(model_with_installed_code(model_uri, folder)), result_type=result,
                                  env_manager="local", params={"model_version": version})
    scored = features.select("_row", udf(F.struct(*[F.col(f"`{c}`") for c in inputs])).alias("r")).select("_row", "r.*")
    for col in stamps:
        scored = scored.withColumn(col, F.try_to_timestamp(F.col(col)))
    return scored, stamps


def model_with_installed_code(model_uri: str, folder: Path) -> Path:
    """A local copy of the model whose MLmodel does not put the model's logged code first on sys.path.

    MLflow prepends a pyfunc's `code` folder to sys.path when it loads the model; in a Python worker that
    already imported the installed `features` (the feature stage ran there) the two versions would mix,
    and which one a worker gets would depend on which task it ran before. Without the entry, every
    executor scores with the installed leadscore, as the driver and the pandas path do.
    """
    import mlflow.artifacts
    from mlflow.models import Model

    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(folder / "model")))
    meta = Model.load(str(local / "MLmodel"))
    meta.flavors.get("python_function", {}).pop("code", None)
    meta.save(str(local / "MLmodel"))
    return local


def _result_type(model: Any, builder: Any, leads: pd.DataFrame, version: str) -> tuple[Any, dict[str, str]]:
    """The UDF's struct type: what the model returns for two real rows (so a new output column needs no
    change here). Datetime columns come back as text because spark_udf cannot return timestamps inside
    a struct (MLflow 3.x: "Unsupported field type timestamp in struct type"); Spark casts them back."""
    probe = model.predict(_probe_table(builder, leads), params={"model_version": version})
    stamps = {str(c): _time_unit(d) for c, d in probe.dtypes.items() if pd.api.types.is_datetime64_any_dtype(d)}
    return _spark_schema(probe.astype({c: str for c in stamps})), stamps


def _time_unit(dtype: Any) -> str:
    """'ns', 'us', ... of a pandas datetime dtype (naive or with a time zone)."""
    return getattr(dtype, "unit", None) or np.datetime_data(dtype)[0]


def _probe_table(builder: Any, leads: pd.DataFrame) -> pd.DataFrame:
    stamp = leads["created_at"].max() + pd.Timedelta(days=1) if "created_at" in leads else pd.Timestamp.now()
    return builder.transform(leads.head(2).reset_index(drop=True), None, stamp)


def _spark_schema(frame: pd.DataFrame, extra: dict[str, str] | None = None) -> Any:
    """A Spark schema for a pandas frame's columns (text and categories as strings)."""
    from pyspark.sql import types as T

    fields = []
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            kind = T.BooleanType()
        elif pd.api.types.is_integer_dtype(dtype):
            kind = T.LongType()
        elif pd.api.types.is_float_dtype(dtype):
            kind = T.DoubleType()
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            kind = T.TimestampType()
        else:
            kind = T.StringType()
        fields.append(T.StructField(str(name), kind, True))
    for name, kind in (extra or {}).items():
        fields.append(T.StructField(name, T.LongType() if kind == "long" else T.StringType(), True))
    return T.StructType(fields)


def _to_schema(table: pd.DataFrame, schema: Any) -> pd.DataFrame:
    """A bucket's feature table in the declared column types (a bucket's own dtypes can differ from the
    sample's: all-missing text, numbers without gaps)."""
    from pyspark.sql import types as T

    out = {}
    for field in schema.fields:
        values, kind = table[field.name], field.dataType
        if isinstance(kind, T.StringType):
            values = values.astype("string").astype(object).where(values.notna(), None)
        elif isinstance(kind, T.DoubleType):
            values = pd.to_numeric(values, errors="coerce").astype(float)
        elif isinstance(kind, T.LongType):
            values = values.astype("Int64")
        elif isinstance(kind, T.BooleanType):
            values = values.astype("boolean")
        out[field.name] = values
    return pd.DataFrame(out)


def _arrow_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns Arrow cannot type (mixed Python objects) as text; missing stays missing."""
    import pyarrow as pa

    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object:
            try:
                pa.array(frame[col], from_pandas=True)
            except (pa.ArrowException, TypeError, ValueError):
                frame[col] = frame[col].astype("string")
    return frame


def _restore_dtypes(part: pd.DataFrame, dtypes: dict[str, Any]) -> pd.DataFrame:
    """The dtypes the leads had on the driver (Arrow returns ints with gaps as floats, text as objects)."""
    for col, dtype in dtypes.items():
        if col in part and part[col].dtype != dtype and not pd.api.types.is_datetime64_any_dtype(dtype):
            with contextlib.suppress(TypeError, ValueError):
                part[col] = part[col].astype(dtype)
    return part


# ----------------------------------------------------------------------------------------------------
# output


@contextlib.contextmanager
def _spark_workspace(output: Path) -> Iterator[Path]:
    """A hidden folder beside OUTPUT for Spark's part files (same filesystem), always removed."""
    folder = output.parent / f".{output.name}.spark-{secrets.token_hex(4)}.tmp"
    try:
        folder.mkdir()
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_parts(scores: Any, folder: Path) -> None:
    """Spark writes the scores, sorted by the lead's row in the leads file, as Parquet parts in FOLDER."""
    from pyspark import StorageLevel

    scores = scores.persist(StorageLevel.MEMORY_AND_DISK)  # the sort samples it first: score once
    try:
        scores.orderBy("_row").drop("_row").write.mode("overwrite").parquet(str(folder / "parts"))
    finally:
        scores.unpersist()


def combine_parts(folder: Path, output: Path, observe: Any = None, units: dict[str, str] | None = None) -> dict:
    """Stream Spark's part files, in order, into OUTPUT (Parquet or CSV) atomically; count as we go.
    Each batch goes to OBSERVE first (with its `_prev_` columns, which OUTPUT does not get); datetime
    columns get the time UNITS the model returns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.inputs.io import atomic_file

    parts = sorted((folder / "parts").glob("part-*.parquet"))
    rows, prob_sum = 0, 0.0
    grades = dict.fromkeys("ABCD", 0)
    csv = output.suffix.lower() == ".csv"
    with atomic_file(output) as handle:
        writer = None
        for part in parts:
            for batch in pq.ParquetFile(part).iter_batches(batch_size=65_536):
                table = _naive_times(pa.Table.from_batches([batch]), units or {})
                if table.num_rows == 0:
                    continue
                frame = table.to_pandas()
                if observe is not None:
                    observe(frame)
                frame = frame.drop(columns=[c for c in frame.columns if c.startswith(PREVIOUS_PREFIX)])
                rows += len(frame)
                prob_sum += float(frame["probability"].sum()) if "probability" in frame else 0.0
                if "grade" in frame:
                    for grade, count in frame["grade"].value_counts().items():
                        if grade in grades:
                            grades[grade] += int(count)
                if csv:
                    handle.write(frame.to_csv(index=False, header=writer is None).encode("utf-8"))
                    writer = True
                else:
                    table = pa.Table.from_pandas(frame, preserve_index=False)
                    if writer is None:
                        writer = pq.ParquetWriter(handle, table.schema, compression="zstd")
                    writer.write_table(table)
        if not csv and writer is not None:
            writer.close()
        if rows == 0:
            raise LeadscoreError("Spark produced no scores (no leads to score)")
    return {"rows": rows, "grades": grades, "mean_probability": prob_sum / rows if rows else float("nan")}


class BatchObserver:
    """What the driver does with each batch of scores while it writes them: the alerts (`crossings`
    against the previous scores Spark joined to each lead) and the score's drift bins."""

    def __init__(self, drift: Any, thresholds: Any):
        self.drift, self.thresholds = drift, thresholds
        self.alerts: Any = None  # a TableWriter with --previous
        reference = drift.accumulator.reference if drift.enabled else None
        self.score_bins = reference.score if reference is not None else None
        self.score_counts = np.zeros(self.score_bins.n_bins, dtype=np.int64) if self.score_bins is not None else None

    def __call__(self, frame: pd.DataFrame) -> None:
        from models.alerts import crossings

        if self.score_bins is not None:
            self.score_counts += self.score_bins.count(frame["score"].to_numpy(), len(frame))
        if self.alerts is not None:
            had = frame[PREVIOUS_SCORE].notna()
            previous = frame.loc[had, ["lead_id", PREVIOUS_SCORE, PREVIOUS_GRADE]].rename(
                columns={PREVIOUS_SCORE: "score", PREVIOUS_GRADE: "grade"})
            self.alerts.write(crossings(frame.drop(columns=[PREVIOUS_SCORE, PREVIOUS_GRADE]), previous, self.thresholds))

    def add_feature_counts(self, partials: list[Any], rows: int) -> None:
        """Add up the features' drift counts of every bucket (the executors counted them with missing
        scores); they must cover exactly ROWS leads (a bucket lost or counted twice: a wrong report is
        worse than none)."""
        if self.score_counts is None:
            return
        total = self.drift.accumulator
        for partial in partials:
            total.merge(partial)
        if total.rows != rows:
            raise RuntimeError(f"drift counts cover {total.rows:,} leads, the scores {rows:,}")

    def drift_result(self) -> Any:
        """The batch's `DriftResult`: the buckets' feature counts and the score's counts made here, with
        the reference's own bins (the partials had put every score in the 'missing' bin)."""
        if self.score_counts is None:
            return None
        total = self.drift.accumulator
        if int(self.score_counts.sum()) != total.rows:
            raise RuntimeError(f"drift counts cover {total.rows:,} leads, the scores {int(self.score_counts.sum()):,}")
        total.score_counts = self.score_counts
        return self.drift.finish()


# ----------------------------------------------------------------------------------------------------
# the previous scores (--previous)

PREVIOUS_PREFIX = "_prev_"
PREVIOUS_SCORE, PREVIOUS_GRADE = f"{PREVIOUS_PREFIX}score", f"{PREVIOUS_PREFIX}grade"


class _PreviousSink:
    """Stands in for `pipeline.inputs.chunks.ChunkedInputs` so that `_read_previous`, the pandas path's reader
    of a previous scores file, checks every batch (the same one-line errors, with file rows) and its
    rows (lead_id, score, grade as the pandas path reads them) stream into one Parquet file, with their
    position in the file: the driver never holds the whole file."""

    n_chunks = 1

    def __init__(self, path: Path):
        self.path, self.rows, self.writer = path, 0, None
        self.previous = self

    def route(self, rows: pd.DataFrame, count_unknown: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
        return rows, np.zeros(len(rows), dtype=np.int64)

    def add(self, frame: pd.DataFrame, chunks: np.ndarray) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        frame = frame.assign(_position=np.arange(self.rows, self.rows + len(frame), dtype=np.int64))
        table = pa.Table.from_pandas(frame, schema=_previous_schema(), preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table)
        self.rows += len(frame)

    def close(self) -> None:
        import pyarrow.parquet as pq

        if self.writer is None:  # a file with a header only
            pq.write_table(_previous_schema().empty_table(), self.path)
        else:
            self.writer.close()


def _previous_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("lead_id", pa.string()), ("score", pa.float64()), ("grade", pa.string()),
                      ("_position", pa.int64())])


def stage_previous(path: str | Path, folder: Path, batch_rows: int) -> Path:
    """The previous scores file read and checked on the driver, batch by batch, as the pandas path does,
    into FOLDER/previous.parquet for Spark (see `_PreviousSink`)."""
    from pipeline.inputs.chunks import _read_previous

    sink = _PreviousSink(folder / "previous.parquet")
    try:
        _read_previous(Path(path), batch_rows, sink)
    finally:
        if sink.writer is not None or sys.exc_info()[0] is None:
            sink.close()
    return sink.path


def with_previous(spark: Any, scores: Any, staged: Path) -> Any:
    """Each scored lead with its previous score and grade (null when it was not scored last time), by a
    Spark join; of a lead listed more than once, the last row counts (as in `models.alerts.crossings`)."""
    from pyspark.sql import functions as F

    previous = spark.read.parquet(str(staged))
    last = (previous.groupBy("lead_id").agg(F.max_by(F.struct("score", "grade"), "_position").alias("p"))
            .select("lead_id", F.col("p.score").alias(PREVIOUS_SCORE), F.col("p.grade").alias(PREVIOUS_GRADE)))
    return scores.join(last, on="lead_id", how="left").select(*scores.columns, PREVIOUS_SCORE, PREVIOUS_GRADE)


def _naive_times(table: Any, units: dict[str, str]) -> Any:
    """Spark writes UTC instants in microseconds; the pandas path writes naive UTC times in the model's
    units: the same here, so both files have the same column types."""
    import pyarrow as pa

    for i, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type):
            kind = pa.timestamp(units.get(column.name, column.type.unit))
            if column.type != kind:
                table = table.set_column(i, column.name, table.column(i).cast(kind))
    return table


# ----------------------------------------------------------------------------------------------------
# MLflow


def _pinned_uri(model_uri: str, version: str) -> str:
    """The alias resolved once: the executors load the same version the driver did, even if it moves."""
    if model_uri.startswith("models:/") and "@" in model_uri and version:
        return f"models:/{model_uri.removeprefix('models:/').split('@', 1)[0]}/{version}"
    return model_uri
