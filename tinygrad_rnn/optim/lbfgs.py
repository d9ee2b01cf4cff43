"""L-BFGS: a quasi-Newton method that builds a picture of the curvature from recent steps."""

from __future__ import annotations

import numpy as np

from ..autograd import enable_grad, no_grad
from ..backend import device_of, is_array, to_device
from ..tensor import Tensor
from .line_search import strong_wolfe
from .optimizer import Optimizer, check_nonnegative

_LINE_SEARCHES = (None, "strong_wolfe")
_COUNTS, _NUMBERS = ("func_evals", "n_iter"), ("t", "H_diag", "prev_loss")
_VECTORS, _VECTOR_LISTS = ("d", "prev_flat_grad"), ("old_dirs", "old_stps")


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"LBFGS: invalid {name}: expected a positive int, got {value!r}")


class LBFGS(Optimizer):
    """Limited-memory BFGS, exactly as ``torch.optim.LBFGS`` (the same steps, state and
    stopping rules, so the two evaluate the loss at the same points)::

        def closure():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss
        opt = optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")
        for _ in range(10):
            opt.step(closure)

    All parameters are seen as one flat vector θ with gradient g. Newton's step would be
    -H⁻¹g; BFGS builds an approximation of H⁻¹ from the last steps s = θ_new - θ_old and the
    changes of gradient they caused, y = g_new - g_old (for a quadratic, y = H s). The limited-
    memory version never forms a matrix: it keeps the last ``history_size`` pairs (s_i, y_i) with
    ρ_i = 1 / (y_i·s_i) and applies the approximation to g by the *two-loop recursion*::

        q ← -g
        for i = newest … oldest:   α_i ← ρ_i s_i·q;    q ← q - α_i y_i
        r ← γ q                    γ = s·y / y·y of the newest pair: the scale of H⁻¹ ("H_diag")
        for i = oldest … newest:   β_i ← ρ_i y_i·r;    r ← r + (α_i - β_i) s_i
        d ← r                      the search direction

    A pair joins the memory only when y·s > 1e-10 (the curvature along s is positive, which
    keeps the approximation positive definite). The very first direction is -g, with the step
    t = min(1, 1/‖g‖₁) · lr (the gradient's size says nothing yet about a good step); later
    steps start at t = lr. Then θ ← θ + t d, either with that fixed t or with t chosen by a
    strong Wolfe line search (``line_search_fn="strong_wolfe"``, see ``line_search.py``).

    One ``step(closure)`` runs up to ``max_iter`` such iterations and calls the closure about
    ``max_eval`` times at most (default ``max_iter * 5 // 4``; a line search's first trial always
    runs, so it can go one over, as in PyTorch). It stops early when
    max|g| <= ``tolerance_grad`` (a stationary point), when the slope g·d > -tolerance_change
    (no descent left), or when the step max|t d| or the loss change is below
    ``tolerance_change``. It returns the loss of the closure's first call.

    As in PyTorch: one parameter group only; all parameters on one device; the state is
    global, kept under the first parameter (``func_evals``, ``n_iter``, ``d``, ``t``,
    ``old_dirs`` (the y_i), ``old_stps`` (the s_i), ``ro``, ``H_diag``, ``prev_flat_grad``,
    ``prev_loss``), so a later ``step`` continues from the memory of the earlier ones;
    ``state_dict`` saves it (flat vectors as Tensors) and ``load_state_dict`` restores it.
    PyTorch also keeps its two-loop scratch list ``al`` there; here it is local to the step.
    Scalars are Python floats: with float64 parameters this is PyTorch's arithmetic; with
    float32 ones PyTorch rounds its scalars to float32, so the two agree only to float32
    precision. Memory: about ``2 · history_size + 3`` copies of the parameters.
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):
        if max_eval is None:  # evaluations per step: a quarter more than iterations leaves room for line searches
            _check_positive_int("max_iter", max_iter)
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        self._params = self.param_groups[0]["params"]

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        for name in ("max_iter", "max_eval", "history_size"):
            _check_positive_int(name, group[name])
        for name in ("tolerance_grad", "tolerance_change"):
            check_nonnegative("LBFGS", name, group[name])
        if group["line_search_fn"] not in _LINE_SEARCHES:
            raise ValueError(
                f"LBFGS: invalid line_search_fn: expected one of {_LINE_SEARCHES}, got {group['line_search_fn']!r}"
            )

    def add_param_group(self, param_group: dict) -> None:
        """LBFGS optimizes one flat vector of parameters with one set of hyperparameters: a second
        group is refused, as in PyTorch."""
        if self.param_groups:
            raise ValueError(
                "LBFGS: invalid params: LBFGS doesn't support per-parameter options (parameter groups): "
                f"expected 1 group, got a second one with keys {sorted(param_group)}"
            )
        super().add_param_group(param_group)

    # ------------------------------------------------------------ the flat vector
    def _xp_and_dtype(self):
        """The array module and dtype of the flat vectors; every parameter must share a device."""
        devices = sorted({p.device for p in self._params})
        if len(devices) > 1:
            raise ValueError(f"LBFGS: all parameters must be on one device, got {', '.join(devices)}")
        return self._params[0].xp, np.result_type(*(p.dtype for p in self._params))

    def _gather_flat_grad(self):
        """Every parameter's gradient, flattened and concatenated (zeros where there is none)."""
        xp, dtype = self._xp_and_dtype()
        pieces = []
        for p in self._params:
            if p.grad is None:  # unused by this loss: its gradient is zero, as in PyTorch
                pieces.append(xp.zeros(p.array.size, dtype=dtype))
                continue
            if p.grad.shape != p.shape:
                raise ValueError(f"LBFGS: a parameter of shape {p.shape} has a gradient of shape {p.grad.shape}")
            pieces.append(p.grad.array.reshape(-1))
        return xp.concatenate(pieces).astype(dtype, copy=False)

    def _add_to_params(self, step: float, direction) -> None:
        """θ ← θ + step · direction, in place, each parameter taking its slice of the flat vector."""
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += step * direction[offset:offset + n].reshape(p.shape)
            p._bump_version()  # changed in place: a graph that saved the old values must refuse backward
            offset += n

    def _set_params(self, values) -> None:
        for p, value in zip(self._params, values):
            p.array[...] = value
            p._bump_version()

    # ------------------------------------------------------------ the step
    def step(self, closure=None):
        """Run up to ``max_iter`` L-BFGS iterations. ``closure`` is required: it must clear the
        gradients, re-evaluate the model, call ``backward`` and return the loss (it is called
        several times, with gradients on). Returns the loss of its first call."""
        if closure is None or not callable(closure):
            raise TypeError(
                "LBFGS.step: invalid closure: expected a callable that re-evaluates the loss, calls backward "
                f"and returns the loss (L-BFGS needs several evaluations per step), got {closure!r}"
            )
        if len(self.param_groups) != 1:
            raise ValueError(f"LBFGS: expected exactly 1 parameter group, got {len(self.param_groups)}")

        def evaluate():
            with enable_grad():  # the loss must record a graph even when step runs under no_grad
                loss = closure()
            if loss is None:
                raise TypeError("LBFGS.step: the closure returned None: expected it to return the loss")
            return loss

        with no_grad():  # the updates are not part of any model: record no graph
            return self._iterate(evaluate)

    def _iterate(self, evaluate):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        xp, dtype = self._xp_and_dtype()
        state = self.state.setdefault(self._params[0], {})
        self._follow_params(state, xp, dtype)
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if float(xp.abs(flat_grad).max()) <= tolerance_grad:  # already at a stationary point
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # ---- the direction
            if state["n_iter"] == 1:  # no memory yet: steepest descent
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1.0
            else:
                y, s = flat_grad - prev_flat_grad, d * t  # the last step and the change of gradient it caused
                ys = float(xp.dot(y, s))
                if ys > 1e-10:  # positive curvature along s: remember the pair (else skip it, keep H⁻¹ positive)
                    if len(old_dirs) == group["history_size"]:  # forget the oldest pair
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(xp.dot(y, y))
                d = _two_loop(xp, flat_grad, old_dirs, old_stps, ro, h_diag)
            prev_flat_grad, prev_loss = flat_grad, loss  # flat_grad is never written in place: no copy needed

            # ---- the step length
            t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(xp.dot(flat_grad, d))  # the slope along d
            if gtd > -tolerance_change:  # d is no descent direction (or barely): nothing to gain
                break

            ls_func_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                start = [p.array.copy() for p in self._params]

                def along_d(step, start=start, d=d):
                    # Evaluate at start + step·d, then put the parameters back: the search only looks.
                    self._add_to_params(step, d)
                    value = float(evaluate())
                    grad = self._gather_flat_grad()
                    self._set_params(start)
                    return value, grad

                # The search's own tolerance stays at its default (1e-9), not the group's: as in PyTorch.
                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    along_d, xp, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_to_params(t, d)
                opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_to_params(t, d)
                # The loss at the new point is needed only to iterate again: after the last iteration
                # (typical with a stochastic closure) the evaluation is skipped, as in PyTorch.
                if n_iter != max_iter:
                    loss = float(evaluate())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---- stopping rules, in PyTorch's order
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if float(xp.abs(d * t).max()) <= tolerance_change:  # the parameters barely moved
                break
            if abs(loss - prev_loss) < tolerance_change:  # the loss barely moved
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    # ------------------------------------------------------------ state: flat vectors, not parameter-shaped
    def _follow_params(self, state: dict, xp, dtype) -> None:
        """Keep the state's vectors on the parameters' device and in their dtype (after ``model.double()``
        or ``.to(device)`` between steps)."""
        device = self._params[0].device

        def follow(value):
            if is_array(value) and (value.dtype != dtype or device_of(value) != device):
                return to_device(value, device).astype(dtype)
            return value

        for key in _VECTORS:
            if key in state:
                state[key] = follow(state[key])
        for key in _VECTOR_LISTS:
            if key in state:
                state[key] = [follow(v) for v in state[key]]

    def _restored_entry(self, key: str, value, p: Tensor, where: str):
        """LBFGS's state is global: counts, numbers, and flat vectors of the length of all the
        parameters together (not of ``p``'s shape), or lists of them."""
        if key in _COUNTS:
            return int(value)
        if key in _NUMBERS:
            return float(value)
        if key == "ro":
            return [float(v) for v in value]
        if key in _VECTORS:
            return self._restored_vector(value, where)
        if key in _VECTOR_LISTS:
            return [self._restored_vector(v, f"{where}[{i}]") for i, v in enumerate(value)]
        raise ValueError(
            f"LBFGS.load_state_dict: {where} is not LBFGS state: expected one of "
            f"{_COUNTS + _NUMBERS + ('ro',) + _VECTORS + _VECTOR_LISTS}"
        )

    def _restored_vector(self, value, where: str):
        xp, dtype = self._xp_and_dtype()
        if isinstance(value, Tensor):
            value = value.array
        if not is_array(value):  # nested lists, after JSON
            value = xp.asarray(value)
        numel = sum(p.array.size for p in self._params)
        if value.shape != (numel,):
            raise ValueError(
                f"LBFGS.load_state_dict: {where} has shape {value.shape}, expected ({numel},) "
                "(all the parameters' elements, flattened)"
            )
        return to_device(value, self._params[0].device).astype(dtype, copy=True)


def _two_loop(xp, flat_grad, old_dirs, old_stps, ro, h_diag):
    """d = -H⁻¹ g by the two-loop recursion over the remembered pairs (see the class docstring)."""
    alphas = [0.0] * len(old_dirs)
    q = -flat_grad
    for i in range(len(old_dirs) - 1, -1, -1):  # newest to oldest
        alphas[i] = float(xp.dot(old_stps[i], q)) * ro[i]
        q -= alphas[i] * old_dirs[i]
    r = q * h_diag
    for i in range(len(old_dirs)):  # oldest to newest
        beta = float(xp.dot(old_dirs[i], r)) * ro[i]
        r += (alphas[i] - beta) * old_stps[i]
    return r
