"""What every module of Tensor's methods shares: the root class, and reading shape arguments.

The modules of this folder sit *below* ``tensor.py``: they import ``ops``, ``backend`` and
``autograd``, never the Tensor class, which is assembled from their mixins. So they ask
"is this a tensor?" with ``isinstance(x, TensorBase)``, and make a tensor from an array with
``self._wrap(array)`` (always a plain ``Tensor``, even when ``self`` is an ``nn.Parameter``).
"""

from __future__ import annotations


class TensorBase:
    """The root of every Tensor mixin (as ``torch._C.TensorBase`` is of ``torch.Tensor``):
    ``isinstance(x, TensorBase)`` holds exactly for tensors.

    The data and graph fields are declared in ``tensor.py``; ``__slots__ = ()`` here and on
    every mixin keeps them the only fields, so a tensor carries no per-instance ``__dict__``.
    """

    __slots__ = ()


def shape_arg(shape) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` alike."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def check_dim(name: str, dim: int, ndim: int, extra: int = 0) -> int:
    """A dimension index, negative counting from the end, checked and made non-negative.
    ``extra`` counts dimensions the op adds (``unsqueeze``, ``stack``: one more place)."""
    size = ndim + extra
    if not -max(size, 1) <= dim < max(size, 1):
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % size if size else 0
