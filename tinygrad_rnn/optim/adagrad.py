"""Adagrad: per-coordinate steps that shrink with the sum of all past squared gradients."""

from __future__ import annotations

from .optimizer import Optimizer, check_nonnegative


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011), exactly as ``torch.optim.Adagrad``.

    For each parameter θ, at step t = 1, 2, ...::

        g ← -∇f(θ) if maximize else ∇f(θ)
        g ← g + weight_decay · θ                  (if weight_decay ≠ 0)
        lr_t ← lr / (1 + (t - 1) · lr_decay)
        s ← s + g²                                (s₀ = initial_accumulator_value)
        θ ← θ - lr_t · g / (√s + eps)

    Coordinates with large past gradients take small steps, rare ones large steps.
    State per parameter: ``"step"`` (t) and ``"sum"`` (s).
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, maximize: bool = False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_nonnegative("Adagrad", name, group[name])

    def _update_parameter(self, p, grad, state, group) -> None:
        xp = p.xp
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(p.array, group["initial_accumulator_value"])
        state["step"] += 1

        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.array
        lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        p.array -= lr_t * (g / (xp.sqrt(state["sum"]) + group["eps"]))
