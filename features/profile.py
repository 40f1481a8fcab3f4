"""Fit (explicit) features from lead profiles: title, company size, firmographics, BANT, completeness,
plus every other column as a generic numeric or categorical feature."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from features.metadata import PERSONAL_ROLES, FeatureInfo, humanise
from features.quality import EMAIL_REASON, email_parts
from features.titles import SENIORITY_LABELS, parse_titles

SIZE_BANDS = [0, 10, 50, 200, 1000, 5000, np.inf]
SIZE_LABELS = ["1-9", "10-49", "50-199", "200-999", "1000-4999", "5000+"]
CATEGORICAL_ROLES = ["industry", "country", "lead_source", "budget", "authority", "need", "timeline"]
# Roles consumed by dedicated features or never used as raw features.
HANDLED_ROLES = {"lead_id", "created_at", "label", "job_title", "employees", "annual_revenue", *PERSONAL_ROLES,
                 "company_domain", *CATEGORICAL_ROLES}
COMPLETENESS_ROLES = ["job_title", "company", "industry", "employees", "annual_revenue", "country", "phone",
                      "budget", "authority", "need", "timeline"]
# The ideal customer profile (config `features.icp`): a B2B SaaS vendor selling to mid-market and enterprise,
# tech-forward companies in North America and Western Europe, through decision makers. Empty list = criterion off.
DEFAULT_ICP: dict[str, list[str]] = {
    "industries": ["Software", "SaaS", "Information Technology", "Internet", "Fintech", "Healthcare Technology",
                   "E-commerce"],
    "size_bands": ["50-199", "200-999", "1000-4999"],
    "countries": ["United States", "Canada", "United Kingdom", "Germany", "Netherlands", "France", "Sweden",
                  "Denmark", "Norway", "Finland", "Switzerland", "Austria", "Ireland", "Australia"],
    "seniorities": ["owner_founder", "c_level", "vp", "head", "director"],
}
ICP_CRITERIA = {  # output flag: (config key, source column)
    "icp_industry": ("industries", "industry"),
    "icp_company_size": ("size_bands", "employees"),
    "icp_country": ("countries", "country"),
    "icp_seniority": ("seniorities", "job_title"),
}
ICP_LABELS = {  # flag: (text when on, text when off)
    "icp_industry": ("Industry in the ideal customer profile", "Industry outside the ideal customer profile"),
    "icp_company_size": ("Company size in the ideal customer profile", "Company size outside the ideal customer profile"),
    "icp_country": ("Country in the ideal customer profile", "Country outside the ideal customer profile"),
    "icp_seniority": ("Decision-maker seniority (ideal customer profile)",
                      "Not a decision-maker seniority (ideal customer profile)"),
}
COUNTRY_ALIASES = {  # common codes in CRM exports -> the names used in the ICP list
    "us": "united states", "usa": "united states", "u.s.": "united states", "u.s.a.": "united states",
    "united states of america": "united states", "uk": "united kingdom", "gb": "united kingdom",
    "great britain": "united kingdom", "england": "united kingdom", "ca": "canada", "de": "germany",
    "deutschland": "germany", "nl": "netherlands", "the netherlands": "netherlands", "holland": "netherlands",
    "fr": "france", "se": "sweden", "dk": "denmark", "no": "norway", "fi": "finland", "ch": "switzerland",
    "at": "austria", "ie": "ireland", "au": "australia",
}
BANT_ROLES = ["budget", "authority", "need", "timeline"]
YES_WORDS = {"yes", "y", "true", "1", "approved", "allocated", "confirmed", "available", "decision maker",
             "decision-maker", "final say", "sign-off", "signer"}
HIGH_NEED_WORDS = {"high", "critical", "urgent", "very high", "strong", "must have", "must-have", "yes", "true", "1"}
BANT_POSITIVE_MONTHS = 6  # a purchase timeline within this many months counts as a positive answer

DEPARTMENT_LABELS = {"hr": "HR", "other": "unrecognised", "unknown": "no title"}
EMAIL_TYPE_LABELS = {"corporate": "company address", "free_mail": "free-mail", "disposable": "throw-away",
                     "missing": "none"}

ROLE_LABELS = {
    "industry": "Industry: {value}", "country": "Country: {value}", "lead_source": "Lead source: {value}",
    "budget": "Has budget: {value}", "authority": "Decision maker: {value}", "need": "Need: {value}",
    "timeline": "Buying timeline: {value}",
}


class ProfileFeatures(BaseEstimator):
    """Stateless per-lead fit features; fit() only records which generic columns exist and their kind."""

    def __init__(self, exclude: Sequence[str] = (), max_text_length: int = 200,
                 icp: Mapping[str, Sequence[str]] | None = None):
        self.exclude = exclude
        self.max_text_length = max_text_length
        self.icp = icp

    def fit(self, leads: pd.DataFrame, y: object = None) -> ProfileFeatures:
        excluded = set(self.exclude) | HANDLED_ROLES
        generic = [c for c in leads.columns if c not in excluded]
        self.numeric_generic_ = [c for c in generic if _is_numeric(leads[c])]
        self.categorical_generic_ = [c for c in generic if c not in self.numeric_generic_]
        self.roles_present_ = [r for r in CATEGORICAL_ROLES if r in leads.columns and r not in self.exclude]
        icp = {**DEFAULT_ICP, **(self.icp or {})}
        self.icp_criteria_ = {flag: [str(v) for v in icp[key]] for flag, (key, col) in ICP_CRITERIA.items()
                              if icp.get(key) and col in leads.columns and col not in self.exclude}
        self.bant_roles_ = [r for r in BANT_ROLES if r in leads.columns and r not in self.exclude]
        self.feature_names_out_ = self._names()
        return self

    def _names(self) -> list[str]:
        fixed = ["title_seniority", "title_department", "company_size_band", "employees", "annual_revenue",
                 "email_domain_type", "form_completeness"]
        fixed = [n for n in fixed if n not in self._excluded_fixed()]
        extra = [*getattr(self, "icp_criteria_", {}), *(["icp_match"] if getattr(self, "icp_criteria_", None) else []),
                 *(["bant_score"] if getattr(self, "bant_roles_", None) else [])]
        return [*fixed, *self.roles_present_, *self.numeric_generic_, *self.categorical_generic_, *extra]

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
        """Labels, and the sources whose derived features read as one reason: the job title (seniority,
        department, ICP seniority), the company size (band, count, ICP size), industry and country (with
        their ICP flag), the email address (with the quality flags) and the BANT answers (with their score)."""
        labels = {
            "title_seniority": "Seniority from the job title: {value}",
            "title_department": "Department from the job title: {value}",
            "company_size_band": "Company size: {value} employees",
            "employees": "Company size: {value:,} employees",
            "annual_revenue": "Annual revenue: {value:compact}",
            "email_domain_type": "Email address: {value}",
            "form_completeness": "Profile {value:.0%} complete",
            "bant_score": "{value} of the BANT answers positive (budget, decision maker, high need, buying within "
                          f"{BANT_POSITIVE_MONTHS} months)",
            **ROLE_LABELS,
        }
        displays = {"title_seniority": SENIORITY_LABELS, "title_department": DEPARTMENT_LABELS,
                    "email_domain_type": EMAIL_TYPE_LABELS}
        generic = {*self.numeric_generic_, *self.categorical_generic_}
        bant = "bant" if "bant" not in generic else "bant_answers"
        sources = {  # feature: (source, part, describer)
            "title_seniority": ("job_title", "seniority", "title"), "title_department": ("job_title", "department", "title"),
            "icp_seniority": ("job_title", "icp", "title"),
            "company_size_band": ("employees", "band", "size"), "employees": ("employees", "count", "size"),
            "icp_company_size": ("employees", "icp", "size"),
            "email_domain_type": ("email", "type", "email"),
            "industry": ("industry", "value", "category"), "icp_industry": ("industry", "icp", "category"),
            "country": ("country", "value", "category"), "icp_country": ("country", "icp", "category"),
            **{role: (bant, role, "bant") for role in BANT_ROLES}, "bant_score": (bant, "score", "bant"),
        }
        cats = set(self.categorical_features())
        n_criteria = len(getattr(self, "icp_criteria_", {}))
        info = {}
        for name in self.feature_names_out_:
            group = "quality" if name == "email_domain_type" else "fit"
            source, part, describer = sources.get(name, ("", "", "")) if name not in generic else ("", "", "")
            extra: dict[str, Any] = {"source": source, "part": part, "describer": describer,
                                     "display": displays.get(name)}
            if name in ICP_LABELS:
                on, off = ICP_LABELS[name]
                info[name] = FeatureInfo(name, group, on, "flag", negated=off, **extra)
                continue
            if name == "icp_match":
                label = f"Meets {{value}} of {n_criteria} ideal-customer-profile criteria"
                extra |= {"part": "count", "describer": "criteria", "params": {"of": n_criteria}}  # worded by its sign
                info[name] = FeatureInfo(name, group, label, "numeric", digits=0, scale=float(n_criteria), **extra)
                continue
            if name == "email_domain_type":
                extra["params"] = EMAIL_REASON
            label = labels.get(name, humanise(name) + ": {value}")
            kind = "categorical" if name in cats else "numeric"
            digits = 2 if name == "form_completeness" else 0 if name in ("employees", "annual_revenue", "bant_score") else 1
            info[name] = FeatureInfo(name, group, label, kind, digits=digits, **extra)
        return info

    def transform(self, leads: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=leads.index)
        job_titles = leads["job_title"] if "job_title" in leads else pd.Series(None, index=leads.index, dtype=object)
        titles = parse_titles(job_titles)
        out["title_seniority"] = titles["title_seniority"]
        out["title_department"] = titles["title_department"]
        employees = _numeric(leads, "employees")
        out["company_size_band"] = size_band(employees)
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
        criteria = getattr(self, "icp_criteria_", {})
        if criteria:
            derived = {"icp_company_size": out["company_size_band"], "icp_seniority": out["title_seniority"]}
            for flag, wanted in criteria.items():
                source = derived.get(flag)
                if source is None:
                    column = ICP_CRITERIA[flag][1]
                    source = leads[column] if column in leads else pd.Series(None, index=leads.index, dtype=object)
                out[flag] = icp_flag(source, wanted, countries=flag == "icp_country")
            out["icp_match"] = out[list(criteria)].mean(axis=1)
        if getattr(self, "bant_roles_", None):
            out["bant_score"] = bant_score(leads, self.bant_roles_)
        return out[self.feature_names_out_].reset_index(drop=True)


def size_band(employees: pd.Series) -> pd.Series:
    """Employee count -> SIZE_LABELS band ('unknown' when missing or negative)."""
    values = employees.to_numpy(dtype=float, na_value=np.nan)
    band = np.searchsorted(np.asarray(SIZE_BANDS[1:-1], dtype=float), values, side="right")
    labels = np.array([*SIZE_LABELS, "unknown"], dtype=object)
    band[~(values >= 0)] = len(SIZE_LABELS)  # NaN and negative
    return pd.Series(labels[band], index=employees.index, dtype="str")


def _normalise(values: pd.Series, countries: bool = False) -> tuple[np.ndarray, list[str]]:
    """Codes and distinct values, trimmed, lower-cased and (for countries) with common codes resolved."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = [str(u).strip().lower() for u in uniques.tolist()]
    if countries:
        texts = [COUNTRY_ALIASES.get(t, t) for t in texts]
    return codes, texts


def icp_flag(values: pd.Series, wanted: Sequence[str], countries: bool = False) -> np.ndarray:
    """1.0 where the value is one of `wanted` (case-insensitive), else 0.0 (missing counts as not matched)."""
    wanted_norm = {COUNTRY_ALIASES.get(w.strip().lower(), w.strip().lower()) if countries else w.strip().lower()
                   for w in wanted}
    codes, texts = _normalise(values, countries)
    hit = np.array([t in wanted_norm for t in texts] + [False], dtype=float)
    return hit[codes]


def timeline_months(text: object) -> float:
    """The latest purchase date a timeline answer allows, in months ('<3 months' -> 3, '3-6 months' -> 6,
    '>12 months' -> 12.5, 'this quarter' -> 3, 'ASAP' -> 0); NaN when it cannot be read."""
    if not isinstance(text, str) or not text.strip():
        return np.nan
    t = text.strip().lower()
    words = {"immediately": 0, "immediate": 0, "asap": 0, "now": 0, "this week": 0, "this month": 1,
             "next month": 2, "this quarter": 3, "next quarter": 6, "this year": 12, "next year": 24,
             "no timeline": np.inf, "not sure": np.nan, "unknown": np.nan, "never": np.inf}
    if t in words:
        return float(words[t])
    unit = 1.0
    if re.search(r"\bday", t):
        unit = 1 / 30.0
    elif re.search(r"\bweek", t):
        unit = 12 / 52.0
    elif re.search(r"\byear", t):
        unit = 12.0
    numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", t)]
    if not numbers:
        return np.nan
    more = t.startswith((">", "over", "more than", "after", "beyond", "longer than")) or re.search(r"\d\s*\+", t) is not None
    return (max(numbers) + 0.5 if more else max(numbers)) * unit


def bant_score(leads: pd.DataFrame, roles: Sequence[str]) -> np.ndarray:
    """Positive BANT answers: budget yes, authority (decision maker) yes, need high, timeline within
    BANT_POSITIVE_MONTHS months. Missing or unreadable answers count as not positive."""
    score = np.zeros(len(leads))
    for role in roles:
        if role not in leads:
            continue
        codes, texts = _normalise(leads[role])
        if role == "timeline":
            positive = [timeline_months(t) <= BANT_POSITIVE_MONTHS for t in texts]
        elif role == "need":
            positive = [t in HIGH_NEED_WORDS for t in texts]
        else:
            positive = [t in YES_WORDS for t in texts]
        score += np.array([*positive, False], dtype=float)[codes]
    return score


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
    """Trimmed, truncated text; blank, 'Select' and missing become 'missing' (each distinct value once)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    cleaned = [str(u).strip()[:max_len] for u in uniques.tolist()]
    mapped = np.array([c if c not in ("", "Select") else "missing" for c in cleaned] + ["missing"], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype="str")


def _email_domain_type(leads: pd.DataFrame) -> pd.Series:
    from features.quality import FREE_MAIL, disposable_mask

    if "email" not in leads:
        return pd.Series("missing", index=leads.index)
    _, domain = email_parts(leads["email"])
    kind = np.full(len(leads), "corporate", dtype=object)
    kind[domain.isin(FREE_MAIL).fillna(False).to_numpy(dtype=bool)] = "free_mail"
    kind[disposable_mask(domain)] = "disposable"
    kind[leads["email"].isna().to_numpy()] = "missing"
    return pd.Series(kind, index=leads.index, dtype="str")
