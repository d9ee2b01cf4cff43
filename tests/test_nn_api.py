"""The PyTorch-shaped nn API beyond the basic layers: containers (ModuleDict, ParameterList,
ParameterDict), Embedding.from_pretrained, GELU/SiLU/LeakyReLU/ELU, BCELoss, cross-entropy with
label smoothing and class probabilities, nn.utils.rnn (padding and packing), and the Transformer
names that refuse. Hand-computed numbers first (no torch needed), then PyTorch as the reference."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_rnn as tr
from tests.helpers import assert_close
from tinygrad_rnn import nn
from tinygrad_rnn.nn import functional as F
from tinygrad_rnn.nn import special
from tinygrad_rnn.nn.utils import rnn as R

F64 = tr.float64
TIGHT = dict(atol=1e-12, rtol=1e-12)


@pytest.fixture(scope="module")
def torch():
    """PyTorch, or a clean skip without it."""
    return pytest.importorskip("torch")


def pair(torch, array, requires_grad=True):
    """The same float64 values as a tinygrad_rnn leaf and a torch leaf."""
    array = np.asarray(array, dtype=np.float64)
    return tr.tensor(array, requires_grad=requires_grad), torch.tensor(array, requires_grad=requires_grad)


def backward_both(ours, theirs, torch, seed=0):
    """Backpropagate the same random upstream gradient through both results."""
    upstream = np.random.default_rng(seed).normal(size=tuple(theirs.shape))
    ours.backward(tr.tensor(upstream))
    theirs.backward(torch.tensor(upstream))


# ================================================================ containers
def test_container_names_match_pytorch(torch):
    models = []
    for lib, make in ((nn, tr), (torch.nn, torch)):
        model = lib.Module()
        model.heads = lib.ModuleDict({"left": lib.Linear(2, 3), "right": lib.Linear(3, 1)})
        model.scales = lib.ParameterList([lib.Parameter(make.ones(2)) for _ in range(2)])
        model.table = lib.ParameterDict({"b": lib.Parameter(make.zeros(1)), "a": make.ones(3)})
        models.append(model)
    ours, theirs = models
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "heads.left.weight", "heads.left.bias", "heads.right.weight", "heads.right.bias", "scales.0", "scales.1",
        "table.a", "table.b"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ours.table["a"].requires_grad and isinstance(ours.table["a"], nn.Parameter)


def test_module_dict_behaves_like_a_dict():
    d = nn.ModuleDict([("b", nn.Tanh()), ("a", nn.Linear(2, 2))])
    assert list(d) == ["b", "a"] and len(d) == 2 and "a" in d and isinstance(d["a"], nn.Linear)
    replacement = nn.Linear(2, 2)
    d["b"] = replacement  # replacing keeps the key's place
    assert list(d.keys()) == ["b", "a"] and d["b"] is replacement
    assert [n for n, _ in d.named_parameters()] == ["b.weight", "b.bias", "a.weight", "a.bias"]
    assert isinstance(d.pop("a"), nn.Linear) and list(d) == ["b"]
    d.update({"c": nn.ReLU()})
    assert [k for k, _ in d.items()] == ["b", "c"] and len(list(d.values())) == 2
    del d["b"]
    assert list(d) == ["c"] and not hasattr(d, "b")
    d.clear()
    assert len(d) == 0 and list(d.parameters()) == []
    for key, error in ((1, TypeError), ("a.b", KeyError), ("", KeyError), ("keys", KeyError)):
        with pytest.raises(error):
            d[key] = nn.Tanh()
    with pytest.raises(TypeError, match="must be a Module"):
        d["x"] = tr.zeros(2)


def test_parameter_list_wraps_tensors_and_trains():
    values = tr.tensor([1.0, 2.0])
    p = nn.ParameterList([values, nn.Parameter(tr.ones(3))])
    assert len(p) == 2 and isinstance(p[0], nn.Parameter) and p[0].requires_grad
    with tr.no_grad():
        values[0] = 5.0  # the Parameter shares the tensor's memory, as in PyTorch
    assert p[0].tolist() == [5.0, 2.0] and p[-1] is p[1]
    p.append(tr.zeros(1))
    p += [tr.zeros(2)]
    assert [n for n, _ in p.named_parameters()] == ["0", "1", "2", "3"] and len(p[1:3]) == 2
    p[0] = tr.tensor([7.0, 8.0])
    assert [n for n, _ in p.named_parameters()][0] == "0" and p[0].tolist() == [7.0, 8.0]
    (p[0] * 2).sum().backward()
    assert p[0].grad.tolist() == [2.0, 2.0]
    with pytest.raises(IndexError):
        p[4]
    with pytest.raises(TypeError):
        p.extend(tr.zeros(2))
    with pytest.raises(RuntimeError, match="should not be called"):
        p(1)


def test_parameter_dict_order_rules_are_pytorchs():
    d = nn.ParameterDict({"b": tr.zeros(1), "a": tr.zeros(2)})  # a plain dict is added sorted by key
    assert list(d) == ["a", "b"]
    d = nn.ParameterDict(OrderedDict([("b", tr.zeros(1)), ("a", tr.zeros(2))]))
    assert list(d) == ["b", "a"] and d.get("z") is None and "a" in d
    assert d.setdefault("c", tr.ones(1)).tolist() == [1.0] and list(reversed(d)) == ["c", "a", "b"]
    assert d.popitem()[0] == "c" and list((d | {"e": tr.zeros(1)}).keys()) == ["b", "a", "e"]
    assert isinstance(d.pop("b"), nn.Parameter) and list(d.state_dict()) == ["a"]
    copy = d.copy()
    assert copy["a"] is d["a"]
    with pytest.raises(KeyError):
        d["missing"]
    with pytest.raises(KeyError, match="already exists"):
        d["update"] = tr.zeros(1)


def test_list_containers_renumber_as_pytorch(torch):
    for lib, make in ((nn, lambda: nn.Linear(1, 1)), (torch.nn, lambda: torch.nn.Linear(1, 1))):
        layers = lib.ModuleList([make(), make(), make()])
        layers.insert(1, make())
        del layers[0]
        layers[0] = make()
        layers.pop(-1)
        keys = list(layers.state_dict())
        if lib is nn:
            ours = keys
    assert ours == keys == ["0.weight", "0.bias", "1.weight", "1.bias"]
    named = nn.Sequential(OrderedDict([("embed", nn.Linear(2, 3)), ("act", nn.GELU())]))
    assert list(named.state_dict()) == ["embed.weight", "embed.bias"] and isinstance(named[1:][0], nn.GELU)
    assert list(named[:1].state_dict()) == ["embed.weight", "embed.bias"]  # a slice keeps the names


def test_reassignment_keeps_state_dict_order_and_buffers(torch):
    lin = nn.Linear(2, 2)
    lin.weight = nn.Parameter(tr.zeros(2, 2))
    assert list(lin.state_dict()) == list(torch.nn.Linear(2, 2).state_dict()) == ["weight", "bias"]
    lin.register_buffer("running", tr.zeros(2))
    lin.running = tr.ones(2)  # a buffer stays a buffer
    assert lin.state_dict()["running"].tolist() == [1.0, 1.0]
    with pytest.raises(KeyError):
        lin.register_buffer("a.b", tr.zeros(1))


def test_repr_matches_pytorch(torch):
    ours = nn.Sequential(nn.Linear(2, 3), nn.GELU(approximate="tanh"), nn.LeakyReLU(0.2), nn.ELU(), nn.SiLU(),
                         nn.ModuleDict({"e": nn.Embedding(4, 2, padding_idx=0)}))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.GELU(approximate="tanh"), torch.nn.LeakyReLU(0.2),
                                 torch.nn.ELU(), torch.nn.SiLU(),
                                 torch.nn.ModuleDict({"e": torch.nn.Embedding(4, 2, padding_idx=0)}))
    assert repr(ours) == repr(theirs)


# ================================================================ Embedding
def test_from_pretrained_uses_the_table_as_is():
    table = tr.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=F64)
    tr.manual_seed(3)
    emb = nn.Embedding.from_pretrained(table, padding_idx=1)
    after = tr.randn(2)
    tr.manual_seed(3)
    assert tr.randn(2).tolist() == after.tolist()  # no random numbers were drawn
    assert not emb.weight.requires_grad and emb.weight.dtype == F64 and emb.padding_idx == 1
    assert emb(tr.tensor([1, 2])).tolist() == [[3.0, 4.0], [5.0, 6.0]]  # the padding row is not zeroed
    with tr.no_grad():
        table[0, 0] = 9.0  # memory is shared
    assert emb.weight[0, 0].item() == 9.0
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(tr.zeros(3))
    with pytest.raises(TypeError):
        nn.Embedding.from_pretrained([[1.0]])


def test_embedding_padding_gradient_matches_pytorch(torch):
    table = np.arange(12.0).reshape(4, 3)
    ours = nn.Embedding.from_pretrained(tr.tensor(table), freeze=False, padding_idx=2)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=False, padding_idx=2)
    index = [[2, 0, 2], [1, 0, 3]]
    backward_both(ours(tr.tensor(index)), theirs(torch.tensor(index)), torch)
    assert_close(ours.weight.grad, theirs.weight.grad.numpy(), **TIGHT)
    assert ours.weight.grad[2].tolist() == [0.0, 0.0, 0.0]


# ================================================================ activations
def test_erf_and_normal_cdf_are_accurate_to_rounding():
    x = np.concatenate([np.linspace(-9, 9, 4001), [0.0, 0.46875, -4.0, 4.0, 26.0]])
    erf = special.erf(x, np)
    erfc = special.erfc(x, np)
    assert_close(erf, [math.erf(v) for v in x], atol=0, rtol=1e-15)
    assert_close(erfc, [math.erfc(v) for v in x], atol=0, rtol=2e-15)
    cdf = special.normal_cdf(np.array([-30.0, -1.0, 0.0, 1.0, 8.0]), np)
    # at x = -30 the rounding of x/√2 alone moves Φ by 2·(x²/2)·2⁻⁵³ ≈ 1e-13 relative: the problem's, not erf's
    assert_close(cdf, [0.5 * math.erfc(v / math.sqrt(2)) for v in (30.0, 1.0, 0.0, -1.0, -8.0)], atol=0, rtol=5e-13)
    assert special.erf(np.array([np.inf, -np.inf]), np).tolist() == [1.0, -1.0]
    assert np.isnan(special.erfc(np.array([np.nan]), np)).all()


def test_gelu_hand_values_and_gradients():
    phi1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    density1 = math.exp(-0.5) / math.sqrt(2 * math.pi)
    x = tr.tensor([-1.0, 0.0, 1.0], dtype=F64, requires_grad=True)
    y = F.gelu(x)
    y.sum().backward()
    assert_close(y, [-(1 - phi1), 0.0, phi1], **TIGHT)
    assert_close(x.grad, [1 - phi1 - density1, 0.5, phi1 + density1], **TIGHT)
    inner = math.sqrt(2 / math.pi) * 1.044715
    assert_close(nn.GELU("tanh")(tr.tensor([1.0], dtype=F64)), [0.5 * (1 + math.tanh(inner))], **TIGHT)
    assert tr.gradcheck(F.gelu, [tr.tensor([-2.5, -0.3, 0.2, 1.7], dtype=F64, requires_grad=True)])
    assert tr.gradgradcheck(F.gelu, [tr.tensor([-2.5, -0.3, 0.2, 1.7], dtype=F64, requires_grad=True)])
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("erf")


def test_other_activations_hand_values():
    x = tr.tensor([-2.0, 0.0, 3.0], dtype=F64, requires_grad=True)
    assert_close(F.leaky_relu(x, 0.1), [-0.2, 0.0, 3.0], **TIGHT)
    assert_close(F.elu(x, 2.0), [2 * (math.exp(-2) - 1), 0.0, 3.0], **TIGHT)
    assert_close(F.silu(x), [-2 / (1 + math.exp(2)), 0.0, 3 / (1 + math.exp(-3))], **TIGHT)
    F.elu(x, 2.0).sum().backward()
    assert_close(x.grad, [2 * math.exp(-2), 2.0, 1.0], **TIGHT)  # alpha at 0, as PyTorch
    big = tr.tensor([1000.0], requires_grad=True)
    F.elu(big).sum().backward()
    assert big.grad.tolist() == [1.0]  # no 0·inf from the unused branch
    with pytest.raises(ValueError, match="inplace"):
        nn.LeakyReLU(inplace=True)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "leaky_relu", "elu"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_activations_match_pytorch(torch, name, dtype):
    x = np.random.default_rng(1).normal(size=(4, 6)) * 4
    x[0, :5] = [0.0, -9.0, 12.0, -40.0, 1e-8]
    args = {"gelu": (), "gelu_tanh": ("tanh",), "silu": (), "leaky_relu": (0.3,), "elu": (0.7,)}[name]
    cls = {"gelu": "GELU", "gelu_tanh": "GELU", "silu": "SiLU", "leaky_relu": "LeakyReLU", "elu": "ELU"}[name]
    ours, theirs = getattr(nn, cls)(*args), getattr(torch.nn, cls)(*args)
    a = tr.tensor(x.astype(dtype), requires_grad=True)
    b = torch.tensor(x.astype(dtype), requires_grad=True)
    ya, yb = ours(a), theirs(b)
    backward_both(ya, yb.double() if dtype == "float64" else yb, torch)
    tol = dict(atol=1e-14, rtol=1e-13) if dtype == "float64" else dict(atol=1e-6, rtol=1e-5)
    assert ya.dtype == a.dtype and a.grad.dtype == a.dtype
    assert_close(ya, yb.detach().numpy(), **tol)
    assert_close(a.grad, b.grad.numpy(), **tol)


def test_gelu_second_derivative_matches_pytorch(torch):
    a, b = pair(torch, [-3.0, -0.5, 0.0, 0.7, 2.0])
    (ga,) = tr.grad(F.gelu(a).sum(), [a], create_graph=True)
    (gb,) = torch.autograd.grad(torch.nn.functional.gelu(b).sum(), [b], create_graph=True)
    ga.sum().backward()
    gb.sum().backward()
    assert_close(a.grad, b.grad.numpy(), **TIGHT)


# ================================================================ BCELoss
def test_binary_cross_entropy_hand_values():
    x = tr.tensor([0.8, 0.0, 1.0, 0.0], dtype=F64, requires_grad=True)
    y = tr.tensor([1.0, 1.0, 1.0, 0.0], dtype=F64)
    losses = F.binary_cross_entropy(x, y, reduction="none")
    assert_close(losses, [-math.log(0.8), 100.0, 0.0, 0.0], **TIGHT)  # log clamped to >= -100
    losses.sum().backward()
    eps = float(np.float32(1e-12))
    assert_close(x.grad, [-1 / 0.8, -1 / eps, 0.0, 0.0], atol=0, rtol=1e-12)  # PyTorch's finite gradient
    assert_close(nn.BCELoss(weight=tr.tensor([2.0, 1.0, 1.0, 1.0], dtype=F64))(x, y),
                 (-2 * math.log(0.8) + 100) / 4, **TIGHT)
    interior = [tr.tensor([0.2, 0.7], dtype=F64, requires_grad=True), tr.tensor([0.3, 0.9], dtype=F64,
                                                                                   requires_grad=True)]
    assert tr.gradcheck(F.binary_cross_entropy, interior)
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        F.binary_cross_entropy(tr.tensor([1.5]), tr.tensor([1.0]))
    with pytest.raises(ValueError, match="shape"):
        F.binary_cross_entropy(tr.tensor([0.5]), tr.tensor([[1.0]]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_matches_pytorch(torch, reduction):
    rng = np.random.default_rng(2)
    x, y = rng.uniform(size=(3, 4)), rng.uniform(size=(3, 4))
    x[0] = [0.0, 1.0, 1e-50, 1 - 1e-13]
    y[0] = [0.0, 0.5, 0.25, 1.0]
    (a, b), (ta, tb) = pair(torch, x), pair(torch, y)
    w = rng.uniform(size=4)
    la = nn.BCELoss(tr.tensor(w), reduction=reduction)(a, ta)
    lb = torch.nn.BCELoss(torch.tensor(w), reduction=reduction)(b, tb)
    backward_both(la, lb, torch)
    assert_close(la, lb.detach().numpy(), **TIGHT)
    assert_close(a.grad, b.grad.numpy(), atol=1e-12, rtol=1e-12)
    assert_close(ta.grad, tb.grad.numpy(), atol=1e-12, rtol=1e-12)


# ================================================================ cross-entropy
def test_label_smoothing_and_probability_targets_hand_values():
    x = tr.tensor([[0.0, math.log(2)]], dtype=F64, requires_grad=True)  # softmax = (1/3, 2/3)
    loss = nn.CrossEntropyLoss(label_smoothing=0.2)(x, tr.tensor([1]))
    loss.backward()
    assert_close(loss, 0.9 * math.log(1.5) + 0.1 * math.log(3), **TIGHT)  # (1-ε)·nll + ε/C·Σ -log p
    assert_close(x.grad, [[1 / 3 - 0.1, 2 / 3 - 0.9]], **TIGHT)  # softmax - ((1-ε)·onehot + ε/C)
    x.grad = None
    loss = F.cross_entropy(x, tr.tensor([[0.25, 0.75]], dtype=F64))
    loss.backward()
    assert_close(loss, -(0.25 * math.log(1 / 3) + 0.75 * math.log(2 / 3)), **TIGHT)
    assert_close(x.grad, [[1 / 12, -1 / 12]], **TIGHT)
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, tr.tensor([1]), label_smoothing=1.5)
    with pytest.raises(TypeError, match="floating"):
        F.cross_entropy(x, tr.tensor([[0, 1]]))
    with pytest.raises(ValueError, match="ignore_index"):
        F.cross_entropy(x, tr.tensor([[0.5, 0.5]], dtype=F64), ignore_index=0)


@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2), (4,)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_pytorch(torch, shape, weighted, smoothing, reduction):
    rng = np.random.default_rng(len(shape) + 10 * weighted)
    x = rng.normal(size=shape) * 3
    batch = shape[:1] + shape[2:] if len(shape) > 1 else ()
    classes = rng.integers(0, 4, size=batch)
    if classes.ndim:
        classes.reshape(-1)[0] = -100  # one ignored target
    probabilities = rng.dirichlet(np.ones(4), size=max(1, classes.size)).reshape(*batch, 4)
    probabilities = np.moveaxis(probabilities, -1, 1 if len(shape) > 1 else 0)
    w = rng.uniform(0.5, 2.0, size=4) if weighted else None
    for target in (classes, probabilities):
        (a, b) = pair(torch, x)
        ta, tb = tr.tensor(target), torch.tensor(target)
        ta.requires_grad_(target.dtype.kind == "f")
        tb.requires_grad_(target.dtype.kind == "f")
        kw = dict(reduction=reduction, label_smoothing=smoothing)
        la = F.cross_entropy(a, ta, None if w is None else tr.tensor(w), **kw)
        lb = torch.nn.functional.cross_entropy(b, tb, None if w is None else torch.tensor(w), **kw)
        backward_both(la, lb, torch)
        assert_close(la, lb.detach().numpy(), **TIGHT)
        assert_close(a.grad, b.grad.numpy(), **TIGHT)
        if target.dtype.kind == "f":
            assert_close(ta.grad, tb.grad.numpy(), **TIGHT)


def test_label_smoothing_with_every_target_ignored_is_nan_with_zero_gradient(torch):
    for weight in (None, [1.0, 2.0, 3.0]):
        (a, b) = pair(torch, [[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]])
        la = F.cross_entropy(a, tr.tensor([-100, -100]), None if weight is None else tr.tensor(weight, dtype=F64),
                             label_smoothing=0.1)
        lb = torch.nn.functional.cross_entropy(b, torch.tensor([-100, -100]),
                                               None if weight is None else torch.tensor(weight, dtype=torch.float64),
                                               label_smoothing=0.1)
        la.backward()
        lb.backward()
        assert math.isnan(la.item()) and math.isnan(lb.item())
        assert a.grad.tolist() == b.grad.tolist() == [[0.0] * 3] * 2


# ================================================================ nn.utils.rnn
def test_pad_and_pack_hand_layouts():
    seqs = [tr.tensor([1.0, 2.0]), tr.tensor([3.0, 4.0, 5.0]), tr.tensor([6.0])]
    assert R.pad_sequence(seqs).tolist() == [[1, 3, 6], [2, 4, 0], [0, 5, 0]]
    assert R.pad_sequence(seqs, batch_first=True, padding_side="left", padding_value=-1).tolist() == [
        [-1, 1, 2], [3, 4, 5], [-1, -1, 6]]
    packed = R.pack_sequence(seqs, enforce_sorted=False)
    assert packed.data.tolist() == [3, 1, 6, 4, 2, 5]  # time-major, longest first
    assert packed.batch_sizes.tolist() == [3, 2, 1] and packed.batch_sizes.device == "cpu"
    assert packed.sorted_indices.tolist() == [1, 0, 2] and packed.unsorted_indices.tolist() == [1, 0, 2]
    padded, lengths = R.pad_packed_sequence(packed, batch_first=True, total_length=4)
    assert padded.tolist() == [[1, 2, 0, 0], [3, 4, 5, 0], [6, 0, 0, 0]] and lengths.tolist() == [2, 3, 1]
    assert [s.tolist() for s in R.unpack_sequence(packed)] == [s.tolist() for s in seqs]
    data, batch_sizes, sorted_indices, unsorted_indices = packed  # a namedtuple, as PyTorch's
    assert isinstance(packed, tuple) and packed._fields == ("data", "batch_sizes", "sorted_indices",
                                                            "unsorted_indices")
    assert packed.double().data.dtype == F64 and R.pack_sequence(seqs[1:]).sorted_indices is None
    assert R.PackedSequence(data, batch_sizes, sorted_indices).unsorted_indices.tolist() == [1, 0, 2]
    assert R.pad_sequence([tr.tensor([1, 2]), tr.tensor([3])], padding_value=0.5).dtype == tr.int64


@pytest.mark.parametrize("call, error, match", [
    (lambda: R.pack_padded_sequence(tr.zeros(3, 2), [1, 3]), ValueError, "decreasing"),
    (lambda: R.pack_padded_sequence(tr.zeros(3, 2), [3, 0]), ValueError, "at least 1"),
    (lambda: R.pack_padded_sequence(tr.zeros(3, 2), [4, 1]), ValueError, "exceed"),
    (lambda: R.pack_padded_sequence(tr.zeros(3, 2), [3]), ValueError, "one length per sequence"),
    (lambda: R.pack_padded_sequence(tr.zeros(3, 2), [2.5, 1.0]), TypeError, "whole numbers"),
    (lambda: R.pad_packed_sequence(R.pack_padded_sequence(tr.zeros(3, 2), [3, 1]), total_length=2), ValueError,
     "total_length"),
    (lambda: R.pad_sequence([]), ValueError, "empty"),
    (lambda: R.pad_sequence([tr.zeros(2, 3), tr.zeros(2, 4)]), ValueError, "agree"),
    (lambda: R.PackedSequence(tr.zeros(2), tr.tensor([1, 1], device="strict")), ValueError, "CPU"),
])
def test_rnn_utils_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_packing_matches_pytorch_with_gradients(torch, batch_first, enforce_sorted):
    tr_rnn = torch.nn.utils.rnn
    lengths = [5, 5, 3, 2, 2, 1] if enforce_sorted else [2, 5, 3, 5, 1, 2]  # ties: a stable sort, as PyTorch's
    x = np.random.default_rng(3).normal(size=(6, 5, 2) if batch_first else (5, 6, 2))
    a, b = pair(torch, x)
    pa = R.pack_padded_sequence(a, tr.tensor(lengths), batch_first, enforce_sorted)
    pb = tr_rnn.pack_padded_sequence(b, torch.tensor(lengths), batch_first, enforce_sorted)
    for ours, theirs in zip(pa[1:], pb[1:]):
        assert (ours is None and theirs is None) or ours.tolist() == theirs.tolist()
    assert_close(pa.data, pb.data.detach().numpy(), atol=0, rtol=0)
    ua, la = R.pad_packed_sequence(pa, batch_first, padding_value=7.0, total_length=6)
    ub, lb = tr_rnn.pad_packed_sequence(pb, batch_first, padding_value=7.0, total_length=6)
    assert la.tolist() == lb.tolist() and la.dtype == tr.int64
    assert_close(ua, ub.detach().numpy(), atol=0, rtol=0)
    backward_both(ua, ub, torch)
    assert_close(a.grad, b.grad.numpy(), atol=0, rtol=0)
    seqs = [x[:n, i] if not batch_first else x[i, :n] for i, n in enumerate(lengths)]
    for side in ("right", "left"):
        ours = [tr.tensor(s, requires_grad=True) for s in seqs]
        theirs = [torch.tensor(s, requires_grad=True) for s in seqs]
        pa, pb = R.pad_sequence(ours, batch_first, -1.0, side), tr_rnn.pad_sequence(theirs, batch_first, -1.0, side)
        assert_close(pa, pb.detach().numpy(), atol=0, rtol=0)
        backward_both(pa, pb, torch)
        for s, t in zip(ours, theirs):
            assert_close(s.grad, t.grad.numpy(), atol=0, rtol=0)


def test_helpers_let_a_recurrent_layer_run_a_packed_batch_as_pytorchs_does(torch):
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(2, 3, dtype=torch.float64)
    ours = nn.LSTM(2, 3, dtype=F64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    seqs = [np.random.default_rng(i).normal(size=(n, 2)) for i, n in enumerate([2, 4, 3])]
    packed = R.pack_sequence([tr.tensor(s) for s in seqs], enforce_sorted=False)
    padded, lengths = R._packed_to_padded_and_lengths(packed)
    assert lengths == [2, 4, 3] and padded.shape == (4, 3, 2)
    output, (h, _) = ours(padded, lengths=lengths)
    out_packed = R._padded_to_packed(output, packed)
    ref_out, (ref_h, _) = theirs(torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], False))
    assert out_packed.batch_sizes.tolist() == ref_out.batch_sizes.tolist()
    assert_close(out_packed.data, ref_out.data.detach().numpy(), **TIGHT)
    assert_close(h, ref_h.detach().numpy(), **TIGHT)  # the final state comes back in the original order


def test_rnn_utils_stay_on_the_device(each_device):
    seqs = [tr.randn(n, 2, requires_grad=True) for n in (3, 1, 2)]
    packed = R.pack_sequence(seqs, enforce_sorted=False)
    assert packed.data.device == packed.sorted_indices.device == each_device and packed.batch_sizes.device == "cpu"
    padded, lengths = R.pad_packed_sequence(packed, batch_first=True)
    padded.sum().backward()
    assert padded.device == each_device and lengths.tolist() == [3, 1, 2]
    assert all(s.grad.device == each_device and s.grad.numpy().tolist() == np.ones(s.shape).tolist() for s in seqs)


# ================================================================ refusals and docs
@pytest.mark.parametrize("name", ["Transformer", "TransformerEncoder", "TransformerEncoderLayer",
                                  "TransformerDecoder", "TransformerDecoderLayer", "MultiheadAttention"])
def test_transformer_names_refuse_with_an_explanation(name):
    cls = getattr(nn, name)
    assert issubclass(cls, nn.Module)
    with pytest.raises(NotImplementedError, match="recurrent networks.*nn.LSTM"):
        cls(512, 8)
    with pytest.raises(NotImplementedError, match=f"cannot subclass nn.{name}"):
        type("Mine", (cls,), {})


def test_new_public_names_have_docstrings():
    names = [nn.ModuleDict, nn.ParameterList, nn.ParameterDict, nn.Embedding.from_pretrained, nn.GELU, nn.SiLU,
             nn.LeakyReLU, nn.ELU, nn.BCELoss, F.gelu, F.silu, F.leaky_relu, F.elu, F.binary_cross_entropy,
             F.cross_entropy, R.pad_sequence, R.PackedSequence, R.pack_padded_sequence, R.pad_packed_sequence,
             R.pack_sequence, R.unpack_sequence, R.unpad_sequence, R.invert_permutation, nn.utils.clip_grad_norm_]
    assert [n for n in names if not (n.__doc__ or "").strip()] == []
