"""`leadscore backtest --at T` through the real CLI and MLflow store (SPEC 3, issue 4 item 7): train with
what was known at T, score the leads open at T, evaluate on the horizon after T, with the oracle row."""
from __future__ import annotations

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from tests.conftest import run_cli, write_config

AT = pd.Timestamp("2026-03-25")


def open_at(world, at: pd.Timestamp, horizon_days: int = 90, max_age_days: int = 180) -> pd.DataFrame:
    """Leads open at `at` (created before it, at most 180 days old, not converted yet) and their label."""
    leads = pd.read_parquet(world / "leads.parquet").merge(pd.read_parquet(world / "outcomes.parquet"), on="lead_id")
    open_ = leads[(leads["created_at"] < at) & (leads["created_at"] >= at - pd.Timedelta(days=max_age_days))
                  & (leads["converted_at"].isna() | (leads["converted_at"] >= at))]
    label = open_["converted_at"].notna() & (open_["converted_at"] < at + pd.Timedelta(days=horizon_days))
    return open_.assign(label=label)


def test_backtest_scores_every_model_and_the_oracle_on_the_leads_open_at_t(world, tmp_path) -> None:
    fast_models = {"points": {"enabled": True}, "points_suggested": {"enabled": False},
                   "logreg": {"C": 0.1}, "lightgbm": {"search_budget": 1}}
    config = write_config(tmp_path, {"models": fast_models})
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = run_cli("backtest", "--at", str(AT.date()), "--truth", str(world / "truth.parquet"), "--data", str(world),
                     "--config", str(config), "--json", "--quiet", cwd=tmp_path, env={"MLFLOW_TRACKING_URI": uri})
    assert result.code == 0, result.stderr
    summary = result.json()
    expected = open_at(world, AT)
    assert summary["open_leads"] == len(expected) > 300
    assert summary["conversions"] == int(expected["label"].sum()) > 5
    models = summary["models"]
    assert set(models) == {"points", "logreg", "lightgbm", "oracle"}
    for name, metrics in models.items():
        assert 0.5 < metrics["roc_auc"] <= 1.0 and 0.0 <= metrics["ece"] < 0.2, (name, metrics)
    # the oracle knows the generator's hidden state: no model trained on observable data beats it by much
    assert models["oracle"]["roc_auc"] > max(m["roc_auc"] for n, m in models.items() if n != "oracle") - 0.02
    # the same numbers are in the MLflow store, one nested run per model under the backtest run
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("lead-scoring")
    runs = client.search_runs([experiment.experiment_id], "tags.kind = 'backtest'")
    assert len(runs) == 1 and runs[0].data.tags["at"].startswith(str(AT.date()))
    children = client.search_runs([experiment.experiment_id], f"tags.mlflow.parentRunId = '{runs[0].info.run_id}'")
    logged = {r.data.tags["model_name"]: r.data.metrics for r in children if "backtest_roc_auc" in r.data.metrics}
    assert set(logged) == set(models)
    for name, metrics in models.items():
        assert np.isclose(logged[name]["backtest_roc_auc"], metrics["roc_auc"]), name


def test_backtest_without_the_outcomes_after_t_is_refused(world, tmp_path) -> None:
    result = run_cli("backtest", "--at", "2026-05-01", "--data", str(world), "--config", str(write_config(tmp_path)),
                     cwd=tmp_path, env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"})
    assert result.code == 2, result.stderr
    assert "needs outcomes until 2026-07-30" in result.stderr and "Traceback" not in result.stderr
