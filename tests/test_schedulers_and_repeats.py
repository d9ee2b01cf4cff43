"""MultiStepLR, ConstantLR, LinearLR and OneCycleLR (hand-computed sequences, validation, state dicts,
and PyTorch's exact sequences), and the tensor methods clamp_min, clamp_max (and in place) and
repeat_interleave (values, gradients by gradcheck and against PyTorch). The PyTorch comparisons skip
cleanly without torch."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.optim import lr_scheduler


@pytest.fixture(scope="module")
def torch():
    """PyTorch, or a clean skip without it."""
    return pytest.importorskip("torch")


def _groups(lrs):
    return [{"params": [nn.Parameter(tr.tensor([1.0]))], "lr": lr} for lr in lrs]


def _sgd(lrs=(1.0, 0.25), momentum=0.9):
    return optim.SGD(_groups(lrs), lr=lrs[0], momentum=momentum)


def _adam(lrs=(1.0, 0.25)):
    return optim.Adam(_groups(lrs), lr=lrs[0], betas=(0.9, 0.99))


def _run(scheduler, steps):
    seen = [scheduler.get_last_lr()]
    for _ in range(steps):
        scheduler.step()
        seen.append(scheduler.get_last_lr())
    return seen


# ---------------------------------------------------------------- hand-computed sequences, no torch
def test_multistep_lr_multiplies_at_each_milestone_a_repeated_one_twice():
    opt = _sgd((1.0, 0.25))
    scheduler = lr_scheduler.MultiStepLR(opt, milestones=[4, 2, 4], gamma=0.5)  # unsorted, 4 twice
    factors = [1, 1, 0.5, 0.5, 0.125, 0.125, 0.125]
    assert _run(scheduler, 6) == [[1.0 * f, 0.25 * f] for f in factors]  # powers of two: exact
    assert [g["lr"] for g in opt.param_groups] == [0.125, 0.03125] and scheduler.last_epoch == 6


def test_constant_lr_scales_until_total_iters_then_restores():
    scheduler = lr_scheduler.ConstantLR(_sgd((1.0, 0.25)), factor=0.5, total_iters=3)
    factors = [0.5, 0.5, 0.5, 1, 1, 1]
    assert _run(scheduler, 5) == [[1.0 * f, 0.25 * f] for f in factors]


def test_linear_lr_ramps_the_factor_then_holds_it():
    scheduler = lr_scheduler.LinearLR(_sgd((1.0, 0.5)), start_factor=0.25, end_factor=1.0, total_iters=3)
    factors = [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert _run(scheduler, 5) == [[1.0 * f, 0.5 * f] for f in factors]
    decay = lr_scheduler.LinearLR(_sgd((1.0,)), start_factor=1.0, end_factor=0.5, total_iters=2)
    assert _run(decay, 3) == [[1.0], [0.75], [0.5], [0.5]]


def test_linear_lr_defaults_are_pytorchs():
    seen = _run(lr_scheduler.LinearLR(_sgd((3.0,))), 6)
    assert [lrs[0] for lrs in seen] == pytest.approx([1.0, 1.4, 1.8, 2.2, 2.6, 3.0, 3.0], abs=1e-15)
    constant = _run(lr_scheduler.ConstantLR(_sgd((3.0,))), 5)
    assert [lrs[0] for lrs in constant] == pytest.approx([1.0] * 5 + [3.0], abs=1e-15)


def test_one_cycle_lr_linear_by_hand_with_sgd_momentum():
    opt = _sgd((0.1,), momentum=0.5)
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3, anneal_strategy="linear",
                                        div_factor=4.0, final_div_factor=2.0)
    # initial 1/4, min 1/8; phase 1 ends at step 0.3 · 10 - 1 = 2, phase 2 at step 9
    expected_lr = [0.25, 0.625, 1.0] + [1.0 + (0.125 - 1.0) * (t - 2) / 7 for t in range(3, 11)]
    expected_momentum = [0.95, 0.9, 0.85] + [0.85 + (0.95 - 0.85) * (t - 2) / 7 for t in range(3, 11)]
    lrs, momenta = [], []
    for t in range(11):
        if t:
            scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
    assert lrs == pytest.approx(expected_lr, abs=1e-15)
    assert momenta == pytest.approx(expected_momentum, abs=1e-15)
    group = opt.param_groups[0]
    assert (group["initial_lr"], group["max_lr"], group["min_lr"]) == (0.25, 1.0, 0.125)
    assert (group["max_momentum"], group["base_momentum"]) == (0.95, 0.85)
    with pytest.raises(ValueError, match="stepped 11 times, but total_steps is 10"):
        scheduler.step()


def test_one_cycle_lr_cos_by_hand_with_adam_beta1_and_per_group_max_lr():
    opt = _adam((0.1, 0.1))
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=[2.0, 1.0], epochs=2, steps_per_epoch=5, pct_start=0.2,
                                        div_factor=10.0, final_div_factor=100.0, max_momentum=0.9,
                                        base_momentum=0.8)
    # total 10 steps, phase 1 ends at step 1, phase 2 at step 9: step 5 is half way down the cosine
    for _ in range(5):
        scheduler.step()
    for group, max_lr in zip(opt.param_groups, (2.0, 1.0)):
        low = max_lr / 10 / 100
        assert group["lr"] == pytest.approx(low + (max_lr - low) / 2 * (math.cos(math.pi * 0.5) + 1), abs=1e-15)
        assert group["betas"][0] == pytest.approx(0.85, abs=1e-15) and group["betas"][1] == 0.99
    for _ in range(4):
        scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([2.0 / 1000, 1.0 / 1000], abs=1e-15)  # the minimum
    assert [g["betas"][0] for g in opt.param_groups] == pytest.approx([0.9, 0.9], abs=1e-15)


def test_one_cycle_lr_three_phase_returns_to_the_initial_lr_before_the_end():
    opt = _sgd((0.1,))
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=20, pct_start=0.25, three_phase=True,
                                        anneal_strategy="linear", div_factor=5.0, final_div_factor=10.0)
    seen = [lrs[0] for lrs in _run(scheduler, 19)]
    assert seen[4] == pytest.approx(1.0) and seen[8] == pytest.approx(0.2) and seen[19] == pytest.approx(0.02)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)  # the third phase holds max_momentum


def test_one_cycle_lr_momentum_needs_an_optimizer_with_one():
    adagrad = optim.Adagrad(_groups((0.1,)))
    with pytest.raises(ValueError, match="cycle_momentum=True expects an optimizer with a momentum or betas"):
        lr_scheduler.OneCycleLR(adagrad, max_lr=1.0, total_steps=10)
    scheduler = lr_scheduler.OneCycleLR(adagrad, max_lr=1.0, total_steps=10, cycle_momentum=False)
    scheduler.step()
    assert "momentum" not in adagrad.param_groups[0] and "max_momentum" not in adagrad.param_groups[0]
    sgd = _sgd((0.1,))
    lr_scheduler.OneCycleLR(sgd, max_lr=1.0, total_steps=10, cycle_momentum=False).step()
    assert sgd.param_groups[0]["momentum"] == 0.9  # left alone


@pytest.mark.parametrize("make, message", [
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=3), "invalid milestones: expected a list"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[1.5]), "invalid milestones: expected ints"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), "invalid factor: expected a number in \\[0, 1\\]"),
    (lambda o: lr_scheduler.ConstantLR(o, total_iters=-1), "invalid total_iters"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), "invalid start_factor: expected a number in \\(0, 1\\]"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=-0.1), "invalid end_factor"),
    (lambda o: lr_scheduler.LinearLR(o, total_iters=0), "invalid total_iters: expected a positive int"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), "expected total_steps, or epochs and steps_per_epoch"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=0), "invalid total_steps"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, epochs=2, steps_per_epoch=0), "invalid steps_per_epoch"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1), "invalid pct_start"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"),
     "invalid anneal_strategy: expected 'cos' or 'linear', got 'exp'"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=[1.0], total_steps=10), "invalid max_lr: expected 2 values"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, base_momentum=[0.8, 0.8, 0.8]),
     "invalid base_momentum: expected 2 values"),
])
def test_schedulers_refuse_bad_arguments_naming_them(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make(_sgd((1.0, 0.5)))


@pytest.mark.parametrize("make", [
    lambda o: lr_scheduler.MultiStepLR(o, milestones=[3, 5, 5, 9], gamma=0.3),
    lambda o: lr_scheduler.ConstantLR(o, factor=0.3, total_iters=7),
    lambda o: lr_scheduler.LinearLR(o, start_factor=0.1, end_factor=0.7, total_iters=9),
    lambda o: lr_scheduler.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=20),
    lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=20, three_phase=True, anneal_strategy="linear"),
], ids=["MultiStepLR", "ConstantLR", "LinearLR", "OneCycleLR", "OneCycleLR-three-phase"])
def test_state_dict_round_trip_continues_identically(make):
    opt = _sgd((0.1, 0.03))
    scheduler = make(opt)
    straight = _run(scheduler, 18)
    straight_momenta = [g["momentum"] for g in opt.param_groups]
    opt = _sgd((0.1, 0.03))
    first = make(opt)
    _run(first, 7)
    saved = json.loads(json.dumps(first.state_dict()))  # numbers, lists and dicts only
    assert "optimizer" not in saved and saved["last_epoch"] == 7
    optimizer_state = opt.state_dict()
    fresh_opt = _sgd((0.1, 0.03))
    fresh_opt.load_state_dict(optimizer_state)
    resumed = make(fresh_opt)
    resumed.load_state_dict(saved)
    assert resumed.last_epoch == 7 and resumed.get_last_lr() == straight[7]
    assert _run(resumed, 11)[1:] == straight[8:]
    assert [g["momentum"] for g in fresh_opt.param_groups] == straight_momenta


def test_resuming_with_last_epoch_picks_up_the_closed_form():
    opt = _sgd((1.0,))
    _run(lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.5), 3)
    resumed = lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.5, last_epoch=2)  # moves on to epoch 3
    assert resumed.last_epoch == 3 and resumed.get_last_lr() == [0.5]
    resumed.step()
    assert resumed.get_last_lr() == [0.25]


# ---------------------------------------------------------------- the same, against PyTorch
def _pair(torch, kind, lrs=(0.1, 0.02)):
    ours = [{"params": [nn.Parameter(tr.tensor([1.0]))], "lr": lr} for lr in lrs]
    theirs = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "sgd":
        return optim.SGD(ours, lr=lrs[0], momentum=0.9), torch.optim.SGD(theirs, lr=lrs[0], momentum=0.9)
    return optim.Adam(ours, lr=lrs[0]), torch.optim.Adam(theirs, lr=lrs[0])


def _settings(groups, kind):
    """Every group's lr and momentum (SGD's momentum, Adam's β₁)."""
    key = "momentum" if kind == "sgd" else "betas"
    return [(g["lr"], g[key] if key == "momentum" else g[key][0]) for g in groups]


TORCH_CASES = [
    ("MultiStepLR", dict(milestones=[5, 12, 12, 30], gamma=0.3), 50),
    ("MultiStepLR", dict(milestones=[10, 20]), 40),
    ("ConstantLR", dict(), 30),
    ("ConstantLR", dict(factor=0.7, total_iters=13), 40),
    ("LinearLR", dict(), 30),
    ("LinearLR", dict(start_factor=0.9, end_factor=0.05, total_iters=37), 60),
    ("OneCycleLR", dict(max_lr=[1.0, 0.3], total_steps=45), 45),
    ("OneCycleLR", dict(max_lr=0.5, epochs=6, steps_per_epoch=7, pct_start=0.4, anneal_strategy="linear",
                        div_factor=10.0, final_div_factor=50.0), 42),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=50, three_phase=True, base_momentum=[0.8, 0.7],
                        max_momentum=[0.99, 0.9]), 50),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=30, cycle_momentum=False), 30),
]


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name, kwargs, steps", TORCH_CASES)
def test_schedulers_match_pytorch(torch, name, kwargs, steps, kind):
    ours, theirs = _pair(torch, kind)
    mine = getattr(lr_scheduler, name)(ours, **kwargs)
    reference = getattr(torch.optim.lr_scheduler, name)(theirs, **kwargs)
    for t in range(steps + 1):
        expected = _settings(theirs.param_groups, kind)
        assert np.allclose(_settings(ours.param_groups, kind), expected, rtol=0, atol=1e-12), f"step {t}"
        assert mine.get_last_lr() == pytest.approx(reference.get_last_lr(), abs=1e-12)
        assert mine.last_epoch == reference.last_epoch
        if t < steps:
            theirs.step()  # (no gradients: only silences PyTorch's "scheduler before optimizer" warning)
            mine.step()
            reference.step()


@pytest.mark.parametrize("name, kwargs, steps", [case for case in TORCH_CASES if case[0] != "ConstantLR"][::2])
def test_state_dict_round_trip_matches_pytorch(torch, name, kwargs, steps):
    ours, theirs = _pair(torch, "sgd")
    reference = getattr(torch.optim.lr_scheduler, name)(theirs, **kwargs)
    first = getattr(lr_scheduler, name)(ours, **kwargs)
    for _ in range(steps // 2):
        theirs.step()
        reference.step()
        first.step()
    saved, optimizer_state = first.state_dict(), ours.state_dict()
    ours, _ = _pair(torch, "sgd")
    ours.load_state_dict(optimizer_state)
    resumed = getattr(lr_scheduler, name)(ours, **kwargs)
    resumed.load_state_dict(saved)
    for _ in range(steps - steps // 2):
        theirs.step()
        reference.step()
        resumed.step()
        assert np.allclose(_settings(ours.param_groups, "sgd"), _settings(theirs.param_groups, "sgd"),
                           rtol=0, atol=1e-12)


def test_one_cycle_refusals_match_pytorch(torch):
    adagrad, torch_adagrad = optim.Adagrad(_groups((0.1,))), torch.optim.Adagrad([torch.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError):
        torch.optim.lr_scheduler.OneCycleLR(torch_adagrad, max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError):
        lr_scheduler.OneCycleLR(adagrad, max_lr=1.0, total_steps=10)
    ours, theirs = _pair(torch, "sgd")
    mine = lr_scheduler.OneCycleLR(ours, max_lr=1.0, total_steps=3)
    reference = torch.optim.lr_scheduler.OneCycleLR(theirs, max_lr=1.0, total_steps=3)
    for _ in range(3):
        theirs.step()
        mine.step()
        reference.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        reference.step()
    with pytest.raises(ValueError, match="stepped 4 times"):
        mine.step()


# ---------------------------------------------------------------- clamp_min, clamp_max
def test_clamp_min_and_clamp_max_values_and_function_forms():
    x = tr.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])
    assert x.clamp_min(0.0).tolist() == [0.0, 0.0, 0.0, 0.5, 2.0]
    assert x.clamp_max(0.0).tolist() == [-2.0, -0.5, 0.0, 0.0, 0.0]
    assert tr.clamp_min(x, -1.0).tolist() == [-1.0, -0.5, 0.0, 0.5, 2.0]
    assert tr.clamp_max(x, 1.0).tolist() == [-2.0, -0.5, 0.0, 0.5, 1.0]
    bound = tr.tensor([1.0, -1.0, 1.0, -1.0, 1.0])
    assert x.clamp_min(bound).tolist() == [1.0, -0.5, 1.0, 0.5, 2.0]


def test_clamp_min_and_clamp_max_in_place():
    x = tr.tensor([-2.0, 0.5, 3.0])
    assert x.clamp_min_(0.0) is x and x.tolist() == [0.0, 0.5, 3.0]
    assert x.clamp_max_(1.0) is x and x.tolist() == [0.0, 0.5, 1.0]
    leaf = tr.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    y = leaf * 2
    y.clamp_min_(0.0).clamp_max_(2.0)
    y.sum().backward()
    assert y.tolist() == [0.0, 1.0, 2.0] and leaf.grad.tolist() == [0.0, 2.0, 0.0]


def test_clamp_min_and_clamp_max_gradcheck():
    x = tr.tensor(np.linspace(-1.3, 1.7, 7), dtype=tr.float64, requires_grad=True)
    assert tr.gradcheck(lambda x: x.clamp_min(0.15) * x, (x,))
    assert tr.gradcheck(lambda x: x.clamp_max(0.25) * x, (x,))
    bound = tr.tensor(np.linspace(1.0, -1.0, 7), dtype=tr.float64, requires_grad=True)
    assert tr.gradcheck(lambda x, b: x.clamp_min(b) + x.clamp_max(b), (x, bound))


def test_clamp_min_and_clamp_max_match_pytorch_with_ties(torch):
    values = [-1.0, 0.0, 0.5, 1.0, 2.0]
    for method, bound in (("clamp_min", 0.5), ("clamp_max", 1.0)):
        x, tx = tr.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        y, ty = getattr(x, method)(bound), getattr(tx, method)(bound)
        (y * tr.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
        (ty * torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
        assert y.tolist() == ty.tolist() and x.grad.tolist() == tx.grad.tolist(), method


# ---------------------------------------------------------------- repeat_interleave
def test_repeat_interleave_by_hand():
    x = tr.tensor([[1, 2], [3, 4]])
    assert x.repeat_interleave(2).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]  # dim=None flattens
    assert x.repeat_interleave(2, dim=0).tolist() == [[1, 2], [1, 2], [3, 4], [3, 4]]
    assert x.repeat_interleave(tr.tensor([1, 3]), dim=1).tolist() == [[1, 2, 2, 2], [3, 4, 4, 4]]
    assert x.repeat_interleave(tr.tensor([0, 2]), dim=-2).tolist() == [[3, 4], [3, 4]]
    assert x.repeat_interleave(tr.tensor(2), dim=1).tolist() == [[1, 1, 2, 2], [3, 3, 4, 4]]  # 0-d: one count
    assert x.repeat_interleave(tr.tensor([3]), dim=0).shape == (6, 2)  # one count for every slice
    assert x.repeat_interleave(0, dim=1).shape == (2, 0)
    assert tr.tensor(5.0).repeat_interleave(3).tolist() == [5.0, 5.0, 5.0]
    assert x.repeat_interleave(2, dim=0, output_size=4).shape == (4, 2)
    assert tr.repeat_interleave(x, 2, 1).tolist() == [[1, 1, 2, 2], [3, 3, 4, 4]]
    counts = tr.repeat_interleave(tr.tensor([1, 0, 2]))  # the one-tensor form: indices repeated
    assert counts.tolist() == [0, 2, 2] and counts.dtype == tr.int64


@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.repeat_interleave(-1), ValueError, "repeats must be non-negative, got -1"),
    (lambda x: x.repeat_interleave(tr.tensor([1, -2]), dim=1), ValueError, "non-negative, got -2"),
    (lambda x: x.repeat_interleave(tr.tensor([1, 2, 3]), dim=1), ValueError, "one count per slice along dim 1"),
    (lambda x: x.repeat_interleave(tr.tensor([[1, 2]]), dim=1), ValueError, "0-d or 1-D tensor, got shape"),
    (lambda x: x.repeat_interleave(tr.tensor([1.0, 2.0]), dim=1), TypeError, "integer tensor, got a tensor of"),
    (lambda x: x.repeat_interleave([1, 2], dim=1), TypeError, "an int or an integer tensor, got list"),
    (lambda x: x.repeat_interleave(2.0), TypeError, "got float"),
    (lambda x: x.repeat_interleave(2, dim=2), IndexError, "dim 2 is out of range"),
    (lambda x: x.repeat_interleave(2, dim=0, output_size=5), ValueError, "invalid output_size"),
    (lambda x: tr.repeat_interleave(x), ValueError, "with no repeats, expected a 1-D integer tensor"),
])
def test_repeat_interleave_refuses_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call(tr.ones(2, 2))


def test_repeat_interleave_gradient_sums_the_copies():
    x = tr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x.repeat_interleave(tr.tensor([3, 1]), dim=0)
    (y * tr.arange(8.0).reshape(4, 2)).sum().backward()
    assert x.grad.tolist() == [[0.0 + 2.0 + 4.0, 1.0 + 3.0 + 5.0], [6.0, 7.0]]


@pytest.mark.parametrize("repeats, dim", [(2, None), (3, 0), (2, -1), ([2, 0, 1], 1), ([1, 3], 0), (0, 1)])
def test_repeat_interleave_gradcheck(repeats, dim):
    repeats = tr.tensor(repeats) if isinstance(repeats, list) else repeats
    x = tr.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    weights = tr.tensor(np.random.default_rng(1).standard_normal(x.repeat_interleave(repeats, dim).shape))
    assert tr.gradcheck(lambda x: x.repeat_interleave(repeats, dim) * weights, (x,))


@pytest.mark.parametrize("repeats, dim", [(2, None), (3, 0), (2, 2), ([2, 0, 1], 1), ([1, 3], 0), ([4], -1), (0, 1)])
def test_repeat_interleave_matches_pytorch(torch, repeats, dim):
    data = np.random.default_rng(2).standard_normal((2, 3, 2))
    x, tx = tr.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ours = tr.tensor(repeats) if isinstance(repeats, list) else repeats
    theirs = torch.tensor(repeats) if isinstance(repeats, list) else repeats
    y, ty = x.repeat_interleave(ours, dim), tx.repeat_interleave(theirs, dim)
    assert y.shape == tuple(ty.shape) and np.array_equal(y.numpy(), ty.detach().numpy())
    weights = np.random.default_rng(3).standard_normal(y.shape)
    (y * tr.tensor(weights)).sum().backward()
    (ty * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=0, atol=1e-12)
    index = torch.repeat_interleave(torch.tensor([2, 0, 3]))
    assert tr.repeat_interleave(tr.tensor([2, 0, 3])).tolist() == index.tolist()
