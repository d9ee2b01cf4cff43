"""Elementwise ops beyond the tables of ``test_ops_elementwise.py``: ``clamp``/``clip`` with tensor
bounds, ``masked_fill`` (and ``masked_fill_``), the bool and bitwise operators and ``logical_*``,
the in-place forms of the registered functions (``exp_``, ``relu_``, ...), and the edge cases of
``square``, ``rsqrt``, ``log1p``, ``sign`` and ``round`` (whose gradients are in the unary table).

Gradients are checked against closed forms written here (PyTorch's rules), against finite
differences, and against PyTorch where it is installed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tests.helpers import arrays, assert_close, broadcastable_shapes, check_forward, check_gradients, shapes

# every test here runs once per backend: cpu, the CuPy-like strict backend, and cuda when present
pytestmark = pytest.mark.usefixtures("each_device")

SMALL = dict(max_dims=3, max_side=3)


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` back to ``shape``: a scatter-add onto the element each broadcast position copies."""
    size = int(np.prod(shape))
    source = np.broadcast_to(np.arange(size).reshape(shape), grad.shape)
    return np.bincount(source.ravel(), weights=np.ravel(grad), minlength=size).reshape(shape)


# ---------------------------------------------------------------- clamp with tensor bounds
def clamp_gradients(g, x, low, high):
    """PyTorch's rule: x where low <= x <= high; low where x < low < high; high where x > high or high < low."""
    x_full, low_full, high_full = np.broadcast_arrays(x, low, high)
    to_x = (x_full >= low_full) & (x_full <= high_full)
    to_low = (x_full < low_full) & (low_full < high_full)
    to_high = (x_full > high_full) | (high_full < low_full)
    return tuple(unbroadcast(g * mask, a.shape) for mask, a in ((to_x, x), (to_low, low), (to_high, high)))


@given(data=st.data())
def test_clamp_with_tensor_bounds(data):
    """x, min and max broadcast together; drawn on three interleaved grids (no ties, no finite
    difference across a kink), min sometimes above max."""
    shapes_ = data.draw(broadcastable_shapes(3, **SMALL), label="shapes")
    x, low, high = (np.asarray(np.round(data.draw(arrays(s, -2.0, 2.0), label=n), 1) + offset)
                    for s, n, offset in zip(shapes_, ("x", "min", "max"), (0.02, 0.05, 0.08)))
    out = check_forward(lambda a, b, c: a.clamp(b, c), [x, low, high], lambda a, b, c: np.minimum(np.maximum(a, b), c))
    assert out.shape == np.broadcast_shapes(*shapes_)
    check_gradients(lambda a, b, c: a.clamp(b, c), [x, low, high], clamp_gradients)
    check_gradients(lambda a, b, c: tr.clip(a, min=b, max=c), [x, low, high], clamp_gradients)
    # one bound only, and a tensor bound beside a number
    check_gradients(lambda a, b: a.clamp(min=b), [x, low],
                    lambda g, a, b: clamp_gradients(g, a, b, np.array(np.inf))[:2])
    check_gradients(lambda a, c: a.clip(max=c), [x, high],
                    lambda g, a, c: clamp_gradients(g, a, np.array(-np.inf), c)[::2])
    check_gradients(lambda a, b: a.clamp(b, 0.57), [x, low],
                    lambda g, a, b: clamp_gradients(g, a, b, np.full((), 0.57))[:2])


def test_clamp_with_tensor_bounds_ties_like_pytorch():
    """Values and gradients PyTorch 2 gives for these (printed from torch.clamp, written out here)."""
    def grads(x, low, high, upstream):
        tensors = [tr.tensor(v, dtype=tr.float64, requires_grad=True) for v in (x, low, high)]
        out = tensors[0].clamp(tensors[1], tensors[2])
        out.backward(tr.tensor(upstream, dtype=tr.float64))
        return out.tolist(), [t.grad.tolist() for t in tensors]

    out, (gx, glow, ghigh) = grads([0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 5.0, 5.0], [3.0, 3.0, 3.0, 4.0, 4.0],
                                   [1.0, 2.0, 3.0, 4.0, 5.0])
    assert out == [1.0, 1.0, 2.0, 4.0, 4.0]
    assert gx == [0.0, 2.0, 3.0, 0.0, 0.0] and glow == [1.0, 0.0, 0.0, 0.0, 0.0] and ghigh == [0.0, 0.0, 0.0, 4.0, 5.0]
    out, (gx, glow, ghigh) = grads([1.0, 3.0, 2.0], 1.0, 3.0, [1.0, 1.0, 1.0])  # x on a bound keeps the gradient
    assert gx == [1.0, 1.0, 1.0] and glow == 0.0 and ghigh == 0.0
    out, (gx, glow, ghigh) = grads([0.0, 5.0], [2.0, 2.0], [2.0, 2.0], [1.0, 1.0])  # min == max: below gets none
    assert out == [2.0, 2.0] and gx == [0.0, 0.0] and glow == [0.0, 0.0] and ghigh == [0.0, 1.0]


def test_clamp_with_tensor_bounds_promotes_and_matches_pytorch():
    assert tr.zeros(3, dtype=tr.int64).clamp(min=tr.zeros(3)).dtype == np.float32
    assert tr.zeros(3).clamp(min=tr.zeros(2, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match=r"clamp: shapes \(3,\).*\(2,\)"):
        tr.zeros(3).clamp(tr.zeros(2))
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, low, high = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((4, 1))
    ours = [tr.tensor(v, requires_grad=True) for v in (x, low, high)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, low, high)]
    upstream = rng.standard_normal((4, 3))
    ours[0].clamp(ours[1], ours[2]).backward(tr.tensor(upstream))
    torch.clamp(*theirs).backward(torch.tensor(upstream))
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad.numpy(), atol=0, rtol=0)


# ---------------------------------------------------------------- masked_fill
@given(data=st.data())
def test_masked_fill(data):
    shape_mask, shape_x = data.draw(broadcastable_shapes(2, **SMALL), label="shapes")
    mask = data.draw(hnp.arrays(np.bool_, shape_mask), label="mask")
    x = data.draw(arrays(shape_x), label="x")
    m = tr.tensor(mask)

    def to_x(g, a):
        return unbroadcast(np.where(np.broadcast_to(mask, g.shape), 0.0, g), a.shape)

    out = check_forward(lambda a: a.masked_fill(m, -2.5), [x], lambda a: np.where(mask, -2.5, a))
    assert out.shape == np.broadcast_shapes(shape_mask, shape_x)
    check_gradients(lambda a: a.masked_fill(m, -2.5), [x], lambda g, a: (to_x(g, a),))
    # a 0-d tensor value gets the gradient of every place it filled
    check_gradients(lambda a, v: a.masked_fill(m, v), [x, np.array(0.75)],
                    lambda g, a, v: (to_x(g, a), np.sum(np.where(np.broadcast_to(mask, g.shape), g, 0.0))))


def test_masked_fill_casts_the_value_and_checks_its_arguments():
    assert tr.tensor([1, 2, 3]).masked_fill(tr.tensor([True, False, True]), 2.7).tolist() == [2, 2, 2]
    assert tr.zeros(2).masked_fill(tr.tensor([True, False]), tr.tensor(5)).dtype == np.float32
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool tensor, got dtype int64"):
        tr.zeros(3).masked_fill(tr.tensor([1, 0, 1]), 1.0)
    with pytest.raises(ValueError, match=r"masked_fill: value must be a number or a 0-d tensor, got shape \(3,\)"):
        tr.zeros(3).masked_fill(tr.tensor([True, False, True]), tr.ones(3))


def test_masked_fill_in_place_is_recorded():
    a = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = a * 2
    assert y.masked_fill_(tr.tensor([False, True, False]), 0.0) is y
    assert y.tolist() == [2.0, 0.0, 6.0]
    (y * tr.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert a.grad.tolist() == [2.0, 0.0, 200.0]
    with pytest.raises(RuntimeError, match="does not fit"):
        tr.zeros(3).masked_fill_(tr.ones(2, 3).bool(), 1.0)


# ---------------------------------------------------------------- bool, bitwise, logical
BITWISE = [
    ("&", lambda a, b: a & b, np.bitwise_and), ("|", lambda a, b: a | b, np.bitwise_or),
    ("^", lambda a, b: a ^ b, np.bitwise_xor),
]


@pytest.mark.parametrize("name, op, reference", BITWISE, ids=[c[0] for c in BITWISE])
@given(data=st.data())
def test_bitwise_operators_on_bool_and_integer_tensors(name, op, reference, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, **SMALL), label="shapes")
    dtype = data.draw(st.sampled_from([np.bool_, np.int64, np.int32, np.uint8]), label="dtype")
    a = data.draw(hnp.arrays(dtype, shape_a), label="a")
    b = data.draw(hnp.arrays(dtype, shape_b), label="b")
    out = op(tr.tensor(a), tr.tensor(b))
    assert out.dtype == dtype and out.grad_fn is None
    np.testing.assert_array_equal(out.numpy(), reference(a, b))
    np.testing.assert_array_equal(op(tr.tensor(a), True if dtype == np.bool_ else 5).numpy(),
                                  reference(a, np.array(True if dtype == np.bool_ else 5, dtype=dtype)))
    np.testing.assert_array_equal(op(True if dtype == np.bool_ else 5, tr.tensor(a)).numpy(),  # reflected
                                  reference(np.array(True if dtype == np.bool_ else 5, dtype=dtype), a))
    np.testing.assert_array_equal((~tr.tensor(a)).numpy(), np.invert(a))
    t = tr.tensor(a)
    same = t
    if name == "&":
        t &= tr.tensor(a)
    elif name == "|":
        t |= tr.tensor(a)
    else:
        t ^= tr.tensor(a)
    assert t is same  # in place: the object and its memory stay
    np.testing.assert_array_equal(t.numpy(), reference(a, a))


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@given(data=st.data())
def test_logical_operations_take_any_dtype(name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, **SMALL), label="shapes")
    a = data.draw(hnp.arrays(np.float64, shape_a, elements=st.sampled_from([0.0, -1.5, 2.0])), label="a")
    b = data.draw(hnp.arrays(np.int64, shape_b, elements=st.integers(-1, 1)), label="b")
    out = getattr(tr.tensor(a, requires_grad=True), name)(tr.tensor(b))
    assert out.dtype == np.bool_ and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), getattr(np, name)(a, b))
    np.testing.assert_array_equal(tr.tensor(a).logical_not().numpy(), np.logical_not(a))


def test_bitwise_operators_refuse_floats():
    with pytest.raises(TypeError, match="__and__: expects bool or integer tensors, got dtype float32.*logical_and"):
        tr.ones(2) & tr.ones(2)
    with pytest.raises(TypeError, match="~: expects a bool or integer tensor, got dtype float32"):
        ~tr.ones(2)
    assert (tr.tensor([True, False]) & tr.tensor([1, 3])).tolist() == [1, 0]  # bool with int64 is int64


# ---------------------------------------------------------------- in-place registered functions
INPLACE = ["exp_", "log_", "sqrt_", "abs_", "tanh_", "sigmoid_", "relu_", "sin_", "cos_", "neg_", "square_", "rsqrt_",
           "log1p_", "sign_", "round_"]


@pytest.mark.parametrize("name", INPLACE)
def test_in_place_forms_of_the_registered_functions(name):
    """``y.exp_()`` gives ``y`` the values of ``y.exp()`` in its own memory, and the gradient through
    it is the out-of-place one (also where backward reads the old values: ``log_``, ``relu_``)."""
    values = np.array([0.3, 1.7, 2.6])
    w = tr.tensor(values, requires_grad=True)
    y = w * 1.0
    same, memory = y, y.array
    assert getattr(y, name)() is same and y.array is memory
    reference = tr.tensor(values, requires_grad=True)
    out_of_place = getattr(reference, name[:-1])()
    assert_close(y, out_of_place.detach(), atol=0, rtol=0)
    (y * tr.tensor([1.0, 2.0, 3.0])).sum().backward()
    (out_of_place * tr.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert_close(w.grad, reference.grad, atol=1e-15, rtol=1e-15)
    assert tr.gradcheck(lambda t: getattr(t * 1.0, name)(), [tr.tensor(values, requires_grad=True)])
    assert getattr(tr.Tensor, name).__doc__


def test_in_place_function_of_a_leaf_that_requires_grad_is_refused():
    with pytest.raises(RuntimeError, match="exp_: a leaf tensor that requires grad"):
        tr.ones(2, requires_grad=True).exp_()
    x = tr.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be stored"):
        x.exp_()  # float values into an int64 tensor, refused as in PyTorch


# ---------------------------------------------------------------- square, rsqrt, log1p, sign, round: edge cases
def test_unary_edge_cases_like_pytorch():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tr.tensor([0.0, -1.0]).rsqrt().tolist()[0] == np.inf and np.isnan(tr.tensor([-1.0]).rsqrt().item())
        assert tr.tensor([-1.0]).log1p().item() == -np.inf and np.isnan(tr.tensor([-2.0]).log1p().item())
    assert tr.tensor([1e-10], dtype=tr.float32).log1p().item() == pytest.approx(1e-10, rel=1e-6)  # 1 + x would round
    assert tr.tensor([float("nan"), -0.0, 0.0, -3.0, 2.0]).sign().tolist() == [0.0, 0.0, 0.0, -1.0, 1.0]
    assert tr.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]).round().tolist() == [-2.0, -2.0, -0.0, 0.0, 2.0, 2.0]
    assert tr.tensor([1, 4]).rsqrt().dtype == np.float32 and tr.tensor([1, 4]).log1p().dtype == np.float32
    assert tr.tensor([2, -3]).square().tolist() == [4, 9] and tr.tensor([2, -3]).sign().tolist() == [1, -1]
    assert tr.tensor([True, False]).sign().tolist() == [True, False]
    x = tr.tensor([0.4, 2.5], requires_grad=True)
    (x.round() + x.sign()).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


@given(x=shapes(max_dims=2).flatmap(lambda s: arrays(s, 0.1, 3.0)))
def test_new_unary_functions_match_pytorch(x):
    torch = pytest.importorskip("torch")
    for name in ("square", "rsqrt", "log1p", "sign", "round"):
        ours, theirs = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        getattr(tr, name)(ours).sum().backward()
        getattr(torch, name)(theirs).sum().backward()
        assert_close(getattr(ours, name)(), getattr(theirs, name)().detach().numpy(), atol=0, rtol=1e-15)
        assert_close(ours.grad, theirs.grad.numpy(), atol=0, rtol=1e-14)
