"""Elementwise ops: forward against NumPy, gradients against closed forms written out
here and against finite differences, second derivatives for the smooth ones, and the
edge cases (dtypes, ties, kinks, huge inputs, shape errors) a property test can miss.

Every closed-form gradient below is plain NumPy; for the broadcasting ops it is summed
back to each input's shape by ``_unbroadcast``, which is written independently of the
package's ``sum_to_shape`` (a scatter-add over the broadcast copies, not axis sums).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tests.helpers import (
    arrays,
    assert_close,
    away_from,
    broadcastable_shapes,
    check_forward,
    check_gradients,
    check_second_derivatives,
    distinct_upstream,
    shapes,
)

# every test here runs once per backend: cpu, the CuPy-like strict backend, and cuda when present
pytestmark = pytest.mark.usefixtures("each_device")

SMALL = dict(max_dims=3, max_side=4)


# ---------------------------------------------------------------- local helpers
def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` (of the broadcast output's shape) back to an input of ``shape``.

    Each input element was copied to every output position NumPy broadcasting maps it
    to; its gradient is the sum of the gradients of all those copies. Computed as a
    scatter-add of ``grad`` onto the flat index of the element each position copies.
    """
    grad = np.asarray(grad, dtype=np.float64)
    size = int(np.prod(shape))
    source = np.broadcast_to(np.arange(size).reshape(shape), grad.shape)
    return np.bincount(source.ravel(), weights=grad.ravel(), minlength=size).reshape(shape)


def _untied(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` moved onto two interleaved grids (0.1k + 0.025 and 0.1k + 0.075),
    so every pair that broadcasting lines up differs by at least 0.05: no ties, and no
    finite difference straddles the kink of maximum/minimum."""
    return np.round(a, 1) + 0.025, np.round(b, 1) + 0.075


def _sigmoid_np(x):
    """σ(x) = exp(-log(1 + e^-x)), stable for any |x|."""
    return np.exp(-np.logaddexp(0.0, -x))


# ---------------------------------------------------------------- unary ops
@dataclass(frozen=True)
class Unary:
    """One unary op: the op, NumPy's forward, the closed-form derivative dy/dx, the
    input domain and the kinks to keep away from, and whether it is smooth."""

    name: str
    fn: object
    forward: object
    derivative: object
    low: float = -3.0
    high: float = 3.0
    kinks: tuple = field(default=())
    gap: float = 1e-2
    smooth: bool = True


UNARY = [
    Unary("neg", lambda x: -x, lambda a: -a, lambda a: -np.ones_like(a)),
    Unary("neg_method", lambda x: x.neg(), lambda a: -a, lambda a: -np.ones_like(a)),
    Unary("exp", lambda x: x.exp(), np.exp, np.exp),
    Unary("exp_function", tr.exp, np.exp, np.exp),
    Unary("log", lambda x: x.log(), np.log, lambda a: 1.0 / a, low=0.1),
    Unary("sqrt", lambda x: x.sqrt(), np.sqrt, lambda a: 0.5 / np.sqrt(a), low=0.1),
    Unary("abs", lambda x: x.abs(), np.abs, np.sign, kinks=(0.0,), smooth=False),
    Unary("abs_builtin", abs, np.abs, np.sign, kinks=(0.0,), smooth=False),
    Unary("tanh", lambda x: x.tanh(), np.tanh, lambda a: 1.0 - np.tanh(a) ** 2),
    Unary("sin", lambda x: x.sin(), np.sin, np.cos),
    Unary("sin_function", tr.sin, np.sin, np.cos),
    Unary("cos", lambda x: x.cos(), np.cos, lambda a: -np.sin(a)),
    Unary("cos_function", tr.cos, np.cos, lambda a: -np.sin(a)),
    Unary(
        "sigmoid",
        lambda x: x.sigmoid(),
        lambda a: 1.0 / (1.0 + np.exp(-a)),
        lambda a: np.exp(-a) / (1.0 + np.exp(-a)) ** 2,
    ),
    Unary("relu", lambda x: x.relu(), lambda a: np.maximum(a, 0.0), lambda a: (a > 0).astype(np.float64),
          kinks=(0.0,), smooth=False),
    Unary("pow_2", lambda x: x**2, lambda a: a**2, lambda a: 2.0 * a),
    Unary("pow_3", lambda x: x**3, lambda a: a**3, lambda a: 3.0 * a**2),
    Unary("pow_3_float", lambda x: x.pow(3.0), lambda a: a**3, lambda a: 3.0 * a**2),
    Unary("pow_half", lambda x: x**0.5, np.sqrt, lambda a: 0.5 / np.sqrt(a), low=0.1),
    Unary("pow_minus_1_5", lambda x: x**-1.5, lambda a: a**-1.5, lambda a: -1.5 * a**-2.5, low=0.2),
    Unary("pow_minus_1", lambda x: x**-1, lambda a: 1.0 / a, lambda a: -1.0 / a**2, kinks=(0.0,), gap=0.1),
    Unary("pow_0", lambda x: x**0, np.ones_like, np.zeros_like),
    Unary("pow_numpy_scalar", lambda x: x ** np.float64(2.0), lambda a: a**2, lambda a: 2.0 * a),
    Unary("clip_both", lambda x: x.clip(-1.0, 1.5), lambda a: np.clip(a, -1.0, 1.5),
          lambda a: ((a >= -1.0) & (a <= 1.5)).astype(np.float64), kinks=(-1.0, 1.5), smooth=False),
    Unary("clamp_both_function", lambda x: tr.clamp(x, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5),
          lambda a: (np.abs(a) <= 0.5).astype(np.float64), kinks=(-0.5, 0.5), smooth=False),
    Unary("clamp_min_only", lambda x: x.clamp(min=0.5), lambda a: np.maximum(a, 0.5),
          lambda a: (a >= 0.5).astype(np.float64), kinks=(0.5,), smooth=False),
    Unary("clip_max_only", lambda x: x.clip(max=-0.5), lambda a: np.minimum(a, -0.5),
          lambda a: (a <= -0.5).astype(np.float64), kinks=(-0.5,), smooth=False),
    Unary("square", lambda x: x.square(), np.square, lambda a: 2.0 * a),
    Unary("square_function", tr.square, np.square, lambda a: 2.0 * a),
    Unary("rsqrt", lambda x: x.rsqrt(), lambda a: 1.0 / np.sqrt(a), lambda a: -0.5 * a**-1.5, low=0.1),
    Unary("rsqrt_function", tr.rsqrt, lambda a: 1.0 / np.sqrt(a), lambda a: -0.5 * a**-1.5, low=0.1),
    Unary("log1p", lambda x: x.log1p(), np.log1p, lambda a: 1.0 / (1.0 + a), low=-0.9),
    Unary("log1p_function", tr.log1p, np.log1p, lambda a: 1.0 / (1.0 + a), low=-0.9),
    Unary("sign", lambda x: x.sign(), np.sign, np.zeros_like, kinks=(0.0,), smooth=False),
    Unary("sign_function", tr.sign, np.sign, np.zeros_like, kinks=(0.0,), smooth=False),
    Unary("round", lambda x: x.round(), np.round, np.zeros_like, kinks=(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5), smooth=False),
    Unary("round_function", tr.round, np.round, np.zeros_like, kinks=(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5), smooth=False),
]


def _unary_input(case: Unary):
    """Arrays in the op's domain, nudged away from its kinks."""
    return shapes(**SMALL).flatmap(lambda s: arrays(s, case.low, case.high)).map(
        lambda a: away_from(a, case.kinks, case.gap) if case.kinks else a
    )


@pytest.mark.parametrize("case", UNARY, ids=lambda c: c.name)
@given(data=st.data())
def test_unary_forward_and_gradients(case: Unary, data):
    x = data.draw(_unary_input(case), label="x")
    check_forward(case.fn, [x], case.forward)
    check_gradients(case.fn, [x], lambda g, a: (g * case.derivative(a),))


@pytest.mark.parametrize("case", [c for c in UNARY if c.smooth], ids=lambda c: c.name)
@given(data=st.data())
def test_unary_second_derivatives(case: Unary, data):
    x = data.draw(_unary_input(case), label="x")
    check_second_derivatives(case.fn, [x])


@given(x=shapes(**SMALL).flatmap(lambda s: arrays(s, -1000.0, 1000.0)))
def test_sigmoid_and_tanh_on_wide_range_are_exact_and_warning_free(x):
    """Over [-1000, 1000] (where e^-x overflows) sigmoid matches a stable reference and
    its gradient, σ(1-σ), stays finite; so does tanh's."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_forward(lambda t: t.sigmoid(), [x], _sigmoid_np, atol=1e-300, rtol=1e-12)
        check_forward(lambda t: t.tanh(), [x], np.tanh, atol=1e-300, rtol=1e-12)
        for fn, derivative in [
            (lambda t: t.sigmoid(), lambda a: _sigmoid_np(a) * _sigmoid_np(-a)),
            (lambda t: t.tanh(), lambda a: 1.0 - np.tanh(a) ** 2),
        ]:
            t = tr.tensor(x, requires_grad=True)
            upstream = distinct_upstream(x.shape)
            fn(t).backward(tr.tensor(upstream))
            assert np.all(np.isfinite(t.grad.numpy()))
            assert_close(t.grad, upstream * derivative(x), atol=1e-12, rtol=1e-6)


# ---------------------------------------------------------------- cast
@given(x=shapes(**SMALL).flatmap(arrays))
def test_cast_float64_to_float32(x):
    """Forward rounds to float32; the gradient flows back as float64 (checked inside
    ``check_gradients``) with the right values. No finite differences: a float32 output
    cannot resolve an ε = 1e-6 step."""
    out = check_forward(lambda t: t.to(tr.float32), [x], lambda a: a.astype(np.float32), atol=0, rtol=0)
    assert out.dtype == np.float32
    check_gradients(
        lambda t: t.to(tr.float32).tanh(),
        [x],
        lambda g, a: (g.astype(np.float32) * (1.0 - np.tanh(a.astype(np.float32)) ** 2),),
        finite_differences=False,
    )
    check_gradients(lambda t: t.float() * 3, [x], lambda g, a: (3.0 * g.astype(np.float32),), finite_differences=False)


@given(x=shapes(**SMALL).flatmap(arrays))
def test_cast_float32_to_float64(x):
    """``.double()`` of a float32 leaf: float64 output with the same values; the leaf's
    gradient is float32, of its shape, and equals the float64 gradient rounded."""
    x32 = x.astype(np.float32)
    leaf = tr.tensor(x32, requires_grad=True)
    out = leaf.double()
    assert out.dtype == np.float64 and out.shape == x.shape
    np.testing.assert_array_equal(out.numpy(), x32.astype(np.float64))
    upstream = distinct_upstream(x.shape)
    (out * out).backward(tr.tensor(upstream))
    assert leaf.grad.dtype == np.float32 and leaf.grad.shape == x.shape
    assert_close(leaf.grad, (2.0 * x32.astype(np.float64) * upstream).astype(np.float32), atol=1e-6, rtol=1e-6)

    # through .to(): float64 round trip in the middle, gradient still float32
    leaf2 = tr.tensor(x32, requires_grad=True)
    leaf2.to(tr.float64).exp().backward(tr.tensor(upstream))
    assert leaf2.grad.dtype == np.float32
    assert_close(leaf2.grad, upstream * np.exp(x32.astype(np.float64)), atol=1e-5, rtol=1e-5)


def test_cast_to_float16_gradient_comes_back_in_the_leafs_dtype():
    """``.half()``: values rounded to float16; d/dx of 3·half(x) is 3, returned as float64."""
    x = tr.tensor([0.1, -2.5, 3.0], dtype=tr.float64, requires_grad=True)
    out = x.half()
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out.numpy(), np.array([0.1, -2.5, 3.0]).astype(np.float16))
    (out * 3).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_cast_to_integer_is_not_differentiable():
    """Only floating-point tensors may require grad (``requires_grad_`` refuses integer
    ones); an integer cast has derivative 0 almost everywhere, and PyTorch cuts it
    from the graph. So ``x.long()`` must not carry a gradient back into ``x``."""
    x = tr.tensor([1.5, 2.5, -0.7], dtype=tr.float64, requires_grad=True)
    y = x.long()
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), [1, 2, 0])
    assert not y.requires_grad, "an integer tensor came out of a cast with requires_grad=True"


# ---------------------------------------------------------------- binary ops with broadcasting
@dataclass(frozen=True)
class Binary:
    """One binary op: the op, NumPy's forward, the closed-form gradients of each input
    (before summing back to the input's shape), and how inputs are drawn."""

    name: str
    fn: object
    forward: object
    grads: object  # (upstream, a, b) -> (d/da, d/db) in the broadcast output's shape
    a_range: tuple = (-3.0, 3.0)
    b_range: tuple = (-3.0, 3.0)
    prepare: object = None  # (a, b) -> (a, b): keep away from singularities and ties


def _b_away_from_zero(a, b):
    return a, away_from(b, (0.0,), 0.5)


BINARY = [
    Binary("add", lambda a, b: a + b, np.add, lambda g, a, b: (g, g)),
    Binary("add_method", lambda a, b: a.add(b), np.add, lambda g, a, b: (g, g)),
    Binary("sub", lambda a, b: a - b, np.subtract, lambda g, a, b: (g, -g)),
    Binary("sub_method", lambda a, b: a.sub(b), np.subtract, lambda g, a, b: (g, -g)),
    Binary("mul", lambda a, b: a * b, np.multiply, lambda g, a, b: (g * b, g * a)),
    Binary("mul_method", lambda a, b: a.mul(b), np.multiply, lambda g, a, b: (g * b, g * a)),
    Binary("div", lambda a, b: a / b, np.divide, lambda g, a, b: (g / b, -g * a / b**2), prepare=_b_away_from_zero),
    Binary("div_method", lambda a, b: a.div(b), np.divide, lambda g, a, b: (g / b, -g * a / b**2),
           prepare=_b_away_from_zero),
    Binary("pow", lambda a, b: a**b, np.power, lambda g, a, b: (g * b * a ** (b - 1), g * a**b * np.log(a)),
           a_range=(0.2, 3.0), b_range=(-2.0, 2.0)),
    Binary("pow_method", lambda a, b: a.pow(b), np.power,
           lambda g, a, b: (g * b * a ** (b - 1), g * a**b * np.log(a)), a_range=(0.2, 3.0), b_range=(-2.0, 2.0)),
    Binary("maximum", lambda a, b: a.maximum(b), np.maximum,
           lambda g, a, b: (g * (a > b), g * (a < b)), prepare=_untied),
    Binary("maximum_function", tr.maximum, np.maximum,
           lambda g, a, b: (g * (a > b), g * (a < b)), prepare=_untied),
    Binary("minimum", lambda a, b: a.minimum(b), np.minimum,
           lambda g, a, b: (g * (a < b), g * (a > b)), prepare=_untied),
    Binary("minimum_function", tr.minimum, np.minimum,
           lambda g, a, b: (g * (a < b), g * (a > b)), prepare=_untied),
]

SMOOTH_BINARY = {"add", "sub", "mul", "div", "pow", "sub_method", "mul_method", "div_method", "pow_method"}


def _binary_inputs(data, case: Binary):
    shape_a, shape_b = data.draw(broadcastable_shapes(2, **SMALL), label="shapes")
    a = data.draw(arrays(shape_a, *case.a_range), label="a")
    b = data.draw(arrays(shape_b, *case.b_range), label="b")
    return case.prepare(a, b) if case.prepare else (a, b)


def _binary_analytic(case: Binary):
    def analytic(g, a, b):
        a_full, b_full = np.broadcast_arrays(a, b)
        grad_a, grad_b = case.grads(g, a_full, b_full)
        return _unbroadcast(grad_a, a.shape), _unbroadcast(grad_b, b.shape)

    return analytic


@pytest.mark.parametrize("case", BINARY, ids=lambda c: c.name)
@given(data=st.data())
def test_binary_forward_and_gradients(case: Binary, data):
    a, b = _binary_inputs(data, case)
    out = check_forward(case.fn, [a, b], case.forward)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    check_gradients(case.fn, [a, b], _binary_analytic(case))


@pytest.mark.parametrize("case", [c for c in BINARY if c.name in SMOOTH_BINARY], ids=lambda c: c.name)
@given(data=st.data())
def test_binary_second_derivatives(case: Binary, data):
    a, b = _binary_inputs(data, case)
    check_second_derivatives(case.fn, [a, b])


@pytest.mark.parametrize("case", [c for c in BINARY if c.name in SMOOTH_BINARY], ids=lambda c: c.name)
@given(data=st.data())
def test_binary_gradient_when_one_input_is_constant(case: Binary, data):
    """Only one input requires grad: it gets the right gradient, the other gets none."""
    a, b = _binary_inputs(data, case)
    upstream = distinct_upstream(np.broadcast_shapes(a.shape, b.shape))
    want_a, want_b = _binary_analytic(case)(upstream, a, b)
    for which in (0, 1):
        ta = tr.tensor(a, requires_grad=which == 0)
        tb = tr.tensor(b, requires_grad=which == 1)
        case.fn(ta, tb).backward(tr.tensor(upstream))
        leaf, other, want = (ta, tb, want_a) if which == 0 else (tb, ta, want_b)
        assert other.grad is None
        assert_close(leaf.grad, want, what=f"gradient of input {which}")


@given(x=shapes(**SMALL).flatmap(lambda s: arrays(s, 0.2, 3.0)))
def test_same_tensor_on_both_sides_accumulates(x):
    """x*x, x/x, x-x, x+x, x**x: both uses' gradients add up in the one leaf."""
    cases = [
        (lambda t: t * t, lambda g, a: (2.0 * g * a,)),
        (lambda t: t + t, lambda g, a: (2.0 * g,)),
        (lambda t: t - t, lambda g, a: (np.zeros_like(a),)),
        (lambda t: t / t, lambda g, a: (np.zeros_like(a),)),
        (lambda t: t**t, lambda g, a: (g * a**a * (np.log(a) + 1.0),)),
    ]
    for fn, analytic in cases:
        check_gradients(fn, [x], analytic)


@given(data=st.data())
def test_where_with_three_broadcast_shapes(data):
    shape_c, shape_a, shape_b = data.draw(broadcastable_shapes(3, **SMALL), label="shapes")
    condition = data.draw(hnp.arrays(np.bool_, shape_c), label="condition")
    a = data.draw(arrays(shape_a), label="a")
    b = data.draw(arrays(shape_b), label="b")
    cond = tr.tensor(condition)

    def fn(x, y):
        return tr.where(cond, x, y)

    def analytic(g, x, y):
        c = np.broadcast_to(condition, g.shape)
        return _unbroadcast(np.where(c, g, 0.0), x.shape), _unbroadcast(np.where(c, 0.0, g), y.shape)

    out = check_forward(fn, [a, b], lambda x, y: np.where(condition, x, y))
    assert out.shape == np.broadcast_shapes(shape_c, shape_a, shape_b)
    check_gradients(fn, [a, b], analytic)
    check_second_derivatives(fn, [a, b])
    # the method form, PyTorch's ``a.where(condition, b)``, is the same op
    check_forward(lambda x, y: x.where(cond, y), [a, b], lambda x, y: np.where(condition, x, y))


@given(data=st.data())
def test_where_with_a_python_scalar_branch(data):
    shape_c, shape_a = data.draw(broadcastable_shapes(2, **SMALL), label="shapes")
    condition = data.draw(hnp.arrays(np.bool_, shape_c), label="condition")
    a = data.draw(arrays(shape_a), label="a")
    cond = tr.tensor(condition)
    for fn, forward, analytic in [
        (lambda x: tr.where(cond, x, 0.0), lambda x: np.where(condition, x, 0.0),
         lambda g, x: (_unbroadcast(np.where(np.broadcast_to(condition, g.shape), g, 0.0), x.shape),)),
        (lambda x: tr.where(cond, -1.0, x), lambda x: np.where(condition, -1.0, x),
         lambda g, x: (_unbroadcast(np.where(np.broadcast_to(condition, g.shape), 0.0, g), x.shape),)),
    ]:
        out = check_forward(fn, [a], forward)
        assert out.dtype == np.float64
        check_gradients(fn, [a], analytic)


# ---------------------------------------------------------------- Python scalars on either side
SCALAR_OPS = [
    ("2_minus_x", lambda x: 2 - x, lambda a: 2 - a, lambda a: -np.ones_like(a), (-3.0, 3.0), ()),
    ("3_div_x", lambda x: 3 / x, lambda a: 3 / a, lambda a: -3.0 / a**2, (-3.0, 3.0), (0.0,)),
    ("2_pow_x", lambda x: 2**x, lambda a: 2.0**a, lambda a: 2.0**a * np.log(2.0), (-3.0, 3.0), ()),
    ("half_pow_x", lambda x: 0.5**x, lambda a: 0.5**a, lambda a: 0.5**a * np.log(0.5), (-3.0, 3.0), ()),
    ("2_plus_x", lambda x: 2 + x, lambda a: 2 + a, np.ones_like, (-3.0, 3.0), ()),
    ("2.5_times_x", lambda x: 2.5 * x, lambda a: 2.5 * a, lambda a: np.full_like(a, 2.5), (-3.0, 3.0), ()),
    ("x_minus_2", lambda x: x - 2, lambda a: a - 2, np.ones_like, (-3.0, 3.0), ()),
    ("x_div_4", lambda x: x / 4, lambda a: a / 4, lambda a: np.full_like(a, 0.25), (-3.0, 3.0), ()),
    ("np_scalar_div_x", lambda x: np.float64(3.0) / x, lambda a: 3.0 / a, lambda a: -3.0 / a**2, (0.2, 3.0), ()),
    ("x_maximum_0.5", lambda x: x.maximum(0.5), lambda a: np.maximum(a, 0.5), lambda a: (a > 0.5) * 1.0,
     (-3.0, 3.0), (0.5,)),
    ("x_minimum_-1", lambda x: x.minimum(-1), lambda a: np.minimum(a, -1.0), lambda a: (a < -1) * 1.0,
     (-3.0, 3.0), (-1.0,)),
]
SMOOTH_SCALAR_OPS = [c for c in SCALAR_OPS if "maximum" not in c[0] and "minimum" not in c[0]]


@pytest.mark.parametrize("name, fn, forward, derivative, domain, kinks", SCALAR_OPS, ids=[c[0] for c in SCALAR_OPS])
@given(data=st.data())
def test_python_scalar_operand(name, fn, forward, derivative, domain, kinks, data):
    x = data.draw(shapes(**SMALL).flatmap(lambda s: arrays(s, *domain)), label="x")
    x = away_from(x, kinks, 0.1) if kinks else x
    out = check_forward(fn, [x], forward)
    assert out.dtype == np.float64 and out.shape == x.shape
    check_gradients(fn, [x], lambda g, a: (g * derivative(a),))


@pytest.mark.parametrize("name, fn, forward, derivative, domain, kinks", SMOOTH_SCALAR_OPS,
                         ids=[c[0] for c in SMOOTH_SCALAR_OPS])
@given(data=st.data())
def test_python_scalar_operand_second_derivatives(name, fn, forward, derivative, domain, kinks, data):
    x = data.draw(shapes(**SMALL).flatmap(lambda s: arrays(s, *domain)), label="x")
    x = away_from(x, kinks, 0.1) if kinks else x
    check_second_derivatives(fn, [x])


# ---------------------------------------------------------------- dtype rules
X32 = np.array([0.5, 1.25, 2.0])
SCALAR_EXPRESSIONS = [
    ("x + 2.5", lambda x: x + 2.5, X32 + 2.5),
    ("x - 1", lambda x: x - 1, X32 - 1),
    ("x * 2.5", lambda x: x * 2.5, X32 * 2.5),
    ("x / 3", lambda x: x / 3, X32 / 3),
    ("x ** 2", lambda x: x**2, X32**2),
    ("x ** 0.5", lambda x: x**0.5, X32**0.5),
    ("2 - x", lambda x: 2 - x, 2 - X32),
    ("3.0 / x", lambda x: 3.0 / x, 3.0 / X32),
    ("2 ** x", lambda x: 2**x, 2.0**X32),
    ("2.0 ** x", lambda x: 2.0**x, 2.0**X32),
    ("x.maximum(0.6)", lambda x: x.maximum(0.6), np.maximum(X32, 0.6)),
    ("x.minimum(1)", lambda x: x.minimum(1), np.minimum(X32, 1.0)),
    ("where(x > 1, x, 0.0)", lambda x: tr.where(x > 1, x, 0.0), np.where(X32 > 1, X32, 0.0)),
    ("x.clip(0.6, 1.5)", lambda x: x.clip(0.6, 1.5), np.clip(X32, 0.6, 1.5)),
    ("x + np.float64(2)", lambda x: x + np.float64(2.0), X32 + 2.0),
]


@pytest.mark.parametrize(
    "expression, want", [c[1:] for c in SCALAR_EXPRESSIONS], ids=[c[0] for c in SCALAR_EXPRESSIONS]
)
def test_float32_tensor_with_python_scalar_stays_float32(expression, want):
    x = tr.tensor(X32, dtype=tr.float32, requires_grad=True)
    out = expression(x)
    assert out.dtype == np.float32, f"got {out.dtype}"
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_float32_times_float64_promotes_and_keeps_each_gradient_dtype():
    a_np = np.arange(6.0).reshape(2, 3) - 2.5
    b_np = np.array([1.5, -2.0, 0.25])
    a = tr.tensor(a_np, dtype=tr.float32, requires_grad=True)
    b = tr.tensor(b_np, dtype=tr.float64, requires_grad=True)
    out = a * b
    assert out.dtype == np.float64 and out.shape == (2, 3)
    upstream = distinct_upstream((2, 3))
    out.backward(tr.tensor(upstream))
    assert a.grad.dtype == np.float32 and a.grad.shape == (2, 3)
    assert b.grad.dtype == np.float64 and b.grad.shape == (3,)
    assert_close(a.grad, upstream * b_np, atol=1e-6, rtol=1e-6)
    assert_close(b.grad, (upstream * a_np.astype(np.float32)).sum(axis=0), atol=1e-12, rtol=1e-12)
    # and the other way round, with the float64 tensor on the left
    c = tr.tensor(a_np, dtype=tr.float32, requires_grad=True)
    d = tr.tensor(b_np, dtype=tr.float64, requires_grad=True)
    (d + c).backward(tr.tensor(upstream))
    assert c.grad.dtype == np.float32 and d.grad.dtype == np.float64
    assert_close(d.grad, upstream.sum(axis=0), atol=1e-12, rtol=1e-12)


def test_integer_tensor_with_float_scalar_gives_float32():
    x = tr.tensor([1, 2, -3])
    assert x.dtype == np.int64
    for out, want in [(x * 2.5, [2.5, 5.0, -7.5]), (2.5 * x, [2.5, 5.0, -7.5]), (x + 0.5, [1.5, 2.5, -2.5]),
                      (x / 2, [0.5, 1.0, -1.5]), (x - 0.5, [0.5, 1.5, -3.5])]:
        assert out.dtype == np.float32, f"got {out.dtype}"
        np.testing.assert_array_equal(out.numpy(), np.array(want, dtype=np.float32))
    assert (x * 2).dtype == np.int64
    np.testing.assert_array_equal((x * 2).numpy(), [2, 4, -6])


def test_integer_tensor_with_float_tensor_takes_the_float_dtype():
    i = tr.tensor([1, 2, 3])
    f = tr.tensor([0.5, 0.5, 0.5], dtype=tr.float32, requires_grad=True)
    out = i * f
    assert out.dtype == np.float32
    out.backward(tr.tensor([1.0, 2.0, 3.0]))
    assert f.grad.dtype == np.float32
    np.testing.assert_allclose(f.grad.numpy(), [1.0, 4.0, 9.0])


# ---------------------------------------------------------------- numerical stability
@pytest.mark.parametrize("dtype", [tr.float32, tr.float64], ids=["float32", "float64"])
def test_huge_inputs_give_no_warning_and_no_nan(dtype):
    values = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    cases = [
        (lambda t: t.sigmoid(), _sigmoid_np(values), _sigmoid_np(values) * _sigmoid_np(-values)),
        (lambda t: t.tanh(), np.tanh(values), 1.0 - np.tanh(values) ** 2),
        (lambda t: (-t.abs()).exp(), np.exp(-np.abs(values)), -np.sign(values) * np.exp(-np.abs(values))),
        (lambda t: 2 ** (-t.abs()), 2.0 ** -np.abs(values), -np.sign(values) * np.log(2) * 2.0 ** -np.abs(values)),
        (lambda t: t.relu(), np.maximum(values, 0), (values > 0) * 1.0),
        (lambda t: t.clip(-1.0, 1.0), np.clip(values, -1, 1), (np.abs(values) <= 1) * 1.0),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn, want, derivative in cases:
            x = tr.tensor(values, dtype=dtype, requires_grad=True)
            out = fn(x)
            assert out.dtype == dtype
            assert np.all(np.isfinite(out.numpy()))
            np.testing.assert_allclose(out.numpy(), want.astype(np.dtype(dtype)), rtol=1e-5, atol=0)
            out.backward(tr.ones(values.shape, dtype=dtype))
            assert np.all(np.isfinite(x.grad.numpy()))
            # y(1 - y) near y = 1 (x = 30) is only good to about one ulp of 1, as in PyTorch
            np.testing.assert_allclose(x.grad.numpy(), derivative, rtol=1e-4, atol=np.finfo(dtype).eps)


def test_sigmoid_tail_is_relatively_accurate_in_float32():
    """σ(-30) ≈ 9.36e-14: computing 1 - σ(30) in float32 would give 0."""
    x = tr.tensor([-30.0, -80.0], dtype=tr.float32, requires_grad=True)
    y = x.sigmoid()
    want = _sigmoid_np(np.array([-30.0, -80.0]))
    assert np.all(y.numpy() > 0)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5)
    y.backward(tr.ones(2, dtype=tr.float32))
    np.testing.assert_allclose(x.grad.numpy(), want * (1 - want), rtol=1e-5)
    # the upper tail: σ(30) rounds to 1 in float32 and the gradient, although tiny, is not negative
    top = tr.tensor([30.0], dtype=tr.float32, requires_grad=True)
    top.sigmoid().backward(tr.ones(1, dtype=tr.float32))
    assert 0 <= top.grad.item() < 1e-7


# ---------------------------------------------------------------- kinks and ties (as PyTorch)
def test_maximum_and_minimum_split_ties_evenly():
    a = tr.tensor([1.0, 2.0, 3.0], dtype=tr.float64, requires_grad=True)
    b = tr.tensor([1.0, 5.0, 3.0], dtype=tr.float64, requires_grad=True)
    upstream = np.array([2.0, 4.0, 8.0])
    a.maximum(b).backward(tr.tensor(upstream))
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 0.0, 4.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 4.0, 4.0])
    a.grad = b.grad = None
    a.minimum(b).backward(tr.tensor(upstream))
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 4.0, 4.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 0.0, 4.0])


def test_maximum_tie_with_a_broadcast_scalar():
    """A 0-d input tied with every element of the other gets half of each, summed."""
    a = tr.ones(2, 3, dtype=tr.float64, requires_grad=True)
    b = tr.tensor(1.0, dtype=tr.float64, requires_grad=True)
    upstream = distinct_upstream((2, 3))
    tr.maximum(a, b).backward(tr.tensor(upstream))
    assert_close(a.grad, 0.5 * upstream, atol=1e-15, rtol=1e-15)
    assert b.grad.shape == ()
    assert_close(b.grad, 0.5 * upstream.sum(), atol=1e-15, rtol=1e-15)


def test_relu_gradient_is_zero_at_zero():
    x = tr.tensor([-1.0, 0.0, 1.0], dtype=tr.float64, requires_grad=True)
    x.relu().backward(tr.tensor([3.0, 5.0, 7.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 7.0])


def test_abs_gradient_is_zero_at_zero():
    x = tr.tensor([-2.0, 0.0, 2.0], dtype=tr.float64, requires_grad=True)
    x.abs().backward(tr.tensor([3.0, 5.0, 7.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [-3.0, 0.0, 7.0])


def test_clip_gradient_is_one_at_the_bounds():
    x = tr.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], dtype=tr.float64, requires_grad=True)
    x.clip(-1.0, 1.0).backward(tr.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 3.0, 4.0, 0.0])
    y = tr.tensor([-1.0, 1.0], dtype=tr.float64, requires_grad=True)
    (y.clamp(min=-1.0) + y.clamp(max=1.0)).backward(tr.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(y.grad.numpy(), [2.0, 20.0])


def test_clip_without_bounds_is_an_error():
    with pytest.raises(ValueError, match="min"):
        tr.ones(3).clip()


def test_pow_at_zero_base_and_zero_exponent():
    """x**0 is 1 with gradient 0 even at x = 0 (not 0 * inf = NaN); for a tensor
    exponent, d(a**b)/db at a = 0 is taken as 0."""
    x = tr.tensor([0.0, 2.0], dtype=tr.float64, requires_grad=True)
    y = x**0
    np.testing.assert_array_equal(y.numpy(), [1.0, 1.0])
    y.backward(tr.tensor([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    a = tr.tensor([0.0, 2.0], dtype=tr.float64, requires_grad=True)
    b = tr.tensor([2.0, 3.0], dtype=tr.float64, requires_grad=True)
    (a**b).backward(tr.tensor([1.0, 1.0]))
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 12.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 8.0 * np.log(2.0)])


# ---------------------------------------------------------------- shape errors
def test_incompatible_shapes_raise_a_value_error_naming_both():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        tr.ones(2, 3) + tr.ones(4)


@pytest.mark.parametrize(
    "fn",
    [lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a.maximum(b),
     lambda a, b: tr.where(tr.ones(2, 3) > 0, a, b)],
    ids=["sub", "mul", "div", "maximum", "where"],
)
def test_incompatible_shapes_raise_for_every_binary_op(fn):
    with pytest.raises(ValueError, match=r"\(4,\)"):
        fn(tr.ones(2, 3), tr.ones(4))
