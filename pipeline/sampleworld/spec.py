"""What a sample world is: its spec and result types, the tuned model constants and the event vocabulary.

Every other module of the package reads its parameters from here, so the numbers that shape the world
(see benchmarks/RESULTS_generate.md for the rates they give) and the output schema stand in one place.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
    "lead_id", "created_at", "email", "first_name", "last_name", "job_title", "company", "company_domain", "account_id",
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
EVENT_CODE = {name: i for i, name in enumerate(EVENT_TYPES)}
CHANNEL_NAMES = ["web", "email", "social", "event", "product"]
CHANNEL_OF_TYPE = np.array([CHANNEL_NAMES.index(ch) for _, ch in _EVENTS], dtype=np.int8)
HIGH_INTENT_EVENTS = ("pricing_page_view", "demo_request", "free_trial_signup", "contact_sales")
NEGATIVE_EVENTS = ("unsubscribe", "careers_page_view", "email_bounce")


# ----------------------------------------------------------------------------------------------------
# Spec and result
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


def validate_spec(spec: WorldSpec) -> None:
    """Raise ValueError when `spec` asks for a world the generator cannot build."""
    if not 1 <= spec.n_leads <= 9_999_999:
        raise ValueError(f"n_leads must be in 1..9,999,999, got {spec.n_leads}")
    if spec.days < 1 or spec.horizon_days < 1 or spec.max_lead_age_days < 0:
        raise ValueError("days and horizon_days must be >= 1 and max_lead_age_days >= 0")
    if not 0.0 <= spec.junk_rate < 1.0:
        raise ValueError(f"junk_rate must be in [0, 1), got {spec.junk_rate}")
