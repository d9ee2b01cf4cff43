"""Saving and loading checkpoints: ``tr.save(obj, f)`` and ``tr.load(f)``, as ``torch.save``/``torch.load``.

``f`` is a path (str or ``os.PathLike``) or a binary file object (``open(path, "wb")``,
``io.BytesIO()``). A checkpoint is a ``.npz`` file (NumPy's zip of ``.npy`` arrays), so any
NumPy can read it. Every array is its own entry (``a0``, ``a1``, ...); one more entry,
``__structure__``, holds a JSON document that describes ``obj`` and points at the
arrays by name::

    {"format": "tinygrad_rnn", "version": 1,
     "root": {"dict": [["losses", {"array": "a0"}], ["epoch", 3]]}}

A ``Tensor`` (every value of ``model.state_dict()``) is stored as ``{"tensor": i}``, a position in
a table of tensors that records each one's device, ``requires_grad`` and whether it is a
``Parameter`` (``module_archive.py``; the document then has version 3), so ``load`` gives Tensors
back, as ``torch.load`` does. A NumPy array is stored as ``{"array": name}`` and comes back as a
NumPy array, as it was saved (``torch.load`` likewise gives back a NumPy array that was pickled
into a file), or as a Tensor when ``load`` is given ``map_location``.

Containers are tagged (``dict``, ``list``, ``tuple``), so tuples come back as
tuples, and dict keys are stored as JSON values, so ``3`` comes back as an int and
``"3"`` as a string. ``None``, bools, ints, floats and strings are plain JSON.

Nothing is ever pickled. ``torch.save`` pickles, and loading a pickle runs whatever
code its author put in it; here loading reads numbers and JSON only, and object
arrays (the one thing ``.npz`` would pickle) are refused on save and on load.
A whole ``nn.Module`` (``tr.save(model, f)``, as PyTorch's word_language_model does) is
stored as a description, not as code: its class's name, its plain attributes, its
parameters and buffers and its submodules (``module_archive.py``; such a document has
version 2 and two more keys, ``modules`` and ``tensors``). Optimizers are refused (save
their ``state_dict()``). ``load`` reads each ``.npy`` member itself (``npz_reader.py``),
so that it checks every size a member claims against the bytes in the file before
allocating anything, and names the member at fault when a file is damaged.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import secrets
import stat
from collections.abc import Mapping

from . import backend
from .creation import from_numpy
from .module_archive import ModuleWriter, read_tables
from .nn.module import Module
from .npz_reader import STRUCTURE, STRUCTURE_ENTRY, Archive, Corrupt, seekable_stream
from .tensor import Tensor

# The header every checkpoint's JSON carries; VERSION goes up when the layout changes,
# so an older tinygrad_rnn refuses a newer file with a clear message instead of misreading it.
# A file without modules or Tensors is still written as version 1, which every tinygrad_rnn reads.
FORMAT = "tinygrad_rnn"
VERSION = 1
MODULE_VERSION = 2  # the document also has the "modules" and "tensors" tables of module_archive.py
TENSOR_VERSION = 3  # ... and root may refer to that tensor table ({"tensor": i}); the modules table may be empty
__all__ = ["FORMAT", "MODULE_VERSION", "STRUCTURE_ENTRY", "TENSOR_VERSION", "VERSION", "load", "save"]


# ------------------------------------------------------------------ save
def save(obj, f) -> None:
    """Write ``obj`` to ``f``, a path (str or ``os.PathLike``) or a binary file object opened
    for writing (``open(path, "wb")``, ``io.BytesIO()``), as ``torch.save(obj, f)``.

    ``obj`` is nested dicts (str or int keys), lists and tuples of ``Tensor``\\s (each
    stored with its dtype, device, ``requires_grad`` and whether it is a ``Parameter``, and
    given back as such by ``load``; not its gradient or graph), arrays (NumPy or CuPy, stored
    as NumPy arrays on the host and given back as NumPy arrays), NumPy scalars,
    Python numbers, bools, ``None`` and strings, e.g.
    ``tr.save({"model": model.state_dict(), "epoch": 3}, "ckpt.npz")``; and whole
    ``nn.Module``\\s, as ``torch.save(model, f)``: their class's module and qualified name,
    training flag, plain attributes (None, bools, numbers, strings, NumPy scalars, dtypes,
    devices, and lists, tuples and dicts of those), parameters and buffers (with dtype,
    device and ``requires_grad``; not their gradients) and submodules, a parameter or
    module reachable twice stored once (see ``module_archive.py``). No code and no pickle
    is written: a module holding anything else (a function, an arbitrary object, a
    Tensor that is not a parameter or buffer, a module in a plain list, a hook on a
    parameter) raises ``TypeError`` naming it (``model.foo``); save ``model.state_dict()``
    then. Anything else raises ``TypeError`` naming where it is in ``obj``; an optimizer
    or a scheduler (any object with a ``state_dict`` method) is refused too: save its
    ``state_dict()`` instead.

    A path is kept as given (no ``.npz`` is added), and the write is atomic: the data
    goes to a temporary file in the same directory, is flushed to disk, then renamed
    onto the path, so a crash leaves either the old checkpoint or the new one, never
    half of one. A file object is written from its current position and left open
    (neither flushed to disk nor closed), as ``torch.save`` leaves it. A Tensor that
    appears twice is stored once and comes back as one object (as with ``torch.save``);
    a NumPy array is stored where it occurs: one that appears twice is stored twice and
    comes back as two arrays.
    """
    target = _check_file("save", f, "write")
    arrays: dict = {}
    # _encode_array returns {"array" or "scalar": entry name}; the module tables keep the name alone
    modules = ModuleWriter(lambda value, parts: next(iter(_encode_array(value, parts, arrays).values())))
    root = _encode(obj, [], arrays, set(), modules)
    header = {"format": FORMAT, "version": VERSION, "root": root}
    if modules.modules or modules.tensors:
        # Modules alone keep version 2, which the tinygrad_rnn versions before loose tensors also read.
        header.update(version=TENSOR_VERSION if modules.loose else MODULE_VERSION, modules=modules.modules,
                      tensors=modules.tensors)
    # ensure_ascii keeps the JSON plain ASCII, so any string (even a lone surrogate) round-trips
    document = json.dumps(header, ensure_ascii=True)
    arrays[STRUCTURE_ENTRY] = backend.host_array(document)  # a 0-d string array
    if isinstance(target, str):
        _write_atomically(target, arrays)
    else:
        backend.write_npz(target, arrays)


_MODES = {"write": ("writing", "wb", "writable"), "read": ("reading", "rb", "readable")}


def _check_file(caller: str, f, action: str):
    """A path as a str, or the binary file object itself, checked for ``action`` ("write" or "read");
    a TypeError (or ``io.UnsupportedOperation``) naming the argument otherwise."""
    if isinstance(f, str | bytes | os.PathLike):
        return os.fsdecode(os.fspath(f))
    doing, mode, check_name = _MODES[action]
    if not callable(getattr(f, action, None)):
        raise TypeError(
            f"{caller}: f must be a path (str or os.PathLike) or a binary file object opened for {doing}, "
            f"got {type(f).__name__}"
        )
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"{caller}: f is a text file; a checkpoint is binary: open it with mode '{mode}'")
    if getattr(f, "closed", False):
        raise ValueError(f"{caller}: f is a closed file")
    check = getattr(f, check_name, None)  # f.writable() / f.readable()
    if callable(check) and not check():
        raise io.UnsupportedOperation(f"{caller}: f is not open for {doing}: open it with mode '{mode}'")
    return f


def _show(parts: list) -> str:
    """The key path of a value for error messages: ``model.weight``, ``layers.0``."""
    return ".".join(str(part) for part in parts) if parts else "obj (the top level)"


def _encode(value, parts: list, arrays: dict, open_containers: set, modules: ModuleWriter):
    """The JSON description of ``value``; its arrays are added to ``arrays`` by name, its modules to ``modules``."""
    if isinstance(value, Tensor):
        return modules.tensor_reference(value, parts)
    # Arrays and NumPy scalars before numbers: np.float64 is a subclass of float, yet it should
    # come back as np.float64, not as a Python float.
    if backend.is_array(value) or backend.is_numpy_scalar(value):
        return _encode_array(value, parts, arrays)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping | list | tuple):
        if id(value) in open_containers:  # without this check a cycle recurses until RecursionError
            raise ValueError(f"save: {_show(parts)} contains itself; a checkpoint must be a tree, not a cycle")
        open_containers.add(id(value))
        try:
            if isinstance(value, Mapping):
                return {"dict": [[_check_key(key, parts), _encode(item, [*parts, key], arrays, open_containers,
                                                                  modules)] for key, item in value.items()]}
            items = [_encode(item, [*parts, i], arrays, open_containers, modules) for i, item in enumerate(value)]
            return {"tuple" if isinstance(value, tuple) else "list": items}
        finally:
            open_containers.discard(id(value))
    if isinstance(value, Module):
        return modules.reference(value, parts)
    if callable(getattr(value, "state_dict", None)):  # duck-typed: optim is not imported here
        what, name = _what_has_state(value)
        raise TypeError(
            f"save: {_show(parts)} is {what} ({type(value).__name__}); tr.save never writes a pickle, so it stores "
            f"no Python objects: save its state_dict() instead, e.g. tr.save({name}.state_dict(), f), and restore "
            f"it with {name}.load_state_dict(tr.load(f))"
        )
    raise TypeError(
        f"save: {_show(parts)} is a {type(value).__name__}, which cannot be saved; expected dicts, lists, tuples, "
        "arrays, Tensors, numbers, bools, None or strings"
    )


def _what_has_state(value) -> tuple[str, str]:
    """What an object with a ``state_dict`` is, and a name for it in an example, by its classes' names
    (optim is not imported here)."""
    names = {cls.__name__ for cls in type(value).__mro__}
    if "Optimizer" in names:
        return "an optimizer", "optimizer"
    if names & {"LRScheduler", "_LRScheduler"}:
        return "a learning-rate scheduler", "scheduler"
    return "an object with a state_dict", "obj"


def _check_key(key, parts: list):
    """A dict key, if JSON can bring it back with its type (str or int)."""
    if not isinstance(key, str | int):
        raise TypeError(f"save: {_show(parts)} has a key {key!r} of type {type(key).__name__}; expected str or int")
    return key


def _encode_array(value, parts: list, arrays: dict) -> dict:
    """Store an array, tensor or NumPy scalar as the next entry and return a reference to it."""
    is_scalar = backend.is_numpy_scalar(value)
    data = value.array if isinstance(value, Tensor) else value
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
def load(f, map_location=None, *, weights_only=None, mmap=None):
    """Read a checkpoint written by ``tr.save`` from ``f`` (a path, or a binary file object
    opened for reading, such as ``open(path, "rb")`` or an ``io.BytesIO``, read from its
    current position) and return the structure that was saved, as ``torch.load(f)``.

    Saved Tensors come back as Tensors (``nn.Parameter``\\s as Parameters), with their dtype and
    ``requires_grad``, without ``grad`` or graph, as ``torch.load`` gives them: with
    ``map_location=None`` (the default) on the device each was saved from, so
    ``model.load_state_dict(tr.load(f))`` and ``sd["weight"].clone()`` work as in PyTorch. With
    ``map_location="cpu"``, ``"cuda"`` or ``"cuda:N"`` (or a device object whose ``str()`` is one
    of those) they come back on that device, and so does every saved NumPy array of numbers or
    bools, as a ``Tensor``; without it NumPy arrays come back as NumPy arrays, as they were saved
    (and as files written before Tensors were stored give their arrays back). A dict or a function as
    ``map_location`` (which ``torch.load`` also takes) raises ``TypeError``: not supported.
    Mappings come back as ``dict`` (order kept), NumPy scalars as NumPy scalars, numbers as numbers.

    A file holding a whole module (``tr.save(model, f)``) gives the module back, rebuilt
    without running its class's ``__init__`` (see ``module_archive.py``): its parameters and
    buffers are tensors on ``map_location``, or with ``None`` on the device each was saved
    from, parameters shared when saved are one object again, and ``state_dict()``,
    ``parameters()``, ``named_modules()``, the training flags and ``forward`` are the saved
    model's. Each class is found by its module and qualified name and must subclass
    ``nn.Module``.

    ``weights_only`` (None, True or False) only matters for such a file, since nothing is
    ever unpickled and plain checkpoints read numbers, strings and containers only:
    ``True`` refuses a file holding a module (as ``torch.load`` does: save
    ``model.state_dict()`` instead); ``None`` (the default) rebuilds it only from classes
    whose modules are already imported, and raises ``ValueError`` naming the class and
    module otherwise; ``False`` also imports them, because the caller vouches for the
    file (importing a module runs its code), as ``torch.load(f, weights_only=False)``
    does. ``mmap`` is accepted and ignored: arrays are read into memory.

    Raises ``FileNotFoundError`` when a path does not exist, and ``ValueError`` naming
    the file, and the zip member where one is at fault, when the file is not a checkpoint
    or is damaged: truncated or overwritten bytes, a member without a valid ``.npy``
    header or whose data is not the size its header declares, pickled (object) data,
    which is never unpickled, or a structure that is not what ``save`` writes. Every size
    a member claims is checked against the bytes actually in the file before memory is
    allocated for it, so a small damaged or hostile file cannot exhaust memory.
    """
    del mmap  # see the docstring: nothing is memory-mapped
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"load: weights_only must be None, True or False, got {type(weights_only).__name__}")
    source = _check_file("load", f, "read")
    device = _check_map_location(map_location)
    if not isinstance(source, str):
        return _read(seekable_stream(source), _describe(source), device, weights_only)
    try:
        file = open(source, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "load: no checkpoint file at this path", source) from None
    with file:
        return _read(file, repr(source), device, weights_only)


def _describe(file) -> str:
    """How error messages name a file object: by its path when it has one."""
    name = getattr(file, "name", None)
    return repr(name) if isinstance(name, str) else f"the {type(file).__name__} object"


def _read(file, name: str, device: str | None, weights_only: bool | None):
    """The value stored in the open binary ``file``; ``name`` says which file in errors."""
    try:
        archive = Archive(file)
        structure = _read_structure(archive)
        modules = tensors = None  # a version 1 file has neither table
        if "modules" in structure:
            modules, tensors = read_tables(structure, archive, device, weights_only,
                                           modules_required=structure["version"] == MODULE_VERSION)
        try:
            value = _decode(structure["root"], archive, device, modules, tensors)
        except RecursionError:
            raise Corrupt(f"{STRUCTURE} is nested too deeply") from None
        archive.check_all_read()
        return value
    except Corrupt as error:
        raise ValueError(f"load: {name} is not a tinygrad_rnn checkpoint or is corrupted: {error}") from None


_DEVICES = "None, 'cpu', 'cuda' or 'cuda:N' (or a device object whose str() is one of those)"


def _check_map_location(map_location) -> str | None:
    """The normalized device of ``map_location`` (None stays None), checked before reading the file."""
    if map_location is None:
        return None
    if isinstance(map_location, Mapping) or callable(map_location):
        kind = "a dict" if isinstance(map_location, Mapping) else "a function"
        raise TypeError(
            f"load: map_location as {kind} is not supported; pass a device ('cpu', 'cuda', 'cuda:N'), "
            "or load with map_location=None and move the values afterwards"
        )
    if isinstance(map_location, bool | int | float | complex):
        raise TypeError(f"load: map_location must be {_DEVICES}, got {type(map_location).__name__}")
    name = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
    try:
        device = backend.normalize_device(name)
    except ValueError:
        raise ValueError(f"load: map_location must be {_DEVICES}, got {map_location!r}") from None
    backend.array_module(device)  # without CuPy, say how to install it now, not after reading the file
    return device


def _read_structure(archive: Archive) -> dict:
    """The JSON document of the ``__structure__`` member, with its header checked."""
    if STRUCTURE_ENTRY not in archive.members:
        raise Corrupt(f"it has no {STRUCTURE_ENTRY}.npy member (is it a plain .npz file from np.savez?)")
    entry = archive.array(STRUCTURE_ENTRY)
    if entry.ndim != 0 or entry.dtype.kind != "U":
        raise Corrupt(f"{STRUCTURE} is not a string")
    try:
        structure = json.loads(entry.item())
    except (ValueError, RecursionError) as error:
        raise Corrupt(f"{STRUCTURE} is not valid JSON ({error})") from None
    if not isinstance(structure, dict) or structure.get("format") != FORMAT or "root" not in structure:
        raise Corrupt(f"{STRUCTURE} does not describe a {FORMAT} checkpoint")
    version = structure.get("version")
    if version not in (VERSION, MODULE_VERSION, TENSOR_VERSION) or isinstance(version, bool):
        raise Corrupt(f"format version {version!r} is not supported (this version reads {VERSION}, "
                      f"{MODULE_VERSION} and {TENSOR_VERSION})")
    expected = {"format", "root", "version"} | ({"modules", "tensors"} if version != VERSION else set())
    if set(structure) != expected:
        raise Corrupt(f"{STRUCTURE} has keys {sorted(structure)}; expected {', '.join(sorted(expected))}")
    return structure


def _decode(node, archive: Archive, device: str | None, modules: list | None = None, tensors: list | None = None):
    """The Python value that the JSON ``node`` describes; ``modules`` and ``tensors`` are the file's rebuilt
    modules and its tensors (None in a version 1 file, which holds neither)."""
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if not isinstance(node, dict) or len(node) != 1:
        raise Corrupt(f"{STRUCTURE} has an unexpected entry {node!r:.80}")
    tag, content = next(iter(node.items()))
    if tag in ("list", "tuple") and isinstance(content, list):
        items = [_decode(item, archive, device, modules, tensors) for item in content]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and isinstance(content, list):
        pairs = {}
        for pair in content:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str | int)):
                raise Corrupt(f"{STRUCTURE} has a dict item {pair!r:.80} that is not a [str or int key, value] pair")
            if pair[0] in pairs:  # save writes each key once; a second would silently replace the first
                raise Corrupt(f"{STRUCTURE} has the dict key {pair[0]!r} twice")
            pairs[pair[0]] = _decode(pair[1], archive, device, modules, tensors)
        return pairs
    if tag == "module" and modules is not None and type(content) is int and 0 <= content < len(modules):
        return modules[content]
    if tag == "tensor" and tensors is not None and type(content) is int and 0 <= content < len(tensors):
        return tensors[content]
    if tag in ("array", "scalar") and isinstance(content, str) and content != STRUCTURE_ENTRY:
        array = archive.array(content)
        if tag == "scalar":
            if array.ndim != 0:
                raise Corrupt(f"member '{content}.npy' is a scalar in {STRUCTURE} but has shape {array.shape}")
            return array[()]  # a NumPy scalar, as saved
        if device is None or array.dtype.kind not in "biuf":
            return array
        return from_numpy(array).to(device)
    raise Corrupt(f"{STRUCTURE} has an unexpected entry {node!r:.80}")
