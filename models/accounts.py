"""Account scoring: the leads of one company rolled up into one row sales can work (account-based selling).

B2B deals are bought by a group of people at one company, so a sales team asks "which accounts are warm",
not only "which people". An account is an account id column when the CRM has one, else the company e-mail
domain (`account_key`); each lead's buying role comes from its job title (`buying_role`); `roll_up` gives
per account the chance that at least one lead converts, its engaged people, its best lead, a grade, the
reasons that recur across its leads and how complete its buying group is. Everything is column work
(factorize, groupby, sort), so a million leads roll up in seconds.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.quality import company_email_domain
from features.titles import parse_titles
from models.grades import GRADES
from models.reasons import explode_reasons, join_slots

ROLES = ("decision_maker", "champion", "user")
ROLE_OF_SENIORITY = {  # features.titles seniority -> buying role
    "owner_founder": "decision_maker", "c_level": "decision_maker", "vp": "decision_maker",
    "head": "champion", "director": "champion", "manager": "champion",
    "senior": "user", "individual": "user",
    # interns and students rarely count in a buying group; blank titles say nothing
    "intern_student": "unknown", "unknown": "unknown",
}
ACCOUNT_COLUMNS = ["account", "leads", "engaged_leads", "p_any", "best_lead_id", "best_score", "account_score",
                   "account_grade", "top_reasons"]
ROLE_COLUMNS = ["has_decision_maker", "has_champion", "has_user", "buying_group_completeness"]
DEFAULT_GRADE_SHARES = {"A": 0.1, "B": 0.2, "C": 0.3}  # as the lead grades: top 10% of accounts A, next 20% B ...
TOP_ACCOUNT_REASONS = 3


def account_key(leads: pd.DataFrame, account_column: str | None = None) -> pd.Series:
    """The account of each lead (aligned with `leads`), missing when it has none.

    With `account_column` (a CRM account id): its values as text, trimmed; blanks are no account. Without:
    the lower-cased domain of the lead's e-mail address (`features.quality.company_email_domain`), so the
    colleagues at acme.com form one account. Free-mail, throw-away and mistyped free-mail addresses give
    no account: gmail.com is not a company. Subdomains are kept (eu.acme.com is its own account): telling
    a subsidiary from a mail server needs data this layer does not have."""
    if account_column is not None:
        if account_column not in leads.columns:
            raise ValueError(f"account column {account_column!r} is not in the leads (columns: {list(leads.columns)[:8]})")
        key = leads[account_column].astype("string").str.strip()
        return key.where(key != "").astype("str")
    if "email" not in leads.columns:
        return pd.Series(np.nan, index=leads.index, dtype="str")
    return company_email_domain(leads["email"])


def buying_role(job_titles: pd.Series) -> pd.Series:
    """'decision_maker' (owner / founder / CEO, C-level, VP), 'champion' (head of, director, manager: the
    people who push a purchase inside the company), 'user' (senior and individual contributors) or
    'unknown' (no title, interns and students), from features.titles' seniority. A title whose seniority
    the parser does not recognise but whose department it does ("Marketing", "Sales team") reads as a
    user; one with neither is unknown. Parses each distinct title once."""
    parsed = parse_titles(job_titles)
    role = parsed["title_seniority"].map(ROLE_OF_SENIORITY)
    other = parsed["title_seniority"].eq("other")
    known_department = ~parsed["title_department"].isin(["other", "unknown"])
    role = role.where(~other, np.where(known_department, "user", "unknown"))
    return role.fillna("unknown").astype("str")


@dataclass(frozen=True)
class EngagedRule:
    """A lead is engaged when its engagement features raised its score: `engagement_score` (the summed
    SHAP contributions of the engagement features, log-odds) above `min_engagement`; or, when
    `min_score` is set, when its score reaches it. Leads scored without reasons have no engagement
    score and count as engaged only through `min_score`."""

    min_engagement: float | None = 0.0
    min_score: float | None = None

    def mask(self, scores: pd.DataFrame) -> np.ndarray:
        engaged = np.zeros(len(scores), dtype=bool)
        if self.min_engagement is not None and "engagement_score" in scores:
            engagement = pd.to_numeric(scores["engagement_score"], errors="coerce").to_numpy(dtype=float)
            engaged |= np.nan_to_num(engagement, nan=-np.inf) > self.min_engagement
        if self.min_score is not None:
            engaged |= pd.to_numeric(scores["score"], errors="coerce").fillna(-np.inf).to_numpy() >= self.min_score
        return engaged


def roll_up(scores: pd.DataFrame, keys: pd.Series, roles: pd.Series | None = None,
            engaged: EngagedRule = EngagedRule(), grade_shares: Mapping[str, float] | None = None,
            grade_cutoffs: Mapping[str, float] | None = None) -> pd.DataFrame:
    """One row per account (ACCOUNT_COLUMNS, plus ROLE_COLUMNS with `roles`), best account first.

    `scores` are predict's rows (lead_id, probability, score, engagement_score, top_reasons); `keys` and
    `roles` are aligned with them by position (account_key, buying_role); leads without an account are
    left out.
    - `p_any` = 1 - prod(1 - p_i): the chance that at least one of the account's leads converts, if the
      leads converted independently. Colleagues are not independent (one deal converts them together),
      so it is an upper-ish estimate: read it as a ranking of accounts more than as a calibrated rate.
    - `account_score` = floor(100 p_any), 0-100, so it means the same across batches.
    - `account_grade`: with `grade_cutoffs` ({"A": 0.5, "B": 0.25, "C": 0.1}) the lowest p_any of each grade;
      otherwise by shares of this batch's accounts ranked by p_any (`grade_shares`, default A = top 10%,
      B the next 20%, C the next 30%, D the rest; ties share the better grade).
    - `best_lead_id` / `best_score`: the lead with the highest probability (then score, then lead_id).
    - `top_reasons`: JSON list of at most 3 positive reasons across the account's leads, merged by label
      (contributions summed, `leads` = how many leads have it), strongest first.
    - buying group: `has_decision_maker`, `has_champion`, `has_user`, and their share
      `buying_group_completeness` (0, 1/3, 2/3 or 1)."""
    key = pd.Series(np.asarray(keys, dtype=object), dtype="str")
    if len(key) != len(scores):
        raise ValueError(f"{len(key)} account keys for {len(scores)} scored leads")
    has = key.notna().to_numpy()
    codes, accounts = pd.factorize(key[has], sort=False)
    rows = scores.loc[has].reset_index(drop=True) if not has.all() else scores.reset_index(drop=True)
    n_accounts = len(accounts)
    p = np.clip(pd.to_numeric(rows["probability"], errors="coerce").fillna(0).to_numpy(dtype=float), 0, 1)
    frame = pd.DataFrame({"code": codes, "p": p, "score": pd.to_numeric(rows["score"], errors="coerce").to_numpy(),
                          "lead_id": rows["lead_id"].astype(str).to_numpy(), "engaged": engaged.mask(rows)})
    group = frame.groupby("code", sort=True)
    p_any = 1.0 - (1.0 - frame["p"]).groupby(frame["code"], sort=True).prod()
    best = frame.sort_values(["code", "p", "score", "lead_id"], ascending=[True, False, False, True], kind="stable")
    best = best.drop_duplicates("code", keep="first").set_index("code")
    out = pd.DataFrame({
        "account": np.asarray(accounts, dtype=object),
        "leads": group.size().to_numpy(),
        "engaged_leads": group["engaged"].sum().to_numpy().astype(np.int64),
        "p_any": p_any.to_numpy(),
        "best_lead_id": best["lead_id"].to_numpy(),
        "best_score": best["score"].to_numpy(),
    }, index=pd.RangeIndex(n_accounts))
    out["account_score"] = np.clip(np.floor(out["p_any"].to_numpy() * 100 + 1e-9), 0, 100).astype(np.int64)
    out["account_grade"] = account_grades(out["p_any"].to_numpy(), grade_shares, grade_cutoffs)
    out["top_reasons"] = _account_reasons(rows["top_reasons"], codes, n_accounts) if "top_reasons" in rows else "[]"
    if roles is not None:
        role = pd.Series(np.asarray(roles, dtype=object)[has], dtype="str")
        for name in ROLES:
            out[f"has_{name}"] = np.bincount(codes[(role == name).to_numpy()], minlength=n_accounts) > 0
        out["buying_group_completeness"] = out[[f"has_{r}" for r in ROLES]].sum(axis=1) / len(ROLES)
    return out.sort_values(["p_any", "best_score", "account"], ascending=[False, False, True],
                           kind="stable").reset_index(drop=True)


def account_grades(p_any: np.ndarray, shares: Mapping[str, float] | None = None,
                   cutoffs: Mapping[str, float] | None = None) -> np.ndarray:
    """A-D per account: by p_any cut-offs when given (grade g from cutoffs[g] up), else by shares of the
    accounts ranked by p_any (rank from the top / number of accounts within the cumulative share; ties
    take the best rank, so equal accounts share a grade)."""
    p_any = np.asarray(p_any, dtype=float)
    out = np.full(len(p_any), GRADES[-1], dtype=object)
    if cutoffs is not None:
        for g in reversed(GRADES[:-1]):
            out[p_any >= cutoffs[g]] = g
        return out
    shares = shares if shares is not None else DEFAULT_GRADE_SHARES
    position = pd.Series(p_any).rank(method="min", ascending=False).to_numpy() / max(len(p_any), 1)
    top = np.cumsum([shares[g] for g in GRADES[:-1]])
    for g, share in reversed(list(zip(GRADES[:-1], top))):
        out[position <= share + 1e-12] = g
    return out


def _account_reasons(reasons: pd.Series, codes: np.ndarray, n_accounts: int) -> np.ndarray:
    """Per account, a JSON list of its strongest positive reasons merged by label across its leads
    (integer codes throughout: the account and the label's category code)."""
    long = explode_reasons(reasons)
    long = long.loc[(long["contribution"] > 0).to_numpy() & (long["label"].cat.codes >= 0).to_numpy()]
    if long.empty:
        return np.full(n_accounts, "[]", dtype=object)
    labels, features = long["label"].cat, long["feature"].cat
    merged = (pd.DataFrame({"code": codes[long["row"].to_numpy()], "label": labels.codes.to_numpy(),
                            "feature": features.codes.to_numpy(), "contribution": long["contribution"].to_numpy()})
              .groupby(["code", "label"], sort=False)
              .agg(feature=("feature", "max"), contribution=("contribution", "sum"), leads=("contribution", "size"))
              .reset_index()  # sorted categories: label codes order labels alphabetically for ties
              .sort_values(["code", "contribution", "label"], ascending=[True, False, True], kind="stable"))
    merged = merged.assign(slot=merged.groupby("code").cumcount().to_numpy())
    merged = merged.loc[merged["slot"] < TOP_ACCOUNT_REASONS]
    feature_json, label_json = _json_texts(features.categories), _json_texts(labels.categories)
    piece = ('{"feature": ' + _gather(feature_json, merged["feature"])
             + ', "label": ' + label_json[merged["label"].to_numpy()]
             + ', "contribution": ' + merged["contribution"].round(4).astype(str).to_numpy(dtype=object)
             + ', "leads": ' + merged["leads"].astype(str).to_numpy(dtype=object) + "}")
    joined = join_slots(piece, merged["code"].to_numpy(), merged["slot"].to_numpy(), n_accounts, ", ")
    return "[" + joined + "]"


def _gather(texts: np.ndarray, codes: pd.Series) -> np.ndarray:
    """texts[code], 'null' for a missing category (-1)."""
    codes = codes.to_numpy()
    return np.where(codes >= 0, texts[np.maximum(codes, 0)], "null").astype(object)


def _json_texts(words: pd.Index) -> np.ndarray:
    """json.dumps of each category once (categories are the distinct texts, not the rows)."""
    return np.array([json.dumps(str(w), ensure_ascii=False) for w in words], dtype=object)
