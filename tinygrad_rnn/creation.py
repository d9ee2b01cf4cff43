"""Making tensors: from data (``tensor``), filled (``zeros``, ``full``, ...), random
(``randn``, ``rand``), ranges (``arange``, ``eye``) and ``*_like`` versions.

Every function takes ``dtype``, ``device`` and ``requires_grad`` as PyTorch's do.
Python floats become float32, Python ints int64; NumPy arrays keep their dtype.
"""

from __future__ import annotations

from . import backend
from .tensor import Tensor, _shape_arg


def _array_from(data, dtype=None, device=None):
    """An array on ``device`` holding ``data`` (copied), with the dtype rules above.

    Without ``device``, host data (Python numbers, lists, NumPy arrays) goes to the default
    device (``tr.set_default_device``) and a device array stays on its device."""
    if isinstance(data, Tensor):
        data = data.data
    target = backend.normalize_device(device) if device is not None else None
    if backend.is_array(data) or backend.is_numpy_scalar(data):
        source = backend.device_of(data)
        if target is None:
            target = backend.normalize_device(None) if source == "cpu" else source
        array = backend.as_array(backend.to_device(data, target))
        array = array.astype(backend.as_dtype(dtype) if dtype is not None else array.dtype, copy=True)
        return array
    target = target or backend.normalize_device(None)
    xp = backend.array_module(target)
    try:
        array = backend.host_array(data)
    except (TypeError, ValueError) as error:
        raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__}: {error}") from None
    if array.dtype.kind == "O" or array.dtype.kind in "SU":
        raise TypeError(f"tensor: expected numbers or nested lists of numbers, got {type(data).__name__}")
    if dtype is None:  # Python numbers: floats -> float32, ints -> int64, bools -> bool
        dtype = {"b": backend.bool_, "i": backend.DEFAULT_INT, "u": backend.DEFAULT_INT}.get(
            array.dtype.kind, backend.DEFAULT_FLOAT
        )
    with backend.use_device(target):
        return xp.asarray(array, dtype=backend.as_dtype(dtype))


def _make(array, requires_grad: bool) -> Tensor:
    tensor = Tensor._wrap(array)
    return tensor.requires_grad_(True) if requires_grad else tensor


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested lists, an array or a tensor)."""
    return _make(_array_from(data, dtype, device), requires_grad)


def from_numpy(array) -> Tensor:
    """A CPU tensor sharing memory with the NumPy ``array`` (dtype kept)."""
    if not backend.is_array(array) or backend.device_of(array) != "cpu":
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    return Tensor._wrap(array)


def from_dlpack(obj) -> Tensor:
    """A tensor sharing memory with ``obj`` (a NumPy array, CuPy array, PyTorch tensor or
    anything with ``__dlpack__``), on the same device, without a copy."""
    return Tensor._wrap(backend.from_dlpack(obj))


def _filled(fill, shape, dtype, device, requires_grad) -> Tensor:
    device = backend.normalize_device(device)
    xp = backend.array_module(device)
    dtype = backend.as_dtype(dtype) if dtype is not None else backend.DEFAULT_FLOAT
    with backend.use_device(device):
        return _make(xp.full(_shape_arg(shape), fill, dtype=dtype), requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``tr.zeros(2, 3)`` or ``tr.zeros((2, 3))``."""
    return _filled(0, shape, dtype, device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _filled(1, shape, dtype, device, requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (its dtype follows the value if not given)."""
    if dtype is None:
        dtype = backend.python_scalar_dtype(fill_value)
    return _filled(fill_value, (shape,) if isinstance(shape, int) else tuple(shape), dtype, device, requires_grad)


def _random(sampler: str, shape, dtype, device, requires_grad) -> Tensor:
    device = backend.normalize_device(device)
    dtype = backend.as_dtype(dtype) if dtype is not None else backend.DEFAULT_FLOAT
    if dtype.kind != "f":
        raise TypeError(f"{sampler}: dtype must be a floating dtype, got {dtype}")
    with backend.use_device(device):
        generator = backend.generator(device)
        draw = generator.standard_normal if sampler == "randn" else generator.random
        array = draw(_shape_arg(shape), dtype=dtype if dtype.itemsize >= 4 else backend.float32)
        return _make(array.astype(dtype, copy=False), requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples of the standard normal N(0, 1), from the generator seeded by ``tr.manual_seed``."""
    return _random("randn", shape, dtype, device, requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples of the uniform distribution on [0, 1)."""
    return _random("rand", shape, dtype, device, requires_grad)


def randint(low: int, high: int, size, dtype=None, device=None) -> Tensor:
    """Integers drawn uniformly from [low, high), int64 by default."""
    device = backend.normalize_device(device)
    with backend.use_device(device):
        array = backend.generator(device).integers(low, high, _shape_arg((size,) if isinstance(size, int) else size))
        return Tensor._wrap(array.astype(backend.as_dtype(dtype) if dtype is not None else backend.int64))


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, end): ints give int64, any float gives float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = backend.DEFAULT_INT if is_int else backend.DEFAULT_FLOAT
    device = backend.normalize_device(device)
    with backend.use_device(device):
        return _make(backend.array_module(device).arange(start, end, step).astype(backend.as_dtype(dtype)),
                     requires_grad)


def linspace(start: float, end: float, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    device = backend.normalize_device(device)
    dtype = backend.as_dtype(dtype) if dtype is not None else backend.DEFAULT_FLOAT
    with backend.use_device(device):
        return _make(backend.array_module(device).linspace(start, end, steps).astype(dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (square if ``m`` is None)."""
    device = backend.normalize_device(device)
    dtype = backend.as_dtype(dtype) if dtype is not None else backend.DEFAULT_FLOAT
    with backend.use_device(device):
        return _make(backend.array_module(device).eye(n, m, dtype=dtype), requires_grad)


def _like(function, other: Tensor, dtype, device, requires_grad, *args) -> Tensor:
    dtype = other.dtype if dtype is None else dtype
    device = other.device if device is None else device
    return function(*args, other.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def zeros_like(other: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``other``'s shape, dtype and device."""
    return _like(zeros, other, dtype, device, requires_grad)


def ones_like(other: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones with ``other``'s shape, dtype and device."""
    return _like(ones, other, dtype, device, requires_grad)


def full_like(other: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with ``other``'s shape, dtype and device."""
    dtype = other.dtype if dtype is None else dtype
    device = other.device if device is None else device
    return full(other.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(other: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples with ``other``'s shape, dtype and device."""
    return _like(randn, other, dtype, device, requires_grad)


def rand_like(other: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) samples with ``other``'s shape, dtype and device."""
    return _like(rand, other, dtype, device, requires_grad)
