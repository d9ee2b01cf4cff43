"""Functions of ``nn``: activations, losses, dropout, linear maps, as
``torch.nn.functional``. Every one is written with Tensor ops, so its gradient comes
from the engine."""

from __future__ import annotations

from ..autograd import constant
from ..tensor import Tensor, one_hot, stack

__all__ = [
    "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "embedding", "layer_norm", "linear",
    "log_softmax", "mse_loss", "nll_loss", "one_hot", "relu", "sigmoid", "softmax", "tanh",
]


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = x Wᵀ + b, with W of shape (out_features, in_features) as in PyTorch."""
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


def nll_loss(input: Tensor, target: Tensor, ignore_index: int = -100, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Negative log-likelihood: -input[n, target[n]] for log-probabilities ``input`` of shape
    (N, C) or (N, C, L) (or (C,) with a 0-d target). Targets equal to ``ignore_index`` add
    nothing, and the mean is over the others."""
    _check_targets("nll_loss", input, target)
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
    chosen = (safe[..., None] == xp.arange(classes)).astype(input.dtype)  # one-hot of the targets
    picked = (moved * constant(chosen)).sum(-1)
    mask = constant(keep.astype(input.dtype))
    losses = -(picked * mask)
    if input.ndim == 1:
        losses = losses.reshape(())
    if reduction == "mean":
        return losses.sum() / mask.sum()
    return _reduce(losses, reduction, "nll_loss")


def cross_entropy(input: Tensor, target: Tensor, ignore_index: int = -100, reduction: str = "mean") -> Tensor:  # noqa: A002
    """-log softmax(input)[target], for logits (N, C) or (N, C, L) and class indices; the
    log-softmax is the stable one, so logits of ±1000 are fine."""
    if input.ndim < 1:
        raise ValueError(f"cross_entropy: input must have a class dimension, got shape {input.shape}")
    return nll_loss(input.log_softmax(1 if input.ndim > 1 else 0), target, ignore_index, reduction)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """(input - target)², averaged (or summed, or not reduced)."""
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} and target shape {target.shape} differ")
    difference = input - target
    return _reduce(difference * difference, reduction, "mse_loss")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
                                     pos_weight: Tensor | None = None) -> Tensor:
    """-[p·y·log σ(x) + (1-y)·log(1-σ(x))], computed as (1-y)·x + (1 + (p-1)·y)·log(1 + e^-x)
    with log(1 + e^-x) = logsumexp(0, -x), which never overflows."""
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
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")

