"""Layer 5: the pieces of a training loop that every example shares: a progress bar,
one optimisation step, evaluation without a graph, and saving a figure.

tqdm and matplotlib are optional (``pip install "tinygrad_rnn[examples]"``): without
them there is no bar and no picture, and everything else works.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .autograd import no_grad
from .nn.utils import clip_grad_norm_


def progress(iterable, total: int | None = None, desc: str = "", enabled: bool = True):
    """``iterable`` wrapped in a tqdm progress bar when tqdm is installed and ``enabled``."""
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


def optimize(loss, optimizer, parameters=None, max_norm: float | None = None) -> float:
    """One step: clear gradients, backpropagate ``loss``, clip the joint gradient norm to
    ``max_norm`` (if given), update. Returns the loss as a Python float."""
    optimizer.zero_grad()
    loss.backward()
    if max_norm is not None:
        if parameters is None:
            parameters = [p for group in optimizer.param_groups for p in group["params"]]
        clip_grad_norm_(parameters, max_norm)
    optimizer.step()
    return loss.item()


def evaluate(model, fn):
    """``fn()`` with the model in eval mode (dropout off) and no graph recorded; the
    model's previous mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return fn()
    finally:
        model.train(was_training)


class Stopwatch:
    """Seconds since it was made: ``watch.elapsed``."""

    def __init__(self):
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def example_arguments(description: str, **defaults) -> argparse.ArgumentParser:
    """An argument parser with the flags every example has: ``--device``, ``--seed``,
    ``--quick`` (a short run for tests), ``--no-progress`` and ``--plot PATH``; keyword
    arguments add example-specific flags with their defaults (``steps=2000`` -> ``--steps``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a short run (what the tests use)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--plot", default=None, help="where to save the figure (PNG); none if not given")
    for name, value in defaults.items():
        flag = f"--{name.replace('_', '-')}"
        if isinstance(value, bool):  # type=bool would read "--flag False" as True: make it a switch
            parser.add_argument(flag, action="store_false" if value else "store_true")
            continue
        parser.add_argument(flag, type=type(value) if value is not None else str, default=value)
    return parser


def save_figure(draw, path) -> bool:
    """Make a matplotlib figure with ``draw(pyplot)`` and save it to ``path`` (PNG).
    Returns False, saying why, when matplotlib is not installed or no path is given."""
    if path is None:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no window
        import matplotlib.pyplot as pyplot
    except ImportError:
        print(f"matplotlib is not installed, so no figure was saved to {path} "
              "(pip install 'tinygrad_rnn[examples]')")
        return False
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure = draw(pyplot)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    pyplot.close(figure)
    print(f"saved figure to {path}")
    return True


def log(bar, message: str) -> None:
    """Print ``message`` for a loop wrapped by ``progress``: above the bar when there is one
    (a plain ``print`` would break the bar's line), as an ordinary line when there is not."""
    write = getattr(bar, "write", None)
    (write or print)(message)


def sample_logits(logits, temperature: float = 1.0, generator=None):
    """Draw a class index from softmax(logits / temperature) for each row of ``logits``
    (a Tensor or array, (..., C)), on the host: sampling is one small draw per step, not a hot path.

    A temperature below 1 sharpens the distribution (safer, more repetitive), above 1
    flattens it (bolder, noisier); 0 takes the most likely class. ``generator`` is a NumPy
    ``Generator`` (the global CPU one, seeded by ``tr.manual_seed``, if None). Returns a
    NumPy int64 array of shape ``logits.shape[:-1]`` (0-d for one row: ``int(...)`` it).
    """
    import numpy as np

    from . import backend

    if not temperature >= 0:  # written this way so that NaN fails too
        raise ValueError(f"sample_logits: temperature must be >= 0, got {temperature!r}")
    scores = backend.to_numpy(getattr(logits, "array", logits)).astype(np.float64)
    if temperature == 0:
        return scores.argmax(-1)
    scores = scores / temperature
    weights = np.exp(scores - scores.max(-1, keepdims=True))  # the largest is e^0 = 1: no overflow
    cumulative = np.cumsum(weights, -1)
    generator = generator or backend.generator_for_seed(None)
    draws = generator.random(scores.shape[:-1] + (1,)) * cumulative[..., -1:]
    # Inverse CDF: the first class whose cumulative weight passes the draw
    return np.minimum((cumulative <= draws).sum(-1), scores.shape[-1] - 1).astype(np.int64)


def apply_quick(parser: argparse.ArgumentParser, args: argparse.Namespace, **values) -> argparse.Namespace:
    """With ``--quick``, set each of ``values`` (``steps=300``) on ``args``, except where the
    command line gave its own (a value other than the parser's default), so that
    ``--quick --steps 50`` runs 50 steps. Without ``--quick`` nothing changes. Returns ``args``."""
    if args.quick:
        for name, value in values.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    return args
