"""``tr.device``: a device as an object, PyTorch's ``torch.device``.

``tr.device("cpu")``, ``tr.device("cuda:1")`` and ``tr.device("cuda", 1)`` name a device with a
``type`` (``"cpu"``, ``"cuda"``, or ``"strict"``, the test device) and an ``index`` (``None``
unless one is given). The object *is* its name: ``device`` subclasses ``str``, so it is accepted
everywhere a device string is (``x.to(dev)``, ``tr.zeros(2, device=dev)``, ``module.to(dev)``),
prints as the name, hashes as the name and compares equal to it. ``x.device`` returns one, so
``x.device == "cpu"`` and ``x.device.type == "cpu"`` both hold.

One difference from PyTorch, on purpose: ``torch.device("cpu") == "cpu"`` is False there, True here.
As in PyTorch, ``device("cuda")`` (no index) and ``device("cuda:0")`` are different devices as
objects; a tensor's device always carries the index (``cuda:0``).

This module imports nothing of the package: ``backend.py`` builds on it.
"""

from __future__ import annotations

import builtins
import operator

_TYPES = ("cpu", "cuda", "strict")


def _index(value, given) -> int:
    """``value`` as a device index: a non-negative int, never a bool or a float."""
    if isinstance(value, builtins.bool):
        raise TypeError(f"device: index must be an int, got a bool ({value!r}) in {given}")
    try:
        index = operator.index(value)
    except TypeError:
        raise TypeError(f"device: index must be an int, got {builtins.type(value).__name__} {value!r} in {given}") \
            from None
    if index < 0:
        raise ValueError(f"device: index must be non-negative, got {index} in {given}")
    return index


def _parse(kind, index) -> str:
    """The canonical name of ``device(kind, index)``, checked."""
    given = f"device({kind!r})" if index is None else f"device({kind!r}, {index!r})"
    if isinstance(kind, builtins.int) and not isinstance(kind, builtins.bool) and index is None:
        kind, index = "cuda", kind  # torch.device(1) is the accelerator with index 1
    if not isinstance(kind, str):
        raise TypeError(f"device: expected a device name such as 'cpu' or 'cuda:0' (a str), got "
                        f"{builtins.type(kind).__name__} in {given}")
    name, colon, text = kind.partition(":")
    if name not in _TYPES:
        raise ValueError(f"device: expected a type among {', '.join(map(repr, _TYPES))} (optionally with ':N'), "
                         f"got {kind!r}")
    if colon:
        if index is not None:
            raise ValueError(f"device: the type {kind!r} already has an index, so index={index!r} can't be given too")
        if not text.isdigit() or not text.isascii():
            raise ValueError(f"device: expected 'type:N' with N a non-negative integer, got {kind!r}")
        index = builtins.int(text)
    elif index is not None:
        index = _index(index, given)
    if name == "strict" and index not in (None, 0):
        raise ValueError(f"device: the 'strict' test device has no index {index}; use 'strict'")
    if name == "cpu" and index not in (None, 0):
        raise ValueError(f"device: the CPU is one device, index 0 or none; got {kind!r} with index {index}")
    return name if index is None else f"{name}:{index}"


class device(str):  # noqa: N801 (PyTorch's name)
    """A device: ``tr.device("cpu")``, ``tr.device("cuda:1")``, ``tr.device("cuda", 1)``.

    ``.type`` is ``"cpu"``, ``"cuda"`` or ``"strict"`` (the CuPy-like test device), ``.index`` the
    device's number or ``None``. ``str(d)`` is the name (``"cuda:1"``), and since a device is a
    ``str`` it equals that name, hashes like it and goes wherever a device string goes.
    ``tr.device(d)`` of a device returns it.
    """

    __slots__ = ()

    def __new__(cls, type, index=None):  # noqa: A002 (PyTorch's argument name)
        if isinstance(type, device) and index is None:
            return type
        return super().__new__(cls, _parse(type, index))

    def __getnewargs__(self):  # pickling and copying rebuild it from its name
        return (builtins.str(self),)

    @property
    def type(self) -> str:
        """The kind of device: ``"cpu"``, ``"cuda"`` or ``"strict"``."""
        return builtins.str.__str__(self).partition(":")[0]

    @property
    def index(self) -> int | None:
        """The device's number (``1`` for ``cuda:1``), or ``None`` when none was given."""
        _, colon, text = builtins.str.__str__(self).partition(":")
        return builtins.int(text) if colon else None

    def __str__(self) -> str:
        return builtins.str.__str__(self)

    def __repr__(self) -> str:
        index = self.index
        return f"device(type={self.type!r})" if index is None else f"device(type={self.type!r}, index={index})"

    __hash__ = str.__hash__
    __eq__ = str.__eq__
    __ne__ = str.__ne__


_INTERNED: dict[str, device] = {}


def interned(name: str) -> device:
    """The one ``device`` object of the canonical name ``name`` (``x.device`` makes none per call)."""
    found = _INTERNED.get(name)
    if found is None:
        found = _INTERNED[name] = device(name)
    return found
