"""A NumPy-backed array backend that is as strict as CuPy, for tests (device ``"strict"``).

CuPy arrays live on the GPU, so CuPy refuses what would silently copy them to the
host: ``np.asarray(gpu_array)``, NumPy functions applied to them, mixing them with
NumPy arrays in one expression. Code that is careless about this works on NumPy
and breaks on the GPU. ``StrictArray`` wraps a NumPy array and refuses the same
things, so the CPU-only test suite catches that class of bug:

- ``np.asarray(x)``, ``np.exp(x)``, ``np.concatenate([x, ...])`` raise ``TypeError``;
- ``x + numpy_array`` raises ``TypeError`` (mixing devices); Python and NumPy scalars are fine;
- ``float(x)``/``int(x)``/``bool(x)`` work only for one element, as in CuPy;
- the array module (``strict_module``) has NumPy's functions, taking and returning
  ``StrictArray``; only ``asarray``/``array`` accept host arrays (an explicit copy to the
  device, as ``cupy.asarray``), and ``x.get()`` copies back, as in CuPy.
"""

from __future__ import annotations

import numpy as np

_EXPLICIT_TRANSFERS = {"asarray", "array", "ascontiguousarray"}


def _refuse_host(where: str):
    raise TypeError(
        f"{where}: a NumPy (host) array met a 'strict' device array; like CuPy, the strict backend "
        "does not mix host and device arrays implicitly (move it with tr.tensor(..., device=...) or .to())"
    )


def _unwrap(value, where: str, allow_host: bool = False):
    """The NumPy arrays inside ``value`` (recursing into lists and tuples)."""
    if isinstance(value, StrictArray):
        return value._array
    if isinstance(value, np.ndarray) and not allow_host:
        _refuse_host(where)
    if isinstance(value, list | tuple):
        return type(value)(_unwrap(v, where, allow_host) for v in value)
    return value


def _wrap(value):
    """Results back into ``StrictArray`` (arrays and NumPy scalars, as CuPy returns 0-d arrays)."""
    if isinstance(value, np.ndarray | np.generic) and not isinstance(value, np.dtype):
        return StrictArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _wrapped_call(function, name: str, allow_host: bool = False):
    def call(*args, **kwargs):
        args = _unwrap(args, name, allow_host)
        kwargs = {k: _unwrap(v, name, allow_host) for k, v in kwargs.items()}
        return _wrap(function(*args, **kwargs))

    call.__name__ = name
    return call


class StrictArray:
    """A NumPy array that behaves like a CuPy array where implicit host use is concerned."""

    __slots__ = ("_array",)
    __array_priority__ = 1000
    host_reads = 0  # how many times values were read back to the host (a GPU would synchronise)

    def __init__(self, array: np.ndarray):
        self._array = array

    # ---------------------------------------------------------------- refusals
    def __array__(self, *args, **kwargs):
        raise TypeError(
            "implicit conversion of a 'strict' device array to a NumPy array is not allowed "
            "(as in CuPy); use .get() or Tensor.numpy()"
        )

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise TypeError(f"numpy.{ufunc.__name__} called on a 'strict' device array; use the device's array module")

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"numpy.{func.__name__} called on a 'strict' device array; use the device's array module")

    def _scalar(self, kind):
        StrictArray.host_reads += 1
        if self._array.size != 1:
            raise TypeError(f"only one-element arrays convert to Python {kind.__name__}, got shape {self.shape}")
        return kind(self._array.reshape(()).item())

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __bool__(self):
        return self._scalar(bool)

    def __index__(self):
        if self._array.dtype.kind not in "iu" or self._array.ndim != 0:
            raise TypeError("only 0-d integer arrays can be used as an index")
        return int(self._array)

    def __iter__(self):
        return (StrictArray(np.asarray(row)) for row in self._array)

    # ---------------------------------------------------------------- what CuPy arrays have
    def get(self) -> np.ndarray:
        """A host (NumPy) copy, as ``cupy.ndarray.get()``."""
        StrictArray.host_reads += 1
        return self._array.copy()

    def __getattr__(self, name: str):
        if name.startswith("__"):  # __array_interface__, __array_struct__, __dlpack__: host doors stay shut
            raise AttributeError(name)
        if name in ("item", "tolist"):  # values to Python: a read back to the host
            StrictArray.host_reads += 1
        attribute = getattr(self._array, name)
        return _wrapped_call(attribute, name) if callable(attribute) else _wrap(attribute)

    @property
    def shape(self) -> tuple:
        return self._array.shape

    @property
    def ndim(self) -> int:
        return self._array.ndim

    @property
    def dtype(self):
        return self._array.dtype

    @property
    def size(self) -> int:
        return self._array.size

    @property
    def T(self):
        return StrictArray(self._array.T)

    def __len__(self) -> int:
        return len(self._array)

    def __repr__(self) -> str:
        return f"StrictArray({self._array!r})"

    def __getitem__(self, index):
        return _wrap(self._array[_unwrap(index, "indexing")])

    def __setitem__(self, index, value) -> None:
        self._array[_unwrap(index, "indexing")] = _unwrap(value, "assignment")


def _binary(name: str):
    operator = getattr(np.ndarray, name)

    def method(self, other):
        other = _unwrap(other, f"operator {name}")
        return _wrap(operator(self._array, other))

    method.__name__ = name
    return method


for _name in (
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __floordiv__ __rfloordiv__ "
    "__mod__ __pow__ __rpow__ __matmul__ __rmatmul__ __and__ __rand__ __or__ __ror__ __xor__ __rxor__ "
    "__lt__ __le__ __gt__ __ge__ __eq__ __ne__"
).split():
    setattr(StrictArray, _name, _binary(_name))
for _name in ("__neg__", "__pos__", "__abs__", "__invert__"):
    setattr(StrictArray, _name, (lambda op: lambda self: _wrap(op(self._array)))(getattr(np.ndarray, _name)))
StrictArray.__hash__ = None


def _inplace(name: str):
    operator = getattr(np.ndarray, name)

    def method(self, other):
        operator(self._array, _unwrap(other, f"operator {name}"))
        return self

    return method


for _name in ("__iadd__", "__isub__", "__imul__", "__itruediv__", "__iand__", "__ior__"):
    setattr(StrictArray, _name, _inplace(_name))


class _StrictUfunc:
    """A NumPy ufunc on strict arrays, with ``.at`` (scatter-add) and ``.reduce``."""

    def __init__(self, ufunc):
        self._ufunc = ufunc

    def __call__(self, *args, **kwargs):
        return _wrapped_call(self._ufunc, self._ufunc.__name__)(*args, **kwargs)

    def at(self, target, index, values=None) -> None:
        arrays = _unwrap((target, index) + (() if values is None else (values,)), f"{self._ufunc.__name__}.at")
        self._ufunc.at(*arrays)

    def reduce(self, *args, **kwargs):
        return _wrapped_call(self._ufunc.reduce, f"{self._ufunc.__name__}.reduce")(*args, **kwargs)


class _StrictNamespace:
    """NumPy's namespace (or a sub-namespace such as ``linalg``) over strict arrays."""

    def __init__(self, namespace):
        self._namespace = namespace

    def __getattr__(self, name: str):
        attribute = getattr(self._namespace, name)
        if isinstance(attribute, np.ufunc):
            return _StrictUfunc(attribute)
        if isinstance(attribute, type):  # dtypes and scalar types (np.float32, ...)
            return attribute
        if callable(attribute):
            return _wrapped_call(attribute, name, allow_host=name in _EXPLICIT_TRANSFERS)
        if isinstance(attribute, type(np)):
            return _StrictNamespace(attribute)
        return attribute


class _StrictRandom(_StrictNamespace):
    """``xp.random``: ``default_rng`` gives a generator whose draws are strict arrays."""

    def default_rng(self, seed=None):
        return _StrictNamespace(np.random.default_rng(seed))


strict_module = _StrictNamespace(np)
strict_module.random = _StrictRandom(np.random)
strict_module.__name__ = "strict_numpy"
