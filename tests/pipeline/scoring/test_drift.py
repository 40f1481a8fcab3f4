"""Batch drift with a real (small) LeadScorer: the reference fitted from the model's own scores, chunked
counting, the JSON and HTML reports written atomically beside the scores, metrics and the warning line."""
from __future__ import annotations

import json
import logging
import pickle

import numpy as np
import pandas as pd
import pytest

from features.metadata import FeatureInfo
from models.calibration import Calibrator
from models.drift import DriftAccumulator
from models.estimators import LogRegModel
from models.grades import GradeScale
from models.scorer import LeadScorer
from pipeline.config import parse_config
from pipeline.errors import ConfigError, InputError
from pipeline.inputs.io import leftover_temp_files
from pipeline.scoring import drift as drift_module
from pipeline.scoring.drift import BatchDrift, drift_metrics, fit_reference, report_paths, warn_drift, write_drift_reports
from tests.models.conftest import CATEGORICAL, make_frame


def with_ids(X: pd.DataFrame, prefix: str) -> pd.DataFrame:
    ids = pd.DataFrame({"lead_id": [f"{prefix}{i:06d}" for i in range(len(X))], "as_of": pd.Timestamp("2026-03-02")})
    return pd.concat([ids, X.reset_index(drop=True)], axis=1)


@pytest.fixture(scope="module")
def scorer() -> LeadScorer:
    """A real logistic-regression LeadScorer (no feature builder needed to score a feature table)."""
    (X, y), (Xv, yv) = make_frame(2_000, 1), make_frame(1_000, 2)
    model = LogRegModel(CATEGORICAL, C=0.3).fit(X, y)
    margin = model.margin(Xv)
    info = {"visits": FeatureInfo("visits", "engagement", "Visited the site {value} times"),
            "industry": FeatureInfo("industry", "fit", "Industry: {value}", kind="categorical"),
            "revenue": FeatureInfo("revenue", "fit", "Annual revenue: {value:,}")}
    scorer = LeadScorer(model, Calibrator("sigmoid").fit(margin, yv), GradeScale.fit(margin, {"A": 0.1, "B": 0.2, "C": 0.3}),
                        builder=None, info=info)
    scorer.drift_reference = fit_reference(scorer, with_ids(Xv, "V"), period="validation period")
    return scorer


def batch(n: int, seed: int, shift: bool = False) -> pd.DataFrame:
    X, _ = make_frame(n, seed)
    if shift:  # many more visits, and a new industry the model never saw
        X["visits"] = X["visits"] * 3 + 2
        X.loc[X.index[: n // 3], "industry"] = "space"
    return with_ids(X, "B")


def run_batch(scorer: LeadScorer, table: pd.DataFrame, chunk: int = 400, warn_psi: float = 0.2):
    drift = BatchDrift(scorer, warn_psi=warn_psi)
    for start in range(0, len(table), chunk):
        part = table.iloc[start:start + chunk]
        drift.update(part, scorer.score(part, explain=False))
    return drift.finish()


def test_reference_holds_the_models_own_scores(scorer):
    ref = scorer.drift_reference
    Xv, _ = make_frame(1_000, 2)
    scores = scorer.score(with_ids(Xv, "V"), explain=False)["score"].to_numpy()
    expected = np.bincount(np.minimum(scores // 10, 9).astype(int), minlength=10)
    assert ref.score.counts[:10].tolist() == expected.tolist()
    assert ref.rows == 1_000 and ref.source.startswith("validation period, 1,000 lead snapshots from 2026-03-02")
    assert set(ref.features) == {"x1", "visits", "revenue", "industry", "source"}  # lead_id / as_of left out


def test_stable_batch_vs_shifted_batch(scorer):
    stable = run_batch(scorer, batch(3_000, 7))
    assert stable.rows == 3_000 and stable.drifted() == []
    assert stable.score.psi < 0.05
    shifted = run_batch(scorer, batch(3_000, 7, shift=True))
    assert [f.name for f in shifted.drifted()] == ["visits", "industry"]  # highest PSI first; the rest unchanged
    assert shifted.score.psi > 0.2  # more visits raise the scores


def test_chunk_size_does_not_change_the_result(scorer):
    table = batch(1_500, 8, shift=True)
    assert run_batch(scorer, table, chunk=150).to_dict() == run_batch(scorer, table, chunk=1_500).to_dict()


def test_model_without_reference_is_a_no_op_and_old_pickles_load(scorer):
    state = {k: v for k, v in scorer.__dict__.items() if k != "drift_reference"}
    old = LeadScorer.__new__(LeadScorer)
    old.__dict__.update(state)  # what an older pickle (before the field existed) restores
    old = pickle.loads(pickle.dumps(old))
    assert "drift_reference" not in old.__dict__ and old.drift_reference is None
    drift = BatchDrift(old)
    table = batch(200, 9)
    drift.update(table, old.score(table, explain=False))
    assert not drift.enabled and drift.finish() is None
    assert BatchDrift(object()).finish() is None  # anything without the attribute


def test_reports_are_written_beside_the_scores(scorer, tmp_path):
    result = run_batch(scorer, batch(2_000, 10, shift=True))
    output = tmp_path / "scores.parquet"
    paths = write_drift_reports(result, output)
    assert paths == [tmp_path / "scores.drift.json", tmp_path / "scores.drift.html"] == list(report_paths(output))
    assert leftover_temp_files(tmp_path) == []
    data = json.loads(paths[0].read_text())
    assert data["rows"] == 2_000 and data["reference_rows"] == 1_000 and data["warn_psi"] == 0.2
    assert data["psi_score"] == pytest.approx(result.score.psi, abs=1e-6)
    psis = [f["psi"] for f in data["features"]]
    assert psis == sorted(psis, reverse=True)
    visits = next(f for f in data["features"] if f["name"] == "visits")
    assert visits["status"] == "drifted" and visits["label"] == "Visited the site … times"
    assert next(f for f in data["features"] if f["name"] == "revenue")["label"] == "Annual revenue: …"
    assert sum(b["batch"] for b in visits["bins"]) == pytest.approx(1.0, abs=1e-5)
    industry = next(f for f in data["features"] if f["name"] == "industry")
    assert industry["bins"][-2]["bin"] == "(other values)" and industry["bins"][-2]["batch"] == pytest.approx(1 / 3,
                                                                                                              abs=0.01)
    assert set(data["features_drifted"]) >= {"visits", "industry"}
    page = paths[1].read_text()
    assert page.startswith("<!doctype html>") and "Shifted:" in page
    assert page.index("visits") < page.index("revenue")  # sorted by PSI
    assert "src=\"http" not in page and "<link" not in page and "<script" not in page  # self-contained
    for text in (paths[0].read_text(), page):
        assert "B000001" not in text and "V000001" not in text  # no lead ids


def test_reports_replace_old_ones_and_a_failure_leaves_them_untouched(scorer, tmp_path, monkeypatch):
    output = tmp_path / "scores.csv"
    json_path, html_path = report_paths(output)
    json_path.write_text("old json")
    html_path.write_text("old html")
    result = run_batch(scorer, batch(500, 11))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full while rendering")

    monkeypatch.setattr(drift_module, "drift_html", broken)
    with pytest.raises(RuntimeError):
        write_drift_reports(result, output)
    assert json_path.read_text() == "old json" and html_path.read_text() == "old html"
    monkeypatch.undo()
    write_drift_reports(result, output)
    assert json.loads(json_path.read_text())["rows"] == 500 and "Data drift report" in html_path.read_text()
    assert leftover_temp_files(tmp_path) == []
    with pytest.raises(InputError, match="does not exist"):
        write_drift_reports(result, tmp_path / "nowhere" / "scores.parquet")


def test_drift_metrics(scorer):
    result = run_batch(scorer, batch(2_000, 12, shift=True))
    metrics = drift_metrics(result)
    assert metrics["psi_score"] == pytest.approx(result.score.psi)
    assert metrics["psi_max"] == pytest.approx(max(f.psi for f in result.features))
    assert metrics["features_drifted"] == len(result.drifted()) >= 2
    assert metrics["features_watch"] == len(result.watch())
    assert metrics["psi.visits"] > 0.2 and metrics["psi.x1"] < 0.1
    assert all(isinstance(v, float) and np.isfinite(v) for v in metrics.values())
    assert "psi_score" not in drift_metrics(DriftAccumulator(scorer.drift_reference).result())  # no rows: no PSI


def test_warning_is_one_line_naming_the_top_features(scorer, caplog, tmp_path):
    logger = logging.getLogger("leadscore.test_drift")
    shifted = run_batch(scorer, batch(2_000, 13, shift=True))
    with caplog.at_level(logging.WARNING, logger=logger.name):
        assert warn_drift(shifted, logger, report=tmp_path / "scores.drift.html")
    assert len(caplog.records) == 1
    line = caplog.records[0].getMessage()
    assert "\n" not in line
    top = shifted.drifted()[0]
    assert f"{top.name} {top.psi:.2f}" in line and "score PSI" in line and "scores.drift.html" in line
    assert "validation period" in line and "->" in line  # the reference, and the bin that moved most
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=logger.name):
        assert not warn_drift(run_batch(scorer, batch(2_000, 14)), logger)
        assert not warn_drift(run_batch(scorer, batch(2_000, 13, shift=True), warn_psi=50.0), logger)
    assert caplog.records == []


def test_threshold_is_configurable_and_validated():
    assert parse_config({}).scoring.drift_warn_psi == 0.2
    assert parse_config({"scoring": {"drift_warn_psi": 0.25}}).scoring.drift_warn_psi == 0.25
    with pytest.raises(ConfigError, match="drift_warn_psi"):
        parse_config({"scoring": {"drift_warn_psi": 0}})
