"""Streamed scoring inputs: leads and events read in batches, checked batch by batch with the same
contracts as the in-memory path, and partitioned by a hash of `lead_id` into chunks small enough to
score in memory. Each lead lands in one chunk together with all of its events, so features are exactly
those of the whole-file computation, and peak memory follows the chunk size, not the input size.

Why hash partitioning (and not sorting or filtering per chunk): events are needed per lead, and an
events file is rarely sorted by lead. One pass over each file writes every batch's rows to its chunk's
spill files (Arrow IPC, lz4) in a private temporary folder; filtering the whole events file once per
chunk would read it N times. Inputs that fit in one chunk skip the spill files and keep their order.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import DataConfig
from pipeline.console import PACKAGE_LOGGERS
from pipeline.errors import InputError, example_rows
from pipeline.inputs.cells import rows_from
from pipeline.inputs.contracts import prepare_events, prepare_leads
from pipeline.inputs.io import count_rows, iter_table

log = logging.getLogger(__name__)
ROW = "__row__"  # the lead's 0-based data row in its file: restores file order inside a chunk
EVENTS_PER_LEAD_BATCH = 10  # events are read in batches of 10 x chunk_leads rows (1M by default)


def stable_hash(values: pd.Series) -> np.ndarray:
    """A 64-bit hash of each text, the same in every run (hashed once per distinct value)."""
    codes, uniques = pd.factorize(values)
    return pd.util.hash_array(np.asarray(uniques, dtype=object), categorize=False)[codes]


def group_key(leads: pd.DataFrame) -> pd.Series:
    """What decides a lead's chunk: its normalised e-mail address when it has one, since leads sharing an
    address must be scored together (`duplicate_email` compares them, as in a whole-file run); else its id."""
    ids = "#" + leads["lead_id"].astype(str)
    if "email" not in leads:
        return ids
    return leads["email"].astype("string").str.strip().str.lower().fillna(ids)


class ChunkIndex:
    """lead_id -> chunk for the events and previous scores: sorted 64-bit id hashes and their chunks,
    about 10 bytes per lead (the only state that grows with the number of leads)."""

    def __init__(self) -> None:
        self._hashes: list[np.ndarray] = []
        self._chunks: list[np.ndarray] = []

    def add(self, lead_ids: pd.Series, chunks: np.ndarray) -> None:
        self._hashes.append(stable_hash(lead_ids))
        self._chunks.append(chunks.astype(np.uint16))

    def freeze(self) -> None:
        hashes = np.concatenate(self._hashes) if self._hashes else np.zeros(0, np.uint64)
        chunks = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.uint16)
        order = np.argsort(hashes, kind="stable")
        self.hashes, self.chunks = hashes[order], chunks[order]
        self._hashes, self._chunks = [], []

    def locate(self, lead_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(chunk, known) per id; unknown ids get chunk 0 and known False."""
        hashed = stable_hash(lead_ids)
        pos = np.minimum(np.searchsorted(self.hashes, hashed), max(len(self.hashes) - 1, 0))
        known = (self.hashes[pos] == hashed) if len(self.hashes) else np.zeros(len(hashed), dtype=bool)
        return np.where(known, self.chunks[pos] if len(self.chunks) else 0, 0).astype(np.int64), known


class Spill:
    """Rows of one kind (leads or events) grouped by chunk: in memory when there is one chunk, else in
    Arrow IPC files under `folder`, one per (batch, chunk)."""

    def __init__(self, folder: Path | None, n_chunks: int):
        self.folder, self.n_chunks = folder, n_chunks
        self.memory: list[pd.DataFrame] = []
        self.files: dict[int, list[Path]] = defaultdict(list)

    def add(self, frame: pd.DataFrame, chunks: np.ndarray) -> None:
        if self.folder is None:
            self.memory.append(frame)
            return
        order = np.argsort(chunks, kind="stable")
        bounds = np.searchsorted(chunks[order], np.arange(self.n_chunks + 1))
        for chunk in range(self.n_chunks):
            rows = order[bounds[chunk]:bounds[chunk + 1]]
            if len(rows):
                path = self.folder / f"{chunk:05d}-{len(self.files[chunk]):05d}.arrow"
                frame.iloc[rows].reset_index(drop=True).to_feather(path, compression="lz4")
                self.files[chunk].append(path)

    def read(self, chunk: int) -> pd.DataFrame | None:
        """The chunk's rows (None when it has none); spill files are deleted once read."""
        if self.folder is None:
            parts = self.memory
            self.memory = []
        else:
            paths = self.files.pop(chunk, [])
            parts = [pd.read_feather(p) for p in paths]
            for path in paths:
                path.unlink()
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


@dataclass
class Chunk:
    leads: pd.DataFrame
    events: pd.DataFrame | None
    previous: pd.DataFrame | None  # the previous scoring's rows of these leads (`--previous`)


@dataclass
class ChunkedInputs:
    """What the two passes found: spilled leads and events, plus the counts the warnings report."""

    n_chunks: int
    leads: Spill
    events: Spill | None
    sources: dict[str, str]
    previous: Spill | None = None
    index: ChunkIndex = field(default_factory=ChunkIndex)
    leads_total: int = 0
    leads_later: int = 0
    converted: np.ndarray | None = None  # sorted id hashes of leads converted before as_of (`--outcomes`)
    leads_converted: int = 0
    max_age_days: int | None = None  # training.max_lead_age_days: older leads are scored with a warning
    leads_old: int = 0
    events_later: int = 0
    events_unknown: int = 0
    _unknown_leads: list[np.ndarray] = field(default_factory=list)
    created_range: list[pd.Timestamp] = field(default_factory=list)

    def chunks(self) -> Iterator[Chunk]:
        """Each non-empty chunk, leads in file order; duplicate ids are an error."""
        for chunk in range(self.n_chunks):
            leads = self.leads.read(chunk)
            events = self.events.read(chunk) if self.events is not None else None
            previous = self.previous.read(chunk) if self.previous is not None else None
            if leads is None:
                if events is not None:
                    self._count_unknown(events["lead_id"])
                continue
            leads = leads.sort_values(ROW, kind="stable").reset_index(drop=True)
            self._check_unique(leads)
            if events is not None:
                known = events["lead_id"].isin(pd.Index(leads["lead_id"]))
                if not known.all():
                    self._count_unknown(events.loc[~known, "lead_id"])
                    events = events.loc[known].reset_index(drop=True)
            yield Chunk(leads.drop(columns=ROW), events, previous)

    def route(self, rows: pd.DataFrame, count_unknown: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
        """Rows keyed by lead_id (events, previous scores) with their lead's chunk; rows of leads not in
        the leads file are dropped here (and counted) when there are several chunks."""
        if self.n_chunks == 1:
            return rows, np.zeros(len(rows), dtype=np.int64)
        chunks, known = self.index.locate(rows["lead_id"])
        if not known.all():
            if count_unknown:
                self._count_unknown(rows.loc[~known, "lead_id"])
            rows, chunks = rows.loc[known].reset_index(drop=True), chunks[known]
        return rows, chunks

    def warn_unknown_events(self) -> None:
        if self.events_unknown:
            log.warning("%s: %d events of %d leads not in the leads file were ignored", self.sources["events"],
                        self.events_unknown, self.leads_with_unknown_events)

    def _count_unknown(self, lead_ids: pd.Series) -> None:
        hashed = stable_hash(lead_ids)
        if self.converted is not None and len(self.converted) and len(hashed):  # a converted lead's events: no news
            pos = np.minimum(np.searchsorted(self.converted, hashed), len(self.converted) - 1)
            hashed = hashed[self.converted[pos] != hashed]
        self.events_unknown += len(hashed)
        self._unknown_leads.append(np.unique(hashed))

    @property
    def leads_with_unknown_events(self) -> int:
        return len(np.unique(np.concatenate(self._unknown_leads))) if self._unknown_leads else 0

    def _check_unique(self, leads: pd.DataFrame) -> None:
        dup = leads["lead_id"].duplicated(keep=False)
        if dup.any():
            rows = (leads.loc[dup, ROW] + 1).tolist()
            raise InputError(
                f"{self.sources['leads']}: column 'lead_id' must be unique; {int(leads['lead_id'].duplicated().sum())} "
                f"duplicates, {example_rows(rows, leads.loc[dup, 'lead_id'].tolist())}"
            )


@contextmanager
def chunked_inputs(cfg: DataConfig, leads_path: str | Path, events_path: str | Path | None, as_of: pd.Timestamp,
                   chunk_leads: int, previous_path: str | Path | None = None, outcomes_path: str | Path | None = None,
                   max_age_days: int | None = None) -> Iterator[ChunkedInputs]:
    """Read, check and partition the scoring inputs (and a previous scores file); the spill folder is
    removed on exit, also on errors. Leads created at or after `as_of` and events at or after it are
    left out (point in time); with `outcomes_path`, so are leads converted before `as_of` (they are
    customers, not leads to call). Leads older than `max_age_days` are scored and counted for a warning."""
    n_chunks = max(1, -(-count_rows(leads_path) // chunk_leads))
    folder = Path(tempfile.mkdtemp(prefix="leadscore-chunks-")) if n_chunks > 1 else None
    try:
        sources = {"leads": str(leads_path)} | ({"events": str(events_path)} if events_path is not None else {})
        spill_leads = Spill(folder / "leads" if folder else None, n_chunks)
        spill_events = Spill(folder / "events" if folder else None, n_chunks) if events_path is not None else None
        for spill in (spill_leads, spill_events):
            if spill is not None and spill.folder is not None:
                spill.folder.mkdir()
        found = ChunkedInputs(n_chunks, spill_leads, spill_events, sources, max_age_days=max_age_days)
        if outcomes_path is not None:
            sources["outcomes"] = str(outcomes_path)
            found.converted = converted_before(cfg, Path(outcomes_path), as_of, chunk_leads)
        with merged_warnings():
            _read_leads(cfg, Path(leads_path), as_of, chunk_leads, found)
            if events_path is not None:
                _read_events(cfg, Path(events_path), as_of, EVENTS_PER_LEAD_BATCH * chunk_leads, found)
            if previous_path is not None:
                found.previous = Spill(folder / "previous" if folder else None, n_chunks)
                if found.previous.folder is not None:
                    found.previous.folder.mkdir()
                read_previous(Path(previous_path), chunk_leads, found)
        yield found
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _read_leads(cfg: DataConfig, path: Path, as_of: pd.Timestamp, batch_rows: int, found: ChunkedInputs) -> None:
    scoring_cfg = cfg.model_copy(update={"mode": "events"}) if cfg.mode == "events" else cfg
    offset = 0
    for batch in iter_table(path, [cfg.lead_columns.lead_id], batch_rows):
        with rows_from(offset + 1):
            leads = prepare_leads(batch, scoring_cfg, str(path), scoring=True)
        leads[ROW] = np.arange(offset, offset + len(leads))
        offset += len(batch)
        found.leads_total += len(leads)
        if "created_at" in leads:
            created = leads["created_at"]
            if created.notna().any():
                found.created_range += [created.min(), created.max()]
            later = (created >= as_of).to_numpy()
            if later.any():
                found.leads_later += int(later.sum())
                leads = leads.loc[~later].reset_index(drop=True)
        leads, converted, old = open_leads(leads, found.converted, as_of, found.max_age_days)
        found.leads_converted += converted
        found.leads_old += old
        if len(leads):
            chunks = stable_hash(group_key(leads)) % np.uint64(found.n_chunks)
            found.leads.add(leads, chunks.astype(np.int64))
            if found.n_chunks > 1:
                found.index.add(leads["lead_id"], chunks)
    found.index.freeze()
    if found.leads_converted and found.leads_converted + found.leads_later == found.leads_total:
        raise InputError(f"{path}: every lead created before {as_of} had converted by then "
                         f"({found.leads_converted} leads, {found.sources['outcomes']}); nothing to score")
    if found.leads_later == found.leads_total:
        raise InputError(
            f"{path}: no lead was created before {as_of} (column 'created_at' runs from "
            f"{min(found.created_range)} to {max(found.created_range)}); check --as-of"
        )
    if found.leads_later:
        log.warning("%s: %d leads created at or after %s were left out", path, found.leads_later, as_of)
    warn_open_leads(path, found.leads_converted, found.leads_old, as_of, found.max_age_days, found.sources.get("outcomes"))


def open_leads(leads: pd.DataFrame, converted: np.ndarray | None, as_of: pd.Timestamp, max_age_days: int | None
               ) -> tuple[pd.DataFrame, int, int]:
    """The leads without those in `converted` (sorted id hashes), how many were dropped, and how many of
    the rest were created more than `max_age_days` before as_of."""
    n_converted = n_old = 0
    if converted is not None and len(leads) and len(converted):
        hashed = stable_hash(leads["lead_id"])
        pos = np.minimum(np.searchsorted(converted, hashed), len(converted) - 1)
        done = converted[pos] == hashed
        if done.any():
            n_converted = int(done.sum())
            leads = leads.loc[~done].reset_index(drop=True)
    if max_age_days is not None and "created_at" in leads:
        n_old = int((leads["created_at"] < as_of - pd.Timedelta(days=max_age_days)).sum())
    return leads, n_converted, n_old


def warn_open_leads(path: object, converted: int, old: int, as_of: pd.Timestamp, max_age_days: int | None,
                    outcomes: str | None) -> None:
    if converted:
        log.warning("%s: %d leads that converted before %s were not scored (%s)", path, converted, as_of, outcomes)
    if old:
        log.warning("%s: %d leads scored are older than training.max_lead_age_days (%d days at %s); the model "
                    "learnt only from younger open leads, so their scores are extrapolated", path, old,
                    max_age_days, as_of.date())


def converted_before(cfg: DataConfig, path: Path, as_of: pd.Timestamp, batch_rows: int) -> np.ndarray:
    """Sorted id hashes of the leads an outcomes file (lead_id, converted_at) says converted before as_of."""
    from pipeline.inputs.contracts import prepare_outcomes

    hashes = []
    offset = 0
    for batch in iter_table(path, [cfg.outcome_columns.lead_id], batch_rows):
        with rows_from(offset + 1):
            outcomes = prepare_outcomes(batch, cfg, str(path))
        offset += len(batch)
        done = outcomes["converted_at"].notna() & (outcomes["converted_at"] < as_of)
        hashes.append(stable_hash(outcomes.loc[done, "lead_id"]))
    return np.sort(np.concatenate(hashes)) if hashes else np.zeros(0, np.uint64)


def _read_events(cfg: DataConfig, path: Path, as_of: pd.Timestamp, batch_rows: int, found: ChunkedInputs) -> None:
    columns = [c for c in cfg.event_columns.model_dump().values() if c]
    offset = 0
    for batch in iter_table(path, [cfg.event_columns.lead_id], batch_rows, columns=columns):
        with rows_from(offset + 1):
            events = prepare_events(batch, cfg, str(path))
        offset += len(batch)
        later = (events["timestamp"] >= as_of).to_numpy()
        if later.any():
            found.events_later += int(later.sum())
            events = events.loc[~later].reset_index(drop=True)
        if len(events):
            found.events.add(*found.route(events))
    if found.events_later:
        log.warning("%s: %d events at or after %s were ignored", path, found.events_later, as_of)


PREVIOUS_COLUMNS = ["lead_id", "score", "grade"]


def read_previous(path: Path, batch_rows: int, found: ChunkedInputs) -> None:
    """A scores file written by `leadscore predict` (CSV or Parquet), read and checked batch by batch:
    its lead_id, score and grade go to `found.previous.add(*found.route(rows, count_unknown=False))`
    (`found` a `ChunkedInputs`, or anything with those two methods: the Spark engine's sink)."""
    offset = 0
    for batch in iter_table(path, ["lead_id"], batch_rows, columns=PREVIOUS_COLUMNS):
        missing = [c for c in PREVIOUS_COLUMNS if c not in batch.columns]
        if missing:
            raise InputError(f"{path}: missing required column '{missing[0]}' (--previous must be a scores file "
                             f"written by leadscore predict)")
        previous = batch[PREVIOUS_COLUMNS].copy()
        previous["lead_id"] = previous["lead_id"].astype(str)
        score = pd.to_numeric(previous["score"], errors="coerce")
        if score.isna().any():
            rows = np.flatnonzero(score.isna().to_numpy()) + offset + 1
            raise InputError(f"{path}: column 'score' has {len(rows)} values that are not numbers, "
                             f"{example_rows(rows.tolist())}")
        previous["score"] = score.astype(float)
        previous["grade"] = previous["grade"].astype(str)
        offset += len(batch)
        if len(previous):
            found.previous.add(*found.route(previous, count_unknown=False))


@contextmanager
def merged_warnings(*loggers: logging.Logger) -> Iterator[None]:
    """Warnings raised batch by batch are held back and printed once per kind at the end, with their
    counts added up (integers at the same place of the message), so a file read in 40 batches still
    gives one line per problem, with the file's totals and the first batch's examples. After an error
    they are dropped: the error's one line is what the user needs then. Holds the given loggers, by
    default all of leadscore's (pipeline.console.PACKAGE_LOGGERS)."""
    targets = list(loggers) or [logging.getLogger(name) for name in PACKAGE_LOGGERS]
    held: dict[tuple[object, str], logging.LogRecord] = {}

    class Hold(logging.Handler):
        def __init__(self, passed: list[logging.Handler]):
            super().__init__()
            self.passed = passed  # the logger's own handlers: what is not a countable warning goes there

        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno != logging.WARNING or not isinstance(record.args, tuple):
                for handler in self.passed:
                    handler.handle(record)
                return
            key = (record.msg, str(record.args[0]) if record.args else "")
            first = held.setdefault(key, record)
            if first is not record:
                first.args = tuple(a + b if _count(a) and _count(b) else a for a, b in zip(first.args, record.args))

    saved = [(logger, logger.handlers[:], logger.propagate) for logger in targets]
    for logger, handlers, _ in saved:
        logger.handlers[:], logger.propagate = [Hold(handlers)], False
    try:
        yield
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers[:], logger.propagate = handlers, propagate
    for record in held.values():  # not after an error: its one line is what matters then
        logging.getLogger(record.name).handle(record)


def _count(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
