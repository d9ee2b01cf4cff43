"""LBFGS: hand formulas, stopping rules, validation, state dicts, every backend, and
agreement with ``torch.optim.LBFGS`` (those tests skip cleanly without torch)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.optim.line_search import cubic_interpolate

LOSS_TOLERANCE = 1e-6  # float64: the loss sequences of PyTorch and ours agree to this (measured: ~1e-8 at worst)


@pytest.fixture(scope="module")
def torch():
    """PyTorch, or a clean skip without it."""
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- problems, for both libraries
def rosenbrock(x):
    """The banana valley (1 - x₀)² + 100 (x₁ - x₀²)², minimum 0 at (1, 1)."""
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _least_squares(lib, params, seed=0, dtype=np.float64, device=None):
    """The loss of a noisy linear fit, mean (x W + b - y)², for the weights and bias in ``params``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(20, 3))
    y = x @ np.array([[1.0, -0.5], [2.0, 0.3], [-1.0, 0.7]]) + np.array([0.2, -0.1]) + 0.05 * rng.normal(size=(20, 2))
    x, y = (lib.tensor(v.astype(dtype), **({"device": device} if device else {})) for v in (x, y))
    return lambda: ((x @ params[0] + params[1] - y) ** 2).mean()


def _sine_fit(lib, cell, head):
    """An LSTMCell and a Linear head predicting a sine wave's next value (4 phases, 11 steps): params, loss."""
    waves = np.sin(np.arange(12)[None, :] * 0.4 + np.array([0.0, 0.7, 1.9, 3.1])[:, None]).T[..., None]
    x, y = lib.tensor(waves[:-1]), lib.tensor(waves[1:])  # (time, batch, 1)

    def loss():
        (h, c), total = (lib.zeros(4, cell.hidden_size, dtype=lib.float64) for _ in range(2)), 0
        for t in range(x.shape[0]):
            h, c = cell(x[t], (h, c))
            total = total + ((head(h) - y[t]) ** 2).mean()
        return total / x.shape[0]

    return list(cell.parameters()) + list(head.parameters()), loss


def _run(lib, params, loss_fn, kwargs, steps):
    """``steps`` LBFGS steps; every loss the closure computed, every loss step returned, the state."""
    opt = lib.optim.LBFGS(params, **kwargs)
    evaluated = []

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        evaluated.append(loss.item())
        return loss

    returned = [opt.step(closure).item() for _ in range(steps)]
    return np.array(evaluated), np.array(returned), opt.state[params[0]], opt


def _ours(values):
    return [nn.Parameter(tr.tensor(v)) for v in values]


def _theirs(torch, values):
    return [torch.tensor(v, requires_grad=True) for v in values]


# ---------------------------------------------------------------- against PyTorch
def _assert_same_run(ours, theirs, tolerance=LOSS_TOLERANCE):
    (our_evals, our_returned, our_state, _), (their_evals, their_returned, their_state, _) = ours, theirs
    assert len(our_evals) == len(their_evals), "the same number of closure calls"
    np.testing.assert_allclose(our_evals, their_evals, rtol=0, atol=tolerance)
    np.testing.assert_allclose(our_returned, their_returned, rtol=0, atol=tolerance)
    assert {k: our_state[k] for k in ("func_evals", "n_iter")} == {k: their_state[k] for k in ("func_evals", "n_iter")}
    assert len(our_state["old_dirs"]) == len(their_state["old_dirs"]) == len(their_state["ro"])


def wiggle(x):
    """x² + 3 sin 5x, summed: many local minima, so the line search overshoots and zooms."""
    return (x**2).sum() + 3 * (5 * x).sin().sum()


def kink(x):
    """|x| plus a little curvature: at the kink the slope never flattens, so the zoom shrinks its bracket."""
    return x.abs().sum() + 0.1 * (x**2).sum() + (x[0] - 2 * x[1]) ** 2


WOLFE = dict(line_search_fn="strong_wolfe")
SMALL_PROBLEMS = [  # (function, start, LBFGS arguments, steps)
    (rosenbrock, [-1.5, 2.0], WOLFE, 5),
    (rosenbrock, [-1.5, 2.0], dict(WOLFE, history_size=2, max_iter=7), 5),
    (rosenbrock, [-1.5, 2.0], dict(WOLFE, max_eval=8, tolerance_change=1e-6), 5),
    (rosenbrock, [-1.5, 2.0], dict(lr=0.1), 5),
    (rosenbrock, [-1.5, 2.0], dict(lr=1, max_iter=5, history_size=3), 5),
    (wiggle, [3.0, -0.5], dict(WOLFE, lr=100, max_iter=15), 2),  # trials hugging the bracket's ends: moved inside
    (wiggle, [0.3, 0.2], dict(WOLFE, lr=30, max_iter=15), 2),  # the old low end becoming the high end
    (kink, [1.0, 2.0], dict(WOLFE, lr=10, max_iter=15, max_eval=200), 2),  # the bracket shrinks below 1e-9
    # That 1e-9 is the search's own, whatever the group's tolerance_change, as in PyTorch.
    (kink, [0.3, -0.7], dict(WOLFE, max_iter=15, max_eval=100, tolerance_change=1e-5), 2),
]


@pytest.mark.parametrize(
    "function, start, kwargs, steps", SMALL_PROBLEMS,
    ids=[f"{f.__name__}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for f, _, kw, _ in SMALL_PROBLEMS],
)
def test_small_problems_match_pytorch(torch, function, start, kwargs, steps):
    ours, theirs = _ours([np.array(start)]), _theirs(torch, [np.array(start)])
    our_run = _run(tr, ours, lambda: function(ours[0]), kwargs, steps)
    their_run = _run(torch, theirs, lambda: function(theirs[0]), kwargs, steps)
    _assert_same_run(our_run, their_run)
    np.testing.assert_allclose(ours[0].numpy(), theirs[0].detach().numpy(), atol=1e-6)
    our_state, their_state = our_run[2], their_run[2]
    for key in ("t", "H_diag", "prev_loss"):
        assert our_state[key] == pytest.approx(float(their_state[key]), rel=1e-6, abs=1e-9), key
    np.testing.assert_allclose(our_state["ro"], [float(r) for r in their_state["ro"]], rtol=1e-5)
    for key in ("d", "prev_flat_grad"):
        np.testing.assert_allclose(our_state[key], their_state[key].numpy(), rtol=1e-5, atol=1e-8, err_msg=key)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_least_squares_with_an_unused_parameter_matches_pytorch(torch, line_search_fn):
    values = [np.zeros((3, 2)), np.zeros(2), np.ones(4)]  # the third takes no part in the loss: zero gradient
    ours, theirs = _ours(values), _theirs(torch, values)
    kwargs = dict(lr=0.5, max_iter=6, history_size=4, line_search_fn=line_search_fn)
    _assert_same_run(_run(tr, ours, _least_squares(tr, ours), kwargs, 4),
                     _run(torch, theirs, _least_squares(torch, theirs), kwargs, 4))
    np.testing.assert_allclose(np.concatenate([p.numpy().ravel() for p in ours]),
                               np.concatenate([p.detach().numpy().ravel() for p in theirs]), atol=1e-8)
    np.testing.assert_array_equal(ours[2].numpy(), np.ones(4))


def _sine_models(torch):
    torch.manual_seed(0)
    their_cell, their_head = torch.nn.LSTMCell(1, 6).double(), torch.nn.Linear(6, 1).double()
    our_cell, our_head = nn.LSTMCell(1, 6, dtype=tr.float64), nn.Linear(6, 1, dtype=tr.float64)
    with tr.no_grad():
        for ours, theirs in ((our_cell, their_cell), (our_head, their_head)):
            for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
                assert a.shape == tuple(b.shape), name
                a.copy_(tr.tensor(b.detach().numpy()))
    return (our_cell, our_head), (their_cell, their_head)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lstm_cell_sine_fit_matches_pytorch(torch, line_search_fn):
    (our_cell, our_head), (their_cell, their_head) = _sine_models(torch)
    kwargs = dict(lr=1 if line_search_fn else 0.3, max_iter=10, history_size=10, line_search_fn=line_search_fn)
    our_run = _run(tr, *_sine_fit(tr, our_cell, our_head), kwargs, steps=3)
    _assert_same_run(our_run, _run(torch, *_sine_fit(torch, their_cell, their_head), kwargs, steps=3))
    assert our_run[0][-1] < 0.5 * our_run[0][0], "the fit improves"


def test_float32_agrees_with_pytorch_to_float32_precision(torch):
    values = [np.zeros((3, 2), dtype=np.float32), np.zeros(2, dtype=np.float32)]
    ours, theirs = _ours(values), _theirs(torch, values)
    kwargs = dict(max_iter=5, line_search_fn="strong_wolfe")
    _assert_same_run(_run(tr, ours, _least_squares(tr, ours, seed=3, dtype=np.float32), kwargs, 2),
                     _run(torch, theirs, _least_squares(torch, theirs, seed=3, dtype=np.float32), kwargs, 2),
                     tolerance=1e-4)
    assert ours[0].dtype == tr.float32


# ---------------------------------------------------------------- hand formulas, no torch
def _quadratic(n=3, seed=0):
    """f(θ) = ½ θᵀAθ - bᵀθ with A symmetric positive definite: minimum at A⁻¹b, gradient Aθ - b."""
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, n))
    return m @ m.T + n * np.eye(n), rng.normal(size=n)


def _quadratic_run(a, b, theta0, **kwargs):
    w = nn.Parameter(tr.tensor(theta0))
    opt = optim.LBFGS([w], **kwargs)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (w * (tr.tensor(a) @ w)).sum() - (tr.tensor(b) * w).sum()
        loss.backward()
        return loss

    return w, opt, closure


def test_first_two_iterations_are_scaled_steepest_descent_then_the_bfgs_update():
    a, b = _quadratic()
    theta0 = np.array([1.0, -2.0, 0.5])
    w, opt, closure = _quadratic_run(a, b, theta0, lr=0.7, max_iter=1)  # one iteration per step
    opt.step(closure)
    g0 = a @ theta0 - b
    t = min(1.0, 1.0 / np.abs(g0).sum()) * 0.7  # the first step: the gradient's size says nothing yet
    theta1 = theta0 - t * g0
    np.testing.assert_allclose(w.numpy(), theta1, rtol=1e-14)
    state = opt.state[w]
    assert (state["t"], state["n_iter"], state["func_evals"], state["old_dirs"], state["H_diag"]) == (t, 1, 1, [], 1.0)
    opt.step(closure)  # the memory carries over: H⁻¹ ≈ BFGS update of γI with the pair (s, y)
    s, y = theta1 - theta0, a @ theta1 - b - g0
    rho, gamma, eye = 1.0 / (y @ s), (s @ y) / (y @ y), np.eye(3)
    h = (eye - rho * np.outer(s, y)) @ (gamma * eye) @ (eye - rho * np.outer(y, s)) + rho * np.outer(s, s)
    np.testing.assert_allclose(w.numpy(), theta1 - 0.7 * h @ (a @ theta1 - b), rtol=1e-12)
    assert state["ro"] == [pytest.approx(rho)] and state["H_diag"] == pytest.approx(gamma) and state["n_iter"] == 2


def test_line_search_minimises_a_quadratic_and_rosenbrock():
    a, b = _quadratic(n=5, seed=1)
    w, opt, closure = _quadratic_run(a, b, np.zeros(5), line_search_fn="strong_wolfe", max_iter=50,
                                     tolerance_grad=1e-12, tolerance_change=1e-15)
    opt.step(closure)
    np.testing.assert_allclose(w.numpy(), np.linalg.solve(a, b), atol=1e-7)
    assert opt.state[w]["n_iter"] <= 12
    ours = _ours([np.array([-1.5, 2.0])])
    assert _run(tr, ours, lambda: rosenbrock(ours[0]), WOLFE, steps=5)[0][-1] < 1e-9
    np.testing.assert_allclose(ours[0].numpy(), [1.0, 1.0], atol=1e-4)


def test_cubic_interpolation_finds_the_minimum_of_a_cubic():
    f, df = (lambda x: x**3 - 3 * x), (lambda x: 3 * x**2 - 3)  # minimum at 1
    assert cubic_interpolate(0.0, f(0.0), df(0.0), 3.0, f(3.0), df(3.0)) == pytest.approx(1.0, rel=1e-12)
    assert cubic_interpolate(3.0, f(3.0), df(3.0), 0.0, f(0.0), df(0.0)) == pytest.approx(1.0, rel=1e-12)
    assert cubic_interpolate(0.0, f(0.0), df(0.0), 3.0, f(3.0), df(3.0), bounds=(2.0, 4.0)) == 2.0  # clamped
    # d1² < g1·g2: the cubic has no minimum, so the middle of the bounds.
    assert cubic_interpolate(0.0, 0.0, 1.0, 1.0, 0.5, 1.0, bounds=(0.0, 2.0)) == 1.0
    # x1 = x2 divides by zero: the IEEE result (inf, then NaN), as with PyTorch's tensors, not ZeroDivisionError.
    assert np.isnan(cubic_interpolate(1.0, 2.0, -1.0, 1.0, 2.5, -1.0, bounds=(0.5, 2.0)))


@pytest.mark.parametrize("args", [
    (0.0, 1.0, -2.0, 1.0, 0.5, 0.3), (1.0, 0.5, 0.3, 0.0, 1.0, -2.0),
    (0.0, 0.0, 1.0, 1.0, 0.0, -1.0),  # 0/0: NaN, not ZeroDivisionError
    (0.0, 1e200, 1e200, 1.0, -1e200, 1e200),  # d1² overflows to inf
    (1.0, 2.0, -1.0, 1.0, 2.5, -1.0),  # a collapsed bracket, x1 = x2: inf, then NaN
])
def test_cubic_interpolation_matches_pytorch_even_when_degenerate(torch, args):
    from torch.optim.lbfgs import _cubic_interpolate

    # PyTorch's slopes (g·d), and often its steps, are tensors: IEEE arithmetic, inf and NaN, no exception.
    expected = float(_cubic_interpolate(*(torch.tensor(v, dtype=torch.float64) for v in args)))
    got = cubic_interpolate(*args)
    assert got == expected or (np.isnan(got) and np.isnan(expected))


# ---------------------------------------------------------------- stopping rules and counts
def test_at_a_stationary_point_step_evaluates_once_and_stops():
    a, b = _quadratic()
    w, opt, closure = _quadratic_run(a, b, np.linalg.solve(a, b))
    loss = opt.step(closure)
    assert opt.state[w] == {"func_evals": 1, "n_iter": 0} and loss.item() == pytest.approx(-0.5 * b @ w.numpy())


@pytest.mark.parametrize(
    "kwargs, calls, iterations",
    [
        (dict(max_iter=6), 6, 6),  # max_eval = 6·5//4 = 7: one evaluation per iteration, none after the last
        (dict(max_iter=6, max_eval=4), 4, 3),  # 1 + 3 iterations reach max_eval
        (dict(max_iter=2), 2, 1),  # max_eval = 2·5//4 = 2 stops before the second iteration, as in PyTorch
        # The line search's first trial always runs, so max_eval can be passed (PyTorch counts the same).
        (dict(max_iter=6, max_eval=4, line_search_fn="strong_wolfe"), 5, 2),
    ],
)
def test_max_iter_and_max_eval_bound_the_work(kwargs, calls, iterations):
    a, b = _quadratic(n=4)
    w, opt, closure = _quadratic_run(a, b, np.ones(4), lr=0.05, **kwargs)
    seen = []
    opt.step(lambda: seen.append(1) or closure())
    assert (len(seen), opt.state[w]["func_evals"], opt.state[w]["n_iter"]) == (calls, calls, iterations)


def test_step_returns_the_first_loss_runs_the_closure_with_gradients_on_and_bumps_versions():
    a, b = _quadratic()
    w, opt, closure = _quadratic_run(a, b, np.ones(3), max_iter=3)
    stale, first = (w * w).sum(), []  # Mul saves w's values
    with tr.no_grad():
        loss = opt.step(lambda: first.append(closure()) or first[-1])
    assert loss is first[0] and len(first) == 3
    with pytest.raises(RuntimeError, match="modified by an inplace operation|version"):
        stale.backward()


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs, argument, shown",
    [
        (dict(lr=-1.0), "lr", "-1.0"),
        (dict(max_iter=0), "max_iter", "0"),
        (dict(max_eval=0), "max_eval", "0"),
        (dict(history_size=2.5), "history_size", "2.5"),
        (dict(tolerance_grad=-1e-7), "tolerance_grad", "-1e-07"),
        (dict(tolerance_change=float("nan")), "tolerance_change", "nan"),
        (dict(line_search_fn="backtracking"), "line_search_fn", "'backtracking'"),
    ],
)
def test_invalid_hyperparameters_name_the_argument_and_value(kwargs, argument, shown):
    with pytest.raises(ValueError, match=f"LBFGS: invalid {argument}") as error:
        optim.LBFGS([nn.Parameter(tr.tensor([1.0]))], **kwargs)
    assert shown in str(error.value)


def test_one_parameter_group_only_and_a_closure_that_returns_the_loss():
    a, b = nn.Parameter(tr.tensor([1.0])), nn.Parameter(tr.tensor([2.0]))
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [a]}, {"params": [b], "lr": 0.1}])
    opt = optim.LBFGS([a])
    with pytest.raises(ValueError, match="parameter groups"):
        opt.add_param_group({"params": [b]})
    with pytest.raises(TypeError, match="invalid closure: expected a callable.*got None"):
        opt.step()
    with pytest.raises(TypeError, match="closure returned None"):
        opt.step(lambda: None)


# ---------------------------------------------------------------- state dicts
def _plain(value):
    """Only detached Tensors (as PyTorch's state holds tensors), Python numbers, strings, None, lists and dicts
    (what tr.save writes without pickle)."""
    if isinstance(value, dict | list):
        return all(_plain(v) for v in (value.values() if isinstance(value, dict) else value))
    if type(value) is tr.Tensor:
        return not value.requires_grad and value.grad_fn is None
    return type(value) in (int, float, bool, str) or value is None


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("through_json", [False, True])
def test_state_dict_round_trip_resumes_exactly(line_search_fn, through_json):
    a, b = _quadratic(n=4, seed=2)
    kwargs = dict(lr=0.3, max_iter=3, history_size=2, line_search_fn=line_search_fn)
    straight, opt, closure = _quadratic_run(a, b, np.ones(4), **kwargs)
    for _ in range(4):
        opt.step(closure)

    first, opt, closure = _quadratic_run(a, b, np.ones(4), **kwargs)
    for _ in range(2):
        opt.step(closure)
    saved = opt.state_dict()
    assert _plain(saved) and saved["state"][0]["d"].shape == (4,) and len(saved["state"][0]["old_dirs"]) == 2
    if through_json:  # arrays as lists, keys as strings
        saved = json.loads(json.dumps(saved, default=lambda array: array.tolist()))
    resumed, fresh, closure = _quadratic_run(a, b, first.numpy(), **{**kwargs, "lr": 9.0})
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == 0.3 and fresh.state[resumed]["n_iter"] == opt.state[first]["n_iter"]
    for _ in range(2):
        fresh.step(closure)
    np.testing.assert_array_equal(resumed.numpy(), straight.numpy())


def test_load_state_dict_refuses_vectors_of_the_wrong_length():
    a, b = _quadratic()
    w, opt, closure = _quadratic_run(a, b, np.ones(3), max_iter=2)
    opt.step(closure)
    saved = opt.state_dict()
    other = optim.LBFGS([nn.Parameter(tr.ones(4, dtype=tr.float64))])
    with pytest.raises(ValueError, match=r"state\[0\]\['d'\] has shape \(3,\), expected \(4,\)"):
        other.load_state_dict(saved)
    saved["state"][0]["momentum_buffer"] = np.zeros(3)
    with pytest.raises(ValueError, match="'momentum_buffer'.* is not LBFGS state"):
        optim.LBFGS([w]).load_state_dict(saved)


# ---------------------------------------------------------------- every backend
def test_state_follows_the_parameters_to_another_dtype_and_device(each_device):
    model = nn.Linear(3, 1, device="cpu")
    opt = optim.LBFGS(model.parameters(), max_iter=3)

    def closure():
        opt.zero_grad()
        loss = ((model(tr.ones(4, 3, dtype=model.weight.dtype, device=model.weight.device)) - 1.0) ** 2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    model.to(each_device, dtype=tr.float64)  # the parameters stay the same objects: the optimizer carries on
    opt.step(closure)
    state = opt.state[model.weight]
    for value in [state["d"], state["prev_flat_grad"], *state["old_dirs"], *state["old_stps"]]:
        assert value.dtype == tr.float64 and tr.Tensor._wrap(value).device == model.weight.device


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_every_backend_matches_numpy(each_device, line_search_fn):
    def fit(device):
        params = [nn.Parameter(tr.zeros(3, 2, dtype=tr.float64, device=device)),
                  nn.Parameter(tr.zeros(2, dtype=tr.float64, device=device))]
        loss = _least_squares(tr, params, seed=4, device=device)
        evaluated, *_, opt = _run(tr, params, loss, dict(max_iter=5, line_search_fn=line_search_fn), steps=2)
        return params, evaluated, opt

    host, host_losses, _ = fit("cpu")
    here, losses, opt = fit(each_device)
    np.testing.assert_allclose(losses, host_losses, rtol=1e-10, atol=1e-12)
    for a, b in zip(host, here):
        assert b.device == tr.backend.normalize_device(each_device)
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-12)
    assert _plain(opt.state_dict())
