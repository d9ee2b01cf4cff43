"""Three-way agreement for recurrent layers: the composed road (autograd over the cell's
Tensor ops), the fused road (the hand-derived BPTT of ``bptt.py``) and central finite
differences (a random-direction check vᵀJu), over drawn kinds, sizes, sequence lengths,
layers, directions, initial states and ``lengths``, in float64; the LSTM also with a projection
(``proj_size``, the fused kind "lstm_proj").

``test_planted_bug_is_caught`` (and ``..._in_the_projected_lstm``) shows that these checks catch a
wrong term in a copy of the hand-derived backward.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import textwrap
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import bptt, nn

LAYERS = {"rnn_tanh": nn.RNN, "rnn_relu": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
EPS = 1e-6


@dataclass
class Case:
    kind: str
    input_size: int
    hidden_size: int
    steps: int
    batch: int
    num_layers: int
    bidirectional: bool
    with_initial_state: bool
    lengths: list | None
    bias: bool
    seed: int
    proj_size: int = 0  # the LSTM's projection (0: none); h has proj_size features, c hidden_size

    @property
    def state_size(self) -> int:
        """The features of h (and of each direction's output): proj_size when projecting, else hidden_size."""
        return self.proj_size or self.hidden_size


@st.composite
def cases(draw, max_steps: int = 40, max_size: int = 4, projected: bool = False):
    """A drawn Case; ``projected``: an LSTM with 0 < proj_size < hidden_size (and hidden_size ≥ 2)."""
    steps = draw(st.integers(1, max_steps), label="steps")
    batch = draw(st.integers(1, 3), label="batch")
    with_lengths = draw(st.booleans(), label="with lengths")
    lengths = None
    if with_lengths:
        lengths = draw(st.lists(st.integers(0, steps), min_size=batch, max_size=batch), label="lengths")
    kind = "lstm" if projected else draw(st.sampled_from(sorted(LAYERS)), label="kind")
    input_size = draw(st.integers(1, max_size), label="input size")
    hidden_size = draw(st.integers(2 if projected else 1, max_size), label="hidden size")
    return Case(
        kind=kind,
        input_size=input_size,
        hidden_size=hidden_size,
        proj_size=draw(st.integers(1, hidden_size - 1), label="proj size") if projected else 0,
        steps=steps,
        batch=batch,
        num_layers=draw(st.integers(1, 2), label="layers"),
        bidirectional=draw(st.booleans(), label="bidirectional"),
        with_initial_state=draw(st.booleans(), label="initial state"),
        lengths=lengths,
        bias=draw(st.booleans(), label="bias"),
        seed=draw(st.integers(0, 2**16), label="seed"),
    )


def make_layer(case: Case, impl: str) -> nn.Module:
    options = dict(num_layers=case.num_layers, bidirectional=case.bidirectional, bias=case.bias,
                   dtype=tr.float64, impl=impl)
    if case.kind.startswith("rnn"):
        options["nonlinearity"] = case.kind[4:]
    if case.proj_size:
        options["proj_size"] = case.proj_size
    tr.manual_seed(case.seed)  # both roads get the same weights
    return LAYERS[case.kind](case.input_size, case.hidden_size, **options)


def make_inputs(case: Case) -> dict:
    """Input, initial states, and fixed random weights that turn every output into a loss."""
    rng = np.random.default_rng(case.seed)
    directions = 2 if case.bidirectional else 1
    state_shape = (directions * case.num_layers, case.batch, case.state_size)  # h: P features with a projection
    cell_shape = (directions * case.num_layers, case.batch, case.hidden_size)  # c: always H
    arrays = {"x": rng.standard_normal((case.steps, case.batch, case.input_size))}
    if case.with_initial_state:
        arrays["h0"] = rng.standard_normal(state_shape)
        if case.kind == "lstm":
            arrays["c0"] = rng.standard_normal(cell_shape)
    weights = {
        "out": rng.standard_normal((case.steps, case.batch, directions * case.state_size)),
        "h_n": rng.standard_normal(state_shape),
        "c_n": rng.standard_normal(cell_shape),
    }
    return {"arrays": arrays, "weights": weights}


def run(layer, case: Case, tensors: dict, weights: dict):
    """The scalar loss Σ out·W_out + Σ h_n·W_h (+ Σ c_n·W_c): distinct weights, so a
    gradient sent to the wrong place shows."""
    hx = None
    if "h0" in tensors:
        hx = (tensors["h0"], tensors["c0"]) if case.kind == "lstm" else tensors["h0"]
    out, final = layer(tensors["x"], hx, lengths=case.lengths)
    h_n, c_n = final if case.kind == "lstm" else (final, None)
    loss = (out * tr.tensor(weights["out"])).sum() + (h_n * tr.tensor(weights["h_n"])).sum()
    if c_n is not None:
        loss = loss + (c_n * tr.tensor(weights["c_n"])).sum()
    return out, final, loss


def gradients(layer, case: Case, data: dict) -> tuple:
    tensors = {name: tr.tensor(a, requires_grad=True) for name, a in data["arrays"].items()}
    out, final, loss = run(layer, case, tensors, data["weights"])
    loss.backward()
    grads = {name: t.grad.numpy() for name, t in tensors.items()}
    grads.update({name: p.grad.numpy() for name, p in layer.named_parameters()})
    return out.numpy(), [f.numpy() for f in (final if isinstance(final, tuple) else (final,))], loss.item(), grads


def directional_derivative(layer, case: Case, data: dict, directions: dict) -> float:
    """(L(θ + εu) - L(θ - εu)) / 2ε, moving every input and parameter along u at once."""
    values = []
    for sign in (1.0, -1.0):
        tensors = {name: tr.tensor(a + sign * EPS * directions[name]) for name, a in data["arrays"].items()}
        with tr.no_grad():
            originals = {name: p.array.copy() for name, p in layer.named_parameters()}
            for name, p in layer.named_parameters():
                p.array = originals[name] + sign * EPS * directions[name]
            values.append(run(layer, case, tensors, data["weights"])[2].item())
            for name, p in layer.named_parameters():
                p.array = originals[name]
    return (values[0] - values[1]) / (2 * EPS)


def check_three_way(case: Case) -> None:
    """Forward values and every gradient agree between the roads, and the hand-derived
    gradient agrees with a central finite difference along a random direction."""
    data = make_inputs(case)
    composed, fused = make_layer(case, "composed"), make_layer(case, "fused")
    assert (composed.impl, fused.impl) == ("composed", "fused")  # each road runs what it says, projected too
    out_c, finals_c, loss_c, grads_c = gradients(composed, case, data)
    out_f, finals_f, loss_f, grads_f = gradients(fused, case, data)
    np.testing.assert_allclose(out_f, out_c, rtol=1e-10, atol=1e-12, err_msg="outputs")
    for f, c in zip(finals_f, finals_c):
        np.testing.assert_allclose(f, c, rtol=1e-10, atol=1e-12, err_msg="final states")
    assert set(grads_f) == set(grads_c)
    for name in grads_c:
        np.testing.assert_allclose(grads_f[name], grads_c[name], rtol=1e-8, atol=1e-10,
                                   err_msg=f"gradient of {name}: fused (hand-derived) vs composed (autograd)")
    rng = np.random.default_rng(case.seed + 1)
    directions = {name: rng.standard_normal(g.shape) for name, g in grads_f.items()}
    projected = sum(float((grads_f[name] * u).sum()) for name, u in directions.items())
    numeric = directional_derivative(fused, case, data, directions)
    assert abs(projected - numeric) <= 1e-5 + 1e-4 * abs(numeric), (
        f"hand-derived vᵀJu {projected} vs finite differences {numeric}"
    )


@given(case=cases())
def test_three_way_agreement(case):
    check_three_way(case)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_three_way_agreement_fixed_hard_case(kind):
    """Every feature at once, whatever hypothesis draws: 2 layers, both directions,
    initial states, uneven lengths including 0 and the full length."""
    check_three_way(Case(kind, 3, 4, steps=7, batch=4, num_layers=2, bidirectional=True,
                         with_initial_state=True, lengths=[7, 0, 3, 1], bias=True, seed=5))


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_three_way_agreement_fixed_case_without_lengths(kind):
    """The unmasked branch of every backward (no ``lengths``), whatever hypothesis draws."""
    check_three_way(Case(kind, 3, 4, steps=7, batch=4, num_layers=2, bidirectional=True,
                         with_initial_state=True, lengths=None, bias=True, seed=6))


# The LSTM with a projection (fused kind "lstm_proj"): h and the outputs have proj_size features,
# W_hh is (4H, P), c keeps H, and a second layer reads P·D features.
@given(case=cases(projected=True))
def test_three_way_agreement_projected_lstm(case):
    check_three_way(case)


@pytest.mark.parametrize("lengths", [[7, 0, 3, 1], None], ids=["lengths", "no lengths"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no bias"])
@pytest.mark.parametrize("proj_size", [1, 3])
def test_three_way_agreement_projected_lstm_fixed_cases(lengths, bias, proj_size):
    """Every feature at once, projected: 2 layers, both directions, initial states, uneven lengths
    (including 0 and the full length) or none, with and without biases; P = 1 and P = H - 1."""
    check_three_way(Case("lstm", 3, 4, steps=7, batch=4, num_layers=2, bidirectional=True,
                         with_initial_state=True, lengths=lengths, bias=bias, seed=7, proj_size=proj_size))


# Long sequences: fewer examples (each runs the composed road over up to 1,000 steps).
@settings(max_examples=max(2, settings.default.max_examples // 5))
@given(case=cases(max_steps=1000, max_size=3), scale=st.sampled_from([1.0, 5.0]))
def test_long_sequences_roads_agree_and_stay_finite(case, scale):
    case.num_layers, case.steps = 1, max(case.steps, 200)
    case.lengths = None if case.lengths is None else [min(n * 25, case.steps) for n in case.lengths]
    check_long_sequence(case, scale)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_a_thousand_steps(kind):
    check_long_sequence(Case(kind, 2, 3, 1000, 2, 1, True, True, [1000, 613], True, 11), scale=5.0)


def test_a_thousand_steps_projected_lstm():
    check_long_sequence(Case("lstm", 2, 3, 1000, 2, 1, True, True, [1000, 613], True, 11, proj_size=2), scale=5.0)


def check_long_sequence(case: Case, scale: float) -> None:
    data = make_inputs(case)
    data["arrays"]["x"] = scale * data["arrays"]["x"]  # large inputs saturate the gates: still no overflow
    results = [gradients(make_layer(case, impl), case, data) for impl in ("composed", "fused")]
    (out_c, _, loss_c, grads_c), (out_f, _, loss_f, grads_f) = results
    assert np.isfinite(out_f).all() and np.isfinite(loss_f)
    np.testing.assert_allclose(out_f, out_c, rtol=1e-9, atol=1e-11)
    for name in grads_c:
        assert np.isfinite(grads_f[name]).all(), name
        np.testing.assert_allclose(grads_f[name], grads_c[name], rtol=1e-7, atol=1e-9, err_msg=name)


# ---------------------------------------------------------------- the checks can fail
def _planted(function, wrong: str, right: str):
    """A copy of ``function`` (from ``bptt.py``) with one line changed, compiled in bptt's namespace."""
    source = textwrap.dedent(inspect.getsource(function))
    assert source.count(right) == 1, f"the line to plant a bug in is gone (or not unique): {right}"
    namespace = dict(vars(bptt))
    exec(compile(source.replace(right, wrong), "planted_bug", "exec"), namespace)  # noqa: S102
    return namespace[function.__name__]


@contextlib.contextmanager
def _backward_planted(kind: str, right: str, wrong: str):
    """The fused road of ``kind`` runs a copy of its backward with ``right`` replaced by ``wrong``:
    the layers look their backward up in ``bptt.CELL_KINDS``, so the copy goes there. "lstm_proj"
    is the LSTM's ``projected`` variant: its copy goes into a copy of the LSTM's row."""
    name = "lstm" if kind == "lstm_proj" else kind
    original = bptt.CELL_KINDS[name]
    if kind == "lstm_proj":
        projected = original.projected
        planted = dataclasses.replace(projected, backward=_planted(projected.backward, wrong, right))
        bptt.CELL_KINDS[name] = dataclasses.replace(original, projected=planted)
    else:
        bptt.CELL_KINDS[name] = dataclasses.replace(original, backward=_planted(original.backward, wrong, right))
    try:
        yield
    finally:
        bptt.CELL_KINDS[name] = original


# The unmasked walk (no ``lengths``), where _plus_carried(None, cell's part, ...) is the cell's part alone.
PLANTED_BUGS = {
    # drop the forget gate's contribution to the cell gradient: dc_{t-1} = dc_t ⊙ f
    "lstm: no forget-gate term in dc_{t-1}": (
        "lstm", "dc = _plus_carried(k, d_c_new * f[t], dc)", "dc = _plus_carried(k, 0 * d_c_new, dc)"),
    "lstm: dc_{t-1} without the forget-gate factor": (
        "lstm", "dc = _plus_carried(k, d_c_new * f[t], dc)", "dc = _plus_carried(k, d_c_new, dc)"),
    "gru: no direct z ⊙ h_{t-1} path": ("gru", "d_hidden_projection[t] @ w_hh + d_h_new * z[t]",
                                        "d_hidden_projection[t] @ w_hh"),
    "rnn: tanh' as 1 - tanh": ("rnn_tanh", "1 - activated * activated", "1 - activated"),
}


@pytest.mark.parametrize("bug", sorted(PLANTED_BUGS))
@settings(max_examples=max(3, settings.default.max_examples // 3))
@given(case=cases(max_steps=6))
def test_planted_bug_is_caught(bug, case):
    case.kind, right, wrong = PLANTED_BUGS[bug]
    case.steps, case.lengths, case.with_initial_state = max(case.steps, 3), None, True
    with _backward_planted(case.kind, right, wrong), pytest.raises(AssertionError):
        check_three_way(case)


# The projected LSTM's own lines: the projection's place in δ(o ⊙ tanh c_t), δc_t and dW_hr.
PLANTED_PROJECTION_BUGS = {
    # the projection dropped from δh_t's way back into the cell: δ(o ⊙ tanh c_t) = δh_t 1 (W_hr all ones)
    "lstm_proj: δ(o ⊙ tanh c_t) without W_hr": ("d_h_new @ w_hr", "d_h_new @ xp.ones_like(w_hr)"),
    # δc_t forgets that h_t = (o ⊙ tanh c_t) W_hrᵀ also depends on c_t: only the carried cell gradient
    "lstm_proj: δc_t without the path from h_t": (
        "d_c_new = _masked(k, dc) + d_cell_out * through_c[t]", "d_c_new = _masked(k, dc) + 0 * through_c[t]"),
    # only the output gate's gradient misses the projection (δh_t summed over its P features instead)
    "lstm_proj: da_o without the projection": (
        "da[:, 3 * hidden :] *= d_cell_out", "da[:, 3 * hidden :] *= d_h_new.sum(axis=1, keepdims=True)"),
    # dW_hr = Σ_t δh_tᵀ tanh(c_t), missing the output gate
    "lstm_proj: dW_hr without o": (
        "@ cell_out.reshape(steps * batch, -1)", "@ cache.tanh_c.reshape(steps * batch, -1)"),
}


@pytest.mark.parametrize("bug", sorted(PLANTED_PROJECTION_BUGS))
@settings(max_examples=max(3, settings.default.max_examples // 3))
@given(case=cases(max_steps=6, projected=True))
def test_planted_bug_is_caught_in_the_projected_lstm(bug, case):
    right, wrong = PLANTED_PROJECTION_BUGS[bug]
    case.steps, case.lengths, case.with_initial_state = max(case.steps, 3), None, True
    with _backward_planted("lstm_proj", right, wrong), pytest.raises(AssertionError):
        check_three_way(case)


@pytest.mark.parametrize(("kind", "line", "case"), [
    ("lstm", "dc = _plus_carried(k, d_c_new * f[t], dc)", Case("lstm", 2, 3, 5, 2, 1, False, True, None, True, 0)),
    ("lstm_proj", "dc = _plus_carried(k, d_c_new * f[t], dc)",
     Case("lstm", 2, 3, 5, 2, 2, True, True, None, True, 0, proj_size=2)),
])
def test_the_unplanted_copy_passes(kind, line, case):
    """The copying machinery itself changes nothing: an identical copy passes."""
    with _backward_planted(kind, line, line):
        check_three_way(case)


# ---------------------------------------------------------------- road behaviour
@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_truncated_bptt_is_the_same_on_both_roads(kind):
    """Carrying h_n.detach() from one chunk into the next: same outputs and gradients per chunk."""
    case = Case(kind, 2, 3, 12, 2, 1, False, False, None, True, 3)
    x = np.random.default_rng(0).standard_normal((12, 2, 2))
    per_road = {}
    for impl in ("composed", "fused"):
        layer = make_layer(case, impl)
        state, outputs = None, []
        for chunk in (x[:5], x[5:]):
            out, final = layer(tr.tensor(chunk), state)
            (out * out).sum().backward()
            outputs.append(out.numpy())
            state = tuple(s.detach() for s in final) if kind == "lstm" else final.detach()
        per_road[impl] = (np.concatenate(outputs), {n: p.grad.numpy() for n, p in layer.named_parameters()})
    np.testing.assert_allclose(per_road["fused"][0], per_road["composed"][0], rtol=1e-10)
    for name, grad in per_road["composed"][1].items():
        np.testing.assert_allclose(per_road["fused"][1][name], grad, rtol=1e-8, atol=1e-12, err_msg=name)


def test_fused_road_refuses_create_graph_with_a_clear_error():
    layer = nn.GRU(2, 3, dtype=tr.float64)
    x = tr.randn(4, 1, 2, dtype=tr.float64, requires_grad=True)
    out, _ = layer(x)
    with pytest.raises(RuntimeError, match="impl='composed'"):
        tr.grad(out.sum(), [x], create_graph=True)
    composed = nn.GRU(2, 3, dtype=tr.float64, impl="composed")
    (gx,) = tr.grad(composed(x)[0].sum(), [x], create_graph=True)  # the composed road supports it
    assert gx.requires_grad


def test_impl_is_validated():
    with pytest.raises(ValueError, match="impl"):
        nn.LSTM(2, 3, impl="cudnn")


@pytest.mark.parametrize(("kind", "proj_size"), [(kind, 0) for kind in sorted(LAYERS)] + [("lstm", 2)])
def test_fused_backward_with_unused_and_dropped_final_state(kind, proj_size):
    """A decoder that ignores h_n (and c_n) and drops them before backward still gets gradients
    (zeros of the right shapes stand in for them: h_n has proj_size features when projecting)."""
    case = Case(kind, 2, 3, 4, 2, 2, True, False, None, True, 0, proj_size=proj_size)
    fused, composed = make_layer(case, "fused"), make_layer(case, "composed")
    x = np.random.default_rng(0).standard_normal((4, 2, 2))
    grads = []
    for layer in (fused, composed):
        out, _ = layer(tr.tensor(x))  # the final state is dropped at once
        (out * out).sum().backward()
        grads.append({n: p.grad.numpy() for n, p in layer.named_parameters()})
    for name in grads[1]:
        np.testing.assert_allclose(grads[0][name], grads[1][name], rtol=1e-8, atol=1e-12, err_msg=name)
