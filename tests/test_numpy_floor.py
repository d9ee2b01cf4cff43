"""The NumPy floor of ``benchmarks/numpy_floor.py`` (the training step of each benchmark workload,
written by hand) computes what tinygrad_rnn's autograd computes: the same loss and the same gradient
of every parameter, in float64 at reduced sizes; and its step is plain SGD, θ ← θ - lr·dθ.

``test_planted_bugs_are_caught`` shows that the comparison catches a wrong gate order or a missing
forget-gate factor in a copy of the floor.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import tinygrad_rnn as tr

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "numpy_floor.py"
NAMES = ("char", "tiny", "gru", "long")
RECURRENT = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def _load(source: str | None = None, name: str = "numpy_floor"):
    """The benchmark module, imported by path (or built from ``source``, a changed copy of it). It sits in
    ``sys.modules`` only while it runs (its dataclass looks itself up there), so nothing leaks to other tests."""
    if source is None:
        module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, PATH))
    else:
        module = types.ModuleType(name)
        module.__file__ = str(PATH)
    sys.modules[name] = module
    try:
        if source is None:
            module.__spec__.loader.exec_module(module)
        else:
            exec(compile(source, str(PATH), "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


floor = _load()


def _small(module, name: str):
    """The workload at test size: T 5, B 3, H 7, 6 input features (or a vocabulary of 6)."""
    sizes = dict(steps=5, batch=3, hidden=7, inputs=6)
    if module.WORKLOADS[name].loss == "cross_entropy":
        sizes["outputs"] = 6
    return module.sized(name, **sizes)


def ours(workload, params: dict, data: tuple, impl: str) -> tuple:
    """The loss and the gradients of one step by tinygrad_rnn's layers and autograd."""
    layer_class = {"lstm": tr.nn.LSTM, "gru": tr.nn.GRU, "rnn_tanh": tr.nn.RNN}[workload.cell]
    dtype = tr.float64 if params["weight_hh_l0"].dtype == np.float64 else tr.float32
    layer = layer_class(workload.inputs, workload.hidden, impl=impl, dtype=dtype)
    head = tr.nn.Linear(workload.hidden, workload.outputs, dtype=dtype)
    layer.load_state_dict({name: params[name] for name in RECURRENT})
    head.load_state_dict({"weight": params["head.weight"], "bias": params["head.bias"]})
    x, target = tr.tensor(data[0]), tr.tensor(data[1])
    outputs, _ = layer(x)
    if workload.loss == "cross_entropy":
        loss = tr.nn.functional.cross_entropy(head(outputs).reshape(-1, workload.outputs), target.reshape(-1))
    else:
        loss = tr.nn.functional.mse_loss(head(outputs[-1]), target)
    loss.backward()
    grads = {name: getattr(layer, name).grad.numpy() for name in RECURRENT}
    grads.update({"head.weight": head.weight.grad.numpy(), "head.bias": head.bias.grad.numpy()})
    return float(loss.item()), grads


def _floor_gradients(module, name: str, dtype=np.float64):
    workload = _small(module, name)
    params, data = module.init_params(workload, dtype=dtype), module.make_data(workload, dtype=dtype)
    loss, grads = module.GRADIENT_MAKERS[name]({k: v.copy() for k, v in params.items()}, data)()
    return workload, params, data, loss, {k: v.copy() for k, v in grads.items()}


def _disagreement(module, name: str, impl: str = "composed") -> float:
    """The largest relative difference between the floor's and our loss and gradients (float64)."""
    workload, params, data, loss, grads = _floor_gradients(module, name)
    our_loss, our_grads = ours(workload, params, data, impl)
    worst = abs(loss - our_loss) / abs(our_loss)
    for key, expected in our_grads.items():
        assert grads[key].shape == expected.shape, key
        worst = max(worst, float(np.abs(grads[key] - expected).max() / (np.abs(expected).max() + 1e-30)))
    return worst


@pytest.mark.parametrize("impl", ["composed", "fused"])
@pytest.mark.parametrize("name", NAMES)
def test_gradients_equal_autograd(name, impl):
    """Every parameter's gradient and the loss, float64, against both of our roads."""
    assert set(_floor_gradients(floor, name)[4]) == set(RECURRENT) | {"head.weight", "head.bias"}
    assert _disagreement(floor, name, impl) < 1e-10


@pytest.mark.parametrize("name", NAMES)
def test_float32_loss_equals_ours(name):
    """At the benchmark's dtype (float32) the loss and gradients agree to float32's precision."""
    workload, params, data, loss, grads = _floor_gradients(floor, name, np.float32)
    assert grads["weight_hh_l0"].dtype == np.float32
    our_loss, our_grads = ours(workload, params, data, "fused")
    assert loss == pytest.approx(our_loss, rel=1e-5)
    for key, expected in our_grads.items():
        np.testing.assert_allclose(grads[key], expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())


@pytest.mark.parametrize("name", NAMES)
def test_step_is_sgd(name):
    """step() returns the loss and moves every parameter by -lr times its gradient, in place."""
    workload, params, data, loss, grads = _floor_gradients(floor, name)
    stepped = {k: v.copy() for k, v in params.items()}
    arrays = dict(stepped)
    assert floor.STEP_MAKERS[name](stepped, data, lr=0.01)() == pytest.approx(loss, rel=1e-12)
    for key in params:
        assert stepped[key] is arrays[key]  # updated in place
        np.testing.assert_allclose(stepped[key], params[key] - 0.01 * grads[key], rtol=1e-12, atol=1e-15)
    # a second step starts from the new values: its loss is that of the moved parameters
    second = floor.GRADIENT_MAKERS[name]({k: v.copy() for k, v in stepped.items()}, data)()[0]
    assert floor.STEP_MAKERS[name](stepped, data)() == pytest.approx(second, rel=1e-12)


PLANTED = {
    # the LSTM's gates read in the wrong order: f and i swapped in c_t = f ⊙ c_{t-1} + i ⊙ g
    "lstm gate order": ("i, f, g, o = a[:, :H], a[:, H : 2 * H]", "f, i, g, o = a[:, :H], a[:, H : 2 * H]", "char"),
    # the backward forgets the forget gate on the cell's path: dc_{t-1} = dc_t instead of dc_t ⊙ f
    "missing forget factor": ("np.multiply(d_c, f[t], out=d_c)", "pass", "long"),
    # the GRU's candidate without r on the hidden part's gradient: dQ_n = da_n instead of da_n ⊙ r
    "gru reset factor": ("np.multiply(k_n, r, out=k_qn)", "np.copyto(k_qn, k_n)", "gru"),
    # the RNN's tanh' taken as 1 - h instead of 1 - h²
    "rnn derivative": ("np.multiply(self.h[1:], self.h[1:], out=d_a)", "np.copyto(d_a, self.h[1:])", "tiny"),
}


@pytest.mark.parametrize("bug", list(PLANTED))
def test_planted_bugs_are_caught(bug):
    """The checks above fail on a copy of the floor with one planted mistake."""
    old, new, name = PLANTED[bug]
    source = PATH.read_text()
    assert source.count(old) == 1, f"the planted change no longer applies: {old!r}"
    broken = _load(source.replace(old, new), name="numpy_floor_broken")
    assert _disagreement(broken, name) > 1e-3
