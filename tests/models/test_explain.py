"""top_reasons: strict JSON, positives then negatives by strength, human labels, JSON-safe values; reasons
merged per source (the derived features of one input read as one sentence); no personal data in labels."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pytest

from features.metadata import FeatureInfo
from models.explain import MIN_CONTRIBUTION, ReasonPlan


def top_reasons(
    contrib: np.ndarray,
    X: pd.DataFrame,
    names: Sequence[str],
    info: Mapping[str, FeatureInfo],
    n_positive: int = 3,
    n_negative: int = 2,
    min_contribution: float = MIN_CONTRIBUTION,
) -> list[str]:
    """The reasons of a plan built for these names, as the scorer gives them: per lead, a JSON list: the top
    positive then the top negative reasons (merged per source), strongest first. `contrib`: (leads, features),
    optionally with a last bias column."""
    plan = ReasonPlan.build(names, info)
    contrib = np.asarray(contrib, dtype=float)
    sums = contrib[:, : len(names)] @ plan.matrix
    return plan.reasons(contrib, sums, X, n_positive, n_negative, min_contribution).tolist()


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
    # the unknown recency that raises the score is an absence, not a reason (issue 13): dropped
    assert [r["feature"] for r in reasons[0]] == ["industry", "employees", "free_mail", "form_completeness"]
    assert [r["contribution"] for r in reasons[0]] == [1.2, 0.5, -0.8, -0.1]
    # row b: one positive reason only; zero contributions never appear; the 2 strongest negatives
    assert [r["feature"] for r in reasons[1]] == ["extra_count", "form_completeness", "industry"]
    assert reasons[1][0]["contribution"] == 0.1235


def test_labels_are_human_text(reasons) -> None:
    labels = {r["feature"]: r["label"] for r in reasons[0]}
    assert labels == {
        "industry": "Industry: Software",
        "employees": "Company size: 1,200 employees",
        "free_mail": "Free-mail address: yes",
        "form_completeness": "Profile completeness: 0.67",  # two significant digits below 1
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
    lowering = top_reasons(-CONTRIB, X, NAMES, INFO, n_negative=5)  # an unknown recency that lowers the score is a reason
    assert {r["feature"]: r["value"] for r in _strict_loads(lowering[0])}["days_since_last_event"] is None  # NaN -> null
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
    assert len(_strict_loads(many[0])) == 4  # every non-zero contribution, once (but the unknown that raises it)
    strict = top_reasons(CONTRIB, X, NAMES, INFO, n_positive=50, n_negative=50, min_contribution=0.35)
    assert [r["feature"] for r in _strict_loads(strict[0])] == ["industry", "employees", "free_mail"]


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
    samples = {"categorical": "Software", "flag": 1.0, "numeric": 1234.5, "days": 4.0}
    for name, meta in info.items():
        text = meta.describe(samples[meta.kind])
        assert text != f"{name} = {samples[meta.kind]}", name
        assert "{" not in text and "}" not in text and "_" not in text.split(":")[0], (name, text)
        assert meta.describe(float("nan")).endswith(": unknown"), name


# ---------------------------------------------------------------------------------------------------------
# Reasons merged per source, worded from the source's features
# ---------------------------------------------------------------------------------------------------------
AS_OF = pd.Timestamp("2025-03-01")


def _world() -> tuple[pd.DataFrame, pd.DataFrame]:
    leads = pd.DataFrame({
        "lead_id": ["a", "b", "c"],
        "created_at": pd.to_datetime(["2025-01-01", "2025-01-05", "2025-02-01"]),
        "email": ["ann.smith@gmail.com", "bo.lind@northwind-traders.com", "cy@mailinator.com"],
        "first_name": ["Ann", "Bo", "Cy"], "last_name": ["Smith", "Lind", "Qxzv"],
        "phone": ["+1 415 555 0134", "+46 8 123 456 78", "123"],
        "company_domain": ["northwind-traders.com"] * 3,
        "job_title": ["VP of Sales", "Data Engineer", ""], "employees": [450, 12, None],
        "industry": ["Software", "Retail", "Software"], "country": ["US", "DE", "US"],
        "budget": ["yes", "no", None], "need": ["high", "low", None],
    })
    day = pd.Timedelta(days=1)
    events = pd.DataFrame({
        "lead_id": ["a", "a", "a", "b", "a", "b", "c"],
        "timestamp": [AS_OF - 10 * day, AS_OF - 12 * day, AS_OF - 20 * day, AS_OF - 4.5 * day,
                      AS_OF - 40 * day, AS_OF - 30 * day, AS_OF - 2 * day],
        "event_type": ["pricing_page_view"] * 3 + ["demo_request", "page_view", "page_view", "page_view"],
    })
    return leads, events


@pytest.fixture(scope="module")
def built() -> tuple[pd.DataFrame, list[str], dict]:
    from features.builder import LeadFeatureBuilder

    leads, events = _world()
    builder = LeadFeatureBuilder(engagement={"min_type_count": 1}).fit(leads, events)
    X = builder.transform(leads, events, AS_OF)
    return X, list(builder.feature_names_out_), builder.feature_info()


def _contrib(names: list[str], n: int, values: dict[tuple[int, str], float]) -> np.ndarray:
    out = np.zeros((n, len(names)))
    for (row, name), v in values.items():
        out[row, names.index(name)] = v
    return out


def test_reasons_merge_the_features_of_one_source(built) -> None:
    X, names, info = built
    contrib = _contrib(names, 3, {
        (0, "n_pricing_page_view_7"): 0.05, (0, "n_pricing_page_view_30"): 0.3, (0, "n_pricing_page_view_all"): 0.1,
        (0, "decayed_pricing_page_view"): 0.25, (0, "employees"): 0.4, (0, "company_size_band"): 0.05,
        (0, "free_mail"): -0.4, (0, "email_domain_type"): -0.25,
        (0, "title_seniority"): 0.3, (0, "title_department"): -0.1, (0, "icp_seniority"): 0.2,
        (1, "n_demo_request_all"): 0.6, (1, "decayed_demo_request"): 0.3, (1, "need"): -0.5, (1, "bant_score"): -0.2,
        (2, "disposable_email"): -2.0, (2, "email_domain_type"): -0.5,
    })
    reasons = [_strict_loads(r) for r in top_reasons(contrib, X, names, info)]
    a = {r["feature"]: r for r in reasons[0]}
    assert [r["feature"] for r in reasons[0]] == ["pricing_page_view", "employees", "job_title", "email"]
    assert a["pricing_page_view"]["contribution"] == 0.7  # the four pricing-page columns, summed
    assert a["pricing_page_view"]["label"] == "Visited the pricing page 3 times in the last 30 days"
    assert a["pricing_page_view"]["value"] == 3
    assert a["employees"]["label"] == "Company size: 450 employees (ideal customer profile)"
    assert a["job_title"]["label"] == "Job title: VP in sales (ideal customer profile)"
    assert a["job_title"]["contribution"] == 0.4 and a["job_title"]["value"] == "vp"
    assert a["email"] == {"feature": "email", "label": "Free-mail address (gmail.com)", "value": "free_mail",
                          "contribution": -0.65}
    b = [(r["feature"], r["label"], r["contribution"]) for r in reasons[1]]
    assert b == [("demo_request", "Requested a demo 4 days ago", 0.9), ("bant", "BANT: budget no, need low", -0.7)]
    assert [(r["label"], r["contribution"]) for r in reasons[2]] == [
        ("Disposable (throw-away) email address (mailinator.com)", -2.5)]


def test_a_source_with_opposite_contributions_reads_as_its_net_effect(built) -> None:
    X, names, info = built
    contrib = _contrib(names, 3, {(0, "n_page_view_all"): 0.5, (0, "n_page_view_90"): -0.2,
                                  (1, "n_page_view_all"): 0.2, (1, "n_page_view_90"): -0.5})
    reasons = [_strict_loads(r) for r in top_reasons(contrib, X, names, info)]
    assert [(r["feature"], r["contribution"]) for r in reasons[0]] == [("page_view", 0.3)]
    assert [(r["feature"], r["contribution"]) for r in reasons[1]] == [("page_view", -0.3)]
    assert reasons[0][0]["label"] == "Viewed a web page 40 days ago"
    assert reasons[1][0]["label"] == "Viewed a web page 30 days ago"


def test_activity_and_recency_wording(built) -> None:
    X, names, info = built
    contrib = _contrib(names, 3, {(0, "days_since_last_event"): -0.4, (1, "n_pricing_page_view_all"): -0.3,
                                  (2, "lead_age_days"): 0.2, (2, "trend_7_vs_30"): 0.1})
    reasons = [_strict_loads(r) for r in top_reasons(contrib, X, names, info)]
    assert reasons[0][0]["label"] == "4 activities in the last 90 days, most recently 10 days ago"
    assert reasons[1][0]["label"] == "No pricing page visits yet" and reasons[1][0]["value"] == 0
    assert reasons[2][0]["label"] == "Lead created 28 days ago" and reasons[2][0]["value"] == 28
    assert reasons[2][1]["feature"] == "activity" and reasons[2][1]["label"].startswith("Activity in the last 7 days at")


def test_no_personal_data_in_reasons(built) -> None:
    """Whatever the model says, the reasons never show an email address, its local part, a name, a phone
    number or a company's own domain; a free-mail provider's domain may appear."""
    X, names, info = built
    leads, _ = _world()
    rng = np.random.default_rng(0)
    text = ""
    for _ in range(30):
        contrib = rng.normal(size=(len(X), len(names))) * rng.random(len(names))
        text += "\n".join(top_reasons(contrib, X, names, info, n_positive=10, n_negative=10)).lower()
    needles = {*leads["email"].str.lower(), *leads["email"].str.split("@").str[0].str.lower(),
               *leads["first_name"].str.lower(), *leads["last_name"].str.lower(), "northwind", "415 555", "4155550134",
               "+46 8", "123 456"}
    words = set(__import__("re").findall(r"[\w.+@-]+", text))
    assert not [n for n in needles if n in words or ("@" in n and n in text) or (" " in n and n in text)]
    assert "gmail.com" in text and "mailinator.com" in text


def test_every_reason_has_the_spec_keys_and_strict_json(built) -> None:
    X, names, info = built
    contrib = np.random.default_rng(1).normal(size=(len(X), len(names)))
    for text in top_reasons(contrib, X, names, info):
        reasons = _strict_loads(text)
        assert 0 < len(reasons) <= 5
        for r in reasons:
            assert set(r) == {"feature", "label", "value", "contribution"}
            assert r["label"] and "{" not in r["label"] and "nan" not in r["label"].lower().split()
        pos = [r["contribution"] for r in reasons if r["contribution"] > 0]
        neg = [r["contribution"] for r in reasons if r["contribution"] < 0]
        assert pos == sorted(pos, reverse=True) and neg == sorted(neg) and len(pos) <= 3 and len(neg) <= 2
        assert len({r["feature"] for r in reasons}) == len(reasons)  # one reason per source


def test_reasons_of_a_feature_table_without_the_email_service_column(built) -> None:
    X, names, info = built
    contrib = _contrib(names, 3, {(0, "free_mail"): -0.4})
    reasons = top_reasons(contrib, X.drop(columns=["email_service"]), names, info)
    assert _strict_loads(reasons[0])[0]["label"] == "Free-mail address"


# --- issue 13: the wording follows the sign, absences and contradictions are dropped -------------------
from features.metadata import format_number, humanise, humanise_code, with_labels  # noqa: E402
from features.wording import LOWERS  # noqa: E402
from pipeline.config import LabelConfig  # noqa: E402

ICP_NAMES = ["industry", "icp_industry", "seniority", "department", "lead_source", "invalid_phone", "ratio"]
ICP_INFO = {
    "industry": FeatureInfo("industry", "fit", "Industry: {value}", "categorical", source="industry", part="value",
                            describer="category"),
    "icp_industry": FeatureInfo("icp_industry", "fit", "Industry in the ICP", "flag", source="industry", part="icp",
                                describer="category"),
    "seniority": FeatureInfo("seniority", "fit", "Seniority: {value}", "categorical", source="job_title",
                             part="seniority", describer="title", display={"head_of": "head of"}),
    "department": FeatureInfo("department", "fit", "Department: {value}", "categorical", source="job_title",
                              part="department", describer="title"),
    "lead_source": FeatureInfo("lead_source", "fit", "Lead source: {value}", "categorical"),
    "invalid_phone": FeatureInfo("invalid_phone", "quality", "Invalid phone number", "flag",
                                 negated="No invalid phone number", bad_news=True),
    "ratio": FeatureInfo("ratio", "fit", "Ratio: {value}"),
}
ICP_X = pd.DataFrame({
    "lead_id": ["in+", "in-", "out+", "out-"],
    "industry": ["Software", "Software", "Retail", "Retail"],
    "icp_industry": [1.0, 1.0, 0.0, 0.0],
    "seniority": ["head_of"] * 4,
    "department": ["sales"] * 4,
    "lead_source": ["purchased_list"] * 4,
    "invalid_phone": [1.0, 1.0, 0.0, 0.0],
    "ratio": [0.05, 0.05, 0.05, 0.05],
})
SIGN = np.array([1.0, -1.0, 1.0, -1.0])[:, None]


def _reasons(contrib: np.ndarray, info=ICP_INFO, **kw) -> list[list[dict]]:
    return [_strict_loads(t) for t in top_reasons(contrib, ICP_X, ICP_NAMES, info, n_positive=5, n_negative=5, **kw)]


def test_icp_remark_follows_the_sign() -> None:
    contrib = np.zeros((4, len(ICP_NAMES)))
    contrib[:, 0], contrib[:, 1] = 0.5 * SIGN[:, 0], 0.2 * SIGN[:, 0]
    labels = [[r["label"] for r in rs if r["feature"] == "industry"][0] for rs in _reasons(contrib)]
    assert labels == ["Industry: Software (ideal customer profile)", "Industry: Software",  # match lowering: no remark
                      "Industry: Retail", "Industry: Retail (outside the ideal customer profile)"]


def test_titles_codes_numbers_and_bad_news_read_right() -> None:
    contrib = np.tile([0.0, 0.0, 0.4, 0.1, 0.3, 0.2, 0.25], (4, 1)) * SIGN
    by_lead = [{r["feature"]: r["label"] for r in rs} for rs in _reasons(contrib)]
    assert by_lead[0]["job_title"] == "Job title: head of sales"  # not "head of in sales"
    assert by_lead[0]["lead_source"] == "Lead source: Purchased list"  # the code as words
    assert by_lead[0]["ratio"] == "Ratio: 0.05"  # not "0"
    # a quality problem reads only as a reason that lowers the score, and only when it is there
    assert "invalid_phone" not in by_lead[0] and by_lead[1]["invalid_phone"] == "Invalid phone number"
    assert "invalid_phone" not in by_lead[2] and "invalid_phone" not in by_lead[3]


def test_minimum_contribution_and_flat_texts() -> None:
    contrib = np.tile([0.0, 0.0, 0.4, 0.1, 0.3, 0.2, 0.02], (4, 1)) * SIGN
    plan = ReasonPlan.build(ICP_NAMES, ICP_INFO)
    json_texts, flat = plan.reasons_and_texts(contrib, contrib @ plan.matrix, ICP_X, 3, 2, min_contribution=0.05, n_texts=3)
    first = _strict_loads(json_texts[1])
    assert all(abs(r["contribution"]) >= 0.05 for rs in json_texts for r in _strict_loads(rs))
    assert "ratio" not in {r["feature"] for r in first}  # 0.02 < min_contribution
    # reason_1..3: the same reasons in the same order; the ones that lower the score say so
    assert len(first) == 2 and list(flat[1]) == [r["label"] + LOWERS for r in first] + [""]
    assert list(flat[0][:2]) == [r["label"] for r in _strict_loads(json_texts[0])[:2]]


def test_labels_config_and_humanising() -> None:
    assert humanise("PageValues") == "Page values" and humanise("TotalVisits") == "Total visits"
    assert humanise("lead_source") == "Lead source" and humanise("ICP_score") == "ICP score"
    assert humanise_code("purchased_list") == "Purchased list" and humanise_code("10-49") == "10-49"
    assert format_number(270.8) == "271" and format_number(12345.0) == "12,345" and format_number(0.05) == "0.05"
    info = {**ICP_INFO, "PageValues": FeatureInfo("PageValues", "fit", "Page values: {value}")}
    labelled = with_labels(info, {"lead_source": LabelConfig(name="Source", values={"purchased_list": "Bought list"}),
                                  "PageValues": LabelConfig(name="Value of pages viewed")})
    assert labelled["lead_source"].describe("purchased_list") == "Source: Bought list"
    assert labelled["PageValues"].describe(270.8) == "Value of pages viewed: 271"  # no decimals from 100 up
    assert labelled["industry"] is info["industry"]
