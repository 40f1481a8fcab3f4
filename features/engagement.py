"""Engagement (implicit) features from an event log, point-in-time: as of d, only events before d.

The labels these features read with are in features/wording.py.

How it is fast (1,000,000 leads x 25,000,000 events in a few seconds, see benchmarks/RESULTS_features.md):

* `EventIndex` (features/event_log.py) turns the log into integer arrays once: lead codes (Arrow dictionary
  encoding, two threads),
  event-type "slots" (one per configured type, plus one per combination of categories for the others),
  and nanosecond timestamps sorted by time. It is cached per events frame, so a second transform of the
  same log (another half-life, another lead set) skips it.
* The index also holds the events in lead-major order (one sort), with running per-lead statistics:
  cumulative distinct active days, running maximum of events per calendar day / clock hour, and the size of
  the first-hour / first-day burst. Because each lead's events are time-sorted, "the events before d" are a
  prefix of the lead's segment, so recency, first/last activity, active days and the maxima as of any d are
  O(leads) lookups at the end of that prefix instead of sorts of the event log.
* Counts and decayed counts per (lead, slot) are one `np.bincount` per window over the time-sorted prefix;
  the category totals (high intent, negative, opens, clicks, unsubscribes) are sums of slot columns.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from features.event_log import NAT, NS_PER_DAY, EventIndex, event_index, to_ns
from features.metadata import FeatureInfo
from features.wording import FIXED_LABELS, SHORT_NAMES, event_phrase, event_texts


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

    def fit(self, events: pd.DataFrame, y: object = None) -> EngagementFeatures:
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
            "events_first_hour",
            "events_first_day",
            "max_events_one_hour",
        ]
        return names

    def feature_info(self) -> dict[str, FeatureInfo]:
        """Labels and sources: each event type's counts, decayed count (and the unsubscribe flag) read as one
        reason; so do the activity totals with the recency of the last activity, and the high-intent totals
        with the recency of the last high-intent action; the burst sizes form one source too."""
        info: dict[str, FeatureInfo] = {}
        types = set(self.event_types_)
        high = ", ".join(SHORT_NAMES.get(t, t.replace("_", " ")) for t in self.high_intent)
        texts = {
            "activity": {"once": "One activity, {when}", "many": "{n} activities", "none": "No activity yet"},
            "high_intent": {"once": f"A high-intent action ({high}) {{when}}", "many": f"{{n}} high-intent actions ({high})",
                            "none": f"No high-intent action ({high}) yet"},
        }
        for name in self.feature_names_out_:
            source, part = self._source(name, types)
            kind = "flag" if name == "unsubscribed" else "days" if name.startswith("days_since_") else "numeric"
            label = self._label(name)
            negated = "Still subscribed to emails" if name == "unsubscribed" else ""
            if name == "unsubscribed":
                label = "Unsubscribed from emails"
            params: dict[str, object] | None = None
            describer = ""
            if source == "burst":
                describer = "burst"
            elif source in types or source in texts:
                describer = "events"
                params = dict(texts.get(source) or event_texts(source))
                if part == "decayed":
                    params["half_life_days"] = float(self.half_life_days)
            one_decimal = name == "trend_7_vs_30" or name.startswith("decayed_")
            digits = 2 if name == "email_click_to_open" else 1 if one_decimal else 0
            # careers page, unsubscribe, bounce: they only ever read as reasons that lower the score
            bad_news = name in ("unsubscribed", "n_negative_all") or source in set(self.negative)
            info[name] = FeatureInfo(name, "engagement", label, kind, source=source, part=part, describer=describer,
                                     digits=digits, negated=negated, params=params, bad_news=bad_news)
        return info

    def _source(self, name: str, types: set[str]) -> tuple[str, str]:
        """(source, part) of an output feature; ("", "") = its own source."""
        if name.startswith("decayed_"):
            stem = name.removeprefix("decayed_")
            source = {"events": "activity"}.get(stem, stem)
            return (source, "decayed") if source in types or source in ("activity", "high_intent") else ("", "")
        if name.startswith("n_") and name != "n_negative_all":
            stem, window = name[2:].rsplit("_", 1)
            source = {"events": "activity"}.get(stem, stem)
            return source, f"n_{window}"
        fixed = {"days_since_last_event": ("activity", "last"), "days_since_first_event": ("activity", "first"),
                 "active_days_30": ("activity", "active_days"), "trend_7_vs_30": ("activity", "trend"),
                 "days_since_last_high_intent": ("high_intent", "last"),
                 "events_first_hour": ("burst", "first_hour"), "events_first_day": ("burst", "first_day"),
                 "max_events_one_hour": ("burst", "max_hour"), "max_events_one_day": ("burst", "max_day")}
        if name == "unsubscribed" and "unsubscribe" in types:
            return "unsubscribe", "flag"
        return fixed.get(name, ("", ""))

    def _label(self, name: str) -> str:
        if name in FIXED_LABELS:
            return FIXED_LABELS[name]
        if name.startswith("decayed_"):
            return event_phrase(name.removeprefix("decayed_")).replace("{n}", "{value}") + " (recency-weighted)"
        stem, window = name[2:].rsplit("_", 1)
        when = "in total" if window == "all" else f"in the last {window} days"
        if stem == "events":
            return "{value} activities " + when
        if stem == "high_intent":
            return "{value} high-intent actions (pricing, demo, trial, contact) " + when
        return event_phrase(stem).replace("{n}", "{value}") + " " + when

    # ------------------------------------------------------------------------------------------------
    def transform(self, events: pd.DataFrame, lead_ids: pd.Series, as_of: pd.Series | pd.Timestamp) -> pd.DataFrame:
        """Features for each (lead_ids[i], as_of[i]); as_of may be one timestamp for all leads."""
        names = list(self.feature_names_out_)
        lead_ids = pd.Series(lead_ids).reset_index(drop=True)
        n = len(lead_ids)
        as_of_ns = _as_of_ns(as_of, n)
        # Column-major: every feature is written as one contiguous column, and pandas takes it without a copy.
        out = np.empty((n, len(names)), order="F")
        if n == 0:
            return pd.DataFrame(out, columns=names, copy=False)
        index = event_index(events, self.event_types_, self.high_intent, self.negative, self.email_open,
                            self.email_click)
        if not pd.api.types.is_string_dtype(lead_ids.dtype):
            lead_ids = lead_ids.astype(str)
        row_codes, uniques = pd.factorize(lead_ids)
        n_unique = len(uniques)
        dict_codes = index.dict_codes_of(uniques)  # per distinct requested lead: its code in the index, -1 if none
        known = dict_codes >= 0
        remap = np.full(index.n_leads + 1, n_unique, dtype=np.int32)  # index code -> requested code; others -> trash
        remap[dict_codes[known]] = np.flatnonzero(known).astype(np.int32)
        no_event = _no_event_row(names)
        days, day_of_row = np.unique(as_of_ns, return_inverse=True)
        single = len(days) == 1 and n_unique == n  # one as_of, distinct leads: row i is requested lead i
        scratch = out if single else np.empty((n_unique, len(names)), order="F")
        for k, day in enumerate(days):
            rows = None if single else np.flatnonzero(day_of_row == k)
            if day == NAT:  # unknown as_of: nothing is known to have happened before it
                out[rows] = no_event
                continue
            self._features_at(index, remap, dict_codes, n_unique, int(day), scratch, names)
            if not single:
                out[rows] = scratch[row_codes[rows]]
        return pd.DataFrame(out, columns=names, copy=False)

    def _features_at(self, index: EventIndex, remap: np.ndarray, dict_codes: np.ndarray, n_unique: int, day: int,
                     dest: np.ndarray, names: list[str]) -> None:
        """Write every feature of the `n_unique` requested leads as of `day` (int64 ns) into `dest`."""
        col = {name: j for j, name in enumerate(names)}

        def put(name: str, values: np.ndarray) -> None:
            j = col.get(name)
            if j is not None:
                dest[:, j] = values

        hi = index.position(day)
        rows = n_unique + 1  # the requested leads, then one row for the events of other leads
        codes = remap[index.lead[:hi]]  # requested code per event before `day`; n_unique = not requested
        # slot-major bins (slot * rows + lead): each slot's counts are one contiguous row
        key = index.slot[:hi].astype(np.int64)
        key *= rows
        key += codes
        n_bins = index.n_slots * rows
        slots = index.slots
        counts_all = None
        for w in [*self.windows_days, None]:
            lo = 0 if w is None else index.position(day - int(round(w * NS_PER_DAY)))
            counts = np.bincount(key[lo:], minlength=n_bins).reshape(index.n_slots, rows)[:, :n_unique]
            label = "all" if w is None else str(w)
            for t, name in enumerate(self.event_types_):
                put(f"n_{name}_{label}", counts[t])
            put(f"n_events_{label}", counts.sum(axis=0))
            put(f"n_high_intent_{label}", _sum_slots(counts, slots.high_intent))
            if w is None:
                counts_all = counts
        assert counts_all is not None
        n_before = counts_all.sum(axis=0)
        put("n_negative_all", _sum_slots(counts_all, slots.negative))
        opens = _sum_slots(counts_all, slots.email_open).astype(float)
        clicks = _sum_slots(counts_all, slots.email_click).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            put("email_click_to_open", np.where(opens > 0, clicks / np.maximum(opens, 1.0), np.nan))
        put("unsubscribed", (_sum_slots(counts_all, slots.unsubscribe) > 0).astype(float))
        n_high_before = _sum_slots(counts_all, slots.high_intent)
        del counts_all, counts

        # trend: last 7 days vs the 30 days before them
        lo7 = index.position(day - 7 * NS_PER_DAY)
        lo37 = index.position(day - 37 * NS_PER_DAY)
        n7 = np.bincount(codes[lo7:], minlength=rows)[:n_unique]
        n37 = np.bincount(codes[lo37:lo7], minlength=rows)[:n_unique]
        put("trend_7_vs_30", (n7 + 1.0) / (n37 * 7.0 / 30.0 + 1.0))

        # decayed counts: every event weighs 0.5 ** (age / half-life)
        weights = np.subtract(index.t[:hi], day).astype(np.float64)
        weights *= 1.0 / (float(self.half_life_days) * NS_PER_DAY)
        np.exp2(weights, out=weights)
        decayed = np.bincount(key, weights=weights, minlength=n_bins).reshape(index.n_slots, rows)[:, :n_unique]
        del weights, key
        put("decayed_events", decayed.sum(axis=0))
        put("decayed_high_intent", _sum_slots(decayed, slots.high_intent))
        for t, name in enumerate(self.event_types_):
            put(f"decayed_{name}", decayed[t])
        del decayed

        # per-lead lookups at the end of each lead's "before day" prefix in the lead-major arrays
        n30 = np.bincount(codes[index.position(day - 30 * NS_PER_DAY):], minlength=rows)[:n_unique]
        del codes
        stats = index.prefix_stats(dict_codes, n_before, n_high_before, n30)
        put("days_since_last_event", (day - stats["last"]) / NS_PER_DAY)
        put("days_since_last_high_intent", (day - stats["last_high_intent"]) / NS_PER_DAY)
        put("days_since_first_event", (day - stats["first"]) / NS_PER_DAY)
        put("active_days_30", stats["active_days_30"])
        put("max_events_one_day", stats["max_per_day"])
        put("events_first_hour", stats["first_hour"])
        put("events_first_day", stats["first_day"])
        put("max_events_one_hour", stats["max_per_hour"])


def _sum_slots(matrix: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Sum of the rows `slots` of a slot-major (n_slots, n_leads) matrix."""
    if len(slots) == 0:
        return np.zeros(matrix.shape[1], dtype=matrix.dtype)
    if len(slots) == 1:
        return matrix[slots[0]]
    return matrix[slots].sum(axis=0)


def _no_event_row(names: Sequence[str]) -> np.ndarray:
    """Feature values for a lead with no events at all: zero counts, unknown recency."""
    row = np.zeros(len(names))
    for i, name in enumerate(names):
        if name.startswith("days_since") or name == "email_click_to_open":
            row[i] = np.nan
        elif name == "trend_7_vs_30":
            row[i] = 1.0
    return row


def _as_of_ns(as_of: pd.Series | pd.Timestamp, n: int) -> np.ndarray:
    if isinstance(as_of, (pd.Timestamp, np.datetime64, str)):
        return np.full(n, pd.Timestamp(as_of).as_unit("ns").value, dtype=np.int64)
    return to_ns(pd.Series(as_of).reset_index(drop=True)).copy()

