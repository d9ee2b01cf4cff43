"""Reductions over axes (sum, max, prod) and the running sum along one (cumsum). Each input
element fed the result along its axis, so the backward spreads the output gradient back over
those axes."""

from __future__ import annotations

from ..autograd import Function, constant
from .broadcast import reshape_to
from .elementwise import Where


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


class Prod(Function):
    """``prod(x, axes)``;  d/dxᵢ = Πⱼ≠ᵢ xⱼ, the product of the *other* elements of xᵢ's slice.

    Without zeros that is result / xᵢ. With zeros, PyTorch's answer, written with masks (never
    a division by 0), where c is the number of zeros in the slice and P the product of its
    nonzero elements:

        d/dxᵢ = result / xᵢ            where xᵢ ≠ 0   (0 when the slice holds a zero)
        d/dxᵢ = P  if c = 1, else 0    where xᵢ = 0   (the only zero: the product of all the rest)

    So that second derivatives are right too, the 0 at a zero of a slice with exactly two zeros is
    written as (S - xᵢ)·P, S the sum of the slice's zero elements: its value is 0, and its
    derivative with respect to the other zero is P, the product of the rest.
    """

    def forward(self, x, axes, keepdims):
        self.axes = axes
        return x.prod(axis=axes, keepdims=keepdims)

    def backward(self, grad):
        (x,) = self.inputs
        shape = keepdims_shape(x.shape, self.axes)
        zero = x.array == 0
        count = zero.sum(axis=self.axes, keepdims=True)  # zeros per slice
        is_zero, nothing = constant(zero), x.new_zeros(())
        safe = Where.apply(is_zero, x.new_ones(()), x)  # x with its zeros replaced by 1
        product_of_nonzeros = safe.prod(self.axes, keepdim=True)
        zero_sum = Where.apply(is_zero, x, nothing).sum(self.axes, keepdim=True)  # 0, but not flat
        at_zero = Where.apply(
            constant(count == 1),
            product_of_nonzeros,
            Where.apply(constant(count == 2), (zero_sum - x) * product_of_nonzeros, nothing),
        )
        elsewhere = reshape_to(self.output, shape) / safe
        return reshape_to(grad, shape) * Where.apply(is_zero, at_zero, elsewhere)


class CumSum(Function):
    """``cumsum(x, axis)``: yₖ = Σᵢ≤ₖ xᵢ;  d/dxᵢ = Σₖ≥ᵢ gₖ: xᵢ feeds every yₖ from k = i on, so its
    gradient is the output gradient summed from the end (a cumsum of the reversed gradient, reversed)."""

    saves_inputs = False
    saves_output = False

    def forward(self, x, axis):
        self.axis = axis
        return self.xp.cumsum(x, axis=axis)

    def backward(self, grad):
        return grad.flip(self.axis).cumsum(self.axis).flip(self.axis)
