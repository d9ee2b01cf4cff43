"""PyTorch's function forms of tensor arithmetic: ``tr.add(a, b, alpha=2)``, ``tr.sub``, ``tr.mul``,
``tr.div(a, b, rounding_mode="floor")``, ``tr.pow``, ``tr.neg``, ``tr.tril``, ``tr.triu``, ``tr.is_tensor``
(the matrix products ``mm``, ``bmm`` and ``einsum`` are in ``linalg_forms.py``).

Each is made of Tensor operators and methods, so its gradient comes from theirs: ``add`` is
``input + alpha * other``, ``tril`` a ``where`` with a constant mask (a masked-out ``inf`` becomes 0,
not NaN, as in PyTorch). Either operand of the arithmetic may be a Python number, as in
PyTorch (``tr.add(2, x)``, ``tr.pow(2, x)``); it takes part with PyTorch's dtype rules.

Division with ``rounding_mode`` (``"floor"``, ``"trunc"``) rounds, so its derivative is 0 almost
everywhere: as in PyTorch the result stays in the graph (``requires_grad`` like its inputs) and
sends back zeros (``RoundedDiv``).
"""

from __future__ import annotations

import builtins
import numbers

from . import backend, ops
from .autograd import Function, constant
from .ops.broadcast import broadcast_shape, sum_to_shape
from .tensor import Tensor, where


def is_tensor(obj) -> bool:
    """True when ``obj`` is a tensor (a ``tr.Tensor`` or a subclass such as ``nn.Parameter``)."""
    return isinstance(obj, Tensor)


def _operands(name: str, input, other) -> tuple:  # noqa: A002 (PyTorch's argument names)
    """``(input, other)`` as tensors; a number beside a tensor becomes a 0-d tensor with PyTorch's
    rule for numbers (it takes the tensor's dtype, or float32 beside an integer tensor)."""
    for argument, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor | numbers.Number) and not backend.is_numpy_scalar(value):
            raise TypeError(f"{name}: {argument} must be a Tensor or a number, got {type(value).__name__}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        from .creation import tensor  # creation.py sits above this module's imports

        input = tensor(input)
    like = input if isinstance(input, Tensor) else other
    return like._operand(input), like._operand(other)


def _check_alpha(name: str, alpha, a: Tensor, b: Tensor, what: str = "alpha") -> None:
    """PyTorch's rules for a scale factor (``alpha`` of add/sub, ``value`` of addcmul): a number, a bool
    only for a bool result, an integer for integer operands."""
    if isinstance(alpha, Tensor) or not isinstance(alpha, numbers.Number):
        raise TypeError(f"{name}: {what} must be a Python number, got {type(alpha).__name__}")
    kind = backend.operands_result_type(a, b).kind if a.dtype != b.dtype else a.dtype.kind
    if isinstance(alpha, bool) and kind != "b":
        raise TypeError(f"{name}: a bool {what} ({alpha}) is only allowed when the result is bool, here it is {kind!r}")
    if kind in "biu" and not isinstance(alpha, numbers.Integral):
        raise TypeError(f"{name}: for integer (or bool) operands {what} must be an integer, got {alpha!r}")


def _scaled_operands(name: str, input, other, alpha) -> tuple:  # noqa: A002
    """``(input, alpha * other)`` as tensors, for ``add``/``sub`` (``alpha`` checked as PyTorch does)."""
    a, b = _operands(name, input, other)
    if not (type(alpha) is int and alpha == 1):
        _check_alpha(name, alpha, a, b)
        if alpha != 1:
            b = b * alpha
    return a, b


def add(input, other, *, alpha=1) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """``input + alpha * other``, broadcast and promoted as ``+``; either may be a number."""
    a, b = _scaled_operands("add", input, other, alpha)
    return a + b


def sub(input, other, *, alpha=1) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """``input - alpha * other``, broadcast and promoted as ``-``; either may be a number."""
    a, b = _scaled_operands("sub", input, other, alpha)
    return a - b


def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """``input + value · tensor1 · tensor2``, the three broadcast together. One node (``AddCMul``) when
    all three share a floating dtype; otherwise the same sum of ordinary ops, promoted as they are."""
    _tensor("addcmul", input), _tensor("addcmul", tensor1, "tensor1"), _tensor("addcmul", tensor2, "tensor2")
    _check_alpha("addcmul", value, tensor1, tensor2, what="value")
    if input.dtype == tensor1.dtype == tensor2.dtype and input.dtype.kind == "f":
        return ops.AddCMul.apply(input, tensor1, tensor2, value=value)
    return input + value * tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """``input + value · tensor1 / tensor2``, the three broadcast together (floating point only: as in
    PyTorch, integer operands are refused rather than divided with rounding)."""
    _tensor("addcdiv", input), _tensor("addcdiv", tensor1, "tensor1"), _tensor("addcdiv", tensor2, "tensor2")
    if tensor1.dtype.kind != "f" and tensor2.dtype.kind != "f":
        raise TypeError(f"addcdiv: integer division is not supported (tensor1 and tensor2 are {tensor1.dtype} and "
                        f"{tensor2.dtype}), as in PyTorch; convert them first, e.g. tensor1.float()")
    _check_alpha("addcdiv", value, tensor1, tensor2, what="value")
    return input + value * tensor1 / tensor2


def mul(input, other) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """``input * other``, broadcast and promoted as ``*``; either may be a number."""
    a, b = _operands("mul", input, other)
    return a * b


def pow(input, exponent) -> Tensor:  # noqa: A001, A002 (PyTorch's names)
    """``input ** exponent``: a tensor to a number or tensor power, or a number to a tensor power
    (``tr.pow(2, x)``)."""
    if isinstance(input, Tensor):
        if not isinstance(exponent, Tensor | numbers.Number) and not backend.is_numpy_scalar(exponent):
            raise TypeError(f"pow: exponent must be a Tensor or a number, got {type(exponent).__name__}")
        return input**exponent
    if isinstance(exponent, Tensor):
        if not isinstance(input, numbers.Number) and not backend.is_numpy_scalar(input):
            raise TypeError(f"pow: input must be a Tensor or a number, got {type(input).__name__}")
        return input**exponent  # Tensor.__rpow__
    raise TypeError(f"pow: expected a Tensor as input or exponent, got {type(input).__name__} and "
                    f"{type(exponent).__name__}")


def neg(input) -> Tensor:  # noqa: A002 (PyTorch's argument name)
    """``-input``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"neg: input must be a Tensor, got {type(input).__name__}")
    return -input


_ROUNDING_MODES = (None, "trunc", "floor")


def div(input, other, *, rounding_mode=None) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """``input / other``. With ``rounding_mode=None`` true division (integers give float32);
    ``"trunc"`` rounds the quotient towards zero and ``"floor"`` down, keeping the promoted dtype
    (integers stay integers; an integer divided by 0 raises ``ZeroDivisionError``, as in PyTorch).
    The rounded forms have derivative 0: the result is in the graph and sends back zeros."""
    if rounding_mode not in _ROUNDING_MODES:
        raise ValueError(f"div: rounding_mode must be one of None, 'trunc' or 'floor', got {rounding_mode!r}")
    a, b = _operands("div", input, other)
    if rounding_mode is None:
        return a / b
    common = a.dtype if a.dtype == b.dtype else backend.operands_result_type(a, b)
    if common.kind == "b":
        raise TypeError(f"div: rounding_mode={rounding_mode!r} is not defined for two bool operands")
    return RoundedDiv.apply(a.to(common), b.to(common), mode=rounding_mode)


class RoundedDiv(Function):
    """``floor(a / b)`` or ``trunc(a / b)``; d/da = d/db = 0 (almost everywhere), as in PyTorch."""

    saves_inputs = False
    saves_output = False

    def forward(self, a, b, mode):
        if a.shape != b.shape:
            broadcast_shape("div", a.shape, b.shape)
        xp = self.xp
        if a.dtype.kind in "iu":
            if bool(xp.any(b == 0)):
                raise ZeroDivisionError(f"div: integer division by zero (rounding_mode={mode!r})")
            quotient = xp.floor_divide(a, b)
            if mode == "trunc":  # floor is one below trunc where the signs differ and it does not divide
                quotient = quotient + (((a % b) != 0) & ((a < 0) != (b < 0))).astype(quotient.dtype)
            return quotient
        with backend.quiet_math(xp):
            return xp.floor_divide(a, b) if mode == "floor" else xp.trunc(a / b)

    def backward(self, grad):
        a, b = self.inputs
        zeros = grad.xp.zeros
        return constant(zeros(a.shape, dtype=a.dtype)), constant(zeros(b.shape, dtype=b.dtype))


# ---------------------------------------------------------------- triangles
def _triangle(name: str, input, diagonal, lower: bool) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"{name}: input must have at least 2 dimensions, got shape {input.shape}")
    if isinstance(diagonal, bool) or not isinstance(diagonal, numbers.Integral):
        raise TypeError(f"{name}: diagonal must be an int, got {type(diagonal).__name__} {diagonal!r}")
    rows, columns = input.shape[-2:]
    xp = input.xp
    with backend.device_of_array_context(input.array):
        kept = xp.tri(rows, columns, k=int(diagonal) if lower else int(diagonal) - 1, dtype=bool)
        if not lower:
            kept = ~kept
        zero = xp.zeros((), dtype=input.dtype)
    return where(constant(kept), input, constant(zero))  # where, not a product: a masked-out inf gives 0


def tril(input, diagonal: int = 0) -> Tensor:  # noqa: A002 (PyTorch's argument name)
    """The lower triangle of the last two dimensions: elements ``(i, j)`` with ``j <= i + diagonal``
    kept, the rest 0 (``diagonal`` > 0 keeps diagonals above the main one, < 0 drops some below)."""
    return _triangle("tril", input, diagonal, lower=True)


def triu(input, diagonal: int = 0) -> Tensor:  # noqa: A002 (PyTorch's argument name)
    """The upper triangle of the last two dimensions: elements ``(i, j)`` with ``j >= i + diagonal``
    kept, the rest 0."""
    return _triangle("triu", input, diagonal, lower=False)


# ---------------------------------------------------------------- more of PyTorch's function forms
def max(input, *args, **kwargs):  # noqa: A001, A002 (PyTorch's names)
    """``tr.max(x)`` (the largest value), ``tr.max(x, dim)`` (``(values, indices)``) or, with a tensor
    as the second argument, ``tr.max(a, b)``: the elementwise ``maximum``, as in PyTorch."""
    return _reduction_or_elementwise("max", "maximum", input, args, kwargs)


def min(input, *args, **kwargs):  # noqa: A001, A002 (PyTorch's names)
    """``tr.min(x)``, ``tr.min(x, dim)`` or the elementwise ``tr.min(a, b)`` (``minimum``), as ``max``."""
    return _reduction_or_elementwise("min", "minimum", input, args, kwargs)


def _reduction_or_elementwise(name: str, elementwise: str, input, args: tuple, kwargs: dict):  # noqa: A002
    """``input.<name>(*args, **kwargs)``, or ``input.<elementwise>(other)`` when the second argument is a tensor."""
    input = _tensor(name, input)
    other = args[0] if args else kwargs.pop("other", None)
    if isinstance(other, Tensor):
        if len(args) > 1 or kwargs:
            raise TypeError(f"{name}: tr.{name}(input, other) takes no further arguments")
        return getattr(input, elementwise)(other)
    return getattr(input, name)(*args, **kwargs)


def _tensor(name: str, value, argument: str = "input") -> Tensor:
    """``value``, checked to be a tensor: ``argument`` of function ``name``."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}: {argument} must be a Tensor, got {type(value).__name__}")
    return value


def diag(input, diagonal: int = 0) -> Tensor:  # noqa: A002 (PyTorch's argument name)
    """A 1-D tensor's values on the ``diagonal`` of a square matrix (zeros elsewhere), or a 2-D tensor's
    ``diagonal`` as a 1-D tensor (0 the main one, > 0 above it, < 0 below), as ``torch.diag``.
    Differentiable: made of indexing and ``where``."""
    input = _tensor("diag", input)
    if isinstance(diagonal, bool) or not isinstance(diagonal, numbers.Integral):
        raise TypeError(f"diag: diagonal must be an int, got {diagonal!r}")
    k, xp = int(diagonal), input.xp
    with backend.device_of_array_context(input.array):
        if input.ndim == 1:
            n = input.shape[0] + abs(k)
            rows = xp.arange(input.shape[0]) + (0 if k >= 0 else -k)
            mask = xp.zeros((n, n), dtype=bool)
            mask[rows, rows + k] = True
            columns = xp.zeros((n, n), dtype=backend.int64)  # which value each place of the diagonal takes
            columns[rows, rows + k] = xp.arange(input.shape[0])
            zero = xp.zeros((), dtype=input.dtype)
            return where(constant(mask), input[constant(columns)], constant(zero))
        if input.ndim == 2:
            rows, columns = input.shape
            start_row, start_column = (0, k) if k >= 0 else (-k, 0)
            length = builtins.max(0, builtins.min(rows - start_row, columns - start_column))
            index = xp.arange(length)
            return input[constant(index + start_row), constant(index + start_column)]
    raise ValueError(f"diag: input must be 1-D or 2-D, got shape {input.shape}")


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:  # noqa: A002
    """True when ``|input - other| <= atol + rtol * |other|`` everywhere (broadcast), as ``torch.allclose``."""
    a, b = _tensor("allclose", input), _tensor("allclose", other, "other")
    return bool(a.xp.allclose(a.array, b.array, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:  # noqa: A002 (PyTorch's argument name)
    """True when both tensors have the same shape and the same values, as ``torch.equal``."""
    a, b = _tensor("equal", input), _tensor("equal", other, "other")
    return a.shape == b.shape and bool(a.xp.array_equal(a.array, b.array))


def remainder(input, other) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """``input % other`` with the sign of ``other`` (Python's and PyTorch's rule); either may be a number.
    Differentiable as in PyTorch: d/dinput = 1, d/dother = -floor(input / other)."""
    a, b = _operands("remainder", input, other)
    common = a.dtype if a.dtype == b.dtype else backend.operands_result_type(a, b)
    if common.kind == "b":
        raise TypeError("remainder: not defined for two bool operands")
    return Remainder.apply(a.to(common), b.to(common))


class Remainder(Function):
    """``a - b * floor(a / b)`` computed by ``xp.remainder``; d/da = 1, d/db = -floor(a / b)."""

    saves_output = False

    def forward(self, a, b):
        if a.shape != b.shape:
            broadcast_shape("remainder", a.shape, b.shape)
        if a.dtype.kind in "iu" and bool(self.xp.any(b == 0)):
            raise ZeroDivisionError("remainder: integer division by zero")
        with backend.quiet_math(self.xp):
            return self.xp.remainder(a, b)

    def backward(self, grad):
        a, b = self.inputs
        return sum_to_shape(grad, a.shape), sum_to_shape(-grad * div(a, b, rounding_mode="floor"), b.shape)

