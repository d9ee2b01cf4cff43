"""The Tensor: an array plus what reverse-mode autograd needs.

A tensor holds ``array`` (a NumPy or CuPy array), and, when it takes part in a graph,
``requires_grad``, ``grad_fn`` (the node that made it, see ``autograd.py``) and, after
``backward()``, ``grad``. This file is that autograd part: the fields, ``backward``, hooks,
``detach``, the version counter and the rules of in-place writes (``_write``).

Everything else a tensor can do is a thin door into ``ops/`` or a composition of other
methods, grouped by concern in ``tensor_methods/`` (conversions, arithmetic, shapes,
reductions, composed ops, in-place writes) and mixed into the class below.
"""

from __future__ import annotations

import numpy as np

from . import autograd, backend, ops, unsupported
from .tensor_methods import (  # noqa: F401 (the functions beside the methods stay importable from here)
    ArithmeticMethods,
    ComposedMethods,
    ConversionMethods,
    InPlaceMethods,
    ReductionMethods,
    ShapeMethods,
    ValuesIndices,
    cat,
    one_hot,
    stack,
    where,
)
from .tensor_methods.shape import _index_arrays  # noqa: F401 (the indexing tests import it from here)

_new_object = object.__new__
_ndarray = np.ndarray


def _fill_fields(tensor, array) -> None:
    """Every field of a fresh tensor: ``array`` and the empty autograd state. One function for
    ``_wrap`` (every op's result) and ``_init`` (constructors), written out flat because it runs
    once per op."""
    tensor.array = array
    tensor.requires_grad = False
    tensor.grad = None
    tensor.grad_fn = None
    tensor._output_nr = 0  # which output of grad_fn this is (ops like unbind have several)
    tensor._retains_grad = False
    tensor._hooks = {}
    tensor._version_counter = None  # see Tensor._version: made on the first write or view
    tensor._base = None  # for a view: the tensor whose memory it shares (autograd._mark_views)
    tensor._base_grad_fn = None
    tensor._view_index = None


class _HookHandle:
    """Returned by ``register_hook``; ``handle.remove()`` takes the hook off."""

    def __init__(self, hooks: dict, key: int):
        self.hooks, self.key = hooks, key

    def remove(self) -> None:
        self.hooks.pop(self.key, None)


class Tensor(ConversionMethods, ArithmeticMethods, ShapeMethods, ReductionMethods, ComposedMethods, InPlaceMethods):
    """An n-dimensional array that records the ops applied to it, for ``backward()``.

    Make one with ``tr.tensor(data)``, ``tr.zeros(...)``, ``tr.randn(...)``, ...
    ``Tensor(...)`` itself is PyTorch's legacy constructor: ``tr.Tensor(2, 3)`` is a float32 (2, 3)
    tensor (of zeros; uninitialised in PyTorch), ``tr.Tensor([1, 2])`` is float32 ``[1., 2.]`` even
    from ints, ``tr.Tensor(t)`` is ``t`` under another name, ``tr.Tensor()`` is empty; ``device=`` is
    its only keyword (see ``legacy_tensors.py``).
    """

    __slots__ = (
        "array", "requires_grad", "grad", "grad_fn", "_output_nr", "_retains_grad", "_hooks", "_version_counter",
        "_base", "_base_grad_fn", "_view_index", "__weakref__",
    )

    def __new__(cls, *args, **kwargs):
        """``Tensor(...)``: PyTorch's legacy constructor, made whole here (``__init__`` then has nothing to do).
        A subclass (``nn.Parameter``) gets a blank object and fills it in its own ``__init__``."""
        if cls is not Tensor:
            return object.__new__(cls)
        from .legacy_tensors import legacy_tensor  # it builds on this class

        return legacy_tensor("Tensor", backend.float32, args, kwargs)

    def __init__(self, *args, **kwargs):
        if type(self) is Tensor:
            return  # __new__ made it
        from .legacy_tensors import legacy_tensor  # a subclass without an __init__ of its own

        made = legacy_tensor(type(self).__name__, backend.float32, args, kwargs)
        self._init(made.array)
        self._version_counter = made._shared_version_counter()

    def _init(self, array, requires_grad: bool = False) -> None:
        _fill_fields(self, array)
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _wrap(array) -> Tensor:
        """Wrap an array without copying (the ops' fast path). NumPy scalars, which NumPy
        returns for 0-d results, become 0-d arrays, so ``data`` is always an array.

        Always a plain ``Tensor``, also as ``self._wrap`` on a subclass (``nn.Parameter``):
        what an op on a parameter makes is an ordinary tensor, not another parameter."""
        tensor = _new_object(Tensor)
        _fill_fields(tensor, array if type(array) is _ndarray else backend.as_array(array))
        return tensor

    # ------------------------------------------------------------ the version counter
    @property
    def _version(self) -> int:
        """How many times this tensor's memory was written in place (PyTorch's ``t._version``).

        A node records the versions of what its backward reads; backward refuses if they moved.
        Views and ``detach()`` share one counter with their base (a write through any of them
        is a write to all). The counter is made on first need: most tensors are never written
        or viewed, and a list per tensor would cost an allocation per op."""
        counter = self._version_counter
        return 0 if counter is None else counter[0]

    def _bump_version(self) -> None:
        """Count one in-place write to this tensor's memory."""
        counter = self._version_counter
        if counter is None:
            self._version_counter = [1]
        else:
            counter[0] += 1

    def _shared_version_counter(self) -> list:
        """This tensor's counter, made now if it has none, for a view or alias to share."""
        if self._version_counter is None:
            self._version_counter = [0]
        return self._version_counter

    # ------------------------------------------------------------ the data
    @property
    def shape(self) -> tuple:
        """The size of each dimension, a tuple of ints."""
        return self.array.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.array.ndim

    @property
    def dtype(self):
        """The element type, e.g. ``tr.float32``."""
        return self.array.dtype

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"cuda:N"``."""
        return backend.device_of(self.array)

    @property
    def xp(self):
        """The array module (numpy or cupy) that holds this tensor's data."""
        return backend.module_of(self.array)

    @property
    def data(self) -> Tensor:
        """PyTorch's ``.data``: a tensor sharing this one's memory, outside the graph.

        ``p.data.add_(p.grad, alpha=-lr)`` and ``w.data.uniform_(-0.1, 0.1)`` change ``p`` and
        ``w`` in place without recording anything. One difference from PyTorch, on purpose: the
        result shares this tensor's version counter (as ``detach()`` does), so a write through
        ``.data`` into a value that a graph saved makes that graph's backward raise instead of
        silently using the new values. The raw array is ``.array`` (NumPy on the CPU, CuPy on
        the GPU); ``.numpy()`` copies it to the host."""
        return self.detach()

    @data.setter
    def data(self, value) -> None:
        """``p.data = t`` makes ``p`` hold ``t``'s values (its memory, shape and dtype), as in PyTorch.
        The version is bumped, so a graph that saved the old values refuses to backward."""
        array = value.array if isinstance(value, Tensor) else value
        if not backend.is_array(array):
            raise TypeError(f"data: expected a Tensor or an array, got {type(value).__name__}")
        if backend.device_of(array) != self.device:
            raise RuntimeError(f"data: the new value is on {backend.device_of(array)}, this tensor on {self.device}")
        self.array = array
        self._bump_version()

    # ------------------------------------------------------------ autograd
    @property
    def is_leaf(self) -> bool:
        """True when no op made this tensor (so backward stores its gradient in ``.grad``)."""
        return self.grad_fn is None

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
        detached = Tensor._wrap(self.array)
        detached._version_counter = self._shared_version_counter()  # same memory, same version counter
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

    # ------------------------------------------------------------ the rules of in-place writes
    # The writes themselves (``x[i] = v``, ``+=``, ``add_``, ...) are in tensor_methods/inplace.py.
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
            result = self._fit_result(name, compute(Tensor._wrap(self.array)))
            if result.array is not self.array:
                self.array[...] = result.array
            self._bump_version()
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
        if result.array is not self.array:
            self.array[...] = result.array
        self._bump_version()
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
        strides = getattr(self.array, "strides", ())
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


class _UnsupportedMethod:
    """A PyTorch ``Tensor`` method listed in ``unsupported.py``, as a class attribute whose reading
    raises the ``AttributeError`` that says what to use instead (so ``hasattr`` is False and
    ``getattr(t, name, default)`` gives the default). A descriptor per listed name, not a
    ``__getattr__`` method: a class with a Python ``__getattr__`` pays for it on *every* attribute
    lookup of its instances (about 12 ns each, dozens per op), and a tensor's are the hot path."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, tensor, owner=None):
        raise unsupported.missing("tinygrad_rnn.Tensor", self.name, tensor)


for _name in unsupported.UNSUPPORTED["tinygrad_rnn.Tensor"]:
    setattr(Tensor, _name, _UnsupportedMethod(_name))
del _name
