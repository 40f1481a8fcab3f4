"""Score history and trend: how each lead's score moved since its last earlier scoring, and why.

A score is a level; sales acts on movement (a lead warming up this week is the call to make, one cooling
off needs nurture). `score_change` finds each lead's previous scoring in the history, `trend` names the
movement with a steady band so that the noise of a point or two does not read as a trend, and
`why_changed` says, for the leads whose grade changed, which reasons moved most.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.reasons import explode_reasons, join_slots

TRENDS = ("improving", "steady", "declining", "not enough history")
STEADY_BAND = 5.0  # score points: a change smaller than this in size is steady
CHANGE_COLUMNS = ["previous_as_of", "previous_score", "previous_grade", "previous_top_reasons", "score_change"]


def score_change(current: pd.DataFrame, previous: pd.DataFrame, time_column: str = "as_of") -> pd.DataFrame:
    """CHANGE_COLUMNS aligned with `current`'s rows: each lead's last scoring in `previous` (the history,
    any number of scorings per lead) made strictly before its current one by `time_column`, and
    `score_change` = score - previous_score (missing for a lead without an earlier scoring).

    Strictly before: scoring the same batch again (same as_of) compares with the scoring before it, not
    with itself. A current row without a time compares with the latest recorded scoring."""
    time = pd.to_datetime(current[time_column]) if time_column in current else pd.Series(pd.NaT, index=current.index)
    left = pd.DataFrame({"lead_id": current["lead_id"].astype(str).to_numpy(),
                         "t": time.fillna(pd.Timestamp.max).to_numpy(dtype="datetime64[ns]"),
                         "pos": np.arange(len(current))})
    columns = {time_column: "previous_as_of", "score": "previous_score", "grade": "previous_grade",
               "top_reasons": "previous_top_reasons"}
    if time_column not in previous or "lead_id" not in previous:
        raise ValueError(f"the score history needs lead_id and {time_column!r}; it has {list(previous.columns)[:8]}")
    right = previous[[c for c in columns if c in previous]].rename(columns=columns)
    right.insert(0, "lead_id", previous["lead_id"].astype(str).to_numpy())
    right["previous_as_of"] = pd.to_datetime(right["previous_as_of"]).to_numpy(dtype="datetime64[ns]")
    right = right.dropna(subset=["previous_as_of"])
    right["t"] = right["previous_as_of"]
    # the same key dtype, even when empty
    left["lead_id"], right["lead_id"] = left["lead_id"].astype(object), right["lead_id"].astype(object)
    merged = pd.merge_asof(left.sort_values("t", kind="stable"), right.sort_values("t", kind="stable"), on="t",
                           by="lead_id", direction="backward", allow_exact_matches=False)
    merged = merged.sort_values("pos").set_index(current.index)
    for c in CHANGE_COLUMNS[:-1]:
        if c not in merged:
            merged[c] = np.nan
    merged["previous_score"] = pd.to_numeric(merged["previous_score"], errors="coerce")
    merged["score_change"] = pd.to_numeric(current["score"], errors="coerce") - merged["previous_score"]
    return merged[CHANGE_COLUMNS]


def trend(change: pd.Series | np.ndarray, steady_band: float = STEADY_BAND) -> pd.Series:
    """'improving' (change >= steady_band), 'declining' (change <= -steady_band), 'steady' (|change| <
    steady_band) or 'not enough history' (no earlier scoring: change missing). Scores are percentiles, so
    the default band of 5 points ignores the jitter of a lead that only aged a day."""
    change = pd.Series(change, dtype=float) if not isinstance(change, pd.Series) else change.astype(float)
    values = change.to_numpy()
    out = np.select([np.isnan(values), values >= steady_band, values <= -steady_band],
                    [TRENDS[3], TRENDS[0], TRENDS[2]], default=TRENDS[1])
    return pd.Series(out, index=change.index, dtype="str")


def why_changed(current_reasons: pd.Series, previous_reasons: pd.Series, top: int = 2,
                changed: Sequence[bool] | np.ndarray | None = None,
                direction: Sequence[float] | np.ndarray | None = None, key: str = "feature") -> pd.Series:
    """Short text per lead: the `top` reasons whose contributions moved most between the two scorings, e.g.
    "Requested a demo 2 days ago (+1.20); no longer: Visited the pricing page 3 times (-0.40)".

    Only the rows in `changed` are explained (default: all; the caller passes grade != previous_grade),
    the others get "". Reasons are matched by `key`: by default the reason's source (`feature`), because
    a source's label rewords itself as its values move ("...3 times" -> "...5 times"), so matching labels
    would show one move as a new and a vanished reason; key="label" matches the exact sentence. A reason
    that is in one list only counts as 0 in the other (the lists hold only the top reasons, so this is an
    approximation). With `direction` (e.g. the score change), only moves with its sign are shown and the
    largest first; without it the largest in size. The current label is shown, or the previous one after
    "no longer: " when the reason left the list. Contributions are in log-odds."""
    n = len(current_reasons)
    rows = np.ones(n, dtype=bool) if changed is None else np.asarray(changed, dtype=bool)
    picked = np.flatnonzero(rows)
    m = len(picked)
    out = np.full(n, "", dtype=object)
    if m == 0:
        return pd.Series(out, index=current_reasons.index, dtype=object)
    # both scorings in one parse, so that their features and labels share one set of category codes
    texts = np.concatenate([np.asarray(current_reasons, dtype=object)[picked],
                            np.asarray(previous_reasons, dtype=object)[picked]])
    long = explode_reasons(pd.Series(texts, dtype=object))
    now = (long["row"] < m).to_numpy()
    lead = long["row"].to_numpy() % m
    keys, labels = long[key].cat, long["label"].cat
    pair, pairs = pd.factorize(lead * (len(keys.categories) + 1) + keys.codes.to_numpy() + 1)
    contribution = long["contribution"].to_numpy()
    delta = (np.bincount(pair[now], weights=contribution[now], minlength=len(pairs))
             - np.bincount(pair[~now], weights=contribution[~now], minlength=len(pairs)))
    gone = np.bincount(pair[now], minlength=len(pairs)) == 0
    label = np.full(len(pairs), -1, dtype=np.int64)  # the current label, else the previous one
    label[pair[~now]] = labels.codes.to_numpy()[~now]
    label[pair[now]] = labels.codes.to_numpy()[now]
    pair_lead = pairs // (len(keys.categories) + 1)
    if direction is not None:
        sign = np.nan_to_num(np.sign(np.asarray(direction, dtype=float)[picked]))[pair_lead]
        strength = np.where(sign == 0, np.abs(delta), delta * sign)
    else:
        strength = np.abs(delta)
    moved = pd.DataFrame({"lead": pair_lead, "strength": strength, "delta": delta, "label": label, "gone": gone})
    moved = moved.loc[(moved["strength"] > 0) & (moved["delta"].abs() >= 0.5e-2)]
    moved = moved.sort_values(["lead", "strength", "label"], ascending=[True, False, True], kind="stable")
    moved = moved.assign(slot=moved.groupby("lead").cumcount().to_numpy())
    moved = moved.loc[moved["slot"] < top]
    words = np.append(np.asarray(labels.categories, dtype=object), "")  # code -1 (no label) -> ""
    text = (np.where(moved["gone"], "no longer: ", "").astype(object) + words[moved["label"].to_numpy()]
            + " (" + _signed(moved["delta"]).to_numpy(dtype=object) + ")")
    joined = join_slots(text, moved["lead"].to_numpy(), moved["slot"].to_numpy(), m, "; ")
    out[picked] = joined
    return pd.Series(out, index=current_reasons.index, dtype=object)


def _signed(values: pd.Series) -> pd.Series:
    """'+1.20' / '-0.40': two decimals with a sign, by integer arithmetic on the column (no format call a row)."""
    cents = np.rint(values.to_numpy(dtype=float) * 100).astype(np.int64)
    whole, frac = np.abs(cents) // 100, np.abs(cents) % 100
    sign = np.where(cents < 0, "-", "+")
    return (pd.Series(sign, index=values.index) + pd.Series(whole, index=values.index).astype(str) + "."
            + pd.Series(frac, index=values.index).astype(str).str.zfill(2))
