"""Layer 1: the array backend.

This is the only module that names ``numpy`` or ``cupy``. Everything above it asks
for the *array module* of a device (``xp``) and writes array code against it, so the
same op runs on NumPy (device ``"cpu"``) or CuPy (devices ``"cuda"``, ``"cuda:N"``).

It also holds the dtype policy (what dtype a Python number gets) and the global
random generators behind ``tr.manual_seed``.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .strict_backend import StrictArray, strict_module

# ---------------------------------------------------------------- dtypes
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


# ---------------------------------------------------------------- devices
_cupy = None  # imported on first use of a CUDA device


def _import_cupy():
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError:
            raise RuntimeError(
                "device 'cuda' needs CuPy, which is not installed: "
                "pip install 'tinygrad_rnn[cuda12]' (CUDA 12) or 'tinygrad_rnn[cuda13]' (CUDA 13)"
            ) from None
        _cupy = cupy
    return _cupy


_default_device = "cpu"


def set_default_device(device) -> None:
    """Where new tensors go when no ``device=`` is given (``"cpu"`` unless changed), as
    ``torch.set_default_device``."""
    global _default_device
    name = normalize_device(device if device is not None else "cpu")
    array_module(name)  # fail now, with the install hint, if CuPy is missing
    _default_device = name


def get_default_device() -> str:
    """The device new tensors go to when none is given."""
    return _default_device


def normalize_device(device) -> str:
    """``None`` -> the default device (``"cpu"``); ``"cuda"`` -> ``"cuda:0"``; ``"cuda:N"`` and
    ``"cpu"`` kept; ``"strict"`` is the CuPy-like test backend (see ``strict_backend.py``)."""
    if device is None:
        return _default_device
    name = str(device)
    if name in ("cpu", "strict"):
        return name
    if name == "cuda":
        return "cuda:0"
    if name.startswith("cuda:") and name[5:].isdigit():
        return name
    raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N' (or 'strict' for tests), got {device!r}")


def is_device_name(value) -> bool:
    """True for a string that names a device (as opposed to a dtype) in ``x.to(...)``."""
    return isinstance(value, str) and (value in ("cpu", "strict") or value.startswith("cuda"))


def array_module(device: str):
    """The array module (``numpy``, ``cupy``, or the strict test module) of ``device``."""
    if device == "cpu":
        return np
    if device == "strict":
        return strict_module
    return _import_cupy()


def device_of(array) -> str:
    """The device name of an array: ``"cpu"`` for NumPy, ``"cuda:N"`` for CuPy."""
    if isinstance(array, np.ndarray | np.generic):
        return "cpu"
    if isinstance(array, StrictArray):
        return "strict"
    return f"cuda:{array.device.id}"


def module_of(array):
    """The array module of an existing array (fast path for NumPy)."""
    if isinstance(array, np.ndarray | np.generic):
        return np
    if isinstance(array, StrictArray):
        return strict_module
    return _import_cupy()


_NO_DEVICE_SWITCH = contextlib.nullcontext()


def use_device(device: str):
    """A context that makes ``device`` CuPy's current GPU, so new arrays and kernels go there
    (``cuda:1`` included); nothing to do for the CPU and the strict backend."""
    if not device.startswith("cuda"):
        return _NO_DEVICE_SWITCH
    return _import_cupy().cuda.Device(int(device[5:]))


def device_of_array_context(array):
    """``use_device`` for the device an array lives on (fast for NumPy)."""
    on_host = isinstance(array, np.ndarray | np.generic | StrictArray)
    return _NO_DEVICE_SWITCH if on_host else array.device


def check_same_device(op_name: str, arrays) -> None:
    """Raise an error naming both devices when ``arrays`` do not all live on one device."""
    if all(type(a) is np.ndarray for a in arrays):  # the common case, decided without names
        return
    devices = [device_of(a) for a in arrays]
    for other in devices[1:]:
        if other != devices[0]:
            raise RuntimeError(f"{op_name}: expected all tensors on the same device, got {devices[0]} and {other}")


def as_array(value):
    """``value`` as an array: NumPy reductions to a scalar return ``np.float32(...)``, not a 0-d array."""
    return np.asarray(value) if isinstance(value, np.generic) else value


def to_device(array, device: str):
    """Copy ``array`` to ``device`` (no copy when it is already there)."""
    source = device_of(array)
    if source == device:
        return array
    if source != "cpu":  # every other road goes through the host
        array = array.get()
    if device == "cpu":
        return np.asarray(array)
    if device == "strict":
        return StrictArray(np.array(array, copy=True))
    cupy = _import_cupy()
    with cupy.cuda.Device(int(device[5:])):
        return cupy.asarray(array)


def to_numpy(array) -> np.ndarray:
    """A NumPy array on the host holding the values of ``array`` (an explicit copy off a device)."""
    return array if isinstance(array, np.ndarray) else np.asarray(to_device(array, "cpu"))


def is_array(value) -> bool:
    """True for a NumPy or CuPy array (or a strict test array)."""
    if isinstance(value, np.ndarray | StrictArray):
        return True
    if type(value).__module__.startswith("cupy"):  # a CuPy array made before we ever used CUDA
        return isinstance(value, _import_cupy().ndarray)
    return False


# ---------------------------------------------------------------- randomness
_generators: dict[str, object] = {}
_seed: int | None = None


def manual_seed(seed: int) -> None:
    """Seed every device's random generator, so runs repeat exactly."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def generator(device: str):
    """The global random generator of ``device`` (NumPy's or CuPy's ``Generator``)."""
    if device not in _generators:
        xp = array_module(device)
        _generators[device] = xp.random.default_rng(_seed)
    return _generators[device]


def generator_for_seed(seed: int | None):
    """A host (NumPy) generator for data sampling: seeded with ``seed``, or the global CPU
    generator (seeded by ``manual_seed``) when ``seed`` is None."""
    return generator("cpu") if seed is None else np.random.default_rng(seed)


def scatter_add(out, index, values) -> None:
    """``out[index] += values`` where repeated indices add up (unbuffered)."""
    if isinstance(out, np.ndarray):
        np.add.at(out, index, values)
    elif isinstance(out, StrictArray):
        strict_module.add.at(out, index, values)
    else:
        import cupyx

        cupyx.scatter_add(out, index, values)


def quiet_math(xp):
    """A context in which NumPy does not warn about log(0), 0/0 and the like: the op's
    result (inf or NaN) already says it, as in PyTorch and CuPy, which never warn."""
    quiet = xp is np or xp is strict_module
    return np.errstate(divide="ignore", invalid="ignore") if quiet else contextlib.nullcontext()


_DLPACK_CPU, _DLPACK_CUDA = 1, 2  # device types in the DLPack standard


def from_dlpack(obj):
    """An array sharing memory with ``obj`` (anything with ``__dlpack__``: a NumPy, CuPy or
    PyTorch tensor), NumPy's for a CPU object and CuPy's for a CUDA one."""
    if not hasattr(obj, "__dlpack_device__"):
        kind = type(obj).__name__
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ (a tensor or an array), got {kind}")
    device_type, _ = obj.__dlpack_device__()
    if device_type == _DLPACK_CPU:
        return np.from_dlpack(obj)
    if device_type == _DLPACK_CUDA:
        return _import_cupy().from_dlpack(obj)
    raise ValueError(f"from_dlpack: DLPack device type {device_type} is neither the CPU (1) nor CUDA (2)")


def is_numpy_scalar(value) -> bool:
    """True for NumPy scalar objects such as ``np.float64(1.0)``."""
    return isinstance(value, np.generic)


def host_array(data) -> np.ndarray:
    """Python numbers or nested lists as a NumPy array (dtype decided by the caller)."""
    return np.asarray(data)


def result_type(*dtypes) -> np.dtype:
    """The dtype NumPy's promotion gives operands of ``dtypes``."""
    return np.result_type(*dtypes)


def format_array(array, prefix: str) -> str:
    """The values of ``array`` as text, aligned after ``prefix`` (for ``repr``)."""
    return np.array2string(to_numpy(array), separator=", ", prefix=prefix)


# ---------------------------------------------------------------- files
def write_npz(file, arrays: dict) -> None:
    """Write host NumPy ``arrays`` (name -> array) into the open binary ``file`` as an
    uncompressed ``.npz`` archive. Given a file object, NumPy adds no ``.npz`` suffix."""
    np.savez(file, **arrays)


def read_npz(file) -> dict:
    """Every array of the ``.npz`` archive in the open binary ``file``, read at once.

    Pickled (object) arrays are refused, never unpickled: unpickling runs code named by
    the file. Raises whatever NumPy or ``zipfile`` raise on bytes that are not a valid
    archive, and ``ValueError`` for a file that is a single ``.npy`` array, not a zip.
    """
    loaded = np.load(file, allow_pickle=False)
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ValueError("the file holds a single .npy array, not a .npz archive")
    with loaded:
        return {name: loaded[name] for name in loaded.files}
