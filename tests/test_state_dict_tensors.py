"""``state_dict()`` and ``tr.load`` give Tensors, as PyTorch's do (issue 11).

``Module.state_dict()`` is an ``OrderedDict`` of detached Tensors that share the parameters' memory
(PyTorch's ``keep_vars=False``), so ``{k: v.clone() ...}`` is how a snapshot is taken; ``tr.save`` stores
Tensors with their dtype and device and ``tr.load`` gives Tensors back; optimizer state dicts hold Tensors
(copies). The last tests run a PyTorch-style script with its imports switched and, where PyTorch is
installed, compare its printed numbers with PyTorch's.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
from test_pytorch_scripts import run, switch_imports

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim


class Net(nn.Module):
    """Two layers and a buffer: parameters and buffers, nested names."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
        self.head = nn.Linear(4, 2)
        self.register_buffer("steps", tr.zeros(1, dtype=tr.int64))

    def forward(self, x):
        return self.head(self.body(x))


def _train(model, opt, x, steps: int) -> list:
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _save_and_load(obj, **options):
    buffer = io.BytesIO()
    tr.save(obj, buffer)
    buffer.seek(0)
    return tr.load(buffer, **options)


# ------------------------------------------------------------------ Module.state_dict
def test_state_dict_is_an_ordered_dict_of_detached_tensors_sharing_memory():
    model = Net()
    state = model.state_dict()
    assert type(state) is OrderedDict
    assert list(state) == ["steps", "body.0.weight", "body.0.bias", "head.weight", "head.bias"]  # own first, as PyTorch
    own = dict(model.named_parameters()) | dict(model.named_buffers())
    for key, value in state.items():
        assert type(value) is tr.Tensor, key  # not the Parameter itself
        assert not value.requires_grad and value.grad_fn is None and value.is_leaf, key
        assert value.dtype == own[key].dtype and value.shape == own[key].shape and value.device == own[key].device
        assert np.shares_memory(value.array, own[key].array), key
    assert state["steps"].dtype == tr.int64


def test_changes_to_the_model_show_in_the_state_dict_and_clone_makes_a_copy():
    model = Net()
    state = model.state_dict()
    snapshot = state["head.weight"].clone()
    with tr.no_grad():
        model.head.weight.add_(1.0)  # as PyTorch: sd = m.state_dict(); m.weight.data.add_(1) shows in sd
    np.testing.assert_array_equal(state["head.weight"].numpy(), model.head.weight.numpy())
    np.testing.assert_array_equal(snapshot.numpy() + 1.0, model.head.weight.numpy())
    model.head.weight.data.add_(1.0)
    np.testing.assert_array_equal(state["head.weight"].numpy(), model.head.weight.numpy())


def test_a_state_dict_value_shares_the_version_counter_so_a_write_through_it_is_caught():
    # Writing into a state_dict value writes into the parameter; a graph that saved it must refuse backward.
    # The weight is saved when the input's gradient is wanted (x Wᵀ: dx = dy W), as in PyTorch's addmm.
    lin = nn.Linear(2, 1)
    out = (lin(tr.ones(1, 2, requires_grad=True)) ** 2).sum()
    lin.state_dict()["weight"].mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation|version"):
        out.backward()
    # Without it, backward never reads the weight: PyTorch does not refuse, nor do we.
    out = (lin(tr.ones(1, 2)) ** 2).sum()
    lin.state_dict()["weight"].mul_(2.0)
    out.backward()
    assert lin.weight.grad is not None


def test_keep_vars_prefix_and_destination():
    model = Net()
    kept = model.state_dict(keep_vars=True)
    assert kept["head.weight"] is model.head.weight and isinstance(kept["head.weight"], nn.Parameter)
    assert kept["steps"] is model.steps
    destination = {"other": 1}
    result = model.state_dict(destination=destination, prefix="net.")
    assert result is destination and list(result) == ["other"] + [f"net.{k}" for k in model.state_dict()]
    assert model.head.state_dict(None, "h.", False).keys() == {"h.weight", "h.bias"}  # PyTorch's positional order
    with pytest.raises(TypeError, match=r"state_dict: destination must be a dict \(or None\), got list"):
        model.state_dict(destination=[])
    with pytest.raises(TypeError, match="state_dict: prefix must be a str, got int"):
        model.state_dict(prefix=3)


def test_early_stopping_clone_survives_further_training_and_restores_the_model():
    tr.manual_seed(3)
    model, x = Net(), tr.randn(5, 3)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train(model, opt, x, 2)
    best_state = {k: v.clone() for k, v in model.state_dict().items()}
    best_output = model(x).detach().numpy().copy()
    live = model.state_dict()
    _train(model, opt, x, 3)
    assert not np.allclose(model(x).detach().numpy(), best_output)
    assert not np.array_equal(best_state["head.weight"].numpy(), live["head.weight"].numpy())  # the clone stayed
    np.testing.assert_array_equal(live["head.weight"].numpy(), model.head.weight.numpy())  # the live one moved
    model.load_state_dict(best_state)
    np.testing.assert_array_equal(model(x).detach().numpy(), best_output)


def test_deepcopy_of_a_state_dict_is_a_snapshot_that_loads_later():
    tr.manual_seed(4)
    model, x = Net(), tr.randn(5, 3)
    saved = copy.deepcopy(model.state_dict())
    before = model(x).detach().numpy().copy()
    assert all(type(v) is tr.Tensor and not np.shares_memory(v.array, model.state_dict()[k].array)
               for k, v in saved.items())
    _train(model, optim.Adam(model.parameters(), lr=0.1), x, 3)
    model.load_state_dict(saved)
    np.testing.assert_array_equal(model(x).detach().numpy(), before)


def test_load_state_dict_takes_tensors_arrays_and_its_own_state_dict():
    model = Net()
    weight = model.head.weight
    version = weight._version
    assert model.load_state_dict(model.state_dict()) == ([], [])  # the values alias their targets: no change
    assert model.head.weight is weight and weight._version == version + 1
    arrays = {k: np.full(v.shape, 0.5) for k, v in model.state_dict().items()}
    model.load_state_dict(arrays)
    assert model.head.weight.dtype == tr.float32 and np.all(model.head.weight.numpy() == 0.5)
    with pytest.raises(RuntimeError, match=r"nothing was loaded.*head\.weight: expected shape \(2, 4\), got \(4, 2\)"):
        model.load_state_dict({**model.state_dict(), "head.weight": tr.zeros(4, 2)})
    assert np.all(model.head.weight.numpy() == 0.5)


def test_pytorch_tensor_idioms_on_state_dict_values():
    model = Net()
    w = model.state_dict()["body.0.weight"]
    assert w.size(0) == 4 and tuple(w.size()) == (4, 3) and w.numel() == 12
    assert w.dtype == tr.float32 and w.data.dtype == tr.float32
    assert tr.equal(w.clone(), w)
    moved = {k: v.cpu() for k, v in model.state_dict().items()}
    also = {k: v.to(tr.device("cpu")) for k, v in model.state_dict().items()}
    assert all(tr.equal(moved[k], also[k]) for k in moved)


# ------------------------------------------------------------------ tr.save / tr.load
def test_save_and_load_give_tensors_with_dtype_and_device_kept():
    model = Net().double()
    checkpoint = _save_and_load({"model": model.state_dict(), "epoch": 3, "history": [(1, tr.tensor(0.5))]})
    assert type(checkpoint["epoch"]) is int and checkpoint["epoch"] == 3  # numbers stay numbers
    history = checkpoint["history"]
    assert type(history[0]) is tuple and type(history[0][1]) is tr.Tensor and history[0][1].item() == 0.5
    for key, value in model.state_dict().items():
        loaded = checkpoint["model"][key]
        assert type(loaded) is tr.Tensor and not loaded.requires_grad and loaded.device == "cpu", key
        assert loaded.dtype == value.dtype and loaded.shape == value.shape, key
        np.testing.assert_array_equal(loaded.numpy(), value.numpy())
        assert not np.shares_memory(loaded.array, value.array)
    assert checkpoint["model"]["steps"].dtype == tr.int64
    fresh = Net().double()
    fresh.load_state_dict(checkpoint["model"])
    x = tr.randn(2, 3, dtype=tr.float64)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


def test_tensors_come_back_on_the_device_they_were_saved_from_or_on_map_location():
    model = Net().to("strict")  # the CuPy-like test device
    saved = {"model": model.state_dict(), "host": tr.ones(2)}
    loaded = _save_and_load(saved)
    assert all(v.device == "strict" for v in loaded["model"].values()) and loaded["host"].device == "cpu"
    on_cpu = _save_and_load(saved, map_location="cpu")
    assert all(v.device == "cpu" for v in on_cpu["model"].values())
    np.testing.assert_array_equal(on_cpu["model"]["head.weight"].numpy(), model.head.weight.numpy())
    on_strict = _save_and_load(saved, map_location=tr.device("strict"))
    assert on_strict["host"].device == "strict"


def test_parameters_and_requires_grad_come_back_as_saved():
    model = Net()
    loaded = _save_and_load({"kept": model.state_dict(keep_vars=True), "plain": model.state_dict()})
    assert type(loaded["kept"]["head.weight"]) is nn.Parameter and loaded["kept"]["head.weight"].requires_grad
    assert type(loaded["kept"]["steps"]) is tr.Tensor and not loaded["kept"]["steps"].requires_grad
    assert type(loaded["plain"]["head.weight"]) is tr.Tensor and not loaded["plain"]["head.weight"].requires_grad


def test_numpy_arrays_come_back_as_numpy_and_old_array_checkpoints_still_load():
    # A NumPy array is given back as what was saved (map_location makes it a Tensor, as before), and a
    # checkpoint written when state_dict() gave NumPy arrays still loads into a model.
    model = Net()
    old_style = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    loaded = _save_and_load({"model": old_style})
    assert all(type(v) is np.ndarray for v in loaded["model"].values())
    assert type(_save_and_load({"model": old_style}, map_location="cpu")["model"]["head.weight"]) is tr.Tensor
    fresh = Net()
    fresh.load_state_dict(loaded["model"])
    np.testing.assert_array_equal(fresh.head.weight.numpy(), model.head.weight.numpy())


def test_a_file_with_tensors_has_format_version_3_and_one_without_stays_version_1():
    def version(obj) -> int:
        buffer = io.BytesIO()
        tr.save(obj, buffer)
        with zipfile.ZipFile(buffer) as archive:
            return json.loads(np.load(io.BytesIO(archive.read("__structure__.npy"))).item())["version"]

    assert version({"w": np.ones(2), "epoch": 1}) == 1
    assert version(Net()) == 2  # a whole module alone: readable by versions that predate loose tensors
    assert version(Net().state_dict()) == 3
    assert version({"model": Net(), "w": tr.ones(1)}) == 3


# ------------------------------------------------------------------ optimizers
@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.Adam(p, lr=0.01),
                                  lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5), lambda p: optim.Adagrad(p)],
                         ids=["SGD", "Adam", "RMSprop", "Adagrad"])
def test_optimizer_state_holds_tensor_copies_and_a_checkpoint_resumes_bit_for_bit(make):
    tr.manual_seed(5)
    x = tr.randn(6, 3)
    model = Net()
    opt = make(model.parameters())
    _train(model, opt, x, 3)
    state = opt.state_dict()
    for entries in state["state"].values():
        for key, value in entries.items():
            if key == "step":
                assert type(value) is int
            else:
                assert type(value) is tr.Tensor and not value.requires_grad and value.dtype == tr.float32, key
    checkpoint = _save_and_load({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3})
    assert checkpoint["epoch"] == 3
    for index, entries in state["state"].items():  # through the file: same types, dtypes, values
        for key, value in entries.items():
            loaded = checkpoint["optim"]["state"][index][key]
            assert type(loaded) is type(value)
            if isinstance(value, tr.Tensor):
                assert loaded.dtype == value.dtype and np.array_equal(loaded.numpy(), value.numpy())
    straight = _train(model, opt, x, 4)

    resumed_model = Net()
    resumed_opt = make(resumed_model.parameters())
    resumed_model.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optim"])
    assert _train(resumed_model, resumed_opt, x, 4) == straight
    for a, b in zip(resumed_model.parameters(), model.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_lbfgs_state_round_trips_through_a_file():
    tr.manual_seed(6)
    x = tr.randn(6, 3)

    def run_lbfgs(model, opt, steps):
        def closure():
            opt.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            return loss

        return [opt.step(closure).item() for _ in range(steps)]

    model = Net()
    opt = optim.LBFGS(model.parameters(), max_iter=3, history_size=3)
    run_lbfgs(model, opt, 2)
    checkpoint = _save_and_load({"model": model.state_dict(), "optim": opt.state_dict()})
    assert all(type(v) is tr.Tensor for v in checkpoint["optim"]["state"][0]["old_dirs"])
    straight = run_lbfgs(model, opt, 2)
    resumed = Net()
    resumed_opt = optim.LBFGS(resumed.parameters(), max_iter=3, history_size=3)
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optim"])
    assert run_lbfgs(resumed, resumed_opt, 2) == straight


# ------------------------------------------------------------------ a PyTorch script, unchanged
STATE_DICT_SCRIPT = '''
import copy
import io

import torch
import torch.nn as nn
import torch.optim as optim


def make():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    model.load_state_dict({name: torch.tensor(value) for name, value in WEIGHTS.items()})
    return model, optim.Adam(model.parameters(), lr=0.05)


def train_one(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


x, y = torch.tensor(X), torch.tensor(Y)
x_val, y_val = torch.tensor(X_VAL), torch.tensor(Y_VAL)
model, optimizer = make()
sd = model.state_dict()
w = sd["0.weight"]
print("keys", list(sd))
print("size", w.size(0), w.size(1), w.numel(), w.dtype == torch.float64, w.requires_grad, w.grad_fn is None)
print("data", w.data.dtype == torch.float64, tuple(w.shape))
initial = copy.deepcopy(model.state_dict())
host = {k: v.cpu() for k, v in sd.items()}
moved = {k: v.to(torch.device("cpu")) for k, v in sd.items()}
print("equal", all(torch.equal(host[k], moved[k]) for k in sd))

best_loss, best_state, checkpoint = float("inf"), None, None
for epoch in range(8):
    train_loss = train_one(model, optimizer, x, y)
    with torch.no_grad():
        val_loss = ((model(x_val) - y_val) ** 2).mean().item()
    print(f"epoch {epoch} train {train_loss:.12f} val {val_loss:.12f}")
    if val_loss < best_loss:
        best_loss = val_loss
        best_state = {k: v.clone() for k, v in model.state_dict().items()}
    if epoch == 3:
        checkpoint = io.BytesIO()
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}, checkpoint)

print("shared", torch.equal(sd["0.weight"], model[0].weight))
print("moved on", (sd["0.weight"] - initial["0.weight"]).abs().max().item())
straight = [train_one(model, optimizer, x, y) for _ in range(3)]
print("clone differs", (best_state["2.weight"] - sd["2.weight"]).abs().max().item())

checkpoint.seek(0)
state = torch.load(checkpoint)
print("epoch", state["epoch"], type(state["epoch"]).__name__)
resumed, resumed_optimizer = make()
resumed.load_state_dict(state["model"])
resumed_optimizer.load_state_dict(state["optimizer"])
for _ in range(4):  # epochs 4 to 7 again, then the three more
    train_one(resumed, resumed_optimizer, x, y)
again = [train_one(resumed, resumed_optimizer, x, y) for _ in range(3)]
print("resumed", " ".join(f"{loss:.12f}" for loss in again), again == straight)

model.load_state_dict(best_state)
with torch.no_grad():
    print(f"best {((model(x_val) - y_val) ** 2).mean().item():.12f} {best_loss:.12f}")
model.load_state_dict(initial)
print("initial", torch.equal(model[0].weight, torch.tensor(WEIGHTS["0.weight"])))
'''

_NUMBER = re.compile(r"-?\d+\.\d+(?:e-?\d+)?")


def _script_inputs() -> dict:
    rng = np.random.default_rng(11)
    weights = {"0.weight": rng.standard_normal((4, 3)), "0.bias": rng.standard_normal(4),
               "2.weight": rng.standard_normal((1, 4)), "2.bias": rng.standard_normal(1)}
    return dict(WEIGHTS=weights, X=rng.standard_normal((16, 3)), Y=rng.standard_normal((16, 1)),
                X_VAL=rng.standard_normal((8, 3)), Y_VAL=rng.standard_normal((8, 1)))


def _printed(script: str, inputs: dict) -> str:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        run(script, **inputs)
    return output.getvalue()


def test_state_dict_script_runs_with_imports_switched():
    printed = _printed(switch_imports(STATE_DICT_SCRIPT), _script_inputs())
    lines = printed.splitlines()
    assert lines[0] == "keys ['0.weight', '0.bias', '2.weight', '2.bias']"
    assert lines[1] == "size 4 3 12 True False True" and lines[2] == "data True (4, 3)" and lines[3] == "equal True"
    assert "shared True" in lines and "epoch 3 int" in lines and "initial True" in lines
    assert next(line for line in lines if line.startswith("resumed")).endswith("True")  # bit for bit
    best = next(line for line in lines if line.startswith("best")).split()
    assert best[1] == best[2]  # the clone taken at the best epoch restores exactly that model
    assert float(next(line for line in lines if line.startswith("clone differs")).split()[-1]) > 0


def test_state_dict_script_prints_pytorchs_numbers():
    pytest.importorskip("torch")
    inputs = _script_inputs()
    theirs = _printed(STATE_DICT_SCRIPT, inputs)
    ours = _printed(switch_imports(STATE_DICT_SCRIPT), inputs)
    assert _NUMBER.sub("#", ours) == _NUMBER.sub("#", theirs)  # the same lines, words and flags
    np.testing.assert_allclose([float(n) for n in _NUMBER.findall(ours)],
                               [float(n) for n in _NUMBER.findall(theirs)], rtol=1e-9, atol=1e-12)
