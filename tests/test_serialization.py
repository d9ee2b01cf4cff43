"""``tr.save`` / ``tr.load``: round trips, models and optimizers, damaged files,
atomic writes, and files crafted to run code when unpickled."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import pathlib
import tracemalloc
import zipfile

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import backend, nn

CORRUPTED = "is not a tinygrad_rnn checkpoint or is corrupted"


def assert_same(actual, expected, where: str = "obj") -> None:
    """Same structure, same container and scalar types, same array dtypes, shapes and values."""
    assert type(actual) is type(expected), f"{where}: {type(actual).__name__} != {type(expected).__name__}"
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{where}: keys {list(actual)} != {list(expected)}"
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list | tuple):
        assert len(actual) == len(expected), f"{where}: length {len(actual)} != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{where}.{i}")
    elif isinstance(expected, tr.Tensor):
        assert (actual.dtype, actual.shape, actual.device) == (expected.dtype, expected.shape, expected.device), where
        assert actual.requires_grad == expected.requires_grad and actual.grad is None and actual.is_leaf, where
        assert np.array_equal(actual.numpy(), expected.numpy(), equal_nan=expected.dtype.kind == "f"), where
    elif isinstance(expected, np.ndarray | np.generic):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape, where
        assert np.array_equal(actual, expected, equal_nan=expected.dtype.kind == "f"), where
    elif isinstance(expected, float) and np.isnan(expected):
        assert np.isnan(actual), where
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


# ------------------------------------------------------------------ round trips
def test_nested_structure_round_trips_with_types_kept(tmp_path):
    rng = np.random.default_rng(0)
    obj = {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal(5),
        "i64": np.arange(-3, 3, dtype=np.int64).reshape(2, 3),
        "zero_d": np.array(2.5),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "flags": np.array([True, False]),
        7: "int key",
        "7": "str key",
        "list": [1, 2.5, True, False, None, "text", [], {}, ()],
        "tuple": (1, ("nested", (np.ones(2, dtype=np.float32),))),
        "numbers": [0, -1, 2**70, 0.1, -0.0, float("inf"), float("nan"), 1e-310],
        "unicode": "héllo ✓ \U0001f600 \ud800",
        "numpy_scalars": [np.float32(1.5), np.int64(3), np.bool_(True)],
        "deep": {"a": {1: {"b": [{"c": np.arange(4, dtype=np.int32)}]}}},
    }
    tr.save(obj, tmp_path / "ckpt.npz")
    assert_same(tr.load(tmp_path / "ckpt.npz"), obj)


def test_top_level_can_be_any_supported_value(tmp_path):
    for i, obj in enumerate([np.arange(3.0), [1, 2], (None,), 3, "s", None]):
        tr.save(obj, tmp_path / f"{i}.npz")
        assert_same(tr.load(tmp_path / f"{i}.npz"), obj)


def test_tensors_come_back_as_tensors_with_dtype_device_and_requires_grad(tmp_path):
    weight = nn.Parameter(tr.randn(3, 2))
    x = tr.randn(4, dtype=tr.float64, requires_grad=True)
    x.grad = tr.ones(4, dtype=tr.float64)  # gradients are not saved, as by torch.save
    y = (x * 2).sum()  # a non-leaf with a graph behind it: a leaf requiring grad once loaded, as in PyTorch
    obj = {"weight": weight, "x": x, "y": y, "ints": tr.arange(5), "nested": [(tr.zeros(0, 2),)]}
    tr.save(obj, tmp_path / "t.npz")
    loaded = tr.load(tmp_path / "t.npz")
    assert type(loaded["weight"]) is nn.Parameter and type(loaded["x"]) is tr.Tensor
    assert_same(loaded["weight"], weight)
    assert_same(loaded["x"], x.detach().requires_grad_())
    assert_same(loaded["y"], y.detach().requires_grad_())
    assert_same(loaded["ints"], tr.arange(5))
    assert_same(loaded["nested"], [(tr.zeros(0, 2),)])
    assert not np.shares_memory(loaded["weight"].numpy(), weight.numpy())


def test_a_tensor_saved_twice_comes_back_as_one_object_and_arrays_as_two(tmp_path):
    t, a = tr.arange(3.0), np.arange(3.0)
    tr.save({"t": t, "again": [t], "a": a, "a_again": a}, tmp_path / "t.npz")
    loaded = tr.load(tmp_path / "t.npz")
    assert loaded["t"] is loaded["again"][0]  # as torch.load keeps one tensor saved twice one object
    assert type(loaded["a"]) is np.ndarray and loaded["a"] is not loaded["a_again"]


def test_map_location_gives_tensors_on_that_device(tmp_path):
    obj = {"w": np.arange(6.0, dtype=np.float32).reshape(2, 3), "names": np.array(["a", "b"]), "step": 4}
    tr.save(obj, tmp_path / "m.npz")
    loaded = tr.load(tmp_path / "m.npz", map_location="cpu")
    assert isinstance(loaded["w"], tr.Tensor) and loaded["w"].device == "cpu"
    assert loaded["w"].dtype == tr.float32 and not loaded["w"].requires_grad
    assert np.array_equal(loaded["w"].numpy(), obj["w"])
    assert_same(loaded["names"], obj["names"])  # arrays of strings are not numbers: they stay NumPy
    assert loaded["step"] == 4


@pytest.mark.parametrize("bad, error", [("tpu", ValueError), ("cuda:x", ValueError), (0, TypeError), ({}, TypeError)])
def test_map_location_is_checked(tmp_path, bad, error):
    tr.save({}, tmp_path / "m.npz")
    with pytest.raises(error, match="map_location"):
        tr.load(tmp_path / "m.npz", map_location=bad)


def test_name_is_kept_without_npz_suffix_and_no_temporary_file_is_left(tmp_path):
    tr.save({"a": 1}, str(tmp_path / "checkpoint"))
    assert sorted(os.listdir(tmp_path)) == ["checkpoint"]
    assert tr.load(str(tmp_path / "checkpoint")) == {"a": 1}
    tr.save({"a": 2}, tmp_path / "checkpoint")  # overwrite, through a PathLike
    assert sorted(os.listdir(tmp_path)) == ["checkpoint"]
    assert tr.load(tmp_path / "checkpoint") == {"a": 2}


def test_the_file_is_a_plain_npz_that_numpy_reads(tmp_path):
    tr.save({"w": np.arange(3.0)}, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as archive:
        assert set(archive.files) == {"a0", "__structure__"}
        assert np.array_equal(archive["a0"], np.arange(3.0))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_overwriting_keeps_the_file_permissions(tmp_path):
    path = tmp_path / "c.npz"
    tr.save({"a": 1}, path)
    os.chmod(path, 0o600)
    tr.save({"a": 2}, path)
    assert os.stat(path).st_mode & 0o777 == 0o600


# ------------------------------------------------------------------ models and optimizers
class Tagger(nn.Module):
    """An LSTM followed by a small MLP head, one output per time step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, num_layers=2)
        self.head = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2))

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)


def test_model_state_dict_round_trip_gives_identical_outputs(tmp_path):
    tr.manual_seed(1)
    model = Tagger()
    x = tr.randn(6, 2, 3)
    tr.save(model.state_dict(), tmp_path / "model.npz")
    tr.manual_seed(2)
    fresh = Tagger()
    assert not np.allclose(fresh(x).numpy(), model(x).numpy())  # a different init really differs
    fresh.load_state_dict(tr.load(tmp_path / "model.npz"))
    assert np.array_equal(fresh(x).numpy(), model(x).numpy())


def test_lstm_loads_state_dict_from_a_checkpoint(tmp_path):
    lstm = nn.LSTM(2, 3, bidirectional=True)
    tr.save({"lstm": lstm.state_dict(), "epoch": 3}, tmp_path / "c.npz")
    loaded = tr.load(tmp_path / "c.npz")
    assert loaded["epoch"] == 3
    other = nn.LSTM(2, 3, bidirectional=True)
    assert other.load_state_dict(loaded["lstm"]) == ([], [])
    for name, value in lstm.state_dict().items():
        assert np.array_equal(other.state_dict()[name], value), name
    other.load_state_dict(tr.load(tmp_path / "c.npz", map_location="cpu")["lstm"])  # tensors are accepted too
    assert np.array_equal(other.weight_hh_l0_reverse.numpy(), lstm.weight_hh_l0_reverse.numpy())


def test_model_and_optimizer_state_round_trip(tmp_path):
    if importlib.util.find_spec("tinygrad_rnn.optim") is None:
        pytest.skip("tinygrad_rnn.optim is not written yet")
    from tinygrad_rnn import optim

    def train_step(model, opt, x):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()

    tr.manual_seed(1)
    x = tr.randn(4, 2, 3)
    model = Tagger()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    train_step(model, opt, x)
    tr.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 1}, tmp_path / "c.npz")

    tr.manual_seed(2)
    resumed = Tagger()
    resumed_opt = optim.Adam(resumed.parameters(), lr=1e-2)
    checkpoint = tr.load(tmp_path / "c.npz")
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optim"])
    assert checkpoint["epoch"] == 1
    train_step(model, opt, x)  # one more step each: the same only if Adam's moments came back too
    train_step(resumed, resumed_opt, x)
    for (name, p), q in zip(model.named_parameters(), resumed.parameters()):
        np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=0, atol=1e-7, err_msg=name)


def test_load_state_dict_lists_missing_unexpected_and_mismatched_keys():
    lstm = nn.LSTM(2, 3)
    state = lstm.state_dict()
    del state["bias_hh_l0"]
    state["extra"] = np.zeros(1)
    state["weight_ih_l0"] = np.zeros((5, 2))
    with pytest.raises(RuntimeError) as info:
        lstm.load_state_dict(state)
    message = str(info.value)
    assert "missing keys: bias_hh_l0" in message
    assert "unexpected keys: extra" in message
    assert "weight_ih_l0: expected shape (12, 2), got (5, 2)" in message


# ------------------------------------------------------------------ damaged and foreign files
@pytest.fixture
def checkpoint_bytes(tmp_path):
    """The bytes of a small valid checkpoint."""
    tr.save({"w": np.full(64, 7, dtype=np.uint8), "b": np.arange(3.0), "n": 1}, tmp_path / "good.npz")
    return (tmp_path / "good.npz").read_bytes()


def test_missing_file_raises_file_not_found_naming_the_path(tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match="nope.npz") as info:
        tr.load(path)
    assert info.value.filename == str(path)


def test_truncated_file_raises_a_clear_value_error(tmp_path, checkpoint_bytes):
    path = tmp_path / "cut.npz"
    for keep in [0, 1, 30, len(checkpoint_bytes) // 2, len(checkpoint_bytes) - 22, len(checkpoint_bytes) - 1]:
        path.write_bytes(checkpoint_bytes[:keep])
        with pytest.raises(ValueError, match=CORRUPTED):
            tr.load(path)


def test_random_bytes_raise_a_clear_value_error(tmp_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 1000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match=CORRUPTED):
        tr.load(path)


def test_flipped_array_byte_is_caught(tmp_path, checkpoint_bytes):
    damaged = bytearray(checkpoint_bytes)
    damaged[checkpoint_bytes.index(bytes([7] * 64)) + 10] = 8  # one value of "w" changes: the zip CRC no longer matches
    (tmp_path / "flip.npz").write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match=CORRUPTED):
        tr.load(tmp_path / "flip.npz")


def _structured_npz(path, structure, **arrays):
    """An ``.npz`` with our structure entry holding ``structure`` (a str) and ``arrays``."""
    np.savez(path, __structure__=np.asarray(structure), **arrays)


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: np.savez(p, a0=np.arange(3)), "no __structure__.npy member"),
        (lambda p: np.save(p, np.arange(3)), "single .npy array"),
        (lambda p: _structured_npz(p, "{not json"), "not valid JSON"),
        (lambda p: _structured_npz(p, '{"format": "other", "root": 1}'), "does not describe"),
        (lambda p: _structured_npz(p, '{"format": "tinygrad_rnn", "version": 99, "root": 1}'), "version 99"),
        (lambda p: _structured_npz(p, '{"format": "tinygrad_rnn", "version": 1, "root": {"array": "a3"}}'),
         "refers to array 'a3', which is missing"),
        (lambda p: _structured_npz(p, '{"format": "tinygrad_rnn", "version": 1, "root": {"set": []}}'),
         "unexpected entry"),
        (lambda p: _structured_npz(p, '{"format": "tinygrad_rnn", "version": 1, "root": {"dict": [[1.5, 2]]}}'),
         "not a \\[str or int key, value\\] pair"),
    ],
)
def test_foreign_or_malformed_content_raises_a_clear_value_error(tmp_path, make, reason):
    path = tmp_path / "bad.npz"
    with open(path, "wb") as file:  # through a file object, so NumPy keeps the name
        make(file)
    with pytest.raises(ValueError, match=f"{CORRUPTED}: .*{reason}"):
        tr.load(path)


class _RunsCodeWhenUnpickled:
    """Unpickling this creates ``marker``: the proof that a load executed code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def _malicious_checkpoint(path, marker):
    """A checkpoint whose one array is a pickled object that creates ``marker`` when unpickled."""
    evil = np.empty(1, dtype=object)
    evil[0] = _RunsCodeWhenUnpickled(marker)
    structure = '{"format": "tinygrad_rnn", "version": 1, "root": {"array": "a0"}}'
    np.savez(path, __structure__=np.asarray(structure), a0=evil)  # np.savez pickles object arrays


def test_pickled_object_array_is_rejected_without_running_its_code(tmp_path):
    marker = tmp_path / "code_ran"
    _malicious_checkpoint(tmp_path / "evil.npz", marker)
    with pytest.raises(ValueError, match=CORRUPTED):
        tr.load(tmp_path / "evil.npz")
    assert not marker.exists()
    # The control: the same file does run code when NumPy is allowed to unpickle it.
    with np.load(tmp_path / "evil.npz", allow_pickle=True) as archive:
        archive["a0"]
    assert marker.exists()


# ------------------------------------------------------------------ damaged members, built by hand
def _npy(array) -> bytes:
    """The bytes ``np.save`` writes for ``array``: a valid ``.npy`` member."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _npy_raw(header: str, data: bytes = b"", version: bytes = b"\x01\x00") -> bytes:
    """A ``.npy`` member with any header text (version 1.0 layout unless told) and any data."""
    text = header.encode("latin-1")
    return b"\x93NUMPY" + version + len(text).to_bytes(2 if version[0] == 1 else 4, "little") + text + data


def _structure(root) -> bytes:
    """The ``__structure__.npy`` member that ``save`` would write for the JSON ``root``."""
    return _npy(np.asarray(json.dumps({"format": "tinygrad_rnn", "version": 1, "root": root})))


def _zip(path, members: dict, compression=zipfile.ZIP_STORED) -> None:
    """A zip holding ``members`` (name -> bytes) exactly as given."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


A0 = {"array": "a0"}
F8_HEADER = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }"


@pytest.mark.parametrize(
    "members, member, reason",
    [
        ({"__structure__.npy": _structure(A0), "a0.npy": b"plain bytes"}, "a0.npy", "has no .npy header"),
        ({"__structure__.npy": json.dumps({"format": "tinygrad_rnn", "version": 1, "root": 1}).encode()},
         "__structure__.npy", "has no .npy header"),
        ({"__structure__.npy": _npy(np.asarray('{"format": "tinygrad_rnn", "version": 1, "root": {"dict": [['))},
         "__structure__.npy", "is not valid JSON"),
        ({"__structure__.npy": _npy(np.arange(3))}, "__structure__.npy", "is not a string"),
        ({"__structure__.npy": _npy(np.asarray("[1, 2]"))}, "__structure__.npy", "does not describe"),
        ({"__structure__.npy": _npy(np.asarray('{"format": "tinygrad_rnn", "version": 1, "root": 1, "x": 2}'))},
         "__structure__.npy", "has keys"),
        ({"__structure__.npy": _structure({"dict": [["k", 1], ["k", 2]]})}, "__structure__.npy", "key 'k' twice"),
        ({"__structure__.npy": _structure({"list": [A0, A0]}), "a0.npy": _npy(np.arange(2))},
         "__structure__.npy", "refers to array 'a0' more than once"),
        ({"__structure__.npy": _structure({"array": "__structure__"})}, "__structure__.npy", "unexpected entry"),
        ({"__structure__.npy": _structure({"array": "a1"})},
         "__structure__.npy", "refers to array 'a1', which is missing"),
        ({"__structure__.npy": _structure(A0), "a0.npy": _npy(np.arange(2)), "a1.npy": _npy(np.arange(2))},
         "a1.npy", "is not referenced"),
        ({"__structure__.npy": _structure({"scalar": "a0"}), "a0.npy": _npy(np.arange(3))}, "a0.npy", "has shape"),
        ({"__structure__.npy": _structure(A0), "a0.txt": _npy(np.arange(3))}, "a0.txt", "is not a .npy array"),
        # the data is shorter, then longer, than the header's shape times the dtype's size
        ({"__structure__.npy": _structure(A0), "a0.npy": _npy_raw(F8_HEADER % "(10,)", bytes(40))},
         "a0.npy", r"declares shape \(10,\) of float64, 80 bytes of data, but holds 40"),
        ({"__structure__.npy": _structure(A0), "a0.npy": _npy_raw(F8_HEADER % "(2,)", bytes(24))},
         "a0.npy", "16 bytes of data, but holds 24"),
        ({"__structure__.npy": _structure(A0), "a0.npy": _npy(np.arange(4.0))[:-5]}, "a0.npy", "but holds 27"),
        ({"__structure__.npy": _structure(A0), "a0.npy": _npy_raw(F8_HEADER % "(1,)", bytes(8), b"\x09\x09")},
         "a0.npy", "format version 9.9"),
        ({"__structure__.npy": _structure(A0), "a0.npy": _npy(np.arange(4.0))[:20]}, "a0.npy", "truncated .npy header"),
        ({"__structure__.npy": _structure(A0), "a0.npy": _npy_raw("x" * 20_000, version=b"\x02\x00")},
         "a0.npy", "header length of 20000"),
        ({"__structure__.npy": _structure(A0), "a0.npy": _npy_raw("__import__('os').system('true')", bytes(8))},
         "a0.npy", "not a dict"),
        ({"__structure__.npy": _structure(A0), "a0.npy": _npy_raw("{'descr': 'no such', 'fortran_order': False, "
                                                                 "'shape': (1,)}", bytes(8))}, "a0.npy", "not a dict"),
        ({"__structure__.npy": _structure(A0), "a0.npy": _npy_raw(F8_HEADER % "(-1,)", bytes(8))},
         "a0.npy", "bad shape"),
        ({"__structure__.npy": _structure(A0), "a0.npy": _npy_raw(F8_HEADER % "(True,)", bytes(8))},
         "a0.npy", "bad shape"),
        ({"__structure__.npy": _structure(A0), "a0.npy": _npy_raw(F8_HEADER[:-3] % "(1,)" + ", 'x': 1}", bytes(8))},
         "a0.npy", "bad shape"),
        ({"__structure__.npy": _structure(A0),
          "a0.npy": _npy_raw("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", b"\x80\x04N.")},
         "a0.npy", "holds Python objects"),
    ],
)
def test_each_damaged_member_raises_value_error_naming_file_and_member(tmp_path, members, member, reason):
    path = tmp_path / "bad.npz"
    _zip(path, members)
    with pytest.raises(ValueError, match=reason) as info:
        tr.load(path)
    message = str(info.value)
    assert CORRUPTED in message and str(path) in message and f"member '{member}'" in message, message


def test_duplicate_member_names_are_refused(tmp_path):
    path = tmp_path / "twice.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):  # zipfile writes it, and warns
        _zip(path, {"__structure__.npy": _structure(A0), "a0.npy": _npy(np.arange(2))})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("a0.npy", _npy(np.arange(3)))
    with pytest.raises(ValueError, match=f"{CORRUPTED}: member 'a0.npy' appears twice"):
        tr.load(path)


def test_structure_nested_too_deeply_raises_value_error(tmp_path):
    path = tmp_path / "deep.npz"
    deep = '{"format": "tinygrad_rnn", "version": 1, "root": ' + '{"list": [' * 100_000 + "1" + "]}" * 100_000 + "}"
    _zip(path, {"__structure__.npy": _npy(np.asarray(deep))})
    with pytest.raises(ValueError, match="member '__structure__.npy' (is not valid JSON|is nested too deeply)"):
        tr.load(path)


def _lie_about_sizes(data: bytes, member: str, compressed: int, uncompressed: int) -> bytes:
    """The zip ``data`` with its central directory claiming other sizes for ``member``."""
    data, at = bytearray(data), -1
    while (at := data.find(b"PK\x01\x02", at + 1)) >= 0:
        name_length = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + name_length] == member.encode():
            data[at + 20 : at + 28] = compressed.to_bytes(4, "little") + uncompressed.to_bytes(4, "little")
            return bytes(data)
    raise AssertionError(member)


def _zipped(root, a0: bytes, compression=zipfile.ZIP_STORED) -> bytes:
    """The bytes of a zip holding the structure of ``root`` and the member ``a0.npy``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr("__structure__.npy", _structure(root))
        archive.writestr("a0.npy", a0)
    return buffer.getvalue()


def _npy_claiming(shape) -> bytes:
    """A float64 ``.npy`` member whose header claims ``shape`` but which holds 16 bytes of data."""
    return _npy_raw(F8_HEADER % (shape,), bytes(16))


@pytest.mark.parametrize(
    "make, reason",
    [
        # the .npy header claims 8 TiB (the file holds 16 bytes): MemoryError before, now refused unread
        (lambda p: _zip(p, {"__structure__.npy": _structure(A0), "a0.npy": _npy_claiming((2**40,))}),
         r"declares shape \(1099511627776,\)"),
        (lambda p: _zip(p, {"__structure__.npy": _structure(A0), "a0.npy": _npy_claiming((2**20, 2**20))}),
         "8796093022208 bytes of data"),
        # the zip directory claims 4 GB for a stored member, and for a deflated one
        (lambda p: p.write_bytes(_lie_about_sizes(_zipped(A0, _npy(np.arange(2.0))), "a0.npy", 2**32 - 2, 2**32 - 2)),
         "more than the whole file"),
        (lambda p: p.write_bytes(_lie_about_sizes(_zipped(A0, _npy(np.arange(2.0)), zipfile.ZIP_DEFLATED), "a0.npy",
                                                  60, 2**32 - 2)), "more than its 60 stored bytes"),
    ],
)
def test_claimed_sizes_are_checked_before_anything_is_allocated(tmp_path, make, reason):
    path = tmp_path / "liar.npz"
    make(path)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=f"{CORRUPTED}: member 'a0.npy' .*{reason}"):
            tr.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**24, f"load allocated {peak} bytes for a {path.stat().st_size}-byte file"


def test_unsupported_compression_names_the_member(tmp_path):
    path = tmp_path / "bz.npz"
    _zip(path, {"__structure__.npy": _structure(A0), "a0.npy": _npy(np.arange(3))}, zipfile.ZIP_BZIP2)
    with pytest.raises(ValueError, match=f"{CORRUPTED}: member '__structure__.npy' uses zip compression method 12"):
        tr.load(path)


def test_deflated_members_as_np_savez_compressed_writes_them_load(tmp_path):
    obj = {"w": np.arange(1000.0).reshape(10, 100), "n": 3}
    tr.save(obj, tmp_path / "plain.npz")
    with zipfile.ZipFile(tmp_path / "plain.npz") as plain:
        members = {name: plain.read(name) for name in plain.namelist()}
    _zip(tmp_path / "deflated.npz", members, zipfile.ZIP_DEFLATED)
    assert (tmp_path / "deflated.npz").stat().st_size < (tmp_path / "plain.npz").stat().st_size
    assert_same(tr.load(tmp_path / "deflated.npz"), obj)


@pytest.mark.filterwarnings("ignore:Stored array in format 3.0")
def test_layouts_np_save_writes_round_trip_and_load_writable_arrays(tmp_path):
    structured = np.zeros(2, dtype=[("✓", "<i4"), ("b", ">f8")])  # a non-latin-1 field name: .npy version 3.0
    structured["b"] = [1.5, -2.0]
    obj = {
        "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        "big_endian": np.arange(5, dtype=">i4"),
        "structured": structured,
        "zero_d": np.array(7, dtype=np.int16),
        "empty": np.zeros((0, 4, 0), dtype=np.float32),
        "strings": np.array(["ab", "c"]),
    }
    tr.save(obj, tmp_path / "c.npz")
    with zipfile.ZipFile(tmp_path / "c.npz") as archive:  # the layouts are really written as claimed
        assert any(archive.read(name)[6] == 3 for name in archive.namelist())
    loaded = tr.load(tmp_path / "c.npz")
    assert_same(loaded, obj)
    assert loaded["fortran"].flags.f_contiguous and loaded["big_endian"].dtype == np.dtype(">i4")
    loaded["fortran"][0, 0] = -1.0  # writable, as np.load's arrays are
    assert loaded["fortran"][0, 0] == -1.0


# ------------------------------------------------------------------ errors on save
def test_object_array_on_save_raises_type_error_naming_the_key_path(tmp_path):
    state = {"model": {"weight": np.array([1, "a"], dtype=object)}}
    with pytest.raises(TypeError, match=r"model\.weight.*dtype object"):
        tr.save(state, tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "obj, match",
    [
        ({"layers": [1, {2}]}, r"layers\.1 is a set"),
        ({"f": print}, r"f is a builtin_function_or_method"),
        ({(1, 2): 3}, r"key \(1, 2\) of type tuple"),
        ({"a": {1.5: 0}}, r"a has a key 1.5"),
    ],
)
def test_unsupported_values_raise_type_error_naming_the_key_path(tmp_path, obj, match):
    with pytest.raises(TypeError, match=match):
        tr.save(obj, tmp_path / "c.npz")


def test_cycle_raises_value_error(tmp_path):
    loop = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match=r"a\.0 contains itself"):
        tr.save(loop, tmp_path / "c.npz")


def test_bad_paths_raise_clear_errors(tmp_path):
    with pytest.raises(TypeError, match=r"save: f must be a path \(str or os.PathLike\) or a binary file .* got int"):
        tr.save({}, 3)
    with pytest.raises(TypeError, match=r"load: f must be a path \(str or os.PathLike\) or a binary .* got NoneType"):
        tr.load(None)
    with pytest.raises(FileNotFoundError, match="directory does not exist"):
        tr.save({}, tmp_path / "no_such_dir" / "c.npz")
    with pytest.raises(IsADirectoryError):
        tr.save({}, tmp_path)


# ------------------------------------------------------------------ file objects, torch.load's arguments
def test_round_trip_through_bytes_io_and_open_files(tmp_path):
    obj = {"w": np.arange(6.0, dtype=np.float32).reshape(2, 3), "step": 4, "names": ("a", "b")}
    buffer = io.BytesIO()
    tr.save(obj, buffer)
    assert not buffer.closed and buffer.getvalue()[:2] == b"PK"  # written, left open, as torch.save leaves it
    buffer.seek(0)
    assert_same(tr.load(buffer), obj)
    with open(tmp_path / "c.npz", "wb") as file:
        tr.save(obj, file)
        assert not file.closed
    with open(tmp_path / "c.npz", "rb") as file:
        loaded = tr.load(file, map_location="cpu")
    assert isinstance(loaded["w"], tr.Tensor) and np.array_equal(loaded["w"].numpy(), obj["w"])
    assert os.listdir(tmp_path) == ["c.npz"]  # no temporary file: the atomic rename is for paths only


def test_file_objects_are_read_from_their_position_and_need_not_seek():
    buffer = io.BytesIO()
    buffer.write(b"a header before the checkpoint")
    tr.save([1, np.ones(2)], buffer)
    buffer.seek(len(b"a header before the checkpoint"))
    assert_same(tr.load(buffer), [1, np.ones(2)])

    class Pipe(io.RawIOBase):  # a stream that cannot seek, as a pipe or a socket
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, view):
            return self.data.readinto(view)

    saved = io.BytesIO()
    tr.save({"x": np.arange(3)}, saved)
    assert_same(tr.load(Pipe(saved.getvalue())), {"x": np.arange(3)})


def test_bad_file_objects_raise_clear_errors(tmp_path):
    with pytest.raises(TypeError, match=r"save: f is a text file; .* mode 'wb'"):
        tr.save({}, io.StringIO())
    with pytest.raises(TypeError, match=r"load: f is a text file; .* mode 'rb'"):
        tr.load(io.StringIO("text"))
    (tmp_path / "c.npz").write_bytes(b"")
    with open(tmp_path / "c.npz", "rb") as file, pytest.raises(io.UnsupportedOperation, match="not open for writing"):
        tr.save({}, file)
    closed = io.BytesIO()
    closed.close()
    with pytest.raises(ValueError, match="load: f is a closed file"):
        tr.load(closed)
    with pytest.raises(ValueError, match=f"load: the BytesIO object {CORRUPTED}: it is not a valid zip archive"):
        tr.load(io.BytesIO(b"not a checkpoint"))
    with open(tmp_path / "c.npz", "rb") as file, pytest.raises(ValueError, match=f"load: '.*c.npz' {CORRUPTED}"):
        tr.load(file)  # a file object is named by its path


def test_a_torch_save_file_is_named_as_such_and_never_unpickled():
    torch = pytest.importorskip("torch")
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buffer)
    buffer.seek(0)
    with pytest.raises(ValueError, match=rf"{CORRUPTED}: it is a PyTorch \(torch.save\) file, a pickle, which load"):
        tr.load(buffer)


class _DeviceLike:
    """An object standing for a device, as ``torch.device``: its ``str()`` is the device's name."""

    type = "cpu"

    def __str__(self):
        return "cpu"


@pytest.mark.parametrize("where", ["cpu", b"cpu", _DeviceLike()])
def test_map_location_takes_device_names_and_device_objects(tmp_path, where):
    tr.save({"w": np.ones(2, dtype=np.float32)}, tmp_path / "m.npz")
    loaded = tr.load(tmp_path / "m.npz", map_location=where)
    assert isinstance(loaded["w"], tr.Tensor) and loaded["w"].device == "cpu"


def test_map_location_takes_a_torch_device(tmp_path):
    torch = pytest.importorskip("torch")
    tr.save({"w": np.ones(2)}, tmp_path / "m.npz")
    assert tr.load(tmp_path / "m.npz", map_location=torch.device("cpu"))["w"].device == "cpu"


@pytest.mark.parametrize("where, kind", [({"cuda:0": "cpu"}, "a dict"), (lambda storage, loc: storage, "a function")])
def test_map_location_as_dict_or_function_is_not_supported(tmp_path, where, kind):
    tr.save({}, tmp_path / "m.npz")
    with pytest.raises(TypeError, match=f"load: map_location as {kind} is not supported"):
        tr.load(tmp_path / "m.npz", map_location=where)


@pytest.mark.parametrize("options", [{"weights_only": True}, {"weights_only": False}, {"mmap": True}, {"mmap": False}])
def test_weights_only_and_mmap_are_accepted_and_change_nothing(tmp_path, options):
    obj = {"w": np.arange(4.0), "epoch": 2}
    tr.save(obj, tmp_path / "c.npz")
    assert_same(tr.load(tmp_path / "c.npz", **options), obj)


def test_a_pytorch_style_checkpoint_script_runs_unchanged():
    model, copy = nn.Linear(3, 2), nn.Linear(3, 2)
    optimizer = tr.optim.SGD(model.parameters(), lr=0.1)
    buffer = io.BytesIO()
    tr.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 1}, buffer)
    buffer.seek(0)
    checkpoint = tr.load(buffer, map_location="cpu", weights_only=True)
    copy.load_state_dict(checkpoint["model"])
    tr.optim.SGD(copy.parameters(), lr=0.1).load_state_dict(checkpoint["optimizer"])
    assert np.array_equal(copy.weight.numpy(), model.weight.numpy()) and checkpoint["epoch"] == 1


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: {"opt": tr.optim.SGD([nn.Parameter(tr.ones(2))], lr=0.1)},
         r"opt is an optimizer \(SGD\); tr.save never writes a pickle.*tr.save\(optimizer.state_dict\(\), f\)"),
        (lambda: [0, {"sched": tr.optim.lr_scheduler.StepLR(tr.optim.SGD([nn.Parameter(tr.ones(2))], lr=0.1), 2)}],
         r"1.sched is a learning-rate scheduler \(StepLR\); .*tr.save\(scheduler.state_dict\(\), f\)"),
    ],
)
def test_optimizers_and_schedulers_are_refused_before_anything_is_written(tmp_path, make, match):
    buffer = io.BytesIO()
    with pytest.raises(TypeError, match=match):
        tr.save(make(), buffer)
    assert buffer.getvalue() == b""
    with pytest.raises(TypeError, match=match):
        tr.save(make(), tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []


def test_modules_are_saved_whole_at_the_top_level_and_inside_containers():
    """Modules used to be refused; they are now described without pickle (tests/test_module_checkpoint.py
    has the details): a model comes back as a model of the same class with the same weights."""
    model = nn.Linear(2, 2)
    buffer = io.BytesIO()
    tr.save([0, {"layers": [nn.Tanh(), model]}], buffer)
    buffer.seek(0)
    loaded = tr.load(buffer)
    assert loaded[0] == 0 and type(loaded[1]["layers"][0]) is nn.Tanh
    assert type(loaded[1]["layers"][1]) is nn.Linear and loaded[1]["layers"][1] is not model
    assert np.array_equal(loaded[1]["layers"][1].weight.numpy(), model.weight.numpy())


# ------------------------------------------------------------------ atomic writes
def test_failed_save_keeps_the_previous_checkpoint_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    tr.save({"version": 1, "w": np.arange(3.0)}, path)

    def write_half_then_fail(file, arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(backend, "write_npz", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        tr.save({"version": 2, "w": np.zeros(3)}, path)
    assert os.listdir(tmp_path) == ["c.npz"]
    assert_same(tr.load(path), {"version": 1, "w": np.arange(3.0)})


def test_interrupted_save_leaves_no_temporary_file(tmp_path, monkeypatch):
    def interrupted(file, arrays):
        raise KeyboardInterrupt

    monkeypatch.setattr(backend, "write_npz", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tr.save({"a": 1}, tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ GPU
def _has_cuda() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


@pytest.mark.gpu
@pytest.mark.skipif(not _has_cuda(), reason="needs CuPy and a CUDA GPU")
def test_cuda_tensors_come_back_on_the_gpu_and_map_location_moves_them(tmp_path):
    x = tr.randn(3, 4, device="cuda")
    lstm = nn.LSTM(2, 3).to("cuda")
    tr.save({"x": x, "raw": x.array, "lstm": lstm.state_dict()}, tmp_path / "g.npz")
    loaded = tr.load(tmp_path / "g.npz")
    assert isinstance(loaded["raw"], np.ndarray) and np.array_equal(loaded["raw"], x.numpy())  # a raw array: NumPy
    assert isinstance(loaded["x"], tr.Tensor) and loaded["x"].device == "cuda:0"  # a tensor: where it was saved
    assert np.array_equal(loaded["x"].numpy(), x.numpy()) and loaded["lstm"]["weight_ih_l0"].device == "cuda:0"
    on_cpu = tr.load(tmp_path / "g.npz", map_location="cpu")
    assert on_cpu["x"].device == "cpu" and on_cpu["lstm"]["weight_ih_l0"].device == "cpu"
    on_gpu = tr.load(tmp_path / "g.npz", map_location="cuda")
    assert on_gpu["x"].device == "cuda:0" and np.array_equal(on_gpu["x"].numpy(), x.numpy())
    cpu_lstm = nn.LSTM(2, 3)
    cpu_lstm.load_state_dict(on_gpu["lstm"])  # tensors on the GPU go into a CPU model
    assert np.array_equal(cpu_lstm.weight_ih_l0.numpy(), lstm.weight_ih_l0.numpy())
