"""Samplers, as ``torch.utils.data``'s: the order in which a ``DataLoader`` visits a dataset's indices
(all re-exported by ``tr.utils.data``).

Random samplers draw from a NumPy ``Generator``: the one given as ``generator=`` (for example
``np.random.default_rng(0)``, which then repeats on its own), or by default the framework's
global CPU generator, which ``tr.manual_seed`` seeds, so a seeded run shuffles the same way each
time while every epoch gets a fresh order. PyTorch takes a ``torch.Generator`` there instead.
"""

from __future__ import annotations

import operator

import numpy as np

from .. import backend
from ..tensor import Tensor

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]


def check_generator(caller: str, generator):
    """``generator`` itself when it can shuffle (None, or a NumPy ``Generator``); a TypeError otherwise."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if callable(getattr(generator, "permutation", None)) and callable(getattr(generator, "integers", None)):
        return generator  # anything with NumPy's Generator interface
    raise TypeError(
        f"{caller}: generator must be None (the global generator, seeded by tr.manual_seed) or a "
        f"numpy.random.Generator such as np.random.default_rng(0), got {type(generator).__name__}"
    )


def random_source(generator):
    """The generator to draw from now: ``generator``, or the global CPU one (looked up at each draw,
    so a ``tr.manual_seed`` in between takes effect)."""
    return backend.generator("cpu") if generator is None else generator


def _positive_int(caller: str, name: str, value) -> int:
    """``value`` as a positive int, refusing bools and floats, with a ValueError naming the argument."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or number <= 0:
        raise ValueError(f"{caller}: {name} must be a positive integer, got {name}={value!r}")
    return number


def _check_bool(caller: str, name: str, value) -> bool:
    """``value`` if it is a bool; a ValueError naming the argument otherwise (as PyTorch's samplers)."""
    if not isinstance(value, bool):
        raise ValueError(f"{caller}: {name} must be a bool, got {name}={value!r}")
    return value


class Sampler:
    """The base of samplers: iterating over one yields dataset indices (a batch sampler yields lists of
    them). Subclasses define ``__iter__``, and ``__len__`` when the count is known."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """The indices ``0, 1, ..., len(data_source) - 1`` in order (the ``DataLoader`` default)."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """The indices of ``data_source`` in a random order (``shuffle=True``): a new permutation on each
    iteration; with ``replacement=True``, ``num_samples`` independent uniform draws instead. Without
    replacement, a ``num_samples`` above the dataset's length goes through whole permutations, then
    part of one, as PyTorch's. ``generator``: see the module docstring."""

    def __init__(self, data_source, replacement: bool = False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = _check_bool("RandomSampler", "replacement", replacement)
        self._num_samples = num_samples
        self.generator = check_generator("RandomSampler", generator)
        _positive_int("RandomSampler", "num_samples", self.num_samples)

    @property
    def num_samples(self) -> int:
        """How many indices one iteration yields: ``len(data_source)`` unless given."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        size, count, rng = len(self.data_source), self.num_samples, random_source(self.generator)
        if self.replacement:
            yield from rng.integers(0, size, size=count).tolist()
            return
        for _ in range(count // size):
            yield from rng.permutation(size).tolist()
        if count % size:
            yield from rng.permutation(size)[: count % size].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices``, in a new random order on each iteration."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = check_generator("SubsetRandomSampler", generator)

    def __iter__(self):
        for i in random_source(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices ``0 .. len(weights) - 1``, index i drawn with probability proportional to
    ``weights[i]`` (a sequence, array or tensor of non-negative numbers, not all zero), with replacement
    unless ``replacement=False``."""

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        values = weights.numpy() if isinstance(weights, Tensor) else weights
        self.weights = np.asarray(values, dtype=np.float64)
        if self.weights.ndim != 1 or not np.isfinite(self.weights).all() or (self.weights < 0).any():
            raise ValueError(f"WeightedRandomSampler: weights must be a 1-D sequence of non-negative numbers, "
                             f"got shape {self.weights.shape}")
        if not self.weights.sum() > 0:
            raise ValueError("WeightedRandomSampler: weights must not all be zero")
        self.num_samples = _positive_int("WeightedRandomSampler", "num_samples", num_samples)
        self.replacement = _check_bool("WeightedRandomSampler", "replacement", replacement)
        if not replacement and self.num_samples > np.count_nonzero(self.weights):
            raise ValueError(f"WeightedRandomSampler: cannot draw num_samples={num_samples} without replacement "
                             f"from {np.count_nonzero(self.weights)} indices of nonzero weight")
        self.generator = check_generator("WeightedRandomSampler", generator)

    def __iter__(self):
        rng = random_source(self.generator)
        p = self.weights / self.weights.sum()
        yield from rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` (any iterable of indices) into lists of ``batch_size``; the
    last, shorter list is kept unless ``drop_last``. ``list(BatchSampler(range(5), 2, False))`` is
    ``[[0, 1], [2, 3], [4]]``."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        self.sampler = sampler
        self.batch_size = _positive_int("BatchSampler", "batch_size", batch_size)
        self.drop_last = _check_bool("BatchSampler", "drop_last", drop_last)

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        count = len(self.sampler)
        return count // self.batch_size if self.drop_last else -(-count // self.batch_size)
