"""The four output tables built from the simulation's integer codes: leads, events, outcomes and truth.

Strings are made once, at the end, with pyarrow (names, emails, companies, titles and phones with their
noise, the lead ids) so the day loop only handles numbers. The leads frame draws its own cosmetic noise
from the generator after the simulation; the other frames draw nothing and release the simulation's
arrays column by column to keep the peak memory down at 1M leads.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.sampleworld.profiles import choice
from pipeline.sampleworld.spec import CHANNEL_NAMES, CHANNEL_OF_TYPE, EVENT_TYPES, NS_PER_DAY, WorldSpec
from pipeline.sampleworld.vocab import (
    COUNTRIES,
    DESCRIPTORS,
    DISPOSABLE,
    FIRST_NAMES,
    FREE_MAIL,
    INDUSTRIES,
    INVALID_PHONES,
    JUNK_NAMES,
    LAST_NAMES,
    LEGAL,
    MASH_LETTERS,
    N_OWNERS,
    ROLE_LOCALS,
    SOURCES,
    SYLLABLES,
    TYPO_FREE_MAIL,
    TYPO_TLD,
)


# ----------------------------------------------------------------------------------------------------
# Strings (built once, from codes, with pyarrow)
# ----------------------------------------------------------------------------------------------------
def lead_id_strings(n: int) -> np.ndarray:
    """'L' + 7 digits as a fixed-width bytes array (index = lead position)."""
    digits = np.arange(1, n + 1, dtype=np.int64)
    out = np.zeros((n, 8), dtype=np.uint8)
    out[:, 0] = ord("L")
    for pos in range(7, 0, -1):
        out[:, pos] = ord("0") + digits % 10
        digits //= 10
    return out.reshape(-1).view("S8")


def _take_fixed(fixed: np.ndarray, idx: np.ndarray) -> pd.Series:
    """pandas str Series from a gather of a fixed-width bytes array (ASCII), without Python objects."""
    width = fixed.dtype.itemsize
    data = np.ascontiguousarray(fixed[idx])
    m = len(data)
    offsets = np.arange(0, width * (m + 1), width, dtype=np.int64)
    arr = pa.Array.from_buffers(pa.large_string(), m, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return pd.Series(arr.to_pandas(), dtype="str")


def _strings(names: list[str], codes: np.ndarray) -> pd.Series:
    """pandas str Series of names[codes] (large_string, the storage pandas uses, so no extra cast)."""
    values = pc.take(pa.array(names, pa.large_string()), pa.array(np.asarray(codes, dtype=np.int32)))
    return pd.Series(values.to_pandas(), dtype="str")


def _as_datetime(ns: np.ndarray) -> np.ndarray:
    """int64 ns since epoch -> datetime64[ns] (int64 min is NaT)."""
    return np.asarray(ns, dtype=np.int64).view("datetime64[ns]")


def _ascii_lower(values: list[str]) -> list[str]:
    import unicodedata
    out = []
    for v in values:
        folded = unicodedata.normalize("NFKD", v).encode("ascii", "ignore").decode()
        out.append("".join(ch for ch in folded.lower() if ch.isalnum()))
    return out


def _col(names: list[str], codes: np.ndarray) -> pa.Array:
    return pc.take(pa.array(names, pa.string()), pa.array(np.asarray(codes, dtype=np.int32)))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _company_names(p: dict[str, np.ndarray]) -> tuple[pa.Array, pa.Array]:
    """Company display names and unique web domains for the company pool."""
    syl = p["c_syll"]
    s1, s2, s3 = (_col(SYLLABLES, syl[:, i]) for i in range(3))
    third = pc.if_else(pa.array(p["c_nsyll"] == 3), s3, pa.scalar(""))
    stem = _join(s1, s2, third)
    n_comp = len(syl)
    legal_flat = [x for c in COUNTRIES for x in LEGAL[c[0]]]
    legal_off = np.concatenate([[0], np.cumsum([len(LEGAL[c[0]]) for c in COUNTRIES])[:-1]])
    legal = _col(legal_flat, legal_off[p["c_country"]] + p["c_legal"])
    desc = _col(DESCRIPTORS, p["c_descriptor"])
    kind = p["c_suffix_kind"]
    suffix = pc.if_else(pa.array(kind == 1), desc, pc.if_else(pa.array(kind == 2), legal, pa.scalar("")))
    name = _join(pc.utf8_capitalize(stem), suffix)
    tld_local = _col([c[4] for c in COUNTRIES], p["c_country"])
    tld_alt = _col([".com", ".io", ".ai", ".co"], p["c_tld_alt"])
    tld = pc.if_else(pa.array(p["c_tld_local"]), tld_local, tld_alt)
    # make domains unique: a repeated stem+tld gets the company number appended
    base = _join(stem, tld)
    dup = pd.Series(base.to_pandas()).duplicated().to_numpy()
    num = pa.array(np.where(dup, np.arange(n_comp).astype(str), ""))
    domain = _join(stem, num, tld)
    return name, domain


def leads_frame(rng: np.random.Generator, spec: WorldSpec, lead_ids: np.ndarray, start_ns: int,
                created_day: np.ndarray, created_off: np.ndarray, is_junk: np.ndarray,
                p: dict[str, np.ndarray], h: dict[str, np.ndarray], conv_day: np.ndarray) -> pd.DataFrame:
    n = len(created_day)
    comp = p["comp"]
    comp_name, comp_domain = _company_names(p)
    company = pc.take(comp_name, pa.array(comp))
    domain = pc.take(comp_domain, pa.array(comp))
    # many bots type nonsense into the company field (and then there is no company domain)
    junk_company = is_junk & (rng.random(n) < 0.4)
    fake_company = _col(["asdf", "test", "none", "n/a", "xxx", "Company", "-", "qwerty inc"],
                        rng.integers(0, 8, n))

    # names; junk get fake / mashed names
    first = _col(FIRST_NAMES, p["first"])
    last = _col(LAST_NAMES, p["last"])
    first_l = _col(_ascii_lower(FIRST_NAMES), p["first"])
    last_l = _col(_ascii_lower(LAST_NAMES), p["last"])
    jn = np.flatnonzero(is_junk)
    junk_kind = rng.integers(0, 3, len(jn))         # 0 word list, 1 keyboard mash, 2 repeated letter
    junk_word1 = rng.integers(0, len(JUNK_NAMES), len(jn))
    junk_word2 = rng.integers(0, len(JUNK_NAMES), len(jn))
    mash_len = rng.integers(4, 9, len(jn))
    mash = MASH_LETTERS[rng.integers(0, len(MASH_LETTERS), (len(jn), 8))]
    rep_letter = MASH_LETTERS[rng.integers(0, len(MASH_LETTERS), len(jn))]
    jf, jl = [], []
    for i in range(len(jn)):
        if junk_kind[i] == 0:
            a, b = JUNK_NAMES[junk_word1[i]], JUNK_NAMES[junk_word2[i]]
        elif junk_kind[i] == 1:
            a, b = "".join(mash[i, : mash_len[i]]), "".join(mash[i, ::-1][: max(4, mash_len[i] - 1)])
        else:
            a, b = rep_letter[i] * int(mash_len[i]), JUNK_NAMES[junk_word2[i]]
        jf.append(a)
        jl.append(b)
    first_np = np.asarray(first.to_pandas(), dtype=object)
    last_np = np.asarray(last.to_pandas(), dtype=object)
    first_np[jn], last_np[jn] = jf, jl
    fl_np = np.asarray(first_l.to_pandas(), dtype=object)
    ll_np = np.asarray(last_l.to_pandas(), dtype=object)
    fl_np[jn] = [x.lower() for x in jf]
    ll_np[jn] = [x.lower() for x in jl]
    first, last = pa.array(first_np, pa.string()), pa.array(last_np, pa.string())
    fl, ll = pa.array(fl_np, pa.string()), pa.array(ll_np, pa.string())

    # email local part and domain
    digits = pc.cast(pa.array(p["email_digits"]), pa.string())
    initial = pc.utf8_slice_codeunits(fl, 0, 1)
    corp_local = pc.choose(pa.array(p["corp_pattern"].astype(np.int8)),
                           _join(fl, ".", ll), _join(initial, ll), fl, _join(fl, "_", ll))
    free_local = pc.choose(pa.array(p["free_pattern"].astype(np.int8)),
                           _join(fl, ".", ll), _join(fl, ll, digits), _join(fl, ".", ll, digits))
    role = _col(ROLE_LOCALS, p["role_local"])
    kind = p["email_kind"].astype(np.int8)
    free_dom = _col(FREE_MAIL, p["free_domain"])
    local = pc.choose(pa.array(kind), corp_local, free_local, role)
    dom = pc.choose(pa.array(kind), domain, free_dom, domain)
    # job seekers mostly use private addresses
    seeker_free = h["seeker"] & (rng.random(n) < 0.6)
    local = pc.if_else(pa.array(seeker_free), free_local, local)
    dom = pc.if_else(pa.array(seeker_free), free_dom, dom)
    # bad emails: a typo in the domain
    bad = h["bad_email"]
    typo_free = _col(TYPO_FREE_MAIL, rng.integers(0, len(TYPO_FREE_MAIL), n))
    typo_tld = _col(TYPO_TLD, rng.integers(0, len(TYPO_TLD), n))
    corp_typo = _join(pc.replace_substring_regex(domain, r"\.[a-z]+$", ""), typo_tld)
    bad_dom = pc.if_else(pa.array(rng.random(n) < 0.5), typo_free, corp_typo)
    dom = pc.if_else(pa.array(bad), bad_dom, dom)
    # junk: disposable (70%) else free-mail; local part from the fake name or random letters
    disp = _col(DISPOSABLE, rng.integers(0, len(DISPOSABLE), n))
    junk_disp = is_junk & (rng.random(n) < 0.7)
    junk_free = is_junk & ~junk_disp
    dom = pc.if_else(pa.array(junk_disp), disp, pc.if_else(pa.array(junk_free), free_dom, dom))
    local = pc.if_else(pa.array(is_junk), _join(fl, digits), local)
    email = _join(local, "@", dom)
    company = pc.if_else(pa.array(junk_company), fake_company, company)
    domain = pc.if_else(pa.array(junk_company), pa.scalar(None, pa.string()), domain)

    # job title with case noise and blanks
    titles = pa.array(list(p["_titles"]), pa.string())
    title = pc.take(titles, pa.array(p["title"]))
    style = p["title_style"]
    title = pc.if_else(pa.array(style == 1), pc.utf8_lower(title), title)
    title = pc.if_else(pa.array(style == 2), pc.utf8_upper(title), title)
    title = pc.if_else(pa.array(style == 4), pa.scalar(""), title)
    title = pc.if_else(pa.array(style == 3), pa.scalar(None, pa.string()), title)
    junk_title = is_junk & (rng.random(n) < 0.5)
    title = pc.if_else(pa.array(junk_title), _col(["", "test", "asdf", "CEO", "xxx", "student"],
                                                  rng.integers(0, 6, n)), title)

    # phone
    cc = _col([c[3] for c in COUNTRIES], p["country"])
    g1 = pc.cast(pa.array(rng.integers(200, 1000, n)), pa.string())
    g2 = pc.cast(pa.array(rng.integers(200, 1000, n)), pa.string())
    g3 = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10_000, n)), pa.string()), 4, "0")
    fmt = rng.integers(0, 3, n).astype(np.int8)
    phone = pc.choose(pa.array(fmt), _join("+", cc, " ", g1, "-", g2, "-", g3),
                      _join("+", cc, " ", g1, " ", g2, " ", g3), _join("(", g1, ") ", g2, "-", g3))
    state = choice(rng, [0.88, 0.04, 0.08], n)   # valid / invalid / missing
    state = np.where(is_junk, choice(rng, [0.1, 0.6, 0.3], n), state)
    invalid = _col(INVALID_PHONES, rng.integers(0, len(INVALID_PHONES), n))
    phone = pc.if_else(pa.array(state == 1), invalid, phone)
    phone = pc.if_else(pa.array(state == 2), pa.scalar(None, pa.string()), phone)

    # BANT
    bant = h["bant"]

    def answers(codes: np.ndarray, values: list[str]) -> pa.Array:
        col = _col(values, np.maximum(codes, 0))
        return pc.if_else(pa.array(codes < 0), pa.scalar(None, pa.string()), col)

    budget = answers(bant[0], ["yes", "no"])
    authority = answers(bant[1], ["yes", "no"])
    need = answers(bant[2], ["high", "medium", "low"])
    timeline = answers(bant[3], ["<3 months", "3-6 months", "6-12 months", ">12 months"])

    # status: post-hoc CRM field (leaks the outcome on purpose)
    age_days = spec.days - created_day
    unsub = h["unsub_day"] < spec.days
    r = rng.random(n)
    status = np.where(age_days > 60, np.where(r < 0.75, 1, 0), np.where(r < 0.2, 1, 0))   # Nurture / Open
    status = np.where(unsub & (r < 0.9), 1, status)
    status = np.where((h["seeker"] & (r < 0.5)) | (~is_junk & (r > 0.97)), 2, status)
    status = np.where(is_junk, np.where(r < 0.85, 2, 0), status)
    status = np.where(conv_day >= 0, 3, status)
    status_col = _col(["Open", "Nurture", "Disqualified", "Converted"], status)

    emp = pd.arrays.IntegerArray(p["emp"].astype(np.int64), p["emp_null"].copy())
    revenue = np.where(p["rev_null"], np.nan, p["rev"].astype(np.float64))

    def s(arr: pa.Array) -> pd.Series:
        return pd.Series(arr.to_pandas(), dtype="str")

    leads = pd.DataFrame({
        "lead_id": _take_fixed(lead_ids, np.arange(n)),
        "created_at": _as_datetime(created_off + start_ns),
        "email": s(email),
        "first_name": s(first),
        "last_name": s(last),
        "job_title": s(title),
        "company": s(company),
        "company_domain": s(domain),
        "account_id": s(_account_ids(comp, junk_company)),
        "industry": _strings([i[0] for i in INDUSTRIES], p["industry"]),
        "employees": pd.Series(emp, dtype="Int64"),
        "annual_revenue": revenue,
        "country": _strings([c[0] for c in COUNTRIES], p["country"]),
        "lead_source": _strings([x[0] for x in SOURCES], p["source"]),
        "phone": s(phone),
        "budget": s(budget),
        "authority": s(authority),
        "need": s(need),
        "timeline": s(timeline),
        "owner": _strings([f"rep_{i + 1:02d}" for i in range(N_OWNERS)], p["owner"]),
        "status": s(status_col),
    })
    return leads


def _account_ids(comp: np.ndarray, junk_company: np.ndarray) -> pa.Array:
    """The CRM account id of each lead's company ("ACC000123"), none where a bot typed a fake company.
    Derived from the company codes, no random draw: adding it left every other column as it was."""
    ids = pc.binary_join_element_wise("ACC", pc.utf8_lpad(pc.cast(pa.array(comp), pa.string()), 6, "0"), "")
    return pc.if_else(pa.array(junk_company), pa.scalar(None, pa.string()), ids)


def events_frame(sim: dict[str, np.ndarray], lead_ids: np.ndarray, start_ns: int) -> pd.DataFrame:
    """The event log from the day loop's `ev_*` arrays; each is popped from `sim` once its column is built."""
    events = pd.DataFrame({"lead_id": _take_fixed(lead_ids, sim.pop("ev_lead"))})
    events["timestamp"] = _as_datetime(sim.pop("ev_ts") + start_ns)
    ev_type = sim.pop("ev_type")
    events["event_type"] = _strings(EVENT_TYPES, ev_type)
    events["channel"] = _strings(CHANNEL_NAMES, CHANNEL_OF_TYPE[ev_type])
    del ev_type
    events["value"] = sim.pop("ev_value").astype(np.float64)
    return events


def outcomes_frame(lead_ids: np.ndarray, conv_off: np.ndarray, start_ns: int) -> pd.DataFrame:
    """One row per lead with its conversion time (NaT where `conv_off` is -1: never converted)."""
    conv_ts = np.where(conv_off >= 0, conv_off + start_ns, np.iinfo(np.int64).min)
    outcomes = pd.DataFrame({"lead_id": _take_fixed(lead_ids, np.arange(len(lead_ids)))})
    outcomes["converted_at"] = _as_datetime(conv_ts)
    return outcomes


def truth_frame(sim: dict[str, np.ndarray], lead_ids: np.ndarray, start_ns: int, is_junk: np.ndarray
                ) -> pd.DataFrame:
    """The weekly p_true snapshots from the day loop's `tr_*` arrays (popped from `sim`)."""
    tr_lead = sim.pop("tr_lead")
    truth = pd.DataFrame({"lead_id": _take_fixed(lead_ids, tr_lead)})
    truth["as_of"] = _as_datetime(sim.pop("tr_day").astype(np.int64) * NS_PER_DAY + start_ns)
    truth["p_true"] = sim.pop("tr_p")
    truth["is_junk"] = is_junk[tr_lead]
    return truth
