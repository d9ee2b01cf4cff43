"""The in-place writes: ``x[i] = v``, ``x += y``, ``add_``, ``mul_``, ``copy_``, ``fill_``, ``clamp_``,
``masked_fill_``, ``&=``, the registered functions (``exp_``, ``relu_``, ...: made from ``ops.REGISTRY``),
and the in-place shape changes ``unsqueeze_``/``squeeze_``.

Each write of values is one call of ``Tensor._write`` (in ``tensor.py``, with the rules that keep
writes correct under autograd) with the new values written as ordinary ops on the old ones:
``old + y`` for ``+=``, ``SetItem(old, v, index)`` for ``x[i] = v``. So an in-place op needs
no backward of its own; see docs/architecture.md, "In-place writes".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import autograd, backend, ops
from .base import TensorBase
from .shape import _index_arrays, squeezed_shape, unsqueezed_shape

if TYPE_CHECKING:  # for annotations only: at run time these modules sit below tensor.py
    from ..tensor import Tensor

_WHOLE = ops.indexing.Index((Ellipsis,), None)  # x[...]: every element (copy_ writes through it)


class InPlaceMethods(TensorBase):
    """The in-place methods of ``Tensor`` (see the module docstring)."""

    __slots__ = ()

    def _value_for(self, value) -> Tensor:
        """A value to write into this tensor: a tensor as it is (moved or cast by the write), else a new one."""
        return value if isinstance(value, TensorBase) else self.new_tensor(value)

    def __setitem__(self, index, value) -> None:
        """``x[index] = value``, in place and recorded (see ``_write``); ``value`` broadcasts."""
        index = _index_arrays(index, self)
        value = self._value_for(value)
        if value.dtype != self.dtype:  # PyTorch casts the value to the tensor's dtype
            value = value.to(self.dtype)
        if not index.is_basic and value.requires_grad and autograd.is_grad_enabled():
            _refuse_repeated_positions(self, index)
        self._write("__setitem__", lambda old: ops.SetItem.apply(old, value, index=index), (value,))

    def copy_(self, source) -> Tensor:
        """Copy the values of ``source`` (broadcast to this shape, cast to this dtype, moved to this
        device) into this tensor. Recorded: the gradient flows to ``source``."""
        source = self._value_for(source)
        if source.device != self.device:
            source = source.to(self.device)
        if source.dtype != self.dtype:
            source = source.to(self.dtype)
        write = lambda old: ops.SetItem.apply(old, source, index=_WHOLE)  # noqa: E731
        return self._write("copy_", write, (source,))

    def fill_(self, value) -> Tensor:
        """Set every element to ``value`` (a number or a one-element tensor)."""
        return self.copy_(value if isinstance(value, TensorBase) else self.new_tensor(value))

    def zero_(self) -> Tensor:
        """Set every element to 0."""
        return self.fill_(0)

    def uniform_(self, low: float = 0.0, high: float = 1.0) -> Tensor:
        """Fill with values drawn uniformly from [low, high)."""
        # only random() and standard_normal(): the draws NumPy's and CuPy's generators share
        with backend.device_of_array_context(self.array):
            values = low + (high - low) * backend.generator(self.device).random(self.shape)
            return self.copy_(self._wrap(values))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with values drawn from N(mean, std²)."""
        with backend.device_of_array_context(self.array):
            values = mean + std * backend.generator(self.device).standard_normal(self.shape)
            return self.copy_(self._wrap(values))

    # ``copy_old=True`` where the write's backward reads the old values (d(old * y)/dy = old):
    # they are about to be overwritten in this tensor's memory, so ``old`` gets a copy.
    def __iadd__(self, other):
        return self._write("+=", lambda old: old + other, (other,))

    def __isub__(self, other):
        return self._write("-=", lambda old: old - other, (other,))

    def __imul__(self, other):
        return self._write("*=", lambda old: old * other, (other,), copy_old=True)

    def __itruediv__(self, other):
        return self._write("/=", lambda old: old / other, (other,), copy_old=True)

    def add_(self, other, alpha=1) -> Tensor:
        """In place: ``self += alpha * other``. PyTorch's old form ``add_(alpha, other)`` works too."""
        other = _scaled(other, alpha, "add_")
        return self._write("add_", lambda old: old + other, (other,))

    def sub_(self, other, alpha=1) -> Tensor:
        """In place: ``self -= alpha * other``. PyTorch's old form ``sub_(alpha, other)`` works too."""
        other = _scaled(other, alpha, "sub_")
        return self._write("sub_", lambda old: old - other, (other,))

    def addcmul_(self, tensor1, tensor2, *, value=1) -> Tensor:
        """In place: ``self += value · tensor1 · tensor2`` (an optimizer's moment update)."""
        return self._write("addcmul_", lambda old: old.addcmul(tensor1, tensor2, value=value), (tensor1, tensor2))

    def addcdiv_(self, tensor1, tensor2, *, value=1) -> Tensor:
        """In place: ``self += value · tensor1 / tensor2`` (Adam's step: ``p.addcdiv_(m, denom, value=-lr)``)."""
        return self._write("addcdiv_", lambda old: old.addcdiv(tensor1, tensor2, value=value), (tensor1, tensor2))

    def mul_(self, other) -> Tensor:
        """In place: ``self *= other``."""
        return self._write("mul_", lambda old: old * other, (other,), copy_old=True)

    def div_(self, other) -> Tensor:
        """In place: ``self /= other``."""
        return self._write("div_", lambda old: old / other, (other,), copy_old=True)

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002 (PyTorch's argument names)
        """In place: limit values to [min, max]."""
        return self._write("clamp_", lambda old: old.clamp(min, max), (min, max), copy_old=True)

    clip_ = clamp_

    def clamp_min_(self, min) -> Tensor:  # noqa: A002 (PyTorch's argument name)
        """In place: ``self = max(self, min)`` (``clamp_(min=min)``)."""
        return self.clamp_(min, None)

    def clamp_max_(self, max) -> Tensor:  # noqa: A002 (PyTorch's argument name)
        """In place: ``self = min(self, max)`` (``clamp_(max=max)``)."""
        return self.clamp_(None, max)

    def masked_fill_(self, mask, value) -> Tensor:
        """In place: ``value`` where the bool ``mask`` (broadcast to this shape) is true (see ``masked_fill``)."""
        return self._write("masked_fill_", lambda old: old.masked_fill(mask, value), (value,))

    # the bool and bitwise operators in place (no gradient): x &= y keeps x's identity and memory
    def __iand__(self, other):
        return self._write("&=", lambda old: old & other, (other,))

    def __ior__(self, other):
        return self._write("|=", lambda old: old | other, (other,))

    def __ixor__(self, other):
        return self._write("^=", lambda old: old ^ other, (other,))

    # ------------------------------------------------------------ the shape, in place
    def unsqueeze_(self, dim: int) -> Tensor:
        """In place: insert a dimension of size 1 at ``dim`` (this tensor's shape changes, its memory stays)."""
        return self._reshape_in_place("unsqueeze_", unsqueezed_shape("unsqueeze_", self.shape, dim))

    def squeeze_(self, dim=None) -> Tensor:
        """In place: drop dimensions of size 1 (only those in ``dim`` if given), as ``squeeze``."""
        return self._reshape_in_place("squeeze_", squeezed_shape("squeeze_", self.shape, dim))

    def _reshape_in_place(self, name: str, shape: tuple) -> Tensor:
        """Give this tensor a new shape over the same memory. Refused where a gradient is recorded
        through it (PyTorch rebases the graph here; this framework's graph holds shapes fixed): use
        the out-of-place form, ``x = x.unsqueeze(0)``. The version is bumped, so a graph that saved
        this tensor with its old shape refuses to backward instead of misreading it."""
        if self.grad_fn is not None or (self.requires_grad and autograd.is_grad_enabled()):
            what = "a leaf that requires grad" if self.grad_fn is None else "the output of a recorded op"
            raise RuntimeError(
                f"{name}: this tensor is {what}, and changing its shape in place would change a recorded "
                f"graph; use the out-of-place form instead (x = x.{name[:-1]}(...)), or detach() it first"
            )
        self.array = self.array.reshape(shape)  # only sizes of 1 come or go: always a view, never a copy
        self._view_index = None  # a write into it can no longer go through its base's index
        self._bump_version()
        return self


def _refuse_repeated_positions(tensor: Tensor, index: ops.indexing.Index) -> None:
    """``x[[0, 0]] = v``: which of v's rows lands is unspecified (NumPy and PyTorch keep the last,
    PyTorch's gradient goes to both), so a write that would be differentiated is refused."""
    positions = ops.indexing.index_read(tensor.xp.arange(tensor.numel()).reshape(tensor.shape), index)
    if int(tensor.xp.unique(positions).size) != int(positions.size):
        raise RuntimeError(
            "__setitem__: the index names some element more than once, so which value lands there is "
            "unspecified and the gradient would be ambiguous; use an index without repeats"
        )


def _scaled(other, alpha, name: str):
    """``alpha * other`` for ``add_``/``sub_``, accepting PyTorch's deprecated ``add_(alpha, other)``."""
    if isinstance(alpha, TensorBase) and not isinstance(other, TensorBase):  # the old form: add_(alpha, other)
        other, alpha = alpha, other
    if isinstance(alpha, TensorBase):
        raise TypeError(f"{name}(other, alpha=1): alpha must be a number, got a tensor of shape {alpha.shape}")
    return other if alpha == 1 else other * alpha


def _in_place(name: str, op: type):
    """``x.name_()`` for a registered op: ``x`` takes the values of ``op(x)`` (see ``Tensor._write``).
    Where the op's backward reads its input (``log``: 1/x), the old values are kept in a copy."""
    apply = op.apply

    def method(self) -> Tensor:
        return self._write(f"{name}_", apply, copy_old=op.saves_inputs)

    method.__name__ = f"{name}_"
    method.__qualname__ = f"{InPlaceMethods.__name__}.{name}_"
    method.__doc__ = f"In place: this tensor takes the values of ``{name}()`` (keeps its identity and memory)."
    return method


for _name, _entry in ops.REGISTRY.items():  # x.exp_(), x.tanh_(), x.relu_(), ... (PyTorch's names)
    setattr(InPlaceMethods, f"{_name}_", _in_place(_name, _entry.op))
del _name, _entry
