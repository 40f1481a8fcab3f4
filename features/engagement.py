"""Engagement (implicit) features from an event log, point-in-time: as of d, only events before d.

How it is fast (1,000,000 leads x 25,000,000 events in a few seconds, see benchmarks/RESULTS_features.md):

* `EventIndex` turns the log into integer arrays once: lead codes (Arrow dictionary encoding, two threads),
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

import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.base import BaseEstimator

from features.metadata import FeatureInfo

NS_PER_DAY = 86_400 * 10**9
NS_PER_HOUR = 3_600 * 10**9
NAT = np.iinfo(np.int64).min

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

# Features that are not per-type counts, in output order (after the per-type and per-window counts).
FIXED_LABELS = {
    "n_negative_all": "Negative signals (unsubscribe, bounce, careers page): {value}",
    "days_since_last_event": "Last activity {value}",
    "days_since_last_high_intent": "Last high-intent action {value}",
    "days_since_first_event": "First activity {value}",
    "active_days_30": "Active on {value} days in the last 30 days",
    "max_events_one_day": "Most activities in one day: {value}",
    "trend_7_vs_30": "Activity in the last 7 days at {value}x the rate of the 30 days before",
    "decayed_events": "Recent activity score (decayed): {value}",
    "decayed_high_intent": "Recent high-intent score (decayed): {value}",
    "email_click_to_open": "Clicked links in {value:.0%} of the emails opened",
    "unsubscribed": "Unsubscribed from emails: {value}",
    "events_first_hour": "{value} activities within an hour of the first one",
    "events_first_day": "{value} activities within a day of the first one",
    "max_events_one_hour": "Most activities in one clock hour: {value}",
}


# One event type's reason (models/explain.py, describer "events"): (once, with {when} = "4 days ago" / "in the
# last 7 days"; many, with {n}; none). The windowed counts, the decayed count and the flag of a type read as one.
EVENT_TEXTS = {
    "page_view": ("Viewed a web page {when}", "Viewed {n} web pages", "No web page views yet"),
    "pricing_page_view": ("Visited the pricing page {when}", "Visited the pricing page {n} times", "No pricing page visits yet"),
    "blog_view": ("Read a blog post {when}", "Read {n} blog posts", "No blog posts read yet"),
    "careers_page_view": ("Visited the careers page {when}", "Visited the careers page {n} times", "No careers page visits"),
    "email_open": ("Opened an email {when}", "Opened {n} emails", "No emails opened yet"),
    "email_click": ("Clicked an email link {when}", "Clicked {n} email links", "No email links clicked yet"),
    "email_bounce": ("An email bounced {when}", "{n} emails bounced", "No bounced emails"),
    "unsubscribe": ("Unsubscribed from emails {when}", "Unsubscribed from emails ({n}x)", "Never unsubscribed"),
    "form_submit": ("Submitted a form {when}", "Submitted {n} forms", "No forms submitted yet"),
    "content_download": ("Downloaded content {when}", "Downloaded {n} content pieces", "No content downloaded yet"),
    "webinar_registration": ("Registered for a webinar {when}", "Registered for {n} webinars", "No webinar registrations yet"),
    "webinar_attended": ("Attended a webinar {when}", "Attended {n} webinars", "No webinars attended yet"),
    "demo_request": ("Requested a demo {when}", "Requested a demo {n} times", "No demo request yet"),
    "free_trial_signup": ("Signed up for a free trial {when}", "Signed up for a free trial ({n}x)", "No free trial yet"),
    "contact_sales": ("Contacted sales {when}", "Contacted sales {n} times", "Has not contacted sales yet"),
    "case_study_view": ("Read a case study {when}", "Read {n} case studies", "No case studies read yet"),
    "integration_page_view": ("Viewed an integration page {when}", "Viewed integration pages {n} times",
                              "No integration pages viewed yet"),
    "docs_view": ("Read the docs {when}", "Read the docs {n} times", "Has not read the docs yet"),
    "social_engagement": ("Engaged on social media {when}", "Engaged on social media {n} times", "No social media engagement yet"),
    "product_login": ("Logged into the product {when}", "Logged into the product {n} times", "No product logins yet"),
    "event_booth_visit": ("Visited our event booth {when}", "Visited our event booth {n} times", "No event booth visits yet"),
}
SHORT_NAMES = {"pricing_page_view": "pricing", "demo_request": "demo", "free_trial_signup": "trial",
               "contact_sales": "contact sales"}


def event_phrase(event_type: str) -> str:
    return EVENT_PHRASES.get(event_type, f"{event_type.replace('_', ' ').capitalize()} events: {{n}}")


def event_texts(event_type: str) -> dict[str, str]:
    """(once, many, none) texts of an event type's reason; unknown types are humanised from their name."""
    if event_type in EVENT_TEXTS:
        once, many, none = EVENT_TEXTS[event_type]
    else:
        human = event_type.replace("_", " ").strip()
        once, many, none = f"{human.capitalize()} {{when}}", f"{human.capitalize()}: {{n}} times", f"No {human} yet"
    return {"once": once, "many": many, "none": none}


def to_days(values: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Datetimes as float days since the epoch (NaT -> NaN)."""
    arr = np.asarray(values, dtype="datetime64[ns]")
    out = arr.astype("int64").astype("float64") / NS_PER_DAY
    out[np.isnat(arr)] = np.nan
    return out


def to_ns(values: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Datetimes as int64 nanoseconds since the epoch (NaT -> int64 min); no copy for datetime64[ns]."""
    return np.asarray(values, dtype="datetime64[ns]").view(np.int64)


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
            digits = 2 if name == "email_click_to_open" else 1 if name in ("trend_7_vs_30",) or name.startswith("decayed_") else 0
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

    def _features_at(self, index: "EventIndex", remap: np.ndarray, dict_codes: np.ndarray, n_unique: int, day: int,
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


# ----------------------------------------------------------------------------------------------------
# The event index
# ----------------------------------------------------------------------------------------------------
class Slots:
    """Event types -> slots: one per own type (same order), then one per category combination of the rest."""

    def __init__(self, raw_types: Sequence[object], own: Sequence[str], high_intent: Sequence[str],
                 negative: Sequence[str], email_open: Sequence[str], email_click: Sequence[str]):
        own_index = {t: i for i, t in enumerate(own)}
        groups = (set(high_intent), set(negative), set(email_open), set(email_click), {"unsubscribe"})
        signatures: dict[tuple[bool, ...], int] = {}
        flags_of_slot: list[tuple[bool, ...]] = []
        for t in own:
            flags_of_slot.append(tuple(t in g for g in groups))
        slot_of_raw = np.empty(len(raw_types), dtype=np.int16)
        for i, raw in enumerate(raw_types):
            name = None if raw is None else str(raw)
            if name in own_index:
                slot_of_raw[i] = own_index[name]
                continue
            sig = tuple(name in g for g in groups)
            if sig not in signatures:
                signatures[sig] = len(flags_of_slot)
                flags_of_slot.append(sig)
            slot_of_raw[i] = signatures[sig]
        self.slot_of_raw = slot_of_raw
        self.n = max(len(flags_of_slot), 1)
        flags = np.array(flags_of_slot, dtype=bool).reshape(-1, len(groups))
        self.is_high_intent = flags[:, 0] if len(flags) else np.zeros(1, bool)
        self.high_intent = np.flatnonzero(flags[:, 0])
        self.negative = np.flatnonzero(flags[:, 1])
        self.email_open = np.flatnonzero(flags[:, 2])
        self.email_click = np.flatnonzero(flags[:, 3])
        self.unsubscribe = np.flatnonzero(flags[:, 4])


class EventIndex:
    """The event log as integer arrays: time-sorted for windows, lead-major for per-lead running statistics."""

    def __init__(self, events: pd.DataFrame, event_types: Sequence[str], high_intent: Sequence[str],
                 negative: Sequence[str], email_open: Sequence[str] = ("email_open",),
                 email_click: Sequence[str] = ("email_click",)):
        with ThreadPoolExecutor(2) as pool:  # Arrow hashing releases the GIL: lead ids and types in parallel
            types_job = pool.submit(_factorize, events["event_type"], 1)
            lead, lead_ids = _factorize(events["lead_id"], 2, pool)
            type_codes, raw_types = types_job.result()
        t = to_ns(events["timestamp"])
        keep = (lead >= 0) & (t != NAT)
        if not keep.all():
            lead, t, type_codes = lead[keep], t[keep], type_codes[keep]
        self.lead_ids = lead_ids  # Arrow large_string array: lead code -> lead id
        self.n_leads = len(lead_ids)
        self.slots = Slots([*raw_types.to_pylist(), None], event_types, high_intent, negative, email_open, email_click)
        self.n_slots = self.slots.n
        type_codes[type_codes < 0] = len(raw_types)  # missing type -> the "None" entry
        slot = self.slots.slot_of_raw[type_codes]
        del type_codes
        if len(t) > 1 and not bool((t[1:] >= t[:-1]).all()):
            order = np.argsort(t, kind="stable")
            t, lead, slot = t[order], lead[order], slot[order]
            del order
        self.t, self.lead, self.slot = t, lead, slot  # t may view the frame's buffer: the cache lives only as long
        # The lead-major statistics are needed only at the end of a transform: build them on another core
        # (NumPy's sort, gathers and ufuncs release the GIL) while the window counts are computed.
        self._lead_major = _background().submit(self._build_lead_major)

    def position(self, ns: int) -> int:
        """Number of events strictly before `ns` (events are time-sorted)."""
        return int(np.searchsorted(self.t, ns, side="left"))

    def dict_codes_of(self, lead_ids: pd.Index | pd.Series) -> np.ndarray:
        """The index's lead code of each id (-1 for ids without events)."""
        if self.n_leads == 0 or len(lead_ids) == 0:
            return np.full(len(lead_ids), -1, dtype=np.int64)
        found = pc.index_in(_arrow_strings(pd.Series(lead_ids)), value_set=self.lead_ids)
        return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)

    # -- lead-major running statistics ---------------------------------------------------------------
    def _build_lead_major(self) -> None:
        n, n_leads = len(self.t), self.n_leads
        counts = np.bincount(self.lead, minlength=n_leads)
        self.seg_start = np.zeros(n_leads + 1, dtype=np.int64)
        np.cumsum(counts, out=self.seg_start[1:])
        order, lead_lm = _lead_major_order(self.lead, n_leads)
        t_lm = self.t[order]
        is_high = self.slots.is_high_intent[self.slot[order]]
        del order
        self.t_lm = t_lm
        first_of_lead = np.ones(n, dtype=bool)
        np.not_equal(lead_lm[1:], lead_lm[:-1], out=first_of_lead[1:])
        position = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
        bucket = t_lm // NS_PER_DAY
        new_day = first_of_lead.copy()
        new_day[1:] |= bucket[1:] != bucket[:-1]
        self.same_day_next = np.zeros(n, dtype=bool)  # the next event is the same lead's, on the same day
        self.same_day_next[:-1] = ~new_day[1:]
        self.distinct_days = _count_within(new_day, first_of_lead)  # distinct days so far, within the lead
        self.max_per_day = _running_max_of_runs(new_day, lead_lm, position)
        del new_day
        np.floor_divide(t_lm, NS_PER_HOUR, out=bucket)
        new_hour = first_of_lead.copy()
        new_hour[1:] |= bucket[1:] != bucket[:-1]
        del bucket
        self.max_per_hour = _running_max_of_runs(new_hour, lead_lm, position)
        del new_hour
        # the first-hour / first-day burst: a prefix of each lead's segment
        first_t = t_lm[_forward_fill_index(first_of_lead, position)]
        first_t += NS_PER_HOUR
        self.first_hour = np.bincount(lead_lm[t_lm < first_t], minlength=n_leads)
        first_t += NS_PER_DAY - NS_PER_HOUR
        self.first_day = np.bincount(lead_lm[t_lm < first_t], minlength=n_leads)
        del first_t, position, first_of_lead
        # high-intent events only, lead-major, for "last high-intent action"
        self.t_high_lm = t_lm[is_high]
        high_counts = np.bincount(lead_lm[is_high], minlength=n_leads)
        self.seg_start_high = np.zeros(n_leads + 1, dtype=np.int64)
        np.cumsum(high_counts, out=self.seg_start_high[1:])

    def prefix_stats(self, dict_codes: np.ndarray, n_before: np.ndarray, n_high_before: np.ndarray,
                     n_last_30: np.ndarray) -> dict[str, np.ndarray]:
        """Per requested lead, from the end of its 'before as_of' prefix: `n_before` events, `n_high_before`
        high-intent events and `n_last_30` events in the last 30 days of that prefix."""
        self._lead_major.result()  # re-raises a failure of the background build
        m = len(dict_codes)
        nan = np.full(m, np.nan)
        out = {k: nan.copy() for k in ("last", "first", "last_high_intent")}
        out.update({k: np.zeros(m) for k in ("active_days_30", "max_per_day", "max_per_hour", "first_hour", "first_day")})
        ok = (dict_codes >= 0) & (n_before > 0)
        d = dict_codes[ok]
        nb = n_before[ok]
        start = self.seg_start[d]
        end = start + nb - 1  # the lead's last event before as_of, in lead-major order
        out["first"][ok] = self.t_lm[start]
        out["last"][ok] = self.t_lm[end]
        out["max_per_day"][ok] = self.max_per_day[end]
        out["max_per_hour"][ok] = self.max_per_hour[end]
        out["first_hour"][ok] = np.minimum(nb, self.first_hour[d])
        out["first_day"][ok] = np.minimum(nb, self.first_day[d])
        # distinct days among the events of the last 30 days = the prefix's days minus those before the window,
        # plus the boundary day when it holds events on both sides of the window start
        n30 = n_last_30[ok]
        before_window = nb - n30
        cut = start + np.maximum(before_window, 1) - 1
        days = self.distinct_days[end] - np.where(before_window > 0, self.distinct_days[cut], 0)
        days = days + ((before_window > 0) & self.same_day_next[cut])
        out["active_days_30"][ok] = np.where(n30 > 0, days, 0)
        okh = (dict_codes >= 0) & (n_high_before > 0)
        dh = dict_codes[okh]
        out["last_high_intent"][okh] = self.t_high_lm[self.seg_start_high[dh] + n_high_before[okh] - 1]
        return out


def _lead_major_order(lead: np.ndarray, n_leads: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable order by lead code (time order within a lead) and the sorted lead codes, from one sort of
    (lead << bits | position) keys."""
    n = len(lead)
    bits = max(int(n).bit_length(), 1)
    if int(n_leads).bit_length() + bits > 62:
        order = np.argsort(lead, kind="stable")
        return order, lead[order]
    key = lead.astype(np.int64)
    key <<= bits
    key |= np.arange(n, dtype=np.int64)
    key.sort()
    sorted_leads = (key >> bits).astype(np.int32 if n_leads < 2**31 else np.int64)
    key &= (1 << bits) - 1
    return key, sorted_leads


def _forward_fill_index(starts: np.ndarray, position: np.ndarray) -> np.ndarray:
    """For every element, the position of the latest True in `starts` at or before it (starts[0] is True)."""
    out = np.where(starts, position, 0)
    np.maximum.accumulate(out, out=out)
    return out


def _count_within(flags: np.ndarray, first_of_lead: np.ndarray) -> np.ndarray:
    """Running count of True `flags` within each lead (flags are True at every lead's first element)."""
    running = np.cumsum(flags, dtype=np.int32 if len(flags) < 2**31 else np.int64)
    base = np.where(first_of_lead, running - 1, 0)
    np.maximum.accumulate(base, out=base)  # running is non-decreasing, so this forward-fills the lead's base
    running -= base
    return running.astype(np.int32)


def _running_max_of_runs(new_run: np.ndarray, lead_lm: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Within each lead, the running maximum of the run lengths so far (a run = same lead and same bucket)."""
    if len(new_run) == 0:
        return np.zeros(0, dtype=np.int32)
    start = _forward_fill_index(new_run, position)
    np.subtract(position, start, out=start)
    packed = lead_lm.astype(np.int64)
    packed <<= 32  # leads ascend, so a global running max stays within each lead
    packed |= start
    packed += 1  # 1-based position within the run
    del start
    np.maximum.accumulate(packed, out=packed)
    packed &= 0xFFFFFFFF
    return packed.astype(np.int32)


# ----------------------------------------------------------------------------------------------------
# Strings -> integer codes
# ----------------------------------------------------------------------------------------------------
def _is_arrow_str(values: object) -> bool:
    dtype = getattr(values, "dtype", None)
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _arrow_strings(values: pd.Series) -> pa.ChunkedArray:
    """A pandas Series as an Arrow string ChunkedArray (zero copy for Arrow-backed strings)."""
    if _is_arrow_str(values):
        arr = values.array.__arrow_array__()
    else:
        text = values.astype(object).where(values.notna(), None)
        text = text.map(lambda v: v if v is None or isinstance(v, str) else str(v))
        arr = pa.array(text.to_numpy(dtype=object), type=pa.large_string())
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def _factorize(values: pd.Series, parts: int = 1, pool: ThreadPoolExecutor | None = None) -> tuple[np.ndarray, pa.Array]:
    """Integer codes (-1 for missing) and the distinct values as an Arrow large_string array.

    Categoricals use their codes. Strings are dictionary-encoded by Arrow, in `parts` slices on `pool`'s
    threads when there are many (the hashing releases the GIL); the slices' dictionaries are then merged."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = pa.array(values.cat.categories.astype(str).to_numpy(dtype=object), type=pa.large_string())
        return values.cat.codes.to_numpy().astype(np.int32), categories
    arr = _arrow_strings(values)
    n = len(arr)
    if pool is None or parts < 2 or n < 2_000_000:
        return _encode_piece(arr)
    bounds = np.linspace(0, n, parts + 1).astype(np.int64)
    pieces = [arr.slice(int(a), int(b - a)) for a, b in zip(bounds[:-1], bounds[1:])]
    encoded = list(pool.map(_encode_piece, pieces))
    merged_codes, merged = _encode_piece(pa.chunked_array([d for _, d in encoded], type=pa.large_string()))
    out, offset = [], 0
    for codes, dictionary in encoded:
        lookup = np.append(merged_codes[offset: offset + len(dictionary)], np.int32(-1))  # code -1 stays -1
        out.append(lookup[codes])
        offset += len(dictionary)
    return np.concatenate(out).astype(np.int32, copy=False), merged


def _encode_piece(arr: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Dictionary-encode: codes (int32, -1 for null) and the dictionary (large_string)."""
    enc = pc.dictionary_encode(arr)
    chunks = [c for c in (enc.chunks if isinstance(enc, pa.ChunkedArray) else [enc]) if len(c)]
    if not chunks:
        return np.zeros(0, dtype=np.int32), pa.array([], type=pa.large_string())
    if any(len(c.dictionary) != len(chunks[-1].dictionary) for c in chunks):  # not one shared dictionary
        chunks = pa.chunked_array(chunks).unify_dictionaries().chunks
    dictionary = chunks[-1].dictionary.cast(pa.large_string())
    codes = np.concatenate([np.asarray(c.indices.fill_null(-1).to_numpy(), dtype=np.int32) for c in chunks])
    return codes, dictionary


# ----------------------------------------------------------------------------------------------------
# One cached index per events frame
# ----------------------------------------------------------------------------------------------------
_BACKGROUND: list[ThreadPoolExecutor] = []


def _background() -> ThreadPoolExecutor:
    """One worker thread for index builds (created on first use)."""
    with _CACHE_LOCK:
        if not _BACKGROUND:
            _BACKGROUND.append(ThreadPoolExecutor(1, thread_name_prefix="leadscore-index"))
        return _BACKGROUND[0]


_CACHE: dict[str, object] = {}
_CACHE_LOCK = threading.RLock()


def _buffer_address(values: pd.Series) -> object:
    """Where a column's data lives (changes when the column is replaced)."""
    if _is_arrow_str(values):
        chunks = values.array.__arrow_array__().chunks
        return tuple(b.address if b is not None else 0 for c in chunks[:1] + chunks[-1:] for b in c.buffers()), len(chunks)
    try:
        return np.asarray(values.array).__array_interface__["data"][0]
    except (TypeError, ValueError, KeyError):
        return id(values.array)


def _fingerprint(events: pd.DataFrame) -> tuple:
    """A cheap identity of the frame's content: length, first and last timestamp, column buffers.
    An in-place edit that keeps all of these is not seen: call clear_index_cache() after one."""
    ts = events["timestamp"]
    ends = (ts.iloc[0], ts.iloc[-1]) if len(ts) else ()
    return (len(events), ends, *(_buffer_address(events[c]) for c in ("lead_id", "timestamp", "event_type")))


def _forget(ref: weakref.ref) -> None:
    with _CACHE_LOCK:
        if _CACHE.get("ref") is ref:
            _CACHE.clear()


def event_index(events: pd.DataFrame, event_types: Sequence[str], high_intent: Sequence[str], negative: Sequence[str],
                email_open: Sequence[str], email_click: Sequence[str]) -> EventIndex:
    """The EventIndex of `events`, reused while the same, unchanged frame is passed again (one at a time:
    it is large; it is dropped when the frame is garbage-collected)."""
    key = ((tuple(event_types), tuple(high_intent), tuple(negative), tuple(email_open), tuple(email_click)),
           _fingerprint(events))
    with _CACHE_LOCK:
        ref = _CACHE.get("ref")
        if ref is not None and ref() is events and _CACHE.get("key") == key:  # type: ignore[operator]
            return _CACHE["index"]  # type: ignore[return-value]
        _CACHE.clear()
    index = EventIndex(events, event_types, high_intent, negative, email_open, email_click)
    try:
        ref = weakref.ref(events, _forget)
    except TypeError:
        return index
    with _CACHE_LOCK:
        _CACHE.update(ref=ref, key=key, index=index)
    return index


def clear_index_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()
