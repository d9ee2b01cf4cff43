"""Layer 2: reverse-mode automatic differentiation. ``tr.autograd`` is this module.

How it works, in four sentences:

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

Each idea has its own file; this module gathers their public names:

- ``grad_mode.py``: whether ops record a graph (``no_grad``, ``enable_grad``, ...);
- ``function.py``: the node (``Function``) and how in-place writes rebase the graph;
- ``engine.py``: the backward walk (sentences 2 to 4) behind ``backward()`` and ``grad``;
- ``anomaly.py``: anomaly detection, which names the op that made the first NaN gradient.
"""

from __future__ import annotations

from .anomaly import anomaly_mode, detect_anomaly, set_detect_anomaly
from .engine import clear_grad, grad, initial_gradient, run_backward
from .function import (
    Function,
    _mark_views,
    _refuse_stale_view,
    adopt_history,
    constant,
    join_history,
    split_history,
)
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = [
    "Function", "adopt_history", "anomaly_mode", "clear_grad", "constant", "detect_anomaly", "enable_grad", "grad",
    "initial_gradient", "is_grad_enabled", "join_history", "no_grad", "run_backward", "set_detect_anomaly",
    "set_grad_enabled", "split_history", "_mark_views", "_refuse_stale_view",
]

# Last, because tensor.py (and the ops it uses) import this module: the Tensor class is
# handed to the node and the engine only now, and used only when an op runs.
from . import engine as _engine  # noqa: E402
from . import function as _function  # noqa: E402
from . import tensor as _tensor_module  # noqa: E402

_function._tensor_module = _engine._tensor_module = _tensor_module
_function._wrap = _tensor_module.Tensor._wrap
