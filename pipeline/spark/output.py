"""The driver's side of the Spark output: a hidden workspace beside OUTPUT, Spark's Parquet parts in
the leads file's order streamed back one Arrow batch at a time (for the core, `pipeline.scoring.batch`,
which writes OUTPUT), the score's drift bins counted there, and the previous scores (`--previous`)
read by the pandas path's reader and joined to the scores by Spark."""
from __future__ import annotations

import contextlib
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PREVIOUS_PREFIX = "_prev_"
PREVIOUS_SCORE, PREVIOUS_GRADE = f"{PREVIOUS_PREFIX}score", f"{PREVIOUS_PREFIX}grade"


@contextlib.contextmanager
def spark_workspace(output: Path) -> Iterator[Path]:
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


def score_batches(folder: Path, units: dict[str, str] | None = None) -> Iterator[pd.DataFrame]:
    """Spark's part files in FOLDER, in order, one Arrow batch at a time as pandas frames (with the
    `_prev_` columns Spark joined, see `split_previous`); datetime columns get the time UNITS the model
    returns. The driver never holds more than one batch."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for part in sorted((folder / "parts").glob("part-*.parquet")):
        for batch in pq.ParquetFile(part).iter_batches(batch_size=65_536):
            table = _naive_times(pa.Table.from_batches([batch]), units or {})
            if table.num_rows:
                yield table.to_pandas()


def split_previous(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A batch of scores without the `_prev_` columns, and the previous scores (lead_id, score, grade)
    of its leads that had one (None without --previous)."""
    if PREVIOUS_SCORE not in frame:
        return frame, None
    had = frame[PREVIOUS_SCORE].notna()
    previous = frame.loc[had, ["lead_id", PREVIOUS_SCORE, PREVIOUS_GRADE]].rename(
        columns={PREVIOUS_SCORE: "score", PREVIOUS_GRADE: "grade"})
    return frame.drop(columns=[c for c in frame.columns if c.startswith(PREVIOUS_PREFIX)]), previous


class BatchObserver:
    """The score's drift bins of each batch of scores the driver streams, added to what the buckets
    counted for the features (`add_feature_counts`): the batch's drift as the pandas path counts it.
    `thresholds` are the batch's alert thresholds (`ScoredBatch.thresholds`), for the record: its
    alerts step applies them."""

    def __init__(self, drift: Any, thresholds: Any = None):
        self.drift, self.thresholds = drift, thresholds
        reference = drift.accumulator.reference if drift.enabled else None
        self.score_bins = reference.score if reference is not None else None
        self.score_counts = np.zeros(self.score_bins.n_bins, dtype=np.int64) if self.score_bins is not None else None

    def __call__(self, frame: pd.DataFrame) -> None:
        """Count one batch's scores (a frame with `score`, any other columns ignored)."""
        if self.score_bins is not None:
            self.score_counts += self.score_bins.count(frame["score"].to_numpy(), len(frame))

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


class _PreviousSink:
    """Stands in for `pipeline.inputs.chunks.ChunkedInputs` so that `read_previous`, the pandas path's reader
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
    from pipeline.inputs.chunks import read_previous

    sink = _PreviousSink(folder / "previous.parquet")
    try:
        read_previous(Path(path), batch_rows, sink)
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
