"""Reading the ``.npy`` members of a checkpoint's ``.npz`` archive without trusting the file.

``tr.load`` (``serialization.py``) reads checkpoints through this module rather than through
``np.load``, so that every size a member claims is checked against the bytes actually in the
file before memory is allocated for it, object (pickled) data is refused without being
unpickled, and the member at fault is named when a file is damaged. The ``.npy`` format is
NumPy's own, so it is read with NumPy on the host (as ``gradcheck`` does).
"""

from __future__ import annotations

import ast
import io
import math
import os
import zipfile

import numpy as np

STRUCTURE_ENTRY = "__structure__"  # the name of the JSON entry; the arrays are a0, a1, ...
STRUCTURE = f"member '{STRUCTURE_ENTRY}.npy'"  # how error messages name it

_NPY_MAGIC = b"\x93NUMPY"
_MAX_HEADER_SIZE = 10_000  # NumPy's own limit on a .npy header read from a file it does not trust
# How many bytes one stored byte can become: 1 uncompressed (what save writes), at most 1032 with
# deflate (what np.savez_compressed writes). A member claiming more is lying about its size.
_EXPANSION = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: 1032}
_CHUNK = 1 << 24  # member data is read 16 MiB at a time into a buffer whose size is already checked


class Corrupt(Exception):
    """Raised inside ``load`` when the file's content is not what ``save`` writes."""


def seekable_stream(file):
    """``file`` itself when it can seek (zip archives are read from their end), else its remaining
    bytes in memory (a pipe or a socket)."""
    seekable = getattr(file, "seekable", None)
    if seekable is None or seekable():
        return file
    return io.BytesIO(file.read())


class Archive:
    """The ``.npy`` members of an open ``.npz`` file, each read when the structure asks for it.

    ``file`` is a binary file object that can seek, positioned where the archive starts.
    """

    def __init__(self, file):
        start = file.tell()
        if file.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
            raise Corrupt("the file holds a single .npy array, not a .npz archive")
        file.seek(0, os.SEEK_END)
        self.file_size = file.tell()  # an upper bound on what any member can hold
        file.seek(start)
        try:
            self.zip = zipfile.ZipFile(file)
            infos = self.zip.infolist()
        except Exception as error:  # BadZipFile, EOFError, OSError, ...: the bytes are not a zip archive
            raise Corrupt(f"it is not a valid zip archive ({type(error).__name__}: {error})") from None
        if any(info.filename.endswith("data.pkl") for info in infos):  # what torch.save writes
            raise Corrupt(
                "it is a PyTorch (torch.save) file, a pickle, which load never unpickles; convert a state_dict "
                "where PyTorch is installed: tr.save({k: v.numpy() for k, v in torch.load(f).items()}, path)"
            )
        self.members: dict = {}  # array name ("a0") -> ZipInfo of its member ("a0.npy")
        for info in infos:
            name = info.filename.removesuffix(".npy")
            if name == info.filename:
                raise Corrupt(f"member {info.filename!r} is not a .npy array")
            if name in self.members:  # a zip may hold one name twice: which one would be meant?
                raise Corrupt(f"member {info.filename!r} appears twice")
            self.members[name] = info
        self.unread = set(self.members)

    def array(self, name: str):
        """The array of member ``name``.npy, which may be read once: ``save`` refers to each array once."""
        if name not in self.members:
            raise Corrupt(f"{STRUCTURE} refers to array {name!r}, which is missing (no member '{name}.npy')")
        if name not in self.unread:
            raise Corrupt(f"{STRUCTURE} refers to array {name!r} more than once")
        self.unread.discard(name)
        info = self.members[name]
        try:
            return read_npy(self.zip, info, self.file_size)
        except Corrupt as error:
            raise Corrupt(f"member {info.filename!r} {error}") from None
        except MemoryError:
            raise  # sizes are checked against the file first, so this is a real array too large for this machine
        except Exception as error:  # zipfile, zlib and I/O errors alike: the member's bytes are damaged
            raise Corrupt(f"member {info.filename!r} is damaged ({type(error).__name__}: {error})") from None

    def check_all_read(self) -> None:
        """Refuse members the structure never mentioned: ``save`` writes none."""
        if self.unread:
            raise Corrupt(f"member '{min(self.unread)}.npy' is not referenced by {STRUCTURE}")


def read_npy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_size: int):
    """The array in one ``.npy`` member; every size it claims is checked before memory is allocated."""
    if info.compress_type not in _EXPANSION:
        raise Corrupt(f"uses zip compression method {info.compress_type}; expected none or deflate")
    if info.compress_size > file_size:
        raise Corrupt(f"claims {info.compress_size} bytes, more than the whole file's {file_size}")
    if info.file_size > info.compress_size * _EXPANSION[info.compress_type]:
        raise Corrupt(f"claims {info.file_size} bytes, more than its {info.compress_size} stored bytes can hold")
    with archive.open(info) as stream:
        dtype, shape, fortran_order, header_size = read_npy_header(stream)
        size = math.prod(shape) * dtype.itemsize
        if header_size + size != info.file_size:
            raise Corrupt(
                f"declares shape {shape} of {dtype}, {size} bytes of data, but holds "
                f"{max(info.file_size - header_size, 0)}"
            )
        buffer = bytearray(size)  # at most what the file's own bytes can hold, by the checks above
        view, filled = memoryview(buffer), 0
        while filled < size:
            count = stream.readinto(view[filled : filled + _CHUNK])
            if not count:
                raise Corrupt(f"is truncated: {filled} of its {size} bytes of data are there")
            filled += count
    array = np.frombuffer(buffer, dtype) if size else np.empty(shape, dtype)  # frombuffer refuses 0-byte dtypes
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)


def read_npy_header(stream) -> tuple:
    """The dtype, shape and Fortran order a ``.npy`` header declares, and the header's size in bytes."""
    prefix = stream.read(len(_NPY_MAGIC) + 2)
    if len(prefix) < len(_NPY_MAGIC) + 2 or not prefix.startswith(_NPY_MAGIC):
        raise Corrupt("has no .npy header")
    major, minor = prefix[-2:]
    if (major, minor) not in ((1, 0), (2, 0), (3, 0)):
        raise Corrupt(f"has .npy format version {major}.{minor}; expected 1.0, 2.0 or 3.0")
    width = 2 if major == 1 else 4  # the header's length: a uint16 in version 1, a uint32 after
    length_bytes = stream.read(width)
    length = int.from_bytes(length_bytes, "little")
    if len(length_bytes) < width or length > _MAX_HEADER_SIZE:
        raise Corrupt(f"has a .npy header length of {length} bytes; expected at most {_MAX_HEADER_SIZE}")
    text = stream.read(length)
    if len(text) < length:
        raise Corrupt("has a truncated .npy header")
    try:  # literal_eval reads Python literals only: it cannot run code
        header = ast.literal_eval(text.decode("utf-8" if major == 3 else "latin-1"))
        shape, fortran_order = header["shape"], header["fortran_order"]
        dtype = np.lib.format.descr_to_dtype(header["descr"])
    except Exception:  # SyntaxError, KeyError, TypeError, ...: not the dict np.save writes
        raise Corrupt(f"has a .npy header that is not a dict of descr, fortran_order, shape: {text!r:.100}") from None
    valid_shape = isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)
    if len(header) != 3 or not valid_shape or not isinstance(fortran_order, bool):
        raise Corrupt(f"has a .npy header with a bad shape or fortran_order: {text!r:.100}")
    if dtype.hasobject:
        raise Corrupt(f"holds Python objects (dtype {dtype}), stored with pickle, which load never unpickles")
    return dtype, shape, fortran_order, len(prefix) + width + length
