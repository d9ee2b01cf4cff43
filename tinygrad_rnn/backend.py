"""Layer 1: the array backend.

This is the only module that names ``numpy`` or ``cupy``. Everything above it asks
for the *array module* of a device (``xp``) and writes array code against it, so the
same op runs on NumPy (device ``"cpu"``) or CuPy (devices ``"cuda"``, ``"cuda:N"``).

It also holds the global random generators behind ``tr.manual_seed`` and
``tr.get_rng_state``, and re-exports the dtype policy of ``dtypes.py``.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .devices import device, interned
from .dtypes import (  # noqa: F401 (re-exported: the dtype policy is part of the backend's interface)
    DEFAULT_FLOAT,
    DEFAULT_INT,
    as_dtype,
    bool_,
    can_cast_in_place,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    is_floating,
    operands_result_type,
    promote_types,
    python_scalar_dtype,
    result_type,
    scalar_operand_dtype,
    uint8,
)
from .strict_backend import StrictArray, strict_module

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


_default_device = interned("cpu")


def set_default_device(device) -> None:
    """Where new tensors go when no ``device=`` is given (``"cpu"`` unless changed), as
    ``torch.set_default_device``."""
    global _default_device
    name = normalize_device(device if device is not None else "cpu")
    array_module(name)  # fail now, with the install hint, if CuPy is missing
    _default_device = name


def get_default_device() -> device:
    """The device new tensors go to when none is given (a ``tr.device``, equal to its name)."""
    return _default_device


def normalize_device(device) -> device:
    """The canonical device (a ``tr.device``, which is also its name as a ``str``) of ``device``:
    ``None`` -> the default device (``"cpu"`` unless changed); ``"cuda"`` -> ``"cuda:0"``;
    ``"cpu:0"`` -> ``"cpu"``; ``"cuda:N"`` and ``"cpu"`` kept; ``"strict"`` is the CuPy-like test
    backend (see ``strict_backend.py``). Takes names and ``tr.device`` objects alike."""
    if device is None:
        return _default_device
    name = device if isinstance(device, str) else str(device)  # a torch.device too: its str() is its name
    found = _CANONICAL.get(name)
    if found is not None:
        return found
    try:
        parsed = _device_class(str(name))
    except (TypeError, ValueError):
        parsed = None
    if parsed is not None:
        canonical = "cuda:0" if parsed == "cuda" else "cpu" if parsed.type == "cpu" else str(parsed)
        return _CANONICAL.setdefault(str(name), interned(canonical))
    raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N' (or 'strict' for tests), got {device!r}")


_device_class = device  # normalize_device's argument hides the class's name inside it
_CANONICAL: dict = {name: interned(name) for name in ("cpu", "strict", "cuda:0")}
_CANONICAL["cuda"] = _CANONICAL["cuda:0"]


def is_device_name(value) -> bool:
    """True for a device (a ``tr.device`` or a string naming one), as opposed to a dtype, in ``x.to(...)``."""
    return isinstance(value, str) and (value in ("cpu", "strict") or value.startswith(("cuda", "cpu:")))


def array_module(device: str):
    """The array module (``numpy``, ``cupy``, or the strict test module) of ``device``."""
    if device == "cpu":
        return np
    if device == "strict":
        return strict_module
    return _import_cupy()


def device_of(array) -> device:
    """The device of an array, a ``tr.device`` (equal to its name): ``"cpu"`` for NumPy,
    ``"strict"`` for the test device, ``"cuda:N"`` for CuPy."""
    if isinstance(array, np.ndarray | np.generic):
        return _CPU
    if isinstance(array, StrictArray):
        return _STRICT
    return interned(f"cuda:{array.device.id}")


def module_of(array):
    """The array module of an existing array (fast path for NumPy)."""
    if isinstance(array, np.ndarray | np.generic):
        return np
    if isinstance(array, StrictArray):
        return strict_module
    return _import_cupy()


_CPU, _STRICT = interned("cpu"), interned("strict")
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


def seed_device(device: str, seed: int) -> None:
    """Give ``device`` alone a fresh generator seeded with ``seed`` (``tr.cuda.manual_seed``); the
    others keep theirs."""
    xp = array_module(device)
    with use_device(device):
        _generators[device] = xp.random.default_rng(seed)


def generator(device: str):
    """The global random generator of ``device`` (NumPy's or CuPy's ``Generator``)."""
    if device not in _generators:
        xp = array_module(device)
        _generators[device] = xp.random.default_rng(_seed)
    return _generators[device]


# The CPU generator's state as bytes, for ``tr.get_rng_state``: a tag naming the bit generator and
# this layout's version (so bytes from anything else are refused, not misread), PCG64's 128-bit state
# and increment, then the spare half of a 64-bit draw that 32-bit draws (float32 rand/randn) keep
# for their next call. Without those last 5 bytes a restored run would differ after an odd count.
_RNG_STATE_TAG = b"PCG64v1\x00"
RNG_STATE_SIZE = len(_RNG_STATE_TAG) + 16 + 16 + 1 + 4


def get_cpu_rng_state() -> np.ndarray:
    """The state of the CPU generator (NumPy's PCG64) as a 1-D uint8 array of ``RNG_STATE_SIZE`` bytes."""
    state = generator("cpu").bit_generator.state
    packed = (
        _RNG_STATE_TAG
        + state["state"]["state"].to_bytes(16, "little")
        + state["state"]["inc"].to_bytes(16, "little")
        + bytes([state["has_uint32"]])
        + state["uinteger"].to_bytes(4, "little")
    )
    return np.frombuffer(packed, dtype=np.uint8).copy()


def set_cpu_rng_state(state: np.ndarray) -> None:
    """Put the CPU generator back in the state ``get_cpu_rng_state`` returned (a 1-D uint8 array).

    Raises ``ValueError`` saying what is wrong when ``state`` is not such bytes. The generator
    object is kept and only its state changes, so code holding it sees the restored state too.
    """
    packed = state.tobytes()
    if len(packed) != RNG_STATE_SIZE:
        raise ValueError(f"has {len(packed)} bytes, expected {RNG_STATE_SIZE}")
    tag, rest = packed[: len(_RNG_STATE_TAG)], packed[len(_RNG_STATE_TAG) :]
    if tag != _RNG_STATE_TAG:
        raise ValueError(f"starts with {tag!r}, expected {_RNG_STATE_TAG!r} (the tag tr.get_rng_state writes)")
    increment, has_uint32 = int.from_bytes(rest[16:32], "little"), rest[32]
    if increment % 2 == 0 or has_uint32 > 1:  # PCG64 always has an odd increment; the flag is 0 or 1
        raise ValueError("is damaged: its PCG64 increment is even or its has_uint32 flag is not 0 or 1")
    generator("cpu").bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": int.from_bytes(rest[:16], "little"), "inc": increment},
        "has_uint32": has_uint32,
        "uinteger": int.from_bytes(rest[33:37], "little"),
    }


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
    """A context in which NumPy does not warn about log(0), 0/0, exp(1000) and the like: the
    op's result (inf or NaN) already says it, as in PyTorch and CuPy, which never warn."""
    quiet = xp is np or xp is strict_module
    return np.errstate(divide="ignore", invalid="ignore", over="ignore") if quiet else contextlib.nullcontext()


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


def format_array(array, prefix: str) -> str:
    """The values of ``array`` as text, aligned after ``prefix`` (for ``repr``)."""
    return np.array2string(to_numpy(array), separator=", ", prefix=prefix)


# ---------------------------------------------------------------- files
def write_npz(file, arrays: dict) -> None:
    """Write host NumPy ``arrays`` (name -> array) into the open binary ``file`` as an
    uncompressed ``.npz`` archive. Given a file object, NumPy adds no ``.npz`` suffix."""
    np.savez(file, **arrays)
