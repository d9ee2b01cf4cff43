"""PyTorch's legacy constructors: ``tr.Tensor(2, 3)``, ``tr.Tensor([1, 2])``, ``tr.LongTensor([1, 2])``, ...

In PyTorch these predate ``torch.tensor`` and keep their own rules, followed here:

- ``Tensor(*sizes)`` (ints) makes a tensor of that shape; ``Tensor(data)`` (a list, a tuple, a
  NumPy array) copies the data; ``Tensor()`` is an empty tensor of shape (0,);
- ``tr.Tensor`` always makes **float32**, even from integers (``tr.Tensor([1, 2])`` is
  ``[1., 2.]``), where ``tr.tensor([1, 2])`` makes int64. ``tr.LongTensor`` makes int64
  (floats are truncated: ``LongTensor([1.7])`` is ``[1]``), ``FloatTensor`` float32,
  ``DoubleTensor`` float64, ``IntTensor`` int32, ``BoolTensor`` bool, ``ByteTensor`` uint8;
- ``Tensor(t)`` of a tensor is ``t`` under another name (shared memory, same dtype, still in the
  graph); ``LongTensor(t)`` likewise, but only when ``t`` is already int64;
- the only keyword is ``device=``; ``dtype=`` and ``requires_grad=`` are refused, pointing to ``tr.tensor``.

One difference: PyTorch leaves the memory of ``Tensor(2, 3)`` uninitialised (whatever was
there); here it is zeros, so the values are never garbage. ``device=`` may name any device
(PyTorch's legacy constructors take only the CPU).

``isinstance(x, tr.LongTensor)`` holds for an int64 tensor on the CPU, as in PyTorch.
"""

from __future__ import annotations

import numbers
import operator

from . import backend
from .creation import _array_from, _filled, _size
from .tensor import Tensor

_USAGE = "expected {name}(*sizes), {name}(data) (a list, tuple or array), {name}(tensor) or {name}()"


def _is_size(value) -> bool:
    """An int that counts as a size: Python's, NumPy's (also a 0-d integer array, as in PyTorch), not a bool
    and not a tensor (PyTorch takes ``Tensor(tensor(3))`` as data)."""
    if isinstance(value, bool | Tensor):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def legacy_tensor(name: str, dtype, args: tuple, kwargs: dict) -> Tensor:
    """``name(*args, **kwargs)`` with PyTorch's legacy rules (module docstring); ``dtype`` is the
    constructor's (float32 for ``Tensor``)."""
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(
            f"{name}(): unexpected keyword argument(s) {', '.join(sorted(kwargs))}: the legacy constructor takes "
            f"only device= (as in PyTorch); use tr.tensor(data, dtype=..., device=..., requires_grad=...)"
        )
    dtype = backend.as_dtype(dtype)
    if not args:
        return _filled(0, (0,), dtype, device, False)
    if all(_is_size(a) for a in args):
        return _filled(0, _size(name, args), dtype, device, False)  # PyTorch's memory is uninitialised
    if len(args) > 1:
        kinds = ", ".join(type(a).__name__ for a in args)
        raise TypeError(f"{name}(): {_USAGE.format(name=name)}; got several arguments ({kinds}) that are not all "
                        "sizes (ints)")
    data = args[0]
    if isinstance(data, Tensor):
        return _alias(name, dtype, data, device)
    if isinstance(data, numbers.Number | str | bytes) or data is None:
        raise TypeError(f"{name}(): data must be a sequence (a list, tuple or array), got {type(data).__name__} "
                        f"{data!r}; for a 0-d tensor use tr.tensor({data!r})")
    return Tensor._wrap(_array_from(data, dtype, device))


def _alias(name: str, dtype, data: Tensor, device) -> Tensor:
    """``Tensor(t)``: ``t`` under another name (PyTorch's alias: shared memory, in the graph)."""
    if name != "Tensor" and data.dtype != dtype:
        raise TypeError(f"{name}(): expected a tensor of dtype {dtype}, got {data.dtype}; convert it with "
                        f"t.to({str(dtype)!r})")
    if device is not None and backend.normalize_device(device) != data.device:
        raise RuntimeError(f"{name}(): the tensor is on {data.device}, device= asks for "
                           f"{backend.normalize_device(device)}; move it with t.to(device)")
    return data.view(data.shape)


class _LegacyTensorType(type):
    """The type of ``tr.LongTensor`` and its siblings: calling one makes a plain ``tr.Tensor``
    of its dtype; ``isinstance`` asks for that dtype on the CPU (PyTorch's ``torch.tensortype``)."""

    dtype = None

    def __call__(cls, *args, **kwargs) -> Tensor:
        return legacy_tensor(cls.__name__, cls.dtype, args, kwargs)

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and instance.dtype == cls.dtype and instance.device == "cpu"

    def __repr__(cls) -> str:
        return f"<class 'tinygrad_rnn.{cls.__name__}'>"


def _legacy_type(name: str, dtype, kind: str):
    doc = (f"PyTorch's legacy constructor of {kind} ({dtype}) tensors: ``tr.{name}(2, 3)`` is a (2, 3) "
           f"tensor of zeros (uninitialised in PyTorch), ``tr.{name}([1, 2])`` converts the data, "
           f"``tr.{name}(t)`` is ``t`` itself under another name when ``t`` is {dtype} already, and "
           f"``tr.{name}()`` is empty. ``device=`` is the only keyword. ``isinstance(x, tr.{name})`` holds "
           f"for {dtype} tensors on the CPU. Prefer ``tr.tensor(data, dtype=tr.{dtype})``.")
    return _LegacyTensorType(name, (), {"__doc__": doc, "dtype": backend.as_dtype(dtype), "__slots__": ()})


FloatTensor = _legacy_type("FloatTensor", backend.float32, "32-bit float")
DoubleTensor = _legacy_type("DoubleTensor", backend.float64, "64-bit float")
HalfTensor = _legacy_type("HalfTensor", backend.float16, "16-bit float")
LongTensor = _legacy_type("LongTensor", backend.int64, "64-bit integer")
IntTensor = _legacy_type("IntTensor", backend.int32, "32-bit integer")
ShortTensor = _legacy_type("ShortTensor", backend.int16, "16-bit integer")
CharTensor = _legacy_type("CharTensor", backend.int8, "8-bit signed integer")
ByteTensor = _legacy_type("ByteTensor", backend.uint8, "8-bit unsigned integer")
BoolTensor = _legacy_type("BoolTensor", backend.bool_, "bool")
