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
def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The norm of ``tensors`` (one tensor or an iterable of them) taken together, as if concatenated,
    as ``torch.nn.utils.get_total_norm``: ‖t‖ = (Σ |tᵢ|ᵖ)^(1/p), or max |tᵢ| for p = inf; 0 for no
    tensors. ``error_if_nonfinite``: ``RuntimeError`` when it is nan or inf. ``foreach`` (a PyTorch
    speed switch) is accepted and unused."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not tensors:
        return tensor(0.0)
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = stack([g.abs().amax() for g in tensors]).amax()
    elif norm_type == 2.0:
        total = stack([(g * g).sum() for g in tensors]).sum().sqrt()
    else:
        total = stack([(g.abs() ** norm_type).sum() for g in tensors]).sum() ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(total.isfinite()):
        raise RuntimeError(
            f"the total norm of order {norm_type} is {total.item()}; pass error_if_nonfinite=False to go on anyway"
        )
    return total


@no_grad()
def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Multiply every gradient of ``parameters`` by min(1, max_norm / (total_norm + 1e-6)), as
    ``torch.nn.utils.clip_grads_with_norm_``: the second half of ``clip_grad_norm_``, with the norm
    (``get_total_norm`` of the gradients, say) given. ``foreach`` is accepted and unused."""
    with_grads = _with_grads(parameters)
    if not with_grads:
        return
    if not isinstance(total_norm, Tensor):
        total_norm = tensor(float(total_norm))
    scale = (max_norm / (total_norm + 1e-6)).clip(max=1.0)
    for p in with_grads:
        p.grad = p.grad * scale.to(p.grad.dtype)


@no_grad()
def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is one norm over every gradient as if they were concatenated:
    ‖g‖ = (Σ |gᵢ|ᵖ)^(1/p), or max |gᵢ| for p = inf (``get_total_norm``). Every gradient is
    multiplied by min(1, max_norm / (‖g‖ + 1e-6)) (``clip_grads_with_norm_``), on the gradients'
    device (no copy to the host). Returns the norm before clipping. ``foreach`` is accepted and unused.
    """
    with_grads = _with_grads(parameters)
    if not with_grads:
        return tensor(0.0)
    try:
        total = get_total_norm([p.grad for p in with_grads], norm_type, error_if_nonfinite)
    except RuntimeError as error:
        raise RuntimeError(f"clip_grad_norm_: {error}") from None
    clip_grads_with_norm_(with_grads, max_norm, total)
    return total


@no_grad()
def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    for p in _with_grads(parameters):
        p.grad = p.grad.clip(-clip_value, clip_value)
