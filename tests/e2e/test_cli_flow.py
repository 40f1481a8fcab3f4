"""End to end through the real CLI: generate -> retrain -> predict, checked in files and in MLflow."""
from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import Trained, run_cli, write_config

METRICS = ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_at_10", "ks")
SCORE_COLUMNS = ["lead_id", "as_of", "probability", "score", "grade", "fit_score", "engagement_score",
                 "matrix_grade", "top_reasons", "reason_1", "reason_2", "reason_3", "model_name", "model_version",
                 "scored_at"]


def test_generate_writes_the_four_tables(world):
    for name, cols in {"leads": ["lead_id", "created_at", "email", "job_title"],
                       "events": ["lead_id", "timestamp", "event_type", "channel", "value"],
                       "outcomes": ["lead_id", "converted_at"],
                       "truth": ["lead_id", "as_of", "p_true", "is_junk"]}.items():
        frame = pd.read_parquet(world / f"{name}.parquet")
        assert list(frame.columns[: len(cols)]) == cols if name != "leads" else set(cols) <= set(frame.columns)
        assert len(frame) > 0
    assert len(pd.read_parquet(world / "leads.parquet")) == 2000


def test_train_summary_has_every_model_and_metric(trained: Trained):
    models = trained.summary["models"]
    assert set(models) == {"points", "points_suggested", "logreg", "lightgbm"}
    for name, metrics in models.items():
        assert set(METRICS) <= set(metrics), name
        assert 0.55 < metrics["roc_auc"] < 0.99, f"{name} AUC {metrics['roc_auc']} looks broken or leaky"
        assert 0 <= metrics["ece"] < 0.1
    assert trained.summary["decision"] == "promoted"


def test_mlflow_layout_parent_and_child_runs(trained: Trained):
    mlflow.set_tracking_uri(trained.uri)
    client = MlflowClient(trained.uri)
    exp = client.get_experiment_by_name("lead-scoring")
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(parents) == 1
    assert {r.info.run_name for r in children} == {"points", "points_suggested", "logreg", "lightgbm"}
    for child in children:
        for prefix in ("val_", "test_"):
            assert {prefix + m for m in METRICS} <= set(child.data.metrics)
        artifacts = {a.path for a in client.list_artifacts(child.info.run_id, "plots")}
        assert {"plots/roc.png", "plots/pr.png", "plots/calibration.png", "plots/cumulative_gains.png",
                "plots/score_histogram.png", "plots/shap_summary.png"} <= artifacts
        grades = {a.path for a in client.list_artifacts(child.info.run_id, "grades")}
        assert "grades/grade_table_test.csv" in grades
    parent = parents[0]
    assert parent.data.params["training.horizon_days"] == "90"
    # attribute insights: per profile value, conversion vs overall, logged with the session and in its report
    insights = pd.read_csv(client.download_artifacts(parent.info.run_id, "insights/attribute_insights.csv"))
    assert {"industry", "lead_source", "title_seniority"} <= set(insights["column"]) and (insights["support"] >= 30).all()
    assert "account_id" not in set(insights["column"]) and insights["lift"].max() > 1.5
    report = open(client.download_artifacts(parent.info.run_id, "report.html"), encoding="utf-8").read()
    assert "attribute by attribute" in report
    assert parent.inputs.dataset_inputs, "datasets should be logged with mlflow.log_input"


def test_registry_aliases_point_at_the_best_model(trained: Trained):
    client = MlflowClient(tracking_uri=trained.uri, registry_uri=trained.uri)
    champion = client.get_model_version_by_alias("lead-scorer", "champion")
    challenger = client.get_model_version_by_alias("lead-scorer", "challenger")
    assert champion.version == challenger.version
    assert champion.tags["model_name"] == trained.summary["best"]
    assert champion.tags["gate.decision"] == "promoted"
    assert {"data_fingerprint", "config_hash", "code_version", "test_roc_auc"} <= set(champion.tags)


@pytest.fixture(scope="module")
def scores(trained: Trained) -> pd.DataFrame:
    out = trained.workdir / "scores.parquet"
    result = run_cli("predict", "--leads", str(trained.data / "leads.parquet"), "--events",
                     str(trained.data / "events.parquet"), "--as-of", "2026-06-01", "--output", str(out),
                     "--json", cwd=trained.workdir, env=trained.env)
    assert result.code == 0, result.stderr
    assert result.json()["rows"] == len(pd.read_parquet(out))
    return pd.read_parquet(out)


def test_predict_outputs_spec_columns_and_ranges(scores: pd.DataFrame, trained: Trained):
    assert list(scores.columns) == SCORE_COLUMNS
    leads = pd.read_parquet(trained.data / "leads.parquet")
    assert set(scores["lead_id"]) == set(leads.loc[leads["created_at"] < "2026-06-01", "lead_id"])
    assert scores["probability"].between(0, 1).all()
    assert pd.api.types.is_integer_dtype(scores["score"]) and scores["score"].between(0, 100).all()
    assert set(scores["grade"]) <= set("ABCD") and scores["grade"].nunique() == 4
    assert (scores["as_of"] == pd.Timestamp("2026-06-01")).all()
    assert (scores["model_version"] == trained.summary["version"]).all()
    # higher score never means lower probability
    ordered = scores.sort_values("score")
    by_score = ordered.groupby("score")["probability"].min()
    assert ordered["probability"].is_monotonic_increasing or by_score.is_monotonic_increasing


def test_predict_reasons_are_readable_and_add_up(scores: pd.DataFrame):
    reasons = scores["top_reasons"].map(json.loads)
    assert (reasons.map(len) > 0).all()
    first = reasons.iloc[0][0]
    assert set(first) == {"feature", "label", "value", "contribution"}
    labels = [r["label"] for rs in reasons for r in rs]
    assert all(isinstance(text, str) and len(text) > 5 and "{" not in text for text in labels)
    for rs in reasons.head(200):
        pos = [r["contribution"] for r in rs if r["contribution"] > 0]
        assert pos == sorted(pos, reverse=True)


def test_personal_data_never_reaches_the_tracking_store(trained: Trained, scores: pd.DataFrame):
    leads = pd.read_parquet(trained.data / "leads.parquet")
    emails = leads["email"].dropna()
    phones = leads["phone"].dropna().astype(str)
    phones = phones[phones.str.replace(r"\D", "", regex=True).str.len() >= 9]  # short junk like '123' matches anything
    needles = set(emails.sample(100, random_state=0)) | set(phones.sample(100, random_state=0))
    needles |= set(leads["last_name"].dropna().loc[lambda s: s.str.len() >= 9].head(20))
    blobs = [p for p in trained.workdir.rglob("*") if p.is_file() and p.suffix not in {".parquet"}]
    assert blobs
    for path in blobs:
        text = path.read_bytes().decode("utf-8", errors="ignore")
        found = [n for n in needles if n in text]
        assert not found, f"personal data {found[:2]} in {path}"


def test_demo_runs_end_to_end(tmp_path):
    # the default config's search is exercised by the `trained` fixture; the demo test checks the flow
    result = run_cli("demo", "--workdir", str(tmp_path / "demo"), "--leads", "2000", "--config",
                     str(write_config(tmp_path, {"models": {"lightgbm": {"search_budget": 2}}})), cwd=tmp_path)
    assert result.code == 0, result.stderr
    # issue 13: a line per model step and search trial, none of MLflow's own lines
    assert "  logreg: fitting on the training period" in result.stderr
    assert "  lightgbm search 1/2: validation ROC AUC" in result.stderr and "  lightgbm search 2/2" in result.stderr
    for noise in ("Successfully registered model", "Created version", "alembic", "INFO mlflow", "WARNING mlflow"):
        assert noise not in result.stderr + result.stdout, noise
    scores = pd.read_parquet(tmp_path / "demo" / "scores.parquet")
    assert list(scores.columns) == SCORE_COLUMNS
    assert "mlflow ui --backend-store-uri sqlite:///" in result.stdout
    assert "Hottest leads" in result.stdout
    assert (tmp_path / "demo" / "mlflow.db").exists()
    uri = f"sqlite:///{tmp_path / 'demo' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert str(client.get_model_version_by_alias("lead-scorer", "champion").version) == "1"
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    try:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        model = mlflow.pyfunc.load_model("models:/lead-scorer@champion")
        assert model.metadata.run_id
    finally:  # process-global settings: later tests must not read this registry
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])


def test_session_report_and_compare_show_the_logged_models(trained: Trained, tmp_path):
    """SPEC 3 `compare` and issue 4's HTML report: both read what the training session logged."""
    client = MlflowClient(trained.uri)
    exp = client.get_experiment_by_name("lead-scoring")
    runs = client.search_runs([exp.experiment_id])
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    children = {r.info.run_name: r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id}
    html = open(client.download_artifacts(parent.info.run_id, "report.html", str(tmp_path))).read()
    assert html.startswith("<!doctype html>") and "Models on the test period" in html
    assert f"<b>{trained.summary['best']}</b>" in html and html.count("data:image/png;base64,") >= 2
    for name, child in children.items():
        assert name in html
        assert f"{child.data.metrics['test_roc_auc']:.3f}" in html, name
    assert "conversion" in html.lower()  # the grade table of the chosen model

    result = run_cli("compare", "--json", cwd=trained.workdir, env=trained.env)
    assert result.code == 0, result.stderr
    rows = result.json()["runs"]
    assert {r["model"] for r in rows} == set(children)
    for row in rows:
        assert row["session"] == parent.info.run_name
        assert row["roc_auc"] == round(children[row["model"]].data.metrics["test_roc_auc"], 4)
    best = [r for r in rows if r["registered"]]
    assert [r["model"] for r in best] == [trained.summary["best"]]
