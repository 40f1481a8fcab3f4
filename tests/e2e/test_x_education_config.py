"""The shipped `configs/examples/x_education.yaml` loads, trains and scores a static CRM export with the
X Education columns. The real file lives in ../shared (not needed here): a synthetic frame with the same
columns stands in, with a post-hoc column (`Tags`) that gives the label away, which the config must exclude."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.config import load_config
from tests.conftest import REPO, run_cli

CONFIG = REPO / "configs/examples/x_education.yaml"
YES_NO = ["Do Not Email", "Do Not Call", "Search", "Magazine", "Newspaper Article", "X Education Forums", "Newspaper",
          "Digital Advertisement", "Through Recommendations", "Receive More Updates About Our Courses",
          "Update me on Supply Chain Content", "Get updates on DM Content", "I agree to pay the amount through cheque",
          "A free copy of Mastering The Interview"]


def synthetic_export(n: int, seed: int) -> pd.DataFrame:
    """Same columns, names and value styles as the public export (including 'Select' placeholders)."""
    rng = np.random.default_rng(seed)
    origin = rng.choice(["API", "Landing Page Submission", "Lead Add Form", "Lead Import"], n, p=[.4, .45, .1, .05])
    occupation = rng.choice(["Unemployed", "Working Professional", "Student", None], n, p=[.55, .15, .1, .2])
    seconds = np.where(rng.random(n) < 0.25, 0, rng.gamma(1.5, 400, n)).round()
    visits = np.where(seconds == 0, 0, rng.poisson(3, n) + 1)
    logit = -1.6 + 0.0018 * seconds + 1.8 * (origin == "Lead Add Form") + 1.5 * (occupation == "Working Professional")
    converted = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({
        "Prospect ID": [f"{i:08x}-8bba-4d29-b9a2-b6e0beafe620" for i in range(n)],
        "Lead Number": 660000 + np.arange(n),
        "Lead Origin": origin,
        "Lead Source": rng.choice(["Google", "Direct Traffic", "Olark Chat", "Organic Search", "Reference"], n),
        "Converted": converted,
        "TotalVisits": visits,
        "Total Time Spent on Website": seconds,
        "Page Views Per Visit": np.where(visits == 0, 0, rng.gamma(2, 1.2, n).round(2)),
        "Last Activity": np.where(converted == 1, "SMS Sent", rng.choice(["Email Opened", "Page Visited on Website"], n)),
        "Country": rng.choice(["India", "United States", None], n, p=[.7, .05, .25]),
        "Specialization": rng.choice(["Select", "Finance Management", "Marketing Management", None], n),
        "How did you hear about X Education": rng.choice(["Select", "Online Search", None], n),
        "What is your current occupation": occupation,
        "What matters most to you in choosing a course": rng.choice(["Better Career Prospects", None], n),
        "Tags": np.where(converted == 1, "Closed by Horizzon", "Ringing"),
        "Lead Quality": np.where(converted == 1, "High in Relevance", "Low in Relevance"),
        "Lead Profile": rng.choice(["Select", "Potential Lead"], n),
        "City": rng.choice(["Select", "Mumbai", "Thane & Outskirts"], n),
        "Asymmetrique Activity Index": rng.choice(["01.High", "02.Medium"], n),
        "Asymmetrique Profile Index": rng.choice(["01.High", "02.Medium"], n),
        "Asymmetrique Activity Score": rng.integers(10, 18, n),
        "Asymmetrique Profile Score": rng.integers(12, 20, n),
        "Last Notable Activity": np.where(converted == 1, "SMS Sent", "Modified"),
        "Unnamed: 37": np.nan,
    })
    for column in YES_NO:
        frame[column] = rng.choice(["No", "Yes"], n, p=[.95, .05])
    return frame


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("x_education")
    path = folder / "x_education_leads.csv"
    synthetic_export(1500, seed=3).to_csv(path, index=False)
    return path


def test_the_shipped_config_loads_and_excludes_every_post_hoc_column() -> None:
    cfg = load_config(CONFIG)
    assert cfg.data.mode == "static"
    assert cfg.data.lead_columns.label == "Converted"
    post_hoc = {"Tags", "Lead Quality", "Lead Profile", "Last Activity", "Last Notable Activity",
                "Asymmetrique Activity Index", "Asymmetrique Profile Index", "Asymmetrique Activity Score",
                "Asymmetrique Profile Score"}
    assert post_hoc <= set(cfg.data.exclude_columns)


def test_the_shipped_config_trains_and_scores_a_frame_with_the_export_columns(export: Path, tmp_path: Path) -> None:
    # the shipped config as it is, with a smaller LightGBM search so the test stays quick
    cfg = yaml.safe_load(CONFIG.read_text())
    cfg["models"]["lightgbm"].update(search_budget=1, n_estimators=300)
    config = tmp_path / "x_education.yaml"
    config.write_text(yaml.safe_dump(cfg))
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}

    trained = run_cli("train", "--config", str(config), "--data", str(export), "--cv", "3", "--json", cwd=tmp_path, env=env)
    assert trained.code == 0, trained.stderr
    summary = trained.json()
    models = summary["models"]
    assert set(models) == {"points_suggested", "logreg", "lightgbm"}
    for name, metrics in models.items():
        # the signal is real (time on site, origin, occupation) but the leaky `Tags` would give ~1.0
        assert 0.65 < metrics["roc_auc"] < 0.97, (name, metrics)
        assert 0.65 < metrics["cv_roc_auc"] < 0.97, (name, metrics)

    scored = tmp_path / "scores.csv"
    predicted = run_cli("predict", "--config", str(config), "--leads", str(export), "--output", str(scored),
                        "--model-uri", f"models:/lead-scorer-x-education/{summary['version']}", "--json",
                        cwd=tmp_path, env=env)
    assert predicted.code == 0, predicted.stderr
    scores = pd.read_csv(scored, dtype={"lead_id": str})
    source = pd.read_csv(export)
    assert len(scores) == len(source)
    assert scores["lead_id"].tolist() == source["Prospect ID"].tolist()
    reasons = " ".join(scores["top_reasons"].astype(str))
    for leaked in ("Tags", "Lead Quality", "Last Notable Activity", "Closed by Horizzon"):
        assert leaked not in reasons
    assert json.loads(predicted.stdout)["rows"] == len(source)
