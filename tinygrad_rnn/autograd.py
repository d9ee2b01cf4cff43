"""Layer 2: the graph node (``Function``), grad mode, and the backward engine.

How reverse-mode autograd works here, in four sentences:

1. Every op is a ``Function`` subclass. ``Function.apply`` runs its ``forward`` on
   raw arrays and, when gradients are wanted, remembers the input tensors, so the
   output tensor's ``grad_fn`` points at the node that made it. That is the graph.
2. ``backward`` walks that graph from the output towards the leaves in reverse
   topological order: a node runs only after every node that consumed its output,
   so the gradient it receives is complete (the sum over all uses).
3. Each node's ``backward`` turns "gradient of the loss w.r.t. my output" into
   "gradient w.r.t. each of my inputs" (the chain rule, one vector-Jacobian product).
4. Gradients that reach leaves (tensors made by the user with ``requires_grad``)
   are *added* to their ``.grad``.

The order comes from generation numbers (a node's generation is one more than its
deepest input's) and a heap, never from recursion, so a 100,000-op chain works.
Backward formulas are written with Tensor ops; under ``create_graph=True`` they
build a graph of their own, which is what makes higher-order gradients work.

This module never imports ``tensor.py`` by name at import time: ops (layer 3) and
the Tensor class sit above it. It reaches the class through the module object to
wrap a forward result.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import threading
import weakref

from . import backend


# ---------------------------------------------------------------- grad mode
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
    """``with tr.no_grad():`` ops inside record no graph (inference, optimizer steps)."""

    def __init__(self):
        super().__init__(False)


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


# ---------------------------------------------------------------- the node
class Function:
    """One node of the graph: an op's ``forward`` (arrays in, array out) and its
    ``backward`` (gradient of the output in, gradients of the inputs out).

    Subclasses implement::

        def forward(self, *arrays, **params) -> array
        def backward(self, grad: Tensor) -> Tensor | None | tuple[Tensor | None, ...]

    ``forward`` may keep on ``self`` what ``backward`` needs. ``backward`` finds the
    input tensors in ``self.inputs`` and the output tensor in ``self.output``; it
    must use Tensor ops only, so that its own work can be differentiated.

    A few ops (``unbind``, ``split``) make several outputs: their ``forward``
    returns a tuple of arrays, ``apply`` returns a tuple of tensors, and their
    ``backward(*grads)`` gets one gradient per output (None for an output that
    received none).
    """

    returns_view = False  # True for ops whose output shares memory with their first input

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on tensors ``inputs``, recording the node if a gradient is wanted."""
        node = cls()
        arrays = [t.data for t in inputs]
        if len(arrays) > 1:
            backend.check_same_device(cls.__name__, arrays)
        node.xp = backend.module_of(arrays[0])
        with backend.device_of_array_context(arrays[0]):  # cuda:N runs on GPU N
            result = node.forward(*arrays, **params)
        several = isinstance(result, tuple)
        wrap = _tensor_module.Tensor._wrap
        outputs = tuple(wrap(r) for r in result) if several else (wrap(result),)
        if cls.returns_view:  # a view shares its base's version counter: writing to one changes both
            for out in outputs:
                out._version = inputs[0]._version
        # Integer and bool results (casts, comparisons) are flat almost everywhere: no graph.
        if (_grad_mode.enabled and outputs and outputs[0].data.dtype.kind == "f"
                and any(t.requires_grad for t in inputs)):
            node.inputs = inputs
            node.needs_input_grad = tuple(t.requires_grad for t in inputs)
            node.generation = 1 + max(t.grad_fn.generation if t.grad_fn else 0 for t in inputs)
            node.input_versions = tuple(t._version[0] for t in inputs)
            # Weak, so output -> grad_fn -> output is no cycle: the graph dies with its output.
            node.output_refs = tuple(weakref.ref(out) for out in outputs)
            node.output_versions = tuple(out._version[0] for out in outputs)
            for position, out in enumerate(outputs):
                out.requires_grad = True
                out.grad_fn = node
                out._output_nr = position
        return outputs if several else outputs[0]

    @property
    def output(self):
        """The tensor this node made (alive during backward: its consumers hold it)."""
        return self.output_refs[0]()

    @property
    def name(self) -> str:
        return type(self).__name__ + "Backward"

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must implement forward")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} must implement backward")

    def release(self) -> None:
        """Drop everything backward needed (inputs and saved arrays): the graph is freed."""
        generation, output_refs, versions = self.generation, self.output_refs, self.output_versions
        self.__dict__.clear()  # the graph's shape stays, its saved values go
        self.generation, self.output_refs, self.output_versions = generation, output_refs, versions
        self.inputs = None

    def __repr__(self) -> str:
        return f"<{self.name}>"


# ---------------------------------------------------------------- the engine
def _check_node_usable(node: Function) -> None:
    if node.inputs is None:
        raise RuntimeError(
            f"Trying to backward through the graph a second time (through {node.name}): "
            "its saved values were freed by the first backward. "
            "Pass retain_graph=True to the first backward() if you need to call it twice."
        )
    saved = [(f"input {i}", t, v) for i, (t, v) in enumerate(zip(node.inputs, node.input_versions))]
    saved += [(f"output {i}", ref(), v) for i, (ref, v) in enumerate(zip(node.output_refs, node.output_versions))]
    for what, tensor, version in saved:
        if tensor is not None and tensor._version[0] != version:
            raise RuntimeError(
                f"{what} of {node.name} (shape {tensor.shape}) was modified in place after it was "
                f"saved for backward (version {tensor._version[0]}, expected {version}); its gradient "
                "would be wrong. Modify a .clone() instead."
            )


def _run_hooks(tensor, grad):
    """Call the tensor's hooks on its complete gradient; a hook may return a replacement."""
    for hook in tensor._hooks.values():
        changed = hook(grad)
        grad = grad if changed is None else changed
    return grad


def _accumulate(store: dict, key, tensor, grad) -> None:
    entry = store.get(key)
    store[key] = (tensor, grad if entry is None else entry[1] + grad)


def _fit_gradient(grad, tensor, node):
    """A gradient has its tensor's dtype and shape; anything else is a bug in an op."""
    if grad.shape != tensor.shape:
        raise RuntimeError(
            f"{node.name} returned a gradient of shape {grad.shape} "
            f"for an input of shape {tensor.shape}"
        )
    return grad if grad.dtype == tensor.dtype else grad.to(tensor.dtype)


def initial_gradient(output, gradient, name: str):
    """The starting gradient of a backward pass: given, or 1 for a one-element output."""
    if gradient is None:
        if output.numel() != 1:
            raise RuntimeError(
                f"grad can be created implicitly only for one-element outputs, but this tensor has shape "
                f"{output.shape}: pass {name}= (a tensor of that shape), or reduce it first, e.g. .sum()"
            )
        return output.new_ones(output.shape)
    gradient = gradient if isinstance(gradient, _tensor_module.Tensor) else output.new_tensor(gradient)
    if gradient.shape != output.shape:
        raise ValueError(f"{name}: expected shape {output.shape} (the output's), got {gradient.shape}")
    if gradient.device != output.device:
        raise RuntimeError(f"{name}: expected device {output.device} (the output's), got {gradient.device}")
    return gradient if gradient.dtype == output.dtype else gradient.to(output.dtype)


def run_backward(outputs, grad_outputs, retain_graph: bool, create_graph: bool, inputs=None):
    """Propagate ``grad_outputs`` from ``outputs`` back through the graph.

    With ``inputs=None`` gradients are accumulated into every leaf's ``.grad``
    (``Tensor.backward``). Otherwise nothing is accumulated and the gradients of
    ``inputs`` are returned in order, ``None`` where one is unreachable (``tr.grad``).
    """
    wanted = None if inputs is None else {id(t): t for t in inputs}
    captured: dict[int, tuple] = {}
    leaf_grads: dict[int, tuple] = {}
    pending: dict[Function, list] = {}  # node -> gradient w.r.t. each of its outputs, summed so far
    heap: list = []
    tie = itertools.count()  # heap tie-breaker: nodes themselves are not comparable

    def send(tensor, grad):
        if tensor.grad_fn is None:
            target = leaf_grads if wanted is None else (captured if id(tensor) in wanted else None)
            if target is not None:
                _accumulate(target, id(tensor), tensor, grad)
            return
        node = tensor.grad_fn
        grads = pending.get(node)
        if grads is None:
            grads = pending[node] = [None] * len(node.output_refs)
            heapq.heappush(heap, (-node.generation, next(tie), node))
        slot = tensor._output_nr
        grads[slot] = grad if grads[slot] is None else grads[slot] + grad

    with _GradModeGuard(create_graph):
        for output, grad in zip(outputs, grad_outputs):
            send(output, grad)
        processed = []
        while heap:
            _, _, node = heapq.heappop(heap)
            grads = pending.pop(node)
            _check_node_usable(node)
            for slot, output_ref in enumerate(node.output_refs):
                output, grad = output_ref(), grads[slot]
                if output is None or grad is None:
                    continue
                grads[slot] = grad = _run_hooks(output, grad)
                if wanted is not None and id(output) in wanted:
                    _accumulate(captured, id(output), output, grad)
                if output._retains_grad and wanted is None:
                    output.grad = grad.detach() if output.grad is None else output.grad + grad.detach()
            input_grads = node.backward(*grads)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for tensor, needed, input_grad in zip(node.inputs, node.needs_input_grad, input_grads):
                if needed and input_grad is not None:
                    send(tensor, _fit_gradient(input_grad, tensor, node))
            processed.append(node)

        for key, (tensor, grad) in captured.items():
            if tensor.grad_fn is None:  # a leaf's gradient is complete only now
                captured[key] = (tensor, _run_hooks(tensor, grad))
        for tensor, grad in leaf_grads.values():
            grad = _run_hooks(tensor, grad)
            if not create_graph:
                grad = _tensor_module.Tensor._wrap(grad.data.copy())  # own memory, never a view
            tensor.grad = grad if tensor.grad is None else tensor.grad + grad

    if not retain_graph:
        for node in processed:
            node.release()
    if inputs is None:
        return None
    return tuple(captured[id(t)][1] if id(t) in captured else None for t in inputs)


def constant(array):
    """Wrap an array as a tensor outside any graph (masks and signs inside backward formulas)."""
    return _tensor_module.Tensor._wrap(array)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    ``grad_outputs`` weights each output (needed for outputs with more than one
    element). With ``create_graph=True`` the results carry a graph, so they can be
    differentiated again: that is how second derivatives are taken. An input that
    the outputs do not depend on raises an error, or gives None with ``allow_unused``.
    """
    single = isinstance(outputs, _tensor_module.Tensor)
    outputs = [outputs] if single else list(outputs)
    inputs = [inputs] if isinstance(inputs, _tensor_module.Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, _tensor_module.Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for position, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(f"grad: inputs[{position}] (shape {tensor.shape}) does not require grad")
    for position, output in enumerate(outputs):
        if not output.requires_grad:
            raise RuntimeError(f"grad: outputs[{position}] (shape {output.shape}) does not require grad")
    starts = [initial_gradient(o, g, f"grad_outputs[{i}]") for i, (o, g) in enumerate(zip(outputs, grad_outputs))]
    retain = create_graph if retain_graph is None else retain_graph
    results = run_backward(outputs, starts, retain, create_graph, inputs=inputs)
    for position, result in enumerate(results):
        if result is None and not allow_unused:
            raise RuntimeError(
                f"grad: inputs[{position}] (shape {inputs[position].shape}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it"
            )
    return results


# Last, because tensor.py (and the ops it uses) import this module: the Tensor class
# is only looked up when an op runs, long after both modules have loaded.
from . import tensor as _tensor_module  # noqa: E402
