"""HistoryStep on a real pyarrow dataset: trend across two scoring dates, idempotent reruns, atomic partitions."""
from __future__ import annotations

import os

import pandas as pd
import pyarrow.dataset as ds
import pytest

from pipeline.errors import InputError
from pipeline.scoring.history import HISTORY_COLUMNS, PARTITIONING, HistoryStep, read_previous
from tests.pipeline.scoring.stepkit import batch, drive, reasons, scores_frame

WEEK1 = [
    dict(lead_id="1", probability=0.50, score=80, grade="A", engagement_score=0.3,
         top_reasons=reasons(("pricing", "Visited pricing 3 times", 0.5), ("demo", "Requested a demo", 0.2))),
    dict(lead_id="2", probability=0.20, score=40, grade="C", engagement_score=0.1, top_reasons=reasons(("web", "Webinar",
                                                                                                        0.2))),
    dict(lead_id="3", probability=0.10, score=30, grade="C", engagement_score=0.0, top_reasons="[]"),
]
WEEK2 = [
    dict(lead_id="1", probability=0.30, score=60, grade="B", engagement_score=0.0,
         top_reasons=reasons(("pricing", "Visited pricing once", 0.1), ("demo", "Requested a demo", 0.2))),
    dict(lead_id="2", probability=0.60, score=85, grade="A", engagement_score=1.0,
         top_reasons=reasons(("demo", "Requested a demo", 1.5), ("web", "Webinar", 0.2))),
    dict(lead_id="3", probability=0.11, score=32, grade="C", engagement_score=0.0, top_reasons="[]"),
    dict(lead_id="4", probability=0.05, score=5, grade="D", engagement_score=0.0, top_reasons="[]"),
]
LEADS = pd.DataFrame({"lead_id": ["1", "2", "3", "4"]})


def score(history, day: str, rows: list[dict], tmp_path) -> tuple[pd.DataFrame, dict]:
    return drive([HistoryStep(history)], scores_frame(rows, day), LEADS, batch(tmp_path / "s.parquet", day))


def partitions(history) -> list[str]:
    return sorted(p.name for p in history.iterdir())


def test_two_dates_give_a_trend_table(tmp_path) -> None:
    history = tmp_path / "history"
    first, s1 = score(history, "2026-01-05", WEEK1, tmp_path)
    assert first["trend"].eq("not enough history").all() and first["score_change"].isna().all()
    assert s1["trends"]["not enough history"] == 3
    second, s2 = score(history, "2026-01-12", WEEK2, tmp_path)
    table = second.set_index("lead_id")
    assert table["score_change"].tolist()[:3] == [-20, 45, 2] and pd.isna(table.loc["4", "score_change"])
    assert table["trend"].tolist() == ["declining", "improving", "steady", "not enough history"]
    assert table.loc["1", "why_changed"] == "Visited pricing once (-0.40)"  # grade A -> B: why
    assert table.loc["2", "why_changed"].startswith("Requested a demo (+1.50)")
    assert table.loc["3", "why_changed"] == ""  # same grade: nothing to explain
    assert s2["history_leads_before"] == 3 and s2["trends"] == {"improving": 1, "steady": 1, "declining": 1,
                                                                "not enough history": 1}
    assert partitions(history) == ["scored_date=2026-01-05", "scored_date=2026-01-12"]
    stored = ds.dataset(history, format="parquet", partitioning=PARTITIONING).to_table().to_pandas()
    assert set(HISTORY_COLUMNS) <= set(stored.columns) and len(stored) == 7
    assert stored["model_version"].eq("3").all()


def test_rescoring_a_date_replaces_its_partition(tmp_path) -> None:
    history = tmp_path / "history"
    score(history, "2026-01-05", WEEK1, tmp_path)
    first, _ = score(history, "2026-01-12", WEEK2, tmp_path)
    again, summary = score(history, "2026-01-12", WEEK2, tmp_path)
    # compares with the earlier date, not with its own first run
    pd.testing.assert_frame_equal(first, again)
    assert summary["history_leads_before"] == 3
    assert partitions(history) == ["scored_date=2026-01-05", "scored_date=2026-01-12"]
    assert os.listdir(history / "scored_date=2026-01-12") == ["part-0.parquet"]
    stored = ds.dataset(history, format="parquet", partitioning=PARTITIONING).to_table()
    assert stored.num_rows == 7  # one copy of the rescored date


def test_only_partitions_before_the_batch_date_are_read(tmp_path) -> None:
    history = tmp_path / "history"
    score(history, "2026-01-12", WEEK2, tmp_path)
    score(history, "2026-01-19", WEEK1, tmp_path)
    previous = read_previous(history, pd.Timestamp("2026-01-15"))
    assert sorted(previous["lead_id"]) == ["1", "2", "3", "4"] and previous["score"].tolist() == [60, 85, 32, 5]
    late, _ = score(history, "2026-01-05", WEEK1, tmp_path)  # backfilling an older date: nothing before it
    assert late["trend"].eq("not enough history").all()


def test_a_failure_in_finish_leaves_no_partition_and_no_temp_file(tmp_path, monkeypatch) -> None:
    history = tmp_path / "history"
    score(history, "2026-01-05", WEEK1, tmp_path)
    step = HistoryStep(history)
    b = batch(tmp_path / "s.parquet", "2026-01-12")
    step.start(b)
    step.part(scores_frame(WEEK2, "2026-01-12"), LEADS)

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        step.finish(b)
    monkeypatch.undo()
    assert partitions(history) == ["scored_date=2026-01-05"]  # no hidden temp file, no empty partition


def test_an_unfinished_batch_leaves_nothing(tmp_path) -> None:
    import gc

    history = tmp_path / "history"
    step = HistoryStep(history)
    step.start(batch(tmp_path / "s.parquet", "2026-01-05"))
    step.part(scores_frame(WEEK1, "2026-01-05"), LEADS)
    assert len(list(history.iterdir())) == 1  # the hidden temp file while the batch runs
    del step
    gc.collect()
    assert list(history.iterdir()) == []


def test_a_history_that_is_a_file_or_not_partitioned_by_date_is_an_input_error(tmp_path) -> None:
    (tmp_path / "h.txt").write_text("x")
    with pytest.raises(InputError, match="must be a folder"):
        HistoryStep(tmp_path / "h.txt").start(batch(tmp_path / "s.parquet", "2026-01-05"))
    (tmp_path / "h" / "scored_date=last-week").mkdir(parents=True)
    with pytest.raises(InputError, match="scored_date=last-week is not a scored_date=YYYY-MM-DD partition"):
        HistoryStep(tmp_path / "h").start(batch(tmp_path / "s.parquet", "2026-01-05"))
