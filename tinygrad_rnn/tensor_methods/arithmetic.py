"""Elementwise arithmetic: the operators (``+ - * / ** @``, reflected and not), comparisons, the
bool and bitwise operators (``& | ^ ~``, ``logical_and``, ...), ``where``, ``clip``/``maximum``/
``minimum``, and the elementwise functions of ``ops.REGISTRY`` (``exp``, ``tanh``, ...), which are
made here from the registry rather than written out.

Every binary operator comes down to ``_binary``: turn a Python number into a tensor of this
tensor's dtype (``_operand``), cast both operands to the dtype PyTorch would compute in
(``_promoted``), and apply the op. The common case, two tensors of one dtype, casts nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backend, ops
from .base import TensorBase

if TYPE_CHECKING:  # for annotations only: at run time these modules sit below tensor.py
    from ..tensor import Tensor


class ArithmeticMethods(TensorBase):
    """The elementwise methods and operators of ``Tensor`` (see the module docstring)."""

    __slots__ = ()
    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected operator
    __hash__ = object.__hash__  # == is elementwise (it would unset __hash__), yet tensors stay usable as dict keys

    # ------------------------------------------------------------ operands
    def _operand(self, other) -> Tensor:
        """``other`` as a tensor; a Python scalar takes this tensor's dtype."""
        if isinstance(other, TensorBase):
            return other
        if backend.is_numpy_scalar(other):
            other = other.item()
        if isinstance(other, bool | int | float):
            dtype = backend.scalar_operand_dtype(other, self.dtype)
            with backend.device_of_array_context(self.array):
                return self._wrap(self.xp.asarray(other, dtype=dtype))
        if backend.is_array(other):
            return self._wrap(other)
        raise TypeError(f"expected a Tensor, an array or a Python number, got {type(other).__name__}")

    def _promoted(self, other, reflected: bool = False, floating: bool = False) -> tuple:
        """``(self, other)`` (swapped if ``reflected``) cast to the dtype PyTorch computes in
        (``backend.operands_result_type``: float32 with a 0-d float64 stays float32, an int
        tensor with a float makes that float). ``floating``: an integer result becomes the
        default float (true division)."""
        other = self._operand(other)
        a, b = (other, self) if reflected else (self, other)
        if a.dtype == b.dtype and (a.dtype.kind == "f" or not floating):
            return a, b  # the common case, kept cheap: nothing to cast
        common = a.dtype if a.dtype == b.dtype else backend.operands_result_type(a, b)
        if floating and common.kind != "f":
            common = backend.DEFAULT_FLOAT
        return a.to(common), b.to(common)

    def _binary(self, op, other, reflected: bool = False, floating: bool = False) -> Tensor:
        if isinstance(other, TensorBase):  # the common case, two float tensors of one dtype, decided first
            dtype = self.array.dtype
            if dtype.kind == "f" and other.array.dtype == dtype:
                return op.apply(other, self) if reflected else op.apply(self, other)
        return op.apply(*self._promoted(other, reflected, floating))

    # ------------------------------------------------------------ operators
    def __add__(self, other):
        return self._binary(ops.Add, other)

    def __radd__(self, other):
        return self._binary(ops.Add, other, reflected=True)

    def __sub__(self, other):
        return self._binary(ops.Sub, other)

    def __rsub__(self, other):
        return self._binary(ops.Sub, other, reflected=True)

    def __mul__(self, other):
        return self._binary(ops.Mul, other)

    def __rmul__(self, other):
        return self._binary(ops.Mul, other, reflected=True)

    def __truediv__(self, other):
        return self._binary(ops.Div, other, floating=True)  # true division of integers gives floats

    def __rtruediv__(self, other):
        return self._binary(ops.Div, other, reflected=True, floating=True)

    def __pow__(self, exponent):
        if backend.is_numpy_scalar(exponent):
            exponent = exponent.item()
        if isinstance(exponent, int | float) and not isinstance(exponent, bool):
            base = self.float() if isinstance(exponent, float) and self.dtype.kind in "biu" else self
            return ops.PowScalar.apply(base, exponent=exponent)  # x**2: no tensor, no gradient, for the 2
        return self._binary(ops.Pow, exponent)

    def __rpow__(self, base):
        return self._binary(ops.Pow, base, reflected=True)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __abs__(self):
        return self.abs()

    def __matmul__(self, other):
        return ops.MatMul.apply(self, self._operand(other))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(self._operand(other), self)

    # the operators by name, as PyTorch spells them
    def matmul(self, other) -> Tensor:
        """Matrix product ``self @ other`` (1-D, 2-D or batched, as NumPy's matmul)."""
        return self @ other

    def add(self, other, *, alpha=1) -> Tensor:
        """``self + alpha * other`` (``tr.add``)."""
        if type(alpha) is int and alpha == 1:
            return self + other
        from ..functional_forms import add  # it sits above this module

        return add(self, other, alpha=alpha)

    def addcmul(self, tensor1, tensor2, *, value=1) -> Tensor:
        """``self + value · tensor1 · tensor2`` (``tr.addcmul``; one node for tensors of one float dtype)."""
        from ..functional_forms import addcmul  # it sits above this module

        return addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1) -> Tensor:
        """``self + value · tensor1 / tensor2`` (``tr.addcdiv``)."""
        from ..functional_forms import addcdiv  # it sits above this module

        return addcdiv(self, tensor1, tensor2, value=value)

    def sub(self, other, *, alpha=1) -> Tensor:
        """``self - alpha * other`` (``tr.sub``)."""
        if type(alpha) is int and alpha == 1:
            return self - other
        from ..functional_forms import sub  # it sits above this module

        return sub(self, other, alpha=alpha)

    def __floordiv__(self, other):
        return self.floor_divide(other)

    def __rfloordiv__(self, other):
        from ..functional_forms import div  # it sits above this module

        return div(other, self, rounding_mode="floor")

    def __mod__(self, other):
        return self.remainder(other)

    def __rmod__(self, other):
        from ..functional_forms import remainder  # it sits above this module

        return remainder(other, self)

    def floor_divide(self, other) -> Tensor:
        """``self // other``: the quotient rounded down, as ``tr.div(self, other, rounding_mode="floor")``."""
        from ..functional_forms import div  # it sits above this module

        return div(self, other, rounding_mode="floor")

    def remainder(self, other) -> Tensor:
        """``self % other``, with the sign of ``other`` as in Python and PyTorch (``tr.remainder``)."""
        from ..functional_forms import remainder  # it sits above this module

        return remainder(self, other)

    def mul(self, other) -> Tensor:
        """``self * other``."""
        return self * other

    def div(self, other) -> Tensor:
        """``self / other``."""
        return self / other

    def pow(self, exponent) -> Tensor:
        """``self ** exponent``."""
        return self**exponent

    # ------------------------------------------------------------ comparisons (no gradient)
    def _compare(self, function, other) -> Tensor:
        # compared in the promoted dtype, as PyTorch does: float32 == 0-d float64 compares in float32
        a, b = self._promoted(other)
        if a.shape != b.shape:
            ops.broadcast.broadcast_shape("comparison", a.shape, b.shape)
        return self._wrap(function(a.array, b.array))

    def __lt__(self, other):
        return self._compare(self.xp.less, other)

    def __le__(self, other):
        return self._compare(self.xp.less_equal, other)

    def __gt__(self, other):
        return self._compare(self.xp.greater, other)

    def __ge__(self, other):
        return self._compare(self.xp.greater_equal, other)

    def __eq__(self, other):
        return self._compare(self.xp.equal, other)

    def __ne__(self, other):
        return self._compare(self.xp.not_equal, other)

    def eq(self, other) -> Tensor:
        """Elementwise ``self == other`` as a bool tensor."""
        return self == other

    def ne(self, other) -> Tensor:
        """Elementwise ``self != other`` as a bool tensor."""
        return self != other

    def lt(self, other) -> Tensor:
        """Elementwise ``self < other`` as a bool tensor."""
        return self < other

    def le(self, other) -> Tensor:
        """Elementwise ``self <= other`` as a bool tensor."""
        return self <= other

    def gt(self, other) -> Tensor:
        """Elementwise ``self > other`` as a bool tensor."""
        return self > other

    def ge(self, other) -> Tensor:
        """Elementwise ``self >= other`` as a bool tensor."""
        return self >= other

    def any(self) -> Tensor:
        """True if any element is nonzero (a bool tensor)."""
        return self._wrap(self.xp.any(self.array))

    def all(self) -> Tensor:
        """True if every element is nonzero (a bool tensor)."""
        return self._wrap(self.xp.all(self.array))

    def isfinite(self) -> Tensor:
        """Elementwise: not inf and not NaN."""
        return self._wrap(self.xp.isfinite(self.array))

    def isnan(self) -> Tensor:
        """Elementwise: is NaN."""
        return self._wrap(self.xp.isnan(self.array))

    # ------------------------------------------------------------ bool and bitwise (no gradient)
    def _bitwise(self, name: str, function, other, reflected: bool = False) -> Tensor:
        a, b = self._promoted(other, reflected)
        if a.dtype.kind not in "biu":
            raise TypeError(f"{name}: expects bool or integer tensors, got dtype {a.dtype} (use logical_{name[2:-2]})")
        if a.shape != b.shape:
            ops.broadcast.broadcast_shape(name, a.shape, b.shape)
        return self._wrap(function(a.array, b.array))

    def __and__(self, other):
        return self._bitwise("__and__", self.xp.bitwise_and, other)

    def __rand__(self, other):
        return self._bitwise("__and__", self.xp.bitwise_and, other, reflected=True)

    def __or__(self, other):
        return self._bitwise("__or__", self.xp.bitwise_or, other)

    def __ror__(self, other):
        return self._bitwise("__or__", self.xp.bitwise_or, other, reflected=True)

    def __xor__(self, other):
        return self._bitwise("__xor__", self.xp.bitwise_xor, other)

    def __rxor__(self, other):
        return self._bitwise("__xor__", self.xp.bitwise_xor, other, reflected=True)

    def __invert__(self):
        if self.dtype.kind not in "biu":
            raise TypeError(f"~: expects a bool or integer tensor, got dtype {self.dtype} (use logical_not)")
        return self._wrap(self.xp.invert(self.array))  # logical not for bool, bitwise for integers

    def _logical(self, name: str, function, other) -> Tensor:
        other = self._operand(other)
        if self.shape != other.shape:
            ops.broadcast.broadcast_shape(name, self.shape, other.shape)
        return self._wrap(function(self.array, other.array))

    def logical_and(self, other) -> Tensor:
        """Elementwise ``self and other`` (nonzero is true) as a bool tensor, for any dtypes. No gradient."""
        return self._logical("logical_and", self.xp.logical_and, other)

    def logical_or(self, other) -> Tensor:
        """Elementwise ``self or other`` (nonzero is true) as a bool tensor. No gradient."""
        return self._logical("logical_or", self.xp.logical_or, other)

    def logical_xor(self, other) -> Tensor:
        """Elementwise: exactly one of ``self`` and ``other`` is nonzero, as a bool tensor. No gradient."""
        return self._logical("logical_xor", self.xp.logical_xor, other)

    def logical_not(self) -> Tensor:
        """Elementwise ``not self`` (zero is false) as a bool tensor. No gradient."""
        return self._wrap(self.xp.logical_not(self.array))

    # ------------------------------------------------------------ elementwise functions with arguments
    def clip(self, min=None, max=None) -> Tensor:  # noqa: A002 (PyTorch's argument names)
        """Limit values to [min, max]; either bound may be None. The bounds may be numbers or tensors;
        tensor bounds broadcast with ``self`` (the result has the broadcast shape and the promoted
        dtype) and get a gradient where they bind, as in PyTorch (see ``ops.ClampTensors``). Where
        min > max the result is max."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        if not isinstance(min, TensorBase) and not isinstance(max, TensorBase):
            return ops.Clip.apply(self, low=min, high=max)
        bounds = [self._operand(b) for b in (min, max) if b is not None]
        common = backend.operands_result_type(self, *bounds)
        operands = [t if t.dtype == common else t.to(common) for t in (self, *bounds)]
        return ops.ClampTensors.apply(*operands, has_low=min is not None, has_high=max is not None)

    clamp = clip

    def clamp_min(self, min) -> Tensor:  # noqa: A002 (PyTorch's argument name)
        """Limit values from below: ``max(x, min)``, ``x.clamp(min=min)`` (a number or a tensor)."""
        return self.clip(min, None)

    def clamp_max(self, max) -> Tensor:  # noqa: A002 (PyTorch's argument name)
        """Limit values from above: ``min(x, max)``, ``x.clamp(max=max)`` (a number or a tensor)."""
        return self.clip(None, max)

    def maximum(self, other) -> Tensor:
        """Elementwise larger of ``self`` and ``other``."""
        return self._binary(ops.Maximum, other)

    def minimum(self, other) -> Tensor:
        """Elementwise smaller of ``self`` and ``other``."""
        return self._binary(ops.Minimum, other)

    def where(self, condition, other) -> Tensor:
        """``self`` where ``condition`` holds, else ``other`` (PyTorch's method form)."""
        return where(condition, self, other)


def where(condition, input, other) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """``input`` where ``condition`` is true, else ``other``; the two may be tensors or numbers."""
    like = input if isinstance(input, TensorBase) else other
    if not isinstance(like, TensorBase):
        raise TypeError("where: at least one of input and other must be a Tensor")
    condition = condition if isinstance(condition, TensorBase) else like._operand(condition)
    if condition.dtype != backend.bool_:
        condition = condition.bool()
    a, b = like._operand(input), like._operand(other)
    if a.dtype != b.dtype:  # PyTorch's promotion: a 0-d branch does not widen a dimensioned one of its kind
        common = backend.operands_result_type(a, b)
        a, b = a.to(common), b.to(common)
    return ops.Where.apply(condition, a, b)


# ---------------------------------------------------------------- the registered functions
def _method_of(name: str, op: type):
    """``x.name()`` for a registered op: ``op.apply(x)``, with the op's docstring.

    As cheap as a hand-written ``return ops.Exp.apply(self)``: ``apply`` is looked up once,
    here, not on every call, and nothing wraps the call.
    """
    apply = op.apply

    def method(self) -> Tensor:
        return apply(self)

    method.__name__ = name
    method.__qualname__ = f"{ArithmeticMethods.__name__}.{name}"
    method.__doc__ = op.__doc__
    return method


for _name, _entry in ops.REGISTRY.items():  # x.exp(), x.tanh(), x.neg(), ... (see ops/registry.py)
    if hasattr(ArithmeticMethods, _name):
        raise TypeError(f"ops.REGISTRY: {_name!r} ({_entry.op.__name__}) would replace a hand-written Tensor method")
    setattr(ArithmeticMethods, _name, _method_of(_name, _entry.op))
del _name, _entry
