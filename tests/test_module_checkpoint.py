"""Whole-model checkpoints, ``tr.save(model, f)`` / ``tr.load(f, weights_only=False)``, written without pickle:
round trips of built-in layers and of a user's model (tied weights stay one parameter), every refusal and
its message, the rule for classes whose module is not imported, damaged descriptions, and PyTorch's
word_language_model idioms run end to end as separate processes."""

from __future__ import annotations

import importlib
import io
import json
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from test_pytorch_scripts import switch_imports

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim

CORRUPTED = "is not a tinygrad_rnn checkpoint or is corrupted"
REGISTRIES = ("_parameters", "_buffers", "_modules", "training")


# ------------------------------------------------------------------ a user's model
class Tagger(nn.Module):
    """A user-defined model with plain attributes of several kinds, a buffer and (optionally) tied weights."""

    def __init__(self, vocab: int = 7, hidden: int = 6, tied: bool = True):
        super().__init__()
        self.vocab, self.kind, self.shape = vocab, "lstm", (vocab, hidden)
        self.options = {"layers": [1, 2], 3: None, "scale": 0.5, "nested": ((1, "a"), [True])}
        self.gain = np.float32(1.5)
        self.compute_dtype = tr.float32
        self.where = tr.device("cpu")
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn = nn.LSTM(hidden, hidden, num_layers=2)
        self.head = nn.Linear(hidden, vocab)
        if tied:
            self.head.weight = self.embed.weight
        self.register_buffer("steps", tr.tensor([3, 4]))

    def forward(self, tokens):
        out, _ = self.rnn(self.embed(tokens))
        return self.head(out) * float(self.gain)


def save_and_load(obj, **load_options):
    buffer = io.BytesIO()
    tr.save(obj, buffer)
    buffer.seek(0)
    return tr.load(buffer, **load_options)


def plain_attributes(module) -> dict:
    return {name: value for name, value in vars(module).items()
            if name not in REGISTRIES and not any(name in getattr(module, r) for r in REGISTRIES[:3])}


def same_types(a, b) -> bool:
    """Equal, and of the same types all the way down (a tuple must not come back as a list)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same_types(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_types(a[k], b[k]) for k in a)
    return a == b


def sharing(module) -> list:
    """Which registered tensor and module slots hold the same object, as first-seen positions: [0, 1, 0] means
    the first and third slot hold one object."""
    first: dict = {}
    layout = []
    for _, sub in module.named_modules():
        for registry in ("_parameters", "_buffers", "_modules"):
            for value in getattr(sub, registry).values():
                layout.append(None if value is None else first.setdefault(id(value), len(first)))
    return layout


def assert_same_module(loaded, saved) -> None:
    """The loaded model is the saved one: classes, names, order, training flags, attributes, values, sharing."""
    assert type(loaded) is type(saved) and loaded is not saved
    names = [(name, type(m), m.training) for name, m in saved.named_modules()]
    assert [(name, type(m), m.training) for name, m in loaded.named_modules()] == names
    for (name, a), (_, b) in zip(loaded.named_modules(), saved.named_modules()):
        assert same_types(plain_attributes(a), plain_attributes(b)), name
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in saved.named_parameters()]
    for (name, a), (_, b) in zip(loaded.named_parameters(), saved.named_parameters()):
        assert type(a) is nn.Parameter and a.requires_grad == b.requires_grad and a.grad is None, name
    for (name, a), (_, b) in zip(loaded.named_buffers(), saved.named_buffers()):
        assert type(a) is type(b) and a.requires_grad == b.requires_grad, name
    expected = saved.state_dict()
    state = loaded.state_dict()
    assert list(state) == list(expected)
    for key in expected:
        assert state[key].dtype == expected[key].dtype and np.array_equal(state[key], expected[key]), key
    assert sharing(loaded) == sharing(saved)


# ------------------------------------------------------------------ round trips
BUILT_IN = {
    "lstm_proj": (lambda: nn.LSTM(3, 5, num_layers=2, proj_size=2, dropout=0.1), lambda: tr.randn(4, 2, 3)),
    "gru_bidirectional": (lambda: nn.GRU(3, 4, bidirectional=True, batch_first=True), lambda: tr.randn(2, 5, 3)),
    "rnn_relu": (lambda: nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bias=False), lambda: tr.randn(5, 2, 3)),
    "rnn_composed_f64": (lambda: nn.RNN(3, 4, impl="composed").double(), lambda: tr.randn(5, 3).double()),
    "sequential": (lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Dropout(0.3), nn.LayerNorm(4)),
                   lambda: tr.randn(2, 3)),
    "embedding": (lambda: nn.Embedding(9, 3, padding_idx=0), lambda: tr.tensor([[0, 3, 8]])),
    "module_list": (lambda: nn.ModuleList([nn.Linear(2, 2), nn.GRUCell(2, 3)]), None),
    "module_dict": (lambda: nn.ModuleDict({"left": nn.Linear(2, 3), "right": nn.LSTMCell(2, 2)}), None),
    "parameter_list": (lambda: nn.ParameterList([nn.Parameter(tr.randn(2)), nn.Parameter(tr.ones(3, 1))]), None),
    "parameter_dict": (lambda: nn.ParameterDict({"a": nn.Parameter(tr.randn(2))}), None),
}


@pytest.mark.parametrize("case", list(BUILT_IN))
def test_built_in_layers_round_trip(case):
    make, make_input = BUILT_IN[case]
    model = make().eval()
    loaded = save_and_load(model)
    assert_same_module(loaded, model)
    if make_input is not None:
        x = make_input()
        expected, actual = model(x), loaded(x)
        if isinstance(expected, tuple):
            expected, actual = expected[0], actual[0]
        assert np.array_equal(actual.numpy(), expected.numpy())


def test_lstm_projection_keeps_its_settings_and_trains_after_load():
    lstm = nn.LSTM(3, 5, proj_size=2)
    loaded = save_and_load(lstm)
    assert (loaded.impl, loaded.proj_size, loaded.mode) == ("fused", 2, "LSTM")  # the fused road has the projection too
    assert loaded.all_weights[0][-1] is loaded.weight_hr_l0
    out, (h, c) = loaded(tr.randn(4, 1, 3))
    assert out.shape == (4, 1, 2) and c.shape == (1, 1, 5)
    out.sum().backward()
    assert all(p.grad is not None for p in loaded.parameters())


@pytest.mark.parametrize("target", ["path", "file object"])
def test_user_model_round_trips_with_tied_weights_as_one_parameter(tmp_path, target):
    model = Tagger()
    path = tmp_path / "model.pt"
    if target == "path":
        tr.save(model, path)
        loaded = tr.load(path)
    else:
        with open(path, "wb") as f:
            tr.save(model, f)
        with open(path, "rb") as f:
            loaded = tr.load(f, weights_only=False)
    assert_same_module(loaded, model)
    assert loaded.head.weight is loaded.embed.weight
    assert len(list(loaded.parameters())) == len(list(model.parameters()))
    assert loaded.shape == (7, 6) and type(loaded.options["nested"][0]) is tuple and 3 in loaded.options
    assert type(loaded.gain) is np.float32 and loaded.compute_dtype == tr.float32
    assert isinstance(loaded.where, tr.device) and loaded.where.type == "cpu"
    assert loaded.steps.dtype == tr.int64 and not loaded.steps.requires_grad
    tokens = tr.tensor([[1, 2], [3, 4], [5, 6]])
    assert np.array_equal(loaded(tokens).numpy(), model(tokens).numpy())

    # training after the load keeps the tie: one parameter, one gradient, one update
    opt = optim.SGD(loaded.parameters(), lr=0.5)
    before = loaded.embed.weight.numpy().copy()
    loaded(tokens).pow(2).mean().backward()
    opt.step()
    assert loaded.head.weight is loaded.embed.weight
    assert not np.array_equal(loaded.embed.weight.numpy(), before)
    assert np.array_equal(loaded.head.weight.numpy(), loaded.embed.weight.numpy())
    assert np.array_equal(model.embed.weight.numpy(), before)  # the saved model is untouched


def test_untied_model_stays_untied():
    loaded = save_and_load(Tagger(tied=False))
    assert loaded.head.weight is not loaded.embed.weight
    assert len(list(loaded.parameters())) == len(list(Tagger(tied=False).parameters()))


def test_training_flags_requires_grad_and_no_gradients_survive():
    model = Tagger()
    model.train()
    model.rnn.eval()
    model.embed.weight.requires_grad_(False)
    model(tr.tensor([[1]])).sum().backward()
    assert model.head.bias.grad is not None
    loaded = save_and_load(model)
    assert loaded.training and not loaded.rnn.training and loaded.head.training
    assert not loaded.embed.weight.requires_grad and loaded.head.bias.requires_grad
    assert all(p.grad is None for p in loaded.parameters())  # as torch.save: gradients are not stored


def test_a_module_used_twice_and_modules_inside_a_checkpoint_dict():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    checkpoint = save_and_load({"model": model, "epoch": 4, "also": [model]})
    loaded = checkpoint["model"]
    assert checkpoint["epoch"] == 4 and checkpoint["also"][0] is loaded
    assert loaded[0] is loaded[2] and loaded[0] is not shared
    x = tr.randn(2, 3)
    assert np.array_equal(loaded(x).numpy(), model(x).numpy())


def test_parameter_and_buffer_devices_follow_map_location():
    model = Tagger().to("strict")  # the CuPy-like test device: its arrays are not NumPy's
    loaded = save_and_load(model)
    assert all(t.device == "strict" for t in [*loaded.parameters(), *loaded.buffers()])
    on_cpu = save_and_load(model, map_location="cpu")
    assert all(t.device == "cpu" for t in [*on_cpu.parameters(), *on_cpu.buffers()])
    assert on_cpu.head.weight is on_cpu.embed.weight
    assert np.array_equal(on_cpu.rnn.weight_hh_l1.numpy(), model.rnn.weight_hh_l1.numpy())


def test_the_file_is_a_description_without_pickle_and_plain_files_stay_version_1():
    buffer = io.BytesIO()
    tr.save(Tagger(), buffer)
    with zipfile.ZipFile(buffer) as archive:
        arrays = {name: np.load(io.BytesIO(archive.read(name)), allow_pickle=False) for name in archive.namelist()}
    document = json.loads(arrays.pop("__structure__.npy").item())
    assert document["version"] == 2 and document["root"] == {"module": 0}
    assert document["modules"][0]["class"] == [Tagger.__module__, "Tagger"]
    assert len(arrays) == len(document["tensors"]) + 1  # each tensor once (the tie too), plus the gain scalar
    assert all(a.dtype.kind in "biuf" for a in arrays.values())
    plain = io.BytesIO()
    tr.save({"w": np.ones(2)}, plain)
    with zipfile.ZipFile(plain) as archive:
        assert json.loads(np.load(io.BytesIO(archive.read("__structure__.npy"))).item())["version"] == 1


# ------------------------------------------------------------------ refusals
class Holder(nn.Module):
    """A model that is given one bad attribute by each refusal case."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 2)


class Odd:
    pass


def _with(name, value):
    def make():
        model = Holder()
        setattr(model.layer if name.startswith("layer.") else model, name.removeprefix("layer."), value)
        return model

    return make


def _hooked():
    model = Holder()
    model.layer.weight.register_hook(lambda grad: grad)
    return model


def _local_class():
    class Local(nn.Module):
        pass

    holder = Holder()
    holder.extra = Local()
    return holder


REFUSALS = [
    (_with("activation", lambda x: x), r"model\.activation is a function \(<lambda>\), which a saved module cannot"),
    (_with("layer.helper", Odd()), r"model\.layer\.helper is an object of class .*Odd, which a saved module cannot"),
    (_with("cache", tr.zeros(2)), r"model\.cache is a Tensor that is not a registered parameter or buffer"),
    (_with("table", np.zeros(2)), r"model\.table is an array \(ndarray\) that is not a registered parameter"),
    (_with("blocks", [nn.Linear(2, 2)]), r"model\.blocks\.0 is an nn\.Module \(Linear\) that is not a registered "
                                         r"submodule .*nn\.ModuleList"),
    (_with("lookup", {(1, 2): 3}), r"model\.lookup has a dict key \(1, 2\) of type tuple"),
    (_with("counts", np.array([1]).dtype.type), r"model\.counts is an object of class type|model\.counts is a type"),
    (_hooked, r"model\.layer\.weight has 1 hook\(s\) registered with register_hook"),
    (_local_class, r"model\.extra is an instance of .*<locals>\.Local, a class defined inside a function"),
]


@pytest.mark.parametrize("make, match", REFUSALS)
def test_what_a_module_file_cannot_hold_is_refused_by_path_before_writing(tmp_path, make, match):
    buffer = io.BytesIO()
    with pytest.raises(TypeError, match=match) as error:
        tr.save(make(), buffer)
    assert r"tr.save(model.state_dict(), f)" in str(error.value) and "pickle" in str(error.value)
    assert buffer.getvalue() == b""
    with pytest.raises(TypeError, match=match):
        tr.save(make(), tmp_path / "m.pt")
    assert os.listdir(tmp_path) == []


def test_a_redefined_class_is_refused(monkeypatch):
    model = Holder()
    monkeypatch.setattr(sys.modules[Holder.__module__], "Holder", type("Holder", (nn.Module,), {}))
    with pytest.raises(TypeError, match=r"model is an instance of Holder, but .*Holder names another object"):
        tr.save(model, io.BytesIO())


def test_an_optimizer_is_still_refused():
    with pytest.raises(TypeError, match=r"opt is an optimizer \(SGD\); .*tr.save\(optimizer.state_dict\(\), f\)"):
        tr.save({"opt": optim.SGD(Holder().parameters(), lr=0.1)}, io.BytesIO())


def test_weights_only_true_refuses_a_module_file_and_accepts_a_state_dict():
    buffer = io.BytesIO()
    tr.save(Holder(), buffer)
    buffer.seek(0)
    with pytest.raises(ValueError, match=r"holds a whole model \(class Holder from module .*\), which "
                                         r"weights_only=True refuses.*tr.save\(model.state_dict\(\), f\)"):
        tr.load(buffer, weights_only=True)
    state = save_and_load(Holder().state_dict(), weights_only=True)
    assert list(state) == ["layer.weight", "layer.bias"]
    with pytest.raises(TypeError, match="load: weights_only must be None, True or False, got str"):
        tr.load(buffer, weights_only="yes")


# ------------------------------------------------------------------ classes from modules not imported
USER_MODULE = '''
from tinygrad_rnn import nn


class Net(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.width = width
        self.proj = nn.Linear(width, width)

    def forward(self, x):
        return self.proj(x).tanh()

    def __init_subclass__(cls):
        raise AssertionError("never subclassed")


class NotAModule:
    pass
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A module file in tmp_path, importable as ``ckpt_user_models`` (restored afterwards)."""
    name = "ckpt_user_models"
    (tmp_path / f"{name}.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    module = __import__(name)
    yield module
    sys.modules.pop(name, None)


def test_a_class_whose_module_is_not_imported_needs_weights_only_false(user_module, monkeypatch):
    model = user_module.Net(3)
    buffer = io.BytesIO()
    tr.save(model, buffer)
    monkeypatch.delitem(sys.modules, "ckpt_user_models")
    for options in ({}, {"weights_only": None}):
        buffer.seek(0)
        with pytest.raises(ValueError, match=r"holds a whole model of class Net from module ckpt_user_models, which "
                                             r"is not imported.*import ckpt_user_models first, or pass "
                                             r"weights_only=False"):
            tr.load(buffer, **options)
        assert "ckpt_user_models" not in sys.modules  # refused without importing it
    buffer.seek(0)
    loaded = tr.load(buffer, weights_only=False)
    reimported = sys.modules["ckpt_user_models"]
    assert reimported is not user_module and type(loaded) is reimported.Net and loaded.width == 3
    x = tr.randn(2, 3)
    assert np.array_equal(loaded(x).numpy(), model(x).numpy())
    buffer.seek(0)
    assert type(tr.load(buffer)) is reimported.Net  # imported now: the default finds it


def test_a_class_that_is_missing_or_not_a_module_is_refused(user_module, monkeypatch):
    buffer = io.BytesIO()
    tr.save(user_module.Net(2), buffer)
    monkeypatch.setattr(user_module, "Net", user_module.NotAModule)
    buffer.seek(0)
    with pytest.raises(ValueError, match=r"ckpt_user_models.Net is a class that is not a subclass of "
                                         r"tinygrad_rnn.nn.Module"):
        tr.load(buffer, weights_only=False)
    monkeypatch.delattr(user_module, "Net")
    buffer.seek(0)
    with pytest.raises(ValueError, match=r"but ckpt_user_models has no Net \(was it renamed or moved"):
        tr.load(buffer)


def test_a_module_that_cannot_be_imported_is_named(user_module, monkeypatch):
    buffer = io.BytesIO()
    tr.save(user_module.Net(2), buffer)
    monkeypatch.delitem(sys.modules, "ckpt_user_models")
    source = pathlib.Path(user_module.__file__)
    source.unlink()  # the file is gone (and with it the cached bytecode's source)
    shutil.rmtree(source.parent / "__pycache__", ignore_errors=True)
    importlib.invalidate_caches()
    buffer.seek(0)
    with pytest.raises(ValueError, match=r"importing ckpt_user_models failed .*put its directory on sys.path"):
        tr.load(buffer, weights_only=False)


def test_a_class_of_another_scripts_main_is_explained(monkeypatch):
    main_net = type("MainNet", (nn.Module,), {"__module__": "__main__", "__qualname__": "MainNet"})
    monkeypatch.setattr(sys.modules["__main__"], "MainNet", main_net, raising=False)
    buffer = io.BytesIO()
    tr.save(main_net(), buffer)
    monkeypatch.delattr(sys.modules["__main__"], "MainNet")
    buffer.seek(0)
    with pytest.raises(ValueError, match=r"__main__ has no MainNet \(a class defined in a script run as __main__ is "
                                         r"found only when that script loads it"):
        tr.load(buffer)


# ------------------------------------------------------------------ damaged descriptions
def _rewritten(change) -> io.BytesIO:
    """A module checkpoint of Tagger whose JSON document ``change`` edits in place."""
    buffer = io.BytesIO()
    tr.save(Tagger(), buffer)
    with zipfile.ZipFile(buffer) as archive:
        arrays = {name[:-4]: np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
                  for name in archive.namelist()}
    document = json.loads(arrays["__structure__"].item())
    change(document)
    arrays["__structure__"] = np.array(json.dumps(document))
    out = io.BytesIO()
    np.savez(out, **arrays)
    out.seek(0)
    return out


DAMAGE = {
    "dunder attribute": lambda d: d["modules"][0]["attributes"].append(["__class__", 1]),
    "plain tensor as parameter": lambda d: [entry.update(parameter=False) for entry in d["tensors"]],
    "child out of range": lambda d: d["modules"][0]["children"].append(["extra", 99]),
    "name twice": lambda d: d["modules"][0]["attributes"].append(["embed", 1]),
    "unknown tag": lambda d: d["modules"][0]["attributes"].append(["x", {"pickle": "a0"}]),
    "bad dtype": lambda d: d["modules"][0]["attributes"].append(["x", {"dtype": "object"}]),
    "missing tables": lambda d: d.pop("tensors"),
    "training not bool": lambda d: d["modules"][1].update(training="yes"),
    "bad class name": lambda d: d["modules"][1].update({"class": ["os", ""]}),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_description_is_refused_as_corrupted(damage):
    buffer = _rewritten(DAMAGE[damage])
    with pytest.raises(ValueError, match=CORRUPTED):
        tr.load(buffer)


def test_the_rewriting_helper_keeps_a_valid_file():
    loaded = tr.load(_rewritten(lambda d: None))
    assert type(loaded) is Tagger and loaded.head.weight is loaded.embed.weight


@pytest.mark.gpu
@pytest.mark.skipif(not tr.cuda.is_available(), reason="needs CuPy and a CUDA GPU")
def test_a_model_on_the_gpu_comes_back_there_or_where_map_location_says(tmp_path):
    model = Tagger().to("cuda")
    tr.save(model, tmp_path / "gpu.pt")
    loaded = tr.load(tmp_path / "gpu.pt")
    assert all(t.device == "cuda:0" for t in [*loaded.parameters(), *loaded.buffers()])
    assert loaded.head.weight is loaded.embed.weight
    tokens = tr.tensor([[1, 2]], device="cuda")
    assert np.array_equal(loaded(tokens).numpy(), model(tokens).numpy())
    on_cpu = tr.load(tmp_path / "gpu.pt", map_location="cpu")
    assert all(t.device == "cpu" for t in on_cpu.parameters()) and on_cpu.head.weight is on_cpu.embed.weight
    assert np.allclose(on_cpu(tokens.cpu()).numpy(), model(tokens).numpy(), atol=1e-5)


# ------------------------------------------------------------------ onnx and __index__
def test_onnx_export_is_importable_and_refuses_clearly():
    import tinygrad_rnn.onnx

    assert tr.onnx is tinygrad_rnn.onnx
    with pytest.raises(NotImplementedError, match=r"ONNX export is not supported by tinygrad_rnn; save the weights "
                                                  r"with tr.save\(model.state_dict\(\), path\)"):
        tr.onnx.export(Holder(), tr.randn(1, 2), "model.onnx")


def test_a_zero_d_integer_tensor_indexes_a_python_list():
    words = ["a", "b", "c"]
    assert words[tr.tensor(2)] == "c" and words[tr.multinomial(tr.tensor([0.0, 1.0, 0.0]), 1)[0]] == "b"
    with pytest.raises(TypeError, match="only one-element integer tensors can be used as an index"):
        words[tr.tensor(1.0)]
    with pytest.raises(TypeError, match="only one-element integer tensors can be used as an index"):
        words[tr.tensor([0, 1])]


# ------------------------------------------------------------------ word_language_model, end to end
# PyTorch scripts in the shape of pytorch/examples' word_language_model (written afresh for this test):
# main.py trains, saves the whole model, loads it back and evaluates; generate.py, another process that
# never imports model.py, loads the model and samples words.
DATA_PY = '''
import os
import torch


class Vocabulary:
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.word2idx[word] = len(self.idx2word)
            self.idx2word.append(word)
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus:
    def __init__(self, path):
        self.dictionary = Vocabulary()
        self.train = self.read(os.path.join(path, "train.txt"))
        self.valid = self.read(os.path.join(path, "valid.txt"))
        self.test = self.read(os.path.join(path, "test.txt"))

    def read(self, path):
        lines = []
        with open(path, encoding="utf8") as handle:
            for line in handle:
                ids = [self.dictionary.add_word(word) for word in line.split() + ["<eos>"]]
                lines.append(torch.tensor(ids).type(torch.int64))
        return torch.cat(lines)
'''

MODEL_PY = '''
import torch
import torch.nn as nn
import torch.nn.functional as F

NONLINEARITY = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}


class RNNModel(nn.Module):
    """Embedding, a recurrent stack, and a linear decoder back to the vocabulary."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type == "LSTM":
            self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        elif rnn_type == "GRU":
            self.rnn = nn.GRU(ninp, nhid, nlayers, dropout=dropout)
        elif rnn_type in NONLINEARITY:
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=NONLINEARITY[rnn_type], dropout=dropout)
        else:
            raise ValueError("unknown --model " + rnn_type)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("--tied needs --emsize equal to --nhid")
            self.decoder.weight = self.encoder.weight
        self.reset_weights()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def reset_weights(self, scale=0.1):
        nn.init.uniform_(self.encoder.weight, -scale, scale)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -scale, scale)

    def forward(self, tokens, hidden):
        features, hidden = self.rnn(self.drop(self.encoder(tokens)), hidden)
        scores = self.decoder(self.drop(features)).view(-1, self.ntoken)
        return F.log_softmax(scores, dim=1), hidden

    def init_hidden(self, bsz):
        like = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (like.new_zeros(self.nlayers, bsz, self.nhid), like.new_zeros(self.nlayers, bsz, self.nhid))
        return like.new_zeros(self.nlayers, bsz, self.nhid)
'''

MAIN_PY = '''
import argparse
import math

import torch
import torch.nn as nn
import torch.onnx

import data
import model

parser = argparse.ArgumentParser(description="a small word-level language model")
parser.add_argument("--data", default="./corpus")
parser.add_argument("--model", default="LSTM")
parser.add_argument("--emsize", type=int, default=8)
parser.add_argument("--nhid", type=int, default=8)
parser.add_argument("--nlayers", type=int, default=2)
parser.add_argument("--lr", type=float, default=5.0)
parser.add_argument("--clip", type=float, default=0.25)
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--batch_size", type=int, default=4)
parser.add_argument("--bptt", type=int, default=6)
parser.add_argument("--dropout", type=float, default=0.2)
parser.add_argument("--tied", action="store_true")
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--cuda", action="store_true")
parser.add_argument("--save", default="model.pt")
parser.add_argument("--onnx-export", default="")
args = parser.parse_args()

torch.manual_seed(args.seed)
device = torch.device("cuda" if args.cuda else "cpu")
corpus = data.Corpus(args.data)


def batchify(ids, bsz):
    steps = ids.size(0) // bsz
    ids = ids.narrow(0, 0, steps * bsz)
    return ids.view(bsz, -1).t().contiguous().to(device)


eval_batch_size = 2
train_data = batchify(corpus.train, args.batch_size)
val_data = batchify(corpus.valid, eval_batch_size)
test_data = batchify(corpus.test, eval_batch_size)
ntokens = len(corpus.dictionary)
model = model.RNNModel(args.model, ntokens, args.emsize, args.nhid, args.nlayers, args.dropout, args.tied).to(device)
criterion = nn.NLLLoss()


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i):
    seq_len = min(args.bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].view(-1)


def evaluate(source):
    model.eval()
    total = 0.0
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, source.size(0) - 1, args.bptt):
            inputs, targets = get_batch(source, i)
            output, hidden = model(inputs, hidden)
            hidden = repackage_hidden(hidden)
            total += len(inputs) * criterion(output, targets).item()
    return total / (len(source) - 1)


def train():
    model.train()
    hidden = model.init_hidden(args.batch_size)
    for i in range(0, train_data.size(0) - 1, args.bptt):
        inputs, targets = get_batch(train_data, i)
        hidden = repackage_hidden(hidden)
        model.zero_grad()
        output, hidden = model(inputs, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)


def export_onnx(path, batch_size, seq_len):
    model.eval()
    dummy_input = torch.zeros(seq_len * batch_size, dtype=torch.long).view(-1, batch_size).to(device)
    torch.onnx.export(model, (dummy_input, model.init_hidden(batch_size)), path)


lr = args.lr
best_val_loss = None
for epoch in range(1, args.epochs + 1):
    train()
    val_loss = evaluate(val_data)
    print("| end of epoch {} | valid loss {:.4f} | valid ppl {:.2f}".format(epoch, val_loss, math.exp(val_loss)))
    if best_val_loss is None or val_loss < best_val_loss:
        with open(args.save, "wb") as f:
            torch.save(model, f)
        best_val_loss = val_loss
    else:
        lr /= 4.0

with open(args.save, "rb") as f:
    model = torch.load(f, weights_only=False)
    if args.model in ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]:
        model.rnn.flatten_parameters()

print("| reloaded valid loss {!r} | best valid loss {!r}".format(evaluate(val_data), best_val_loss))
print("| tied after reload: {}".format(model.decoder.weight is model.encoder.weight))
test_loss = evaluate(test_data)
print("| End of training | test loss {:.4f} | test ppl {:.2f}".format(test_loss, math.exp(test_loss)))
if args.onnx_export:
    export_onnx(args.onnx_export, batch_size=1, seq_len=args.bptt)
'''

GENERATE_PY = '''
import argparse

import torch

import data

parser = argparse.ArgumentParser(description="sample words from a trained language model")
parser.add_argument("--data", default="./corpus")
parser.add_argument("--checkpoint", default="./model.pt")
parser.add_argument("--outf", default="generated.txt")
parser.add_argument("--words", type=int, default=30)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--cuda", action="store_true")
parser.add_argument("--temperature", type=float, default=1.0)
args = parser.parse_args()

torch.manual_seed(args.seed)
device = torch.device("cuda" if args.cuda else "cpu")
with open(args.checkpoint, "rb") as f:
    model = torch.load(f, map_location=device, weights_only=False).to(device)
model.eval()

corpus = data.Corpus(args.data)
ntokens = len(corpus.dictionary)
hidden = model.init_hidden(1)
input = torch.randint(ntokens, (1, 1), dtype=torch.long).to(device)
with open(args.outf, "w") as outf:
    with torch.no_grad():
        for i in range(args.words):
            output, hidden = model(input, hidden)
            word_weights = output.squeeze().div(args.temperature).exp().cpu()
            word_idx = torch.multinomial(word_weights, 1)[0]
            input.fill_(word_idx)
            word = corpus.dictionary.idx2word[word_idx]
            outf.write(word + ("\\n" if i % 10 == 9 else " "))
print("| generated {} words".format(args.words))
'''

SCRIPTS = {"data.py": DATA_PY, "model.py": MODEL_PY, "main.py": MAIN_PY, "generate.py": GENERATE_PY}
VOCABULARY = "the cat dog sat ran on a mat log red big small".split()


def _write_project(directory, convert) -> None:
    """The four scripts (through ``convert``) and a tiny corpus of generated sentences."""
    directory.mkdir(exist_ok=True)
    for name, text in SCRIPTS.items():
        (directory / name).write_text(convert(textwrap.dedent(text)))
    rng = np.random.default_rng(0)
    (directory / "corpus").mkdir()
    for split, lines in (("train", 40), ("valid", 8), ("test", 8)):
        sentences = [" ".join(rng.choice(VOCABULARY, size=rng.integers(3, 8))) for _ in range(lines)]
        (directory / "corpus" / f"{split}.txt").write_text("\n".join(sentences) + "\n")


def _run(directory, *command) -> str:
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(tr.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, *command], cwd=directory, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _check_language_model(directory, model_type: str, tied: bool) -> None:
    flags = ["--model", model_type] + (["--tied"] if tied else [])
    out = _run(directory, "main.py", *flags)
    reloaded, best = re.search(r"reloaded valid loss (\S+) \| best valid loss (\S+)", out).groups()
    assert float(reloaded) == float(best), out  # the reloaded model is the best one saved, to the last bit
    assert f"tied after reload: {tied}" in out
    test_loss = float(re.search(r"test loss (\S+) \|", out).group(1))
    assert math.isfinite(test_loss) and 0 < test_loss < 2 * math.log(len(VOCABULARY) + 1), out
    _run(directory, "generate.py", "--words", "25")
    words = (directory / "generated.txt").read_text().split()
    assert len(words) == 25 and set(words) <= {*VOCABULARY, "<eos>"}


@pytest.fixture(scope="module")
def language_model_project(tmp_path_factory):
    directory = tmp_path_factory.mktemp("word_language_model") / "ours"
    _write_project(directory, switch_imports)
    return directory


@pytest.mark.parametrize("model_type, tied", [("LSTM", False), ("GRU", False), ("RNN_TANH", False),
                                              ("RNN_RELU", False), ("LSTM", True)])
def test_word_language_model_trains_saves_reloads_and_generates(language_model_project, model_type, tied):
    _check_language_model(language_model_project, model_type, tied)


def test_word_language_model_scripts_are_pytorch_programs(tmp_path):
    pytest.importorskip("torch")
    _write_project(tmp_path / "torch", lambda script: script)  # unchanged: real torch.save / torch.load
    _check_language_model(tmp_path / "torch", "GRU", tied=True)
