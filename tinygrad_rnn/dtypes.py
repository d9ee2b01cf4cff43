"""The dtype policy, PyTorch's: which dtypes exist, what dtype a Python number gets, and what
dtype an op on two operands computes in (``promote_types``, ``operands_result_type``).

Our dtypes *are* NumPy dtypes (CuPy uses the same ones), so this module needs NumPy only.
``backend`` re-exports every name here: code above it writes ``backend.float32``.
"""

from __future__ import annotations

import numpy as np

# Our dtypes *are* NumPy dtypes, so ``x.dtype == tr.float32`` and
# ``x.dtype == np.float32`` both hold and nothing needs translating.
float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

DEFAULT_FLOAT = float32  # what Python floats and random tensors become
DEFAULT_INT = int64  # what Python ints become (as in PyTorch)


def as_dtype(dtype) -> np.dtype:
    """Turn ``tr.float32``, ``np.float32``, ``"float32"`` or ``float`` into a NumPy dtype."""
    if dtype is float:
        return DEFAULT_FLOAT
    if dtype is int:
        return DEFAULT_INT
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: expected a dtype such as tr.float32 or 'float64', got {dtype!r}") from None


def is_floating(dtype) -> bool:
    """True for float16/32/64: the dtypes a gradient can flow through."""
    return np.dtype(dtype).kind == "f"


def can_cast_in_place(result_dtype, target_dtype) -> bool:
    """Whether an in-place op may store a result of ``result_dtype`` into a ``target_dtype`` tensor:
    within a kind or towards a higher kind (float64 into float32, int into float), never float
    into int or int into bool, as in PyTorch."""
    return bool(np.can_cast(result_dtype, target_dtype, casting="same_kind"))


def python_scalar_dtype(value) -> np.dtype:
    """The dtype a Python number or nested list of them becomes: bool, int64 or float32."""
    if isinstance(value, bool | np.bool_):
        return bool_
    if isinstance(value, int):
        return DEFAULT_INT
    return DEFAULT_FLOAT


def scalar_operand_dtype(value, tensor_dtype: np.dtype) -> np.dtype:
    """The dtype a Python scalar takes when it meets a tensor in an op.

    The tensor's dtype wins (``float32_tensor * 2`` stays float32), except that a float
    meeting an integer or bool tensor makes the default float, and an int meeting a
    bool tensor makes int64, as in PyTorch.
    """
    kind = tensor_dtype.kind
    if isinstance(value, bool):
        return tensor_dtype
    if isinstance(value, int):
        return DEFAULT_INT if kind == "b" else tensor_dtype
    if isinstance(value, float):
        return tensor_dtype if kind in "fc" else DEFAULT_FLOAT
    raise TypeError(f"expected a Tensor or a Python number, got {type(value).__name__}")


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # PyTorch's kinds: bool < integer < floating < complex
_UNSIGNED_WIDE = (np.dtype("uint16"), np.dtype("uint32"), np.dtype("uint64"))


def _category(dtype: np.dtype) -> int:
    return _CATEGORY[dtype.kind]


def promote_types(a, b) -> np.dtype:
    """PyTorch's ``torch.promote_types``: the smallest dtype both ``a`` and ``b`` fit in.

    Within a category (two ints, two floats) and for bool with anything, that is NumPy's
    answer. Across integer and floating it is not: PyTorch keeps the float (int32 with
    float32 is float32, int64 with float16 is float16) where NumPy widens to float64.
    """
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    if {_category(a), _category(b)} == {1, 2}:  # an integer meets a float: the float wins as it is
        return a if a.kind == "f" else b
    if _category(a) == _category(b) == 1 and (a in _UNSIGNED_WIDE or b in _UNSIGNED_WIDE):
        # NumPy would answer (uint64 with int64 is float64); PyTorch refuses, so do we
        raise TypeError(f"promote_types: PyTorch does not promote {a} with {b}; cast one of them first")
    return np.result_type(a, b)


def result_type(*dtypes) -> np.dtype:
    """``promote_types`` folded over operands of equal standing (the inputs of ``tr.cat``)."""
    result = np.dtype(dtypes[0])
    for dtype in dtypes[1:]:
        result = promote_types(result, dtype)
    return result


def operands_result_type(*operands) -> np.dtype:
    """The dtype PyTorch computes an op on ``operands`` in (``torch.result_type``); each operand is
    anything with ``.dtype`` and ``.ndim`` (a tensor or an array).

    Dimensioned operands decide. A 0-d operand counts only when it is of a higher category
    (bool < integer < floating) than all of them: float32 with a 0-d float64 stays float32,
    int32 with a 0-d float64 is float64, bool with a 0-d uint8 is uint8. A Python scalar reaches
    here as a 0-d operand already typed by ``scalar_operand_dtype``, which gives the same answer
    as PyTorch's rule for wrapped numbers.
    """
    dimensioned = [o.dtype for o in operands if o.ndim > 0]
    zero_dim = [o.dtype for o in operands if o.ndim == 0]
    if not dimensioned or not zero_dim:
        return result_type(*(dimensioned or zero_dim))
    dim_result, zero_result = result_type(*dimensioned), result_type(*zero_dim)
    if _category(zero_result) <= _category(dim_result):
        return dim_result
    return promote_types(dim_result, zero_result)


def get_default_dtype() -> np.dtype:
    """The dtype Python floats and random tensors become: float32, as PyTorch's default."""
    return DEFAULT_FLOAT


def set_default_dtype(dtype) -> None:
    """Accepts only float32, the default it already is; any other dtype raises, saying what to use."""
    if as_dtype(dtype) != DEFAULT_FLOAT:
        raise NotImplementedError(
            f"set_default_dtype({dtype}): tinygrad_rnn's default float dtype is fixed at float32; make float64 "
            "tensors with dtype=tr.float64 (or x.double()) and float64 models with model.double()"
        )


finfo, iinfo = np.finfo, np.iinfo  # tr.finfo(tr.float32).eps: our dtypes are NumPy's
