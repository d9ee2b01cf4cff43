"""The Tensor: an array plus what reverse-mode autograd needs.

A tensor holds ``data`` (a NumPy or CuPy array), and, when it takes part in a
graph, ``requires_grad``, ``grad_fn`` (the node that made it, see ``autograd.py``)
and, after ``backward()``, ``grad``. Its methods are thin doors into the ops in
``ops/``; the ones that are compositions of other ops (mean, var, softmax,
logsumexp, dropout, ...) are written out here, so their gradients come for free.
"""

from __future__ import annotations

import math
import operator
from collections import namedtuple

from . import autograd, backend, ops

_UNSET = object()  # marks an argument not given, where None means something

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
ValuesIndices.__doc__ = "What ``x.max(dim)``/``x.min(dim)`` return, as in PyTorch: values and their indices."


def _shape_arg(shape) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` alike."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def _pick(name: str, torch_value, numpy_value, torch_name: str, numpy_name: str):
    """Take an argument under its PyTorch or its NumPy spelling (``dim``/``axis``), not both."""
    if torch_value is not None and numpy_value is not None:
        raise TypeError(f"{name}: pass {torch_name}= or {numpy_name}=, not both")
    return torch_value if torch_value is not None else numpy_value


def _variance_arguments(name: str, dim, unbiased, keepdim, correction, axis, keepdims) -> tuple:
    """Resolve PyTorch's signatures of ``var``/``std`` to ``(dim, correction)``.

    ``x.var(0, False)`` reads the second positional argument as ``unbiased`` (as PyTorch
    does), and a bool first argument, ``x.var(False)``, is the one-argument form
    ``var(unbiased)``. ``unbiased`` and ``correction`` exclude each other.
    """
    if isinstance(dim, bool):  # var(unbiased): PyTorch accepts nothing else beside it
        given = [n for n, v in (("unbiased", unbiased), ("keepdim", keepdim), ("correction", correction),
                                ("axis", axis), ("keepdims", keepdims)) if v is not _UNSET and v is not None]
        if given:
            raise TypeError(f"{name}(unbiased): a bool first argument is unbiased, which takes no {given[0]}=; "
                            f"pass dim= for the dimensions")
        dim, unbiased = None, dim
    if unbiased is _UNSET:
        if correction is None:
            return dim, 1
        if not isinstance(correction, int | float):  # a bool is a number here too, as in PyTorch
            raise TypeError(f"{name}: correction must be a number, got {type(correction).__name__}")
        return dim, correction
    if correction is not None:
        raise TypeError(f"{name}: pass unbiased= or correction=, not both (unbiased=True is correction=1)")
    if not isinstance(unbiased, bool):
        raise TypeError(f"{name}: unbiased (the second positional argument, as in PyTorch) must be a bool, "
                        f"got {unbiased!r}; for keepdim pass keepdim=")
    return dim, int(unbiased)


def _check_dim(name: str, dim: int, ndim: int, extra: int = 0) -> int:
    """A dimension index, negative counting from the end, checked and made non-negative."""
    size = ndim + extra
    if not -max(size, 1) <= dim < max(size, 1):
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % size if size else 0


class _HookHandle:
    """Returned by ``register_hook``; ``handle.remove()`` takes the hook off."""

    def __init__(self, hooks: dict, key: int):
        self.hooks, self.key = hooks, key

    def remove(self) -> None:
        self.hooks.pop(self.key, None)


class Tensor:
    """An n-dimensional array that records the ops applied to it, for ``backward()``.

    Make one with ``tr.tensor(data)``, ``tr.zeros(...)``, ``tr.randn(...)``, ...
    ``Tensor(data)`` works too and means ``tr.tensor(data)``.
    """

    __slots__ = (
        "data", "requires_grad", "grad", "grad_fn", "_output_nr", "_retains_grad", "_hooks", "_version",
        "_base", "_base_grad_fn", "_view_index", "__weakref__",
    )
    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected operator
    __hash__ = object.__hash__  # == is elementwise, yet tensors stay usable as dict keys

    def __init__(self, data, dtype=None, device=None, requires_grad: bool = False):
        from .creation import _array_from  # creation.py builds on this class

        self._init(_array_from(data, dtype, device), requires_grad)

    def _init(self, array, requires_grad: bool = False) -> None:
        self.data = array
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0  # which output of grad_fn this is (ops like unbind have several)
        self._retains_grad = False
        self._hooks = {}
        self._version = [0]  # bumped by in-place writes; shared with views of the same memory
        self._base = None  # for a view: the tensor whose memory it shares (autograd._mark_views)
        self._base_grad_fn = None
        self._view_index = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array) -> Tensor:
        """Wrap an array without copying (the ops' fast path). NumPy scalars, which NumPy
        returns for 0-d results, become 0-d arrays, so ``data`` is always an array."""
        tensor = object.__new__(cls)
        tensor._init(backend.as_array(array))
        return tensor

    # ------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple:
        """The size of each dimension, a tuple of ints."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self):
        """The element type, e.g. ``tr.float32``."""
        return self.data.dtype

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"cuda:N"``."""
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True when no op made this tensor (so backward stores its gradient in ``.grad``)."""
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the transpose, for a matrix)."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped (a batch of transposed matrices)."""
        return self.transpose(-2, -1)

    def dim(self) -> int:
        """The number of dimensions (PyTorch's spelling of ``ndim``)."""
        return self.data.ndim

    def size(self, dim: int | None = None):
        """The shape, or the size of dimension ``dim``."""
        return self.shape if dim is None else self.shape[_check_dim("size", dim, self.ndim)]

    def numel(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    # ------------------------------------------------------------ conversion
    def item(self):
        """The value of a one-element tensor as a Python number."""
        return self._scalar("item")

    def numpy(self):
        """The values as a NumPy array on the host (shares memory on the CPU)."""
        return backend.to_numpy(self.data)

    def tolist(self):
        """The values as (nested) Python lists of numbers."""
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        if self.device != "cpu":
            raise TypeError(f"cannot convert a tensor on {self.device} to NumPy implicitly; call .numpy()")
        return self.data if dtype is None else self.data.astype(dtype)

    def _scalar(self, kind: str):
        if self.data.size != 1:
            raise ValueError(f"{kind}(): only a one-element tensor converts to a Python scalar, got shape {self.shape}")
        return self.data.item()

    def __dlpack__(self, **kwargs):
        """Export the data without copying (DLPack), e.g. ``torch.from_dlpack(x)``, ``np.from_dlpack(x)``."""
        if backend.device_of(self.data) == "strict":
            raise TypeError("the 'strict' test device does not export DLPack")
        return self.data.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple:
        """The (device type, device index) pair of DLPack: (1, 0) for the CPU, (2, N) for cuda:N."""
        if backend.device_of(self.data) == "strict":
            raise TypeError("the 'strict' test device does not export DLPack")
        return self.data.__dlpack_device__()

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()"
            )
        return bool(self.data.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(f"only one-element integer tensors can be used as an index, got {self.dtype} {self.shape}")
        return int(self.data.item())

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __repr__(self) -> str:
        body = backend.format_array(self.data, prefix="tensor(")
        extras = [f"dtype={self.dtype}", f"device={self.device}"]
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}, {', '.join(extras)})"

    def to(self, *args, dtype=None, device=None) -> Tensor:
        """Move to a device and/or cast to a dtype: ``x.to("cuda")``, ``x.to(tr.float64)``,
        ``x.to("cpu", tr.float64)``, ``x.to(other_tensor)``. Differentiable; returns
        ``self`` when nothing changes."""
        for arg in args:
            if isinstance(arg, Tensor):
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

    def new_tensor(self, data) -> Tensor:
        """A new tensor from ``data`` with this tensor's dtype and device."""
        from .creation import tensor

        return tensor(data, dtype=self.dtype, device=self.device)

    def new_zeros(self, *shape) -> Tensor:
        """Zeros of ``shape`` with this tensor's dtype and device."""
        with backend.device_of_array_context(self.data):
            return Tensor._wrap(self.xp.zeros(_shape_arg(shape), dtype=self.dtype))

    def new_ones(self, *shape) -> Tensor:
        """Ones of ``shape`` with this tensor's dtype and device."""
        with backend.device_of_array_context(self.data):
            return Tensor._wrap(self.xp.ones(_shape_arg(shape), dtype=self.dtype))

    @property
    def xp(self):
        """The array module (numpy or cupy) that holds this tensor's data."""
        return backend.module_of(self.data)

    # ------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording ops on this leaf tensor; returns ``self``."""
        if requires_grad and not backend.is_floating(self.dtype):
            raise RuntimeError(f"only floating-point tensors can require gradients, got dtype {self.dtype}")
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same data (shared memory) cut out of the graph: no grad_fn, no gradient."""
        detached = Tensor._wrap(self.data)
        detached._version = self._version  # same memory, same version counter
        return detached

    def clone(self) -> Tensor:
        """A copy with its own memory that stays in the graph."""
        return ops.Clone.apply(self)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if not self.is_leaf:
            self._retains_grad = True

    def register_hook(self, hook) -> _HookHandle:
        """Call ``hook(grad)`` with this tensor's gradient during backward.

        The hook may return a new gradient to use instead. Returns a handle whose
        ``remove()`` takes the hook off. Useful to watch gradients per time step.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook() on a tensor that does not require grad")
        key = id(hook) if id(hook) not in self._hooks else max(self._hooks) + 1
        self._hooks[key] = hook
        return _HookHandle(self._hooks, key)

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf), times ``gradient``, into every leaf's ``.grad``.

        ``gradient`` (same shape as ``self``) may be left out for a one-element tensor,
        where it is 1. The graph is freed afterwards unless ``retain_graph=True``;
        with ``create_graph=True`` the gradients get a graph of their own.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no grad_fn: "
                "no input of the ops that made it had requires_grad=True"
            )
        gradient = autograd.initial_gradient(self, gradient, "gradient")
        retain = create_graph if retain_graph is None else retain_graph
        autograd.run_backward([self], [gradient], retain, create_graph)

    # ------------------------------------------------------------ in place
    def _write(self, name: str, compute, operands=(), copy_old: bool = False) -> Tensor:
        """The one road of every in-place change: ``x += y``, ``x.mul_(y)``, ``x[i] = v``, ``x.copy_(y)``.

        ``compute(old)`` builds the new values out of place with ordinary ops, from ``old``,
        a tensor that stands for the values before the write. The values are then written
        into this tensor's own memory (its identity, views and other references see them)
        and the version counter is bumped. When a graph is recorded, the graph is *rebased*:
        ``old`` takes over this tensor's past (``autograd.split_history``) and this tensor
        becomes the output of the write's node (``autograd.adopt_history``), so later uses
        differentiate through the write and earlier uses still reach the old values' history.
        ``copy_old``: the write's backward reads the old values (``mul_``), so keep a copy.
        See docs/architecture.md, "In-place writes".
        """
        self._check_writable(name)
        recording = autograd.is_grad_enabled() and (
            self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in operands)
        )
        if not recording:
            result = self._fit_result(name, compute(Tensor._wrap(self.data)))
            if result.data is not self.data:
                self.data[...] = result.data
            self._version[0] += 1
            return self
        if self._base is not None and self._view_index is not None:
            return self._write_through_view(name, compute, copy_old)
        self._check_rebase(name)
        old = autograd.split_history(self, copy_values=copy_old)
        try:
            result = self._fit_result(name, compute(old))
        except Exception:
            autograd.join_history(self, old)  # nothing was written: undo the split
            raise
        if result.data is not self.data:
            self.data[...] = result.data
        self._version[0] += 1
        autograd.adopt_history(self, result)
        return self

    def _write_through_view(self, name: str, compute, copy_old: bool) -> Tensor:
        """A recorded write into ``view = base[index]`` (``x[i] += 1``, ``x[:, 0].mul_(2)``) is a write
        into ``base[index]``: the new values are computed from the view's old values, ``base`` gets
        the ``SetItem`` node (rebased as any write), and the view is re-read from the new ``base``."""
        base, index = self._base, self._view_index
        if base.grad_fn is not self._base_grad_fn:
            autograd._refuse_stale_view(type(self), self)
        if base.is_leaf and base.requires_grad:
            raise RuntimeError(
                f"{name}: this tensor is a view of a leaf tensor that requires grad, which cannot be changed "
                "in place while gradients are recorded; do it under `with tr.no_grad():`"
            )
        old = autograd.split_history(self, copy_values=copy_old)
        try:
            result = self._fit_result(name, compute(old))
        except Exception:
            autograd.join_history(self, old)
            raise
        base._write(name, lambda old_base: ops.SetItem.apply(old_base, result, index=index), (result,))
        autograd.adopt_history(self, ops.GetItem.apply(base, index=index))
        self._base_grad_fn = base.grad_fn
        return self

    def _check_writable(self, name: str) -> None:
        strides = getattr(self.data, "strides", ())
        if any(s == 0 and n > 1 for s, n in zip(strides, self.shape)):
            raise RuntimeError(
                f"{name}: this tensor of shape {self.shape} is an expanded view (several elements share one memory "
                "location), so it cannot be written in place; write into a .clone() of it"
            )

    def _check_rebase(self, name: str) -> None:
        """Refuse the in-place writes PyTorch refuses, and writes through views (see architecture.md)."""
        if self.is_leaf and self.requires_grad:
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad cannot be changed in place while "
                "gradients are recorded; do it under `with tr.no_grad():`"
            )
        if self._base is not None:
            raise RuntimeError(
                f"{name}: this tensor (shape {self.shape}) is a view of another (shape {self._base.shape}) made by "
                "reshape, permute, expand, split or chained indexing, and writing in place into such a view while "
                "gradients are recorded is not supported (only views made by one basic index, x[i] or x[:, j], are): "
                "it would not reach the other tensor's graph. Write into the base tensor itself "
                "(base[index] = value), or into a .clone() of the view."
            )

    def _fit_result(self, name: str, result: Tensor) -> Tensor:
        """The new values must fit this tensor: same shape, a dtype that casts to this one (as in PyTorch)."""
        if result.shape != self.shape:
            raise RuntimeError(
                f"{name}: the result has shape {result.shape}, which does not fit in this tensor's shape {self.shape}"
            )
        if result.dtype != self.dtype:
            if not backend.can_cast_in_place(result.dtype, self.dtype):
                raise RuntimeError(f"{name}: a result of dtype {result.dtype} can't be stored in a {self.dtype} tensor")
            result = result.to(self.dtype)
        return result

    def _value_for(self, value) -> Tensor:
        """A value to write into this tensor: a tensor as it is (moved or cast by the write), else a new one."""
        return value if isinstance(value, Tensor) else self.new_tensor(value)

    def __setitem__(self, index, value) -> None:
        """``x[index] = value``, in place and recorded (see ``_write``); ``value`` broadcasts."""
        index = _index_arrays(index, self)
        value = self._value_for(value)
        if value.dtype != self.dtype:  # PyTorch casts the value to the tensor's dtype
            value = value.to(self.dtype)
        if not index.is_basic and value.requires_grad and autograd.is_grad_enabled():
            _refuse_repeated_positions(self, index)
        self._write("__setitem__", lambda old: ops.SetItem.apply(old, value, index=index), (value,))

    def copy_(self, source) -> Tensor:
        """Copy the values of ``source`` (broadcast to this shape, cast to this dtype, moved to this
        device) into this tensor. Recorded: the gradient flows to ``source``."""
        source = self._value_for(source)
        if source.device != self.device:
            source = source.to(self.device)
        if source.dtype != self.dtype:
            source = source.to(self.dtype)
        write = lambda old: ops.SetItem.apply(old, source, index=_WHOLE)  # noqa: E731
        return self._write("copy_", write, (source,))

    def fill_(self, value) -> Tensor:
        """Set every element to ``value`` (a number or a one-element tensor)."""
        return self.copy_(value if isinstance(value, Tensor) else self.new_tensor(value))

    def zero_(self) -> Tensor:
        """Set every element to 0."""
        return self.fill_(0)

    def uniform_(self, low: float = 0.0, high: float = 1.0) -> Tensor:
        """Fill with values drawn uniformly from [low, high)."""
        # only random() and standard_normal(): the draws NumPy's and CuPy's generators share
        with backend.device_of_array_context(self.data):
            values = low + (high - low) * backend.generator(self.device).random(self.shape)
            return self.copy_(Tensor._wrap(values))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with values drawn from N(mean, std²)."""
        with backend.device_of_array_context(self.data):
            values = mean + std * backend.generator(self.device).standard_normal(self.shape)
            return self.copy_(Tensor._wrap(values))

    def __iadd__(self, other):
        return self._write("+=", lambda old: old + other, (other,))

    def __isub__(self, other):
        return self._write("-=", lambda old: old - other, (other,))

    def __imul__(self, other):
        return self._write("*=", lambda old: old * other, (other,), copy_old=True)

    def __itruediv__(self, other):
        return self._write("/=", lambda old: old / other, (other,), copy_old=True)

    def add_(self, other, alpha=1) -> Tensor:
        """In place: ``self += alpha * other``. PyTorch's old form ``add_(alpha, other)`` works too."""
        other = _scaled(other, alpha, "add_")
        return self._write("add_", lambda old: old + other, (other,))

    def sub_(self, other, alpha=1) -> Tensor:
        """In place: ``self -= alpha * other``. PyTorch's old form ``sub_(alpha, other)`` works too."""
        other = _scaled(other, alpha, "sub_")
        return self._write("sub_", lambda old: old - other, (other,))

    def mul_(self, other) -> Tensor:
        """In place: ``self *= other``."""
        return self._write("mul_", lambda old: old * other, (other,), copy_old=True)

    def div_(self, other) -> Tensor:
        """In place: ``self /= other``."""
        return self._write("div_", lambda old: old / other, (other,), copy_old=True)

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002 (PyTorch's argument names)
        """In place: limit values to [min, max]."""
        return self._write("clamp_", lambda old: old.clamp(min, max), (min, max), copy_old=True)

    clip_ = clamp_

    # ------------------------------------------------------------ arithmetic
    def _operand(self, other) -> Tensor:
        """``other`` as a tensor; a Python scalar takes this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if backend.is_numpy_scalar(other):
            other = other.item()
        if isinstance(other, bool | int | float):
            dtype = backend.scalar_operand_dtype(other, self.dtype)
            with backend.device_of_array_context(self.data):
                return Tensor._wrap(self.xp.asarray(other, dtype=dtype))
        if backend.is_array(other):
            return Tensor._wrap(other)
        raise TypeError(f"expected a Tensor, an array or a Python number, got {type(other).__name__}")

    def _promoted(self, other, reflected: bool = False, floating: bool = False) -> tuple:
        """``(self, other)`` (swapped if ``reflected``) cast to the dtype PyTorch computes in
        (``backend.operands_result_type``: float32 with a 0-d float64 stays float32, an int
        tensor with a float makes that float). ``floating``: an integer result becomes the
        default float (true division)."""
        other = self._operand(other)
        a, b = (other, self) if reflected else (self, other)
        if a.dtype == b.dtype and (a.dtype.kind == "f" or not floating):
            return a, b  # the common case, kept cheap: nothing to cast
        common = a.dtype if a.dtype == b.dtype else backend.operands_result_type(a, b)
        if floating and common.kind != "f":
            common = backend.DEFAULT_FLOAT
        return a.to(common), b.to(common)

    def _binary(self, op, other, reflected: bool = False, floating: bool = False) -> Tensor:
        return op.apply(*self._promoted(other, reflected, floating))

    def __add__(self, other):
        return self._binary(ops.Add, other)

    def __radd__(self, other):
        return self._binary(ops.Add, other, reflected=True)

    def __sub__(self, other):
        return self._binary(ops.Sub, other)

    def __rsub__(self, other):
        return self._binary(ops.Sub, other, reflected=True)

    def __mul__(self, other):
        return self._binary(ops.Mul, other)

    def __rmul__(self, other):
        return self._binary(ops.Mul, other, reflected=True)

    def __truediv__(self, other):
        return self._binary(ops.Div, other, floating=True)  # true division of integers gives floats

    def __rtruediv__(self, other):
        return self._binary(ops.Div, other, reflected=True, floating=True)

    def __pow__(self, exponent):
        if backend.is_numpy_scalar(exponent):
            exponent = exponent.item()
        if isinstance(exponent, int | float) and not isinstance(exponent, bool):
            base = self.float() if isinstance(exponent, float) and self.dtype.kind in "biu" else self
            return ops.PowScalar.apply(base, exponent=exponent)
        return self._binary(ops.Pow, exponent)

    def __rpow__(self, base):
        return self._binary(ops.Pow, base, reflected=True)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __abs__(self):
        return self.abs()

    def __matmul__(self, other):
        return ops.MatMul.apply(self, self._operand(other))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(self._operand(other), self)

    def matmul(self, other) -> Tensor:
        """Matrix product ``self @ other`` (1-D, 2-D or batched, as NumPy's matmul)."""
        return self @ other

    def add(self, other) -> Tensor:
        """``self + other``."""
        return self + other

    def sub(self, other) -> Tensor:
        """``self - other``."""
        return self - other

    def mul(self, other) -> Tensor:
        """``self * other``."""
        return self * other

    def div(self, other) -> Tensor:
        """``self / other``."""
        return self / other

    def pow(self, exponent) -> Tensor:
        """``self ** exponent``."""
        return self**exponent

    def neg(self) -> Tensor:
        """``-self``."""
        return -self

    # ------------------------------------------------------------ comparisons (no gradient)
    def _compare(self, function, other) -> Tensor:
        # compared in the promoted dtype, as PyTorch does: float32 == 0-d float64 compares in float32
        a, b = self._promoted(other)
        if a.shape != b.shape:
            ops.broadcast.broadcast_shape("comparison", a.shape, b.shape)
        return Tensor._wrap(function(a.data, b.data))

    def __lt__(self, other):
        return self._compare(self.xp.less, other)

    def __le__(self, other):
        return self._compare(self.xp.less_equal, other)

    def __gt__(self, other):
        return self._compare(self.xp.greater, other)

    def __ge__(self, other):
        return self._compare(self.xp.greater_equal, other)

    def __eq__(self, other):
        return self._compare(self.xp.equal, other)

    def __ne__(self, other):
        return self._compare(self.xp.not_equal, other)

    def eq(self, other) -> Tensor:
        """Elementwise ``self == other`` as a bool tensor."""
        return self == other

    def any(self) -> Tensor:
        """True if any element is nonzero (a bool tensor)."""
        return Tensor._wrap(self.xp.any(self.data))

    def all(self) -> Tensor:
        """True if every element is nonzero (a bool tensor)."""
        return Tensor._wrap(self.xp.all(self.data))

    def isfinite(self) -> Tensor:
        """Elementwise: not inf and not NaN."""
        return Tensor._wrap(self.xp.isfinite(self.data))

    def isnan(self) -> Tensor:
        """Elementwise: is NaN."""
        return Tensor._wrap(self.xp.isnan(self.data))

    # ------------------------------------------------------------ elementwise functions
    def exp(self) -> Tensor:
        """eˣ."""
        return ops.Exp.apply(self)

    def log(self) -> Tensor:
        """Natural logarithm ln x."""
        return ops.Log.apply(self)

    def sqrt(self) -> Tensor:
        """√x."""
        return ops.Sqrt.apply(self)

    def abs(self) -> Tensor:
        """|x|."""
        return ops.Abs.apply(self)

    def sin(self) -> Tensor:
        """sin x."""
        return ops.Sin.apply(self)

    def cos(self) -> Tensor:
        """cos x."""
        return ops.Cos.apply(self)

    def tanh(self) -> Tensor:
        """tanh x = (eˣ - e⁻ˣ) / (eˣ + e⁻ˣ)."""
        return ops.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        """σ(x) = 1 / (1 + e⁻ˣ), computed without overflow."""
        return ops.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        """max(x, 0)."""
        return ops.Relu.apply(self)

    def clip(self, min=None, max=None) -> Tensor:  # noqa: A002 (PyTorch's argument names)
        """Limit values to [min, max]; either bound may be None."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        return ops.Clip.apply(self, low=min, high=max)

    clamp = clip

    def maximum(self, other) -> Tensor:
        """Elementwise larger of ``self`` and ``other``."""
        return self._binary(ops.Maximum, other)

    def minimum(self, other) -> Tensor:
        """Elementwise smaller of ``self`` and ``other``."""
        return self._binary(ops.Minimum, other)

    # ------------------------------------------------------------ reductions
    def _axes(self, name: str, dim, axis) -> tuple:
        dims = _pick(name, dim, axis, "dim", "axis")
        if dims is None:
            return tuple(range(self.ndim))
        dims = tuple(dims) if isinstance(dims, tuple | list) else (dims,)
        axes = [_check_dim(name, operator.index(d), self.ndim) for d in dims]
        if len(set(axes)) != len(axes):
            raise ValueError(f"{name}: dim {dims} names the same dimension twice")
        return tuple(sorted(set(axes) - ({0} if self.ndim == 0 else set())))

    @staticmethod
    def _keep(name: str, keepdim, keepdims) -> bool:
        return bool(_pick(name, keepdim, keepdims, "keepdim", "keepdims"))

    def sum(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Sum over ``dim`` (an int or a tuple; all dimensions if None)."""
        return ops.Sum.apply(self, axes=self._axes("sum", dim, axis), keepdims=self._keep("sum", keepdim, keepdims))

    def mean(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Mean over ``dim``: the sum divided by the number of elements summed."""
        axes = self._axes("mean", dim, axis)
        source = self if self.dtype.kind == "f" else self.float()
        count = math.prod(self.shape[a] for a in axes)
        return source.sum(axes, self._keep("mean", keepdim, keepdims)) / count

    def var(self, dim=None, unbiased=_UNSET, keepdim=None, *, correction=None, axis=None, keepdims=None) -> Tensor:
        """Variance over ``dim`` (all dimensions if None or empty):

            var = Σ(x - mean)² / max(n - correction, 0)

        PyTorch's signatures: ``var(dim, unbiased=True, keepdim=False)`` (``unbiased`` means
        correction 1, else 0), ``var(dim, *, correction=1, keepdim=False)`` and ``var(unbiased)``
        (``x.var(False)``: all elements, biased). NumPy's ``axis=``/``keepdims=`` work too.
        ``correction=1`` (the default) is the unbiased estimate, ``correction=0`` NumPy's default.
        """
        dim, correction = _variance_arguments("var", dim, unbiased, keepdim, correction, axis, keepdims)
        if isinstance(dim, tuple | list) and not dim:
            dim = None  # PyTorch reduces every dimension for dim=() (NumPy would reduce none)
        axes = self._axes("var", dim, axis)
        centered = self - self.mean(axes, keepdim=True)
        count = math.prod(self.shape[a] for a in axes)
        return (centered * centered).sum(axes, self._keep("var", keepdim, keepdims)) / max(count - correction, 0)

    def std(self, dim=None, unbiased=_UNSET, keepdim=None, *, correction=None, axis=None, keepdims=None) -> Tensor:
        """Standard deviation √var, with ``var``'s signatures (``std(dim, unbiased, keepdim)``,
        ``correction=``, ``std(unbiased)``, ``axis=``/``keepdims=``).

        Where the variance is exactly 0 (a constant input) the gradient is 0, as in PyTorch,
        not 0 · ∞ = NaN: d√v/dv = 1/(2√v) is infinite there, and a constant feature in a
        normalisation would otherwise poison every weight with NaN.
        """
        variance = self.var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
        flat = autograd.constant(variance.data == 0)
        # The sqrt runs on 1 where the variance is 0, so its derivative stays finite there (even the
        # second one); the outer where then gives 0 and sends no gradient through those elements.
        return where(flat, 0.0, where(flat, 1.0, variance).sqrt())

    def amax(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Largest value over ``dim``; the gradient is split evenly among ties."""
        if self.numel() == 0:
            raise ValueError(f"amax: cannot reduce an empty tensor of shape {self.shape}")
        return ops.Max.apply(self, axes=self._axes("amax", dim, axis), keepdims=self._keep("amax", keepdim, keepdims))

    def amin(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Smallest value over ``dim`` (the largest of the negation, negated)."""
        return -(-self).amax(dim, keepdim, axis=axis, keepdims=keepdims)

    def max(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        """Largest value. With an int ``dim`` (PyTorch's spelling) returns
        ``(values, indices)`` as PyTorch does; with ``axis=`` (NumPy's) only values."""
        if dim is not None and not isinstance(dim, tuple | list):
            values = self.amax(dim, keepdim, keepdims=keepdims)
            return ValuesIndices(values, self.argmax(dim, self._keep("max", keepdim, keepdims)))
        return self.amax(dim, keepdim, axis=axis, keepdims=keepdims)

    def min(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        """Smallest value; ``(values, indices)`` for an int ``dim``, as ``max``."""
        if dim is not None and not isinstance(dim, tuple | list):
            values = self.amin(dim, keepdim, keepdims=keepdims)
            return ValuesIndices(values, self.argmin(dim, self._keep("min", keepdim, keepdims)))
        return self.amin(dim, keepdim, axis=axis, keepdims=keepdims)

    def _arg(self, name: str, function, dim, keepdim, axis, keepdims) -> Tensor:
        dim = _pick(name, dim, axis, "dim", "axis")
        keep = self._keep(name, keepdim, keepdims)
        if dim is None:
            index = function(self.data.reshape(-1))
            return Tensor._wrap(index.reshape((1,) * self.ndim) if keep else index)
        return Tensor._wrap(function(self.data, axis=_check_dim(name, dim, self.ndim), keepdims=keep))

    def argmax(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Index of the largest value over ``dim`` (of the flattened tensor if None). No gradient."""
        return self._arg("argmax", self.xp.argmax, dim, keepdim, axis, keepdims)

    def argmin(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Index of the smallest value over ``dim``. No gradient."""
        return self._arg("argmin", self.xp.argmin, dim, keepdim, axis, keepdims)

    def _shifted_by_max(self, name: str, dim, axis) -> tuple:
        """``(axes, x - m, m)`` with m = max x over ``dim`` (the last by default, every axis if
        None; ``axis=`` is NumPy's spelling), detached, and 0 where it is not finite (a row of
        -inf stays -inf). Subtracting m first keeps exp from overflowing and keeps x - m exact,
        where m + log Σ exp(x - m) would round away the small part next to a large m."""
        if axis is not _UNSET:  # NumPy's spelling (where None means every axis); dim left at its default
            if dim != -1:
                raise TypeError(f"{name}: pass dim= or axis=, not both")
            dim = axis
        axes = self._axes(name, dim, None)
        shift = self.detach().amax(axes, keepdim=True)
        shift = autograd.constant(self.xp.where(self.xp.isfinite(shift.data), shift.data, 0))
        return axes, self - shift, shift

    def logsumexp(self, dim=-1, keepdim=None, *, axis=_UNSET, keepdims=None) -> Tensor:
        """log Σ exp(x) over ``dim`` (the last by default, all if None), computed as
        m + log Σ exp(x - m) with m = max x, so nothing overflows. m is a constant shift:
        the gradient (softmax) is unchanged."""
        keepdim = self._keep("logsumexp", keepdim, keepdims)
        axes, shifted, shift = self._shifted_by_max("logsumexp", dim, axis)
        total = shifted.exp().sum(axes, keepdim=True).log() + shift
        return total if keepdim else total.squeeze(axes)

    def log_softmax(self, dim=-1, *, axis=_UNSET) -> Tensor:
        """log softmax(x) = (x - m) - log Σ exp(x - m) over ``dim`` (the last by default), m = max x.

        Not x - logsumexp(x): in float32 logsumexp(x) ≈ m is rounded to m's precision, which
        for |x| ~ 1e4 is 1e-3, and x - logsumexp(x) would inherit that error. The gradient,
        1 - softmax(x), is unchanged by the constant shift m.
        """
        axes, shifted, _ = self._shifted_by_max("log_softmax", dim, axis)
        return shifted - shifted.exp().sum(axes, keepdim=True).log()

    def softmax(self, dim=-1, *, axis=_UNSET) -> Tensor:
        """softmax(x)ᵢ = exp(xᵢ - m) / Σⱼ exp(xⱼ - m) over ``dim`` (the last by default), m = max x:
        the same formula PyTorch uses, so the values agree to rounding for any |x|."""
        axes, shifted, _ = self._shifted_by_max("softmax", dim, axis)
        e = shifted.exp()
        return e / e.sum(axes, keepdim=True)

    def dropout(self, p: float = 0.5, training: bool = True) -> Tensor:
        """Zero each element with probability ``p`` and scale the rest by 1/(1-p), so the
        expected value is unchanged; the identity when not ``training``."""
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
        if not training or p == 0.0:
            return self
        if p == 1.0:
            return self * 0.0
        keep = backend.generator(self.device).random(self.shape) >= p
        return self * autograd.constant((keep / (1.0 - p)).astype(self.dtype))

    # ------------------------------------------------------------ shape
    def reshape(self, *shape) -> Tensor:
        """Same values in a new shape (one size may be -1). Always a new tensor (a view), even
        for the same shape, as in PyTorch, so hooks, ``retain_grad`` and ``tr.grad`` on it act
        on it, not on ``self``; the same holds for ``permute``, ``transpose``, ``expand`` and
        ``squeeze`` that change nothing."""
        return ops.Reshape.apply(self, shape=_shape_arg(shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions ``start_dim`` .. ``end_dim`` into one. As in PyTorch, merging a
        single dimension (``start_dim == end_dim``, e.g. any 1-D tensor) returns ``self``
        itself, and a 0-d tensor becomes shape (1,)."""
        if self.ndim == 0:
            return self.reshape(1)
        start = _check_dim("flatten", start_dim, self.ndim)
        end = _check_dim("flatten", end_dim, self.ndim)
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {self.shape}")
        if start == end:
            return self  # PyTorch returns the input itself here (not a view)
        # the merged size spelled out, not -1: NumPy cannot infer -1 when a size is 0
        merged = math.prod(self.shape[start : end + 1])
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1 :])

    def squeeze(self, dim=None) -> Tensor:
        """Drop dimensions of size 1 (only those in ``dim``, an int or tuple, if given)."""
        if dim is None:
            dims = {i for i, n in enumerate(self.shape) if n == 1}
        else:
            dims = {_check_dim("squeeze", d, self.ndim) for d in ((dim,) if isinstance(dim, int) else dim)}
            dims = {d for d in dims if self.ndim and self.shape[d] == 1}
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in dims))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a dimension of size 1 at ``dim``."""
        dim = _check_dim("unsqueeze", dim, self.ndim, extra=1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def permute(self, *dims) -> Tensor:
        """Reorder dimensions: ``x.permute(2, 0, 1)``."""
        dims = tuple(_check_dim("permute", d, self.ndim) for d in _shape_arg(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not an ordering of the {self.ndim} dimensions of {self.shape}")
        return ops.Permute.apply(self, dims=dims)

    def transpose(self, *dims) -> Tensor:
        """``x.transpose(0, 1)`` swaps two dimensions (PyTorch); ``x.transpose()``
        reverses them and ``x.transpose((1, 0, 2))`` permutes them (NumPy)."""
        if len(dims) == 2 and all(isinstance(d, int) for d in dims):
            order = list(range(self.ndim))
            a, b = _check_dim("transpose", dims[0], self.ndim), _check_dim("transpose", dims[1], self.ndim)
            order[a], order[b] = order[b], order[a]
            return ops.Permute.apply(self, dims=tuple(order))
        return self.T if not dims else self.permute(*dims)

    swapaxes = transpose

    def expand(self, *sizes) -> Tensor:
        """Broadcast to ``sizes`` without copying; -1 keeps a dimension's size."""
        sizes = _shape_arg(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: target {sizes} has fewer dimensions than the tensor's shape {self.shape}")
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
        return ops.Expand.apply(self, shape=shape)

    def broadcast_to(self, *shape) -> Tensor:
        """Broadcast to ``shape`` (NumPy's name for ``expand``)."""
        return self.expand(*shape)

    def __getitem__(self, index) -> Tensor:
        """``x[index]`` with PyTorch's semantics: ints select first, then index arrays follow
        NumPy's rule among themselves (see ``ops/indexing.py``); repeated indices add up in
        the backward."""
        return ops.GetItem.apply(self, index=_index_arrays(index, self))

    def split(self, split_size_or_sections, dim: int = 0) -> tuple:
        """Cut along ``dim`` into pieces of size ``split_size_or_sections`` (the last may be
        smaller) or into pieces of the listed sizes."""
        dim = _check_dim("split", dim, self.ndim)
        length = self.shape[dim]
        if isinstance(split_size_or_sections, int):
            step = split_size_or_sections
            if step <= 0:
                raise ValueError(f"split: split size must be positive, got {step}")
            sizes = [min(step, length - start) for start in range(0, length, step)] or [0]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != length:
                raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, but dim {dim} has size {length}")
        return ops.Split.apply(self, sizes=tuple(sizes), axis=dim)

    def unbind(self, dim: int = 0) -> tuple:
        """The slices along ``dim`` as a tuple of tensors, one dimension fewer each
        (``h_t`` for each time step of a sequence)."""
        return ops.Unbind.apply(self, axis=_check_dim("unbind", dim, self.ndim))

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """Cut along ``dim`` into ``chunks`` pieces of size ceil(n / chunks) (fewer if n is small)."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        length = self.shape[_check_dim("chunk", dim, self.ndim)]
        return self.split(max(1, -(-length // chunks)), dim)

    def where(self, condition, other) -> Tensor:
        """``self`` where ``condition`` holds, else ``other`` (PyTorch's method form)."""
        return where(condition, self, other)


# What makes PyTorch read a list index as a tuple of indices (its "treatSequenceAsTuple", deprecated):
# a list shorter than 32 that holds any of these.
_TUPLE_LIKE_ITEMS = (Tensor, list, tuple, range, slice)


def _index_arrays(index, tensor: Tensor) -> ops.indexing.Index:
    """The plan (``ops.indexing.Index``) for indexing ``tensor`` with ``index``, the one
    conversion that reading, its backward and writing (``index_read``, ``index_add``,
    ``index_write``) all use. Tensors, lists and NumPy arrays become arrays of ``tensor``'s
    device; a 0-d integer tensor selects like an int, as in PyTorch."""
    if isinstance(index, list) and len(index) < 32 and any(
        isinstance(item, _TUPLE_LIKE_ITEMS) or item is None or item is Ellipsis or backend.is_array(item)
        for item in index
    ):
        raise IndexError(
            "x[[...]] with a list that holds lists, tensors, slices, None or Ellipsis is ambiguous: PyTorch "
            "reads it as a tuple of indices (deprecated), NumPy as one index array. Write x[tuple(seq)] "
            "or x[tr.tensor(seq)]"
        )
    if not isinstance(index, tuple):
        index = (index,)
    converted = []
    for item in index:
        if isinstance(item, Tensor):
            if item.dtype.kind not in "biu":
                raise IndexError(f"tensors used as indices must be integer or bool, got {item.dtype}")
            item = backend.to_device(item.data, tensor.device)  # a CPU index for a GPU tensor is fine
        elif isinstance(item, list | tuple | range):
            item = tensor.xp.asarray(item, dtype=backend.int64 if len(item) == 0 else None)
        elif backend.is_array(item):  # a NumPy index array for a tensor elsewhere: move it over, explicitly
            item = backend.to_device(item, tensor.device)
        elif backend.is_numpy_scalar(item):
            item = item.item()
        converted.append(item)
    return ops.indexing.make_index(tuple(converted), tensor.shape, tensor.xp)


_WHOLE = ops.indexing.Index((Ellipsis,), None)  # x[...]: every element (copy_ writes through it)


def _refuse_repeated_positions(tensor: Tensor, index: ops.indexing.Index) -> None:
    """``x[[0, 0]] = v``: which of v's rows lands is unspecified (NumPy and PyTorch keep the last,
    PyTorch's gradient goes to both), so a write that would be differentiated is refused."""
    positions = ops.indexing.index_read(tensor.xp.arange(tensor.numel()).reshape(tensor.shape), index)
    if int(tensor.xp.unique(positions).size) != int(positions.size):
        raise RuntimeError(
            "__setitem__: the index names some element more than once, so which value lands there is "
            "unspecified and the gradient would be ambiguous; use an index without repeats"
        )


def _scaled(other, alpha, name: str):
    """``alpha * other`` for ``add_``/``sub_``, accepting PyTorch's deprecated ``add_(alpha, other)``."""
    if isinstance(alpha, Tensor) and not isinstance(other, Tensor):  # the old form: add_(Number alpha, Tensor other)
        other, alpha = alpha, other
    if isinstance(alpha, Tensor):
        raise TypeError(f"{name}(other, alpha=1): alpha must be a number, got a tensor of shape {alpha.shape}")
    return other if alpha == 1 else other * alpha


def where(condition, input, other) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """``input`` where ``condition`` is true, else ``other``; the two may be tensors or numbers."""
    like = input if isinstance(input, Tensor) else other
    if not isinstance(like, Tensor):
        raise TypeError("where: at least one of input and other must be a Tensor")
    condition = condition if isinstance(condition, Tensor) else like._operand(condition)
    if condition.dtype != backend.bool_:
        condition = condition.bool()
    a, b = like._operand(input), like._operand(other)
    if a.dtype != b.dtype:  # PyTorch's promotion: a 0-d branch does not widen a dimensioned one of its kind
        common = backend.operands_result_type(a, b)
        a, b = a.to(common), b.to(common)
    return ops.Where.apply(condition, a, b)


def cat(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dimension; all other sizes must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    first = tensors[0]
    dim = _check_dim("cat", dim if axis is None else axis, first.ndim)
    for position, other in enumerate(tensors[1:], start=1):
        if other.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(first.shape, other.shape)) if i != dim
        ):
            raise ValueError(
                f"cat: tensors must match in every dimension but {dim}; "
                f"tensors[0] has shape {first.shape}, tensors[{position}] has shape {other.shape}"
            )
    common = backend.result_type(*(t.dtype for t in tensors))  # PyTorch's: int64 with float32 is float32
    return ops.Cat.apply(*(t.to(common) for t in tensors), axis=dim)


def stack(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join same-shaped tensors along a new dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for position, other in enumerate(tensors[1:], start=1):
        if other.shape != tensors[0].shape:
            raise ValueError(
                f"stack: expects tensors of one shape; tensors[0] has shape {tensors[0].shape}, "
                f"tensors[{position}] has shape {other.shape}"
            )
    dim = _check_dim("stack", dim if axis is None else axis, tensors[0].ndim, extra=1)
    return cat([t.unsqueeze(dim) for t in tensors], dim)


def one_hot(indices: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor with a trailing dimension of ``num_classes``: 1 at each index, else 0."""
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot: indices must be an integer tensor, got dtype {indices.dtype}")
    values = indices.data
    if num_classes == -1:
        num_classes = int(values.max()) + 1 if values.size else 0
    if values.size and (int(values.min()) < 0 or int(values.max()) >= num_classes):
        low, high = int(values.min()), int(values.max())
        raise ValueError(f"one_hot: indices must lie in [0, {num_classes}), got values from {low} to {high}")
    xp = indices.xp
    return Tensor._wrap((values[..., None] == xp.arange(num_classes)).astype(backend.int64))
