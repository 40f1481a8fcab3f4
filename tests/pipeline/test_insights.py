"""Attribute insights of a training session on real point-in-time examples of a small sample world."""
from __future__ import annotations

import pandas as pd
import pytest

from models.insights import INSIGHT_COLUMNS
from models.report import session_report
from pipeline.config import load_config
from pipeline.inputs.data import load_training_inputs
from pipeline.inputs.examples import build_examples
from pipeline.insights import training_insights
from pipeline.sampleworld import WorldSpec, simulate_world
from tests.conftest import REPO


@pytest.fixture(scope="module")
def insights(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("world")
    world = simulate_world(WorldSpec(n_leads=1500, seed=3))
    for name in ("leads", "events", "outcomes"):
        getattr(world, name).to_parquet(folder / f"{name}.parquet")
    cfg = load_config(REPO / "configs/default.yaml")
    return training_insights(build_examples(cfg, load_training_inputs(cfg, str(folder)), None))


def test_profile_columns_values_and_rates(insights: pd.DataFrame) -> None:
    assert list(insights.columns) == INSIGHT_COLUMNS and (insights["support"] >= 30).all()
    columns = set(insights["column"])
    assert {"industry", "lead_source", "title_seniority", "budget"} <= columns
    assert not columns & {"email", "account_id", "company", "lead_id"}  # never personal data or the account id
    assert not any(c.startswith(("events_", "recency", "n_")) for c in columns)  # profile only, no engagement
    # the sample world's referrals convert far above average; 'missing' budgets count as not filled in
    referral = insights.query("column == 'lead_source' and value == 'referral'").iloc[0]
    assert referral["lift"] > 1.5
    budget = insights.query("column == 'budget'")
    assert budget["fill_rate"].iloc[0] < 0.6 and "(empty)" in set(budget["value"])
    assert insights["overall_rate"].nunique() == 1


def test_the_report_shows_the_table(insights: pd.DataFrame) -> None:
    html = session_report("t", {}, pd.DataFrame(), "m", pd.DataFrame(), pd.DataFrame(), {}, insights, insight_rows=5)
    section = html.split("attribute by attribute")[1].split("<h2>")[0]
    assert section.count("</tr>") == 6  # header + 5 rows
    assert f"The {len(insights) - 5} weaker rows" in html
    assert "attribute by attribute" not in session_report("t", {}, pd.DataFrame(), "m", pd.DataFrame(), pd.DataFrame(), {})
