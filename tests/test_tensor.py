"""The Tensor API: creation, dtype rules, properties, conversion, Python protocols,
devices, NumPy interoperability and the module-level functions."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import tinygrad_rnn as tr
from tests.helpers import assert_close

HAVE_CUPY = importlib.util.find_spec("cupy") is not None


# ---------------------------------------------------------------- tr.tensor and dtype rules
@pytest.mark.parametrize(
    "data, dtype",
    [
        (1.5, tr.float32),
        ([1.0, 2.0], tr.float32),
        ([1, 2.5], tr.float32),  # one float makes the list float
        ([[1.0], [2.0]], tr.float32),
        (3, tr.int64),
        ([1, 2, 3], tr.int64),
        (True, tr.bool),
        ([True, False], tr.bool),
    ],
)
def test_python_data_dtype_rules(data, dtype):
    t = tr.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.array(data))


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.uint8, np.bool_, np.int8])
def test_numpy_arrays_keep_their_dtype(dtype):
    array = np.arange(6).reshape(2, 3).astype(dtype)
    t = tr.tensor(array)
    assert t.dtype == dtype and t.shape == (2, 3)
    np.testing.assert_array_equal(t.numpy(), array)


def test_numpy_scalar_keeps_its_dtype_and_behaves_like_a_0d_tensor():
    t = tr.tensor(np.float64(2.0))
    assert t.dtype == tr.float64 and t.shape == () and t.item() == 2.0
    t.fill_(3.0)  # a tensor made from a NumPy scalar must be as writable as any other
    assert t.item() == 3.0
    t.copy_(tr.tensor(4.0))
    assert t.item() == 4.0


@pytest.mark.parametrize("spelling", [tr.float64, np.float64, "float64", np.dtype("float64"), tr.double])
def test_dtype_spellings_are_accepted(spelling):
    assert tr.tensor([1, 2], dtype=spelling).dtype == np.float64
    assert tr.zeros(2, dtype=spelling).dtype == np.float64


def test_dtypes_are_numpy_dtypes():
    assert tr.float32 == np.float32 and tr.float64 == np.float64 and tr.int64 == np.int64
    assert tr.float == tr.float32 and tr.double == tr.float64 and tr.long == tr.int64
    assert tr.bool == np.bool_ and tr.half == np.float16
    assert tr.float32 != tr.float64


def test_bad_dtype_raises():
    with pytest.raises(TypeError):
        tr.tensor([1.0], dtype="not a dtype")


def test_tensor_copies_its_data_and_from_numpy_shares_it():
    array = np.array([1.0, 2.0, 3.0])
    copied, shared = tr.tensor(array), tr.from_numpy(array)
    array[0] = 99.0
    assert copied.tolist() == [1.0, 2.0, 3.0]
    assert shared.tolist() == [99.0, 2.0, 3.0]
    source = tr.tensor([1.0, 2.0])
    again = tr.tensor(source)
    source.array[0] = -5.0
    assert again.tolist() == [1.0, 2.0]


def test_tensor_from_a_tensor_with_a_new_dtype():
    t = tr.tensor(tr.tensor([1.7, -2.2]), dtype=tr.int64)
    assert t.dtype == tr.int64 and t.tolist() == [1, -2]


def test_tensor_rejects_non_numeric_data():
    with pytest.raises(TypeError):
        tr.tensor(["a", "b"])
    with pytest.raises(TypeError):
        tr.tensor({"a": 1})


def test_tensor_requires_grad_makes_a_leaf():
    t = tr.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None


def test_tensor_takes_dtype_and_requires_grad():  # tr.Tensor(...) is PyTorch's legacy one: test_device_and_legacy.py
    t = tr.tensor([1.0, 2.0], dtype=tr.float64, requires_grad=True)
    assert t.dtype == tr.float64 and t.requires_grad and t.tolist() == [1.0, 2.0]


# ---------------------------------------------------------------- filled tensors
@pytest.mark.parametrize("make, value", [(tr.zeros, 0.0), (tr.ones, 1.0)])
def test_zeros_and_ones(make, value):
    for t in (make(2, 3), make((2, 3)), make([2, 3])):
        assert t.shape == (2, 3) and t.dtype == tr.float32 and t.device == "cpu"
        assert np.all(t.numpy() == value)
    assert make(4).shape == (4,) and make().shape == ()
    t = make(2, dtype=tr.int64)
    assert t.dtype == tr.int64 and t.tolist() == [int(value)] * 2
    t = make(2, 2, dtype=tr.float64, device="cpu", requires_grad=True)
    assert t.requires_grad and t.dtype == tr.float64 and t.is_leaf


@pytest.mark.parametrize("fill, dtype", [(3, tr.int64), (1.5, tr.float32), (True, tr.bool)])
def test_full_dtype_follows_the_value(fill, dtype):
    t = tr.full((2, 3), fill)
    assert t.shape == (2, 3) and t.dtype == dtype
    assert np.all(t.numpy() == fill)


def test_full_with_dtype_and_int_shape():
    t = tr.full(3, 2, dtype=tr.float64, requires_grad=True)
    assert t.shape == (3,) and t.dtype == tr.float64 and t.requires_grad
    assert t.tolist() == [2.0, 2.0, 2.0]


# ---------------------------------------------------------------- random
@pytest.mark.parametrize("make", [tr.randn, tr.rand])
def test_random_shapes_dtypes_and_requires_grad(make):
    t = make(3, 4)
    assert t.shape == (3, 4) and t.dtype == tr.float32
    assert make((2, 5)).shape == (2, 5)
    t = make(2, dtype=tr.float64, requires_grad=True)
    assert t.dtype == tr.float64 and t.requires_grad
    with pytest.raises(TypeError):
        make(2, dtype=tr.int64)


def test_rand_is_uniform_on_unit_interval_and_randn_standard_normal():
    u = tr.rand(20_000, dtype=tr.float64).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.02
    z = tr.randn(20_000, dtype=tr.float64).numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03


def test_manual_seed_makes_random_tensors_repeat():
    tr.manual_seed(123)
    a, ua, ia = tr.randn(5), tr.rand(5), tr.randint(0, 100, (5,))
    tr.manual_seed(123)
    b, ub, ib = tr.randn(5), tr.rand(5), tr.randint(0, 100, (5,))
    assert a.tolist() == b.tolist() and ua.tolist() == ub.tolist() and ia.tolist() == ib.tolist()
    c = tr.randn(5)
    assert c.tolist() != a.tolist()  # the stream moves on
    tr.manual_seed(124)
    assert tr.randn(5).tolist() != a.tolist()


def test_randint_range_dtype_and_size_forms():
    t = tr.randint(3, 7, (50, 4))
    assert t.shape == (50, 4) and t.dtype == tr.int64
    values = t.numpy()
    assert values.min() >= 3 and values.max() <= 6
    assert set(np.unique(values)) == {3, 4, 5, 6}
    assert tr.randint(0, 5, 6).shape == (6,)
    assert tr.randint(0, 5, (2,), dtype=tr.int32).dtype == tr.int32


# ---------------------------------------------------------------- ranges
def test_arange():
    t = tr.arange(5)
    assert t.dtype == tr.int64 and t.tolist() == [0, 1, 2, 3, 4]
    assert tr.arange(2, 8, 2).tolist() == [2, 4, 6]
    f = tr.arange(0, 1, 0.25)
    assert f.dtype == tr.float32 and f.tolist() == [0.0, 0.25, 0.5, 0.75]
    d = tr.arange(3, dtype=tr.float64, requires_grad=True)
    assert d.dtype == tr.float64 and d.requires_grad


def test_linspace_includes_both_ends():
    t = tr.linspace(-1, 1, 5)
    assert t.dtype == tr.float32 and t.shape == (5,)
    assert_close(t, [-1.0, -0.5, 0.0, 0.5, 1.0], atol=0, rtol=0)
    assert tr.linspace(0, 1, 3, dtype=tr.float64).dtype == tr.float64


def test_eye():
    t = tr.eye(3)
    assert t.dtype == tr.float32 and t.shape == (3, 3)
    np.testing.assert_array_equal(t.numpy(), np.eye(3))
    r = tr.eye(2, 4, dtype=tr.int64)
    assert r.dtype == tr.int64
    np.testing.assert_array_equal(r.numpy(), np.eye(2, 4))
    assert tr.eye(2, requires_grad=True).requires_grad


# ---------------------------------------------------------------- *_like
def test_like_functions_take_shape_dtype_and_device():
    other = tr.ones(2, 3, dtype=tr.float64)
    for make, check in [
        (tr.zeros_like, lambda a: np.all(a == 0)),
        (tr.ones_like, lambda a: np.all(a == 1)),
        (lambda o, **kw: tr.full_like(o, 7, **kw), lambda a: np.all(a == 7)),
        (tr.randn_like, lambda a: np.unique(a).size == a.size),
        (tr.rand_like, lambda a: np.all((a >= 0) & (a < 1))),
    ]:
        t = make(other)
        assert t.shape == (2, 3) and t.dtype == tr.float64 and t.device == "cpu"
        assert check(t.numpy())
        assert not t.requires_grad
        t = make(other, dtype=tr.float32, requires_grad=True)
        assert t.dtype == tr.float32 and t.requires_grad
    integers = tr.zeros_like(tr.arange(4))
    assert integers.dtype == tr.int64 and integers.shape == (4,)


# ---------------------------------------------------------------- properties
def test_shape_ndim_size_numel_dtype_device():
    t = tr.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3 and t.dim() == 3
    assert t.size() == (2, 3, 4) and t.size(0) == 2 and t.size(1) == 3 and t.size(-1) == 4
    assert t.numel() == 24 and isinstance(t.numel(), int)
    assert t.dtype == tr.float32 and t.device == "cpu"
    with pytest.raises(IndexError):
        t.size(3)
    scalar = tr.tensor(2.0)
    assert scalar.shape == () and scalar.ndim == 0 and scalar.numel() == 1


def test_T_reverses_dimensions():
    m = tr.tensor([[1, 2, 3], [4, 5, 6]])
    assert m.T.shape == (3, 2) and m.T.tolist() == [[1, 4], [2, 5], [3, 6]]
    c = tr.tensor(np.arange(24).reshape(2, 3, 4))
    np.testing.assert_array_equal(c.T.numpy(), np.arange(24).reshape(2, 3, 4).T)
    v = tr.tensor([1.0, 2.0])
    assert v.T.tolist() == [1.0, 2.0]


def test_item_numpy_tolist():
    f = tr.tensor([[2.5]])
    assert f.item() == 2.5 and isinstance(f.item(), float)
    i = tr.tensor(7)
    assert i.item() == 7 and isinstance(i.item(), int)
    b = tr.tensor(True)
    assert b.item() is True
    t = tr.tensor([[1.0, 2.0], [3.0, 4.0]])
    array = t.numpy()
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    np.testing.assert_array_equal(array, [[1, 2], [3, 4]])
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert isinstance(t.tolist()[0][0], float)
    assert tr.tensor(3).tolist() == 3


def test_item_on_a_multi_element_tensor_names_the_shape():
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        tr.ones(2, 2).item()
    with pytest.raises(ValueError, match=r"\(0,\)"):
        tr.zeros(0).item()


def test_float_and_int_conversions():
    assert float(tr.tensor([1.5])) == 1.5
    assert int(tr.tensor(3)) == 3
    with pytest.raises(ValueError):
        float(tr.ones(2))


# ---------------------------------------------------------------- repr
def test_repr_shows_data_dtype_device():
    text = repr(tr.tensor([1.5, -2.0]))
    assert text.startswith("tensor(") and "1.5" in text and "-2." in text
    assert "dtype=float32" in text and "device=cpu" in text
    assert "grad_fn" not in text and "requires_grad" not in text
    assert "dtype=int64" in repr(tr.tensor([1, 2]))


def test_repr_shows_grad_fn_or_requires_grad():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<MulBackward>" in repr(x * 2)
    assert "grad_fn=<AddBackward>" in repr(x + 1)
    assert "grad_fn=<SumBackward>" in repr(x.sum())
    assert "grad_fn=<TanhBackward>" in repr(x.tanh())
    with tr.no_grad():
        assert "grad_fn" not in repr(x * 2)


# ---------------------------------------------------------------- conversion
def test_float_double_to_dtype():
    i = tr.tensor([1, 2])
    assert i.float().dtype == tr.float32 and i.float().tolist() == [1.0, 2.0]
    assert i.double().dtype == tr.float64
    assert i.to(tr.float64).dtype == tr.float64
    assert i.to("float16").dtype == tr.float16
    assert tr.tensor([1.7]).long().tolist() == [1]
    assert tr.tensor([0.0, 2.0]).bool().tolist() == [False, True]
    assert i.to("cpu", tr.float64).dtype == tr.float64
    assert i.to(dtype=tr.float64, device="cpu").dtype == tr.float64
    assert i.to(tr.ones(1, dtype=tr.float64)).dtype == tr.float64


def test_to_returns_self_when_nothing_changes():
    t = tr.ones(3)
    assert t.to("cpu") is t
    assert t.to(tr.float32) is t
    assert t.to("cpu", tr.float32) is t
    assert t.float() is t
    assert t.cpu() is t
    assert t.to(t) is t
    d = tr.ones(3, dtype=tr.float64)
    assert d.double() is d
    assert t.double() is not t


def test_casts_are_differentiable_and_gradient_keeps_the_leaf_dtype():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.grad_fn is not None
    (y * tr.tensor([3.0, 4.0], dtype=tr.float64)).sum().backward()
    assert x.grad.dtype == tr.float32
    assert x.grad.tolist() == [3.0, 4.0]


# ---------------------------------------------------------------- Python protocols
def test_len_and_iteration():
    t = tr.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, tr.Tensor) for r in rows)
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4], [5, 6]]
    with pytest.raises(TypeError):
        len(tr.tensor(1.0))
    with pytest.raises(TypeError):
        iter(tr.tensor(1.0))


def test_iteration_keeps_the_graph():
    x = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    total = None
    for i, element in enumerate(x):
        term = element * (i + 1)
        total = term if total is None else total + term
    total.backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0]


def test_bool_of_one_element_and_of_many():
    assert bool(tr.tensor([2.0])) is True
    assert bool(tr.tensor(0)) is False
    with pytest.raises(ValueError, match=r"\(3,\)"):
        bool(tr.ones(3))
    with pytest.raises(ValueError):
        if tr.ones(2, 2) > 0:
            pass


# ---------------------------------------------------------------- devices
@pytest.mark.skipif(HAVE_CUPY, reason="CuPy is installed: 'cuda' works here")
@pytest.mark.parametrize(
    "make",
    [
        lambda: tr.zeros(2, device="cuda"),
        lambda: tr.tensor([1.0], device="cuda:0"),
        lambda: tr.randn(2, device="cuda"),
        lambda: tr.ones(2).to("cuda"),
        lambda: tr.ones(2).cuda(),
    ],
    ids=["zeros", "tensor", "randn", "to", "cuda()"],
)
def test_cuda_without_cupy_says_how_to_install_it(make):
    with pytest.raises(RuntimeError, match=r"tinygrad_rnn\[cuda12\]"):
        make()


@pytest.mark.parametrize("device", ["tpu", "gpu", "cuda:x", "CPU", "cuda:", "mps"])
def test_bad_device_string_raises_value_error(device):
    with pytest.raises(ValueError, match="device"):
        tr.zeros(2, device=device)
    with pytest.raises(ValueError, match="device"):
        tr.tensor([1.0], device=device)


def test_cpu_device_names():
    assert tr.zeros(2, device="cpu").device == "cpu"
    assert tr.zeros(2, device=None).device == "cpu"


# ---------------------------------------------------------------- NumPy interoperability
@pytest.mark.parametrize(
    "op, expected",
    [
        (lambda a, t: a * t, [2.0, 4.0, 6.0]),
        (lambda a, t: a + t, [3.0, 4.0, 5.0]),
        (lambda a, t: a - t, [1.0, 0.0, -1.0]),
        (lambda a, t: a / t, [2.0, 1.0, 2.0 / 3.0]),
        (lambda a, t: a**t, [2.0, 4.0, 8.0]),
    ],
    ids=["mul", "add", "sub", "div", "pow"],
)
def test_numpy_array_on_the_left_gives_a_tensor(op, expected):
    t = tr.tensor([1.0, 2.0, 3.0], dtype=tr.float64, requires_grad=True)
    out = op(np.full(3, 2.0), t)
    assert isinstance(out, tr.Tensor)
    assert_close(out, expected, atol=1e-12, rtol=1e-12)
    assert out.grad_fn is not None
    out.sum().backward()
    assert t.grad is not None and t.grad.shape == (3,)


def test_numpy_array_on_the_left_of_matmul_and_comparison():
    t = tr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=tr.float64)
    out = np.eye(2) @ t
    assert isinstance(out, tr.Tensor)
    np.testing.assert_array_equal(out.numpy(), t.numpy())
    mask = np.array([[0.0, 5.0], [0.0, 5.0]]) < t
    assert isinstance(mask, tr.Tensor) and mask.dtype == tr.bool
    assert mask.tolist() == [[True, False], [True, False]]


def test_python_scalars_take_the_tensors_dtype():
    f32 = tr.tensor([1.0, 2.0])
    assert (f32 * 2).dtype == tr.float32
    assert (2.5 * f32).dtype == tr.float32
    assert (f32 - 1).dtype == tr.float32
    ints = tr.arange(3)
    assert (ints + 1).dtype == tr.int64
    assert (ints * 2.5).dtype == tr.float32
    assert (ints / 2).dtype == tr.float32
    assert (ints / 2).tolist() == [0.0, 0.5, 1.0]


def test_np_asarray_of_a_tensor():
    t = tr.tensor([1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


# ---------------------------------------------------------------- module-level functions
def _pair():
    rng = np.random.default_rng(5)
    return tr.tensor(rng.standard_normal((2, 3))), tr.tensor(rng.standard_normal((2, 3)))


def test_module_functions_agree_with_methods_and_numpy():
    a, b = _pair()
    A, B = a.numpy(), b.numpy()
    assert_close(tr.exp(a), a.exp(), atol=0, rtol=0)
    assert_close(tr.exp(a), np.exp(A), atol=1e-12, rtol=1e-12)
    assert_close(tr.sum(a), A.sum(), atol=1e-12, rtol=1e-12)
    assert_close(tr.sum(a, dim=1), a.sum(1), atol=0, rtol=0)
    assert_close(tr.sum(a, 0, keepdim=True), A.sum(0, keepdims=True), atol=1e-12, rtol=1e-12)
    assert_close(tr.maximum(a, b), np.maximum(A, B), atol=0, rtol=0)
    assert_close(tr.maximum(a, b), a.maximum(b), atol=0, rtol=0)
    assert_close(tr.softmax(a, dim=-1), a.softmax(-1), atol=0, rtol=0)
    expected = np.exp(A) / np.exp(A).sum(-1, keepdims=True)
    assert_close(tr.softmax(a, dim=-1), expected, atol=1e-12, rtol=1e-10)
    assert_close(tr.softmax(a, dim=0), np.exp(A) / np.exp(A).sum(0, keepdims=True), atol=1e-12, rtol=1e-10)


def test_cat_stack_where():
    a, b = _pair()
    A, B = a.numpy(), b.numpy()
    assert_close(tr.cat([a, b]), np.concatenate([A, B]), atol=0, rtol=0)
    assert_close(tr.cat([a, b], dim=1), np.concatenate([A, B], axis=1), atol=0, rtol=0)
    assert_close(tr.stack([a, b]), np.stack([A, B]), atol=0, rtol=0)
    assert_close(tr.stack([a, b], dim=2), np.stack([A, B], axis=2), atol=0, rtol=0)
    condition = a > b
    assert_close(tr.where(condition, a, b), np.where(A > B, A, B), atol=0, rtol=0)
    assert_close(a.where(condition, b), np.where(A > B, A, B), atol=0, rtol=0)
    assert_close(tr.where(condition, a, 0.0), np.where(A > B, A, 0.0), atol=0, rtol=0)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        tr.cat([a, b.T], dim=0)
    with pytest.raises(ValueError):
        tr.stack([a, b.T])


def test_module_functions_are_differentiable():
    x = tr.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=tr.float64, requires_grad=True)
    y = tr.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=tr.float64, requires_grad=True)
    out = tr.sum(tr.cat([tr.exp(x), tr.maximum(x, y)], dim=1)) + tr.stack([x, y]).sum() + tr.where(x > 0, x, y).sum()
    out.backward()
    X = x.numpy()
    expected_x = np.exp(X) + (X > np.array([[0, 0], [1, 1]])) + 1 + (X > 0)
    expected_y = (X <= np.array([[0, 0], [1, 1]])) + 1 + (X <= 0)
    assert_close(x.grad, expected_x, atol=1e-12, rtol=1e-12)
    assert_close(y.grad, expected_y, atol=1e-12, rtol=1e-12)


def test_module_function_on_a_non_tensor_raises_type_error():
    with pytest.raises(TypeError, match="exp"):
        tr.exp(np.ones(3))
