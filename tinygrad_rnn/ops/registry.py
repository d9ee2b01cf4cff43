"""The op registry: one line makes an op a Tensor method (and a ``tr.`` function).

An op that takes one tensor and nothing else needs no hand-written door. The line
above its class,

    @register("exp", function=True)
    class Exp(Function):
        '''``exp(x)``;  d/dx = exp(x), the output itself.'''

records it here, and the layers above read this table: ``tensor_methods/arithmetic.py``
gives ``Tensor`` the method ``x.exp()`` (with the class's docstring), ``tinygrad_rnn/__init__.py``
the function ``tr.exp(x)`` (only with ``function=True``), ``ops/__init__.py`` the name
``ops.Exp``, and ``tests/test_op_coverage.py`` asks for the op's gradient test. The table
lives in the ops layer so that ops never import the Tensor class that sits above them.
"""

from __future__ import annotations

from typing import NamedTuple


class Registered(NamedTuple):
    """One entry of ``REGISTRY``: the ``Function`` subclass, and whether ``tr.<name>(x)`` exists too."""

    op: type
    function: bool


REGISTRY: dict[str, Registered] = {}
"""Method name -> ``Registered``, in the order the ops were defined."""


def register(name: str, *, function: bool = False):
    """Class decorator: make the unary op ``x.<name>()`` and, with ``function=True``, ``tr.<name>(x)``."""

    def record(op: type) -> type:
        if name in REGISTRY:
            raise ValueError(f"register: {name!r} is already the method of {REGISTRY[name].op.__name__}")
        REGISTRY[name] = Registered(op, function)
        return op

    return record
