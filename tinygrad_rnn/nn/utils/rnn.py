"""Batches of sequences of different lengths, as ``torch.nn.utils.rnn``: padding them into one
tensor, and packing them into a ``PackedSequence`` (only the real steps, time-major).

A packed batch of sequences of lengths L₀ ≥ L₁ ≥ ... (sorted longest first) holds, for each time
step t, the step-t elements of the sequences still running: ``data`` (ΣLᵢ, *) is
[x₀(0), x₁(0), ..., x₀(1), x₁(1), ..., ...] and ``batch_sizes[t]`` = #{i : Lᵢ > t}. When the batch
was not sorted, ``sorted_indices[j]`` is the batch position of the j-th longest sequence and
``unsorted_indices`` its inverse, so unpacking gives the original order back.

Every function here is differentiable: each is one gather (an index into the input) and at most
one ``cat``, so gradients flow back through packing, padding and unpacking, and each costs O(1)
graph nodes whatever the lengths. Layouts, index dtypes (int64) and devices (``batch_sizes`` on
the CPU, the indices on the data's device) are PyTorch's.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import creation
from ...tensor import Tensor, cat

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
    "pad_sequence", "unpack_sequence", "unpad_sequence",
]


def _host(values) -> np.ndarray:
    """A tensor, array or list as a NumPy array on the host."""
    return values.numpy() if isinstance(values, Tensor) else np.asarray(values)


def _index(array: np.ndarray, device: str) -> Tensor:
    return creation.tensor(np.ascontiguousarray(array, dtype=np.int64), device=device)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse permutation: out[permutation[i]] = i (None stays None)."""
    if permutation is None:
        return None
    order = _host(permutation)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return _index(inverse, permutation.device)


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A packed batch (see the module's docstring): ``data`` (ΣLᵢ, *), ``batch_sizes`` (T,) int64 on the CPU,
    ``sorted_indices`` and ``unsorted_indices`` (B,) int64 on the data's device, or None for a batch that was
    already sorted. Make one with ``pack_padded_sequence`` or ``pack_sequence``, not by hand; as in PyTorch,
    ``PackedSequence(data, batch_sizes, sorted_indices)`` fills in ``unsorted_indices``."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)), as PyTorch allows
            if not (isinstance(data, list | tuple) and len(data) == 2):
                raise TypeError("PackedSequence: give data and batch_sizes, or one (data, batch_sizes) pair")
            data, batch_sizes = data
        if not isinstance(batch_sizes, Tensor) or batch_sizes.device != "cpu":
            raise ValueError("PackedSequence: batch_sizes must be a tensor on the CPU; make packed sequences with "
                             "pack_padded_sequence or pack_sequence rather than by hand")
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """``data.to(...)`` (a device and/or dtype); the indices follow the data's device, ``batch_sizes``
        stays on the CPU. Returns self when nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def move(indices):
            return None if indices is None else indices.to(data.device)

        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cpu(self) -> PackedSequence:
        """On the CPU."""
        return self.to("cpu")

    def cuda(self, device=None) -> PackedSequence:
        """On a CUDA GPU."""
        return self.to(f"cuda:{device}" if isinstance(device, int) else (device or "cuda"))

    def float(self) -> PackedSequence:
        """``data`` as float32."""
        return self.to(dtype="float32")

    def double(self) -> PackedSequence:
        """``data`` as float64."""
        return self.to(dtype="float64")

    def half(self) -> PackedSequence:
        """``data`` as float16."""
        return self.to(dtype="float16")

    def long(self) -> PackedSequence:
        """``data`` as int64."""
        return self.to(dtype="int64")

    def int(self) -> PackedSequence:
        """``data`` as int32."""
        return self.to(dtype="int32")

    @property
    def is_cuda(self) -> bool:
        """Whether ``data`` is on a CUDA GPU."""
        return self.data.device.startswith("cuda")


def _lengths(name: str, lengths) -> np.ndarray:
    """``lengths`` (a list, tuple, array or tensor) as a 1-D int64 host array of whole numbers."""
    host = _host(lengths)
    if host.dtype.kind == "f" and np.all(np.isfinite(host)) and np.all(host == np.floor(host)):
        host = host.astype(np.int64)  # whole-number floats are accepted, as PyTorch casts them
    if host.dtype.kind not in "iu":
        raise TypeError(f"{name}: lengths must be whole numbers, one per sequence, got dtype {host.dtype}")
    if host.ndim != 1:
        raise ValueError(f"{name}: lengths must be 1-D, one per sequence, got shape {host.shape}")
    return host.astype(np.int64)


def _packed_positions(batch_sizes: np.ndarray, sorted_indices) -> tuple:
    """For each row of a packed ``data``, its time step and its sequence's position in the batch."""
    steps = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    ranks = np.concatenate([np.arange(size) for size in batch_sizes]) if batch_sizes.size else steps
    columns = ranks if sorted_indices is None else _host(sorted_indices)[ranks]
    return steps, columns


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``input`` (T, B, *) (or (B, T, *) with ``batch_first``) of sequences of
    ``lengths`` (B,) (each in [1, T]). With ``enforce_sorted`` the lengths must be in decreasing order
    and ``sorted_indices`` is None; otherwise the batch is sorted longest first (a stable sort: ties keep
    their order, as PyTorch's) and the permutation is kept, so unpacking restores the order."""
    name = "pack_padded_sequence"
    lengths = _lengths(name, lengths)
    batch_dim, time_dim = (0, 1) if batch_first else (1, 0)
    if input.ndim < 2:
        raise ValueError(f"{name}: input must have a time and a batch dim, got shape {input.shape}")
    if lengths.size != input.shape[batch_dim]:
        raise ValueError(f"{name}: expected one length per sequence ({input.shape[batch_dim]}), got {lengths.size}")
    if lengths.size == 0 or lengths.min() <= 0:
        raise ValueError(f"{name}: every sequence must have a length of at least 1, got lengths {lengths.tolist()}")
    if lengths.max() > input.shape[time_dim]:
        raise ValueError(f"{name}: lengths {lengths.tolist()} exceed the padded length {input.shape[time_dim]}")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ValueError(f"{name}: lengths {lengths.tolist()} must be sorted in decreasing order when "
                             "enforce_sorted is True; pass enforce_sorted=False to have the batch sorted")
        order, sorted_indices = np.arange(lengths.size), None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = _index(order, input.device)
    batch_sizes = (lengths[order][None, :] > np.arange(lengths.max())[:, None]).sum(1)
    steps, columns = _packed_positions(batch_sizes, sorted_indices)
    position = (columns, steps) if batch_first else (steps, columns)
    data = input[_index(position[0], input.device), _index(position[1], input.device)]
    return PackedSequence(data, creation.tensor(batch_sizes.astype(np.int64), device="cpu"), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple:
    """Unpack: the padded batch (T, B, *) (or (B, T, *)), in the original batch order, every step past a
    sequence's end equal to ``padding_value``, and the lengths (B,) as an int64 CPU tensor. T is the
    longest length, or ``total_length`` if given (which must be at least that)."""
    batch_sizes = _host(sequence.batch_sizes).astype(np.int64)
    steps_needed = batch_sizes.size
    if total_length is not None and total_length < steps_needed:
        raise ValueError("pad_packed_sequence: expected total_length to be at least the length of the longest "
                         f"sequence in input, but got total_length={total_length} and max sequence length "
                         f"being {steps_needed}")
    steps = steps_needed if total_length is None else total_length
    sorted_indices = sequence.sorted_indices
    if sorted_indices is None and sequence.unsorted_indices is not None:
        sorted_indices = invert_permutation(sequence.unsorted_indices)
    time, columns = _packed_positions(batch_sizes, sorted_indices)
    data = sequence.data
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    gather = np.full((steps, batch), data.shape[0], dtype=np.int64)  # the row after data: padding
    gather[time, columns] = np.arange(data.shape[0])
    padding = creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = cat([data, padding])[_index(gather.T if batch_first else gather, data.device)]
    lengths = np.bincount(columns, minlength=batch).astype(np.int64)
    return padded, creation.tensor(lengths, device="cpu")


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences (each (Lᵢ, *), the same * for all) into one tensor (T, B, *) (or (B, T, *) with
    ``batch_first``), T = max Lᵢ, filling the steps past each sequence with ``padding_value``: after it
    (``padding_side="right"``) or before it (``"left"``). The result has the first sequence's dtype."""
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    first = sequences[0]
    for s in sequences:
        if not isinstance(s, Tensor) or s.ndim < 1:
            raise ValueError(f"pad_sequence: every sequence must be a tensor with a time dim, got "
                             f"{getattr(s, 'shape', type(s).__name__)}")
        if s.shape[1:] != first.shape[1:]:
            raise ValueError(f"pad_sequence: sequences must agree past their length, got {first.shape[1:]} "
                             f"and {s.shape[1:]}")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    steps, total = int(lengths.max()), int(lengths.sum())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    time = np.arange(steps)[:, None]
    offset = time if padding_side == "right" else time - (steps - lengths)[None, :]
    real = (offset >= 0) & (offset < lengths[None, :])
    gather = np.where(real, starts[None, :] + offset, total)  # (T, B); `total` is the padding row
    padding = creation.full((1, *first.shape[1:]), padding_value, dtype=first.dtype, device=first.device)
    flat = cat([s.to(first.dtype) for s in sequences] + [padding])
    return flat[_index(gather.T if batch_first else gather, first.device)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (each (Lᵢ, *)): ``pack_padded_sequence(pad_sequence(sequences), lengths)``."""
    sequences = list(sequences)
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The inverse of ``pad_sequence`` (right padding): a list of the B sequences, the i-th (Lᵢ, *)."""
    lengths = _lengths("unpad_sequence", lengths)
    if batch_first:
        return [padded_sequences[i, :n] for i, n in enumerate(lengths.tolist())]
    return [padded_sequences[:n, i] for i, n in enumerate(lengths.tolist())]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The inverse of ``pack_sequence``: the list of sequences, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


# ---------------------------------------------------------------- for the recurrent layers
def _packed_to_padded_and_lengths(packed: PackedSequence, padding_value: float = 0.0) -> tuple:
    """A packed input as what the recurrent layers run on: the padded batch (T, B, *), time-major and
    in the original batch order, and the lengths as a list of ints in that order (``rnn(x, lengths=...)``).
    An initial state given with a packed input is in that same order, as in PyTorch, and so is the
    final state the layer returns. Differentiable."""
    padded, lengths = pad_packed_sequence(packed, padding_value=padding_value)
    return padded, lengths.tolist()


def _padded_to_packed(padded: Tensor, like: PackedSequence) -> PackedSequence:
    """A time-major padded batch (T, B, *) in the original batch order (a recurrent layer's output on
    ``_packed_to_padded_and_lengths(like)``) packed the way ``like`` is: the same ``batch_sizes``,
    ``sorted_indices`` and ``unsorted_indices`` (what PyTorch's layers return for a packed input).
    Steps past a sequence's end are dropped. Differentiable."""
    batch_sizes = _host(like.batch_sizes).astype(np.int64)
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    if padded.ndim < 2 or padded.shape[0] < batch_sizes.size or padded.shape[1] != batch:
        raise ValueError(f"_padded_to_packed: expected a padded batch of at least {batch_sizes.size} steps and "
                         f"{batch} sequences (T, B, *), got shape {padded.shape}")
    sorted_indices = like.sorted_indices
    if sorted_indices is None and like.unsorted_indices is not None:
        sorted_indices = invert_permutation(like.unsorted_indices)
    steps, columns = _packed_positions(batch_sizes, sorted_indices)
    data = padded[_index(steps, padded.device), _index(columns, padded.device)]
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)
