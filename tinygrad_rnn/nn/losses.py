"""Loss modules: each holds its loss function's arguments, in PyTorch's order, and calls the
function in ``functional`` (``nn.CrossEntropyLoss(label_smoothing=0.1)(logits, target)``)."""

from __future__ import annotations

from . import functional as F
from .module import Module


class _Loss(Module):
    """A loss module: holds the loss function's arguments, in PyTorch's order."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        F._refuse_legacy_reduction(type(self).__name__, size_average, reduce)
        self.reduction = reduction


class NLLLoss(_Loss):
    """``F.nll_loss`` as a module: ℓₙ = -w[yₙ]·xₙ[yₙ] for log-probabilities x, reduced."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input, target):  # noqa: A002
        return F.nll_loss(input, target, self.weight, None, self.ignore_index, None, self.reduction)


class CrossEntropyLoss(NLLLoss):
    """``F.cross_entropy`` as a module: ℓₙ = -Σ_c w[c]·qₙ[c]·log softmax(xₙ)[c], with q the one-hot class
    index or the given class probabilities, smoothed as (1-ε)·q + ε/C by ``label_smoothing`` ε."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input, target):  # noqa: A002
        return F.cross_entropy(input, target, self.weight, None, self.ignore_index, None, self.reduction,
                               self.label_smoothing)


class MSELoss(_Loss):
    """``F.mse_loss`` as a module: (x - y)², reduced."""

    def forward(self, input, target):  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """``F.l1_loss`` as a module: |x - y|, reduced."""

    def forward(self, input, target):  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """``F.smooth_l1_loss`` as a module: ½·d²/β where |d| < β, else |d| - ½·β (d = x - y), reduced."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """``F.huber_loss`` as a module: ½·d² where |d| < δ, else δ·(|d| - ½·δ) (d = x - y), reduced. As in
    PyTorch it takes no ``size_average``/``reduce``."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_Loss):
    """``F.binary_cross_entropy`` as a module: -w·[y·log x + (1-y)·log(1-x)] for probabilities x, each log
    clamped to >= -100, reduced."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.weight = weight

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """``F.binary_cross_entropy_with_logits`` as a module: -w·[p·y·log σ(x) + (1-y)·log(1-σ(x))], reduced."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
