"""The scheduled job through the CLI: gate decisions, skip when nothing changed, lock, manual
promote / rollback, and reproducible metrics and predictions."""
from __future__ import annotations

import subprocess
import time

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import CLI, run_cli, write_config


def cut_world(world, folder, until):
    """The sample world as it was known at `until` (an earlier nightly run)."""
    folder.mkdir()
    leads = pd.read_parquet(world / "leads.parquet")
    leads[leads["created_at"] < until].to_parquet(folder / "leads.parquet")
    events = pd.read_parquet(world / "events.parquet")
    events[events["timestamp"] < until].to_parquet(folder / "events.parquet")
    outcomes = pd.read_parquet(world / "outcomes.parquet")
    outcomes.loc[outcomes["converted_at"] >= until, "converted_at"] = pd.NaT
    outcomes[outcomes["lead_id"].isin(leads[leads["created_at"] < until]["lead_id"])].to_parquet(folder / "outcomes.parquet")
    return folder


@pytest.fixture(scope="module")
def registry(world, tmp_path_factory):
    """Night 1 on data up to 2026-05-01, night 2 on the full (later) world: a drifting world."""
    root = tmp_path_factory.mktemp("retrain")
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
    config = write_config(root)
    early = cut_world(world, root / "early", pd.Timestamp("2026-05-01"))
    first = run_cli("retrain", "--config", str(config), "--data", str(early), "--json", cwd=root, env=env)
    assert first.code == 0, first.stderr
    second = run_cli("retrain", "--config", str(config), "--data", str(world), "--json", cwd=root, env=env)
    assert second.code == 0, second.stderr
    return {"root": root, "env": env, "config": config, "first": first.json(), "second": second.json()}


def client(registry):
    uri = registry["env"]["MLFLOW_TRACKING_URI"]
    return MlflowClient(tracking_uri=uri, registry_uri=uri)  # never the process-global registry


def champion(registry):
    return str(client(registry).get_model_version_by_alias("lead-scorer", "champion").version)


def test_first_model_becomes_champion_and_second_night_is_judged_on_the_latest_period(registry):
    first, second = registry["first"], registry["second"]
    assert first["decision"] == "promoted" and first["champion_version"] is None, first["reasons"]
    assert second["champion_version"] == first["challenger_version"]
    assert second["champion_metrics"], "the champion must be re-scored on the new test period"
    ours, theirs = second["challenger_metrics"]["test_roc_auc"], second["champion_metrics"]["roc_auc"]
    assert second["decision"] == ("promoted" if ours > theirs else "kept")
    assert champion(registry) == (second["challenger_version"] if ours > theirs else first["challenger_version"])
    version = client(registry).get_model_version("lead-scorer", second["challenger_version"])
    assert version.tags["gate.decision"] == second["decision"]


def test_unchanged_data_config_and_code_skip_and_force_retrains(registry, world):
    again = run_cli("retrain", "--config", str(registry["config"]), "--data", str(world), "--json", cwd=registry["root"],
                    env=registry["env"])
    assert again.code == 0, again.stderr
    assert again.json()["decision"] == "skipped"


def test_crippled_config_is_registered_but_not_promoted(registry, world):
    before = champion(registry)
    folder = registry["root"] / "crippled"
    folder.mkdir()
    blind = ["status", "owner", "job_title", "industry", "employees", "annual_revenue", "country", "lead_source",
             "budget", "authority", "need", "timeline", "company_domain"]
    crippled = write_config(folder, {"features": {"use_events": False}, "data": {"exclude_columns": blind}})
    result = run_cli("retrain", "--config", str(crippled), "--data", str(world), "--json", cwd=registry["root"],
                     env=registry["env"])
    assert result.code == 0, result.stderr
    summary = result.json()
    assert summary["decision"] == "kept", summary["reasons"]
    assert champion(registry) == before
    assert summary["challenger_version"] != before


def test_concurrent_retrain_is_refused_at_once(registry, world):
    env = {**__import__("os").environ, **registry["env"]}
    slow = subprocess.Popen([*CLI, "retrain", "--force", "--quiet", "--config", str(registry["config"]),
                             "--data", str(world)],
                            cwd=registry["root"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(6)  # the first run has taken the lock (imports take ~3 s)
        start = time.monotonic()
        second = run_cli("retrain", "--force", "--config", str(registry["config"]), "--data", str(world),
                         cwd=registry["root"], env=registry["env"])
        assert second.code == 3, second.stderr
        assert "another retrain is running" in second.stderr
        assert time.monotonic() - start < 30
    finally:
        slow.kill()
        slow.wait()
    assert champion(registry)  # killed mid-way: the registry still answers


def test_manual_promote_and_rollback(registry):
    before = champion(registry)
    first, second = registry["first"]["challenger_version"], registry["second"]["challenger_version"]
    other = first if before != first else second
    moved = run_cli("promote", "--version", other, "--config", str(registry["config"]), "--json", cwd=registry["root"],
                    env=registry["env"])
    assert moved.code == 0, moved.stderr
    assert champion(registry) == other
    back = run_cli("rollback", "--config", str(registry["config"]), "--json", cwd=registry["root"], env=registry["env"])
    assert back.code == 0, back.stderr
    assert champion(registry) == before
    missing = run_cli("promote", "--version", "999", "--config", str(registry["config"]), cwd=registry["root"],
                      env=registry["env"])
    assert missing.code == 2 and "no such registered version" in missing.stderr


def test_same_data_config_and_seed_give_identical_metrics_and_predictions(tmp_path, world):
    outs = []
    for i in range(2):
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        env = {"MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"}
        config = write_config(folder)
        trained = run_cli("train", "--config", str(config), "--data", str(world), "--json", cwd=folder, env=env)
        assert trained.code == 0, trained.stderr
        scores = folder / "s.parquet"
        predicted = run_cli("predict", "--leads", str(world / "leads.parquet"), "--events", str(world / "events.parquet"),
                            "--as-of", "2026-06-01", "--output", str(scores),
                            "--model-uri", "models:/lead-scorer@challenger", "--config", str(config), cwd=folder, env=env)
        assert predicted.code == 0, predicted.stderr
        outs.append((trained.json()["models"], pd.read_parquet(scores).drop(columns=["scored_at"])))
    assert outs[0][0] == outs[1][0]
    pd.testing.assert_frame_equal(outs[0][1], outs[1][1])
