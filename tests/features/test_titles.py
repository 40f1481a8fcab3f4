"""Seniority and department from free-text job titles."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.titles import SENIORITY_RANK, parse_title, parse_titles

TITLES = [
    # title, seniority, department
    ("VP Sales", "vp", "sales"),
    ("Sr. Software Engineer", "senior", "engineering"),
    ("Dir. of Marketing", "director", "marketing"),
    ("Directeur commercial", "director", "sales"),
    ("Geschäftsführer", "owner_founder", "executive"),
    ("Gerente de ventas", "manager", "sales"),
    ("销售经理", "manager", "sales"),
    ("CEO", "owner_founder", "executive"),
    ("Head of Growth", "head", "marketing"),
    ("Marketing Intern", "intern_student", "marketing"),
    ("Chief Technology Officer", "c_level", "engineering"),
    ("CFO", "c_level", "finance"),
    ("Account Executive", "individual", "sales"),
    ("Product Manager", "manager", "product"),
    ("Talent Acquisition Manager", "manager", "hr"),
    ("SVP Operations", "vp", "operations"),
    ("Leiter Vertrieb", "head", "sales"),
    ("市场总监", "director", "marketing"),
    ("Co-Founder", "owner_founder", "executive"),
    ("Zookeeper", "other", "other"),
    # "Vice President" is a VP, not a company president (the simulator generates these titles as vp)
    ("Vice President, Finance", "vp", "finance"),
    ("Vice President of Sales", "vp", "sales"),
    # spelled-out CEO: same department as "CEO"
    ("Chief Executive Officer", "owner_founder", "executive"),
]


@pytest.mark.parametrize(("title", "seniority", "department"), TITLES, ids=[t[0] for t in TITLES])
def test_parse_title(title: str, seniority: str, department: str) -> None:
    assert parse_title(title) == (seniority, department)


@pytest.mark.parametrize("blank", ["", "   ", None, float("nan"), 42])
def test_blank_or_non_text_is_unknown(blank: object) -> None:
    assert parse_title(blank) == ("unknown", "unknown")


def test_case_and_whitespace_insensitive() -> None:
    assert parse_title("  vp SALES ") == parse_title("VP Sales")


def test_parse_titles_frame() -> None:
    titles = pd.Series(["CEO", None, "VP Sales", np.nan, "Marketing Intern", "CEO"], index=[10, 11, 12, 13, 14, 15])
    out = parse_titles(titles)
    assert list(out.index) == [10, 11, 12, 13, 14, 15]
    assert out["title_seniority"].tolist() == ["owner_founder", "unknown", "vp", "unknown", "intern_student",
                                               "owner_founder"]
    assert out["title_department"].tolist() == ["executive", "unknown", "sales", "unknown", "marketing", "executive"]
    rank = out["seniority_rank"].to_numpy()
    assert rank[0] == 6 and rank[2] == 5 and rank[4] == 0 and rank[5] == 6
    assert np.isnan(rank[1]) and np.isnan(rank[3])
    assert out["seniority_rank"].dtype == float


def test_rank_order() -> None:
    r = SENIORITY_RANK
    assert r["intern_student"] < r["individual"] < r["senior"] < r["manager"] < r["director"] < r["vp"] < r["c_level"]
    assert r["owner_founder"] == r["c_level"]
