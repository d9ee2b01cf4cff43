"""The global random state, as ``torch.random``: ``tr.get_rng_state()`` and ``tr.set_rng_state(state)``.

Every random draw (``tr.rand``, ``tr.randn``, ``tr.randint``, dropout, ``nn.init``, the data
helpers' default generator) comes from one generator per device (``backend.generator``). The
state covers the CPU generator, as ``torch.get_rng_state`` does; it is a 1-D uint8 tensor, as
PyTorch's ByteTensor, so ``tr.save`` stores it like any other array. The GPU generators (CuPy's,
whose state lives in a private buffer on the GPU) and the ``"strict"`` test device's are not
covered: ``tr.manual_seed`` is the way to make those repeat.
"""

from __future__ import annotations

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
