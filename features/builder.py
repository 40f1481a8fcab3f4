"""The lead-level feature table: profile (fit), engagement and quality features for (lead, as_of) rows."""
from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from features.engagement import EngagementFeatures
from features.event_log import to_days
from features.metadata import FeatureInfo
from features.profile import ProfileFeatures
from features.quality import EMAIL_SERVICE, QUALITY_FLAGS, burst_size, email_service, junk_rule, quality_flags, quality_info

ID_COLUMNS = ["lead_id", "as_of"]
# Profile outputs kept in float64: amounts and user columns of unknown range, whose digits show in reasons.
# Every other float output (engagement counts, decays, days, ratios, 0/1 flags, scores, head counts below
# 2**24) is exact or far more precise than it is meaningful in float32, which halves the table.
FLOAT64_PROFILE = ("annual_revenue",)


class LeadFeatureBuilder(BaseEstimator):
    """Builds one row per (lead, as_of) with only what was known before as_of.

    Output columns: lead_id, as_of, the features (see `feature_names_out_`), `junk_flag` (quality.junk_rule:
    the profile rules, plus a bot-like burst of at least `bot_burst_events` activities within an hour together
    with a weak profile signal, when events are used), and `email_service` (quality.email_service: the public
    mail service of a free-mail or throw-away address, for the wording of reasons; not a model feature).
    """

    def __init__(self, exclude: Sequence[str] = (), engagement: dict[str, Any] | None = None, use_events: bool = True,
                 icp: dict[str, Any] | None = None, bot_burst_events: int = 15):
        self.exclude = exclude
        self.engagement = engagement
        self.use_events = use_events
        self.icp = icp
        self.bot_burst_events = bot_burst_events

    def fit(self, leads: pd.DataFrame, events: pd.DataFrame | None = None) -> LeadFeatureBuilder:
        self.profile_ = ProfileFeatures(exclude=self.exclude, icp=self.icp).fit(leads)
        self.engagement_ = None
        if self.use_events and events is not None:
            self.engagement_ = EngagementFeatures(**(self.engagement or {})).fit(events)
        self.has_age_ = "created_at" in leads.columns and leads["created_at"].notna().any()
        self.feature_names_out_ = self._names()
        return self

    def _names(self) -> list[str]:
        names = list(self.profile_.feature_names_out_) + list(QUALITY_FLAGS)
        if self.has_age_:
            names.append("lead_age_days")
        if self.engagement_ is not None:
            names += list(self.engagement_.feature_names_out_)
        return names

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(self.feature_names_out_, dtype=object)

    def categorical_features(self) -> list[str]:
        return self.profile_.categorical_features()

    def feature_info(self) -> dict[str, FeatureInfo]:
        info = {**self.profile_.feature_info(), **quality_info()}
        info["lead_age_days"] = FeatureInfo("lead_age_days", "engagement", "Lead created {value}", "days")
        if self.engagement_ is not None:
            profile_sources = {i.source_name for i in info.values()}
            for name, meta in self.engagement_.feature_info().items():
                if meta.source_name in profile_sources and meta.source_name != name:  # an event type named like a column
                    meta = replace(meta, source=f"{meta.source_name}_events")
                info[name] = meta
        return {n: info[n] for n in self.feature_names_out_}

    def transform(self, leads: pd.DataFrame, events: pd.DataFrame | None,
                  as_of: pd.Timestamp | pd.Series | None) -> pd.DataFrame:
        """Features for every lead in `leads` as of `as_of` (one date, or one per row)."""
        leads = leads.reset_index(drop=True)
        static, flags = self._static(leads)
        as_of_values = _as_of_series(as_of, len(leads))
        parts = [leads[["lead_id"]], as_of_values.rename("as_of").to_frame(), static]
        if self.has_age_:
            age = to_days(as_of_values) - to_days(leads["created_at"])
            parts.append(self._compact(pd.DataFrame({"lead_age_days": age})))
        burst = None
        if self.engagement_ is not None:
            ev = events if events is not None else _empty_events()
            eng = self.engagement_.transform(ev, leads["lead_id"], as_of_values)
            burst = burst_size(eng)
            parts.append(self._compact(eng))  # cast part by part: never a float64 copy of the whole table
            del eng
        out = pd.concat(parts, axis=1)
        out["junk_flag"] = junk_rule(flags, burst, getattr(self, "bot_burst_events", 15))
        out[EMAIL_SERVICE] = pd.Series(flags[EMAIL_SERVICE].to_numpy(), index=out.index, dtype="str")
        return self._compact(out)

    def float32_columns(self) -> list[str]:
        """The numeric features stored as float32: all but `FLOAT64_PROFILE` and the generic numeric columns."""
        keep64 = {*FLOAT64_PROFILE, *getattr(self.profile_, "numeric_generic_", []), *self.categorical_features()}
        return [n for n in self.feature_names_out_ if n not in keep64]

    def _compact(self, table: pd.DataFrame) -> pd.DataFrame:
        """float64 -> float32 for `float32_columns` (training tables are ~150 float columns x millions of rows)."""
        cast = [c for c in self.float32_columns() if c in table and table[c].dtype == np.float64]
        if len(cast) == table.shape[1]:  # e.g. the engagement block: cast whole, it stays one block
            return table.astype(np.float32)
        return table.astype(dict.fromkeys(cast, np.float32)) if cast else table

    def with_half_life(self, half_life_days: float) -> LeadFeatureBuilder:
        """This fitted builder with another decay half-life (a points rule set's own). Nothing it learns in
        `fit` depends on the half-life, and only `half_life_columns()` change, so a table built by this builder
        can be derived from one of the original by recomputing those columns (`transform_half_life`)."""
        out = copy.copy(self)
        out.engagement = {**(self.engagement or {}), "half_life_days": half_life_days}
        if self.engagement_ is not None:
            out.engagement_ = copy.copy(self.engagement_)
            out.engagement_.half_life_days = half_life_days
        return out

    def half_life_columns(self) -> list[str]:
        """The output columns that depend on the engagement half-life: the decayed counts."""
        if getattr(self, "engagement_", None) is None:
            return []
        return [n for n in self.engagement_.feature_names_out_ if n.startswith("decayed_")]

    def transform_half_life(self, lead_ids: pd.Series, events: pd.DataFrame | None,
                            as_of: pd.Timestamp | pd.Series | None) -> pd.DataFrame:
        """`transform(...)[half_life_columns()]` for leads `lead_ids`, without building the rest of the table."""
        columns = self.half_life_columns()
        if not columns:
            return pd.DataFrame(index=pd.RangeIndex(len(lead_ids)))
        engagement = copy.copy(self.engagement_)
        engagement.feature_names_out_ = columns  # EngagementFeatures writes only the columns it is asked for
        ev = events if events is not None else _empty_events()
        out = engagement.transform(ev, pd.Series(lead_ids).reset_index(drop=True), _as_of_series(as_of, len(lead_ids)))
        return self._compact(out)

    def _static(self, leads: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Profile and quality features, computed once per distinct lead (snapshots repeat leads); the flags
        frame also carries the email service."""
        codes, uniques = pd.factorize(leads["lead_id"])
        repeated = len(uniques) < len(codes)
        if repeated:
            first = np.full(len(uniques), len(codes), dtype=np.int64)
            np.minimum.at(first, codes, np.arange(len(codes)))
            distinct = leads.iloc[first].reset_index(drop=True)
        else:
            distinct = leads
        flags = quality_flags(distinct)
        flags[EMAIL_SERVICE] = _email_service(distinct, flags)
        static = self._compact(pd.concat([self.profile_.transform(distinct), flags[QUALITY_FLAGS].astype(float)], axis=1))
        if not repeated:
            return static.reset_index(drop=True), flags.reset_index(drop=True)
        return static.iloc[codes].reset_index(drop=True), flags.iloc[codes].reset_index(drop=True)


def _email_service(leads: pd.DataFrame, flags: pd.DataFrame) -> np.ndarray:
    """quality.email_service for the addresses flagged free-mail, throw-away or mistyped (the others have none)."""
    out = np.full(len(leads), np.nan, dtype=object)
    if "email" not in leads:
        return out
    rows = np.flatnonzero(flags[["free_mail", "disposable_email", "email_invalid"]].to_numpy(dtype=bool).any(axis=1))
    if len(rows):
        out[rows] = email_service(leads["email"].iloc[rows]).to_numpy(dtype=object, na_value=np.nan)
    return out


def _as_of_series(as_of: pd.Timestamp | pd.Series | None, n: int) -> pd.Series:
    if as_of is None:
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    if isinstance(as_of, pd.Series):
        return pd.to_datetime(as_of).reset_index(drop=True).astype("datetime64[ns]")
    return pd.Series(pd.Timestamp(as_of), index=range(n)).astype("datetime64[ns]")


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame({"lead_id": pd.Series(dtype=str), "timestamp": pd.Series(dtype="datetime64[ns]"),
                         "event_type": pd.Series(dtype=str)})
