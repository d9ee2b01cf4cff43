"""``tr.set_num_threads`` / ``tr.get_num_threads``: the threads of the CPU's math library (BLAS).

The heavy CPU work here is NumPy's matrix products, run by the BLAS library NumPy was built
with (OpenBLAS, MKL, ...), which starts its thread pool when NumPy is imported. Changing it
afterwards needs ``threadpoolctl`` (``pip install threadpoolctl``), which talks to the loaded
library; when it is installed, ``set_num_threads`` uses it and takes effect at once.

Without it the count of the running process cannot be changed: ``set_num_threads`` then sets
the environment variables the libraries read at start (``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``, ...), which reach only processes started later
(DataLoader workers, subprocesses), and warns, saying so. To limit this process, set them
before Python starts: ``OMP_NUM_THREADS=4 python train.py``.
"""

from __future__ import annotations

import os
import warnings

from .creation import _count

_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
_requested: int | None = None  # what set_num_threads asked for, when threadpoolctl could not apply it
_limits = None  # threadpoolctl's limiter, kept alive while it applies


class NumThreadsWarning(UserWarning):
    """``set_num_threads`` could not change the running process's BLAS threads (threadpoolctl is missing)."""


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def set_num_threads(num: int) -> None:
    """Use ``num`` threads for the CPU's matrix products (the BLAS library behind NumPy), as
    ``torch.set_num_threads``. Takes effect at once when ``threadpoolctl`` is installed; without it
    the running process's count cannot change: the environment variables are set for processes
    started later, and a ``NumThreadsWarning`` says so."""
    global _requested, _limits
    count = _count("set_num_threads", "num", num)  # an int, not a float or bool
    if count < 1:
        raise ValueError(f"set_num_threads: num must be positive, got {count}")
    for name in _VARIABLES:
        os.environ[name] = str(count)
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is not None:
        _limits = threadpoolctl.threadpool_limits(limits=count, user_api="blas")
        _requested = None
        return
    _requested = count
    warnings.warn(
        f"set_num_threads({count}): threadpoolctl is not installed, so the thread count of the BLAS library "
        "that NumPy already loaded cannot be changed in this process. The environment variables "
        f"({', '.join(_VARIABLES[:3])}, ...) are now {count}, which reaches only processes started from now on. "
        f"Install threadpoolctl (pip install threadpoolctl), or start Python with OMP_NUM_THREADS={count}.",
        NumThreadsWarning,
        stacklevel=2,
    )


def get_num_threads() -> int:
    """The number of threads of the CPU's matrix products. With ``threadpoolctl``, what the loaded
    BLAS library reports; without it, the count the environment set at start (``OMP_NUM_THREADS``
    and its kin, as the libraries read them), else the number of CPUs (BLAS's default), or what
    ``set_num_threads`` last asked for (which then took effect only for later processes)."""
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is not None:
        counts = [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool.get("user_api") == "blas"]
        if counts:
            return max(counts)
    if _requested is not None:
        return _requested
    for name in _VARIABLES:
        value = os.environ.get(name, "")
        if value.strip().isdigit() and int(value) > 0:
            return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
