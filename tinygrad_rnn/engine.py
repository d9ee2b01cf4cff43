"""The backward pass: walk the graph from the outputs to the leaves, applying the chain rule.

The walk (``_walk``) is written once, in the four steps of docs/architecture.md, and used by
two short functions: ``run_backward`` (``Tensor.backward``: add the gradients into every
leaf's ``.grad``) and ``grad`` (``tr.grad``: return the gradients of chosen tensors).

The order comes from generation numbers (a node's generation is one more than its deepest
input's) and a heap, never from recursion, so a 100,000-op chain works. Backward formulas
are written with Tensor ops; under ``create_graph=True`` they record a graph of their own,
which is what makes higher-order gradients work.
"""

from __future__ import annotations

import heapq
import itertools
import operator

import numpy as np

from . import backend
from . import function as _function
from .anomaly import _check_finite, anomaly_mode
from .grad_mode import _GradModeGuard


def _walk(outputs, grad_outputs, retain_graph: bool, create_graph: bool, wanted: dict | None) -> dict:
    """Propagate ``grad_outputs`` from ``outputs`` back through the graph.

    Returns ``{id(tensor): (tensor, complete gradient, owned)}`` for the tensors in ``wanted``
    (id -> tensor) that the walk reached, or, with ``wanted=None``, for every leaf reached
    (then tensors that asked for ``retain_grad`` get their ``.grad`` on the way). ``owned``: the
    gradient's array was made by this walk and nothing else holds it (see ``sums`` below).
    """
    leaves: dict[int, list] = {}  # id(leaf) -> [leaf, gradient summed so far]; complete only at the end
    found: dict[int, tuple] = {}  # complete gradients of wanted non-leaf tensors
    pending: dict = {}  # node -> gradient w.r.t. each of its outputs, summed so far
    heap: list = []
    tie = itertools.count()  # heap tie-breaker: nodes themselves are not comparable
    # Summing the gradients of several uses is the engine's own plumbing. Under create_graph the
    # sum must be an op (it is differentiated again). Otherwise no graph is wanted: the first sum
    # for a destination is a new array of the engine's own (``sums`` holds the ids of these until
    # they are handed on), and later gradients are added into it in place. A weight used at every
    # time step thus gets one array, not one per step. A gradient received once is never written
    # into: an op's backward may have handed the same tensor to another input too.
    sums: set = set()

    def add_to_own_sum(total, grad):
        if id(total) in sums:
            _add_into(total, grad)
            return total
        total = _add_arrays(total, grad)
        sums.add(id(total))
        return total

    plus = operator.add if create_graph else add_to_own_sum

    def send(tensor, node, slot, grad) -> None:
        """Add ``grad`` to what output ``slot`` of ``node`` has received; node None: ``tensor`` is a leaf."""
        if node is None:
            if wanted is None or id(tensor) in wanted:
                entry = leaves.get(id(tensor))
                if entry is None:
                    leaves[id(tensor)] = [tensor, grad]
                else:
                    entry[1] = plus(entry[1], grad)
            return
        grads = pending.get(node)
        if grads is None:
            grads = pending[node] = [None] * len(node.output_refs)
            heapq.heappush(heap, (-node.generation, next(tie), node))
        grads[slot] = grad if grads[slot] is None else plus(grads[slot], grad)

    processed = []
    with _GradModeGuard(create_graph):  # backward formulas record a graph only for create_graph
        for output, grad in zip(outputs, grad_outputs):
            send(output, output.grad_fn, output._output_nr, grad)
        while heap:
            # 1. The deepest node left: every node that consumed its outputs has run, so the
            #    gradients it received are complete (the sum over all uses).
            node = heapq.heappop(heap)[2]
            grads = pending.pop(node)
            if sums:  # handed on now: from here on other tensors may share them
                for grad in grads:
                    sums.discard(id(grad))
            _check_node_usable(node)
            # 2. Its outputs' gradients are final: hooks may change them; retain_grad and tr.grad read them.
            for slot, output_ref in enumerate(node.output_refs):
                output, grad = output_ref(), grads[slot]
                if output is None or grad is None:
                    continue
                if output._hooks:
                    grads[slot] = grad = _run_hooks(output, grad)
                if wanted is None:
                    if output._retains_grad:
                        output.grad = grad.detach() if output.grad is None else output.grad + grad.detach()
                elif id(output) in wanted:
                    _accumulate(found, output, grad, plus)
            # 3. The chain rule: gradient w.r.t. the outputs in, gradients w.r.t. the inputs out.
            if node.xp is np:
                input_grads = node.backward(*grads)
            else:  # CuPy: array code in a backward runs on the GPU that holds the node's values (cuda:N)
                with backend.device_of_array_context(node.inputs[0].array):
                    input_grads = node.backward(*grads)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if anomaly_mode.enabled:
                _check_finite(node, input_grads)
            if _function.tracer is not None:  # tinygrad_rnn.graph.trace: the backward pass, step by step
                _function.tracer.backward(node, grads, input_grads)
            # 4. Each input's gradient goes along the edge recorded in the forward pass.
            for tensor, fn, slot, needed, input_grad in zip(node.inputs, node.input_fns, node.input_slots,
                                                            node.needs_input_grad, input_grads):
                if needed and input_grad is not None:
                    array, expected = input_grad.array, tensor.array
                    if array.shape != expected.shape or array.dtype != expected.dtype:
                        input_grad = _fit_gradient(input_grad, tensor, node)
                    send(tensor, fn, slot, input_grad)
            processed.append(node)
        for tensor, grad in leaves.values():  # a leaf's gradient is complete only now
            hooked = _run_hooks(tensor, grad) if tensor._hooks else grad
            found[id(tensor)] = (tensor, hooked, hooked is grad and id(grad) in sums)
    if not retain_graph:
        for node in reversed(processed):  # leaves' end first: each node's outputs are still alive to describe
            node.release()
    return found


def run_backward(outputs, grad_outputs, retain_graph: bool, create_graph: bool) -> None:
    """``Tensor.backward``: add d(outputs)/d(leaf), weighted by ``grad_outputs``, into every leaf's ``.grad``.

    As in PyTorch, a ``.grad`` that exists is added into in place (``grad += new``: a reference to
    ``p.grad`` sees the sum), except under ``create_graph``, where the sum is an op of the graph."""
    for tensor, grad, owned in _walk(outputs, grad_outputs, retain_graph, create_graph, wanted=None).values():
        existing = tensor.grad
        if create_graph:
            tensor.grad = grad if existing is None else existing + grad
        elif existing is None:
            tensor.grad = grad if owned else _function.constant(grad.array.copy())  # own memory, never a view
        elif _can_add_in_place(existing, grad):
            _add_into(existing, grad)
            existing._bump_version()
        else:
            tensor.grad = existing + grad


def clear_grad(tensor, set_to_none: bool) -> None:
    """``zero_grad`` for one tensor, as PyTorch does it: ``.grad = None``, or the ``.grad`` zeroed in
    place (a reference to ``p.grad`` sees the zeros, and the next backward adds into the same array).
    A gradient that is part of a graph (made under ``create_graph``), or memory that may not be
    written, is replaced by fresh zeros instead (PyTorch detaches the first in place)."""
    grad = tensor.grad
    if grad is None:
        return
    if set_to_none:
        tensor.grad = None
    elif grad.grad_fn is None and _writable(grad.array):
        grad.requires_grad = False  # as PyTorch's requires_grad_(False) before zero_()
        with _GradModeGuard(False):
            grad.zero_()
    else:
        tensor.grad = grad.new_zeros(grad.shape)


def _can_add_in_place(existing, grad) -> bool:
    """``existing += grad`` gives the values ``existing + grad`` would: one array type, shape, dtype and
    device, and memory that may be written (a ``.grad`` the user set to a broadcast view may not)."""
    a, b = existing.array, grad.array
    if type(a) is not type(b) or a.shape != b.shape or a.dtype != b.dtype:
        return False
    return _writable(a) and (type(a) is np.ndarray or existing.device == grad.device)


def _writable(array) -> bool:
    """Memory that may be written (NumPy marks broadcast views and some borrowed memory read-only)."""
    return type(array) is not np.ndarray or array.flags.writeable


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
    found = _walk(outputs, starts, retain, create_graph, wanted={id(t): t for t in inputs})
    results = tuple(found[id(t)][1] if id(t) in found else None for t in inputs)
    for position, result in enumerate(results):
        if result is None and not allow_unused:
            raise RuntimeError(
                f"grad: inputs[{position}] (shape {inputs[position].shape}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it"
            )
    return results


# ---------------------------------------------------------------- the walk's helpers
def _check_node_usable(node) -> None:
    """Refuse a node whose graph was freed, or whose saved values were changed in place since."""
    inputs = node.inputs
    if inputs is None:
        raise RuntimeError(
            f"Trying to backward through the graph a second time (through {node.name}): "
            "its saved values were freed by the first backward. "
            "Pass retain_graph=True to the first backward() if you need to call it twice."
        )
    for i in node.read_inputs():
        if inputs[i]._version != node.input_versions[i]:
            _refuse_modified(node, f"input {i}", inputs[i], node.input_versions[i])
    if node.saves_output:
        for i, (ref, version) in enumerate(zip(node.output_refs, node.output_versions)):
            tensor = ref()
            if tensor is not None and tensor._version != version:
                _refuse_modified(node, f"output {i}", tensor, version)


def _refuse_modified(node, what: str, tensor, version: int) -> None:
    raise RuntimeError(
        f"{what} of {node.name} (shape {tensor.shape}) was modified in place after it was "
        f"saved for backward (version {tensor._version}, expected {version}); its gradient "
        "would be wrong. Modify a .clone() instead."
    )


def _run_hooks(tensor, grad):
    """Call the tensor's hooks on its complete gradient; a hook may return a replacement."""
    for hook in tensor._hooks.values():
        changed = hook(grad)
        grad = grad if changed is None else changed
    return grad


def _accumulate(store: dict, tensor, grad, plus) -> None:
    entry = store.get(id(tensor))
    store[id(tensor)] = (tensor, grad if entry is None else plus(entry[1], grad), False)


def _add_into(total, grad) -> None:
    """``total += grad`` on the arrays themselves, on their device (GPU N for cuda:N)."""
    if type(total.array) is np.ndarray:
        total.array += grad.array
    else:
        with backend.device_of_array_context(total.array):
            total.array += grad.array


def _add_arrays(a, b):
    """``a + b`` for two gradients of one dtype and shape, outside any graph (NumPy: the arrays
    directly; other devices through the op, which runs on the arrays' device)."""
    if type(a.array) is np.ndarray:
        return _function.constant(a.array + b.array)
    return a + b


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


# The Tensor class sits above this module, so it cannot be imported here: autograd.py sets
# this to the ``tensor`` module once both have loaded (it is looked up only when ops run).
_tensor_module = None
