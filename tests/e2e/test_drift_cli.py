"""Drift through the real CLI: the session's trained registry (its champion holds the drift reference
fitted at training), then `leadscore predict` on the same world with every pricing-page visit removed.
The drift report beside the output must show the pricing features shifted and the profile features
stable, stderr must carry one drift warning naming them, and the batch run in MLflow must hold the
drift metrics and both reports.

Needs the batch core (pipeline/scoring/batch.py, both engines) to feed each part to
pipeline.scoring.drift.BatchDrift and to call write_drift_reports / warn_drift / drift_metrics."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from mlflow.tracking import MlflowClient

from tests.conftest import REPO, Trained, run_cli

SHIFTED = "n_pricing_page_view_all"
UNCHANGED = ("industry", "country", "title_seniority", "email_domain_type", "employees")


def _all_artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> list[str]:
    out = []
    for item in client.list_artifacts(run_id, path):
        out += _all_artifacts(client, run_id, item.path) if item.is_dir else [item.path]
    return out


def test_predict_on_shifted_events_reports_and_warns_drift(trained: Trained, tmp_path: Path):
    events = pd.read_parquet(trained.data / "events.parquet")
    assert (events["event_type"] == "pricing_page_view").mean() > 0.05  # the world has pricing visits to remove
    shifted = events[events["event_type"] != "pricing_page_view"]
    shifted.to_parquet(tmp_path / "events.parquet", index=False)
    as_of = str(events["timestamp"].max().ceil("D").date())
    output = tmp_path / "scores.parquet"
    result = run_cli("predict", "--leads", str(trained.data / "leads.parquet"), "--events", str(tmp_path / "events.parquet"),
                     "--as-of", as_of, "--output", str(output), "--config", str(REPO / "configs/default.yaml"), "--quiet",
                     cwd=trained.workdir, env=trained.env)
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr

    report_json, report_html = tmp_path / "scores.drift.json", tmp_path / "scores.drift.html"
    assert report_json.is_file() and report_html.is_file(), sorted(p.name for p in tmp_path.iterdir())
    data = json.loads(report_json.read_text())
    psi = {f["name"]: f["psi"] for f in data["features"]}
    assert data["rows"] == len(pd.read_parquet(output))
    assert psi[SHIFTED] > 1.0, psi[SHIFTED]  # reference: about 40% of open leads had visited; now none
    assert SHIFTED in data["features_drifted"]
    for name in UNCHANGED:
        assert psi[name] < 0.1, (name, psi[name])
    pricing = next(f for f in data["features"] if f["name"] == SHIFTED)
    zero = next(b for b in pricing["bins"] if b["bin"] == "= 0")
    assert zero["batch"] == 1.0 and zero["reference"] < 0.8
    assert "Data drift report" in report_html.read_text() and SHIFTED in report_html.read_text()

    warnings = [line for line in result.stderr.splitlines() if "drift above PSI" in line]
    assert len(warnings) == 1, result.stderr
    assert SHIFTED in warnings[0] and "score PSI" in warnings[0]

    client = MlflowClient(tracking_uri=trained.uri, registry_uri=trained.uri)
    exp = client.get_experiment_by_name("lead-scoring-batch")
    runs = [r for r in client.search_runs([exp.experiment_id])
            if abs(r.data.metrics.get("psi_max", -1) - data["psi_max"]) < 1e-6]
    assert len(runs) == 1, "the batch run should log drift_metrics(result), e.g. psi_max"
    metrics = runs[0].data.metrics
    assert metrics[f"psi.{SHIFTED}"] > 1.0 and metrics["features_drifted"] >= 1 and "psi_score" in metrics
    names = [Path(p).name for p in _all_artifacts(client, runs[0].info.run_id)]
    assert "scores.drift.json" in names and "scores.drift.html" in names
