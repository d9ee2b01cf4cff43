"""Ops written as compositions of other ops: ``mean``, ``var``, ``std``, ``amin``, ``logsumexp``,
``log_softmax``, ``softmax``, ``norm``, ``masked_fill``, ``dropout``.

Their gradients come for free: the backward of a composition is the composition of the
backwards (the chain rule), so the engine differentiates them through the nodes their ops
record, and they need no backward code. What is left to write is numerics: which formula
keeps the forward (and so the gradient) accurate (see docs/architecture.md, "Numerics").
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

from .. import autograd, backend, ops
from .arithmetic import where
from .base import TensorBase
from .reduction import UNSET, dim_and_keepdim, reduced_axes

if TYPE_CHECKING:  # for annotations only: at run time these modules sit below tensor.py
    from ..tensor import Tensor


class ComposedMethods(TensorBase):
    """The composed ops of ``Tensor`` (see the module docstring)."""

    __slots__ = ()

    def mean(self, dim=None, keepdim=None, *, dtype=None, axis=None, keepdims=None) -> Tensor:
        """Mean over ``dim``: the sum divided by the number of elements summed. ``dtype``: cast to it first."""
        dim, keepdim = dim_and_keepdim("mean", dim, keepdim, axis, keepdims)
        axes = reduced_axes("mean", dim, self.ndim)
        source = self if dtype is None else self.to(backend.as_dtype(dtype))
        source = source if source.dtype.kind == "f" else source.float()
        count = math.prod(self.shape[a] for a in axes)
        return source.sum(axes, keepdim) / count

    def var(self, dim=None, unbiased=UNSET, keepdim=None, *, correction=None, axis=None, keepdims=None) -> Tensor:
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
        dim, keepdim = dim_and_keepdim("var", dim, keepdim, axis, keepdims)
        axes = reduced_axes("var", dim, self.ndim)
        centered = self - self.mean(axes, keepdim=True)
        count = math.prod(self.shape[a] for a in axes)
        return (centered * centered).sum(axes, keepdim) / max(count - correction, 0)

    def std(self, dim=None, unbiased=UNSET, keepdim=None, *, correction=None, axis=None, keepdims=None) -> Tensor:
        """Standard deviation √var, with ``var``'s signatures (``std(dim, unbiased, keepdim)``,
        ``correction=``, ``std(unbiased)``, ``axis=``/``keepdims=``).

        Where the variance is exactly 0 (a constant input) the gradient is 0, as in PyTorch,
        not 0 · ∞ = NaN: d√v/dv = 1/(2√v) is infinite there, and a constant feature in a
        normalisation would otherwise poison every weight with NaN.
        """
        variance = self.var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
        flat = autograd.constant(variance.array == 0)
        # The sqrt runs on 1 where the variance is 0, so its derivative stays finite there (even the
        # second one); the outer where then gives 0 and sends no gradient through those elements.
        return where(flat, 0.0, where(flat, 1.0, variance).sqrt())

    def amin(self, dim=None, keepdim=None, *, axis=None, keepdims=None) -> Tensor:
        """Smallest value over ``dim``: min x = -max(-x), so ties share the gradient as in ``amax``.
        Unsigned and bool tensors (no gradient) are reduced directly: their -x wraps around."""
        if self.dtype.kind in "bu":
            dim, keepdim = dim_and_keepdim("amin", dim, keepdim, axis, keepdims)
            if self.numel() == 0:
                raise ValueError(f"amin: cannot reduce an empty tensor of shape {self.shape}")
            return self._wrap(backend.as_array(self.array.min(axis=reduced_axes("amin", dim, self.ndim),
                                                              keepdims=bool(keepdim))))
        return -(-self).amax(dim, keepdim, axis=axis, keepdims=keepdims)

    def _shifted_by_max(self, name: str, dim) -> tuple:
        """``(axes, x - m, m)`` with m = max x over ``dim`` (every axis if None), detached, and 0
        where it is not finite (a row of -inf stays -inf). Subtracting m first keeps exp from
        overflowing and keeps x - m exact, where m + log Σ exp(x - m) would round away the small
        part next to a large m."""
        axes = reduced_axes(name, dim, self.ndim)
        shift = self.detach().amax(axes, keepdim=True)
        shift = autograd.constant(self.xp.where(self.xp.isfinite(shift.array), shift.array, 0))
        return axes, self - shift, shift

    def logsumexp(self, dim=-1, keepdim=None, *, axis=UNSET, keepdims=None) -> Tensor:
        """log Σ exp(x) over ``dim`` (the last by default, all if None), computed as
        m + log Σ exp(x - m) with m = max x, so nothing overflows. m is a constant shift:
        the gradient (softmax) is unchanged."""
        dim, keepdim = dim_and_keepdim("logsumexp", dim, keepdim, axis, keepdims, dim_default=-1)
        axes, shifted, shift = self._shifted_by_max("logsumexp", dim)
        total = shifted.exp().sum(axes, keepdim=True).log() + shift
        return total if keepdim else total.squeeze(axes)

    def log_softmax(self, dim=-1, *, axis=UNSET) -> Tensor:
        """log softmax(x) = (x - m) - log Σ exp(x - m) over ``dim`` (the last by default), m = max x.

        Not x - logsumexp(x): in float32 logsumexp(x) ≈ m is rounded to m's precision, which
        for |x| ~ 1e4 is 1e-3, and x - logsumexp(x) would inherit that error. The gradient,
        1 - softmax(x), is unchanged by the constant shift m.
        """
        dim, _ = dim_and_keepdim("log_softmax", dim, None, axis, None, dim_default=-1)
        axes, shifted, _ = self._shifted_by_max("log_softmax", dim)
        return shifted - shifted.exp().sum(axes, keepdim=True).log()

    def softmax(self, dim=-1, *, axis=UNSET) -> Tensor:
        """softmax(x)ᵢ = exp(xᵢ - m) / Σⱼ exp(xⱼ - m) over ``dim`` (the last by default), m = max x:
        the same formula PyTorch uses, so the values agree to rounding for any |x|."""
        dim, _ = dim_and_keepdim("softmax", dim, None, axis, None, dim_default=-1)
        axes, shifted, _ = self._shifted_by_max("softmax", dim)
        e = shifted.exp()
        return e / e.sum(axes, keepdim=True)

    def diag(self, diagonal: int = 0) -> Tensor:
        """A 1-D tensor's values on a diagonal of a square matrix, or a 2-D tensor's diagonal (``tr.diag``)."""
        from ..functional_forms import diag  # it sits above this module

        return diag(self, diagonal)

    def norm(self, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
        """The vector p-norm over ``dim`` (all elements if None): ``(Σ|x|^p)^(1/p)``.

        ``p``: ``"fro"`` or 2 (√Σx², the default, PyTorch's), 1 (Σ|x|), ``inf`` (max |x|), ``-inf``
        (min |x|), 0 (the number of nonzeros, no gradient) or any other positive number. ``dtype``:
        cast to it first; the input must be floating point, as in PyTorch. Where the norm is 0 its
        gradient is 0 (not 0/0 = NaN), as in PyTorch: the root's derivative is infinite there.
        """
        source = self if dtype is None else self.to(backend.as_dtype(dtype))
        if source.dtype.kind != "f":
            raise TypeError(f"norm: expects a floating point tensor, got dtype {source.dtype}; pass dtype= or "
                            "call .float() first")
        axes = reduced_axes("norm", dim, self.ndim)
        if p == "fro" or (p == 2 and not isinstance(p, bool)):
            return _root(source.square().sum(axes, keepdim), 2)
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise ValueError(f"norm: p must be 'fro' or a number (2, 1, inf, -inf, 0, or any other > 0), got {p!r}")
        if p == math.inf:
            return source.abs().amax(axes, keepdim)
        if p == -math.inf:
            return source.abs().amin(axes, keepdim)
        if p == 1:
            return source.abs().sum(axes, keepdim)
        if p == 0:
            return (source != 0).sum(axes, keepdim).to(source.dtype)
        if p < 0 or math.isnan(p):
            raise ValueError(f"norm: p must be positive (or 0, inf, -inf, 'fro'), got {p}")
        return _root((source.abs() ** p).sum(axes, keepdim), p)

    def masked_fill(self, mask, value) -> Tensor:
        """``value`` where the bool tensor ``mask`` is true, else ``self`` (they broadcast together).

        ``value`` is a number or a 0-d tensor, cast to ``self``'s dtype (``int_tensor.masked_fill(m, 2.7)``
        writes 2, as in PyTorch). The gradient flows to ``self`` where the mask is false and, for a
        tensor ``value``, to it from every place it filled.
        """
        if not isinstance(mask, TensorBase) or mask.dtype != backend.bool_:
            got = f"dtype {mask.dtype}" if isinstance(mask, TensorBase) else type(mask).__name__
            raise TypeError(f"masked_fill: mask must be a bool tensor, got {got}")
        if isinstance(value, TensorBase):
            if value.ndim != 0:
                raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
            value = value.to(self.device, self.dtype)
        else:
            if backend.is_numpy_scalar(value):
                value = value.item()
            if not isinstance(value, bool | int | float):
                raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got {type(value).__name__}")
            with backend.device_of_array_context(self.array):
                value = self._wrap(self.xp.asarray(value, dtype=self.dtype))
        return ops.Where.apply(mask, value, self)

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


def _root(total: Tensor, p) -> Tensor:
    """``total ** (1/p)`` (``sqrt`` for p = 2), and 0 with a gradient of 0 where ``total`` is 0: the root
    runs on 1 there (its derivative stays finite), and the outer ``where`` sends nothing through."""
    flat = autograd.constant(total.array == 0)
    inner = where(flat, 1.0, total)
    return where(flat, 0.0, inner.sqrt() if p == 2 else inner ** (1.0 / p))


def _variance_arguments(name: str, dim, unbiased, keepdim, correction, axis, keepdims) -> tuple:
    """Resolve PyTorch's signatures of ``var``/``std`` to ``(dim, correction)``.

    ``x.var(0, False)`` reads the second positional argument as ``unbiased`` (as PyTorch
    does), and a bool first argument, ``x.var(False)``, is the one-argument form
    ``var(unbiased)``. ``unbiased`` and ``correction`` exclude each other.
    """
    if isinstance(dim, bool):  # var(unbiased): PyTorch accepts nothing else beside it
        given = [n for n, v in (("unbiased", unbiased), ("keepdim", keepdim), ("correction", correction),
                                ("axis", axis), ("keepdims", keepdims)) if v is not UNSET and v is not None]
        if given:
            raise TypeError(f"{name}(unbiased): a bool first argument is unbiased, which takes no {given[0]}=; "
                            f"pass dim= for the dimensions")
        dim, unbiased = None, dim
    if unbiased is UNSET:
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
