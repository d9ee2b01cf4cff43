"""Layer 3: every differentiable operation, forward and backward side by side.

Each op is a small ``Function`` subclass: ``forward`` works on raw arrays through
the device's array module ``self.xp``; ``backward`` is written with Tensor ops so
that it can itself be differentiated (``create_graph=True``). Ops that are
compositions of these (mean, softmax, ...) need no class: they are Tensor methods
in ``tensor_methods/composed.py``, and the engine differentiates them. Files: ``elementwise.py``
(arithmetic, exp, log, ...), ``activations.py`` (tanh, sigmoid, relu), ``unary.py`` (square, rsqrt,
log1p, sign, round), ``clamp.py``,
``reduce.py`` (sum, max, prod, cumsum), ``movement.py`` (reshape, indexing, cat, flip, repeat, ...),
``indexing.py``, ``inplace.py``, ``linalg.py``, ``broadcast.py``, ``recurrent.py``.

An op of one tensor and no arguments (``exp``, ``tanh``, ...) is registered with one
line above its class (``@register("exp", function=True)``, see ``registry.py``); the
layers above make its Tensor method and ``tr.`` function from ``REGISTRY``, and it is
exported here as ``ops.<ClassName>`` with no line of its own.
"""

from . import activations, unary  # noqa: F401 (register tanh, sigmoid, relu; square, rsqrt, log1p, sign, round)
from .clamp import ClampTensors, Clip
from .elementwise import Add, AddCMul, Cast, Div, Maximum, Minimum, Mul, Pow, PowScalar, Sub, Where
from .inplace import SetItem
from .linalg import AddMM, MatMul
from .movement import (
    Cat,
    Clone,
    Expand,
    Flip,
    GetItem,
    Permute,
    Repeat,
    Reshape,
    ScatterAdd,
    Split,
    Stack,
    ToDevice,
    Unbind,
)
from .reduce import CumSum, Max, Prod, Sum
from .registry import REGISTRY, Registered, register

__all__ = [
    "Add", "AddCMul", "AddMM", "Cast", "Cat", "ClampTensors", "Clip", "Clone", "CumSum", "Div", "Expand", "Flip",
    "GetItem", "MatMul", "Max", "Maximum", "Minimum", "Mul", "Permute", "Pow", "PowScalar", "Prod", "Repeat",
    "Reshape", "ScatterAdd", "SetItem", "Split", "Stack", "Sub", "Sum", "ToDevice", "Unbind", "Where", "REGISTRY",
    "Registered", "register",
]

# The registered ops (Exp, Tanh, Neg, ...): importing their modules above registered them.
globals().update({entry.op.__name__: entry.op for entry in REGISTRY.values()})
__all__ += sorted(entry.op.__name__ for entry in REGISTRY.values())
