"""Optimizers and learning-rate schedulers: hand formulas, behaviour, validation,
state dicts, and agreement with PyTorch (those tests skip cleanly without torch)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.optim import lr_scheduler

# Every optimizer with several hyperparameter combinations: (class name, keyword arguments).
CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.02, momentum=0.8, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99))),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True, eps=1e-3)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("AdamW", dict(lr=0.05, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True, eps=1e-4)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, maximize=True)),
]
CONFIG_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kwargs.items()) or 'defaults'}" for name, kwargs in CONFIGS]

SHAPES = [(3, 4), (5,)]


def _start_values(seed: int = 1):
    """Starting parameter values and the loss's fixed coefficients, float64."""
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=shape) for shape in SHAPES]
    coefficients = [rng.uniform(0.5, 2.0, size=shape) for shape in SHAPES]
    return values, coefficients


def _loss(params, coefficients):
    """Σ ½ c θ² + tanh(θ - 0.3): a bowl with a wrinkle, so gradients are not linear in θ.
    Works for our tensors and for torch tensors alike."""
    total = 0
    for p, c in zip(params, coefficients):
        total = total + (0.5 * c * p * p + (p - 0.3).tanh()).sum()
    return total


def _our_params(values):
    return [nn.Parameter(tr.tensor(v)) for v in values]


def _our_step(opt, params, coefficients):
    opt.zero_grad()
    _loss(params, [tr.tensor(c, device=params[0].device) for c in coefficients]).backward()
    opt.step()


# ---------------------------------------------------------------- hand formulas, no torch
def test_sgd_step_is_the_hand_formula():
    w = nn.Parameter(tr.tensor([1.0, -2.0, 3.0], dtype=tr.float64))
    opt = optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
    grads = [np.array([0.5, -1.0, 2.0]), np.array([1.0, 1.0, -1.0])]
    theta, buffer = np.array([1.0, -2.0, 3.0]), None
    for g in grads:
        w.grad = tr.tensor(g)
        opt.step()
        d = g + 0.01 * theta
        buffer = d if buffer is None else 0.9 * buffer + d  # dampening 0: b ← μ b + g
        theta = theta - 0.1 * buffer
        np.testing.assert_allclose(w.numpy(), theta, rtol=1e-14)
    np.testing.assert_allclose(opt.state[w]["momentum_buffer"], buffer, rtol=1e-14)


def test_plain_sgd_keeps_no_state():
    w = nn.Parameter(tr.tensor([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.5)
    w.grad = tr.tensor([1.0, -1.0])
    opt.step()
    np.testing.assert_allclose(w.numpy(), [0.5, 2.5])
    assert opt.state_dict()["state"] == {}


def test_adam_first_step_moves_every_parameter_by_about_lr():
    # Bias correction makes m̂/√v̂ = g/|g| on the first step, whatever the gradient's size.
    w = nn.Parameter(tr.tensor([1.0, 1.0, 1.0, 1.0], dtype=tr.float64))
    opt = optim.Adam([w], lr=0.01)
    w.grad = tr.tensor([1e-3, -5.0, 200.0, -0.25], dtype=tr.float64)
    opt.step()
    np.testing.assert_allclose(w.numpy() - 1.0, [-0.01, 0.01, -0.01, 0.01], rtol=1e-4)
    assert opt.state[w]["step"] == 1


def test_adamw_decay_is_decoupled_from_the_gradient():
    # With a zero gradient, Adam's L2 term still goes through the adaptive scaling (a step of
    # about lr), while AdamW only shrinks θ by the factor 1 - lr·λ.
    a, b = nn.Parameter(tr.tensor([2.0], dtype=tr.float64)), nn.Parameter(tr.tensor([2.0], dtype=tr.float64))
    adam, adamw = optim.Adam([a], lr=0.1, weight_decay=0.5), optim.AdamW([b], lr=0.1, weight_decay=0.5)
    a.grad, b.grad = tr.zeros(1, dtype=tr.float64), tr.zeros(1, dtype=tr.float64)
    adam.step()
    adamw.step()
    np.testing.assert_allclose(a.numpy(), [2.0 - 0.1], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [2.0 * (1 - 0.1 * 0.5)], rtol=1e-12)


def test_adagrad_first_step_is_the_hand_formula():
    w = nn.Parameter(tr.tensor([0.0, 0.0], dtype=tr.float64))
    opt = optim.Adagrad([w], lr=0.1, initial_accumulator_value=1.0, eps=0.0)
    w.grad = tr.tensor([3.0, -4.0], dtype=tr.float64)
    opt.step()
    np.testing.assert_allclose(w.numpy(), [-0.1 * 3 / math.sqrt(10), 0.1 * 4 / math.sqrt(17)], rtol=1e-14)


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_parameters_without_grad_are_untouched(name, kwargs):
    used, unused = nn.Parameter(tr.tensor([1.0, 2.0])), nn.Parameter(tr.tensor([3.0, 4.0]))
    opt = getattr(optim, name)([used, unused], **kwargs)
    used.grad = tr.tensor([0.5, -0.5])
    before = unused.numpy().copy()
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(unused.numpy(), before)
    assert unused not in opt.state or not opt.state[unused]
    assert not np.array_equal(used.numpy(), [1.0, 2.0])


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_step_updates_in_place_and_keeps_dtype(name, kwargs):
    w = nn.Parameter(tr.tensor([[1.0, -2.0], [0.5, 3.0]]))  # float32
    array, version = w.array, w._version
    opt = getattr(optim, name)([w], **kwargs)
    w.grad = tr.tensor([[0.1, -0.2], [0.3, 0.4]])
    opt.step()
    assert w.array is array, "the parameter's array must be updated in place"
    assert w.dtype == tr.float32 and w.is_leaf and w.requires_grad
    assert w._version == version + 1
    for value in opt.state[w].values():
        assert not hasattr(value, "dtype") or value.dtype == tr.float32


def test_a_graph_saved_before_step_refuses_backward():
    # The step changes w in place: a graph that saved the old w would give wrong gradients.
    w = nn.Parameter(tr.tensor([1.0, 2.0]))
    y = (w * w).sum()
    w.grad = tr.tensor([1.0, 1.0])
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_zero_grad():
    a, b = nn.Parameter(tr.tensor([1.0, 2.0])), nn.Parameter(tr.tensor([3.0]))
    opt = optim.SGD([a, b], lr=0.1)
    (a.sum() * b.sum()).backward()
    opt.zero_grad(set_to_none=False)
    for p in (a, b):
        assert p.grad is not None and p.grad.shape == p.shape and p.grad.dtype == p.dtype
        np.testing.assert_array_equal(p.grad.numpy(), 0.0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_to_zeros_keeps_the_gradient_tensor_as_pytorch():
    # PyTorch zeroes p.grad in place: a reference sees the zeros, and the next backward adds into it
    a = nn.Parameter(tr.tensor([1.0, 2.0]))
    opt = optim.SGD([a], lr=0.1)
    (a * 3).sum().backward()
    held, version = a.grad, a.grad._version
    opt.zero_grad(set_to_none=False)
    assert a.grad is held and held.tolist() == [0.0, 0.0] and held._version == version + 1
    (a * 2).sum().backward()
    assert a.grad is held and held.tolist() == [2.0, 2.0]
    net = nn.Linear(2, 1)
    net(tr.ones(1, 2)).sum().backward()
    held = net.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.weight.grad is held and held.tolist() == [[0.0, 0.0]]
    # a gradient that is part of a graph (create_graph) is replaced, so that graph keeps its values
    (a * a).sum().backward(create_graph=True)
    graph_grad = a.grad
    assert graph_grad.grad_fn is not None
    opt.zero_grad(set_to_none=False)
    assert a.grad is not graph_grad and a.grad.tolist() == [0.0, 0.0] and a.grad.grad_fn is None


def test_zero_grad_identity_matches_torch():
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.ones(2))
    (p * 2).sum().backward()
    held = p.grad
    torch.optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert p.grad is held and held.tolist() == [0.0, 0.0]


def test_param_groups_with_their_own_lr():
    a, b = nn.Parameter(tr.tensor([1.0])), nn.Parameter(tr.tensor([1.0]))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.0 and opt.param_groups[1]["params"] == [b]
    a.grad, b.grad = tr.tensor([1.0]), tr.tensor([1.0])
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 0.5], rtol=1e-6)
    c = nn.Parameter(tr.tensor([1.0]))
    opt.add_param_group({"params": c, "lr": 0.25})
    c.grad = tr.tensor([2.0])
    opt.step()
    np.testing.assert_allclose(c.item(), 0.5, rtol=1e-6)


def test_step_calls_the_closure_and_returns_its_loss():
    w = nn.Parameter(tr.tensor([2.0]))
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tr.no_grad():  # the closure still records a graph: step turns gradients on for it
        loss = opt.step(closure)
    assert loss.item() == 4.0
    np.testing.assert_allclose(w.item(), 2.0 - 0.25 * 4.0)


def test_training_a_linear_layer_lowers_the_loss():
    model = nn.Linear(3, 1)
    x = tr.randn(32, 3)
    y = x @ tr.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    opt = optim.Adam(model.parameters(), lr=0.05)
    scheduler = lr_scheduler.StepLR(opt, step_size=50, gamma=0.5)
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        scheduler.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-3 * losses[0]
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05 * 0.5**3)


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "name, kwargs, argument, shown",
    [
        ("SGD", dict(lr=-0.1), "lr", "-0.1"),
        ("SGD", dict(momentum=-0.5), "momentum", "-0.5"),
        ("SGD", dict(weight_decay=-1e-4), "weight_decay", "-0.0001"),
        ("SGD", dict(nesterov=True), "nesterov", "momentum=0"),
        ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov", "dampening=0.1"),
        ("Adam", dict(lr=-1e-3), "lr", "-0.001"),
        ("Adam", dict(betas=(1.0, 0.999)), r"betas\[0\]", "1.0"),
        ("Adam", dict(betas=(0.9, -0.1)), r"betas\[1\]", "-0.1"),
        ("Adam", dict(betas=(0.9,)), "betas", "(0.9,)"),
        ("Adam", dict(eps=-1e-8), "eps", "-1e-08"),
        ("Adam", dict(weight_decay=-0.1), "weight_decay", "-0.1"),
        ("AdamW", dict(weight_decay=-0.1), "weight_decay", "-0.1"),
        ("RMSprop", dict(alpha=-0.9), "alpha", "-0.9"),
        ("RMSprop", dict(momentum=-0.9), "momentum", "-0.9"),
        ("RMSprop", dict(eps=-1.0), "eps", "-1.0"),
        ("Adagrad", dict(lr_decay=-0.1), "lr_decay", "-0.1"),
        ("Adagrad", dict(initial_accumulator_value=-1.0), "initial_accumulator_value", "-1.0"),
        ("Adagrad", dict(eps=float("nan")), "eps", "nan"),
    ],
)
def test_invalid_hyperparameters_name_the_argument_and_value(name, kwargs, argument, shown):
    w = nn.Parameter(tr.tensor([1.0]))
    with pytest.raises(ValueError, match=rf"{name}: invalid {argument}") as error:
        getattr(optim, name)([w], **kwargs)
    assert shown in str(error.value), "the message shows the value given"


def test_invalid_hyperparameter_in_a_group_is_refused():
    a, b = nn.Parameter(tr.tensor([1.0])), nn.Parameter(tr.tensor([1.0]))
    with pytest.raises(ValueError, match="invalid lr.*-2"):
        optim.Adam([{"params": [a]}, {"params": [b], "lr": -2}])
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="invalid momentum"):
        opt.add_param_group({"params": [b], "momentum": -1})
    assert len(opt.param_groups) == 1


def test_bad_params_are_refused_clearly():
    w = nn.Parameter(tr.tensor([1.0]))
    with pytest.raises(ValueError, match="params is empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match=r"params\[1\] must be a Tensor, got int"):
        optim.SGD([w, 3], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[0\] must be floating point, got dtype int64"):
        optim.SGD([tr.tensor([1, 2])], lr=0.1)
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        optim.SGD([{"params": {w}}], lr=0.1)
    w.grad = tr.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \(1,\) has a gradient of shape \(2,\)"):
        optim.SGD([w], lr=0.1).step()


# ---------------------------------------------------------------- state dicts
def _assert_plain(value, where="state_dict"):
    """Only detached Tensors (as PyTorch's optimizer state holds tensors), Python numbers (and bools), lists
    and dicts: what tr.save writes without pickle."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, int | str), f"{where}: key {key!r}"
            _assert_plain(item, f"{where}[{key!r}]")
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _assert_plain(item, f"{where}[{position}]")
    else:
        assert type(value) in (tr.Tensor, int, float, bool), f"{where} is a {type(value).__name__}"
        if isinstance(value, tr.Tensor):
            assert not value.requires_grad and value.grad_fn is None, f"{where} is part of a graph"


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_is_plain_data_and_a_copy(name, kwargs):
    values, coefficients = _start_values()
    params = _our_params(values)
    opt = getattr(optim, name)([{"params": params[:1]}, {"params": params[1:], "lr": 0.03}], **kwargs)
    for _ in range(3):
        _our_step(opt, params, coefficients)
    saved = opt.state_dict()
    _assert_plain(saved)
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1]]
    assert saved["param_groups"][1]["lr"] == 0.03
    assert set(saved["state"]) <= {0, 1}
    frozen = {i: {k: np.copy(v) for k, v in s.items()} for i, s in saved["state"].items()}
    for index, entries in saved["state"].items():  # copies, not the optimizer's own arrays (PyTorch aliases them)
        own = opt.state[params[index]]
        assert not any(isinstance(v, tr.Tensor) and np.shares_memory(v.array, own[k]) for k, v in entries.items())
    _our_step(opt, params, coefficients)  # the optimizer moves on; the saved copy must not
    for index, entries in saved["state"].items():
        for key, value in entries.items():
            np.testing.assert_array_equal(value, frozen[index][key])
    # Hyperparameters survive JSON (e.g. alongside an .npz of the arrays).
    assert json.loads(json.dumps(saved["param_groups"])) == saved["param_groups"]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_round_trip_resumes_exactly(name, kwargs):
    values, coefficients = _start_values()
    straight = _our_params(values)
    opt = getattr(optim, name)(straight, **kwargs)
    for _ in range(10):
        _our_step(opt, straight, coefficients)

    first = _our_params(values)
    opt = getattr(optim, name)(first, **kwargs)
    for _ in range(5):
        _our_step(opt, first, coefficients)
    saved = opt.state_dict()
    resumed = _our_params([p.numpy() for p in first])
    fresh = getattr(optim, name)(resumed, **{**kwargs, "lr": 123.0})  # the saved lr must win
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert fresh.param_groups[0]["params"] == resumed
    for _ in range(5):
        _our_step(fresh, resumed, coefficients)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_load_state_dict_casts_to_the_parameters_dtype_and_restores_tuples():
    w64 = nn.Parameter(tr.tensor([1.0, 2.0], dtype=tr.float64))
    opt = optim.Adam([w64], lr=0.1, betas=(0.8, 0.9))
    w64.grad = tr.tensor([1.0, -1.0], dtype=tr.float64)
    opt.step()
    saved = json.loads(json.dumps(opt.state_dict(), default=lambda a: a.tolist()))  # arrays as lists, keys as str
    w32 = nn.Parameter(tr.tensor([1.0, 2.0]))
    fresh = optim.Adam([w32])
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["betas"] == (0.8, 0.9)
    assert fresh.state[w32]["step"] == 1
    for key in ("exp_avg", "exp_avg_sq"):
        assert fresh.state[w32][key].dtype == tr.float32
        np.testing.assert_allclose(fresh.state[w32][key], opt.state[w64][key], rtol=1e-6)


def test_load_state_dict_refuses_a_mismatch():
    a, b = nn.Parameter(tr.tensor([1.0])), nn.Parameter(tr.tensor([1.0, 2.0]))
    source = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = tr.tensor([1.0]), tr.tensor([1.0, 1.0])
    source.step()
    saved = source.state_dict()
    with pytest.raises(ValueError, match=r"state dict has 1 parameter group\(s\), this optimizer has 2"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="group 0 has 2 parameter.*1 in this optimizer"):
        optim.SGD([a], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"state\[0\]\['momentum_buffer'\] has shape \(1,\), expected \(2,\)"):
        optim.SGD([b, a], lr=0.1).load_state_dict(saved)


# ---------------------------------------------------------------- schedulers, no torch
def _sgd(lrs=(0.1,)):
    return optim.SGD([{"params": [nn.Parameter(tr.tensor([1.0]))], "lr": lr} for lr in lrs], lr=lrs[0])


def test_step_lr_values():
    opt = _sgd((0.1, 1.0))
    scheduler = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    seen = [scheduler.get_last_lr()]
    for _ in range(5):
        scheduler.step()
        seen.append(scheduler.get_last_lr())
    expected = [[0.1 * 0.5 ** (t // 2), 1.0 * 0.5 ** (t // 2)] for t in range(6)]
    np.testing.assert_allclose(seen, expected, rtol=1e-15)
    assert scheduler.last_epoch == 5 and [g["lr"] for g in opt.param_groups] == seen[-1]


def test_cosine_annealing_values():
    opt = _sgd((1.0,))
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.2)
    seen = [scheduler.get_last_lr()[0]]
    for _ in range(8):
        scheduler.step()
        seen.append(scheduler.get_last_lr()[0])
    # Start, middle, bottom at T_max, then back up the cosine to the start at 2·T_max.
    np.testing.assert_allclose([seen[0], seen[2], seen[4], seen[6], seen[8]], [1.0, 0.6, 0.2, 0.6, 1.0], atol=1e-15)
    assert seen[1] == pytest.approx(0.2 + 0.8 * (1 + math.cos(math.pi / 4)) / 2)


def test_lambda_lr_values_one_function_per_group():
    opt = _sgd((0.1, 1.0))
    scheduler = lr_scheduler.LambdaLR(opt, [lambda t: 1.0 / (t + 1), lambda t: 2.0**t])
    scheduler.step()
    scheduler.step()
    np.testing.assert_allclose(scheduler.get_last_lr(), [0.1 / 3, 4.0])


@pytest.mark.parametrize(
    "make",
    [
        lambda opt: lr_scheduler.StepLR(opt, step_size=3, gamma=0.7),
        lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=7, eta_min=0.01),
        lambda opt: lr_scheduler.LambdaLR(opt, lambda t: 0.9**t),
    ],
    ids=["StepLR", "CosineAnnealingLR", "LambdaLR"],
)
def test_scheduler_state_dict_round_trip(make):
    opt = _sgd((0.5, 0.05))
    scheduler = make(opt)
    straight = []
    for t in range(12):
        scheduler.step()
        straight.append(scheduler.get_last_lr())
        if t == 4:
            saved_opt, saved_scheduler = opt.state_dict(), scheduler.state_dict()
    _assert_plain(saved_scheduler)
    opt = _sgd((0.5, 0.05))
    scheduler = make(opt)
    opt.load_state_dict(saved_opt)
    scheduler.load_state_dict(saved_scheduler)
    resumed = straight[:5]
    for _ in range(7):
        scheduler.step()
        resumed.append(scheduler.get_last_lr())
    assert resumed == straight


def test_scheduler_errors():
    opt = _sgd()
    with pytest.raises(ValueError, match="step_size.*0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max.*-1"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=-1)
    with pytest.raises(ValueError, match="expected 1 lr_lambda"):
        lr_scheduler.LambdaLR(opt, [lambda t: 1.0, lambda t: 1.0])
    with pytest.raises(ValueError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=5)
    with pytest.raises(TypeError, match="must be an Optimizer"):
        lr_scheduler.StepLR([1.0], step_size=2)


def test_scheduler_resumes_from_last_epoch():
    opt = _sgd((1.0,))
    lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)  # sets initial_lr
    resumed = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5, last_epoch=3)
    assert resumed.last_epoch == 4 and resumed.get_last_lr() == [0.25]


# ---------------------------------------------------------------- against PyTorch
def _torch_optimizer(torch, name, params, kwargs):
    return getattr(torch.optim, name)(params, **kwargs)


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_trajectory_matches_pytorch(name, kwargs):
    torch = pytest.importorskip("torch")
    values, coefficients = _start_values()
    ours = _our_params(values)
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    # Two groups, the second with its own lr, to follow param_groups through the update too.
    our_opt = getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.02}], **kwargs)
    their_opt = _torch_optimizer(torch, name, [{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.02}], kwargs)
    their_coefficients = [torch.tensor(c) for c in coefficients]
    for step in range(20):
        _our_step(our_opt, ours, coefficients)
        their_opt.zero_grad()
        _loss(theirs, their_coefficients).backward()
        their_opt.step()
        for position, (a, b) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(
                a.numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-6, err_msg=f"step {step + 1}, parameter {position}"
            )
    # The state carries PyTorch's names and values, so users find what they know.
    for a, b in zip(ours, theirs):
        their_state = {k: v for k, v in their_opt.state[b].items() if v is not None}
        assert set(our_opt.state.get(a, {})) == set(their_state)
        for key, value in their_state.items():
            np.testing.assert_allclose(our_opt.state[a][key], value.numpy(), rtol=1e-6, atol=1e-9, err_msg=key)


def test_trajectory_with_scheduler_matches_pytorch():
    torch = pytest.importorskip("torch")
    values, coefficients = _start_values(seed=2)
    ours = _our_params(values)
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    our_opt, their_opt = optim.AdamW(ours, lr=0.1), torch.optim.AdamW(theirs, lr=0.1)
    our_s = lr_scheduler.CosineAnnealingLR(our_opt, T_max=8, eta_min=0.01)
    their_s = torch.optim.lr_scheduler.CosineAnnealingLR(their_opt, T_max=8, eta_min=0.01)
    their_coefficients = [torch.tensor(c) for c in coefficients]
    for _ in range(20):
        _our_step(our_opt, ours, coefficients)
        their_opt.zero_grad()
        _loss(theirs, their_coefficients).backward()
        their_opt.step()
        our_s.step()
        their_s.step()
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        ("StepLR", dict(step_size=3, gamma=0.5)),
        ("StepLR", dict(step_size=1, gamma=0.9)),
        ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01)),
        ("CosineAnnealingLR", dict(T_max=7)),
        ("LambdaLR", dict(lr_lambda=lambda t: 0.95**t)),
        ("LambdaLR", dict(lr_lambda=lambda t: min(1.0, (t + 1) / 5))),
    ],
)
def test_scheduler_lrs_match_pytorch(ours, theirs):
    torch = pytest.importorskip("torch")
    lrs = (0.1, 0.03)
    our_opt = _sgd(lrs)
    their_opt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs])
    our_s = getattr(lr_scheduler, ours)(our_opt, **theirs)
    their_s = getattr(torch.optim.lr_scheduler, ours)(their_opt, **theirs)
    seen, expected = [our_s.get_last_lr()], [their_s.get_last_lr()]
    for _ in range(35):  # past T_max, where the cosine climbs back up
        our_opt.step()
        their_opt.step()
        our_s.step()
        their_s.step()
        seen.append(our_s.get_last_lr())
        expected.append(their_s.get_last_lr())
    np.testing.assert_allclose(seen, expected, rtol=1e-9, atol=1e-12)
    assert our_s.last_epoch == their_s.last_epoch


# ---------------------------------------------------------------- every backend
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=CONFIG_IDS)
def test_every_backend_matches_numpy_and_state_moves_across(each_device, name, kwargs):
    values, coefficients = _start_values()
    host = [nn.Parameter(tr.tensor(v, device="cpu")) for v in values]
    here = _our_params(values)  # on each_device, the default device
    host_opt, opt = getattr(optim, name)(host, **kwargs), getattr(optim, name)(here, **kwargs)
    for _ in range(4):
        _our_step(host_opt, host, coefficients)
        _our_step(opt, here, coefficients)
    for a, b in zip(host, here):
        assert b.device == tr.backend.normalize_device(each_device) and b.dtype == tr.float64
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-12)
    _assert_plain(opt.state_dict())
    # The host optimizer's state, loaded onto this device's parameters, carries on identically.
    moved = [nn.Parameter(tr.tensor(p.numpy())) for p in host]
    fresh = getattr(optim, name)(moved, **kwargs)
    fresh.load_state_dict(host_opt.state_dict())
    for p in moved:
        for value in fresh.state.get(p, {}).values():
            assert not hasattr(value, "shape") or tr.Tensor._wrap(value).device == p.device
    for _ in range(2):
        _our_step(host_opt, host, coefficients)
        _our_step(fresh, moved, coefficients)
    for a, b in zip(host, moved):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-12)
