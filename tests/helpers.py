"""The property-test machinery: strategies for shapes and values, and the checks
every op test runs (forward against NumPy, gradient against the closed form the
test writes down, gradient against central finite differences).

``tests/test_checks_can_fail.py`` plants wrong backward formulas and shows that
these same checks catch them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr

# float64 gradients vs central differences (eps 1e-6): loose enough for rounding, tight enough for bugs
ATOL, RTOL = 1e-5, 1e-3


# ---------------------------------------------------------------- strategies
def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """Array shapes small enough for full finite-difference Jacobians."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, max_dims: int = 3, max_side: int = 4):
    """Tuples of shapes that broadcast together (sizes of 1 and missing leading axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=0, max_dims=max_dims, min_side=1, max_side=max_side
    ).map(lambda result: result.input_shapes)


def arrays(shape, low: float = -3.0, high: float = 3.0, dtype=np.float64):
    """float64 arrays with values in [low, high]."""
    return hnp.arrays(dtype, shape, elements=st.floats(low, high, allow_nan=False, width=64))


def away_from(array: np.ndarray, points=(0.0,), gap: float = 1e-2) -> np.ndarray:
    """``array`` with values nudged at least ``gap`` away from kinks such as |x| at 0,
    where a finite difference straddling the kink would be meaningless."""
    array = np.array(array, dtype=np.float64, copy=True)
    for point in points:
        near = np.abs(array - point) < gap
        array[near] = point + np.where(array[near] >= point, gap, -gap)
    return array


def distinct_upstream(shape, seed: int = 0) -> np.ndarray:
    """An upstream gradient whose elements all differ, so a gradient routed to the
    wrong element (a transposed or misindexed backward) changes the result."""
    size = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    values = (np.arange(size) + 1.0) / size + 0.1 * rng.random(size)
    return rng.permutation(values).reshape(shape) * rng.choice([-1.0, 1.0], size=size).reshape(shape)


# ---------------------------------------------------------------- checks
def assert_close(actual, expected, atol: float = ATOL, rtol: float = RTOL, what: str = "value") -> None:
    """Values and shapes agree within tolerance (tensors or arrays)."""
    actual = actual.numpy() if isinstance(actual, tr.Tensor) else np.asarray(actual)
    expected = expected.numpy() if isinstance(expected, tr.Tensor) else np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != expected {expected.shape}"
    np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, err_msg=what)


def check_forward(fn, arrays_in, expected_fn, atol: float = 1e-10, rtol: float = 1e-10) -> tr.Tensor:
    """``fn`` on float64 tensors agrees with ``expected_fn`` on the NumPy arrays."""
    out = fn(*[tr.tensor(a) for a in arrays_in])
    assert_close(out, expected_fn(*arrays_in), atol=atol, rtol=rtol, what="forward")
    return out


def check_gradients(fn, arrays_in, analytic_fn=None, upstream=None, finite_differences: bool = True) -> None:
    """The gradient of ``fn`` at ``arrays_in`` (float64) is right, two independent ways.

    1. against ``analytic_fn(upstream, *arrays_in)``, the closed-form vector-Jacobian
       products written in the test (a tuple, one array per input);
    2. against central finite differences (``tr.gradcheck``).
    ``upstream`` defaults to distinct values (see ``distinct_upstream``).
    """
    inputs = [tr.tensor(a, requires_grad=True) for a in arrays_in]
    out = fn(*inputs)
    upstream = distinct_upstream(out.shape) if upstream is None else upstream
    out.backward(tr.tensor(upstream))
    if analytic_fn is not None:
        expected = analytic_fn(upstream, *arrays_in)
        for position, (tensor, want) in enumerate(zip(inputs, expected)):
            assert tensor.grad is not None, f"input {position} got no gradient"
            assert tensor.grad.dtype == tensor.dtype, f"input {position}: gradient dtype {tensor.grad.dtype}"
            assert_close(tensor.grad, want, what=f"analytic gradient of input {position}")
    if finite_differences:
        assert tr.gradcheck(fn, [tr.tensor(a, requires_grad=True) for a in arrays_in])


def check_second_derivatives(fn, arrays_in) -> None:
    """Second derivatives (through ``create_graph=True``) agree with finite differences."""
    assert tr.gradgradcheck(fn, [tr.tensor(a, requires_grad=True) for a in arrays_in])


# ---------------------------------------------------------------- examples
def run_example(name: str, *args: str, check: bool = True):
    """Run ``examples/<name>`` in a subprocess with this checkout's package first on the path
    (not an installed copy that may be older), returning the CompletedProcess."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, str(root / "examples" / name), *args],
        capture_output=True, text=True, timeout=600, cwd=root, env={**os.environ, "PYTHONPATH": path},
    )
    if check:
        assert result.returncode == 0, f"{name} failed:\n{result.stderr[-3000:]}"
    return result
