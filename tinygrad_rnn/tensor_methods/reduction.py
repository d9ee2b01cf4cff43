"""Reductions that are ops of their own: ``sum``, ``prod``, ``cumsum`` and ``amax`` (``ops/reduce.py``),
``max``/``min`` with their indices (the values a ``gather`` of them), ``argmax``/``argmin`` (no
gradient), and sorting: ``argsort`` (no gradient), ``sort`` and ``topk``, whose values are a ``gather``
of the sorting indices. Each method's docstring gives its rule for ties and where PyTorch's CPU kernels
may differ. The reductions composed from these (``mean``, ``var``, ``logsumexp``, ``norm``, ...) are in
``composed.py``.

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
        """Largest value. With an int ``dim`` (PyTorch's spelling) returns ``(values, indices)`` as PyTorch
        does; with ``axis=`` (NumPy's) or no dim, only values.

        Ties, as PyTorch on CPU: the index is that of the *first* largest element of the slice, and NaN
        counts as largest (the first NaN wins), exactly as ``argmax``. The values are those elements
        (a ``gather`` of the indices), so, as in PyTorch, the whole gradient of each value goes to the
        element its index names; ``amax`` and ``max()`` without a dim split it evenly among ties."""
        dims, keepdim = dim_and_keepdim("max", dim, keepdim, axis, keepdims)
        if dim is not None and not isinstance(dim, tuple | list):
            return self._picked("max", dim, keepdim)
        return self.amax(dims, keepdim)

    def min(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        """Smallest value; ``(values, indices)`` for an int ``dim``, as ``max``: the first smallest
        element of the slice (NaN wins here too: the first NaN, as in PyTorch), and the
        gradient of each value goes to that element."""
        dims, keepdim = dim_and_keepdim("min", dim, keepdim, axis, keepdims)
        if dim is not None and not isinstance(dim, tuple | list):
            return self._picked("min", dim, keepdim)
        return self.amin(dims, keepdim)

    def _picked(self, name: str, dim, keepdim: bool) -> ValuesIndices:
        """``max(dim)``/``min(dim)``: the index of the first extreme (NaN first) and the value there, read
        with ``gather`` so that its gradient goes to that one element (PyTorch's rule for these two)."""
        indices = self.argmax(dim, True) if name == "max" else self.argmin(dim, True)
        if self.ndim == 0:  # a 0-d tensor: dim 0 or -1 names the one element
            return ValuesIndices(self.reshape(()), indices.reshape(()))
        axis = check_dim(name, dim, self.ndim)
        values = self.gather(axis, indices)
        return ValuesIndices(values, indices) if keepdim else ValuesIndices(values.squeeze(axis), indices.squeeze(axis))

    def argmax(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Index of the largest value over ``dim`` (of the flattened tensor if None). No gradient.

        Ties, as PyTorch on CPU (checked against it for every size and dtype, ``dim`` or not): the
        index of the *first* largest element, NaN counting as larger than every number (so the first
        NaN, if any). ``argmax(tensor([1., 3., 3.]))`` is 1; ``argmax(tensor([1., nan, 3., nan]))`` is 1."""
        return self._arg("argmax", self.xp.argmax, *dim_and_keepdim("argmax", dim, keepdim, axis, keepdims))

    def argmin(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Index of the smallest value over ``dim``. No gradient. Ties, as PyTorch on CPU: the *first*
        smallest element, except that NaN wins here too (the first NaN, if any), as in PyTorch."""
        return self._arg("argmin", self.xp.argmin, *dim_and_keepdim("argmin", dim, keepdim, axis, keepdims))

    def _arg(self, name: str, function, dim, keepdim: bool) -> Tensor:
        if dim is None:
            index = function(self.array.reshape(-1))
            return self._wrap(index.reshape((1,) * self.ndim) if keepdim else index)
        return self._wrap(function(self.array, axis=check_dim(name, dim, self.ndim), keepdims=keepdim))

    # ------------------------------------------------------------ sorting
    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        """The indices that sort ``self`` along ``dim`` (int64). No gradient.

        NaN counts as larger than every number (last ascending, first descending), and equal elements
        keep their order, ascending or descending: the stable order, whatever ``stable`` says.

        Against PyTorch on CPU: ``stable=True`` gives PyTorch's order exactly. With ``stable=False`` (its
        default) PyTorch sorts each slice with libstdc++'s ``std::sort`` (introsort), whose order of
        equal elements is the stable one for slices of at most 16 elements (it finishes with an
        insertion sort) and depends on the whole slice beyond that: there the values agree, and the
        indices of tied elements may be ordered differently from PyTorch's. Slices without equal values
        (NaNs count as equal to each other, as do 0.0 and -0.0) agree, and so do ascending sorts of 1-d
        integer tensors of 32768 elements or more, which PyTorch radix-sorts (stably)."""
        if self.ndim == 0:
            check_dim("argsort", dim, 0)
            with backend.device_of_array_context(self.array):
                return self._wrap(self.xp.zeros((), dtype=backend.int64))
        axis = check_dim("argsort", dim, self.ndim)
        with backend.device_of_array_context(self.array):
            return self._wrap(stable_argsort(self.xp, self.array, axis, bool(descending)))

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> ValuesIndices:
        """``(values, indices)``: ``self`` sorted along ``dim`` and where each value came from, in
        ``argsort``'s order (stable whatever ``stable`` says, NaN largest; PyTorch's order exactly with
        ``stable=True``, and with ``stable=False`` for slices of at most 16 elements or without ties: see
        ``argsort``). The values are differentiable: each gets the gradient of its place in the output
        (``gather``), so a tied value's gradient goes to the element its index names."""
        indices = self.argsort(dim, descending, stable)
        return ValuesIndices(self.gather(dim, indices), indices)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
        """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) elements along ``dim``,
        best first, NaN counting as largest. The values are differentiable (``gather``): each value's
        gradient goes to the element its index names.

        Ties: the first ``k`` of the stable sort, so among equal values the earlier element is kept and
        ranks first; ``sorted=False`` gives that same sorted result.

        Against PyTorch on CPU, whose ``topk`` has no rule for ties: for a slice of n elements it runs
        libstdc++'s ``std::partial_sort`` (a heap) when 64·k <= n, else ``std::nth_element`` followed,
        with ``sorted=True``, by ``std::sort`` of the first k - 1; equal values come out in whatever
        order those leave them, and which of the values tied with the k-th are kept depends on the
        whole slice. The values always agree (with ``sorted=True``). The indices agree where the slice
        has no ties (``sorted=True``, or ``sorted=False`` with 64·k <= n: otherwise PyTorch leaves the k
        unsorted), for k = 1 when 64 <= n (the heap keeps the first best), and for n <= 3; with ties
        elsewhere PyTorch's indices point at the same values in another order or at other tied
        elements: ``tensor([2., 2., 1., 2.]).topk(2)`` is indices ``[0, 1]`` here, ``[1, 3]`` in PyTorch."""
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
    ascending and first descending: PyTorch's ``sort(stable=True)`` exactly. Descending: sort the reversed
    array ascending, stably, and reverse the result; that keeps equal elements in their original order,
    where sorting the negated values would break on unsigned integers and on NaN."""
    if not descending:
        return _argsort(xp, array, axis).astype(backend.int64, copy=False)
    order = xp.flip(_argsort(xp, xp.flip(array, axis=axis), axis), axis=axis)
    return ((array.shape[axis] - 1) - order).astype(backend.int64, copy=False)


def _argsort(xp, array, axis: int):
    try:
        return xp.argsort(array, axis=axis, kind="stable")
    except TypeError:  # CuPy's argsort has no ``kind`` (older versions) and is always stable
        return xp.argsort(array, axis=axis)
