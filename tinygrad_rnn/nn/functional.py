"""Functions of ``nn``: activations, dropout, linear maps, padding, normalisation, as
``torch.nn.functional``, and the losses of ``loss_functions.py`` (re-exported here). Every one is
written with Tensor ops, so its gradient comes from the engine, except ``gelu``'s Φ (NumPy has no
erf: ``special.NormalCdf``, whose backward is Tensor ops too)."""

from __future__ import annotations

import math
import numbers

from .. import ops
from ..ops.broadcast import broadcasts_to
from ..tensor import Tensor, cat, one_hot, where
from ..unsupported import module_getattr as _module_getattr
from .loss_functions import (  # noqa: F401 (the losses are functional's names too; losses.py reads the helper)
    _refuse_legacy_reduction,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .special import NormalCdf

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "elu", "embedding",
    "gelu", "huber_loss", "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "mse_loss", "nll_loss",
    "normalize", "one_hot", "pad", "relu", "sigmoid", "silu", "smooth_l1_loss", "softmax", "tanh",
]

__getattr__ = _module_getattr(__name__)  # a missing PyTorch name says what to use instead (unsupported.py)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = x Wᵀ + b, with W of shape (out_features, in_features) as in PyTorch. ``input`` and ``bias``
    must have the weight's dtype: as in PyTorch nothing is promoted (an int64 input would otherwise
    give float64 out of a float32 layer)."""
    for what, tensor in (("input", input), ("bias", bias)):
        if tensor is not None and tensor.dtype != weight.dtype:
            # an integer model is no remedy (its init and optimizers are fractional): suggest it for floats only
            model = f" or model.to({str(tensor.dtype)!r})" if tensor.dtype.kind == "f" else ""
            raise TypeError(f"linear: expected {what} of the weight's dtype {weight.dtype}, got {tensor.dtype}; "
                            f"convert it (e.g. {what}.to({str(weight.dtype)!r})){model}")
    if input.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input has {input.shape[-1]} features (shape {input.shape}) but the weight "
            f"expects {weight.shape[-1]} (weight shape {weight.shape})"
        )
    if bias is not None and weight.ndim == 2:
        out_shape = input.shape[:-1] + weight.shape[:1]
        if not broadcasts_to(bias.shape, out_shape):
            raise ValueError(f"linear: bias of shape {bias.shape} does not broadcast to the output's shape "
                             f"{out_shape}; expected ({weight.shape[0]},), one value per output feature")
        if input.ndim >= 2:  # x Wᵀ + b as one node (the rows of a batch or sequence together)
            return ops.AddMM.apply(bias, input, weight, transpose_b=True)
    if input.ndim >= 2 and weight.ndim == 2:  # x Wᵀ as one node (no transpose node, in forward or backward)
        out = ops.MatMul.apply(input, weight, transpose_b=True)
    else:
        out = input @ weight.T
    return out if bias is None else out + bias


def relu(input: Tensor) -> Tensor:  # noqa: A002
    """max(x, 0)."""
    return input.relu()


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """tanh x."""
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + e⁻ˣ)."""
    return input.sigmoid()


def _refuse_inplace(name: str, inplace: bool) -> None:
    if inplace:
        raise ValueError(f"{name}: inplace=True is not supported here; the result is a new tensor (inplace=False)")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """GELU(x) = x·Φ(x), Φ the standard normal CDF ½·(1 + erf(x/√2)); its derivative is Φ(x) + x·φ(x),
    φ(x) = e^(-x²/2)/√(2π). Φ is accurate to float64 rounding (W. J. Cody's erf, ``nn/special.py``), also
    in the lower tail, where PyTorch's 1 + erf(x/√2) rounds to 0 below x ≈ -8.3 (a difference < 1e-15).
    ``approximate="tanh"``: ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as in PyTorch."""
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise TypeError(f"gelu: input must be a floating tensor, got {getattr(input, 'dtype', type(input).__name__)}")
    if approximate == "none":
        return input * NormalCdf.apply(input)
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2 / math.pi)
        return input * 0.5 * (inner.tanh() + 1)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """SiLU (swish): x·σ(x) = x / (1 + e⁻ˣ); derivative σ(x)·(1 + x·(1 - σ(x)))."""
    _refuse_inplace("silu", inplace)
    return input * input.sigmoid()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, negative_slope·x otherwise (derivative 1 or negative_slope; negative_slope at 0, as PyTorch)."""
    _refuse_inplace("leaky_relu", inplace)
    return where(input > 0, input, input * negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, α·(eˣ - 1) otherwise (derivative 1 or α·eˣ; α at 0, as PyTorch). eˣ is taken of
    min(x, 0), so a large x never makes inf in the branch that is not used (whose gradient would be 0·inf)."""
    _refuse_inplace("elu", inplace)
    return where(input > 0, input, (input.clip(max=0.0).exp() - 1) * alpha)


def softmax(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """exp(xᵢ) / Σⱼ exp(xⱼ) over ``dim``."""
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """xᵢ - log Σⱼ exp(xⱼ) over ``dim``, stable for any |x|."""
    return input.log_softmax(dim)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:  # noqa: A002
    """Zero elements with probability p and scale the rest by 1/(1-p) while training."""
    return input.dropout(p, training)


def embedding(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """Rows of ``weight`` picked by the integer ``input`` (the backward adds up repeats)."""
    if input.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got dtype {input.dtype}")
    return weight[input]


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:  # noqa: A002
    """(x - mean) / √(var + eps) over the last ``len(normalized_shape)`` dims (biased var), then · w + b."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[-len(shape):]) != shape:
        raise ValueError(f"layer_norm: input shape {input.shape} does not end with normalized_shape {shape}")
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    centered = input - input.mean(axes, keepdim=True)
    variance = (centered * centered).mean(axes, keepdim=True)
    out = centered / (variance + eps).sqrt()
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad the trailing dims of ``input`` with ``value`` (None: 0), PyTorch's order: ``pad`` =
    (left, right) for the last dim, then (left, right) for the one before, ...; a negative amount crops.
    A dim of size n becomes n + left + right. Only ``mode='constant'``; the gradient is the matching
    slice of the output's gradient."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported; only mode='constant' is")
    amounts = tuple(pad) if isinstance(pad, list | tuple) else pad
    if not isinstance(amounts, tuple) or any(isinstance(a, bool) or not isinstance(a, numbers.Integral)
                                             for a in amounts):
        raise TypeError(f"pad: pad must be a tuple or list of ints (left, right, ...), got {pad!r}")
    if len(amounts) % 2 or len(amounts) > 2 * input.ndim:
        raise ValueError(f"pad: pad must hold an even number of ints, at most 2·ndim = {2 * input.ndim} for an "
                         f"input of shape {input.shape}, got {len(amounts)}: {pad!r}")
    out = input
    for i in range(len(amounts) // 2):
        dim, left, right = input.ndim - 1 - i, int(amounts[2 * i]), int(amounts[2 * i + 1])
        kept = out.shape[dim] + min(left, 0) + min(right, 0)
        if kept < 0:
            raise ValueError(f"pad: cropping {-min(left, 0)} and {-min(right, 0)} from dim {dim} of size "
                             f"{out.shape[dim]} leaves a negative size")
        if left < 0 or right < 0:
            out = out.narrow(dim, -min(left, 0), kept)
        parts = [out.new_full(out.shape[:dim] + (n,) + out.shape[dim + 1:], 0 if value is None else value)
                 if n > 0 else None for n in (left, right)]
        if parts[0] is not None or parts[1] is not None:
            out = cat([p for p in (parts[0], out, parts[1]) if p is not None], dim)
    return out


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002
    """x / max(‖x‖_p, eps), the p-norm taken over ``dim`` (PyTorch's defaults: p = 2, dim = 1). Where
    the norm is below eps (a zero row) the result is x / eps, and the gradient is PyTorch's: that of
    x / clamp(norm, min=eps), the norm's gradient 0 where the norm is 0."""
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)
