"""The autograd engine: the graph shapes, modes and failure cases that broke earlier
autograd projects (see docs/architecture.md, "The backward pass"). Every test asserts exact
gradient values (or the exact error), so a plausible engine bug makes it fail."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import tinygrad_rnn as tr
from tests.helpers import assert_close

F64 = tr.float64


def leaf(values, dtype=F64):
    """A float64 leaf tensor that requires grad."""
    return tr.tensor(values, dtype=dtype, requires_grad=True)


def np_of(tensor) -> np.ndarray:
    return tensor.numpy()


# ---------------------------------------------------------------- graph shapes
def test_diamond_sums_both_paths():
    x = leaf([1.5, -2.0, 0.25])
    y = x * 2
    z = y * y + y * 3  # y feeds two ops: dz/dy = 2y + 3, dz/dx = 2 (2y + 3) = 8x + 6
    z.sum().backward()
    assert_close(x.grad, 8 * np.array([1.5, -2.0, 0.25]) + 6, atol=1e-12, rtol=1e-12)


def test_diamond_with_unequal_path_lengths_runs_shared_node_once_with_complete_gradient():
    # y reaches the output directly and through a long detour; a walk that runs y's node
    # before the detour has delivered its share would lose (or double-count) a path.
    x = leaf([0.5, -1.0])
    y = x * 3
    calls = []
    y.register_hook(lambda g: calls.append(np_of(g).copy()))
    detour = y
    for _ in range(7):
        detour = detour * 1.0 + 0.0
    (y + detour * 2).sum().backward()
    assert len(calls) == 1, f"the hook of y ran {len(calls)} times; its node must run once"
    assert_close(calls[0], [3.0, 3.0], atol=1e-12, rtol=1e-12)  # 1 (direct) + 2 (detour)
    assert_close(x.grad, [9.0, 9.0], atol=1e-12, rtol=1e-12)


def test_fan_out_one_tensor_used_by_many_ops():
    values = np.array([0.3, -1.2, 2.0])
    x = leaf(values)
    total = x.exp().sum() + (x * 3).sum() + x.tanh().sum() + x.sum() + (x**2).sum() + (x / 4).sum()
    total.backward()
    expected = np.exp(values) + 3 + (1 - np.tanh(values) ** 2) + 1 + 2 * values + 0.25
    assert_close(x.grad, expected, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize(
    "fn, derivative",
    [
        (lambda x: x * x, lambda v: 2 * v),
        (lambda x: x + x, lambda v: np.full_like(v, 2.0)),
        (lambda x: x - x, lambda v: np.zeros_like(v)),  # overwriting instead of adding gives ±1
        (lambda x: x / x, lambda v: np.zeros_like(v)),
        (lambda x: x * x * x, lambda v: 3 * v**2),
        (lambda x: x.maximum(x * 0.5), lambda v: np.where(v > 0, 1.0, 0.5)),
    ],
    ids=["x*x", "x+x", "x-x", "x/x", "x*x*x", "max(x,x/2)"],
)
def test_reuse_of_one_tensor_twice_in_one_op(fn, derivative):
    values = np.array([1.5, -0.5, 2.5])
    x = leaf(values)
    fn(x).sum().backward()
    assert_close(x.grad, derivative(values), atol=1e-12, rtol=1e-12)


def test_repeated_index_adds_both_gradients():
    x = leaf([1.0, 2.0, 3.0])
    x[[0, 0, 2]].sum().backward()
    assert_close(x.grad, [2.0, 0.0, 1.0], atol=0, rtol=0)


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, -2.0])
    (x * 2).sum().backward()
    assert_close(x.grad, [2.0, 2.0], atol=0, rtol=0)
    (x * x).sum().backward()  # adds 2x
    assert_close(x.grad, [4.0, -2.0], atol=0, rtol=0)
    x.grad = None
    (x * 5).sum().backward()  # starts afresh after the user clears it
    assert_close(x.grad, [5.0, 5.0], atol=0, rtol=0)


def test_an_existing_grad_is_added_into_in_place_as_pytorch():
    # PyTorch's AccumulateGrad: outside create_graph, grad += new, so a reference to p.grad sees the sum
    x = leaf([1.0, -2.0])
    (x * 2).sum().backward()
    held, version = x.grad, x.grad._version
    (x * 3).sum().backward()
    assert x.grad is held and held._version == version + 1
    assert_close(held, [5.0, 5.0], atol=0, rtol=0)
    # under create_graph the sum is an op of the graph, a new tensor
    (x * x).sum().backward(create_graph=True)
    assert x.grad is not held and x.grad.grad_fn is not None
    assert_close(x.grad, [7.0, 1.0], atol=0, rtol=0)
    # a .grad of another dtype (set by the user) is not written into: the sum is a new tensor
    x.grad = tr.tensor([1.0, 1.0], dtype=tr.float32)
    (x * 2).sum().backward()
    assert x.grad.dtype == tr.float64 and x.grad.tolist() == [3.0, 3.0]


def test_in_place_sums_on_every_device(each_device):
    # a weight used at many steps (its sum made once, then added into) and a .grad added into
    w = tr.tensor([1.0, 2.0], requires_grad=True)
    h = tr.tensor([0.5, -1.0])
    for _ in range(4):
        h = h * w
    h.sum().backward()
    first = w.grad
    h = tr.tensor([0.5, -1.0])
    for _ in range(4):
        h = h * w
    h.sum().backward()
    assert w.grad is first and w.grad.device == tr.tensor(0.0).device
    # d/dw of Σ h0 w^4 = 4 h0 w^3, twice
    assert_close(w.grad.cpu(), 2 * 4 * np.array([0.5, -1.0]) * np.array([1.0, 2.0]) ** 3, atol=1e-5, rtol=1e-5)


def test_torch_holds_an_existing_grad_in_place_too():
    torch = pytest.importorskip("torch")
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    (x * 2).sum().backward()
    held = x.grad
    (x * 3).sum().backward()
    assert x.grad is held and held.tolist() == [5.0, 5.0]


def test_a_leaf_used_many_times_sums_its_gradients_without_touching_shared_ones():
    # Add's backward hands one tensor to both inputs; the engine sums a's many gradients in an
    # array of its own, which must never be that shared tensor (b's gradient would change too).
    # The deeper use of a is walked first, so a's first gradient is the tensor it shares with b.
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    total = (a + b) + (a * 3).exp().log()
    total.sum().backward()
    assert_close(a.grad, [4.0, 4.0], atol=1e-12, rtol=0)  # 1 + 3
    assert_close(b.grad, [1.0, 1.0], atol=0, rtol=0)
    # the same for a tensor made by an op (its node sums what its uses send)
    a.grad = b.grad = None
    m = a * 2
    ((m + b) + (m * 3).exp().log()).sum().backward()
    assert_close(a.grad, [8.0, 8.0], atol=1e-12, rtol=0)  # 2 (1 + 3)
    assert_close(b.grad, [1.0, 1.0], atol=0, rtol=0)
    # a sum the engine made is its own only until its node runs: Add hands it on to both inputs here
    a.grad = b.grad = None
    p = a * 1 + b
    ((p + p) + b * 7).sum().backward()
    assert_close(a.grad, [2.0, 2.0], atol=0, rtol=0)
    assert_close(b.grad, [9.0, 9.0], atol=0, rtol=0)
    # many uses: the third and later gradients go into the engine's own array, in place
    a.grad = b.grad = None
    total = a * 1
    for k in range(2, 6):
        total = total + a * k
    total.sum().backward()
    assert_close(a.grad, [15.0, 15.0], atol=0, rtol=0)
    # and a gradient received once (here b's, shared with the sum's) is copied into .grad
    a.grad = b.grad = None
    (a + b).sum().backward()
    a.grad += 1
    assert_close(b.grad, [1.0, 1.0], atol=0, rtol=0)


def test_the_version_is_an_int_shared_by_views_as_pytorch():
    x = leaf([1.0, 2.0, 3.0]).detach()
    view, alias = x[1:], x.detach()
    assert x._version == view._version == alias._version == 0
    view.mul_(2.0)
    assert x._version == view._version == alias._version == 1
    x.add_(1.0)
    assert (x._version, view._version, alias._version) == (2, 2, 2)
    assert x.clone()._version == 0


def test_leaf_gradient_owns_its_memory():
    # Add's backward passes the upstream gradient straight through; the leaf must get a
    # copy, or changing the upstream tensor (or zeroing .grad) would corrupt the other.
    x = leaf([1.0, 2.0, 3.0])
    upstream = tr.tensor([0.5, -1.0, 2.0], dtype=F64)
    (x + 0.0).backward(upstream)
    upstream.array[...] = 100.0
    assert_close(x.grad, [0.5, -1.0, 2.0], atol=0, rtol=0)
    x.grad.zero_()
    assert_close(upstream, [100.0, 100.0, 100.0], atol=0, rtol=0)


def test_backward_twice_on_freed_graph_raises_naming_retain_graph():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()
    assert_close(x.grad, [2.0, 4.0], atol=0, rtol=0)  # the failed call added nothing


def test_retain_graph_allows_a_second_backward_that_doubles_the_gradient():
    values = np.array([0.5, -1.5])
    x = leaf(values)
    loss = (x.tanh() * x).sum()
    loss.backward(retain_graph=True)
    first = np_of(x.grad).copy()
    expected = np.tanh(values) + values * (1 - np.tanh(values) ** 2)
    assert_close(first, expected, atol=1e-12, rtol=1e-12)
    loss.backward()
    assert_close(x.grad, 2 * expected, atol=1e-12, rtol=1e-12)
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()  # the second call did not retain it


def test_chain_of_100000_ops_has_no_recursion_error():
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**100_000, rel=1e-9)


# ---------------------------------------------------------------- recurrences
def tanh_rnn_numpy(xs, W, b, h0, us):
    """Forward and hand-written BPTT of h_t = tanh(x_t + h_{t-1} W + b), L = Σ_t Σ u_t ⊙ h_t.

    Returns dL/dW, dL/db, dL/dh0 and dL/dh_t (the total gradient reaching each h_t)."""
    T = xs.shape[0]
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(xs[t] + hs[-1] @ W + b))
    dW, db = np.zeros_like(W), np.zeros_like(b)
    dh_total = [None] * T
    carry = np.zeros_like(h0)  # dL/dh_t from step t+1
    for t in reversed(range(T)):
        dh = us[t] + carry
        dh_total[t] = dh
        da = dh * (1 - hs[t + 1] ** 2)
        dW += hs[t].T @ da
        db += da.sum(0)
        carry = da @ W.T
    return dW, db, carry, dh_total


def test_unrolled_10000_step_tanh_recurrence_matches_hand_written_bptt():
    rng = np.random.default_rng(1)
    T, B, H = 10_000, 2, 3
    xs = rng.standard_normal((T, B, H)) * 0.5
    us = rng.standard_normal((T, B, H))
    W0 = rng.standard_normal((H, H)) * 0.4
    b0 = rng.standard_normal(H) * 0.1
    h00 = rng.standard_normal((B, H))
    x = tr.tensor(xs)
    u = tr.tensor(us)
    W, b, h0 = leaf(W0), leaf(b0), leaf(h00)
    h, loss = h0, None
    for t in range(T):
        h = (x[t] + h @ W + b).tanh()
        term = (h * u[t]).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    dW, db, dh0, _ = tanh_rnn_numpy(xs, W0, b0, h00, us)
    assert W.grad.shape == (H, H) and b.grad.shape == (H,) and h0.grad.shape == (B, H)
    assert np.all(np.isfinite(np_of(W.grad))) and np.abs(np_of(W.grad)).max() > 1e-3
    assert_close(W.grad, dW, atol=1e-9, rtol=1e-9)
    assert_close(b.grad, db, atol=1e-9, rtol=1e-9)
    assert_close(h0.grad, dh0, atol=1e-9, rtol=1e-9)


def test_per_time_step_hooks_in_a_recurrence_see_each_steps_gradient():
    rng = np.random.default_rng(2)
    T, B, H = 6, 2, 3
    xs, us = rng.standard_normal((T, B, H)), rng.standard_normal((T, B, H))
    W0, b0, h00 = rng.standard_normal((H, H)) * 0.5, rng.standard_normal(H), np.zeros((B, H))
    W, b = leaf(W0), leaf(b0)
    h, loss, seen = tr.tensor(h00), None, {}
    for t in range(T):
        h = (tr.tensor(xs[t]) + h @ W + b).tanh()
        h.register_hook(lambda g, t=t: seen.setdefault(t, []).append(np_of(g).copy()))
        term = (h * tr.tensor(us[t])).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    _, _, _, dh_total = tanh_rnn_numpy(xs, W0, b0, h00, us)
    assert sorted(seen) == list(range(T))
    for t in range(T):
        assert len(seen[t]) == 1, f"hook of step {t} ran {len(seen[t])} times"
        assert_close(seen[t][0], dh_total[t], atol=1e-12, rtol=1e-10, what=f"dL/dh_{t}")


# ---------------------------------------------------------------- retain_grad and hooks
def test_retain_grad_keeps_gradient_of_a_non_leaf():
    values = np.array([1.0, -3.0])
    x = leaf(values)
    y = x * 2
    y.retain_grad()
    other = x * 5  # not retained
    ((y * y).sum() + other.sum()).backward()
    assert_close(y.grad, 2 * (2 * values), atol=0, rtol=0)  # d(y²)/dy = 2y
    assert_close(x.grad, 8 * values + 5, atol=0, rtol=0)
    assert other.grad is None
    assert y.grad.grad_fn is None and not y.grad.requires_grad


def test_retain_grad_accumulates_across_backward_passes():
    x = leaf(np.array([1.0, -3.0]))
    y = x * 2
    y.retain_grad()
    loss = y.sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert_close(y.grad, [2.0, 2.0], atol=0, rtol=0)  # accumulated as PyTorch does, not overwritten
    assert_close(x.grad, [4.0, 4.0], atol=0, rtol=0)


def test_register_hook_sees_the_gradient():
    values = np.array([1.0, 2.0])
    x = leaf(values)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(np_of(g).copy()))
    (y * y).sum().backward()
    assert len(seen) == 1
    assert_close(seen[0], 2 * 3 * values, atol=0, rtol=0)
    assert_close(x.grad, 18 * values, atol=0, rtol=0)


def test_hook_can_replace_the_gradient_of_a_non_leaf_and_of_a_leaf():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert_close(x.grad, [30.0, 30.0], atol=0, rtol=0)

    z = leaf([1.0, 2.0])
    z.register_hook(lambda g: g * -1)
    (z * z).sum().backward()
    assert_close(z.grad, [-2.0, -4.0], atol=0, rtol=0)


def test_hooks_chain_in_registration_order():
    x = leaf([1.0])
    y = x * 1.0
    seen = []
    y.register_hook(lambda g: g + 1)
    y.register_hook(lambda g: seen.append(g.item()))
    y.register_hook(lambda g: g * 3)
    y.sum().backward()
    assert seen == [2.0]  # the second hook sees the first one's replacement
    assert_close(x.grad, [6.0], atol=0, rtol=0)


def test_hook_handle_remove_takes_the_hook_off():
    x = leaf([1.0, 2.0])
    calls = []

    def hook(g):
        calls.append(1)
        return g * 100

    handle = x.register_hook(hook)
    (x * 2).sum().backward()
    assert calls == [1]
    assert_close(x.grad, [200.0, 200.0], atol=0, rtol=0)
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert calls == [1]
    assert_close(x.grad, [2.0, 2.0], atol=0, rtol=0)


def test_register_hook_and_retain_grad_need_requires_grad():
    t = tr.tensor([1.0])
    with pytest.raises(RuntimeError):
        t.register_hook(lambda g: g)
    with pytest.raises(RuntimeError):
        t.retain_grad()


# ---------------------------------------------------------------- grad mode
def test_no_grad_records_no_graph_and_enable_grad_records_again():
    x = leaf([1.0, 2.0])
    with tr.no_grad():
        assert not tr.is_grad_enabled()
        y = x * 2
        with tr.enable_grad():
            assert tr.is_grad_enabled()
            z = x * 2
        assert not tr.is_grad_enabled()
    assert tr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    with pytest.raises(RuntimeError):
        y.sum().backward()


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(KeyError):
        with tr.no_grad():
            raise KeyError("boom")
    assert tr.is_grad_enabled()


def test_set_grad_enabled_as_call_and_as_context():
    x = leaf([1.0])
    try:
        tr.set_grad_enabled(False)
        assert not tr.is_grad_enabled()
        assert (x * 2).grad_fn is None
        tr.set_grad_enabled(True)
        assert tr.is_grad_enabled()
        with tr.set_grad_enabled(False):
            assert not tr.is_grad_enabled()
            assert (x * 2).grad_fn is None
        assert tr.is_grad_enabled()
        with tr.no_grad(), tr.set_grad_enabled(True):
            assert (x * 2).grad_fn is not None
    finally:
        tr.set_grad_enabled(True)


def test_no_grad_and_enable_grad_as_decorators():
    x = leaf([1.0, 2.0])

    @tr.no_grad()
    def frozen(t):
        assert not tr.is_grad_enabled()
        return t * 2

    @tr.enable_grad()
    def recorded(t):
        return t * 2

    assert tr.is_grad_enabled()
    assert frozen(x).grad_fn is None
    assert tr.is_grad_enabled()  # restored after the call
    with tr.no_grad():
        out = recorded(x)
        assert not tr.is_grad_enabled()
    assert out.grad_fn is not None
    out.sum().backward()
    assert_close(x.grad, [2.0, 2.0], atol=0, rtol=0)


def test_set_grad_enabled_as_decorator_does_not_change_the_mode_outside():
    x = leaf([1.0, 2.0])
    try:

        @tr.set_grad_enabled(False)
        def frozen(t):
            return t * 2

        # decorating must not switch grad mode off for the rest of the program
        assert tr.is_grad_enabled()
        assert (x * 2).grad_fn is not None
        assert frozen(x).grad_fn is None
        assert tr.is_grad_enabled()
    finally:
        tr.set_grad_enabled(True)


def _run_in_thread(target):
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_no_grad_in_one_thread_does_not_affect_another():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with tr.no_grad():
            seen["worker enabled inside no_grad"] = tr.is_grad_enabled()
            inside.set()
            release.wait(10)  # stay inside no_grad while the main thread works
            seen["worker op recorded"] = (tr.ones(2, requires_grad=True) * 2).grad_fn is not None

    thread = _run_in_thread(worker)
    try:
        assert inside.wait(10)
        assert tr.is_grad_enabled()
        x = leaf([1.0, 2.0])
        y = x * 3
        assert y.grad_fn is not None
        y.sum().backward()
        assert_close(x.grad, [3.0, 3.0], atol=0, rtol=0)
    finally:
        release.set()
        thread.join(10)
    assert seen == {"worker enabled inside no_grad": False, "worker op recorded": False}


def test_a_new_thread_records_graphs_while_main_thread_is_in_no_grad():
    seen = {}
    done = threading.Event()

    def worker():
        seen["enabled"] = tr.is_grad_enabled()
        x = tr.ones(2, requires_grad=True)
        y = (x * 4).sum()
        y.backward()
        seen["grad"] = x.grad.tolist()
        done.set()

    with tr.no_grad():
        thread = _run_in_thread(worker)
        assert done.wait(10)
        assert not tr.is_grad_enabled()
    thread.join(10)
    assert seen == {"enabled": True, "grad": [4.0, 4.0]}


# ---------------------------------------------------------------- detach, requires_grad_
def test_detach_stops_gradients_and_shares_data():
    values = np.array([1.0, 2.0])
    x = leaf(values)
    y = x * 2
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad
    assert np.shares_memory(np_of(d), np_of(y))
    (d * x).sum().backward()  # only the direct path to x: d/dx (d·x) = d = 2x
    assert_close(x.grad, 2 * values, atol=0, rtol=0)


def test_requires_grad_underscore_starts_recording():
    t = tr.tensor([1.0, 2.0], dtype=F64)
    assert not t.requires_grad
    assert (t * 2).grad_fn is None
    assert t.requires_grad_() is t
    assert t.requires_grad and t.is_leaf
    (t * 3).sum().backward()
    assert_close(t.grad, [3.0, 3.0], atol=0, rtol=0)
    t.requires_grad_(False)
    assert (t * 2).grad_fn is None


def test_requires_grad_false_on_non_leaf_raises():
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


@pytest.mark.parametrize("dtype", [tr.int64, tr.int32, tr.bool])
def test_requires_grad_on_non_float_tensor_raises(dtype):
    with pytest.raises(RuntimeError, match="floating"):
        tr.tensor([1, 0], dtype=dtype, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating"):
        tr.tensor([1, 0], dtype=dtype).requires_grad_()
    with pytest.raises(RuntimeError, match="floating"):
        tr.zeros(2, dtype=dtype, requires_grad=True)


# ---------------------------------------------------------------- tr.grad
def test_grad_returns_gradients_without_touching_dot_grad():
    values = np.array([1.0, -2.0])
    x, w = leaf(values), leaf([3.0, 4.0])
    gx, gw = tr.grad((x * x * w).sum(), [x, w])
    assert_close(gx, 2 * values * np.array([3.0, 4.0]), atol=0, rtol=0)
    assert_close(gw, values**2, atol=0, rtol=0)
    assert x.grad is None and w.grad is None

    (x * 7).sum().backward()
    before = np_of(x.grad).copy()
    (g,) = tr.grad((x * x).sum(), x)
    assert_close(g, 2 * values, atol=0, rtol=0)
    assert_close(x.grad, before, atol=0, rtol=0)  # not accumulated into


def test_grad_of_a_single_tensor_input_returns_a_tuple():
    x = leaf([1.0, 2.0])
    result = tr.grad((x * 3).sum(), x)
    assert isinstance(result, tuple) and len(result) == 1
    assert_close(result[0], [3.0, 3.0], atol=0, rtol=0)


def test_grad_with_grad_outputs_weights_a_non_scalar_output():
    values = np.array([1.0, 2.0, 3.0])
    x = leaf(values)
    v = tr.tensor([0.5, -1.0, 2.0], dtype=F64)
    (g,) = tr.grad(x * x, x, grad_outputs=v)
    assert_close(g, 2 * values * np.array([0.5, -1.0, 2.0]), atol=0, rtol=0)
    with pytest.raises(RuntimeError, match=r"\(3,\)"):
        tr.grad(leaf(values) * 2, x)


def test_grad_with_respect_to_an_intermediate():
    x = leaf([1.0, 2.0])
    y = x * 3
    gy, gx = tr.grad((y * y).sum(), [y, x])
    assert_close(gy, [6.0, 12.0], atol=0, rtol=0)
    assert_close(gx, [18.0, 36.0], atol=0, rtol=0)


def test_grad_allow_unused_gives_none_and_otherwise_raises_naming_the_input():
    x, unused = leaf([1.0, 2.0]), leaf([5.0, 6.0, 7.0])
    gx, gu = tr.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert_close(gx, [2.0, 2.0], atol=0, rtol=0)
    assert gu is None
    with pytest.raises(RuntimeError, match=r"inputs\[1\].*\(3,\).*allow_unused"):
        tr.grad((x * 2).sum(), [x, unused])


def test_grad_names_an_input_that_does_not_require_grad():
    x, constant = leaf([1.0, 2.0]), tr.tensor([3.0, 4.0, 5.0], dtype=F64)
    with pytest.raises(RuntimeError, match=r"inputs\[1\].*\(3,\).*does not require grad"):
        tr.grad((x * 2).sum(), [x, constant])


def test_grad_frees_the_graph_unless_retained():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    tr.grad(loss, x, retain_graph=True)
    (g,) = tr.grad(loss, x)
    assert_close(g, [2.0, 4.0], atol=0, rtol=0)
    with pytest.raises(RuntimeError, match="retain_graph"):
        tr.grad(loss, x)


# ---------------------------------------------------------------- higher order
def test_second_and_third_derivative_of_cube():
    values = np.array([1.0, -2.0, 0.5])
    x = leaf(values)
    (g,) = tr.grad((x**3).sum(), x, create_graph=True)
    assert g.requires_grad
    assert_close(g, 3 * values**2, atol=1e-12, rtol=1e-12)
    (h,) = tr.grad(g.sum(), x, create_graph=True)
    assert_close(h, 6 * values, atol=1e-12, rtol=1e-12)
    (k,) = tr.grad(h.sum(), x)
    assert_close(k, np.full(3, 6.0), atol=1e-12, rtol=1e-12)


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


@pytest.mark.parametrize(
    "name, second",
    [
        ("tanh", lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)),
        ("sigmoid", lambda v: _sigmoid(v) * (1 - _sigmoid(v)) * (1 - 2 * _sigmoid(v))),
        ("exp", np.exp),
    ],
)
def test_second_derivative_of_elementwise_functions(name, second):
    values = np.array([-1.3, -0.2, 0.4, 2.1])
    x = leaf(values)
    (g,) = tr.grad(getattr(x, name)().sum(), x, create_graph=True)
    (h,) = tr.grad(g.sum(), x)
    assert_close(h, second(values), atol=1e-12, rtol=1e-10)


def test_backward_with_create_graph_gives_differentiable_dot_grad():
    values = np.array([1.0, 2.0])
    x = leaf(values)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (h,) = tr.grad(x.grad.sum(), x)
    assert_close(h, 6 * values, atol=1e-12, rtol=1e-12)


def test_hessian_vector_product():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((4, 4))
    values, v = rng.standard_normal(4), rng.standard_normal(4)
    x = leaf(values)
    f = x @ tr.tensor(A) @ x + (x**3).sum()  # H = A + Aᵀ + diag(6x)
    (g,) = tr.grad(f, x, create_graph=True)
    assert_close(g, (A + A.T) @ values + 3 * values**2, atol=1e-12, rtol=1e-10)
    (hv,) = tr.grad((g * tr.tensor(v)).sum(), x)
    hessian = A + A.T + np.diag(6 * values)
    assert_close(hv, hessian @ v, atol=1e-12, rtol=1e-10)


# ---------------------------------------------------------------- memory
def test_graph_dies_with_the_loss_without_the_cycle_collector():
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        h = x * 2
        ref = weakref.ref(h.grad_fn)
        loss = (h.tanh() * h).sum()
        del h
        assert ref() is not None  # the loss keeps the graph alive
        del loss
        assert ref() is None, "the graph outlived its loss: a reference cycle or a global keeps it"

        h = x * 2
        ref = weakref.ref(h.grad_fn)
        loss = (h * h).sum()
        del h
        loss.backward()
        del loss
        assert ref() is None
    finally:
        gc.enable()


def _live_functions() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, tr.Function))


def test_training_loop_does_not_grow_the_number_of_live_nodes():
    rng = np.random.default_rng(4)
    inputs = tr.tensor(rng.standard_normal((8, 3)))
    targets = tr.tensor(rng.standard_normal((8, 2)))
    W = leaf(rng.standard_normal((3, 2)) * 0.1)
    b = leaf(np.zeros(2))

    def step():
        loss = (((inputs @ W + b).tanh() - targets) ** 2).mean()
        loss.backward()
        with tr.no_grad():
            W.copy_(W - W.grad * 0.1)
            b.copy_(b - b.grad * 0.1)
        W.grad = b.grad = None
        validation = ((inputs @ W + b).tanh() - targets).abs().mean()  # graph built, never used
        return loss.item(), validation

    baseline = _live_functions()
    first_loss, validation = step()
    assert _live_functions() > baseline  # the counter sees a graph that is alive
    del validation
    for _ in range(20):
        step()
    settled = _live_functions()
    for _ in range(180):
        last_loss = step()[0]
    assert _live_functions() == settled, "live Function objects grew over 180 training steps"
    assert settled == baseline
    assert last_loss < first_loss  # the loop did train


# ---------------------------------------------------------------- errors
def test_backward_on_non_scalar_without_gradient_names_the_shape():
    y = leaf(np.ones((2, 3))) * 2
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        y.backward()


def test_backward_on_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (tr.ones(3) * 2).sum().backward()


def test_gradient_of_wrong_shape_names_both_shapes():
    x = leaf(np.ones((2, 3)))
    y = x * 2
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        y.backward(tr.ones(3, 2, dtype=F64))
    y.backward(tr.ones(2, 3, dtype=F64))  # the graph was left intact by the failed call
    assert_close(x.grad, np.full((2, 3), 2.0), atol=0, rtol=0)


def test_gradient_argument_may_be_a_list_and_takes_the_outputs_dtype():
    x = leaf([1.0, 2.0])
    (x * 3).backward([1, 2])
    assert x.grad.dtype == F64
    assert_close(x.grad, [3.0, 6.0], atol=0, rtol=0)


# An in-place write to a tensor that backward needs must never give a silently wrong
# gradient. A recorded non-leaf may be refused at the write itself, or the write may be
# allowed and caught at backward by the version counter; both are safe, so the tests
# that write to a recorded non-leaf with grad mode on accept either. Writes under
# no_grad (or to tensors that need no grad) are always allowed: there the version
# counter alone must catch them, at backward.
def test_in_place_setitem_on_a_saved_non_leaf_is_refused_or_caught_at_backward():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    z = y * y  # saves y
    with pytest.raises(RuntimeError, match="in place"):
        y[0] = 5.0
        z.sum().backward()
    assert x.grad is None


def test_in_place_setitem_under_no_grad_on_a_saved_non_leaf_raises_at_backward():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    z = y * y  # saves y
    with tr.no_grad():
        y[0] = 5.0  # allowed now ...
    with pytest.raises(RuntimeError, match=r"in place.*version"):
        z.sum().backward()  # ... caught when the stale value would be used


@pytest.mark.parametrize(
    "mutate",
    [lambda t: t.copy_(tr.tensor([9.0, 9.0], dtype=F64)), lambda t: t.fill_(3.0), lambda t: t.zero_()],
    ids=["copy_", "fill_", "zero_"],
)
def test_in_place_method_on_a_saved_constant_raises_at_backward(mutate):
    w = leaf([1.0, 2.0])
    a = tr.tensor([3.0, 4.0], dtype=F64)  # no grad, but Mul's backward needs it for w
    y = (w * a).sum()
    mutate(a)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()
    assert w.grad is None


def test_in_place_change_before_use_is_fine():
    w = leaf([1.0, 2.0])
    a = tr.tensor([3.0, 4.0], dtype=F64)
    a[0] = 10.0  # before any op saved it
    (w * a).sum().backward()
    assert_close(w.grad, [10.0, 4.0], atol=0, rtol=0)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "sqrt"])
def test_in_place_change_of_a_saved_output_is_refused_or_caught(name):
    # These ops' backward reads their own output; changing it in place must be caught
    # (as for inputs), never silently give a wrong gradient.
    x = leaf([0.5, 2.0])
    y = getattr(x, name)()
    with pytest.raises(RuntimeError, match="in place"):
        y[0] = 5.0
        y.backward(tr.ones(2, dtype=F64))  # no consumer saved y: only the op's own check can see it
    assert x.grad is None


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "sqrt"])
def test_in_place_change_of_a_saved_output_under_no_grad_raises_at_backward(name):
    x = leaf([0.5, 2.0])
    y = getattr(x, name)()
    with tr.no_grad():
        y[0] = 5.0
    with pytest.raises(RuntimeError, match="in place"):
        y.backward(tr.ones(2, dtype=F64))  # no consumer saved y: only the op's own check can see it
    assert x.grad is None


def test_in_place_write_into_a_non_leaf_before_use_gives_a_correct_gradient_or_raises():
    # After y[0] = 5, element 0 of y no longer depends on x[0]: d/dx0 of Σ y² is 0.
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    try:
        y[0] = 5.0
        (y * y).sum().backward()
    except RuntimeError:
        return  # refusing is acceptable
    assert_close(x.grad, [0.0, 16.0, 24.0], atol=0, rtol=0)


def test_in_place_change_through_a_view_of_a_saved_tensor_is_refused_or_caught():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    z = y * y  # saves y
    view = y[0:2]  # basic indexing: may share y's memory
    assert view.requires_grad and not view.is_leaf
    with pytest.raises(RuntimeError, match="in place"):
        view[0] = 100.0
        z.sum().backward()
    assert x.grad is None


def test_in_place_change_through_a_view_under_no_grad_is_caught_or_harmless():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    z = y * y  # saves y
    view = y[0:2]
    with tr.no_grad():
        view[0] = 100.0
    try:
        z.sum().backward()
    except RuntimeError as error:
        assert "in place" in str(error)
        return
    # no error: then the write must not have reached y (the view was a copy)
    assert y.tolist() == [2.0, 4.0, 6.0]
    assert_close(x.grad, [8.0, 16.0, 24.0], atol=0, rtol=0)


def test_in_place_change_through_detach_of_a_saved_tensor_raises_at_backward():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x  # saves x
    x.detach()[0] = 5.0  # detach shares memory with x (documented), so x changes
    with pytest.raises(RuntimeError, match="in place"):
        y.sum().backward()
    assert x.grad is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.__setitem__(0, 5.0),
        lambda t: t.copy_(tr.tensor([7.0, 8.0], dtype=F64)),
        lambda t: t.fill_(1.0),
        lambda t: t.zero_(),
        lambda t: t.__isub__(tr.tensor([0.5, 0.5], dtype=F64)),
    ],
    ids=["setitem", "copy_", "fill_", "zero_", "-="],
)
def test_in_place_on_a_leaf_requiring_grad_raises_unless_no_grad(mutate):
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="no_grad"):
        mutate(x)
    assert_close(x, [1.0, 2.0], atol=0, rtol=0)  # the refused change did not happen
    with tr.no_grad():
        result = mutate(x)
    assert result is None or result is x  # changed in place, not rebound
    assert not np.array_equal(np_of(x), [1.0, 2.0])
    assert x.is_leaf and x.requires_grad
    (x * 3).sum().backward()  # the leaf is still usable
    assert_close(x.grad, [3.0, 3.0], atol=0, rtol=0)


def test_leaf_changed_under_no_grad_after_use_raises_at_backward():
    # the "optimizer step between forward and backward" bug
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    with tr.no_grad():
        x[0] = 10.0
    with pytest.raises(RuntimeError, match="in place"):
        loss.backward()


def test_mixed_float32_float64_operands():
    a = tr.tensor([1.0, 2.0, 3.0], dtype=tr.float32, requires_grad=True)
    b = tr.tensor([[0.5], [-1.0]], dtype=tr.float64, requires_grad=True)
    out = a * b  # (2, 3), float64 by NumPy's promotion
    assert out.dtype == tr.float64 and out.shape == (2, 3)
    (out * tr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=F64)).sum().backward()
    assert a.grad.dtype == tr.float32 and a.grad.shape == (3,)
    assert b.grad.dtype == tr.float64 and b.grad.shape == (2, 1)
    assert_close(a.grad, [0.5 - 4.0, 1.0 - 5.0, 1.5 - 6.0], atol=1e-6, rtol=1e-6)
    assert_close(b.grad, [[1 + 4 + 9], [4 + 10 + 18]], atol=1e-12, rtol=1e-12)


def test_float32_graph_keeps_float32_gradients_with_python_scalars():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.5 + 1) / 3
    assert y.dtype == tr.float32
    y.sum().backward()
    assert x.grad.dtype == tr.float32
    assert_close(x.grad, [2.5 / 3, 2.5 / 3], atol=1e-6, rtol=1e-6)
