"""The `top_reasons` JSON of many leads read back into one long table, without a Python loop over leads.

Account roll-ups, "why it changed" and the CRM's reason_1..3 all need the reasons as data. `json.loads` per
lead costs about 12 s a million leads; here the texts become one newline-delimited JSON document in Arrow
memory and Arrow's JSON reader parses it in C++ (about a third of the time, and no Python objects per
reason). Only `feature`, `label` and `contribution` are read: `value` mixes numbers and texts, which an
Arrow schema cannot hold, and none of the callers needs it. `feature` and `label` come back as pandas
categoricals with sorted categories: a million leads repeat a few thousand sentences, and callers group
and join on the integer codes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

_SCHEMA = pa.schema([("r", pa.list_(pa.struct([("feature", pa.string()), ("label", pa.string()),
                                                ("contribution", pa.float64())])))])


def explode_reasons(reasons: pd.Series) -> pd.DataFrame:
    """One row per reason: `row` (position of the lead in `reasons`, 0-based), `rank` (its place in the
    lead's list, 0 = strongest), `feature`, `label`, `contribution`. Missing texts read as no reasons.
    A text that is not a JSON list of reason objects is a ValueError."""
    n = len(reasons)
    if n == 0:
        return _empty()
    # an Arrow-backed column (the scores read back from Parquet) converts without copying the texts
    values = reasons.array if isinstance(reasons, pd.Series) else np.asarray(reasons, dtype=object)
    text = pa.array(values, type=pa.large_string(), from_pandas=True)
    text = pc.fill_null(text, "[]")
    for brk in ("\n", "\r"):  # JSON strings cannot hold raw line breaks, so outside them they are layout: one lead a line
        if pc.any(pc.match_substring(text, brk)).as_py():
            text = pc.replace_substring(text, brk, " ")
    parts = [pa.scalar(s, pa.large_string()) for s in ('{"r":', "}\n", "")]
    lines = pc.binary_join_element_wise(parts[0], text, parts[1], parts[2])
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)[[lines.offset, lines.offset + len(lines)]]
    document = data.slice(int(bounds[0]), int(bounds[1] - bounds[0]))
    block_size = max(1 << 20, min(int(bounds[1] - bounds[0]) + 1, 1 << 26))
    try:
        table = pj.read_json(pa.BufferReader(document),
                             read_options=pj.ReadOptions(block_size=block_size),
                             parse_options=pj.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="ignore"))
    except pa.ArrowInvalid as exc:
        raise ValueError(f"top_reasons is not a JSON list of reason objects: {str(exc).splitlines()[0]}") from None
    lists = table.column("r").combine_chunks()
    if len(lists) != n:  # an empty text or a second JSON value on a line
        raise ValueError(f"top_reasons: {n} texts read as {len(lists)} JSON values")
    row = pc.list_parent_indices(lists).to_numpy().astype(np.int64)
    flat = lists.flatten()
    start = np.asarray(lists.offsets.to_numpy(), dtype=np.int64)[:-1]
    out = pd.DataFrame({
        "row": row,
        "rank": np.arange(len(row), dtype=np.int64) - (start[row] - start[0]),
        "feature": _categorical(flat.field("feature")),
        "label": _categorical(flat.field("label")),
        "contribution": flat.field("contribution").to_numpy(zero_copy_only=False).astype(float),
    })
    out["contribution"] = out["contribution"].fillna(0.0)
    return out


def join_slots(texts: np.ndarray, row: np.ndarray, slot: np.ndarray, n_rows: int, sep: str) -> np.ndarray:
    """Per row (0..n_rows-1), its texts in slot order joined by `sep` ("" for a row without any). Slots
    are 0, 1, ... within each row (as groupby().cumcount() numbers them): one vector pass per slot, not a
    Python join per row."""
    out = np.full(n_rows, "", dtype=object)
    texts, row, slot = np.asarray(texts, dtype=object), np.asarray(row), np.asarray(slot)
    for j in range(int(slot.max()) + 1 if len(slot) else 0):
        at = slot == j
        out[row[at]] = texts[at] if j == 0 else out[row[at]] + sep + texts[at]
    return out


def _categorical(values: pa.Array) -> pd.Categorical:
    """An Arrow string column as a pandas categorical with sorted categories (missing -> NaN)."""
    encoded = values.dictionary_encode()
    words = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    order = np.argsort(words, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return pd.Categorical.from_codes(np.where(codes >= 0, rank[np.maximum(codes, 0)], -1),
                                     categories=pd.Index(words[order], dtype=object))


def _empty() -> pd.DataFrame:
    none = pd.Categorical([], categories=pd.Index([], dtype=object))
    return pd.DataFrame({"row": np.zeros(0, np.int64), "rank": np.zeros(0, np.int64),
                         "feature": none, "label": none.copy(), "contribution": np.zeros(0)})
