"""The nonlinearities of a recurrent cell, ``tanh``, ``sigmoid`` and ``relu``, and the one-node
backwards of the first two (``TanhGrad``, ``SigmoidGrad``): each of these runs at every time step of
the composed road, forward and backward, so each backward is one op of its own rather than three.
Registered like ``exp`` (``registry.py``): ``x.tanh()``, ``tr.tanh(x)`` and ``x.tanh_()``."""

from __future__ import annotations

from .. import backend
from ..autograd import Function, constant
from .registry import register


@register("tanh", function=True)
class Tanh(Function):
    """``tanh(x)``;  d/dx = 1 - tanh²(x)."""

    saves_inputs = False

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, grad):
        return TanhGrad.apply(grad, self.output)


class TanhGrad(Function):
    """Tanh's backward as one node: ``grad · (1 - y²)`` for y = tanh(x).

    Written as three Tensor ops it cost three nodes on every backward pass; as one op its
    forward is two array operations. It is still an op, so second derivatives work:
    d/dgrad = 1 - y², d/dy = -2·y·grad."""

    def forward(self, grad, y):
        result = 1 - y * y
        result *= grad
        return result

    def backward(self, g):
        grad, y = self.inputs
        need_grad, need_y = self.needs_input_grad
        return (g * (1 - y * y) if need_grad else None, g * grad * y * -2 if need_y else None)


@register("sigmoid", function=True)
class Sigmoid(Function):
    """``σ(x) = 1 / (1 + e^-x)``;  d/dx = σ(x)(1 - σ(x)).

    Computed as written, in place, four passes over the array: for x < -88 (float32) e^-x
    overflows to inf and 1/(1 + inf) = 0, the correctly rounded value (or next to it), so the
    overflow is silenced, not avoided; for every other x each step keeps full relative accuracy.
    """

    saves_inputs = False

    def forward(self, x):
        xp = self.xp
        result = xp.empty_like(x)  # an array also for 0-d x (NumPy would return a scalar)
        with backend.quiet_math(xp):
            xp.negative(x, out=result)
            xp.exp(result, out=result)  # e^-x
        result += 1
        return xp.reciprocal(result, out=result)

    def backward(self, grad):
        return SigmoidGrad.apply(grad, self.output)


class SigmoidGrad(Function):
    """Sigmoid's backward as one node: ``grad · y(1 - y)`` for y = σ(x) (see ``TanhGrad``);
    its own derivatives: d/dgrad = y(1 - y), d/dy = grad·(1 - 2y)."""

    def forward(self, grad, y):
        result = 1 - y
        result *= y
        result *= grad
        return result

    def backward(self, g):
        grad, y = self.inputs
        need_grad, need_y = self.needs_input_grad
        return (g * y * (1 - y) if need_grad else None, g * grad * (1 - 2 * y) if need_y else None)


@register("relu", function=True)
class Relu(Function):
    """``max(x, 0)``;  d/dx = 1 where x > 0, else 0."""

    saves_output = False

    def forward(self, x):
        return self.xp.maximum(x, 0)

    def backward(self, grad):
        return grad * constant((self.inputs[0].array > 0).astype(grad.dtype))
