"""Clamping to bounds: ``Clip`` for Python-number bounds, ``ClampTensors`` for tensor bounds.

With number bounds only ``x`` has a gradient. Tensor bounds broadcast with ``x`` like the
operands of ``+`` and take part in the graph: where a bound binds, the output *is* the bound,
so its gradient flows there (PyTorch's rule, ties included: see ``ClampTensors``).
"""

from __future__ import annotations

from ..autograd import Function, constant
from .broadcast import broadcast_shape, sum_to_shape


class Clip(Function):
    """``clip(x, low, high)`` (either bound may be None); d/dx = 1 inside [low, high], else 0."""

    saves_output = False

    def forward(self, x, low, high):
        self.low, self.high = low, high
        xp = self.xp
        if low is not None:
            x = xp.maximum(x, xp.asarray(low, dtype=x.dtype))
        if high is not None:
            x = xp.minimum(x, xp.asarray(high, dtype=x.dtype))
        return x

    def backward(self, grad):
        x = self.inputs[0].array
        inside = self.xp.ones(x.shape, dtype=bool)
        if self.low is not None:
            inside &= x >= self.low
        if self.high is not None:
            inside &= x <= self.high
        return grad * constant(inside.astype(grad.dtype))


class ClampTensors(Function):
    """``clamp(x, low, high)`` with tensor bounds, ``min(max(x, low), high)``, all three broadcast
    together; either bound may be left out (``has_low``/``has_high`` say which inputs follow x).

    Gradients, PyTorch's (its ``clamp_backward`` and ``clamp_backward_min_max``):

        d/dx    = 1 where low <= x <= high            (a bound equal to x lets x keep its gradient)
        d/dlow  = 1 where x < low and low < high
        d/dhigh = 1 where x > high, or where high < low (the output is then high everywhere)

    and 0 elsewhere, each summed back to its input's shape. Where low == high > x, the output is
    that bound but no input gets a gradient, as in PyTorch.
    """

    saves_output = False

    def forward(self, x, *bounds, has_low: bool, has_high: bool):
        if any(b.shape != x.shape for b in bounds):
            broadcast_shape("clamp", x.shape, *(b.shape for b in bounds))  # an error naming them, if they don't
        self.has_low, self.has_high = has_low, has_high
        xp = self.xp
        low = bounds[0] if has_low else None
        high = bounds[-1] if has_high else None
        if low is not None:
            x = xp.maximum(x, low)
        if high is not None:
            x = xp.minimum(x, high)
        return x

    def backward(self, grad):
        x, *bounds = (t.array for t in self.inputs)
        low = bounds[0] if self.has_low else None
        high = bounds[-1] if self.has_high else None
        if low is not None and high is not None:
            inside = (x >= low) & (x <= high)
        else:
            inside = x >= low if low is not None else x <= high
        masks = [inside]
        if low is not None:
            masks.append((x < low) & (low < high) if high is not None else x < low)
        if high is not None:
            masks.append((x > high) | (high < low) if low is not None else x > high)
        return tuple(
            sum_to_shape(grad * constant(mask.astype(grad.dtype)), tensor.shape) if needed else None
            for mask, tensor, needed in zip(masks, self.inputs, self.needs_input_grad)
        )
