"""Indexing the way PyTorch does it, on raw arrays: one plan (``Index``) that reading
(``GetItem``), its backward (a scatter-add) and writing (``x[index] = v``) all apply.

NumPy and PyTorch agree on every index but one kind. NumPy treats an int as an index
array of shape (), so in ``x[0, :, [1, 2]]`` the int and the list are two advanced
indices separated by a slice, and NumPy puts their dimension first. PyTorch applies
ints as plain selections first; only the index arrays that remain follow NumPy's rule
among themselves, so the result keeps the slice's dimension first. Hence the plan:

1. ``basic``: ints, slices and None (plus a None for each bool scalar), with every
   index array replaced by ``:``. Basic indexing never copies: it gives a view.
2. ``advanced``: on that view, ``:`` everywhere except the integer index arrays (bool
   masks become their ``nonzero()`` arrays, as PyTorch does), applied with NumPy's rule.

``make_index`` builds the plan from an index whose tensors are already arrays of the
target's device (``_index_arrays`` in ``tensor_methods/shape.py`` does that part);
``index_read``, ``index_write`` and ``index_add`` apply it.
"""

from __future__ import annotations

from .. import backend


class Index:
    """An index split into the two steps PyTorch applies (see the module docstring).

    ``basic``: a tuple of ints, slices, None and Ellipsis, applied first (a view).
    ``advanced``: None when there are no index arrays, else a tuple of slices and
    integer arrays applied to the result of ``basic`` with NumPy's rule.
    """

    __slots__ = ("basic", "advanced")

    def __init__(self, basic: tuple, advanced: tuple | None):
        self.basic, self.advanced = basic, advanced

    @property
    def is_basic(self) -> bool:
        """True when no index array is involved: reading gives a view and no element repeats."""
        return self.advanced is None

    def __repr__(self) -> str:
        return f"Index(basic={self.basic!r}, advanced={self.advanced!r})"


def is_plain_item(item) -> bool:
    """An index item that needs no conversion: None, Ellipsis, an int (not a bool) or a slice."""
    return item is None or item is Ellipsis or type(item) is int or type(item) is slice


def _as_scalar(item):
    """A 0-d integer or bool array as the Python int or bool PyTorch makes of it (an int
    0-d tensor is a selection, like an int; a bool one is a bool scalar)."""
    if backend.is_array(item) and item.ndim == 0:
        return bool(item) if item.dtype.kind == "b" else int(item)
    return item


def _dims_used(item) -> int:
    """How many dimensions of the indexed array ``item`` consumes."""
    if item is None or item is Ellipsis or isinstance(item, bool):
        return 0
    if backend.is_array(item) and item.dtype.kind == "b":
        return item.ndim  # a k-d mask covers k dimensions
    return 1


def plain_index(items: tuple) -> Index:
    """The plan for ``items`` that are all plain (``is_plain_item``): NumPy's basic indexing."""
    # a trailing Ellipsis makes NumPy return a 0-d view, not a copied scalar, for x[i, j]
    return Index(items if Ellipsis in items else items + (Ellipsis,), None)


def make_index(items: tuple, shape: tuple, xp) -> Index:
    """The plan for ``items`` (ints, slices, None, Ellipsis, bools, integer and bool arrays on
    the device of the array to index, of shape ``shape``; ``xp`` is its array module)."""
    ndim = len(shape)
    if all(is_plain_item(item) for item in items):  # the common case: x[t], x[:, 1:3]
        return plain_index(items)
    items = [_as_scalar(item) for item in items]
    for item in items:
        if not (is_plain_item(item) or isinstance(item, bool) or backend.is_array(item)):
            raise IndexError(
                f"only ints, slices, None, Ellipsis, bools and integer or bool tensors are valid indices, "
                f"got {type(item).__name__}"
            )
        if backend.is_array(item) and item.dtype.kind not in "bi":
            # PyTorch reads uint8 as a (deprecated) mask and refuses other unsigned types; NumPy reads integers
            hint = "; PyTorch reads uint8 as a (deprecated) mask: use bool or int64" if item.dtype.kind == "u" else ""
            raise IndexError(f"index arrays must be integer (int64, int32) or bool, got {item.dtype}{hint}")
    if sum(item is Ellipsis for item in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(_dims_used(item) for item in items)
    if used > ndim:
        raise IndexError(f"too many indices for a tensor of dimension {ndim}: the index covers {used}")
    basic, advanced = [], []
    dim = 0  # the dimension of the indexed array that the item applies to
    for item in items:
        if item is Ellipsis:
            basic += [slice(None)] * (ndim - used)
            advanced += [slice(None)] * (ndim - used)
            dim += ndim - used
        elif isinstance(item, bool):  # PyTorch: a new dimension of size 1, indexed by [0] (True) or [] (False)
            basic.append(None)
            advanced.append(xp.zeros(1 if item else 0, dtype=backend.int64))
        elif isinstance(item, int):  # a selection: its dimension is gone before the index arrays apply
            basic.append(item)
            dim += 1
        elif item is None:
            basic.append(item)
            advanced.append(slice(None))
        elif isinstance(item, slice):
            basic.append(item)
            advanced.append(slice(None))
            dim += 1
        elif item.dtype.kind == "b":  # a k-d mask is k index arrays (where it is True), as in PyTorch
            covered = tuple(shape[dim : dim + item.ndim])
            if item.shape != covered:  # checked here: nonzero() would lose the mask's shape
                raise IndexError(
                    f"the shape of the mask {item.shape} does not match the shape {covered} of the "
                    f"dimensions {dim}..{dim + item.ndim - 1} it indexes (tensor shape {tuple(shape)})"
                )
            basic += [slice(None)] * item.ndim
            advanced += list(item.nonzero())
            dim += item.ndim
        else:
            basic.append(slice(None))
            advanced.append(item)
            dim += 1
    while advanced and isinstance(advanced[-1], slice):
        advanced.pop()  # trailing ':' change nothing
    # no array left (x[np.array(0)] became x[0]): a basic index after all
    return Index(tuple(basic) + (Ellipsis,), tuple(advanced) if advanced else None)


def along_axis(index, axis: int, xp) -> Index:
    """The plan that reads ``out[i₀, ..., iₙ] = x[i₀, ..., index[i₀, ..., iₙ], ..., iₙ]`` (``index`` at
    position ``axis``): PyTorch's ``gather``, NumPy's ``take_along_axis``. ``index`` is an integer array
    with x's number of dimensions; every other dimension d is indexed by ``arange(index.shape[d])``
    shaped to lie along d, and all of them broadcast to ``index``'s shape. As a ``GetItem`` plan, its
    backward is the scatter-add of every read (an element read twice gets both gradients)."""
    arrays = []
    for d, n in enumerate(index.shape):
        if d == axis:
            arrays.append(index)
        else:
            arrays.append(xp.arange(n).reshape((1,) * d + (n,) + (1,) * (index.ndim - d - 1)))
    return Index((Ellipsis,), tuple(arrays))


def index_read(array, index: Index):
    """``array[index]`` with PyTorch's semantics: a view for a basic index, a copy otherwise."""
    view = array[index.basic]
    return view if index.advanced is None else view[index.advanced]


def index_write(array, index: Index, values) -> None:
    """In place: ``array[index] = values`` with PyTorch's semantics (``values``, an array or a
    number, broadcast to the shape ``index_read`` gives; for a repeated element the last write
    lands, as NumPy and PyTorch's CPU do)."""
    if index.advanced is None:
        array[index.basic] = values
    else:
        array[index.basic][index.advanced] = values  # the basic step is a view: the write lands in array


def index_add(array, index: Index, values) -> None:
    """In place: ``array[index] += values`` where an element named several times gets every
    contribution (``x[[0, 0]]`` adds twice: the backward of reading with repeats)."""
    view = array[index.basic]  # a view: adding into it adds into array
    if index.advanced is None:  # ints and slices never name an element twice
        view += values
    else:
        backend.scatter_add(view, index.advanced, values)
