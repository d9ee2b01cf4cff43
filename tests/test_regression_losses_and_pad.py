"""``nn.functional.l1_loss``, ``smooth_l1_loss``, ``huber_loss`` (and ``nn.L1Loss``, ``nn.SmoothL1Loss``,
``nn.HuberLoss``), ``pad`` and ``normalize``: values and gradients against PyTorch (including the kinks,
d = 0 and |d| = beta/delta), finite-difference gradchecks where smooth, and hand-computed values that
need no PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn
from tinygrad_rnn.nn import functional as F

REDUCTIONS = ("mean", "sum", "none")
TOL = {"float32": {"rtol": 1e-5, "atol": 1e-6}, "float64": {"rtol": 1e-12, "atol": 1e-12}}


def _torch():
    return pytest.importorskip("torch")


def _pair(dtype: str, kink: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random input/target of shape (4, 5) whose first row hits every kink exactly: d = 0, d = ±kink."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 5)).astype(dtype) * 2
    y = rng.normal(size=(4, 5)).astype(dtype)
    x[0] = [0.25, -0.5, 1.5, 0.75, -1.0]  # dyadic, so that x - d and d are exact for the kinks below
    y[0] = x[0] - np.array([0.0, kink, -kink, 0.0, 3 * kink], dtype=dtype)
    assert np.array_equal(x[0] - y[0], np.array([0.0, kink, -kink, 0.0, 3 * kink], dtype=dtype))
    return x, y


def _compare(ours_fn, torch_fn, x, y, tol, with_weight=None):
    """Value and gradients (to input and target) of ours and PyTorch's, with a random upstream gradient."""
    torch = _torch()
    a, b = tr.tensor(x, requires_grad=True), tr.tensor(y, requires_grad=True)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    ours, theirs = ours_fn(a, b), torch_fn(ta, tb)
    assert ours.dtype == a.dtype and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), **tol)
    upstream = np.random.default_rng(1).normal(size=ours.shape).astype(x.dtype)
    ours.backward(tr.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), **tol)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), **tol)
    return a.grad.numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_l1_loss_matches_torch(dtype, reduction):
    torch = _torch()
    x, y = _pair(dtype, 1.0)
    grad = _compare(lambda a, b: F.l1_loss(a, b, reduction=reduction),
                    lambda a, b: torch.nn.functional.l1_loss(a, b, reduction=reduction), x, y, TOL[dtype])
    assert grad[0, 0] == 0 and grad[0, 3] == 0  # sign(0) = 0, as in PyTorch
    _compare(lambda a, b: nn.L1Loss(reduction=reduction)(a, b),
             lambda a, b: torch.nn.L1Loss(reduction=reduction)(a, b), x, y, TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0, 0.0])
def test_smooth_l1_loss_matches_torch(dtype, reduction, beta):
    torch = _torch()
    x, y = _pair(dtype, beta if beta else 1.0)
    _compare(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
             lambda a, b: torch.nn.functional.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
             x, y, TOL[dtype])
    _compare(lambda a, b: nn.SmoothL1Loss(None, None, reduction, beta)(a, b),
             lambda a, b: torch.nn.SmoothL1Loss(None, None, reduction, beta)(a, b), x, y, TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [1.0, 0.5, 2.0])
def test_huber_loss_matches_torch(dtype, reduction, delta):
    torch = _torch()
    x, y = _pair(dtype, delta)
    _compare(lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=delta),
             lambda a, b: torch.nn.functional.huber_loss(a, b, reduction=reduction, delta=delta),
             x, y, TOL[dtype])
    _compare(lambda a, b: nn.HuberLoss(reduction, delta)(a, b),
             lambda a, b: torch.nn.HuberLoss(reduction, delta)(a, b), x, y, TOL[dtype])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_l1_and_huber_match_torch(reduction):
    """l1's weighted mean is Σ w·ℓ / Σ w, huber's the plain mean of w·ℓ (PyTorch's two conventions)."""
    torch = _torch()
    x, y = _pair("float64", 1.0)
    w = np.random.default_rng(2).uniform(0.1, 2.0, size=x.shape)
    tw = torch.tensor(w)
    _compare(lambda a, b: F.l1_loss(a, b, reduction=reduction, weight=tr.tensor(w)),
             lambda a, b: torch.nn.functional.l1_loss(a, b, reduction=reduction, weight=tw), x, y, TOL["float64"])
    _compare(lambda a, b: F.huber_loss(a, b, reduction=reduction, weight=tr.tensor(w)),
             lambda a, b: torch.nn.functional.huber_loss(a, b, reduction=reduction, weight=tw), x, y,
             TOL["float64"])


def test_regression_losses_pass_gradcheck_where_smooth():
    rng = np.random.default_rng(3)
    x = tr.tensor(rng.normal(size=(3, 4)) * 2, requires_grad=True)
    y = tr.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    assert tr.gradcheck(lambda a, b: F.l1_loss(a, b, reduction="sum"), (x, y))
    assert tr.gradcheck(lambda a, b: F.smooth_l1_loss(a, b, beta=0.7), (x, y))
    assert tr.gradcheck(lambda a, b: F.huber_loss(a, b, reduction="none", delta=1.3), (x, y))


def test_regression_losses_hand_computed():
    x = tr.tensor([0.0, 0.5, 1.0, -3.0], requires_grad=True)
    y = tr.zeros(4)
    np.testing.assert_allclose(F.l1_loss(x, y, reduction="none").numpy(), [0.0, 0.5, 1.0, 3.0])
    # beta = 1: ½d² inside, |d| - ½ outside (|d| = 1 gives 0.5 either way)
    np.testing.assert_allclose(F.smooth_l1_loss(x, y, reduction="none").numpy(), [0.0, 0.125, 0.5, 2.5])
    np.testing.assert_allclose(F.smooth_l1_loss(x, y, reduction="none", beta=2.0).numpy(), [0.0, 0.0625, 0.25, 2.0])
    # delta = 2: ½d² inside, 2·(|d| - 1) outside
    np.testing.assert_allclose(F.huber_loss(x, y, reduction="none", delta=2.0).numpy(), [0.0, 0.125, 0.5, 4.0])
    F.huber_loss(x, y, reduction="sum", delta=2.0).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.5, 1.0, -2.0])
    x.grad = None
    F.l1_loss(x, y).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.25, 0.25, -0.25])
    assert float(nn.SmoothL1Loss(beta=0.0)(x, y)) == pytest.approx(4.5 / 4)  # beta = 0 is l1


def test_regression_loss_errors():
    a, b = tr.zeros(3), tr.zeros(4)
    for fn in (F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        with pytest.raises(ValueError, match="input shape .* and target shape .* differ"):
            fn(a, b)
        with pytest.raises(ValueError, match="reduction must be"):
            fn(a, a, reduction="average")
    for fn in (F.l1_loss, F.smooth_l1_loss):
        with pytest.raises(ValueError, match="size_average= and reduce="):
            fn(a, a, True)
    for module in (nn.L1Loss, nn.SmoothL1Loss):
        with pytest.raises(ValueError, match="size_average= and reduce="):
            module(reduce=False)
    with pytest.raises(ValueError, match="beta must be a number >= 0, got -1"):
        F.smooth_l1_loss(a, a, beta=-1.0)
    with pytest.raises(ValueError, match="delta must be a number > 0, got 0"):
        F.huber_loss(a, a, delta=0.0)
    with pytest.raises(ValueError, match="weight must be a Tensor of the input's shape"):
        F.l1_loss(a, a, weight=tr.ones(2))


PADS = [(1, 2), (0, 0, 1, 1), (-1, 2, 3, -1), (1, 1, 1, 1, 1, 1), (-3, 0), (-2, -2), (2, -1, -1, 0), (0, 0)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("amounts", PADS)
@pytest.mark.parametrize("value", [None, 2.5])
def test_pad_matches_torch(dtype, amounts, value):
    torch = _torch()
    x = np.random.default_rng(4).normal(size=(2, 3, 4)).astype(dtype)
    a, ta = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = F.pad(a, amounts, value=value), torch.nn.functional.pad(ta, amounts, value=value)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == a.dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    upstream = np.random.default_rng(5).normal(size=ours.shape).astype(dtype)
    ours.backward(tr.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())


def test_pad_hand_computed_and_gradcheck():
    x = tr.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    np.testing.assert_array_equal(F.pad(x, (1, 2)).numpy(), [[0, 1, 2, 3, 0, 0]])
    np.testing.assert_array_equal(F.pad(x, [-1, 1], value=9.0).numpy(), [[2, 3, 9]])
    np.testing.assert_array_equal(F.pad(x, (0, -1, 1, 0), value=-1.0).numpy(), [[-1, -1], [1, 2]])
    F.pad(x, (-1, 1)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 1]])
    y = tr.tensor(np.random.default_rng(6).normal(size=(2, 3)), requires_grad=True)
    assert tr.gradcheck(lambda t: F.pad(t, (2, -1, -1, 1), value=0.3), (y,))


def test_pad_errors():
    x = tr.zeros(3)
    with pytest.raises(NotImplementedError, match="mode 'reflect' is not supported; only mode='constant'"):
        F.pad(x, (1, 1), mode="reflect")
    with pytest.raises(ValueError, match="even number"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match=r"at most 2·ndim = 2"):
        F.pad(x, (1, 1, 1, 1))
    with pytest.raises(ValueError, match="negative size"):
        F.pad(x, (-2, -2))
    with pytest.raises(TypeError, match="tuple or list of ints"):
        F.pad(x, (1.5, 1))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p,dim", [(2.0, 1), (1, 1), (2, -1), (2, 0), (3.0, 1)])
def test_normalize_matches_torch(dtype, p, dim):
    torch = _torch()
    x = np.random.default_rng(7).normal(size=(4, 3, 2)).astype(dtype)
    x[1, :, :] = 0.0  # a zero row along dim 1 (the eps path)
    x[:, :, 0] = 0.0 if dim in (-1, 2) else x[:, :, 0]
    a, ta = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = F.normalize(a, p, dim), torch.nn.functional.normalize(ta, p, dim)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), **TOL[dtype])
    upstream = np.random.default_rng(8).normal(size=ours.shape).astype(dtype)
    ours.backward(tr.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), **TOL[dtype])


def test_normalize_hand_computed_and_gradcheck():
    x = tr.tensor([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])
    np.testing.assert_allclose(F.normalize(x).numpy(), [[0.6, 0.8], [0, 0], [2**-0.5, -(2**-0.5)]])
    np.testing.assert_allclose(F.normalize(x, p=1).numpy(), [[3 / 7, 4 / 7], [0, 0], [0.5, -0.5]])
    np.testing.assert_allclose(F.normalize(x, dim=0).numpy()[:, 0], [3 / 10**0.5, 0, 1 / 10**0.5])
    z = tr.zeros(1, 2, requires_grad=True)
    F.normalize(z, eps=0.5).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [[2.0, 2.0]])  # x / eps below eps
    y = tr.tensor(np.random.default_rng(9).normal(size=(3, 4)), requires_grad=True)
    assert tr.gradcheck(lambda t: F.normalize(t, dim=1), (y,))
    assert tr.gradcheck(lambda t: F.normalize(t, p=3.0, dim=0), (y,))
