"""Devices: the strict CuPy-like backend, errors for a missing CuPy and for mixed devices,
moving tensors and modules, DLPack, and (marked ``gpu``) CuPy on a CUDA GPU against the CPU."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tinygrad_rnn as tr
from tests.helpers import assert_close
from tinygrad_rnn import backend, nn, optim
from tinygrad_rnn.strict_backend import StrictArray, strict_module

needs_gpu = pytest.mark.skipif(not tr.cuda.is_available(), reason="needs CuPy and a CUDA GPU")


# ---------------------------------------------------------------- the strict backend refuses what CuPy refuses
def test_strict_array_refuses_implicit_conversion_to_numpy():
    x = tr.randn(2, 3, device="strict")
    with pytest.raises(TypeError, match="implicit conversion"):
        np.asarray(x.array)
    with pytest.raises(TypeError, match="cannot convert a tensor on strict"):
        np.asarray(x)


def test_strict_array_refuses_numpy_functions_and_host_operands():
    x = tr.randn(3, device="strict").array
    with pytest.raises(TypeError, match="numpy.exp"):
        np.exp(x)
    with pytest.raises(TypeError, match="numpy.concatenate"):
        np.concatenate([x, x])
    with pytest.raises(TypeError, match="host"):
        x + np.ones(3)
    with pytest.raises(TypeError, match="host"):
        strict_module.maximum(x, np.zeros(3))


def test_strict_array_allows_explicit_transfers_and_scalars():
    x = strict_module.asarray(np.arange(3.0))  # explicit host -> device, as cupy.asarray
    assert isinstance(x, StrictArray)
    assert isinstance((x * 2.0 + np.float32(1.0)).get(), np.ndarray)
    assert float(x[1]) == 1.0
    with pytest.raises(TypeError, match="one-element"):
        float(x)
    assert tr.tensor([1.0, 2.0], device="strict").numpy().tolist() == [1.0, 2.0]


def test_a_training_step_reads_nothing_back_to_the_host_but_the_target_check():
    """On a GPU a read back to the host synchronises; the strict backend counts them."""
    tr.set_default_device("strict")
    try:
        lstm, head = nn.LSTM(3, 8, num_layers=2, bidirectional=True), nn.Linear(16, 5)
        params = list(lstm.parameters()) + list(head.parameters())
        optimizer = optim.Adam(params, lr=1e-2)
        x, y = tr.randn(7, 4, 3), tr.randint(0, 5, (7, 4))
        StrictArray.host_reads = 0
        out, _ = lstm(x)
        loss = nn.functional.cross_entropy(head(out).reshape(28, 5), y.reshape(28))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        assert StrictArray.host_reads == 1  # cross_entropy's check that targets are in range
    finally:
        tr.set_default_device("cpu")


# ---------------------------------------------------------------- errors
def test_op_on_two_devices_names_both():
    a, b = tr.ones(3), tr.ones(3, device="strict")
    for op in (lambda: a + b, lambda: b * a, lambda: a @ b, lambda: tr.cat([a, b]), lambda: tr.where(a > 0, a, b)):
        with pytest.raises(RuntimeError, match="cpu") as error:
            op()
        assert "strict" in str(error.value)


def test_missing_cupy_gives_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail, as on a machine without it
    monkeypatch.setattr(backend, "_cupy", None)
    assert not tr.cuda.is_available()
    assert tr.cuda.device_count() == 0
    for attempt in (
        lambda: tr.zeros(2, device="cuda"),
        lambda: tr.tensor([1.0], device="cuda:1"),
        lambda: tr.ones(2).cuda(),
        lambda: tr.ones(2).to("cuda"),
        lambda: nn.Linear(2, 2).cuda(),
        lambda: tr.set_default_device("cuda"),
    ):
        with pytest.raises(RuntimeError, match=r"needs CuPy") as error:
            attempt()
        assert "tinygrad_rnn[cuda12]" in str(error.value) and "tinygrad_rnn[cuda13]" in str(error.value)
    assert tr.get_default_device() == "cpu"  # a failed switch leaves the default alone


def test_bad_device_names_are_rejected():
    for name in ("gpu", "cuda:x", "CPU", "tpu:0"):
        with pytest.raises(ValueError, match="device"):
            tr.zeros(1, device=name)


# ---------------------------------------------------------------- moving tensors and modules
def test_to_another_device_and_back_keeps_values_and_gradient_flows_back():
    x = tr.randn(3, 4, requires_grad=True)
    y = x.to("strict")
    assert y.device == "strict" and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.device == "cpu"
    assert_close(x.grad, 2 * x.numpy(), atol=1e-6)
    assert_close(y.to("cpu"), x)
    assert x.to("cpu") is x


def test_module_to_device_keeps_parameters_and_trains_identically():
    tr.manual_seed(0)
    cpu_model = nn.GRU(3, 4)
    strict_model = nn.GRU(3, 4)
    strict_model.load_state_dict(cpu_model.state_dict())
    same_parameter = strict_model.weight_hh_l0
    strict_model.to("strict")
    assert strict_model.weight_hh_l0 is same_parameter and same_parameter.device == "strict"
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    losses = {}
    for name, model in (("cpu", cpu_model), ("strict", strict_model)):
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        inputs = tr.tensor(x, device=name)
        history = []
        for _ in range(3):
            out, h = model(inputs)
            loss = (out * out).mean() + h.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            history.append(loss.item())
        losses[name] = history
    np.testing.assert_allclose(losses["strict"], losses["cpu"], rtol=1e-6)


def test_default_device_places_new_tensors():
    tr.set_default_device("strict")
    try:
        assert tr.zeros(2).device == "strict"
        assert tr.tensor([1, 2]).device == "strict"
        assert tr.tensor(np.ones(2)).device == "strict"
        assert tr.randn(2).device == "strict"
        assert nn.Linear(2, 3).weight.device == "strict"
        assert tr.tensor([1.0], device="cpu").device == "cpu"
    finally:
        tr.set_default_device("cpu")
    assert tr.zeros(2).device == "cpu"


# ---------------------------------------------------------------- DLPack
def test_dlpack_with_numpy_is_zero_copy_both_ways():
    array = np.arange(6.0).reshape(2, 3)
    t = tr.from_dlpack(array)
    t.array[0, 0] = 42.0
    assert array[0, 0] == 42.0 and t.dtype == tr.float64
    back = np.from_dlpack(t)
    back[1, 2] = -1.0
    assert t.array[1, 2] == -1.0


def test_dlpack_with_torch_is_zero_copy_both_ways():
    torch = pytest.importorskip("torch")
    source = torch.arange(4.0)
    t = tr.from_dlpack(source)
    t.array[1] = 7.0
    assert source[1].item() == 7.0
    ours = tr.ones(3)
    theirs = torch.from_dlpack(ours)
    theirs[0] = 5.0
    assert ours.array[0] == 5.0


def test_dlpack_errors():
    with pytest.raises(TypeError, match="__dlpack__"):
        tr.from_dlpack([1, 2, 3])
    with pytest.raises(TypeError, match="strict"):
        tr.ones(2, device="strict").__dlpack_device__()


# ---------------------------------------------------------------- CuPy on a GPU (skipped without one)
@pytest.mark.gpu
@needs_gpu
def test_cuda_tensors_live_on_the_gpu_and_come_back():
    import cupy

    x = tr.randn(3, 4, device="cuda")
    assert x.device == "cuda:0" and isinstance(x.array, cupy.ndarray)
    assert isinstance(x.numpy(), np.ndarray)
    assert_close(x.cpu().cuda().cpu(), x.cpu())
    with pytest.raises(RuntimeError, match="cuda:0"):
        x + tr.randn(3, 4)
    with pytest.raises(TypeError):
        np.asarray(x)


@pytest.mark.gpu
@needs_gpu
def test_dlpack_with_cupy_is_zero_copy():
    import cupy

    source = cupy.arange(4.0)
    t = tr.from_dlpack(source)
    t.array[2] = 9.0
    assert float(source[2]) == 9.0 and t.device == "cuda:0"


@pytest.mark.gpu
@needs_gpu
def test_short_training_run_on_gpu_matches_the_cpu_run():
    """The same script, one device string apart, gives the same losses within float32 tolerance."""
    x = np.random.default_rng(1).standard_normal((12, 8, 5)).astype(np.float32)
    y = np.random.default_rng(2).integers(0, 4, (12, 8))
    tr.manual_seed(0)
    initial = (nn.LSTM(5, 16, num_layers=2).state_dict(), nn.Linear(16, 4).state_dict())
    losses = {}
    for device in ("cpu", "cuda"):
        lstm, head = nn.LSTM(5, 16, num_layers=2), nn.Linear(16, 4)
        lstm.load_state_dict(initial[0])
        head.load_state_dict(initial[1])
        lstm.to(device)
        head.to(device)
        params = list(lstm.parameters()) + list(head.parameters())
        opt = optim.Adam(params, lr=1e-2)
        inputs, targets = tr.tensor(x, device=device), tr.tensor(y, device=device)
        history = []
        for _ in range(20):
            out, _ = lstm(inputs)
            loss = nn.functional.cross_entropy(head(out).reshape(-1, 4), targets.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            history.append(loss.item())
        losses[device] = history
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-4)
