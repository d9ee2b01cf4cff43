"""Functions of ``nn``: activations, losses, dropout, linear maps, as
``torch.nn.functional``. Every one is written with Tensor ops, so its gradient comes
from the engine."""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd import constant
from ..tensor import Tensor, one_hot, stack, where

__all__ = [
    "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "embedding", "layer_norm", "linear",
    "log_softmax", "mse_loss", "nll_loss", "one_hot", "relu", "sigmoid", "softmax", "tanh",
]


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if not isinstance(reduction, str):
        raise TypeError(f"{name}: reduction must be 'mean', 'sum' or 'none', got a {type(reduction).__name__}")
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


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


def _check_targets(name: str, logits: Tensor, target: Tensor) -> None:
    if not isinstance(target, Tensor) or target.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: target must be an integer tensor of class indices, got "
            f"{target.dtype if isinstance(target, Tensor) else type(target).__name__}"
        )
    expected = logits.shape[:1] + logits.shape[2:] if logits.ndim > 1 else ()
    if target.shape != expected:
        raise ValueError(f"{name}: input of shape {logits.shape} needs target of shape {expected}, got {target.shape}")


def _check_class_arguments(name: str, logits: Tensor, ignore_index, weight) -> None:
    """PyTorch's checks on ``ignore_index`` and ``weight``. ``weight`` is keyword-only here (in PyTorch it
    comes third), so a PyTorch-style positional weight lands in ``ignore_index`` and must fail loudly."""
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{name}: ignore_index must be an int, got {type(ignore_index).__name__}"
                        + (" (pass class weights as weight=...)" if isinstance(ignore_index, Tensor) else ""))
    if weight is None:
        return
    classes = logits.shape[1] if logits.ndim > 1 else logits.shape[0]
    if not isinstance(weight, Tensor):
        raise TypeError(f"{name}: weight must be a Tensor of shape ({classes},), got {type(weight).__name__}")
    if weight.shape != (classes,):
        raise ValueError(f"{name}: weight must have shape ({classes},), one entry per class, got {weight.shape}")
    if weight.device != logits.device:
        raise ValueError(f"{name}: weight must be on the input's device {logits.device}, got {weight.device}")
    if weight.dtype != logits.dtype:
        raise TypeError(f"{name}: weight must have the input's dtype {logits.dtype}, got {weight.dtype}")
    if weight.requires_grad:  # as PyTorch: the loss is not differentiated with respect to the weights
        raise ValueError(f"{name}: weight must not require grad; pass weight.detach()")


def _refuse_legacy_reduction(name: str, size_average, reduce) -> None:  # noqa: A002
    """PyTorch's deprecated ``size_average=``/``reduce=`` pair: refused, never guessed at (the
    arguments exist only so that PyTorch's positional order lines up)."""
    if size_average is not None or reduce is not None:
        raise ValueError(
            f"{name}: size_average= and reduce= are deprecated in PyTorch and not supported here; use "
            f"reduction='mean', 'sum' or 'none' (got size_average={size_average!r}, reduce={reduce!r})"
        )


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,  # noqa: A002
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -weight[c]·input[n, c] with c = target[n], for log-probabilities
    ``input`` of shape (N, C) or (N, C, L) (or (C,) with a 0-d target); ``weight`` (C,) defaults to
    ones. Targets equal to ``ignore_index`` add nothing, and the mean divides by the total weight
    of the others: with every target ignored it is 0/0 = NaN and the gradient is zero, as in PyTorch."""
    _refuse_legacy_reduction("nll_loss", size_average, reduce)
    _check_targets("nll_loss", input, target)
    _check_class_arguments("nll_loss", input, ignore_index, weight)
    log_probs = input.unsqueeze(0) if input.ndim == 1 else input
    labels = target.reshape(1) if input.ndim == 1 else target
    classes = log_probs.shape[1]
    keep = labels.data != ignore_index
    xp = log_probs.xp
    safe = xp.where(keep, labels.data, 0)
    if ((safe < 0) | (safe >= classes)).any():  # the one read back to the host: a clear error is worth it
        bad = labels.data[keep & ((safe < 0) | (safe >= classes))]
        raise IndexError(f"nll_loss: target {int(bad.reshape(-1)[0])} is out of range for {classes} classes")
    order = (0,) + tuple(range(2, log_probs.ndim)) + (1,)
    moved = log_probs.permute(*order)  # classes last: (N, d1, ..., C), lined up with the labels (N, d1, ...)
    # Gathered by indexing, not by a one-hot product, and ignored targets zeroed by `where`, not by a
    # product: other entries then get an exact 0 of gradient (never 0·NaN), and a -inf log-probability
    # anywhere but at a kept target cannot turn the loss into NaN (0·-inf), as in PyTorch.
    flat = moved.reshape(-1, classes)
    picked = where(keep, flat[xp.arange(flat.shape[0]), safe.reshape(-1)].reshape(labels.shape), 0.0)
    weights = keep.astype(input.dtype) if weight is None else xp.where(keep, weight.data[safe], 0)
    if reduction == "mean":
        total = weights.sum()
        # Each kept target's share of the mean, weights[n] / total, is its gradient factor in PyTorch; an
        # ignored target's share is an exact 0 (0 / 1, never 0 / 0), so with every target ignored the
        # gradient is zero, not 0·∞ = NaN. (Kept targets whose weights sum to 0 get 0/0 = NaN, as in PyTorch.)
        with np.errstate(invalid="ignore"):  # that 0/0 is meant; NumPy would warn (CuPy ignores this)
            share = weights / xp.where(keep, total, 1)
        loss = -(picked * constant(share)).sum()
        # With nothing kept PyTorch's value is 0/0 = NaN; adding a constant 0 otherwise changes nothing.
        return loss + constant(xp.where(total == 0, xp.nan, 0).astype(input.dtype))
    losses = 0.0 - picked * constant(weights)  # not -(...): an ignored target's loss is +0, as in PyTorch
    if input.ndim == 1:
        losses = losses.reshape(())
    return _reduce(losses, reduction, "nll_loss")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,  # noqa: A002
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """-weight[c]·log softmax(input)[c] with c the target, for logits (N, C) or (N, C, L) and class
    indices (see ``nll_loss`` for ``weight``, ``ignore_index`` and the mean); the log-softmax is the
    stable one, so logits of ±1000 are fine. PyTorch's argument order; ``label_smoothing`` other
    than 0 and class-probability targets are not supported and raise."""
    _refuse_legacy_reduction("cross_entropy", size_average, reduce)
    if label_smoothing != 0.0:
        raise ValueError(
            f"cross_entropy: label_smoothing is not supported here (got {label_smoothing}); mix the "
            "smoothing in yourself: (1 - e)·cross_entropy(x, y) - e·log_softmax(x, 1).mean(1).mean()"
        )
    if input.ndim < 1:
        raise ValueError(f"cross_entropy: input must have a class dimension, got shape {input.shape}")
    _check_class_arguments("cross_entropy", input, ignore_index, weight)
    return nll_loss(input.log_softmax(1 if input.ndim > 1 else 0), target, weight, None, ignore_index, None, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",  # noqa: A002
             weight: Tensor | None = None) -> Tensor:
    """(input - target)², averaged (or summed, or not reduced), in PyTorch's argument order. With
    ``weight`` w (the input's shape) each term is w·(input - target)² and the mean is the weighted
    one, Σ w·(input - target)² / Σ w, as in PyTorch."""
    _refuse_legacy_reduction("mse_loss", size_average, reduce)
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} and target shape {target.shape} differ")
    difference = input - target
    if weight is None:
        return _reduce(difference * difference, reduction, "mse_loss")
    weight_shape = tuple(getattr(weight, "shape", ()))
    if weight_shape != input.shape:
        raise ValueError(f"mse_loss: weight must have the input's shape {input.shape}, got {weight_shape}")
    weighted = difference * difference * weight
    return weighted.sum() / weight.sum() if reduction == "mean" else _reduce(weighted, reduction, "mse_loss")


def _weighted(loss: Tensor, weight, name: str) -> Tensor:
    """``loss * weight`` for an elementwise loss, ``weight`` broadcast to the loss's shape (never the
    other way round: a weight that would grow the loss is an error, not a silently bigger loss)."""
    if weight is None:
        return loss
    shape = getattr(weight, "shape", ())
    if len(shape) > loss.ndim or any(w not in (1, n) for w, n in zip(shape[::-1], loss.shape[::-1])):
        raise ValueError(f"{name}: weight of shape {tuple(shape)} does not broadcast to the loss's shape {loss.shape}")
    return loss * weight


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """-w·[p·y·log σ(x) + (1-y)·log(1-σ(x))], computed as w·[(1-y)·x + (1 + (p-1)·y)·log(1 + e^-x)]
    with log(1 + e^-x) = logsumexp(0, -x), which never overflows; ``weight`` w broadcasts to the
    input's shape, ``pos_weight`` p to its last dimension (PyTorch's argument order)."""
    _refuse_legacy_reduction("binary_cross_entropy_with_logits", size_average, reduce)
    if input.shape != target.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: input shape {input.shape} and target shape "
                         f"{target.shape} differ")
    target = target.to(input.dtype)
    # log(1 + e^-x) = logsumexp(0, -x): stable at any |x|, and smooth at x = 0 (a max/abs split is not)
    softplus_neg = stack([input.new_zeros(input.shape), -input], -1).logsumexp(-1)
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    loss = _weighted(loss, weight, "binary_cross_entropy_with_logits")
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")

