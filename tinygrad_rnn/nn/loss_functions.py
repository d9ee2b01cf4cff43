"""The loss functions of ``nn.functional`` (``torch.nn.functional``'s names and argument order):
cross-entropy and NLL with class weights, ignored targets and label smoothing, MSE, L1, smooth L1,
Huber, binary cross-entropy (on probabilities and on logits). Each is written with Tensor ops,
so its gradient comes from the engine, except the nodes of ``loss_nodes.py``: the cross-entropy
of logit rows (one node for the commonest loss) and binary cross-entropy (PyTorch's gradient of a
clamped log). ``functional.py`` re-exports every public name here."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd import constant
from ..tensor import Tensor, stack, where
from .loss_nodes import BinaryCrossEntropy, SoftmaxCrossEntropy


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
    xp = log_probs.xp
    keep, safe, weights = _kept_targets("nll_loss", labels, classes, weight, ignore_index, input.dtype)
    order = (0,) + tuple(range(2, log_probs.ndim)) + (1,)
    moved = log_probs.permute(*order)  # classes last: (N, d1, ..., C), lined up with the labels (N, d1, ...)
    # Gathered by indexing, not by a one-hot product, and ignored targets zeroed by `where`, not by a
    # product: other entries then get an exact 0 of gradient (never 0·NaN), and a -inf log-probability
    # anywhere but at a kept target cannot turn the loss into NaN (0·-inf), as in PyTorch.
    flat = moved.reshape(-1, classes)
    picked = where(keep, flat[xp.arange(flat.shape[0]), safe.reshape(-1)].reshape(labels.shape), 0.0)
    if reduction == "mean":
        share, nan_if_empty = _mean_shares(keep, weights)
        return -(picked * constant(share)).sum() + nan_if_empty
    losses = 0.0 - picked * constant(weights)  # not -(...): an ignored target's loss is +0, as in PyTorch
    if input.ndim == 1:
        losses = losses.reshape(())
    return _reduce(losses, reduction, "nll_loss")


def _kept_targets(name: str, labels: Tensor, classes: int, weight, ignore_index: int, dtype) -> tuple:
    """``(keep, safe, weights)`` for class-index targets: False where a target is ``ignore_index``, the
    labels with ignored ones replaced by 0 (safe to index with), and each target's class weight (0 if
    ignored). An out-of-range target raises here, naming it."""
    keep = labels.array != ignore_index
    xp = labels.xp
    safe = xp.where(keep, labels.array, 0)
    if ((safe < 0) | (safe >= classes)).any():  # the one read back to the host: a clear error is worth it
        bad = labels.array[keep & ((safe < 0) | (safe >= classes))]
        raise IndexError(f"{name}: target {int(bad.reshape(-1)[0])} is out of range for {classes} classes")
    weights = keep.astype(dtype) if weight is None else xp.where(keep, weight.array[safe], 0)
    return keep, safe, weights


def _mean_shares(keep, weights) -> tuple:
    """Each target's share of a weighted mean, weights[n] / Σ weights, and a constant to add to the loss:
    NaN when nothing is kept (PyTorch's 0/0), else 0. An ignored target's share is an exact 0 (0 / 1,
    never 0 / 0), so with every target ignored the gradient is zero, not 0·∞ = NaN. (Kept targets whose
    weights sum to 0 get 0/0 = NaN, as in PyTorch.)"""
    xp = backend.module_of(weights)
    total = weights.sum()
    with np.errstate(invalid="ignore"):  # that 0/0 is meant; NumPy would warn (CuPy ignores this)
        share = weights / xp.where(keep, total, 1)
    return share, constant(xp.where(total == 0, xp.nan, 0).astype(weights.dtype))


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,  # noqa: A002
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits ``input`` (C,), (N, C) or (N, C, d1, ...) against ``target``, with
    log pₙ = log_softmax(input)ₙ (the stable one: logits of ±1000 are fine) and w the class ``weight``
    (ones by default). PyTorch's argument order.

    - Class indices (an integer ``target`` without the class dim): ℓₙ = -w[yₙ]·log pₙ[yₙ], targets
      equal to ``ignore_index`` add nothing, and the mean divides by Σ w[yₙ] over the kept targets
      (see ``nll_loss``). With label smoothing ε, ℓₙ = (1-ε)·(-w[yₙ]·log pₙ[yₙ]) + (ε/C)·(-Σ_c w[c]·log pₙ[c]),
      the mean of each part divided by that same Σ w[yₙ].
    - Class probabilities (a floating ``target`` of the input's shape): ℓₙ = -Σ_c w[c]·qₙ[c]·log pₙ[c] with
      q = (1-ε)·target + ε/C; the mean divides by the number of samples N·d1·..., not by the weights;
      ``ignore_index`` is not supported (it must stay negative), as in PyTorch.
    """
    _refuse_legacy_reduction("cross_entropy", size_average, reduce)
    if not isinstance(input, Tensor) or input.ndim < 1:
        raise ValueError(f"cross_entropy: input must have a class dimension, got shape {getattr(input, 'shape', ())}")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real) \
            or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    _check_class_arguments("cross_entropy", input, ignore_index, weight)
    if (label_smoothing == 0.0 and input.ndim == 2 and reduction in ("mean", "sum") and isinstance(target, Tensor)
            and target.shape != input.shape):  # the common case, logit rows and class indices: one node
        _check_targets("cross_entropy", input, target)
        keep, safe, weights = _kept_targets("cross_entropy", target, input.shape[1], weight, ignore_index,
                                            input.dtype)
        if reduction == "sum":
            return SoftmaxCrossEntropy.apply(input, labels=safe, keep=keep, share=weights)
        share, nan_if_empty = _mean_shares(keep, weights)
        return SoftmaxCrossEntropy.apply(input, labels=safe, keep=keep, share=share) + nan_if_empty
    class_dim = 1 if input.ndim > 1 else 0
    log_probs = input.log_softmax(class_dim)
    if isinstance(target, Tensor) and target.shape == input.shape:
        return _cross_entropy_with_probabilities(log_probs, target, weight, ignore_index, reduction, label_smoothing)
    loss = nll_loss(log_probs, target, weight, None, ignore_index, None, reduction)
    if label_smoothing == 0.0:
        return loss
    classes = input.shape[class_dim]
    smooth = _smoothing_loss(log_probs, target, weight, ignore_index, reduction)
    return loss * (1 - label_smoothing) + smooth * (label_smoothing / classes)


def _class_weight_view(weight: Tensor, log_probs: Tensor) -> Tensor:
    """The class weights (C,) shaped to broadcast along the class dim of ``log_probs``."""
    shape = [1] * log_probs.ndim
    shape[1 if log_probs.ndim > 1 else 0] = weight.shape[0]
    return weight.reshape(*shape)


def _smoothing_loss(log_probs: Tensor, target: Tensor, weight, ignore_index: int, reduction: str) -> Tensor:
    """Label smoothing's part of the loss: -Σ_c w[c]·log p[c] per sample, 0 for ignored targets, reduced
    as the NLL part is (a mean divides by the kept targets' total weight)."""
    class_dim = 1 if log_probs.ndim > 1 else 0
    terms = log_probs if weight is None else log_probs * _class_weight_view(weight, log_probs)
    keep = target.array != ignore_index
    smooth = where(keep, -terms.sum(class_dim), 0.0)  # an ignored target's loss is +0, as in PyTorch
    if reduction != "mean":
        return _reduce(smooth, reduction, "cross_entropy")
    xp = log_probs.xp
    safe = xp.where(keep, target.array, 0)
    weights = keep.astype(log_probs.dtype) if weight is None else xp.where(keep, weight.array[safe], 0)
    total = weights.sum()
    with np.errstate(divide="ignore", invalid="ignore"):  # kept targets of total weight 0: 1/0, as in PyTorch
        share = keep.astype(log_probs.dtype) / xp.where(keep, total, 1)
    with backend.quiet_math(xp):
        loss = (smooth * constant(share)).sum()
    return loss + constant(xp.where(total == 0, xp.nan, 0).astype(log_probs.dtype))  # nothing kept: 0/0


def _cross_entropy_with_probabilities(log_probs: Tensor, target: Tensor, weight, ignore_index: int,
                                      reduction: str, label_smoothing: float) -> Tensor:
    """-Σ_c w[c]·q[c]·log p[c] per sample for class-probability targets (PyTorch's
    ``cross_entropy_loss_prob_target``); the target gets a gradient too."""
    if target.dtype.kind != "f":
        raise TypeError(f"cross_entropy: a target of the input's shape {log_probs.shape} holds class "
                        f"probabilities and must be floating, got {target.dtype}; class indices have no class dim")
    if ignore_index >= 0:
        raise ValueError(f"cross_entropy: ignore_index is not supported for class-probability targets "
                         f"(got {ignore_index})")
    class_dim = 1 if log_probs.ndim > 1 else 0
    classes = log_probs.shape[class_dim]
    if label_smoothing > 0.0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    terms = log_probs * target
    if weight is not None:
        terms = terms * _class_weight_view(weight, log_probs)
    if reduction == "mean":
        samples = log_probs.numel() // classes if classes else 0
        return -terms.sum() / samples if samples else -terms.sum() + math.nan  # no samples: 0/0, as in PyTorch
    if reduction == "sum":
        return -terms.sum()
    return _reduce(-terms.sum(class_dim), reduction, "cross_entropy")


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


def _pointwise_difference(name: str, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
    """``input - target`` for the elementwise regression losses, which need equal shapes (PyTorch warns
    and broadcasts; a mismatch is almost always a bug, so it is an error here, as in ``mse_loss``)."""
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{name}: input and target must be Tensors, got {type(input).__name__} and "
                        f"{type(target).__name__}")
    if input.shape != target.shape:
        raise ValueError(f"{name}: input shape {input.shape} and target shape {target.shape} differ")
    return input - target


def _check_same_shape_weight(name: str, weight, input: Tensor) -> None:  # noqa: A002
    weight_shape = tuple(getattr(weight, "shape", ()))
    if not isinstance(weight, Tensor) or weight_shape != input.shape:
        raise ValueError(f"{name}: weight must be a Tensor of the input's shape {input.shape}, got "
                         f"{weight_shape if isinstance(weight, Tensor) else type(weight).__name__}")


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",  # noqa: A002
            weight: Tensor | None = None) -> Tensor:
    """ℓ = |input - target|, averaged (or summed, or not reduced), in PyTorch's argument order. Its
    gradient is sign(input - target), 0 where they are equal, as in PyTorch. With ``weight`` w (the
    input's shape) each term is w·|input - target| and the mean is Σ w·|input - target| / Σ w."""
    _refuse_legacy_reduction("l1_loss", size_average, reduce)
    loss = _pointwise_difference("l1_loss", input, target).abs()
    if weight is None:
        return _reduce(loss, reduction, "l1_loss")
    _check_same_shape_weight("l1_loss", weight, input)
    weighted = loss * weight
    return weighted.sum() / weight.sum() if reduction == "mean" else _reduce(weighted, reduction, "l1_loss")


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """With d = input - target: ℓ = ½·d²/β where |d| < β, else |d| - ½·β (β = ``beta`` >= 0; β = 0 is
    ``l1_loss``). Gradient d/β inside, sign(d) outside (they meet at |d| = β), as in PyTorch."""
    _refuse_legacy_reduction("smooth_l1_loss", size_average, reduce)
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta >= 0:
        raise ValueError(f"smooth_l1_loss: beta must be a number >= 0, got {beta!r}")
    if beta == 0:  # PyTorch's special case: the quadratic branch is empty (and d²/0 would be NaN)
        return l1_loss(input, target, reduction=reduction)
    difference = _pointwise_difference("smooth_l1_loss", input, target)
    size = difference.abs()
    loss = where(size < beta, difference * difference * 0.5 / beta, size - 0.5 * beta)
    return _reduce(loss, reduction, "smooth_l1_loss")


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,  # noqa: A002
               weight: Tensor | None = None) -> Tensor:
    """With d = input - target: ℓ = ½·d² where |d| < δ, else δ·(|d| - ½·δ) (δ = ``delta`` > 0); it is
    δ·``smooth_l1_loss`` with β = δ. Gradient d inside, δ·sign(d) outside, as in PyTorch. With ``weight``
    w (the input's shape) each term is w·ℓ and the mean is the plain mean of those, as in PyTorch."""
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not delta > 0:
        raise ValueError(f"huber_loss: delta must be a number > 0, got {delta!r}")
    difference = _pointwise_difference("huber_loss", input, target)
    size = difference.abs()
    loss = where(size < delta, difference * difference * 0.5, (size - 0.5 * delta) * delta)
    if weight is not None:
        _check_same_shape_weight("huber_loss", weight, input)
        loss = loss * weight
    return _reduce(loss, reduction, "huber_loss")


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


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """-w·[y·log x + (1-y)·log(1-x)] for probabilities x = ``input`` in [0, 1] and targets y in [0, 1],
    each log clamped to >= -100 as in PyTorch (so x = 0 or 1 gives a finite loss, and a finite gradient:
    see ``loss_nodes.BinaryCrossEntropy``); ``weight`` w broadcasts to the input's shape. For logits use
    ``binary_cross_entropy_with_logits``, which is stabler. PyTorch's argument order."""
    _refuse_legacy_reduction("binary_cross_entropy", size_average, reduce)
    if input.shape != target.shape:
        raise ValueError(f"binary_cross_entropy: target shape {target.shape} differs from input shape "
                         f"{input.shape}; give them the same shape")
    if input.dtype.kind != "f":
        raise TypeError(f"binary_cross_entropy: input must be floating (probabilities), got {input.dtype}")
    target = target.to(input.dtype)
    for what, tensor in (("input", input), ("target", target)):
        if not (bool((tensor >= 0).all()) and bool((tensor <= 1).all())):  # NaN fails too
            raise ValueError(f"binary_cross_entropy: every element of {what} must lie in [0, 1]"
                             + (" (for logits use binary_cross_entropy_with_logits)" if what == "input" else ""))
    loss = _weighted(BinaryCrossEntropy.apply(input, target), weight, "binary_cross_entropy")
    return _reduce(loss, reduction, "binary_cross_entropy")
