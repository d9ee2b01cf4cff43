"""The node of an item assignment, ``target[index] = value``.

Unlike every other op, its forward writes into its first input's memory and returns
that same array: the tensor written to keeps its memory, and ``Tensor._write`` (see
docs/architecture.md, "In-place writes") makes it the output of this node. The
in-place arithmetic ops (``+=``, ``mul_``, ...) need no node of their own: they are
the ordinary ops applied to the old values, written back.
"""

from __future__ import annotations

from ..autograd import Function, constant
from .broadcast import sum_to_shape
from .indexing import index_write
from .movement import GetItem


class SetItem(Function):
    """``target[index] = value`` (``value`` broadcast to the indexed shape).

    Gradients: the overwritten elements of ``target`` no longer reach the output, so
    d/d target is ``grad`` with zeros at ``index``; each element of ``value`` landed at
    its place(s), so d/d value is ``grad[index]`` summed back to ``value``'s shape.
    Backward reads no values, only shapes: later writes cannot make it wrong.
    """

    saves_inputs = False
    saves_output = False

    def forward(self, target, value, index):
        self.index = index
        index_write(target, index, value)
        return target

    def backward(self, grad):
        need_target, need_value = self.needs_input_grad
        grad_target = grad_value = None
        if need_target:
            keep = self.xp.ones(grad.shape, dtype=grad.dtype)
            index_write(keep, self.index, 0)
            grad_target = grad * constant(keep)
        if need_value:
            value_shape = self.inputs[1].shape
            picked = GetItem.apply(grad, index=self.index)
            if len(value_shape) > picked.ndim:  # a value may carry extra leading 1s: v of (1, 2) into b[1] of (2,)
                picked = picked.reshape((1,) * (len(value_shape) - picked.ndim) + picked.shape)
            grad_value = sum_to_shape(picked, value_shape)
        return grad_target, grad_value
