"""Graph nodes of losses whose backward is PyTorch's formula rather than the derivative of their
forward as written (so the gradients match PyTorch's where the forward is clamped)."""

from __future__ import annotations

from .. import backend
from ..autograd import Function

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
