"""Reasons a salesperson reads in a second: SHAP contributions summed per source, worded once per case.

A lead's reasons are its strongest positive and negative *sources*. A source is the input a group of
features is derived from (`FeatureInfo.source`): the windowed and decayed counts of the pricing page
events, the email address with its quality flags, the job title's seniority and department, the BANT
answers with their score. Their contributions add up (one matrix product) and the reason reads as one
sentence, written by the source's describer (features/wording.py) from the lead's values of the source's
features, or from the label of its most telling feature (the one that pushed furthest in the reason's
direction). Each reason object has the SPEC 4 keys:

    feature       the source's name ("pricing_page_view", "email", "job_title"; a feature that is its own
                  source keeps its name)
    label         the sentence ("Visited the pricing page 3 times in the last 30 days")
    value         the value the sentence shows (3; "free_mail"; "vp")
    contribution  the source's summed contribution in log-odds, 4 decimals

Speed: everything per lead is array work (k argmax passes over the lead x source matrix, gathers, one
radix sort of the reasons by source); each distinct case (source, the values its sentence shows) is
worded and JSON-encoded once, and a lead's JSON is one string join of ready-made pieces (the array work is
in models/reason_arrays.py). Personal data never enters a label: sources are features, and the only
non-feature column used is `email_service` (the public mail provider of a free-mail address).
"""
from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.metadata import FeatureInfo
from features.wording import DESCRIBERS, LOWERS, feature_text, known
from models.reason_arrays import Columns, assemble_json, combine_codes, contribution_texts, top_sources

MIN_CONTRIBUTION = 0.5e-4  # smaller contributions would print as 0.0: never a reason (scoring.min_contribution)
SPARE = 2  # candidates beyond top_positive / top_negative, so a reason dropped for its wording is replaced


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
    def build(cls, names: Sequence[str], info: Mapping[str, FeatureInfo]) -> ReasonPlan:
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
        source_sums = np.ascontiguousarray(source_sums)  # top_sources takes winners out in place (and puts them back)
        floor = max(float(min_contribution), MIN_CONTRIBUTION)
        pos_src, pos_val = top_sources(source_sums, n_positive + SPARE if n_positive else 0, positive=True, floor=floor)
        neg_src, neg_val = top_sources(source_sums, n_negative + SPARE if n_negative else 0, positive=False, floor=floor)
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
        contrib_codes, contrib_texts = contribution_texts(val[rows, slots])
        ctext = np.full(present.shape, -1, dtype=np.int64)
        ctext[rows, slots] = contrib_codes
        json_texts = assemble_json(n, present, n_pos_shown, frag, ctext, [f or "" for f in fragments], contrib_texts)
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
        columns = Columns(X)
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

    def _word(self, s: int, rep: int, rows: np.ndarray, columns: Columns, positive: bool
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
            keys, picks = combine_codes(codes)
            whole = rep_info.kind == "days"
            for v in uniques["value"][picks[0]]:
                entry = cache.get((rep, positive, v))
                if entry is None:
                    label = feature_text(rep_info, v, positive)
                    entry = cache[(rep, positive, v)] = _entry(head, label, int(v) if whole and known(v) else v, positive)
                worded.append(entry)
        else:
            wanted = {p: (names[p], infos[p]) if p in names else (context[p], None) for p in parts}
            keyed, codes, uniques = columns.key_values(wanted, rows, describer.prepare, infos)
            keys, picks = combine_codes(codes)
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


def reason_plan(owner: object, names: Sequence[str], info: Mapping[str, FeatureInfo]) -> ReasonPlan:
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


_PLANS: dict[int, tuple[weakref.ref, tuple, ReasonPlan]] = {}
_PLANS_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------------------
# Convenience entry points
# --------------------------------------------------------------------------------------------------------


def _plain(value: object) -> object:
    """JSON-safe scalar: numpy numbers to Python, NaN to None."""
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value if value is None or isinstance(value, (str, int, bool)) else str(value)


