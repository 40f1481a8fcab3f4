"""Engagement (implicit) features from an event log, point-in-time: as of d, only events before d.

Aggregation is numpy bincount over integer lead and event-type codes, which is several times faster
than a pandas groupby on tens of millions of events (see DEVELOPERS.md facts).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from features.metadata import FeatureInfo

NS_PER_DAY = 86_400 * 10**9

# Human phrases for the event types leadscore knows; anything else is humanised from its name.
EVENT_PHRASES = {
    "page_view": "Viewed {n} web pages",
    "pricing_page_view": "Visited the pricing page {n} times",
    "blog_view": "Read {n} blog posts",
    "careers_page_view": "Visited the careers page {n} times",
    "email_open": "Opened {n} emails",
    "email_click": "Clicked {n} email links",
    "email_bounce": "{n} emails bounced",
    "unsubscribe": "Unsubscribed from emails ({n}x)",
    "form_submit": "Submitted {n} forms",
    "content_download": "Downloaded {n} content pieces",
    "webinar_registration": "Registered for {n} webinars",
    "webinar_attended": "Attended {n} webinars",
    "demo_request": "Requested a demo {n} times",
    "free_trial_signup": "Signed up for a free trial ({n}x)",
    "contact_sales": "Contacted sales {n} times",
    "case_study_view": "Read {n} case studies",
    "integration_page_view": "Viewed integration pages {n} times",
    "docs_view": "Read the docs {n} times",
    "social_engagement": "Engaged on social media {n} times",
    "product_login": "Logged into the product {n} times",
}


def event_phrase(event_type: str) -> str:
    return EVENT_PHRASES.get(event_type, f"{event_type.replace('_', ' ').capitalize()} events: {{n}}")


def to_days(values: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Datetimes as float days since the epoch (NaT -> NaN)."""
    arr = np.asarray(values, dtype="datetime64[ns]")
    out = arr.astype("int64").astype("float64") / NS_PER_DAY
    out[np.isnat(arr)] = np.nan
    return out


class EngagementFeatures(BaseEstimator):
    """Per-lead counts, recency, trend and decayed activity from events strictly before `as_of`.

    fit(events) learns which event types get their own columns (types seen at least
    `min_type_count` times, or the configured list); unseen types still count in the totals.
    """

    def __init__(
        self,
        windows_days: Sequence[int] = (7, 30, 90),
        half_life_days: float = 14.0,
        high_intent: Sequence[str] = ("pricing_page_view", "demo_request", "free_trial_signup", "contact_sales"),
        negative: Sequence[str] = ("unsubscribe", "careers_page_view", "email_bounce"),
        email_open: Sequence[str] = ("email_open",),
        email_click: Sequence[str] = ("email_click",),
        event_types: Sequence[str] | None = None,
        min_type_count: int = 20,
    ):
        self.windows_days = windows_days
        self.half_life_days = half_life_days
        self.high_intent = high_intent
        self.negative = negative
        self.email_open = email_open
        self.email_click = email_click
        self.event_types = event_types
        self.min_type_count = min_type_count

    def fit(self, events: pd.DataFrame, y: object = None) -> "EngagementFeatures":
        if self.event_types is not None:
            types = list(self.event_types)
        else:
            counts = events["event_type"].value_counts()
            types = sorted(counts.index[counts >= self.min_type_count].astype(str))
        self.event_types_ = types
        self.feature_names_out_ = self._names()
        return self

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(self.feature_names_out_, dtype=object)

    def _names(self) -> list[str]:
        windows = [*map(str, self.windows_days), "all"]
        names = [f"n_{t}_{w}" for t in self.event_types_ for w in windows]
        names += [f"n_events_{w}" for w in windows]
        names += [f"n_high_intent_{w}" for w in windows]
        names += [
            "n_negative_all",
            "days_since_last_event",
            "days_since_last_high_intent",
            "days_since_first_event",
            "active_days_30",
            "max_events_one_day",
            "trend_7_vs_30",
            "decayed_events",
            "decayed_high_intent",
            *[f"decayed_{t}" for t in self.event_types_],
            "email_click_to_open",
            "unsubscribed",
        ]
        return names

    def feature_info(self) -> dict[str, FeatureInfo]:
        info: dict[str, FeatureInfo] = {}
        for name in self.feature_names_out_:
            info[name] = FeatureInfo(name, "engagement", self._label(name), "flag" if name == "unsubscribed" else "numeric")
        return info

    def _label(self, name: str) -> str:
        fixed = {
            "n_negative_all": "{value} negative signals (unsubscribe, bounce, careers page)",
            "days_since_last_event": "Last activity {value} days ago",
            "days_since_last_high_intent": "Last high-intent action {value} days ago",
            "days_since_first_event": "First activity {value} days ago",
            "active_days_30": "Active on {value} days in the last 30 days",
            "max_events_one_day": "Up to {value} events in a single day",
            "trend_7_vs_30": "Activity trend, last 7 days vs the 30 before: {value}x",
            "decayed_events": "Recent activity score (decayed): {value}",
            "decayed_high_intent": "Recent high-intent score (decayed): {value}",
            "email_click_to_open": "Email click-to-open rate: {value}",
            "unsubscribed": "Unsubscribed from emails: {value}",
        }
        if name in fixed:
            return fixed[name]
        if name.startswith("decayed_"):
            return event_phrase(name.removeprefix("decayed_")).replace("{n}", "{value}") + " (recency-weighted)"
        stem, window = name[2:].rsplit("_", 1)
        when = "in total" if window == "all" else f"in the last {window} days"
        if stem == "events":
            return "{value} activities " + when
        if stem == "high_intent":
            return "{value} high-intent actions (pricing, demo, trial, contact) " + when
        return event_phrase(stem).replace("{n}", "{value}") + " " + when

    def transform(self, events: pd.DataFrame, lead_ids: pd.Series, as_of: pd.Series | pd.Timestamp) -> pd.DataFrame:
        """Features for each (lead_ids[i], as_of[i]); as_of may be one timestamp for all leads."""
        lead_ids = pd.Series(lead_ids).astype(str).reset_index(drop=True)
        as_of_days = _as_of_days(as_of, len(lead_ids))
        index = EventIndex(events, self.event_types_, self.high_intent, self.negative, self.email_open, self.email_click)
        blocks = []
        order = np.argsort(as_of_days, kind="stable")
        for day in np.unique(as_of_days):
            rows = order[as_of_days[order] == day]
            codes = index.lead_codes_for(lead_ids.iloc[rows])
            blocks.append((rows, self._features_at(index, codes, day)))
        out = np.full((len(lead_ids), len(self.feature_names_out_)), np.nan)
        for rows, values in blocks:
            out[rows] = values
        return pd.DataFrame(out, columns=self.feature_names_out_)

    def _features_at(self, index: "EventIndex", codes: np.ndarray, day: float) -> np.ndarray:
        """All features for leads `codes` (-1 = no events) as of `day`."""
        known = codes >= 0
        if index.n_leads == 0:
            return np.tile(_no_event_row(self.feature_names_out_), (len(codes), 1))
        safe = np.where(known, codes, 0)
        windows = [*self.windows_days, None]
        slices = {w: index.slice(-np.inf if w is None else day - w, day) for w in windows}
        prefix = slices[None]
        per_type = {w: index.bincount_types(slices[w])[safe] for w in windows}
        cols: list[np.ndarray] = [per_type[w][:, t] for t in range(len(self.event_types_)) for w in windows]
        cols += [per_type[w].sum(axis=1) for w in windows]
        cols += [index.count(slices[w], index.is_high_intent)[safe] for w in windows]
        cols.append(index.count(prefix, index.is_negative)[safe])
        last = index.last_time(prefix)[safe]
        last_hi = index.last_time(prefix, index.is_high_intent)[safe]
        first = index.first_time(prefix)[safe]
        cols += [day - last, day - last_hi, day - first]
        cols.append(index.active_days(index.slice(day - 30, day))[safe])
        cols.append(index.max_per_day(prefix)[safe])
        n7 = index.count(index.slice(day - 7, day))[safe]
        n37 = index.count(index.slice(day - 37, day - 7))[safe]
        cols.append((n7 + 1.0) / (n37 * 7.0 / 30.0 + 1.0))
        cols.append(index.decayed(prefix, day, self.half_life_days)[safe])
        cols.append(index.decayed(prefix, day, self.half_life_days, index.is_high_intent)[safe])
        decayed_types = index.decayed_types(prefix, day, self.half_life_days)[safe]
        cols += [decayed_types[:, t] for t in range(len(self.event_types_))]
        opens = index.count(prefix, index.is_open)[safe]
        clicks = index.count(prefix, index.is_click)[safe]
        with np.errstate(invalid="ignore", divide="ignore"):
            cols.append(np.where(opens > 0, clicks / np.maximum(opens, 1), np.nan))
        cols.append((index.count(prefix, index.is_unsubscribe)[safe] > 0).astype(float))
        matrix = np.column_stack(cols).astype(float)
        matrix[~known] = _no_event_row(self.feature_names_out_)
        return matrix


def _no_event_row(names: Sequence[str]) -> np.ndarray:
    """Feature values for a lead with no events at all: zero counts, unknown recency."""
    row = np.zeros(len(names))
    for i, name in enumerate(names):
        if name.startswith("days_since") or name == "email_click_to_open":
            row[i] = np.nan
        elif name == "trend_7_vs_30":
            row[i] = 1.0
    return row


def _as_of_days(as_of: pd.Series | pd.Timestamp, n: int) -> np.ndarray:
    if isinstance(as_of, (pd.Timestamp, np.datetime64, str)):
        return np.full(n, to_days(np.array([pd.Timestamp(as_of).to_datetime64()]))[0])
    return to_days(pd.Series(as_of).reset_index(drop=True))


class EventIndex:
    """Events sorted by time with integer lead and type codes, for fast slicing by as-of date."""

    def __init__(self, events: pd.DataFrame, event_types: Sequence[str], high_intent: Sequence[str],
                 negative: Sequence[str], email_open: Sequence[str] = ("email_open",),
                 email_click: Sequence[str] = ("email_click",)):
        t = to_days(events["timestamp"])
        order = np.argsort(t, kind="stable")
        self.t = t[order]
        lead_cat = pd.Categorical(events["lead_id"].astype(str).to_numpy()[order])
        self.lead_codes = lead_cat.codes.astype(np.int64)
        self.lead_lookup = pd.Index(lead_cat.categories)
        self.n_leads = len(self.lead_lookup)
        self.types = list(event_types)
        type_index = pd.Index(self.types)
        tc = type_index.get_indexer(events["event_type"].astype(str).to_numpy()[order])
        self.type_codes = np.where(tc < 0, len(self.types), tc).astype(np.int64)  # last slot = other
        self.n_slots = len(self.types) + 1
        # Categories are judged by the raw type name, so types without their own column still count.
        raw_types = events["event_type"].astype(str).to_numpy()[order]
        self.is_high_intent = np.isin(raw_types, list(high_intent))
        self.is_negative = np.isin(raw_types, list(negative))
        self.is_open = np.isin(raw_types, list(email_open))
        self.is_click = np.isin(raw_types, list(email_click))
        self.is_unsubscribe = raw_types == "unsubscribe"
        self.day_index = np.floor(self.t).astype(np.int64) if len(self.t) else np.zeros(0, np.int64)

    def lead_codes_for(self, lead_ids: pd.Series) -> np.ndarray:
        return self.lead_lookup.get_indexer(lead_ids.to_numpy())

    def slice(self, lo: float, hi: float) -> slice:
        """Events with lo <= t < hi (t sorted)."""
        start = 0 if lo == -np.inf else int(np.searchsorted(self.t, lo, side="left"))
        return slice(start, int(np.searchsorted(self.t, hi, side="left")))

    def bincount_types(self, sl: slice) -> np.ndarray:
        key = self.lead_codes[sl] * self.n_slots + self.type_codes[sl]
        flat = np.bincount(key, minlength=self.n_leads * self.n_slots)
        return flat.reshape(self.n_leads, self.n_slots).astype(float)

    def count(self, sl: slice, mask: np.ndarray | None = None) -> np.ndarray:
        weights = None if mask is None else mask[sl].astype(float)
        return np.bincount(self.lead_codes[sl], weights=weights, minlength=self.n_leads).astype(float)

    def last_time(self, sl: slice, mask: np.ndarray | None = None) -> np.ndarray:
        out = np.full(self.n_leads, np.nan)
        codes, t = self.lead_codes[sl], self.t[sl]
        if mask is not None:
            codes, t = codes[mask[sl]], t[mask[sl]]
        out[codes] = t  # sorted ascending: the last write per lead is its latest event
        return out

    def first_time(self, sl: slice) -> np.ndarray:
        out = np.full(self.n_leads, np.nan)
        codes, t = self.lead_codes[sl][::-1], self.t[sl][::-1]
        out[codes] = t
        return out

    def active_days(self, sl: slice) -> np.ndarray:
        pairs = np.unique(self.lead_codes[sl] * 1_000_000 + self.day_index[sl] - (self.day_index[sl].min(initial=0)))
        return np.bincount(pairs // 1_000_000, minlength=self.n_leads).astype(float)

    def max_per_day(self, sl: slice) -> np.ndarray:
        base = self.day_index[sl].min(initial=0)
        pairs, counts = np.unique(self.lead_codes[sl] * 1_000_000 + self.day_index[sl] - base, return_counts=True)
        out = np.zeros(self.n_leads)
        np.maximum.at(out, pairs // 1_000_000, counts)
        return out

    def decayed_types(self, sl: slice, day: float, half_life: float) -> np.ndarray:
        """Per-type decayed counts: (n_leads, n_types), for time-decayed behaviour points."""
        weights = np.exp2(-(day - self.t[sl]) / half_life)
        key = self.lead_codes[sl] * self.n_slots + self.type_codes[sl]
        flat = np.bincount(key, weights=weights, minlength=self.n_leads * self.n_slots)
        return flat.reshape(self.n_leads, self.n_slots)[:, :-1]

    def decayed(self, sl: slice, day: float, half_life: float, mask: np.ndarray | None = None) -> np.ndarray:
        """Sum over events of 0.5 ** (age / half_life): points that fade with time."""
        weights = np.exp2(-(day - self.t[sl]) / half_life)
        if mask is not None:
            weights = weights * mask[sl]
        return np.bincount(self.lead_codes[sl], weights=weights, minlength=self.n_leads)
