"""``prod``, ``cumsum``, ``norm``, and the ``dtype=`` of ``sum``/``mean``.

Each is checked over drawn shapes and dims: forward against NumPy, gradient against a closed
form written here and against finite differences, second derivatives where smooth. ``prod``
is drawn with many zeros: its gradient (the product of the *other* elements, PyTorch's answer
for one zero and for several) and its second derivatives must be exact there too, and agree
with PyTorch's, first and second order.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tests.helpers import (
    arrays,
    assert_close,
    away_from,
    check_forward,
    check_gradients,
    check_second_derivatives,
    shapes,
)

# every test here runs once per backend: cpu, the CuPy-like strict backend, and cuda when present
pytestmark = pytest.mark.usefixtures("each_device")


def draw_dim(data, ndim: int, allow_none: bool = True):
    """None (every dimension) or one dimension, maybe negative."""
    choices = ([None] if allow_none else []) + list(range(-max(ndim, 1), max(ndim, 1)))
    return data.draw(st.sampled_from(choices), label="dim")


def kept(g, ndim: int, dim, keepdim: bool):
    """An upstream gradient of a reduction over ``dim``, reshaped to broadcast against the input."""
    g = np.asarray(g, dtype=np.float64)
    if keepdim or ndim == 0:
        return g
    return g.reshape((1,) * ndim) if dim is None else np.expand_dims(g, dim % ndim)


# ---------------------------------------------------------------- prod
def product_of_others(x: np.ndarray, dim) -> np.ndarray:
    """For each element, the product of the other elements of its slice (exactly, zeros or not):
    each left out in turn with ``np.delete``."""
    if x.ndim == 0:
        return np.ones(())
    if dim is None:
        flat = x.reshape(-1)
        return np.array([np.prod(np.delete(flat, i)) for i in range(flat.size)]).reshape(x.shape)
    moved = np.moveaxis(x, dim, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    others = np.array([[np.prod(np.delete(row, i)) for i in range(row.size)] for row in rows])
    return np.moveaxis(others.reshape(moved.shape), -1, dim)


def with_zeros(max_side: int = 3):
    """Arrays over few values, zero among them: slices with no, one, two and more zeros."""
    return shapes(max_dims=3, max_side=max_side).flatmap(
        lambda s: hnp.arrays(np.float64, s, elements=st.sampled_from([-1.5, -0.5, 0.0, 0.0, 0.75, 1.25, 2.0]))
    )


@given(data=st.data())
def test_prod_forward_and_gradients_with_zeros(data):
    x = data.draw(with_zeros(), label="x")
    dim = draw_dim(data, x.ndim)
    keepdim = data.draw(st.booleans(), label="keepdim")

    def fn(t):
        return t.prod() if dim is None and not keepdim else t.prod(dim, keepdim)

    check_forward(fn, [x], lambda a: np.prod(a, axis=dim, keepdims=keepdim))
    check_gradients(fn, [x], lambda g, a: (kept(g, a.ndim, dim, keepdim) * product_of_others(a, dim),))
    check_second_derivatives(fn, [x])


def test_prod_gradient_with_one_and_with_two_zeros_explicit():
    x = tr.tensor([[2.0, 0.0, 3.0], [0.0, 5.0, 0.0], [1.0, 2.0, 4.0]], dtype=tr.float64, requires_grad=True)
    x.prod(1).backward(tr.tensor([1.0, 1.0, 1.0], dtype=tr.float64))
    # one zero: it gets the product of the rest, the others 0; two zeros: all 0; none: result / x
    assert_close(x.grad, np.array([[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [8.0, 4.0, 2.0]]), atol=0, rtol=0)
    whole = tr.tensor([2.0, 0.0, 3.0], dtype=tr.float64, requires_grad=True)
    whole.prod().backward()
    assert_close(whole.grad, np.array([0.0, 6.0, 0.0]), atol=0, rtol=0)


def test_prod_of_integers_and_bools_is_int64():
    for x in (tr.tensor([2, 3], dtype=tr.int32), tr.tensor(np.array([2, 200], dtype=np.uint8)), tr.ones(2).bool()):
        assert x.prod().dtype == np.int64
    assert tr.tensor(np.array([2, 200], dtype=np.uint8)).prod().item() == 400
    assert tr.tensor([1.5, 2.0]).prod(dtype=tr.float64).dtype == np.float64


@pytest.mark.parametrize("values", [
    [1.5, -2.0, 0.5, 3.0], [1.5, 0.0, 0.5, 3.0], [0.0, 0.0, 0.5, 3.0], [0.0, 0.0, 0.0, 3.0], [[0.0, 2.0], [0.0, 0.0]],
], ids=["no zero", "one zero", "two zeros", "three zeros", "2-D"])
def test_prod_first_and_second_derivatives_match_pytorch(values):
    torch = pytest.importorskip("torch")
    x = np.array(values)
    upstream, direction = np.full(x.shape[:-1], 0.7), np.linspace(-1.0, 1.0, x.size).reshape(x.shape)
    ours = tr.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    (g_ours,) = tr.grad(ours.prod(-1), [ours], tr.tensor(upstream), create_graph=True)
    (g_theirs,) = torch.autograd.grad(theirs.prod(-1), [theirs], torch.tensor(upstream), create_graph=True)
    np.testing.assert_allclose(g_ours.numpy(), g_theirs.detach().numpy(), rtol=1e-12, atol=1e-15)
    (hv_ours,) = tr.grad((g_ours * tr.tensor(direction)).sum(), [ours])
    (hv_theirs,) = torch.autograd.grad((g_theirs * torch.tensor(direction)).sum(), [theirs])
    np.testing.assert_allclose(hv_ours.numpy(), hv_theirs.numpy(), rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- cumsum
@given(data=st.data())
def test_cumsum(data):
    x = data.draw(shapes(max_dims=3).flatmap(arrays), label="x")
    dim = draw_dim(data, x.ndim, allow_none=False)

    def reverse_cumsum(g):  # xᵢ feeds every yₖ with k >= i
        if g.ndim == 0:
            return g
        return np.flip(np.cumsum(np.flip(g, dim), dim), dim)

    check_forward(lambda t: t.cumsum(dim), [x], lambda a: np.cumsum(a, axis=dim).reshape(a.shape))
    check_gradients(lambda t: t.cumsum(dim=dim), [x], lambda g, a: (reverse_cumsum(g),))
    check_second_derivatives(lambda t: t.cumsum(dim) ** 2, [x])


def test_cumsum_dtypes():
    assert tr.tensor([1, 2], dtype=tr.int32).cumsum(0).dtype == np.int64  # as PyTorch, on every platform
    assert tr.tensor([True, True]).cumsum(0).tolist() == [1, 2]
    assert tr.tensor(np.array([200, 100], dtype=np.uint8)).cumsum(0).tolist() == [200, 300]
    assert tr.tensor([1, 2]).cumsum(0, dtype=tr.float64).dtype == np.float64
    with pytest.raises(IndexError, match="cumsum: dim 2"):
        tr.zeros(3, 2).cumsum(2)


# ---------------------------------------------------------------- norm
def norm_reference(a, p, dim, keepdim):
    magnitudes = np.abs(a)
    if p == math.inf:
        return np.max(magnitudes, axis=dim, keepdims=keepdim)
    if p == -math.inf:
        return np.min(magnitudes, axis=dim, keepdims=keepdim)
    p = 2 if p == "fro" else p
    return np.sum(magnitudes**p, axis=dim, keepdims=keepdim) ** (1.0 / p)


def norm_gradient(g, a, p, dim, keepdim):
    """d‖x‖/dx: sign(x)·|x|^(p-1) / ‖x‖^(p-1) (x/‖x‖ for p = 2); for ±inf the upstream goes to the
    largest (smallest) |x|, with its sign."""
    gk = kept(g, a.ndim, dim, keepdim)
    norm = norm_reference(a, p, dim, True)
    if p in (math.inf, -math.inf):
        return np.sign(a) * (np.abs(a) == norm) * gk
    p = 2 if p == "fro" else p
    return np.sign(a) * np.abs(a) ** (p - 1) / norm ** (p - 1) * gk


@pytest.mark.parametrize("p", ["fro", 2, 1, math.inf, -math.inf, 3, 1.5], ids=str)
@given(data=st.data())
def test_norm(p, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=3), label="shape")
    # distinct magnitudes (for ±inf), away from 0 (the kink of |x|)
    size = math.prod(shape)
    order = np.array(data.draw(st.permutations(range(size)), label="order"), dtype=np.float64)
    signs = np.array(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=size, max_size=size)))
    x = (signs * (0.3 + 0.2 * order)).reshape(shape)
    dim = draw_dim(data, x.ndim)
    keepdim = data.draw(st.booleans(), label="keepdim")

    def fn(t):
        return t.norm(p, dim, keepdim)

    check_forward(fn, [x], lambda a: norm_reference(a, p, dim, keepdim))
    check_gradients(fn, [x], lambda g, a: (norm_gradient(g, a, p, dim, keepdim),))
    if p in ("fro", 2, 3):
        check_second_derivatives(fn, [x])


def test_norm_default_is_frobenius_and_p_zero_counts_nonzeros():
    x = np.array([[3.0, 0.0], [-4.0, 12.0]])
    assert_close(tr.tensor(x).norm(), np.sqrt((x**2).sum()))
    assert_close(tr.tensor(x).norm(dim=(0, 1)), np.sqrt((x**2).sum()))
    assert_close(tr.tensor(x).norm(0, dim=1), np.array([1.0, 2.0]))


@pytest.mark.parametrize("p", ["fro", 2, 1, math.inf, 3], ids=str)
def test_norm_gradient_at_the_zero_vector_is_zero(p):
    """‖x‖ is not differentiable at 0; PyTorch gives 0 there (not 0/0 = NaN), so do we."""
    x = tr.zeros(2, 3, dtype=tr.float64, requires_grad=True)
    x.norm(p, dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    away = tr.tensor(away_from(np.array([[0.5, -1.0, 2.0]])), requires_grad=True)  # the other rows still differentiate
    assert np.all(np.isfinite(tr.grad(away.norm(p), [away])[0].numpy()))


def test_norm_errors():
    with pytest.raises(TypeError, match="norm: expects a floating point tensor, got dtype int64"):
        tr.tensor([1, 2]).norm()
    with pytest.raises(ValueError, match="norm: p must be"):
        tr.ones(2).norm("nuc")
    with pytest.raises(ValueError, match="norm: p must be positive"):
        tr.ones(2).norm(-1)
    assert tr.tensor([3, 4]).norm(dtype=tr.float64).item() == 5.0


@pytest.mark.parametrize("p", ["fro", 1, math.inf, 3])
def test_norm_matches_pytorch_values_and_gradients(p):
    torch = pytest.importorskip("torch")
    x = np.array([[0.0, 0.0, 0.0], [1.5, -2.0, 0.25], [-3.0, 3.0, 1.0]])
    ours, theirs = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_ours, out_theirs = ours.norm(p, dim=1), theirs.norm(p, dim=1)
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy(), rtol=1e-12)
    upstream = np.array([0.5, -1.0, 2.0])
    out_ours.backward(tr.tensor(upstream))
    out_theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- sum and mean with dtype=
def test_sum_and_mean_with_dtype_cast_first_and_keep_the_gradient_dtype():
    x = tr.tensor([0.1, 0.2, 0.7], dtype=tr.float32, requires_grad=True)
    total = x.sum(dtype=tr.float64)
    assert total.dtype == np.float64
    assert total.item() == np.float64(np.float32(0.1)) + np.float64(np.float32(0.2)) + np.float64(np.float32(0.7))
    (total * 2).backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    average = x.mean(0, dtype=tr.float64)
    assert average.dtype == np.float64
    assert tr.tensor([1, 2, 4]).mean(dtype=tr.float64).dtype == np.float64
    assert tr.tensor([1.0, 2.0]).sum(0, True, dtype=tr.int64).tolist() == [3]


def test_sum_of_small_integer_types_is_int64_as_in_pytorch():
    assert tr.tensor(np.array([200, 100], dtype=np.uint8)).sum().item() == 300
    for dtype in (tr.uint8, tr.int8, tr.int16, tr.int32, tr.bool):
        assert tr.ones(3, dtype=dtype).sum().dtype == np.int64
