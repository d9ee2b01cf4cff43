"""``tr.multinomial``: indices drawn from rows of (unnormalised) probabilities.

Drawn from the framework's seeded generator of the input's device (``backend.generator``, seeded by
``tr.manual_seed``), on that device:

- with replacement, each draw is an inverse-CDF lookup: a uniform number ``u`` in [0, 1) picks
  the first category whose cumulative probability exceeds ``u``, i.e. the count of cumulative
  probabilities ``<= u`` (a category of probability 0 is never picked). All rows and draws are
  compared at once, in passes of at most ``_CHUNK`` comparisons (or one draw per row if more);
- without replacement (PyTorch's default), the "exponential race": each category gets a time
  ``E / p`` with ``E`` ~ Exp(1), and the ``num_samples`` earliest win, in order of arrival. This
  draws exactly as drawing one category at a time and renormalising the rest (successive
  sampling), as PyTorch does.

Results are int64 and outside the graph: sampling has no gradient.
"""

from __future__ import annotations

import numbers

from . import backend
from .tensor import Tensor

_CHUNK = 1 << 24  # comparisons per pass of the draws with replacement (16 MB of bools)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:  # noqa: A002
    """``num_samples`` category indices per row of ``input`` (1-D: one distribution; 2-D: one per
    row), drawn with probability proportional to the row's non-negative weights (they need not sum
    to 1). Without ``replacement`` (the default) a category is drawn at most once per row, so a
    row needs at least ``num_samples`` nonzero weights. Returns int64 of shape ``(num_samples,)`` or
    ``(rows, num_samples)``. ``generator``: None (the generator seeded by ``tr.manual_seed``) or a
    NumPy/CuPy ``Generator`` of the input's device."""
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be 1-D or 2-D (rows of probabilities), got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"multinomial: input must be a floating-point tensor of probabilities, got {input.dtype}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
    num_samples = int(num_samples)
    categories = input.shape[-1]
    if categories == 0:
        raise ValueError(f"multinomial: input has no categories (shape {input.shape})")
    if not replacement and num_samples > categories:
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from {categories} "
                         "categories; pass replacement=True or fewer samples")
    xp, device = input.xp, input.device
    with backend.device_of_array_context(input.array):
        weights = input.array.reshape(-1, categories).astype(backend.float64)
        _check_weights(xp, weights, num_samples, replacement)
        rng = backend.generator(device) if generator is None else _checked_generator(generator, device)
        rows = weights.shape[0]
        if replacement:
            cdf = xp.cumsum(weights, axis=1)
            cdf = cdf / cdf[:, -1:]  # the last is exactly 1 > u: every draw lands in the row
            draws = rng.random((rows, num_samples))
            step = max(1, _CHUNK // (rows * categories))  # draws per pass, bounding the comparison's memory
            picks = xp.concatenate([(cdf[:, None, :] <= draws[:, start : start + step, None]).sum(axis=2)
                                    for start in range(0, num_samples, step)], axis=1)
        else:
            with backend.quiet_math(xp):
                times = rng.standard_exponential((rows, categories)) / weights  # weight 0: never (inf)
            picks = xp.argsort(times, axis=1, kind="stable")[:, :num_samples]
        picks = picks.astype(backend.int64)
    return Tensor._wrap(picks.reshape(num_samples) if input.ndim == 1 else picks)


def _check_weights(xp, weights, num_samples: int, replacement: bool) -> None:
    """PyTorch's refusals: a negative, inf or NaN weight, a row of zeros, and (without replacement)
    a row with fewer nonzero weights than samples. One read back to the host for all of them."""
    bad = ~xp.isfinite(weights) | (weights < 0)
    nonzero = (weights > 0).sum(axis=1)
    needed = 1 if replacement else num_samples
    flags = xp.stack([bad.any(), (nonzero == 0).any(), (nonzero < needed).any()])
    invalid, empty, few = (bool(flag) for flag in backend.to_numpy(flags))
    if invalid:
        raise ValueError("multinomial: the probabilities contain inf, NaN or a negative number")
    if empty:
        raise ValueError("multinomial: a row of probabilities sums to 0 (every weight is 0)")
    if few:
        raise ValueError(f"multinomial: without replacement, every row needs at least {num_samples} nonzero "
                         f"probabilities to draw {num_samples} distinct categories")


def _checked_generator(generator, device):
    """A NumPy (CPU) or CuPy (GPU) ``Generator`` matching the input's device (that of a ``tr.Generator``)."""
    generator = getattr(generator, "numpy_generator", generator)  # a tr.Generator holds one
    if not (hasattr(generator, "random") and hasattr(generator, "standard_exponential")):
        raise TypeError(f"multinomial: generator must be None or a NumPy/CuPy random Generator "
                        f"(np.random.default_rng(seed)), got {type(generator).__name__}")
    if device == "strict":
        raise TypeError("multinomial: on the 'strict' test device only generator=None (tr.manual_seed's) is taken")
    module = type(generator).__module__.split(".")[0]
    expected = "numpy" if device == "cpu" else "cupy"
    if module != expected:
        raise TypeError(f"multinomial: the input is on {device}, which needs a {expected} Generator, got "
                        f"{type(generator).__module__}.{type(generator).__name__}")
    return generator
