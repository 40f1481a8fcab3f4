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

Modules, in the order a world is made (each imports only those before it):

* `spec`: WorldSpec and World, the tuned constants above, the output columns and the event types;
* `vocab`: the tables profiles are drawn from (industries, countries, sources, titles, names, domains);
* `profiles`: creation times, company and person profiles as integer codes, and the hidden state;
* `dynamics`: the day loop (interest, events, conversions, truth snapshots) and `p_true_from_state`;
* `frames`: the leads, events, outcomes and truth DataFrames built from the codes.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from pipeline.sampleworld.dynamics import conversion_times, p_true_from_state, run_days
from pipeline.sampleworld.frames import events_frame, lead_id_strings, leads_frame, outcomes_frame, truth_frame
from pipeline.sampleworld.profiles import creation_times, draw_profiles, hidden_state
from pipeline.sampleworld.spec import (
    EVENT_CHANNELS,
    EVENT_COLUMNS,
    EVENT_TYPES,
    HIGH_INTENT_EVENTS,
    LEAD_COLUMNS,
    NEGATIVE_EVENTS,
    OUTCOME_COLUMNS,
    TRUTH_COLUMNS,
    World,
    WorldSpec,
    validate_spec,
)

__all__ = [
    "WorldSpec", "World", "simulate_world", "p_true_from_state", "EVENT_TYPES", "EVENT_CHANNELS",
    "HIGH_INTENT_EVENTS", "NEGATIVE_EVENTS", "LEAD_COLUMNS", "EVENT_COLUMNS", "OUTCOME_COLUMNS", "TRUTH_COLUMNS",
]


def simulate_world(spec: WorldSpec, progress: Callable[[int, int], None] | None = None) -> World:
    """Simulate the world of `spec`; `progress(done_days, total_days)` is called once per simulated day."""
    validate_spec(spec)
    rng = np.random.default_rng(spec.seed)
    start_ns = int(np.datetime64(pd.Timestamp(spec.start).normalize().to_datetime64(), "ns").astype(np.int64))
    n = spec.n_leads

    created_day, created_off, is_junk = creation_times(rng, spec)
    prof = draw_profiles(rng, n, is_junk)
    hidden = hidden_state(rng, prof, created_day, is_junk)
    sim = run_days(rng, spec, created_day, created_off, is_junk, prof, hidden, progress)
    conv_off = conversion_times(rng, sim["conv_day"], created_off)

    lead_ids = lead_id_strings(n)
    leads = leads_frame(rng, spec, lead_ids, start_ns, created_day, created_off, is_junk, prof, hidden,
                        sim["conv_day"])
    del prof, hidden
    # each frame pops the arrays it has used from `sim` (keeps the peak memory down at 1M leads)
    events = events_frame(sim, lead_ids, start_ns)
    outcomes = outcomes_frame(lead_ids, conv_off, start_ns)
    truth = truth_frame(sim, lead_ids, start_ns, is_junk)
    return World(leads=leads, events=events, outcomes=outcomes, truth=truth)
