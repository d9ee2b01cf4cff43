"""Hypothesis profiles and markers shared by the whole suite.

Profiles (choose with HYPOTHESIS_PROFILE=...; ``ci`` is the default):
- ci: few, deterministic examples, so the suite fits CI's budget on 2 cores;
- dev: more examples, random each run, for local work;
- intense: many examples, to hunt for rare bugs (minutes to hours).
"""

import os

import pytest
from hypothesis import HealthCheck, settings

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=15, derandomize=True, print_blob=True, **_common)
settings.register_profile("dev", max_examples=60, **_common)
settings.register_profile("intense", max_examples=1000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same global seed, so failures repeat."""
    import tinygrad_rnn as tr

    tr.manual_seed(0)
