"""Weight initialisation, in place and without recording a graph, as ``torch.nn.init``.

fan_in and fan_out of a weight of shape (out, in, *k) are in·k and out·k. The random ones draw from
the generator of the tensor's device, which ``tr.manual_seed`` seeds (the numbers are NumPy's or
CuPy's, not PyTorch's). ``dirac_`` and PyTorch's deprecated names without the trailing underscore
(``uniform``, ``xavier_normal``, ...) are listed in ``unsupported.py``, with what to use instead.
"""

from __future__ import annotations

import math

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor
from ..unsupported import module_getattr as _module_getattr

__getattr__ = _module_getattr(__name__)  # a missing PyTorch name says what to use instead (unsupported.py)

_LINEAR_FNS = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through ``nonlinearity`` (a
    ``nn.functional`` name), as ``torch.nn.init.calculate_gain``: 1 for linear, the conv names and
    sigmoid, 5/3 for tanh, √2 for relu, √(2/(1+a²)) for leaky_relu with negative slope ``param``
    (0.01 when None), 3/4 for selu. ``"identity"`` (1) is accepted too. ``ValueError`` for another
    name, or for a ``param`` that is not an int or a float."""
    if nonlinearity in _LINEAR_FNS:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4  # PyTorch's empirical value (pytorch/pytorch#50664)
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
                     f"{', '.join(_LINEAR_FNS + ('tanh', 'relu', 'leaky_relu', 'selu'))}")


def _fans(tensor: Tensor) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, got shape {tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


@no_grad()
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with U(a, b)."""
    return tensor.uniform_(a, b)


@no_grad()
def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with N(mean, std²)."""
    return tensor.normal_(mean, std)


@no_grad()
def constant_(tensor: Tensor, value: float) -> Tensor:
    """Fill with ``value``."""
    return tensor.fill_(value)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot: U(-a, a) with a = gain·√(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot: N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity) -> float:
    fan_in, fan_out = _fans(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """He: U(-b, b) with b = gain·√(3 / fan)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """He: N(0, σ²) with σ = gain / √fan."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


@no_grad()
def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times ``gain``: the Q of the QR decomposition of
    a Gaussian matrix, with signs fixed so the result is uniformly distributed."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: needs at least 2 dimensions, got shape {tensor.shape}")
    rows, cols = tensor.shape[0], tensor.numel() // tensor.shape[0]
    xp = tensor.xp
    flat = backend.generator(tensor.device).standard_normal((max(rows, cols), min(rows, cols)))
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    return tensor.copy_(Tensor._wrap((gain * q).reshape(tensor.shape)))


def _matrix(caller: str, tensor: Tensor) -> tuple[int, int]:
    """The shape of a 2-D ``tensor``; ``ValueError`` for another number of dimensions (as PyTorch)."""
    if tensor.ndim != 2:
        raise ValueError(f"{caller}: only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    return tensor.shape


@no_grad()
def eye_(tensor: Tensor) -> Tensor:
    """Fill the 2-D ``tensor`` with the identity matrix (ones on the main diagonal, zeros elsewhere;
    a non-square one keeps as many inputs as it can), as ``torch.nn.init.eye_``."""
    rows, cols = _matrix("eye_", tensor)
    with backend.use_device(tensor.device):
        identity = tensor.xp.eye(rows, cols, dtype=tensor.dtype)
    return tensor.copy_(Tensor._wrap(identity))


@no_grad()
def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0) -> Tensor:
    """Fill with N(mean, std²) truncated to [a, b], as ``torch.nn.init.trunc_normal_``: a and b are
    values (not numbers of std), so the common ``trunc_normal_(w, std=0.02)`` cuts at ±2, i.e. nowhere.

    Draws outside [a, b] are drawn again until none is left (PyTorch inverts the normal CDF instead:
    the same distribution, other numbers). ``ValueError`` when ``std`` is not positive, ``a > b``, or
    [a, b] holds less than 1e-4 of the probability (the redrawing would not end)."""
    if not std > 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")
    if not a <= b:
        raise ValueError(f"trunc_normal_: the interval [a, b] = [{a}, {b}] is empty")

    def cdf(x: float) -> float:
        return 0.5 * (1.0 + math.erf((x - mean) / (std * math.sqrt(2.0))))

    inside = cdf(b) - cdf(a)
    if inside < 1e-4:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] holds {inside:.2g} of the probability of "
                         f"N({mean}, {std}**2); move mean into it or widen it")
    xp, rng = tensor.xp, backend.generator(tensor.device)
    with backend.use_device(tensor.device):
        values = rng.standard_normal(tensor.shape) * std + mean
        outside = (values < a) | (values > b)
        while bool(outside.any()):
            values = xp.where(outside, rng.standard_normal(tensor.shape) * std + mean, values)
            outside = (values < a) | (values > b)
    return tensor.copy_(Tensor._wrap(values.astype(tensor.dtype)))


@no_grad()
def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01) -> Tensor:
    """Fill the 2-D ``tensor`` as a sparse matrix, as ``torch.nn.init.sparse_``: every entry from
    N(0, std²), then ``ceil(sparsity * rows)`` entries of each column, at random rows, set to 0."""
    rows, cols = _matrix("sparse_", tensor)
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparse_: sparsity is the fraction of each column set to zero, in [0, 1], got {sparsity}")
    zeros = math.ceil(sparsity * rows)
    xp, rng = tensor.xp, backend.generator(tensor.device)
    with backend.use_device(tensor.device):
        values = rng.standard_normal((rows, cols)) * std
        rank = xp.argsort(xp.argsort(rng.random((rows, cols)), axis=0), axis=0)  # a random permutation per column
        values = xp.where(rank < zeros, 0.0, values)
    return tensor.copy_(Tensor._wrap(values.astype(tensor.dtype)))
