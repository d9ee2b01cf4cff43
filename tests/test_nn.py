"""nn: Module bookkeeping (registration, traversal, modes, dtype, state_dict), the
containers, the feed-forward layers, nn.init, the losses of nn.functional and gradient
clipping. References are closed forms written in NumPy here and, where installed,
PyTorch (those tests skip cleanly without it)."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tests.helpers import assert_close, distinct_upstream
from tinygrad_rnn import nn
from tinygrad_rnn.nn import functional as F

F64 = tr.float64


@pytest.fixture(scope="module")
def torch():
    """PyTorch, or a clean skip without it."""
    return pytest.importorskip("torch")


def leaf(values, dtype=F64):
    return tr.tensor(np.asarray(values), dtype=dtype, requires_grad=True)


# ================================================================ Module
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(tr.ones(3))
        self.inner = nn.Linear(3, 2)
        self.plain = tr.zeros(3)  # a tensor that is not a Parameter: not registered
        self.count = 7

    def forward(self, x):
        return self.inner(x * self.scale)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), Block())
        self.head = nn.Linear(2, 1)

    def forward(self, x):
        return self.head(self.encoder(x))


def test_attribute_registration():
    block = Block()
    assert list(block._parameters) == ["scale"]
    assert list(block._modules) == ["inner"]
    assert [n for n, _ in block.named_parameters()] == ["scale", "inner.weight", "inner.bias"]
    # replacing a parameter by a plain value unregisters it; deleting removes it
    block.scale = tr.ones(3)
    assert [n for n, _ in block.named_parameters()] == ["inner.weight", "inner.bias"]
    del block.inner
    assert list(block.named_parameters()) == []
    assert list(block.children()) == []


def test_assigning_before_super_init_fails_clearly():
    class Broken(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(tr.ones(2))
            super().__init__()

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_named_parameters_nested_dotted_names_in_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "encoder.0.weight", "encoder.0.bias", "encoder.2.scale", "encoder.2.inner.weight", "encoder.2.inner.bias",
        "head.weight", "head.bias",
    ]
    named = dict(net.named_parameters())
    assert named["encoder.2.inner.weight"] is net.encoder[2].inner.weight
    assert list(net.state_dict()) == list(named)
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())


def test_shared_parameters_and_modules_are_counted_once():
    a, b = nn.Linear(4, 4), nn.Linear(4, 4)
    b.weight = a.weight  # tied weights
    model = nn.Sequential(a, b)
    params = list(model.parameters())
    assert len(params) == 3
    assert sum(p is a.weight for p in params) == 1
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    # the same module twice
    shared = nn.Linear(2, 2)
    twice = nn.Sequential(shared, nn.Tanh(), shared)
    assert len(list(twice.parameters())) == 2
    assert sum(m is shared for m in twice.modules()) == 1
    # a tied weight gets both uses' gradients
    x = tr.tensor(np.ones((1, 4)), dtype=tr.float32)
    model(x).sum().backward()
    assert a.weight.grad is not None


def test_nested_names_come_in_pytorch_order(torch):
    class TorchBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(3))
            self.inner = torch.nn.Linear(3, 2)

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh(), TorchBlock())
            self.head = torch.nn.Linear(2, 1)

    ours, theirs = Net(), TorchNet()
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_children_and_modules():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["encoder", "head"]
    assert list(net.children()) == [net.encoder, net.head]
    names = [n for n, _ in net.named_modules()]
    assert names == ["", "encoder", "encoder.0", "encoder.1", "encoder.2", "encoder.2.inner", "head"]  # depth first
    modules = list(net.modules())
    assert modules[0] is net and len(modules) == 7 and len({id(m) for m in modules}) == 7


def test_train_and_eval_propagate_to_every_module():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not net.encoder[2].inner.training


def test_zero_grad():
    net = Net()
    net(tr.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    for p in net.parameters():
        assert p.grad.shape == p.shape and np.all(p.grad.numpy() == 0)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_freezes_parameters():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.head.requires_grad_(True)
    assert [n for n, p in net.named_parameters() if p.requires_grad] == ["head.weight", "head.bias"]


def test_to_dtype_keeps_parameter_identity_and_converts():
    net = Net()
    before = list(net.parameters())
    values = [p.numpy().copy() for p in before]
    net(tr.randn(2, 3)).sum().backward()
    assert net.to(F64) is net
    after = list(net.parameters())
    assert all(a is b for a, b in zip(before, after)), "to() replaced Parameter objects (an optimizer would break)"
    for p, v in zip(after, values):
        assert isinstance(p, nn.Parameter) and p.dtype == F64 and p.requires_grad
        assert p.grad is None or p.grad.dtype == F64
        assert_close(p, v.astype(np.float64), atol=0, rtol=0)
    out = net(tr.randn(2, 3, dtype=F64))
    assert out.dtype == F64
    net.float()
    assert all(p.dtype == tr.float32 for p in net.parameters())
    assert net.double() is net and all(p.dtype == F64 for p in net.parameters())
    assert all(a is b for a, b in zip(before, net.parameters()))
    with pytest.raises(TypeError):
        net.to(tr.int64)


def test_buffers_are_saved_and_converted_but_not_trained():
    class WithBuffer(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(tr.ones(2))
            self.register_buffer("running", tr.tensor([1.0, 2.0]))

    m = WithBuffer()
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert [n for n, _ in m.named_buffers()] == ["running"]
    assert list(m.state_dict()) == ["weight", "running"]
    m.double()
    assert m.running.dtype == F64


def test_state_dict_returns_detached_tensors_sharing_the_parameters_memory():
    # PyTorch's state_dict (keep_vars=False): tensors that alias the parameters, outside the graph;
    # clone() is what makes a snapshot.
    lin = nn.Linear(3, 2)
    state = lin.state_dict()
    assert all(type(v) is tr.Tensor and not v.requires_grad and v.grad_fn is None for v in state.values())
    assert state["weight"].shape == (2, 3) and state["weight"].dtype == tr.float32
    assert np.shares_memory(state["bias"].array, lin.bias.array)
    with tr.no_grad():
        lin.weight.add_(1.0)  # a change of the model (an optimizer step) shows in the state dict
    assert_close(state["weight"], lin.weight.numpy(), atol=0, rtol=0, what="state_dict after changing the model")
    snapshot = state["weight"].clone()
    assert not np.shares_memory(snapshot.array, lin.weight.array)


def test_load_state_dict_copies_values_and_keeps_dtype():
    lin = nn.Linear(3, 2)
    source = {"weight": np.arange(6.0).reshape(2, 3), "bias": np.array([1.0, -1.0])}  # float64
    result = lin.load_state_dict(source)
    assert tuple(result) == ([], [])
    assert lin.weight.dtype == tr.float32
    assert_close(lin.weight, source["weight"], atol=0, rtol=0)
    source["weight"][...] = -5.0  # the model holds a copy
    assert lin.weight.numpy()[0, 1] == 1.0
    same_dtype = nn.Linear(3, 2, dtype=F64)  # no cast, so only an explicit copy separates the two
    source64 = {"weight": np.ones((2, 3)), "bias": np.zeros(2)}
    same_dtype.load_state_dict(source64)
    source64["weight"][0, 0] = 9.0
    assert same_dtype.weight.numpy()[0, 0] == 1.0, "load_state_dict kept a view of the caller's array"
    weight = lin.weight
    lin.load_state_dict({"weight": tr.ones(2, 3), "bias": tr.zeros(2)})  # tensors are accepted too
    assert lin.weight is weight and np.all(lin.weight.numpy() == 1)
    # round trip between two models
    other = nn.Linear(3, 2)
    other.load_state_dict(lin.state_dict())
    x = tr.randn(4, 3)
    assert_close(other(x), lin(x), atol=0, rtol=0)


def test_load_state_dict_strict_lists_every_problem():
    lin = nn.Linear(3, 2)
    before = lin.weight.numpy().copy()
    with pytest.raises(RuntimeError) as info:
        lin.load_state_dict({"weight": np.zeros((2, 3)), "extra": np.zeros(1)})
    message = str(info.value)
    assert "bias" in message and "extra" in message
    assert "missing" in message and "unexpected" in message
    assert_close(lin.weight, before, atol=0, rtol=0, what="weight after a failed load")  # nothing half-loaded
    with pytest.raises(RuntimeError) as info:
        lin.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(2)})
    assert "weight" in str(info.value) and "(2, 3)" in str(info.value) and "(3, 2)" in str(info.value)


def test_load_state_dict_non_strict_returns_missing_and_unexpected():
    lin = nn.Linear(3, 2)
    missing, unexpected = lin.load_state_dict({"bias": np.array([5.0, 6.0]), "other.weight": np.zeros(3)},
                                              strict=False)
    assert missing == ["weight"] and unexpected == ["other.weight"]
    assert_close(lin.bias, [5.0, 6.0], atol=0, rtol=0)
    with pytest.raises(RuntimeError):  # shape mismatches raise even when not strict
        lin.load_state_dict({"bias": np.zeros(3)}, strict=False)


# ================================================================ containers
def test_sequential_indexing_len_iteration_and_forward():
    layers = [nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    assert list(seq) == layers
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = tr.randn(5, 3)
    assert_close(seq(x), layers[2](layers[1](layers[0](x))), atol=0, rtol=0)
    head = seq[:2]  # a slice is a Sequential, as in PyTorch, so it can be called
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[1] is layers[1]
    assert_close(head(x), layers[1](layers[0](x)), atol=0, rtol=0)


def test_apply_visits_children_first_then_self():
    seq = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Tanh(), nn.Linear(2, 1)))
    visited = []
    assert seq.apply(lambda m: visited.append(type(m).__name__)) is seq
    assert visited == ["Linear", "Tanh", "Linear", "Sequential", "Sequential"]
    seq.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert np.all(seq[0].weight.numpy() == 0) and np.all(seq[1][1].weight.numpy() == 0)


def test_module_list_registration_indexing_and_errors():
    items = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(items) == 3
    assert len(list(items.parameters())) == 6
    extra = nn.Linear(2, 1)
    items.append(extra)
    assert items[-1] is extra and len(items) == 4
    assert [n for n, _ in items.named_parameters()][-2:] == ["3.weight", "3.bias"]
    items.extend([nn.Tanh()])
    assert len(items) == 5 and isinstance(items[4], nn.Tanh)
    part = items[1:3]
    assert isinstance(part, nn.ModuleList) and len(part) == 2 and part[0] is items[1]
    assert list(iter(items))[3] is extra
    with pytest.raises(TypeError):
        items.append(tr.zeros(2))

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

    assert [n for n, _ in Holder().named_parameters()] == [
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]


# ================================================================ Linear
@given(
    batch_shape=st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple),
    in_features=st.integers(1, 5),
    out_features=st.integers(1, 4),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_linear_matches_numpy_formula(batch_shape, in_features, out_features, bias, seed):
    rng = np.random.default_rng(seed)
    lin = nn.Linear(in_features, out_features, bias=bias, dtype=F64)
    w = lin.weight.numpy().copy()
    b = lin.bias.numpy().copy() if bias else 0.0
    x = rng.standard_normal(batch_shape + (in_features,))
    xt = leaf(x)
    out = lin(xt)
    assert_close(out, x @ w.T + b, atol=1e-12, rtol=1e-12)
    upstream = distinct_upstream(out.shape, seed)
    out.backward(tr.tensor(upstream))
    g2 = upstream.reshape(-1, out_features)
    assert_close(xt.grad, upstream @ w, atol=1e-12, rtol=1e-12, what="input grad")
    assert_close(lin.weight.grad, g2.T @ x.reshape(-1, in_features), atol=1e-12, rtol=1e-12, what="weight grad")
    if bias:
        assert_close(lin.bias.grad, g2.sum(0), atol=1e-12, rtol=1e-12, what="bias grad")


def test_linear_matches_torch(torch):
    theirs = torch.nn.Linear(4, 3, dtype=torch.float64)
    ours = nn.Linear(4, 3, dtype=F64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 5, 4))
    upstream = distinct_upstream((2, 5, 3))
    xt, xo = torch.tensor(x, requires_grad=True), leaf(x)
    out_t, out_o = theirs(xt), ours(xo)
    assert_close(out_o, out_t.detach().numpy(), atol=1e-12, rtol=1e-12)
    out_t.backward(torch.tensor(upstream))
    out_o.backward(tr.tensor(upstream))
    assert_close(xo.grad, xt.grad.numpy(), atol=1e-12, rtol=1e-12)
    assert_close(ours.weight.grad, theirs.weight.grad.numpy(), atol=1e-12, rtol=1e-12)
    assert_close(ours.bias.grad, theirs.bias.grad.numpy(), atol=1e-12, rtol=1e-12)


def test_linear_with_a_bias_is_one_node_also_over_a_sequence():
    lin = nn.Linear(4, 3)
    for shape in ((2, 4), (5, 2, 4)):
        out = lin(tr.ones(*shape))
        assert out.grad_fn.name == "AddMMBackward" and out.shape == shape[:-1] + (3,)
        names = [None if fn is None else fn.name for fn, _ in out.grad_fn.next_functions]
        assert names == ["AccumulateGrad", None, "AccumulateGrad"]  # bias, input (no gradient), weight


@pytest.mark.parametrize("bias_shape, fine", [((3,), True), ((), True), ((2, 3), True), ((4,), False),
                                              ((5, 2, 3), False), ((2, 1), True), ((3, 1), False)])
def test_linear_takes_the_biases_pytorch_takes(bias_shape, fine):
    x, w, b = tr.ones(2, 4), tr.ones(3, 4), tr.ones(*bias_shape)
    if fine:
        assert nn.functional.linear(x, w, b).tolist() == [[5.0] * 3] * 2
    else:
        with pytest.raises(ValueError, match=rf"linear: bias of shape {re.escape(str(bias_shape))} does not broadcast"):
            nn.functional.linear(x, w, b)


def test_linear_bias_shapes_agree_with_torch(torch):
    for bias_shape in ((3,), (), (2, 3), (4,), (5, 2, 3), (2, 1), (3, 1)):
        try:
            torch.nn.functional.linear(torch.ones(2, 4), torch.ones(3, 4), torch.ones(bias_shape))
            theirs = True
        except RuntimeError:
            theirs = False
        try:
            nn.functional.linear(tr.ones(2, 4), tr.ones(3, 4), tr.ones(*bias_shape))
            ours = True
        except ValueError:
            ours = False
        assert ours == theirs, bias_shape


def test_linear_default_init_bounds_and_shapes():
    lin = nn.Linear(9, 50)
    bound = 1 / math.sqrt(9)
    assert lin.weight.shape == (50, 9) and lin.bias.shape == (50,)
    assert lin.weight.dtype == tr.float32
    for p in (lin.weight, lin.bias):
        a = p.numpy()
        assert np.all(np.abs(a) <= bound)
        assert a.max() > 0.8 * bound and a.min() < -0.8 * bound  # the whole range is used
    assert nn.Linear(3, 2, bias=False).bias is None
    assert [n for n, _ in nn.Linear(3, 2, bias=False).named_parameters()] == ["weight"]
    with pytest.raises(ValueError):
        nn.Linear(3, 2)(tr.randn(4, 5))


# ================================================================ Embedding
def test_embedding_lookup_and_repeated_indices_accumulate():
    emb = nn.Embedding(5, 3, dtype=F64)
    table = emb.weight.numpy().copy()
    idx = np.array([[0, 2, 2], [4, 2, 0]])
    out = emb(tr.tensor(idx))
    assert_close(out, table[idx], atol=0, rtol=0)
    upstream = distinct_upstream((2, 3, 3))
    out.backward(tr.tensor(upstream))
    expected = np.zeros_like(table)
    np.add.at(expected, idx, upstream)
    assert_close(emb.weight.grad, expected, atol=1e-12, rtol=1e-12)
    assert np.all(emb.weight.grad.numpy()[[1, 3]] == 0)


@pytest.mark.parametrize("padding_idx", [1, -3])  # -3 of 4 rows is row 1, as in PyTorch
def test_embedding_padding_idx_row_is_zero_and_gets_no_gradient(padding_idx):
    emb = nn.Embedding(4, 2, padding_idx=padding_idx, dtype=F64)
    assert np.all(emb.weight.numpy()[1] == 0)
    idx = tr.tensor([1, 0, 1, 3])
    out = emb(idx)
    assert np.all(out.numpy()[[0, 2]] == 0)
    out.backward(tr.tensor(distinct_upstream((4, 2))))
    grad = emb.weight.grad.numpy()
    assert np.all(grad[1] == 0), "the padding row got a gradient"
    assert np.all(grad[0] != 0) and np.all(grad[3] != 0)


@pytest.mark.parametrize("bad", [[0, 5], [-1, 2]])
def test_embedding_out_of_range_index_raises(bad):
    with pytest.raises(IndexError):
        nn.Embedding(5, 2)(tr.tensor(bad))


def test_embedding_float_indices_raise_type_error():
    with pytest.raises(TypeError):
        nn.Embedding(5, 2)(tr.tensor([1.0, 2.0]))


# ================================================================ Dropout
def test_dropout_train_zeros_and_scales_eval_is_identity():
    drop = nn.Dropout(0.3)
    x = leaf(np.ones((200, 100)))
    out = drop(x)
    values = out.numpy()
    zero_fraction = np.mean(values == 0)
    assert 0.27 < zero_fraction < 0.33
    assert np.allclose(values[values != 0], 1 / 0.7)  # survivors scaled by 1/(1-p)
    out.sum().backward()
    assert_close(x.grad, values, atol=1e-12, rtol=1e-12, what="dropout gradient follows the mask")
    assert not np.array_equal(drop(x).numpy(), values), "the same mask twice"
    drop.eval()
    assert_close(drop(x), np.ones((200, 100)), atol=0, rtol=0, what="eval dropout")
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0)
    assert_close(nn.Dropout(0.0)(x), x.numpy(), atol=0, rtol=0)
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


# ================================================================ LayerNorm
def np_layer_norm(x, axes, w, b, eps=1e-5):
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)  # biased
    return (x - mean) / np.sqrt(var + eps) * w + b


@pytest.mark.parametrize("normalized_shape", [4, (2, 3)])
def test_layer_norm_matches_numpy_formula_and_finite_differences(normalized_shape):
    shape = (3,) + ((normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape)
    ln = nn.LayerNorm(normalized_shape, dtype=F64)
    assert np.all(ln.weight.numpy() == 1) and np.all(ln.bias.numpy() == 0)
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal(ln.weight.shape), rng.standard_normal(ln.bias.shape)
    ln.load_state_dict({"weight": w, "bias": b})
    x = rng.standard_normal(shape) * 3 + 1
    axes = tuple(range(1, len(shape)))
    assert_close(ln(tr.tensor(x)), np_layer_norm(x, axes, w, b), atol=1e-12, rtol=1e-10)
    assert tr.gradcheck(lambda x, w, b: F.layer_norm(x, normalized_shape, w, b), [leaf(x), leaf(w), leaf(b)])
    no_affine = nn.LayerNorm(normalized_shape, elementwise_affine=False)
    assert list(no_affine.parameters()) == []


def test_layer_norm_matches_torch(torch):
    theirs = torch.nn.LayerNorm(5, dtype=torch.float64)
    ours = nn.LayerNorm(5, dtype=F64)
    rng = np.random.default_rng(2)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.standard_normal(5)))
        theirs.bias.copy_(torch.tensor(rng.standard_normal(5)))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((2, 3, 5))
    upstream = distinct_upstream((2, 3, 5))
    xt, xo = torch.tensor(x, requires_grad=True), leaf(x)
    out_t, out_o = theirs(xt), ours(xo)
    assert_close(out_o, out_t.detach().numpy(), atol=1e-10, rtol=1e-8)
    out_t.backward(torch.tensor(upstream))
    out_o.backward(tr.tensor(upstream))
    assert_close(xo.grad, xt.grad.numpy(), atol=1e-10, rtol=1e-8)
    assert_close(ours.weight.grad, theirs.weight.grad.numpy(), atol=1e-10, rtol=1e-8)
    assert_close(ours.bias.grad, theirs.bias.grad.numpy(), atol=1e-10, rtol=1e-8)


def test_layer_norm_wrong_shape_raises():
    with pytest.raises(ValueError):
        nn.LayerNorm(4)(tr.randn(2, 3))


# ================================================================ activation modules
def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize(
    "module, expected",
    [
        (nn.Tanh(), np.tanh),
        (nn.ReLU(), lambda x: np.maximum(x, 0)),
        (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (nn.Identity(), lambda x: x),
        (nn.Softmax(dim=1), lambda x: np_softmax(x, 1)),
        (nn.Softmax(dim=-1), lambda x: np_softmax(x, -1)),
        (nn.LogSoftmax(dim=1), lambda x: np.log(np_softmax(x, 1))),
        (nn.Flatten(), lambda x: x.reshape(x.shape[0], -1)),
    ],
    ids=["tanh", "relu", "sigmoid", "identity", "softmax1", "softmax-1", "logsoftmax1", "flatten"],
)
def test_activation_modules(module, expected):
    x = np.random.default_rng(3).standard_normal((2, 3, 4)) * 2
    assert list(module.parameters()) == []
    assert_close(module(tr.tensor(x)), expected(x), atol=1e-12, rtol=1e-10)


# ================================================================ nn.init
def test_uniform_and_normal_statistics():
    p = nn.Parameter(tr.zeros(200, 500, dtype=F64))
    nn.init.uniform_(p, -2.0, 3.0)
    a = p.numpy()
    assert a.min() >= -2.0 and a.max() < 3.0 and a.min() < -1.99 and a.max() > 2.99
    assert abs(a.mean() - 0.5) < 0.02 and abs(a.std() - 5 / math.sqrt(12)) < 0.02
    assert p.is_leaf and p.requires_grad and p.grad_fn is None  # filled without recording a graph
    nn.init.normal_(p, 1.5, 0.5)
    a = p.numpy()
    assert abs(a.mean() - 1.5) < 0.01 and abs(a.std() - 0.5) < 0.01
    nn.init.zeros_(p)
    assert np.all(p.numpy() == 0)
    nn.init.ones_(p)
    assert np.all(p.numpy() == 1)
    nn.init.constant_(p, 0.25)
    assert np.all(p.numpy() == 0.25)


def test_xavier_and_kaiming_bounds_and_scales():
    fan_out, fan_in = 300, 200
    w = nn.Parameter(tr.zeros(fan_out, fan_in, dtype=F64))
    bound = math.sqrt(6 / (fan_in + fan_out))
    nn.init.xavier_uniform_(w)
    a = w.numpy()
    assert np.all(np.abs(a) <= bound) and a.max() > 0.99 * bound and a.min() < -0.99 * bound
    nn.init.xavier_uniform_(w, gain=2.0)
    assert np.abs(w.numpy()).max() > 1.9 * bound
    nn.init.xavier_normal_(w)
    assert abs(w.numpy().std() - math.sqrt(2 / (fan_in + fan_out))) < 0.002
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    kb = math.sqrt(2) * math.sqrt(3 / fan_in)
    a = w.numpy()
    assert np.all(np.abs(a) <= kb) and a.max() > 0.99 * kb
    nn.init.kaiming_uniform_(w, a=math.sqrt(5))  # Linear's default: U(±1/sqrt(fan_in))
    assert np.abs(w.numpy()).max() <= 1 / math.sqrt(fan_in) and np.abs(w.numpy()).max() > 0.99 / math.sqrt(fan_in)
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2 / fan_out)) < 0.002
    # fans of a conv-like weight (out, in, k): in*k and out*k
    conv = nn.Parameter(tr.zeros(4, 3, 5, dtype=F64))
    nn.init.xavier_uniform_(conv)
    assert np.abs(conv.numpy()).max() <= math.sqrt(6 / (15 + 20))
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError):
        nn.init.xavier_uniform_(nn.Parameter(tr.zeros(5)))


@pytest.mark.parametrize("shape", [(6, 6), (3, 7), (7, 3), (2, 3, 4)])
def test_orthogonal_is_orthonormal(shape):
    w = nn.Parameter(tr.zeros(*shape, dtype=F64))
    nn.init.orthogonal_(w)
    q = w.numpy().reshape(shape[0], -1)
    rows, cols = q.shape
    if rows <= cols:
        assert_close(q @ q.T, np.eye(rows), atol=1e-10, rtol=0, what="Q Qᵀ")
    if rows >= cols:
        assert_close(q.T @ q, np.eye(cols), atol=1e-10, rtol=0, what="Qᵀ Q")
    nn.init.orthogonal_(w, gain=2.0)
    q2 = w.numpy().reshape(shape[0], -1)
    small = min(rows, cols)
    gram = q2 @ q2.T if rows <= cols else q2.T @ q2
    assert_close(gram, 4 * np.eye(small), atol=1e-10, rtol=0, what="gain² I")
    assert not np.allclose(q2, 2 * q), "orthogonal_ returned the same matrix twice"


# ================================================================ losses
def np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def np_cross_entropy(logits, target, ignore_index=-100, reduction="mean"):
    """Closed form: per-element losses, and the gradient (softmax - onehot) scaled as the reduction says."""
    moved = np.moveaxis(logits, 1, -1)  # classes last
    logp = np_log_softmax(moved, -1)
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    picked = np.take_along_axis(logp, safe[..., None], -1)[..., 0]
    losses = -picked * keep
    onehot = np.eye(logits.shape[1])[safe]
    grad = (np.exp(logp) - onehot) * keep[..., None]
    if reduction == "mean":
        value, grad = losses.sum() / keep.sum(), grad / keep.sum()
    elif reduction == "sum":
        value = losses.sum()
    else:
        value = losses
    return value, np.moveaxis(grad, -1, 1)


ce_cases = st.fixed_dictionaries(
    {
        "n": st.integers(1, 4),
        "c": st.integers(2, 5),
        "extra": st.sampled_from([(), (3,), (2, 2), (2, 3)]),
        "reduction": st.sampled_from(["mean", "sum", "none"]),
        "ignore": st.booleans(),
        "seed": st.integers(0, 2**16),
    }
)


def ce_data(case):
    rng = np.random.default_rng(case["seed"])
    logits = rng.standard_normal((case["n"], case["c"]) + case["extra"]) * 2
    target = rng.integers(0, case["c"], (case["n"],) + case["extra"])
    if case["ignore"]:
        target.reshape(-1)[0] = -100
        if target.size == 1:
            target.reshape(-1)[0] = 0
    return logits, target


@given(case=ce_cases)
def test_cross_entropy_matches_closed_form(case):
    logits, target = ce_data(case)
    x = leaf(logits)
    loss = F.cross_entropy(x, tr.tensor(target), reduction=case["reduction"])
    value, grad = np_cross_entropy(logits, target, reduction=case["reduction"])
    assert_close(loss, value, atol=1e-12, rtol=1e-10, what="loss")
    upstream = np.ones(()) if case["reduction"] != "none" else distinct_upstream(target.shape)
    loss.backward(tr.tensor(upstream))
    expected = grad if case["reduction"] != "none" else grad * np.expand_dims(upstream, 1)
    assert_close(x.grad, expected, atol=1e-12, rtol=1e-10, what="gradient (softmax - onehot)")
    module = nn.CrossEntropyLoss(reduction=case["reduction"])
    assert_close(module(tr.tensor(logits), tr.tensor(target)), value, atol=1e-12, rtol=1e-10)


@given(case=ce_cases)
def test_cross_entropy_and_nll_match_torch(torch, case):
    logits, target = ce_data(case)
    reduction = case["reduction"]
    t_logits = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(t_logits, torch.tensor(target), reduction=reduction)
    x = leaf(logits)
    loss = F.cross_entropy(x, tr.tensor(target), reduction=reduction)
    assert_close(loss, expected.detach().numpy(), atol=1e-12, rtol=1e-10)
    upstream = distinct_upstream(loss.shape) if loss.shape else np.array(1.0)
    expected.backward(torch.tensor(upstream))
    loss.backward(tr.tensor(upstream))
    assert_close(x.grad, t_logits.grad.numpy(), atol=1e-12, rtol=1e-10)
    logp = np_log_softmax(logits, 1)
    nll_t = torch.nn.functional.nll_loss(torch.tensor(logp), torch.tensor(target), reduction=reduction)
    assert_close(F.nll_loss(tr.tensor(logp), tr.tensor(target), reduction=reduction), nll_t.numpy(),
                 atol=1e-12, rtol=1e-10)


def test_cross_entropy_with_two_extra_dims_picks_the_right_elements():
    # (N, C, d1, d2): the class of element (n, i, j) is target[n, i, j]
    logits = np.zeros((1, 2, 2, 2))
    logits[0, 1, 0, 1] = 5.0  # class 1 is likely at (0, 1) only
    target = np.array([[[0, 1], [0, 0]]])
    loss = F.cross_entropy(tr.tensor(logits), tr.tensor(target), reduction="none")
    likely, even = math.log1p(math.exp(-5.0)), math.log(2.0)
    assert_close(loss, [[[even, likely], [even, even]]], atol=1e-12, rtol=1e-10)
    wide = np.random.default_rng(0).standard_normal((2, 3, 2, 4))  # d1 != d2
    wide_target = np.random.default_rng(1).integers(0, 3, (2, 2, 4))
    assert_close(F.cross_entropy(tr.tensor(wide), tr.tensor(wide_target)), np_cross_entropy(wide, wide_target)[0],
                 atol=1e-12, rtol=1e-10)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [0.2, 0.2, 0.2], [5.0, 1.0, -2.0]])
    target = np.array([1, 2, 0, 0])
    x = leaf(logits)
    F.cross_entropy(x, tr.tensor(target)).backward()
    expected = (np_softmax(logits, 1) - np.eye(3)[target]) / 4
    assert_close(x.grad, expected, atol=1e-12, rtol=1e-10)
    # with an ignored target the mean is over the other three, and the ignored row gets nothing
    x2 = leaf(logits)
    target2 = np.array([1, -100, 0, 0])
    loss = F.cross_entropy(x2, tr.tensor(target2))
    loss.backward()
    logp = np_log_softmax(logits, 1)
    assert_close(loss, -(logp[0, 1] + logp[2, 0] + logp[3, 0]) / 3, atol=1e-12, rtol=1e-10)
    assert np.all(x2.grad.numpy()[1] == 0)
    assert_close(x2.grad.numpy()[0], (np_softmax(logits, 1)[0] - np.eye(3)[1]) / 3, atol=1e-12, rtol=1e-10)
    # a custom ignore_index
    loss3 = F.cross_entropy(tr.tensor(logits), tr.tensor(np.array([1, 2, 0, 2])), ignore_index=2)
    assert_close(loss3, -(logp[0, 1] + logp[2, 0]) / 2, atol=1e-12, rtol=1e-10)


def test_cross_entropy_stable_at_thousand():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1000.0]])
    target = np.array([1, 2, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in (F64, tr.float32):
            x = leaf(logits, dtype)
            loss = F.cross_entropy(x, tr.tensor(target), reduction="none")
            loss.sum().backward()
            assert np.all(np.isfinite(loss.numpy())) and np.all(np.isfinite(x.grad.numpy()))
            assert_close(loss.numpy().astype(np.float64), [2000.0, 1.0 + math.log1p(math.exp(-1)), math.log(3)],
                         atol=1e-3, rtol=1e-5)
            expected_grad = np_softmax(logits, 1) - np.eye(3)[target]
            assert_close(x.grad.numpy().astype(np.float64), expected_grad, atol=1e-6, rtol=1e-5)


def test_nll_loss_closed_form_and_1d_input():
    logp = np_log_softmax(np.random.default_rng(4).standard_normal((3, 4)), 1)
    target = np.array([3, 0, 1])
    x = leaf(logp)
    loss = F.nll_loss(x, tr.tensor(target))
    assert_close(loss, -logp[np.arange(3), target].mean(), atol=1e-12, rtol=1e-12)
    loss.backward()
    expected = np.zeros((3, 4))
    expected[np.arange(3), target] = -1 / 3
    assert_close(x.grad, expected, atol=1e-12, rtol=1e-12)
    assert_close(F.nll_loss(tr.tensor(logp[0]), tr.tensor(2)), -logp[0, 2], atol=1e-12, rtol=1e-12)
    assert_close(nn.NLLLoss(reduction="sum")(tr.tensor(logp), tr.tensor(target)), -logp[np.arange(3), target].sum(),
                 atol=1e-12, rtol=1e-12)


def test_classification_loss_input_errors():
    logits = tr.randn(3, 4)
    with pytest.raises(TypeError):
        F.cross_entropy(logits, tr.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError):
        F.cross_entropy(logits, tr.tensor([0, 1]))
    with pytest.raises(IndexError):
        F.cross_entropy(logits, tr.tensor([0, 4, 1]))
    with pytest.raises(ValueError):
        F.cross_entropy(logits, tr.tensor([0, 1, 2]), reduction="avg")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_closed_form(reduction):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    xa, xb = leaf(a), leaf(b)
    loss = F.mse_loss(xa, xb, reduction=reduction)
    sq = (a - b) ** 2
    expected = {"mean": sq.mean(), "sum": sq.sum(), "none": sq}[reduction]
    assert_close(loss, expected, atol=1e-12, rtol=1e-12)
    upstream = np.ones(()) if reduction != "none" else distinct_upstream((3, 4))
    loss.backward(tr.tensor(upstream))
    scale = {"mean": 1 / 12, "sum": 1.0, "none": upstream}[reduction]
    assert_close(xa.grad, 2 * (a - b) * scale, atol=1e-12, rtol=1e-12)
    assert_close(xb.grad, -2 * (a - b) * scale, atol=1e-12, rtol=1e-12)
    assert_close(nn.MSELoss(reduction=reduction)(tr.tensor(a), tr.tensor(b)), expected, atol=1e-12, rtol=1e-12)
    with pytest.raises(ValueError):
        F.mse_loss(tr.tensor(a), tr.tensor(b[:2]))


def np_bce_with_logits(x, y, pos_weight=None):
    p = 1.0 if pos_weight is None else pos_weight
    log_sig = -np.logaddexp(0, -x)  # log σ(x)
    log_one_minus = -np.logaddexp(0, x)  # log(1 - σ(x))
    return -(p * y * log_sig + (1 - y) * log_one_minus)


def np_bce_grad(x, y, pos_weight=None):
    p = 1.0 if pos_weight is None else pos_weight
    sig = np.exp(-np.logaddexp(0, -x))  # σ(x) without overflow
    return -p * y * (1 - sig) + (1 - y) * sig


@pytest.mark.parametrize("with_pos_weight", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_closed_form(with_pos_weight, reduction):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3)) * 3
    y = rng.random((4, 3))  # soft targets too
    y[0] = [0.0, 1.0, 1.0]
    pos_weight = np.array([0.5, 2.0, 3.0]) if with_pos_weight else None
    xt = leaf(x)
    pw = tr.tensor(pos_weight) if with_pos_weight else None
    loss = F.binary_cross_entropy_with_logits(xt, tr.tensor(y), reduction=reduction, pos_weight=pw)
    per = np_bce_with_logits(x, y, pos_weight)
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    assert_close(loss, expected, atol=1e-12, rtol=1e-10)
    upstream = np.ones(()) if reduction != "none" else distinct_upstream((4, 3))
    loss.backward(tr.tensor(upstream))
    scale = {"mean": 1 / 12, "sum": 1.0, "none": upstream}[reduction]
    assert_close(xt.grad, np_bce_grad(x, y, pos_weight) * scale, atol=1e-12, rtol=1e-10)
    module = nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=pw)
    assert_close(module(tr.tensor(x), tr.tensor(y)), expected, atol=1e-12, rtol=1e-10)


def test_bce_with_logits_stable_at_thousand():
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    pos_weight = np.array([2.0, 3.0, 2.0, 2.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for pw in (None, pos_weight):
            for dtype in (F64, tr.float32):
                xt = leaf(x, dtype)
                loss = F.binary_cross_entropy_with_logits(xt, tr.tensor(y, dtype=dtype), reduction="none",
                                                          pos_weight=None if pw is None else tr.tensor(pw, dtype=dtype))
                loss.sum().backward()
                assert np.all(np.isfinite(loss.numpy())) and np.all(np.isfinite(xt.grad.numpy()))
                assert_close(loss.numpy().astype(np.float64), np_bce_with_logits(x, y, pw), atol=1e-4, rtol=1e-6)
                assert_close(xt.grad.numpy().astype(np.float64), np_bce_grad(x, y, pw), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("y, pos_weight, expected", [(1.0, None, -0.5), (0.0, None, 0.5), (0.25, None, 0.25),
                                                     (1.0, 3.0, -1.5), (0.0, 3.0, 0.5)])
def test_bce_with_logits_gradient_at_zero_logit(y, pos_weight, expected):
    # log(1 + e^-x) is smooth at x = 0 with slope σ(0) - 1 = -1/2. A stable form built from |x| and
    # relu must not let their kinks (slope 0 at 0) into the gradient: a zero-initialised output layer
    # gives logits of exactly 0, and would learn from a wrong gradient.
    x = leaf([0.0])
    pw = None if pos_weight is None else tr.tensor([pos_weight], dtype=F64)
    F.binary_cross_entropy_with_logits(x, tr.tensor([y], dtype=F64), reduction="sum", pos_weight=pw).backward()
    assert_close(x.grad, [expected], atol=1e-12, rtol=1e-12, what="d loss / d logit at 0")


def test_bce_with_logits_matches_torch(torch):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4)) * 4
    y = (rng.random((3, 4)) > 0.5).astype(np.float64)
    pos_weight = rng.random(4) * 3
    t_x = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        t_x, torch.tensor(y), pos_weight=torch.tensor(pos_weight))
    expected.backward()
    xt = leaf(x)
    loss = F.binary_cross_entropy_with_logits(xt, tr.tensor(y), pos_weight=tr.tensor(pos_weight))
    loss.backward()
    assert_close(loss, expected.detach().numpy(), atol=1e-12, rtol=1e-10)
    assert_close(xt.grad, t_x.grad.numpy(), atol=1e-12, rtol=1e-10)


def test_mse_matches_torch(torch):
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    for reduction in ("mean", "sum", "none"):
        expected = torch.nn.functional.mse_loss(torch.tensor(a), torch.tensor(b), reduction=reduction)
        assert_close(F.mse_loss(tr.tensor(a), tr.tensor(b), reduction=reduction), expected.numpy(), atol=1e-12,
                     rtol=1e-12)


def test_losses_pass_gradcheck_with_respect_to_logits():
    rng = np.random.default_rng(9)
    logits = rng.standard_normal((3, 4, 2))
    target = tr.tensor(np.array([[0, 3], [-100, 1], [2, 2]]))
    assert tr.gradcheck(lambda x: F.cross_entropy(x, target), [leaf(logits)])
    assert tr.gradcheck(lambda x: F.cross_entropy(x, target, reduction="none"), [leaf(logits)])
    assert tr.gradcheck(lambda x: F.nll_loss(x.log_softmax(1), target, reduction="sum"), [leaf(logits)])
    y = tr.tensor(rng.random((3, 4)))
    pw = tr.tensor(rng.random(4) + 0.5)
    assert tr.gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw),
                        [leaf(rng.standard_normal((3, 4)))])
    assert tr.gradcheck(lambda a, b: F.mse_loss(a, b), [leaf(rng.standard_normal((3, 2))),
                                                        leaf(rng.standard_normal((3, 2)))])


# ================================================================ gradient clipping
def params_with_grads(grads, dtype=F64):
    params = []
    for g in grads:
        p = nn.Parameter(tr.zeros(*np.shape(g), dtype=dtype))
        p.grad = tr.tensor(np.asarray(g), dtype=dtype)
        params.append(p)
    return params


def test_clip_grad_norm_uses_one_norm_over_all_gradients():
    grads = [np.array([3.0, 0.0]), np.array([[0.0], [4.0]]), np.array([12.0])]  # total 2-norm 13
    params = params_with_grads(grads)
    params.append(nn.Parameter(tr.ones(3, dtype=F64)))  # no gradient: skipped
    total = nn.utils.clip_grad_norm_(params, max_norm=6.5)
    assert total.item() == pytest.approx(13.0, rel=1e-12)
    scale = 6.5 / (13.0 + 1e-6)
    for p, g in zip(params, grads):
        assert_close(p.grad, g * scale, atol=1e-12, rtol=1e-9)
    assert params[3].grad is None
    clipped = math.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in params[:3]))
    assert clipped == pytest.approx(6.5, rel=1e-6)


def test_clip_grad_norm_leaves_small_gradients_alone():
    grads = [np.array([0.3, -0.4])]
    params = params_with_grads(grads)
    total = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert total.item() == pytest.approx(0.5)
    assert_close(params[0].grad, grads[0], atol=0, rtol=0)


def test_clip_grad_norm_inf_and_p_norms():
    grads = [np.array([1.0, -7.0]), np.array([2.0, 3.0])]
    params = params_with_grads(grads)
    total = nn.utils.clip_grad_norm_(params, max_norm=3.5, norm_type=float("inf"))
    assert total.item() == pytest.approx(7.0)
    for p, g in zip(params, grads):
        assert_close(p.grad, g * 3.5 / (7.0 + 1e-6), atol=1e-12, rtol=1e-9)
    params = params_with_grads(grads)
    total = nn.utils.clip_grad_norm_(params, max_norm=100.0, norm_type=1)
    assert total.item() == pytest.approx(13.0)


def test_clip_grad_norm_matches_torch(torch):
    rng = np.random.default_rng(10)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal((2, 2, 2))]
    for norm_type in (2.0, float("inf"), 3.0):
        ours = params_with_grads(grads)
        theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p, g in zip(theirs, grads):
            p.grad = torch.tensor(g)
        expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm=0.5, norm_type=norm_type)
        total = nn.utils.clip_grad_norm_(ours, max_norm=0.5, norm_type=norm_type)
        assert total.item() == pytest.approx(expected.item(), rel=1e-10)
        for p, q in zip(ours, theirs):
            assert_close(p.grad, q.grad.numpy(), atol=1e-12, rtol=1e-8)


def test_clip_grad_value():
    grads = [np.array([-3.0, 0.5, 2.0]), np.array([[0.1, -0.2]])]
    params = params_with_grads(grads)
    assert nn.utils.clip_grad_value_(params, 1.0) is None
    assert_close(params[0].grad, [-1.0, 0.5, 1.0], atol=0, rtol=0)
    assert_close(params[1].grad, [[0.1, -0.2]], atol=0, rtol=0)


def test_clip_grad_norm_on_a_model_keeps_dtype():
    lin = nn.Linear(3, 2)
    (lin(tr.randn(4, 3)) * 100).sum().backward()
    total = nn.utils.clip_grad_norm_(lin.parameters(), 1.0)
    norm_after = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in lin.parameters()))
    assert total.item() > 1.0 and norm_after == pytest.approx(1.0, rel=1e-4)
    assert all(p.grad.dtype == tr.float32 for p in lin.parameters())


# ================================================================ every backend
def test_every_backend_matches_cpu(each_device):
    """Embedding, LayerNorm, Linear, the losses, init and clipping on the default device
    (NumPy, the strict CuPy-like backend, CuPy) against the same run on the CPU."""
    rng = np.random.default_rng(13)
    idx = rng.integers(0, 6, (4, 5))
    target = rng.integers(0, 3, (4, 5))
    target[0, 0] = -100
    soft = rng.random((4, 5, 3))

    def run(device):
        model = nn.Sequential(nn.Embedding(6, 4, padding_idx=0, dtype=F64, device=device),
                              nn.LayerNorm(4, dtype=F64, device=device), nn.Dropout(0.5),
                              nn.Linear(4, 3, dtype=F64, device=device))
        model.load_state_dict(reference_state)
        model.eval()
        logits = model(tr.tensor(idx, device=device))  # (4, 5, 3)
        loss = (F.cross_entropy(logits.permute(0, 2, 1), tr.tensor(target, device=device))
                + F.binary_cross_entropy_with_logits(logits, tr.tensor(soft, device=device),
                                                     pos_weight=tr.tensor([1.0, 2.0, 3.0], dtype=F64, device=device))
                + F.mse_loss(logits.tanh(), tr.tensor(soft, device=device)))
        loss.backward()
        total = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        assert loss.device == total.device == tr.backend.normalize_device(device)
        state = model.state_dict()
        assert all(type(v) is tr.Tensor and v.device == loss.device and not v.requires_grad for v in state.values())
        return [loss.numpy(), total.numpy()] + [p.grad.numpy() for p in model.parameters()]

    reference_state = nn.Sequential(nn.Embedding(6, 4, padding_idx=0), nn.LayerNorm(4), nn.Dropout(0.5),
                                    nn.Linear(4, 3)).double().state_dict()
    here, on_cpu = run(None), run("cpu")
    for a, b in zip(here, on_cpu):
        assert_close(a, b, atol=1e-12, rtol=1e-10)
    w = nn.Parameter(tr.zeros(3, 5, dtype=F64))
    nn.init.orthogonal_(w)
    q = w.numpy()
    assert_close(q @ q.T, np.eye(3), atol=1e-10, rtol=0)
    nn.init.kaiming_uniform_(w)
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 5)
