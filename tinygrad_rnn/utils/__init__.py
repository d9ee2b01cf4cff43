"""``tr.utils``, as ``torch.utils``: ``tr.utils.data`` holds datasets, samplers and ``DataLoader``."""

from . import data

__all__ = ["data"]
