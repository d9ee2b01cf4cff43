"""tr.device (PyTorch's torch.device, also a str) and the legacy constructors tr.Tensor(...),
tr.LongTensor(...), tr.FloatTensor(...), ...: PyTorch's semantics, checked by hand and against PyTorch."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import tinygrad_rnn as tr


# ---------------------------------------------------------------- tr.device
@pytest.mark.parametrize("args, name, kind, index", [
    (("cpu",), "cpu", "cpu", None), (("cuda",), "cuda", "cuda", None), (("cuda:0",), "cuda:0", "cuda", 0),
    (("cuda", 1), "cuda:1", "cuda", 1), (("cpu", 0), "cpu:0", "cpu", 0), (("strict",), "strict", "strict", None),
    ((2,), "cuda:2", "cuda", 2),
])
def test_device_type_index_and_name(args, name, kind, index):
    device = tr.device(*args)
    assert device.type == kind and device.index == index and str(device) == name and type(str(device)) is str
    assert device == name and hash(device) == hash(name) and {device: 1}[name] == 1
    assert repr(device) == (f"device(type='{kind}')" if index is None else f"device(type='{kind}', index={index})")
    assert tr.device(device) is device and tr.device(name) == device


def test_device_matches_torch_device():
    torch = pytest.importorskip("torch")
    for args in (("cpu",), ("cuda",), ("cuda:1",), ("cuda", 3), ("cpu", 0)):
        ours, theirs = tr.device(*args), torch.device(*args)
        assert (ours.type, ours.index, str(ours), repr(ours)) == (theirs.type, theirs.index, str(theirs), repr(theirs))
    assert tr.device("cuda") != tr.device("cuda:0")  # as torch.device: no index is not index 0


@pytest.mark.parametrize("args, error, message", [
    (("gpu",), ValueError, "expected a type among"), (("cuda:x",), ValueError, "non-negative integer"),
    (("cuda", -1), ValueError, "non-negative"), (("cuda:0", 1), ValueError, "already has an index"),
    (("cuda", 1.0), TypeError, "index must be an int, got float"), (("cuda", True), TypeError, "got a bool"),
    ((None,), TypeError, "got NoneType"), (("cpu", 1), ValueError, "the CPU is one device"),
])
def test_device_refusals(args, error, message):
    with pytest.raises(error, match=message):
        tr.device(*args)


def test_device_pickles_and_copies():
    device = tr.device("cuda", 1)
    for again in (pickle.loads(pickle.dumps(device)), copy.deepcopy(device), copy.copy(device)):
        assert type(again) is tr.device and again == device and again.index == 1


def test_a_tensor_device_is_a_device_that_still_equals_its_name(each_device):
    x = tr.zeros(2)
    assert isinstance(x.device, tr.device) and x.device == each_device and str(x.device) == each_device
    assert x.device.type == each_device.partition(":")[0] and f"{x.device}" == each_device
    assert "device=" + each_device in repr(x)
    assert tr.get_default_device() == each_device and isinstance(tr.get_default_device(), tr.device)


def test_devices_go_wherever_device_names_go():
    cpu, strict = tr.device("cpu"), tr.device("strict")
    x = tr.zeros(2, device=strict)
    assert x.device == "strict" and x.to(cpu).device == "cpu" and x.to(tr.device("cpu", 0)).device == "cpu"
    assert tr.tensor([1.0], device=strict).device == strict and tr.ones(1, device=cpu).device == cpu
    assert tr.zeros_like(x).device == strict and tr.randn(2, device=strict).device == strict
    model = tr.nn.Linear(2, 3).to(strict)
    assert all(p.device == strict for p in model.parameters())
    model.to(tr.device("cpu"))
    assert all(p.device == "cpu" for p in model.parameters())
    y = tr.ones(2, requires_grad=True)
    y.to(strict).sum().backward()  # the move stays differentiable
    assert y.grad.device == "cpu" and y.grad.tolist() == [1.0, 1.0]
    tr.set_default_device(strict)
    try:
        assert tr.zeros(1).device == "strict"
    finally:
        tr.set_default_device(tr.device("cpu"))


# ---------------------------------------------------------------- tr.Tensor(...), the legacy constructor
def test_tensor_from_sizes_is_float32_zeros():
    for made, shape in ((tr.Tensor(2, 3), (2, 3)), (tr.Tensor(4), (4,)), (tr.Tensor(np.int64(3)), (3,)),
                        (tr.Tensor(0), (0,)), (tr.Tensor(), (0,))):
        assert made.shape == shape and made.dtype == tr.float32 and not made.numpy().any()
        assert type(made) is tr.Tensor and made.is_leaf and not made.requires_grad


def test_tensor_from_data_is_float32_even_from_integers():
    assert tr.Tensor([1, 2]).dtype == tr.float32 and tr.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert tr.Tensor((2, 3)).tolist() == [2.0, 3.0]  # a tuple is data, as in PyTorch
    assert tr.Tensor(np.arange(3, dtype=np.float64)).dtype == tr.float32
    assert tr.Tensor([[1, 2], [3, 4]]).shape == (2, 2) and tr.Tensor([]).shape == (0,)
    assert tr.Tensor([1.0], device="strict").device == "strict"
    assert tr.tensor([1, 2]).dtype == tr.int64  # tr.tensor keeps its own rules


def test_tensor_of_a_tensor_is_an_alias_in_the_graph():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    alias = tr.Tensor(x)
    assert alias is not x and alias.grad_fn is not None and alias.dtype == x.dtype
    (alias * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    ints = tr.tensor([5, 6])
    same = tr.Tensor(ints)  # PyTorch keeps the dtype here
    assert same.dtype == tr.int64
    with tr.no_grad():
        same[0] = 9
    assert ints.tolist() == [9, 6]  # shared memory


@pytest.mark.parametrize("call, error, message", [
    (lambda: tr.Tensor([1.0], requires_grad=True), TypeError, "only device="),
    (lambda: tr.Tensor([1.0], dtype=tr.float64), TypeError, r"tr\.tensor\(data, dtype="),
    (lambda: tr.Tensor(2.5), TypeError, "data must be a sequence"),
    (lambda: tr.Tensor(True), TypeError, "data must be a sequence"),
    (lambda: tr.Tensor(2, [3]), TypeError, "not all sizes"),
    (lambda: tr.Tensor(-1), ValueError, "non-negative"),
    (lambda: tr.LongTensor(tr.tensor([1.0])), TypeError, "expected a tensor of dtype int64, got float32"),
    (lambda: tr.Tensor(tr.zeros(1), device="strict"), RuntimeError, "is on cpu"),
])
def test_legacy_refusals(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_legacy_constructors_match_torch():
    torch = pytest.importorskip("torch")
    data = [("Tensor", ([1, 2],)), ("Tensor", ((2, 3),)), ("LongTensor", ([1.7, -2.2],)), ("FloatTensor", ([1, 2],)),
            ("DoubleTensor", ([1, 2],)), ("IntTensor", ([1.5, -1.5],)), ("BoolTensor", ([2, 0],)),
            ("ByteTensor", ([-1, 3],)), ("HalfTensor", ([1],)), ("ShortTensor", ([1],)), ("CharTensor", ([1],)),
            ("Tensor", (np.array([1, 2]),)), ("LongTensor", (np.array([1.5, 2.7]),))]
    sizes = [("Tensor", (2, 3)), ("Tensor", ()), ("LongTensor", (3, 2)), ("Tensor", (np.array(3),))]
    for compare_values, cases in ((True, data), (False, sizes)):  # from sizes PyTorch's memory is uninitialised
        for name, args in cases:
            ours, theirs = getattr(tr, name)(*args), getattr(torch, name)(*args)
            assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
            if compare_values:
                np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_typed_constructors_by_hand_and_isinstance():
    assert tr.LongTensor(3, 2).shape == (3, 2) and tr.LongTensor(3, 2).tolist() == [[0, 0]] * 3
    assert tr.LongTensor([1.7, -2.2]).tolist() == [1, -2]  # truncated, as in PyTorch
    assert tr.BoolTensor([2, 0]).tolist() == [True, False] and tr.ByteTensor([255]).dtype == tr.uint8
    assert tr.DoubleTensor([1]).dtype == tr.float64 and tr.IntTensor([1]).dtype == tr.int32
    assert tr.FloatTensor(2).dtype == tr.float32 and tr.LongTensor().shape == (0,)
    ints = tr.tensor([4])
    assert tr.LongTensor(ints).tolist() == [4]
    assert isinstance(tr.tensor([1]), tr.LongTensor) and not isinstance(tr.tensor([1.0]), tr.LongTensor)
    assert isinstance(tr.ones(1), tr.FloatTensor) and isinstance(tr.nn.Parameter(tr.ones(1)), tr.FloatTensor)
    assert not isinstance(tr.ones(1, device="strict"), tr.FloatTensor)  # the CPU's types, as in PyTorch
    assert type(tr.LongTensor([1])) is tr.Tensor and isinstance(tr.LongTensor([1]), tr.Tensor)


def test_subclasses_still_build_themselves():
    p = tr.nn.Parameter(tr.tensor([1.0, 2.0], dtype=tr.float64))
    assert type(p) is tr.nn.Parameter and p.dtype == tr.float64 and p.requires_grad
    assert tr.nn.Parameter().shape == (0,)

    class Plain(tr.Tensor):
        __slots__ = ()

    made = Plain([1, 2])
    assert type(made) is Plain and made.dtype == tr.float32 and made.tolist() == [1.0, 2.0]
    assert copy.deepcopy(tr.ones(2)).tolist() == [1.0, 1.0]
