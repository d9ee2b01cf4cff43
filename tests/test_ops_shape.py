"""Shape and movement ops (reshape, view, flatten, transpose, permute, .T, .mT,
squeeze, unsqueeze, expand, indexing, cat, stack, split, chunk) and matmul.

Each is checked over drawn shapes: forward against NumPy, gradient against a closed
form written here in NumPy, and gradient against finite differences. Indexing's
closed form is an independent one: the map from output element to input element,
built by indexing ``arange``, with repeats summed by ``np.bincount``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tests.helpers import (
    arrays,
    assert_close,
    check_forward,
    check_gradients,
    check_second_derivatives,
    distinct_upstream,
    shapes,
)

# every test here runs once per backend: cpu, the CuPy-like strict backend, and cuda when present
pytestmark = pytest.mark.usefixtures("each_device")


# ---------------------------------------------------------------- NumPy helpers
def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: over leading axes broadcasting added, and over
    axes where ``shape`` has size 1."""
    grad = np.asarray(grad)
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad.reshape(shape)


def gather_gradient(shape: tuple, np_index, g: np.ndarray) -> np.ndarray:
    """The gradient of ``x[np_index]``: each output element sends its upstream value to
    the input element it was read from; elements read twice get the sum."""
    size = math.prod(shape)
    source = np.arange(size).reshape(shape)[np_index]
    return np.bincount(np.ravel(source), weights=np.ravel(g), minlength=size).reshape(shape)


# ---------------------------------------------------------------- reshape, view, flatten
@st.composite
def reshape_targets(draw, shape):
    """A shape with the same number of elements (one entry maybe -1)."""
    rest = math.prod(shape)
    dims = []
    for _ in range(draw(st.integers(0, 3), label="extra dims")):
        dividers = [d for d in range(1, rest + 1) if rest % d == 0]
        d = draw(st.sampled_from(dividers))
        dims.append(d)
        rest //= d
    if rest != 1 or not dims or draw(st.booleans()):
        dims.append(rest)
    dims = list(draw(st.permutations(dims)))
    if dims and draw(st.booleans(), label="use -1"):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return tuple(dims)


@pytest.mark.parametrize("form", ["varargs", "tuple", "view"])
@given(data=st.data())
def test_reshape_and_view(form, data):
    shape = data.draw(shapes(), label="shape")
    x = data.draw(arrays(shape), label="x")
    target = data.draw(reshape_targets(shape), label="target")
    fn = {
        "varargs": lambda t: t.reshape(*target),
        "tuple": lambda t: t.reshape(target),
        "view": lambda t: t.view(*target),
    }[form]
    out = check_forward(fn, [x], lambda a: a.reshape(target), atol=0, rtol=0)
    assert -1 not in out.shape
    check_gradients(fn, [x], lambda g, a: (g.reshape(a.shape),))


@given(data=st.data())
def test_flatten(data):
    shape = data.draw(shapes(min_dims=1, max_dims=4, max_side=3), label="shape")
    x = data.draw(arrays(shape), label="x")
    ndim = len(shape)
    start = data.draw(st.integers(0, ndim - 1), label="start")
    end = data.draw(st.integers(start, ndim - 1), label="end")
    start_arg = start - ndim if data.draw(st.booleans(), label="negative start") else start
    end_arg = end - ndim if data.draw(st.booleans(), label="negative end") else end
    target = shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :]

    def fn(t):
        return t.flatten(start_arg, end_arg)

    check_forward(fn, [x], lambda a: a.reshape(target), atol=0, rtol=0)
    check_gradients(fn, [x], lambda g, a: (g.reshape(a.shape),))
    assert_close(tr.flatten(tr.tensor(x)), x.ravel(), atol=0, rtol=0, what="flatten() of everything")


def test_flatten_of_a_scalar_is_one_dimensional():
    assert tr.tensor(3.0).flatten().shape == (1,)


# ---------------------------------------------------------------- transpose, permute, .T, .mT
@given(data=st.data())
def test_transpose_swaps_two_dims(data):
    shape = data.draw(shapes(min_dims=1, max_dims=4, max_side=3), label="shape")
    x = data.draw(arrays(shape), label="x")
    ndim = len(shape)
    a = data.draw(st.integers(-ndim, ndim - 1), label="a")
    b = data.draw(st.integers(-ndim, ndim - 1), label="b")
    check_forward(lambda t: t.transpose(a, b), [x], lambda v: np.swapaxes(v, a, b), atol=0, rtol=0)
    assert_close(tr.tensor(x).swapaxes(a, b), np.swapaxes(x, a, b), atol=0, rtol=0, what="swapaxes")
    assert_close(tr.transpose(tr.tensor(x), a, b), np.swapaxes(x, a, b), atol=0, rtol=0, what="tr.transpose")
    check_gradients(lambda t: t.transpose(a, b), [x], lambda g, v: (np.swapaxes(g, a, b),))


@pytest.mark.parametrize("form", ["permute", "permute_tuple", "transpose_tuple", "transpose_varargs"])
@given(data=st.data())
def test_permutations(form, data):
    shape = data.draw(shapes(max_dims=4, max_side=3), label="shape")
    ndim = len(shape)
    if form == "transpose_varargs" and ndim == 2:
        shape = shape + (2,)  # two ints mean a PyTorch swap, tested above
        ndim = 3
    x = data.draw(arrays(shape), label="x")
    order = data.draw(st.permutations(range(ndim)), label="order")
    negate = data.draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim), label="negate")
    dims = tuple(d - ndim if n else d for d, n in zip(order, negate))
    if form.startswith("transpose"):
        dims = tuple(order)  # NumPy's transpose takes non-negative axes here
    fn = {
        "permute": lambda t: t.permute(*dims),
        "permute_tuple": lambda t: t.permute(dims),
        "transpose_tuple": lambda t: t.transpose(dims),
        "transpose_varargs": lambda t: t.transpose(*dims),
    }[form]
    check_forward(fn, [x], lambda v: np.transpose(v, order), atol=0, rtol=0)
    check_gradients(fn, [x], lambda g, v: (np.transpose(g, np.argsort(order)),))


@given(data=st.data())
def test_T_and_transpose_without_arguments_reverse_all_dims(data):
    shape = data.draw(shapes(max_dims=4, max_side=3), label="shape")
    x = data.draw(arrays(shape), label="x")
    check_forward(lambda t: t.T, [x], lambda v: v.T, atol=0, rtol=0)
    check_forward(lambda t: t.transpose(), [x], lambda v: v.transpose(), atol=0, rtol=0)
    check_gradients(lambda t: t.T, [x], lambda g, v: (g.T,))


@given(data=st.data())
def test_mT_swaps_the_last_two_dims(data):
    shape = data.draw(shapes(min_dims=2, max_dims=4, max_side=3), label="shape")
    x = data.draw(arrays(shape), label="x")
    check_forward(lambda t: t.mT, [x], lambda v: np.swapaxes(v, -1, -2), atol=0, rtol=0)
    check_gradients(lambda t: t.mT, [x], lambda g, v: (np.swapaxes(g, -1, -2),))


# ---------------------------------------------------------------- squeeze, unsqueeze
@given(data=st.data())
def test_squeeze(data):
    shape = data.draw(shapes(max_dims=4, max_side=2), label="shape")  # many sizes of 1
    x = data.draw(arrays(shape), label="x")
    ndim = len(shape)
    kind = data.draw(st.sampled_from(["all", "int", "tuple"] if ndim else ["all"]), label="kind")
    if kind == "all":
        dims, arg = tuple(i for i, n in enumerate(shape) if n == 1), None
    elif kind == "int":
        arg = data.draw(st.integers(-ndim, ndim - 1), label="dim")
        dims = (arg % ndim,)
    else:
        dims = tuple(data.draw(st.lists(st.integers(0, ndim - 1), min_size=1, unique=True), label="dims"))
        arg = dims
    # PyTorch: a named dimension whose size is not 1 is left alone
    target = tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1))

    def fn(t):
        return t.squeeze() if arg is None else t.squeeze(arg)

    check_forward(fn, [x], lambda v: v.reshape(target), atol=0, rtol=0)
    if arg is None:
        assert_close(fn(tr.tensor(x)), np.squeeze(x), atol=0, rtol=0, what="squeeze() vs NumPy")
    check_gradients(fn, [x], lambda g, v: (g.reshape(v.shape),))


@given(data=st.data())
def test_unsqueeze(data):
    shape = data.draw(shapes(max_dims=3), label="shape")
    x = data.draw(arrays(shape), label="x")
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    check_forward(lambda t: t.unsqueeze(dim), [x], lambda v: np.expand_dims(v, dim), atol=0, rtol=0)
    check_gradients(lambda t: t.unsqueeze(dim), [x], lambda g, v: (g.reshape(v.shape),))


# ---------------------------------------------------------------- expand, broadcast_to
@st.composite
def expand_targets(draw, shape):
    """(the argument to expand, which may hold -1, and the resulting shape)."""
    lead = draw(st.lists(st.integers(1, 3), max_size=2), label="leading sizes")
    grown = [draw(st.integers(1, 3)) if n == 1 else n for n in shape]
    argument = [n if draw(st.booleans()) else -1 for n in grown] if grown else []
    argument = [n if a == -1 and s != n else a for a, n, s in zip(argument, grown, shape)]
    return tuple(lead + argument), tuple(lead + grown)


@pytest.mark.parametrize("form", ["expand", "expand_tuple", "broadcast_to"])
@given(data=st.data())
def test_expand_and_broadcast_to(form, data):
    shape = data.draw(shapes(max_dims=3, max_side=3), label="shape")
    x = data.draw(arrays(shape), label="x")
    argument, target = data.draw(expand_targets(shape), label="target")
    if form == "broadcast_to":
        argument = target
    fn = {
        "expand": lambda t: t.expand(*argument),
        "expand_tuple": lambda t: t.expand(argument),
        "broadcast_to": lambda t: t.broadcast_to(argument),
    }[form]
    check_forward(fn, [x], lambda v: np.broadcast_to(v, target), atol=0, rtol=0)
    check_gradients(fn, [x], lambda g, v: (unbroadcast(g, v.shape),))


def test_expand_gradient_is_summed_back_explicit():
    x = tr.tensor([[1.0], [2.0]], dtype=tr.float64, requires_grad=True)
    x.expand(3, 2, 4).backward(tr.ones(3, 2, 4, dtype=tr.float64))
    assert_close(x.grad, np.full((2, 1), 12.0), atol=0, rtol=0)


@pytest.mark.parametrize("target", [(3, 2), (2,), (2, 4), (4, 3, 3)])
def test_expand_to_an_incompatible_shape_raises(target):
    with pytest.raises(ValueError):
        tr.zeros(2, 3).expand(*target)


# ---------------------------------------------------------------- indexing
@given(data=st.data())
def test_getitem_basic_indices(data):
    """ints (negative too), slices with steps (negative too), None and Ellipsis."""
    shape = data.draw(shapes(max_dims=4, max_side=4), label="shape")
    x = data.draw(arrays(shape), label="x")
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True), label="index")

    def fn(t):
        return t[index]

    check_forward(fn, [x], lambda v: v[index], atol=0, rtol=0)
    check_gradients(fn, [x], lambda g, v: (gather_gradient(v.shape, index, g),))


@pytest.mark.parametrize(
    "index",
    [
        (-1,),
        (slice(None, None, -2),),
        (Ellipsis, None, slice(None, None, -2)),
        (None, slice(-2, None), Ellipsis),
        (1, slice(3, 0, -2), -1),
        (Ellipsis, 0),
        (slice(None), None, slice(1, 4, 2), 2),
    ],
)
def test_getitem_basic_indices_explicit(index):
    x = np.arange(60.0).reshape(3, 4, 5)
    check_forward(lambda t: t[index], [x], lambda v: v[index], atol=0, rtol=0)
    check_gradients(lambda t: t[index], [x], lambda g, v: (gather_gradient(v.shape, index, g),))


@pytest.mark.parametrize("wrap", ["numpy", "list", "tensor"])
@given(data=st.data())
def test_getitem_integer_arrays_with_repeats(wrap, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    x = data.draw(arrays(shape), label="x")
    index = data.draw(
        hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=5)),
        label="index",
    )
    ours = {
        "numpy": index,
        "list": tuple(i.tolist() for i in index),
        "tensor": tuple(tr.tensor(i) for i in index),
    }[wrap]

    def fn(t):
        return t[ours]

    check_forward(fn, [x], lambda v: v[index], atol=0, rtol=0)
    check_gradients(fn, [x], lambda g, v: (gather_gradient(v.shape, index, g),))


@given(data=st.data())
def test_getitem_integer_list_mixed_with_slices(data):
    shape = data.draw(shapes(min_dims=2, max_dims=3, max_side=4), label="shape")
    x = data.draw(arrays(shape), label="x")
    picks = data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6), label="picks")
    rest = data.draw(hnp.basic_indices(shape[1:], allow_newaxis=False, allow_ellipsis=False), label="rest")
    rest = rest if isinstance(rest, tuple) else (rest,)
    np_index = (np.array(picks),) + rest

    def fn(t):
        return t[(picks,) + rest]

    check_forward(fn, [x], lambda v: v[np_index], atol=0, rtol=0)
    check_gradients(fn, [x], lambda g, v: (gather_gradient(v.shape, np_index, g),))


def test_repeated_index_gradient_is_a_scatter_add():
    x = tr.tensor([10.0, 20.0, 30.0], dtype=tr.float64, requires_grad=True)
    x[[0, 0, 1]].sum().backward()
    assert_close(x.grad, np.array([2.0, 1.0, 0.0]), atol=0, rtol=0)

    y = tr.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    y[tr.tensor([2, 2, 2, 0])].backward(tr.tensor(np.arange(8.0).reshape(4, 2)))
    assert_close(y.grad, np.array([[6.0, 7.0], [0.0, 0.0], [0.0 + 2 + 4, 1.0 + 3 + 5]]), atol=0, rtol=0)


@pytest.mark.parametrize("wrap", ["numpy", "list", "tensor"])
@given(data=st.data())
def test_getitem_boolean_masks(wrap, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    x = data.draw(arrays(shape), label="x")
    masked_dims = data.draw(st.integers(1, len(shape)), label="masked dims")
    mask = data.draw(hnp.arrays(np.bool_, shape[:masked_dims]), label="mask")
    ours = {"numpy": mask, "list": mask.tolist(), "tensor": tr.tensor(mask)}[wrap]
    if wrap == "list" and masked_dims > 1:
        # a nested list: PyTorch reads it as a tuple of indices (deprecated), NumPy as one mask
        with pytest.raises(IndexError, match="ambiguous"):
            tr.tensor(x)[ours]
        return

    def fn(t):
        return t[ours]

    check_forward(fn, [x], lambda v: v[mask], atol=0, rtol=0)
    check_gradients(fn, [x], lambda g, v: (gather_gradient(v.shape, mask, g),))


def test_getitem_with_a_scalar_integer_tensor():
    x = np.arange(12.0).reshape(3, 4)
    check_forward(lambda t: t[tr.tensor(-1)], [x], lambda v: v[-1], atol=0, rtol=0)
    check_gradients(lambda t: t[tr.tensor(1)], [x], lambda g, v: (gather_gradient(v.shape, 1, g),))


def test_getitem_with_a_float_tensor_raises():
    with pytest.raises(IndexError):
        tr.zeros(3)[tr.tensor([0.0, 1.0])]


# ---------------------------------------------------------------- cat, stack, split, chunk
@pytest.mark.parametrize("spelling", ["dim", "axis"])
@given(data=st.data())
def test_cat(spelling, data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=3), label="shape")
    ndim = len(shape)
    dim = data.draw(st.integers(-ndim, ndim - 1), label="dim")
    count = data.draw(st.integers(1, 4), label="count")
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=count, max_size=count), label="sizes")
    pieces = []
    for size in sizes:
        piece_shape = list(shape)
        piece_shape[dim] = size
        pieces.append(data.draw(arrays(tuple(piece_shape)), label="piece"))

    def fn(*ts):
        return tr.cat(ts, dim) if spelling == "dim" else tr.cat(list(ts), axis=dim)

    check_forward(fn, pieces, lambda *vs: np.concatenate(vs, axis=dim), atol=0, rtol=0)
    check_gradients(fn, pieces, lambda g, *vs: tuple(np.split(g, np.cumsum(sizes)[:-1], axis=dim)))


def test_cat_gradient_reaches_only_inputs_that_require_it_and_keeps_dtypes():
    a = tr.tensor(np.ones((2, 2)), dtype=tr.float32, requires_grad=True)
    b = tr.tensor(np.ones((1, 2)), dtype=tr.float64)
    out = tr.cat([a, b])
    assert out.dtype == np.float64 and out.shape == (3, 2)
    out.backward(tr.tensor(np.arange(6.0).reshape(3, 2)))
    assert a.grad.dtype == np.float32
    assert_close(a.grad, np.arange(4.0).reshape(2, 2).astype(np.float32), atol=0, rtol=0)
    assert b.grad is None


@pytest.mark.parametrize("spelling", ["dim", "axis"])
@given(data=st.data())
def test_stack(spelling, data):
    shape = data.draw(shapes(max_dims=3, max_side=3), label="shape")
    count = data.draw(st.integers(1, 4), label="count")
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    pieces = [data.draw(arrays(shape), label="piece") for _ in range(count)]

    def fn(*ts):
        return tr.stack(ts, dim) if spelling == "dim" else tr.stack(list(ts), axis=dim)

    check_forward(fn, pieces, lambda *vs: np.stack(vs, axis=dim), atol=0, rtol=0)
    check_gradients(fn, pieces, lambda g, *vs: tuple(np.take(g, k, axis=dim) for k in range(count)))


def test_stack_promotes_dtypes_as_cat_and_differentiates_twice():
    a = tr.tensor([1.0, 2.0], dtype=tr.float32, requires_grad=True)
    b = tr.tensor([3.0, 4.0], dtype=tr.float64)
    out = tr.stack([a, b], 1)
    assert out.dtype == np.float64 and out.shape == (2, 2)
    out.backward(tr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=tr.float64))
    assert a.grad.dtype == np.float32 and b.grad is None
    assert_close(a.grad, np.array([1.0, 3.0], dtype=np.float32), atol=0, rtol=0)
    # Stack's backward is an unbind, and unbind's a stack: both record under create_graph
    x = tr.tensor([0.5, -1.5], dtype=tr.float64, requires_grad=True)
    (g,) = tr.grad(tr.stack([x * x, x]).sum(), x, create_graph=True)  # d/dx = 2x + 1
    assert_close(g, 2 * x.numpy() + 1, atol=1e-12, rtol=0)
    (h,) = tr.grad((g * g).sum(), x)  # d/dx (2x + 1)² = 4 (2x + 1)
    assert_close(h, 4 * (2 * x.numpy() + 1), atol=1e-12, rtol=0)


def _check_pieces(x, pieces, expected, dim):
    """Pieces match NumPy, and the gradient of Σ <piece_k, g_k> is the g_k put back in place."""
    assert len(pieces) == len(expected)
    for piece, want in zip(pieces, expected):
        assert_close(piece, want, atol=0, rtol=0, what="piece")
    t = tr.tensor(x, requires_grad=True)
    ours = t.split([p.shape[dim] for p in expected], dim)
    upstreams = [distinct_upstream(p.shape, seed=k) for k, p in enumerate(expected)]
    total = sum((p * tr.tensor(g)).sum() for p, g in zip(ours, upstreams))
    total.backward()
    assert_close(t.grad, np.concatenate(upstreams, axis=dim), what="gradient of the pieces")


@given(data=st.data())
def test_split_by_size(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    x = data.draw(arrays(shape), label="x")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    size = data.draw(st.integers(1, 5), label="size")
    length = shape[dim]
    expected = np.split(x, list(range(size, length, size)), axis=dim)
    pieces = tr.tensor(x).split(size, dim)
    assert all(p.shape[dim] == size for p in pieces[:-1]) and pieces[-1].shape[dim] <= size
    _check_pieces(x, pieces, expected, dim)
    assert tr.gradcheck(lambda t: t.split(size, dim), [tr.tensor(x, requires_grad=True)])


@given(data=st.data())
def test_split_by_list_of_sizes(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    x = data.draw(arrays(shape), label="x")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    length = shape[dim]
    cuts = sorted(data.draw(st.sets(st.integers(1, length - 1)), label="cuts")) if length > 1 else []
    sizes = np.diff([0, *cuts, length]).tolist()
    expected = np.split(x, cuts, axis=dim)
    pieces = tr.tensor(x).split(sizes, dim)
    assert [p.shape[dim] for p in pieces] == sizes
    _check_pieces(x, pieces, expected, dim)
    assert tr.gradcheck(lambda t: t.split(sizes, dim), [tr.tensor(x, requires_grad=True)])


def test_split_with_sizes_that_do_not_add_up_raises():
    with pytest.raises(ValueError):
        tr.zeros(5, 2).split([2, 2], 0)
    with pytest.raises(ValueError):
        tr.zeros(5, 2).split(0, 0)


@given(data=st.data())
def test_chunk(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    x = data.draw(arrays(shape), label="x")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    chunks = data.draw(st.integers(1, 5), label="chunks")
    length = shape[dim]
    step = -(-length // chunks)  # PyTorch: pieces of ceil(n / chunks), the last maybe smaller
    expected = np.split(x, list(range(step, length, step)), axis=dim)
    pieces = tr.tensor(x).chunk(chunks, dim)
    assert 1 <= len(pieces) <= chunks
    _check_pieces(x, pieces, expected, dim)
    assert tr.gradcheck(lambda t: t.chunk(chunks, dim), [tr.tensor(x, requires_grad=True)])


@pytest.mark.parametrize(
    "take, expected",
    [
        (lambda x: x.split([1, 2])[0], [1.0, 0.0, 0.0]),  # the other piece received no gradient: zeros
        (lambda x: x.split(1)[2], [0.0, 0.0, 1.0]),
        (lambda x: x.chunk(3)[1], [0.0, 1.0, 0.0]),
        (lambda x: x.unbind(0)[0], [1.0, 0.0, 0.0]),
        (lambda x: x.unbind(0)[2] * 2, [0.0, 0.0, 2.0]),
    ],
)
def test_pieces_that_receive_no_gradient_give_zeros(take, expected):
    x = tr.tensor([5.0, 6.0, 7.0], dtype=tr.float64, requires_grad=True)
    take(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_unbind_rows_that_receive_no_gradient_give_zeros():
    x = tr.ones(3, 2, dtype=tr.float64, requires_grad=True)
    rows = x.unbind(0)
    (rows[1] * tr.tensor([2.0, 3.0], dtype=tr.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0], [2, 3], [0, 0]])


def test_chunk_sizes_explicit():
    assert [p.shape[0] for p in tr.zeros(5).chunk(2)] == [3, 2]
    assert [p.shape[0] for p in tr.zeros(6).chunk(4)] == [2, 2, 2]
    assert [p.shape[1] for p in tr.zeros(2, 2).chunk(5, dim=1)] == [1, 1]


# ---------------------------------------------------------------- matmul
def test_numpy_array_at_tensor_is_recorded():
    """``ndarray @ tensor`` reaches ``Tensor.__rmatmul__``: dL/dB = Aᵀ G (on the CPU: a NumPy
    array is a CPU operand)."""
    left = np.array([[1.0, 0.0], [2.0, 1.0], [0.5, -1.0]])
    t = tr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=tr.float64, requires_grad=True, device="cpu")
    out = left @ t
    assert isinstance(out, tr.Tensor)
    np.testing.assert_allclose(out.detach().numpy(), left @ t.detach().numpy())
    upstream = distinct_upstream((3, 2))
    out.backward(tr.tensor(upstream, device="cpu"))
    np.testing.assert_allclose(t.grad.numpy(), left.T @ upstream, rtol=1e-12)


def np_matmul_gradients(g, a, b):
    """dA = G Bᵀ and dB = Aᵀ G, with 1-D operands promoted and batch dims summed back."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = np.asarray(g)
    if b.ndim == 1:
        g2 = g2[..., None]
    if a.ndim == 1:
        g2 = g2[..., None, :]
    grad_a = g2 @ np.swapaxes(b2, -1, -2)
    grad_b = np.swapaxes(a2, -1, -2) @ g2
    return unbroadcast(grad_a, a2.shape).reshape(a.shape), unbroadcast(grad_b, b2.shape).reshape(b.shape)


matmul_shapes = hnp.mutually_broadcastable_shapes(
    signature=np.matmul.signature, max_dims=2, min_side=1, max_side=3
).map(lambda result: result.input_shapes)


@given(data=st.data())
def test_matmul(data):
    """1-D @ 1-D, 1-D @ 2-D, 2-D @ 1-D, 2-D @ 2-D and batched, with broadcast batch dims."""
    shape_a, shape_b = data.draw(matmul_shapes, label="shapes")
    a = data.draw(arrays(shape_a), label="a")
    b = data.draw(arrays(shape_b), label="b")
    form = data.draw(st.sampled_from(["@", "method", "function"]), label="form")
    fn = {
        "@": lambda x, y: x @ y,
        "method": lambda x, y: x.matmul(y),
        "function": lambda x, y: tr.matmul(x, y),
    }[form]
    check_forward(fn, [a, b], np.matmul)
    check_gradients(fn, [a, b], np_matmul_gradients)


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((3,), (3,)),
        ((3,), (3, 2)),
        ((2, 3), (3,)),
        ((2, 3), (3, 4)),
        ((2, 1, 3, 4), (5, 4, 2)),
        ((3,), (2, 3, 4)),
        ((2, 2, 3), (3,)),
        ((4, 2, 3), (3, 2)),
    ],
)
def test_matmul_cases(shape_a, shape_b):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    check_forward(lambda x, y: x @ y, [a, b], np.matmul)
    check_gradients(lambda x, y: x @ y, [a, b], np_matmul_gradients)


def test_matmul_batch_gradient_is_summed_back_explicit():
    a = tr.tensor(np.ones((2, 1, 3, 4)), requires_grad=True)
    b = tr.tensor(np.ones((5, 4, 2)), requires_grad=True)
    (a @ b).sum().backward()
    assert a.grad.shape == (2, 1, 3, 4) and b.grad.shape == (5, 4, 2)
    assert_close(a.grad, np.full((2, 1, 3, 4), 5 * 2.0), atol=0, rtol=0)  # 5 batches x 2 columns
    assert_close(b.grad, np.full((5, 4, 2), 2 * 3.0), atol=0, rtol=0)  # 2 batches x 3 rows


@given(data=st.data())
def test_matmul_second_derivatives(data):
    shape_a, shape_b = data.draw(
        hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=1, max_side=3).map(
            lambda result: result.input_shapes
        ),
        label="shapes",
    )
    a = data.draw(arrays(shape_a), label="a")
    b = data.draw(arrays(shape_b), label="b")
    check_second_derivatives(lambda x, y: x @ y, [a, b])


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((2, 3), (4, 5)),
        ((3,), (4,)),
        ((3,), (4, 2)),
        ((2, 3), (4,)),
        ((2, 2, 3), (3, 4, 2)),
        ((2, 3, 4), (5, 4, 2)),
        ((2, 2, 3, 4), (3, 4, 2)),
    ],
)
def test_matmul_shape_mismatch_names_both_shapes(shape_a, shape_b):
    with pytest.raises(ValueError) as caught:
        tr.zeros(*shape_a) @ tr.zeros(*shape_b)
    message = str(caught.value)
    assert str(shape_a) in message and str(shape_b) in message, message


def test_matmul_of_a_scalar_raises():
    with pytest.raises(ValueError):
        tr.tensor(2.0) @ tr.zeros(2)


@pytest.mark.parametrize("target", [(4, 2), (-1, 4), (5,), (7, -1), (2, 2, 2)])
def test_reshape_to_an_incompatible_shape_names_the_shapes(target):
    with pytest.raises(ValueError) as caught:
        tr.zeros(2, 3).reshape(target)
    message = str(caught.value)
    assert "(2, 3)" in message and str(target) in message, message


@pytest.mark.parametrize(
    "shape_a, shape_b, dim",
    [((2, 3), (2, 4), 0), ((2, 3), (3, 3), 1), ((2, 3), (2, 3, 1), 0), ((2, 3, 4), (2, 5, 5), -1)],
)
def test_cat_with_mismatched_shapes_names_them(shape_a, shape_b, dim):
    with pytest.raises(ValueError) as caught:
        tr.cat([tr.zeros(*shape_a), tr.zeros(*shape_b)], dim)
    message = str(caught.value)
    assert str(shape_a) in message and str(shape_b) in message, message


def test_stack_with_mismatched_shapes_names_them():
    with pytest.raises(ValueError) as caught:
        tr.stack([tr.zeros(2, 3), tr.zeros(3, 2)])
    assert "(2, 3)" in str(caught.value) and "(3, 2)" in str(caught.value)


def test_cat_and_stack_of_nothing_raise():
    with pytest.raises(ValueError):
        tr.cat([])
    with pytest.raises(ValueError):
        tr.stack([])


BAD_DIMS = {
    "transpose": lambda x: x.transpose(0, 2),
    "transpose negative": lambda x: x.transpose(-3, 0),
    "permute": lambda x: x.permute(0, 2),
    "mT of 1-D": lambda x: x[0].mT,
    "squeeze": lambda x: x.squeeze(2),
    "unsqueeze": lambda x: x.unsqueeze(3),
    "unsqueeze negative": lambda x: x.unsqueeze(-4),
    "flatten": lambda x: x.flatten(0, 2),
    "cat": lambda x: tr.cat([x, x], 2),
    "cat negative": lambda x: tr.cat([x, x], -3),
    "stack": lambda x: tr.stack([x, x], 3),
    "split": lambda x: x.split(1, 2),
    "chunk": lambda x: x.chunk(2, -3),
    "size": lambda x: x.size(2),
}


@pytest.mark.parametrize("name", list(BAD_DIMS))
def test_bad_dim_raises_index_error(name):
    with pytest.raises(IndexError):
        BAD_DIMS[name](tr.zeros(2, 3))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.sum(2),
        lambda x: x.mean(-3),
        lambda x: x.var((0, 2)),
        lambda x: x.amax(5),
        lambda x: x.max(2),
        lambda x: x.argmax(2),
        lambda x: x.softmax(2),
        lambda x: x.logsumexp(-3),
    ],
)
def test_bad_reduction_dim_raises_index_error(call):
    with pytest.raises(IndexError):
        call(tr.zeros(2, 3))


def test_permute_that_is_not_a_permutation_raises():
    with pytest.raises(ValueError):
        tr.zeros(2, 3).permute(0, 0)
    with pytest.raises(ValueError):
        tr.zeros(2, 3, 4).permute(0, 1)
