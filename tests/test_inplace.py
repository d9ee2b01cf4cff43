"""In-place writes and item assignment join the graph, as in PyTorch (docs/architecture.md,
"In-place writes"): the tensor keeps its identity and memory, its version is bumped, and its
``grad_fn`` becomes the write's node. Where this framework does not follow PyTorch (writes
through views, stale views) it raises; it never gives a different number.

Each case is checked against numbers worked out by hand, and against PyTorch when installed.
The differential property test at the end draws random programs that mix in-place ops, item
assignment and views, and compares them with PyTorch (or, where PyTorch refuses, with finite
differences of our own forward).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr

try:
    import torch
except ImportError:  # the PyTorch comparisons skip; the hand-computed ones still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def leaf(values, dtype=tr.float64):
    return tr.tensor(values, dtype=dtype, requires_grad=True)


# ---------------------------------------------------------------- the four idioms of the issue
def test_item_assignment_of_a_graph_value_into_a_plain_buffer_carries_the_gradient():
    z = leaf([1.0, 1.0])
    b = tr.zeros(3, 2, dtype=tr.float64)
    b[1] = z * 2
    ((b * 3).sum() + z.sum()).backward()
    np.testing.assert_allclose(z.grad.numpy(), [7.0, 7.0])  # 2 * 3 through b, 1 directly
    assert b.grad_fn is not None and not b.is_leaf


def test_accumulating_into_a_plain_zeros_tensor_joins_the_graph():
    z = leaf([1.0, 2.0])
    acc = tr.zeros(2, dtype=tr.float64)
    keep = acc
    acc += z * z
    acc += z
    assert acc is keep
    acc.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [3.0, 5.0])  # d(z² + z)/dz = 2z + 1


@pytest.mark.parametrize("write", ["+=", "add_", "mul_", "*=", "sub_", "-=", "/=", "div_"])
def test_in_place_arithmetic_keeps_identity_and_memory_and_is_differentiated(write):
    x = leaf([1.0, 2.0, 3.0])
    m = leaf([2.0, 4.0, 8.0])
    y = x * 1
    alias, memory, view = y, y.array, y.detach()
    result = {
        "+=": lambda: y.__iadd__(m), "add_": lambda: y.add_(m), "mul_": lambda: y.mul_(m),
        "*=": lambda: y.__imul__(m), "sub_": lambda: y.sub_(m), "-=": lambda: y.__isub__(m),
        "/=": lambda: y.__itruediv__(m), "div_": lambda: y.div_(m),
    }[write]()
    assert result is y and alias is y and y.array is memory
    op = {"+=": np.add, "add_": np.add, "mul_": np.multiply, "*=": np.multiply, "sub_": np.subtract,
          "-=": np.subtract, "/=": np.divide, "div_": np.divide}[write]
    expected = op([1.0, 2.0, 3.0], [2.0, 4.0, 8.0])
    np.testing.assert_allclose(view.numpy(), expected)  # others sharing the memory see the write
    (y * tr.tensor([1.0, 10.0, 100.0], dtype=tr.float64)).sum().backward()
    weights = np.array([1.0, 10.0, 100.0])
    xs, ms = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 8.0])
    dx, dm = {
        np.add: (weights, weights), np.subtract: (weights, -weights),
        np.multiply: (weights * ms, weights * xs), np.divide: (weights / ms, -weights * xs / ms**2),
    }[op]
    np.testing.assert_allclose(x.grad.numpy(), dx)
    np.testing.assert_allclose(m.grad.numpy(), dm)


def test_a_statement_add_underscore_changes_the_tensor():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.add_(x)  # a statement: the result is not bound to anything
    np.testing.assert_allclose(h.detach().numpy(), [3.0, 6.0])
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_item_assignment_into_a_tensor_that_is_part_of_the_graph():
    x = leaf([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    v = leaf([10.0, 20.0])
    y = x * 2
    y[1] = v * v
    assert y.grad_fn.name == "SetItemBackward"
    (y * tr.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=tr.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[2.0, 4.0], [0.0, 0.0], [10.0, 12.0]])  # row 1 overwritten
    np.testing.assert_allclose(v.grad.numpy(), [2 * 10.0 * 3.0, 2 * 20.0 * 4.0])


def test_version_counter_is_bumped_by_every_write():
    x = leaf([1.0, 2.0])
    y = x * 1
    versions = [y._version]
    for write in (lambda: y.add_(1), lambda: y.__setitem__(0, 5.0), lambda: y.copy_(x), lambda: y.fill_(0)):
        write()
        versions.append(y._version)
    assert versions == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------- what stays refused
def test_a_leaf_that_requires_grad_refuses_in_place_writes_unless_no_grad():
    w = leaf([1.0, 2.0])
    for write in (lambda: w.add_(1), lambda: w.__setitem__(0, 3.0), lambda: w.mul_(2), lambda: w.zero_()):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
            write()
    with tr.no_grad():
        w -= 0.5
        w[1] = 7.0
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 7.0])
    assert w.is_leaf and w.requires_grad


def test_a_value_that_backward_reads_cannot_be_overwritten_silently():
    x = leaf([0.1, 0.2])
    y = x.tanh()  # tanh's derivative reads y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


def test_an_output_that_backward_does_not_read_can_be_written():
    x = leaf([[1.0, 2.0]])
    w = leaf([[1.0], [3.0]])
    h = x @ w  # matmul's backward reads x and w, never h
    h += 1
    h.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[1.0], [2.0]])


def test_mul_underscore_after_tanh_keeps_the_old_values_for_both_backwards():
    x = leaf([0.3, -0.4])
    m = leaf([2.0, 3.0])
    y = x.tanh()
    y.mul_(m)
    y.sum().backward()
    t = np.tanh([0.3, -0.4])
    np.testing.assert_allclose(m.grad.numpy(), t)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 3.0] * (1 - t * t))


def test_writing_through_a_view_made_by_one_index_writes_into_the_base():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    row = y[0]
    row.add_(x[1, 0])  # y[0] += x[1, 0]
    y[:, 1] *= 10  # Python: view = y[:, 1]; view *= 10; y[:, 1] = view
    np.testing.assert_allclose(y.detach().numpy(), [[4.0, 50.0], [3.0, 40.0]])
    np.testing.assert_allclose(row.detach().numpy(), [4.0, 50.0])
    (y * tr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=tr.float64)).sum().backward()
    # y00 = x00 + x10, y01 = 10 (x01 + x10), y10 = x10, y11 = 10 x11
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 20.0], [1.0 + 20.0 + 3.0, 40.0]])


def test_writing_through_other_views_while_recording_is_refused_with_a_way_out():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    with pytest.raises(RuntimeError, match=r"view.*base\[index\] = value"):
        y.reshape(4).add_(5)
    with pytest.raises(RuntimeError, match=r"view.*base\[index\] = value"):
        y.t().mul_(2) if hasattr(y, "t") else y.T.mul_(2)
    buf = tr.zeros(2, 2, 2, dtype=tr.float64)
    with pytest.raises(RuntimeError, match="view"):
        buf[0][1][0] = x[0, 0] * 2  # a view of a view
    buf[0, 1, 0] = x[0, 0] * 2  # the one-step form works
    buf.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[2.0, 0.0], [0.0, 0.0]])
    with pytest.raises(RuntimeError, match="view of a leaf"):
        x[0].add_(1)


def test_a_view_taken_before_a_write_into_its_base_is_stale_and_refuses_use():
    b = tr.zeros(3, 2, dtype=tr.float64)
    v = b[1]
    z = leaf([1.0, 1.0])
    b[1] = z * 2
    with pytest.raises(RuntimeError, match="view.*written in place after the view was taken"):
        (v.sum() + z.sum()).backward()  # PyTorch: z.grad = 3; silently 1 would be the worst answer
    fresh = b[1]
    (fresh.sum() + z.sum()).backward()
    np.testing.assert_allclose(z.grad.numpy(), [3.0, 3.0])


def test_a_view_consumed_before_the_write_keeps_its_correct_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    first = y[0:2] * 5  # consumed now: the values from before the write
    y[2] = 0.0
    (first.sum() + y.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0, 0.0])


def test_writes_must_fit_the_tensor_in_shape_and_dtype():
    a = tr.zeros(3)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*\(3,\)"):
        a += tr.ones(2, 3)
    counts = tr.zeros(3, dtype=tr.int64)
    with pytest.raises(RuntimeError, match="float32.*int64"):
        counts += 1.5
    with pytest.raises(RuntimeError, match="expanded view"):
        with tr.no_grad():
            tr.ones(3).expand(2, 3).add_(1)


def test_a_float64_value_written_into_a_float32_tensor_stays_float32_with_a_float64_gradient():
    a = tr.zeros(3)
    z = leaf([1.0, 2.0, 3.0])
    a += z
    assert a.dtype == tr.float32
    (a * 2).sum().backward()
    assert z.grad.dtype == tr.float64
    np.testing.assert_allclose(z.grad.numpy(), [2.0, 2.0, 2.0])


def test_a_differentiated_write_at_a_repeated_index_is_refused():
    a = tr.zeros(3, dtype=tr.float64)
    with pytest.raises(RuntimeError, match="more than once"):
        a[[0, 0]] = leaf([1.0, 2.0])
    a[[0, 0]] = tr.tensor([1.0, 2.0], dtype=tr.float64)  # constants: NumPy's last-wins, as PyTorch on the CPU
    assert a.tolist() == [2.0, 0.0, 0.0]


def test_a_failed_write_leaves_the_graph_as_it_was():
    x = leaf([1.0, 2.0])
    y = x * 3
    node = y.grad_fn
    with pytest.raises(RuntimeError, match="does not fit"):
        y += tr.ones(2, 2, dtype=tr.float64)
    assert y.grad_fn is node and y._version == 0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


# ---------------------------------------------------------------- hooks, retain_grad, tr.grad
def test_hooks_before_a_write_see_the_old_value_and_retain_grad_the_new_one():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(("before", g.tolist())))
    y.retain_grad()
    y.mul_(3)
    y.register_hook(lambda g: seen.append(("after", g.tolist())))
    y.sum().backward()
    assert seen == [("after", [1.0, 1.0, 1.0]), ("before", [3.0, 3.0, 3.0])]  # PyTorch's documented behaviour
    assert y.grad.tolist() == [1.0, 1.0, 1.0]


def test_grad_with_respect_to_a_written_tensor_is_with_respect_to_its_new_value():
    x = leaf([1.0, 2.0])
    y = x * 1
    y.mul_(x)  # y = x²
    loss = (y * y).sum()
    (gy,) = tr.grad(loss, [y])
    np.testing.assert_allclose(gy.numpy(), 2 * np.array([1.0, 4.0]))


def test_second_derivatives_flow_through_item_assignment():
    def program(x, v):
        buf = tr.zeros(2, 3, dtype=tr.float64)
        buf[0] = x * x
        buf[1, 1:] = v.tanh()
        buf += x.sin()
        return (buf * buf).sum()

    inputs = (leaf([0.3, -0.5, 0.8]), leaf([0.2, -0.1]))
    assert tr.gradcheck(program, inputs)
    assert tr.gradgradcheck(program, inputs)


def test_a_buffer_written_once_per_step_is_not_copied_per_step():
    """``outputs[t] = h`` keeps one buffer: each write's node shares its memory (no O(T²) copies)."""
    h = leaf(np.ones((2, 3)))
    outputs = tr.zeros(50, 2, 3, dtype=tr.float64)
    for t in range(50):
        outputs[t] = h * t
    node, shared = outputs.grad_fn, 0
    while node is not None and node.name == "SetItemBackward":
        shared += np.shares_memory(node.inputs[0].array, outputs.array)
        node = node.input_fns[0]
    assert shared == 50


# ---------------------------------------------------------------- old calling forms
def test_add_underscore_accepts_pytorchs_old_positional_form():
    p, g = tr.ones(2), tr.tensor([1.0, 3.0])
    p.add_(-0.1, g)  # add_(alpha, other), as in older optimizer code
    np.testing.assert_allclose(p.numpy(), [0.9, 0.7], rtol=1e-6)
    p.sub_(g, alpha=2)
    np.testing.assert_allclose(p.numpy(), [-1.1, -5.3], rtol=1e-6)
    with pytest.raises(TypeError, match="alpha must be a number"):
        p.add_(g, g)


# ---------------------------------------------------------------- real programs, against PyTorch
def _rnn_loop(lib, x_values, w_values, u_values):
    """A hand-written RNN that stores each step in a preallocated buffer (``outputs[t] = h``)."""
    x = lib.tensor(x_values, requires_grad=True)
    w = lib.tensor(w_values, requires_grad=True)
    u = lib.tensor(u_values, requires_grad=True)
    steps, batch, hidden = x.shape[0], x.shape[1], w.shape[1]
    outputs = lib.zeros(steps, batch, hidden, dtype=x.dtype)
    h = lib.zeros(batch, hidden, dtype=x.dtype)
    for t in range(steps):
        h = (x[t] @ w + h @ u).tanh()
        outputs[t] = h
    outputs[:, :, 0] *= 2  # and a write into a column of the whole buffer
    loss = (outputs * outputs).sum()
    loss.backward()
    return float(loss.detach()), x.grad.numpy(), w.grad.numpy(), u.grad.numpy()


@needs_torch
def test_a_hand_written_rnn_loop_with_a_buffer_matches_pytorch():
    rng = np.random.default_rng(0)
    args = rng.normal(size=(6, 2, 3)), rng.normal(size=(3, 4)) * 0.5, rng.normal(size=(4, 4)) * 0.5
    ours, theirs = _rnn_loop(tr, *args), _rnn_loop(torch, *(torch.tensor(a).numpy() for a in args))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _encoder_outputs(lib, seq_values, w_values):
    """The seq2seq tutorial's ``encoder_outputs[ei] = encoder_output[0, 0]``, then attention over them."""
    seq = lib.tensor(seq_values, requires_grad=True)
    w = lib.tensor(w_values, requires_grad=True)
    encoder_outputs = lib.zeros(5, 3, dtype=seq.dtype)
    hidden = lib.zeros(1, 1, 3, dtype=seq.dtype)
    for ei in range(seq.shape[0]):
        out = (seq[ei].reshape(1, 1, 3) @ w + hidden).tanh()
        encoder_outputs[ei] = out[0, 0]
        hidden = out
    weights = (encoder_outputs @ hidden[0, 0]).softmax(dim=0)
    context = (weights.unsqueeze(1) * encoder_outputs).sum(0)
    context.sum().backward()
    return context.detach().numpy(), seq.grad.numpy(), w.grad.numpy()


@needs_torch
def test_the_seq2seq_tutorial_buffer_idiom_matches_pytorch():
    rng = np.random.default_rng(1)
    args = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))
    for a, b in zip(_encoder_outputs(tr, *args), _encoder_outputs(torch, *args)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- differential property test
SHAPE = (3, 4)
OPS = ["mul", "tanh", "sigmoid", "iadd", "imul", "sub_alpha", "idiv", "set_row", "set_col", "set_scalar",
       "set_mask", "set_rows", "take_view", "use_view", "write_view", "copy", "fill", "clone", "clamp"]


@st.composite
def programs(draw):
    steps = draw(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 1000), st.integers(0, 1000),
                                    st.integers(0, 1000)), min_size=1, max_size=10))
    values = draw(st.integers(0, 2**16))
    return steps, values


def _run_program(lib, steps, seed, leaves=None):
    """Run the program with ``lib`` (tinygrad_rnn or torch); return the loss and the three leaves."""
    rng = np.random.default_rng(seed)
    starts = [rng.uniform(-1, 1, SHAPE) for _ in range(3)]  # drawn always: the draws below must not move
    starts = starts if leaves is None else leaves
    mask = rng.random(SHAPE) < 0.5
    weights = [rng.uniform(-1, 1, SHAPE) for _ in range(len(steps) + 4)]

    def as_tensor(a):
        return lib.tensor(a, dtype=lib.float64)

    params = [lib.tensor(a, dtype=lib.float64, requires_grad=leaves is None) for a in starts]
    env = [*params, lib.zeros(*SHAPE, dtype=lib.float64)]  # three leaves and a plain buffer
    views = []
    writable = lambda i: i >= 3  # noqa: E731 (leaves that require grad refuse in-place writes)
    for op, i, j, k in steps:
        a, b = env[i % len(env)], env[j % len(env)]
        target_index = 3 + i % (len(env) - 3)
        target = env[target_index]
        row, col = k % 3, k % 4
        if op == "mul":
            env.append(a * b)
        elif op == "tanh":
            env.append(a.tanh())
        elif op == "sigmoid":
            env.append(a.sigmoid())
        elif op == "clone":
            env.append(a.clone())
        elif op == "iadd":
            target += b
        elif op == "imul":
            target *= b
        elif op == "sub_alpha":
            target.sub_(b, alpha=0.5)
        elif op == "idiv":
            target /= b * b + 1
        elif op == "clamp":
            target.clamp_(-0.5, 0.7)
        elif op == "set_row":
            target[row] = b[(row + 1) % 3] * 2
        elif op == "set_col":
            target[:, col] = b[:, (col + 1) % 4].tanh()
        elif op == "set_scalar":
            target[row, col] = 0.25
        elif op == "set_mask":
            m = lib.tensor(mask)
            target[m] = b[m] * 3
        elif op == "set_rows":
            target[[row, (row + 1) % 3]] = b[[(row + 2) % 3, row]]
        elif op == "take_view":
            views.append(a[row])
        elif op == "use_view" and views:
            env.append(a + views[k % len(views)])
        elif op == "write_view" and views:
            views[k % len(views)].add_(b[0])
        elif op == "copy":
            target.copy_(b)
        elif op == "fill":
            target.fill_(1.5)
        assert writable(target_index)
    loss = sum(((t * as_tensor(w)).sum() for t, w in zip(env, weights)), as_tensor(np.zeros(())))
    loss = loss + sum(((v * as_tensor(w[0])).sum() for v, w in zip(views, weights)), as_tensor(np.zeros(())))
    return loss, params


OUR_REFUSALS = ("view", "modified in place", "more than once")


@settings(max_examples=max(settings().max_examples, 200))  # cheap (~10 ms each): more programs than the profile
@given(programs())
@example(program=([("tanh", 0, 0, 0), ("imul", 1, 0, 0)], 0))  # PyTorch refuses (Tanh saved t): finite differences
def test_random_programs_of_in_place_writes_views_and_item_assignment(program):
    steps, seed = program
    try:
        loss, params = _run_program(tr, steps, seed)
        loss.backward()
    except RuntimeError as error:  # a documented refusal, never a different number
        assert any(reason in str(error) for reason in OUR_REFUSALS), str(error)
        return
    ours = [p.grad.numpy() if p.grad is not None else np.zeros(SHAPE) for p in params]
    if torch is not None:
        try:
            theirs_loss, theirs_params = _run_program(torch, steps, seed)
            theirs_loss.backward()
        except RuntimeError:
            theirs_loss = None  # PyTorch refuses a program we can run (we keep copies it does not): check below
        if theirs_loss is not None:
            np.testing.assert_allclose(float(loss), float(theirs_loss.detach()), rtol=1e-10, atol=1e-12)
            for mine, p in zip(ours, theirs_params):
                expected = p.grad.numpy() if p.grad is not None else np.zeros(SHAPE)
                np.testing.assert_allclose(mine, expected, rtol=1e-9, atol=1e-12)
            return
    # Without PyTorch, or where it refuses: central differences of our own forward.
    starts = [p.detach().numpy().copy() for p in params]
    eps = 1e-6
    for position in range(len(starts)):
        numeric = np.zeros(SHAPE)
        for index in np.ndindex(SHAPE):
            values = []
            for sign in (1, -1):
                moved = [s.copy() for s in starts]
                moved[position][index] += sign * eps
                with tr.no_grad():
                    values.append(float(_run_program(tr, steps, seed, leaves=moved)[0]))
            numeric[index] = (values[0] - values[1]) / (2 * eps)
        np.testing.assert_allclose(ours[position], numeric, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["clamp_", "clip_"])
def test_clamp_in_place_gradient_is_one_inside_the_range_only(name):
    x = tr.tensor([-1.0, -0.2, 0.3, 2.0], dtype=tr.float64, requires_grad=True)
    y = x * 2
    assert getattr(y, name)(-1.0, 1.0) is y  # in place: the same tensor comes back
    np.testing.assert_array_equal(y.detach().numpy(), [-1.0, -0.4, 0.6, 1.0])
    (y * tr.tensor([1.0, 2.0, 3.0, 4.0], dtype=tr.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 4.0, 6.0, 0.0])  # 2·w inside, 0 where clamped
