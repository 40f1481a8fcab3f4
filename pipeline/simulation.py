"""A simulated B2B lead world: leads, their event log, conversions and the exact conversion probability.

Pure (no file I/O), vectorised and deterministic for a seed. The world runs in daily discrete time over
`spec.days` days. Every lead has a hidden, time-constant fit (`fit_mult`) and a hidden, time-varying
interest `I`:

* on its creation day `I = A0` (A0 depends on the lead source),
* then every day `I = I * d + N_t * A` with `d = 0.5 ** (1 / HALF_LIFE_DAYS)` and `N_t ~ Poisson(r_i)`
  random re-engagement episodes,
* events on day t: `Poisson(e_i * (E_BASE + I))`; an event comes from the "intent" mix with probability
  `I / (I + INTENT_K)`, otherwise from the "background" mix,
* an open, non-junk lead converts on day t with probability `1 - exp(-h)`,
  `h = fit_mult * (H_BASE + H_INT * I)` (I after the day's update).

Order within a day: (1) episodes and the interest update, (2) events, (3) the conversion draw.

`truth` holds, for weekly snapshots `as_of = start + 7k days`, the exact probability that an open lead
converts on days s .. s+H-1 given the hidden state known before day s (interest after day s-1),
integrating over the random future episodes:

    P(no conversion) = exp(-sum_{k=0}^{H-1} fit * (H_BASE + H_INT * I_{s-1} * d^(k+1)))
                       * prod_{u=0}^{H-1} exp(-r * (1 - exp(-fit * H_INT * A * sum_{j=0}^{H-1-u} d^j)))

Unsubscribes, job seekers and bad emails have fixed hidden effects (or none on the hazard), so p_true
stays exact. Junk leads never convert (p_true = 0).

Implementation notes (1,000,000 leads in well under 10 GiB): leads are kept in creation order so the
leads existing on day t are a prefix of the arrays; the per-lead Poisson draws of a day are done as one
Poisson total split over leads by a cumulative-rate search (Poisson splitting, exact), conversions use a
pre-drawn Exp(1) threshold on the cumulative hazard (exactly `1 - exp(-h)` per day), and all strings are
built once at the end from integer codes with pyarrow.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "WorldSpec", "World", "simulate_world", "p_true_from_state", "EVENT_TYPES", "EVENT_CHANNELS",
    "HIGH_INTENT_EVENTS", "NEGATIVE_EVENTS", "LEAD_COLUMNS", "EVENT_COLUMNS", "OUTCOME_COLUMNS", "TRUTH_COLUMNS",
]

NS_PER_SEC = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SEC

# ----------------------------------------------------------------------------------------------------
# Tuned constants (see benchmarks/RESULTS_generate.md for the resulting rates and the oracle AUC)
# ----------------------------------------------------------------------------------------------------
HALF_LIFE_DAYS = 10.0
DECAY = 0.5 ** (1.0 / HALF_LIFE_DAYS)       # d
EPISODE_SIZE = 1.0                          # A: interest added by one re-engagement episode
A0_SCALE = 1.0                              # multiplies the per-source creation-day interest A0
REENGAGE_RATE = 1.0 / 75.0                  # median r_i (episodes per day)
REENGAGE_FIT_SLOPE = 0.5                    # r_i = REENGAGE_RATE * exp(slope * (fit_logit - FIT_B0 - 0.5) + noise)
REENGAGE_NOISE_SD = 0.35
FIT_B0 = -5.7                               # intercept of fit_logit
FIT_NOISE_SD = 0.6
H_BASE = 0.0005                             # baseline daily hazard per unit fit
H_INT = 0.15                                # hazard per unit interest per unit fit
E_BASE = 0.01                               # baseline event rate per unit activity
ACTIVITY_MEDIAN = 0.20                      # median e_i
ACTIVITY_SD = 0.5
INTENT_K = 3.0                              # P(intent mix) = I / (I + INTENT_K)
POST_RATE = 0.25                            # events/day per unit activity after conversion
JUNK_ACTIVITY = 0.5                         # e_i of junk (rate E_BASE * this: rare events after the burst)
UNSUB_DAILY = 0.0006                        # daily unsubscribe probability at fit_logit = FIT_B0
UNSUB_FIT_SLOPE = -0.7                      # lower fit -> more unsubscribes
JOB_SEEKER_RATE = 0.03
JOB_SEEKER_FIT = 0.05
JOB_SEEKER_CAREERS_P = 0.25                 # share of a job seeker's events that are careers_page_view
BAD_EMAIL_RATE = 0.02
BAD_EMAIL_FIT = 0.3
DUPLICATE_RATE = 0.015                      # leads that re-use an earlier lead's person and email

LEAD_COLUMNS = [
    "lead_id", "created_at", "email", "first_name", "last_name", "job_title", "company", "company_domain",
    "industry", "employees", "annual_revenue", "country", "lead_source", "phone", "budget", "authority",
    "need", "timeline", "owner", "status",
]
EVENT_COLUMNS = ["lead_id", "timestamp", "event_type", "channel", "value"]
OUTCOME_COLUMNS = ["lead_id", "converted_at"]
TRUTH_COLUMNS = ["lead_id", "as_of", "p_true", "is_junk"]

# ----------------------------------------------------------------------------------------------------
# Event types (integer codes internally)
# ----------------------------------------------------------------------------------------------------
_EVENTS: list[tuple[str, str]] = [
    ("page_view", "web"), ("blog_view", "web"), ("email_open", "email"), ("social_engagement", "social"),
    ("content_download", "web"), ("webinar_registration", "event"), ("docs_view", "web"),
    ("pricing_page_view", "web"), ("demo_request", "web"), ("free_trial_signup", "product"),
    ("contact_sales", "web"), ("case_study_view", "web"), ("integration_page_view", "web"),
    ("webinar_attended", "event"), ("email_click", "email"), ("form_submit", "web"),
    ("unsubscribe", "email"), ("careers_page_view", "web"), ("email_bounce", "email"),
    ("product_login", "product"), ("event_booth_visit", "event"),
]
EVENT_TYPES = [name for name, _ in _EVENTS]
EVENT_CHANNELS = {name: ch for name, ch in _EVENTS}
_CODE = {name: i for i, name in enumerate(EVENT_TYPES)}
_CHANNEL_NAMES = ["web", "email", "social", "event", "product"]
_CHANNEL_OF_TYPE = np.array([_CHANNEL_NAMES.index(ch) for _, ch in _EVENTS], dtype=np.int8)
HIGH_INTENT_EVENTS = ("pricing_page_view", "demo_request", "free_trial_signup", "contact_sales")
NEGATIVE_EVENTS = ("unsubscribe", "careers_page_view", "email_bounce")
_EMAIL_TYPES = np.zeros(len(EVENT_TYPES), dtype=bool)
_EMAIL_TYPES[[_CODE["email_open"], _CODE["email_click"]]] = True
# seconds-on-page (lognormal median, sigma) for page-type events; NaN value for the others
_PAGE_SECONDS = {
    "page_view": (35.0, 0.9), "blog_view": (90.0, 0.8), "docs_view": (70.0, 0.9),
    "pricing_page_view": (60.0, 0.8), "case_study_view": (110.0, 0.8), "integration_page_view": (55.0, 0.8),
    "careers_page_view": (75.0, 0.8),
}
_PAGE_MEDIAN = np.full(len(EVENT_TYPES), np.nan)
_PAGE_SIGMA = np.zeros(len(EVENT_TYPES))
for _name, (_med, _sig) in _PAGE_SECONDS.items():
    _PAGE_MEDIAN[_CODE[_name]] = _med
    _PAGE_SIGMA[_CODE[_name]] = _sig


def _mix(weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    codes = np.array([_CODE[k] for k in weights], dtype=np.int8)
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
# Profile tables: (name, weight, fit effect, ...)
# ----------------------------------------------------------------------------------------------------
# name, weight, fit effect, revenue per employee (USD), ICP
_INDUSTRIES = [
    ("Software", 0.16, 0.65, 220_000), ("Fintech", 0.07, 0.55, 300_000),
    ("Healthcare Technology", 0.07, 0.5, 200_000), ("E-commerce", 0.08, 0.3, 250_000),
    ("Manufacturing", 0.12, -0.1, 180_000), ("Retail", 0.09, -0.25, 120_000),
    ("Financial Services", 0.09, 0.1, 350_000), ("Consulting", 0.09, 0.0, 150_000),
    ("Logistics", 0.07, -0.1, 160_000), ("Education", 0.06, -0.45, 80_000),
    ("Government", 0.04, -0.7, 90_000), ("Media & Entertainment", 0.06, -0.05, 170_000),
]
ICP_INDUSTRIES = ("Software", "Fintech", "Healthcare Technology", "E-commerce")
# name, weight, fit effect, phone country code, email/web tld, language of foreign titles
_COUNTRIES = [
    ("United States", 0.35, 0.2, "1", ".com", ""), ("United Kingdom", 0.10, 0.15, "44", ".co.uk", ""),
    ("Germany", 0.10, 0.1, "49", ".de", "de"), ("France", 0.06, 0.0, "33", ".fr", "fr"),
    ("Canada", 0.06, 0.1, "1", ".ca", ""), ("Australia", 0.04, 0.05, "61", ".com.au", ""),
    ("Netherlands", 0.04, 0.1, "31", ".nl", ""), ("Spain", 0.05, -0.1, "34", ".es", "es"),
    ("India", 0.08, -0.4, "91", ".in", ""), ("Brazil", 0.05, -0.3, "55", ".com.br", "pt"),
    ("Sweden", 0.03, 0.05, "46", ".se", ""), ("Singapore", 0.04, 0.0, "65", ".sg", "zh"),
]
# name, weight, A0 (interest on the creation day), fit effect, P(BANT answered), creation event
_SOURCES = [
    ("organic_search", 0.22, 3.25, 0.0, 0.40, "form_submit"),
    ("paid_search", 0.15, 3.75, 0.0, 0.40, "form_submit"),
    ("webinar", 0.10, 7.5, 0.2, 0.65, "webinar_registration"),
    ("referral", 0.07, 6.25, 0.6, 0.70, "form_submit"),
    ("event", 0.08, 5.0, 0.2, 0.60, "event_booth_visit"),
    ("content_download", 0.18, 2.5, -0.2, 0.35, "content_download"),
    ("partner", 0.08, 4.0, 0.3, 0.50, ""),
    ("purchased_list", 0.12, 0.5, -0.8, 0.10, ""),
]
_JUNK_SOURCE_WEIGHTS = {"organic_search": 0.35, "paid_search": 0.2, "content_download": 0.35, "webinar": 0.1}

_SENIORITIES = ["founder", "c_level", "vp", "head", "director", "manager", "senior", "ic", "intern"]
_SENIORITY_W = [0.05, 0.05, 0.06, 0.06, 0.10, 0.21, 0.16, 0.27, 0.04]
_SENIORITY_FIT = np.array([0.55, 0.7, 0.8, 0.6, 0.5, 0.2, 0.0, -0.35, -1.6])
_DEPARTMENTS = ["sales", "marketing", "engineering", "finance", "operations", "hr", "product", "general"]
_DEPARTMENT_W = [0.22, 0.24, 0.20, 0.08, 0.10, 0.06, 0.10, 0.0]
_DEPARTMENT_FIT = np.array([0.35, 0.45, 0.15, -0.05, 0.0, -0.45, 0.2, 0.3])

_DEPT_WORDS = {
    "sales": ["Sales", "Sales", "Business Development", "Revenue"],
    "marketing": ["Marketing", "Marketing", "Growth", "Demand Generation"],
    "engineering": ["Engineering", "IT", "Technology", "Software Engineering"],
    "finance": ["Finance", "Finance", "Accounting"],
    "operations": ["Operations", "Operations", "Supply Chain"],
    "hr": ["HR", "People", "Human Resources", "Talent Acquisition"],
    "product": ["Product", "Product", "Product Management"],
}
_C_LEVEL = {
    "sales": ["CRO", "Chief Revenue Officer", "Chief Sales Officer"],
    "marketing": ["CMO", "Chief Marketing Officer"],
    "engineering": ["CTO", "Chief Technology Officer", "CIO", "Chief Information Officer"],
    "finance": ["CFO", "Chief Financial Officer"],
    "operations": ["COO", "Chief Operating Officer"],
    "hr": ["CHRO", "Chief People Officer"],
    "product": ["CPO", "Chief Product Officer"],
}
_SENIOR = {
    "sales": ["Senior Account Executive", "Sr. Account Executive", "Lead Sales Engineer", "Senior BDR"],
    "marketing": ["Senior Marketing Specialist", "Sr. Content Marketing Manager", "Lead Growth Marketer",
                  "Senior SEO Specialist"],
    "engineering": ["Sr. Software Engineer", "Senior Software Engineer", "Lead Engineer", "Staff Engineer",
                    "Principal Engineer", "Senior DevOps Engineer", "Sr. Data Engineer"],
    "finance": ["Senior Accountant", "Sr. Financial Analyst", "Lead Controller"],
    "operations": ["Senior Operations Analyst", "Sr. Procurement Specialist", "Lead Logistics Coordinator"],
    "hr": ["Senior Recruiter", "Sr. HR Business Partner", "Lead Talent Partner"],
    "product": ["Senior Product Manager", "Sr. Product Designer", "Lead UX Designer"],
}
_IC = {
    "sales": ["Account Executive", "SDR", "Sales Development Representative", "BDR", "Sales Representative",
              "Inside Sales Rep", "Account Manager"],
    "marketing": ["Marketing Specialist", "Content Marketer", "Marketing Coordinator", "Marketing Associate",
                  "SEO Specialist", "Social Media Specialist"],
    "engineering": ["Software Engineer", "Developer", "IT Specialist", "System Administrator",
                    "Data Analyst", "Web Developer", "DevOps Engineer", "Data Scientist"],
    "finance": ["Accountant", "Financial Analyst", "Bookkeeper", "Finance Associate"],
    "operations": ["Operations Analyst", "Operations Coordinator", "Office Administrator", "Buyer"],
    "hr": ["Recruiter", "HR Generalist", "HR Assistant", "Talent Acquisition Specialist"],
    "product": ["Product Designer", "UX Designer", "Product Analyst", "Associate Product Manager"],
}
_FOUNDER = ["Founder", "Co-Founder", "Founder & CEO", "CEO", "Chief Executive Officer", "Owner",
            "Managing Director", "President", "Co-founder and CEO", "Owner/Operator"]
# language -> (title, seniority, department)
_FOREIGN_TITLES = {
    "de": [("Geschäftsführer", "founder", "general"), ("Leiter Vertrieb", "head", "sales"),
           ("Leiterin Marketing", "head", "marketing"), ("Vertriebsleiter", "head", "sales"),
           ("Softwareentwickler", "ic", "engineering"), ("Entwickler", "ic", "engineering"),
           ("Praktikant", "intern", "marketing"), ("Inhaber", "founder", "general"),
           ("Leiter IT", "head", "engineering"), ("Personalreferentin", "ic", "hr")],
    "fr": [("Directeur commercial", "director", "sales"), ("Responsable marketing", "manager", "marketing"),
           ("Directeur marketing", "director", "marketing"), ("Fondateur", "founder", "general"),
           ("Ingénieur logiciel", "ic", "engineering"), ("Directrice financière", "director", "finance"),
           ("Chargé de recrutement", "ic", "hr"), ("Stagiaire marketing", "intern", "marketing"),
           ("PDG", "founder", "general")],
    "es": [("Gerente de ventas", "manager", "sales"), ("Jefe de marketing", "head", "marketing"),
           ("Directora de marketing", "director", "marketing"), ("Desarrollador de software", "ic", "engineering"),
           ("Director general", "founder", "general"), ("Analista financiero", "ic", "finance"),
           ("Gerente de operaciones", "manager", "operations")],
    "pt": [("Gerente de vendas", "manager", "sales"), ("Diretor comercial", "director", "sales"),
           ("Analista de marketing", "ic", "marketing"), ("Desenvolvedor de software", "ic", "engineering"),
           ("Fundador", "founder", "general"), ("Gerente de marketing", "manager", "marketing")],
    "zh": [("销售经理", "manager", "sales"), ("市场总监", "director", "marketing"), ("技术总监", "director", "engineering"),
           ("软件工程师", "ic", "engineering"), ("总经理", "founder", "general"), ("财务经理", "manager", "finance"),
           ("产品经理", "manager", "product")],
}
_FOREIGN_TITLE_P = 0.2   # share of leads in a country with a language that get a title in that language
_TITLE_LOWER_P, _TITLE_UPPER_P, _TITLE_NULL_P, _TITLE_EMPTY_P = 0.06, 0.01, 0.02, 0.01

_FIRST_NAMES = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Susan", "Richard", "Jessica", "Joseph", "Sarah", "Thomas", "Karen", "Daniel", "Emily",
    "Matthew", "Laura", "Anthony", "Amanda", "Mark", "Rachel", "Kevin", "Megan", "Brian", "Hannah",
    "Oliver", "Charlotte", "Harry", "Amelia", "George", "Sophie", "Lukas", "Anna", "Jonas", "Lena",
    "Felix", "Marie", "Jürgen", "Katrin", "Pierre", "Camille", "Louis", "Chloé", "Hugo", "Léa",
    "José", "María", "Carlos", "Lucía", "Javier", "Sofía", "João", "Ana", "Pedro", "Beatriz",
    "Priya", "Rahul", "Ananya", "Arjun", "Deepika", "Vikram", "Wei", "Li", "Mei", "Jun",
    "Erik", "Astrid", "Lars", "Ingrid", "Sven", "Noah", "Liam", "Emma", "Olivia", "Ava",
]
_LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
    "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green",
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch",
    "Dubois", "Lefèvre", "Moreau", "Laurent", "Bernard", "Fernández", "López", "González", "Pérez", "Sánchez",
    "Silva", "Santos", "Oliveira", "Souza", "Costa", "Patel", "Sharma", "Singh", "Kumar", "Gupta",
    "Wang", "Zhang", "Chen", "Liu", "Tan", "Andersson", "Johansson", "Karlsson", "Nilsson", "de Vries",
    "van Dijk", "O'Brien", "Murphy", "Kelly", "Nguyen", "Kim", "Park", "Rossi", "Bianchi", "Novak",
]
_JUNK_NAMES = ["asdf", "test", "qwerty", "Test", "aaaa", "xxx", "asdfgh", "zzzz", "jjjjj", "sdfsdf",
               "fdsa", "abc", "hjkl", "qwe", "Mickey", "Mouse", "dummy", "fake", "kkkk", "test123"]
_MASH_LETTERS = np.array(list("asdfghjklqwertzxcvbn"))

_FREE_MAIL = ["gmail.com"] * 10 + ["yahoo.com"] * 3 + ["outlook.com"] * 3 + ["hotmail.com"] * 2 + [
    "icloud.com", "aol.com", "proton.me", "gmx.de", "web.de", "orange.fr", "hotmail.co.uk", "yahoo.fr",
    "qq.com", "live.com"]
_DISPOSABLE = ["mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com", "tempmail.com",
               "sharklasers.com", "trashmail.com", "dispostable.com"]
_TYPO_FREE_MAIL = ["gmial.com", "gmai.com", "yahooo.com", "hotmial.com", "outlok.com", "gnail.com"]
_TYPO_TLD = [".con", ".cm", ".comm", ".om"]
_ROLE_LOCALS = ["info", "sales", "contact", "hello", "marketing", "office"]
_INVALID_PHONES = ["123", "000-000-0000", "n/a", "555", "1111111", "+1", "0", "12345"]

_SYLLABLES = ["ac", "al", "ar", "bel", "bri", "cal", "cor", "dat", "del", "ex", "fin", "flo", "gen", "hel",
              "in", "jet", "kin", "lum", "lyx", "mar", "max", "mer", "nex", "nov", "om", "pix", "pro", "quan",
              "ra", "ri", "sol", "spr", "syn", "tek", "tra", "tri", "ver", "vi", "vo", "wav", "xa", "zen",
              "zo", "ly", "ta", "na", "on", "ia", "um", "is", "ix", "ora", "io", "eon", "ent", "ica"]
_DESCRIPTORS = [" Labs", " Systems", " Group", " Technologies", " Solutions", " Software", " Analytics",
                " Partners", " Health", " Capital", " Logistics", " Media", " Digital", " Networks", " Works"]
_LEGAL = {"United States": [" Inc.", " LLC", " Corp."], "United Kingdom": [" Ltd", " plc"],
          "Germany": [" GmbH", " AG"], "France": [" SAS", " SA"], "Spain": [" S.L.", " S.A."],
          "Netherlands": [" B.V."], "Brazil": [" Ltda"], "Sweden": [" AB"], "Canada": [" Inc."],
          "Australia": [" Pty Ltd"], "India": [" Pvt Ltd"], "Singapore": [" Pte Ltd"]}
N_OWNERS = 24


# ----------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorldSpec:
    n_leads: int = 20_000
    seed: int = 42
    start: str = "2025-01-01"      # world start (00:00, tz-naive, UTC by convention)
    days: int = 546                # ~18 months
    horizon_days: int = 90         # p_true horizon
    max_lead_age_days: int = 180   # truth snapshots only while lead age <= this
    junk_rate: float = 0.05


@dataclass
class World:
    leads: pd.DataFrame
    events: pd.DataFrame
    outcomes: pd.DataFrame
    truth: pd.DataFrame


def simulate_world(spec: WorldSpec, progress: Callable[[int, int], None] | None = None) -> World:
    """Simulate the world of `spec`; `progress(done_days, total_days)` is called once per simulated day."""
    _validate(spec)
    rng = np.random.default_rng(spec.seed)
    start_ns = int(np.datetime64(pd.Timestamp(spec.start).normalize().to_datetime64(), "ns").astype(np.int64))
    n = spec.n_leads

    created_day, created_off, is_junk = _creation_times(rng, spec)
    prof = _profiles(rng, n, is_junk)
    hidden = _hidden_state(rng, prof, created_day, is_junk)
    sim = _run_days(rng, spec, created_day, created_off, is_junk, prof, hidden, progress)
    conv_off = _conversion_times(rng, sim["conv_day"], created_off)

    lead_ids = _lead_id_strings(n)
    leads = _leads_frame(rng, spec, lead_ids, start_ns, created_day, created_off, is_junk, prof, hidden,
                         sim["conv_day"])
    del prof, hidden
    # build each column and drop its source array right away (keeps the peak memory down at 1M leads)
    events = pd.DataFrame({"lead_id": _take_fixed(lead_ids, sim.pop("ev_lead"))})
    events["timestamp"] = _as_datetime(sim.pop("ev_ts") + start_ns)
    ev_type = sim.pop("ev_type")
    events["event_type"] = _strings(EVENT_TYPES, ev_type)
    events["channel"] = _strings(_CHANNEL_NAMES, _CHANNEL_OF_TYPE[ev_type])
    del ev_type
    events["value"] = sim.pop("ev_value").astype(np.float64)
    conv_ts = np.where(conv_off >= 0, conv_off + start_ns, np.iinfo(np.int64).min)
    outcomes = pd.DataFrame({"lead_id": _take_fixed(lead_ids, np.arange(n))})
    outcomes["converted_at"] = _as_datetime(conv_ts)
    tr_lead = sim.pop("tr_lead")
    truth = pd.DataFrame({"lead_id": _take_fixed(lead_ids, tr_lead)})
    truth["as_of"] = _as_datetime(sim.pop("tr_day").astype(np.int64) * NS_PER_DAY + start_ns)
    truth["p_true"] = sim.pop("tr_p")
    truth["is_junk"] = is_junk[tr_lead]
    return World(leads=leads, events=events, outcomes=outcomes, truth=truth)


def _validate(spec: WorldSpec) -> None:
    if not 1 <= spec.n_leads <= 9_999_999:
        raise ValueError(f"n_leads must be in 1..9,999,999, got {spec.n_leads}")
    if spec.days < 1 or spec.horizon_days < 1 or spec.max_lead_age_days < 0:
        raise ValueError("days and horizon_days must be >= 1 and max_lead_age_days >= 0")
    if not 0.0 <= spec.junk_rate < 1.0:
        raise ValueError(f"junk_rate must be in [0, 1), got {spec.junk_rate}")


# ----------------------------------------------------------------------------------------------------
# Creation times and profiles (integer codes + numbers; strings are built at the end)
# ----------------------------------------------------------------------------------------------------
def _creation_times(rng: np.random.Generator, spec: WorldSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _choice(rng: np.random.Generator, weights: list[float] | np.ndarray, size: int) -> np.ndarray:
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
        sen.append(_SENIORITIES.index(s))
        dep.append(_DEPARTMENTS.index(d))
        return len(titles) - 1

    def key(title: str, s: str, d: str) -> None:
        by_key.setdefault((_SENIORITIES.index(s), _DEPARTMENTS.index(d)), []).append(add(title, s, d))

    for t in _FOUNDER:
        key(t, "founder", "general")
    for d, words in _DEPT_WORDS.items():
        for t in _C_LEVEL[d]:
            key(t, "c_level", d)
        w0 = words[0]
        for w in words:
            key(f"VP {w}", "vp", d)
            key(f"VP of {w}", "vp", d)
            key(f"Head of {w}", "head", d)
            key(f"Director of {w}", "director", d)
            key(f"{w} Manager", "manager", d)
        key(f"Vice President, {w0}", "vp", d)
        key(f"SVP {w0}", "vp", d)
        key(f"{w0} Director", "director", d)
        key(f"Dir. of {w0}", "director", d)
        key(f"Sr. Director, {w0}", "director", d)
        key(f"Manager, {w0}", "manager", d)
        key(f"{w0} Mgr", "manager", d)
        key(f"{w0} Team Lead", "manager", d)
        for t in _SENIOR[d]:
            key(t, "senior", d)
        for t in _IC[d]:
            key(t, "ic", d)
        for t in (f"{w0} Intern", "Intern", "Working Student", "Student", f"{w0} Trainee"):
            key(t, "intern", d)
    by_lang: dict[str, list[int]] = {}
    for lang, items in _FOREIGN_TITLES.items():
        by_lang[lang] = [add(t, s, d) for t, s, d in items]
    return titles, np.array(sen, dtype=np.int8), np.array(dep, dtype=np.int8), by_key, by_lang


def _profiles(rng: np.random.Generator, n: int, is_junk: np.ndarray) -> dict[str, np.ndarray]:
    """Companies, people and answers as integer codes / numbers (hidden seniority/department included)."""
    p: dict[str, np.ndarray] = {}
    # --- company pool; leads pick companies with a skew (several leads per company)
    n_comp = max(30, n // 3)
    c_industry = _choice(rng, [w for _, w, _, _ in _INDUSTRIES], n_comp)
    c_country = _choice(rng, [w for _, w, _, _, _, _ in _COUNTRIES], n_comp)
    log_emp = np.clip(rng.normal(2.0, 0.95, n_comp), 0.0, np.log10(50_000))
    c_emp = np.clip(np.round(10 ** log_emp), 1, 50_000).astype(np.int64)
    rev_per_emp = np.array([r for _, _, _, r in _INDUSTRIES])[c_industry]
    c_rev = np.round(c_emp * rev_per_emp * np.exp(rng.normal(0.0, 0.5, n_comp)), -3)
    p["c_syll"] = rng.integers(0, len(_SYLLABLES), size=(n_comp, 3)).astype(np.int16)
    p["c_nsyll"] = np.where(rng.random(n_comp) < 0.55, 2, 3).astype(np.int8)
    p["c_suffix_kind"] = _choice(rng, [0.35, 0.35, 0.30], n_comp)  # none / descriptor / legal form
    p["c_descriptor"] = rng.integers(0, len(_DESCRIPTORS), n_comp).astype(np.int16)
    legal_lists = [list(range(len(_LEGAL[c[0]]))) for c in _COUNTRIES]
    p["c_legal"] = _grouped_pick(rng, c_country.astype(np.int64), legal_lists).astype(np.int16)
    p["c_tld_local"] = rng.random(n_comp) < 0.6   # national TLD rather than .com/.io
    p["c_tld_alt"] = _choice(rng, [0.8, 0.12, 0.05, 0.03], n_comp)  # .com/.io/.ai/.co
    p["c_industry"], p["c_country"], p["c_emp"], p["c_rev"] = c_industry, c_country, c_emp, c_rev

    comp = np.minimum((n_comp * rng.random(n) ** 1.6).astype(np.int64), n_comp - 1)
    country = c_country[comp].copy()
    moved = rng.random(n) < 0.08                     # the person sits in another country than the HQ
    country[moved] = _choice(rng, [w for _, w, _, _, _, _ in _COUNTRIES], int(moved.sum()))
    source = _choice(rng, [w for _, w, _, _, _, _ in _SOURCES], n)
    junk_src = _choice(rng, list(_JUNK_SOURCE_WEIGHTS.values()), n)
    src_names = [s[0] for s in _SOURCES]
    junk_src_codes = np.array([src_names.index(s) for s in _JUNK_SOURCE_WEIGHTS], dtype=np.int16)
    source = np.where(is_junk, junk_src_codes[junk_src], source).astype(np.int16)

    # --- person: seniority, department and title
    emp = c_emp[comp]
    sen = _choice(rng, _SENIORITY_W, n).astype(np.int8)
    small = (emp <= 20) & (rng.random(n) < 0.15)
    sen[small] = _SENIORITIES.index("founder")
    dep = _choice(rng, _DEPARTMENT_W, n).astype(np.int8)
    dep[sen == _SENIORITIES.index("founder")] = _DEPARTMENTS.index("general")
    titles, t_sen, t_dep, by_key, by_lang = _title_table()
    keys = sorted(by_key)
    key_index = {k: i for i, k in enumerate(keys)}
    lookup = np.full((len(_SENIORITIES), len(_DEPARTMENTS)), -1, dtype=np.int64)
    for k, i in key_index.items():
        lookup[k] = i
    title = _grouped_pick(rng, lookup[sen, dep], [by_key[k] for k in keys])
    langs = sorted(by_lang)
    lang_of_country = np.array([langs.index(c[5]) if c[5] else -1 for c in _COUNTRIES])
    lang = lang_of_country[country]
    foreign = (lang >= 0) & (rng.random(n) < _FOREIGN_TITLE_P)
    foreign_pick = _grouped_pick(rng, np.maximum(lang, 0), [by_lang[g] for g in langs])
    title = np.where(foreign, foreign_pick, title)
    sen, dep = t_sen[title], t_dep[title]
    p["title_style"] = _choice(rng, [1 - _TITLE_LOWER_P - _TITLE_UPPER_P - _TITLE_NULL_P - _TITLE_EMPTY_P,
                                     _TITLE_LOWER_P, _TITLE_UPPER_P, _TITLE_NULL_P, _TITLE_EMPTY_P], n)

    # --- names and email style
    first = rng.integers(0, len(_FIRST_NAMES), n).astype(np.int16)
    last = rng.integers(0, len(_LAST_NAMES), n).astype(np.int16)
    # email kind: 0 corporate, 1 free-mail, 2 role address
    email_kind = _choice(rng, [0.71, 0.25, 0.04], n)
    corp_pattern = _choice(rng, [0.5, 0.3, 0.1, 0.1], n)    # first.last / flast / first / first_last
    free_pattern = _choice(rng, [0.45, 0.3, 0.25], n)       # first.last / firstlast+NN / first.last+NN
    email_digits = rng.integers(1, 100, n).astype(np.int16)
    free_domain = rng.integers(0, len(_FREE_MAIL), n).astype(np.int16)
    role_local = rng.integers(0, len(_ROLE_LOCALS), n).astype(np.int16)

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


def _hidden_state(rng: np.random.Generator, p: dict[str, np.ndarray], created_day: np.ndarray,
                  is_junk: np.ndarray) -> dict[str, np.ndarray]:
    """Fit, BANT answers (correlated with fit), special groups and the per-lead dynamics parameters."""
    n = len(created_day)
    h: dict[str, np.ndarray] = {}
    eps = rng.normal(0.0, FIT_NOISE_SD, n)
    log_emp = np.log10(p["emp"].astype(float))
    size_eff = np.clip(0.4 - 0.35 * (log_emp - 2.8) ** 2, -0.9, None)
    sen_eff = _SENIORITY_FIT[p["sen"]]
    base = (sen_eff + _DEPARTMENT_FIT[p["dep"]] + size_eff
            + np.array([e for _, _, e, _ in _INDUSTRIES])[p["industry"]]
            + np.array([c[2] for c in _COUNTRIES])[p["country"]]
            + np.array([s[3] for s in _SOURCES])[p["source"]])

    # BANT: answered with a source-dependent probability; answers driven by a latent correlated with fit
    answered_p = np.array([s[4] for s in _SOURCES])[p["source"]]
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
    a0 = A0_SCALE * np.array([s[2] for s in _SOURCES])[p["source"]] * np.exp(rng.normal(0, 0.25, n))
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


def p_true_from_state(fit: np.ndarray, r: np.ndarray, interest_prev: np.ndarray, horizon: int,
                      log_future: np.ndarray | None = None) -> np.ndarray:
    """P(convert on days s .. s+horizon-1 | fit, r, interest after day s-1), integrating over future episodes.

    `log_future` (= _episode_log_factor(fit, r, horizon)) may be passed precomputed; it depends on the lead only.
    """
    fit = np.asarray(fit, dtype=float)
    if log_future is None:
        log_future = _episode_log_factor(fit, np.asarray(r, dtype=float), horizon)
    d_sum = DECAY * (1.0 - DECAY ** horizon) / (1.0 - DECAY)     # sum_{k=0}^{H-1} d^(k+1)
    hazard = fit * (horizon * H_BASE + H_INT * d_sum * np.asarray(interest_prev, dtype=float))
    return np.clip(-np.expm1(-hazard + log_future), 0.0, 1.0)


def _episode_log_factor(fit: np.ndarray, r: np.ndarray, horizon: int) -> np.ndarray:
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
def _run_days(rng: np.random.Generator, spec: WorldSpec, created_day: np.ndarray, created_off: np.ndarray,
              is_junk: np.ndarray, prof: dict[str, np.ndarray], hid: dict[str, np.ndarray],
              progress: Callable[[int, int], None] | None) -> dict[str, np.ndarray]:
    n, days, horizon = spec.n_leads, spec.days, spec.horizon_days
    day_start = np.searchsorted(created_day, np.arange(days + 1), side="left")
    fit, activity, threshold = hid["fit"], hid["activity"], hid["threshold"].copy()
    cum_r = np.cumsum(hid["r"])
    log_future = _episode_log_factor(fit, hid["r"], horizon)
    post_lam = activity * POST_RATE
    seeker, bad_email, unsub_day = hid["seeker"], hid["bad_email"], hid["unsub_day"]
    creation_type = np.array([_CODE[s[5]] if s[5] else -1 for s in _SOURCES], dtype=np.int16)[prof["source"]]
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
        typ[careers] = _CODE["careers_page_view"]
        email = _EMAIL_TYPES[typ]
        typ[email & bad_email[who]] = _CODE["email_bounce"]
        keep = ~(email & (unsub_day[who] <= t))   # no email events from the unsubscribe day on
        lo_ns = np.maximum(created_off[who], day_ns)
        ts = lo_ns + (rng.random(k) * (day_ns + NS_PER_DAY - lo_ns)).astype(np.int64)
        parts_lead, parts_ts, parts_type = [who[keep]], [ts[keep]], [typ[keep]]
        # unsubscribe events of today
        u_ids = unsub_order[unsub_bounds[t]:unsub_bounds[t + 1]]
        if len(u_ids):
            parts_lead.append(u_ids)
            parts_ts.append(day_ns + (rng.random(len(u_ids)) * NS_PER_DAY).astype(np.int64))
            parts_type.append(np.full(len(u_ids), _CODE["unsubscribe"], dtype=np.int8))
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
    typ[starts] = _CODE["form_submit"]
    value = np.where(np.isnan(_PAGE_MEDIAN[typ]), np.nan, np.round(rng.uniform(0.0, 2.5, len(lead)), 1))
    return lead, ts, typ, value.astype(np.float32)


def _conversion_times(rng: np.random.Generator, conv_day: np.ndarray, created_off: np.ndarray) -> np.ndarray:
    """ns offset of the conversion (uniform within the day, after creation on the creation day); -1 if none."""
    out = np.full(len(conv_day), -1, dtype=np.int64)
    ids = np.flatnonzero(conv_day >= 0)
    day_ns = conv_day[ids].astype(np.int64) * NS_PER_DAY
    lo = np.maximum(day_ns, created_off[ids])
    out[ids] = lo + (rng.random(len(ids)) * (day_ns + NS_PER_DAY - lo)).astype(np.int64)
    return out


# ----------------------------------------------------------------------------------------------------
# Strings (built once, from codes, with pyarrow)
# ----------------------------------------------------------------------------------------------------
def _lead_id_strings(n: int) -> np.ndarray:
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
    s1, s2, s3 = (_col(_SYLLABLES, syl[:, i]) for i in range(3))
    third = pc.if_else(pa.array(p["c_nsyll"] == 3), s3, pa.scalar(""))
    stem = _join(s1, s2, third)
    n_comp = len(syl)
    legal_flat = [x for c in _COUNTRIES for x in _LEGAL[c[0]]]
    legal_off = np.concatenate([[0], np.cumsum([len(_LEGAL[c[0]]) for c in _COUNTRIES])[:-1]])
    legal = _col(legal_flat, legal_off[p["c_country"]] + p["c_legal"])
    desc = _col(_DESCRIPTORS, p["c_descriptor"])
    kind = p["c_suffix_kind"]
    suffix = pc.if_else(pa.array(kind == 1), desc, pc.if_else(pa.array(kind == 2), legal, pa.scalar("")))
    name = _join(pc.utf8_capitalize(stem), suffix)
    tld_local = _col([c[4] for c in _COUNTRIES], p["c_country"])
    tld_alt = _col([".com", ".io", ".ai", ".co"], p["c_tld_alt"])
    tld = pc.if_else(pa.array(p["c_tld_local"]), tld_local, tld_alt)
    # make domains unique: a repeated stem+tld gets the company number appended
    base = _join(stem, tld)
    dup = pd.Series(base.to_pandas()).duplicated().to_numpy()
    num = pa.array(np.where(dup, np.arange(n_comp).astype(str), ""))
    domain = _join(stem, num, tld)
    return name, domain


def _leads_frame(rng: np.random.Generator, spec: WorldSpec, lead_ids: np.ndarray, start_ns: int,
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
    first = _col(_FIRST_NAMES, p["first"])
    last = _col(_LAST_NAMES, p["last"])
    first_l = _col(_ascii_lower(_FIRST_NAMES), p["first"])
    last_l = _col(_ascii_lower(_LAST_NAMES), p["last"])
    jn = np.flatnonzero(is_junk)
    junk_kind = rng.integers(0, 3, len(jn))         # 0 word list, 1 keyboard mash, 2 repeated letter
    junk_word1 = rng.integers(0, len(_JUNK_NAMES), len(jn))
    junk_word2 = rng.integers(0, len(_JUNK_NAMES), len(jn))
    mash_len = rng.integers(4, 9, len(jn))
    mash = _MASH_LETTERS[rng.integers(0, len(_MASH_LETTERS), (len(jn), 8))]
    rep_letter = _MASH_LETTERS[rng.integers(0, len(_MASH_LETTERS), len(jn))]
    jf, jl = [], []
    for i in range(len(jn)):
        if junk_kind[i] == 0:
            a, b = _JUNK_NAMES[junk_word1[i]], _JUNK_NAMES[junk_word2[i]]
        elif junk_kind[i] == 1:
            a, b = "".join(mash[i, : mash_len[i]]), "".join(mash[i, ::-1][: max(4, mash_len[i] - 1)])
        else:
            a, b = rep_letter[i] * int(mash_len[i]), _JUNK_NAMES[junk_word2[i]]
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
    role = _col(_ROLE_LOCALS, p["role_local"])
    kind = p["email_kind"].astype(np.int8)
    free_dom = _col(_FREE_MAIL, p["free_domain"])
    local = pc.choose(pa.array(kind), corp_local, free_local, role)
    dom = pc.choose(pa.array(kind), domain, free_dom, domain)
    # job seekers mostly use private addresses
    seeker_free = h["seeker"] & (rng.random(n) < 0.6)
    local = pc.if_else(pa.array(seeker_free), free_local, local)
    dom = pc.if_else(pa.array(seeker_free), free_dom, dom)
    # bad emails: a typo in the domain
    bad = h["bad_email"]
    typo_free = _col(_TYPO_FREE_MAIL, rng.integers(0, len(_TYPO_FREE_MAIL), n))
    typo_tld = _col(_TYPO_TLD, rng.integers(0, len(_TYPO_TLD), n))
    corp_typo = _join(pc.replace_substring_regex(domain, r"\.[a-z]+$", ""), typo_tld)
    bad_dom = pc.if_else(pa.array(rng.random(n) < 0.5), typo_free, corp_typo)
    dom = pc.if_else(pa.array(bad), bad_dom, dom)
    # junk: disposable (70%) else free-mail; local part from the fake name or random letters
    disp = _col(_DISPOSABLE, rng.integers(0, len(_DISPOSABLE), n))
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
    cc = _col([c[3] for c in _COUNTRIES], p["country"])
    g1 = pc.cast(pa.array(rng.integers(200, 1000, n)), pa.string())
    g2 = pc.cast(pa.array(rng.integers(200, 1000, n)), pa.string())
    g3 = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10_000, n)), pa.string()), 4, "0")
    fmt = rng.integers(0, 3, n).astype(np.int8)
    phone = pc.choose(pa.array(fmt), _join("+", cc, " ", g1, "-", g2, "-", g3),
                      _join("+", cc, " ", g1, " ", g2, " ", g3), _join("(", g1, ") ", g2, "-", g3))
    state = _choice(rng, [0.88, 0.04, 0.08], n)   # valid / invalid / missing
    state = np.where(is_junk, _choice(rng, [0.1, 0.6, 0.3], n), state)
    invalid = _col(_INVALID_PHONES, rng.integers(0, len(_INVALID_PHONES), n))
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
        "industry": _strings([i[0] for i in _INDUSTRIES], p["industry"]),
        "employees": pd.Series(emp, dtype="Int64"),
        "annual_revenue": revenue,
        "country": _strings([c[0] for c in _COUNTRIES], p["country"]),
        "lead_source": _strings([x[0] for x in _SOURCES], p["source"]),
        "phone": s(phone),
        "budget": s(budget),
        "authority": s(authority),
        "need": s(need),
        "timeline": s(timeline),
        "owner": _strings([f"rep_{i + 1:02d}" for i in range(N_OWNERS)], p["owner"]),
        "status": s(status_col),
    })
    return leads
