"""Data shaped like real CRM exports (issue 12), through the CLI: a short dated history whose conversions all
come late, and a static export with no id column, no events file, day-first dates and open leads to score."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import REPO, run_cli, write_config


@pytest.fixture(scope="module")
def short_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six months of history: the CRM started from no leads, every conversion falls in those months."""
    root = tmp_path_factory.mktemp("short")
    result = run_cli("generate", "--out", str(root / "data"), "--leads", "4000", "--seed", "3", "--days", "183",
                     "--quiet", cwd=root)
    assert result.code == 0, result.stderr
    return root / "data"


def test_short_history_trains_and_backtests_with_the_default_config(short_world: Path, tmp_path: Path) -> None:
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    default = str(REPO / "configs/default.yaml")
    trained = run_cli("train", "--data", str(short_world), "--json", "--config", default, cwd=tmp_path, env=env)
    assert trained.code == 0, trained.stderr
    summary = trained.json()
    readiness = summary["readiness"]
    assert readiness["verdict"] == "usable with caution"
    assert 5.5 <= readiness["history_months"] <= 6.5
    assert any("shares" in note for note in readiness["notes"])
    parts = readiness["parts"]
    assert parts["train"]["conversions"] >= 40 and parts["test"]["conversions"] > 0 and parts["recent"]["rows"] > 0
    # training labels are read when validation starts: no horizon-long embargo before it
    assert summary["rows"]["train"]["rows"] > 0
    assert pd.Timestamp(parts["val"]["from"]) - pd.Timestamp(parts["train"]["to"]) <= pd.Timedelta(days=14)
    assert summary["models"]["lightgbm"]["roc_auc"] > 0.7
    _check_refit_version(env["MLFLOW_TRACKING_URI"], summary["version"])
    end = pd.read_parquet(short_world / "leads.parquet")["created_at"].max()
    at = (end - pd.DateOffset(months=4)).normalize()
    bt = run_cli("backtest", "--at", str(at.date()), "--data", str(short_world), "--json", "--config", default,
                 cwd=tmp_path, env=env)
    assert bt.code == 0, bt.stderr
    result = bt.json()
    assert result["readiness"]["history_months"] < 2.5
    assert any("not complete" in note for note in result["readiness"]["notes"])
    assert result["models"]["lightgbm"]["roc_auc"] > 0.7 and result["models"]["logreg"]["roc_auc"] > 0.7


def _check_refit_version(uri: str, number: str) -> None:
    """The registered version is the refit (final_model), tagged with the evaluated model's URI."""
    import mlflow
    from mlflow.tracking import MlflowClient

    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)  # an earlier test may have pointed the process-global registry elsewhere
    try:
        version = MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version("lead-scorer", number)
        assert version.tags["refit"] == "true"
        assert version.tags["evaluated_model_uri"] != version.source
        final = mlflow.pyfunc.load_model(f"models:/lead-scorer/{version.version}").unwrap_python_model().scorer
        evaluated = mlflow.pyfunc.load_model(version.tags["evaluated_model_uri"]).unwrap_python_model().scorer
        assert final.model.params()["refit"] is True and final.model.refit_rows > 0
        assert "refit" not in evaluated.model.params()
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])


def _static_export(n: int, seed: int) -> pd.DataFrame:
    """A static export as CRMs write it: no id column, day-first creation dates, a label column."""
    rng = np.random.default_rng(seed)
    source = rng.choice(["Google", "Referral", "Webinar", "Direct"], n, p=[.4, .2, .2, .2])
    size = rng.choice(["1-10", "11-50", "51-200", "201-1000"], n)
    pages = rng.poisson(4, n)
    logit = -1.2 + 1.3 * (source == "Referral") + 0.9 * (source == "Webinar") + 0.15 * pages
    created = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 360, n), unit="D")
    return pd.DataFrame({
        "Created": created.strftime("%d-%m-%Y"),  # 31-01-2018: day-first, several days above 12
        "Lead Source": source, "Company Size": size, "Page Views": pages,
        "Converted": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
    })


def test_static_export_without_ids_or_events_trains_and_scores_open_leads(tmp_path: Path) -> None:
    export = _static_export(1500, 0)
    export.to_csv(tmp_path / "export.csv", index=False)
    open_leads = _static_export(40, 1).drop(columns=["Converted"])  # leads being scored have no outcome yet
    open_leads.to_csv(tmp_path / "open.csv", index=False)
    half_empty = _static_export(40, 2).astype({"Converted": object})
    half_empty.loc[::2, "Converted"] = None  # a label column that is empty for the open leads
    half_empty.to_csv(tmp_path / "mixed.csv", index=False)
    config = write_config(tmp_path, {"data": {"mode": "static", "path": None, "events": None,
                                              "lead_columns": {"lead_id": "Lead ID", "created_at": "Created",
                                                               "label": "Converted", "lead_source": "Lead Source"}}})
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    train = run_cli("train", "--data", str(tmp_path / "export.csv"), "--json", "--config", str(config), cwd=tmp_path,
                    env=env)
    assert train.code == 0, train.stderr
    assert train.stderr.count("no id column 'Lead ID'") == 1
    assert "read as day-first dates" in train.stderr
    assert train.json()["readiness"]["verdict"] in ("ready", "usable with caution")
    promote = run_cli("promote", "--version", train.json()["version"], "--config", str(config), cwd=tmp_path, env=env)
    assert promote.code == 0, promote.stderr
    for name in ("open.csv", "mixed.csv"):
        out = tmp_path / f"scores-{name}.parquet"
        scored = run_cli("predict", "--leads", str(tmp_path / name), "--output", str(out), "--config", str(config),
                         cwd=tmp_path, env=env)
        assert scored.code == 0, scored.stderr
        scores = pd.read_parquet(out)
        assert sorted(scores["lead_id"]) == sorted(f"row-{i}" for i in range(1, 41))
        assert scores["probability"].between(0, 1).all()


def test_ambiguous_dates_are_refused_and_date_format_reads_them(tmp_path: Path) -> None:
    export = _static_export(300, 4)
    export["Created"] = pd.to_datetime(export["Created"], format="%d-%m-%Y").dt.strftime("%m/%d/%Y")
    export.loc[:, "Created"] = ["03/04/2018", "04/03/2018"] * 150  # every day <= 12: either reading is possible
    export.to_csv(tmp_path / "export.csv", index=False)
    base = {"mode": "static", "path": None, "events": None,
            "lead_columns": {"created_at": "Created", "label": "Converted", "lead_source": "Lead Source"}}
    config = write_config(tmp_path, {"data": base})
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    refused = run_cli("train", "--data", str(tmp_path / "export.csv"), "--config", str(config), cwd=tmp_path, env=env)
    assert refused.code == 2 and "Traceback" not in refused.stderr
    assert "read both day-first and month-first" in refused.stderr and "data.date_format" in refused.stderr
    from pipeline.config import load_config
    from pipeline.inputs.data import load_training_inputs

    cfg = yaml.safe_load(config.read_text())
    cfg["data"]["date_format"] = "%d/%m/%Y"
    config.write_text(yaml.safe_dump(cfg))
    leads = load_training_inputs(load_config(config), tmp_path / "export.csv").leads
    assert set(leads["created_at"].dt.strftime("%Y-%m-%d")) == {"2018-04-03", "2018-03-04"}


def test_outcomes_recorded_late_are_noticed_and_earlier_snapshots_dropped(world: Path, tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    """A CRM that recorded conversions only from its eighth month on: earlier label windows are all 'not
    converted', so the snapshots whose whole window ends before the first recorded conversion are not used."""
    from pipeline.config import load_config
    from pipeline.inputs.data import load_training_inputs
    from pipeline.inputs.examples import build_examples
    from pipeline.inputs.readiness import assess

    cfg = load_config(write_config(tmp_path))
    inputs = load_training_inputs(cfg, world)
    start = inputs.leads["created_at"].min()
    late = inputs.outcomes["converted_at"] < start.normalize() + pd.Timedelta(days=240)
    inputs.outcomes.loc[late, "converted_at"] = pd.NaT
    first = inputs.outcomes["converted_at"].min()
    with caplog.at_level("WARNING", logger="leadscore"):
        examples = build_examples(cfg, inputs, None)
    readiness = assess(cfg, inputs, examples)
    assert readiness["verdict"] == "usable with caution"
    assert any(f"no conversion recorded before {first.date()}" in note for note in readiness["notes"])
    train_from = pd.Timestamp(readiness["parts"]["train"]["from"])
    assert first - pd.Timedelta(days=97) <= train_from and train_from + pd.Timedelta(days=90) > first
    assert sum("no conversion is recorded before" in r.getMessage() for r in caplog.records) == 1
