"""``trace``: watch the forward and the backward pass, one line per op and per node.

``function.py`` calls ``function.tracer.forward(op, inputs, outputs, node)`` after every op and
the engine calls ``function.tracer.backward(node, output_grads, input_grads)`` after every
node's backward; ``trace`` installs a ``Tracer`` there for the length of a ``with`` block.
Norms are computed on raw arrays (``t.array``), never with Tensor ops: those would be traced too.
"""

from __future__ import annotations

import contextlib
import math
import sys
import weakref

from .. import backend, engine
from .. import function as _function

_WALK_CODE = engine._walk.__code__  # ops run while this is on the stack are backward formulas


def _inside_backward() -> bool:
    """True while the engine runs a node's backward (its formulas are ops too)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code is _WALK_CODE:
            return True
        frame = frame.f_back
    return False


def _norm(array) -> float:
    """The L2 norm ``sqrt(sum(a_i^2))`` of a raw array, in float64, on the array's own device."""
    xp = backend.module_of(array)
    return math.sqrt(float(xp.sum(xp.square(array.astype(xp.float64)))))


class Tracer:
    """Writes one line per forward op and per backward node (what ``trace`` installs).

    Forward: ``forward  #2 Tanh((3,)) -> (3,) float32``: the op, its inputs' shapes, its
    output's shape and dtype, and a number for the node it recorded (``[no graph]`` when none
    was recorded: grad mode off, or no input requires grad). Backward: ``backward #2
    TanhBackward: dL/dout (3,) |g|=0.97 -> dL/din0 (3,) |g|=0.41``: the gradient that reached
    the node's output and the ones it sends to each input (``none`` for an input that needs
    none), with their L2 norms ``|g| = sqrt(sum g_i^2)``. The numbers pair each backward line
    with the forward line of its op. ``values`` (True, or the largest element count) also
    prints the elements of small arrays. The ops that backward formulas run are not printed
    unless ``backward_ops``. ``parent``: a tracer that also gets every event (nesting).
    """

    def __init__(self, file=None, values=False, backward_ops: bool = False, parent=None):
        if file is not None and not isinstance(file, list) and not hasattr(file, "write"):
            raise TypeError(f"trace: file must be a file object, a list or None, got {type(file).__name__}")
        self.file, self.backward_ops, self.parent = file, backward_ops, parent
        self.max_values = 8 if values is True else int(values or 0)
        self.numbers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # node -> its number

    def forward(self, op, inputs, outputs, node) -> None:
        """Called by ``Function.apply`` after each op."""
        if self.backward_ops or not _inside_backward():
            ins = ", ".join(str(tuple(t.shape)) for t in inputs)
            outs = ", ".join(str(tuple(t.shape)) for t in outputs)
            if node is None:
                tag = ""
            else:
                tag = self.numbers.get(node)
                if tag is None:
                    tag = self.numbers[node] = len(self.numbers) + 1
                tag = f"#{tag} "
            line = f"forward  {tag}{op.__name__}({ins}) -> {outs} {outputs[0].dtype}"
            line += self._values(outputs[0].array) if len(outputs) == 1 else ""
            self._emit(line + ("" if node is not None else "  [no graph]"))
        if self.parent is not None:
            self.parent.forward(op, inputs, outputs, node)

    def backward(self, node, output_grads, input_grads) -> None:
        """Called by the engine after each node's backward."""
        number = self.numbers.get(node)
        tag = "" if number is None else f"#{number} "
        outs = [self._grad(f"dL/dout{i if len(output_grads) > 1 else ''}", g) for i, g in enumerate(output_grads)]
        ins = [self._grad(f"dL/din{i}", g) for i, g in enumerate(input_grads)]
        self._emit(f"backward {tag}{node.name}: {', '.join(outs)} -> {', '.join(ins)}")
        if self.parent is not None:
            self.parent.backward(node, output_grads, input_grads)

    def _grad(self, what: str, grad) -> str:
        if grad is None:
            return f"{what} none"
        return f"{what} {tuple(grad.shape)} |g|={_norm(grad.array):.4g}{self._values(grad.array)}"

    def _values(self, array) -> str:
        if array.size > self.max_values:
            return ""
        host = backend.to_numpy(array).reshape(-1)
        text = ", ".join(f"{float(v):.4g}" for v in host)
        return f" = {text}" if array.ndim == 0 else f" = [{text}]"

    def _emit(self, line: str) -> None:
        if isinstance(self.file, list):
            self.file.append(line)
        else:
            print(line, file=sys.stdout if self.file is None else self.file)


@contextlib.contextmanager
def trace(file=None, values=False, backward_ops: bool = False):
    """Print one line per forward op and per backward node inside the ``with`` block.

    ::

        with tr.graph.trace():
            y = (x * w).tanh().sum()
            y.backward()

    prints the three ops in program order, then the three nodes from the loss back to the
    leaves (see ``Tracer`` for the lines, and docs/learn/step8_trace.md for a worked
    example). ``file``: a file object (default ``sys.stdout``) or a list to append the lines
    to; ``values``: also print the elements of arrays of up to 8 (or ``values``) elements;
    ``backward_ops``: also print the ops that backward formulas run.

    Nesting works: an inner ``trace`` also passes every event to the one outside it, and each
    restores the tracer that was installed before it on exit. The tracer is process-wide
    (``tinygrad_rnn.function.tracer``, one global): ops run by other threads meanwhile are
    traced too, and two threads entering and leaving ``trace`` blocks out of order can restore
    each other's tracer; trace from one thread at a time. ``TINYGRAD_RNN_TRACE=1`` in the
    environment at import traces a whole script to stderr.
    """
    tracer = Tracer(file, values=values, backward_ops=backward_ops, parent=_function.tracer)
    previous, _function.tracer = _function.tracer, tracer
    try:
        yield tracer
    finally:
        _function.tracer = previous


def trace_from_environment(environ=None) -> bool:
    """Trace the whole process to stderr when ``TINYGRAD_RNN_TRACE`` is set (and not ``0``);
    called once by ``tinygrad_rnn/__init__.py``. True when tracing was turned on."""
    value = (environ if environ is not None else __import__("os").environ).get("TINYGRAD_RNN_TRACE", "")
    if value.strip() in ("", "0"):
        return False
    _function.tracer = Tracer(sys.stderr, parent=_function.tracer)
    print("TINYGRAD_RNN_TRACE is set: tracing every op and backward node to stderr", file=sys.stderr)
    return True


__all__ = ["Tracer", "trace", "trace_from_environment"]
