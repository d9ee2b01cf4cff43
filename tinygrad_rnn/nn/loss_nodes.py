"""Graph nodes of losses whose backward is PyTorch's formula rather than the derivative of their
forward as written (so the gradients match PyTorch's where the forward is clamped), and the
cross-entropy of logit rows as one node (a training step's most common loss, a dozen nodes
when composed of log_softmax and nll_loss)."""

from __future__ import annotations

from .. import backend
from ..autograd import Function, constant, is_grad_enabled

_EPSILON = 9.999999960041972e-13  # PyTorch's EPSILON = 1e-12 is a float: this is float32(1e-12), exactly


class BinaryCrossEntropy(Function):
    """PyTorch's elementwise binary cross-entropy of probabilities x and targets y:
    ℓ = (y - 1)·max(log(1 - x), -100) - y·max(log x, -100). Its backward is PyTorch's, not the
    derivative of the clamped formula: dℓ/dx = (x - y) / max((1 - x)·x, ε) with ε = float32(1e-12),
    finite at x = 0 and 1; dℓ/dy = log(1 - x) - log x. Both are Tensor ops, so they can be
    differentiated again."""

    saves_output = False

    def forward(self, x, y):
        xp = self.xp
        with backend.quiet_math(xp):
            return (y - 1) * xp.maximum(xp.log1p(-x), -100) - y * xp.maximum(xp.log(x), -100)

    def backward(self, grad):
        x, y = self.inputs
        need_x, need_y = self.needs_input_grad
        return (
            grad * (x - y) / ((1 - x) * x).clip(min=_EPSILON) if need_x else None,
            grad * ((1 - x).log() - x.log()) if need_y else None,
        )


class SoftmaxCrossEntropy(Function):
    """Cross-entropy of logit rows x (N, C) against class indices y (N,), as one node:

        ℓ = -Σ_n s_n · log pₙ[yₙ],   log pₙ = xₙ - max(xₙ) - log Σ_c exp(xₙ,c - max(xₙ))   (stable)

    with ``share`` s_n each row's factor (w[yₙ]/Σw for a mean, w[yₙ] for a sum) and ``keep`` False
    for ignored targets (their term is an exact 0, whatever their logits). Backward:
    dℓ/dxₙ = s_n·(softmax(xₙ) - onehot(yₙ))·grad. Under ``create_graph`` the softmax is taken with
    Tensor ops, so second derivatives work; otherwise the forward's softmax is reused."""

    saves_output = False

    def forward(self, x, labels, keep, share):
        xp = self.xp
        rows = xp.arange(x.shape[0])
        shifted = x - x.max(axis=1, keepdims=True)
        exp = xp.exp(shifted)
        sums = exp.sum(axis=1, keepdims=True)
        picked = xp.where(keep, shifted[rows, labels] - xp.log(sums[:, 0]), 0)  # log pₙ[yₙ], 0 if ignored
        exp /= sums
        self.probs, self.labels, self.share = exp, labels, share  # softmax(x), for the backward
        return -(picked * share).sum(dtype=x.dtype)

    def backward(self, grad):
        x = self.inputs[0]
        xp = self.xp
        one_hot = xp.zeros(x.shape, dtype=x.dtype)
        one_hot[xp.arange(x.shape[0]), self.labels] = 1
        if is_grad_enabled():  # create_graph: the softmax as ops of x, differentiable again
            return (x.softmax(1) - constant(one_hot)) * constant(self.share[:, None]) * grad
        difference = self.probs - one_hot
        difference *= self.share[:, None]
        return constant(difference) * grad
