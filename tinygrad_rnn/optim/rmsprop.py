"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from .optimizer import Optimizer, check_nonnegative


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), exactly as ``torch.optim.RMSprop``.

    For each parameter θ, at each step::

        g ← -∇f(θ) if maximize else ∇f(θ)
        g ← g + weight_decay · θ                  (if weight_decay ≠ 0)
        v ← α v + (1 - α) g²                      (square average, v₀ = 0)
        ṽ ← v - ḡ², with ḡ ← α ḡ + (1 - α) g     (if centered: an estimate of the variance)
        ṽ ← v                                     (otherwise)
        b ← μ b + g / (√ṽ + eps); θ ← θ - lr · b  (if momentum μ > 0)
        θ ← θ - lr · g / (√ṽ + eps)               (otherwise)

    State per parameter: ``"step"``, ``"square_avg"`` (v), ``"momentum_buffer"`` (b, if
    momentum > 0) and ``"grad_avg"`` (ḡ, if centered).
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, maximize: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        for name in ("alpha", "eps", "weight_decay", "momentum"):
            check_nonnegative("RMSprop", name, group[name])

    def _update_parameter(self, p, grad, state, group) -> None:
        xp = p.xp
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.array)
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = xp.zeros_like(p.array)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = xp.zeros_like(p.array)
        state["step"] += 1

        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.array
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * (g * g)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * g
            # v - ḡ² ≥ 0 in exact arithmetic; rounding can dip below 0, where PyTorch gives NaN.
            avg = xp.sqrt(xp.maximum(square_avg - grad_avg * grad_avg, 0))
        else:
            avg = xp.sqrt(square_avg)
        avg += group["eps"]
        if momentum > 0:
            buffer = state["momentum_buffer"]
            buffer *= momentum
            buffer += g / avg
            p.array -= group["lr"] * buffer
        else:
            p.array -= group["lr"] * (g / avg)
