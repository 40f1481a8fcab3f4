"""Streamed scoring inputs: every lead lands in one chunk with all of its events, leads sharing an
e-mail address share a chunk, and batch warnings merge into one line per kind with the file's totals."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import DataConfig
from pipeline.errors import InputError
from pipeline.inputs.chunks import chunked_inputs, merged_warnings, stable_hash

AS_OF = pd.Timestamp("2026-01-01")


def write_world(folder: Path, n_leads: int = 3000, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    ids = [f"L{i:05d}" for i in range(n_leads)]
    emails = [f"person{i}@corp{i % 97}.com" for i in range(n_leads)]
    for i in range(n_leads - 500, n_leads - 400):  # later leads re-using earlier leads' addresses (case and spaces differ)
        emails[i] = " " + emails[i - n_leads + 500].upper()
    leads = pd.DataFrame({"lead_id": ids, "email": emails,
                          "created_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(n_leads), "h")})
    n_events = 20_000
    events = pd.DataFrame({"lead_id": rng.choice(ids + ["ghost-1", "ghost-2"], n_events),
                           "timestamp": pd.Timestamp("2025-06-01")
                           + pd.to_timedelta(rng.integers(0, 300 * 24, n_events), "h"),
                           "event_type": rng.choice(["page_view", "email_open", "demo_request"], n_events)})
    leads.to_parquet(folder / "leads.parquet", row_group_size=700)
    events.to_parquet(folder / "events.parquet", row_group_size=3000)
    return folder / "leads.parquet", folder / "events.parquet"


def test_each_lead_and_its_events_land_in_one_chunk(tmp_path: Path):
    leads_path, events_path = write_world(tmp_path)
    source = pd.read_parquet(events_path).query("timestamp < @AS_OF")
    seen_leads, seen_events = [], 0
    with chunked_inputs(DataConfig(), leads_path, events_path, AS_OF, chunk_leads=1000) as inputs:
        assert inputs.n_chunks == 3
        spill = inputs.leads.folder
        assert spill is not None and spill.exists()
        for chunk in inputs.chunks():
            ids = set(chunk.leads["lead_id"])
            seen_leads += list(chunk.leads["lead_id"])
            assert chunk.leads["lead_id"].is_monotonic_increasing  # file order inside a chunk
            assert set(chunk.events["lead_id"]) <= ids
            expected = source[source["lead_id"].isin(ids)]
            assert len(chunk.events) == len(expected)
            seen_events += len(chunk.events)
            emails = chunk.leads["email"].str.strip().str.lower()
            assert not set(emails) & set(other_emails(inputs, ids)), "an address split across chunks"
        assert inputs.events_unknown == int(source["lead_id"].str.startswith("ghost").sum())
        assert inputs.leads_with_unknown_events == 2
    assert not spill.parent.exists(), "spill folder left behind"
    assert sorted(seen_leads) == sorted(pd.read_parquet(leads_path)["lead_id"])
    assert seen_events == int((~source["lead_id"].str.startswith("ghost")).sum())


def other_emails(inputs, ids: set[str]) -> list[str]:
    """Addresses of the leads of the other chunks (read straight from the leads file)."""
    leads = pd.read_parquet(inputs.sources["leads"])
    return list(leads.loc[~leads["lead_id"].isin(ids), "email"].str.strip().str.lower())


def test_one_chunk_keeps_everything_in_memory_and_in_order(tmp_path: Path):
    leads_path, events_path = write_world(tmp_path, n_leads=900)
    with chunked_inputs(DataConfig(), leads_path, events_path, AS_OF, chunk_leads=1000) as inputs:
        assert inputs.n_chunks == 1 and inputs.leads.folder is None
        (chunk,) = list(inputs.chunks())
    assert chunk.leads["lead_id"].tolist() == pd.read_parquet(leads_path)["lead_id"].tolist()


def test_errors_name_rows_of_the_file_not_of_the_batch(tmp_path: Path):
    leads_path, events_path = write_world(tmp_path)
    events = pd.read_parquet(events_path)
    events["timestamp"] = events["timestamp"].astype(str)
    events.loc[17_345, "timestamp"] = "soon"
    bad = tmp_path / "events.csv"
    events.to_csv(bad, index=False)
    with pytest.raises(InputError, match=r"rows 17346 \('soon'\)"):
        with chunked_inputs(DataConfig(), leads_path, bad, AS_OF, chunk_leads=1000):
            pass


def test_merged_warnings_add_up_counts_per_kind(caplog: pytest.LogCaptureFixture):
    log = logging.getLogger("leadscore.test_chunks")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    log.handlers[:] = [Keep()]
    log.propagate = False
    with merged_warnings(log):
        for n in (3, 4, 5):
            log.warning("%s: %d events without a type (%s)", "events.csv", n, f"rows {n}")
        log.warning("%s: %d leads left out", "leads.csv", 2)
    assert [r.getMessage() for r in records] == ["events.csv: 12 events without a type (rows 3)",
                                                 "leads.csv: 2 leads left out"]

    records.clear()
    with pytest.raises(RuntimeError), merged_warnings(log):
        log.warning("%s: %d held", "x", 1)
        raise RuntimeError("boom")
    assert records == []  # after an error only the error's line matters


def test_stable_hash_is_the_same_for_equal_texts_across_calls():
    a = stable_hash(pd.Series(["L1", "L2", "L1"]))
    b = stable_hash(pd.Series(["L2", "L1"]))
    assert a[0] == a[2] == b[1] and a[1] == b[0] and a[0] != a[1]
