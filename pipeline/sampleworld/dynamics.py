"""The day-by-day simulation and the exact conversion probability p_true.

`run_days` walks the world one day at a time (interest update, events, conversion draw; the order and the
model are described in the package docstring) and records the weekly truth snapshots. `p_true_from_state`
is the closed form those snapshots use; it is public because tests and benchmarks/oracle_bounds.py check
the generator against it. The event-type mixes and seconds-on-page used for the drawn events live here
too: nothing else reads them.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pipeline.sampleworld.spec import (
    DECAY,
    E_BASE,
    EPISODE_SIZE,
    EVENT_CODE,
    EVENT_TYPES,
    H_BASE,
    H_INT,
    INTENT_K,
    JOB_SEEKER_CAREERS_P,
    NS_PER_DAY,
    NS_PER_SEC,
    POST_RATE,
    WorldSpec,
)
from pipeline.sampleworld.vocab import SOURCES

# ----------------------------------------------------------------------------------------------------
# Event draws: which types are email events, seconds on page, the type mixes
# ----------------------------------------------------------------------------------------------------
_EMAIL_TYPES = np.zeros(len(EVENT_TYPES), dtype=bool)
_EMAIL_TYPES[[EVENT_CODE["email_open"], EVENT_CODE["email_click"]]] = True
# seconds-on-page (lognormal median, sigma) for page-type events; NaN value for the others
_PAGE_SECONDS = {
    "page_view": (35.0, 0.9), "blog_view": (90.0, 0.8), "docs_view": (70.0, 0.9),
    "pricing_page_view": (60.0, 0.8), "case_study_view": (110.0, 0.8), "integration_page_view": (55.0, 0.8),
    "careers_page_view": (75.0, 0.8),
}
_PAGE_MEDIAN = np.full(len(EVENT_TYPES), np.nan)
_PAGE_SIGMA = np.zeros(len(EVENT_TYPES))
for _name, (_med, _sig) in _PAGE_SECONDS.items():
    _PAGE_MEDIAN[EVENT_CODE[_name]] = _med
    _PAGE_SIGMA[EVENT_CODE[_name]] = _sig


def _mix(weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    codes = np.array([EVENT_CODE[k] for k in weights], dtype=np.int8)
    cum = np.cumsum(np.array(list(weights.values()), dtype=float))
    return codes, cum / cum[-1]


_INTENT_MIX = _mix({
    "pricing_page_view": 0.24, "demo_request": 0.06, "free_trial_signup": 0.05, "contact_sales": 0.04,
    "case_study_view": 0.13, "integration_page_view": 0.12, "webinar_attended": 0.06, "email_click": 0.16,
    "form_submit": 0.14,
})
_BACKGROUND_MIX = _mix({
    "page_view": 0.34, "blog_view": 0.17, "email_open": 0.24, "social_engagement": 0.08,
    "content_download": 0.06, "webinar_registration": 0.04, "docs_view": 0.06, "careers_page_view": 0.004,
})
_CUSTOMER_MIX = _mix({"product_login": 0.62, "docs_view": 0.15, "email_open": 0.15, "page_view": 0.08})
_BOT_MIX = _mix({"page_view": 0.55, "form_submit": 0.18, "content_download": 0.08, "blog_view": 0.12,
                 "pricing_page_view": 0.07})


# ----------------------------------------------------------------------------------------------------
# The exact conversion probability
# ----------------------------------------------------------------------------------------------------
def p_true_from_state(fit: np.ndarray, r: np.ndarray, interest_prev: np.ndarray, horizon: int,
                      log_future: np.ndarray | None = None) -> np.ndarray:
    """P(convert on days s .. s+horizon-1 | fit, r, interest after day s-1), integrating over future episodes.

    `log_future` (= episode_log_factor(fit, r, horizon)) may be passed precomputed; it depends on the lead only.
    """
    fit = np.asarray(fit, dtype=float)
    if log_future is None:
        log_future = episode_log_factor(fit, np.asarray(r, dtype=float), horizon)
    d_sum = DECAY * (1.0 - DECAY ** horizon) / (1.0 - DECAY)     # sum_{k=0}^{H-1} d^(k+1)
    hazard = fit * (horizon * H_BASE + H_INT * d_sum * np.asarray(interest_prev, dtype=float))
    return np.clip(-np.expm1(-hazard + log_future), 0.0, 1.0)


def episode_log_factor(fit: np.ndarray, r: np.ndarray, horizon: int) -> np.ndarray:
    """log prod_{u=0}^{H-1} exp(-r (1 - exp(-fit H_INT A S_{H-u}))), S_m = sum_{j<m} d^j."""
    c = fit * (H_INT * EPISODE_SIZE)
    acc = np.zeros_like(fit)
    for m in range(1, horizon + 1):
        s_m = (1.0 - DECAY ** m) / (1.0 - DECAY)
        acc += -np.expm1(-c * s_m)
    return -r * acc


# ----------------------------------------------------------------------------------------------------
# The day loop
# ----------------------------------------------------------------------------------------------------
def run_days(rng: np.random.Generator, spec: WorldSpec, created_day: np.ndarray, created_off: np.ndarray,
             is_junk: np.ndarray, prof: dict[str, np.ndarray], hid: dict[str, np.ndarray],
             progress: Callable[[int, int], None] | None) -> dict[str, np.ndarray]:
    """Days 0 .. spec.days-1 in order; returns `conv_day` per lead (-1: none), the events (`ev_*`) and
    the truth snapshot rows (`tr_*`) as flat arrays of codes and numbers."""
    n, days, horizon = spec.n_leads, spec.days, spec.horizon_days
    day_start = np.searchsorted(created_day, np.arange(days + 1), side="left")
    fit, activity, threshold = hid["fit"], hid["activity"], hid["threshold"].copy()
    cum_r = np.cumsum(hid["r"])
    log_future = episode_log_factor(fit, hid["r"], horizon)
    post_lam = activity * POST_RATE
    seeker, bad_email, unsub_day = hid["seeker"], hid["bad_email"], hid["unsub_day"]
    creation_type = np.array([EVENT_CODE[s[5]] if s[5] else -1 for s in SOURCES], dtype=np.int16)[prof["source"]]
    creation_type[is_junk] = -1
    # unsubscribes, grouped by day
    unsub_order = np.argsort(unsub_day, kind="stable")
    unsub_bounds = np.searchsorted(unsub_day[unsub_order], np.arange(days + 1))

    interest = np.zeros(n)
    cum_h = np.zeros(n)
    converted = np.zeros(n, dtype=bool)
    conv_day = np.full(n, -1, dtype=np.int32)
    ev_lead: list[np.ndarray] = []
    ev_ts: list[np.ndarray] = []
    ev_type: list[np.ndarray] = []
    ev_value: list[np.ndarray] = []
    tr_lead: list[np.ndarray] = []
    tr_day: list[np.ndarray] = []
    tr_p: list[np.ndarray] = []
    max_age_ns = spec.max_lead_age_days * NS_PER_DAY

    def snapshot(s: int) -> None:
        """Truth rows at as_of = start + s days: state before day s (interest after day s-1)."""
        hi = day_start[s]
        lo = np.searchsorted(created_off, s * NS_PER_DAY - max_age_ns, side="left")
        if hi <= lo:
            return
        ids = lo + np.flatnonzero(~converted[lo:hi])
        p_true = p_true_from_state(fit[ids], hid["r"][ids], interest[ids], horizon, log_future[ids])
        tr_lead.append(ids.astype(np.int32))
        tr_day.append(np.full(len(ids), s, dtype=np.int32))
        tr_p.append(p_true)

    for t in range(days):
        n_prev, hi = int(day_start[t]), int(day_start[t + 1])
        if t > 0 and t % 7 == 0:
            snapshot(t)
        day_ns = t * NS_PER_DAY
        # (1) re-engagement episodes and the interest update (leads created before today)
        if n_prev:
            interest[:n_prev] *= DECAY
            total = cum_r[n_prev - 1]
            k = rng.poisson(total)
            if k:
                who = np.searchsorted(cum_r[:n_prev], rng.random(k) * total, side="right")
                np.add.at(interest, np.minimum(who, n_prev - 1), EPISODE_SIZE)
        interest[n_prev:hi] = hid["a0"][n_prev:hi]
        if hi == 0:
            if progress is not None:
                progress(t + 1, days)
            continue
        # (2) events: one Poisson total split over leads in proportion to their rates
        lam = np.where(converted[:hi], post_lam[:hi], activity[:hi] * (E_BASE + interest[:hi]))
        cum = np.cumsum(lam)
        k = rng.poisson(cum[-1])
        who = np.minimum(np.searchsorted(cum, rng.random(k) * cum[-1], side="right"), hi - 1)
        lvl = interest[who]
        is_cust = converted[who]
        intent = rng.random(k) * (lvl + INTENT_K) < lvl
        v = rng.random(k)
        typ = np.where(
            is_cust, _pick(_CUSTOMER_MIX, v),
            np.where(intent, _pick(_INTENT_MIX, v), _pick(_BACKGROUND_MIX, v)),
        ).astype(np.int8)
        careers = seeker[who] & ~is_cust & (rng.random(k) < JOB_SEEKER_CAREERS_P)
        typ[careers] = EVENT_CODE["careers_page_view"]
        email = _EMAIL_TYPES[typ]
        typ[email & bad_email[who]] = EVENT_CODE["email_bounce"]
        keep = ~(email & (unsub_day[who] <= t))   # no email events from the unsubscribe day on
        lo_ns = np.maximum(created_off[who], day_ns)
        ts = lo_ns + (rng.random(k) * (day_ns + NS_PER_DAY - lo_ns)).astype(np.int64)
        parts_lead, parts_ts, parts_type = [who[keep]], [ts[keep]], [typ[keep]]
        # unsubscribe events of today
        u_ids = unsub_order[unsub_bounds[t]:unsub_bounds[t + 1]]
        if len(u_ids):
            parts_lead.append(u_ids)
            parts_ts.append(day_ns + (rng.random(len(u_ids)) * NS_PER_DAY).astype(np.int64))
            parts_type.append(np.full(len(u_ids), EVENT_CODE["unsubscribe"], dtype=np.int8))
        # the event that created the lead (a form, a registration, a badge scan) and junk bot bursts
        new = np.arange(n_prev, hi)
        c_new = new[creation_type[new] >= 0]
        parts_lead.append(c_new)
        parts_ts.append(created_off[c_new])
        parts_type.append(creation_type[c_new].astype(np.int8))
        j_new = new[is_junk[new]]
        burst_value = None
        if len(j_new):
            b_lead, b_ts, b_type, burst_value = _bot_burst(rng, j_new, created_off)
            parts_lead.append(b_lead)
            parts_ts.append(b_ts)
            parts_type.append(b_type)
        d_lead = np.concatenate(parts_lead).astype(np.int32)
        d_ts = np.concatenate(parts_ts)
        d_type = np.concatenate(parts_type)
        d_value = _page_seconds(rng, d_type)
        if burst_value is not None:
            d_value[len(d_value) - len(burst_value):] = burst_value
        order = np.argsort(d_ts, kind="stable")
        ev_lead.append(d_lead[order])
        ev_ts.append(d_ts[order])
        ev_type.append(d_type[order])
        ev_value.append(d_value[order])
        # (3) conversion: exactly P = 1 - exp(-h) per day via an Exp(1) threshold on the cumulative hazard
        cum_h[:hi] += fit[:hi] * (H_BASE + H_INT * interest[:hi])
        won = np.flatnonzero(cum_h[:hi] >= threshold[:hi])
        if len(won):
            threshold[won] = np.inf
            converted[won] = True
            conv_day[won] = t
        if progress is not None:
            progress(t + 1, days)
    if days % 7 == 0:
        snapshot(days)

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)

    return {
        "conv_day": conv_day,
        "ev_lead": cat(ev_lead, np.int32), "ev_ts": cat(ev_ts, np.int64), "ev_type": cat(ev_type, np.int8),
        "ev_value": cat(ev_value, np.float32),
        "tr_lead": cat(tr_lead, np.int32), "tr_day": cat(tr_day, np.int32), "tr_p": cat(tr_p, np.float64),
    }


def _pick(mix: tuple[np.ndarray, np.ndarray], v: np.ndarray) -> np.ndarray:
    codes, cum = mix
    return codes[np.minimum(np.searchsorted(cum, v, side="right"), len(codes) - 1)]


def _page_seconds(rng: np.random.Generator, types: np.ndarray) -> np.ndarray:
    med = _PAGE_MEDIAN[types]
    out = np.round(med * np.exp(_PAGE_SIGMA[types] * rng.standard_normal(len(types))), 1)
    return out.astype(np.float32)


def _bot_burst(rng: np.random.Generator, junk: np.ndarray, created_off: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """20-60 events within seconds of each other starting at creation: pages, form submits, downloads."""
    counts = rng.integers(20, 61, len(junk))
    lead = np.repeat(junk, counts)
    gaps = rng.uniform(0.2, 4.0, len(lead))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    gaps[starts] = 0.0
    cum = np.cumsum(gaps)
    cum -= np.repeat(cum[starts], counts)
    ts = created_off[lead] + (cum * NS_PER_SEC).astype(np.int64)
    typ = _pick(_BOT_MIX, rng.random(len(lead))).astype(np.int8)
    typ[starts] = EVENT_CODE["form_submit"]
    value = np.where(np.isnan(_PAGE_MEDIAN[typ]), np.nan, np.round(rng.uniform(0.0, 2.5, len(lead)), 1))
    return lead, ts, typ, value.astype(np.float32)


def conversion_times(rng: np.random.Generator, conv_day: np.ndarray, created_off: np.ndarray) -> np.ndarray:
    """ns offset of the conversion (uniform within the day, after creation on the creation day); -1 if none."""
    out = np.full(len(conv_day), -1, dtype=np.int64)
    ids = np.flatnonzero(conv_day >= 0)
    day_ns = conv_day[ids].astype(np.int64) * NS_PER_DAY
    lo = np.maximum(day_ns, created_off[ids])
    out[ids] = lo + (rng.random(len(ids)) * (day_ns + NS_PER_DAY - lo)).astype(np.int64)
    return out

