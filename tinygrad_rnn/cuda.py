"""``tr.cuda``: is a CUDA GPU usable here? (as ``torch.cuda``)."""

from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA GPU."""
    return device_count() > 0


def device_count() -> int:
    """How many CUDA GPUs CuPy sees (0 without CuPy, a driver or a GPU)."""
    try:
        return int(backend.array_module("cuda:0").cuda.runtime.getDeviceCount())
    except Exception:  # no CuPy, no driver, no GPU: all mean "none here"
        return 0
