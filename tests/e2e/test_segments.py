"""Several models per segment through the real CLI: `train` with configs/examples/segments.yaml (with the
fast model settings) registers one model per segment with enough data, falls back for the tiny one, reports
segment vs global on the same test rows; `predict` routes each lead; overlapping segments exit 2."""
from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.conftest import FAST, REPO, run_cli

OWN = ("north_america", "europe")  # enough data on the 2,000-lead world
TINY = "singapore"  # 4% of the leads: falls back to the global model


def _config(folder: Path, segments: dict | None = None) -> Path:
    """configs/examples/segments.yaml with the fast model settings (and other segments when given)."""
    cfg = yaml.safe_load((REPO / "configs/examples/segments.yaml").read_text())
    for section, values in FAST.items():
        for key, value in values.items():
            current = cfg.setdefault(section, {}).get(key, {})
            cfg[section][key] = {**current, **value} if isinstance(value, dict) else value
    cfg["models"]["points"]["rules"] = str(REPO / "configs/scoring_rules.yaml")
    # own models are kept whatever their validation AUC, so routing is exercised on this small world
    # (keep_if_better's rule is unit-tested in tests/pipeline/test_segments.py)
    cfg["segments"]["keep_if_better"] = False
    if segments is not None:
        cfg["segments"] = segments
    path = folder / "segments.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@contextlib.contextmanager
def store(uri: str) -> Iterator[None]:
    """MLflow's process-global tracking and registry URIs (and the env var subprocesses inherit) pointed at
    URI for the block, then put back: other test files in this worker use their own stores."""
    saved = (mlflow.get_tracking_uri(), mlflow.get_registry_uri(), os.environ.get("MLFLOW_TRACKING_URI"))
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(saved[0])
        mlflow.set_registry_uri(saved[1])
        if saved[2] is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved[2]


@pytest.fixture(scope="module")
def segmented(world: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    workdir = tmp_path_factory.mktemp("segments")
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    env = {"MLFLOW_TRACKING_URI": uri}
    train = run_cli("train", "--data", str(world), "--json", "--config", str(_config(workdir)), cwd=workdir, env=env)
    assert train.code == 0, train.stderr
    scores = workdir / "scores.parquet"
    predict = run_cli("predict", "--leads", str(world / "leads.parquet"), "--events", str(world / "events.parquet"),
                      "--output", str(scores), "--model-uri", "models:/lead-scorer@challenger", "--quiet",
                      cwd=workdir, env=env)
    assert predict.code == 0, predict.stderr
    return {"workdir": workdir, "uri": uri, "env": env, "summary": train.json(), "scores": pd.read_parquet(scores)}


def test_train_reports_each_segment_against_the_global_model_on_the_same_test_rows(segmented) -> None:
    rows = {r["segment"]: r for r in segmented["summary"]["segments"]}
    assert list(rows) == [*OWN, TINY, "all (routed)"]
    for name in OWN:
        assert rows[name]["model"] == "own" and rows[name]["fallback"] == ""
        assert rows[name]["test_conversions"] > 0
        for metric in ("roc_auc", "pr_auc", "log_loss", "val_roc_auc"):
            assert 0 < rows[name][f"segment_{metric}"] < 1 and 0 < rows[name][f"global_{metric}"] < 1
        assert rows[name]["segment_roc_auc"] != rows[name]["global_roc_auc"]  # two models, not one
    assert rows[TINY]["model"] == "global" and rows[TINY]["segment_roc_auc"] is None
    assert rows[TINY]["fallback"].startswith("too few")
    # the segments' test rows are the global test rows of their countries: they add up to at most all of them
    assert sum(rows[n]["test_rows"] for n in (*OWN, TINY)) < rows["all (routed)"]["test_rows"]
    assert rows["all (routed)"]["global_roc_auc"] == pytest.approx(segmented["summary"]["models"][
        segmented["summary"]["best"]]["roc_auc"])


def test_registry_and_runs_hold_one_model_per_segment_and_the_fallback_reason(segmented) -> None:
    client = MlflowClient(tracking_uri=segmented["uri"], registry_uri=segmented["uri"])
    names = {m.name for m in client.search_registered_models()}
    assert names == {"lead-scorer", *(f"lead-scorer-segment-{n}" for n in OWN)}
    for name in OWN:
        version = client.get_model_version_by_alias(f"lead-scorer-segment-{name}", "challenger")
        assert version.tags["segment"] == name
    main = client.get_model_version_by_alias("lead-scorer", "challenger")
    listed = {s["segment"]: s for s in json.loads(main.tags["segments"])}
    assert set(listed) == {*OWN, TINY} and listed[TINY]["model"] == "global"
    exp = client.get_experiment_by_name("lead-scoring")
    runs = {r.info.run_name: r for r in client.search_runs([exp.experiment_id])}
    assert runs[f"segment-{TINY}"].data.tags["segment.fallback"].startswith("too few")
    assert runs["segment-europe"].data.tags["segment"] == "europe"
    parent = next(r for r in runs.values() if "mlflow.parentRunId" not in r.data.tags)
    assert "segment.europe.segment_roc_auc" in parent.data.metrics and "segment.europe.global_roc_auc" in parent.data.metrics
    with store(segmented["uri"]):
        report = mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/report.html")
    assert "Segments: own model vs global model on the same test rows" in report and "north_america" in report


def test_predict_routes_each_lead_to_its_segments_model(segmented, world: Path) -> None:
    scores, env, workdir = segmented["scores"], segmented["env"], segmented["workdir"]
    leads = pd.read_parquet(world / "leads.parquet")[["lead_id", "country"]]
    merged = scores.merge(leads, on="lead_id")
    assert len(merged) == len(scores)
    na = merged["country"].isin(["United States", "Canada"]).to_numpy()
    assert merged.loc[na, "model_name"].str.endswith("@north_america").all()
    assert merged.loc[merged["country"] == "Germany", "model_name"].str.endswith("@europe").all()
    assert not merged.loc[merged["country"].isin(["Singapore", "India"]), "model_name"].str.contains("@").any()
    # the probability of a North American lead is what the segment's registered model gives on its features
    features = workdir / "features.parquet"
    as_of = str(pd.Timestamp(scores["as_of"].iloc[0]))
    segment_uri = "models:/lead-scorer-segment-north_america@challenger"
    made = run_cli("features", "--leads", str(world / "leads.parquet"), "--events", str(world / "events.parquet"),
                   "--as-of", as_of, "--output", str(features), "--model-uri", segment_uri, "--quiet", cwd=workdir, env=env)
    assert made.code == 0, made.stderr
    table = pd.read_parquet(features)
    ids = set(merged.loc[na, "lead_id"])
    table = table[table["lead_id"].isin(ids)].reset_index(drop=True)
    with store(segmented["uri"]):
        own = mlflow.pyfunc.load_model(segment_uri).predict(table, params={"explain": False})
    expected = own.set_index("lead_id")["probability"]
    got = merged.set_index("lead_id").loc[expected.index, "probability"]
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-9)


@pytest.mark.parametrize("segments, message", [
    ({"define": [{"name": "us", "column": "country", "values": ["United States"]},
                 {"name": "software", "column": "industry", "values": ["Software"]}]},
     r"segments 'us' and 'software' overlap: training lead \S+ \(country=United States, industry=Software\) is in both"),
    ({"define": [{"name": "us", "column": "country", "values": ["United States"]},
                 {"name": "americas", "column": "country", "values": ["Canada", "united states"]}]},
     r"segments 'us' and 'americas' overlap: country 'united states' is in both"),
])
def test_bad_segments_exit_2_with_one_line(world: Path, tmp_path: Path, segments: dict, message: str) -> None:
    result = run_cli("train", "--data", str(world), "--config", str(_config(tmp_path, segments)), "--quiet",
                     cwd=tmp_path, env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"})
    assert result.code == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("leadscore: error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert re.search(message, errors[0]), errors[0]
