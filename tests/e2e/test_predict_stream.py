"""`leadscore predict` streams its inputs: scored in chunks of `scoring.chunk_leads` leads, it gives
exactly the scores of one in-memory chunk, for Parquet and CSV inputs, with file row numbers in its
errors, one warning line per kind, and `--previous` alerts for leads that newly crossed hot / MQL."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.alerts import ALERT_COLUMNS
from tests.conftest import Trained, run_cli, write_config

AS_OF = "2026-06-01"
NUMERIC = ["probability", "score", "fit_score", "engagement_score"]


def predict(trained: Trained, folder: Path, name: str, *extra: str, leads: Path | None = None,
            events: Path | None = None, chunk_leads: int | None = None):
    folder.mkdir(exist_ok=True)
    config = write_config(folder, {"scoring": {"chunk_leads": chunk_leads}} if chunk_leads else None)
    out = folder / name
    result = run_cli("predict", "--leads", str(leads or trained.data / "leads.parquet"),
                     "--events", str(events or trained.data / "events.parquet"), "--as-of", AS_OF,
                     "--output", str(out), "--config", str(config), "--json", *extra, cwd=folder, env=trained.env)
    return result, out


@pytest.fixture(scope="module")
def whole(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("whole")
    result, out = predict(trained, folder, "scores.parquet")
    assert result.code == 0, result.stderr
    assert result.json()["chunks"] == 1
    return pd.read_parquet(out)


def by_lead(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="scored_at").sort_values("lead_id").reset_index(drop=True)


def test_chunked_scores_equal_the_whole_file_scores(trained: Trained, whole: pd.DataFrame, tmp_path: Path):
    result, out = predict(trained, tmp_path, "scores.parquet", chunk_leads=1000)
    assert result.code == 0, result.stderr
    summary = result.json()
    assert summary["chunks"] == 2 and summary["rows"] == len(whole)
    chunked = pd.read_parquet(out)
    assert list(chunked.columns) == list(whole.columns)
    a, b = by_lead(chunked), by_lead(whole)
    assert a["lead_id"].tolist() == b["lead_id"].tolist()
    for col in NUMERIC:
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float), rtol=0, atol=1e-12, err_msg=col)
    assert (a.drop(columns=NUMERIC) == b.drop(columns=NUMERIC)).all().all()
    # inside one chunk, leads keep the order of the file
    order = pd.read_parquet(trained.data / "leads.parquet", columns=["lead_id"])["lead_id"].reset_index()
    rank = chunked.merge(order, on="lead_id")["index"]
    assert sum(np.diff(rank.to_numpy()) < 0) == summary["chunks"] - 1


def test_csv_inputs_in_chunks_give_the_same_scores(trained: Trained, tmp_path: Path):
    # (CSV and Parquet differ in cells like 'n/a', which pandas reads from CSV as missing, so the
    # reference here is the same CSV scored in one chunk)
    leads, events = tmp_path / "leads.csv", tmp_path / "events.csv"
    pd.read_parquet(trained.data / "leads.parquet").to_csv(leads, index=False)
    pd.read_parquet(trained.data / "events.parquet").to_csv(events, index=False)
    one, one_out = predict(trained, tmp_path / "one", "scores.csv", leads=leads, events=events)
    many, many_out = predict(trained, tmp_path / "many", "scores.csv", leads=leads, events=events, chunk_leads=1000)
    assert one.code == 0 and many.code == 0, one.stderr + many.stderr
    assert (one.json()["chunks"], many.json()["chunks"]) == (1, 2)
    a, b = (by_lead(pd.read_csv(p, dtype={"lead_id": str})) for p in (many_out, one_out))
    assert a["lead_id"].tolist() == b["lead_id"].tolist()
    np.testing.assert_allclose(a["probability"], b["probability"], rtol=0, atol=1e-12)
    assert (a["grade"] == b["grade"]).all() and (a["top_reasons"] == b["top_reasons"]).all()


def test_errors_in_a_later_batch_name_the_files_rows(trained: Trained, tmp_path: Path):
    leads = pd.read_parquet(trained.data / "leads.parquet")
    leads["created_at"] = leads["created_at"].astype(str)
    leads.loc[1500, "created_at"] = "yesterday"       # data row 1501, in the second batch of 1,000
    leads.loc[1700, "lead_id"] = leads.loc[10, "lead_id"]  # a duplicate across batches
    bad = tmp_path / "leads.csv"
    leads.to_csv(bad, index=False)
    target = tmp_path / "scores.parquet"
    target.write_bytes(b"previous scores")
    result, _ = predict(trained, tmp_path, "scores.parquet", leads=bad, chunk_leads=1000)
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [
        f"leadscore: error: {bad}: column 'created_at' has 1 values that are not ISO dates, rows 1501 ('yesterday'); "
        "use YYYY-MM-DD[THH:MM:SS]"]
    assert target.read_bytes() == b"previous scores"

    leads.loc[1500, "created_at"] = leads.loc[1499, "created_at"]
    leads.to_csv(bad, index=False)
    result, _ = predict(trained, tmp_path, "scores.parquet", leads=bad, chunk_leads=1000)
    assert result.code == 2
    line = result.stderr.strip().splitlines()[-1]
    assert "column 'lead_id' must be unique" in line and "rows 11, 1701" in line, result.stderr
    assert target.read_bytes() == b"previous scores"


def test_warnings_of_many_batches_give_one_line_with_file_totals(trained: Trained, tmp_path: Path):
    events = pd.read_parquet(trained.data / "events.parquet")
    strays = pd.DataFrame({"lead_id": [f"ghost-{i}" for i in range(30)], "timestamp": events["timestamp"].iloc[:30].values,
                           "event_type": "page_view"})
    blank = events.sample(40, random_state=1).index
    events["event_type"] = events["event_type"].astype(object)
    events.loc[blank, "event_type"] = None
    path = tmp_path / "events.parquet"
    pd.concat([events, strays], ignore_index=True).to_parquet(path, row_group_size=20_000)
    result, _ = predict(trained, tmp_path, "scores.parquet", events=path, chunk_leads=1000)
    assert result.code == 0, result.stderr
    lines = result.stderr.splitlines()
    ghosts = [line for line in lines if "not in the leads file" in line]
    assert len(ghosts) == 1 and ": 30 events of 30 leads" in ghosts[0], result.stderr
    untyped = [line for line in lines if "without an event type" in line]
    assert len(untyped) == 1 and ": 40 events without" in untyped[0], result.stderr


def test_previous_scores_give_alerts_for_leads_that_newly_crossed(trained: Trained, whole: pd.DataFrame, tmp_path: Path):
    """Plumbing through the CLI, for whichever model is champion (which thresholds apply is unit-tested
    in tests/models/test_alerts.py): only leads that changed or are new can alert."""
    previous = whole.copy()
    top = previous.sort_values("score", ascending=False).index[:20]
    previous.loc[top, ["grade", "score"]] = ["D", 0]                       # cold at the previous scoring
    dropped = previous.drop(top).sort_values("score", ascending=False).index[:10]
    previous = previous.drop(dropped)                                       # not scored last time
    prev_path = tmp_path / "yesterday.csv"
    previous.to_csv(prev_path, index=False)
    result, out = predict(trained, tmp_path, "scores.parquet", "--previous", str(prev_path), chunk_leads=1000)
    assert result.code == 0, result.stderr
    summary = result.json()
    alerts_path = tmp_path / "scores.alerts.parquet"
    alerts = pd.read_parquet(alerts_path)
    assert summary["alerts"] == len(alerts) and summary["alerts_output"] == str(alerts_path)
    assert list(alerts.columns) == ALERT_COLUMNS
    changed, new = set(whole.loc[top, "lead_id"]), set(whole.loc[dropped, "lead_id"])
    assert set(alerts["lead_id"]) <= changed | new
    assert len(set(alerts["lead_id"]) & changed) >= 10     # the 20 best leads were all cold last time
    assert set(alerts.loc[alerts["new_lead"], "lead_id"]) <= new
    assert (alerts.loc[~alerts["new_lead"], "previous_score"] == 0).all()
    assert set(alerts["alert"]) <= {"hot", "mql"}
    reasons = json.loads(alerts["top_reasons"].iloc[0])
    assert reasons and {"feature", "label"} <= set(reasons[0])


def test_previous_file_without_scores_is_a_clear_error(trained: Trained, tmp_path: Path):
    bad = tmp_path / "yesterday.csv"
    pd.DataFrame({"lead_id": ["a"], "probability": [0.5]}).to_csv(bad, index=False)
    result, out = predict(trained, tmp_path, "scores.parquet", "--previous", str(bad))
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [
        f"leadscore: error: {bad}: missing required column 'score' "
        f"(--previous must be a scores file written by leadscore predict)"]
    assert not out.exists() and not (tmp_path / "scores.alerts.parquet").exists()
