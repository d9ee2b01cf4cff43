"""Reductions that are ops of their own: ``sum`` and ``amax`` (``ops/reduce.py``), ``max``/``min``
with their indices, and ``argmax``/``argmin`` (no gradient). The reductions composed from these
(``mean``, ``var``, ``logsumexp``, ...) are in ``composed.py``.

Every reduction takes its dimensions as PyTorch spells them (``dim=``, ``keepdim=``) or as NumPy
does (``axis=``, ``keepdims=``); ``dim_and_keepdim`` is the one place that reads the two spellings.
"""

from __future__ import annotations

import operator
from collections import namedtuple
from typing import TYPE_CHECKING

from .. import ops
from .base import TensorBase, check_dim

if TYPE_CHECKING:  # for annotations only: at run time these modules sit below tensor.py
    from ..tensor import Tensor

UNSET = object()  # marks an argument not given, where None means something (``axis=None``: every axis)

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
ValuesIndices.__doc__ = "What ``x.max(dim)``/``x.min(dim)`` return, as in PyTorch: values and their indices."


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

    def sum(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Sum over ``dim`` (an int or a tuple; all dimensions if None)."""
        dim, keepdim = dim_and_keepdim("sum", dim, keepdim, axis, keepdims)
        return ops.Sum.apply(self, axes=reduced_axes("sum", dim, self.ndim), keepdims=keepdim)

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
