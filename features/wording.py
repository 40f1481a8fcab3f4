"""The sentences salespeople read: every reason's wording, and the labels of the engagement features.

One place for the words, so that changing how a reason reads never means reading the SHAP or array code.

* Engagement labels (features/engagement.py): the phrase of each event type ("Visited the pricing page {n}
  times"), the labels of the fixed engagement features, and each event type's reason texts (once / many / none).
* Describers (models/explain.py picks one per source, by `FeatureInfo.describer`): from the shown values of a
  source's features, the sentence of its reason in one direction, or None where the words would contradict the
  sign or state an absence no one can act on.
* `LOWERS`: appended to a reason that lowers the score in the flat reason_1..3 text columns.

Personal data never enters a sentence: describers see feature values, and the only non-feature column
used is `email_service` (the public mail provider of a free-mail address).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from features.metadata import FeatureInfo, days_ago

LOWERS = " (lowers the score)"  # appended to a negative reason in the flat reason_1..3 text columns
Values = dict[str, object]


# --------------------------------------------------------------------------------------------------------
# Engagement feature labels and event-type texts
# --------------------------------------------------------------------------------------------------------
# Human phrases for the event types leadscore knows; anything else is humanised from its name.
EVENT_PHRASES = {
    "page_view": "Viewed {n} web pages",
    "pricing_page_view": "Visited the pricing page {n} times",
    "blog_view": "Read {n} blog posts",
    "careers_page_view": "Visited the careers page {n} times",
    "email_open": "Opened {n} emails",
    "email_click": "Clicked {n} email links",
    "email_bounce": "{n} emails bounced",
    "unsubscribe": "Unsubscribed from emails ({n}x)",
    "form_submit": "Submitted {n} forms",
    "content_download": "Downloaded {n} content pieces",
    "webinar_registration": "Registered for {n} webinars",
    "webinar_attended": "Attended {n} webinars",
    "demo_request": "Requested a demo {n} times",
    "free_trial_signup": "Signed up for a free trial ({n}x)",
    "contact_sales": "Contacted sales {n} times",
    "case_study_view": "Read {n} case studies",
    "integration_page_view": "Viewed integration pages {n} times",
    "docs_view": "Read the docs {n} times",
    "social_engagement": "Engaged on social media {n} times",
    "product_login": "Logged into the product {n} times",
}

# Features that are not per-type counts, in output order (after the per-type and per-window counts).
FIXED_LABELS = {
    "n_negative_all": "Negative signals (unsubscribe, bounce, careers page): {value}",
    "days_since_last_event": "Last activity {value}",
    "days_since_last_high_intent": "Last high-intent action {value}",
    "days_since_first_event": "First activity {value}",
    "active_days_30": "Active on {value} days in the last 30 days",
    "max_events_one_day": "Most activities in one day: {value}",
    "trend_7_vs_30": "Activity in the last 7 days at {value}x the rate of the 30 days before",
    "decayed_events": "Recent activity score (decayed): {value}",
    "decayed_high_intent": "Recent high-intent score (decayed): {value}",
    "email_click_to_open": "Clicked links in {value:.0%} of the emails opened",
    "unsubscribed": "Unsubscribed from emails: {value}",
    "events_first_hour": "{value} activities within an hour of the first one",
    "events_first_day": "{value} activities within a day of the first one",
    "max_events_one_hour": "Most activities in one clock hour: {value}",
}


# One event type's reason (models/explain.py, describer "events"): (once, with {when} = "4 days ago" / "in the
# last 7 days"; many, with {n}; none). The windowed counts, the decayed count and the flag of a type read as one.
EVENT_TEXTS = {
    "page_view": ("Viewed a web page {when}", "Viewed {n} web pages", "No web page views yet"),
    "pricing_page_view": ("Visited the pricing page {when}", "Visited the pricing page {n} times",
                          "No pricing page visits yet"),
    "blog_view": ("Read a blog post {when}", "Read {n} blog posts", "No blog posts read yet"),
    "careers_page_view": ("Visited the careers page {when}", "Visited the careers page {n} times", "No careers page visits"),
    "email_open": ("Opened an email {when}", "Opened {n} emails", "No emails opened yet"),
    "email_click": ("Clicked an email link {when}", "Clicked {n} email links", "No email links clicked yet"),
    "email_bounce": ("An email bounced {when}", "{n} emails bounced", "No bounced emails"),
    "unsubscribe": ("Unsubscribed from emails {when}", "Unsubscribed from emails ({n}x)", "Never unsubscribed"),
    "form_submit": ("Submitted a form {when}", "Submitted {n} forms", "No forms submitted yet"),
    "content_download": ("Downloaded content {when}", "Downloaded {n} content pieces", "No content downloaded yet"),
    "webinar_registration": ("Registered for a webinar {when}", "Registered for {n} webinars",
                             "No webinar registrations yet"),
    "webinar_attended": ("Attended a webinar {when}", "Attended {n} webinars", "No webinars attended yet"),
    "demo_request": ("Requested a demo {when}", "Requested a demo {n} times", "No demo request yet"),
    "free_trial_signup": ("Signed up for a free trial {when}", "Signed up for a free trial ({n}x)", "No free trial yet"),
    "contact_sales": ("Contacted sales {when}", "Contacted sales {n} times", "Has not contacted sales yet"),
    "case_study_view": ("Read a case study {when}", "Read {n} case studies", "No case studies read yet"),
    "integration_page_view": ("Viewed an integration page {when}", "Viewed integration pages {n} times",
                              "No integration pages viewed yet"),
    "docs_view": ("Read the docs {when}", "Read the docs {n} times", "Has not read the docs yet"),
    "social_engagement": ("Engaged on social media {when}", "Engaged on social media {n} times",
                          "No social media engagement yet"),
    "product_login": ("Logged into the product {when}", "Logged into the product {n} times", "No product logins yet"),
    "event_booth_visit": ("Visited our event booth {when}", "Visited our event booth {n} times",
                          "No event booth visits yet"),
}
SHORT_NAMES = {"pricing_page_view": "pricing", "demo_request": "demo", "free_trial_signup": "trial",
               "contact_sales": "contact sales"}


def event_phrase(event_type: str) -> str:
    return EVENT_PHRASES.get(event_type, f"{event_type.replace('_', ' ').capitalize()} events: {{n}}")


def event_texts(event_type: str) -> dict[str, str]:
    """(once, many, none) texts of an event type's reason; unknown types are humanised from their name."""
    if event_type in EVENT_TEXTS:
        once, many, none = EVENT_TEXTS[event_type]
    else:
        human = event_type.replace("_", " ").strip()
        once, many, none = f"{human.capitalize()} {{when}}", f"{human.capitalize()}: {{n}} times", f"No {human} yet"
    return {"once": once, "many": many, "none": none}


# --------------------------------------------------------------------------------------------------------
# Describers: the wording of one source's reason from its parts' shown values
# --------------------------------------------------------------------------------------------------------
class Describer(NamedTuple):
    """`parts(rep, available)`: the parts whose values the wording needs when `rep` is the most telling
    part (None: the rep feature's own label); `text(values, infos, rep, positive)` -> (label, value), the
    wording for a reason that raises (`positive`) or lowers the score; label None: the case cannot be
    worded in that direction without contradicting itself, or is an absence no one can act on (the
    reason is dropped and the next one takes its place);
    `prepare(arrays, infos)`: optional vectorised step from raw to shown values before keying."""

    parts: Callable[[str, Sequence[str]], list[str] | None]
    text: Callable[[Values, Mapping[str, FeatureInfo], str, bool], tuple[str | None, object]]
    prepare: Callable[[dict[str, np.ndarray], Mapping[str, FeatureInfo]], dict[str, np.ndarray]] | None = None
    uses_rep: bool = True  # False: the wording never depends on which feature pushed furthest


def known(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _icp_suffix(values: Values, positive: bool) -> str:
    """The ideal-customer-profile remark only where it agrees with the reason's sign: an ICP match that
    lowers the score (the model learnt this value does worse than the ICP says) reads without it."""
    icp = values.get("icp")
    if not known(icp) or bool(icp) != positive:
        return ""
    return " (ideal customer profile)" if icp else " (outside the ideal customer profile)"


# events: one event type (or all activity, or the high-intent actions) --------------------------------------
def _event_covered(rep: str) -> bool:
    return rep.startswith("n_") or rep in ("decayed", "last", "flag")


def _event_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    if not _event_covered(rep) or "n_all" not in available:
        return None
    return [p for p in available if p.startswith("n_") or p in ("decayed", "last")]


def _event_prepare(arrays: dict[str, np.ndarray], infos: Mapping[str, FeatureInfo]) -> dict[str, np.ndarray]:
    """From the counts per window, the recency and the decayed count, the few numbers the sentence shows:
    n_all; `mode` 1 = all of them within `window` days (the shortest such window), 2 = `n_window` of them
    within `window` (the shortest window with any), 3 = none within the longest window; `last` = days since
    the latest one, from the recency feature or, for a single event, from its decayed weight
    2 ** (-age / half-life). Keying on these instead of every count keeps the distinct sentences few."""
    n_all = np.round(np.asarray(arrays["n_all"], dtype=float))
    n = len(n_all)
    windows = sorted((int(p[2:]), np.round(np.asarray(a, dtype=float))) for p, a in arrays.items()
                     if p.startswith("n_") and p[2:].isdigit())
    mode, window, n_window = np.zeros(n), np.zeros(n), np.zeros(n)
    if windows:
        longest, counts = windows[-1]
        none = n_all > 0
        mode[none & (counts == 0)], window[none & (counts == 0)] = 3, longest
        for w, counts in reversed(windows):  # the shortest qualifying window wins
            some = (n_all > 0) & (counts > 0) & (counts < n_all)
            mode[some], window[some], n_window[some] = 2, w, counts[some]
        for w, counts in reversed(windows):
            every = (n_all > 0) & (counts == n_all)
            mode[every], window[every], n_window[every] = 1, w, 0
    last = np.full(n, np.nan)
    if "last" in arrays:
        last = np.floor(np.asarray(arrays["last"], dtype=float) + 1e-9)
    if "decayed" in arrays:
        half_life = float((infos["decayed"].params or {}).get("half_life_days", 0) or 0)
        weight = np.asarray(arrays["decayed"], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            days = np.floor(-half_life * np.log2(weight) + 1e-6)
        single = (n_all == 1) & (weight > 0) & (half_life > 0) & np.isfinite(days) & np.isnan(last)
        last[single] = days[single]
    return {"n_all": n_all, "mode": mode, "window": window, "n_window": n_window, "last": last}


def _event_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    words = next(i.params for i in infos.values() if i.params and "many" in i.params)
    n_all = int(values["n_all"])  # type: ignore[call-overload]
    mode, window, n_window = int(values["mode"]), int(values["window"]), int(values["n_window"])  # type: ignore[call-overload]
    last = int(values["last"]) if known(values.get("last")) else None  # type: ignore[call-overload]
    bad_news = any(getattr(i, "bad_news", False) for i in infos.values())  # careers page, unsubscribe, bounce
    if positive and (n_all <= 0 or bad_news):
        return None, n_all  # "never visited the careers page" / "no pricing visits" is no reason to call
    if n_all <= 0:
        return words["none"], 0
    if n_all == 1:
        when = (days_ago(last) if last is not None else f"in the last {window} days" if mode in (1, 2)
                else f"more than {window} days ago" if mode == 3 else "")
        return words["once"].format(when=when).strip().rstrip(","), 1
    text = words["many"].format(n=f"{n_all:,}")
    if mode == 1:
        text += f" in the last {window} days"
    elif mode == 2:
        text += f", {n_window:,} in the last {window} days"
    elif mode == 3 and last is None:
        text += f", none in the last {window} days"
    if last is not None:
        text += f", most recently {days_ago(last)}"
    return text, n_all


# bursts of activity (bot-like when large) --------------------------------------------------------------
BOT_LIKE_PER_HOUR = 10


def _burst_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    hourly = [p for p in ("max_hour", "first_hour") if p in available]
    return hourly or None


def _burst_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    """Only two readable cases: a bot-like burst that lowers the score, or no activity at all that
    lowers it. The absence of bursts is nothing to act on, and a burst that raises it contradicts itself."""
    counts = [int(v) for v in values.values() if known(v)]  # type: ignore[call-overload]
    most = max(counts, default=0)
    if positive:
        return None, most
    if most <= 0:
        return "No activity yet", 0
    if most >= BOT_LIKE_PER_HOUR:
        return f"Burst of {most:,} activities within one hour (bot-like)", most
    return None, most


# the job title: seniority and department ------------------------------------------------------------------
def _title_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    return [p for p in ("seniority", "department", "icp") if p in available] or None


def _title_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    seniority, department = values.get("seniority"), values.get("department")
    value = seniority if seniority not in (None, "unknown", "other") or department is None else department
    if seniority in (None, "unknown") and department in (None, "unknown"):
        return (None if positive else "No job title"), value
    who = ""
    if seniority not in (None, "unknown", "other"):
        display = infos["seniority"].display or {}
        who = str(display.get(str(seniority), seniority))
    dept = ""
    if department not in (None, "unknown", "other", "executive"):
        display = infos["department"].display if "department" in infos else None
        dept = str((display or {}).get(str(department), department))
    if not who and not dept:
        return (None if positive else "Job title not recognised" + _icp_suffix(values, positive)), value
    # "head of" + "sales" -> "head of sales", "VP" + "sales" -> "VP in sales"
    role = (f"{who} {dept}" if who.endswith(" of") else f"{who} in {dept}") if who and dept else who or f"{dept} role"
    return f"Job title: {role}" + _icp_suffix(values, positive), value


# company size -----------------------------------------------------------------------------------------------
def _size_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    return [p for p in ("count", "band", "icp") if p in available] or None


def _size_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    count, band = values.get("count"), values.get("band")
    if known(count):
        text, value = f"Company size: {int(count):,} employees", count  # type: ignore[call-overload]
    elif band not in (None, "unknown"):
        text, value = f"Company size: {band} employees", band
    elif positive:
        return None, None
    else:
        text, value = "Company size unknown", None
    return text + _icp_suffix(values, positive), value


# a category with its ideal-customer-profile flag (industry, country) ---------------------------------------
def _category_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    return [p for p in ("value", "icp") if p in available] if "value" in available else None


def _category_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    value = values.get("value")
    if positive and value is None:
        return None, None
    return infos["value"].text(value) + _icp_suffix(values, positive), value


# BANT answers and their score -----------------------------------------------------------------------------
BANT_WORDS = {"budget": "budget", "authority": "decision maker", "need": "need", "timeline": "timeline"}
BANT_GOOD = ("yes", "high", "<", "within", "now", "immediate")  # answers that raise a lead's chances
BANT_BAD = ("no", "low", ">", "none", "never")  # answers that lower them


def _bant_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    answers = [p for p in BANT_WORDS if p in available]
    return [*answers, *(["score"] if "score" in available else [])] if answers else None


def _bant_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    """The answers on the reason's side: a reason that raises the score lists the answers that are not
    unfavourable, one that lowers it those that are not favourable (all of them if none qualify)."""
    answers = [(word, str(values[p])[:40]) for p, word in BANT_WORDS.items()
               if p in values and values[p] not in (None, "missing", "unknown", "")]
    value = values.get("score", values.get(rep))
    if not answers:
        return (None if positive else "No BANT answers (budget, decision maker, need, timeline)"), value
    against = BANT_BAD if positive else BANT_GOOD
    side = [(w, a) for w, a in answers if not a.strip().lower().startswith(against)] or answers
    return "BANT: " + ", ".join(f"{w} {a}" for w, a in side), value


# the email address --------------------------------------------------------------------------------------
EMAIL_FLAG_PARTS = ("type", "missing", "invalid", "disposable", "free", "role", "mismatch")


def _email_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    return [p for p in (*EMAIL_FLAG_PARTS, "service") if p in available] or None


def _email_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    """A problem with the address reads only as a reason that lowers the score, a company address only as
    one that raises it; the other directions would contradict the words."""
    text, value = _email_case(values)
    good = value == "corporate"
    return (text if text is not None and good == positive else None), value


def _email_case(values: Values) -> tuple[str | None, object]:
    kind = values.get("type")
    service = values.get("service")
    provider = f" ({service})" if isinstance(service, str) and service else ""
    if values.get("missing") or kind == "missing":
        return "No email address", "missing"
    if values.get("invalid"):
        return "Malformed or mistyped email address" + provider, "invalid"
    if values.get("disposable") or kind == "disposable":
        return "Disposable (throw-away) email address" + provider, "disposable"
    if values.get("free") or kind == "free_mail":
        return "Free-mail address" + provider, "free_mail"
    if values.get("role"):
        return "Role address such as info@ or sales@", "role_address"
    if values.get("mismatch"):
        return "Email domain differs from the company domain", "domain_mismatch"
    if kind == "corporate" or any(known(values.get(p)) for p in EMAIL_FLAG_PARTS):
        return "Company email address", "corporate"
    return None, None


# the number of ideal-customer-profile criteria met ------------------------------------------------------
def _criteria_parts(rep: str, available: Sequence[str]) -> list[str] | None:
    return ["count"] if "count" in available else None


def _criteria_text(values: Values, infos: Mapping[str, FeatureInfo], rep: str, positive: bool) -> tuple[str | None, object]:
    count, of = values.get("count"), int((infos["count"].params or {}).get("of", 0))
    if not known(count):
        return None, None
    k = int(count)  # type: ignore[call-overload]
    if (positive and k <= 0) or (not positive and k >= of):
        return None, k  # meeting none cannot raise the score; meeting all cannot honestly lower it
    if positive:
        return f"Meets {k} of {of} ideal-customer-profile criteria", k
    return (f"Meets only {k} of {of} ideal-customer-profile criteria" if k else
            f"Meets none of the {of} ideal-customer-profile criteria"), k


def feature_text(info: FeatureInfo, shown: object, positive: bool) -> str | None:
    """A feature's own label for a reason in one direction; None where the words would contradict the
    sign or state an absence: an unknown value that raises the score, and for bad-news features (quality
    flags, unsubscribed, negative signals) anything but their presence lowering it."""
    if shown is None and positive:
        return None
    if getattr(info, "bad_news", False):
        present = shown is not None and not (isinstance(shown, (int, float)) and shown == 0)
        if positive or not present:
            return None
    return info.text(shown)


DESCRIBERS: dict[str, Describer] = {
    "events": Describer(_event_parts, _event_text, _event_prepare),
    "title": Describer(_title_parts, _title_text, uses_rep=False),
    "size": Describer(_size_parts, _size_text, uses_rep=False),
    "category": Describer(_category_parts, _category_text, uses_rep=False),
    "bant": Describer(_bant_parts, _bant_text, uses_rep=False),
    "email": Describer(_email_parts, _email_text, uses_rep=False),
    "burst": Describer(_burst_parts, _burst_text, uses_rep=False),
    "criteria": Describer(_criteria_parts, _criteria_text, uses_rep=False),
}
