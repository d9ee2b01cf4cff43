"""Checking the engine's gradients against finite differences, as a public tool.

For f: Rⁿ -> Rᵐ the engine computes vector-Jacobian products vᵀJ. A central
difference estimates a column of J directly:

    J[:, k] ≈ (f(x + ε e_k) - f(x - ε e_k)) / (2ε)        (error O(ε²))

``gradcheck`` compares the two for every element of every input that requires
grad, in float64 (in float32, ε = 1e-6 would drown in rounding error).
``fast_mode=True`` compares one random projection vᵀJu instead of all of J,
which costs one backward and two forwards per input, whatever the sizes.
"""

from __future__ import annotations

import numpy as np

from .autograd import enable_grad, grad, no_grad
from .creation import tensor
from .tensor import Tensor


class GradcheckError(AssertionError):
    """The engine's gradient and the finite-difference estimate disagree."""


def _as_tuple(value) -> tuple:
    return tuple(value) if isinstance(value, tuple | list) else (value,)


def _float64_inputs(inputs) -> tuple:
    """Copies of the tensor inputs in float64 (requires_grad kept); others as they are."""
    copies = []
    for value in inputs:
        if isinstance(value, Tensor) and value.dtype.kind == "f":
            copy = tensor(value.array, dtype="float64")
            copies.append(copy.requires_grad_(value.requires_grad))
        else:
            copies.append(value)
    return tuple(copies)


def _outputs(fn, inputs) -> tuple:
    outputs = _as_tuple(fn(*inputs))
    for position, output in enumerate(outputs):
        if not isinstance(output, Tensor):
            raise TypeError(f"gradcheck: fn must return tensors, output {position} is {type(output).__name__}")
    return outputs


def _flat_outputs(fn, inputs) -> np.ndarray:
    """All outputs of ``fn`` flattened into one float64 NumPy vector (no graph)."""
    with no_grad():
        outputs = _outputs(fn, inputs)
    return np.concatenate([o.numpy().astype(np.float64).ravel() for o in outputs])


def _engine_vjp(fn, inputs, wanted, weights: np.ndarray) -> list:
    """vᵀJ for each wanted input, with v = ``weights`` over the flattened outputs."""
    outputs = _outputs(fn, inputs)
    pieces, start = [], 0
    for output in outputs:
        pieces.append(tensor(weights[start : start + output.numel()].reshape(output.shape), dtype=output.dtype,
                             device=output.device))
        start += output.numel()
    used = [(o, w) for o, w in zip(outputs, pieces) if o.requires_grad]
    if not used:
        return [np.zeros(inputs[i].shape) for i in wanted]
    grads = grad([o for o, _ in used], [inputs[i] for i in wanted], [w for _, w in used], allow_unused=True)
    return [np.zeros(inputs[i].shape) if g is None else g.numpy().astype(np.float64) for i, g in zip(wanted, grads)]


def _perturbed(inputs, index: int, direction: np.ndarray, eps: float) -> tuple:
    """``inputs`` with ``inputs[index]`` moved by ``eps * direction``."""
    moved = list(inputs)
    base = inputs[index]
    moved[index] = tensor(base.numpy() + eps * direction, dtype=base.dtype, device=base.device,
                          requires_grad=base.requires_grad)
    return tuple(moved)


def _mismatch(analytic, numeric, atol, rtol):
    """The index of the worst violation of |a - n| <= atol + rtol |n|, or None."""
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    excess = np.where(np.isnan(excess), np.inf, excess)
    worst = int(np.argmax(excess)) if excess.size else 0
    return worst if excess.size and excess.flat[worst] > 0 else None


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, fast_mode: bool = False,
              seed: int = 0) -> bool:
    """Compare the engine's gradients of ``fn(*inputs)`` with central differences.

    ``inputs`` is a tensor or a tuple of them (and other arguments); every tensor
    that requires grad is checked, in float64. Returns True, or raises
    ``GradcheckError`` naming the input, the element and both values.
    """
    inputs = _float64_inputs(_as_tuple(inputs))
    wanted = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wanted:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    rng = np.random.default_rng(seed)
    size_out = _flat_outputs(fn, inputs).size
    if fast_mode:
        v = rng.standard_normal(size_out)
        analytic = _engine_vjp(fn, inputs, wanted, v)
        for i, grad_i in zip(wanted, analytic):
            u = rng.standard_normal(inputs[i].shape)
            plus = _flat_outputs(fn, _perturbed(inputs, i, u, eps))
            minus = _flat_outputs(fn, _perturbed(inputs, i, u, -eps))
            numeric = float(v @ (plus - minus) / (2 * eps))
            exact = float((grad_i * u).sum())
            if _mismatch(np.array([exact]), np.array([numeric]), atol, rtol) is not None:
                raise GradcheckError(
                    f"gradcheck (fast mode): input {i} (shape {inputs[i].shape}): the projection vᵀJu is "
                    f"{exact:.6g} by the engine but {numeric:.6g} by finite differences"
                )
        return True
    for i in wanted:
        shape = inputs[i].shape
        analytic = np.zeros((size_out, int(np.prod(shape))))
        for row in range(size_out):
            analytic[row] = _engine_vjp(fn, inputs, [i], np.eye(1, size_out, row).ravel())[0].ravel()
        numeric = np.zeros_like(analytic)
        for column in range(numeric.shape[1]):
            e = np.eye(1, numeric.shape[1], column).reshape(shape)
            plus = _flat_outputs(fn, _perturbed(inputs, i, e, eps))
            minus = _flat_outputs(fn, _perturbed(inputs, i, e, -eps))
            numeric[:, column] = (plus - minus) / (2 * eps)
        worst = _mismatch(analytic, numeric, atol, rtol)
        if worst is not None:
            row, column = np.unravel_index(worst, analytic.shape)
            element = np.unravel_index(column, shape) if shape else ()
            raise GradcheckError(
                f"gradcheck: input {i} (shape {shape}), element {tuple(int(k) for k in element)}, "
                f"output element {int(row)}: the engine gives d(out)/d(in) = {analytic[row, column]:.6g}, "
                f"finite differences give {numeric[row, column]:.6g}"
            )
    return True


def gradgradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, fast_mode: bool = False,
                  seed: int = 0) -> bool:
    """Check second derivatives: ``gradcheck`` of the map x -> vᵀ ∂fn/∂x, for a fixed
    random v, whose gradients the engine builds with ``create_graph=True``."""
    inputs = _float64_inputs(_as_tuple(inputs))
    wanted = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    rng = np.random.default_rng(seed + 1)
    weights = [rng.standard_normal(o.shape) for o in _outputs(fn, inputs)]

    @enable_grad()  # gradcheck evaluates this under no_grad; the inner grad() needs a graph
    def first_derivatives(*xs):
        outputs = _outputs(fn, xs)
        vs = [tensor(w, dtype=o.dtype, device=o.device) for w, o in zip(weights, outputs)]
        used = [(o, v) for o, v in zip(outputs, vs) if o.requires_grad]
        grads = grad([o for o, _ in used], [xs[i] for i in wanted], [v for _, v in used], create_graph=True,
                     allow_unused=True)
        return tuple(g if g is not None else xs[i].new_zeros(xs[i].shape) for i, g in zip(wanted, grads))

    return gradcheck(first_derivatives, inputs, eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode, seed=seed)
