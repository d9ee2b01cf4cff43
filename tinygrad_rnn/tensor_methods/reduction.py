"""Reductions that are ops of their own: ``sum``, ``prod``, ``cumsum`` and ``amax`` (``ops/reduce.py``),
``max``/``min`` with their indices, ``argmax``/``argmin`` (no gradient), and sorting: ``argsort`` (no
gradient), ``sort`` and ``topk``, whose values are a ``gather`` of the sorting indices. The reductions
composed from these (``mean``, ``var``, ``logsumexp``, ``norm``, ...) are in ``composed.py``.

Every reduction takes its dimensions as PyTorch spells them (``dim=``, ``keepdim=``) or as NumPy
does (``axis=``, ``keepdims=``); ``dim_and_keepdim`` is the one place that reads the two spellings.
"""

from __future__ import annotations

import operator
from collections import namedtuple
from typing import TYPE_CHECKING

from .. import backend, ops
from .base import TensorBase, check_dim

if TYPE_CHECKING:  # for annotations only: at run time these modules sit below tensor.py
    from ..tensor import Tensor

UNSET = object()  # marks an argument not given, where None means something (``axis=None``: every axis)

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
ValuesIndices.__doc__ = (
    "What ``x.max(dim)``/``x.min(dim)``, ``x.sort()`` and ``x.topk(k)`` return, as in PyTorch: values and "
    "their indices (a named pair: ``values, indices = x.sort()`` or ``x.sort().values``)."
)


def dim_and_keepdim(name: str, dim, keepdim, axis, keepdims, dim_default=None) -> tuple:
    """``(dim, keepdim)`` from PyTorch's ``dim=``/``keepdim=`` or NumPy's ``axis=``/``keepdims=``.

    Giving both spellings of one argument is an error. ``axis`` counts as given unless it is
    ``UNSET``, or None where None is also ``dim``'s default (both then mean every dimension);
    ``dim`` counts as given when it is not ``dim_default`` (-1 for the softmax family).
    """
    if axis is not UNSET and (axis is not None or dim_default is not None):
        if (dim is not None) if dim_default is None else (dim != dim_default):
            raise TypeError(f"{name}: pass dim= or axis=, not both")
        dim = axis
    if keepdim is not None and keepdims is not None:
        raise TypeError(f"{name}: pass keepdim= or keepdims=, not both")
    return dim, bool(keepdim if keepdim is not None else keepdims)


def reduced_axes(name: str, dim, ndim: int) -> tuple:
    """The axes ``dim`` names (an int, a tuple or list of ints, or None for all), sorted and
    non-negative. A 0-d tensor has no axis to reduce: ``dim`` 0 or -1 reduces nothing."""
    if dim is None:
        return tuple(range(ndim))
    dims = tuple(dim) if isinstance(dim, tuple | list) else (dim,)
    axes = [check_dim(name, operator.index(d), ndim) for d in dims]
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: dim {dims} names the same dimension twice")
    return tuple(sorted(set(axes) - ({0} if ndim == 0 else set())))


class ReductionMethods(TensorBase):
    """The reductions of ``Tensor`` that are ops of their own (see the module docstring)."""

    __slots__ = ()

    def sum(self, dim=None, keepdim=None, *, dtype=None, axis=None, keepdims=None) -> Tensor:
        """Sum over ``dim`` (an int or a tuple; all dimensions if None). ``dtype``: cast to it first (as
        PyTorch does); without it bool and integer tensors sum in int64, as in PyTorch."""
        dim, keepdim = dim_and_keepdim("sum", dim, keepdim, axis, keepdims)
        source = accumulation_source(self, dtype)
        return ops.Sum.apply(source, axes=reduced_axes("sum", dim, self.ndim), keepdims=keepdim)

    def prod(self, dim=None, keepdim=None, *, dtype=None, axis=None, keepdims=None) -> Tensor:
        """Product over ``dim`` (an int; all dimensions if None). ``dtype``: cast to it first; bool and
        integer tensors multiply in int64, as in PyTorch. The gradient of each element is the product
        of the others in its slice, exact with zeros in the input (see ``ops.Prod``)."""
        dim, keepdim = dim_and_keepdim("prod", dim, keepdim, axis, keepdims)
        source = accumulation_source(self, dtype)
        return ops.Prod.apply(source, axes=reduced_axes("prod", dim, self.ndim), keepdims=keepdim)

    def cumsum(self, dim: int, *, dtype=None) -> Tensor:
        """Running sum along ``dim``: ``out[k] = x[0] + ... + x[k]``. ``dtype``: cast to it first; bool
        and integer tensors sum in int64, as in PyTorch."""
        source = accumulation_source(self, dtype)
        if self.ndim == 0:
            check_dim("cumsum", dim, 0)
            return source.reshape(1).cumsum(0).reshape(())
        return ops.CumSum.apply(source, axis=check_dim("cumsum", dim, self.ndim))

    def amax(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Largest value over ``dim``; the gradient is split evenly among ties."""
        dim, keepdim = dim_and_keepdim("amax", dim, keepdim, axis, keepdims)
        if self.numel() == 0:
            raise ValueError(f"amax: cannot reduce an empty tensor of shape {self.shape}")
        return ops.Max.apply(self, axes=reduced_axes("amax", dim, self.ndim), keepdims=keepdim)

    def max(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        """Largest value. With an int ``dim`` (PyTorch's spelling) returns
        ``(values, indices)`` as PyTorch does; with ``axis=`` (NumPy's) only values."""
        dims, keepdim = dim_and_keepdim("max", dim, keepdim, axis, keepdims)
        values = self.amax(dims, keepdim)
        if dim is not None and not isinstance(dim, tuple | list):
            return ValuesIndices(values, self.argmax(dim, keepdim))
        return values

    def min(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        """Smallest value; ``(values, indices)`` for an int ``dim``, as ``max``."""
        dims, keepdim = dim_and_keepdim("min", dim, keepdim, axis, keepdims)
        values = self.amin(dims, keepdim)
        if dim is not None and not isinstance(dim, tuple | list):
            return ValuesIndices(values, self.argmin(dim, keepdim))
        return values

    def argmax(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Index of the largest value over ``dim`` (of the flattened tensor if None). No gradient."""
        return self._arg("argmax", self.xp.argmax, *dim_and_keepdim("argmax", dim, keepdim, axis, keepdims))

    def argmin(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Index of the smallest value over ``dim``. No gradient."""
        return self._arg("argmin", self.xp.argmin, *dim_and_keepdim("argmin", dim, keepdim, axis, keepdims))

    def _arg(self, name: str, function, dim, keepdim: bool) -> Tensor:
        if dim is None:
            index = function(self.array.reshape(-1))
            return self._wrap(index.reshape((1,) * self.ndim) if keepdim else index)
        return self._wrap(function(self.array, axis=check_dim(name, dim, self.ndim), keepdims=keepdim))

    # ------------------------------------------------------------ sorting
    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        """The indices that sort ``self`` along ``dim`` (int64). Always stable: equal elements keep
        their order, ascending or descending, and NaN counts as larger than every number (last
        ascending, first descending), as in PyTorch. PyTorch's ``stable=False`` leaves the order of
        equal elements unspecified; here it is the stable order either way. No gradient."""
        if self.ndim == 0:
            check_dim("argsort", dim, 0)
            with backend.device_of_array_context(self.array):
                return self._wrap(self.xp.zeros((), dtype=backend.int64))
        axis = check_dim("argsort", dim, self.ndim)
        with backend.device_of_array_context(self.array):
            return self._wrap(stable_argsort(self.xp, self.array, axis, bool(descending)))

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> ValuesIndices:
        """``(values, indices)``: ``self`` sorted along ``dim`` and where each value came from, as
        ``argsort`` orders them (stable, NaN largest). The values are differentiable: each gets the
        gradient of its place in the output (``gather``)."""
        indices = self.argsort(dim, descending, stable)
        return ValuesIndices(self.gather(dim, indices), indices)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
        """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) elements along ``dim``,
        best first. Ties: the earlier element ranks first (the stable sort's order); PyTorch leaves the
        order of ties, and which of them a too-small ``k`` keeps, unspecified. ``sorted=False`` gives the
        same sorted result (PyTorch then allows any order). The values are differentiable (``gather``)."""
        size = self.shape[check_dim("topk", dim, self.ndim)] if self.ndim else 1
        try:
            count = None if isinstance(k, bool) else operator.index(k)
        except TypeError:
            count = None
        if count is None or not 0 <= count <= size:
            raise ValueError(f"topk: k must be an int from 0 to {size} (the size of dim {dim}), got {k!r}")
        k = count
        if self.ndim == 0:  # as a 1-element vector; one value comes back 0-d, as in PyTorch
            values, indices = self.reshape(1).topk(k, 0, largest, sorted)
            return ValuesIndices(values.reshape(()), indices.reshape(())) if k else ValuesIndices(values, indices)
        indices = self.argsort(dim, descending=largest).narrow(dim, 0, k)
        return ValuesIndices(self.gather(dim, indices), indices)


def accumulation_source(tensor: Tensor, dtype) -> Tensor:
    """What ``sum``, ``prod`` and ``cumsum`` accumulate: ``tensor`` cast to ``dtype`` if given, else bool
    and integer tensors as int64 (PyTorch's rule; NumPy would keep uint8 as uint64 and int32 on Windows)."""
    if dtype is not None:
        return tensor.to(backend.as_dtype(dtype))
    if tensor.dtype.kind in "biu" and tensor.dtype != backend.int64:
        return tensor.to(backend.int64)
    return tensor


def stable_argsort(xp, array, axis: int, descending: bool):
    """Indices sorting ``array`` along ``axis`` stably (equal elements keep their order), NaN last
    ascending and first descending, as PyTorch. Descending: sort the reversed array ascending, stably,
    and reverse the result; that keeps equal elements in their original order, where sorting the
    negated values would break on unsigned integers and on NaN."""
    if not descending:
        return _argsort(xp, array, axis).astype(backend.int64, copy=False)
    order = xp.flip(_argsort(xp, xp.flip(array, axis=axis), axis), axis=axis)
    return ((array.shape[axis] - 1) - order).astype(backend.int64, copy=False)


def _argsort(xp, array, axis: int):
    try:
        return xp.argsort(array, axis=axis, kind="stable")
    except TypeError:  # CuPy's argsort has no ``kind`` (older versions) and is always stable
        return xp.argsort(array, axis=axis)
