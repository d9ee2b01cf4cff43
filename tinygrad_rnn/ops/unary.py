"""More elementwise functions of one tensor: ``square``, ``rsqrt``, ``log1p``, ``sign``, ``round``.

Each is registered like ``exp`` (``@register(name, function=True)``, see ``registry.py``): that
one line makes ``x.square()``, ``tr.square(x)`` and the in-place ``x.square_()``.

``sign`` and ``round`` are flat wherever they are differentiable: their gradient is 0, as in
PyTorch (not an error, and not None: the input still gets a gradient, of zeros).
"""

from __future__ import annotations

from .. import backend
from ..autograd import Function
from .registry import register


def _floating(x):
    """``x`` itself if it is floating point, else cast to the default float: ``rsqrt`` and ``log1p`` of an
    integer tensor are float32 in PyTorch (NumPy would make float64)."""
    return x if x.dtype.kind == "f" else x.astype(backend.DEFAULT_FLOAT)


@register("square", function=True)
class Square(Function):
    """``x²``;  d/dx = 2x."""

    saves_output = False

    def forward(self, x):
        return x * x

    def backward(self, grad):
        return grad * (2 * self.inputs[0])


@register("rsqrt", function=True)
class Rsqrt(Function):
    """``1/√x``;  d/dx = -1/(2 x^(3/2)) = -y³/2, from the output y.  rsqrt(0) = inf and rsqrt of a
    negative is NaN, without a warning (as PyTorch)."""

    saves_inputs = False

    def forward(self, x):
        x = _floating(x)
        with backend.quiet_math(self.xp):
            return 1 / self.xp.sqrt(x)

    def backward(self, grad):
        y = self.output
        return grad * (-0.5 * y * y * y)


@register("log1p", function=True)
class Log1p(Function):
    """``ln(1 + x)``, accurate for small x (where ``(1 + x).log()`` rounds ``1 + x`` first);
    d/dx = 1/(1 + x).  -inf at x = -1 and NaN below, without a warning (as PyTorch)."""

    saves_output = False

    def forward(self, x):
        x = _floating(x)
        with backend.quiet_math(self.xp):
            return self.xp.log1p(x)

    def backward(self, grad):
        return grad / (1 + self.inputs[0])


@register("sign", function=True)
class Sign(Function):
    """``sign(x)``: -1, 0 or 1 (0 for NaN, as PyTorch; NumPy gives NaN);  d/dx = 0."""

    saves_inputs = False
    saves_output = False

    def forward(self, x):
        if x.dtype.kind == "b":
            return x.copy()  # sign(False) = False, sign(True) = True
        return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)

    def backward(self, grad):
        return grad.new_zeros(grad.shape)


@register("round", function=True)
class Round(Function):
    """``round(x)`` to the nearest integer, halves to the even one (``round(2.5) = 2``, as PyTorch and
    NumPy);  d/dx = 0."""

    saves_inputs = False
    saves_output = False

    def forward(self, x):
        return self.xp.round(x)

    def backward(self, grad):
        return grad.new_zeros(grad.shape)
