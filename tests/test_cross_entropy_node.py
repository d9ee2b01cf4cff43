"""The cross-entropy of logit rows is one graph node (``nn.loss_nodes.SoftmaxCrossEntropy``): its
value, gradient and second derivative must equal PyTorch's for weights, ignored targets (some or
all) and both reductions; and it must be the node that cross_entropy actually uses."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.nn.loss_nodes import SoftmaxCrossEntropy

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("trial", range(24))
def test_value_gradient_and_second_derivative_match_pytorch(trial):
    rng = np.random.default_rng(trial)
    rows, classes = int(rng.integers(1, 7)), int(rng.integers(1, 6))
    x = rng.standard_normal((rows, classes)) * 3
    y = rng.integers(0, classes, rows)
    if trial % 3 == 0:
        y[0] = -100  # one ignored target
    if trial % 8 == 5:
        y[:] = -100  # every target ignored: NaN mean, zero gradient
    w = rng.random(classes) if trial % 2 else None
    reduction = ("mean", "sum")[trial // 2 % 2]
    ours_x, theirs_x = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = tr.nn.functional.cross_entropy(ours_x, tr.tensor(y), weight=None if w is None else tr.tensor(w),
                                          reduction=reduction)
    theirs = torch.nn.functional.cross_entropy(theirs_x, torch.tensor(y), reduction=reduction,
                                               weight=None if w is None else torch.tensor(w))
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12, equal_nan=True)
    (ours_g,) = tr.grad(ours, ours_x, create_graph=True)
    (theirs_g,) = torch.autograd.grad(theirs, theirs_x, create_graph=True)
    np.testing.assert_allclose(ours_g.numpy(), theirs_g.detach().numpy(), rtol=1e-10, atol=1e-14)
    if not np.isnan(theirs.item()):
        (ours_h,) = tr.grad((ours_g * ours_g).sum(), ours_x)
        (theirs_h,) = torch.autograd.grad((theirs_g * theirs_g).sum(), theirs_x)
        np.testing.assert_allclose(ours_h.numpy(), theirs_h.numpy(), rtol=1e-9, atol=1e-12)


def test_cross_entropy_of_rows_is_one_node():
    x = tr.randn(4, 3, requires_grad=True)
    loss = tr.nn.functional.cross_entropy(x, tr.tensor([0, 2, 1, 2]), reduction="sum")
    assert isinstance(loss.grad_fn, SoftmaxCrossEntropy)


def test_huge_logits_stay_finite():
    x = tr.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    loss = tr.nn.functional.cross_entropy(x, tr.tensor([1]))
    loss.backward()
    assert loss.item() == pytest.approx(2000.0)
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, -1.0, 0.0]], atol=1e-6)
