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
import os
import threading
import traceback
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


# ---------------------------------------------------------------- anomaly detection
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
        if grad is not None and not bool(grad.xp.isfinite(grad.data).all()):
            shapes = ", ".join(str(t.shape) for t in node.inputs)
            bad = "NaN" if bool(grad.xp.isnan(grad.data).any()) else "inf"
            made_at = node.__dict__.get("created_at", "(not recorded: the op ran before detection was switched on)")
            raise RuntimeError(
                f"anomaly detected: {node.name} returned {bad} in the gradient of its input {position} "
                f"(input shapes {shapes}). Its forward op was made at {made_at}"
            )


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
    view_index = None  # for a view made by basic indexing: the index (an in-place write may go through it)
    # What backward reads the *values* of (PyTorch's "saved tensors"). Only those are checked
    # against in-place changes: ``h = x @ w; h += b`` is fine (matmul never reads its output),
    # ``y = x.tanh(); y += 1`` is refused at backward (tanh's derivative reads y). Safe default: both.
    saves_inputs = True
    saves_output = True

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
        if node.returns_view:  # a view shares its base's memory and version counter
            _mark_views(inputs[0], outputs, node.view_index)
        if not _grad_mode.enabled:
            return outputs if several else outputs[0]
        wanted = False
        for t in inputs:  # one pass (this runs for every op): stale views, and whether a gradient is wanted
            if t._base is not None and t._base.grad_fn is not t._base_grad_fn:
                _refuse_stale_view(cls, t)
            wanted = wanted or t.requires_grad
        # Integer and bool results (casts, comparisons) are flat almost everywhere: no graph.
        if wanted and outputs[0].data.dtype.kind == "f":
            node.inputs = inputs
            # Where each input's gradient goes, fixed now: an in-place write may later give the
            # input tensor a new grad_fn, but this node consumed the value from before the write.
            node.input_edges = edges = tuple((t.grad_fn, t._output_nr) for t in inputs)
            node.needs_input_grad = tuple(t.requires_grad for t in inputs)
            node.generation = 1 + max(fn.generation if fn else 0 for fn, _ in edges)
            node.input_versions = tuple(t._version[0] for t in inputs)
            # Weak, so output -> grad_fn -> output is no cycle: the graph dies with its output.
            node.output_refs = tuple(weakref.ref(out) for out in outputs)
            node.output_versions = tuple(out._version[0] for out in outputs)
            if anomaly_mode.enabled:
                node.created_at = _user_frame()
            for position, out in enumerate(outputs):
                out.requires_grad = True
                out.grad_fn = node
                out._output_nr = position
        return outputs if several else outputs[0]

    def read_inputs(self):
        """Positions of the inputs whose values backward reads (checked for in-place changes)."""
        return range(len(self.inputs)) if self.saves_inputs else ()

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
        kept = {k: self.__dict__[k] for k in ("generation", "output_refs", "output_versions", "input_edges")}
        self.__dict__.clear()  # the graph's shape stays, its saved values go
        self.__dict__.update(kept)
        self.inputs = None

    def __repr__(self) -> str:
        return f"<{self.name}>"



# ---------------------------------------------------------------- views and in-place writes
def _mark_views(source, outputs, index) -> None:
    """Outputs of a view op share ``source``'s memory and version counter. Each remembers its
    root base and the base's ``grad_fn`` at this moment: if an in-place write later gives the
    base a new history, the view's own history is stale, and using it raises (see below).
    A view made by basic indexing of the base itself also keeps the ``index``: a write into
    the view is then a write into ``base[index]`` (``Tensor._write_through_view``)."""
    base = source if source._base is None else source._base
    for out in outputs:
        out._version = source._version
        out._base = base
        out._base_grad_fn = base.grad_fn
        out._view_index = index if source._base is None else None


def _refuse_stale_view(op, view) -> None:
    raise RuntimeError(
        f"{op.__name__}: an input (shape {view.shape}) is a view of a tensor (shape {view._base.shape}) that was "
        "written in place after the view was taken; the view's values changed but its gradient history did "
        "not, so its gradient would be wrong. Take the view again after the write (e.g. index the base anew)."
    )


def split_history(tensor, copy_values: bool):
    """Before an in-place write to ``tensor``: a new tensor object that takes over its past.

    The returned ``old`` stands for the values before the write: it gets the tensor's
    ``grad_fn`` (the node that made those values now names ``old`` as its output), its hooks
    (they see the gradient of the value they were registered on, as in PyTorch) and, unless
    ``copy_values``, its memory and version counter, so a node that saved the old values and
    reads them in backward sees the write and refuses. With ``copy_values`` (the write's own
    backward reads the old values, as ``mul_`` does) ``old`` keeps a copy instead.
    """
    old = _tensor_module.Tensor._wrap(tensor.data.copy() if copy_values else tensor.data)
    if copy_values:
        old._version = [tensor._version[0]]
    else:
        old._version = tensor._version
    old.requires_grad, old.grad_fn, old._output_nr = tensor.requires_grad, tensor.grad_fn, tensor._output_nr
    old._hooks, tensor._hooks = tensor._hooks, {}
    if tensor.grad_fn is not None:
        _retarget_output(tensor.grad_fn, tensor._output_nr, old)
    return old


def join_history(tensor, old) -> None:
    """Undo ``split_history`` when the write failed before anything was written."""
    tensor._hooks = old._hooks
    if old.grad_fn is not None:
        _retarget_output(old.grad_fn, old._output_nr, tensor)


def adopt_history(tensor, result) -> None:
    """After an in-place write: ``tensor`` holds ``result``'s values, so it becomes the output
    of the node that made ``result`` (the write's node). Its identity and memory stay."""
    node = result.grad_fn
    tensor.grad_fn, tensor._output_nr = node, result._output_nr
    if node is not None:
        tensor.requires_grad = True
        _retarget_output(node, result._output_nr, tensor)


def _retarget_output(node, slot: int, tensor) -> None:
    refs, versions = list(node.output_refs), list(node.output_versions)
    refs[slot], versions[slot] = weakref.ref(tensor), tensor._version[0]
    node.output_refs, node.output_versions = tuple(refs), tuple(versions)


# ---------------------------------------------------------------- the engine
def _check_node_usable(node: Function) -> None:
    if node.inputs is None:
        raise RuntimeError(
            f"Trying to backward through the graph a second time (through {node.name}): "
            "its saved values were freed by the first backward. "
            "Pass retain_graph=True to the first backward() if you need to call it twice."
        )
    saved = [(f"input {i}", node.inputs[i], node.input_versions[i]) for i in node.read_inputs()]
    if node.saves_output:
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

    def send_to_leaf(tensor, grad):
        target = leaf_grads if wanted is None else (captured if id(tensor) in wanted else None)
        if target is not None:
            _accumulate(target, id(tensor), tensor, grad)

    def send_to_node(node, slot, grad):
        grads = pending.get(node)
        if grads is None:
            grads = pending[node] = [None] * len(node.output_refs)
            heapq.heappush(heap, (-node.generation, next(tie), node))
        grads[slot] = grad if grads[slot] is None else grads[slot] + grad

    with _GradModeGuard(create_graph):
        for output, grad in zip(outputs, grad_outputs):
            if output.grad_fn is None:
                send_to_leaf(output, grad)
            else:
                send_to_node(output.grad_fn, output._output_nr, grad)
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
            if anomaly_mode.enabled:
                _check_finite(node, input_grads)
            for tensor, (fn, slot), needed, input_grad in zip(
                node.inputs, node.input_edges, node.needs_input_grad, input_grads
            ):
                if needed and input_grad is not None:
                    input_grad = _fit_gradient(input_grad, tensor, node)
                    if fn is None:
                        send_to_leaf(tensor, input_grad)
                    else:
                        send_to_node(fn, slot, input_grad)
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
