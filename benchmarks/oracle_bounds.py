"""How much of the backtest gap to the oracle is irreducible (issue 4): oracles that know less than p_true.

The sample world's `p_true` uses the generator's hidden state: the fit noise eps ~ N(0, 0.6), the
re-engagement noise of r, the activity level, and the exact current interest. This script rebuilds
that hidden state from the seed with `pipeline.sampleworld`'s own functions (the generator is not
changed) and scores the leads open at T with:

  p_true           the truth file (everything known)
  no_eps           p_true with eps integrated out over its prior (interest, r-noise still known)
  no_eps_no_rnoise eps and the r-noise integrated out (interest still known)
  no_eps_bant_posterior  eps integrated over its posterior given the lead's BANT answers (the generator
                   draws the answers from a latent correlated with eps), interest and r-noise known
  filter           E[p_true | what is observable at T]: a particle filter per lead over the
                   generator's own model, fed with the lead's profile (incl. BANT answers), its
                   event history (counts per day, intent / background type) and the fact that it
                   has not converted yet; the unobservable eps, r-noise, activity, creation
                   interest and episodes are integrated out. The best any model can do, up to the
                   filter's Monte-Carlo error and small simplifications listed in `_filter`.

Usage: python benchmarks/oracle_bounds.py --data DIR --leads 20000 --seed 42 --at 2026-03-25 [--particles 1000]
(or python benchmarks/bench_models.py oracle --leads 20000, which generates the world first)
"""
from __future__ import annotations

import argparse
import copy
import json

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from pipeline.sampleworld import WorldSpec, p_true_from_state, profiles
from pipeline.sampleworld.dynamics import episode_log_factor
from pipeline.sampleworld.spec import (
    A0_SCALE,
    ACTIVITY_MEDIAN,
    ACTIVITY_SD,
    BAD_EMAIL_FIT,
    DECAY,
    E_BASE,
    EPISODE_SIZE,
    FIT_B0,
    FIT_NOISE_SD,
    H_BASE,
    H_INT,
    INTENT_K,
    JOB_SEEKER_FIT,
    REENGAGE_FIT_SLOPE,
    REENGAGE_NOISE_SD,
    REENGAGE_RATE,
)
from pipeline.sampleworld.vocab import SENIORITY_FIT, SOURCES

H = 90


def hidden_state(n: int, seed: int) -> dict[str, np.ndarray]:
    """The generator's hidden per-lead state, re-drawn from the seed exactly as `simulate_world` does."""
    spec = WorldSpec(n_leads=n, seed=seed)
    rng = np.random.default_rng(seed)
    created_day, created_off, is_junk = profiles.creation_times(rng, spec)
    prof = profiles.draw_profiles(rng, n, is_junk)
    twin = copy.deepcopy(rng)
    hid = profiles.hidden_state(rng, prof, created_day, is_junk)
    eps = twin.normal(0.0, FIT_NOISE_SD, n)      # the first draws of hidden_state, in its order
    for sd in (1.0, 0.7, 0.6, 0.7, 0.8):
        twin.normal(0, sd, n)
    twin.random((4, n))
    twin.random(n)
    r_noise = twin.normal(0, REENGAGE_NOISE_SD, n)
    group = np.where(hid["seeker"], JOB_SEEKER_FIT, np.where(hid["bad_email"], BAD_EMAIL_FIT, 1.0))
    eff = hid["fit_logit"] - FIT_B0 - eps   # base + BANT effect
    bant = hid["bant"].astype(int)
    bant_eff = (np.array([0.3, -0.3])[bant[0]] * (bant[0] >= 0) + np.array([0.2, -0.2])[bant[1]] * (bant[1] >= 0)
                + np.array([0.4, 0.1, -0.4])[bant[2]] * (bant[2] >= 0)
                + np.array([0.5, 0.2, -0.1, -0.4])[bant[3]] * (bant[3] >= 0))
    out = dict(hid, eps=eps, r_noise=r_noise, group=group, created_day=created_day, is_junk=is_junk,
               source=prof["source"].astype(int), base=eff - bant_eff, log_emp=np.log10(prof["emp"].astype(float)),
               sen_eff=SENIORITY_FIT[prof["sen"]])
    r_check = _r(hid["fit_logit"], r_noise)
    ok = ~is_junk
    assert np.allclose(r_check[ok], hid["r"][ok]), "hidden state does not match the generator (rng order changed?)"
    return out


def bant_loglik(eps: np.ndarray, base: np.ndarray, log_emp: np.ndarray, sen_eff: np.ndarray, bant: np.ndarray,
                nodes: int = 16) -> np.ndarray:
    """log P(the lead's BANT answers | eps), the generator's answer model with its z-noise integrated out.

    eps: (n, K) values; base, log_emp, sen_eff: (n,); bant: (4, n) codes, -1 = not answered (no information).
    """
    from scipy.stats import norm

    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    base, log_emp, sen_eff = base[:, None], log_emp[:, None], sen_eff[:, None]
    b = [v[:, None] for v in bant]
    acc = np.zeros_like(eps)
    for xk, wk in zip(x, w):
        z = 0.75 * (eps / FIT_NOISE_SD + 0.6 * base) + 0.6 * xk
        like = np.ones_like(eps)
        p_yes = norm.cdf((z + 0.3 * (log_emp - 2.0) - 0.2) / 0.7)
        like *= np.where(b[0] == 0, p_yes, np.where(b[0] == 1, 1 - p_yes, 1.0))
        p_yes = norm.cdf((sen_eff * 1.5 + 0.4 * z - 0.3) / 0.6)
        like *= np.where(b[1] == 0, p_yes, np.where(b[1] == 1, 1 - p_yes, 1.0))
        p0, p2 = norm.cdf((z - 0.6) / 0.7), norm.cdf((-0.5 - z) / 0.7)
        like *= np.select([b[2] == 0, b[2] == 1, b[2] == 2], [p0, 1 - p0 - p2, p2], 1.0)
        c = [norm.cdf((z - 0.8) / 0.8), norm.cdf(z / 0.8), norm.cdf((z + 0.8) / 0.8)]
        like *= np.select([b[3] == 0, b[3] == 1, b[3] == 2, b[3] == 3], [c[0], c[1] - c[0], c[2] - c[1], 1 - c[2]], 1.0)
        acc += wk * like
    return np.log(np.maximum(acc, 1e-300))


def _r(fit_logit: np.ndarray, r_noise: np.ndarray) -> np.ndarray:
    rel = fit_logit - FIT_B0
    r = REENGAGE_RATE * np.exp(REENGAGE_FIT_SLOPE * (rel - 0.5) + r_noise)
    return np.clip(r, 1 / 400, 1 / 10)


def interest_from_p(p: np.ndarray, fit: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Invert `p_true_from_state` for the interest before the snapshot day (fit > 0)."""
    log_future = episode_log_factor(fit, r, H)
    d_sum = DECAY * (1.0 - DECAY ** H) / (1.0 - DECAY)
    hazard = -np.log1p(-p) + log_future
    return np.maximum((hazard / fit - H * H_BASE) / (H_INT * d_sum), 0.0)


def _integrate(fit_logit0: np.ndarray, group: np.ndarray, interest: np.ndarray, r_noise: np.ndarray | None,
               nodes: int = 24, bant: dict | None = None) -> np.ndarray:
    """E[p_true] over eps ~ N(0, sd) (and r-noise if None), fit_logit0 = fit_logit - eps; with `bant`
    (base, log_emp, sen_eff, bant of the leads) over the posterior of eps given the BANT answers."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    if bant is not None:
        ll = bant_loglik(np.tile(x * FIT_NOISE_SD, (len(fit_logit0), 1)), **bant)
        post = w[None, :] * np.exp(ll - ll.max(axis=1, keepdims=True))
        post /= post.sum(axis=1, keepdims=True)
    else:
        post = np.tile(w, (len(fit_logit0), 1))
    rn = [(r_noise, 1.0)] if r_noise is not None else [(np.full_like(fit_logit0, xi * REENGAGE_NOISE_SD), wi)
                                                        for xi, wi in zip(x, w)]
    out = np.zeros_like(fit_logit0)
    for j, xe in enumerate(x):
        fl = fit_logit0 + xe * FIT_NOISE_SD
        fit = np.exp(fl) * group
        for rnoise, wr in rn:
            out += post[:, j] * wr * p_true_from_state(fit, _r(fl, rnoise), interest, H)
    return out


# event types by the generator's mixes: which ones tell "intent" from "background"
_INTENT = {"pricing_page_view", "demo_request", "free_trial_signup", "contact_sales", "case_study_view",
           "integration_page_view", "webinar_attended", "email_click", "form_submit"}
_BACKGROUND = {"page_view", "blog_view", "email_open", "social_engagement", "content_download",
               "webinar_registration", "docs_view"}


def _daily_counts(events: pd.DataFrame, ids: np.ndarray, start: pd.Timestamp, t_day: int,
                  creation: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(intent, background, other) event counts per (open lead, day), days T-182 .. T-1; unsubscribe day."""
    row = pd.Series(np.arange(len(ids)), index=ids)
    ev = events[events["lead_id"].isin(ids)].copy()
    ev = ev.merge(creation, on="lead_id", how="left")
    # drop the event that created the lead (a form, a registration, a badge scan): not a random event
    ev = ev[~((ev["timestamp"] == ev["created_at"]) & (ev["event_type"] == ev["creation_type"]))]
    day = ((ev["timestamp"] - start) // pd.Timedelta(days=1)).to_numpy()
    keep = day < t_day
    ev, day = ev[keep], day[keep]
    span = 182
    col = day - (t_day - span)
    r = row.loc[ev["lead_id"]].to_numpy()
    kinds = np.where(ev["event_type"].isin(_INTENT), 0, np.where(ev["event_type"].isin(_BACKGROUND), 1, 2))
    unsub = np.full(len(ids), 10**9)
    u = ev["event_type"].to_numpy() == "unsubscribe"
    np.minimum.at(unsub, r[u], day[u])
    kinds[u] = 3  # not a Poisson event of the interest process
    counts = np.zeros((3, len(ids), span), dtype=np.int16)
    m = kinds < 3
    np.add.at(counts, (kinds[m], r[m], col[m]), 1)
    return counts[0], counts[1], counts[2], unsub


def _filter(hid: dict[str, np.ndarray], pos: np.ndarray, counts: tuple, unsub: np.ndarray, t_day: int,
            particles: int, seed: int, use_bant: bool = True) -> np.ndarray:
    """E[p_true at T | profile, events, still open] by a bootstrap particle filter per lead.

    Unknown per lead (integrated out): eps, r-noise, activity, the creation-day interest noise and the
    daily episodes. Known (observable): the profile incl. BANT (fit_logit - eps), the source, the
    creation day, the event history, the unsubscribe day. Simplifications: job seekers / bad emails
    use their true group (both leave visible traces: careers views, bounces); null employee counts /
    titles in the leads file are not modelled (the true size / seniority is used); the filter's
    Monte-Carlo error lowers its AUC (more particles: higher).
    """
    rng = np.random.default_rng(seed)
    n, P = len(pos), particles
    fit0 = (hid["fit_logit"] - hid["eps"])[pos][:, None]
    group = hid["group"][pos][:, None]
    eps = rng.normal(0, FIT_NOISE_SD, (n, P))
    rnoise = rng.normal(0, REENGAGE_NOISE_SD, (n, P))
    activity = ACTIVITY_MEDIAN * np.exp(rng.normal(0, ACTIVITY_SD, (n, P)))
    a0_mean = np.array([s[2] for s in SOURCES])[hid["source"][pos]][:, None] * A0_SCALE
    a0 = a0_mean * np.exp(rng.normal(0, 0.25, (n, P)))
    interest = np.zeros((n, P))
    logw = np.zeros((n, P))
    if use_bant:
        logw += bant_loglik(eps, hid["base"][pos], hid["log_emp"][pos], hid["sen_eff"][pos], hid["bant"][:, pos].astype(int))
    created = hid["created_day"][pos]
    ci, cb, co = counts
    span = ci.shape[1]
    email_bg, email_int = 0.24, 0.16   # email_open / email_click shares of the mixes
    for k in range(span):
        t = t_day - span + k
        alive = created <= t
        if not alive.any():
            continue
        fit = np.exp(fit0 + eps) * group
        r = _r(fit0 + eps, rnoise)
        new = created == t
        old = alive & ~new
        interest[old] = interest[old] * DECAY + rng.poisson(r[old]) * EPISODE_SIZE
        interest[new] = a0[new]
        lam = activity * (E_BASE + interest)
        q = interest / (interest + INTENT_K)
        # after an unsubscribe the email events are not there any more
        gone = (unsub <= t)[:, None]
        lam_i = lam * q * np.where(gone, 1 - email_int, 1.0)
        lam_b = lam * (1 - q) * np.where(gone, 1 - email_bg, 1.0)
        ni, nb, no = ci[:, k][:, None], cb[:, k][:, None], co[:, k][:, None]
        # Poisson likelihood of the day's intent / background / unclassified counts (no factorials: same per lead)
        ll = ni * np.log(lam_i + 1e-300) - lam_i + nb * np.log(lam_b + 1e-300) - lam_b + no * np.log(lam + 1e-300)
        ll -= fit * (H_BASE + H_INT * interest)      # did not convert on day t
        logw[alive] += ll[alive]
        # resample leads whose effective sample size dropped below half
        logw -= logw.max(axis=1, keepdims=True)
        w = np.exp(logw)
        w /= w.sum(axis=1, keepdims=True)
        ess = 1.0 / (w ** 2).sum(axis=1)
        rs = np.flatnonzero(alive & (ess < P / 2))
        if len(rs):
            cum = np.cumsum(w[rs], axis=1)
            cum[:, -1] = 1.0
            u = (rng.random((len(rs), 1)) + np.arange(P)[None, :]) / P
            off = np.arange(len(rs))[:, None]
            idx = np.searchsorted((cum + off).ravel(), (u + off).ravel()).reshape(len(rs), P) - off * P
            idx = np.clip(idx, 0, P - 1)
            for arr in (eps, rnoise, activity, a0, interest):
                arr[rs] = np.take_along_axis(arr[rs], idx, axis=1)
            logw[rs] = 0.0
    fit = np.exp(fit0 + eps) * group
    p = p_true_from_state(fit.ravel(), _r(fit0 + eps, rnoise).ravel(), interest.ravel(), H).reshape(n, P)
    w = np.exp(logw - logw.max(axis=1, keepdims=True))
    return (p * w).sum(axis=1) / w.sum(axis=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--leads", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--at", default="2026-03-25")
    ap.add_argument("--particles", type=int, default=1000)
    ap.add_argument("--filter-without-bant", action="store_true")
    args = ap.parse_args()
    from features.snapshots import open_lead_snapshots

    at = pd.Timestamp(args.at)
    leads = pd.read_parquet(f"{args.data}/leads.parquet")
    outcomes = pd.read_parquet(f"{args.data}/outcomes.parquet")
    truth = pd.read_parquet(f"{args.data}/truth.parquet")
    rows = open_lead_snapshots(leads, outcomes, pd.DatetimeIndex([at]), H, 180)
    rows = rows.merge(truth[truth["as_of"] == at][["lead_id", "p_true"]], on="lead_id", how="left")
    y = rows["label"].to_numpy()
    hid = hidden_state(args.leads, args.seed)
    pos = rows["lead_id"].str[1:].astype(int).to_numpy() - 1
    real = ~hid["is_junk"][pos]
    fit = hid["fit"][pos]
    interest = np.zeros(len(pos))
    interest[real] = interest_from_p(rows["p_true"].to_numpy()[real], fit[real], hid["r"][pos][real])
    fit0 = (hid["fit_logit"] - hid["eps"])[pos]
    group = hid["group"][pos]
    scores = {"p_true": rows["p_true"].fillna(0).to_numpy()}
    recheck = np.where(real, p_true_from_state(fit, hid["r"][pos], interest, H), 0.0)
    assert np.allclose(recheck, scores["p_true"], atol=1e-9)
    scores["no_eps"] = np.where(real, _integrate(fit0, group, interest, hid["r_noise"][pos]), 0.0)
    scores["no_eps_no_rnoise"] = np.where(real, _integrate(fit0, group, interest, None), 0.0)
    bant = {"base": hid["base"][pos], "log_emp": hid["log_emp"][pos], "sen_eff": hid["sen_eff"][pos],
            "bant": hid["bant"][:, pos].astype(int)}
    scores["no_eps_bant_posterior"] = np.where(real, _integrate(fit0, group, interest, hid["r_noise"][pos], bant=bant), 0.0)
    start = pd.Timestamp(WorldSpec().start)
    t_day = (at - start).days
    src_event = {s[0]: s[5] for s in SOURCES}
    creation = leads[["lead_id", "created_at"]].assign(creation_type=leads["lead_source"].map(src_event))
    events = pd.read_parquet(f"{args.data}/events.parquet")
    events = events[events["timestamp"] < at]
    counts = _daily_counts(events, rows["lead_id"].to_numpy(), start, t_day, creation)
    filt = np.zeros(len(pos))
    sub = np.flatnonzero(real)
    filt[sub] = _filter({k: v for k, v in hid.items()}, pos[sub], tuple(c[sub] for c in counts[:3]), counts[3][sub],
                        t_day, args.particles, args.seed)
    scores["filter"] = filt
    if args.filter_without_bant:
        filt2 = np.zeros(len(pos))
        filt2[sub] = _filter(hid, pos[sub], tuple(c[sub] for c in counts[:3]), counts[3][sub], t_day, args.particles,
                             args.seed, use_bant=False)
        scores["filter_without_bant"] = filt2
    out = {"open_leads": len(y), "conversions": int(y.sum()),
           "auc": {k: round(float(roc_auc_score(y, v)), 4) for k, v in scores.items()},
           "mean_p": {k: round(float(v.mean()), 4) for k, v in scores.items()}, "label_rate": round(float(y.mean()), 4),
           "corr_filter_ptrue": round(float(np.corrcoef(filt, scores["p_true"])[0, 1]), 3)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
