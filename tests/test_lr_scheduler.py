"""ExponentialLR and ReduceLROnPlateau: hand-computed sequences, validation, state dicts, and
the exact lr sequences of PyTorch's schedulers (those tests skip cleanly without torch)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.optim import lr_scheduler

# A metric that improves, stalls, wobbles within the threshold, improves again, and goes NaN once.
METRICS = [1.0, 0.9, 0.9, 0.95, 0.91, 0.89, 0.8999, 0.88, 0.88, 0.87, 0.9, 1.0, 0.5, 0.5, 0.49995, 0.6, 0.6,
           0.6, float("nan"), 0.4, 0.41, 0.42, 0.43, 0.44, 0.45, 0.3, 0.3, 0.3, 0.3, 0.3]


@pytest.fixture(scope="module")
def torch():
    """PyTorch, or a clean skip without it."""
    return pytest.importorskip("torch")


def _sgd(lrs=(0.1,)):
    return optim.SGD([{"params": [nn.Parameter(tr.tensor([1.0]))], "lr": lr} for lr in lrs], lr=lrs[0])


def _torch_sgd(torch, lrs=(0.1,)):
    return torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs], lr=lrs[0])


def _plateau_lrs(scheduler, metrics):
    seen = []
    for value in metrics:
        scheduler.step(value)
        seen.append(scheduler.get_last_lr())
    return seen


# ---------------------------------------------------------------- ExponentialLR, no torch
def test_exponential_lr_halves_every_epoch_in_every_group():
    opt = _sgd((1.0, 0.25))
    scheduler = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    seen = [scheduler.get_last_lr()]
    for _ in range(6):
        scheduler.step()
        seen.append(scheduler.get_last_lr())
    assert seen == [[1.0 * 0.5**t, 0.25 * 0.5**t] for t in range(7)]  # powers of two: exact
    assert scheduler.last_epoch == 6 and [g["lr"] for g in opt.param_groups] == seen[-1]


def test_exponential_lr_multiplies_the_current_lr_step_by_step():
    opt = _sgd((0.1,))
    scheduler = lr_scheduler.ExponentialLR(opt, gamma=0.9)
    expected = 0.1
    for t in range(1, 40):
        scheduler.step()
        expected *= 0.9  # rounded at each step, as PyTorch does: not 0.1 * 0.9**t
        assert scheduler.get_last_lr() == [expected]
        assert expected == pytest.approx(0.1 * 0.9**t, rel=1e-13)
    opt.param_groups[0]["lr"] = 1.0  # changed by hand: the decay continues from there
    scheduler.step()
    assert scheduler.get_last_lr() == [0.9]


def test_exponential_lr_resumes_from_last_epoch_keeping_the_current_lr():
    opt = _sgd((1.0,))
    lr_scheduler.ExponentialLR(opt, gamma=0.5)  # sets initial_lr
    opt.param_groups[0]["lr"] = 0.125  # as a loaded optimizer state dict would
    resumed = lr_scheduler.ExponentialLR(opt, gamma=0.5, last_epoch=3)
    assert resumed.last_epoch == 4 and resumed.get_last_lr() == [0.125]
    resumed.step()
    assert resumed.get_last_lr() == [0.0625]
    assert "_is_initial" not in resumed.state_dict()


def test_exponential_lr_state_dict_round_trip():
    opt = _sgd((0.5, 0.05))
    scheduler = lr_scheduler.ExponentialLR(opt, gamma=0.8)
    straight = []
    for t in range(10):
        scheduler.step()
        straight.append(scheduler.get_last_lr())
        if t == 3:
            saved_opt, saved = opt.state_dict(), json.loads(json.dumps(scheduler.state_dict()))
    opt = _sgd((0.5, 0.05))
    scheduler = lr_scheduler.ExponentialLR(opt, gamma=0.1)
    opt.load_state_dict(saved_opt)
    scheduler.load_state_dict(saved)
    resumed = straight[:4]
    for _ in range(6):
        scheduler.step()
        resumed.append(scheduler.get_last_lr())
    assert resumed == straight and scheduler.gamma == 0.8


@pytest.mark.parametrize("gamma", [0.0, -0.5, "0.9", True, float("nan")])
def test_exponential_lr_refuses_a_bad_gamma(gamma):
    with pytest.raises(ValueError, match=r"ExponentialLR: invalid gamma: expected a number > 0, got"):
        lr_scheduler.ExponentialLR(_sgd(), gamma=gamma)


# ---------------------------------------------------------------- ReduceLROnPlateau, no torch
def test_plateau_cuts_after_patience_bad_epochs():
    opt = _sgd((1.0, 0.1))
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    assert scheduler.get_last_lr() == [1.0, 0.1]
    # best 1.0; three epochs no better (more than patience=2) -> cut; then count afresh.
    seen = _plateau_lrs(scheduler, [1.0, 1.0, 1.0, 1.0, 0.5, 0.6, 0.7, 0.8])
    assert [lrs[0] for lrs in seen] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]
    assert seen[-1] == [0.25, 0.025] and scheduler.best == 0.5 and scheduler.last_epoch == 8


def test_plateau_threshold_rel_and_abs():
    # rel: 0.99995 < 1.0 · (1 - 1e-4) = 0.9999 fails, so it is a bad epoch; 0.9998 passes.
    rel = lr_scheduler.ReduceLROnPlateau(_sgd((1.0,)), patience=0)
    assert [lrs[0] for lrs in _plateau_lrs(rel, [1.0, 0.99995])] == [1.0, 0.1]
    assert rel.best == 1.0
    rel = lr_scheduler.ReduceLROnPlateau(_sgd((1.0,)), patience=0)
    assert [lrs[0] for lrs in _plateau_lrs(rel, [1.0, 0.9998])] == [1.0, 1.0]
    # abs, mode max: better means > best + 0.1.
    high = lr_scheduler.ReduceLROnPlateau(_sgd((1.0,)), mode="max", threshold=0.1, threshold_mode="abs",
                                          patience=0, factor=0.5)
    assert [lrs[0] for lrs in _plateau_lrs(high, [1.0, 1.05, 1.2, 1.0])] == [1.0, 0.5, 0.5, 0.25]
    assert high.best == 1.2


def test_plateau_cooldown_and_min_lr_per_group():
    opt = _sgd((1.0, 0.1))
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0, cooldown=2, min_lr=[0.3, 0.0])
    seen = _plateau_lrs(scheduler, [1.0] * 8)
    # Cut at epoch 2, then 2 epochs of cooldown (bad epochs ignored), cut at epoch 5, at 8; the first group
    # stops at min_lr = 0.3 (0.5 -> 0.3, then no change: the cut would be 0, not more than eps).
    assert [lrs[0] for lrs in seen] == [1.0, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3]
    assert [lrs[1] for lrs in seen] == [0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]


def test_plateau_ignores_cuts_smaller_than_eps_and_takes_tensor_metrics():
    opt = _sgd((1e-8,))
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    _plateau_lrs(scheduler, [tr.tensor(1.0), tr.tensor(2.0)])
    assert opt.param_groups[0]["lr"] == 1e-8  # 1e-8 - 1e-9 is not more than eps = 1e-8
    assert scheduler.best == 1.0 and scheduler.num_bad_epochs == 0


def test_plateau_with_a_group_added_later():
    opt = _sgd((1.0,))
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=0.2)
    opt.add_param_group({"params": [nn.Parameter(tr.tensor([1.0]))], "lr": 1.0})
    _plateau_lrs(scheduler, [1.0, 1.0])
    assert scheduler.get_last_lr() == [0.2, 0.2] and scheduler.min_lrs == [0.2, 0.2]
    opt = _sgd((1.0,))
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.2])
    opt.add_param_group({"params": [nn.Parameter(tr.tensor([1.0]))], "lr": 1.0})
    with pytest.raises(RuntimeError, match="2 parameter groups, min_lr was given for 1"):
        _plateau_lrs(scheduler, [1.0, 1.0])


def test_plateau_state_dict_round_trip():
    opt = _sgd((1.0, 0.5))
    make = lambda opt: lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1)  # noqa: E731
    scheduler = make(opt)
    straight = _plateau_lrs(scheduler, METRICS[:12])
    saved_opt, saved = opt.state_dict(), json.loads(json.dumps(scheduler.state_dict()))  # inf survives as Infinity
    straight += _plateau_lrs(scheduler, METRICS[12:])
    opt = _sgd((1.0, 0.5))
    resumed_scheduler = lr_scheduler.ReduceLROnPlateau(opt, mode="max")  # the saved settings must win
    opt.load_state_dict(saved_opt)
    resumed_scheduler.load_state_dict(saved)
    assert straight[:12] + _plateau_lrs(resumed_scheduler, METRICS[12:]) == straight
    assert resumed_scheduler.mode == "min" and resumed_scheduler.mode_worse == math.inf


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(factor=1.0), ValueError, r"invalid factor: expected 0 <= factor < 1.*got 1.0"),
        (dict(factor=2), ValueError, r"invalid factor: .*got 2"),
        (dict(factor=-0.1), ValueError, r"invalid factor: .*got -0.1"),
        (dict(mode="mean"), ValueError, r"invalid mode: expected 'min' or 'max', got 'mean'"),
        (dict(threshold_mode="relative"), ValueError, r"invalid threshold_mode: expected 'rel' or 'abs', got 'rel"),
        (dict(threshold=-1e-4), ValueError, r"invalid threshold: expected threshold >= 0, got -0.0001"),
        (dict(patience=-1), ValueError, r"invalid patience: expected an int >= 0 \(epochs\), got -1"),
        (dict(cooldown=1.5), ValueError, r"invalid cooldown: expected an int >= 0 \(epochs\), got 1.5"),
        (dict(min_lr=[0.0, 0.1]), ValueError, r"invalid min_lr: expected 1 values .*got 2"),
        (dict(min_lr=-1.0), ValueError, r"invalid min_lr: expected values >= 0, got -1.0"),
        (dict(eps=-1.0), ValueError, r"invalid eps: expected eps >= 0, got -1.0"),
    ],
)
def test_plateau_refuses_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match="ReduceLROnPlateau: " + message):
        lr_scheduler.ReduceLROnPlateau(_sgd(), **kwargs)


def test_plateau_step_needs_a_number():
    scheduler = lr_scheduler.ReduceLROnPlateau(_sgd())
    with pytest.raises(TypeError, match="metrics is required: expected the monitored value.*got None"):
        scheduler.step()
    with pytest.raises(TypeError, match="invalid metrics: expected a number or a one-element tensor, got list"):
        scheduler.step([0.1, 0.2])
    with pytest.raises(TypeError, match="must be an Optimizer, got list"):
        lr_scheduler.ReduceLROnPlateau([0.1])
    assert scheduler.last_epoch == 0, "a refused step changes nothing"


# ---------------------------------------------------------------- against PyTorch, exactly
@pytest.mark.parametrize("gamma", [0.9, 0.95, 0.5, 1.01])
def test_exponential_lr_matches_pytorch_exactly(torch, gamma):
    lrs = (0.1, 0.03)
    our_opt, their_opt = _sgd(lrs), _torch_sgd(torch, lrs)
    ours = lr_scheduler.ExponentialLR(our_opt, gamma=gamma)
    theirs = torch.optim.lr_scheduler.ExponentialLR(their_opt, gamma=gamma)
    seen, expected = [ours.get_last_lr()], [theirs.get_last_lr()]
    for _ in range(60):
        our_opt.step()
        their_opt.step()
        ours.step()
        theirs.step()
        seen.append(ours.get_last_lr())
        expected.append(theirs.get_last_lr())
    assert seen == expected and ours.last_epoch == theirs.last_epoch
    # Resuming with last_epoch: PyTorch keeps the groups' lr on construction; so do we.
    ours = lr_scheduler.ExponentialLR(our_opt, gamma=gamma, last_epoch=ours.last_epoch)
    theirs = torch.optim.lr_scheduler.ExponentialLR(their_opt, gamma=gamma, last_epoch=theirs.last_epoch)
    ours.step()
    theirs.step()
    assert ours.get_last_lr() == theirs.get_last_lr() and ours.last_epoch == theirs.last_epoch


PLATEAU_CONFIGS = [
    dict(),
    dict(patience=2, factor=0.5),
    dict(patience=0, factor=0.3, cooldown=2),
    dict(patience=1, threshold=0.05, threshold_mode="abs"),
    dict(mode="max", patience=1, factor=0.5),
    dict(mode="max", patience=0, threshold=0.01, threshold_mode="abs", cooldown=1, min_lr=0.02),
    dict(patience=0, factor=0.5, min_lr=[0.04, 0.001], eps=1e-3),
]


@pytest.mark.parametrize("kwargs", PLATEAU_CONFIGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "0")
def test_plateau_matches_pytorch_exactly(torch, kwargs):
    lrs = (0.1, 0.03)
    our_opt, their_opt = _sgd(lrs), _torch_sgd(torch, lrs)
    ours = lr_scheduler.ReduceLROnPlateau(our_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(their_opt, **kwargs)
    metrics = METRICS + list(np.linspace(0.3, 0.1, 15)) + [0.1] * 15
    assert ours.get_last_lr() == theirs.get_last_lr()
    for epoch, value in enumerate(metrics):
        ours.step(value)
        theirs.step(value)
        assert ours.get_last_lr() == theirs.get_last_lr(), f"epoch {epoch + 1}"
        assert [g["lr"] for g in our_opt.param_groups] == [g["lr"] for g in their_opt.param_groups]
        for name in ("last_epoch", "num_bad_epochs", "cooldown_counter"):
            assert getattr(ours, name) == getattr(theirs, name), name
        assert ours.best == theirs.best or (math.isnan(ours.best) and math.isnan(theirs.best))
    assert any(lr < start for lr, start in zip(ours.get_last_lr(), lrs)), "the run did cut the lr"
    # The same state, under the same names.
    their_state = theirs.state_dict()
    our_state = ours.state_dict()
    for key in ("factor", "min_lrs", "patience", "cooldown", "eps", "mode", "threshold", "threshold_mode",
                "best", "num_bad_epochs", "cooldown_counter", "last_epoch", "mode_worse", "_last_lr"):
        assert our_state[key] == their_state[key], key
