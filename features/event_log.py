"""The event log as integer arrays (`EventIndex`), cached per events frame, and datetime conversions.

`EventIndex` turns the log into integer arrays once: lead codes (Arrow dictionary encoding, two threads),
event-type "slots" (one per configured type, plus one per combination of categories for the others), and
nanosecond timestamps sorted by time. It also holds the events in lead-major order (one sort) with running
per-lead statistics, so "the events before d" are a prefix of each lead's segment (see
features/engagement.py, which reads it). It is cached per events frame: a second transform of the same log
(another half-life, another lead set) skips it.
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

NS_PER_DAY = 86_400 * 10**9
NS_PER_HOUR = 3_600 * 10**9
NAT = np.iinfo(np.int64).min


def to_days(values: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Datetimes as float days since the epoch (NaT -> NaN)."""
    arr = np.asarray(values, dtype="datetime64[ns]")
    out = arr.astype("int64").astype("float64") / NS_PER_DAY
    out[np.isnat(arr)] = np.nan
    return out


def to_ns(values: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Datetimes as int64 nanoseconds since the epoch (NaT -> int64 min); no copy for datetime64[ns]."""
    return np.asarray(values, dtype="datetime64[ns]").view(np.int64)



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
