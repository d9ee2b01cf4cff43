"""Places where we once gave a different answer from PyTorch without a word, each held
two ways: against numbers worked out by hand here (no torch needed) and against PyTorch
itself (skipped cleanly without it).

1. optimizers on 0-d parameters (NumPy turns 0-d arithmetic into scalars, which froze
   SGD's momentum buffer, and every optimizer's state after a JSON round trip);
2. ``cross_entropy`` / ``nll_loss`` with every target ignored (the gradient was NaN);
3. an integer input to a float layer or matmul (it silently came out float64);
4. recurrent ``lengths`` that are not integers of shape (N,);
5. PyTorch's positional forms of the creation functions (``randint(high, size)``, ...);
6. ``load_state_dict``: between forward and backward (backward silently used the new
   values) and with one bad value (the others were already overwritten).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import tinygrad_rnn as tr
from tests.helpers import assert_close
from tinygrad_rnn import nn, optim
from tinygrad_rnn.nn import functional as F

F64 = tr.float64


@pytest.fixture(scope="module")
def torch():
    """PyTorch, or a clean skip without it."""
    return pytest.importorskip("torch")


# ================================================================ 1. optimizers on 0-d parameters
def _run(lib, name, kwargs, value, steps=4):
    """``steps`` steps of ``lib.optim.<name>`` on the loss p³ (summed), from ``value``."""
    p = lib.tensor(value, dtype=lib.float64, requires_grad=True)
    opt = getattr(lib.optim, name)([p], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        (p * p * p).sum().backward()
        opt.step()
    return p, opt


ZERO_D_CONFIGS = [
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("Adam", dict(lr=0.1, weight_decay=0.1, maximize=True, amsgrad=True)),
    ("AdamW", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, maximize=True, momentum=0.9, centered=True)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True, lr_decay=0.1, initial_accumulator_value=0.1)),
]
ZERO_D_IDS = [f"{name}-{'-'.join(kwargs)}" for name, kwargs in ZERO_D_CONFIGS]


def test_sgd_momentum_on_a_0d_parameter_with_weight_decay_is_the_hand_formula():
    # loss p², p₀ = 1, lr .1, momentum .9, weight decay .1: g = 2p + .1p, b ← .9b + g, p ← p - .1b
    #   step 1: g = 2.1,             b = 2.1,                     p = 0.79
    #   step 2: g = 1.58 + .079,     b = 1.89 + 1.659 = 3.549,    p = 0.4351
    #   step 3: g = .8702 + .04351,  b = 3.1941 + .91371,         p = 0.024319
    # (a buffer frozen at its first value gives 0.154729 instead)
    p = tr.tensor(1.0, dtype=F64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    for _ in range(3):
        opt.zero_grad()
        (p * p).backward()
        opt.step()
    assert_close(p, 0.024319, atol=1e-12, rtol=1e-12)
    buffer = opt.state[p]["momentum_buffer"]
    assert isinstance(buffer, np.ndarray) and buffer.shape == (), f"the buffer is a {type(buffer).__name__}"
    assert_close(buffer, 4.10781, atol=1e-12, rtol=1e-12)


def test_sgd_momentum_on_a_0d_parameter_with_maximize_is_the_hand_formula():
    # loss p, maximize: g = -1 each step; b = -1, -1.5, -1.75; p = 0 + .1 + .15 + .175
    p = tr.tensor(0.0, dtype=F64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.5, maximize=True)
    for _ in range(3):
        opt.zero_grad()
        p.backward()
        opt.step()
    assert_close(p, 0.425, atol=1e-12, rtol=1e-12)
    assert_close(opt.state_dict()["state"][0]["momentum_buffer"], -1.75, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("name, kwargs", ZERO_D_CONFIGS, ids=ZERO_D_IDS)
def test_a_0d_parameter_follows_the_same_path_as_a_one_element_vector(name, kwargs):
    # No torch needed: the update rules are elementwise, so shape () and shape (1,) must agree.
    scalar, _ = _run(tr, name, kwargs, 0.7)
    vector, _ = _run(tr, name, kwargs, [0.7])
    assert scalar.shape == () and isinstance(scalar.array, np.ndarray)
    assert_close(scalar.numpy().reshape(1), vector, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("name, kwargs", ZERO_D_CONFIGS, ids=ZERO_D_IDS)
def test_a_0d_parameter_matches_torch(torch, name, kwargs):
    ours, our_opt = _run(tr, name, kwargs, 0.7)
    theirs, their_opt = _run(torch, name, kwargs, 0.7)
    assert_close(ours, theirs.detach().numpy(), atol=1e-12, rtol=1e-10)
    for key, value in their_opt.state[theirs].items():
        if key != "step":
            assert_close(our_opt.state[ours][key], value.numpy(), atol=1e-12, rtol=1e-10, what=key)


@pytest.mark.parametrize("name, kwargs", ZERO_D_CONFIGS, ids=ZERO_D_IDS)
def test_a_0d_parameter_resumes_exactly_after_a_json_round_trip(name, kwargs):
    # JSON turns a 0-d state array into a bare float (tolist()); kept as a float, the state froze as above.
    straight, _ = _run(tr, name, kwargs, 0.7, steps=6)
    resumed, opt = _run(tr, name, kwargs, 0.7, steps=3)
    saved = json.loads(json.dumps(opt.state_dict(), default=lambda a: a.tolist()))
    fresh = getattr(optim, name)([resumed], **kwargs)
    fresh.load_state_dict(saved)
    for _ in range(3):
        fresh.zero_grad()
        (resumed * resumed * resumed).sum().backward()
        fresh.step()
    assert_close(resumed, straight, atol=0, rtol=0)


# ================================================================ 2. every target ignored
@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_every_target_ignored_gives_nan_mean_and_zero_gradient(loss):
    # PyTorch: the mean is Σ 0 / Σ 0 = NaN, but no target contributes, so the gradient is exactly 0
    # (it was 0 · (1/0) = NaN here). The sum and the unreduced losses are plain zeros.
    for weight in (None, tr.tensor([1.0, 2.0, 3.0], dtype=F64)):
        x = tr.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]], dtype=F64, requires_grad=True)
        value = loss(x, tr.tensor([-100, -100]), weight=weight)
        assert math.isnan(value.item())
        value.backward()
        assert np.array_equal(x.grad.numpy(), np.zeros((2, 3)))
        assert loss(x, tr.tensor([-100, -100]), reduction="sum", weight=weight).item() == 0.0
        unreduced = loss(x, tr.tensor([-100, -100]), reduction="none", weight=weight).numpy()
        assert np.array_equal(unreduced, [0.0, 0.0]) and not np.signbit(unreduced).any()  # +0, as PyTorch's
    x1 = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)  # one unbatched sample, float32
    value = loss(x1, tr.tensor(-100))
    value.backward()
    assert math.isnan(value.item()) and value.dtype == tr.float32
    assert np.array_equal(x1.grad.numpy(), np.zeros(3, dtype=np.float32))


def test_minus_infinity_outside_the_kept_targets_does_not_make_nan():
    # log-probabilities with log 0 = -inf at classes no kept target picks (row 1 is ignored):
    # the loss is -(log .5 + log .5) / 2 = ln 2, and only the kept targets get a gradient, -1/2 each.
    with np.errstate(divide="ignore"):
        logp = np.log(np.array([[0.0, 0.5, 0.5], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]))
    x = tr.tensor(logp, requires_grad=True)
    value = F.nll_loss(x, tr.tensor([1, -100, 2]))
    value.backward()
    assert_close(value, math.log(2), atol=1e-12, rtol=1e-12)
    assert np.array_equal(x.grad.numpy(), [[0, -0.5, 0], [0, 0, 0], [0, 0, -0.5]])


def test_class_weights_hand_formula():
    # zero logits: log-softmax is -ln 3 everywhere, softmax 1/3. Targets [2, ignored], weights [1, 2, 3]:
    # mean = 3 ln 3 / 3 = ln 3; row 0's gradient is (3/3)(softmax - onehot), row 1's is 0.
    x = tr.zeros(2, 3, dtype=F64, requires_grad=True)
    weight = tr.tensor([1.0, 2.0, 3.0], dtype=F64)
    value = F.cross_entropy(x, tr.tensor([2, -100]), weight=weight)
    value.backward()
    assert_close(value, math.log(3), atol=1e-12, rtol=1e-12)
    assert_close(x.grad, [[1 / 3, 1 / 3, -2 / 3], [0, 0, 0]], atol=1e-12, rtol=1e-12)
    assert_close(F.cross_entropy(x, tr.tensor([2, 0]), weight=weight, reduction="none"),
                 [3 * math.log(3), math.log(3)], atol=1e-12, rtol=1e-12)
    # kept targets whose weights add up to 0: 0/0 in the loss and in their own gradient entries only
    logp = tr.tensor([[-1.0, -2.0, -0.5], [-0.1, -3.0, -2.0]], dtype=F64, requires_grad=True)
    value = F.nll_loss(logp, tr.tensor([0, -100]), weight=tr.tensor([0.0, 1.0, 1.0], dtype=F64))
    value.backward()
    assert math.isnan(value.item())
    grad = logp.grad.numpy()
    assert math.isnan(grad[0, 0]) and np.array_equal(grad[0, 1:], [0.0, 0.0]) and np.array_equal(grad[1], [0, 0, 0])


def test_class_weight_and_ignore_index_errors_name_the_argument():
    x = tr.randn(4, 3)
    target = tr.tensor([0, 1, 2, 1])
    w = tr.tensor([1.0, 2.0, 3.0])  # PyTorch's third positional is the weight, here too
    assert F.cross_entropy(x, target, w).item() == F.cross_entropy(x, target, weight=w).item()
    assert nn.CrossEntropyLoss(w)(x, target).item() == F.cross_entropy(x, target, weight=w).item()
    with pytest.raises(ValueError, match="size_average= and reduce= are deprecated"):
        F.cross_entropy(x, target, None, True)
    with pytest.raises(ValueError, match="size_average= and reduce= are deprecated"):
        nn.MSELoss(reduce=False)
    with pytest.raises(ValueError, match="label_smoothing must be"):
        nn.CrossEntropyLoss(label_smoothing=1.5)(x, target)
    with pytest.raises(TypeError, match="reduction must be"):
        F.mse_loss(x, x, reduction=w)
    with pytest.raises(TypeError, match="ignore_index"):
        F.nll_loss(x, target, ignore_index=1.5)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(x, target, weight=tr.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="weight must have the input's dtype float32, got float64"):
        F.cross_entropy(x, target, weight=tr.tensor([1.0, 2.0, 3.0], dtype=F64))
    with pytest.raises(ValueError, match="weight must not require grad"):
        F.cross_entropy(x, target, weight=tr.tensor([1.0, 2.0, 3.0], requires_grad=True))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_take_pytorchs_positional_order(torch, reduction):
    rng = np.random.default_rng(3)
    logits, probs = rng.normal(size=(5, 3)), rng.uniform(size=(5, 3))
    target, weight = np.array([0, 2, 1, 1, 0]), np.array([0.5, 2.0, 1.5])
    pairs = [
        (lambda lib, w: lib.nn.CrossEntropyLoss(w, None, 1, None, reduction), "class"),
        (lambda lib, w: lib.nn.NLLLoss(w, None, 2, None, reduction), "class"),
        (lambda lib, w: lib.nn.BCEWithLogitsLoss(w, None, None, reduction, w * 2), "binary"),
        (lambda lib, w: lib.nn.MSELoss(None, None, reduction), "binary"),
    ]
    for make, kind in pairs:
        values = []
        for lib in (tr, torch):
            x = lib.tensor(logits, dtype=lib.float64, requires_grad=True)
            y = lib.tensor(target) if kind == "class" else lib.tensor(probs, dtype=lib.float64)
            loss = make(lib, lib.tensor(weight, dtype=lib.float64))(x, y)
            loss.sum().backward()
            values.append((loss.detach().numpy(), x.grad.numpy()))
        for mine, theirs in zip(*values):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)


def test_mse_loss_weight_matches_torch(torch):
    rng = np.random.default_rng(4)
    a, b, w = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.uniform(size=(4, 3))
    for reduction in ("mean", "sum", "none"):
        mine = F.mse_loss(tr.tensor(a), tr.tensor(b), reduction=reduction, weight=tr.tensor(w))
        theirs = torch.nn.functional.mse_loss(torch.tensor(a), torch.tensor(b), reduction=reduction,
                                              weight=torch.tensor(w))
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"weight must have the input's shape \(4, 3\), got \(3,\)"):
        F.mse_loss(tr.tensor(a), tr.tensor(b), weight=tr.ones(3))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("targets", [[-100, -100, -100, -100], [2, -100, 0, -100], [0, 1, 2, 1]])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2)])
def test_ignored_targets_and_class_weights_match_torch(torch, reduction, targets, weighted, shape):
    logits = np.random.default_rng(3).standard_normal(shape)
    target = np.array(targets).reshape(shape[:1] + shape[2:])
    weights = np.array([0.5, 2.0, 1.5])
    for ours_fn, theirs_fn, data in ((F.cross_entropy, torch.nn.functional.cross_entropy, logits),
                                     (F.nll_loss, torch.nn.functional.nll_loss, logits - 1.0)):
        x, xt = tr.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        kwargs = dict(reduction=reduction, weight=tr.tensor(weights) if weighted else None)
        their_kwargs = dict(reduction=reduction, weight=torch.tensor(weights) if weighted else None)
        ours, theirs = ours_fn(x, tr.tensor(target), **kwargs), theirs_fn(xt, torch.tensor(target), **their_kwargs)
        upstream = np.linspace(-1.0, 2.0, theirs.numel()).reshape(tuple(theirs.shape))
        ours.backward(tr.tensor(upstream))
        theirs.backward(torch.tensor(upstream))
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)  # NaN == NaN
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


# ================================================================ 3. integer input to a float layer
def test_integer_input_to_float_linear_or_matmul_raises_naming_the_dtypes():
    layer = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="input of the weight's dtype float32, got int64"):
        layer(tr.ones(4, 3, dtype=tr.int64))
    with pytest.raises(TypeError, match="float32, got float64"):  # PyTorch promotes no float either
        layer(tr.ones(4, 3, dtype=F64))
    with pytest.raises(TypeError, match="bias of the weight's dtype float32, got float64"):
        F.linear(tr.ones(4, 3), tr.ones(2, 3), tr.ones(2, dtype=F64))
    for a, b in ((tr.ones(2, 3, dtype=tr.int64), tr.ones(3, 2)), (tr.ones(2, 3), tr.ones(3, 2, dtype=tr.int32)),
                 (tr.ones(3, dtype=tr.bool), tr.ones(3))):
        with pytest.raises(TypeError, match=f"matmul: .* got dtypes {a.dtype} and {b.dtype}"):
            a @ b
        with pytest.raises(TypeError, match="matmul"):
            tr.matmul(a, b)


def test_integer_matmul_and_matching_linear_still_compute_the_hand_values():
    product = tr.tensor([[1, 2], [3, 4]]) @ tr.tensor([[5], [6]])
    assert product.dtype == tr.int64 and product.tolist() == [[17], [39]]
    layer = nn.Linear(2, 1, dtype=F64)
    layer.load_state_dict({"weight": np.array([[2.0, -1.0]]), "bias": np.array([0.5])})
    assert layer(tr.tensor([[3.0, 4.0]], dtype=F64)).tolist() == [[2.5]]


@pytest.mark.parametrize("make", [lambda: nn.RNN(3, 2), lambda: nn.LSTM(3, 2, impl="composed"),
                                  lambda: nn.GRU(3, 2, batch_first=True)])
def test_integer_input_to_a_recurrent_layer_raises_naming_the_dtypes(make):
    with pytest.raises(TypeError, match="input has dtype int64 but the parameters are float32") as info:
        make()(tr.ones(4, 1, 3, dtype=tr.int64))
    assert "model.to('int64')" not in str(info.value)  # an integer model is no remedy
    with pytest.raises(TypeError, match="int64 but the parameters are float32"):
        nn.GRUCell(3, 2)(tr.ones(1, 3, dtype=tr.int64))


def test_torch_refuses_the_same_mixed_dtypes(torch):
    long_input = torch.ones(4, 3, dtype=torch.long)
    for call in (lambda: torch.nn.Linear(3, 2)(long_input), lambda: long_input @ torch.ones(3, 2),
                 lambda: torch.ones(2, 3) @ torch.ones(3, 2, dtype=torch.int32),
                 lambda: torch.nn.RNN(3, 2)(long_input.reshape(4, 1, 3))):
        with pytest.raises((RuntimeError, ValueError), match="dtype"):
            call()
    assert (torch.tensor([[1, 2], [3, 4]]) @ torch.tensor([[5], [6]])).tolist() == [[17], [39]]
    with pytest.raises(TypeError):
        nn.Linear(3, 2)(tr.ones(4, 3, dtype=tr.int64))
    with pytest.raises(TypeError):
        tr.ones(4, 3, dtype=tr.int64) @ tr.ones(3, 2)


# ================================================================ 4. recurrent lengths
def _identity_rnn(impl):
    """RNN(1, 1) with h_t = tanh(x_t): weight_ih 1, weight_hh 0, no bias."""
    rnn = nn.RNN(1, 1, bias=False, dtype=F64, impl=impl)
    rnn.load_state_dict({"weight_ih_l0": np.ones((1, 1)), "weight_hh_l0": np.zeros((1, 1))})
    return rnn


@pytest.mark.parametrize("impl", ["fused", "composed"])
def test_integer_lengths_in_every_form_give_the_hand_values(impl):
    rnn = _identity_rnn(impl)
    x = tr.tensor([[[0.5]], [[1.0]], [[2.0]]], dtype=F64)  # (L=3, N=1, 1)
    for lengths in ([2], (2,), tr.tensor([2]), tr.tensor([2], dtype=tr.int32), np.array([2], dtype=np.uint8),
                    [np.int64(2)]):
        out, h_n = rnn(x, lengths=lengths)
        assert_close(out.reshape(-1), [math.tanh(0.5), math.tanh(1.0), 0.0], atol=1e-12, rtol=1e-12)
        assert_close(h_n.reshape(-1), [math.tanh(1.0)], atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("lengths, error, message", [
    ([2.5], TypeError, "lengths must be integers.*float64"),
    (tr.tensor([2.5]), TypeError, "lengths must be integers.*float32"),  # ran 3 steps, where [2.5] ran 2
    (np.array([2.0]), TypeError, "lengths must be integers.*float64"),
    ([True], TypeError, "lengths must be integers.*bool"),
    (tr.tensor([[2]]), ValueError, r"lengths must have shape \(1,\).*got shape \(1, 1\)"),  # was a TypeError
    (2, ValueError, r"lengths must have shape \(1,\).*got shape \(\)"),
    ([2, 2], ValueError, r"lengths must have shape \(1,\).*got shape \(2,\)"),
    ([4], ValueError, r"lengths must lie in \[0, 3\].*\[4\]"),
    ([-1], ValueError, r"lengths must lie in \[0, 3\].*\[-1\]"),
])
def test_lengths_that_are_not_integers_of_shape_n_raise_naming_lengths(lengths, error, message):
    with pytest.raises(error, match=message):
        _identity_rnn("fused")(tr.zeros(3, 1, 1, dtype=F64), lengths=lengths)


def test_integer_tensor_lengths_match_torch_packed_sequences(torch):
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    x = np.random.default_rng(7).standard_normal((3, 4, 2))  # (N, L, H_in), batch first
    theirs = torch.nn.GRU(2, 3, batch_first=True, dtype=torch.float64)
    ours = nn.GRU(2, 3, batch_first=True, dtype=F64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    lengths = np.array([2, 4, 1], dtype=np.int32)
    packed = pack_padded_sequence(torch.from_numpy(x), torch.from_numpy(lengths), batch_first=True,
                                  enforce_sorted=False)
    their_out, their_h = theirs(packed)
    their_out = pad_packed_sequence(their_out, batch_first=True, total_length=4)[0]
    for form in (lengths, tr.tensor(lengths), lengths.tolist()):
        our_out, our_h = ours(tr.tensor(x), lengths=form)
        assert_close(our_out, their_out.detach().numpy(), atol=1e-12, rtol=1e-10)
        assert_close(our_h, their_h.detach().numpy(), atol=1e-12, rtol=1e-10)


# ================================================================ 5. creation functions
def test_randint_accepts_pytorchs_forms():
    tr.manual_seed(5)
    reference = tr.randint(0, 7, (50,)).tolist()
    for call in (lambda: tr.randint(7, (50,)), lambda: tr.randint(7, size=(50,)),
                 lambda: tr.randint(high=7, size=(50,)), lambda: tr.randint(low=0, high=7, size=[50]),
                 lambda: tr.randint(0, 7, 50), lambda: tr.randint(tr.tensor(7), (tr.tensor(50),))):
        tr.manual_seed(5)  # the same stream: the one-number form means low = 0
        drawn = call()
        assert drawn.dtype == tr.int64 and drawn.tolist() == reference
    assert set(reference) == set(range(7))
    tr.manual_seed(5)
    shifted = tr.randint(3, 10, (50,))
    assert shifted.tolist() == [v + 3 for v in reference]  # same draws, from [3, 10)
    drawn = tr.randint(0, 2, (2, 3), dtype=tr.float32, requires_grad=True)
    assert drawn.dtype == tr.float32 and drawn.requires_grad and drawn.shape == (2, 3)


@pytest.mark.parametrize("call, error, message", [
    (lambda: tr.randint(5), TypeError, r"randint\(high, size\).*got 1 positional argument\(s\) and keywords \[\]"),
    (lambda: tr.randint(0, 5), TypeError, "size a tuple; got size 5"),
    (lambda: tr.randint(5.5, (3,)), TypeError, "high must be an integer, got 5.5"),
    (lambda: tr.randint(0.5, 5, (3,)), TypeError, "low must be an integer, got 0.5"),
    (lambda: tr.randint(True, (3,)), TypeError, "high must be an integer, got True"),
    (lambda: tr.randint(5, 5, (3,)), ValueError, "low < high, got low=5, high=5"),
    (lambda: tr.randint(0, 257, (2,), dtype=tr.uint8), ValueError, r"\[0, 257\) does not fit dtype uint8"),
    (lambda: tr.randint(0, 5, (2,), dtype=tr.bool), ValueError, "does not fit dtype bool"),
    (lambda: tr.zeros(2.5), TypeError, "zeros: size must be integers"),  # was silently int(2.5) = 2
    (lambda: tr.ones((2.0, 3)), TypeError, "ones: size must be integers"),
    (lambda: tr.randn(True), TypeError, "randn: size must be integers"),  # was silently one element
    (lambda: tr.zeros(-1), ValueError, "size must be non-negative"),
    (lambda: tr.zeros(2, size=(3,)), TypeError, "both positionally"),
    (lambda: tr.full((2,), None), TypeError, "fill_value must be a real number, got NoneType"),  # was NaN
    (lambda: tr.full((2,), tr.tensor([1.5])), TypeError, "fill_value must be a number or a 0-d tensor"),
    (lambda: tr.arange(5, 0, 1), ValueError, "inconsistent with the step's sign"),  # was an empty tensor
    (lambda: tr.arange(0, 5, -1), ValueError, "inconsistent with the step's sign"),
    (lambda: tr.arange(0, 5, 0), ValueError, "step must be nonzero"),
    (lambda: tr.arange(tr.tensor([3])), TypeError, "end must be a number or a 0-d tensor"),
    (lambda: tr.linspace(0, 1, 2.5), TypeError, "steps must be an integer"),
    (lambda: tr.eye(2.5), TypeError, "n must be an integer"),
])
def test_creation_errors_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_creation_forms_and_dtypes_by_hand():
    assert tr.zeros(size=(2, 3)).shape == (2, 3) and tr.rand(size=[4]).shape == (4,)
    assert tr.randn((2, 3)).shape == tr.randn(2, 3).shape == tr.randn([2, 3]).shape == (2, 3)
    assert tr.zeros(np.int64(2), tr.tensor(3)).shape == (2, 3)
    assert tr.full(size=(2,), fill_value=1.5).tolist() == [1.5, 1.5]
    for fill, dtype in ((np.int32(1), tr.int64), (tr.tensor(1, dtype=tr.int32), tr.int64), (tr.tensor(True), tr.bool),
                        (np.float64(2.5), tr.float32), (np.bool_(True), tr.float32)):  # as PyTorch, quirks included
        assert tr.full((2,), fill).dtype == dtype, fill
    for args in ((np.int64(3),), (0, tr.tensor(3)), (0, 3, np.int32(1))):
        made = tr.arange(*args)
        assert made.dtype == tr.int64 and made.tolist() == [0, 1, 2]  # was float32
    assert tr.arange(end=4).tolist() == [0, 1, 2, 3] and tr.arange(start=1, end=3).tolist() == [1, 2]
    assert tr.arange(5, 5).shape == (0,) and tr.arange(3, 0, -1).tolist() == [3, 2, 1]
    assert tr.zeros_like(tr.ones(2), dtype=tr.int64).tolist() == [0, 0]
    assert tr.full_like(tr.ones(2, dtype=tr.int64), 2.5).tolist() == [2, 2]


CREATION_FORMS = [
    "T.zeros(2, 3)", "T.zeros((2, 3))", "T.zeros([2, 3])", "T.zeros(())", "T.zeros(size=(2, 3))",
    "T.ones(2, dtype=T.int64)", "T.randn((2, 3))", "T.randn(size=(2, 3))", "T.rand(2, dtype=T.float64)",
    "T.full((2, 3), 1.5)", "T.full((2,), 1)", "T.full((2,), True)", "T.full([2], 2.5, dtype=T.int64)",
    "T.full((2,), np.int32(1))", "T.full((2,), np.bool_(True))", "T.full((2,), T.tensor(1))",
    "T.full(size=(2,), fill_value=1.0)",
    "T.arange(5)", "T.arange(1, 4)", "T.arange(0, 1, 0.25)", "T.arange(1.0, 3)", "T.arange(np.int64(3))",
    "T.arange(T.tensor(3))", "T.arange(0, 3, np.int32(1))", "T.arange(end=5)", "T.arange(5, 0, -2)",
    "T.arange(0, 1, 0.1)", "T.arange(T.tensor(True), 3)", "T.arange(np.bool_(True), 3)",
    "T.linspace(0, 1, 5)", "T.linspace(0, 10, 4, dtype=T.int64)", "T.eye(2, 3)",
    "T.randint(5, (3,))", "T.randint(1, 5, (3,))", "T.randint(5, size=(3,))", "T.randint(high=5, size=(3,))",
    "T.randint(0, 5, (2, 2), dtype=T.float32)", "T.randint(0, 256, (2,), dtype=T.uint8)",
    "T.zeros_like(T.ones(2, 3), dtype=T.int64)", "T.full_like(T.ones(2, dtype=T.int64), 2.5)",
    "T.zeros(2.5)", "T.zeros(True)", "T.full((2,), None)", "T.arange(5, 0, 1)", "T.arange(0, 10, 0)",
    "T.randint(0, 5)", "T.randint(5.5, (3,))", "T.randint(0, 257, (2,), dtype=T.uint8)",
]


@pytest.mark.parametrize("expression", CREATION_FORMS)
def test_creation_forms_match_torch(torch, expression):
    """Same dtype, shape and (for deterministic ones) values as PyTorch, or an error in both."""
    def evaluate(lib):
        try:
            made = eval(expression, {"T": lib, "np": np})  # our own fixed expressions
        except (TypeError, ValueError, RuntimeError) as error:
            return type(error)
        values = made.detach().numpy() if lib is torch else made.numpy()
        return str(made.dtype).replace("torch.", ""), tuple(made.shape), None if "rand" in expression else values

    ours, theirs = evaluate(tr), evaluate(torch)
    assert isinstance(ours, type) == isinstance(theirs, type), f"ours: {ours}, PyTorch: {theirs}"
    if not isinstance(theirs, type):
        assert ours[:2] == theirs[:2]
        if theirs[2] is not None:
            np.testing.assert_array_equal(ours[2], theirs[2])


# ================================================================ 6. load_state_dict
def test_load_state_dict_between_forward_and_backward_makes_backward_raise():
    layer = nn.Linear(3, 2)
    x = tr.ones(4, 3, requires_grad=True)
    loss = (layer(x) ** 2).sum()  # x's gradient needs the weight as it was in the forward
    before = layer.weight.numpy().copy()
    layer.load_state_dict({k: np.asarray(v) * 2 for k, v in layer.state_dict().items()})
    np.testing.assert_array_equal(layer.weight.numpy(), before * 2)
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_load_state_dict_keeps_memory_dtype_and_bumps_the_version():
    layer = nn.Linear(2, 2)
    weight, memory, version = layer.weight, layer.weight.array, layer.weight._version
    layer.load_state_dict({"weight": np.ones((2, 2)), "bias": [1, 2]})  # float64 and ints: cast, as PyTorch does
    assert layer.weight is weight and layer.weight.array is memory and layer.weight.dtype == tr.float32
    assert weight._version == version + 1
    np.testing.assert_array_equal(layer.bias.numpy(), [1.0, 2.0])


def test_load_state_dict_is_all_or_nothing_and_names_every_bad_key():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 1))
    before = {k: np.array(v) for k, v in model.state_dict().items()}
    state = {k: np.zeros(v.shape) for k, v in before.items()}
    state["3.bias"] = np.array(["a"])  # the last key is not numeric
    state["0.weight"] = np.zeros((3, 2))  # and the first has the wrong shape
    with pytest.raises(RuntimeError, match="nothing was loaded") as error:
        model.load_state_dict(state)
    assert "3.bias" in str(error.value) and "<U1" in str(error.value)
    assert "0.weight" in str(error.value) and "(3, 2)" in str(error.value)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(value), before[key])  # untouched


def test_load_state_dict_between_forward_and_backward_matches_torch(torch):
    layer = torch.nn.Linear(3, 2)
    loss = (layer(torch.ones(4, 3, requires_grad=True)) ** 2).sum()
    layer.load_state_dict({k: v * 2 for k, v in layer.state_dict().items()})
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
