"""Anomaly detection: find the op whose backward made the first NaN or inf.

When on, every node remembers the line of the user's code that created it (``_user_frame``,
read by ``Function.apply``) and the engine checks each node's input gradients
(``_check_finite``); the first non-finite one raises, naming the op, its input shapes and
that line. When off, the cost is one attribute test per op.
"""

from __future__ import annotations

import os
import traceback


class _AnomalyMode:
    """Process-wide switch (as in PyTorch): nodes remember the user's line that made them,
    and backward stops at the first node whose gradient holds NaN or inf."""

    enabled = False


anomaly_mode = _AnomalyMode()


def set_detect_anomaly(mode: bool) -> None:
    """``tr.autograd.set_detect_anomaly(True)``: from now on, the first backward node whose
    gradient contains NaN or inf raises an error naming the op, its shapes and the line of
    your code that made it. Costs nothing when off; slows every op a little when on."""
    anomaly_mode.enabled = bool(mode)


class detect_anomaly:
    """``with tr.autograd.detect_anomaly():`` anomaly detection inside the block only."""

    def __enter__(self):
        self.previous = anomaly_mode.enabled
        anomaly_mode.enabled = True
        return self

    def __exit__(self, *exc_info):
        anomaly_mode.enabled = self.previous


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_frame() -> str:
    """'file:line in function: code' of the innermost caller outside this package."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR + os.sep):
            return f"{frame.filename}:{frame.lineno} in {frame.name}: {(frame.line or '').strip()}"
    return "(inside tinygrad_rnn)"


def _check_finite(node, input_grads) -> None:
    for position, grad in enumerate(input_grads):
        if grad is not None and not bool(grad.xp.isfinite(grad.array).all()):
            shapes = ", ".join(str(t.shape) for t in node.inputs)
            bad = "NaN" if bool(grad.xp.isnan(grad.array).any()) else "inf"
            made_at = node.__dict__.get("created_at", "(not recorded: the op ran before detection was switched on)")
            raise RuntimeError(
                f"anomaly detected: {node.name} returned {bad} in the gradient of its input {position} "
                f"(input shapes {shapes}). Its forward op was made at {made_at}"
            )
