"""Lead-quality (spam and junk) flags from the profile: email, names, phone, duplicates."""
from __future__ import annotations

import functools
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.metadata import FeatureInfo

FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "hotmail.com", "hotmail.co.uk",
    "hotmail.fr", "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mail.com",
    "gmx.de", "gmx.net", "web.de", "proton.me", "protonmail.com", "yandex.ru", "mail.ru", "qq.com",
    "163.com", "126.com", "zoho.com", "orange.fr", "free.fr", "libero.it", "t-online.de", "wp.pl",
})
ROLE_LOCALS = frozenset({
    "info", "sales", "admin", "contact", "hello", "support", "office", "marketing", "team", "noreply",
    "no-reply", "webmaster", "billing", "hr", "jobs", "careers", "enquiries", "inquiries", "mail",
})
TEST_WORDS = frozenset({"test", "testing", "tester", "asdf", "qwerty", "foo", "foobar", "fake", "none", "n/a", "xxx",
                        "abc", "aaa", "dummy", "sample", "example", "nobody", "noname", "unknown"})
FAKE_FULL_NAMES = frozenset({("mickey", "mouse"), ("donald", "duck"), ("john", "doe"), ("jane", "doe"),
                             ("test", "user"), ("first", "last")})
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "azertyuiop", "qwertzuiop", "1234567890")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
VOWELS = set("aeiouyàáâäèéêëìíîïòóôöùúûü")


def typo_of_free_mail_mask(domains: pd.Series) -> np.ndarray:
    """'gmial.com', 'hotmial.com', 'gmail.con': one edit or swap away from a free-mail domain (undeliverable
    rather than throw-away, so flagged as invalid email, not as disposable). Every one-edit variant of the
    free-mail domains over the characters that occur in the column, then one set-membership test."""
    uniques = pd.Series(domains.dropna().unique()).astype(str)
    if uniques.empty:
        return np.zeros(len(domains), dtype=bool)
    alphabet = set("".join(uniques.tolist()))
    variants: set[str] = set()
    for d in FREE_MAIL:
        for i in range(len(d) + 1):
            variants.update(d[:i] + ch + d[i:] for ch in alphabet)  # a letter added
            if i < len(d):
                variants.add(d[:i] + d[i + 1:])  # dropped
                variants.update(d[:i] + ch + d[i + 1:] for ch in alphabet)  # replaced
            if i + 1 < len(d):
                variants.add(d[:i] + d[i + 1] + d[i] + d[i + 2:])  # neighbours swapped
    variants -= FREE_MAIL
    return domains.isin(variants).fillna(False).to_numpy(dtype=bool)


# Throw-away services whose name says what they are: the maintained blocklist lags behind their many mirror
# domains (tempmail.com, tempmail.net, trashmail.xyz ...), so a domain label containing one of these words
# counts as disposable too.
DISPOSABLE_WORDS = ("tempmail", "temp-mail", "trashmail", "throwaway", "mailinator", "guerrillamail", "10minutemail",
                    "yopmail", "fakeinbox", "spambox", "burnermail", "disposablemail")


@functools.lru_cache(maxsize=1)
def disposable_domains() -> frozenset[str]:
    """The maintained blocklist from the `disposable-email-domains` package, if installed."""
    try:
        from disposable_email_domains import blocklist
    except ImportError:  # pragma: no cover - the package is a runtime dependency
        return frozenset({"mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com", "tempmail.com"})
    return frozenset(blocklist)


def disposable_mask(domains: pd.Series, disposable: frozenset[str] | None = None) -> np.ndarray:
    """On the blocklist, or named like a throw-away service (see DISPOSABLE_WORDS): Arrow set lookup and one
    regular expression over the column."""
    disposable = disposable if disposable is not None else disposable_domains()
    listed = domains.isin(disposable).fillna(False).to_numpy(dtype=bool)
    named = domains.str.contains("|".join(map(re.escape, DISPOSABLE_WORDS)), regex=True)
    return listed | named.fillna(False).to_numpy(dtype=bool)


QUALITY_FLAGS = [
    "email_missing", "email_invalid", "free_mail", "disposable_email", "role_address", "domain_mismatch",
    "gibberish_name", "test_entry", "invalid_phone", "duplicate_email",
]
QUALITY_LABELS = {  # flag: (text when on, text when off)
    "email_missing": ("No email address", "Has an email address"),
    "email_invalid": ("Malformed or mistyped email address", "Well-formed email address"),
    "free_mail": ("Free-mail address", "Not a free-mail address"),
    "disposable_email": ("Disposable (throw-away) email address", "Not a throw-away email address"),
    "role_address": ("Role address such as info@ or sales@", "Not a role address (info@, sales@...)"),
    "domain_mismatch": ("Email domain differs from the company domain", "Email domain matches the company domain"),
    "gibberish_name": ("Name looks fake or keyboard-mashed", "Name looks real"),
    "test_entry": ("Looks like a test entry", "Not a test entry"),
    "invalid_phone": ("Invalid phone number", "No invalid phone number"),
    "duplicate_email": ("Same email as an earlier lead", "First lead with this email"),
    "junk_flag": ("Flagged as junk", "Not flagged as junk"),
}
# Flags about the email address read as one reason with email_domain_type (features/profile.py): their
# part in that reason (models/explain.py, describer "email").
EMAIL_PARTS = {"email_missing": "missing", "email_invalid": "invalid", "free_mail": "free",
               "disposable_email": "disposable", "role_address": "role", "domain_mismatch": "mismatch"}
EMAIL_SERVICE = "email_service"  # the public mail service of the address (label only, never a model feature)
EMAIL_REASON = {"service_column": EMAIL_SERVICE}


def quality_info() -> dict[str, FeatureInfo]:
    info = {}
    for n in QUALITY_FLAGS:
        on, off = QUALITY_LABELS[n]
        email = n in EMAIL_PARTS
        info[n] = FeatureInfo(n, "quality", on, "flag", negated=off, source="email" if email else "",
                              part=EMAIL_PARTS.get(n, ""), describer="email" if email else "",
                              params=EMAIL_REASON if email else None, bad_news=True)
    return info


def email_service(emails: pd.Series, disposable: frozenset[str] | None = None) -> pd.Series:
    """The domain of a well-formed address when it belongs to a public mail service (a free-mail provider, a
    listed throw-away service, or a one-letter typo of a free-mail domain), else missing. It names the
    provider in reasons ("Free-mail address (gmail.com)"); a company's own domain, and anything of the local
    part, never appears."""
    domain, valid, public = _domain_kind(emails, disposable)
    return domain.where(valid & public).astype("str")


def company_email_domain(emails: pd.Series, disposable: frozenset[str] | None = None) -> pd.Series:
    """The lower-cased domain of a well-formed address that is NOT a public mail service (email_service's
    complement), else missing: the company a lead writes from, which groups colleagues into an account.
    A gmail, throw-away or mistyped-free-mail address says nothing about the employer, so it has none."""
    domain, valid, public = _domain_kind(emails, disposable)
    throwaway = disposable_mask(domain, disposable)  # also the services only named like one (tempmail.xyz)
    return domain.where(valid & ~public & ~throwaway).astype("str")


def _domain_kind(emails: pd.Series, disposable: frozenset[str] | None) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """(domain, well-formed, public mail service) per address: free-mail, a listed throw-away service, or a
    one-letter typo of a free-mail domain."""
    email = emails.astype("string")
    _, domain = email_parts(email)
    valid = _arrow_match(email.str.strip(), EMAIL_RE.pattern)
    listed = disposable if disposable is not None else disposable_domains()
    public = (domain.isin(FREE_MAIL).fillna(False).to_numpy(dtype=bool)
              | domain.isin(listed).fillna(False).to_numpy(dtype=bool) | typo_of_free_mail_mask(domain))
    return domain, valid, public


def email_parts(emails: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Local part (before the first @) and domain (after the last @; the whole text without @), trimmed and
    lower-cased; Arrow string kernels, no Python objects."""
    text = emails.astype("string").str.strip().str.lower()
    local = text.str.replace(r"@.*$", "", regex=True)
    domain = text.str.replace(r"^.*@", "", regex=True)
    return local, domain


def _arrow_match(text: pd.Series, pattern: str) -> np.ndarray:
    """Full-text regular-expression match on the Arrow kernel (RE2 syntax); missing -> False."""
    arr = pa.array(text.astype("string").array)
    return np.asarray(pc.fill_null(pc.match_substring_regex(arr, pattern), False).to_numpy(zero_copy_only=False), dtype=bool)


def _per_unique(values: pd.Series, func: Callable[[object], bool]) -> np.ndarray:
    """func applied to each distinct value once (lead tables repeat names and domains), as a bool array."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.fromiter((bool(func(u)) for u in uniques.tolist()), dtype=bool, count=len(uniques))
    return np.append(mapped, bool(func(None)))[codes]


def is_gibberish(name: object) -> bool:
    """Keyboard runs, repeated letters, no vowels in a long token, or digits in a name."""
    if not isinstance(name, str) or not name.strip():
        return False
    token = name.strip().lower()
    if token in TEST_WORDS or any(ch.isdigit() for ch in token):
        return True
    letters = [c for c in token if c.isalpha()]
    if not letters:
        return True
    if not any("\u4e00" <= c <= "\u9fff" for c in letters):  # CJK names have no vowels to count
        if len(letters) >= 4 and not VOWELS.intersection(letters):
            return True
        # "xxx", "aaaa" or "ababab"; real short names ("Ava", "Anna", "Otto") have 2 letters in 3-4 characters.
        if (len(set(letters)) == 1 and len(letters) >= 3) or (len(set(letters)) == 2 and len(letters) >= 6):
            return True
        if len(token) >= 4 and any(token in row or token[:4] in row for row in KEYBOARD_ROWS):
            return True
    return False


def phone_invalid(phones: pd.Series) -> pd.Series:
    """Phone numbers with too few digits or a single repeated digit (missing is not invalid)."""
    text = phones.astype("string")
    digits = text.str.replace(r"\D", "", regex=True)
    repeated = _arrow_match(digits, r"^(?:0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)$")
    length = digits.str.len().fillna(0).to_numpy()
    bad = (length < 7) | (length > 15) | repeated
    return pd.Series(bad & text.notna().to_numpy(), index=phones.index)


def quality_flags(leads: pd.DataFrame, disposable: frozenset[str] | None = None) -> pd.DataFrame:
    """One boolean column per quality flag plus `junk_flag` (the lead should not reach sales, judged from
    the profile alone; LeadFeatureBuilder adds the engagement evidence, see `junk_rule`).

    String work runs on Arrow kernels or once per distinct value (names and domains repeat), so a million
    leads take a few seconds."""
    n = len(leads)
    empty = pd.Series([pd.NA] * n, index=leads.index, dtype="string")
    email = leads["email"].astype("string") if "email" in leads else empty
    local, domain = email_parts(email)
    valid = _arrow_match(email.str.strip(), EMAIL_RE.pattern)
    flags = pd.DataFrame(index=leads.index)
    flags["email_missing"] = email.isna().to_numpy()
    typo = typo_of_free_mail_mask(domain)
    flags["email_invalid"] = (~valid & email.notna().to_numpy()) | typo
    free = domain.isin(FREE_MAIL).fillna(False).to_numpy(dtype=bool)
    flags["free_mail"] = free & valid
    throwaway = disposable_mask(domain, disposable)
    flags["disposable_email"] = throwaway & valid & ~typo
    flags["role_address"] = local.isin(ROLE_LOCALS).fillna(False).to_numpy(dtype=bool) & valid
    if "company_domain" in leads:
        company = leads["company_domain"].astype("string").str.strip().str.lower().str.removeprefix("www.")
        differs = (domain != company).fillna(False).to_numpy(dtype=bool)
        flags["domain_mismatch"] = valid & company.notna().to_numpy() & ~free & differs
    else:
        flags["domain_mismatch"] = False
    names = [leads[c] for c in ("first_name", "last_name") if c in leads]
    gib = np.zeros(n, dtype=bool)
    test = np.zeros(n, dtype=bool)
    for col in names:
        gib |= _per_unique(col, is_gibberish)
        test |= _per_unique(col, lambda v: isinstance(v, str) and v.strip().lower() in TEST_WORDS)
    test |= local.isin(TEST_WORDS).fillna(False).to_numpy(dtype=bool)
    if len(names) == 2:
        first, last = (c.astype("string").str.strip().str.lower() for c in names)
        pairs = first + "\0" + last
        test |= pairs.isin({f"{a}\0{b}" for a, b in FAKE_FULL_NAMES}).fillna(False).to_numpy(dtype=bool)
    flags["gibberish_name"] = gib
    flags["test_entry"] = test
    flags["invalid_phone"] = phone_invalid(leads["phone"]).to_numpy() if "phone" in leads else False
    flags["duplicate_email"] = _duplicate_of_earlier(email, leads.get("created_at"))
    flags["junk_flag"] = profile_junk(flags)
    return flags.astype(bool)


# Weak signals: common on real leads too, so junk only together with a bot-like burst.
WEAK_SIGNALS = ["free_mail", "email_invalid", "email_missing", "gibberish_name", "invalid_phone", "role_address",
                "domain_mismatch"]


def burst_size(engagement: pd.DataFrame) -> np.ndarray | None:
    """The largest burst of activity within an hour: in the hour after the lead's first activity (a form bot
    signing up) or in any clock hour (a signup after earlier anonymous visits that the CRM attached to the
    lead, or a bot coming back). None when the engagement features lack both columns."""
    cols = [c for c in ("events_first_hour", "max_events_one_hour") if c in engagement.columns]
    if not cols:
        return None
    return np.nan_to_num(engagement[cols].to_numpy(dtype=float)).max(axis=1)


def junk_rule(flags: pd.DataFrame, burst: np.ndarray | None = None, bot_burst_events: int = 15) -> np.ndarray:
    """junk_flag: the profile rules (`profile_junk`), or a bot-like burst (`burst_size` of at least
    `bot_burst_events` activities within an hour: form bots submit, browse and download within seconds)
    together with at least one weak profile signal. A real, eager prospect can produce a burst, so a burst
    alone never makes a lead junk; 0 turns the burst rule off."""
    junk = profile_junk(flags).to_numpy(dtype=bool)
    if burst is None or bot_burst_events <= 0:
        return junk
    bursty = np.nan_to_num(np.asarray(burst, dtype=float)) >= bot_burst_events
    weak = flags[WEAK_SIGNALS].to_numpy(dtype=bool).any(axis=1)
    return junk | (bursty & weak)


def profile_junk(flags: pd.DataFrame) -> pd.Series:
    """Junk from the profile alone: a throw-away address, a test entry, or a fake-looking name together with
    a free-mail address or an invalid phone number."""
    weak_contact = flags["invalid_phone"] | flags["free_mail"]
    return flags["disposable_email"] | flags["test_entry"] | (flags["gibberish_name"] & weak_contact)


def _duplicate_of_earlier(email: pd.Series, created_at: pd.Series | None) -> np.ndarray:
    """True for a lead whose email an EARLIER lead already used (point-in-time: later leads don't count)."""
    key = email.str.strip().str.lower()
    frame = pd.DataFrame({"key": key.to_numpy(), "pos": np.arange(len(key))})
    if created_at is not None:
        frame["t"] = pd.to_datetime(created_at).to_numpy()
        frame = frame.sort_values(["t", "pos"], kind="stable")
    dup = frame["key"].notna() & frame["key"].duplicated(keep="first")
    out = np.zeros(len(key), dtype=bool)
    out[frame["pos"].to_numpy()[dup.to_numpy()]] = True
    return out
