"""Lead-quality (spam and junk) flags from the profile: email, names, phone, duplicates."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

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


def is_typo_of_free_mail(domain: object) -> bool:
    """'gmial.com', 'hotmial.com', 'gmail.con': one edit or swap away from a free-mail domain.
    Undeliverable rather than throw-away, so they are flagged as invalid email, not as disposable."""
    if not isinstance(domain, str) or domain in FREE_MAIL:
        return False
    return any(_within_one_edit(domain, real) for real in FREE_MAIL)


def _within_one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def disposable_domains() -> frozenset[str]:
    """The maintained blocklist from the `disposable-email-domains` package, if installed."""
    try:
        from disposable_email_domains import blocklist
    except ImportError:  # pragma: no cover - the package is a runtime dependency
        return frozenset({"mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com", "tempmail.com"})
    return frozenset(blocklist)


QUALITY_FLAGS = [
    "email_missing", "email_invalid", "free_mail", "disposable_email", "role_address", "domain_mismatch",
    "gibberish_name", "test_entry", "invalid_phone", "duplicate_email",
]
QUALITY_LABELS = {
    "email_missing": "No email address: {value}",
    "email_invalid": "Malformed or mistyped email address: {value}",
    "free_mail": "Free-mail address: {value}",
    "disposable_email": "Disposable (throw-away) email address: {value}",
    "role_address": "Role address such as info@ or sales@: {value}",
    "domain_mismatch": "Email domain differs from the company domain: {value}",
    "gibberish_name": "Name looks fake or keyboard-mashed: {value}",
    "test_entry": "Looks like a test entry: {value}",
    "invalid_phone": "Invalid phone number: {value}",
    "duplicate_email": "Same email as an earlier lead: {value}",
    "junk_flag": "Flagged as junk: {value}",
}


def quality_info() -> dict[str, FeatureInfo]:
    return {n: FeatureInfo(n, "quality", QUALITY_LABELS[n], "flag") for n in QUALITY_FLAGS}


def email_parts(emails: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = emails.astype("string").str.strip().str.lower()
    local = text.str.split("@").str[0]
    domain = text.str.split("@").str[-1]
    return local, domain


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
    bad = (digits.str.len() < 7) | (digits.str.len() > 15) | digits.str.fullmatch(r"(\d)\1+").fillna(False)
    return (bad & text.notna()).fillna(False).astype(bool)


def quality_flags(leads: pd.DataFrame, disposable: frozenset[str] | None = None) -> pd.DataFrame:
    """One boolean column per quality flag plus `junk_flag` (the lead should not reach sales)."""
    disposable = disposable if disposable is not None else disposable_domains()
    n = len(leads)
    empty = pd.Series([pd.NA] * n, index=leads.index, dtype="string")
    email = leads["email"].astype("string") if "email" in leads else empty
    local, domain = email_parts(email)
    valid = email.str.strip().str.match(EMAIL_RE).fillna(False).astype(bool)
    flags = pd.DataFrame(index=leads.index)
    flags["email_missing"] = email.isna().to_numpy()
    typo = domain.map(is_typo_of_free_mail, na_action="ignore").fillna(False).to_numpy(dtype=bool)
    flags["email_invalid"] = (~valid & email.notna()).to_numpy() | typo
    flags["free_mail"] = (domain.isin(FREE_MAIL) & valid).fillna(False).to_numpy(dtype=bool)
    flags["disposable_email"] = (domain.isin(disposable) & valid).fillna(False).to_numpy(dtype=bool) & ~typo
    flags["role_address"] = (local.isin(ROLE_LOCALS) & valid).fillna(False).to_numpy(dtype=bool)
    if "company_domain" in leads:
        company = leads["company_domain"].astype("string").str.strip().str.lower().str.removeprefix("www.")
        mismatch = valid & company.notna() & ~domain.isin(FREE_MAIL) & (domain != company)
        flags["domain_mismatch"] = mismatch.fillna(False).to_numpy(dtype=bool)
    else:
        flags["domain_mismatch"] = False
    names = [leads[c] for c in ("first_name", "last_name") if c in leads]
    gib = np.zeros(n, dtype=bool)
    test = np.zeros(n, dtype=bool)
    for col in names:
        values = col.astype("object")
        gib |= values.map(is_gibberish).to_numpy(dtype=bool)
        test |= values.map(lambda v: isinstance(v, str) and v.strip().lower() in TEST_WORDS).to_numpy(dtype=bool)
    test |= local.isin(TEST_WORDS).fillna(False).to_numpy(dtype=bool)
    if len(names) == 2:
        pairs = zip(names[0].astype("string").str.strip().str.lower(), names[1].astype("string").str.strip().str.lower())
        test |= np.array([pair in FAKE_FULL_NAMES for pair in pairs], dtype=bool)
    flags["gibberish_name"] = gib
    flags["test_entry"] = test
    flags["invalid_phone"] = phone_invalid(leads["phone"]).to_numpy() if "phone" in leads else False
    flags["duplicate_email"] = _duplicate_of_earlier(email, leads.get("created_at"))
    flags["junk_flag"] = (
        flags["disposable_email"] | flags["test_entry"] | (flags["gibberish_name"] & (flags["invalid_phone"] | flags["free_mail"]))
    )
    return flags.astype(bool)


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
