"""The score history step: each lead's score change and trend since its last scoring, and the history kept.

The history is a Parquet dataset partitioned by scoring date (the batch's as_of date):

    HISTORY/scored_date=2026-01-05/part-0.parquet
    HISTORY/scored_date=2026-01-12/part-0.parquet

with HISTORY_COLUMNS. `start` reads, with a pyarrow.dataset filter, only the partitions dated before this
batch and only the columns needed, and keeps each lead's last scoring; `part` adds score_change, trend
and why_changed; `finish` publishes this batch as its date's partition.

Idempotent reruns: the partition of a date is replaced as a whole (one file, `part-0.parquet`, renamed into
place), and a batch compares with the partitions of earlier dates only, so scoring the same date twice
gives the same columns and one copy of that date in the history. Two batches on one day: the later one
replaces the earlier.

Atomic: the parts stream into a hidden temp file in the dataset folder (`.NAME.XXXXXXXX.tmp`, which
pyarrow.dataset ignores); `finish` closes it and renames it into the partition. A batch that fails
before `finish` (or a failure inside it) leaves no partition; its temp file is removed when the step is
dropped (a SIGKILL can leave the hidden file, which readers ignore).

Memory: one previous row per lead ever scored (lead id, as_of, score, grade: about 60 bytes) plus its
top_reasons text kept in Arrow memory (about 0.4 KB), so about 0.5 GB per million leads of history.
"""
from __future__ import annotations

import os
import re
import secrets
import weakref
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from models.trend import TRENDS, score_change, trend, why_changed
from pipeline.errors import InputError
from pipeline.scoring.steps import Batch

HISTORY_SCHEMA = pa.schema([
    ("lead_id", pa.string()), ("as_of", pa.timestamp("us")), ("score", pa.int64()), ("grade", pa.string()),
    ("probability", pa.float64()), ("top_reasons", pa.string()), ("model_version", pa.string()),
    ("scored_at", pa.timestamp("us")),
])
HISTORY_COLUMNS = HISTORY_SCHEMA.names
PARTITION = "scored_date"
PARTITIONING = ds.partitioning(pa.schema([(PARTITION, pa.string())]), flavor="hive")
PART_FILE = "part-0.parquet"
TREND_COLUMNS = ["score_change", "trend", "why_changed"]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def partition_dir(history: Path, as_of: pd.Timestamp) -> Path:
    return history / f"{PARTITION}={pd.Timestamp(as_of).strftime('%Y-%m-%d')}"


def read_previous(history: Path, as_of: pd.Timestamp) -> pd.DataFrame:
    """Each lead's last scoring in the partitions dated strictly before as_of's date: lead_id, as_of,
    score, grade, top_reasons (Arrow-backed text), indexed by lead_id. Empty when there is no history."""
    if not history.exists():
        return no_previous()
    day = pd.Timestamp(as_of).strftime("%Y-%m-%d")
    try:
        dataset = ds.dataset(history, format="parquet", partitioning=PARTITIONING)
        table = dataset.to_table(columns=["lead_id", "as_of", "score", "grade", "top_reasons"],
                                 filter=ds.field(PARTITION) < day)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{history}: not a readable score history ({str(exc).splitlines()[0][:200]})") from None
    if table.num_rows == 0:
        return no_previous()
    keys = pd.DataFrame({"lead_id": table.column("lead_id").to_pandas(), "t": table.column("as_of").to_pandas()})
    last = keys.sort_values(["lead_id", "t"], kind="stable").drop_duplicates("lead_id", keep="last").index.to_numpy()
    table = table.take(pa.array(np.sort(last)))
    out = pd.DataFrame({
        "lead_id": table.column("lead_id").to_pandas().astype(str),
        "as_of": table.column("as_of").to_pandas(),
        "score": table.column("score").to_pandas(),
        "grade": table.column("grade").to_pandas(),
        # the texts stay in Arrow memory: no Python string per lead
        "top_reasons": table.column("top_reasons").to_pandas(
            types_mapper=lambda t: pd.ArrowDtype(t) if t == pa.string() else None),
    })
    return out.set_index(pd.Index(out["lead_id"], name=None), drop=False)


def no_previous() -> pd.DataFrame:
    """read_previous's frame without rows."""
    empty = pd.DataFrame({"lead_id": pd.Series(dtype=object), "as_of": pd.Series(dtype="datetime64[ns]"),
                          "score": pd.Series(dtype=float), "grade": pd.Series(dtype=object),
                          "top_reasons": pd.Series(dtype=object)})
    return empty.set_index(pd.Index(empty["lead_id"], name=None), drop=False)


class HistoryStep:
    """BatchStep: score_change, trend, why_changed per lead; this batch appended to the history at finish."""

    columns: list[str] = TREND_COLUMNS

    def __init__(self, history: str | Path):
        self.history = Path(history)
        self.previous = no_previous()
        self.trends: Counter[str] = Counter()
        self.writer: pq.ParquetWriter | None = None
        self.tmp: Path | None = None
        self.batch: Batch | None = None
        self.rows = 0
        self.scored_at = pd.Timestamp(0)

    def start(self, batch: Batch) -> None:
        if self.history.exists() and not self.history.is_dir():
            raise InputError(f"{self.history}: the score history must be a folder (it is a file)")
        stray = [p.name for p in self.history.glob(f"{PARTITION}=*") if not _DATE.match(p.name.split("=", 1)[1])]
        if stray:
            raise InputError(f"{self.history}: {stray[0]} is not a scored_date=YYYY-MM-DD partition of a score history")
        self.batch, self.rows, self.trends = batch, 0, Counter()
        self.scored_at = pd.Timestamp.now(tz="UTC").tz_localize(None)
        self.previous = read_previous(self.history, batch.as_of)
        self.history.mkdir(parents=True, exist_ok=True)
        self.tmp = self.history / f".{partition_dir(self.history, batch.as_of).name}.{secrets.token_hex(4)}.tmp"
        self.writer = pq.ParquetWriter(self.tmp, HISTORY_SCHEMA, compression="zstd")
        weakref.finalize(self, _remove, self.tmp, self.writer)

    def part(self, scores: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
        out = scores.copy()
        out[TREND_COLUMNS] = self.changes(scores)[TREND_COLUMNS]
        self.trends.update(out["trend"].value_counts().to_dict())
        self.writer.write_table(self.rows_of(scores), row_group_size=1 << 20)
        self.rows += len(scores)
        return out

    def changes(self, scores: pd.DataFrame) -> pd.DataFrame:
        """score_change, trend, why_changed aligned with `scores` (against each lead's previous scoring)."""
        at = self.previous.index.get_indexer(scores["lead_id"].astype(str))
        previous = self.previous.iloc[at[at >= 0]]
        current = pd.DataFrame({"lead_id": scores["lead_id"].astype(str), "as_of": scores["as_of"],
                                "score": scores["score"]}, index=scores.index)
        change = score_change(current, previous.reset_index(drop=True))
        out = pd.DataFrame({"score_change": change["score_change"].astype(float),
                            "trend": trend(change["score_change"].astype(float))}, index=scores.index)
        changed = (change["previous_grade"].notna() & (change["previous_grade"] != scores["grade"])).to_numpy()
        if "top_reasons" in scores and changed.any():
            out["why_changed"] = why_changed(scores["top_reasons"], change["previous_top_reasons"].fillna("[]"),
                                             changed=changed, direction=out["score_change"].to_numpy())
        else:
            out["why_changed"] = ""
        return out

    def rows_of(self, scores: pd.DataFrame) -> pa.Table:
        """This part's HISTORY_COLUMNS as an Arrow table of HISTORY_SCHEMA."""
        frame = pd.DataFrame({
            "lead_id": scores["lead_id"].astype(str).to_numpy(),
            "as_of": pd.to_datetime(scores["as_of"]).to_numpy(dtype="datetime64[us]"),
            "score": pd.to_numeric(scores["score"]).astype(np.int64).to_numpy(),
            "grade": scores["grade"].astype(str).to_numpy(),
            "probability": scores["probability"].astype(float).to_numpy(),
            "top_reasons": (scores["top_reasons"].astype(object).to_numpy() if "top_reasons" in scores
                            else np.full(len(scores), "[]", dtype=object)),
            "model_version": np.full(len(scores), str(self.batch.model_version or ""), dtype=object),
            "scored_at": np.full(len(scores), self.scored_at.to_datetime64(), dtype="datetime64[us]"),
        })
        return pa.Table.from_pandas(frame, schema=HISTORY_SCHEMA, preserve_index=False)

    def finish(self, batch: Batch) -> dict[str, Any]:
        """Close the temp file and rename it into this date's partition (replacing an earlier one)."""
        writer, tmp = self.writer, self.tmp
        self.writer = None
        target = partition_dir(self.history, batch.as_of)
        created = not target.exists()
        try:
            writer.close()
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            target.mkdir(exist_ok=True)
            os.replace(tmp, target / PART_FILE)
        except BaseException:
            if created and target.is_dir() and not any(target.iterdir()):
                target.rmdir()
            raise
        finally:
            tmp.unlink(missing_ok=True)
        for other in target.iterdir():  # a partition is one file: leftovers of other writers go
            if other.name != PART_FILE and other.suffix == ".parquet":
                other.unlink()
        counts = {t: int(self.trends.get(t, 0)) for t in TRENDS}
        return {"history": str(self.history), "history_partition": str(target / PART_FILE),
                "history_rows": self.rows, "history_leads_before": len(self.previous), "trends": counts}


def _remove(tmp: Path, writer: pq.ParquetWriter) -> None:
    """At garbage collection: a batch that never finished leaves no temp file."""
    try:
        writer.close()
    except Exception:  # noqa: BLE001 - already closed or broken: only the file matters here
        pass
    tmp.unlink(missing_ok=True)
