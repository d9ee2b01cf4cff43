"""Sorting: ``sort``, ``argsort``, ``topk``.

Over drawn shapes, dims and directions, with many ties: the indices against an independent
reference (Python's stable ``sorted`` per slice, by value then position), the values against
them, the gradient against its closed form (each value's gradient goes back to the place it
came from) and against finite differences (on tie-free inputs, where sorting is differentiable).

Ties follow one convention: the stable order (the earlier element first, ascending or
descending), which PyTorch gives with ``stable=True``. PyTorch's default sort and its ``topk``
leave the order of ties unspecified (its CPU kernels do reorder them), so the comparisons with
PyTorch hold its stable sort, and hold ``topk`` to the same values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tests.helpers import check_gradients, shapes

# every test here runs once per backend: cpu, the CuPy-like strict backend, and cuda when present
pytestmark = pytest.mark.usefixtures("each_device")


# ---------------------------------------------------------------- references, written independently
def reference_order(x: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """The stable sorting indices of each slice along ``dim``: by value (largest first when
    ``descending``), equal values by position (Python's ``sorted`` is stable)."""
    sign = -1.0 if descending else 1.0
    if x.ndim == 0:
        return np.zeros((), dtype=np.int64)
    return np.apply_along_axis(lambda row: np.array(sorted(range(len(row)), key=lambda i: sign * row[i])), dim, x)


def scatter_back(g: np.ndarray, indices: np.ndarray, shape: tuple, dim: int) -> np.ndarray:
    """The gradient of ``take_along_axis(x, indices, dim)`` (no index repeats): each upstream value
    goes back to the element it was read from."""
    out = np.zeros(shape)
    if len(shape) == 0:
        return np.asarray(g, dtype=np.float64).copy()
    np.put_along_axis(out, indices, g, axis=dim)
    return out


@st.composite
def tie_heavy(draw, min_dims: int = 0):
    """A float64 array over few values (many ties), with its shape."""
    shape = draw(shapes(min_dims=min_dims, max_dims=3, max_side=5), label="shape")
    return draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.5, 0.0, 0.5, 2.0])), label="x")


@st.composite
def distinct(draw, min_dims: int = 0):
    """A float64 array whose values differ by at least 0.05 (a permuted grid): no ties."""
    shape = draw(shapes(min_dims=min_dims, max_dims=3, max_side=4), label="shape")
    size = math.prod(shape)
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    return ((order - size / 2) * 0.1).reshape(shape)


def draw_dim(data, ndim: int) -> int:
    return data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1), label="dim")


# ---------------------------------------------------------------- sort, argsort
@given(data=st.data())
def test_sort_and_argsort_are_stable_with_ties(data):
    x = data.draw(tie_heavy(), label="x")
    dim = draw_dim(data, x.ndim)
    descending = data.draw(st.booleans(), label="descending")
    stable = data.draw(st.booleans(), label="stable")
    want = reference_order(x, dim % max(x.ndim, 1), descending)

    t = tr.tensor(x, requires_grad=True)
    result = t.sort(dim, descending=descending, stable=stable)
    values, indices = result  # a named (values, indices) pair, as in PyTorch
    assert result.values is values and result.indices is indices
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.numpy(), want)
    np.testing.assert_array_equal(values.numpy(), x if x.ndim == 0 else np.take_along_axis(x, want, dim))
    order = t.argsort(dim=dim, descending=descending, stable=stable)
    assert order.grad_fn is None and order.dtype == np.int64
    np.testing.assert_array_equal(order.numpy(), want)

    # each value's gradient goes back to where it came from (values are a permutation: no repeats)
    check_gradients(lambda u: u.sort(dim, descending).values, [x],
                    lambda g, a: (scatter_back(g, want, a.shape, dim),), finite_differences=False)


@given(data=st.data())
def test_sort_gradient_against_finite_differences(data):
    x = data.draw(distinct(), label="x")
    dim = draw_dim(data, x.ndim)
    descending = data.draw(st.booleans(), label="descending")
    want = reference_order(x, dim % max(x.ndim, 1), descending)
    check_gradients(lambda u: u.sort(dim, descending).values, [x], lambda g, a: (scatter_back(g, want, a.shape, dim),))


def test_sort_puts_nan_last_ascending_and_first_descending():
    x = tr.tensor([1.0, float("nan"), 3.0, float("nan"), 2.0])
    np.testing.assert_array_equal(x.argsort().numpy(), [0, 4, 2, 1, 3])
    np.testing.assert_array_equal(x.sort(descending=True).indices.numpy(), [1, 3, 2, 4, 0])
    np.testing.assert_array_equal(x.topk(2).indices.numpy(), [1, 3])


def test_sort_of_integers_and_bools_descending():
    """Descending order must not come from negating the values: that breaks for unsigned and bool."""
    u = tr.tensor(np.array([3, 0, 255, 7, 0], dtype=np.uint8))
    np.testing.assert_array_equal(u.sort(descending=True).values.numpy(), [255, 7, 3, 0, 0])
    np.testing.assert_array_equal(u.sort(descending=True).indices.numpy(), [2, 3, 0, 1, 4])
    b = tr.tensor([False, True, False, True])
    np.testing.assert_array_equal(b.argsort(descending=True).numpy(), [1, 3, 0, 2])


# ---------------------------------------------------------------- topk
@given(data=st.data())
def test_topk_takes_the_first_k_of_the_stable_order(data):
    x = data.draw(tie_heavy(min_dims=1), label="x")
    dim = draw_dim(data, x.ndim)
    k = data.draw(st.integers(0, x.shape[dim]), label="k")
    largest = data.draw(st.booleans(), label="largest")
    want = np.take(reference_order(x, dim % x.ndim, descending=largest), np.arange(k), axis=dim)
    for sorted_ in (True, False):  # sorted=False gives the sorted result too (PyTorch allows any order)
        values, indices = tr.tensor(x).topk(k, dim, largest=largest, sorted=sorted_)
        np.testing.assert_array_equal(indices.numpy(), want)
        np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, want, dim))
    check_gradients(lambda u: u.topk(k, dim, largest).values, [x],
                    lambda g, a: (scatter_back(g, want, a.shape, dim),), finite_differences=False)


@given(data=st.data())
def test_topk_gradient_against_finite_differences(data):
    x = data.draw(distinct(min_dims=1), label="x")
    dim = draw_dim(data, x.ndim)
    k = data.draw(st.integers(1, x.shape[dim]), label="k")
    largest = data.draw(st.booleans(), label="largest")
    want = np.take(reference_order(x, dim % x.ndim, descending=largest), np.arange(k), axis=dim)
    check_gradients(lambda u: u.topk(k, dim=dim, largest=largest).values, [x],
                    lambda g, a: (scatter_back(g, want, a.shape, dim),))


def test_topk_of_a_scalar_and_bad_k():
    s = tr.tensor(5.0)
    values, indices = s.topk(1)
    assert values.shape == () and indices.shape == () and values.item() == 5.0 and indices.item() == 0
    with pytest.raises(ValueError, match=r"topk: k must be an int from 0 to 3.*got 4"):
        tr.zeros(3).topk(4)
    with pytest.raises(ValueError, match="got -1"):
        tr.zeros(3).topk(-1)
    with pytest.raises(ValueError, match="got True"):
        tr.zeros(3).topk(True)
    assert tr.arange(3.0).topk(np.int64(2)).indices.tolist() == [2, 1]  # any integer k, as an index
    with pytest.raises(IndexError, match="topk: dim 2"):
        tr.zeros(3).topk(1, dim=2)


# ---------------------------------------------------------------- against PyTorch
@given(data=st.data())
def test_sort_matches_pytorchs_stable_sort_and_topk_its_values(data):
    torch = pytest.importorskip("torch")
    x = data.draw(tie_heavy(min_dims=1), label="x")
    dim = draw_dim(data, x.ndim)
    descending = data.draw(st.booleans(), label="descending")
    ours = tr.tensor(x).sort(dim, descending=descending)
    theirs = torch.tensor(x).sort(dim=dim, descending=descending, stable=True)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())

    k = data.draw(st.integers(0, x.shape[dim]), label="k")
    ours = tr.tensor(x).topk(k, dim, largest=descending)
    theirs = torch.tensor(x).topk(k, dim, largest=descending)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())  # same values, ties or not
    # PyTorch's indices point at equal values (which of the tied ones is its choice)
    np.testing.assert_array_equal(np.take_along_axis(x, theirs.indices.numpy(), dim), ours.values.numpy())
    stable = torch.tensor(x).sort(dim=dim, descending=descending, stable=True).indices.narrow(dim, 0, k)
    np.testing.assert_array_equal(ours.indices.numpy(), stable.numpy())


def test_sort_and_topk_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).permutation(24).reshape(2, 3, 4) / 7.0
    upstream = np.random.default_rng(1).standard_normal((2, 2, 4))
    for ours_fn, theirs_fn in [
        (lambda t: t.sort(1, descending=True).values[:, :2], lambda t: t.sort(1, descending=True).values[:, :2]),
        (lambda t: t.topk(2, dim=1).values, lambda t: t.topk(2, dim=1).values),
        (lambda t: t.topk(2, dim=1, largest=False).values * 3, lambda t: t.topk(2, dim=1, largest=False).values * 3),
    ]:
        ours, theirs = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours_fn(ours).backward(tr.tensor(upstream))
        theirs_fn(theirs).backward(torch.tensor(upstream))
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=0)
