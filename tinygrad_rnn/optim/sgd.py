"""Stochastic gradient descent, with optional momentum, Nesterov momentum and L2 weight decay."""

from __future__ import annotations

from .optimizer import Optimizer, check_nonnegative, new_state_array


class SGD(Optimizer):
    """Stochastic gradient descent, exactly as ``torch.optim.SGD``.

    For each parameter θ with gradient ∇f(θ), at step t::

        g ← -∇f(θ) if maximize else ∇f(θ)
        g ← g + weight_decay · θ                      (if weight_decay ≠ 0: L2 penalty)
        b ← g at t = 1, else momentum · b + (1 - dampening) · g   (if momentum ≠ 0)
        g ← g + momentum · b if nesterov else b       (if momentum ≠ 0)
        θ ← θ - lr · g

    State per parameter: ``"momentum_buffer"`` (b), only when momentum ≠ 0.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, maximize: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        for name in ("momentum", "weight_decay"):
            check_nonnegative("SGD", name, group[name])
        # Nesterov looks ahead along the momentum buffer: without momentum there is nothing to look along.
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: invalid nesterov: nesterov=True expects momentum > 0 and dampening = 0, "
                f"got momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _update_parameter(self, p, grad, state, group) -> None:
        momentum = group["momentum"]
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.array  # a new array: never write into p.grad
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:  # the first step starts the running average at the gradient itself
                buffer = state["momentum_buffer"] = new_state_array(p, g)
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * g
            g = g + momentum * buffer if group["nesterov"] else buffer
        p.array -= group["lr"] * g
