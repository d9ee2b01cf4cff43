"""Reductions and their relatives: sum, mean, var, std, amax/amin, max/min,
argmax/argmin, logsumexp, softmax, log_softmax, one_hot, comparisons, dropout.

Every differentiable reduction is checked three ways over drawn shapes and drawn
axes (None, an int, a negative int, a tuple of axes), with keepdim on and off and
under both spellings (``dim=``/``keepdim=`` and ``axis=``/``keepdims=``):
forward against NumPy, gradient against a closed form written here in NumPy, and
gradient against finite differences.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tests.helpers import (
    arrays,
    assert_close,
    broadcastable_shapes,
    check_forward,
    check_gradients,
    check_second_derivatives,
    distinct_upstream,
    shapes,
)

# every test here runs once per backend: cpu, the CuPy-like strict backend, and cuda when present
pytestmark = pytest.mark.usefixtures("each_device")

SPELLINGS = ("dim", "axis", "positional")


# ---------------------------------------------------------------- strategies and NumPy helpers
def draw_axes(data, ndim: int, *, allow_none: bool = True, allow_tuple: bool = True):
    """An axis argument valid for ``ndim`` dimensions: None, an int (maybe negative),
    or a non-empty tuple of distinct axes (each maybe negative)."""
    kinds = (["none"] if allow_none else []) + (["int"] + (["tuple"] if allow_tuple else []) if ndim else [])
    kind = data.draw(st.sampled_from(kinds), label="axis kind")
    if kind == "none":
        return None
    if kind == "int":
        return data.draw(st.integers(-ndim, ndim - 1), label="axis")
    axes = data.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True), label="axes")
    negate = data.draw(st.lists(st.booleans(), min_size=len(axes), max_size=len(axes)), label="negate")
    return tuple(a - ndim if n else a for a, n in zip(axes, negate))


def normalized(axes, ndim: int) -> tuple:
    """The axis argument as a sorted tuple of non-negative axes."""
    if axes is None:
        return tuple(range(ndim))
    axes = (axes,) if isinstance(axes, int) else axes
    return tuple(sorted(a % ndim for a in axes))


def count_of(shape, axes) -> int:
    return math.prod(shape[a] for a in normalized(axes, len(shape)))


def kept(g: np.ndarray, shape: tuple, axes, keepdim: bool) -> np.ndarray:
    """An upstream gradient of a reduction, reshaped to broadcast against the input."""
    g = np.asarray(g)
    return g if keepdim else np.expand_dims(g, normalized(axes, len(shape)))


@st.composite
def distinct_arrays(draw, shape, gap: float = 0.1):
    """float64 arrays whose values all differ by at least 0.4*gap (a permuted arange
    plus jitter): no ties, and no pair close enough to confuse a finite difference."""
    size = math.prod(shape)
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    jitter = draw(arrays((size,), -0.3 * gap, 0.3 * gap))
    return ((order - (size - 1) / 2) * gap + jitter).reshape(shape)


def np_logsumexp(x, axes, keepdim):
    m = np.max(x, axis=axes, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True))
    return out if keepdim else np.squeeze(out, axis=normalized(axes, x.ndim))


def np_softmax(x, axes):
    e = np.exp(x - np.max(x, axis=axes, keepdims=True))
    return e / e.sum(axis=axes, keepdims=True)


def np_log_softmax(x, axes):
    return x - np_logsumexp(x, axes, keepdim=True)


def reduce_call(name: str, axes, keepdim: bool, spelling: str, **kwargs):
    """``x.name(...)`` under one of the spellings of the axis arguments."""
    if spelling == "dim":
        return lambda x: getattr(x, name)(dim=axes, keepdim=keepdim, **kwargs)
    if spelling == "axis":
        return lambda x: getattr(x, name)(axis=axes, keepdims=keepdim, **kwargs)
    if name in ("var", "std"):  # PyTorch's positional form is (dim, unbiased, keepdim)
        unbiased = kwargs.get("correction", 1) == 1
        return lambda x: getattr(x, name)(axes, unbiased, keepdim)
    return lambda x: getattr(x, name)(axes, keepdim, **kwargs)


# ---------------------------------------------------------------- sum, mean, var, std, amax, amin
def _np_forward(name, correction):
    return {
        "sum": lambda x, axes, keep: np.sum(x, axis=axes, keepdims=keep),
        "mean": lambda x, axes, keep: np.mean(x, axis=axes, keepdims=keep),
        "var": lambda x, axes, keep: np.var(x, axis=axes, keepdims=keep, ddof=correction),
        "std": lambda x, axes, keep: np.std(x, axis=axes, keepdims=keep, ddof=correction),
        "amax": lambda x, axes, keep: np.amax(x, axis=axes, keepdims=keep),
        "amin": lambda x, axes, keep: np.amin(x, axis=axes, keepdims=keep),
    }[name]


def _np_gradient(name, correction):
    """The closed-form vector-Jacobian product g -> g dy/dx of each reduction."""

    def gradient(g, x, axes, keep):
        gk = kept(g, x.shape, axes, keep)
        n = count_of(x.shape, axes)
        centered = x - x.mean(axis=axes, keepdims=True)
        if name == "sum":
            return np.broadcast_to(gk, x.shape).copy()
        if name == "mean":
            return np.broadcast_to(gk / n, x.shape).copy()
        if name == "var":
            return 2.0 * centered / (n - correction) * gk
        if name == "std":
            std = np.std(x, axis=axes, keepdims=True, ddof=correction)
            return centered / ((n - correction) * std) * gk
        extreme = np.amax(x, axis=axes, keepdims=True) if name == "amax" else np.amin(x, axis=axes, keepdims=True)
        return (x == extreme) * gk  # values are distinct: the upstream goes to the arg-extreme element

    return gradient


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "amax", "amin"])
@given(data=st.data())
def test_reduction_forward_and_gradients(name, data):
    correction = data.draw(st.sampled_from([0, 1]), label="correction") if name in ("var", "std") else None
    # var with correction 1 needs two elements per reduction, std a nonzero spread (its derivative
    # at 0 is infinite); std and amax/amin need distinct values
    needs_two = name == "std" or correction == 1
    shape = data.draw(shapes(min_dims=1, min_side=2) if needs_two else shapes(), label="shape")
    if name in ("std", "amax", "amin"):
        x = data.draw(distinct_arrays(shape), label="x")
    else:
        x = data.draw(arrays(shape), label="x")
    axes = draw_axes(data, len(shape))
    keepdim = data.draw(st.booleans(), label="keepdim")
    spelling = data.draw(st.sampled_from(SPELLINGS), label="spelling")
    kwargs = {} if correction is None else {"correction": correction}
    fn = reduce_call(name, axes, keepdim, spelling, **kwargs)
    expected, analytic = _np_forward(name, correction), _np_gradient(name, correction)

    out = check_forward(fn, [x], lambda a: expected(a, axes, keepdim))
    for other in SPELLINGS:  # every spelling gives the same values and shape
        assert_close(
            reduce_call(name, axes, keepdim, other, **kwargs)(tr.tensor(x)),
            out,
            atol=0,
            rtol=0,
            what=f"{other} spelling",
        )
    check_gradients(fn, [x], lambda g, a: (analytic(g, a, axes, keepdim),))


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "amax", "amin", "argmax", "argmin"])
def test_passing_both_spellings_is_a_type_error(name):
    x = tr.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError):
        getattr(x, name)(dim=0, axis=0)
    with pytest.raises(TypeError):
        getattr(x, name)(0, keepdim=True, keepdims=True)


def test_reductions_with_no_axis_reduce_everything():
    x = np.arange(24.0).reshape(2, 3, 4) - 7.5
    t = tr.tensor(x)
    assert_close(t.sum(), np.sum(x))
    assert_close(t.mean(), np.mean(x))
    assert_close(t.var(), np.var(x, ddof=1))  # PyTorch's default correction is 1
    assert_close(t.std(), np.std(x, ddof=1))
    assert_close(t.max(), np.max(x))
    assert_close(t.min(), np.min(x))
    assert_close(t.logsumexp(None), np_logsumexp(x, None, False))


def test_mean_of_integers_is_floating():
    out = tr.tensor([[1, 2], [3, 5]]).mean(dim=1)
    assert out.dtype.kind == "f"
    assert_close(out, np.array([1.5, 4.0]).astype(out.dtype))


@pytest.mark.parametrize("name", ["sum", "mean", "var"])
@given(data=st.data())
def test_second_derivatives_sum_mean_var(name, data):
    shape = data.draw(shapes(min_dims=1, max_dims=2, min_side=2, max_side=3), label="shape")
    x = data.draw(arrays(shape), label="x")
    axes = draw_axes(data, len(shape))
    keepdim = data.draw(st.booleans(), label="keepdim")
    if name == "var":
        correction = data.draw(st.sampled_from([0, 1]), label="correction")
        check_second_derivatives(lambda t: t.var(axes, keepdim=keepdim, correction=correction), [x])
    else:
        # sum and mean are linear: square them so the second derivative runs through their backward
        check_second_derivatives(lambda t: getattr(t, name)(axes, keepdim) ** 2, [x])


# ---------------------------------------------------------------- ties, max/min, argmax/argmin
@pytest.mark.parametrize("name", ["amax", "amin"])
@given(data=st.data())
def test_extreme_gradient_is_split_evenly_among_ties(name, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 0.0, 1.0])), label="x")
    axes = draw_axes(data, len(shape))
    keepdim = data.draw(st.booleans(), label="keepdim")
    extreme = (np.amax if name == "amax" else np.amin)(x, axis=axes, keepdims=True)
    winners = (x == extreme).astype(np.float64)

    def analytic(g, a):
        return (winners / winners.sum(axis=axes, keepdims=True) * kept(g, a.shape, axes, keepdim),)

    check_gradients(lambda t: getattr(t, name)(axes, keepdim), [x], analytic, finite_differences=False)


def test_amax_ties_explicit():
    x = tr.tensor([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]], dtype=tr.float64, requires_grad=True)
    x.amax(dim=1).backward(tr.tensor([6.0, 9.0], dtype=tr.float64))
    assert_close(x.grad, np.array([[3.0, 0.0, 3.0], [3.0, 3.0, 3.0]]))


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_max_min_with_int_dim_return_values_and_indices(name, data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    x = data.draw(distinct_arrays(shape), label="x")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    np_value = np.max if name == "max" else np.min
    np_index = np.argmax if name == "max" else np.argmin

    t = tr.tensor(x, requires_grad=True)
    result = getattr(t, name)(dim, keepdim)
    values, indices = result  # a (values, indices) pair, as in PyTorch
    assert result.values is values and result.indices is indices
    assert_close(values, np_value(x, axis=dim, keepdims=keepdim), atol=0, rtol=0, what="values")
    assert indices.dtype == np.int64
    assert not indices.requires_grad
    np.testing.assert_array_equal(indices.numpy(), np_index(x, axis=dim, keepdims=keepdim))
    by_keyword = getattr(tr.tensor(x), name)(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(by_keyword.indices.numpy(), indices.numpy())
    assert_close(by_keyword.values, values, atol=0, rtol=0)

    # NumPy's spelling returns the values only
    only_values = getattr(tr.tensor(x), name)(axis=dim, keepdims=keepdim)
    assert isinstance(only_values, tr.Tensor)
    assert_close(only_values, values, atol=0, rtol=0)

    def analytic(g, a):  # the upstream goes to the element the indices name
        onehot = np.expand_dims(np.arange(a.shape[dim]), tuple(i for i in range(a.ndim) if i != dim % a.ndim))
        chosen = onehot == np_index(a, axis=dim, keepdims=True)
        return (chosen * kept(g, a.shape, dim, keepdim),)

    check_gradients(lambda u: getattr(u, name)(dim, keepdim).values, [x], analytic)


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_max_min_without_int_dim_return_values(name, data):
    shape = data.draw(shapes(), label="shape")
    x = data.draw(distinct_arrays(shape), label="x")
    axes = draw_axes(data, len(shape), allow_tuple=True)
    if isinstance(axes, int):
        axes = (axes,)  # an int dim returns a pair; tuples and None return values
    keepdim = data.draw(st.booleans(), label="keepdim")
    out = getattr(tr.tensor(x), name)(axes, keepdim)
    assert isinstance(out, tr.Tensor)
    assert_close(out, (np.max if name == "max" else np.min)(x, axis=axes, keepdims=keepdim), atol=0, rtol=0)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data())
def test_argmax_argmin_match_numpy(name, data):
    shape = data.draw(shapes(), label="shape")
    x = data.draw(distinct_arrays(shape), label="x")
    dim = draw_axes(data, len(shape), allow_tuple=False)
    keepdim = data.draw(st.booleans(), label="keepdim")
    spelling = data.draw(st.sampled_from(SPELLINGS), label="spelling")
    t = tr.tensor(x, requires_grad=True)
    out = reduce_call(name, dim, keepdim, spelling)(t)
    expected = getattr(np, name)(x, axis=dim, keepdims=keepdim)
    assert out.dtype == np.int64
    assert not out.requires_grad and out.grad_fn is None
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)


# ---------------------------------------------------------------- logsumexp, softmax, log_softmax
@given(data=st.data())
def test_logsumexp(data):
    shape = data.draw(shapes(), label="shape")
    x = data.draw(arrays(shape), label="x")
    axes = draw_axes(data, len(shape))
    keepdim = data.draw(st.booleans(), label="keepdim")
    by_keyword = check_forward(
        lambda t: t.logsumexp(dim=axes, keepdim=keepdim), [x], lambda a: np_logsumexp(a, axes, keepdim)
    )
    assert_close(tr.tensor(x).logsumexp(axes, keepdim), by_keyword, atol=0, rtol=0, what="positional")

    def analytic(g, a):
        return (np_softmax(a, axes) * kept(g, a.shape, axes, keepdim),)

    check_gradients(lambda t: t.logsumexp(axes, keepdim), [x], analytic)


def test_logsumexp_default_dim_is_last():
    x = np.arange(6.0).reshape(2, 3)
    assert_close(tr.tensor(x).logsumexp(), np_logsumexp(x, -1, False))


def test_logsumexp_accepts_numpy_spelling():
    """axis=/keepdims= must work and agree with dim=/keepdim=, as for every other reduction."""
    x = np.arange(24.0).reshape(2, 3, 4) / 7
    t = tr.tensor(x)
    for axes in (None, 1, -1, (0, 2)):
        for keep in (False, True):
            assert_close(t.logsumexp(axis=axes, keepdims=keep), t.logsumexp(dim=axes, keepdim=keep), atol=0, rtol=0)
            assert_close(t.logsumexp(axis=axes, keepdims=keep), np_logsumexp(x, axes, keep))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_and_log_softmax(name, data):
    shape = data.draw(shapes(), label="shape")
    x = data.draw(arrays(shape), label="x")
    axes = draw_axes(data, len(shape))
    by_keyword = getattr(tr.tensor(x), name)(dim=axes)
    expected = np_softmax if name == "softmax" else np_log_softmax
    out = check_forward(lambda t: getattr(t, name)(axes), [x], lambda a: expected(a, axes))
    assert_close(by_keyword, out, atol=0, rtol=0, what="dim= spelling")
    if name == "softmax":  # probabilities along the axes
        assert_close(out.numpy().sum(axis=axes), np.ones(np.sum(x, axis=axes).shape), atol=1e-12)

    def analytic(g, a):
        s = np_softmax(a, axes)
        if name == "softmax":
            return (s * (g - (g * s).sum(axis=axes, keepdims=True)),)
        return (g - s * g.sum(axis=axes, keepdims=True),)

    check_gradients(lambda t: getattr(t, name)(axes), [x], analytic)


def test_softmax_default_dim_is_last():
    x = np.arange(6.0).reshape(2, 3) / 3
    assert_close(tr.tensor(x).softmax(), np_softmax(x, -1))
    assert_close(tr.tensor(x).log_softmax(), np_log_softmax(x, -1))


@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
@given(data=st.data())
def test_second_derivatives_logsumexp_softmax(name, data):
    shape = data.draw(shapes(min_dims=1, max_dims=2, max_side=3), label="shape")
    x = data.draw(arrays(shape), label="x")
    dim = draw_axes(data, len(shape))
    check_second_derivatives(lambda t: getattr(t, name)(dim), [x])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(data=st.data())
def test_large_magnitudes_are_stable(dtype, data):
    """Values of ±1000 neither overflow nor warn; results and gradients are right."""
    shape = data.draw(shapes(min_dims=1), label="shape")
    base = data.draw(arrays(shape), label="base")
    signs = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])), label="signs")
    x = (base + 1000.0 * signs).astype(dtype)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x64 = x.astype(np.float64)
    tol = dict(atol=1e-10, rtol=1e-10) if dtype == np.float64 else dict(atol=1e-3, rtol=1e-5)
    g = distinct_upstream(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, expected in [
            ("logsumexp", np_logsumexp(x64, dim, False)),
            ("softmax", np_softmax(x64, dim)),
            ("log_softmax", np_log_softmax(x64, dim)),
        ]:
            t = tr.tensor(x, requires_grad=True)
            out = getattr(t, name)(dim)
            assert out.dtype == dtype
            assert np.all(np.isfinite(out.numpy())), f"{name} is not finite"
            assert_close(out.numpy().astype(np.float64), expected, what=name, **tol)
            upstream = g if name != "logsumexp" else g.sum(axis=dim)
            out.backward(tr.tensor(upstream, dtype=dtype))
            assert np.all(np.isfinite(t.grad.numpy())), f"{name} gradient is not finite"
            s = np_softmax(x64, dim)
            if name == "logsumexp":
                want = s * np.expand_dims(upstream, dim % len(shape))
            elif name == "softmax":
                want = s * (upstream - (upstream * s).sum(axis=dim, keepdims=True))
            else:
                want = upstream - s * upstream.sum(axis=dim, keepdims=True)
            assert_close(
                t.grad.numpy().astype(np.float64),
                want,
                what=f"{name} gradient",
                atol=1e-8 if dtype == np.float64 else 1e-3,
                rtol=1e-6 if dtype == np.float64 else 1e-3,
            )


def test_large_magnitudes_explicit():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = tr.tensor([[1000.0, 1000.0], [-1000.0, -1000.0], [1000.0, -1000.0]], dtype=tr.float64)
        assert_close(x.logsumexp(1), np.array([1000.0 + np.log(2), -1000.0 + np.log(2), 1000.0]), atol=1e-12)
        assert_close(x.softmax(1), np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]]), atol=1e-12)
        assert_close(x.log_softmax(1), np.array([[-np.log(2)] * 2, [-np.log(2)] * 2, [0.0, -2000.0]]), atol=1e-12)


# ---------------------------------------------------------------- one_hot
@given(data=st.data())
def test_one_hot(data):
    shape = data.draw(shapes(max_dims=2), label="shape")
    classes = data.draw(st.integers(1, 5), label="classes")
    indices = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, classes - 1)), label="indices")
    out = tr.one_hot(tr.tensor(indices), classes)
    assert out.dtype == np.int64
    assert not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), np.eye(classes, dtype=np.int64)[indices])
    inferred = tr.one_hot(tr.tensor(indices))  # num_classes = max index + 1
    np.testing.assert_array_equal(inferred.numpy(), np.eye(int(indices.max()) + 1, dtype=np.int64)[indices])


@pytest.mark.parametrize("bad", [[0, 3], [-1, 1], [5]])
def test_one_hot_rejects_out_of_range_indices(bad):
    with pytest.raises(ValueError):
        tr.one_hot(tr.tensor(bad), 3)


def test_one_hot_rejects_float_indices():
    with pytest.raises(TypeError):
        tr.one_hot(tr.tensor([0.0, 1.0]), 3)


# ---------------------------------------------------------------- comparisons
COMPARISONS = {
    "<": (lambda a, b: a < b, np.less),
    "<=": (lambda a, b: a <= b, np.less_equal),
    ">": (lambda a, b: a > b, np.greater),
    ">=": (lambda a, b: a >= b, np.greater_equal),
    "==": (lambda a, b: a == b, np.equal),
    "!=": (lambda a, b: a != b, np.not_equal),
}


@pytest.mark.parametrize("op", list(COMPARISONS))
@given(data=st.data())
def test_comparisons_give_bool_tensors_without_grad(op, data):
    shape_a, shape_b = data.draw(broadcastable_shapes(), label="shapes")
    values = st.sampled_from([-1.0, 0.0, 0.5, 1.0])  # few values, so equalities happen
    a = data.draw(hnp.arrays(np.float64, shape_a, elements=values), label="a")
    b = data.draw(hnp.arrays(np.float64, shape_b, elements=values), label="b")
    ours, theirs = COMPARISONS[op]
    ta, tb = tr.tensor(a, requires_grad=True), tr.tensor(b, requires_grad=True)
    out = ours(ta, tb)
    assert isinstance(out, tr.Tensor)
    assert out.dtype == np.bool_
    assert not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(out.numpy(), theirs(a, b))
    scalar = ours(ta, 0.5)  # against a Python number
    assert scalar.dtype == np.bool_ and not scalar.requires_grad
    np.testing.assert_array_equal(scalar.numpy(), theirs(a, 0.5))


# ---------------------------------------------------------------- dropout
@given(data=st.data())
def test_dropout_zeroes_or_scales_and_gradient_uses_the_same_mask(data):
    shape = data.draw(shapes(min_dims=1), label="shape")
    x = data.draw(arrays(shape, 0.5, 3.0), label="x") * data.draw(
        hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])), label="signs"
    )  # no zeros
    p = data.draw(st.sampled_from([0.1, 0.25, 0.5, 0.8]), label="p")
    t = tr.tensor(x, requires_grad=True)
    out = t.dropout(p)
    assert out.shape == x.shape and out.dtype == x.dtype
    y = out.numpy()
    kept_mask = y != 0
    np.testing.assert_allclose(y[kept_mask], x[kept_mask] / (1 - p), rtol=1e-12)
    g = distinct_upstream(shape)
    out.backward(tr.tensor(g))
    assert_close(t.grad, g * kept_mask / (1 - p), atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_dropout_in_eval_mode_is_identity(p):
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    t = tr.tensor(x, requires_grad=True)
    out = t.dropout(p, training=False)
    assert_close(out, x, atol=0, rtol=0)
    out.backward(tr.tensor(np.full((3, 4), 2.0)))
    assert_close(t.grad, np.full((3, 4), 2.0), atol=0, rtol=0)


def test_dropout_p_one_zeroes_everything_and_p_zero_is_identity():
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    assert_close(tr.tensor(x).dropout(1.0), np.zeros((3, 4)), atol=0, rtol=0)
    assert_close(tr.tensor(x).dropout(0.0), x, atol=0, rtol=0)


@pytest.mark.parametrize("p", [-0.1, 1.1, 2.0])
def test_dropout_rejects_p_outside_unit_interval(p):
    with pytest.raises(ValueError):
        tr.ones(3).dropout(p)
    with pytest.raises(ValueError):
        tr.ones(3).dropout(p, training=False)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
def test_dropout_zero_fraction_is_near_p(p):
    out = tr.ones(200, 100, dtype=tr.float64).dropout(p).numpy()
    fraction = float(np.mean(out == 0))
    assert abs(fraction - p) < 0.02  # 20,000 draws: the standard error is below 0.0036
    # the mean is kept unchanged in expectation
    assert abs(out.mean() - 1.0) < 0.05


def test_dropout_masks_differ_between_calls():
    x = tr.ones(1000)
    assert not np.array_equal(x.dropout(0.5).numpy(), x.dropout(0.5).numpy())
