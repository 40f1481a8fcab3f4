"""Features and scores on Spark: leads and events meet per bucket (leads sharing an e-mail share one)
and the model's own fitted builder makes the feature table there, counting what the pandas path counts
per chunk; the registered pyfunc scores it through `mlflow.pyfunc.spark_udf`. Also the Spark schemas
of those frames and the model pinned to the version the driver loaded."""
from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import Config
from pipeline.errors import LeadscoreError
from pipeline.spark.events import EventsProbe, clean_events, from_ns, read_events, to_ns

LEADS_PER_BUCKET = 50_000
MIN_LEADS_PER_BUCKET = 5_000


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
    pandas path counts per chunk: `checks` (a detached `pipeline.scoring.checks.ChunkChecks`: unknown event types, unseen
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


def pinned_uri(model_uri: str, version: str) -> str:
    """The alias resolved once: the executors load the same version the driver did, even if it moves."""
    if model_uri.startswith("models:/") and "@" in model_uri and version:
        return f"models:/{model_uri.removeprefix('models:/').split('@', 1)[0]}/{version}"
    return model_uri
