"""Conversions: out of the framework (``item``, ``numpy``, ``tolist``, ``float(x)``, DLPack), between
dtypes and devices (``to``, ``float()``, ``cuda()``, ...), new tensors like this one, and printing.

Only ``to`` (and the casts built on it) is differentiable: a device copy and a float cast
each have a node (``ops.ToDevice``, ``ops.Cast``) whose backward moves or casts the gradient
back. A cast to an integer or bool dtype is cut from the graph, as in PyTorch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backend, ops
from .base import TensorBase, shape_arg

if TYPE_CHECKING:  # for annotations only: at run time these modules sit below tensor.py
    from ..tensor import Tensor


class ConversionMethods(TensorBase):
    """The conversions of ``Tensor`` (see the module docstring)."""

    __slots__ = ()

    # ------------------------------------------------------------ out of the framework
    def item(self):
        """The value of a one-element tensor as a Python number."""
        return self._scalar("item")

    def numpy(self):
        """The values as a NumPy array on the host (shares memory on the CPU)."""
        return backend.to_numpy(self.array)

    def tolist(self):
        """The values as (nested) Python lists of numbers."""
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        # no silent copy from a GPU: np.asarray(cuda_tensor) would hide a device-to-host transfer
        if self.device != "cpu":
            raise TypeError(f"cannot convert a tensor on {self.device} to NumPy implicitly; call .numpy()")
        return self.array if dtype is None else self.array.astype(dtype)

    def _scalar(self, kind: str):
        if self.array.size != 1:
            raise ValueError(f"{kind}(): only a one-element tensor converts to a Python scalar, got shape {self.shape}")
        return self.array.item()

    def __dlpack__(self, **kwargs):
        """Export the data without copying (DLPack), e.g. ``torch.from_dlpack(x)``, ``np.from_dlpack(x)``."""
        if backend.device_of(self.array) == "strict":
            raise TypeError("the 'strict' test device does not export DLPack")
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple:
        """The (device type, device index) pair of DLPack: (1, 0) for the CPU, (2, N) for cuda:N."""
        if backend.device_of(self.array) == "strict":
            raise TypeError("the 'strict' test device does not export DLPack")
        return self.array.__dlpack_device__()

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()"
            )
        return bool(self.array.item())

    def __format__(self, format_spec: str) -> str:
        """``f"{loss:.4f}"``: a 0-d tensor formats as its Python number, as in PyTorch; others as ``str``."""
        if self.ndim == 0:
            return format(self.item(), format_spec)
        return object.__format__(self, format_spec)

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError(f"only one-element integer tensors can be used as an index, got {self.dtype} {self.shape}")
        return int(self.array.item())

    def __repr__(self) -> str:
        body = backend.format_array(self.array, prefix="tensor(")
        extras = [f"dtype={self.dtype}", f"device={self.device}"]
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")  # PyTorch prints the name alone
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}, {', '.join(extras)})"

    # ------------------------------------------------------------ dtypes and devices
    def to(self, *args, dtype=None, device=None) -> Tensor:
        """Move to a device and/or cast to a dtype: ``x.to("cuda")``, ``x.to(tr.float64)``,
        ``x.to("cpu", tr.float64)``, ``x.to(other_tensor)``. Differentiable; returns
        ``self`` when nothing changes."""
        for arg in args:
            if isinstance(arg, TensorBase):
                device, dtype = arg.device, arg.dtype
            elif backend.is_device_name(arg):
                device = arg
            else:
                dtype = arg
        result = self
        if device is not None and backend.normalize_device(device) != self.device:
            result = ops.ToDevice.apply(result, device=backend.normalize_device(device))
        if dtype is not None and backend.as_dtype(dtype) != self.dtype:
            result = ops.Cast.apply(result, dtype=backend.as_dtype(dtype))
        return result

    def cpu(self) -> Tensor:
        """This tensor on the CPU."""
        return self.to("cpu")

    def cuda(self, device: int | str | None = None) -> Tensor:
        """This tensor on a CUDA GPU (``device`` is an index or a name)."""
        return self.to(f"cuda:{device}" if isinstance(device, int) else (device or "cuda"))

    def float(self) -> Tensor:
        """Cast to float32."""
        return self.to(backend.float32)

    def double(self) -> Tensor:
        """Cast to float64."""
        return self.to(backend.float64)

    def half(self) -> Tensor:
        """Cast to float16."""
        return self.to(backend.float16)

    def long(self) -> Tensor:
        """Cast to int64."""
        return self.to(backend.int64)

    def int(self) -> Tensor:
        """Cast to int32."""
        return self.to(backend.int32)

    def bool(self) -> Tensor:
        """Cast to bool."""
        return self.to(backend.bool_)

    def type(self, dtype=None):
        """With no argument, PyTorch's type string: ``"torch.FloatTensor"`` (float32 on the CPU),
        ``"torch.cuda.LongTensor"`` (int64 on a GPU), ... On the ``"strict"`` test device, which
        PyTorch has not, ``"torch.strict.FloatTensor"``.

        With ``dtype`` (a dtype such as ``tr.float64``, or a type string such as ``"torch.LongTensor"``):
        the tensor cast to it, ``self`` if it has that type already. A type string also names the
        device, as in PyTorch: ``"torch.FloatTensor"`` is on the CPU, ``"torch.cuda.FloatTensor"`` on
        a GPU (this tensor's, if it is on one)."""
        if dtype is None:
            if self.dtype not in _TYPE_NAMES:
                raise TypeError(f"type: PyTorch has no type string for dtype {self.dtype}")
            kind = self.device.split(":")[0]
            return f"torch.{'' if kind == 'cpu' else kind + '.'}{_TYPE_NAMES[self.dtype]}"
        if not (isinstance(dtype, str) and dtype.startswith("torch.")):
            return self.to(backend.as_dtype(dtype))
        kind, _, name = dtype[len("torch."):].rpartition(".")
        by_name = {n: d for d, n in _TYPE_NAMES.items()}
        if name not in by_name or kind not in ("", "cuda", "strict"):
            known = ", ".join(f"'torch.{n}'" for n in by_name)
            raise ValueError(f"type: unknown type string {dtype!r}; expected one of {known} (or 'torch.cuda.*')")
        device = "cpu" if not kind else self.device if self.device.startswith(kind) else kind
        return self.to(device, by_name[name])

    # ------------------------------------------------------------ new tensors like this one
    def new_tensor(self, data) -> Tensor:
        """A new tensor from ``data`` with this tensor's dtype and device."""
        from ..creation import tensor  # creation.py builds on the Tensor class, above this module

        return tensor(data, dtype=self.dtype, device=self.device)

    def new_zeros(self, *shape) -> Tensor:
        """Zeros of ``shape`` with this tensor's dtype and device."""
        with backend.device_of_array_context(self.array):
            return self._wrap(self.xp.zeros(shape_arg(shape), dtype=self.dtype))

    def new_ones(self, *shape) -> Tensor:
        """Ones of ``shape`` with this tensor's dtype and device."""
        with backend.device_of_array_context(self.array):
            return self._wrap(self.xp.ones(shape_arg(shape), dtype=self.dtype))

    def new_full(self, size, fill_value) -> Tensor:
        """``fill_value`` everywhere in a tensor of ``size``, with this tensor's dtype and device."""
        with backend.device_of_array_context(self.array):
            return self._wrap(self.xp.full(shape_arg((size,)), fill_value, dtype=self.dtype))

    def new_empty(self, *shape) -> Tensor:
        """PyTorch's uninitialised tensor of ``shape`` like this one, made here as zeros (``new_zeros``)."""
        return self.new_zeros(*shape)

    @property
    def is_cuda(self) -> bool:
        """True when the tensor is on a CUDA GPU."""
        return str(self.device).startswith("cuda")


_TYPE_NAMES = {
    backend.float32: "FloatTensor", backend.float64: "DoubleTensor", backend.float16: "HalfTensor",
    backend.int64: "LongTensor", backend.int32: "IntTensor", backend.int16: "ShortTensor", backend.int8: "CharTensor",
    backend.uint8: "ByteTensor", backend.bool_: "BoolTensor",
}  # dtype -> PyTorch's name of its tensor type


def one_hot(indices: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor with a trailing dimension of ``num_classes``: 1 at each index, else 0."""
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot: indices must be an integer tensor, got dtype {indices.dtype}")
    values = indices.array
    if num_classes == -1:
        num_classes = int(values.max()) + 1 if values.size else 0
    if values.size and (int(values.min()) < 0 or int(values.max()) >= num_classes):
        low, high = int(values.min()), int(values.max())
        raise ValueError(f"one_hot: indices must lie in [0, {num_classes}), got values from {low} to {high}")
    xp = indices.xp
    return indices._wrap((values[..., None] == xp.arange(num_classes)).astype(backend.int64))
