"""The global random state, as ``torch.random``: ``tr.get_rng_state()`` and ``tr.set_rng_state(state)``.

Every random draw (``tr.rand``, ``tr.randn``, ``tr.randint``, dropout, ``nn.init``, the data
helpers' default generator) comes from one generator per device (``backend.generator``). The
state covers the CPU generator, as ``torch.get_rng_state`` does; it is a 1-D uint8 tensor, as
PyTorch's ByteTensor, so ``tr.save`` stores it like any other array. The GPU generators (CuPy's,
whose state lives in a private buffer on the GPU) and the ``"strict"`` test device's are not
covered: ``tr.manual_seed`` is the way to make those repeat.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import backend
from .creation import from_numpy
from .tensor import Tensor


def get_rng_state() -> Tensor:
    """The state of the CPU random generator, as a 1-D uint8 tensor on the CPU.

    Save it with the model and optimizer (``tr.save({"rng": tr.get_rng_state(), ...}, path)``)
    and give it back to ``tr.set_rng_state`` to make a resumed run draw the same numbers (the
    same dropout masks, the same batches) as a run that was never interrupted. The tensor is a
    copy: drawing more numbers does not change it.
    """
    return from_numpy(backend.get_cpu_rng_state())


def set_rng_state(new_state) -> None:
    """Restore the CPU random generator to ``new_state``, a state from ``tr.get_rng_state()``.

    ``new_state`` is that uint8 tensor, or the NumPy array ``tr.load`` gives back for it. Raises
    ``TypeError`` for another type or dtype and ``ValueError`` for a wrong shape, length or content,
    leaving the generator unchanged.
    """
    data = new_state.array if isinstance(new_state, Tensor) else new_state
    if not backend.is_array(data):
        raise TypeError(
            f"set_rng_state: new_state must be the uint8 tensor tr.get_rng_state() returns (or its NumPy array), "
            f"got {type(new_state).__name__}"
        )
    array = backend.to_numpy(data)
    if array.dtype != backend.uint8:
        raise TypeError(f"set_rng_state: new_state must have dtype uint8, got {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"set_rng_state: new_state must be 1-D, got shape {array.shape}")
    try:
        backend.set_cpu_rng_state(array)
    except ValueError as error:
        raise ValueError(f"set_rng_state: new_state {error}; expected a state from tr.get_rng_state()") from None


class Generator:
    """``tr.Generator(device="cpu")``: a random generator of its own, as ``torch.Generator``, for the
    ``generator=`` argument of ``tr.randn``, ``tr.rand``, ``tr.randint``, ``tr.randperm``,
    ``tr.multinomial`` and the data samplers (``DataLoader(..., generator=g)``).

    ``g = tr.Generator().manual_seed(0)`` repeats its draws run after run, as in PyTorch, but the
    numbers differ from PyTorch's (a NumPy/CuPy ``Generator`` makes them, not PyTorch's Mersenne
    Twister): a seed picks a stream here, not PyTorch's values.
    """

    def __init__(self, device="cpu"):
        self.device = backend.normalize_device(device)
        self._initial_seed = int(np.random.SeedSequence().entropy % (1 << 63))
        self.numpy_generator = backend.array_module(self.device).random.default_rng(self._initial_seed)

    def manual_seed(self, seed) -> Generator:
        """Reseed with the integer ``seed``; returns this generator (``tr.Generator().manual_seed(0)``)."""
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"Generator.manual_seed: seed must be an integer, got {seed!r}")
        self._initial_seed = int(seed)
        self.numpy_generator = backend.array_module(self.device).random.default_rng(self._initial_seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % (1 << 63)))
        return self._initial_seed

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._initial_seed

    # NumPy's Generator interface, which the samplers draw through
    def permutation(self, *args, **kwargs):
        """``numpy.random.Generator.permutation`` of this generator's stream."""
        return self.numpy_generator.permutation(*args, **kwargs)

    def integers(self, *args, **kwargs):
        """``numpy.random.Generator.integers`` of this generator's stream."""
        return self.numpy_generator.integers(*args, **kwargs)

    def random(self, *args, **kwargs):
        """``numpy.random.Generator.random`` of this generator's stream."""
        return self.numpy_generator.random(*args, **kwargs)

    def choice(self, *args, **kwargs):
        """``numpy.random.Generator.choice`` of this generator's stream."""
        return self.numpy_generator.choice(*args, **kwargs)
