"""The events on Spark: probed on the driver (the pandas path's one-line errors before Spark starts),
read by Spark with file row numbers, and cleaned batch by batch on the executors by the same contract
(`pipeline.inputs.contracts.prepare_events`); timestamps travel as int64 nanoseconds (`to_ns`)."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import Config, DataConfig
from pipeline.errors import InputError
from pipeline.spark.tasks import captured

log = logging.getLogger(__name__)

PROBE_ROWS = 1_000
NAT_NS = int(np.iinfo(np.int64).min)  # NaT as int64 nanoseconds


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

    from pipeline.errors import first_line
    from pipeline.inputs.contracts import prepare_events
    from pipeline.inputs.io import check_readable

    path = Path(path)
    check_readable(path)
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
            raise InputError(f"{path}: not a readable Parquet file ({first_line(exc)})") from None
        ns_columns = {f.name for f in schema if pa.types.is_timestamp(f.type) and f.type.unit == "ns"}
    else:
        head = _csv_head(path)
    with _muted() if len(head) else contextlib.nullcontext():  # a header-only file: its warning, once
        prepare_events(head, cfg.data, str(path))
    return EventsProbe(path, parquet, frozenset(ns_columns))


def _csv_head(path: Path) -> pd.DataFrame:
    """The first rows of a CSV file, with the checks `pipeline.inputs.io.read_table` makes on the whole file."""
    import io

    from pipeline.errors import first_line
    from pipeline.inputs.io import bad_byte, check_csv_head

    check_csv_head(path)
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
    if len(head) == 1 << 20 and b"\n" in head:
        head = head[: head.rfind(b"\n") + 1]  # whole lines only
    try:
        return pd.read_csv(io.BytesIO(head), encoding="utf-8-sig", nrows=PROBE_ROWS, dtype=str)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file is empty (no header, no rows)") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({bad_byte(path, exc)}); re-export the file as CSV UTF-8") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({first_line(exc)})") from None


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
    events it left out (late, of unknown leads) under its own key (see `pipeline.spark.tasks.KeyedParam`)."""
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
            with captured(warnings, rows):
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


def to_ns(values: pd.Series) -> np.ndarray:
    """Datetimes as int64 nanoseconds with NaT as int64 min: a column without nulls, which Arrow and
    pandas hand over as int64 (a nullable one would come back as float64 and lose nanoseconds)."""
    return values.astype("datetime64[ns]").to_numpy().view(np.int64).copy()


def from_ns(values: pd.Series) -> pd.Series:
    """The inverse of `to_ns` (int64 min is NaT in numpy's datetime64 too)."""
    return pd.Series(np.asarray(values, dtype=np.int64).view("datetime64[ns]"), index=values.index)
