"""Who the leads are: creation times, company and person profiles (as integer codes) and the hidden state.

Everything a lead is before the day loop starts is drawn here, in a fixed order from the one generator:
when it was created and whether it is junk, its company, person, job title and email style (codes into
`vocab`, turned into strings by `frames`), then its hidden fit, BANT answers, special group and the
per-lead dynamics parameters that `dynamics.run_days` uses.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.sampleworld.spec import (
    A0_SCALE,
    ACTIVITY_MEDIAN,
    ACTIVITY_SD,
    BAD_EMAIL_FIT,
    BAD_EMAIL_RATE,
    DUPLICATE_RATE,
    FIT_B0,
    FIT_NOISE_SD,
    JOB_SEEKER_FIT,
    JOB_SEEKER_RATE,
    JUNK_ACTIVITY,
    NS_PER_DAY,
    NS_PER_SEC,
    REENGAGE_FIT_SLOPE,
    REENGAGE_NOISE_SD,
    REENGAGE_RATE,
    UNSUB_DAILY,
    UNSUB_FIT_SLOPE,
    WorldSpec,
)
from pipeline.sampleworld.vocab import (
    C_LEVEL_TITLES,
    COUNTRIES,
    DEPARTMENT_FIT,
    DEPARTMENT_W,
    DEPARTMENTS,
    DEPT_WORDS,
    DESCRIPTORS,
    EVERY_WORD_TITLES,
    FIRST_NAMES,
    FIRST_WORD_TITLES,
    FOREIGN_TITLES,
    FOUNDER_TITLES,
    FREE_MAIL,
    IC_TITLES,
    INDUSTRIES,
    JUNK_SOURCE_WEIGHTS,
    LAST_NAMES,
    LEGAL,
    N_OWNERS,
    ROLE_LOCALS,
    SENIOR_TITLES,
    SENIORITIES,
    SENIORITY_FIT,
    SENIORITY_W,
    SOURCES,
    SYLLABLES,
)

_FOREIGN_TITLE_P = 0.2   # share of leads in a country with a language that get a title in that language
_TITLE_LOWER_P, _TITLE_UPPER_P, _TITLE_NULL_P, _TITLE_EMPTY_P = 0.06, 0.01, 0.02, 0.01


def creation_times(rng: np.random.Generator, spec: WorldSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Creation day and offset (ns from start) per lead, sorted by time; the junk flag."""
    n, days = spec.n_leads, spec.days
    t = np.arange(days)
    weekday = (pd.Timestamp(spec.start).day_of_week + t) % 7
    weight = (1.0 + 0.6 * t / days) * np.where(weekday >= 5, 0.35, 1.0)
    day = np.sort(rng.choice(days, size=n, p=weight / weight.sum())).astype(np.int32)
    busy = rng.random(n) < 0.8
    sec = np.where(busy, rng.normal(14 * 3600, 3.5 * 3600, n), rng.random(n) * 86_400)
    is_junk = rng.random(n) < spec.junk_rate
    # junk bots fire a burst of up to a few minutes after creation: keep it inside the creation day
    sec = np.clip(sec, 0.0, np.where(is_junk, 86_000.0, 86_399.0))
    off = day.astype(np.int64) * NS_PER_DAY + (sec * NS_PER_SEC).astype(np.int64)
    order = np.argsort(off, kind="stable")
    return day[order], off[order], is_junk[order]


def choice(rng: np.random.Generator, weights: list[float] | np.ndarray, size: int) -> np.ndarray:
    """`size` codes 0 .. len(weights)-1 drawn with the (unnormalised) `weights`, as int16."""
    cum = np.cumsum(np.asarray(weights, dtype=float))
    return np.searchsorted(cum / cum[-1], rng.random(size), side="right").clip(0, len(cum) - 1).astype(np.int16)


def _grouped_pick(rng: np.random.Generator, groups: np.ndarray, options: list[list[int]]) -> np.ndarray:
    """For each row, a uniformly random element of options[groups[row]] (every group non-empty)."""
    counts = np.array([len(o) for o in options])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    flat = np.array([x for o in options for x in o], dtype=np.int64)
    pick = (rng.random(len(groups)) * counts[groups]).astype(np.int64)
    return flat[offsets[groups] + np.minimum(pick, counts[groups] - 1)]


def _title_table() -> tuple[list[str], np.ndarray, np.ndarray, dict[tuple[int, int], list[int]], dict[str, list[int]]]:
    """All titles with their (seniority, department) codes; index lists by (sen, dept) and by language."""
    titles: list[str] = []
    sen: list[int] = []
    dep: list[int] = []
    by_key: dict[tuple[int, int], list[int]] = {}

    def add(title: str, s: str, d: str) -> int:
        titles.append(title)
        sen.append(SENIORITIES.index(s))
        dep.append(DEPARTMENTS.index(d))
        return len(titles) - 1

    def key(title: str, s: str, d: str) -> None:
        by_key.setdefault((SENIORITIES.index(s), DEPARTMENTS.index(d)), []).append(add(title, s, d))

    for t in FOUNDER_TITLES:
        key(t, "founder", "general")
    for d, words in DEPT_WORDS.items():
        for t in C_LEVEL_TITLES[d]:
            key(t, "c_level", d)
        w0 = words[0]
        for w in words:
            for template, s in EVERY_WORD_TITLES:
                key(template.format(w=w), s, d)
        for template, s in FIRST_WORD_TITLES:
            key(template.format(w=w0), s, d)
        for t in SENIOR_TITLES[d]:
            key(t, "senior", d)
        for t in IC_TITLES[d]:
            key(t, "ic", d)
        for t in (f"{w0} Intern", "Intern", "Working Student", "Student", f"{w0} Trainee"):
            key(t, "intern", d)
    by_lang: dict[str, list[int]] = {}
    for lang, items in FOREIGN_TITLES.items():
        by_lang[lang] = [add(t, s, d) for t, s, d in items]
    return titles, np.array(sen, dtype=np.int8), np.array(dep, dtype=np.int8), by_key, by_lang


def draw_profiles(rng: np.random.Generator, n: int, is_junk: np.ndarray) -> dict[str, np.ndarray]:
    """Companies, people and answers as integer codes / numbers (hidden seniority/department included)."""
    p: dict[str, np.ndarray] = {}
    # --- company pool; leads pick companies with a skew (several leads per company)
    n_comp = max(30, n // 3)
    c_industry = choice(rng, [w for _, w, _, _ in INDUSTRIES], n_comp)
    c_country = choice(rng, [w for _, w, _, _, _, _ in COUNTRIES], n_comp)
    log_emp = np.clip(rng.normal(2.0, 0.95, n_comp), 0.0, np.log10(50_000))
    c_emp = np.clip(np.round(10 ** log_emp), 1, 50_000).astype(np.int64)
    rev_per_emp = np.array([r for _, _, _, r in INDUSTRIES])[c_industry]
    c_rev = np.round(c_emp * rev_per_emp * np.exp(rng.normal(0.0, 0.5, n_comp)), -3)
    p["c_syll"] = rng.integers(0, len(SYLLABLES), size=(n_comp, 3)).astype(np.int16)
    p["c_nsyll"] = np.where(rng.random(n_comp) < 0.55, 2, 3).astype(np.int8)
    p["c_suffix_kind"] = choice(rng, [0.35, 0.35, 0.30], n_comp)  # none / descriptor / legal form
    p["c_descriptor"] = rng.integers(0, len(DESCRIPTORS), n_comp).astype(np.int16)
    legal_lists = [list(range(len(LEGAL[c[0]]))) for c in COUNTRIES]
    p["c_legal"] = _grouped_pick(rng, c_country.astype(np.int64), legal_lists).astype(np.int16)
    p["c_tld_local"] = rng.random(n_comp) < 0.6   # national TLD rather than .com/.io
    p["c_tld_alt"] = choice(rng, [0.8, 0.12, 0.05, 0.03], n_comp)  # .com/.io/.ai/.co
    p["c_industry"], p["c_country"], p["c_emp"], p["c_rev"] = c_industry, c_country, c_emp, c_rev

    comp = np.minimum((n_comp * rng.random(n) ** 1.6).astype(np.int64), n_comp - 1)
    country = c_country[comp].copy()
    moved = rng.random(n) < 0.08                     # the person sits in another country than the HQ
    country[moved] = choice(rng, [w for _, w, _, _, _, _ in COUNTRIES], int(moved.sum()))
    source = choice(rng, [w for _, w, _, _, _, _ in SOURCES], n)
    junk_src = choice(rng, list(JUNK_SOURCE_WEIGHTS.values()), n)
    src_names = [s[0] for s in SOURCES]
    junk_src_codes = np.array([src_names.index(s) for s in JUNK_SOURCE_WEIGHTS], dtype=np.int16)
    source = np.where(is_junk, junk_src_codes[junk_src], source).astype(np.int16)

    # --- person: seniority, department and title
    emp = c_emp[comp]
    sen = choice(rng, SENIORITY_W, n).astype(np.int8)
    small = (emp <= 20) & (rng.random(n) < 0.15)
    sen[small] = SENIORITIES.index("founder")
    dep = choice(rng, DEPARTMENT_W, n).astype(np.int8)
    dep[sen == SENIORITIES.index("founder")] = DEPARTMENTS.index("general")
    titles, t_sen, t_dep, by_key, by_lang = _title_table()
    keys = sorted(by_key)
    key_index = {k: i for i, k in enumerate(keys)}
    lookup = np.full((len(SENIORITIES), len(DEPARTMENTS)), -1, dtype=np.int64)
    for k, i in key_index.items():
        lookup[k] = i
    title = _grouped_pick(rng, lookup[sen, dep], [by_key[k] for k in keys])
    langs = sorted(by_lang)
    lang_of_country = np.array([langs.index(c[5]) if c[5] else -1 for c in COUNTRIES])
    lang = lang_of_country[country]
    foreign = (lang >= 0) & (rng.random(n) < _FOREIGN_TITLE_P)
    foreign_pick = _grouped_pick(rng, np.maximum(lang, 0), [by_lang[g] for g in langs])
    title = np.where(foreign, foreign_pick, title)
    sen, dep = t_sen[title], t_dep[title]
    p["title_style"] = choice(rng, [1 - _TITLE_LOWER_P - _TITLE_UPPER_P - _TITLE_NULL_P - _TITLE_EMPTY_P,
                                    _TITLE_LOWER_P, _TITLE_UPPER_P, _TITLE_NULL_P, _TITLE_EMPTY_P], n)

    # --- names and email style
    first = rng.integers(0, len(FIRST_NAMES), n).astype(np.int16)
    last = rng.integers(0, len(LAST_NAMES), n).astype(np.int16)
    # email kind: 0 corporate, 1 free-mail, 2 role address
    email_kind = choice(rng, [0.71, 0.25, 0.04], n)
    corp_pattern = choice(rng, [0.5, 0.3, 0.1, 0.1], n)    # first.last / flast / first / first_last
    free_pattern = choice(rng, [0.45, 0.3, 0.25], n)       # first.last / firstlast+NN / first.last+NN
    email_digits = rng.integers(1, 100, n).astype(np.int16)
    free_domain = rng.integers(0, len(FREE_MAIL), n).astype(np.int16)
    role_local = rng.integers(0, len(ROLE_LOCALS), n).astype(np.int16)

    # --- a few leads re-use an earlier lead's person (same email) -- re-submissions
    dup = (rng.random(n) < DUPLICATE_RATE) & ~is_junk & (np.arange(n) >= 10)
    dup_of = (rng.random(n) * np.arange(n)).astype(np.int64)
    di = np.flatnonzero(dup)
    src_i = dup_of[di]
    src_i = np.where(is_junk[src_i], di - 1, src_i)   # never copy a junk person into a real lead
    for arr in (comp, first, last, email_kind, corp_pattern, free_pattern, email_digits, free_domain,
                role_local, title, sen, dep):
        arr[di] = arr[src_i]
    country[di] = country[src_i]

    p.update(comp=comp, country=country, source=source, sen=sen, dep=dep, title=title, first=first, last=last,
             email_kind=email_kind, corp_pattern=corp_pattern, free_pattern=free_pattern,
             email_digits=email_digits, free_domain=free_domain, role_local=role_local, emp=c_emp[comp],
             industry=c_industry[comp], rev=c_rev[comp])
    p["_titles"] = np.array(titles, dtype=object)
    p["emp_null"] = rng.random(n) < 0.05
    p["rev_null"] = rng.random(n) < 0.10
    p["owner"] = rng.integers(0, N_OWNERS, n).astype(np.int16)
    return p


def hidden_state(rng: np.random.Generator, p: dict[str, np.ndarray], created_day: np.ndarray,
                 is_junk: np.ndarray) -> dict[str, np.ndarray]:
    """Fit, BANT answers (correlated with fit), special groups and the per-lead dynamics parameters."""
    n = len(created_day)
    h: dict[str, np.ndarray] = {}
    eps = rng.normal(0.0, FIT_NOISE_SD, n)
    log_emp = np.log10(p["emp"].astype(float))
    size_eff = np.clip(0.4 - 0.35 * (log_emp - 2.8) ** 2, -0.9, None)
    sen_eff = SENIORITY_FIT[p["sen"]]
    base = (sen_eff + DEPARTMENT_FIT[p["dep"]] + size_eff
            + np.array([e for _, _, e, _ in INDUSTRIES])[p["industry"]]
            + np.array([c[2] for c in COUNTRIES])[p["country"]]
            + np.array([s[3] for s in SOURCES])[p["source"]])

    # BANT: answered with a source-dependent probability; answers driven by a latent correlated with fit
    answered_p = np.array([s[4] for s in SOURCES])[p["source"]]
    z = 0.75 * (eps / FIT_NOISE_SD + 0.6 * base) + 0.6 * rng.normal(0.0, 1.0, n)
    budget = np.where(z + 0.3 * (log_emp - 2.0) + rng.normal(0, 0.7, n) > 0.2, 0, 1)        # yes / no
    authority = np.where(sen_eff * 1.5 + 0.4 * z + rng.normal(0, 0.6, n) > 0.3, 0, 1)        # yes / no
    need = np.digitize(-(z + rng.normal(0, 0.7, n)), [-0.6, 0.5])                            # high/med/low
    timeline = np.digitize(-(z + rng.normal(0, 0.8, n)), [-0.8, 0.0, 0.8])                   # <3m .. >12m
    bant = np.stack([budget, authority, need, timeline]).astype(np.int8)
    miss = rng.random((4, n)) > answered_p[None, :] * np.array([0.8, 0.7, 0.9, 0.85])[:, None]
    bant[miss] = -1
    eff = (np.array([0.3, -0.3])[bant[0]] * (bant[0] >= 0) + np.array([0.2, -0.2])[bant[1]] * (bant[1] >= 0)
           + np.array([0.4, 0.1, -0.4])[bant[2]] * (bant[2] >= 0)
           + np.array([0.5, 0.2, -0.1, -0.4])[bant[3]] * (bant[3] >= 0))
    fit_logit = FIT_B0 + base + eff + eps

    u = rng.random(n)
    seeker = ~is_junk & (u < JOB_SEEKER_RATE)
    bad_email = ~is_junk & (u >= JOB_SEEKER_RATE) & (u < JOB_SEEKER_RATE + BAD_EMAIL_RATE)
    group_mult = np.where(seeker, JOB_SEEKER_FIT, np.where(bad_email, BAD_EMAIL_FIT, 1.0))
    fit = np.where(is_junk, 0.0, np.exp(fit_logit) * group_mult)

    rel = fit_logit - FIT_B0
    r = REENGAGE_RATE * np.exp(REENGAGE_FIT_SLOPE * (rel - 0.5) + rng.normal(0, REENGAGE_NOISE_SD, n))
    r = np.where(is_junk, 0.0, np.clip(r, 1 / 400, 1 / 10))
    a0 = A0_SCALE * np.array([s[2] for s in SOURCES])[p["source"]] * np.exp(rng.normal(0, 0.25, n))
    a0 = np.where(is_junk, 0.0, a0)
    activity = np.where(is_junk, JUNK_ACTIVITY, ACTIVITY_MEDIAN * np.exp(rng.normal(0, ACTIVITY_SD, n)))
    # unsubscribe: a symptom of low fit (no effect on the hazard); bad emails and bots never unsubscribe
    p_unsub = np.clip(UNSUB_DAILY * np.exp(UNSUB_FIT_SLOPE * (rel - 0.5)), 1e-6, 0.05)
    unsub_day = created_day.astype(np.int64) + rng.geometric(p_unsub)
    unsub_day[is_junk | bad_email] = np.iinfo(np.int32).max
    threshold = rng.exponential(1.0, n)
    threshold[is_junk] = np.inf

    h.update(fit=fit, fit_logit=fit_logit, r=r, a0=a0, activity=activity, unsub_day=unsub_day,
             threshold=threshold, seeker=seeker, bad_email=bad_email, bant=bant)
    return h

