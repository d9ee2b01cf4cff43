"""Places where we used to give a different number from PyTorch without a word.

Each item is checked twice: against numbers worked out by hand (always run) and
against PyTorch itself (skipped when torch is not installed). Gradients are
compared in float64.

- var/std signatures: ``x.var(0, False)`` is ``unbiased=False`` in PyTorch, not ``keepdim``;
- the gradient of std at zero variance is 0, not NaN;
- indexing: ints select first, then index arrays follow NumPy's rule among themselves;
- a no-op view (``x.reshape(x.shape)``, ...) is a new tensor, except where PyTorch returns ``x``;
- type promotion: a 0-d tensor does not widen a dimensioned tensor of its category;
- softmax, log_softmax and cross_entropy keep float32 precision for logits of any size.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tests.helpers import assert_close, distinct_upstream
from tinygrad_rnn.ops.indexing import Index, index_add, index_read, index_write

F64 = tr.float64


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


# ================================================================ 5. var/std signatures
X_VAR = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])

# call -> hand-computed value on X_VAR (columns differ by 3: Σ(x - mean)² = 4.5; rows by 1: 2)
VAR_CALLS_BY_HAND = {
    "x.var(0, False)": [2.25, 2.25, 2.25],
    "x.var(0, True)": [4.5, 4.5, 4.5],
    "x.var(1, True, True)": [[1.0], [1.0]],
    "x.var(1, False, True)": [[2 / 3], [2 / 3]],
    "x.var(True)": 17.5 / 5,  # Σ(x - 2.5)² = 17.5 over all six
    "x.var(False)": 17.5 / 6,
    "x.var()": 17.5 / 5,
    "x.var(None, False, True)": [[17.5 / 6]],
    "x.var(0, unbiased=False, keepdim=True)": [[2.25, 2.25, 2.25]],
    "x.var(dim=1, unbiased=False)": [2 / 3, 2 / 3],
    "x.var(0, correction=0, keepdim=True)": [[2.25, 2.25, 2.25]],
    "x.var(0, correction=1.5)": [9.0, 9.0, 9.0],
    "x.var(correction=0)": 17.5 / 6,
    "x.var(dim=(), correction=0)": 17.5 / 6,  # PyTorch reduces everything for dim=()
    "x.var(axis=0, keepdims=True)": [[4.5, 4.5, 4.5]],
    "x.var(0, keepdims=True)": [[4.5, 4.5, 4.5]],
    "x.std(0, False)": [1.5, 1.5, 1.5],
    "x.std(1, True, True)": [[1.0], [1.0]],
    "x.std(False)": math.sqrt(17.5 / 6),
    "x.std(0, correction=0)": [1.5, 1.5, 1.5],
    "x.std(axis=1)": [1.0, 1.0],
    "tr.var(x, 0, False)": [2.25, 2.25, 2.25],
    "tr.std(x, 1, True, True)": [[1.0], [1.0]],
}


def _evaluate(call: str, x, module):
    return eval(call, {"x": x, "tr": module, "torch": module})  # noqa: S307 (fixed strings above)


@pytest.mark.parametrize("call", sorted(VAR_CALLS_BY_HAND))
def test_var_std_signatures_by_hand(call):
    got = _evaluate(call, tr.tensor(X_VAR), tr)
    assert_close(got, np.array(VAR_CALLS_BY_HAND[call]), atol=1e-12, rtol=1e-12, what=call)


@pytest.mark.parametrize("call", sorted(VAR_CALLS_BY_HAND))
def test_var_std_signatures_match_torch(call, torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _evaluate(call.replace("tr.", "torch."), torch.tensor(X_VAR), torch).numpy()
    assert_close(_evaluate(call, tr.tensor(X_VAR), tr), expected, atol=1e-12, rtol=1e-12, what=call)


VAR_CALLS_REFUSED = [
    "x.var(0, 1)",  # unbiased must be a bool (PyTorch: no overload takes an int there)
    "x.var(0, False, correction=0)",  # unbiased and correction together
    "x.var(0, unbiased=True, correction=1)",
    "x.var(True, keepdim=True)",  # the one-argument form var(unbiased) takes nothing else
    "x.var(True, True)",
    "x.std(0, None)",
]


@pytest.mark.parametrize("call", VAR_CALLS_REFUSED)
def test_var_std_ambiguous_calls_raise_as_in_torch(call):
    with pytest.raises(TypeError):
        _evaluate(call, tr.tensor(X_VAR), tr)
    torch = _torch_or_none()
    if torch is not None:
        with pytest.raises(TypeError):
            _evaluate(call, torch.tensor(X_VAR), torch)


def test_var_names_the_argument_in_its_error():
    with pytest.raises(TypeError, match="unbiased.*must be a bool, got 1"):
        tr.tensor(X_VAR).var(0, 1)


# ================================================================ 14. std's gradient at zero variance
def _std_case():
    """Column 0 is constant (variance 0), column 1 is not."""
    x = np.array([[1.0, 2.0], [1.0, 5.0], [1.0, 8.0]])
    weights = np.array([1.0, 2.0])
    return x, weights


def test_std_of_a_constant_has_a_zero_gradient_by_hand():
    x = tr.ones(3, dtype=F64, requires_grad=True)
    x.std().backward()
    assert_close(x.grad, np.zeros(3), atol=0, rtol=0)
    y = tr.ones(3, 2, dtype=F64, requires_grad=True)
    y.std(0).sum().backward()
    assert_close(y.grad, np.zeros((3, 2)), atol=0, rtol=0)


def test_std_gradient_elsewhere_is_unchanged_by_hand():
    x, weights = _std_case()
    t = tr.tensor(x, requires_grad=True)
    out = t.std(0)
    assert_close(out, [0.0, 3.0], atol=1e-12, rtol=1e-12)  # column 1: deviations -3, 0, 3 -> √(18/2)
    (out * tr.tensor(weights)).sum().backward()
    # d std / dx = (x - mean) / ((n - 1) std): column 1 gives (-3, 0, 3) / (2 · 3) · weight 2
    assert_close(t.grad, [[0.0, -1.0], [0.0, 0.0], [0.0, 1.0]], atol=1e-12, rtol=1e-12)


def test_std_second_derivative_is_finite_and_zero_at_a_constant():
    x = tr.ones(3, dtype=F64, requires_grad=True)
    (g,) = tr.grad(x.std(), [x], create_graph=True)
    (h,) = tr.grad(g.sum(), [x])
    assert_close(h, np.zeros(3), atol=0, rtol=0)
    # and finite differences still agree where the variance is positive
    spread = tr.tensor([[0.5, -1.0], [2.0, 0.25], [1.0, 3.0]], requires_grad=True)
    assert tr.gradcheck(lambda t: t.std(0), [spread])
    assert tr.gradgradcheck(lambda t: t.std(0), [spread])


def test_std_of_one_element_stays_nan_as_in_torch():
    x = tr.tensor([2.0], dtype=F64, requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # PyTorch warns too (degrees of freedom <= 0)
        out = x.std()  # n - 1 = 0: 0/0
        out.backward()
    assert math.isnan(out.item()) and math.isnan(x.grad.item())


def test_std_gradients_match_torch(torch):
    x, weights = _std_case()
    makers = (lambda t: t.std(0), lambda t: t.std(), lambda t: t.std(1, False, True), lambda t: t.std(0) + t.std())
    for make in makers:
        ours = tr.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        out_ours, out_theirs = make(ours), make(theirs)
        assert_close(out_ours, out_theirs.detach().numpy(), atol=1e-12, rtol=1e-12)
        upstream = np.ones(out_ours.shape) * (weights if out_ours.shape[-1:] == (2,) else 1.0)
        (g_ours,) = tr.grad(out_ours, [ours], tr.tensor(upstream), create_graph=True)
        (g_theirs,) = torch.autograd.grad(out_theirs, [theirs], torch.tensor(upstream), create_graph=True)
        assert_close(g_ours, g_theirs.detach().numpy(), atol=1e-12, rtol=1e-10)
        # second derivatives: finite (0) at the constant column, as PyTorch's masked std_backward gives
        (h_ours,) = tr.grad((g_ours * g_ours).sum(), [ours])
        (h_theirs,) = torch.autograd.grad((g_theirs * g_theirs).sum(), [theirs])
        assert_close(h_ours, h_theirs.numpy(), atol=1e-12, rtol=1e-8)
    ones = torch.ones(3, 2, dtype=torch.float64, requires_grad=True)
    ones.std(0).sum().backward()
    assert_close(tr.zeros(3, 2, dtype=F64), ones.grad.numpy(), atol=0, rtol=0)


# ================================================================ 6. indexing
X_INDEX = np.arange(48.0).reshape(3, 4, 4)

# index expressions (as source text) and their shapes under PyTorch's rule
INDEX_SHAPES = {
    "0, :, [1, 2, 3, 0]": (4, 4),  # NumPy: (4, 4) too, but transposed
    "[0, 1], :, 0": (2, 4),
    "..., None, 0, [1, 2]": (3, 1, 2),
    "None, 0, :, [1, 2]": (1, 4, 2),
    "0, [0, 1], :, None": (2, 4, 1),
    "[0, 1], None, [1, 2]": (2, 1, 4),
    ":, [0, 1], None, [1, 2]": (2, 3, 1),
    "1, [0, 1], 0": (2,),
    "[[0], [1]], 0, [1, 2, 3]": (2, 3),
    "0, [[1, 2], [3, 0]], [1, 2]": (2, 2),
    "[0, 2], 1:3, [1, 3]": (2, 2),
    "2, ..., [0, 0]": (4, 2),
    "::2, [0, 0]": (2, 2, 4),
    "True": (1, 3, 4, 4),
    "False": (0, 3, 4, 4),
    "0, True": (1, 4, 4),
    "[0, 1], :, True": (2, 4, 4),
    "[True, False, True]": (2, 4, 4),
    "1, :, [True, False, True, False]": (4, 2),
    "-1, -2": (4,),
    "[-1, 0, -1]": (3, 4, 4),
    "[]": (0, 4, 4),
    "None, ..., None": (1, 3, 4, 4, 1),
    "tr.tensor(0), :, [1, 2]": (4, 2),  # a 0-d integer tensor selects, like an int
}


class _Subscript:
    """``_Subscript()[0, :, [1, 2]]`` is the index object Python passes to ``__getitem__``."""

    def __getitem__(self, index):
        return index


def _index(expression: str, module):
    """The index written as ``expression`` (subscript source), its tensors made by ``module``."""
    return eval(f"s[{expression}]", {"s": _Subscript(), module.__name__: module, "tr": module})  # noqa: S307


def _read(expression: str, x, module):
    return x[_index(expression, module)]


def test_int_and_index_array_separated_by_a_slice_by_hand():
    y = tr.tensor(X_INDEX)[0, :, [1, 2, 3, 0]]
    # PyTorch: y[i, k] = x[0, i, idx[k]]; NumPy would give the transpose, y[k, i]
    expected = [[4 * i + j for j in (1, 2, 3, 0)] for i in range(4)]
    assert_close(y, expected, atol=0, rtol=0)


@pytest.mark.parametrize("expression", sorted(INDEX_SHAPES))
def test_index_shapes_by_hand(expression):
    assert _read(expression, tr.tensor(X_INDEX), tr).shape == INDEX_SHAPES[expression]


def test_index_values_by_hand():
    x = tr.tensor(X_INDEX)
    assert_close(x[[0, 1], :, 0], [[0, 4, 8, 12], [16, 20, 24, 28]], atol=0, rtol=0)
    assert_close(x[1, [0, 1], 0], [16, 20], atol=0, rtol=0)
    assert_close(x[-1, -2], [40, 41, 42, 43], atol=0, rtol=0)
    assert_close(x[1, :, [True, False, True, False]], [[16, 18], [20, 22], [24, 26], [28, 30]], atol=0, rtol=0)
    assert_close(x[None, ..., None][0, 2, 1, :, 0], [36, 37, 38, 39], atol=0, rtol=0)


@pytest.mark.parametrize("expression", sorted(INDEX_SHAPES))
def test_index_values_and_gradients_match_torch(expression, torch):
    ours = tr.tensor(X_INDEX, requires_grad=True)
    theirs = torch.tensor(X_INDEX, requires_grad=True)
    y_ours, y_theirs = _read(expression, ours, tr), _read(expression, theirs, torch)
    assert_close(y_ours, y_theirs.detach().numpy(), atol=0, rtol=0, what=expression)
    upstream = distinct_upstream(y_ours.shape)
    y_ours.backward(tr.tensor(upstream))
    y_theirs.backward(torch.tensor(upstream))
    assert_close(ours.grad, theirs.grad.numpy(), atol=1e-15, rtol=0, what=f"gradient of x[{expression}]")


def test_repeated_indices_add_up_in_the_gradient_by_hand():
    x = tr.tensor([1.0, 2.0, 3.0], dtype=F64, requires_grad=True)
    x[[0, 0, 2]].backward(tr.tensor([1.0, 2.0, 3.0], dtype=F64))
    assert_close(x.grad, [3.0, 0.0, 3.0], atol=0, rtol=0)
    m = tr.zeros(2, 3, dtype=F64, requires_grad=True)
    m[0, :, None][[2, 2, 0]].sum().backward()  # int, slice, None, then a repeated array
    assert_close(m.grad, [[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]], atol=0, rtol=0)


def test_second_derivative_through_indexing():
    x = tr.tensor([1.0, 2.0, 3.0], dtype=F64, requires_grad=True)
    (g,) = tr.grad((x[[0, 0, 2]] ** 2).sum(), [x], create_graph=True)  # 2·(2x₀, 0, x₂)
    assert_close(g, [4.0, 0.0, 6.0], atol=0, rtol=0)
    (h,) = tr.grad(g.sum(), [x])
    assert_close(h, [4.0, 0.0, 2.0], atol=0, rtol=0)


@pytest.mark.parametrize(
    "index",
    [
        [[0, 1], [1, 2]],  # PyTorch 2.13: a tuple (deprecated); NumPy: one 2-D index array
        [0, slice(None)],
        [[True, False], [False, True]],
    ],
)
def test_ambiguous_list_index_raises(index):
    with pytest.raises(IndexError, match="ambiguous"):
        tr.tensor(X_INDEX)[index]


def test_uint8_index_raises_naming_the_dtype():
    # PyTorch reads a uint8 tensor as a (deprecated) mask, NumPy as integers
    with pytest.raises(IndexError, match="uint8"):
        tr.tensor(X_INDEX)[tr.tensor([1, 0, 1], dtype=tr.uint8)]


def test_advanced_read_is_a_copy_and_basic_read_a_view():
    x = tr.tensor(X_INDEX)
    view, copy = x[0, 1:3], x[[0, 1]]
    x.add_(1)
    assert view._version == 1  # a view shares the version counter
    assert copy._version == 0  # index arrays copy, as in PyTorch


# ---------------------------------------------------------------- the three array functions
def _plan(index, array):
    from tinygrad_rnn.tensor import _index_arrays

    return _index_arrays(index, tr.Tensor._wrap(array))


def test_index_arrays_returns_the_two_step_plan():
    plan = _plan((0, slice(None), [1, 2, 3, 0]), np.zeros((3, 4, 4)))
    assert isinstance(plan, Index) and not plan.is_basic
    assert plan.basic == (0, slice(None), slice(None), Ellipsis)
    assert plan.advanced[0] == slice(None) and plan.advanced[1].tolist() == [1, 2, 3, 0]
    basic = _plan((1, slice(0, 2)), np.zeros((3, 4)))
    assert basic.is_basic and basic.advanced is None


def test_index_read_write_add_on_raw_arrays_by_hand(each_device):
    xp = tr.zeros(1).xp
    array = xp.asarray(np.arange(48.0).reshape(3, 4, 4))
    plan = _plan((0, slice(None), [1, 2, 3, 0]), array)
    values = xp.asarray(np.arange(16.0).reshape(4, 4) + 100)
    index_write(array, plan, values)
    assert (tr.Tensor._wrap(index_read(array, plan)).numpy() == np.arange(16.0).reshape(4, 4) + 100).all()
    # row i of x[0] got values[i] at columns 1, 2, 3, 0
    assert tr.Tensor._wrap(array[0, 2]).numpy().tolist() == [111.0, 108.0, 109.0, 110.0]
    assert tr.Tensor._wrap(array[1]).numpy().tolist() == np.arange(16.0, 32.0).reshape(4, 4).tolist()

    out = xp.zeros((2, 3))
    repeated = _plan((slice(None), [2, 2, 0]), out)
    index_add(out, repeated, xp.asarray(np.array([[1.0, 2.0, 4.0], [8.0, 16.0, 32.0]])))
    assert tr.Tensor._wrap(out).numpy().tolist() == [[4.0, 0.0, 3.0], [32.0, 0.0, 24.0]]
    index_add(out, _plan((1, slice(0, 2)), out), 1.0)  # a basic index adds in place too
    assert tr.Tensor._wrap(out).numpy().tolist() == [[4.0, 0.0, 3.0], [33.0, 1.0, 24.0]]
    index_write(out, _plan((0, 1), out), -1.0)  # all ints: the element itself, not a copy of it
    assert tr.Tensor._wrap(out).numpy()[0, 1] == -1.0
    index_write(out, _plan(tr.tensor([True, False]), out), 7.0)  # a bool mask
    assert tr.Tensor._wrap(out).numpy().tolist() == [[7.0, 7.0, 7.0], [33.0, 1.0, 24.0]]


@pytest.mark.parametrize("expression", sorted(INDEX_SHAPES))
def test_index_write_matches_torch_setitem(expression, torch):
    theirs = torch.tensor(X_INDEX)
    # each written value names the element it must land on, so a repeated element gets one value
    values = _read(expression, torch.arange(48.0, dtype=torch.float64).reshape(3, 4, 4), torch) + 1000
    theirs[_index(expression, torch)] = values
    ours = X_INDEX.copy()
    index_write(ours, _plan(_index(expression, tr), ours), values.numpy())
    assert np.array_equal(ours, theirs.numpy()), expression


def test_setitem_through_index_write_by_hand():
    ours = X_INDEX.copy()
    index_write(ours, _plan(_index("0, :, [1, 2, 3, 0]", tr), ours), np.arange(16.0).reshape(4, 4) + 100)
    expected = X_INDEX.copy()
    for i in range(4):
        for k, j in enumerate((1, 2, 3, 0)):
            expected[0, i, j] = 100 + 4 * i + k  # row i of the value goes to row i of x[0]
    assert np.array_equal(ours, expected)


# ---------------------------------------------------------------- drawn index expressions
@st.composite
def index_expressions(draw):
    """A shape and an index for it, as abstract items: ("int", i), ("slice", s), ("array", list),
    ("mask", bool array), ("none",), ("bool", True), ("ellipsis",).

    Index arrays share one length (or have length 1) so they broadcast together; a mask is
    the only array when there is one (its count of True would have to match otherwise).
    """
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    length = draw(st.integers(1, 3))
    kinds = ["int", "slice", "mask"] if draw(st.integers(0, 3)) == 3 else ["int", "slice", "array"]
    items, dim = [], 0
    while dim < len(shape):
        if draw(st.integers(0, 4)) == 4:  # None and bool scalars use no dimension
            items.append(draw(st.sampled_from([("none",), ("bool", True)])))
            continue
        side, kind = shape[dim], draw(st.sampled_from(kinds))
        if kind == "int":
            items.append(("int", draw(st.integers(-side, side - 1))))
        elif kind == "slice":
            bound = st.none() | st.integers(-side, side)
            items.append(("slice", slice(draw(bound), draw(bound), draw(st.none() | st.integers(1, 2)))))
        elif kind == "array":
            size = draw(st.sampled_from([length, 1]))
            items.append(("array", draw(st.lists(st.integers(-side, side - 1), min_size=size, max_size=size))))
        else:
            kinds = ["int", "slice"]  # one mask at most
            mask_shape = shape[dim : dim + draw(st.integers(1, len(shape) - dim))]
            flags = draw(st.lists(st.booleans(), min_size=math.prod(mask_shape), max_size=math.prod(mask_shape)))
            items.append(("mask", np.array(flags, dtype=bool).reshape(mask_shape)))
            dim += len(mask_shape) - 1
        dim += 1
    # trailing full slices may go, or make way for an Ellipsis (anywhere: it covers what is left)
    while items and items[-1] == ("slice", slice(None)) and draw(st.booleans()):
        items.pop()
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), ("ellipsis",))
    return shape, items


def _materialize(items, module) -> tuple:
    """The abstract items as an index of ``module`` (tr or torch): arrays become its tensors."""
    plain = {"none": None, "ellipsis": Ellipsis}
    return tuple(
        plain[item[0]] if item[0] in plain else module.tensor(item[1]) if item[0] in ("array", "mask") else item[1]
        for item in items
    )


@given(case=index_expressions())
def test_drawn_indices_read_gradient_and_write_match_torch(case):
    torch = pytest.importorskip("torch")
    shape, items = case
    x = np.arange(float(math.prod(shape))).reshape(shape)
    ours_index, theirs_index = _materialize(items, tr), _materialize(items, torch)
    theirs = torch.tensor(x, requires_grad=True)
    try:
        y_theirs = theirs[theirs_index]
    except (IndexError, RuntimeError, ValueError):  # e.g. an empty slice meeting an index array
        with pytest.raises((IndexError, RuntimeError, ValueError)):
            tr.tensor(x)[ours_index]
        return
    ours = tr.tensor(x, requires_grad=True)
    y_ours = ours[ours_index]
    assert_close(y_ours, y_theirs.detach().numpy(), atol=0, rtol=0, what=f"x{shape}[{items}]")
    upstream = distinct_upstream(y_ours.shape)
    y_ours.backward(tr.tensor(upstream))
    y_theirs.backward(torch.tensor(upstream))
    assert_close(ours.grad, theirs.grad.numpy(), atol=1e-15, rtol=0, what=f"gradient of x{shape}[{items}]")
    # writing: each written value names the element it must land on, so repeats agree too
    values = torch.arange(float(x.size), dtype=torch.float64).reshape(shape)[theirs_index] + 1000
    written = torch.tensor(x)
    written[theirs_index] = values
    target = x.copy()
    index_write(target, _plan(ours_index, target), values.numpy())
    assert np.array_equal(target, written.numpy()), f"x{shape}[{items}] = v"
    broadcast = x.copy()
    index_write(broadcast, _plan(ours_index, broadcast), -5.0)
    scalar_written = torch.tensor(x)
    scalar_written[theirs_index] = -5.0
    assert np.array_equal(broadcast, scalar_written.numpy()), f"x{shape}[{items}] = -5"


# ================================================================ 7. no-op views are new tensors
# (expression, PyTorch's answer to "is the result x itself?"): torch returns the input itself
# only from flatten when it merges a single dimension.
NO_OP_VIEWS = [
    ("m.reshape(m.shape)", "m", False),
    ("m.view(2, 3)", "m", False),
    ("m.reshape(-1, 3)", "m", False),
    ("m.permute(0, 1)", "m", False),
    ("m.expand(2, 3)", "m", False),
    ("m.expand(-1, -1)", "m", False),
    ("m.broadcast_to((2, 3))", "m", False),
    ("m.transpose(0, 0)", "m", False),
    ("m.transpose(1, 1)", "m", False),
    ("m.swapaxes(0, 0)", "m", False),
    ("m.squeeze()", "m", False),
    ("m.squeeze(0)", "m", False),
    ("m.flatten()", "m", False),
    ("m.flatten(0, -1)", "m", False),
    ("m.flatten(0, 0)", "m", True),
    ("m.flatten(1)", "m", True),
    ("v.flatten()", "v", True),
    ("v.flatten(0, 0)", "v", True),
    ("v.reshape(3)", "v", False),
    ("v.T", "v", False),
    ("s.flatten()", "s", False),
    ("s.reshape(())", "s", False),
    ("s.squeeze()", "s", False),
    ("m.to(m.dtype)", "m", True),  # to() with nothing to change returns self, in PyTorch too
]


def _views_namespace(module):
    rng = np.random.default_rng(0)
    m, v = rng.standard_normal((2, 3)), rng.standard_normal(3)
    return {"m": module.tensor(m), "v": module.tensor(v), "s": module.tensor(1.5)}


@pytest.mark.parametrize(("expression", "name", "is_input"), NO_OP_VIEWS)
def test_no_op_views_are_new_tensors_by_hand(expression, name, is_input):
    names = _views_namespace(tr)
    result = eval(expression, {}, names)  # noqa: S307
    assert (result is names[name]) is is_input
    assert_close(result, names[name].numpy().reshape(result.shape), atol=0, rtol=0)


@pytest.mark.parametrize(("expression", "name", "is_input"), NO_OP_VIEWS)
def test_no_op_views_are_new_tensors_as_in_torch(expression, name, is_input, torch):
    names = _views_namespace(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # v.T on a 1-D tensor is deprecated in PyTorch
        result = eval(expression, {}, names)  # noqa: S307
    assert (result is names[name]) is is_input


def _hook_and_retain_case(module):
    """A hook and retain_grad on a same-shape view act on the view's own use, not on x's:
    x feeds loss twice, once through y = x.reshape(2) (times 3, doubled by y's hook) and
    once directly (times 5)."""
    x = module.tensor([1.0, 2.0], dtype=module.float64, requires_grad=True)
    y = x.reshape(2)
    y.retain_grad()
    y.register_hook(lambda g: g * 2)
    loss = (y * 3).sum() + (x * 5).sum()
    loss.backward()
    z = module.tensor([1.0, 2.0], dtype=module.float64, requires_grad=True)
    w = z.view(2)
    grad = tr.grad if module is tr else module.autograd.grad
    (g_w,) = grad((w * w).sum() + (z * 7).sum(), [w])  # d/dw only: 2w, not 2w + 7
    return x.grad, y.grad, g_w


def test_hooks_retain_grad_and_grad_on_a_no_op_view_by_hand():
    x_grad, y_grad, g_w = _hook_and_retain_case(tr)
    assert_close(x_grad, [11.0, 11.0], atol=0, rtol=0)  # 3 doubled by the hook, plus 5 (not (3 + 5) · 2)
    assert_close(y_grad, [6.0, 6.0], atol=0, rtol=0)  # retained after the hook ran, as in PyTorch
    assert_close(g_w, [2.0, 4.0], atol=0, rtol=0)


def test_hooks_retain_grad_and_grad_on_a_no_op_view_match_torch(torch):
    for a, b, what in zip(_hook_and_retain_case(tr), _hook_and_retain_case(torch), ("x.grad", "y.grad", "grad wrt w")):
        assert_close(a, b.detach().numpy(), atol=0, rtol=0, what=what)


def test_flatten_with_start_after_end_raises():
    with pytest.raises(ValueError, match="start_dim"):
        tr.zeros(2, 3, 4).flatten(2, 0)
    assert tr.zeros(0, 2, 3).flatten(1).shape == (0, 6)  # sizes spelled out: no -1 to infer from 0


# ================================================================ 10. type promotion
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]

# (left dtype, left 0-d?, right dtype, right 0-d?) -> result, worked out from PyTorch's rule
PROMOTION_BY_HAND = {
    ("float32", False, "float64", True): "float32",  # a 0-d tensor does not widen its own category
    ("float64", True, "float32", False): "float32",
    ("float32", False, "float64", False): "float64",
    ("float16", True, "float64", True): "float64",  # among 0-d tensors, ordinary promotion
    ("int32", False, "float64", True): "float64",  # a higher category does: promote_types(int32, float64)
    ("int64", False, "float16", True): "float16",
    ("int64", False, "float32", False): "float32",  # int with float: the float, not NumPy's float64
    ("int32", False, "int64", True): "int32",
    ("uint8", False, "int8", True): "uint8",
    ("uint8", False, "int8", False): "int16",
    ("bool", False, "uint8", True): "uint8",
    ("bool", False, "float64", True): "float64",
}


def _operand(dtype: str, zero_dim: bool):
    return tr.ones(() if zero_dim else (2,), dtype=getattr(tr, dtype if dtype != "bool" else "bool_"))


@pytest.mark.parametrize("case", sorted(PROMOTION_BY_HAND))
def test_promotion_by_hand(case):
    left, left_zero, right, right_zero = case
    a, b = _operand(left, left_zero), _operand(right, right_zero)
    assert (a + b).dtype == np.dtype(PROMOTION_BY_HAND[case])
    assert (a * b).dtype == np.dtype(PROMOTION_BY_HAND[case])
    assert tr.where(tr.tensor(True), a, b).dtype == np.dtype(PROMOTION_BY_HAND[case])


def test_promotion_table_matches_torch_result_type(torch):
    mismatches = []
    for left in DTYPES:
        for right in DTYPES:
            for left_zero, right_zero in ((False, False), (False, True), (True, False), (True, True)):
                a, b = _operand(left, left_zero), _operand(right, right_zero)
                ta = torch.ones(() if left_zero else (2,), dtype=getattr(torch, left))
                tb = torch.ones(() if right_zero else (2,), dtype=getattr(torch, right))
                expected = str(torch.result_type(ta, tb)).replace("torch.", "")
                got = {"add": (a + b).dtype, "maximum": a.maximum(b).dtype,
                       "where": tr.where(tr.tensor([True, False]), a, b).dtype}
                for op, dtype in got.items():
                    if dtype != np.dtype(expected):
                        case = f"{left}{' 0-d' if left_zero else ''}, {right}{' 0-d' if right_zero else ''}"
                        mismatches.append(f"{op}({case}) = {dtype}, torch {expected}")
                if (a / b).dtype != np.dtype(str((ta / tb).dtype).replace("torch.", "")):
                    mismatches.append(f"div({left}, {right}) = {(a / b).dtype}, torch {(ta / tb).dtype}")
    assert not mismatches, "\n".join(mismatches)


def test_python_scalars_promote_as_in_torch(torch):
    for dtype in DTYPES:
        for scalar in (True, 2, 2.5):
            ours = _operand(dtype, False) + scalar
            theirs = torch.ones(2, dtype=getattr(torch, dtype)) + scalar
            assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", "")), (dtype, scalar)


def test_division_of_integers_by_a_0d_float64_is_float64():
    assert (tr.tensor([1, 2], dtype=tr.int32) / tr.tensor(2.0, dtype=F64)).dtype == F64
    assert (tr.tensor([1, 2], dtype=tr.int32) / 2).dtype == tr.float32
    assert (tr.tensor([1, 2], dtype=tr.int32) / tr.tensor([2, 4])).dtype == tr.float32
    assert_close(2 / tr.tensor([1, 4]), [2.0, 0.5], atol=0, rtol=0)


def test_comparison_happens_in_the_promoted_dtype():
    # float32 0.1 == float64 0.1 only after rounding the float64 to float32, as PyTorch does
    assert (tr.tensor([0.1]) == tr.tensor(0.1, dtype=F64)).tolist() == [True]
    assert (tr.tensor([0.1], dtype=F64) == tr.tensor(0.1)).tolist() == [False]
    assert (tr.tensor([16777217]) == 16777216.0).tolist() == [True]  # int64 vs a float: compared in float32


def test_cat_promotes_as_torch_cat(torch):
    pairs = [("int64", "float32"), ("int32", "float16"), ("float32", "float64"), ("bool", "int32"), ("uint8", "int8")]
    by_hand = {("int64", "float32"): "float32", ("int32", "float16"): "float16", ("float32", "float64"): "float64",
               ("bool", "int32"): "int32", ("uint8", "int8"): "int16"}
    for left, right in pairs:
        got = tr.cat([_operand(left, False), _operand(right, False)]).dtype
        assert got == np.dtype(by_hand[(left, right)])
        theirs = torch.cat([torch.ones(2, dtype=getattr(torch, left)), torch.ones(2, dtype=getattr(torch, right))])
        assert got == np.dtype(str(theirs.dtype).replace("torch.", ""))


def test_each_gradient_keeps_its_input_dtype_after_promotion():
    a = tr.tensor([1.0, 2.0], requires_grad=True)  # float32
    b = tr.tensor(3.0, dtype=F64, requires_grad=True)  # 0-d float64
    out = a * b
    assert out.dtype == tr.float32
    out.sum().backward()
    assert a.grad.dtype == tr.float32 and b.grad.dtype == F64
    assert_close(a.grad, [3.0, 3.0], atol=0, rtol=0)
    assert_close(b.grad, 3.0, atol=0, rtol=0)


# ================================================================ 12. softmax precision
def test_softmax_of_large_logits_by_hand():
    x = tr.tensor([1e4, 1e4, -1e4])  # float32
    assert_close(x.softmax(-1), [0.5, 0.5, 0.0], atol=0, rtol=0)
    assert_close(x.log_softmax(-1), np.array([-math.log(2), -math.log(2), -2e4 - math.log(2)], np.float32),
                 atol=0, rtol=1e-7)
    logits = tr.tensor([[1e4, 1e4 - 1.0, -1e4]])
    loss = tr.nn.functional.cross_entropy(logits, tr.tensor([0]))
    assert_close(loss, np.float32(math.log1p(math.exp(-1.0))), atol=0, rtol=1e-6)  # log(1 + e⁻¹)


def _large_logits(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = np.array([1.0, 10.0, 100.0, 1e3, 1e4], dtype=np.float32)[:, None, None]
    return (rng.standard_normal((5, 40, 6)).astype(np.float32) * scales).reshape(200, 6)


def test_softmax_rows_sum_to_one():
    probabilities = tr.tensor(_large_logits(0)).softmax(-1).numpy()
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-6, rtol=0)


def test_softmax_log_softmax_cross_entropy_match_torch(torch):
    logits = _large_logits(1)
    ours, theirs = tr.tensor(logits), torch.tensor(logits)
    np.testing.assert_allclose(ours.softmax(-1).numpy(), theirs.softmax(-1).numpy(), rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(ours.log_softmax(-1).numpy(), theirs.log_softmax(-1).numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours.softmax(0).numpy(), theirs.softmax(0).numpy(), rtol=1e-6, atol=1e-30)
    target = np.arange(200) % 6
    loss = tr.nn.functional.cross_entropy(ours, tr.tensor(target), reduction="none")
    expected = torch.nn.functional.cross_entropy(theirs, torch.tensor(target), reduction="none")
    np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


def test_log_softmax_gradient_by_hand_and_against_torch():
    x = np.array([[1e4, 1e4 - 2.0, 0.0], [-3.0, 0.5, 2.0]])
    upstream = np.array([[1.0, -2.0, 0.5], [0.25, 1.0, -1.0]])
    t = tr.tensor(x, requires_grad=True)
    t.log_softmax(-1).backward(tr.tensor(upstream))
    softmax = np.exp(x - x.max(-1, keepdims=True))
    softmax /= softmax.sum(-1, keepdims=True)
    expected = upstream - softmax * upstream.sum(-1, keepdims=True)  # (I - softmax) applied to the upstream
    assert_close(t.grad, expected, atol=1e-12, rtol=1e-12)
    torch = _torch_or_none()
    if torch is not None:
        theirs = torch.tensor(x, requires_grad=True)
        theirs.log_softmax(-1).backward(torch.tensor(upstream))
        assert_close(t.grad, theirs.grad.numpy(), atol=1e-12, rtol=1e-12)
