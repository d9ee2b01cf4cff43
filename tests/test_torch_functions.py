"""PyTorch's function forms: tr.add/sub/mul/div/pow/neg/addcmul/addcdiv, tr.tril/triu, tr.mm/bmm/addmm,
tr.einsum, tr.multinomial, tr.set_num_threads/get_num_threads, tr.concat, tr.is_tensor, tr.numel.

Values, dtypes and gradients are checked against numbers worked out by hand, against finite
differences (``tr.gradcheck``), and, where PyTorch is installed, against PyTorch."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import threads

F64 = tr.float64


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- arithmetic
def test_add_and_sub_with_alpha_by_hand():
    a = tr.tensor([1.0, 2.0], requires_grad=True)
    b = tr.tensor([10.0, 20.0], requires_grad=True)
    out = tr.add(a, b, alpha=3)
    assert out.tolist() == [31.0, 62.0] and out.dtype == tr.float32
    out.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad.tolist() == [3.0, 3.0]
    a.grad = b.grad = None
    out = tr.sub(a, b, alpha=0.5)
    assert out.tolist() == [-4.0, -8.0]
    out.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad.tolist() == [-0.5, -0.5]
    assert tr.add(2, a).tolist() == [3.0, 4.0] and tr.sub(2, a).tolist() == [1.0, 0.0]
    assert tr.add(1, 2).item() == 3 and tr.add(1, 2).dtype == tr.int64


def test_number_operands_follow_pytorch_dtypes():
    ints = tr.tensor([7, -7])
    assert tr.add(ints, 2.5, alpha=2).dtype == tr.float32 and tr.add(ints, 2.5, alpha=2).tolist() == [12.0, -2.0]
    assert tr.mul(2, ints).dtype == tr.int64 and tr.mul(2, ints).tolist() == [14, -14]
    assert tr.div(ints, 2).dtype == tr.float32 and tr.div(ints, 2).tolist() == [3.5, -3.5]
    assert tr.pow(ints, 2).tolist() == [49, 49] and tr.pow(2, tr.tensor([1.0, 3.0])).tolist() == [2.0, 8.0]
    assert tr.neg(ints).tolist() == [-7, 7]


def test_alpha_is_checked():
    ints = tr.tensor([1, 2])
    with pytest.raises(TypeError, match="alpha must be an integer"):
        tr.add(ints, ints, alpha=0.5)
    with pytest.raises(TypeError, match="bool alpha"):
        tr.add(tr.tensor([1.0]), tr.tensor([1.0]), alpha=True)
    with pytest.raises(TypeError, match="alpha must be a Python number"):
        tr.sub(tr.tensor([1.0]), 1.0, alpha="2")
    with pytest.raises(TypeError, match="other must be a Tensor or a number, got str"):
        tr.mul(tr.tensor([1.0]), "a")
    with pytest.raises(TypeError, match="input must be a Tensor"):
        tr.neg([1.0])


def test_arithmetic_gradients_by_finite_differences():
    a, b = np.array([[0.5, -1.5, 2.0]]), np.array([[1.5], [-0.7]])
    assert tr.gradcheck(lambda x, y: tr.add(x, y, alpha=-2.5), [tr.tensor(a, requires_grad=True),
                                                               tr.tensor(b, requires_grad=True)])
    assert tr.gradcheck(lambda x, y: tr.sub(x, y, alpha=3), [tr.tensor(a, requires_grad=True),
                                                           tr.tensor(b, requires_grad=True)])
    assert tr.gradcheck(lambda x, y: tr.mul(x, y) + tr.div(x, y) + tr.pow(y * y, x) + tr.neg(x),
                        [tr.tensor(a, requires_grad=True), tr.tensor(b, requires_grad=True)])


def test_arithmetic_matches_torch(torch):
    a, b = np.array([[0.5, -1.5, 2.0]]), np.array([[1.5], [-0.7]])
    for name, kwargs in [("add", {"alpha": 2}), ("sub", {"alpha": -3}), ("mul", {}), ("div", {}), ("pow", {})]:
        ours = [tr.tensor(v, requires_grad=True) for v in (np.abs(a), b)]
        theirs = [torch.tensor(v, requires_grad=True) for v in (np.abs(a), b)]
        out, ref = getattr(tr, name)(*ours, **kwargs), getattr(torch, name)(*theirs, **kwargs)
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
        out.sum().backward()
        ref.sum().backward()
        for x, y in zip(ours, theirs):
            np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_rounded_division_values_dtypes_and_zero_gradient(mode):
    ints = tr.tensor([7, -7, 6])
    expected = {"floor": [3, -4, 3], "trunc": [3, -3, 3]}[mode]
    out = tr.div(ints, 2, rounding_mode=mode)
    assert out.dtype == tr.int64 and out.tolist() == expected
    assert tr.div(ints, tr.tensor([-2, 2, -4]), rounding_mode=mode).tolist() == \
        {"floor": [-4, -4, -2], "trunc": [-3, -3, -1]}[mode]
    assert tr.div(ints, tr.tensor(2.5, dtype=F64), rounding_mode=mode).dtype == F64  # a 0-d float counts
    x = tr.tensor([-7.0, 7.0], requires_grad=True)
    y = tr.div(x, 2, rounding_mode=mode)
    assert y.tolist() == {"floor": [-4.0, 3.0], "trunc": [-3.0, 3.0]}[mode] and y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]  # PyTorch's gradient of a rounded quotient: zeros
    assert tr.div(x.detach(), 0.0, rounding_mode=mode).tolist() == [-np.inf, np.inf]
    with pytest.raises(ZeroDivisionError):
        tr.div(ints, 0, rounding_mode=mode)
    with pytest.raises(ValueError, match="rounding_mode must be one of"):
        tr.div(x, 2, rounding_mode="round")


def test_rounded_division_matches_torch(torch):
    a = np.array([-7, -6, -1, 0, 1, 5, 7])
    b = np.array([2, -3, 3, 5, -2, 5, -4])
    for mode in ("floor", "trunc"):
        ours = tr.div(tr.tensor(a), tr.tensor(b), rounding_mode=mode)
        ref = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
        assert ours.tolist() == ref.tolist()
        floats = tr.div(tr.tensor(a * 1.5), tr.tensor(b * 0.7), rounding_mode=mode)
        assert floats.tolist() == torch.div(torch.tensor(a * 1.5), torch.tensor(b * 0.7), rounding_mode=mode).tolist()


# ---------------------------------------------------------------- triangles
def test_tril_and_triu_by_hand(each_device):
    x = tr.arange(1.0, 10.0).reshape(3, 3).requires_grad_()
    assert tr.tril(x).tolist() == [[1, 0, 0], [4, 5, 0], [7, 8, 9]]
    assert tr.triu(x, 1).tolist() == [[0, 2, 3], [0, 0, 6], [0, 0, 0]]
    assert tr.tril(x, -1).tolist() == [[0, 0, 0], [4, 0, 0], [7, 8, 0]]
    (tr.tril(x) * 2 + tr.triu(x, 1)).sum().backward()
    assert x.grad.tolist() == [[2, 1, 1], [2, 2, 1], [2, 2, 2]]
    batch = tr.ones(2, 2, 3, dtype=tr.bool)
    assert tr.triu(batch).dtype == tr.bool and tr.triu(batch)[1].tolist() == [[True, True, True],
                                                                              [False, True, True]]


def test_tril_zeroes_inf_instead_of_nan():
    x = tr.tensor([[1.0, np.inf], [np.nan, 2.0]])
    assert tr.tril(x).tolist()[0] == [1.0, 0.0] and tr.triu(x).tolist()[1] == [0.0, 2.0]


def test_triangles_check_their_arguments():
    with pytest.raises(ValueError, match="at least 2 dimensions, got shape"):
        tr.tril(tr.ones(3))
    with pytest.raises(TypeError, match="diagonal must be an int"):
        tr.triu(tr.ones(2, 2), 1.0)


def test_triangles_match_torch_and_finite_differences(torch):
    values = np.random.default_rng(1).normal(size=(2, 3, 4))
    for name in ("tril", "triu"):
        for diagonal in (-2, 0, 1, 5):
            x, t = tr.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
            out, ref = getattr(tr, name)(x, diagonal), getattr(torch, name)(t, diagonal)
            np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
            weights = np.arange(out.numel()).reshape(out.shape)
            (out * tr.tensor(weights)).sum().backward()
            (ref * torch.tensor(weights)).sum().backward()
            np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
        triangle = getattr(tr, name)
        assert tr.gradcheck(lambda v, f=triangle: f(v, 1), [tr.tensor(values, requires_grad=True)])


# ---------------------------------------------------------------- mm and bmm
def test_mm_and_bmm_by_hand(each_device):
    a = tr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = tr.tensor([[5.0], [6.0]], requires_grad=True)
    out = tr.mm(a, b)
    assert out.tolist() == [[17.0], [39.0]]
    out.sum().backward()
    assert a.grad.tolist() == [[5.0, 6.0], [5.0, 6.0]] and b.grad.tolist() == [[4.0], [6.0]]
    batch = tr.bmm(tr.stack([a.detach(), 2 * a.detach()]), tr.stack([b.detach(), b.detach()]))
    assert batch.shape == (2, 2, 1) and batch.tolist() == [[[17.0], [39.0]], [[34.0], [78.0]]]


@pytest.mark.parametrize("call, message", [
    (lambda: tr.mm(tr.ones(2, 3), tr.ones(2, 3)), r"input's columns \(3\) must equal mat2's rows \(2\)"),
    (lambda: tr.mm(tr.ones(2, 3, 3), tr.ones(3, 3)), r"expected input to be a matrix \(2-D\), got shape"),
    (lambda: tr.bmm(tr.ones(2, 3), tr.ones(3, 3)), r"expected input to be a batch of matrices \(3-D\)"),
    (lambda: tr.bmm(tr.ones(2, 2, 3), tr.ones(1, 3, 3)), "same batch size"),
    (lambda: tr.bmm(tr.ones(2, 2, 3), tr.ones(2, 3)), "expected mat2 to be a batch"),
    (lambda: tr.mm(tr.ones(2, 3), tr.ones(3, 3, dtype=F64)), "same dtype, got float32 and float64"),
    (lambda: tr.mm([[1.0]], tr.ones(1, 1)), "input must be a Tensor"),
])
def test_mm_and_bmm_refuse_what_pytorch_refuses(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()


def test_mm_and_bmm_match_torch(torch):
    rng = np.random.default_rng(2)
    for name, shapes in (("mm", [(3, 4), (4, 2)]), ("bmm", [(5, 3, 4), (5, 4, 2)])):
        arrays = [rng.normal(size=s) for s in shapes]
        ours, theirs = [tr.tensor(v, requires_grad=True) for v in arrays], [torch.tensor(v, requires_grad=True)
                                                                           for v in arrays]
        out, ref = getattr(tr, name)(*ours), getattr(torch, name)(*theirs)
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
        upstream = rng.normal(size=ref.shape)
        out.backward(tr.tensor(upstream))
        ref.backward(torch.tensor(upstream))
        for x, y in zip(ours, theirs):
            np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-12)
        assert tr.gradcheck(getattr(tr, name), [tr.tensor(v, requires_grad=True) for v in arrays])


@pytest.mark.parametrize("input_shape", [(3, 2), (2,), (1, 2), (3, 1), ()])
@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, -2.0), (0, 1)])
def test_addmm_by_hand_and_by_finite_differences(input_shape, beta, alpha):
    rng = np.random.default_rng(4)
    base, m1, m2 = rng.normal(size=input_shape), rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    ours = [tr.tensor(v, requires_grad=True) for v in (base, m1, m2)]
    out = tr.addmm(*ours, beta=beta, alpha=alpha)
    np.testing.assert_allclose(out.numpy(), beta * base + alpha * (m1 @ m2), rtol=1e-12)
    upstream = rng.normal(size=(3, 2))
    out.backward(tr.tensor(upstream))
    padded = (1,) * (2 - len(input_shape)) + input_shape  # the input's shape as broadcasting sees it
    summed = upstream.sum(axis=tuple(i for i, n in enumerate(padded) if n == 1), keepdims=True)
    np.testing.assert_allclose(ours[0].grad.numpy(), beta * summed.reshape(input_shape), rtol=1e-12)
    np.testing.assert_allclose(ours[1].grad.numpy(), alpha * upstream @ m2.T, rtol=1e-12)
    np.testing.assert_allclose(ours[2].grad.numpy(), alpha * m1.T @ upstream, rtol=1e-12)
    fresh = [tr.tensor(v, requires_grad=True) for v in (base, m1, m2)]
    assert tr.gradcheck(lambda a, b, c: tr.addmm(a, b, c, beta=beta, alpha=alpha), fresh)
    assert tr.gradgradcheck(lambda a, b, c: tr.addmm(a, b, c, beta=beta, alpha=alpha), fresh)


def test_addmm_with_beta_zero_ignores_nan_in_the_input_as_pytorch():
    out = tr.addmm(tr.tensor([float("nan"), 1.0]), tr.ones(1, 1), tr.ones(1, 2), beta=0)
    assert out.tolist() == [[1.0, 1.0]]


@pytest.mark.parametrize("call, message", [
    (lambda: tr.addmm(tr.ones(2), tr.ones(2, 3), tr.ones(2, 3)), r"mat1's columns \(3\) must equal mat2's rows \(2\)"),
    (lambda: tr.addmm(tr.ones(2), tr.ones(3), tr.ones(3, 2)), r"must be matrices \(2-D\), got shapes \(3,\)"),
    (lambda: tr.addmm(tr.ones(3), tr.ones(2, 2), tr.ones(2, 2)), r"input of shape \(3,\) does not broadcast"),
    (lambda: tr.addmm(tr.ones(2, 2, 2), tr.ones(2, 2), tr.ones(2, 2)), "does not broadcast"),
    (lambda: tr.addmm(tr.ones(2, dtype=F64), tr.ones(2, 2), tr.ones(2, 2)), "of one dtype, got float64, float32"),
    (lambda: tr.addmm([1.0], tr.ones(1, 1), tr.ones(1, 1)), "input must be a Tensor"),
    (lambda: tr.addmm(tr.ones(1), tr.ones(1, 1), tr.ones(1, 1), beta=tr.ones(1)), "beta must be a Python number"),
])
def test_addmm_refuses_what_pytorch_refuses(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()


def test_addmm_matches_torch(torch):
    rng = np.random.default_rng(5)
    arrays = [rng.normal(size=s).astype(np.float32) for s in ((2,), (3, 4), (4, 2))]
    ours = [tr.tensor(v, requires_grad=True) for v in arrays]
    theirs = [torch.tensor(v, requires_grad=True) for v in arrays]
    out, ref = tr.addmm(*ours, beta=0.5, alpha=2.0), torch.addmm(*theirs, beta=0.5, alpha=2.0)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-6)
    out.sum().backward()
    ref.sum().backward()
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-6)


# ---------------------------------------------------------------- addcmul and addcdiv
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3), (2, 3)), ((3,), (2, 3), (2, 1)), ((2, 3), (3,), ()),
                                    ((4, 2, 3), (2, 3), (1, 3))])
@pytest.mark.parametrize("value", [1, -0.5])
def test_addcmul_and_addcdiv_by_hand_and_by_finite_differences(shapes, value):
    rng = np.random.default_rng(6)
    base, t1, t2 = (rng.normal(size=s) for s in shapes)
    t2 = t2 + np.sign(t2) * 0.5  # away from 0 for addcdiv
    for name, expected in (("addcmul", base + value * t1 * t2), ("addcdiv", base + value * t1 / t2)):
        ours = [tr.tensor(v, requires_grad=True) for v in (base, t1, t2)]
        out = getattr(tr, name)(*ours, value=value)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
        assert getattr(ours[0], name)(ours[1], ours[2], value=value).tolist() == out.tolist()
        fresh = [tr.tensor(v, requires_grad=True) for v in (base, t1, t2)]

        def fn(a, b, c, name=name):
            return getattr(tr, name)(a, b, c, value=value)

        assert tr.gradcheck(fn, fresh) and tr.gradgradcheck(fn, fresh)
    # addcmul's gradients worked out: d/dinput = 1, d/dt1 = value t2, d/dt2 = value t1 (summed to each shape)
    ours = [tr.tensor(v, requires_grad=True) for v in (base, t1, t2)]
    tr.addcmul(*ours, value=value).sum().backward()
    full = np.broadcast_shapes(*shapes)

    def summed(array, shape):
        array = np.broadcast_to(array, full)
        array = array.sum(axis=tuple(range(len(full) - len(shape))))
        return array.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True).reshape(shape)

    np.testing.assert_allclose(ours[0].grad.numpy(), summed(np.ones(full), shapes[0]), rtol=1e-12)
    np.testing.assert_allclose(ours[1].grad.numpy(), summed(value * t2, shapes[1]), rtol=1e-12)
    np.testing.assert_allclose(ours[2].grad.numpy(), summed(value * t1, shapes[2]), rtol=1e-12)


def test_addcmul_is_one_node_for_one_float_dtype_and_promotes_otherwise():
    a, b = tr.ones(2, requires_grad=True), tr.full((2,), 3.0)
    assert tr.addcmul(a, b, b).grad_fn.name == "AddCMulBackward"
    mixed = tr.addcmul(tr.ones(2, dtype=F64), b, b, value=2)  # float64 with float32: float64, as PyTorch
    assert mixed.dtype == F64 and mixed.tolist() == [19.0, 19.0]
    ints = tr.addcmul(tr.tensor([1, 2]), tr.tensor([3, 4]), tr.tensor([5, 6]), value=2)
    assert ints.dtype == tr.int64 and ints.tolist() == [31, 50]


@pytest.mark.parametrize("call, message", [
    (lambda: tr.addcmul([1.0], tr.ones(1), tr.ones(1)), "input must be a Tensor"),
    (lambda: tr.addcmul(tr.ones(1), 2.0, tr.ones(1)), "tensor1 must be a Tensor"),
    (lambda: tr.addcmul(tr.ones(1), tr.ones(1), tr.ones(1), value=tr.ones(1)), "value must be a Python number"),
    (lambda: tr.addcmul(tr.ones(2), tr.ones(3), tr.ones(3)), "cannot be broadcast"),
    (lambda: tr.addcmul(tr.tensor([1]), tr.tensor([1]), tr.tensor([1]), value=0.5), "value must be an integer"),
    (lambda: tr.addcdiv(tr.ones(1), tr.tensor([1]), tr.tensor([2])), "integer division is not supported"),
])
def test_addcmul_and_addcdiv_refuse_what_pytorch_refuses(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()


def test_addcmul_addcdiv_and_their_in_place_forms_match_torch(torch):
    rng = np.random.default_rng(7)
    arrays = [rng.normal(size=s).astype(np.float32) for s in ((2, 3), (3,), (2, 1))]
    for name in ("addcmul", "addcdiv"):
        ours = [tr.tensor(v, requires_grad=True) for v in arrays]
        theirs = [torch.tensor(v, requires_grad=True) for v in arrays]
        out, ref = getattr(tr, name)(*ours, value=-0.5), getattr(torch, name)(*theirs, value=-0.5)
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-6)
        out.sum().backward()
        ref.sum().backward()
        for x, y in zip(ours, theirs):
            np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-5)
        # the in-place form joins the graph: gradients reach the old values and both factors
        ours = [tr.tensor(v, requires_grad=True) for v in arrays]
        theirs = [torch.tensor(v, requires_grad=True) for v in arrays]
        mine, reference = ours[0] * 1.0, theirs[0] * 1.0
        in_place = {"addcmul": lambda t, a, b: t.addcmul_(a, b, value=2.0),
                    "addcdiv": lambda t, a, b: t.addcdiv_(a, b, value=2.0)}[name]  # the same call for both libraries
        in_place(mine, ours[1], ours[2])
        in_place(reference, theirs[1], theirs[2])
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-6)
        (mine * mine).sum().backward()
        (reference * reference).sum().backward()
        for x, y in zip(ours, theirs):
            np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-5)


# ---------------------------------------------------------------- small ones
def test_concat_and_concatenate_are_cat():
    a, b = tr.tensor([[1.0, 2.0]], requires_grad=True), tr.tensor([[3.0, 4.0]], requires_grad=True)
    assert tr.concat is tr.cat and tr.concatenate is tr.cat
    out = tr.concat([a, b], dim=0)
    assert out.tolist() == [[1.0, 2.0], [3.0, 4.0]] and tr.concatenate([a, b], 1).shape == (1, 4)
    (out * tr.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert a.grad.tolist() == [[1.0, 2.0]] and b.grad.tolist() == [[3.0, 4.0]]


def test_is_tensor_numel_and_broadcast_to():
    assert tr.is_tensor(tr.ones(1)) and tr.is_tensor(tr.nn.Parameter(tr.ones(1)))
    assert not tr.is_tensor(np.ones(1)) and not tr.is_tensor([1.0])
    assert tr.numel(tr.ones(2, 3)) == 6 and tr.numel(tr.tensor(1.0)) == 1
    assert tr.broadcast_to(tr.tensor([1.0, 2.0]), (3, 2)).tolist() == [[1.0, 2.0]] * 3
    with pytest.raises(TypeError, match="numel: expected a Tensor"):
        tr.numel([1, 2])


def test_function_forms_have_docstrings():
    for name in ("add sub mul div pow neg tril triu mm bmm addmm addcmul addcdiv einsum multinomial is_tensor numel "
                 "broadcast_to set_num_threads get_num_threads concat concatenate device LongTensor Tensor").split():
        assert getattr(tr, name).__doc__, f"tr.{name} has no docstring"


# ---------------------------------------------------------------- threads
def test_set_num_threads_without_threadpoolctl_warns_and_sets_the_environment(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # as if it were not installed
    for name in threads._VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "_requested", None)
    with pytest.warns(threads.NumThreadsWarning, match="threadpoolctl is not installed"):
        tr.set_num_threads(3)
    assert all(threads.os.environ[name] == "3" for name in threads._VARIABLES)
    assert tr.get_num_threads() == 3


def test_set_num_threads_uses_threadpoolctl_when_installed(monkeypatch):
    calls = []
    fake = types.ModuleType("threadpoolctl")
    fake.threadpool_limits = lambda limits, user_api: calls.append((limits, user_api)) or object()
    fake.threadpool_info = lambda: [{"user_api": "blas", "num_threads": 2}, {"user_api": "openmp", "num_threads": 8}]
    monkeypatch.setitem(sys.modules, "threadpoolctl", fake)
    monkeypatch.setattr(threads, "_limits", None)
    for name in threads._VARIABLES:
        monkeypatch.setenv(name, "16")  # restored afterwards
    tr.set_num_threads(2)
    assert calls == [(2, "blas")] and tr.get_num_threads() == 2


def test_get_num_threads_reads_the_environment_without_threadpoolctl(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    monkeypatch.setattr(threads, "_requested", None)
    for name in threads._VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "5")
    assert tr.get_num_threads() == 5
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    assert tr.get_num_threads() >= 1


@pytest.mark.parametrize("value, error", [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)])
def test_set_num_threads_checks_its_argument(value, error):
    with pytest.raises(error, match="set_num_threads: num must be"):
        tr.set_num_threads(value)
