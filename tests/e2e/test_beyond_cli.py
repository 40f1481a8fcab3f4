"""`leadscore predict --history DIR --format crm` on the sample world, twice a week apart: the accounts file,
the trend columns, the history partitions and the CRM file; the steps themselves are tested in
tests/pipeline/scoring/."""
from __future__ import annotations

import json

import pandas as pd
import pyarrow.dataset as ds
import pytest

from pipeline.scoring.history import PARTITIONING
from tests.conftest import Trained, run_cli

DATES = ("2026-06-16", "2026-06-23")


@pytest.fixture(scope="module")
def runs(trained: Trained, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("beyond")
    out = {}
    for day in DATES:
        result = run_cli("predict", "--leads", str(trained.data / "leads.parquet"), "--events",
                         str(trained.data / "events.parquet"), "--as-of", day,
                         "--output", str(folder / f"scores_{day}.parquet"),
                         "--history", str(folder / "history"), "--format", "crm", "--json", "--quiet",
                         cwd=trained.workdir, env=trained.env)
        assert result.code == 0, result.stderr
        out[day] = result.json()
    return {"folder": folder, "summaries": out}


def test_accounts_file_has_several_leads_per_account(runs: dict) -> None:
    accounts = pd.read_parquet(runs["folder"] / f"scores_{DATES[1]}.accounts.parquet")
    assert accounts["account"].str.startswith("ACC").all() and (accounts["leads"] >= 2).mean() > 0.4
    assert accounts["p_any"].is_monotonic_decreasing and set(accounts["account_grade"]) <= set("ABCD")
    assert all(isinstance(json.loads(t), list) for t in accounts["top_reasons"].head(50))
    assert runs["summaries"][DATES[1]]["accounts"] == len(accounts)


def test_the_second_date_has_trends_and_the_history_both_dates(runs: dict) -> None:
    first = pd.read_parquet(runs["folder"] / f"scores_{DATES[0]}.parquet")
    second = pd.read_parquet(runs["folder"] / f"scores_{DATES[1]}.parquet")
    assert first["trend"].eq("not enough history").all()
    assert {"improving", "steady", "declining"} <= set(second["trend"])
    both = second.merge(first[["lead_id", "score"]], on="lead_id", suffixes=("", "_before"))
    assert (both["score_change"] == both["score"] - both["score_before"]).all()
    history = ds.dataset(runs["folder"] / "history", format="parquet", partitioning=PARTITIONING).to_table().to_pandas()
    assert sorted(history["scored_date"].unique()) == list(DATES) and len(history) == len(first) + len(second)


def test_crm_file_is_flat(runs: dict) -> None:
    crm = pd.read_csv(runs["folder"] / f"scores_{DATES[1]}.crm.csv")
    assert list(crm.columns) == ["lead_id", "score", "grade", "probability", "trend", "reason_1", "reason_2",
                                 "reason_3", "scored_date"]
    assert len(crm) == runs["summaries"][DATES[1]]["rows"]
