"""Datasets and mini-batches, as ``torch.utils.data``: a script written for PyTorch runs with its
imports changed (``from tinygrad_rnn.utils.data import DataLoader, TensorDataset``).

    dataset = TensorDataset(inputs, targets)           # samples are (inputs[i], targets[i])
    train, val = random_split(dataset, [0.9, 0.1])
    for x, y in DataLoader(train, batch_size=32, shuffle=True, drop_last=True):
        ...

Differences from PyTorch, each deliberate:

- ``num_workers`` must be 0: there are no worker processes, and any other value raises
  ``ValueError`` rather than being ignored. Batches are made in the calling process.
- ``pin_memory`` (and ``pin_memory_device``) are accepted and do nothing: there is no pinned memory
  here; tensors go to the default device when they are made.
- ``generator=`` takes a NumPy ``Generator`` (``np.random.default_rng(seed)``) instead of a
  ``torch.Generator``; without one, shuffling draws from the global CPU generator, which
  ``tr.manual_seed`` seeds, so a seeded run shuffles the same way every time (and each epoch
  differently).
- ``TensorDataset`` raises ``ValueError`` (not ``AssertionError``) when its tensors differ in length.

Samplers are in ``samplers.py`` and collation in ``collate.py``; all their names are here too. The
PyTorch names missing here (``DistributedSampler``, DataPipes, the ``dataset``/``sampler`` submodules)
are listed in ``unsupported.py``: touching one raises an ``AttributeError`` saying what to use instead.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
import warnings

from ..tensor import Tensor
from ..unsupported import module_getattr as _module_getattr
from .collate import default_collate, default_convert
from .samplers import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
    check_generator,
    random_source,
)

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]

__getattr__ = _module_getattr(__name__)  # a missing PyTorch name says what to use instead (unsupported.py)


# ------------------------------------------------------------------ datasets
class Dataset:
    """A map-style dataset: subclasses define ``__getitem__`` (``dataset[i]`` is sample ``i``) and
    ``__len__`` (how many samples there are). ``a + b`` is their ``ConcatDataset``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__ (and __len__)")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream: subclasses define ``__iter__``, which yields the samples (and may
    define ``__len__``). A ``DataLoader`` batches them in order; it takes no ``shuffle`` or sampler
    for it. ``a + b`` is their ``ChainDataset``."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Sample ``i`` is ``tuple(t[i] for t in tensors)``: tensors indexed along their first dimension,
    which must have one size for all of them (``ValueError`` naming the shapes otherwise)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: tensors[{i}] is a {type(t).__name__}, expected a Tensor "
                                "(tr.tensor(...) or tr.from_numpy(...) makes one)")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensors[{i}] is 0-d; each tensor needs a first dimension, "
                                 "which indexes the samples")
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"TensorDataset: all tensors must have the same size in dimension 0 (the number "
                             f"of samples), got shapes {shapes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class ConcatDataset(Dataset):
    """The samples of several map-style datasets, one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset (ChainDataset chains them)")
        self.cumulative_sizes = list(itertools.accumulate(len(dataset) for dataset in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        index = operator.index(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"ConcatDataset: index {index} is out of range for {len(self)} samples")
        index %= len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        return self.datasets[which][index - (self.cumulative_sizes[which - 1] if which else 0)]


class ChainDataset(IterableDataset):
    """The samples of several iterable datasets, one stream after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for dataset in self.datasets:
            yield from dataset

    def __len__(self) -> int:
        return sum(len(dataset) for dataset in self.datasets)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``: ``subset[i]`` is ``dataset[indices[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class StackDataset(Dataset):
    """Several map-style datasets of one length side by side, as ``torch.utils.data.StackDataset``:
    ``StackDataset(a, b)[i]`` is ``(a[i], b[i])``, ``StackDataset(x=a, y=b)[i]`` is
    ``{"x": a[i], "y": b[i]}``. ``ValueError`` for no dataset, for both forms at once, or for
    datasets of different lengths."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: give the datasets either as arguments (samples are tuples) or as "
                             "keywords (samples are dicts), not both")
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        datasets = list(args or kwargs.values())
        self._length = len(datasets[0])
        if any(len(dataset) != self._length for dataset in datasets):
            lengths = ", ".join(str(len(dataset)) for dataset in datasets)
            raise ValueError(f"StackDataset: size mismatch between datasets (lengths {lengths})")
        self.datasets = args or kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __len__(self) -> int:
        return self._length


def get_worker_info():
    """``None``, as ``torch.utils.data.get_worker_info()`` returns in the main process: batches are
    always made in the calling process here (``num_workers`` must be 0), so a dataset that splits its
    work between workers when this is not None takes its single-process road."""
    return None


def random_split(dataset, lengths, generator=None) -> list:
    """``dataset`` split at random into non-overlapping ``Subset``s of the given ``lengths``, as
    ``torch.utils.data.random_split``. ``lengths`` are counts that add up to ``len(dataset)``, or
    fractions that add up to 1 (each split gets ``floor(fraction * len)`` samples, and the few left
    over go one each to the first splits). The permutation comes from ``generator`` (a NumPy
    ``Generator``) or, by default, the global CPU generator that ``tr.manual_seed`` seeds.
    """
    generator = check_generator("random_split", generator)
    lengths = lengths_given = list(lengths)
    total = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: the fraction lengths[{i}]={fraction} is not between 0 and 1")
        counts = [math.floor(total * fraction) for fraction in lengths]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; it will be an empty Subset",
                              stacklevel=2)
        lengths = counts
    try:
        if any(isinstance(n, bool) for n in lengths):
            raise TypeError
        lengths = [operator.index(n) for n in lengths]
    except TypeError:
        lengths = [-1]
    if any(n < 0 for n in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers, or fractions adding up to 1, "
                         f"got {lengths_given}")
    if sum(lengths) != total:
        raise ValueError(f"random_split: the lengths add up to {sum(lengths)}, but the dataset has {total} samples")
    order = random_source(generator).permutation(total).tolist()
    ends = list(itertools.accumulate(lengths))
    return [Subset(dataset, order[end - n : end]) for end, n in zip(ends, lengths)]


# ------------------------------------------------------------------ DataLoader
class _InfiniteConstantSampler(Sampler):
    """The sampler of an ``IterableDataset``, whose samples come in their own order: ``None`` forever."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Batches of a dataset, in PyTorch's signature: ``for x, y in DataLoader(dataset, batch_size=32,
    shuffle=True): ...``. ``len(loader)`` is the number of batches.

    Each batch is ``collate_fn([dataset[i] for i in indices])`` (``default_collate`` unless given),
    for the lists of indices a ``BatchSampler`` makes of ``sampler`` (sequential, or random with
    ``shuffle=True``), or those of ``batch_sampler``. ``drop_last`` drops a last, smaller batch.
    ``batch_size=None`` turns batching off: each sample comes alone, through ``default_convert``
    (NumPy arrays become tensors; Python numbers stay numbers). An ``IterableDataset`` is read in
    its own order, ``batch_size`` samples at a time.

    ``shuffle``, ``sampler`` and ``batch_sampler`` are refused together as PyTorch refuses them. The
    module docstring lists what differs: ``num_workers`` must be 0 (``ValueError`` otherwise),
    ``pin_memory`` is a no-op, and ``generator`` is a NumPy ``Generator``. ``timeout``,
    ``worker_init_fn``, ``multiprocessing_context``, ``prefetch_factor`` and ``persistent_workers``
    concern worker processes, so they are checked as PyTorch checks them with ``num_workers=0``,
    and otherwise unused.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        _check_single_process(num_workers, timeout, multiprocessing_context, prefetch_factor, persistent_workers)
        generator = check_generator("DataLoader", generator)
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value is not None and value is not False:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, "
                                     f"but got {name}={value!r}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            else:
                sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.pin_memory, self.pin_memory_device = num_workers, pin_memory, pin_memory_device
        self.timeout, self.worker_init_fn = timeout, worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor, self.persistent_workers, self.in_order = prefetch_factor, persistent_workers, in_order
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        """Whether samples are grouped into batches (``batch_size`` or ``batch_sampler`` given)."""
        return self.batch_sampler is not None

    def __iter__(self):
        """An iterator over the batches; a shuffled loader draws a new order each time."""
        if isinstance(self.dataset, IterableDataset):
            return self._stream_batches()
        return self._map_batches()

    def _map_batches(self):
        if not self._auto_collation:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        get_many = getattr(self.dataset, "__getitems__", None)  # PyTorch's hook for fetching a batch at once
        for indices in self.batch_sampler:
            samples = get_many(indices) if get_many is not None else [self.dataset[i] for i in indices]
            yield self.collate_fn(samples)

    def _stream_batches(self):
        samples = iter(self.dataset)
        if not self._auto_collation:
            for sample in samples:
                yield self.collate_fn(sample)
            return
        while batch := list(itertools.islice(samples, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        """The number of batches (of samples with ``batch_size=None``); for an ``IterableDataset``, from
        its ``__len__`` (``TypeError`` without one)."""
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self.batch_sampler if self._auto_collation else self.sampler)


def _check_single_process(num_workers, timeout, multiprocessing_context, prefetch_factor, persistent_workers):
    """Refuse worker processes, and the options that need them, with a ValueError naming the argument."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, int):
        raise TypeError(f"DataLoader: num_workers must be an integer, got {num_workers!r}")
    if num_workers != 0:
        raise ValueError(f"DataLoader: num_workers={num_workers}: worker processes are not supported; use "
                         "num_workers=0 (batches are then made in this process)")
    if timeout < 0:
        raise ValueError(f"DataLoader: timeout option should be non-negative, got timeout={timeout!r}")
    for name, value, unset in (("multiprocessing_context", multiprocessing_context, None),
                               ("prefetch_factor", prefetch_factor, None),
                               ("persistent_workers", persistent_workers, False)):
        if value != unset:
            raise ValueError(f"DataLoader: {name}={value!r} needs worker processes (num_workers > 0), which are "
                             f"not supported; leave it as {unset!r}")
