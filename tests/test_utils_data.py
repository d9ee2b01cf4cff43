"""``tr.utils.data``: datasets, samplers, ``DataLoader`` and collation, against PyTorch's
``torch.utils.data`` where it is installed (those comparisons skip cleanly without it)."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest

import tinygrad_rnn as tr
import tinygrad_rnn.utils.data as data
from tinygrad_rnn import nn
from tinygrad_rnn.utils import collate, samplers
from tinygrad_rnn.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Subset,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)

Point = collections.namedtuple("Point", ["x", "y"])


def values(batches) -> list:
    """The batches of a loader over ``range``-like data as plain lists of ints."""
    return [batch.tolist() for batch in batches]


class Stream(IterableDataset):
    """The numbers ``0 .. n - 1`` as a stream, with a ``__len__`` when ``sized``."""

    def __init__(self, n: int, sized: bool = True):
        self.n, self.sized = n, sized

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.sized:
            raise TypeError("Stream has no length")
        return self.n


# ------------------------------------------------------------------ datasets
def test_tensor_dataset_indexes_every_tensor_along_dimension_0():
    x, y = tr.arange(10.0).reshape(5, 2), tr.arange(5)
    dataset = TensorDataset(x, y)
    assert len(dataset) == 5
    sample = dataset[3]
    assert isinstance(sample, tuple) and sample[0].tolist() == [6.0, 7.0] and sample[1].item() == 3


@pytest.mark.parametrize(
    "tensors, error, match",
    [
        ((tr.zeros(5, 2), tr.zeros(4)), ValueError, r"same size in dimension 0 .* got shapes \(5, 2\), \(4,\)"),
        ((), ValueError, "at least one tensor"),
        ((tr.zeros(3), np.zeros(3)), TypeError, r"tensors\[1\] is a ndarray, expected a Tensor"),
        ((tr.zeros(3), tr.tensor(1.0)), ValueError, r"tensors\[1\] is 0-d"),
    ],
)
def test_tensor_dataset_errors_name_the_tensors(tensors, error, match):
    with pytest.raises(error, match=f"TensorDataset: .*{match}"):
        TensorDataset(*tensors)


def test_subset_concat_and_the_base_classes():
    dataset = TensorDataset(tr.arange(6))
    subset = Subset(dataset, [5, 1, 3])
    assert len(subset) == 3 and subset[0][0].item() == 5 and subset[[0, 2]][0].tolist() == [5, 3]
    both = Subset(range(3), [2]) + ConcatDataset([[10, 11]])
    assert isinstance(both, ConcatDataset) and len(both) == 3 and [both[i] for i in range(3)] == [2, 10, 11]
    assert both[-1] == 11
    with pytest.raises(IndexError, match="index 3 is out of range for 3 samples"):
        both[3]
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="must define __iter__"):
        iter(IterableDataset())
    assert list(Stream(2) + Stream(3)) == [0, 1, 0, 1, 2] and len(Stream(2) + Stream(3)) == 5


# ------------------------------------------------------------------ DataLoader: batches and lengths
@pytest.mark.parametrize("n", [0, 1, 5, 6, 7])
@pytest.mark.parametrize("batch_size", [1, 2, 3, 8])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batches_in_order_and_len_counts_them(n, batch_size, drop_last):
    loader = DataLoader(TensorDataset(tr.arange(n)), batch_size=batch_size, drop_last=drop_last)
    batches = [batch for (batch,) in loader]
    expected = (n // batch_size) if drop_last else math.ceil(n / batch_size)
    assert len(loader) == len(batches) == expected
    flat = [v for batch in batches for v in batch.tolist()]
    assert flat == list(range(len(flat)))  # in order, nothing skipped but the dropped tail
    assert all(batch.shape == (batch_size,) for batch in batches[:-1])
    assert len(flat) == (n - n % batch_size if drop_last else n)


def test_len_and_batch_sizes_match_pytorch():
    torch_data = pytest.importorskip("torch.utils.data")
    for n, batch_size, drop_last in [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True)]:
        ours = DataLoader(list(range(n)), batch_size=batch_size, drop_last=drop_last)
        theirs = torch_data.DataLoader(list(range(n)), batch_size=batch_size, drop_last=drop_last)
        assert len(ours) == len(theirs)
        assert values(ours) == [batch.tolist() for batch in theirs]


def test_shuffle_repeats_under_manual_seed_and_differs_between_epochs():
    loader = DataLoader(list(range(20)), batch_size=4, shuffle=True)
    tr.manual_seed(3)
    first = [values(loader), values(loader)]
    tr.manual_seed(3)
    again = [values(loader), values(loader)]
    assert first == again
    assert first[0] != first[1]  # a new order each epoch
    assert all(sorted(v for batch in epoch for v in batch) == list(range(20)) for epoch in first)
    assert values(DataLoader(list(range(6)), batch_size=4)) == [[0, 1, 2, 3], [4, 5]]  # no shuffle: in order


def test_a_numpy_generator_decides_the_order_and_leaves_the_global_one_alone():
    def order(seed):
        return values(DataLoader(list(range(12)), batch_size=5, shuffle=True, generator=np.random.default_rng(seed)))

    tr.manual_seed(0)
    expected_draw = tr.rand(3).tolist()
    tr.manual_seed(0)
    first = order(7)
    assert tr.rand(3).tolist() == expected_draw  # the global generator was not used
    assert order(7) == first and order(8) != first
    with pytest.raises(TypeError, match="DataLoader: generator must be None .* or a numpy.random.Generator"):
        DataLoader([1], shuffle=True, generator=7)


def test_batch_size_none_gives_samples_one_by_one_through_default_convert():
    samples = [(np.array([1, 2], dtype=np.int32), 1.5, "a")]
    (sample,) = list(DataLoader(samples, batch_size=None))
    assert isinstance(sample, list)  # a tuple becomes a list, as in PyTorch
    assert isinstance(sample[0], tr.Tensor) and sample[0].dtype == tr.int32 and sample[0].tolist() == [1, 2]
    assert sample[1:] == [1.5, "a"]  # Python numbers and strings stay as they are
    assert len(DataLoader(samples, batch_size=None)) == 1
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching .* drop_last"):
        DataLoader(samples, batch_size=None, drop_last=True)


def test_samplers_batch_samplers_and_collate_fn_are_used():
    dataset = list(range(5))
    assert values(DataLoader(dataset, batch_size=2, sampler=[4, 3, 2, 1, 0])) == [[4, 3], [2, 1], [0]]
    loader = DataLoader(dataset, batch_sampler=[[0, 1], [4]])
    assert values(loader) == [[0, 1], [4]] and len(loader) == 2
    assert list(DataLoader(dataset, batch_size=2, collate_fn=lambda batch: batch)) == [[0, 1], [2, 3], [4]]

    class Batched(Dataset):  # PyTorch's hook for fetching a whole batch at once
        def __getitems__(self, indices):
            return [10 * i for i in indices]

        def __len__(self):
            return 3

    assert values(DataLoader(Batched(), batch_size=2)) == [[0, 10], [20]]


@pytest.mark.parametrize(
    "options, match",
    [
        ({"sampler": [0], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
        ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive with batch_size"),
        ({"batch_sampler": [[0]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
        ({"batch_size": 0}, r"BatchSampler: batch_size must be a positive integer, got batch_size=0"),
        ({"batch_size": 2, "drop_last": 1}, r"BatchSampler: drop_last must be a bool, got drop_last=1"),
        ({"timeout": -1}, "timeout option should be non-negative"),
        ({"prefetch_factor": 2}, r"prefetch_factor=2 needs worker processes \(num_workers > 0\)"),
        ({"persistent_workers": True}, "persistent_workers=True needs worker processes"),
    ],
)
def test_inconsistent_options_raise_value_errors_naming_them(options, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(list(range(4)), **options)


@pytest.mark.parametrize("workers", [1, 4, -1])
def test_worker_processes_are_refused_never_ignored(workers):
    with pytest.raises(ValueError, match=f"num_workers={workers}: worker processes are not supported;.* num_workers=0"):
        DataLoader(list(range(4)), num_workers=workers)


def test_pin_memory_is_accepted_and_changes_nothing():
    loader = DataLoader(TensorDataset(tr.arange(5)), batch_size=2, pin_memory=True, pin_memory_device="cuda")
    assert [batch.tolist() for (batch,) in loader] == [[0, 1], [2, 3], [4]] and loader.pin_memory


def test_iterable_datasets_are_batched_in_their_own_order():
    assert values(DataLoader(Stream(7), batch_size=3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert values(DataLoader(Stream(7), batch_size=3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert list(DataLoader(Stream(2), batch_size=None)) == [0, 1]
    assert len(DataLoader(Stream(7), batch_size=3)) == 3
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    with pytest.raises(TypeError, match="no length"):
        len(DataLoader(Stream(7, sized=False), batch_size=3))
    with pytest.raises(ValueError, match="IterableDataset: expected unspecified shuffle option, but got shuffle=True"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Stream(3), sampler=[0, 1])


def test_batches_are_made_on_the_default_device(each_device):
    loader = DataLoader(TensorDataset(tr.randn(5, 3), tr.arange(5)), batch_size=2)
    for x, y in loader:
        assert x.device == y.device == tr.get_default_device()
    numbers = next(iter(DataLoader([1.5, 2.5], batch_size=2)))
    assert numbers.device == tr.get_default_device() and numbers.dtype == tr.float64


def test_a_pytorch_style_training_loop_runs_unchanged():
    x = tr.randn(32, 3)
    y = x @ tr.tensor([[1.0], [-2.0], [0.5]])
    model = nn.Linear(3, 1)
    optimizer = tr.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, num_workers=0, pin_memory=False)

    def loss_on_all():
        with tr.no_grad():
            return ((model(x) - y) ** 2).mean().item()

    before = loss_on_all()
    for _ in range(5):
        for xb, yb in loader:
            loss = ((model(xb) - yb) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert loss_on_all() < before / 4


# ------------------------------------------------------------------ collation
def test_default_collate_dtypes_and_structures():
    assert default_collate([1.5, 2.0]).dtype == tr.float64  # Python floats: float64, as PyTorch's default_collate
    assert default_collate([1, 2]).dtype == tr.int64
    assert default_collate([True, False]).dtype == tr.bool
    assert default_collate([np.float32(1), np.float32(2)]).dtype == tr.float32
    assert default_collate(["a", "b"]) == ["a", "b"]
    ints, letters = default_collate([(1, "a"), (2, "b")])
    assert ints.tolist() == [1, 2] and letters == ("a", "b")
    point = default_collate([Point(tr.zeros(2), 1), Point(tr.ones(2), 2)])
    assert isinstance(point, Point) and point.x.shape == (2, 2) and point.y.tolist() == [1, 2]
    batch = default_collate([{"x": np.zeros(3, np.float32), "n": 0}, {"x": np.ones(3, np.float32), "n": 1}])
    assert batch["x"].shape == (2, 3) and batch["x"].dtype == tr.float32 and batch["n"].tolist() == [0, 1]


@pytest.mark.parametrize(
    "batch, error, match",
    [
        ([object()], TypeError, "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists"),
        ([np.array(["a"])], TypeError, "found <U1"),
        ([[1, 2], [3]], RuntimeError, "each element in list of batch should be of equal size"),
    ],
)
def test_default_collate_errors(batch, error, match):
    with pytest.raises(error, match=match):
        default_collate(batch)


COLLATE_CASES = {
    "python floats": lambda lib: [1.5, 2.0],
    "python ints": lambda lib: [1, 2],
    "bools": lambda lib: [True, False],
    "an int then a float": lambda lib: [1, 2.5],
    "a float then an int": lambda lib: [1.5, 2],
    "numpy float32 scalars": lambda lib: [np.float32(1), np.float32(2)],
    "numpy int32 scalars": lambda lib: [np.int32(1), np.int32(2)],
    "numpy float16 scalars": lambda lib: [np.float16(1), np.float16(2)],
    "numpy int16 arrays": lambda lib: [np.array([1, 2], dtype=np.int16), np.array([3, 4], dtype=np.int16)],
    "0-d numpy arrays": lambda lib: [np.array(1.0), np.array(2.0)],
    "strings": lambda lib: ["a", "b"],
    "bytes": lambda lib: [b"a", b"b"],
    "numpy strings": lambda lib: [np.str_("a"), np.str_("b")],
    "tuples": lambda lib: [(1, "a", 0.5), (2, "b", 1.5)],
    "lists": lambda lib: [[1, 2], [3, 4]],
    "dicts": lambda lib: [{"x": 1.0, "y": [1, 2]}, {"x": 2.0, "y": [3, 4]}],
    "namedtuples": lambda lib: [Point(1, 2.0), Point(3, 4.0)],
    "tensors": lambda lib: [lib.ones(2, 3), lib.zeros(2, 3)],
    "int tensors in dicts": lambda lib: [{"t": lib.arange(3)}, {"t": lib.arange(3)}],
    "tensor and label pairs": lambda lib: [(lib.ones(2), 0), (lib.zeros(2), 1)],
}


def _describe(value, tensor_types) -> tuple:
    """A value in a form that compares across frameworks: tensors by dtype name, shape and values."""
    if isinstance(value, tensor_types):
        return ("tensor", str(value.dtype).removeprefix("torch."), tuple(value.shape), value.numpy().tolist())
    if isinstance(value, dict):
        return ("dict", {key: _describe(item, tensor_types) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_describe(item, tensor_types) for item in value])
    return (type(value).__name__, value)


@pytest.mark.parametrize("case", list(COLLATE_CASES))
def test_default_collate_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    types = (tr.Tensor, torch.Tensor)
    ours, theirs = default_collate(COLLATE_CASES[case](tr)), torch_collate(COLLATE_CASES[case](torch))
    assert _describe(ours, types) == _describe(theirs, types)


@pytest.mark.parametrize("case", ["python floats", "numpy int16 arrays", "0-d numpy arrays", "tuples", "dicts"])
def test_default_convert_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_convert as torch_convert

    types = (tr.Tensor, torch.Tensor)
    for sample in COLLATE_CASES[case](tr):
        assert _describe(default_convert(sample), types) == _describe(torch_convert(sample), types)


# ------------------------------------------------------------------ random_split and samplers
def test_random_split_counts_fractions_and_reproducibility():
    tr.manual_seed(1)
    parts = random_split(range(10), [3, 7])
    assert [len(p) for p in parts] == [3, 7] and all(isinstance(p, Subset) for p in parts)
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    tr.manual_seed(1)
    assert random_split(range(10), [3, 7])[0].indices == parts[0].indices
    assert [len(p) for p in random_split(range(10), [0.3, 0.3, 0.4])] == [3, 3, 4]
    assert [len(p) for p in random_split(range(11), [0.5, 0.5])] == [6, 5]  # the extra one goes to the first
    first = random_split(range(10), [5, 5], generator=np.random.default_rng(2))
    assert random_split(range(10), [5, 5], generator=np.random.default_rng(2))[0].indices == first[0].indices
    with pytest.warns(UserWarning, match="length of split at index 1 is 0"):
        random_split(range(2), [1.0, 0.0])


@pytest.mark.parametrize(
    "lengths, match",
    [([3, 3], "the lengths add up to 6, but the dataset has 10 samples"), ([-1, 11], "non-negative integers"),
     ([1.5, 8.5], "non-negative integers, or fractions"), ([1.2, -0.2], r"fraction lengths\[0\]=1.2")],
)
def test_random_split_errors(lengths, match):
    with pytest.raises(ValueError, match=f"random_split: .*{match}"):
        random_split(range(10), lengths)


def test_random_samplers():
    tr.manual_seed(0)
    draws = list(RandomSampler(range(4), replacement=True, num_samples=50))
    assert len(draws) == 50 and set(draws) <= set(range(4))
    twice = list(RandomSampler(range(4), num_samples=8))  # whole permutations when asked for more than len
    assert sorted(twice[:4]) == sorted(twice[4:]) == [0, 1, 2, 3]
    weighted = list(WeightedRandomSampler(tr.tensor([1.0, 0.0, 3.0]), 40))
    assert len(weighted) == 40 and 1 not in weighted
    assert sorted(WeightedRandomSampler([1, 1, 1], 3, replacement=False)) == [0, 1, 2]
    assert list(samplers.SubsetRandomSampler([7], generator=np.random.default_rng(0))) == [7]
    assert list(BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="RandomSampler: num_samples must be a positive integer, got num_samples=0"):
        RandomSampler([])
    with pytest.raises(ValueError, match="cannot draw num_samples=3 without replacement from 2 indices"):
        WeightedRandomSampler([1, 0, 1], 3, replacement=False)
    with pytest.raises(ValueError, match="WeightedRandomSampler: weights must not all be zero"):
        WeightedRandomSampler([0, 0], 1)


# ------------------------------------------------------------------ the package
def test_names_are_where_pytorch_has_them_and_documented():
    assert tr.utils.data is data and tr.utils.data.DataLoader is DataLoader
    for module in (data, samplers, collate):
        assert module.__doc__
        for name in module.__all__:
            assert getattr(module, name).__doc__, f"{module.__name__}.{name} has no docstring"
            assert getattr(data, name) is getattr(module, name)
