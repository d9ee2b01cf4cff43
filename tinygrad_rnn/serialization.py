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
``load`` reads each ``.npy`` member itself, so that it checks every size a member
claims against the bytes in the file before allocating anything, and names the
member at fault when a file is damaged.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import json
import math
import os
import secrets
import stat
import zipfile
from collections.abc import Mapping

import numpy as np

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

    Raises ``FileNotFoundError`` when ``path`` does not exist, and ``ValueError`` naming
    the file, and the zip member where one is at fault, when the file is not a checkpoint
    or is damaged: truncated or overwritten bytes, a member without a valid ``.npy``
    header or whose data is not the size its header declares, pickled (object) data,
    which is never unpickled, or a structure that is not what ``save`` writes. Every size
    a member claims is checked against the bytes actually in the file before memory is
    allocated for it, so a small damaged or hostile file cannot exhaust memory.
    """
    path = _check_path("load", path)
    device = _check_map_location(map_location)
    try:
        file = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "load: no checkpoint file at this path", path) from None
    try:
        with file:
            archive = _Archive(file)
            structure = _read_structure(archive)
            try:
                value = _decode(structure["root"], archive, device)
            except RecursionError:
                raise _Corrupt(f"{_STRUCTURE} is nested too deeply") from None
            archive.check_all_read()
            return value
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


# The .npy format is NumPy's own, so load reads it with NumPy on the host (as gradcheck does);
# reading it here rather than through np.load lets every size be checked before it is allocated.
_NPY_MAGIC = b"\x93NUMPY"
_MAX_HEADER_SIZE = 10_000  # NumPy's own limit on a .npy header read from a file it does not trust
# How many bytes one stored byte can become: 1 uncompressed (what save writes), at most 1032 with
# deflate (what np.savez_compressed writes). A member claiming more is lying about its size.
_EXPANSION = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: 1032}
_CHUNK = 1 << 24  # member data is read 16 MiB at a time into a buffer whose size is already checked
_STRUCTURE = f"member '{STRUCTURE_ENTRY}.npy'"


class _Archive:
    """The ``.npy`` members of an open ``.npz`` file, each read when the structure asks for it."""

    def __init__(self, file):
        if file.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
            raise _Corrupt("the file holds a single .npy array, not a .npz archive")
        file.seek(0)
        self.file_size = os.fstat(file.fileno()).st_size
        try:
            self.zip = zipfile.ZipFile(file)
            infos = self.zip.infolist()
        except Exception as error:  # BadZipFile, EOFError, OSError, ...: the bytes are not a zip archive
            raise _Corrupt(f"it is not a valid zip archive ({type(error).__name__}: {error})") from None
        self.members: dict = {}  # array name ("a0") -> ZipInfo of its member ("a0.npy")
        for info in infos:
            name = info.filename.removesuffix(".npy")
            if name == info.filename:
                raise _Corrupt(f"member {info.filename!r} is not a .npy array")
            if name in self.members:  # a zip may hold one name twice: which one would be meant?
                raise _Corrupt(f"member {info.filename!r} appears twice")
            self.members[name] = info
        self.unread = set(self.members)

    def array(self, name: str):
        """The array of member ``name``.npy, which may be read once: ``save`` refers to each array once."""
        if name not in self.members:
            raise _Corrupt(f"{_STRUCTURE} refers to array {name!r}, which is missing (no member '{name}.npy')")
        if name not in self.unread:
            raise _Corrupt(f"{_STRUCTURE} refers to array {name!r} more than once")
        self.unread.discard(name)
        info = self.members[name]
        try:
            return _read_npy(self.zip, info, self.file_size)
        except _Corrupt as error:
            raise _Corrupt(f"member {info.filename!r} {error}") from None
        except MemoryError:
            raise  # sizes are checked against the file first, so this is a real array too large for this machine
        except Exception as error:  # zipfile, zlib and I/O errors alike: the member's bytes are damaged
            raise _Corrupt(f"member {info.filename!r} is damaged ({type(error).__name__}: {error})") from None

    def check_all_read(self) -> None:
        """Refuse members the structure never mentioned: ``save`` writes none."""
        if self.unread:
            raise _Corrupt(f"member '{min(self.unread)}.npy' is not referenced by {_STRUCTURE}")


def _read_npy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_size: int):
    """The array in one ``.npy`` member; every size it claims is checked before memory is allocated."""
    if info.compress_type not in _EXPANSION:
        raise _Corrupt(f"uses zip compression method {info.compress_type}; expected none or deflate")
    if info.compress_size > file_size:
        raise _Corrupt(f"claims {info.compress_size} bytes, more than the whole file's {file_size}")
    if info.file_size > info.compress_size * _EXPANSION[info.compress_type]:
        raise _Corrupt(f"claims {info.file_size} bytes, more than its {info.compress_size} stored bytes can hold")
    with archive.open(info) as stream:
        dtype, shape, fortran_order, header_size = _read_npy_header(stream)
        size = math.prod(shape) * dtype.itemsize
        if header_size + size != info.file_size:
            raise _Corrupt(
                f"declares shape {shape} of {dtype}, {size} bytes of data, but holds "
                f"{max(info.file_size - header_size, 0)}"
            )
        buffer = bytearray(size)  # at most what the file's own bytes can hold, by the checks above
        view, filled = memoryview(buffer), 0
        while filled < size:
            count = stream.readinto(view[filled : filled + _CHUNK])
            if not count:
                raise _Corrupt(f"is truncated: {filled} of its {size} bytes of data are there")
            filled += count
    array = np.frombuffer(buffer, dtype) if size else np.empty(shape, dtype)  # frombuffer refuses 0-byte dtypes
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)


def _read_npy_header(stream) -> tuple:
    """The dtype, shape and Fortran order a ``.npy`` header declares, and the header's size in bytes."""
    prefix = stream.read(len(_NPY_MAGIC) + 2)
    if len(prefix) < len(_NPY_MAGIC) + 2 or not prefix.startswith(_NPY_MAGIC):
        raise _Corrupt("has no .npy header")
    major, minor = prefix[-2:]
    if (major, minor) not in ((1, 0), (2, 0), (3, 0)):
        raise _Corrupt(f"has .npy format version {major}.{minor}; expected 1.0, 2.0 or 3.0")
    width = 2 if major == 1 else 4  # the header's length: a uint16 in version 1, a uint32 after
    length_bytes = stream.read(width)
    length = int.from_bytes(length_bytes, "little")
    if len(length_bytes) < width or length > _MAX_HEADER_SIZE:
        raise _Corrupt(f"has a .npy header length of {length} bytes; expected at most {_MAX_HEADER_SIZE}")
    text = stream.read(length)
    if len(text) < length:
        raise _Corrupt("has a truncated .npy header")
    try:  # literal_eval reads Python literals only: it cannot run code
        header = ast.literal_eval(text.decode("utf-8" if major == 3 else "latin-1"))
        shape, fortran_order = header["shape"], header["fortran_order"]
        dtype = np.lib.format.descr_to_dtype(header["descr"])
    except Exception:  # SyntaxError, KeyError, TypeError, ...: not the dict np.save writes
        raise _Corrupt(f"has a .npy header that is not a dict of descr, fortran_order, shape: {text!r:.100}") from None
    valid_shape = isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)
    if len(header) != 3 or not valid_shape or not isinstance(fortran_order, bool):
        raise _Corrupt(f"has a .npy header with a bad shape or fortran_order: {text!r:.100}")
    if dtype.hasobject:
        raise _Corrupt(f"holds Python objects (dtype {dtype}), stored with pickle, which load never unpickles")
    return dtype, shape, fortran_order, len(prefix) + width + length


def _read_structure(archive: _Archive) -> dict:
    """The JSON document of the ``__structure__`` member, with its header checked."""
    if STRUCTURE_ENTRY not in archive.members:
        raise _Corrupt(f"it has no {STRUCTURE_ENTRY}.npy member (is it a plain .npz file from np.savez?)")
    entry = archive.array(STRUCTURE_ENTRY)
    if entry.ndim != 0 or entry.dtype.kind != "U":
        raise _Corrupt(f"{_STRUCTURE} is not a string")
    try:
        structure = json.loads(entry.item())
    except (ValueError, RecursionError) as error:
        raise _Corrupt(f"{_STRUCTURE} is not valid JSON ({error})") from None
    if not isinstance(structure, dict) or structure.get("format") != FORMAT or "root" not in structure:
        raise _Corrupt(f"{_STRUCTURE} does not describe a {FORMAT} checkpoint")
    if structure.get("version") != VERSION:
        raise _Corrupt(f"format version {structure.get('version')!r} is not supported (this version reads {VERSION})")
    if len(structure) != 3:
        raise _Corrupt(f"{_STRUCTURE} has keys {sorted(structure)}; expected format, root and version")
    return structure


def _decode(node, archive: _Archive, device: str | None):
    """The Python value that the JSON ``node`` describes."""
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if not isinstance(node, dict) or len(node) != 1:
        raise _Corrupt(f"{_STRUCTURE} has an unexpected entry {node!r:.80}")
    tag, content = next(iter(node.items()))
    if tag in ("list", "tuple") and isinstance(content, list):
        items = [_decode(item, archive, device) for item in content]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and isinstance(content, list):
        pairs = {}
        for pair in content:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str | int)):
                raise _Corrupt(f"{_STRUCTURE} has a dict item {pair!r:.80} that is not a [str or int key, value] pair")
            if pair[0] in pairs:  # save writes each key once; a second would silently replace the first
                raise _Corrupt(f"{_STRUCTURE} has the dict key {pair[0]!r} twice")
            pairs[pair[0]] = _decode(pair[1], archive, device)
        return pairs
    if tag in ("array", "scalar") and isinstance(content, str) and content != STRUCTURE_ENTRY:
        array = archive.array(content)
        if tag == "scalar":
            if array.ndim != 0:
                raise _Corrupt(f"member '{content}.npy' is a scalar in {_STRUCTURE} but has shape {array.shape}")
            return array[()]  # a NumPy scalar, as saved
        if device is None or array.dtype.kind not in "biuf":
            return array
        return from_numpy(array).to(device)
    raise _Corrupt(f"{_STRUCTURE} has an unexpected entry {node!r:.80}")
