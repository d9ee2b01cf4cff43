"""``Parameter``: a tensor that a ``Module`` owns and trains."""

from __future__ import annotations

from ..creation import tensor as as_tensor
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and that a ``Module`` registers
    when it is assigned as an attribute (``self.weight = Parameter(...)``)."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        source = data.detach() if isinstance(data, Tensor) else as_tensor(data if data is not None else [])
        self._init(source.array, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
