"""top_reasons: strict JSON, positives then negatives by strength, human labels, JSON-safe values."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from features.metadata import FeatureInfo
from models.explain import group_sums, top_reasons

NAMES = ["employees", "free_mail", "days_since_last_event", "industry", "form_completeness", "extra_count"]
INFO = {
    "employees": FeatureInfo("employees", "fit", "Company size: {value:,} employees"),
    "free_mail": FeatureInfo("free_mail", "quality", "Free-mail address: {value}", "flag"),
    "days_since_last_event": FeatureInfo("days_since_last_event", "engagement", "Last activity {value} days ago"),
    "industry": FeatureInfo("industry", "fit", "Industry: {value}", "categorical"),
    "form_completeness": FeatureInfo("form_completeness", "fit", "Profile completeness: {value}"),
    # extra_count has no FeatureInfo: falls back to "name: value"
}
X = pd.DataFrame({
    "lead_id": ["a", "b"],
    "employees": [1200.0, np.nan],
    "free_mail": [1.0, 0.0],
    "days_since_last_event": [np.nan, 3.0],
    "industry": pd.Categorical(["Software", "Café & Bar"]),
    "form_completeness": [2 / 3, 0.5],
    "extra_count": np.array([3, 7], dtype=np.int64),
})
CONTRIB = np.array([
    [0.5, -0.8, 0.3, 1.2, -0.1, 0.0],
    [-0.2, 0.0, -0.05, -0.3, -0.4, 0.123456],
])


def _strict_loads(text: str) -> list:
    def no_constants(name: str) -> None:
        raise ValueError(f"non-JSON constant {name}")

    return json.loads(text, parse_constant=no_constants)


@pytest.fixture()
def reasons() -> list[list[dict]]:
    out = top_reasons(CONTRIB, X, NAMES, INFO, n_positive=3, n_negative=2)
    assert len(out) == 2 and all(isinstance(s, str) for s in out)
    return [_strict_loads(s) for s in out]


def test_order_positive_desc_then_negative(reasons) -> None:
    assert [r["feature"] for r in reasons[0]] == ["industry", "employees", "days_since_last_event",
                                                  "free_mail", "form_completeness"]
    assert [r["contribution"] for r in reasons[0]] == [1.2, 0.5, 0.3, -0.8, -0.1]
    # row b: one positive reason only; zero contributions never appear; the 2 strongest negatives
    assert [r["feature"] for r in reasons[1]] == ["extra_count", "form_completeness", "industry"]
    assert reasons[1][0]["contribution"] == 0.1235


def test_labels_are_human_text(reasons) -> None:
    labels = {r["feature"]: r["label"] for r in reasons[0]}
    assert labels == {
        "industry": "Industry: Software",
        "employees": "Company size: 1,200 employees",
        "days_since_last_event": "Last activity: unknown",
        "free_mail": "Free-mail address: yes",
        "form_completeness": "Profile completeness: 0.7",
    }
    labels_b = {r["feature"]: r["label"] for r in reasons[1]}
    assert labels_b["industry"] == "Industry: Café & Bar"
    assert labels_b["form_completeness"] == "Profile completeness: 0.5"
    assert labels_b["extra_count"] == "extra_count: 7"
    for row in reasons:
        for r in row:
            assert "{" not in r["label"] and "}" not in r["label"]


def test_values_are_json_safe(reasons) -> None:
    values = {r["feature"]: r["value"] for r in reasons[0]}
    assert values["days_since_last_event"] is None  # NaN -> null
    assert values["employees"] == 1200.0
    assert values["industry"] == "Software"
    assert values["free_mail"] == 1.0
    assert reasons[1][0]["value"] == 7 and isinstance(reasons[1][0]["value"], int)
    out = top_reasons(CONTRIB, X, NAMES, INFO)
    assert "NaN" not in out[0]
    assert "Café" in out[1]  # not escaped to \\u00e9


def test_limits_and_all_zero() -> None:
    out = top_reasons(CONTRIB, X, NAMES, INFO, n_positive=1, n_negative=1)
    assert [r["feature"] for r in _strict_loads(out[0])] == ["industry", "free_mail"]
    zero = top_reasons(np.zeros((2, len(NAMES))), X, NAMES, INFO)
    assert zero == ["[]", "[]"]
    many = top_reasons(CONTRIB, X, NAMES, INFO, n_positive=50, n_negative=50)
    assert len(_strict_loads(many[0])) == 5  # every non-zero contribution, once


def test_group_sums() -> None:
    fit = group_sums(CONTRIB, NAMES, INFO, ("fit", "quality"))
    eng = group_sums(CONTRIB, NAMES, INFO, ("engagement",))
    np.testing.assert_allclose(fit, [0.5 - 0.8 + 1.2 - 0.1, -0.2 + 0.0 - 0.3 - 0.4])
    np.testing.assert_allclose(eng, [0.3, -0.05])
    np.testing.assert_allclose(group_sums(CONTRIB, NAMES, INFO, ("nothing",)), [0.0, 0.0])


def test_every_builder_label_formats_as_text() -> None:
    """Each FeatureInfo the feature builder produces describes typical values in words (no template
    left over, no 'name = value' fallback)."""
    from features.builder import LeadFeatureBuilder

    leads = pd.DataFrame({
        "lead_id": ["a", "b"], "created_at": pd.to_datetime(["2025-01-01", "2025-01-02"]),
        "email": ["a@acme.com", "b@gmail.com"], "job_title": ["VP Sales", "CEO"], "employees": [20, 300],
        "annual_revenue": [1e6, 2e7], "industry": ["Software", "Retail"], "country": ["US", "DE"],
        "budget": ["yes", "no"], "region": ["EMEA", "AMER"], "web_score": [1.5, 2.0],
    })
    events = pd.DataFrame({"lead_id": ["a"] * 3, "timestamp": pd.to_datetime(["2025-01-02"] * 3),
                           "event_type": ["page_view", "email_open", "pricing_page_view"]})
    builder = LeadFeatureBuilder(engagement={"min_type_count": 1}).fit(leads, events)
    info = builder.feature_info()
    assert set(info) == set(builder.feature_names_out_)
    samples = {"categorical": "Software", "flag": 1.0, "numeric": 1234.5}
    for name, meta in info.items():
        text = meta.describe(samples[meta.kind])
        assert text != f"{name} = {samples[meta.kind]}", name
        assert "{" not in text and "}" not in text and "_" not in text.split(":")[0], (name, text)
        assert meta.describe(float("nan")).endswith(": unknown"), name
