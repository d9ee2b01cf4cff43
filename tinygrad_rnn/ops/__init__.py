"""Layer 3: every differentiable operation, forward and backward side by side.

Each op is a small ``Function`` subclass: ``forward`` works on raw arrays through
the device's array module ``self.xp``; ``backward`` is written with Tensor ops so
that it can itself be differentiated (``create_graph=True``). Ops that are
compositions of these (mean, softmax, ...) live as Tensor methods in ``tensor.py``.
"""

from .elementwise import (
    Abs,
    Add,
    Cast,
    Clip,
    Cos,
    Div,
    Exp,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    PowScalar,
    Relu,
    Sigmoid,
    Sin,
    Sqrt,
    Sub,
    Tanh,
    Where,
)
from .inplace import SetItem
from .linalg import MatMul
from .movement import Cat, Clone, Expand, GetItem, Permute, Reshape, ScatterAdd, Split, ToDevice, Unbind
from .reduce import Max, Sum

__all__ = [
    "Abs", "Add", "Cast", "Cat", "Clip", "Clone", "Cos", "Div", "Exp", "Expand", "GetItem", "Log", "MatMul",
    "Max", "Maximum", "Minimum", "Mul", "Neg", "Permute", "Pow", "PowScalar", "Relu", "Reshape",
    "ScatterAdd", "SetItem", "Split", "Sigmoid", "Sin", "Sqrt", "Sub", "Sum", "Tanh", "ToDevice", "Unbind", "Where",
]
