"""Turning samples into batches, as ``torch.utils.data``'s ``default_collate`` and ``default_convert``
(both re-exported by ``tr.utils.data``), type for type and dtype for dtype:

- Tensors are stacked (``tr.stack``) along a new first dimension;
- NumPy arrays become tensors of their own dtype, then are stacked; NumPy scalars become a 1-D
  tensor of their dtype; arrays of strings or objects raise ``TypeError``;
- Python floats become a float64 tensor (not float32: PyTorch's ``default_collate`` does this), ints
  int64, bools bool (a batch that starts with an int and holds a float is float32, as ``tr.tensor``);
- strings and bytes are left as they are: the batch's list (or tuple) of them;
- dicts (any mapping) are collated key by key, namedtuples field by field, and other sequences
  position by position; a tuple of samples becomes a *list* of collated fields, as in PyTorch.

Tensors are made on the default device (``tr.set_default_device``), as ``torch.tensor`` makes them.
"""

from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from .. import backend
from ..creation import tensor
from ..tensor import Tensor, stack

__all__ = ["default_collate", "default_convert"]

_STRINGS_OR_OBJECTS = re.compile(r"[SaUO]")  # NumPy dtype codes that no tensor holds
_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_numpy_value(value) -> bool:
    """A NumPy array or scalar other than a NumPy string (``np.str_`` is a ``str``)."""
    return isinstance(value, np.ndarray) or (
        backend.is_numpy_scalar(value) and not isinstance(value, np.str_ | np.bytes_)
    )


def default_convert(data):
    """One sample as a ``DataLoader`` with ``batch_size=None`` gives it: NumPy arrays and scalars become
    tensors (dtype kept), inside dicts, namedtuples, lists and tuples too (a tuple becomes a list, as in
    PyTorch); everything else, Python numbers and tensors included, is returned unchanged."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy_value(data):
        if isinstance(data, np.ndarray) and _STRINGS_OR_OBJECTS.search(data.dtype.str):
            return data
        return tensor(data)
    return _map_structure(data, default_convert) if _is_structure(data) else data


def _is_structure(data) -> bool:
    """A container whose items ``default_convert`` converts one by one."""
    return isinstance(data, collections.abc.Mapping) or (
        isinstance(data, collections.abc.Sequence) and not isinstance(data, str | bytes)
    )


def _map_structure(data, convert):
    """``data`` (a mapping or a sequence) with ``convert`` applied to each item, its type kept where it can be."""
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: convert(data[key]) for key in data})
    if isinstance(data, tuple):
        items = [convert(item) for item in data]
        return type(data)(*items) if hasattr(data, "_fields") else items  # namedtuples stay, tuples become lists
    return _rebuild_sequence(data, [convert(item) for item in data])


def _rebuild_mapping(template, values: dict):
    """A mapping of ``template``'s type (a copy, for mutable ones) holding ``values``, or a dict if that fails."""
    try:
        if isinstance(template, collections.abc.MutableMapping):
            clone = copy.copy(template)
            clone.update(values)
            return clone
        return type(template)(values)
    except TypeError:
        return values


def _rebuild_sequence(template, items: list):
    """A sequence of ``template``'s type holding ``items``, or a list if that fails."""
    try:
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(template)(items)
    except TypeError:
        return items


def default_collate(batch):
    """The samples of ``batch`` (a list) combined into one batch, as ``torch.utils.data.default_collate``:
    see the module docstring for what each type becomes. ``default_collate([(x0, 0), (x1, 1)])`` is
    ``[tr.stack([x0, x1]), tr.tensor([0, 1])]``.

    Raises ``TypeError`` for samples of another type (naming it) and ``RuntimeError`` when sequences
    in one batch differ in length, as PyTorch does.
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if _STRINGS_OR_OBJECTS.search(elem.dtype.str):
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return default_collate([tensor(array) for array in batch])
    if _is_numpy_value(elem):  # NumPy scalars: one 1-D tensor of their dtype
        return tensor(np.asarray(batch))
    if isinstance(elem, float):
        return tensor(list(batch), dtype=backend.float64)
    if isinstance(elem, int):  # bools too: tr.tensor makes them bool, and ints int64
        return tensor(list(batch))
    if isinstance(elem, str | bytes):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: default_collate([sample[key] for sample in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(field) for field in zip(*batch)]  # each field a tuple, as in PyTorch
        return fields if isinstance(elem, tuple) else _rebuild_sequence(elem, fields)
    raise TypeError(_COLLATE_ERROR.format(type(elem)))
