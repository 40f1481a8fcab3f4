"""The accounts step of a scored batch: the leads rolled up by company into OUT.accounts.EXT.

Parts are keyed by e-mail hash, so the colleagues of one company land in different parts: the step keeps a
few small columns per lead (account, probability, score, engagement score, buying role) and the positive
reasons pre-summed per (account, reason) of each part, and rolls up once at `finish` (models/accounts.py).

Memory: about 60 bytes per lead with an account (lead id, account code, four numbers, role code) plus one
row per (account, reason) of each part (a few per account), so a million leads take well under 200 MB;
the top_reasons texts are never kept.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from models.accounts import ACCOUNT_COLUMNS, ROLE_COLUMNS, EngagedRule, account_key, buying_role, roll_up
from models.reasons import explode_reasons, join_slots
from pipeline.errors import InputError
from pipeline.inputs.io import write_table
from pipeline.scoring.steps import Batch

log = logging.getLogger(__name__)
TOP_REASONS = 3
LEAD_FIELDS = ["lead_id", "probability", "score", "engagement_score"]


def accounts_path(output: Path) -> Path:
    """scores.parquet -> scores.accounts.parquet, beside the scores (same format)."""
    return output.with_name(f"{output.stem}.accounts{output.suffix}")


class AccountStep:
    """BatchStep: collects per part, rolls up at finish, writes OUT.accounts.EXT atomically."""

    columns: list[str] = []

    def __init__(self, column: str | None = "account_id", engaged: EngagedRule = EngagedRule(),
                 grade_cutoffs: dict[str, float] | None = None, roles: bool = True):
        self.column, self.engaged, self.grade_cutoffs, self.roles = column, engaged, grade_cutoffs, roles
        self.use_column: bool | None = None  # decided on the first part: does the leads file have `column`?
        self.leads: list[pd.DataFrame] = []
        self.reasons: list[pd.DataFrame] = []
        self.scored = 0

    def start(self, batch: Batch) -> None:
        self.leads, self.reasons, self.scored, self.use_column = [], [], 0, None

    def part(self, scores: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
        self.scored += len(scores)
        keys, roles = self._lead_keys(scores, leads)
        has = keys.notna().to_numpy()
        if not has.any():
            return scores
        rows = scores.loc[has]
        small = pd.DataFrame({c: rows[c].to_numpy() for c in LEAD_FIELDS if c in rows})
        small["probability"] = small["probability"].astype(np.float32)
        if "engagement_score" in small:
            small["engagement_score"] = pd.to_numeric(small["engagement_score"], errors="coerce").astype(np.float32)
        small["account"] = pd.Categorical(keys[has].to_numpy())
        small["role"] = pd.Categorical(roles[has].to_numpy()) if roles is not None else pd.Categorical([None] * len(small))
        self.leads.append(small)
        if "top_reasons" in rows:
            self.reasons.append(part_reasons(rows["top_reasons"], small["account"].array))
        return scores

    def _lead_keys(self, scores: pd.DataFrame, leads: pd.DataFrame) -> tuple[pd.Series, pd.Series | None]:
        """Account key and buying role of each scored lead (aligned with `scores`), from the input leads."""
        if self.use_column is None:
            self.use_column = self.column is not None and self.column in leads.columns
            if self.column is not None and not self.use_column:
                log.info("accounts: the leads have no %r column; accounts are company e-mail domains", self.column)
        if "lead_id" not in leads.columns:
            raise InputError("accounts: the input leads have no lead_id column")
        at = pd.Index(leads["lead_id"].astype(str)).get_indexer(scores["lead_id"].astype(str))
        if (at < 0).any():
            raise InputError(f"accounts: {int((at < 0).sum())} scored leads are missing from their input part")
        leads = leads.iloc[at]
        key = account_key(leads, self.column if self.use_column else None).reset_index(drop=True)
        role = None
        if self.roles and "job_title" in leads.columns:
            role = buying_role(leads["job_title"].reset_index(drop=True))
        return key.set_axis(scores.index), (role.set_axis(scores.index) if role is not None else None)

    def finish(self, batch: Batch) -> dict[str, Any]:
        accounts = self.roll_up()
        target = write_table(accounts, accounts_path(batch.output))
        in_accounts = int(accounts["leads"].sum()) if len(accounts) else 0
        return {"accounts_output": str(target), "accounts": len(accounts),
                "leads_without_account": self.scored - in_accounts,
                "accounts_grades": {g: int((accounts["account_grade"] == g).sum()) for g in "ABCD"}}

    def roll_up(self) -> pd.DataFrame:
        """ACCOUNT_COLUMNS (+ ROLE_COLUMNS), best account first, from what the parts left."""
        columns = ACCOUNT_COLUMNS + (ROLE_COLUMNS if self.roles else [])
        if not self.leads:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        leads = pd.concat([f.drop(columns=["account", "role"]) for f in self.leads], ignore_index=True)
        account = union_categoricals([f["account"] for f in self.leads])
        role = union_categoricals([f["role"] for f in self.leads]) if self.roles else None
        self.leads = []
        keys = pd.Series(account.astype(object))
        roles = pd.Series(role.astype(object)) if role is not None and role.notna().any() else None
        out = roll_up(leads, keys, roles, engaged=self.engaged, grade_cutoffs=self.grade_cutoffs)
        reasons = account_reasons(self.reasons, out["account"])
        self.reasons = []
        out["top_reasons"] = reasons
        if self.roles and roles is None:  # no job titles: roles unknown
            for c in ROLE_COLUMNS:
                out[c] = False if c.startswith("has_") else 0.0
        return out[columns]


def part_reasons(top_reasons: pd.Series, account: pd.Categorical) -> pd.DataFrame:
    """The positive reasons of one part summed per (account, label): account, label, feature, contribution,
    leads. Leads are in one part only, so the sums and counts of the parts add up. Grouped on integer
    codes; only the summed rows get their texts back."""
    long = explode_reasons(top_reasons.reset_index(drop=True))
    labels, features = long["label"].cat, long["feature"].cat
    keep = (long["contribution"] > 0).to_numpy() & (labels.codes >= 0).to_numpy()
    rows = long["row"].to_numpy()[keep]
    frame = pd.DataFrame({"account": np.asarray(account.codes)[rows], "label": labels.codes.to_numpy()[keep],
                          "feature": features.codes.to_numpy()[keep], "contribution": long["contribution"].to_numpy()[keep]})
    summed = (frame.groupby(["account", "label"], sort=False)
              .agg(feature=("feature", "max"), contribution=("contribution", "sum"), leads=("contribution", "size"))
              .reset_index())
    feature_words = np.append(np.asarray(features.categories, dtype=object), None)  # code -1 -> None
    return pd.DataFrame({"account": np.asarray(account.categories, dtype=object)[summed["account"].to_numpy()],
                         "label": np.asarray(labels.categories, dtype=object)[summed["label"].to_numpy()],
                         "feature": feature_words[summed["feature"].to_numpy()],
                         "contribution": summed["contribution"].to_numpy(), "leads": summed["leads"].to_numpy()})


def account_reasons(parts: list[pd.DataFrame], accounts: pd.Series) -> np.ndarray:
    """Per account (in `accounts`' order) a JSON list of its TOP_REASONS strongest positive reasons merged by
    label across its leads, as models.accounts.roll_up writes them ({"feature", "label", "contribution",
    "leads"}), "[]" for none. Grouped on integer codes (labels coded in sorted order, for ties)."""
    n = len(accounts)
    parts = [p for p in parts if len(p)]
    if not parts or n == 0:
        return np.full(n, "[]", dtype=object)
    rows = pd.concat(parts, ignore_index=True)
    label, labels = pd.factorize(rows["label"], sort=True)
    feature, features = pd.factorize(rows["feature"], sort=True)
    frame = pd.DataFrame({"code": pd.Index(accounts.astype(str)).get_indexer(rows["account"].astype(str)),
                          "label": label, "feature": feature, "contribution": rows["contribution"].to_numpy(),
                          "leads": rows["leads"].to_numpy()})
    merged = (frame.loc[frame["code"] >= 0].groupby(["code", "label"], sort=False)
              .agg(feature=("feature", "max"), contribution=("contribution", "sum"), leads=("leads", "sum"))
              .reset_index()
              .sort_values(["code", "contribution", "label"], ascending=[True, False, True], kind="stable"))
    merged["slot"] = merged.groupby("code", sort=False).cumcount().to_numpy()
    merged = merged.loc[merged["slot"] < TOP_REASONS]
    piece = ('{"feature": ' + json_texts(features)[merged["feature"].to_numpy()]
             + ', "label": ' + json_texts(labels)[merged["label"].to_numpy()]
             + ', "contribution": ' + merged["contribution"].round(4).astype(str).to_numpy(dtype=object)
             + ', "leads": ' + merged["leads"].astype(str).to_numpy(dtype=object) + "}")
    return "[" + join_slots(piece, merged["code"].to_numpy(), merged["slot"].to_numpy(), n, ", ") + "]"


def json_texts(words: pd.Index) -> np.ndarray:
    """json.dumps of each distinct text once; a code of -1 (missing) indexes the trailing 'null'."""
    return np.array([json.dumps(str(w), ensure_ascii=False) for w in words] + ["null"], dtype=object)
