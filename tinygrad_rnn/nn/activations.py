"""Activation modules: elementwise functions of one tensor, and softmax over a dim, as PyTorch's
(``nn.ReLU()``, ``nn.GELU(approximate="tanh")``, ...). Each holds its arguments and calls the
function of the same name in ``functional``."""

from __future__ import annotations

from . import functional as F
from .module import Module


class _Activation(Module):
    """A module form of a function of one tensor (no parameters)."""

    function = None

    def forward(self, input):  # noqa: A002
        return type(self).function(input)


class Tanh(_Activation):
    """tanh x."""

    function = staticmethod(F.tanh)


class ReLU(_Activation):
    """max(x, 0)."""

    function = staticmethod(F.relu)


class Sigmoid(_Activation):
    """1 / (1 + e⁻ˣ)."""

    function = staticmethod(F.sigmoid)


class GELU(Module):
    """GELU(x) = x·Φ(x) = ½·x·(1 + erf(x/√2)), Φ the standard normal CDF (``approximate="none"``), or
    ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (``approximate="tanh"``); see ``F.gelu``."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):  # noqa: A002
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """SiLU (swish): x·σ(x) = x / (1 + e⁻ˣ). ``inplace=True`` is refused (results are new tensors here)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        F._refuse_inplace("SiLU", inplace)
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return F.silu(input)


class LeakyReLU(Module):
    """x for x > 0, else negative_slope·x (default 0.01)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        F._refuse_inplace("LeakyReLU", inplace)
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):  # noqa: A002
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, else α·(eˣ - 1) (default α = 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        F._refuse_inplace("ELU", inplace)
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):  # noqa: A002
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softmax(Module):
    """softmax(x)ᵢ = exp(xᵢ) / Σⱼ exp(xⱼ) over ``dim``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log softmax(x)ᵢ = xᵢ - log Σⱼ exp(xⱼ) over ``dim``."""

    def forward(self, input):  # noqa: A002
        return F.log_softmax(input, self.dim)
