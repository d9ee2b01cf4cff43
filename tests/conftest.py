"""Hypothesis profiles and markers shared by the whole suite.

Profiles (choose with HYPOTHESIS_PROFILE=...; ``ci`` is the default):
- ci: few, deterministic examples, so the suite fits CI's budget on 2 cores;
- dev: more examples, random each run, for local work;
- intense: many examples, to hunt for rare bugs (minutes to hours).
"""

import os

import pytest
from hypothesis import HealthCheck, settings

# function_scoped_fixture: ``each_device`` sets a default device that every example shares, on purpose.
_common = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.register_profile("ci", max_examples=15, derandomize=True, print_blob=True, **_common)
settings.register_profile("dev", max_examples=60, **_common)
settings.register_profile("intense", max_examples=1000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same global seed, so failures repeat."""
    import tinygrad_rnn as tr

    tr.manual_seed(0)


@pytest.fixture(params=["cpu", "strict", pytest.param("cuda", marks=pytest.mark.gpu)])
def each_device(request):
    """Run the test once per backend by making it the default device: NumPy ("cpu"), the
    CuPy-like strict NumPy backend ("strict", which refuses implicit host conversion, so CI
    without a GPU catches code that would break on CuPy), and CuPy ("cuda", skipped without
    CuPy and a GPU). Checks compare against NumPy on the host, i.e. the CPU result."""
    import tinygrad_rnn as tr

    if request.param == "cuda" and not tr.cuda.is_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    tr.set_default_device(request.param)
    try:
        yield request.param
    finally:
        tr.set_default_device("cpu")
