"""The error function and the standard normal CDF, which NumPy lacks: on raw arrays (NumPy,
CuPy or the strict backend, through ``xp``) and as graph nodes (``Erf``, ``NormalCdf``) for
``F.gelu``.

The values come from W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev
approximations for the error function", Math. Comp. 23 (1969) 631-637; Netlib's CALERF),
computed in float64: within a few units in the last place of ``math.erf``/``math.erfc`` for
every x, and with relative accuracy in the tails (erfc and Φ never subtract from 1 where the
result is small). Three ranges of y = |x|:

- y ≤ 0.46875: erf(y) = y·P₁(y²)/Q₁(y²);
- 0.46875 < y ≤ 4: erfc(y) = e^(-y²)·P₂(y)/Q₂(y);
- y > 4: erfc(y) = e^(-y²)/y·(1/√π + P₃(1/y²)/(y²·Q₃(1/y²))), and 0 past y = 26.543 (underflow).

e^(-y²) is computed as e^(-s²)·e^(-(y-s)(y+s)) with s = y rounded down to a multiple of 1/16,
so that the rounding of y² is not magnified by the exponential.
"""

from __future__ import annotations

import math

from .. import backend
from ..autograd import Function

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_PI = 5.6418958354775628695e-1  # 1/√π, Cody's SQRPI
_TWO_OVER_SQRT_PI = 2 * _INV_SQRT_PI
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SMALL, _MIDDLE, _BIG = 0.46875, 4.0, 26.543  # Cody's THRESH, 4 and XBIG (erfc underflows past it)

_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)


def _erf_small(x):
    """erf(x) = x·P₁(x²)/Q₁(x²) for |x| ≤ 0.46875 (odd in x; x is a float64 array)."""
    t = x * x
    numerator, denominator = _A[4] * t, t
    for i in range(3):
        numerator = (numerator + _A[i]) * t
        denominator = (denominator + _B[i]) * t
    return x * (numerator + _A[3]) / (denominator + _B[3])


def _erfc_large(y, xp):
    """erfc(y) for y > 0.46875 (y a float64 array; other entries give finite junk, masked by callers)."""
    middle = xp.clip(y, _SMALL, _MIDDLE)  # the middle range's rational function of y
    numerator, denominator = _C[8] * middle, middle
    for i in range(7):
        numerator = (numerator + _C[i]) * middle
        denominator = (denominator + _D[i]) * middle
    middle_ratio = (numerator + _C[7]) / (denominator + _D[7])
    far = xp.clip(y, _MIDDLE, _BIG)  # the asymptotic range's, in 1/y²
    t = 1 / (far * far)
    numerator, denominator = _P[5] * t, t
    for i in range(4):
        numerator = (numerator + _P[i]) * t
        denominator = (denominator + _Q[i]) * t
    far_ratio = (_INV_SQRT_PI - t * (numerator + _P[4]) / (denominator + _Q[4])) / far
    z = xp.clip(y, _SMALL, _BIG)
    s = xp.floor(z * 16) / 16
    gaussian = xp.exp(-s * s) * xp.exp(-(z - s) * (z + s))  # e^(-z²), without magnifying z²'s rounding
    out = gaussian * xp.where(y <= _MIDDLE, middle_ratio, far_ratio)
    return xp.where(y > _BIG, 0.0, out)  # NaN stays NaN (every comparison with it is false)


def erf(x, xp):
    """erf(x) = 2/√π ∫₀ˣ e^(-t²) dt, elementwise on a raw array (computed in float64, returned in x's dtype)."""
    x64 = x.astype(backend.float64)
    y = xp.abs(x64)
    small = _erf_small(xp.clip(x64, -_SMALL, _SMALL))
    large = xp.where(x64 < 0, -1.0, 1.0) * (1 - _erfc_large(y, xp))
    return xp.where(y <= _SMALL, small, large).astype(x.dtype)


def erfc(x, xp):
    """erfc(x) = 1 - erf(x), accurate also where it is tiny (large x), on a raw array."""
    x64 = x.astype(backend.float64)
    y = xp.abs(x64)
    small = 1 - _erf_small(xp.clip(x64, -_SMALL, _SMALL))
    tail = _erfc_large(y, xp)
    return xp.where(y <= _SMALL, small, xp.where(x64 < 0, 2 - tail, tail)).astype(x.dtype)


def normal_cdf(x, xp):
    """Φ(x) = P(N(0, 1) ≤ x) = ½·erfc(-x/√2), on a raw array: relative accuracy in the lower tail
    (Φ(-30) ≈ 4.9e-198, not 0), computed in float64 and returned in x's dtype."""
    z = x.astype(backend.float64) * _SQRT1_2
    y = xp.abs(z)
    small = 0.5 + 0.5 * _erf_small(xp.clip(z, -_SMALL, _SMALL))
    tail = 0.5 * _erfc_large(y, xp)
    return xp.where(y <= _SMALL, small, xp.where(z < 0, tail, 1 - tail)).astype(x.dtype)


class Erf(Function):
    """``erf(x)``;  d/dx = 2/√π · e^(-x²) (composed of Tensor ops, so it can be differentiated again)."""

    saves_output = False

    def forward(self, x):
        return erf(x, self.xp)

    def backward(self, grad):
        x = self.inputs[0]
        return grad * (-(x * x)).exp() * _TWO_OVER_SQRT_PI


class NormalCdf(Function):
    """``Φ(x) = ½·(1 + erf(x/√2))``, the standard normal CDF;  d/dx = φ(x) = e^(-x²/2)/√(2π)
    (composed of Tensor ops, so it can be differentiated again)."""

    saves_output = False

    def forward(self, x):
        return normal_cdf(x, self.xp)

    def backward(self, grad):
        x = self.inputs[0]
        return grad * ((x * x) * -0.5).exp() * _INV_SQRT_2PI
