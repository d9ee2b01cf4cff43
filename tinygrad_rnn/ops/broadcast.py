"""Broadcasting, forwards and backwards: the one home of both directions."""

from __future__ import annotations

from ..autograd import Function


def broadcast_shape(op_name: str, *shapes: tuple) -> tuple:
    """The shape NumPy broadcasting gives ``shapes``, or an error that names them all."""
    result: list[int] = []
    for shape in shapes:
        padded = [1] * (len(shape) - len(result)) + result
        shape = (1,) * (len(padded) - len(shape)) + tuple(shape)
        merged = []
        for a, b in zip(padded, shape):
            if a != b and a != 1 and b != 1:
                listed = " and ".join(str(tuple(s)) for s in shapes)
                raise ValueError(f"{op_name}: shapes {listed} cannot be broadcast together")
            merged.append(b if a == 1 else a)
        result = merged
    return tuple(result)


def broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to exactly ``target`` (never enlarging it): a bias to a
    layer's output, ``addmm``'s input to the product."""
    return len(shape) <= len(target) and all(n in (1, m) for n, m in zip(shape[::-1], target[::-1]))


def sum_to_shape(grad, shape: tuple):
    """Undo broadcasting in the backward pass: sum ``grad`` down to ``shape``.

    Forward broadcasting copied the input along the axes it added in front and the
    axes where the input had size 1; every copy fed the output, so the gradient of
    the input is the sum of the gradients of all its copies.
    """
    shape = tuple(shape)
    return grad if grad.shape == shape else SumTo.apply(grad, shape=shape)


class SumTo(Function):
    """``sum_to_shape`` as one node (it runs in the backward of every broadcasting op, so one
    node instead of a sum and a reshape): sum over the axes broadcasting added in front and the
    axes it stretched from 1, then drop the added ones. Its own backward broadcasts back."""

    saves_inputs = False
    saves_output = False

    def forward(self, x, shape):
        self.input_shape = x.shape
        lead = x.ndim - len(shape)
        stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
        return x.sum(axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)

    def backward(self, grad):
        return grad.expand(self.input_shape)


def reshape_to(tensor, shape: tuple):
    """``tensor.reshape(shape)``, or ``tensor`` itself when it has that shape already.

    For backward code: a public ``reshape`` always makes a new node (a view is a new
    tensor, as in PyTorch), and a backward that reshaped to the same shape would pay
    for a node on every step of training for nothing."""
    return tensor if tensor.shape == tuple(shape) else tensor.reshape(shape)
