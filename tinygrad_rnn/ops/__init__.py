"""Layer 3: every differentiable operation, forward and backward side by side.

Each op is a small ``Function`` subclass: ``forward`` works on raw arrays through
the device's array module ``self.xp``; ``backward`` is written with Tensor ops so
that it can itself be differentiated (``create_graph=True``). Ops that are
compositions of these (mean, softmax, ...) need no class: they are Tensor methods
in ``tensor_methods/composed.py``, and the engine differentiates them.

An op of one tensor and no arguments (``exp``, ``tanh``, ...) is registered with one
line above its class (``@register("exp", function=True)``, see ``registry.py``); the
layers above make its Tensor method and ``tr.`` function from ``REGISTRY``, and it is
exported here as ``ops.<ClassName>`` with no line of its own.
"""

from .elementwise import Add, Cast, Clip, Div, Maximum, Minimum, Mul, Pow, PowScalar, Sub, Where
from .inplace import SetItem
from .linalg import MatMul
from .movement import Cat, Clone, Expand, GetItem, Permute, Reshape, ScatterAdd, Split, ToDevice, Unbind
from .reduce import Max, Sum
from .registry import REGISTRY, Registered, register

__all__ = [
    "Add", "Cast", "Cat", "Clip", "Clone", "Div", "Expand", "GetItem", "MatMul", "Max", "Maximum", "Minimum",
    "Mul", "Permute", "Pow", "PowScalar", "Reshape", "ScatterAdd", "SetItem", "Split", "Sub", "Sum", "ToDevice",
    "Unbind", "Where", "REGISTRY", "Registered", "register",
]

# The registered ops (Exp, Tanh, Neg, ...): importing their modules above registered them.
globals().update({entry.op.__name__: entry.op for entry in REGISTRY.values()})
__all__ += sorted(entry.op.__name__ for entry in REGISTRY.values())
