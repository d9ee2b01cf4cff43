"""Parameters as one flat vector and back, as ``torch.nn.utils.convert_parameters`` (both names are
in ``tr.nn.utils`` too): for optimisers and analyses that see a model as a point in R^n."""

from __future__ import annotations

from ...autograd import no_grad
from ...tensor import Tensor, cat


def _checked(caller: str, parameters) -> list:
    """``parameters`` (one tensor or an iterable of them) as a list of tensors on one device."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{caller}: parameters[{i}] is a {type(p).__name__}, expected a Tensor")
        if p.device != parameters[0].device:
            raise TypeError(f"{caller}: found two parameters on different devices ({parameters[0].device} and "
                            f"{p.device}); move the model to one device first")
    return parameters


def parameters_to_vector(parameters) -> Tensor:
    """Every parameter flattened and concatenated, in order, into one 1-D tensor, as
    ``torch.nn.utils.parameters_to_vector(model.parameters())``. It is a new tensor (a change to it
    leaves the parameters alone) and differentiable: the gradient flows back to each parameter.
    ``TypeError`` for parameters on different devices; ``ValueError`` for none at all (PyTorch's
    ``torch.cat`` refuses an empty list too)."""
    parameters = _checked("parameters_to_vector", parameters)
    if not parameters:
        raise ValueError("parameters_to_vector: expected at least one parameter, got none")
    return cat([p.reshape(-1) for p in parameters])


@no_grad()
def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Set the parameters from the 1-D tensor ``vec``, the inverse of ``parameters_to_vector``, as
    ``torch.nn.utils.vector_to_parameters``: each parameter's ``.data`` becomes the next ``numel()``
    entries of ``vec``, reshaped. As in PyTorch the parameters stay the same objects (optimisers keep
    them) but now share ``vec``'s memory and take its dtype; entries past the last parameter's are
    ignored. ``TypeError`` for a ``vec`` that is not a tensor or on another device than the parameters,
    ``ValueError`` for one that is not 1-D or too short."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor as vec, got {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D (as parameters_to_vector makes it), "
                         f"got shape {vec.shape}")
    parameters = _checked("vector_to_parameters", parameters)
    if parameters and parameters[0].device != vec.device:
        raise TypeError(f"vector_to_parameters: vec is on {vec.device}, the parameters on {parameters[0].device}")
    needed = sum(p.numel() for p in parameters)
    if vec.shape[0] < needed:
        raise ValueError(f"vector_to_parameters: the parameters hold {needed} numbers, vec only {vec.shape[0]}")
    start = 0
    for p in parameters:
        count = p.numel()
        p.data = vec[start : start + count].reshape(p.shape)
        start += count
