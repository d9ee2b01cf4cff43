"""Shapes: queries (``size``, ``numel``, ``len``), the movement ops (reshape, permute, expand, flip,
repeat, split, unbind, cat, ...) and reading by index: ``x[index]``, ``narrow``, ``index_select``, ``gather``.

None of these does arithmetic: each output element is some input element, so each backward
only moves the gradient back (``ops/movement.py``). ``flatten``, ``squeeze`` and ``unsqueeze``
are reshapes, ``chunk`` a split, ``stack`` a cat of unsqueezes, ``narrow`` and ``index_select`` index
reads and ``gather`` an index read whose index arrays ``ops.indexing.along_axis`` builds, so they need
no op of their own.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING

import numpy as np

from .. import backend, ops
from .base import TensorBase, check_dim, shape_arg

if TYPE_CHECKING:  # for annotations only: at run time these modules sit below tensor.py
    from ..tensor import Tensor


class ShapeMethods(TensorBase):
    """The shape methods of ``Tensor`` (see the module docstring)."""

    __slots__ = ()

    # ------------------------------------------------------------ queries
    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the transpose, for a matrix)."""
        if self.array.ndim == 2:  # the common case (W.T in a layer), without permute's checks
            return ops.Permute.apply(self, dims=(1, 0))
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped (a batch of transposed matrices)."""
        return self.T if self.array.ndim == 2 else self.transpose(-2, -1)

    def dim(self) -> int:
        """The number of dimensions (PyTorch's spelling of ``ndim``)."""
        return self.array.ndim

    def size(self, dim: int | None = None):
        """The shape, or the size of dimension ``dim``."""
        return self.shape if dim is None else self.shape[check_dim("size", dim, self.ndim)]

    def numel(self) -> int:
        """The number of elements."""
        return int(self.array.size)

    def nelement(self) -> int:
        """The number of elements (PyTorch's other name of ``numel``)."""
        return int(self.array.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))  # one node for all the slices, not one indexing op per slice

    # ------------------------------------------------------------ new shapes, same values
    def reshape(self, *shape) -> Tensor:
        """Same values in a new shape (one size may be -1). Always a new tensor (a view), even
        for the same shape, as in PyTorch, so hooks, ``retain_grad`` and ``tr.grad`` on it act
        on it, not on ``self``; the same holds for ``permute``, ``transpose``, ``expand`` and
        ``squeeze`` that change nothing."""
        return ops.Reshape.apply(self, shape=shape_arg(shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions ``start_dim`` .. ``end_dim`` into one. As in PyTorch, merging a
        single dimension (``start_dim == end_dim``, e.g. any 1-D tensor) returns ``self``
        itself, and a 0-d tensor becomes shape (1,)."""
        if self.ndim == 0:
            return self.reshape(1)
        start = check_dim("flatten", start_dim, self.ndim)
        end = check_dim("flatten", end_dim, self.ndim)
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {self.shape}")
        if start == end:
            return self  # PyTorch returns the input itself here (not a view)
        # the merged size spelled out, not -1: NumPy cannot infer -1 when a size is 0
        merged = math.prod(self.shape[start : end + 1])
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1 :])

    def squeeze(self, dim=None) -> Tensor:
        """Drop dimensions of size 1 (only those in ``dim``, an int or tuple, if given)."""
        return self.reshape(squeezed_shape("squeeze", self.shape, dim))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a dimension of size 1 at ``dim``."""
        return self.reshape(unsqueezed_shape("unsqueeze", self.shape, dim))

    def view_as(self, other) -> Tensor:
        """``self.view(other.shape)``."""
        return self.view(_shape_of("view_as", other))

    def reshape_as(self, other) -> Tensor:
        """``self.reshape(other.shape)``."""
        return self.reshape(_shape_of("reshape_as", other))

    def expand_as(self, other) -> Tensor:
        """``self.expand(other.shape)``: broadcast to ``other``'s shape without copying."""
        return self.expand(_shape_of("expand_as", other))

    def t(self) -> Tensor:
        """The transpose of a matrix; a tensor of fewer than 2 dimensions as it is (a new view, as in
        PyTorch). For more dimensions use ``transpose(dim0, dim1)`` or ``.mT``."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor of at most 2 dimensions, got shape {self.shape}; "
                             "use transpose(dim0, dim1) or .mT")
        return self.T

    def contiguous(self) -> Tensor:
        """A tensor with the same values laid out row by row in memory: ``self`` when it is already
        (as in PyTorch), else a copy that stays in the graph (``clone``).

        Nothing here needs it: every op takes any layout and ``view`` copies when it must. What it
        changes is what PyTorch's changes: the result of a transposed, permuted or expanded tensor
        owns its memory, so writing into it leaves the original alone (and an expanded one becomes
        writable)."""
        return self if self.array.flags.c_contiguous else self.clone()

    def permute(self, *dims) -> Tensor:
        """Reorder dimensions: ``x.permute(2, 0, 1)``."""
        dims = tuple(check_dim("permute", d, self.ndim) for d in shape_arg(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not an ordering of the {self.ndim} dimensions of {self.shape}")
        return ops.Permute.apply(self, dims=dims)

    def transpose(self, *dims) -> Tensor:
        """``x.transpose(0, 1)`` swaps two dimensions (PyTorch); ``x.transpose()``
        reverses them and ``x.transpose((1, 0, 2))`` permutes them (NumPy)."""
        if len(dims) == 2 and all(isinstance(d, int) for d in dims):
            order = list(range(self.ndim))
            a, b = check_dim("transpose", dims[0], self.ndim), check_dim("transpose", dims[1], self.ndim)
            order[a], order[b] = order[b], order[a]
            return ops.Permute.apply(self, dims=tuple(order))
        return self.T if not dims else self.permute(*dims)

    swapaxes = transpose

    def expand(self, *sizes) -> Tensor:
        """Broadcast to ``sizes`` without copying; -1 keeps a dimension's size."""
        sizes = shape_arg(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: target {sizes} has fewer dimensions than the tensor's shape {self.shape}")
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
        return ops.Expand.apply(self, shape=shape)

    def broadcast_to(self, *shape) -> Tensor:
        """Broadcast to ``shape`` (NumPy's name for ``expand``)."""
        return self.expand(*shape)

    def flip(self, *dims) -> Tensor:
        """Reverse the order of elements along ``dims`` (``x.flip(0)``, ``x.flip(0, 1)``, ``x.flip((0, 1))``).
        A copy, as in PyTorch (NumPy's ``flip`` is a view)."""
        axes = tuple(check_dim("flip", d, self.ndim) for d in shape_arg(dims))
        if len(set(axes)) != len(axes):
            raise ValueError(f"flip: dims {shape_arg(dims)} name the same dimension twice")
        return ops.Flip.apply(self, axes=axes if self.ndim else ())

    def repeat(self, *sizes) -> Tensor:
        """Tile the tensor ``sizes[d]`` times along each dimension d (a copy): ``x.repeat(2, 1)``. With
        more sizes than dimensions, the tensor first gets leading dimensions of size 1, as in PyTorch."""
        sizes = shape_arg(sizes)
        if len(sizes) < self.ndim:
            raise ValueError(f"repeat: got {len(sizes)} sizes {sizes} for a tensor of {self.ndim} dimensions "
                             f"(shape {self.shape}); give at least one size per dimension")
        if any(n < 0 for n in sizes):
            raise ValueError(f"repeat: sizes must be non-negative, got {sizes}")
        return ops.Repeat.apply(self, sizes=sizes)

    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None) -> Tensor:
        """Repeat each element (each slice along ``dim``) ``repeats`` times, the copies side by side::

            x = [a, b], repeats = 2        ->  [a, a, b, b]            (x.repeat(2) gives [a, b, a, b])
            x = [a, b], repeats = [1, 3]   ->  [a, b, b, b]

        ``repeats`` is an int, or an integer tensor, 0-d (one count for all) or 1-D with one count
        per slice along ``dim``. ``dim=None`` flattens the tensor first (the result is 1-D), as in
        PyTorch. The gradient of each element is the sum of its copies' gradients. ``output_size``,
        if given, must equal the result's length along ``dim``. ``tr.repeat_interleave(counts)``
        with one 1-D integer tensor repeats each index: ``arange(len(counts))`` repeated ``counts``.
        """
        if repeats is None:  # tr.repeat_interleave(counts): the indices, each repeated
            if self.ndim != 1 or self.dtype.kind not in "iu":
                raise ValueError(f"repeat_interleave: with no repeats, expected a 1-D integer tensor of counts, "
                                 f"got shape {self.shape} and dtype {self.dtype}")
            return self._wrap(self.xp.arange(self.shape[0], dtype="int64")).repeat_interleave(self, 0)
        source = self.reshape(-1) if dim is None or self.ndim == 0 else self
        dim = 0 if dim is None else check_dim("repeat_interleave", dim, source.ndim)
        size = source.shape[dim]
        if isinstance(repeats, TensorBase):
            if repeats.dtype.kind not in "iu":
                raise TypeError(f"repeat_interleave: repeats must be an int or an integer tensor, "
                                f"got a tensor of dtype {repeats.dtype}")
            if repeats.ndim > 1:
                raise ValueError(f"repeat_interleave: repeats must be a 0-d or 1-D tensor, got shape {repeats.shape}")
            counts = [int(n) for n in repeats.reshape(-1).tolist()]
            if repeats.ndim == 1 and len(counts) not in (1, size):
                raise ValueError(f"repeat_interleave: repeats must have one count per slice along dim {dim} "
                                 f"({size}), got {len(counts)}")
        elif isinstance(repeats, bool) or not isinstance(repeats, int | np.integer):
            raise TypeError(f"repeat_interleave: repeats must be an int or an integer tensor, "
                            f"got {type(repeats).__name__}")
        else:
            counts = [int(repeats)]
        if any(n < 0 for n in counts):
            raise ValueError(f"repeat_interleave: repeats must be non-negative, got {min(counts)}")
        counts = counts * size if len(counts) == 1 else counts
        if output_size is not None and output_size != sum(counts):
            raise ValueError(f"repeat_interleave: invalid output_size: the result has {sum(counts)} slices along "
                             f"dim {dim}, got output_size={output_size!r}")
        index = np.repeat(np.arange(size, dtype=np.int64), counts)
        return source[(slice(None),) * dim + (index,)]

    # ------------------------------------------------------------ pieces
    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """``length`` elements along ``dim`` from ``start`` (negative counts from the end): a view, as
        ``x[:, start:start + length]`` for dim 1."""
        if self.ndim == 0:
            raise IndexError("narrow: cannot narrow a 0-d tensor")
        dim = check_dim("narrow", dim, self.ndim)
        size, start, length = self.shape[dim], operator.index(start), operator.index(length)
        if not -size <= start <= size:
            raise IndexError(f"narrow: start {start} is out of range for dimension {dim} of size {size}")
        start = start + size if start < 0 else start
        if length < 0 or start + length > size:
            raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension {dim} of size {size}")
        return self[(slice(None),) * dim + (slice(start, start + length),)]

    def index_select(self, dim: int, index) -> Tensor:
        """The slices ``index`` (a 1-D integer tensor; repeats allowed) along ``dim``, in that order.
        The gradient of a slice picked twice is the sum of both. Negative indices count from the end
        (PyTorch refuses them)."""
        index = _integer_index("index_select", index)
        if index.ndim > 1:
            raise IndexError(f"index_select: index must be 1-D (or 0-d), got shape {index.shape}")
        if self.ndim == 0:
            if index.numel() != 1:
                raise IndexError(f"index_select: a 0-d tensor takes an index of one element, got {index.numel()}")
            return self.reshape(1)[index.reshape(1)].reshape(())
        dim = check_dim("index_select", dim, self.ndim)
        return self[(slice(None),) * dim + (index.reshape(-1),)]

    def gather(self, dim: int, index) -> Tensor:
        """``out[i][j][k] = self[i][index[i][j][k]][k]`` for dim 1 (likewise for any dim): along ``dim``,
        pick the elements ``index`` names, position by position. ``index`` is an integer tensor with
        as many dimensions as ``self``, no larger than it in the other dimensions; the result has
        ``index``'s shape. The gradient is scattered back, elements picked twice getting both.
        Negative indices count from the end (PyTorch refuses them)."""
        index = _integer_index("gather", index)
        source = self.reshape(1) if self.ndim == 0 else self
        flat = index.reshape(1) if index.ndim == 0 else index
        dim = check_dim("gather", dim, source.ndim)
        if flat.ndim != source.ndim:
            raise ValueError(f"gather: index (shape {index.shape}) must have as many dimensions as the tensor "
                             f"(shape {self.shape})")
        for d, (n, limit) in enumerate(zip(flat.shape, source.shape)):
            if d != dim and n > limit:
                raise ValueError(f"gather: index (shape {index.shape}) is larger than the tensor (shape "
                                 f"{self.shape}) in dimension {d}; only dimension {dim} may be larger")
        array = backend.to_device(flat.array, source.device)  # a CPU index for a GPU tensor is fine
        with backend.device_of_array_context(source.array):
            plan = ops.indexing.along_axis(array, dim, source.xp)
        out = ops.GetItem.apply(source, index=plan)
        return out.reshape(()) if index.ndim == 0 else out

    def __getitem__(self, index) -> Tensor:
        """``x[index]`` with PyTorch's semantics: ints select first, then index arrays follow
        NumPy's rule among themselves (see ``ops/indexing.py``); repeated indices add up in
        the backward."""
        return ops.GetItem.apply(self, index=_index_arrays(index, self))

    def split(self, split_size_or_sections, dim: int = 0) -> tuple:
        """Cut along ``dim`` into pieces of size ``split_size_or_sections`` (the last may be
        smaller) or into pieces of the listed sizes."""
        dim = check_dim("split", dim, self.ndim)
        length = self.shape[dim]
        if isinstance(split_size_or_sections, int):
            step = split_size_or_sections
            if step <= 0:
                raise ValueError(f"split: split size must be positive, got {step}")
            sizes = [min(step, length - start) for start in range(0, length, step)] or [0]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != length:
                raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, but dim {dim} has size {length}")
        return ops.Split.apply(self, sizes=tuple(sizes), axis=dim)

    def unbind(self, dim: int = 0) -> tuple:
        """The slices along ``dim`` as a tuple of tensors, one dimension fewer each
        (``h_t`` for each time step of a sequence)."""
        return ops.Unbind.apply(self, axis=check_dim("unbind", dim, self.ndim))

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """Cut along ``dim`` into ``chunks`` pieces of size ceil(n / chunks) (fewer if n is small)."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        length = self.shape[check_dim("chunk", dim, self.ndim)]
        return self.split(max(1, -(-length // chunks)), dim)


def squeezed_shape(name: str, shape: tuple, dim) -> tuple:
    """``shape`` without its dimensions of size 1 (only those in ``dim``, an int or tuple, if given)."""
    if dim is None:
        dims = {i for i, n in enumerate(shape) if n == 1}
    else:
        dims = {check_dim(name, d, len(shape)) for d in ((dim,) if isinstance(dim, int) else dim)}
        dims = {d for d in dims if shape and shape[d] == 1}
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def unsqueezed_shape(name: str, shape: tuple, dim: int) -> tuple:
    """``shape`` with a dimension of size 1 inserted at ``dim``."""
    dim = check_dim(name, dim, len(shape), extra=1)
    return tuple(shape[:dim]) + (1,) + tuple(shape[dim:])


def _shape_of(name: str, other) -> tuple:
    if not isinstance(other, TensorBase):
        raise TypeError(f"{name}: expected a Tensor to take the shape of, got {type(other).__name__}")
    return other.shape


def _integer_index(name: str, index) -> Tensor:
    if not isinstance(index, TensorBase):
        raise TypeError(f"{name}: index must be an integer Tensor, got {type(index).__name__}")
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor (int64 or int32), got dtype {index.dtype}")
    return index


# What makes PyTorch read a list index as a tuple of indices (its "treatSequenceAsTuple", deprecated):
# a list shorter than 32 that holds any of these.
_TUPLE_LIKE_ITEMS = (TensorBase, list, tuple, range, slice)


def _index_arrays(index, tensor: Tensor) -> ops.indexing.Index:
    """The plan (``ops.indexing.Index``) for indexing ``tensor`` with ``index``, the one
    conversion that reading, its backward and writing (``index_read``, ``index_add``,
    ``index_write``) all use. Tensors, lists and NumPy arrays become arrays of ``tensor``'s
    device; a 0-d integer tensor selects like an int, as in PyTorch."""
    items = index if type(index) is tuple else (index,)
    if all(map(ops.indexing.is_plain_item, items)):  # x[t], x[:, 1:3]: nothing to convert
        return ops.indexing.plain_index(items)
    if isinstance(index, list) and len(index) < 32 and any(
        isinstance(item, _TUPLE_LIKE_ITEMS) or item is None or item is Ellipsis or backend.is_array(item)
        for item in index
    ):
        raise IndexError(
            "x[[...]] with a list that holds lists, tensors, slices, None or Ellipsis is ambiguous: PyTorch "
            "reads it as a tuple of indices (deprecated), NumPy as one index array. Write x[tuple(seq)] "
            "or x[tr.tensor(seq)]"
        )
    if not isinstance(index, tuple):
        index = (index,)
    converted = []
    for item in index:
        if isinstance(item, TensorBase):
            if item.dtype.kind not in "biu":
                raise IndexError(f"tensors used as indices must be integer or bool, got {item.dtype}")
            item = backend.to_device(item.array, tensor.device)  # a CPU index for a GPU tensor is fine
        elif isinstance(item, list | tuple | range):
            item = tensor.xp.asarray(item, dtype=backend.int64 if len(item) == 0 else None)
        elif backend.is_array(item):  # a NumPy index array for a tensor elsewhere: move it over, explicitly
            item = backend.to_device(item, tensor.device)
        elif backend.is_numpy_scalar(item):
            item = item.item()
        converted.append(item)
    return ops.indexing.make_index(tuple(converted), tensor.shape, tensor.xp)


def cat(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dimension; all other sizes must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    first = tensors[0]
    dim = check_dim("cat", dim if axis is None else axis, first.ndim)
    for position, other in enumerate(tensors[1:], start=1):
        if other.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(first.shape, other.shape)) if i != dim
        ):
            raise ValueError(
                f"cat: tensors must match in every dimension but {dim}; "
                f"tensors[0] has shape {first.shape}, tensors[{position}] has shape {other.shape}"
            )
    common = backend.result_type(*(t.dtype for t in tensors))  # PyTorch's: int64 with float32 is float32
    return ops.Cat.apply(*(t.to(common) for t in tensors), axis=dim)


def stack(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join same-shaped tensors along a new dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for position, other in enumerate(tensors[1:], start=1):
        if other.shape != tensors[0].shape:
            raise ValueError(
                f"stack: expects tensors of one shape; tensors[0] has shape {tensors[0].shape}, "
                f"tensors[{position}] has shape {other.shape}"
            )
    dim = check_dim("stack", dim if axis is None else axis, tensors[0].ndim, extra=1)
    common = backend.result_type(*(t.dtype for t in tensors))  # as cat: int64 with float32 is float32
    return ops.Stack.apply(*(t.to(common) for t in tensors), axis=dim)
