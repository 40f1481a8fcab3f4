"""Array work behind the reasons (models/explain.py): per-lead top sources, wording keys, and JSON assembly.

Everything here is NumPy / pandas on whole columns: k argmax passes for the strongest sources per lead,
factorised feature columns and their combinations (the keys of distinct sentences), and one string join
per lead from ready-made JSON pieces. No wording lives here (see features/wording.py).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from features.metadata import FeatureInfo, shown_array


class Columns:
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


def combine_codes(codes: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
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


def top_sources(sums: np.ndarray, k: int, positive: bool, floor: float) -> tuple[np.ndarray, np.ndarray]:
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


def contribution_texts(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Contributions rounded to 4 decimals: a code per pair and the JSON text of each distinct value."""
    ticks = np.rint(values * 1e4).astype(np.int64)
    codes, uniques = pd.factorize(ticks)
    return codes, [repr(int(t) / 1e4) for t in uniques]


def assemble_json(n: int, present: np.ndarray, n_pos: int, frag: np.ndarray, ctext: np.ndarray,
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
