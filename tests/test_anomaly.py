"""Anomaly detection: ``tr.autograd.set_detect_anomaly`` / ``detect_anomaly()``.

The first backward node whose gradient holds NaN or inf raises an error that names the op,
its input shapes and the line of the user's code that made it; when off, nothing changes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_rnn as tr


def _nan_gradient_program():
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    y = x * tr.tensor([math.inf, 1.0])  # the line the error must name: d/dx = inf
    return x, (y + 1).sum()


def test_the_first_non_finite_gradient_names_the_op_and_the_users_line():
    with tr.autograd.detect_anomaly():
        x, loss = _nan_gradient_program()
        with pytest.raises(RuntimeError) as caught:
            loss.backward()
    message = str(caught.value)
    assert "MulBackward" in message and "(2,)" in message and "inf" in message
    assert "test_anomaly.py" in message and "y = x * tr.tensor([math.inf, 1.0])" in message
    assert x.grad is None  # stopped before anything reached the leaf


def test_nan_is_named_as_nan():
    with tr.autograd.detect_anomaly():
        x = tr.tensor([1.0, 4.0], requires_grad=True)
        loss = (x * tr.tensor([math.nan, 1.0])).sum()  # d/dx = the NaN weight
        with pytest.raises(RuntimeError, match="MulBackward returned NaN in the gradient of its input 0"):
            loss.backward()


def test_off_by_default_and_off_after_the_block():
    assert not tr.autograd.anomaly_mode.enabled
    with tr.autograd.detect_anomaly():
        assert tr.autograd.anomaly_mode.enabled
    assert not tr.autograd.anomaly_mode.enabled
    x, loss = _nan_gradient_program()
    loss.backward()  # no error: PyTorch also lets inf through without detection
    assert math.isinf(x.grad.numpy()[0])


def test_set_detect_anomaly_switches_globally():
    tr.autograd.set_detect_anomaly(True)
    try:
        x, loss = _nan_gradient_program()
        with pytest.raises(RuntimeError, match="anomaly detected"):
            loss.backward()
    finally:
        tr.autograd.set_detect_anomaly(False)
    assert not tr.autograd.anomaly_mode.enabled


def test_finite_gradients_pass_unchanged_under_detection():
    with tr.autograd.detect_anomaly():
        x = tr.tensor([0.5, 2.0], requires_grad=True)
        (x.tanh() * x).sum().backward()
    t = np.tanh([0.5, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), t + np.array([0.5, 2.0]) * (1 - t * t), rtol=1e-6)


def test_an_op_made_before_detection_was_switched_on_says_so():
    x, loss = _nan_gradient_program()
    with tr.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="not recorded"):
            loss.backward()
