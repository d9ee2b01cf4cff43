"""Making tensors: from data (``tensor``), filled (``zeros``, ``full``, ...), random
(``randn``, ``rand``), ranges (``arange``, ``eye``) and ``*_like`` versions.

Every function takes ``dtype``, ``device`` and ``requires_grad`` as PyTorch's do.
Python floats become float32, Python ints int64; NumPy arrays keep their dtype.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from . import backend
from .tensor import Tensor


def _array_from(data, dtype=None, device=None):
    """An array on ``device`` holding ``data`` (copied), with the dtype rules above.

    Without ``device``, host data (Python numbers, lists, NumPy arrays) goes to the default
    device (``tr.set_default_device``) and a device array stays on its device."""
    if isinstance(data, Tensor):
        data = data.array
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


def _size(name: str, dims: tuple, size=None) -> tuple:
    """The shape of a new tensor from ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))``,
    as non-negative ints. Floats and bools are refused, as in PyTorch: ``int(2.5)`` would quietly
    make 2 and ``True`` would make 1."""
    if size is not None:
        if dims:
            raise TypeError(f"{name}: got a size both positionally {dims} and as size={size!r}; pass one")
        dims = (size,)
    if len(dims) == 1 and isinstance(dims[0], tuple | list):
        dims = dims[0]
    try:
        if any(isinstance(n, bool) for n in dims):
            raise TypeError
        shape = tuple(operator.index(n) for n in dims)
    except TypeError:
        raise TypeError(f"{name}: size must be integers, got {dims!r}") from None
    if any(n < 0 for n in shape):
        raise ValueError(f"{name}: size must be non-negative, got {shape}")
    return shape


def _count(name: str, argument: str, value) -> int:
    """``value`` as a non-negative int (a number of steps, of rows), refusing floats and bools."""
    try:
        if isinstance(value, bool):
            raise TypeError
        count = operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: {argument} must be an integer, got {value!r}") from None
    if count < 0:
        raise ValueError(f"{name}: {argument} must be non-negative, got {count}")
    return count


def _number(name: str, argument: str, value):
    """A one-element tensor as the Python number it holds (PyTorch takes 0-d tensors as numbers);
    anything else is returned as it is."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise TypeError(f"{name}: {argument} must be a number or a 0-d tensor, got a tensor of shape {value.shape}")
        return value.item()
    return value


def _filled(fill, shape: tuple, dtype, device, requires_grad) -> Tensor:
    device = backend.normalize_device(device)
    xp = backend.array_module(device)
    dtype = backend.as_dtype(dtype) if dtype is not None else backend.DEFAULT_FLOAT
    with backend.use_device(device):
        return _make(xp.full(shape, fill, dtype=dtype), requires_grad)


def zeros(*shape, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``tr.zeros(2, 3)``, ``tr.zeros((2, 3))`` or ``tr.zeros(size=(2, 3))``."""
    return _filled(0, _size("zeros", shape, size), dtype, device, requires_grad)


def ones(*shape, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (the size given as for ``zeros``)."""
    return _filled(1, _size("ones", shape, size), dtype, device, requires_grad)


def empty(*shape, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """PyTorch's uninitialised tensor, made here as zeros (the size given as for ``zeros``): code that
    fills it (``tr.empty(b, 1, dtype=tr.long).fill_(SOS)``) gets what it would in PyTorch."""
    return _filled(0, _size("empty", shape, size), dtype, device, requires_grad)


def empty_like(other: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``tr.empty`` with ``other``'s shape, dtype and device (zeros, as ``empty``)."""
    return _like(empty, other, dtype, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory where it can, as ``torch.as_tensor``: a tensor of the same
    dtype and device is returned as it is, a NumPy array of the same dtype on the CPU is shared (as
    ``from_numpy``); anything else is copied, as ``tensor`` does."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    same_dtype = dtype is None or (backend.is_array(data) and backend.as_dtype(dtype) == data.dtype)
    same_device = device is None or backend.normalize_device(device) == "cpu"
    if isinstance(data, np.ndarray) and same_dtype and same_device and backend.normalize_device(None) == "cpu":
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` (a tuple, or an int for 1-D) filled with ``fill_value``. Without ``dtype``
    the value decides, as in PyTorch: a bool makes bool, an integer (Python, NumPy or a 0-d integer
    tensor) int64, any other real number float32."""
    fill_value = _number("full", "fill_value", fill_value)
    if isinstance(fill_value, bool):
        natural = backend.bool_
    elif isinstance(fill_value, numbers.Integral):  # np.int32(1) too (NumPy's bool is no Integral)
        natural = backend.DEFAULT_INT
    elif isinstance(fill_value, numbers.Real) or backend.is_numpy_scalar(fill_value) and fill_value.dtype.kind == "b":
        natural = backend.DEFAULT_FLOAT  # PyTorch makes np.bool_(True) 1.0, too
    else:  # None (NumPy would make NaN), strings, complex numbers: nothing a tensor of ours holds
        raise TypeError(f"full: fill_value must be a real number, got {type(fill_value).__name__}")
    return _filled(fill_value, _size("full", (size,)), natural if dtype is None else dtype, device, requires_grad)


def random_generator(name: str, generator, device):
    """The NumPy/CuPy generator to draw from on ``device``: the global one (seeded by ``tr.manual_seed``)
    for ``generator=None``, else that of a ``tr.Generator`` (or a NumPy ``Generator``, on the CPU)."""
    if generator is None:
        return backend.generator(device)
    rng = getattr(generator, "numpy_generator", generator)  # a tr.Generator holds one
    source = getattr(generator, "device", "cpu" if isinstance(generator, np.random.Generator) else None)
    if not (hasattr(rng, "random") and hasattr(rng, "standard_normal")) or source is None:
        raise TypeError(f"{name}: generator must be None or a tr.Generator, got {type(generator).__name__}")
    if backend.normalize_device(source) != backend.normalize_device(device):
        raise ValueError(f"{name}: the generator is on {source}, the tensor on {device}; make tr.Generator({device!r})")
    return rng


def _random(sampler: str, shape: tuple, dtype, device, requires_grad, generator=None) -> Tensor:
    device = backend.normalize_device(device)
    dtype = backend.as_dtype(dtype) if dtype is not None else backend.DEFAULT_FLOAT
    if dtype.kind != "f":
        raise TypeError(f"{sampler}: dtype must be a floating dtype, got {dtype}")
    with backend.use_device(device):
        generator = random_generator(sampler, generator, device)
        draw = generator.standard_normal if sampler == "randn" else generator.random
        array = draw(shape, dtype=dtype if dtype.itemsize >= 4 else backend.float32)
        return _make(array.astype(dtype, copy=False), requires_grad)


def randn(*shape, size=None, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples of the standard normal N(0, 1), from the generator seeded by ``tr.manual_seed``
    or from ``generator`` (a ``tr.Generator``); the size given as for ``zeros``."""
    return _random("randn", _size("randn", shape, size), dtype, device, requires_grad, generator)


def rand(*shape, size=None, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples of the uniform distribution on [0, 1) (the size given as for ``zeros``; ``generator`` as
    for ``randn``)."""
    return _random("rand", _size("rand", shape, size), dtype, device, requires_grad, generator)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 by default), from the generator seeded by
    ``tr.manual_seed`` or from ``generator``. As every draw here, not PyTorch's numbers for a seed."""
    n = _count("randperm", "n", _number("randperm", "n", n))
    device = backend.normalize_device(device)
    dtype = backend.as_dtype(dtype) if dtype is not None else backend.int64
    with backend.use_device(device):
        array = random_generator("randperm", generator, device).permutation(n)
        return _make(array.astype(dtype), requires_grad)


def randint(*args, low=None, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high), int64 by default, in PyTorch's forms:
    ``randint(high, size)``, ``randint(low, high, size)``, or with any of them by keyword
    (``randint(5, size=(3,))``). ``size`` is a tuple (an int is taken in the three-number form)."""
    usage = "expected randint(high, size) or randint(low, high, size)"
    keywords = [name for name, value in (("low", low), ("high", high), ("size", size)) if value is not None]
    rest, size_by_keyword = list(args), size is not None
    # As in PyTorch, positional arguments are read from the right: the last is the size, the one before it high.
    if size is None and rest:
        size = rest.pop()
    if high is None and rest:
        high = rest.pop()
    if low is None:
        low = rest.pop() if rest else 0
    if rest or size is None or high is None:
        raise TypeError(f"randint: {usage}, got {len(args)} positional argument(s) and keywords {keywords}")
    if not size_by_keyword and len(args) == 2 and not isinstance(size, tuple | list):
        # randint(0, 5) is a missing size in PyTorch; drawing five numbers below 0 would be a guess
        raise TypeError(f"randint: {usage}, with size a tuple; got size {size!r}")
    bounds = []
    for name, value in (("low", low), ("high", high)):
        value = _number("randint", name, value)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"randint: {name} must be an integer, got {value!r}")
        bounds.append(int(value))
    if bounds[0] >= bounds[1]:
        raise ValueError(f"randint: expected low < high, got low={bounds[0]}, high={bounds[1]}")
    shape = _size("randint", (size,))
    dtype = backend.as_dtype(dtype) if dtype is not None else backend.int64
    # As PyTorch, refuse a range the dtype cannot hold: the cast below would wrap it around silently.
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype) if dtype.kind in "iu" else None
    lowest, highest = (int(info.min), int(info.max)) if info is not None else (0, 1)  # bool
    if bounds[0] < lowest or bounds[1] - 1 > highest:
        raise ValueError(f"randint: the range [{bounds[0]}, {bounds[1]}) does not fit dtype {dtype}, "
                         f"whose values lie in [{lowest}, {highest}]")
    device = backend.normalize_device(device)
    with backend.use_device(device):
        array = random_generator("randint", generator, device).integers(bounds[0], bounds[1], shape)
        return _make(array.astype(dtype), requires_grad)


def arange(start=None, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, end): ``arange(end)``, ``arange(start, end)``,
    ``arange(start, end, step)`` or by keyword (``arange(end=5)``). Integers only (Python,
    NumPy or 0-d integer tensors) give int64, any float gives float32, as in PyTorch."""
    if end is None:
        if start is None:
            raise TypeError("arange: missing end: expected arange(end), arange(start, end) or arange(start, end, step)")
        start, end = 0, start
    elif start is None:
        start = 0
    start, end, step = (_number("arange", name, v) for name, v in (("start", start), ("end", end), ("step", step)))
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:  # PyTorch refuses, where NumPy would quietly give an empty range
        raise ValueError(f"arange: the bounds are inconsistent with the step's sign: start={start}, end={end}, "
                         f"step={step}")
    if dtype is None:
        is_int = all(isinstance(v, numbers.Integral) for v in (start, end, step))
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
        return _make(backend.array_module(device).linspace(start, end, _count("linspace", "steps", steps))
                     .astype(dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (square if ``m`` is None)."""
    device = backend.normalize_device(device)
    dtype = backend.as_dtype(dtype) if dtype is not None else backend.DEFAULT_FLOAT
    with backend.use_device(device):
        m = None if m is None else _count("eye", "m", m)
        return _make(backend.array_module(device).eye(_count("eye", "n", n), m, dtype=dtype), requires_grad)


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
