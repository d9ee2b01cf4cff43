"""``tr.cuda``, as ``torch.cuda``: is a CUDA GPU usable here, and the calls that scripts make around one.

GPUs are driven through CuPy; ``"cuda"`` always means ``cuda:0`` here (so ``current_device()`` is 0),
and a ``device`` argument is an index, ``"cuda:N"`` or a ``tr.device`` (``None``: ``cuda:0``).

Without CuPy or a GPU, ``is_available()`` is False and ``device_count()`` 0; ``manual_seed``,
``manual_seed_all``, ``synchronize`` and ``empty_cache`` do nothing (PyTorch ignores its seeding calls
there too; its ``synchronize`` would raise, so a script that times its steps with it runs on the CPU
here unchanged); ``memory_allocated`` and ``memory_reserved`` are 0 (as PyTorch's before CUDA starts);
``current_device``, ``get_device_name`` and ``mem_get_info`` raise ``RuntimeError``, having nothing to
describe. The other ``torch.cuda`` names that scripts use (``amp``, ``set_device``, ``Event``,
``Stream``, ``max_memory_allocated``, ...) are listed in ``unsupported.py``: touching one raises an
``AttributeError`` that says what to use instead.
"""

from __future__ import annotations

import numbers

from . import backend
from .unsupported import module_getattr as _module_getattr

__getattr__ = _module_getattr(__name__)  # a missing PyTorch name says what to use instead (unsupported.py)


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA GPU."""
    return device_count() > 0


def device_count() -> int:
    """How many CUDA GPUs CuPy sees (0 without CuPy, a driver or a GPU)."""
    try:
        return int(backend.array_module("cuda:0").cuda.runtime.getDeviceCount())
    except Exception:  # no CuPy, no driver, no GPU: all mean "none here"
        return 0


def _cupy():
    """CuPy, for a caller that has checked ``is_available()``."""
    return backend.array_module("cuda:0")


def _require_gpu(caller: str):
    """CuPy, or a ``RuntimeError`` saying why there is no GPU to describe (CuPy's install hint included)."""
    try:
        backend.array_module("cuda:0")
    except RuntimeError as error:  # no CuPy: its install hint
        raise RuntimeError(f"tr.cuda.{caller}: {error}") from None
    if not is_available():
        raise RuntimeError(f"tr.cuda.{caller}: CuPy sees no CUDA GPU (a driver and a GPU are needed); "
                           "tr.cuda.is_available() is False")
    return _cupy()


def _index(caller: str, device) -> int:
    """The GPU index that ``device`` names (``None``: 0, what ``"cuda"`` means here), checked against
    ``device_count()`` when a GPU is there."""
    if device is None:
        index = 0
    elif isinstance(device, numbers.Integral) and not isinstance(device, bool):
        index = int(device)
        if index < 0:
            raise ValueError(f"tr.cuda.{caller}: device index must be non-negative, got {index}")
    else:
        name = backend.normalize_device(device)  # ValueError for a name that is no device
        if not name.startswith("cuda:"):
            raise ValueError(f"tr.cuda.{caller}: expected a CUDA device (an index, 'cuda' or 'cuda:N'), "
                             f"got {device!r}")
        index = int(name[5:])
    count = device_count()
    if count and index >= count:
        raise ValueError(f"tr.cuda.{caller}: no device cuda:{index}; CuPy sees {count} GPU(s)")
    return index


def _seed(caller: str, seed) -> int:
    """``seed`` as PyTorch takes it: an int in [-2**63, 2**64), a negative one read modulo 2**64 (as
    ``torch.initial_seed()`` reports it after ``torch.manual_seed(-1)``: 2**64 - 1)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"tr.cuda.{caller}: seed must be an integer, got {seed!r}")
    seed = int(seed)
    if not -(1 << 63) <= seed < (1 << 64):
        raise ValueError(f"tr.cuda.{caller}: seed must be in [-2**63, 2**64), got {seed}")
    return seed % (1 << 64)


def _seed_gpus(seed: int, indices) -> None:
    """Give each GPU in ``indices`` a fresh generator seeded with ``seed``: the generator that
    ``backend.generator("cuda:N")`` hands out to ``tr.rand``, ``tr.randn``, dropout, ``nn.init``, ...
    (the same one ``tr.manual_seed(seed)`` would make for it)."""
    _cupy()  # a clear error when CuPy is missing
    for index in indices:
        backend.seed_device(backend.normalize_device(f"cuda:{index}"), seed)


def manual_seed(seed) -> None:
    """Seed the random generator of the current GPU (``cuda:0``, which ``"cuda"`` names here), as
    ``torch.cuda.manual_seed``: random draws on it (``tr.randn(..., device="cuda")``, dropout, ``nn.init``)
    repeat run after run. The CPU and the other GPUs keep their generators (``tr.manual_seed`` seeds every
    device). Without a GPU it does nothing, as in PyTorch. The numbers are CuPy's, not PyTorch's."""
    seed = _seed("manual_seed", seed)
    if is_available():
        _seed_gpus(seed, [0])


def manual_seed_all(seed) -> None:
    """Seed the random generator of every GPU, as ``torch.cuda.manual_seed_all`` (the CPU's is kept;
    ``tr.manual_seed`` seeds it too). Without a GPU it does nothing, as in PyTorch."""
    seed = _seed("manual_seed_all", seed)
    if is_available():
        _seed_gpus(seed, range(device_count()))


def synchronize(device=None) -> None:
    """Wait until every kernel queued on the GPU ``device`` (default ``cuda:0``) has finished, as
    ``torch.cuda.synchronize``: call it before reading a timer. Without a GPU it does nothing (there is
    nothing to wait for: NumPy ops have finished when they return), where PyTorch would raise."""
    index = _index("synchronize", device)
    if is_available():
        _cupy().cuda.Device(index).synchronize()


def empty_cache() -> None:
    """Give the GPU memory that CuPy's pools hold but no tensor uses back to the driver, as
    ``torch.cuda.empty_cache`` (memory that tensors still use stays). Without a GPU it does nothing."""
    if is_available():
        cupy = _cupy()
        cupy.get_default_memory_pool().free_all_blocks()
        cupy.get_default_pinned_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory that arrays on ``device`` (default ``cuda:0``) use now, from CuPy's memory
    pool, as ``torch.cuda.memory_allocated``; 0 without a GPU (PyTorch's answer before CUDA starts).
    The pool rounds each allocation up (to 512 bytes), as PyTorch's allocator does."""
    index = _index("memory_allocated", device)
    if not is_available():
        return 0
    cupy = _cupy()
    with cupy.cuda.Device(index):
        return int(cupy.get_default_memory_pool().used_bytes())


def memory_reserved(device=None) -> int:
    """Bytes of GPU memory that CuPy's memory pool holds on ``device`` (default ``cuda:0``): the memory
    in use plus the cached blocks that ``empty_cache()`` would free, as ``torch.cuda.memory_reserved``;
    0 without a GPU."""
    index = _index("memory_reserved", device)
    if not is_available():
        return 0
    cupy = _cupy()
    with cupy.cuda.Device(index):
        return int(cupy.get_default_memory_pool().total_bytes())


def mem_get_info(device=None) -> tuple[int, int]:
    """``(free, total)`` bytes of the GPU ``device`` (default ``cuda:0``) as the driver reports them, as
    ``torch.cuda.mem_get_info``. ``RuntimeError`` without a GPU."""
    cupy = _require_gpu("mem_get_info")
    with cupy.cuda.Device(_index("mem_get_info", device)):
        free, total = cupy.cuda.runtime.memGetInfo()
    return int(free), int(total)


def current_device() -> int:
    """The index of the GPU that ``"cuda"`` names: always 0 here (name another as ``"cuda:N"``).
    ``RuntimeError`` without a GPU, as in PyTorch."""
    _require_gpu("current_device")
    return 0


def get_device_name(device=None) -> str:
    """The name of the GPU ``device`` (default ``cuda:0``), such as ``"NVIDIA H200"``, as
    ``torch.cuda.get_device_name``. ``RuntimeError`` without a GPU."""
    cupy = _require_gpu("get_device_name")
    name = cupy.cuda.runtime.getDeviceProperties(_index("get_device_name", device))["name"]
    return name.decode() if isinstance(name, bytes) else str(name)
