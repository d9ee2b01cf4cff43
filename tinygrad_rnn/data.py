"""Layer 5: sequence data. Character vocabularies, random training windows, padding
variable-length sequences, mini-batches, and a text corpus that needs no download."""

from __future__ import annotations

import sysconfig
from pathlib import Path

from . import backend
from .creation import tensor
from .tensor import Tensor, cat, stack


class CharVocabulary:
    """The characters of a text, each with an index: ``encode`` text to int64 tensors and
    ``decode`` indices back to text."""

    def __init__(self, text: str):
        if not text:
            raise ValueError("CharVocabulary: the text is empty")
        self.chars = sorted(set(text))
        self.index = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str, device=None) -> Tensor:
        """Indices of the characters of ``text`` (int64); unknown characters raise KeyError naming them."""
        try:
            return tensor([self.index[ch] for ch in text], dtype=backend.int64, device=device)
        except KeyError as error:
            raise KeyError(f"CharVocabulary.encode: character {error.args[0]!r} is not in the vocabulary") from None

    def decode(self, indices) -> str:
        """The text of a sequence of indices (a tensor or a list of ints)."""
        values = indices.tolist() if isinstance(indices, Tensor) else list(indices)
        return "".join(self.chars[int(i)] for i in values)


def standard_library_text(max_chars: int = 1_000_000, seed: int = 0) -> str:
    """A corpus found on every machine with Python: the source of the standard library's
    ``.py`` files (English docstrings and comments, and code), ASCII only, in a fixed order."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.glob("*.py") if p.is_file())
    if not files:
        raise FileNotFoundError(f"standard_library_text: no .py files under {root}")
    order = backend.generator_for_seed(seed).permutation(len(files))
    pieces, total = [], 0
    for i in order:
        text = files[int(i)].read_text(encoding="utf-8", errors="ignore")
        text = "".join(ch for ch in text if ch == "\n" or 32 <= ord(ch) < 127)
        pieces.append(text)
        total += len(text)
        if total >= max_chars:
            break
    return "".join(pieces)[:max_chars]


def random_windows(data: Tensor, length: int, batch: int, generator=None) -> tuple[Tensor, Tensor]:
    """``batch`` random windows of a 1-D sequence: inputs ``data[s : s+length]`` and targets
    shifted by one, ``data[s+1 : s+length+1]``, each (length, batch), time first."""
    if data.ndim != 1 or data.shape[0] < length + 1:
        raise ValueError(f"random_windows: need a 1-D sequence longer than length={length}, got shape {data.shape}")
    generator = generator or backend.generator_for_seed(None)
    starts = generator.integers(0, data.shape[0] - length, batch)
    offsets = backend.host_array(range(length + 1))
    index = (offsets[:, None] + starts[None, :]).astype(backend.int64)  # (length + 1, batch)
    windows = data[tensor(index, device=data.device)]
    return windows[:-1], windows[1:]


def pad_sequences(sequences, padding_value: float = 0.0, batch_first: bool = False) -> tuple[Tensor, list]:
    """Stack sequences of different lengths (each (L_i, ...)) into one padded tensor
    (L_max, N, ...) (or (N, L_max, ...) with ``batch_first``) and return it with the lengths,
    ready for ``rnn(padded, lengths=lengths)``."""
    sequences = [s if isinstance(s, Tensor) else tensor(s) for s in sequences]
    if not sequences:
        raise ValueError("pad_sequences: expected at least one sequence")
    lengths = [s.shape[0] for s in sequences]
    longest, rest = max(lengths), sequences[0].shape[1:]
    padded = []
    for s in sequences:
        if s.shape[1:] != rest:
            raise ValueError(f"pad_sequences: sequences must agree past their length, got {s.shape[1:]} and {rest}")
        filler = s.new_zeros(longest - s.shape[0], *rest) + padding_value
        padded.append(s if s.shape[0] == longest else cat([s, filler]))
    out = stack(padded, 0 if batch_first else 1)
    return out, lengths


def batches(*tensors: Tensor, batch_size: int, shuffle: bool = True, generator=None):
    """Yield aligned mini-batches (along dim 0) of ``tensors``, shuffled each call if asked."""
    count = tensors[0].shape[0]
    for t in tensors:
        if t.shape[0] != count:
            raise ValueError(f"batches: tensors must share their first dimension, got {count} and {t.shape[0]}")
    order = (generator or backend.generator_for_seed(None)).permutation(count) if shuffle else range(count)
    order = backend.host_array(order).astype(backend.int64)
    for start in range(0, count, batch_size):
        index = tensor(order[start : start + batch_size], device=tensors[0].device)
        yield tuple(t[index] for t in tensors)


def adding_problem(count: int, length: int, generator=None, device=None) -> tuple[Tensor, Tensor]:
    """``count`` sequences of the adding problem (Hochreiter & Schmidhuber 1997), time first.

    Each of the ``length`` steps has two features: a value drawn uniformly from [0, 1) and a
    marker that is 1 at exactly two steps, one in the first half and one in the second half,
    0 elsewhere. The target is the sum of the two marked values, so the network must carry
    the first one across up to ``length`` steps. Returns inputs (length, count, 2) and targets
    (count, 1), float32. Always predicting the mean, 1, scores MSE 1/6 ≈ 0.167 (the variance
    of a sum of two uniform values). ``generator``: a NumPy ``Generator`` (the global CPU one,
    seeded by ``tr.manual_seed``, if None).
    """
    import numpy as np

    if length < 2:
        raise ValueError(f"adding_problem: length must be at least 2 (one marker per half), got {length}")
    generator = generator or backend.generator_for_seed(None)
    values = generator.random((length, count), dtype=np.float32)
    markers = np.zeros((length, count), dtype=np.float32)
    columns = np.arange(count)
    markers[generator.integers(0, length // 2, count), columns] = 1.0
    markers[generator.integers(length // 2, length, count), columns] = 1.0
    inputs = np.stack([values, markers], axis=-1)  # (length, count, 2)
    targets = (values * markers).sum(0)[:, None]
    return tensor(inputs, device=device), tensor(targets, device=device)
