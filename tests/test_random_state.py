"""``tr.get_rng_state`` / ``tr.set_rng_state``: every random draw repeats after a restore, the
state survives ``tr.save``/``tr.load``, bad states are refused, and a training run with
dropout resumed from a checkpoint matches the uninterrupted run bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import backend, nn, optim
from tinygrad_rnn.nn import functional as F

# Each draws from the CPU generator and returns the drawn values as a NumPy array.
DRAWS = {
    "rand": lambda: tr.rand(3, 5).numpy(),
    "rand_float64": lambda: tr.rand(7, dtype=tr.float64).numpy(),
    "randn": lambda: tr.randn(3, 5).numpy(),
    "randn_float16": lambda: tr.randn(9, dtype=tr.float16).numpy(),
    "randint": lambda: tr.randint(0, 1000, (11,)).numpy(),
    "rand_like": lambda: tr.rand_like(tr.zeros(4)).numpy(),
    "Tensor.dropout": lambda: tr.ones(40).dropout(0.5).numpy(),
    "tr.dropout": lambda: tr.dropout(tr.ones(40), 0.5).numpy(),
    "F.dropout": lambda: F.dropout(tr.ones(40), 0.3).numpy(),
    "nn.Dropout": lambda: nn.Dropout(0.5)(tr.ones(5, 8)).numpy(),
    "Tensor.uniform_": lambda: tr.zeros(6).uniform_(-1, 1).numpy(),
    "init.uniform_": lambda: nn.init.uniform_(tr.zeros(6)).numpy(),
    "init.normal_": lambda: nn.init.normal_(tr.zeros(6), 1.0, 2.0).numpy(),
    "init.xavier_uniform_": lambda: nn.init.xavier_uniform_(tr.zeros(4, 3)).numpy(),
    "init.xavier_normal_": lambda: nn.init.xavier_normal_(tr.zeros(4, 3)).numpy(),
    "init.kaiming_uniform_": lambda: nn.init.kaiming_uniform_(tr.zeros(4, 3)).numpy(),
    "init.kaiming_normal_": lambda: nn.init.kaiming_normal_(tr.zeros(4, 3)).numpy(),
    "init.orthogonal_": lambda: nn.init.orthogonal_(tr.zeros(4, 3)).numpy(),
    "nn.Linear": lambda: nn.Linear(3, 4).weight.numpy(),
    "nn.LSTM": lambda: nn.LSTM(2, 3).weight_hh_l0.numpy(),
}


def test_state_is_a_1d_uint8_cpu_tensor_that_does_not_change_afterwards():
    state = tr.get_rng_state()
    kept = state.numpy().copy()
    assert isinstance(state, tr.Tensor) and state.dtype == tr.uint8 and state.device == "cpu"
    assert state.shape == (backend.RNG_STATE_SIZE,) and not state.requires_grad
    tr.rand(10)
    assert np.array_equal(state.numpy(), kept)  # a copy, not a view of the live generator
    assert not np.array_equal(tr.get_rng_state().numpy(), kept)


@pytest.mark.parametrize("draw", DRAWS.values(), ids=DRAWS.keys())
def test_restoring_the_state_repeats_every_kind_of_draw(draw):
    tr.rand(1)  # a float32 draw uses half of a 64-bit one: the state must keep the spare half too
    state = tr.get_rng_state()
    first, second = draw(), draw()
    assert not np.array_equal(first, second)  # the control: without a restore the draws differ
    tr.set_rng_state(state)
    assert np.array_equal(draw(), first)
    assert np.array_equal(draw(), second)


def test_the_spare_half_of_a_64_bit_draw_is_part_of_the_state():
    tr.rand(1)  # leaves half of a 64-bit draw for the next float32 draw
    state = tr.get_rng_state()
    expected = tr.rand(5).numpy()
    spare = state.numpy().copy()
    spare[-5:] = 0  # forget the spare half: the next float32 draw starts from a fresh 64 bits
    tr.set_rng_state(spare)
    assert not np.array_equal(tr.rand(5).numpy(), expected)
    tr.set_rng_state(state)
    assert np.array_equal(tr.rand(5).numpy(), expected)


def test_restore_works_after_manual_seed_and_keeps_the_generator_object():
    state = tr.get_rng_state()
    expected = tr.randn(8).numpy()
    tr.manual_seed(12345)  # a different seed makes a new generator: the state goes into it
    held = backend.generator("cpu")
    tr.set_rng_state(state)
    assert backend.generator("cpu") is held
    assert np.array_equal(held.standard_normal(8, dtype=np.float32), expected)


def test_data_helpers_default_generator_is_covered():
    data = tr.arange(100)
    state = tr.get_rng_state()
    first = tr.data.random_windows(data, 5, 4)[0].numpy()
    tr.set_rng_state(state)
    assert np.array_equal(tr.data.random_windows(data, 5, 4)[0].numpy(), first)


@pytest.mark.parametrize("map_location", [None, "cpu"])
def test_state_survives_save_and_load(tmp_path, map_location):
    tr.randn(3)
    tr.save({"rng": tr.get_rng_state(), "step": 7}, tmp_path / "c.npz")
    expected = [tr.rand(4).numpy(), tr.ones(30).dropout(0.5).numpy()]
    tr.manual_seed(99)
    checkpoint = tr.load(tmp_path / "c.npz", map_location=map_location)
    tr.set_rng_state(checkpoint["rng"])  # a NumPy array without map_location, a Tensor with it
    assert np.array_equal(tr.rand(4).numpy(), expected[0])
    assert np.array_equal(tr.ones(30).dropout(0.5).numpy(), expected[1])


def _other_tag(state: np.ndarray) -> np.ndarray:
    state = state.copy()
    state[0] ^= 1
    return state


def _even_increment(state: np.ndarray) -> np.ndarray:
    state = state.copy()
    state[8 + 16] &= 0xFE  # the increment's lowest byte: PCG64's increment is always odd
    return state


def _bad_flag(state: np.ndarray) -> np.ndarray:
    state = state.copy()
    state[8 + 32] = 2
    return state


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda s: s.tolist(), TypeError, "new_state must be the uint8 tensor.*got list"),
        (lambda s: bytes(s), TypeError, "got bytes"),
        (lambda s: None, TypeError, "got NoneType"),
        (lambda s: s.astype(np.int64), TypeError, "new_state must have dtype uint8, got int64"),
        (lambda s: tr.tensor(s.astype(np.float32)), TypeError, "dtype uint8, got float32"),
        (lambda s: s.reshape(5, 9), ValueError, r"new_state must be 1-D, got shape \(5, 9\)"),
        (lambda s: s[:-1], ValueError, f"new_state has {backend.RNG_STATE_SIZE - 1} bytes, expected"),
        (lambda s: np.concatenate([s, s]), ValueError, f"has {2 * backend.RNG_STATE_SIZE} bytes"),
        (_other_tag, ValueError, "new_state starts with"),
        (_even_increment, ValueError, "new_state is damaged"),
        (_bad_flag, ValueError, "new_state is damaged"),
    ],
)
def test_bad_states_are_refused_and_leave_the_generator_unchanged(make, error, match):
    state = tr.get_rng_state()
    bad = make(state.numpy())
    expected = tr.rand(6).numpy()
    tr.set_rng_state(state)
    with pytest.raises(error, match=match):
        tr.set_rng_state(bad)
    assert np.array_equal(tr.rand(6).numpy(), expected)


# ------------------------------------------------------------------ a training run, interrupted and resumed
class Tagger(nn.Module):
    """A 2-layer LSTM with dropout between its layers, dropout on its output and a linear head."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 6, num_layers=2, dropout=0.3)
        self.drop = nn.Dropout(0.4)
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(self.drop(out))


def _train(model, opt, steps: int) -> None:
    """``steps`` SGD steps on batches drawn from the global generator (so the data depends on it too)."""
    model.train()
    for _ in range(steps):
        x, target = tr.randn(5, 4, 3), tr.randn(5, 4, 2)
        opt.zero_grad()
        F.mse_loss(model(x), target).backward()
        opt.step()


def _fresh(seed: int):
    tr.manual_seed(seed)
    model = Tagger()
    return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def _resumed(path, restore_rng: bool) -> Tagger:
    """A run interrupted after 3 steps and resumed, in a 'new process', for 3 more."""
    model, opt = _fresh(0)
    _train(model, opt, 3)
    tr.save({"model": model.state_dict(), "optim": opt.state_dict(), "rng": tr.get_rng_state()}, path)
    del model, opt
    model, opt = _fresh(7)  # the new process seeds (and initializes) differently
    tr.randn(100)
    checkpoint = tr.load(path)
    model.load_state_dict(checkpoint["model"])
    opt.load_state_dict(checkpoint["optim"])
    if restore_rng:
        tr.set_rng_state(checkpoint["rng"])
    _train(model, opt, 3)
    return model


def test_training_with_dropout_resumed_from_a_checkpoint_is_bit_identical(tmp_path):
    model, opt = _fresh(0)
    _train(model, opt, 6)
    uninterrupted = {name: p.numpy().copy() for name, p in model.named_parameters()}

    resumed = _resumed(tmp_path / "ckpt.npz", restore_rng=True)
    for name, p in resumed.named_parameters():
        assert np.array_equal(p.numpy(), uninterrupted[name]), name

    # The control: without the random state the dropout masks and batches differ, and so do the weights.
    unrestored = _resumed(tmp_path / "ckpt2.npz", restore_rng=False)
    assert not all(np.array_equal(p.numpy(), uninterrupted[name]) for name, p in unrestored.named_parameters())
