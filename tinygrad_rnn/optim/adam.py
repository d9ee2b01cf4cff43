"""Adam and AdamW: adaptive steps from running averages of the gradient and its square."""

from __future__ import annotations

import math

from .optimizer import Optimizer, check_betas, check_nonnegative


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), exactly as ``torch.optim.Adam``.

    For each parameter θ, at step t = 1, 2, ...::

        g ← -∇f(θ) if maximize else ∇f(θ)
        g ← g + weight_decay · θ                       (if weight_decay ≠ 0: L2 penalty)
        m ← β₁ m + (1 - β₁) g                          (first moment, m₀ = 0)
        v ← β₂ v + (1 - β₂) g²                         (second moment, v₀ = 0)
        v̂ ← max(v̂_prev, v) if amsgrad else v
        θ ← θ - lr / (1 - β₁ᵗ) · m / (√v̂ / √(1 - β₂ᵗ) + eps)

    The factors 1/(1 - βᵗ) undo the bias of averages started at zero, so the first
    step moves each parameter by about lr. State per parameter: ``"step"`` (t),
    ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v) and, with amsgrad, ``"max_exp_avg_sq"``.
    """

    decoupled_weight_decay = False  # AdamW sets True

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, maximize: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        name = type(self).__name__
        check_betas(name, group["betas"])
        check_nonnegative(name, "eps", group["eps"])
        check_nonnegative(name, "weight_decay", group["weight_decay"])

    def _update_parameter(self, p, grad, state, group) -> None:
        xp = p.xp
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.array)
            state["exp_avg_sq"] = xp.zeros_like(p.array)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = xp.zeros_like(p.array)
        state["step"] += 1
        t = state["step"]

        g = -grad if group["maximize"] else grad
        if weight_decay != 0:
            if self.decoupled_weight_decay:  # AdamW: shrink θ itself, outside the adaptive scaling
                p.array *= 1 - lr * weight_decay
            else:  # Adam: L2 penalty added to the gradient, so it gets scaled like the gradient
                g = g + weight_decay * p.array

        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1  # in place: the state arrays keep their identity, dtype and device
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        if group["amsgrad"]:  # never let the denominator shrink: use the largest v seen so far
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]

        step_size = lr / (1 - beta1**t)
        denominator = xp.sqrt(v) / math.sqrt(1 - beta2**t) + group["eps"]
        p.array -= step_size * (m / denominator)


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019), exactly as ``torch.optim.AdamW``: Adam with
    decoupled weight decay. Each step first shrinks the parameter::

        θ ← θ - lr · weight_decay · θ

    then applies Adam's update with the plain gradient (no L2 term in m or v), so
    the decay is the same for every parameter, however large its gradients.
    """

    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
