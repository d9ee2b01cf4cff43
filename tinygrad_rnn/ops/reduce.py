"""Reductions over axes. Each input element fed the result along its axis, so the
backward spreads the output gradient back over those axes."""

from __future__ import annotations

from ..autograd import Function, constant
from .broadcast import reshape_to


def keepdims_shape(shape: tuple, axes: tuple) -> tuple:
    """``shape`` with every reduced axis kept as size 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """``sum(x, axes)``;  every element's derivative is 1, so the gradient is the
    output gradient copied (broadcast) back over the reduced axes."""

    saves_inputs = False
    saves_output = False

    def forward(self, x, axes, keepdims):
        self.axes = axes  # a tuple of non-negative axes
        return x.sum(axis=axes, keepdims=keepdims)

    def backward(self, grad):
        (x,) = self.inputs
        kept = reshape_to(grad, keepdims_shape(x.shape, self.axes))
        return kept if kept.shape == x.shape else kept.expand(x.shape)


class Max(Function):
    """``max(x, axes)``;  the gradient goes to the element(s) that are the maximum,
    split evenly among ties (a valid subgradient, and symmetric)."""

    def forward(self, x, axes, keepdims):
        self.axes = axes
        return x.max(axis=axes, keepdims=keepdims)

    def backward(self, grad):
        (x,) = self.inputs
        shape = keepdims_shape(x.shape, self.axes)
        is_max = x.array == self.output.array.reshape(shape)
        share = is_max / is_max.sum(axis=self.axes, keepdims=True)
        return reshape_to(grad, shape) * constant(share.astype(grad.dtype))
