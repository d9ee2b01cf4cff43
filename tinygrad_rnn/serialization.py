"""Saving and loading checkpoints: ``tr.save(obj, path)`` and ``tr.load(path)``.

A checkpoint is a ``.npz`` file (NumPy's zip of ``.npy`` arrays), so any NumPy can
read it. Every array is its own entry (``a0``, ``a1``, ...); one more entry,
``__structure__``, holds a JSON document that describes ``obj`` and points at the
arrays by name::

    {"format": "tinygrad_rnn", "version": 1,
     "root": {"dict": [["model", {"dict": [["weight", {"array": "a0"}]]}], ["epoch", 3]]}}

Containers are tagged (``dict``, ``list``, ``tuple``), so tuples come back as
tuples, and dict keys are stored as JSON values, so ``3`` comes back as an int and
``"3"`` as a string. ``None``, bools, ints, floats and strings are plain JSON.

Nothing is ever pickled. ``torch.save`` pickles, and loading a pickle runs whatever
code its author put in it; here loading reads numbers and JSON only, and object
arrays (the one thing ``.npz`` would pickle) are refused on save and on load.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
from collections.abc import Mapping

from . import backend
from .creation import from_numpy
from .tensor import Tensor

# The header every checkpoint's JSON carries; VERSION goes up when the layout changes,
# so an older tinygrad_rnn refuses a newer file with a clear message instead of misreading it.
FORMAT = "tinygrad_rnn"
VERSION = 1
STRUCTURE_ENTRY = "__structure__"  # the name of the JSON entry; the arrays are a0, a1, ...


class _Corrupt(Exception):
    """Raised inside ``load`` when the file's content is not what ``save`` writes."""


# ------------------------------------------------------------------ save
def save(obj, path) -> None:
    """Write ``obj`` to the checkpoint file ``path`` (a str or ``os.PathLike``).

    ``obj`` is nested dicts (str or int keys), lists and tuples of arrays (NumPy,
    CuPy, or ``Tensor``: all stored as NumPy arrays on the host), NumPy scalars,
    Python numbers, bools, ``None`` and strings, e.g.
    ``tr.save({"model": model.state_dict(), "epoch": 3}, "ckpt.npz")``.

    The name is kept as given (no ``.npz`` is added). The write is atomic: the data
    goes to a temporary file in the same directory, is flushed to disk, then renamed
    onto ``path``, so a crash leaves either the old checkpoint or the new one, never
    half of one. Each array is stored where it occurs: an array that appears twice is
    stored twice and comes back as two arrays.
    """
    path = _check_path("save", path)
    arrays: dict = {}
    root = _encode(obj, [], arrays, set())
    # ensure_ascii keeps the JSON plain ASCII, so any string (even a lone surrogate) round-trips
    document = json.dumps({"format": FORMAT, "version": VERSION, "root": root}, ensure_ascii=True)
    arrays[STRUCTURE_ENTRY] = backend.host_array(document)  # a 0-d string array
    _write_atomically(path, arrays)


def _check_path(caller: str, path) -> str:
    """``path`` as a str, or a TypeError naming the argument."""
    try:
        return os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(f"{caller}: path must be a str or os.PathLike, got {type(path).__name__}") from None


def _show(parts: list) -> str:
    """The key path of a value for error messages: ``model.weight``, ``layers.0``."""
    return ".".join(str(part) for part in parts) if parts else "obj (the top level)"


def _encode(value, parts: list, arrays: dict, open_containers: set):
    """The JSON description of ``value``; its arrays are added to ``arrays`` by name."""
    # Arrays and NumPy scalars first: np.float64 is a subclass of float, yet it should
    # come back as np.float64, not as a Python float.
    if isinstance(value, Tensor) or backend.is_array(value) or backend.is_numpy_scalar(value):
        return _encode_array(value, parts, arrays)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping | list | tuple):
        if id(value) in open_containers:  # without this check a cycle recurses until RecursionError
            raise ValueError(f"save: {_show(parts)} contains itself; a checkpoint must be a tree, not a cycle")
        open_containers.add(id(value))
        try:
            if isinstance(value, Mapping):
                return {"dict": [[_check_key(key, parts), _encode(item, [*parts, key], arrays, open_containers)]
                                 for key, item in value.items()]}
            items = [_encode(item, [*parts, i], arrays, open_containers) for i, item in enumerate(value)]
            return {"tuple" if isinstance(value, tuple) else "list": items}
        finally:
            open_containers.discard(id(value))
    raise TypeError(
        f"save: {_show(parts)} is a {type(value).__name__}, which cannot be saved; expected dicts, lists, tuples, "
        "arrays, Tensors, numbers, bools, None or strings"
    )


def _check_key(key, parts: list):
    """A dict key, if JSON can bring it back with its type (str or int)."""
    if not isinstance(key, str | int):
        raise TypeError(f"save: {_show(parts)} has a key {key!r} of type {type(key).__name__}; expected str or int")
    return key


def _encode_array(value, parts: list, arrays: dict) -> dict:
    """Store an array, tensor or NumPy scalar as the next entry and return a reference to it."""
    is_scalar = backend.is_numpy_scalar(value)
    data = value.data if isinstance(value, Tensor) else value
    array = backend.host_array(data) if is_scalar else backend.to_numpy(data)
    if array.dtype.hasobject:  # NumPy would pickle these, and loading a pickle runs code
        raise TypeError(
            f"save: {_show(parts)} is an array of Python objects (dtype {array.dtype}), which could only be "
            "stored with pickle; convert it to a numeric dtype"
        )
    name = f"a{len(arrays)}"
    arrays[name] = array
    return {"scalar" if is_scalar else "array": name}


def _write_atomically(path: str, arrays: dict) -> None:
    """Write the archive to a temporary file beside ``path``, flush it to disk, rename it onto ``path``."""
    target = os.path.realpath(path)  # through a symlink to the file it names, as open(path, "wb") would write
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, "save: the checkpoint path is a directory", path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, "save: the checkpoint's directory does not exist", directory)
    # Same directory, so os.replace is a rename within one filesystem, which is atomic.
    temporary = os.path.join(directory, f".{os.path.basename(target)}.{secrets.token_hex(8)}.tmp")
    file = open(temporary, "xb")  # "x": never reuse a file that someone else made
    try:
        with file:
            if os.path.exists(target):  # keep the permissions of the checkpoint being replaced
                os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
            backend.write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())  # the bytes reach the disk before the rename makes them the checkpoint
        os.replace(temporary, target)
    except BaseException:  # KeyboardInterrupt too: never leave the temporary file behind
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def _sync_directory(directory: str) -> None:
    """Flush the directory entry, so the rename itself survives a power cut (POSIX only)."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory; the data is safe anyway
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


# ------------------------------------------------------------------ load
def load(path, map_location=None):
    """Read a checkpoint written by ``tr.save`` and return the structure that was saved.

    With ``map_location=None`` (the default) arrays come back as NumPy arrays, as
    ``Module.state_dict()`` gives them, and ``model.load_state_dict(tr.load(path))``
    puts them on the model's own device. With ``map_location="cpu"``, ``"cuda"`` or
    ``"cuda:N"`` every array of numbers or bools comes back as a ``Tensor`` on that
    device, as ``torch.load(path, map_location=...)`` gives tensors there. Saved
    tensors come back as arrays (or tensors with ``map_location``), without ``grad``.
    Mappings come back as ``dict`` (order kept), NumPy scalars as NumPy scalars.

    Raises ``FileNotFoundError`` when ``path`` does not exist, and ``ValueError`` when
    the file is not a checkpoint or is damaged (truncated, overwritten, or holding
    pickled data, which is never unpickled).
    """
    path = _check_path("load", path)
    device = _check_map_location(map_location)
    try:
        file = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "load: no checkpoint file at this path", path) from None
    try:
        with file:
            try:
                arrays = backend.read_npz(file)
            except MemoryError:
                raise
            except Exception as error:  # zipfile, zlib and .npy errors alike: the bytes are not a valid archive
                raise _Corrupt(f"{type(error).__name__}: {error}") from None
        structure = _read_structure(arrays)
        return _decode(structure["root"], arrays, device)
    except _Corrupt as error:
        raise ValueError(f"load: {path!r} is not a tinygrad_rnn checkpoint or is corrupted: {error}") from None


def _check_map_location(map_location) -> str | None:
    """The normalized device of ``map_location`` (None stays None), checked before reading the file."""
    if map_location is None:
        return None
    if not isinstance(map_location, str):
        raise TypeError(
            f"load: map_location must be None, 'cpu', 'cuda' or 'cuda:N', got {type(map_location).__name__}"
        )
    try:
        device = backend.normalize_device(map_location)
    except ValueError:
        raise ValueError(f"load: map_location must be None, 'cpu', 'cuda' or 'cuda:N', got {map_location!r}") from None
    backend.array_module(device)  # without CuPy, say how to install it now, not after reading the file
    return device


def _read_structure(arrays: dict) -> dict:
    """The JSON document of the ``__structure__`` entry, with its header checked."""
    entry = arrays.pop(STRUCTURE_ENTRY, None)
    if entry is None:
        raise _Corrupt(f"it has no {STRUCTURE_ENTRY} entry (is it a plain .npz file from np.savez?)")
    if entry.ndim != 0 or entry.dtype.kind != "U":
        raise _Corrupt(f"the {STRUCTURE_ENTRY} entry is not a string")
    try:
        structure = json.loads(entry.item())
    except (ValueError, RecursionError) as error:
        raise _Corrupt(f"the {STRUCTURE_ENTRY} entry is not valid JSON ({error})") from None
    if not isinstance(structure, dict) or structure.get("format") != FORMAT or "root" not in structure:
        raise _Corrupt(f"the {STRUCTURE_ENTRY} entry does not describe a {FORMAT} checkpoint")
    if structure.get("version") != VERSION:
        raise _Corrupt(f"format version {structure.get('version')!r} is not supported (this version reads {VERSION})")
    return structure


def _decode(node, arrays: dict, device: str | None):
    """The Python value that the JSON ``node`` describes."""
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if not isinstance(node, dict) or len(node) != 1:
        raise _Corrupt(f"unexpected entry {node!r:.80} in the structure")
    tag, content = next(iter(node.items()))
    if tag in ("list", "tuple") and isinstance(content, list):
        items = [_decode(item, arrays, device) for item in content]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and isinstance(content, list):
        pairs = {}
        for pair in content:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str | int)):
                raise _Corrupt(f"a dict item {pair!r:.80} is not a [str or int key, value] pair")
            pairs[pair[0]] = _decode(pair[1], arrays, device)
        return pairs
    if tag in ("array", "scalar") and isinstance(content, str):
        if content not in arrays:
            raise _Corrupt(f"the structure refers to array {content!r}, which is missing")
        array = arrays[content]
        if tag == "scalar":
            if array.ndim != 0:
                raise _Corrupt(f"the scalar {content!r} has shape {array.shape}")
            return array[()]  # a NumPy scalar, as saved
        if device is None or array.dtype.kind not in "biuf":
            return array
        return from_numpy(array).to(device)
    raise _Corrupt(f"unexpected entry {node!r:.80} in the structure")
