"""Fit (explicit) features from lead profiles: title, company size, firmographics, BANT, completeness,
plus every other column as a generic numeric or categorical feature."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from features.metadata import FeatureInfo, humanise
from features.quality import email_parts
from features.titles import SENIORITY_LABELS, parse_titles

SIZE_BANDS = [0, 10, 50, 200, 1000, 5000, np.inf]
SIZE_LABELS = ["1-9", "10-49", "50-199", "200-999", "1000-4999", "5000+"]
CATEGORICAL_ROLES = ["industry", "country", "lead_source", "budget", "authority", "need", "timeline"]
# Roles consumed by dedicated features or never used as raw features.
HANDLED_ROLES = {"lead_id", "created_at", "label", "job_title", "employees", "annual_revenue", "email",
                 "first_name", "last_name", "phone", "company", "company_domain", *CATEGORICAL_ROLES}
COMPLETENESS_ROLES = ["job_title", "company", "industry", "employees", "annual_revenue", "country", "phone",
                      "budget", "authority", "need", "timeline"]
ROLE_LABELS = {
    "industry": "Industry: {value}", "country": "Country: {value}", "lead_source": "Lead source: {value}",
    "budget": "Has budget: {value}", "authority": "Decision maker: {value}", "need": "Need: {value}",
    "timeline": "Buying timeline: {value}",
}


class ProfileFeatures(BaseEstimator):
    """Stateless per-lead fit features; fit() only records which generic columns exist and their kind."""

    def __init__(self, exclude: Sequence[str] = (), max_text_length: int = 200):
        self.exclude = exclude
        self.max_text_length = max_text_length

    def fit(self, leads: pd.DataFrame, y: object = None) -> "ProfileFeatures":
        excluded = set(self.exclude) | HANDLED_ROLES
        generic = [c for c in leads.columns if c not in excluded]
        self.numeric_generic_ = [c for c in generic if _is_numeric(leads[c])]
        self.categorical_generic_ = [c for c in generic if c not in self.numeric_generic_]
        self.roles_present_ = [r for r in CATEGORICAL_ROLES if r in leads.columns and r not in self.exclude]
        self.feature_names_out_ = self._names()
        return self

    def _names(self) -> list[str]:
        fixed = ["title_seniority", "title_department", "company_size_band", "employees", "annual_revenue",
                 "email_domain_type", "form_completeness"]
        fixed = [n for n in fixed if n not in self._excluded_fixed()]
        return [*fixed, *self.roles_present_, *self.numeric_generic_, *self.categorical_generic_]

    def _excluded_fixed(self) -> set[str]:
        """Derived features dropped when the user excludes their source column."""
        source = {"title_seniority": "job_title", "title_department": "job_title", "company_size_band": "employees",
                  "employees": "employees", "annual_revenue": "annual_revenue", "email_domain_type": "email"}
        return {name for name, col in source.items() if col in set(self.exclude) and col not in ("email",)}

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(self.feature_names_out_, dtype=object)

    def categorical_features(self) -> list[str]:
        cats = ["title_seniority", "title_department", "company_size_band", "email_domain_type",
                *self.roles_present_, *self.categorical_generic_]
        return [c for c in cats if c in self.feature_names_out_]

    def feature_info(self) -> dict[str, FeatureInfo]:
        labels = {
            "title_seniority": "Seniority from the job title: {value}",
            "title_department": "Department from job title: {value}",
            "company_size_band": "Company size: {value} employees",
            "employees": "Company size: {value:,} employees",
            "annual_revenue": "Company revenue: {value:,}",
            "email_domain_type": "Email type: {value}",
            "form_completeness": "Profile completeness: {value}",
            **ROLE_LABELS,
        }
        cats = set(self.categorical_features())
        info = {}
        for name in self.feature_names_out_:
            label = labels.get(name, humanise(name) + ": {value}")
            group = "quality" if name == "email_domain_type" else "fit"
            display = SENIORITY_LABELS if name == "title_seniority" else None
            info[name] = FeatureInfo(name, group, label, "categorical" if name in cats else "numeric", display)
        return info

    def transform(self, leads: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=leads.index)
        titles = parse_titles(leads["job_title"] if "job_title" in leads else pd.Series(None, index=leads.index, dtype=object))
        out[["title_seniority", "title_department"]] = titles[["title_seniority", "title_department"]]
        employees = _numeric(leads, "employees")
        out["company_size_band"] = pd.cut(employees, SIZE_BANDS, labels=SIZE_LABELS, right=False).astype("object").fillna("unknown").astype(str)
        out["employees"] = employees.where(employees >= 0)
        revenue = _numeric(leads, "annual_revenue")
        out["annual_revenue"] = revenue.where(revenue >= 0)
        out["email_domain_type"] = _email_domain_type(leads)
        present = [c for c in COMPLETENESS_ROLES if c in leads]
        out["form_completeness"] = leads[present].notna().mean(axis=1) if present else np.nan
        for col in self.roles_present_:
            out[col] = _category(leads[col], self.max_text_length) if col in leads else "missing"
        for col in self.numeric_generic_:
            out[col] = _numeric(leads, col)
        for col in self.categorical_generic_:
            out[col] = _category(leads[col], self.max_text_length) if col in leads else "missing"
        return out[self.feature_names_out_].reset_index(drop=True)


def _is_numeric(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    if pd.api.types.is_numeric_dtype(values.dtype):
        return True
    converted = pd.to_numeric(values.dropna(), errors="coerce")
    return len(converted) > 0 and converted.notna().mean() > 0.98


def _numeric(leads: pd.DataFrame, col: str) -> pd.Series:
    if col not in leads:
        return pd.Series(np.nan, index=leads.index)
    values = pd.to_numeric(leads[col], errors="coerce").astype(float)
    return values.where(np.isfinite(values))


def _category(values: pd.Series, max_len: int) -> pd.Series:
    text = values.astype("string").str.strip().str.slice(0, max_len)
    return text.fillna("missing").replace({"": "missing", "Select": "missing"}).astype(str)


def _email_domain_type(leads: pd.DataFrame) -> pd.Series:
    from features.quality import FREE_MAIL, disposable_domains

    if "email" not in leads:
        return pd.Series("missing", index=leads.index)
    _, domain = email_parts(leads["email"])
    kind = pd.Series("corporate", index=leads.index)
    kind[domain.isin(FREE_MAIL).fillna(False).to_numpy(dtype=bool)] = "free_mail"
    kind[domain.isin(disposable_domains()).fillna(False).to_numpy(dtype=bool)] = "disposable"
    kind[leads["email"].isna().to_numpy()] = "missing"
    return kind
