"""Picking and rearranging elements: ``gather``, ``index_select``, ``narrow``, ``flip``, ``repeat``,
``t``, ``contiguous``, ``expand_as``/``view_as``/``reshape_as``, the in-place ``unsqueeze_``/``squeeze_``,
and ``type``.

Each differentiable one is checked over drawn shapes: forward against NumPy, gradient against a
closed form (the map from output element to the input element it copies, built by applying the
op to ``arange``, with repeats summed by ``np.bincount``: written independently of the package)
and against finite differences, and second derivatives. PyTorch parity where it is installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tr
from tests.helpers import arrays, assert_close, check_forward, check_gradients, check_second_derivatives, shapes

# every test here runs once per backend: cpu, the CuPy-like strict backend, and cuda when present
pytestmark = pytest.mark.usefixtures("each_device")


def copied_from(shape: tuple, move) -> np.ndarray:
    """For each output element of ``move`` (a NumPy function of an array of ``shape``), the flat
    position of the input element it copies: ``move`` applied to ``arange``."""
    return np.asarray(move(np.arange(math.prod(shape)).reshape(shape)))


def gradient_of_move(shape: tuple, move, g) -> np.ndarray:
    """The gradient of a pure data movement: each output element's upstream value goes back to the
    element it copies; an element copied several times gets the sum."""
    source = copied_from(shape, move)
    return np.bincount(source.ravel(), weights=np.ravel(g), minlength=math.prod(shape)).reshape(shape)


def check_move(fn, move, x) -> None:
    """Forward (exactly), gradient (closed form and finite differences) and second derivatives of
    ``fn``, a data movement whose NumPy counterpart is ``move``."""
    check_forward(fn, [x], move, atol=0, rtol=0)
    check_gradients(fn, [x], lambda g, a: (gradient_of_move(a.shape, move, g),))
    check_second_derivatives(lambda t: fn(t) ** 2, [x])


def draw_dim(data, ndim: int) -> int:
    return data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1), label="dim")


# ---------------------------------------------------------------- gather, index_select
@given(data=st.data())
def test_gather(data):
    x = data.draw(shapes(min_dims=1, max_dims=3).flatmap(arrays), label="x")
    dim = draw_dim(data, x.ndim)
    axis = dim % x.ndim
    # index: x's number of dims, no larger elsewhere, any size along dim (repeats allowed)
    index_shape = tuple(data.draw(st.integers(1, 4 if d == axis else n), label=f"size {d}")
                        for d, n in enumerate(x.shape))
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, x.shape[axis] - 1)), label="index")
    idx = tr.tensor(index)
    # PyTorch's rule: out[i][j][k] = x[index[i][j][k]][j][k] for dim 0, over index's own extent
    within = tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(index_shape))
    check_move(lambda t: t.gather(dim, idx), lambda a: np.take_along_axis(a[within], index, axis), x)


@given(data=st.data())
def test_index_select(data):
    x = data.draw(shapes(min_dims=1, max_dims=3).flatmap(arrays), label="x")
    dim = draw_dim(data, x.ndim)
    index = data.draw(hnp.arrays(np.int64, st.integers(0, 5), elements=st.integers(0, x.shape[dim] - 1)), label="index")
    dtype = data.draw(st.sampled_from([np.int64, np.int32]), label="index dtype")
    idx = tr.tensor(index.astype(dtype))
    check_move(lambda t: t.index_select(dim, idx), lambda a: np.take(a, index, axis=dim), x)


def test_gather_and_index_select_of_scalars_and_errors():
    s = tr.tensor(5.0)
    assert s.gather(0, tr.tensor(0)).shape == () and s.gather(0, tr.tensor([0, 0])).tolist() == [5.0, 5.0]
    assert tr.arange(3.0).gather(0, tr.tensor(1)).item() == 1.0
    assert s.index_select(0, tr.tensor([0])).shape == ()
    x = tr.arange(6.0).reshape(2, 3)
    with pytest.raises(ValueError, match=r"gather: index \(shape \(2,\)\) must have as many dimensions"):
        x.gather(1, tr.tensor([1, 0]))
    with pytest.raises(ValueError, match="larger than the tensor .* in dimension 0"):
        x.gather(1, tr.zeros(3, 1, dtype=tr.int64))
    with pytest.raises(TypeError, match="gather: index must be an integer tensor .* got dtype float32"):
        x.gather(1, tr.zeros(2, 1))
    with pytest.raises(IndexError, match=r"index_select: index must be 1-D .* got shape \(1, 1\)"):
        x.index_select(1, tr.tensor([[0]]))
    with pytest.raises(TypeError, match="index_select: index must be an integer Tensor, got list"):
        x.index_select(1, [0])


# ---------------------------------------------------------------- narrow, flip, repeat, t
@given(data=st.data())
def test_narrow(data):
    x = data.draw(shapes(min_dims=1, max_dims=3).flatmap(arrays), label="x")
    dim = draw_dim(data, x.ndim)
    size = x.shape[dim]
    start = data.draw(st.integers(-size, size), label="start")
    begin = start % size if start < 0 else start
    length = data.draw(st.integers(0, size - begin), label="length")
    def move(a):
        return np.take(a, np.arange(begin, begin + length), axis=dim)

    assert tr.tensor(x).narrow(dim, start, length).shape[dim] == length
    check_move(lambda t: t.narrow(dim, start, length), move, x)


def test_narrow_is_a_view_and_checks_its_range():
    x = tr.arange(5.0)
    x.narrow(0, 1, 2).zero_()  # a view, as in PyTorch: the write lands in x
    assert x.tolist() == [0.0, 0.0, 0.0, 3.0, 4.0]
    with pytest.raises(IndexError, match=r"narrow: start \(4\) \+ length \(2\) exceeds dimension 0 of size 5"):
        x.narrow(0, 4, 2)
    with pytest.raises(IndexError, match="narrow: start 6 is out of range"):
        x.narrow(0, 6, 0)
    with pytest.raises(IndexError, match="0-d"):
        tr.tensor(1.0).narrow(0, 0, 1)


@given(data=st.data())
def test_flip(data):
    x = data.draw(shapes(max_dims=3).flatmap(arrays), label="x")
    dims = data.draw(st.lists(st.integers(0, max(x.ndim - 1, 0)), unique=True, max_size=x.ndim), label="dims")
    form = data.draw(st.sampled_from(["varargs", "tuple"]), label="form")

    def fn(t):
        return t.flip(*dims) if form == "varargs" else t.flip(tuple(dims))

    check_move(fn, lambda a: np.flip(a, axis=tuple(dims)), x)


def test_flip_copies_as_in_pytorch_and_refuses_repeated_dims():
    x = tr.arange(3.0)
    y = x.flip(0)
    y[0] = 10.0
    assert x.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="flip: dims .* name the same dimension twice"):
        x.flip(0, 0)


@given(data=st.data())
def test_repeat(data):
    x = data.draw(shapes(max_dims=2, max_side=3).flatmap(arrays), label="x")
    lead = data.draw(st.lists(st.integers(1, 2), max_size=2), label="leading sizes")
    sizes = tuple(lead) + tuple(data.draw(st.integers(0, 3), label=f"size {d}") for d in range(x.ndim))
    check_move(lambda t: t.repeat(*sizes), lambda a: np.tile(a, sizes), x)
    assert tr.tensor(x).repeat(sizes).shape == np.tile(x, sizes).shape


def test_repeat_errors_and_copies():
    x = tr.arange(3.0)
    y = x.repeat(1)
    y[0] = 5.0
    assert x[0].item() == 0.0
    with pytest.raises(ValueError, match=r"repeat: got 1 sizes \(2,\) for a tensor of 2 dimensions"):
        tr.zeros(2, 2).repeat(2)
    with pytest.raises(ValueError, match="non-negative"):
        x.repeat(-1)


@given(x=shapes(max_dims=2).flatmap(arrays))
def test_t(x):
    check_move(lambda u: u.t(), lambda a: a.T, x)


def test_t_refuses_more_than_two_dims():
    with pytest.raises(ValueError, match=r"t: expects a tensor of at most 2 dimensions, got shape \(2, 2, 2\)"):
        tr.zeros(2, 2, 2).t()


@given(data=st.data())
def test_expand_as_view_as_reshape_as(data):
    x = data.draw(shapes(max_dims=3, max_side=3).flatmap(arrays), label="x")
    target = tuple(data.draw(st.integers(1, 2), label="lead") for _ in range(1)) + tuple(
        data.draw(st.integers(1, 3), label="grown") if n == 1 else n for n in x.shape
    )
    other = tr.zeros(*target)
    check_move(lambda t: t.expand_as(other), lambda a: np.broadcast_to(a, target), x)
    flat = tr.zeros(x.size)
    check_move(lambda t: t.view_as(flat), lambda a: a.reshape(-1), x)
    check_move(lambda t: t.reshape_as(flat), lambda a: a.reshape(-1), x)
    with pytest.raises(TypeError, match="view_as: expected a Tensor"):
        tr.tensor(x).view_as((2, 3))


def test_contiguous_returns_self_or_a_copy_like_pytorch():
    x = tr.arange(6.0).reshape(2, 3)
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y is not x and y.array.flags.c_contiguous
    y[0, 0] = 10.0  # a copy: x unchanged, as in PyTorch
    assert x[0, 0].item() == 0.0
    e = tr.ones(3).expand(2, 3).contiguous()
    e[0, 0] = 5.0  # an expanded tensor becomes writable
    assert e.sum().item() == 10.0
    w = tr.tensor([[1.0, 2.0]], requires_grad=True)
    (w.t().contiguous() * tr.tensor([[3.0], [4.0]])).sum().backward()
    assert w.grad.tolist() == [[3.0, 4.0]]


# ---------------------------------------------------------------- unsqueeze_, squeeze_
def test_unsqueeze_and_squeeze_in_place():
    x = tr.arange(3.0)
    version = x._version
    assert x.unsqueeze_(0) is x and x.shape == (1, 3)
    assert x._version == version + 1  # as PyTorch: a graph that saved x refuses to backward
    assert x.squeeze_() is x and x.shape == (3,)
    x.unsqueeze_(-1)
    assert x.shape == (3, 1)
    x.squeeze_(0)  # not of size 1: left alone, as squeeze does
    assert x.shape == (3, 1)
    x.squeeze_(1)
    assert x.shape == (3,)
    b = tr.zeros(2, 3)
    row = b[0]
    row.unsqueeze_(0)
    row += 1  # still shares b's memory
    assert b.sum().item() == 3.0
    with pytest.raises(IndexError, match="unsqueeze_: dim 3"):
        x.unsqueeze_(3)


def test_unsqueeze_in_place_refuses_a_recorded_graph():
    leaf = tr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="unsqueeze_: this tensor is a leaf that requires grad.*x.unsqueeze"):
        leaf.unsqueeze_(0)
    with tr.no_grad():
        leaf.unsqueeze_(0)  # allowed, as in PyTorch (the leaf has no history)
    assert leaf.shape == (1, 3)
    out = leaf * 2
    with pytest.raises(RuntimeError, match="squeeze_: this tensor is the output of a recorded op"):
        out.squeeze_()
    saved = tr.ones(3)
    y = saved * tr.ones(3, requires_grad=True)  # saves `saved` for the gradient
    saved.unsqueeze_(0)
    with pytest.raises(RuntimeError):
        y.sum().backward()


# ---------------------------------------------------------------- type
def test_type_strings_and_casts():
    x = tr.tensor([1.5, -2.0])
    names = {tr.float32: "FloatTensor", tr.float64: "DoubleTensor", tr.float16: "HalfTensor", tr.int64: "LongTensor",
             tr.int32: "IntTensor", tr.int16: "ShortTensor", tr.int8: "CharTensor", tr.uint8: "ByteTensor",
             tr.bool: "BoolTensor"}
    prefix = {"cpu": "torch.", "strict": "torch.strict."}.get(x.device, "torch.cuda.")
    for dtype, name in names.items():
        assert x.to(dtype).type() == prefix + name
        assert x.type(prefix + name).dtype == dtype and x.type(prefix + name).device == x.device
    assert x.type(tr.float32) is x
    assert x.type(tr.int64).tolist() == [1, -2]
    assert x.type("torch.LongTensor").device == "cpu"  # a CPU type string moves to the CPU, as in PyTorch
    with pytest.raises(ValueError, match=r"type: unknown type string 'torch.Float'"):
        x.type("torch.Float")
    g = tr.tensor([1.0], dtype=tr.float32, requires_grad=True)
    g.type(tr.float64).sum().backward()  # a float cast stays in the graph
    assert g.grad.dtype == np.float32


# ---------------------------------------------------------------- against PyTorch
def test_gather_index_select_flip_repeat_narrow_match_pytorch():
    torch = pytest.importorskip("torch")
    x = np.arange(24.0).reshape(2, 3, 4) / 5.0
    index = np.array([[[2, 0, 1, 1]], [[0, 0, 2, 1]]])
    cases = [
        (lambda t: t.gather(1, tr.tensor(index)), lambda t: t.gather(1, torch.tensor(index))),
        (lambda t: t.index_select(2, tr.tensor([3, 0, 3])), lambda t: t.index_select(2, torch.tensor([3, 0, 3]))),
        (lambda t: t.flip(0, 2), lambda t: t.flip(0, 2)),
        (lambda t: t.repeat(2, 1, 1, 2), lambda t: t.repeat(2, 1, 1, 2)),
        (lambda t: t.narrow(-1, -3, 2), lambda t: t.narrow(-1, -3, 2)),
        (lambda t: t[0].t(), lambda t: t[0].t()),
    ]
    for ours_fn, theirs_fn in cases:
        ours, theirs = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out_ours, out_theirs = ours_fn(ours), theirs_fn(theirs)
        assert out_ours.shape == tuple(out_theirs.shape)
        assert_close(out_ours, out_theirs.detach().numpy(), atol=0, rtol=0)
        upstream = np.random.default_rng(0).standard_normal(out_ours.shape)
        out_ours.backward(tr.tensor(upstream))
        out_theirs.backward(torch.tensor(upstream))
        assert_close(ours.grad, theirs.grad.numpy(), atol=1e-14, rtol=1e-14)
