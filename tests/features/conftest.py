"""Shared fixtures for the feature tests: one small simulated world per session."""
from __future__ import annotations

import pytest

from pipeline.sampleworld import WorldSpec, simulate_world

WORLD_SEED = 7
WORLD_LEADS = 2000


@pytest.fixture(scope="session")
def small_world():
    """A 2,000-lead simulated world (leads, events, outcomes, truth); about a second to build."""
    return simulate_world(WorldSpec(n_leads=WORLD_LEADS, seed=WORLD_SEED))
