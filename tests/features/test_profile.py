"""Profile (fit) features: fixed features, generic extra columns, exclusions, robustness at transform."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.profile import ProfileFeatures

FIXED = ["title_seniority", "title_department", "company_size_band", "employees",
         "annual_revenue", "email_domain_type", "form_completeness"]


@pytest.fixture()
def leads() -> pd.DataFrame:
    return pd.DataFrame({
        "lead_id": ["a", "b", "c", "d"],
        "created_at": pd.date_range("2025-01-01", periods=4, freq="D"),
        "email": ["x@gmail.com", "y@mailinator.com", None, "z@acme.com"],
        "first_name": ["Peter", "Jane", "Li", "Ola"],
        "job_title": ["VP Sales", "", "CEO", "Software Engineer"],
        "employees": pd.array([5, 1200, None, 10], dtype="Int64"),
        "annual_revenue": [1e6, np.nan, -3.0, 2e7],
        "industry": ["Software", "Retail", None, " Software "],
        "country": ["US", "DE", "FR", "US"],
        "status": ["Open", "Won", "Lost", "Open"],
        "owner": ["r1", "r2", "r3", "r1"],
        "web_score": [1, 2, 3, 4],                      # generic numeric
        "numbers_as_text": ["12", "13", "14", "15"],    # generic numeric stored as text
        "is_partner": [True, False, True, False],       # generic bool -> numeric
        "region": ["EMEA", "AMER", "EMEA", None],        # generic categorical
    })


@pytest.fixture()
def fitted(leads: pd.DataFrame) -> ProfileFeatures:
    return ProfileFeatures(exclude=["status", "owner"]).fit(leads)


def test_feature_names(fitted: ProfileFeatures) -> None:
    names = list(fitted.feature_names_out_)
    assert set(FIXED) <= set(names)
    assert len(names) == len(set(names))
    assert {"industry", "country", "web_score", "numbers_as_text", "is_partner", "region"} <= set(names)
    assert list(fitted.get_feature_names_out()) == names


def test_excluded_and_personal_columns_do_not_appear(fitted: ProfileFeatures, leads: pd.DataFrame) -> None:
    names = set(fitted.feature_names_out_)
    for col in ["status", "owner", "lead_id", "created_at", "email", "first_name", "job_title"]:
        assert col not in names
    out = fitted.transform(leads)
    assert not {"status", "owner", "email", "first_name"} & set(out.columns)


def test_excluded_categorical_role_does_not_appear(leads: pd.DataFrame) -> None:
    p = ProfileFeatures(exclude=["status", "owner", "industry", "region"]).fit(leads)
    assert "industry" not in p.feature_names_out_
    assert "region" not in p.feature_names_out_
    assert "industry" not in p.transform(leads).columns


@pytest.mark.parametrize("column", ["annual_revenue", "employees"])
def test_excluded_numeric_role_does_not_appear(leads: pd.DataFrame, column: str) -> None:
    """exclude_columns are 'not meant as features' (config); that holds for mapped roles too."""
    p = ProfileFeatures(exclude=["status", "owner", column]).fit(leads)
    assert column not in p.feature_names_out_
    assert column not in p.transform(leads).columns


def test_generic_columns_kind(fitted: ProfileFeatures, leads: pd.DataFrame) -> None:
    assert set(fitted.numeric_generic_) == {"web_score", "numbers_as_text", "is_partner"}
    assert fitted.categorical_generic_ == ["region"]
    out = fitted.transform(leads)
    assert out["numbers_as_text"].tolist() == [12.0, 13.0, 14.0, 15.0]
    assert out["is_partner"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert out["web_score"].dtype == float
    assert out["region"].tolist() == ["EMEA", "AMER", "EMEA", "missing"]
    cats = fitted.categorical_features()
    assert "region" in cats and "industry" in cats and "web_score" not in cats
    info = fitted.feature_info()
    assert info["region"].kind == "categorical" and info["web_score"].kind == "numeric"
    assert info["web_score"].describe(3.0) == "Web score: 3"
    assert info["email_domain_type"].group == "quality"
    assert info["industry"].group == "fit"
    assert info["title_seniority"].describe("vp") == "Seniority from the job title: VP"
    assert info["company_size_band"].describe("10-49") == "Company size: 10-49 employees"


def test_values(fitted: ProfileFeatures, leads: pd.DataFrame) -> None:
    out = fitted.transform(leads)
    assert out["title_seniority"].tolist() == ["vp", "unknown", "owner_founder", "individual"]
    assert out["company_size_band"].tolist() == ["1-9", "1000-4999", "unknown", "10-49"]
    assert out["employees"].iloc[1] == 1200.0 and np.isnan(out["employees"].iloc[2])
    assert np.isnan(out["annual_revenue"].iloc[2])  # negative revenue is not a revenue
    assert out["email_domain_type"].tolist() == ["free_mail", "disposable", "missing", "corporate"]
    assert out["industry"].tolist() == ["Software", "Retail", "missing", "Software"]
    # completeness over job_title, industry, employees, annual_revenue, country (the roles present)
    assert out["form_completeness"].tolist() == pytest.approx([1.0, 0.8, 0.6, 1.0])


def test_unseen_categories_and_missing_columns_do_not_crash(fitted: ProfileFeatures, leads: pd.DataFrame) -> None:
    later = pd.DataFrame({
        "lead_id": ["x", "y"],
        "industry": ["Aerospace", None],        # unseen value
        "region": ["Mars", "EMEA"],              # unseen generic value
        "brand_new_column": [1, 2],              # not seen in fit: ignored
    })
    out = fitted.transform(later)
    assert list(out.columns) == list(fitted.feature_names_out_)
    assert len(out) == 2
    assert out["industry"].tolist() == ["Aerospace", "missing"]
    assert out["region"].tolist() == ["Mars", "EMEA"]
    assert out["country"].tolist() == ["missing", "missing"]
    assert out["title_seniority"].tolist() == ["unknown", "unknown"]
    assert out["company_size_band"].tolist() == ["unknown", "unknown"]
    assert out["email_domain_type"].tolist() == ["missing", "missing"]
    for col in ["employees", "annual_revenue", "web_score", "numbers_as_text", "is_partner"]:
        assert out[col].isna().all(), col
    assert "brand_new_column" not in out.columns


def test_non_numeric_garbage_in_numeric_columns(fitted: ProfileFeatures, leads: pd.DataFrame) -> None:
    messy = leads.copy()
    messy["web_score"] = ["7", "lots", None, "inf"]
    messy["employees"] = ["50", "n/a", "-1", "200"]
    out = fitted.transform(messy)
    assert out["web_score"].iloc[0] == 7.0
    assert out["web_score"].iloc[1:].isna().all()  # text, missing and infinite -> NaN
    assert out["employees"].iloc[0] == 50.0 and np.isnan(out["employees"].iloc[1]) and np.isnan(out["employees"].iloc[2])
    assert out["company_size_band"].tolist() == ["50-199", "unknown", "unknown", "200-999"]


def test_transform_resets_index(fitted: ProfileFeatures, leads: pd.DataFrame) -> None:
    shuffled = leads.set_axis([10, 20, 30, 40])
    out = fitted.transform(shuffled)
    assert list(out.index) == [0, 1, 2, 3]
    assert out["title_seniority"].iloc[0] == "vp"


# ------------------------------------------------------------------------------------------------
# Ideal customer profile and BANT
# ------------------------------------------------------------------------------------------------
def _icp_leads() -> pd.DataFrame:
    return pd.DataFrame({
        "lead_id": ["a", "b", "c", "d"],
        "job_title": ["VP Sales", "Software Engineer", None, "CEO"],
        "employees": pd.array([250, 5, None, 1200], dtype="Int64"),
        "industry": [" software ", "Retail", None, "Fintech"],
        "country": ["US", "India", None, "Germany"],
        "budget": ["yes", "no", None, "Yes"],
        "authority": ["yes", "no", None, "no"],
        "need": ["high", "low", None, "medium"],
        "timeline": ["<3 months", ">12 months", None, "3-6 months"],
    })


def test_icp_flags_and_match_share() -> None:
    leads = _icp_leads()
    p = ProfileFeatures().fit(leads)
    out = p.transform(leads)
    assert out["icp_industry"].tolist() == [1.0, 0.0, 0.0, 1.0]     # trimmed, case-insensitive
    assert out["icp_company_size"].tolist() == [1.0, 0.0, 0.0, 1.0]  # 200-999 and 1000-4999 bands
    assert out["icp_country"].tolist() == [1.0, 0.0, 0.0, 1.0]       # 'US' is an alias of United States
    assert out["icp_seniority"].tolist() == [1.0, 0.0, 0.0, 1.0]     # vp, individual, unknown, owner_founder
    assert out["icp_match"].tolist() == [1.0, 0.0, 0.0, 1.0]
    info = p.feature_info()
    assert info["icp_match"].group == "fit" and info["icp_country"].kind == "flag"
    assert info["icp_country"].describe(1.0) == "Country in the ideal customer profile"
    assert info["icp_country"].describe(0.0) == "Country outside the ideal customer profile"
    assert info["icp_match"].describe(0.75) == "Meets 3 of 4 ideal-customer-profile criteria"


def test_icp_from_config_and_criteria_switched_off() -> None:
    leads = _icp_leads()
    p = ProfileFeatures(icp={"industries": ["Retail"], "countries": [], "size_bands": ["1-9"]}).fit(leads)
    names = list(p.feature_names_out_)
    assert "icp_country" not in names and {"icp_industry", "icp_company_size", "icp_seniority", "icp_match"} <= set(names)
    out = p.transform(leads)
    assert out["icp_industry"].tolist() == [0.0, 1.0, 0.0, 0.0]
    # lead b: Retail and 1-9 employees, but an individual contributor: 2 of 3 criteria
    assert out["icp_match"].tolist() == pytest.approx([1 / 3, 2 / 3, 0.0, 1 / 3])


def test_icp_criterion_dropped_with_its_excluded_source_column() -> None:
    leads = _icp_leads()
    p = ProfileFeatures(exclude=["country", "job_title"]).fit(leads)
    assert "icp_country" not in p.feature_names_out_ and "icp_seniority" not in p.feature_names_out_
    assert "icp_industry" in p.feature_names_out_


def test_bant_score_counts_positive_answers() -> None:
    leads = _icp_leads()
    out = ProfileFeatures().fit(leads).transform(leads)
    # a: yes, yes, high, <3 months -> 4; b: none; c: unanswered; d: budget yes and 3-6 months -> 2
    assert out["bant_score"].tolist() == [4.0, 0.0, 0.0, 2.0]
    info = ProfileFeatures().fit(leads).feature_info()["bant_score"]
    assert info.group == "fit" and info.describe(2.0).startswith("2 of the BANT answers positive")


def test_bant_needs_its_columns() -> None:
    leads = _icp_leads().drop(columns=["budget", "authority", "need", "timeline"])
    assert "bant_score" not in ProfileFeatures().fit(leads).feature_names_out_


@pytest.mark.parametrize(("text", "months"), [
    ("<3 months", 3.0), ("3-6 months", 6.0), ("6-12 months", 12.0), (">12 months", 12.5), ("12+ months", 12.5),
    ("within 90 days", 3.0), ("2 weeks", 12 / 52 * 2), ("next year", 24.0), ("ASAP", 0.0), ("this quarter", 3.0),
    ("1-2 years", 24.0),
])
def test_timeline_months(text: str, months: float) -> None:
    from features.profile import timeline_months

    assert timeline_months(text) == pytest.approx(months)


def test_timeline_unreadable_is_not_positive() -> None:
    from features.profile import timeline_months

    assert np.isnan(timeline_months("soon-ish")) and np.isnan(timeline_months(None))


def test_config_icp_defaults_match_the_feature_defaults() -> None:
    from features.profile import DEFAULT_ICP
    from pipeline.config import Config

    assert Config().features.icp.model_dump() == DEFAULT_ICP
