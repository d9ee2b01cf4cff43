"""Grad mode: whether new ops record a graph. On by default; ``no_grad`` turns it off for
inference and optimizer steps, per thread."""

from __future__ import annotations

import functools
import threading


class _GradMode(threading.local):
    """Per-thread switch: one thread's ``no_grad`` never affects another thread."""

    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when new ops record a graph (the default)."""
    return _grad_mode.enabled


class _GradModeGuard:
    """Sets grad mode for a ``with`` block or, used as a decorator, for every call."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)

    def __enter__(self):
        self.previous = _grad_mode.enabled
        _grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc_info):
        _grad_mode.enabled = self.previous

    def __call__(self, function):
        mode = self.mode
        if isinstance(self, set_grad_enabled):  # it switched when made; as a decorator it must not
            _grad_mode.enabled = self.previous

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with _GradModeGuard(mode):
                return function(*args, **kwargs)

        return wrapper


class no_grad(_GradModeGuard):
    """``with tr.no_grad():`` ops inside record no graph (inference, optimizer steps). Also a
    decorator, with or without parentheses: ``@tr.no_grad()`` or ``@tr.no_grad``."""

    def __new__(cls, function=None):
        if function is not None:  # @tr.no_grad without parentheses: decorate at once, as PyTorch
            return cls()(function)
        return super().__new__(cls)

    def __init__(self, function=None):
        super().__init__(False)


class inference_mode(_GradModeGuard):
    """``with tr.inference_mode():`` (or ``@tr.inference_mode()``) records no graph, as ``no_grad``.

    PyTorch's inference mode also marks the tensors made inside as inference tensors, which it
    then refuses in a later graph; here they are ordinary tensors, so whatever runs under PyTorch
    runs here too. ``inference_mode(False)`` leaves grad mode as it is, as in PyTorch."""

    def __new__(cls, mode=True):
        if callable(mode):  # @tr.inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        super().__init__(False)
        self.inference = bool(mode)

    def __enter__(self):
        self.previous = _grad_mode.enabled
        if self.inference:
            _grad_mode.enabled = False
        return self

    def __call__(self, function):
        inference = self.inference

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with inference_mode(inference):
                return function(*args, **kwargs)

        return wrapper


class enable_grad(_GradModeGuard):
    """``with tr.enable_grad():`` record a graph again inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


class set_grad_enabled(_GradModeGuard):
    """``tr.set_grad_enabled(False)`` switches at once; as a ``with`` block it restores on exit."""

    def __init__(self, mode: bool):
        super().__init__(mode)
        self.previous = _grad_mode.enabled
        _grad_mode.enabled = self.mode

    def __enter__(self):
        return self
