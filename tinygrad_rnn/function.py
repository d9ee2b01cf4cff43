"""The graph node: ``Function``, and what happens to the graph when a tensor is written in place.

``Function.apply`` runs an op's ``forward`` on raw arrays, wraps the result in a Tensor and,
when a gradient is wanted, records the node: its inputs, where each input's gradient goes
(``input_fns`` and ``input_slots``), the versions of what backward will read, and weak references to its
outputs. That record is the graph; ``engine.py`` walks it backwards.

The second half is the in-place machinery (docs/architecture.md, "In-place writes"): views
share their base's version counter, and a write *rebases* the graph (``split_history`` and
``adopt_history``) so that earlier consumers keep the old value's history and later ones
differentiate through the write.

This module never imports ``tensor.py`` by name at import time: the Tensor class sits above
it. It reaches the class through the module object, imported at the very end.
"""

from __future__ import annotations

import weakref

import numpy as np

from . import backend
from .anomaly import _user_frame, anomaly_mode
from .grad_mode import _grad_mode  # one thread-local object: read its .enabled on each op


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

    xp = np  # the array module forward computes with; ``apply`` sets CuPy (or the strict module) per node

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on tensors ``inputs``, recording the node if a gradient is wanted.

        This runs for every op, forward and (as backward formulas are ops too) backward, so
        it is written for speed: NumPy inputs take a short road (no device checks, no device
        context: a CPU array needs neither), and the record is made with plain loops."""
        node = cls()
        arrays = [t.array for t in inputs]
        for array in arrays:
            if type(array) is not _ndarray:  # CuPy, the strict test device: check devices, enter GPU N
                result = node._forward_on_device(arrays, params)
                break
        else:
            result = node.forward(*arrays, **params)
        if type(result) is tuple:  # ops with several outputs (unbind, split)
            outputs = tuple(_wrap(r) for r in result)
        else:
            outputs = (_wrap(result),)
        if node.returns_view:  # a view shares its base's memory and version counter
            _mark_views(inputs[0], outputs, node.view_index)
        if _grad_mode.enabled:
            deepest = -1  # the deepest generation among inputs that want a gradient; -1: none does
            for t in inputs:  # one pass: stale views, and whether (and how deep) a gradient is wanted
                if t._base is not None and t._base.grad_fn is not t._base_grad_fn:
                    _refuse_stale_view(cls, t)
                if t.requires_grad:
                    fn = t.grad_fn
                    depth = 0 if fn is None else fn.generation
                    if depth > deepest:
                        deepest = depth
            # Integer and bool results (casts, comparisons) are flat almost everywhere: no graph.
            if deepest >= 0 and outputs[0].array.dtype.kind == "f":
                node._record(inputs, outputs, deepest + 1)
        if tracer is not None:
            tracer.forward(cls, inputs, outputs, outputs[0].grad_fn)
        return outputs if type(result) is tuple else outputs[0]

    def _forward_on_device(self, arrays, params):
        """``forward`` for arrays that are not NumPy's: all on one device, run on that device."""
        if len(arrays) > 1:
            backend.check_same_device(type(self).__name__, arrays)
        self.xp = backend.module_of(arrays[0])
        with backend.device_of_array_context(arrays[0]):  # cuda:N runs on GPU N
            return self.forward(*arrays, **params)

    def _record(self, inputs, outputs, generation: int) -> None:
        """Make this node the ``grad_fn`` of ``outputs``: remember what backward needs.

        ``generation`` is one more than the deepest input's: the engine's order. This runs
        for every op that records, so it makes as few new objects as it can (see below)."""
        self.inputs = inputs
        self.generation = generation
        # Where each input's gradient goes, fixed now: an in-place write may later give the
        # input tensor a new grad_fn, but this node consumed the value from before the write.
        # Input i's gradient goes to output ``input_slots[i]`` of node ``input_fns[i]`` (None for
        # a leaf or a constant). Slots, flags and versions are nearly always the same few tuples
        # (all zeros, ``(True, False)``): one shared copy of each (``_shared``, ``_zeros``) spares
        # the garbage collector new objects per op; it rescans every object of a growing graph.
        fns, slots, needs, versions = [], [], [], []
        for t in inputs:
            fns.append(t.grad_fn)
            slots.append(t._output_nr)
            needs.append(t.requires_grad)
            counter = t._version_counter  # None: never written, version 0 (Tensor._version)
            versions.append(0 if counter is None else counter[0])
        self.input_fns = tuple(fns)
        self.input_slots = _zeros(len(slots)) if not any(slots) else tuple(slots)
        self.needs_input_grad = _shared(tuple(needs))
        self.input_versions = _zeros(len(versions)) if not any(versions) else tuple(versions)
        if anomaly_mode.enabled:
            self.created_at = _user_frame()
        # Weak, so output -> grad_fn -> output is no cycle: the graph dies with its output.
        if len(outputs) == 1:
            out = outputs[0]
            counter = out._version_counter
            self.output_refs = (weakref.ref(out),)
            self.output_versions = _ZERO_VERSION if counter is None else (counter[0],)
            out.requires_grad = True
            out.grad_fn = self
            return
        self.output_refs = tuple([weakref.ref(out) for out in outputs])
        self.output_versions = tuple([out._version for out in outputs])
        for position, out in enumerate(outputs):
            out.requires_grad = True
            out.grad_fn = self
            out._output_nr = position

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
        """Drop everything backward needed (inputs and saved arrays): the graph is freed.

        The graph's *structure* stays walkable (``next_functions``, ``tr.graph.show``): the
        edges, which inputs wanted a gradient, weak references to the leaf inputs (the
        ``AccumulateGrad.variable`` of each) and the shape and dtype of every input and
        output (what the reprs print). The engine releases the nodes of a walk from the
        leaves' end, so a node's outputs are still alive (its consumers hold them) when it
        records their shapes. This runs once per node per backward: one pass, no lookups."""
        d = self.__dict__
        inputs = d.get("inputs")
        if inputs is None:  # freed already (or never recorded): nothing left to drop
            return
        needs, fns, refs = d["needs_input_grad"], d["input_fns"], d["output_refs"]
        leaves = None
        for position, fn in enumerate(fns):
            if fn is None and needs[position]:
                if leaves is None:
                    leaves = [None] * len(inputs)
                leaves[position] = weakref.ref(inputs[position])  # weak: a freed graph keeps no parameter alive
        outputs = [ref() for ref in refs]
        self.__dict__ = {  # the graph's shape stays, its saved values go
            "generation": d["generation"], "output_refs": refs, "output_versions": d["output_versions"],
            "input_fns": fns, "input_slots": d["input_slots"], "needs_input_grad": needs, "inputs": None,
            "input_meta": tuple([(t.array.shape, t.array.dtype) for t in inputs]),
            "_output_meta": [None if out is None else (out.array.shape, out.array.dtype) for out in outputs],
            "_leaf_refs": None if leaves is None else tuple(leaves),
        }

    def output_meta(self) -> tuple:
        """``(shape, dtype)`` of each output (None where unknown: the output is gone and the
        node was never freed by a backward that saw it). Read from the live outputs, else
        from what ``release`` recorded; nothing is stored while ops run."""
        refs = self.__dict__.get("output_refs", ())
        known = self.__dict__.get("_output_meta") or [None] * len(refs)
        result = []
        for slot, ref in enumerate(refs):
            out = ref()
            result.append((out.shape, out.dtype) if out is not None else known[slot])
        return tuple(result)

    @property
    def next_functions(self) -> tuple:
        """PyTorch's ``grad_fn.next_functions``: one ``(node, output_index)`` pair per input.

        For an input made by an op, the node that made it and which of its outputs it is; for a
        leaf that requires grad, ``(AccumulateGrad, 0)`` (the same object for the same leaf,
        its ``.variable`` the leaf); ``(None, 0)`` for an input that needs no gradient. This
        is the graph's structure, so it survives ``backward()`` (which frees the saved values)."""
        fns = self.__dict__.get("input_fns")
        if fns is None:  # a node that recorded nothing (no input wanted a gradient)
            return ()
        inputs = self.__dict__.get("inputs")
        leaf_refs = self.__dict__.get("_leaf_refs")
        pairs = []
        for i, (fn, slot, need) in enumerate(zip(fns, self.input_slots, self.needs_input_grad)):
            if fn is not None:
                pairs.append((fn, slot))
            elif not need:
                pairs.append((None, 0))
            else:
                leaf = inputs[i] if inputs is not None else leaf_refs[i]() if leaf_refs else None
                pairs.append((AccumulateGrad.of(leaf), 0))
        return tuple(pairs)

    def __repr__(self) -> str:
        """``<TanhBackward (16, 64) float32>``: the node's name, its output's shape and dtype."""
        meta = self.output_meta()
        if not meta or all(m is None for m in meta):
            return f"<{self.name}>"
        if len(meta) == 1:
            return f"<{self.name} {_describe(meta[0])}>"
        if all(m == meta[0] for m in meta):
            return f"<{self.name} {len(meta)} outputs {_describe(meta[0])}>"
        return f"<{self.name} outputs {', '.join(_describe(m) for m in meta)}>"


_shared_tuples: dict = {}


def _shared(flags: tuple) -> tuple:
    """One shared copy of a tuple of bools such as ``(True, False)`` (there are few of them)."""
    return _shared_tuples.setdefault(flags, flags)


def _zeros(n: int) -> tuple:
    """One shared ``(0,) * n``: the versions of inputs never written in place (nearly all of them)."""
    return _shared_tuples.setdefault(n, (0,) * n)


_ZERO_VERSION = _zeros(1)  # a fresh output's versions, looked up once


def _describe(meta) -> str:
    """``(16, 64) float32`` for a ``(shape, dtype)`` pair; ``?`` when unknown."""
    return "?" if meta is None else f"{tuple(meta[0])} {meta[1]}"


class AccumulateGrad:
    """PyTorch's ``AccumulateGrad``: where the graph ends at a leaf that requires grad.

    ``Tensor.backward`` adds the leaf's gradient into ``variable.grad`` (``grad += dL/dleaf``);
    this object only names that end of an edge for ``next_functions`` and the graph tools.
    ``variable`` is the leaf tensor (None if it was freed after the graph was); the same leaf
    always gives the same object while it is referenced, as in PyTorch."""

    __slots__ = ("variable", "__weakref__")
    next_functions = ()
    name = "AccumulateGrad"

    def __init__(self, variable):
        self.variable = variable

    @classmethod
    def of(cls, leaf) -> AccumulateGrad:
        """The ``AccumulateGrad`` of ``leaf`` (one per leaf, as in PyTorch)."""
        if leaf is None:
            return cls(None)
        found = _accumulators.get(id(leaf))
        if found is None or found.variable is not leaf:
            found = _accumulators[id(leaf)] = cls(leaf)  # it holds the leaf, so the id stays unique
        return found

    def __repr__(self) -> str:
        v = self.variable
        return "<AccumulateGrad>" if v is None else f"<AccumulateGrad {tuple(v.shape)} {v.dtype}>"


# One AccumulateGrad per live leaf, by id: weak values, so it goes when nobody holds it.
_accumulators: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


# ---------------------------------------------------------------- views and in-place writes
def _mark_views(source, outputs, index) -> None:
    """Outputs of a view op share ``source``'s memory and version counter. Each remembers its
    root base and the base's ``grad_fn`` at this moment: if an in-place write later gives the
    base a new history, the view's own history is stale, and using it raises (see below).
    A view made by basic indexing of the base itself also keeps the ``index``: a write into
    the view is then a write into ``base[index]`` (``Tensor._write_through_view``)."""
    base = source if source._base is None else source._base
    counter = source._shared_version_counter()
    for out in outputs:
        out._version_counter = counter
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
    old = _tensor_module.Tensor._wrap(tensor.array.copy() if copy_values else tensor.array)
    if copy_values:
        old._version_counter = [tensor._version]
    else:
        old._version_counter = tensor._shared_version_counter()
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
    refs[slot], versions[slot] = weakref.ref(tensor), tensor._version
    node.output_refs, node.output_versions = tuple(refs), tuple(versions)


def constant(array):
    """Wrap an array as a tensor outside any graph (masks and signs inside backward formulas)."""
    return _tensor_module.Tensor._wrap(array)


# The graph tracer (``tinygrad_rnn.graph.trace``): None, or an object whose ``forward(op, inputs,
# outputs, node)`` is called after every op and whose ``backward(node, output_grads, input_grads)``
# the engine calls after every node's backward. One global lookup per op when tracing is off.
tracer = None

_ndarray = np.ndarray

# The Tensor class sits above this module, so it cannot be imported here: autograd.py sets
# this to the ``tensor`` module, and ``_wrap`` to ``Tensor._wrap``, once both have loaded.
_tensor_module = None
_wrap = None
