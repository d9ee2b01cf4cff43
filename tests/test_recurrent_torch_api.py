"""PyTorch's recurrent-layer API beyond the basic call, so that real PyTorch RNN code runs unchanged:
a ``PackedSequence`` as input (packed output, final state in the original batch order), the LSTM's
``proj_size``, ``flatten_parameters()``, ``all_weights`` / ``_flat_weights_names``, ``repr``, and the
idioms of real scripts (embedding, pack, bidirectional LSTM, unpack, last states).

Against PyTorch in float64 (skipped without it): outputs, final states and every gradient, on both
roads (``impl="fused"`` and ``"composed"``). Hand checks (NumPy equations, finite differences, and a
packed batch against the same batch padded with ``lengths=``) need nothing but NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tests.helpers import assert_close
from tinygrad_rnn import nn
from tinygrad_rnn.nn.recurrent_cells import lstm_step

F64 = tr.float64
TOL = dict(atol=1e-10, rtol=1e-10)  # float64 on both sides: the same equations, only rounding differs
KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru")
IMPLS = ("fused", "composed")


@pytest.fixture(scope="module")
def torch():
    """PyTorch, or a clean skip without it."""
    return pytest.importorskip("torch")


def make_layer(lib, kind: str, input_size: int, hidden_size: int, **kwargs):
    """An RNN (tanh or relu), LSTM or GRU of ``lib.nn`` (ours or torch's), float64."""
    kwargs["dtype"] = lib.float64
    if kind.startswith("rnn"):
        return lib.nn.RNN(input_size, hidden_size, nonlinearity=kind[4:], **kwargs)
    return {"lstm": lib.nn.LSTM, "gru": lib.nn.GRU}[kind](input_size, hidden_size, **kwargs)


def twins(torch, kind: str, input_size: int, hidden_size: int, impl: str = "fused", **kwargs):
    """A torch layer and ours with torch's weights (loaded through ``load_state_dict``)."""
    torch.manual_seed(0)
    theirs = make_layer(torch, kind, input_size, hidden_size, **kwargs)
    ours = make_layer(tr, kind, input_size, hidden_size, impl=impl, **kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def as_hx(kind: str, states):
    return None if states is None else (tuple(states) if kind == "lstm" else states[0])


def finish(lib, model, outs, weights, leaves) -> tuple:
    """Loss Σ outᵢ·Wᵢ, backward; the values and every gradient (leaves and parameters) as arrays."""
    loss = sum((o * lib.tensor(w)).sum() for o, w in zip(outs, weights))
    model.zero_grad()
    loss.backward()
    grads = {name: leaf.grad.numpy().copy() for name, leaf in leaves.items()}
    for name, p in model.named_parameters():
        assert p.grad is not None, f"parameter {name} got no gradient"
        grads[name] = p.grad.numpy().copy()
    return [o.detach().numpy().copy() for o in outs], grads


def assert_same(ours, theirs, tol=TOL) -> None:
    (our_outs, our_grads), (their_outs, their_grads) = ours, theirs
    assert len(our_outs) == len(their_outs)
    for i, (a, b) in enumerate(zip(our_outs, their_outs)):
        assert_close(a, b, **tol, what=f"output {i}")
    assert sorted(our_grads) == sorted(their_grads), "different sets of gradients"
    for name, expected in their_grads.items():
        assert_close(our_grads[name], expected, **tol, what=f"gradient of {name}")


# ---------------------------------------------------------------- PackedSequence input
def packed_run(lib, model, kind, x, lengths, states, weights, batch_first, enforce_sorted):
    """Pack ``x`` (padded), run the layer on the PackedSequence with ``states`` (original batch order)."""
    xt = lib.tensor(x, requires_grad=True)
    leaves = {"input": xt}
    st_t = None if states is None else [lib.tensor(s, requires_grad=True) for s in states]
    leaves.update({f"state{i}": s for i, s in enumerate(st_t or [])})
    packed = lib.nn.utils.rnn.pack_padded_sequence(xt, lib.tensor(lengths), batch_first=batch_first,
                                                   enforce_sorted=enforce_sorted)
    out, final = model(packed, as_hx(kind, st_t))
    assert type(out).__name__ == "PackedSequence"
    index = [None if i is None else i.tolist() for i in (out.sorted_indices, out.unsorted_indices)]
    layout = (out.batch_sizes.tolist(), *index)
    return layout, finish(lib, model, [out.data] + (list(final) if kind == "lstm" else [final]), weights, leaves)


def packed_data(kind, lengths, layers, directions, hidden, batch_first, initial_state, input_size=2, seed=0):
    rng = np.random.default_rng(seed)
    steps, batch = max(lengths), len(lengths)
    x = rng.standard_normal((batch, steps, input_size) if batch_first else (steps, batch, input_size))
    state_shape = (layers * directions, batch, hidden)
    count = 2 if kind == "lstm" else 1
    states = [rng.standard_normal(state_shape) for _ in range(count)] if initial_state else None
    weights = [rng.standard_normal((sum(lengths), directions * hidden))]
    weights += [rng.standard_normal(state_shape) for _ in range(count)]
    return x, states, weights


def assert_packed_runs_match(torch, ours, theirs, call) -> None:
    """The same packed run in both libraries: same packed layout, same outputs, states and gradients."""
    our_layout, our_run = packed_run(tr, ours, *call)
    their_layout, their_run = packed_run(torch, theirs, *call)
    assert our_layout == their_layout
    assert_same(our_run, their_run)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_input_matches_torch(torch, kind, impl, enforce_sorted, batch_first):
    """Two layers, bidirectional, an initial state in the original batch order: the packed output (layout
    and data), the final states and every gradient (input, states, parameters) equal PyTorch's."""
    lengths = [5, 4, 2, 1] if enforce_sorted else [2, 5, 1, 4]
    ours, theirs = twins(torch, kind, 2, 3, impl, num_layers=2, bidirectional=True, batch_first=batch_first)
    x, states, weights = packed_data(kind, lengths, 2, 2, 3, batch_first, initial_state=True)
    call = (kind, x, lengths, states, weights, batch_first, enforce_sorted)
    assert_packed_runs_match(torch, ours, theirs, call)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("impl", IMPLS)
def test_packed_input_without_state_or_bias_matches_torch(torch, kind, impl):
    """One layer, no bias, zeros for the state; the layer's ``batch_first`` does not apply to packed data."""
    lengths = [3, 1, 4]
    ours, theirs = twins(torch, kind, 2, 3, impl, bias=False, batch_first=True)
    x, states, weights = packed_data(kind, lengths, 1, 1, 3, False, initial_state=False, seed=1)
    call = (kind, x, lengths, states, weights, False, False)
    assert_packed_runs_match(torch, ours, theirs, call)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("impl", IMPLS)
def test_packed_input_equals_the_padded_batch_with_lengths(kind, impl):
    """By hand, without PyTorch: a packed batch gives what the same padded batch gives with
    ``lengths=``, the state in the same (original) order, and the output packed as the input."""
    R = nn.utils.rnn
    lengths = [2, 4, 1]
    model = make_layer(tr, kind, 2, 3, impl=impl, bidirectional=True)
    x, states, _ = packed_data(kind, lengths, 1, 2, 3, False, initial_state=True, seed=2)
    hx = as_hx(kind, [tr.tensor(s) for s in states])
    packed = R.pack_padded_sequence(tr.tensor(x), lengths, enforce_sorted=False)
    out, final = model(packed, hx)
    ref_out, ref_final = model(tr.tensor(x), hx, lengths=lengths)
    padded, out_lengths = R.pad_packed_sequence(out)
    assert out_lengths.tolist() == lengths and out.sorted_indices.tolist() == [1, 0, 2]
    assert_close(padded, ref_out, atol=0, rtol=0)
    for a, b in zip(final if kind == "lstm" else [final], ref_final if kind == "lstm" else [ref_final]):
        assert_close(a, b, atol=0, rtol=0)


def test_packed_input_errors_name_the_argument():
    R = nn.utils.rnn
    model = nn.GRU(2, 3)
    packed = R.pack_padded_sequence(tr.zeros(4, 2, 2), [4, 2])
    with pytest.raises(ValueError, match="lengths must be None for a PackedSequence"):
        model(packed, lengths=[4, 2])
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(1, 2, 3\), got \(1, 3, 3\)"):
        model(packed, tr.zeros(1, 3, 3))
    with pytest.raises(ValueError, match=r"input has 2 features .* expected input_size=5"):
        nn.LSTM(5, 3)(packed)
    with pytest.raises(TypeError, match="input must be a Tensor or a PackedSequence, got list"):
        model([[0.0, 1.0]])
    with pytest.raises(TypeError, match="c_0 must be a Tensor, got list"):
        nn.LSTM(2, 3)(packed, (tr.zeros(1, 2, 3), [0.0]))


# ---------------------------------------------------------------- proj_size
def proj_run(lib, model, mode, x, lengths, states, weights):
    """An LSTM (maybe projected) on a padded batch ("padded"), packed ("packed") or one sequence ("unbatched")."""
    xt = lib.tensor(x, requires_grad=True)
    st_t = [lib.tensor(s, requires_grad=True) for s in states]
    leaves = {"input": xt, "h_0": st_t[0], "c_0": st_t[1]}
    if mode == "packed":
        packed = lib.nn.utils.rnn.pack_padded_sequence(xt, lib.tensor(lengths), batch_first=model.batch_first,
                                                       enforce_sorted=False)
        out, (h, c) = model(packed, tuple(st_t))
        out = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=model.batch_first)[0]
    else:
        out, (h, c) = model(xt, tuple(st_t))
    return finish(lib, model, [out, h, c], weights, leaves)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode", ["padded", "packed", "unbatched"])
def test_lstm_proj_size_matches_torch(torch, impl, bias, mode):
    """proj_size=2 < hidden_size=4, two layers, bidirectional, batch-first: values and every gradient,
    on both roads (fused: ``bptt_projected.lstm_proj_forward``/``lstm_proj_backward``)."""
    ours, theirs = twins(torch, "lstm", 3, 4, impl, num_layers=2, bidirectional=True, batch_first=True,
                         proj_size=2, bias=bias)
    assert ours.impl == impl and ours.proj_size == 2  # the projection runs on the road asked for
    rng = np.random.default_rng(3)
    lengths = [3, 5, 2]
    x_shape = (5, 3) if mode == "unbatched" else (3, 5, 3)
    batch = () if mode == "unbatched" else (3,)
    x = rng.standard_normal(x_shape)
    states = [rng.standard_normal((4, *batch, 2)), rng.standard_normal((4, *batch, 4))]  # h (.., P), c (.., H)
    weights = [rng.standard_normal(x_shape[:-1] + (4,))] + [rng.standard_normal(s.shape) for s in states]
    if mode == "packed":
        for b, n in enumerate(lengths):
            weights[0][b, n:] = 0.0  # padding is filled by pad_packed_sequence, not by the layer
    call = (mode, x, lengths, states, weights)
    assert_same(proj_run(tr, ours, *call), proj_run(torch, theirs, *call))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("proj_size", [1, 4])
def test_lstm_proj_size_single_layer_with_lengths_matches_torch(torch, impl, proj_size):
    """One layer, one direction, a padded batch with lengths against PyTorch's packed run of it, with
    P = 1 and P = H - 1: the output, (h_n, c_n) and every gradient."""
    ours, theirs = twins(torch, "lstm", 2, 5, impl, proj_size=proj_size)
    rng = np.random.default_rng(8)
    lengths = [6, 1, 4]
    x = rng.standard_normal((6, 3, 2))
    states = [rng.standard_normal((1, 3, proj_size)), rng.standard_normal((1, 3, 5))]
    weights = [rng.standard_normal((6, 3, proj_size))] + [rng.standard_normal(s.shape) for s in states]
    results = []
    for lib, model in ((tr, ours), (torch, theirs)):
        xt = lib.tensor(x, requires_grad=True)
        st_t = [lib.tensor(s, requires_grad=True) for s in states]
        if lib is tr:
            out, (h, c) = model(xt, tuple(st_t), lengths=lengths)
        else:
            packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths), enforce_sorted=False)
            out, (h, c) = model(packed, tuple(st_t))
            out = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=6)[0]
        results.append(finish(lib, model, [out, h, c], weights, {"input": xt, "h_0": st_t[0], "c_0": st_t[1]}))
    assert_same(*results)


def test_lstm_proj_size_runs_fused_by_default():
    """``impl`` reports the road: fused by default with a projection too, composed on request."""
    assert nn.LSTM(4, 8, proj_size=3).impl == "fused"
    assert nn.LSTM(4, 8, proj_size=3, impl="composed").impl == "composed"


def test_lstm_proj_size_parameters_match_torch(torch):
    ours, theirs = twins(torch, "lstm", 3, 5, num_layers=2, bidirectional=True, proj_size=2)
    ours_shapes = [(n, tuple(p.shape)) for n, p in ours.named_parameters()]
    assert ours_shapes == [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.weight_hr_l1_reverse.shape == (2, 5) and ours.weight_hh_l0.shape == (20, 2)
    assert ours.weight_ih_l1.shape == (20, 4)  # the next layer reads proj_size · directions features
    for p in ours.parameters():  # PyTorch's default init, U(-1/√H, 1/√H), the projection too
        assert np.abs(p.numpy()).max() <= 1 / np.sqrt(5)


def test_lstm_proj_size_hand_equations_and_finite_differences():
    """By hand: h_t = (o ⊙ tanh c_t) W_hrᵀ over three steps in NumPy, and the projected step's gradient
    against central differences."""
    model = nn.LSTM(2, 3, proj_size=1, dtype=F64)
    rng = np.random.default_rng(4)
    x, h, c = rng.standard_normal((3, 2, 2)), rng.standard_normal((2, 1)), rng.standard_normal((2, 3))
    out, (h_n, c_n) = model(tr.tensor(x), (tr.tensor(h[None]), tr.tensor(c[None])))
    w_ih, w_hh, b_ih, b_hh, w_hr = (p.numpy() for p in model.parameters())
    sigmoid = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    for t in range(3):
        a = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, g, o = sigmoid(a[:, :3]), sigmoid(a[:, 3:6]), np.tanh(a[:, 6:9]), sigmoid(a[:, 9:])
        c = f * c + i * g
        h = (o * np.tanh(c)) @ w_hr.T
        assert_close(out[t], h, atol=1e-12, rtol=1e-12)
    assert_close(h_n[0], h, atol=1e-12, rtol=1e-12)
    assert_close(c_n[0], c, atol=1e-12, rtol=1e-12)

    def steps(x, h, c, w_hh, w_hr):
        for t in range(x.shape[0]):
            h, c = lstm_step(x[t], h, c, w_hh.T, None, w_hr.T)
        return h * 1.5 + c.sum(-1, keepdim=True)

    inputs = [rng.standard_normal(s) for s in ((3, 2, 8), (2, 1), (2, 2), (8, 1), (1, 2))]
    assert tr.gradcheck(steps, tuple(tr.tensor(a, requires_grad=True) for a in inputs))


def test_proj_size_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"proj_size must be an integer in \[0, hidden_size=3\).*got 3"):
        nn.LSTM(2, 3, proj_size=3)
    with pytest.raises(ValueError, match=r"proj_size must be .* got -1"):
        nn.LSTM(2, 3, proj_size=-1)
    for layer in (nn.GRU, nn.RNN):
        with pytest.raises(ValueError, match="proj_size is only supported for LSTM.*proj_size=1"):
            layer(2, 3, proj_size=1)
    model = nn.LSTM(2, 3, proj_size=1)
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(1, 2, 1\), got \(1, 2, 3\)"):
        model(tr.zeros(4, 2, 2), (tr.zeros(1, 2, 3), tr.zeros(1, 2, 3)))
    with pytest.raises(ValueError, match=r"expected c_0 of shape \(1, 2, 3\), got \(1, 2, 1\)"):
        model(tr.zeros(4, 2, 2), (tr.zeros(1, 2, 1), tr.zeros(1, 2, 1)))


# ---------------------------------------------------------------- names, bookkeeping, repr
CONFIGS = [dict(), dict(bias=False), dict(num_layers=2, bidirectional=True), dict(num_layers=2, dropout=0.5),
           dict(batch_first=True, bias=False, bidirectional=True)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("config", CONFIGS + [dict(proj_size=2, bias=False, num_layers=2, bidirectional=True)])
def test_weights_bookkeeping_and_repr_match_torch(torch, kind, config):
    if "proj_size" in config and kind != "lstm":
        pytest.skip("proj_size is for the LSTM only")
    ours, theirs = twins(torch, kind, 3, 4, **config)
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert ours._all_weights == theirs._all_weights
    assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in theirs.all_weights]
    assert all(a is b for a, b in zip(ours._flat_weights, [getattr(ours, n) for n in ours._flat_weights_names]))
    assert ours.all_weights[0][0] is ours.weight_ih_l0
    assert repr(ours) == repr(theirs)
    for attribute in ("mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                      "bidirectional", "proj_size"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute


@pytest.mark.parametrize("kind", KINDS)
def test_flatten_parameters_is_a_harmless_no_op(kind):
    model = make_layer(tr, kind, 2, 3, num_layers=2)
    before = [(p, p.numpy().copy()) for p in model.parameters()]
    assert model.flatten_parameters() is None
    assert all(p is q and np.array_equal(p.numpy(), v) for (p, v), q in zip(before, model.parameters()))
    assert "nothing to flatten" in type(model).flatten_parameters.__doc__


# ---------------------------------------------------------------- idioms of real scripts
def build_classifier(lib, impl=None):
    """A typical PyTorch text classifier's modules and their set-up, written once for both libraries."""
    lib.manual_seed(0)
    extra = {} if impl is None else {"impl": impl}
    emb = lib.nn.Embedding(10, 3, dtype=lib.float64)
    lstm = lib.nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True, dtype=lib.float64, **extra)
    head = lib.nn.Linear(8, 2, dtype=lib.float64)
    lstm.flatten_parameters()
    for name, p in lstm.named_parameters():
        if "bias" in name:
            lib.nn.init.zeros_(p)
    lstm.bias_hh_l0.data[4:8].fill_(1.0)  # forget-gate bias of 1
    assert lstm.bias_hh_l0[4:8].sum().item() == 4.0 and lstm.bias_ih_l0.abs().sum().item() == 0.0
    return emb, lstm, head


def run_classifier(lib, modules, tokens, lengths):
    """Its forward and backward: embedding, pack, a 2-layer bidirectional batch-first LSTM with (h0, c0),
    unpack, the last layer's two final states, a linear head. Values and parameter gradients."""
    R = lib.nn.utils.rnn
    emb, lstm, head = modules
    packed = R.pack_padded_sequence(emb(lib.tensor(tokens)), lib.tensor(lengths).cpu(), batch_first=True,
                                    enforce_sorted=False)
    h0 = lib.zeros(4, len(lengths), 4, dtype=lib.float64)
    out, (h_n, c_n) = lstm(packed, (h0, h0.clone()))
    out, out_lengths = R.pad_packed_sequence(out, batch_first=True, total_length=6)
    logits = head(lib.cat([h_n[-2], h_n[-1]], dim=1))
    loss = lib.nn.functional.cross_entropy(logits, lib.tensor([0, 1, 1])) + out.sum() * 0.1
    loss.backward()
    values = [out.detach().numpy(), logits.detach().numpy(), c_n.detach().numpy()]
    return values, out_lengths.tolist(), [p.grad.numpy() for m in modules for p in m.parameters()]


@pytest.mark.parametrize("impl", IMPLS)
def test_a_pytorch_text_classifier_runs_unchanged(torch, impl):
    tokens, lengths = [[1, 2, 3, 0, 0], [4, 5, 6, 7, 8], [9, 1, 0, 0, 0]], [3, 5, 2]
    theirs = build_classifier(torch)
    ours = build_classifier(tr, impl)
    for a, b in zip(ours, theirs):
        a.load_state_dict({k: v.detach().numpy() for k, v in b.state_dict().items()})
    values, our_lengths, grads = run_classifier(tr, ours, tokens, lengths)
    their_values, their_lengths, their_grads = run_classifier(torch, theirs, tokens, lengths)
    assert our_lengths == their_lengths == lengths
    for a, b in zip(values + grads, their_values + their_grads):
        assert_close(a, b, **TOL)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("batched", [True, False])
def test_layer_called_on_input_alone_matches_torch(torch, kind, batched):
    """``out, h_n = gru(x)`` (``out, (h_n, c_n) = lstm(x)``), batch-first or unbatched 2-D input."""
    ours, theirs = twins(torch, kind, 3, 4, batch_first=True, num_layers=2)
    x = np.random.default_rng(5).standard_normal((2, 5, 3) if batched else (5, 3))
    our_out, our_final = ours(tr.tensor(x))
    their_out, their_final = theirs(torch.tensor(x))
    assert_close(our_out, their_out.detach().numpy(), **TOL)
    for a, b in zip(our_final if kind == "lstm" else [our_final], their_final if kind == "lstm" else [their_final]):
        assert_close(a, b.detach().numpy(), **TOL)


@pytest.mark.parametrize("impl", IMPLS)
def test_lstm_proj_size_on_every_backend_matches_cpu(each_device, impl):
    """A projected LSTM (two layers, bidirectional, lengths, initial states) on each device: the same
    values and gradients as on the CPU; on the strict device this holds the fused road to CuPy's rules."""
    rng = np.random.default_rng(9)
    x, h0, c0 = rng.standard_normal((5, 3, 2)), rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 4))
    tr.manual_seed(0)
    state = nn.LSTM(2, 4, num_layers=2, bidirectional=True, proj_size=2, dtype=F64).state_dict()
    results = []
    for device in ("cpu", each_device):
        model = nn.LSTM(2, 4, num_layers=2, bidirectional=True, proj_size=2, dtype=F64, impl=impl, device=device)
        model.load_state_dict(state)
        leaves = [tr.tensor(a, device=device, requires_grad=True) for a in (x, h0, c0)]
        out, (h_n, c_n) = model(leaves[0], tuple(leaves[1:]), lengths=tr.tensor([5, 2, 0], device=device))
        assert out.device == h_n.device == c_n.device == device and out.shape == (5, 3, 4)
        ((out * out).sum() + (h_n * h_n).sum() + c_n.sum()).backward()
        results.append([t.numpy() for t in (out, h_n, c_n, *(leaf.grad for leaf in leaves))]
                       + [p.grad.numpy() for p in model.parameters()])
    for a, b in zip(*results):
        assert_close(a, b, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("impl", IMPLS)
def test_packed_input_on_every_backend_matches_cpu(each_device, impl):
    """A packed batch (unsorted, with an initial state) on each device: the same values and gradients."""
    rng = np.random.default_rng(6)
    x, h0 = rng.standard_normal((4, 3, 2)), rng.standard_normal((2, 3, 3))
    results = []
    for device in ("cpu", each_device):
        tr.manual_seed(0)
        model = nn.GRU(2, 3, bidirectional=True, dtype=F64, impl=impl).to(device)
        xt, ht = tr.tensor(x, device=device, requires_grad=True), tr.tensor(h0, device=device, requires_grad=True)
        packed = nn.utils.rnn.pack_padded_sequence(xt, tr.tensor([2, 4, 1]), enforce_sorted=False)
        out, h_n = model(packed, ht)
        assert out.data.device == h_n.device == device and out.batch_sizes.device == "cpu"
        (out.data.sum() + (h_n * h_n).sum()).backward()
        results.append([t.numpy() for t in (out.data, h_n, xt.grad, ht.grad, model.weight_hh_l0.grad)])
    for a, b in zip(*results):
        assert_close(a, b, atol=1e-12, rtol=1e-12)
