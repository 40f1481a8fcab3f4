"""Reasons a salesperson reads in a second: SHAP contributions summed per source, worded once per case.

A lead's reasons are its strongest positive and negative *sources*. A source is the input a group of
features is derived from (`FeatureInfo.source`): the windowed and decayed counts of the pricing page
events, the email address with its quality flags, the job title's seniority and department, the BANT
answers with their score. Their contributions add up (one matrix product) and the reason reads as one
sentence, written by the source's describer (DESCRIBERS below) from the lead's values of the source's
features, or from the label of its most telling feature (the one that pushed furthest in the reason's
direction). Each reason object has the SPEC 4 keys:

    feature       the source's name ("pricing_page_view", "email", "job_title"; a feature that is its own
                  source keeps its name)
    label         the sentence ("Visited the pricing page 3 times in the last 30 days")
    value         the value the sentence shows (3; "free_mail"; "vp")
    contribution  the source's summed contribution in log-odds, 4 decimals

Speed: everything per lead is array work (k argmax passes over the lead x source matrix, gathers, one
radix sort of the reasons by source); each distinct case (source, the values its sentence shows) is
worded and JSON-encoded once, and a lead's JSON is one string join of ready-made pieces. Personal data never enters a label: sources are features, and the
only non-feature column used is `email_service` (the public mail provider of a free-mail address).
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from features.metadata import FeatureInfo, days_ago, shown_array

MIN_CONTRIBUTION = 0.5e-4  # smaller contributions would print as 0.0: never a reason (scoring.min_contribution)
SPARE = 2  # candidates beyond top_positive / top_negative, so a reason dropped for its wording is replaced
LOWERS = " (lowers the score)"  # appended to a negative reason in the flat reason_1..3 text columns
Values = dict[str, object]


# --------------------------------------------------------------------------------------------------------
# Describers: the wording of one source's reason from its parts' shown values
# --------------------------------------------------------------------------------------------------------
class Describer(NamedTuple):
    """`parts(rep, available)`: the parts whose values the wording needs when `rep` is the most telling
    part (None: the rep feature's own label); `text(values, infos, rep, positive)` -> (label, value), the
    wording for a reason that raises (`positive`) or lowers the score; label None: the case cannot be
    worded in that direction without contradicting itself, or is an absence no one can act on (the
    reason is dropped and the next one takes its place);
    `prepare(arrays, infos)`: optional vectorised step from raw to shown values before keying."""

    parts: Callable[[str, Sequence[str]], list[str] | None]
    text: Callable[[Values, Mapping[str, FeatureInfo], str, bool], tuple[str | None, object]]
    prepare: Callable[[dict[str, np.ndarray], Mapping[str, FeatureInfo]], dict[str, np.ndarray]] | None = None
    uses_rep: bool = True  # False: the wording never depends on which feature pushed furthest


def _known(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _icp_suffix(values: Values, positive: bool) -> str:
    """The ideal-customer-profile remark only where it agrees with the reason's sign: an ICP match that
    lowers the score (the model learnt this value does worse than the ICP says) reads without it."""
    icp = values.get("icp")
    if not _known(icp) or bool(icp) != positive:
        return ""
    return " (ideal customer profile)" if icp else " (outside the ideal customer profile)"


# events: one event type (or all activity, or the high-intent actions) --------------------------------------
def _event_covered(rep: str) -> bool:
    return rep.startswith("n_") or rep in ("decayed", "last", "flag")


def _event_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    if not _event_covered(rep) or "n_all" not in available:
        return None
    return [p for p in available if p.startswith("n_") or p in ("decayed", "last")]


def _event_prepare(arrays: dict[str, np.ndarray], infos: Mapping[str, FeatureInfo]) -> dict[str, np.ndarray]:
    """From the counts per window, the recency and the decayed count, the few numbers the sentence shows:
    n_all; `mode` 1 = all of them within `window` days (the shortest such window), 2 = `n_window` of them
    within `window` (the shortest window with any), 3 = none within the longest window; `last` = days since
    the latest one, from the recency feature or, for a single event, from its decayed weight
    2 ** (-age / half-life). Keying on these instead of every count keeps the distinct sentences few."""
    n_all = np.round(np.asarray(arrays["n_all"], dtype=float))
    n = len(n_all)
    windows = sorted((int(p[2:]), np.round(np.asarray(a, dtype=float))) for p, a in arrays.items()
                     if p.startswith("n_") and p[2:].isdigit())
    mode, window, n_window = np.zeros(n), np.zeros(n), np.zeros(n)
    if windows:
        longest, counts = windows[-1]
        none = n_all > 0
        mode[none & (counts == 0)], window[none & (counts == 0)] = 3, longest
        for w, counts in reversed(windows):  # the shortest qualifying window wins
            some = (n_all > 0) & (counts > 0) & (counts < n_all)
            mode[some], window[some], n_window[some] = 2, w, counts[some]
        for w, counts in reversed(windows):
            every = (n_all > 0) & (counts == n_all)
            mode[every], window[every], n_window[every] = 1, w, 0
    last = np.full(n, np.nan)
    if "last" in arrays:
        last = np.floor(np.asarray(arrays["last"], dtype=float) + 1e-9)
    if "decayed" in arrays:
        half_life = float((infos["decayed"].params or {}).get("half_life_days", 0) or 0)
        weight = np.asarray(arrays["decayed"], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            days = np.floor(-half_life * np.log2(weight) + 1e-6)
        single = (n_all == 1) & (weight > 0) & (half_life > 0) & np.isfinite(days) & np.isnan(last)
        last[single] = days[single]
    return {"n_all": n_all, "mode": mode, "window": window, "n_window": n_window, "last": last}


def _event_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    words = next(i.params for i in infos.values() if i.params and "many" in i.params)
    n_all = int(values["n_all"])  # type: ignore[call-overload]
    mode, window, n_window = int(values["mode"]), int(values["window"]), int(values["n_window"])  # type: ignore[call-overload]
    last = int(values["last"]) if _known(values.get("last")) else None  # type: ignore[call-overload]
    bad_news = any(getattr(i, "bad_news", False) for i in infos.values())  # careers page, unsubscribe, bounce
    if positive and (n_all <= 0 or bad_news):
        return None, n_all  # "never visited the careers page" / "no pricing visits" is no reason to call
    if n_all <= 0:
        return words["none"], 0
    if n_all == 1:
        when = (days_ago(last) if last is not None else f"in the last {window} days" if mode in (1, 2)
                else f"more than {window} days ago" if mode == 3 else "")
        return words["once"].format(when=when).strip().rstrip(","), 1
    text = words["many"].format(n=f"{n_all:,}")
    if mode == 1:
        text += f" in the last {window} days"
    elif mode == 2:
        text += f", {n_window:,} in the last {window} days"
    elif mode == 3 and last is None:
        text += f", none in the last {window} days"
    if last is not None:
        text += f", most recently {days_ago(last)}"
    return text, n_all


# bursts of activity (bot-like when large) --------------------------------------------------------------
BOT_LIKE_PER_HOUR = 10


def _burst_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    hourly = [p for p in ("max_hour", "first_hour") if p in available]
    return hourly or None


def _burst_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    """Only two readable cases: a bot-like burst that lowers the score, or no activity at all that
    lowers it. The absence of bursts is nothing to act on, and a burst that raises it contradicts itself."""
    counts = [int(v) for v in values.values() if _known(v)]  # type: ignore[call-overload]
    most = max(counts, default=0)
    if positive:
        return None, most
    if most <= 0:
        return "No activity yet", 0
    if most >= BOT_LIKE_PER_HOUR:
        return f"Burst of {most:,} activities within one hour (bot-like)", most
    return None, most


# the job title: seniority and department ------------------------------------------------------------------
def _title_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    return [p for p in ("seniority", "department", "icp") if p in available] or None


def _title_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    seniority, department = values.get("seniority"), values.get("department")
    value = seniority if seniority not in (None, "unknown", "other") or department is None else department
    if seniority in (None, "unknown") and department in (None, "unknown"):
        return (None if positive else "No job title"), value
    who = ""
    if seniority not in (None, "unknown", "other"):
        display = infos["seniority"].display or {}
        who = str(display.get(str(seniority), seniority))
    dept = ""
    if department not in (None, "unknown", "other", "executive"):
        display = infos["department"].display if "department" in infos else None
        dept = str((display or {}).get(str(department), department))
    if not who and not dept:
        return (None if positive else "Job title not recognised" + _icp_suffix(values, positive)), value
    # "head of" + "sales" -> "head of sales", "VP" + "sales" -> "VP in sales"
    role = (f"{who} {dept}" if who.endswith(" of") else f"{who} in {dept}") if who and dept else who or f"{dept} role"
    return f"Job title: {role}" + _icp_suffix(values, positive), value


# company size -----------------------------------------------------------------------------------------------
def _size_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    return [p for p in ("count", "band", "icp") if p in available] or None


def _size_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    count, band = values.get("count"), values.get("band")
    if _known(count):
        text, value = f"Company size: {int(count):,} employees", count  # type: ignore[call-overload]
    elif band not in (None, "unknown"):
        text, value = f"Company size: {band} employees", band
    elif positive:
        return None, None
    else:
        text, value = "Company size unknown", None
    return text + _icp_suffix(values, positive), value


# a category with its ideal-customer-profile flag (industry, country) ---------------------------------------
def _category_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    return [p for p in ("value", "icp") if p in available] if "value" in available else None


def _category_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    value = values.get("value")
    if positive and value is None:
        return None, None
    return infos["value"].text(value) + _icp_suffix(values, positive), value


# BANT answers and their score -----------------------------------------------------------------------------
BANT_WORDS = {"budget": "budget", "authority": "decision maker", "need": "need", "timeline": "timeline"}
BANT_GOOD = ("yes", "high", "<", "within", "now", "immediate")  # answers that raise a lead's chances
BANT_BAD = ("no", "low", ">", "none", "never")  # answers that lower them


def _bant_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    answers = [p for p in BANT_WORDS if p in available]
    return [*answers, *(["score"] if "score" in available else [])] if answers else None


def _bant_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    """The answers on the reason's side: a reason that raises the score lists the answers that are not
    unfavourable, one that lowers it those that are not favourable (all of them if none qualify)."""
    answers = [(word, str(values[p])[:40]) for p, word in BANT_WORDS.items()
               if p in values and values[p] not in (None, "missing", "unknown", "")]
    value = values.get("score", values.get(rep))
    if not answers:
        return (None if positive else "No BANT answers (budget, decision maker, need, timeline)"), value
    against = BANT_BAD if positive else BANT_GOOD
    side = [(w, a) for w, a in answers if not a.strip().lower().startswith(against)] or answers
    return "BANT: " + ", ".join(f"{w} {a}" for w, a in side), value


# the email address --------------------------------------------------------------------------------------
EMAIL_FLAG_PARTS = ("type", "missing", "invalid", "disposable", "free", "role", "mismatch")


def _email_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    return [p for p in (*EMAIL_FLAG_PARTS, "service") if p in available] or None


def _email_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    """A problem with the address reads only as a reason that lowers the score, a company address only as
    one that raises it; the other directions would contradict the words."""
    text, value = _email_case(values)
    good = value == "corporate"
    return (text if text is not None and good == positive else None), value


def _email_case(values: Values) -> tuple[str | None, object]:
    kind = values.get("type")
    service = values.get("service")
    provider = f" ({service})" if isinstance(service, str) and service else ""
    if values.get("missing") or kind == "missing":
        return "No email address", "missing"
    if values.get("invalid"):
        return "Malformed or mistyped email address" + provider, "invalid"
    if values.get("disposable") or kind == "disposable":
        return "Disposable (throw-away) email address" + provider, "disposable"
    if values.get("free") or kind == "free_mail":
        return "Free-mail address" + provider, "free_mail"
    if values.get("role"):
        return "Role address such as info@ or sales@", "role_address"
    if values.get("mismatch"):
        return "Email domain differs from the company domain", "domain_mismatch"
    if kind == "corporate" or any(_known(values.get(p)) for p in EMAIL_FLAG_PARTS):
        return "Company email address", "corporate"
    return None, None


# the number of ideal-customer-profile criteria met ------------------------------------------------------
def _criteria_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    return ["count"] if "count" in available else None


def _criteria_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    count, of = values.get("count"), int((infos["count"].params or {}).get("of", 0))
    if not _known(count):
        return None, None
    k = int(count)  # type: ignore[call-overload]
    if (positive and k <= 0) or (not positive and k >= of):
        return None, k  # meeting none cannot raise the score; meeting all cannot honestly lower it
    if positive:
        return f"Meets {k} of {of} ideal-customer-profile criteria", k
    return (f"Meets only {k} of {of} ideal-customer-profile criteria" if k else
            f"Meets none of the {of} ideal-customer-profile criteria"), k


def feature_text(info: FeatureInfo, shown: object, positive: bool) -> str | None:
    """A feature's own label for a reason in one direction; None where the words would contradict the
    sign or state an absence: an unknown value that raises the score, and for bad-news features (quality
    flags, unsubscribed, negative signals) anything but their presence lowering it."""
    if shown is None and positive:
        return None
    if getattr(info, "bad_news", False):
        present = shown is not None and not (isinstance(shown, (int, float)) and shown == 0)
        if positive or not present:
            return None
    return info.text(shown)


DESCRIBERS: dict[str, Describer] = {
    "events": Describer(_event_parts, _event_text, _event_prepare),
    "title": Describer(_title_parts, _title_text, uses_rep=False),
    "size": Describer(_size_parts, _size_text, uses_rep=False),
    "category": Describer(_category_parts, _category_text, uses_rep=False),
    "bant": Describer(_bant_parts, _bant_text, uses_rep=False),
    "email": Describer(_email_parts, _email_text, uses_rep=False),
    "burst": Describer(_burst_parts, _burst_text, uses_rep=False),
    "criteria": Describer(_criteria_parts, _criteria_text, uses_rep=False),
}


# --------------------------------------------------------------------------------------------------------
# The plan: sources and their members, built once per model
# --------------------------------------------------------------------------------------------------------
@dataclass
class ReasonPlan:
    names: list[str]
    infos: list[FeatureInfo]
    sources: list[str]
    members: list[np.ndarray]  # per source: its features' column indices
    matrix: np.ndarray  # (features, sources) 0/1: contributions @ matrix = per-source sums
    _worded: dict[tuple, str] = field(default_factory=dict, repr=False)  # (feature, shown values) -> fragment

    @classmethod
    def build(cls, names: Sequence[str], info: Mapping[str, FeatureInfo]) -> "ReasonPlan":
        infos = [info.get(n) or FeatureInfo(n, "fit", n + ": {value}") for n in names]
        by_source: dict[str, list[int]] = {}
        for j, meta in enumerate(infos):
            by_source.setdefault(meta.source_name, []).append(j)
        members = [np.asarray(v, dtype=np.intp) for v in by_source.values()]
        matrix = np.zeros((len(names), len(members)))
        for s, idx in enumerate(members):
            matrix[idx, s] = 1.0
        return cls(list(names), infos, list(by_source), members, matrix)

    def weights(self, n_columns: int, info: Mapping[str, FeatureInfo]) -> np.ndarray:
        """(n_columns, 3 + sources): contributions @ weights = [margin, fit, engagement, per-source sums].
        A last bias column (n_columns = features + 1) counts in the margin only."""
        f = len(self.names)
        w = np.zeros((n_columns, 3 + len(self.sources)))
        w[:, 0] = 1.0
        w[:f, 1] = [n in info and info[n].group in ("fit", "quality") for n in self.names]
        w[:f, 2] = [n in info and info[n].group == "engagement" for n in self.names]
        w[:f, 3:] = self.matrix
        return w

    # ----------------------------------------------------------------------------------------------------
    def reasons(self, contrib: np.ndarray, source_sums: np.ndarray, X: pd.DataFrame, n_positive: int,
                n_negative: int, min_contribution: float = MIN_CONTRIBUTION) -> np.ndarray:
        """Per lead, the JSON list of its top `n_positive` positive then top `n_negative` negative reasons,
        strongest first (object array of str)."""
        return self.reasons_and_texts(contrib, source_sums, X, n_positive, n_negative, min_contribution)[0]

    def reasons_and_texts(self, contrib: np.ndarray, source_sums: np.ndarray, X: pd.DataFrame, n_positive: int,
                          n_negative: int, min_contribution: float = MIN_CONTRIBUTION, n_texts: int = 0
                          ) -> tuple[np.ndarray, np.ndarray]:
        """The JSON lists of `reasons` and an (n, n_texts) object array: the labels of each lead's first
        `n_texts` reasons in the same order (negatives end with LOWERS; "" where a lead has fewer: empty
        text, not null, so every engine writes the same cell).

        Sources whose |contribution| is below `min_contribution` are no reason. Each direction takes
        SPARE candidates more than it shows: a candidate whose wording would contradict its sign or
        state a non-actionable absence (the describers return no label) is dropped and the next one
        moves up."""
        n = source_sums.shape[0]
        source_sums = np.ascontiguousarray(source_sums)  # _top takes winners out in place (and puts them back)
        floor = max(float(min_contribution), MIN_CONTRIBUTION)
        pos_src, pos_val = _top(source_sums, n_positive + SPARE if n_positive else 0, positive=True, floor=floor)
        neg_src, neg_val = _top(source_sums, n_negative + SPARE if n_negative else 0, positive=False, floor=floor)
        src = np.concatenate([pos_src, neg_src], axis=1)
        val = np.concatenate([pos_val, neg_val], axis=1)
        present = src >= 0
        rows, slots = np.nonzero(present)
        frag_ids, fragments, labels = self._fragments(contrib, rows, src[rows, slots], val[rows, slots], X)
        frag = np.full(src.shape, -1, dtype=np.int64)
        frag[rows, slots] = frag_ids
        if fragments:
            worded = np.array([f is not None for f in fragments])
            present[rows, slots] = worded[frag_ids]
        # per direction, the worded candidates first (in order of strength), cut to what is shown
        n_pos_slots = pos_src.shape[1]
        kept = []
        for block, k in ((slice(0, n_pos_slots), n_positive), (slice(n_pos_slots, src.shape[1]), n_negative)):
            order = np.argsort(~present[:, block], axis=1, kind="stable")[:, :k]
            kept.append([np.take_along_axis(a[:, block], order, axis=1) for a in (present, val, frag)])
        n_pos_shown = kept[0][0].shape[1]
        present, val, frag = (np.concatenate([kept[0][i], kept[1][i]], axis=1) for i in range(3))
        rows, slots = np.nonzero(present)
        contrib_codes, contrib_texts = _contribution_texts(val[rows, slots])
        ctext = np.full(present.shape, -1, dtype=np.int64)
        ctext[rows, slots] = contrib_codes
        json_texts = _assemble(n, present, n_pos_shown, frag, ctext, [f or "" for f in fragments], contrib_texts)
        texts = np.full((n, n_texts), "", dtype=object)
        if n_texts and fragments:
            first = np.argsort(~present, axis=1, kind="stable")[:, :n_texts]
            shown = np.take_along_axis(present, first, axis=1)
            ids = np.take_along_axis(frag, first, axis=1)
            lookup = np.array([*labels, ""], dtype=object)
            texts[:, : first.shape[1]] = np.where(shown, lookup[np.where(shown, ids, -1)], "")
        return json_texts, texts

    def _fragments(self, contrib: np.ndarray, rows: np.ndarray, src: np.ndarray, val: np.ndarray,
                   X: pd.DataFrame) -> tuple[np.ndarray, list[str | None], list[str | None]]:
        """Per pair (lead `rows[i]`, source `src[i]`), the id of its JSON fragment (all but the
        contribution); the distinct fragments (None: no honest wording in that direction) and their
        labels as the flat text columns show them. Pairs are grouped by (source, representative feature,
        sign) with one radix sort; each group is worded by `_word`."""
        out = np.empty(len(rows), dtype=np.int64)
        fragments: list[str | None] = []
        labels: list[str | None] = []
        if len(rows) == 0:
            return out, fragments, labels
        columns = _Columns(X)
        n_members = np.array([len(m) for m in self.members])
        width = int(n_members.max())
        rep_local = np.zeros(len(rows), dtype=np.int64)
        flat = contrib.reshape(-1)  # a view for the C-ordered arrays the models return
        by_source = np.argsort(src.astype(np.int16 if len(self.sources) < 2**15 else np.int64), kind="stable")
        bounds = np.searchsorted(src[by_source], np.arange(len(self.sources) + 1))
        for s in np.flatnonzero(n_members > 1):
            pairs = by_source[bounds[s]:bounds[s + 1]]
            if len(pairs) == 0 or not self._uses_rep(s):
                continue
            index = rows[pairs][:, None] * contrib.shape[1] + self.members[s][None, :]
            sub = flat[index]
            sub *= np.sign(val[pairs])[:, None]  # the member that pushed furthest in the reason's direction
            rep_local[pairs] = np.argmax(sub, axis=1)
        key = (src * width + rep_local) * 2 + (val > 0)
        dtype = np.int16 if key.max() < 2**15 else np.int64  # small keys: numpy's stable sort is a radix sort
        order = np.argsort(key.astype(dtype), kind="stable")
        sorted_key = key[order]
        starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        ends = np.r_[starts[1:], len(order)]
        for a, b in zip(starts, ends):
            s, r = divmod(int(sorted_key[a]) >> 1, width)
            chosen = order[a:b]
            ids, texts, shown = self._word(s, int(self.members[s][r]), rows[chosen], columns, bool(sorted_key[a] & 1))
            out[chosen] = ids + len(fragments)
            fragments += texts
            labels += shown
        return out, fragments, labels

    def _uses_rep(self, s: int) -> bool:
        """Whether the wording of source `s` depends on its representative feature (all its features
        share one describer that says it does not: no)."""
        kinds = {getattr(self.infos[j], "describer", "") for j in self.members[s]}
        return len(kinds) != 1 or (d := DESCRIBERS.get(kinds.pop() or "")) is None or d.uses_rep

    def _word(self, s: int, rep: int, rows: np.ndarray, columns: "_Columns", positive: bool
              ) -> tuple[np.ndarray, list[str | None], list[str | None]]:
        """Fragment ids (local) for leads `rows` whose reason is source `s` with representative feature
        `rep`, raising the score (`positive`) or lowering it; the fragments and their flat labels."""
        rep_info = self.infos[rep]
        infos = {self.infos[j].part or self.infos[j].name: self.infos[j] for j in self.members[s]}
        names = {self.infos[j].part or self.infos[j].name: self.names[j] for j in self.members[s]}
        describer = DESCRIBERS.get(getattr(rep_info, "describer", "") or "")
        context = {}
        for meta in infos.values():
            column = (meta.params or {}).get("service_column")
            if column and column in columns.frame.columns:
                context["service"] = column
        parts = describer.parts(rep_info.part, [*names, *context]) if describer else None
        head = '{"feature": ' + _json_text(self.sources[s])
        cache = self._worded
        if len(cache) > MAX_CACHED_WORDINGS:
            cache.clear()
        worded = []
        if parts is None:  # the representative feature's own label
            _, codes, uniques = columns.key_values({"value": (self.names[rep], rep_info)}, rows, None)
            keys, picks = _combine(codes)
            whole = rep_info.kind == "days"
            for v in uniques["value"][picks[0]]:
                entry = cache.get((rep, positive, v))
                if entry is None:
                    label = feature_text(rep_info, v, positive)
                    entry = cache[(rep, positive, v)] = _entry(head, label, int(v) if whole and _known(v) else v, positive)
                worded.append(entry)
        else:
            wanted = {p: (names[p], infos[p]) if p in names else (context[p], None) for p in parts}
            keyed, codes, uniques = columns.key_values(wanted, rows, describer.prepare, infos)
            keys, picks = _combine(codes)
            used = {p: infos[p] for p in parts if p in infos}
            shown = [uniques[p][pick] for p, pick in zip(keyed, picks)]
            for combination in zip(*shown):
                entry = cache.get((rep, positive, combination))
                if entry is None:
                    label, value = describer.text(dict(zip(keyed, combination)), used, rep_info.part, positive)
                    entry = cache[(rep, positive, combination)] = _entry(head, label, value, positive)
                worded.append(entry)
        return keys, [w[0] for w in worded], [w[1] for w in worded]


MAX_CACHED_WORDINGS = 500_000  # distinct sentences kept between calls (chunks of one batch reuse them)


def _entry(head: str, label: str | None, value: object, positive: bool) -> tuple[str | None, str | None]:
    """(JSON fragment, flat text) of one worded case; (None, None) when it has no honest wording."""
    if label is None:
        return None, None
    return head + _words(label, value), label if positive else label + LOWERS


def _words(label: str, value: object) -> str:
    return ', "label": ' + _json_text(label) + ', "value": ' + _json_value(_plain(value)) + ', "contribution": '


def _json_text(text: str) -> str:
    """json.dumps(text, ensure_ascii=False), without its cost for the plain text labels nearly always are."""
    if '"' not in text and "\\" not in text and text.isprintable():
        return '"' + text + '"'
    return json.dumps(text, ensure_ascii=False)


def _json_value(value: object) -> str:
    if isinstance(value, str):
        return _json_text(value)
    return json.dumps(value, ensure_ascii=False)


def reason_plan(owner: object, names: Sequence[str], info: Mapping[str, FeatureInfo]) -> "ReasonPlan":
    """The plan of `owner` (a scorer), built once and reused while its feature names and their FeatureInfo
    objects stay the same, so the chunks of a streamed batch share its cache of worded sentences. Held
    outside the owner: nothing extra is pickled with a model."""
    key = id(owner)
    current = tuple(info.get(n) for n in names)
    entry = _PLANS.get(key)
    if entry is not None and entry[0]() is owner and entry[2].names == list(names) \
            and all(a is b for a, b in zip(entry[1], current)):
        return entry[2]
    plan = ReasonPlan.build(names, info)
    try:
        ref = weakref.ref(owner, lambda _, k=key: _PLANS.pop(k, None))
    except TypeError:
        return plan
    with _PLANS_LOCK:
        _PLANS[key] = (ref, current, plan)
    return plan


_PLANS: dict[int, tuple[weakref.ref, tuple, "ReasonPlan"]] = {}
_PLANS_LOCK = threading.Lock()


class _Columns:
    """Feature-table columns as arrays, categorical ones factorised once per call."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self._numeric: dict[str, np.ndarray] = {}
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _column(self, name: str) -> tuple[str, Any]:
        if name in self._numeric:
            return "numeric", self._numeric[name]
        if name in self._codes:
            return "codes", self._codes[name]
        series = self.frame[name]
        if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
            array = series.to_numpy()
            if array.dtype == object:
                array = array.astype(float)
            self._numeric[name] = array if array.dtype.kind in "iuf" else array.astype(float)
            return "numeric", self._numeric[name]
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        self._codes[name] = (codes, np.asarray(uniques, dtype=object))
        return "codes", self._codes[name]

    def key_values(self, wanted: Mapping[str, tuple[str, FeatureInfo | None]], rows: np.ndarray,
                   prepare: Callable | None, infos: Mapping[str, FeatureInfo] | None = None
                   ) -> tuple[list[str], list[np.ndarray], dict[str, np.ndarray]]:
        """The parts that key the wording (the wanted ones, or what `prepare` derives from the numeric
        ones), integer codes per part for `rows`, and the shown value of each code (None when unknown)."""
        raw: dict[str, np.ndarray] = {}
        cats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for part, (name, _) in wanted.items():
            kind, data = self._column(name)
            if kind == "numeric":
                raw[part] = data[rows]
            else:
                cats[part] = (data[0][rows], data[1])
        if prepare is not None:
            shown = prepare(raw, infos or {}) if raw else {}
        else:
            shown = {p: shown_array(info, raw[p]) if info is not None else raw[p]
                     for p, (_, info) in wanted.items() if p in raw}
        parts, codes, uniques = [], [], {}
        for part, values in shown.items():
            c, u = pd.factorize(values, use_na_sentinel=True)
            parts.append(part)
            codes.append(np.where(c < 0, len(u), c))
            uniques[part] = np.append(np.asarray(u, dtype=object), None)  # code -1 (missing) -> the last entry
        for part, (c, u) in cats.items():
            parts.append(part)
            codes.append(np.where(c < 0, len(u), c))
            uniques[part] = np.append(u, None)
        return parts, codes, uniques


def _combine(codes: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """A key per row (its distinct combination of codes, 0..k-1 in order of first appearance) and, per
    column, each combination's code. Hashing (pd.factorize), no sort."""
    key = codes[0].astype(np.int64)
    for c in codes[1:]:
        key = key * (int(c.max()) + 1 if len(c) else 1) + c
        if key.max(initial=0) > 2**40:
            key = pd.factorize(key)[0].astype(np.int64)
    key = pd.factorize(key)[0]
    # codes come in order of first appearance: a row is a first occurrence where the running maximum grows
    grows = np.ones(len(key), dtype=bool)
    grows[1:] = key[1:] > np.maximum.accumulate(key)[:-1]
    first = np.flatnonzero(grows)
    return key, [c[first] for c in codes]


def _top(sums: np.ndarray, k: int, positive: bool, floor: float = MIN_CONTRIBUTION) -> tuple[np.ndarray, np.ndarray]:
    """The k largest (or most negative) sources per row, strongest first; -1 where fewer qualify. k passes
    of argmax, each taking out its winner (restored after): for small k ten times faster than argpartition."""
    n, s = sums.shape
    k = max(min(k, s), 0)
    idx = np.full((n, k), -1, dtype=np.int64)
    vals = np.zeros((n, k))
    if k == 0 or n == 0:
        return idx, vals
    work = sums if sums.flags.c_contiguous else np.ascontiguousarray(sums)
    flat = work.reshape(-1)
    base = np.arange(n, dtype=np.int64) * s
    taken = []
    for i in range(k):
        j = work.argmax(axis=1) if positive else work.argmin(axis=1)
        at = base + j
        idx[:, i] = j
        vals[:, i] = flat[at]
        flat[at] = -np.inf if positive else np.inf
        taken.append(at)
    for i, at in enumerate(taken):  # put the winners back
        flat[at] = vals[:, i]
    ok = vals >= floor if positive else vals <= -floor
    idx[~ok] = -1
    return idx, vals


def _contribution_texts(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Contributions rounded to 4 decimals: a code per pair and the JSON text of each distinct value."""
    ticks = np.rint(values * 1e4).astype(np.int64)
    codes, uniques = pd.factorize(ticks)
    return codes, [repr(int(t) / 1e4) for t in uniques]


def _assemble(n: int, present: np.ndarray, n_pos: int, frag: np.ndarray, ctext: np.ndarray,
              fragments: list[str], contrib_texts: list[str]) -> np.ndarray:
    """One JSON string per lead: its present reasons (positives are a prefix of the positive slots,
    negatives of the negative ones) joined from the ready-made pieces."""
    out = np.full(n, "[]", dtype=object)
    if not present.any():
        return out
    first = np.array(["[" + f for f in fragments], dtype=object)
    rest = np.array(["," + f for f in fragments], dtype=object)
    mid = np.array([t + "}" for t in contrib_texts], dtype=object)
    last = np.array([t + "}]" for t in contrib_texts], dtype=object)
    n_p = present[:, :n_pos].sum(axis=1)
    n_n = present[:, n_pos:].sum(axis=1)
    pattern = n_p * (present.shape[1] + 1) + n_n
    for key in np.unique(pattern):
        p, q = divmod(int(key), present.shape[1] + 1)
        if p + q == 0:
            continue
        sel = np.flatnonzero(pattern == key)
        slots = [*range(p), *range(n_pos, n_pos + q)]
        cols = []
        for i, slot in enumerate(slots):
            cols.append((first if i == 0 else rest)[frag[sel, slot]].tolist())
            cols.append((last if i == len(slots) - 1 else mid)[ctext[sel, slot]].tolist())
        joined = np.empty(len(sel), dtype=object)
        joined[:] = list(map("".join, zip(*cols)))
        out[sel] = joined
    return out


# --------------------------------------------------------------------------------------------------------
# Convenience entry points
# --------------------------------------------------------------------------------------------------------
def top_reasons(
    contrib: np.ndarray,
    X: pd.DataFrame,
    names: Sequence[str],
    info: Mapping[str, FeatureInfo],
    n_positive: int = 3,
    n_negative: int = 2,
    min_contribution: float = MIN_CONTRIBUTION,
) -> list[str]:
    """Per lead, a JSON list: the top positive then the top negative reasons (merged per source),
    strongest first. `contrib`: (leads, features), optionally with a last bias column."""
    plan = ReasonPlan.build(names, info)
    contrib = np.asarray(contrib, dtype=float)
    sums = contrib[:, : len(names)] @ plan.matrix
    return plan.reasons(contrib, sums, X, n_positive, n_negative, min_contribution).tolist()


def _plain(value: object) -> object:
    """JSON-safe scalar: numpy numbers to Python, NaN to None."""
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value if value is None or isinstance(value, (str, int, bool)) else str(value)


def group_sums(contrib: np.ndarray, names: Sequence[str], info: Mapping[str, FeatureInfo], groups: Sequence[str]) -> np.ndarray:
    """Sum of contributions over the features whose group is in `groups`."""
    mask = np.array([info[n].group in groups if n in info else False for n in names])
    return contrib[:, mask].sum(axis=1) if mask.any() else np.zeros(contrib.shape[0])
