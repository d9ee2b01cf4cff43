"""The strong Wolfe line search that ``LBFGS(line_search_fn="strong_wolfe")`` uses.

Along a descent direction d from the point x, with φ(t) = f(x + t·d) and φ'(t) = ∇f(x + t·d)·d,
it looks for a step t that satisfies the strong Wolfe conditions::

    φ(t) <= φ(0) + c1 · t · φ'(0)        (sufficient decrease, "Armijo")
    |φ'(t)| <= c2 · |φ'(0)|              (curvature: the slope has flattened out)

in two phases (Nocedal & Wright, *Numerical Optimization*, algorithms 3.5 and 3.6): first
*bracket* an interval that must contain such a t, growing the step by cubic extrapolation; then
*zoom* into that interval by cubic interpolation until a point passes both tests.

The steps, tests and safeguards are PyTorch's (``torch/optim/lbfgs.py``, itself a port of
``lswolfe.lua`` from Torch7), so the two evaluate the loss at the same points. Flat vectors are
raw arrays of the parameters' array module; every scalar (losses, slopes, steps) is a Python
float. No array here is ever written in place, so none needs a defensive copy.
"""

from __future__ import annotations

import math


def _divide(a: float, b: float) -> float:
    """a / b with IEEE semantics (±inf or NaN for b = 0), as PyTorch's tensor scalars divide, instead
    of Python's ZeroDivisionError: a degenerate bracket must steer the search, not crash it."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float, bounds=None) -> float:
    """The minimiser of the cubic through two points with their values f and slopes g,
    clamped to ``bounds`` (default: the interval between the two points)::

        d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2)
        d2 = √(d1² - g1 g2)
        t  = x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)      (x1 <= x2; mirrored otherwise)

    When d1² - g1 g2 is negative (or NaN) the cubic has no minimum: the middle of the bounds is
    returned instead.
    """
    if bounds is not None:
        low, high = bounds
    else:
        low, high = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - _divide(3 * (f1 - f2), x1 - x2)
    d2_square = d1 * d1 - g1 * g2  # d1 * d1, not d1 ** 2: Python's ** raises OverflowError where * gives inf
    if not d2_square >= 0:  # written so that NaN takes this branch too, as in PyTorch
        return (low + high) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        minimum = x2 - (x2 - x1) * _divide(g2 + d2 - d1, g2 - g1 + 2 * d2)
    else:
        minimum = x1 - (x1 - x2) * _divide(g1 + d2 - d1, g1 - g2 + 2 * d2)
    return min(max(minimum, low), high)  # a NaN minimum comes back as is (max(nan, low) is nan), as in PyTorch


def strong_wolfe(evaluate, xp, t: float, d, f: float, g, gtd: float, c1: float = 1e-4, c2: float = 0.9,
                 tolerance_change: float = 1e-9, max_ls: int = 25):
    """Search along ``d`` for a step satisfying the strong Wolfe conditions.

    ``evaluate(t)`` returns ``(loss, flat_grad)`` at x + t·d (and puts the parameters back);
    ``f``, ``g`` and ``gtd`` are the loss, flat gradient and slope g·d at t = 0, and ``t`` the
    first step to try. At most ``max_ls`` evaluations after the first. Returns
    ``(loss, flat_grad, t, evaluations)`` at the chosen step.
    """
    d_norm = float(xp.abs(d).max())
    f_new, g_new = evaluate(t)
    evaluations = 1
    gtd_new = float(xp.dot(g_new, d))

    # ---- bracketing: grow the step until an interval [t_prev, t] must hold an acceptable point
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        # A minimum lies between the two tries when the new one is too high (or no lower than the previous
        # one), or when the slope has turned upwards; if instead both conditions hold, the search is done.
        too_high = f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev)
        if not too_high and abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if too_high or gtd_new >= 0:
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        # Still going down steeply: extrapolate, at least a little further and at most 10 times as far.
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = evaluate(t)
        evaluations += 1
        gtd_new = float(xp.dot(g_new, d))
        ls_iter += 1
    if ls_iter == max_ls:  # out of evaluations: fall back on [0, t] (the zoom below will not run)
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    # ---- zoom: shrink the bracket around the lower end until a point passes both tests
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:  # the parameters would barely move
            break
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # A trial hugging an end of the bracket shrinks it very little. The first time, accept it; if it
        # happens again (or t is at or outside an end), move t to 10% of the bracket's width inside the end.
        width, top, bottom = max(bracket) - min(bracket), max(bracket), min(bracket)
        eps = 0.1 * width
        if min(top - t, t - bottom) < eps:
            if insufficient_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False

        f_new, g_new = evaluate(t)
        evaluations += 1
        gtd_new = float(xp.dot(g_new, d))
        ls_iter += 1

        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            # Not low enough: t becomes the new high end.
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # the strong Wolfe conditions hold
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                # The slope at t points away from the high end: the old low end becomes the high end.
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = t, f_new, g_new, gtd_new

    return bracket_f[low], bracket_g[low], bracket[low], evaluations
