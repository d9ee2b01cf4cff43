"""Gradient clipping, as ``torch.nn.utils``."""

from __future__ import annotations

import math

from ...autograd import no_grad
from ...creation import tensor
from ...tensor import Tensor, stack


def _with_grads(parameters) -> list:
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in parameters if p.grad is not None]


@no_grad()
def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is one norm over every gradient as if they were concatenated:
    ‖g‖ = (Σ |gᵢ|ᵖ)^(1/p), or max |gᵢ| for p = inf. Every gradient is multiplied by
    min(1, max_norm / (‖g‖ + 1e-6)), on the gradients' device (no copy to the host).
    Returns the norm before clipping.
    """
    with_grads = _with_grads(parameters)
    if not with_grads:
        return tensor(0.0)
    grads = [p.grad for p in with_grads]
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = stack([g.abs().amax() for g in grads]).amax()
    elif norm_type == 2.0:
        total = stack([(g * g).sum() for g in grads]).sum().sqrt()
    else:
        total = stack([(g.abs() ** norm_type).sum() for g in grads]).sum() ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(total.isfinite()):
        raise RuntimeError(
            f"clip_grad_norm_: the total gradient norm is {total.item()}; pass error_if_nonfinite=False to clip anyway"
        )
    scale = (max_norm / (total + 1e-6)).clip(max=1.0)
    for p in with_grads:
        p.grad = p.grad * scale.to(p.grad.dtype)
    return total


@no_grad()
def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    for p in _with_grads(parameters):
        p.grad = p.grad.clip(-clip_value, clip_value)
