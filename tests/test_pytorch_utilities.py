"""PyTorch's small utilities that scripts call around a model (issue 11): ``tr.cuda``'s seeding,
synchronisation and memory queries, ``nn.init``'s ``calculate_gain``, ``eye_``, ``trunc_normal_`` and
``sparse_``, ``nn.utils``' parameter vectors and norm helpers, ``utils.data``'s ``StackDataset`` and
``get_worker_info``, and ``Module.get_submodule`` / ``get_parameter``; against PyTorch where it is
importable. ``tr.cuda`` is tested with CuPy absent and with a stand-in CuPy that records its calls
(and, marked, on a real GPU)."""

from __future__ import annotations

import math
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import backend, nn
from tinygrad_rnn.utils.data import DataLoader, StackDataset, TensorDataset, get_worker_info


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- tr.cuda without CuPy
@pytest.fixture
def no_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` fails, as on a machine without it
    monkeypatch.setattr(backend, "_cupy", None)


def test_cuda_calls_that_scripts_make_unconditionally_do_nothing_without_a_gpu(no_cupy):
    generators = dict(backend._generators)
    assert tr.cuda.manual_seed(0) is None and tr.cuda.manual_seed_all(1) is None
    assert tr.cuda.synchronize() is None and tr.cuda.synchronize("cuda:0") is None
    assert tr.cuda.empty_cache() is None
    assert tr.cuda.memory_allocated() == 0 and tr.cuda.memory_reserved(0) == 0
    assert dict(backend._generators) == generators  # no generator was made or replaced


@pytest.mark.parametrize("call", [tr.cuda.current_device, tr.cuda.get_device_name, tr.cuda.mem_get_info])
def test_cuda_queries_about_a_gpu_raise_without_one(no_cupy, call):
    with pytest.raises(RuntimeError, match=rf"^tr\.cuda\.{call.__name__}: .*needs CuPy.*tinygrad_rnn\[cuda12\]"):
        call()


def test_cuda_seeds_are_checked_as_pytorch_checks_them(no_cupy, torch):
    for bad in (1.5, "1", True, None):
        with pytest.raises(TypeError, match="seed must be an integer"):
            tr.cuda.manual_seed(bad)
    with pytest.raises(ValueError, match=r"\[-2\*\*63, 2\*\*64\)"):
        tr.cuda.manual_seed_all(1 << 64)
    from tinygrad_rnn.cuda import _seed

    state = torch.get_rng_state()
    try:
        for seed in (-1, -(1 << 63), 0, 5, (1 << 64) - 1):  # negative seeds are remapped as PyTorch remaps them
            torch.manual_seed(seed)
            assert _seed("manual_seed", seed) == torch.initial_seed()
    finally:
        torch.set_rng_state(state)


def test_cuda_device_arguments_are_checked(no_cupy):
    for bad in ("cpu", "strict"):
        with pytest.raises(ValueError, match="expected a CUDA device"):
            tr.cuda.synchronize(bad)
    with pytest.raises(ValueError, match="device"):
        tr.cuda.memory_allocated("gpu")
    with pytest.raises(ValueError, match="non-negative"):
        tr.cuda.memory_allocated(-1)


# ---------------------------------------------------------------- tr.cuda with a stand-in CuPy
class FakeCupy:
    """The parts of CuPy that ``tr.cuda`` calls, recording the GPU each call runs on."""

    def __init__(self, count: int = 2):
        self.current, self.calls = [0], []
        fake = self

        class Device:
            def __init__(self, index):
                self.id = index

            def __enter__(self):
                fake.current.append(self.id)
                return self

            def __exit__(self, *exc):
                fake.current.pop()

            def synchronize(self):
                fake.calls.append(("synchronize", self.id))

        def rng(seed):
            fake.calls.append(("default_rng", seed, fake.current[-1]))
            return np.random.default_rng(seed)

        pool = SimpleNamespace(used_bytes=lambda: 512 * (fake.current[-1] + 1),
                               total_bytes=lambda: 4096 * (fake.current[-1] + 1),
                               free_all_blocks=lambda: fake.calls.append(("free", "device")))
        pinned = SimpleNamespace(free_all_blocks=lambda: fake.calls.append(("free", "pinned")))
        runtime = SimpleNamespace(getDeviceCount=lambda: count,
                                  getDeviceProperties=lambda index: {"name": f"Fake GPU {index}".encode()},
                                  memGetInfo=lambda: (1000 * (fake.current[-1] + 1), 80_000))
        self.cuda = SimpleNamespace(Device=Device, runtime=runtime)
        self.random = SimpleNamespace(default_rng=rng)
        self.get_default_memory_pool = lambda: pool
        self.get_default_pinned_memory_pool = lambda: pinned


@pytest.fixture
def fake_cupy(monkeypatch):
    fake = FakeCupy()
    monkeypatch.setattr(backend, "_cupy", fake)
    monkeypatch.setattr(backend, "_generators", {})
    monkeypatch.setattr(backend, "_seed", backend._seed)
    return fake


def test_cuda_manual_seed_seeds_the_current_gpu_as_tr_manual_seed_would(fake_cupy):
    assert tr.cuda.is_available() and tr.cuda.device_count() == 2
    tr.cuda.manual_seed(7)
    assert set(backend._generators) == {"cuda:0"} and ("default_rng", 7, 0) in fake_cupy.calls
    seeded = backend.generator("cuda:0").random(4)
    tr.manual_seed(7)  # every device's generator, made on first use
    assert np.array_equal(backend.generator("cuda:0").random(4), seeded)
    tr.cuda.manual_seed(-1)
    assert ("default_rng", 0xFFFF_FFFF_FFFF_FFFF, 0) in fake_cupy.calls


def test_cuda_manual_seed_all_seeds_every_gpu_on_its_own_device(fake_cupy):
    backend._generators["cpu"] = cpu = np.random.default_rng(1)
    tr.cuda.manual_seed_all(3)
    assert [call for call in fake_cupy.calls if call[0] == "default_rng"] == [("default_rng", 3, 0),
                                                                              ("default_rng", 3, 1)]
    assert backend._generators["cpu"] is cpu  # the CPU generator is left alone, as in PyTorch
    assert np.array_equal(backend.generator("cuda:1").random(3), np.random.default_rng(3).random(3))


def test_cuda_synchronize_memory_and_names_go_to_the_device_asked_for(fake_cupy):
    tr.cuda.synchronize()
    tr.cuda.synchronize(1)
    tr.cuda.synchronize(tr.device("cuda:1"))
    assert fake_cupy.calls == [("synchronize", 0), ("synchronize", 1), ("synchronize", 1)]
    assert tr.cuda.memory_allocated() == 512 and tr.cuda.memory_allocated("cuda:1") == 1024
    assert tr.cuda.memory_reserved(1) == 8192
    assert tr.cuda.mem_get_info("cuda") == (1000, 80_000) and tr.cuda.mem_get_info(1) == (2000, 80_000)
    assert tr.cuda.current_device() == 0
    assert tr.cuda.get_device_name() == "Fake GPU 0" and tr.cuda.get_device_name("cuda:1") == "Fake GPU 1"
    tr.cuda.empty_cache()
    assert fake_cupy.calls[-2:] == [("free", "device"), ("free", "pinned")]
    with pytest.raises(ValueError, match="no device cuda:2; CuPy sees 2 GPU"):
        tr.cuda.synchronize(2)


@pytest.mark.gpu
@pytest.mark.skipif(not tr.cuda.is_available(), reason="needs CuPy and a CUDA GPU")
def test_cuda_utilities_on_a_real_gpu():
    tr.cuda.manual_seed(11)
    a = tr.randn(5, device="cuda").numpy()
    tr.cuda.manual_seed_all(11)
    assert np.array_equal(tr.randn(5, device="cuda").numpy(), a)
    before = tr.cuda.memory_allocated()
    x = tr.zeros(1 << 20, device="cuda")
    tr.cuda.synchronize()
    assert tr.cuda.memory_allocated() >= before + 4 * (1 << 20)
    assert tr.cuda.memory_reserved() >= tr.cuda.memory_allocated()
    del x
    tr.cuda.empty_cache()
    free, total = tr.cuda.mem_get_info()
    assert 0 < free <= total and tr.cuda.current_device() == 0 and tr.cuda.get_device_name()


# ---------------------------------------------------------------- nn.init
GAINS = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv_transpose3d", None), ("sigmoid", None),
         ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)]


@pytest.mark.parametrize("nonlinearity, param", GAINS)
def test_calculate_gain_matches_pytorch(torch, nonlinearity, param):
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


@pytest.mark.parametrize("nonlinearity, param", [("softmax", None), ("gelu", None), ("leaky_relu", True),
                                                 ("leaky_relu", "0.1")])
def test_calculate_gain_refuses_what_pytorch_refuses(torch, nonlinearity, param):
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(nonlinearity, param)
    with pytest.raises(ValueError, match="calculate_gain"):
        nn.init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("shape", [(3, 5), (4, 4), (6, 2)])
def test_eye_matches_pytorch(torch, shape):
    w = nn.Parameter(tr.randn(*shape))
    assert nn.init.eye_(w) is w and w.grad_fn is None and w.requires_grad
    np.testing.assert_array_equal(w.numpy(), torch.nn.init.eye_(torch.empty(shape)).numpy())
    assert nn.init.eye_(tr.zeros(2, 3, dtype=tr.float64)).dtype == tr.float64
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.init.eye_(tr.zeros(2, 3, 4))


def test_trunc_normal_stays_in_its_interval_with_the_truncated_moments(torch):
    tr.manual_seed(0)
    w = nn.init.trunc_normal_(tr.empty(200_000), mean=0.5, std=2.0, a=-1.0, b=3.0)
    values = w.numpy()
    assert w.dtype == tr.float32 and values.min() >= -1.0 and values.max() <= 3.0
    reference = torch.nn.init.trunc_normal_(torch.empty(200_000, dtype=torch.float64), 0.5, 2.0, -1.0, 3.0).numpy()
    alpha, beta = (-1.0 - 0.5) / 2.0, (3.0 - 0.5) / 2.0  # the closed-form mean of a truncated normal
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    mean = 0.5 + 2.0 * (pdf(alpha) - pdf(beta)) / (cdf(beta) - cdf(alpha))
    assert values.mean() == pytest.approx(mean, abs=0.01) and reference.mean() == pytest.approx(mean, abs=0.01)
    assert values.std() == pytest.approx(reference.std(), rel=0.01)


def test_trunc_normal_default_cuts_at_plus_minus_two_and_repeats_when_seeded():
    tr.manual_seed(3)
    a = nn.init.trunc_normal_(tr.empty(50, 40)).numpy()
    tr.manual_seed(3)
    b = nn.init.trunc_normal_(tr.empty(50, 40)).numpy()
    assert np.array_equal(a, b) and np.abs(a).max() <= 2.0 and a.shape == (50, 40)
    small = nn.init.trunc_normal_(tr.empty(1000), std=0.02).numpy()
    assert 0.015 < small.std() < 0.025


@pytest.mark.parametrize("kwargs, message", [({"std": 0.0}, "std must be positive"),
                                             ({"a": 1.0, "b": -1.0}, "is empty"),
                                             ({"mean": 0.0, "std": 1.0, "a": 10.0, "b": 11.0}, "probability")])
def test_trunc_normal_refuses_what_it_cannot_draw(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.init.trunc_normal_(tr.empty(4), **kwargs)


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_sparse_zeroes_as_many_entries_of_each_column_as_pytorch(torch, sparsity):
    rows, cols = 20, 7
    w = nn.init.sparse_(tr.empty(rows, cols), sparsity, std=0.5)
    reference = torch.nn.init.sparse_(torch.empty(rows, cols), sparsity, std=0.5).numpy()
    np.testing.assert_array_equal((w.numpy() == 0).sum(0), (reference == 0).sum(0))
    assert ((w.numpy() == 0).sum(0) == math.ceil(sparsity * rows)).all()


def test_sparse_draws_its_nonzero_entries_from_its_normal_and_checks_arguments():
    tr.manual_seed(1)
    w = nn.init.sparse_(tr.empty(400, 300), 0.25, std=0.3).numpy()
    nonzero = w[w != 0]
    assert nonzero.std() == pytest.approx(0.3, rel=0.02) and abs(nonzero.mean()) < 0.01
    zero_rows = [frozenset(np.flatnonzero(w[:, j] == 0)) for j in range(w.shape[1])]
    assert len(set(zero_rows)) > 1  # each column gets its own random rows
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.init.sparse_(tr.empty(3), 0.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        nn.init.sparse_(tr.empty(3, 3), 1.5)


@pytest.mark.parametrize("device", ["cpu", "strict"])
def test_the_new_initialisers_fill_on_the_tensors_device(device):
    for fill in (nn.init.eye_, nn.init.trunc_normal_, lambda t: nn.init.sparse_(t, 0.5)):
        w = tr.zeros(4, 6, device=device)
        assert fill(w) is w and w.device == device


# ---------------------------------------------------------------- nn.utils
def _twin_models(torch):
    """A tinygrad_rnn model and a PyTorch one with the same weights."""
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def test_parameters_to_vector_matches_pytorch_and_is_differentiable(torch):
    ours, theirs = _twin_models(torch)
    vec = nn.utils.parameters_to_vector(ours.parameters())
    expected = torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(vec.numpy(), expected.detach().numpy())
    weights = tr.arange(vec.shape[0]).float()
    (vec * weights).sum().backward()
    (expected * torch.arange(expected.shape[0]).float()).sum().backward()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_vector_to_parameters_matches_pytorch_and_keeps_the_parameters(torch):
    ours, theirs = _twin_models(torch)
    params = list(ours.parameters())
    count = sum(p.numel() for p in params)
    values = np.linspace(-1.0, 1.0, count).astype(np.float32)
    vec = tr.tensor(values)
    nn.utils.vector_to_parameters(vec, ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.from_numpy(values.copy()), theirs.parameters())
    assert list(ours.parameters()) == params  # the same objects, as in PyTorch
    for p, q in zip(params, theirs.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.detach().numpy())
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(params).numpy(), values)
    vec.data[0] = 42.0  # the parameters share vec's memory, as in PyTorch
    assert params[0].numpy().flat[0] == 42.0


def test_parameter_vectors_refuse_bad_arguments():
    params = list(nn.Linear(2, 3).parameters())
    with pytest.raises(TypeError, match="expected a Tensor as vec"):
        nn.utils.vector_to_parameters(np.zeros(9), params)
    with pytest.raises(ValueError, match="1-D"):
        nn.utils.vector_to_parameters(tr.zeros(3, 3), params)
    with pytest.raises(ValueError, match="hold 9 numbers, vec only 8"):
        nn.utils.vector_to_parameters(tr.zeros(8), params)
    with pytest.raises(TypeError, match="different devices"):
        nn.utils.parameters_to_vector([tr.zeros(2), tr.zeros(2, device="strict")])
    with pytest.raises(TypeError, match=r"parameters\[1\] is a list"):
        nn.utils.parameters_to_vector([tr.zeros(2), [1.0]])
    with pytest.raises(ValueError, match="at least one parameter"):
        nn.utils.parameters_to_vector([])
    from tinygrad_rnn.nn.utils.convert_parameters import parameters_to_vector

    assert parameters_to_vector is nn.utils.parameters_to_vector  # PyTorch's module path works too


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_get_total_norm_and_clip_grads_with_norm_match_pytorch(torch, norm_type):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in ((3, 4), (5,), (2, 2))]
    total = nn.utils.get_total_norm([tr.tensor(a) for a in arrays], norm_type)
    expected = torch.nn.utils.get_total_norm([torch.from_numpy(a) for a in arrays], norm_type)
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    ours = [nn.Parameter(tr.zeros(*a.shape)) for a in arrays]
    theirs = [torch.nn.Parameter(torch.zeros(a.shape)) for a in arrays]
    for p, q, a in zip(ours, theirs, arrays):
        p.grad, q.grad = tr.tensor(a), torch.from_numpy(a.copy())
    nn.utils.clip_grads_with_norm_(ours, 0.5, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.5, expected)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)


def test_get_total_norm_of_nothing_and_of_nonfinite_values():
    assert nn.utils.get_total_norm([]).item() == 0.0
    assert nn.utils.get_total_norm(tr.tensor([3.0, 4.0])).item() == pytest.approx(5.0)
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        nn.utils.get_total_norm([tr.tensor([1.0, float("nan")])], error_if_nonfinite=True)
    p = nn.Parameter(tr.zeros(2))
    p.grad = tr.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="^clip_grad_norm_: .*error_if_nonfinite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    nn.utils.clip_grads_with_norm_([p], 1.0, 10.0)  # a plain number for total_norm works too
    assert p.grad.numpy()[1] == pytest.approx(0.1, rel=1e-5)


# ---------------------------------------------------------------- utils.data
def test_stack_dataset_matches_pytorch(torch):
    a, b = list(range(5)), [x * 10 for x in range(5)]
    ours, theirs = StackDataset(a, b), torch.utils.data.StackDataset(a, b)
    assert len(ours) == len(theirs) == 5 and ours[3] == theirs[3] == (3, 30)
    ours, theirs = StackDataset(x=a, y=b), torch.utils.data.StackDataset(x=a, y=b)
    assert ours[2] == theirs[2] == {"x": 2, "y": 20}
    for args, kwargs in (((), {}), ((a,), {"y": b}), ((a, b[:3]), {})):
        with pytest.raises(ValueError):
            torch.utils.data.StackDataset(*args, **kwargs)
        with pytest.raises(ValueError, match="StackDataset"):
            StackDataset(*args, **kwargs)


def test_stack_dataset_batches_through_a_dataloader():
    inputs = TensorDataset(tr.arange(6).float().reshape(6, 1))
    batches = list(DataLoader(StackDataset(x=inputs, label=list(range(6))), batch_size=4))
    assert [batch["label"].tolist() for batch in batches] == [[0, 1, 2, 3], [4, 5]]
    assert batches[0]["x"][0].shape == (4, 1)


def test_get_worker_info_is_none_as_in_pytorchs_main_process(torch):
    assert get_worker_info() is None and torch.utils.data.get_worker_info() is None


# ---------------------------------------------------------------- Module.get_submodule / get_parameter
def test_get_submodule_and_get_parameter_match_pytorch(torch):
    ours = nn.Sequential(nn.LSTM(3, 4), nn.Sequential(nn.Linear(4, 2), nn.Tanh()))
    theirs = torch.nn.Sequential(torch.nn.LSTM(3, 4), torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Tanh()))
    assert ours.get_submodule("") is ours
    for target in ("0", "1", "1.0", "1.1"):
        assert type(ours.get_submodule(target)).__name__ == type(theirs.get_submodule(target)).__name__
    for target, _ in theirs.named_parameters():
        assert ours.get_parameter(target) is dict(ours.named_parameters())[target]
    for target in ("2", "1.5", "0.weight_ih_l0", "no.such"):
        with pytest.raises(AttributeError):
            theirs.get_submodule(target)
        with pytest.raises(AttributeError, match=rf"get_submodule\('{target}'\)"):
            ours.get_submodule(target)
    for target in ("1.0", "1.0.no_such", "0.hidden_size"):
        with pytest.raises(AttributeError):
            theirs.get_parameter(target)
        with pytest.raises(AttributeError, match=rf"get_parameter\('{target}'\)"):
            ours.get_parameter(target)
