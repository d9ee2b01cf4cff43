"""``tr.graph``: see the graph behind a tensor, and watch the backward pass walk it.

- ``show(t, names=...)``: the graph as an indented text tree (works after ``backward()``);
- ``to_dot(t, ...)`` / ``render(t, "graph.svg")``: the graph as a Graphviz drawing;
- ``trace()``: a ``with`` block printing every forward op and every backward node, with the
  norms of the gradients as they flow (``TINYGRAD_RNN_TRACE=1`` traces a whole script).

The structure comes from ``grad_fn.next_functions`` (``function.py``), as in PyTorch.
"""

from ..function import AccumulateGrad
from .dot import render, to_dot
from .text import show
from .tracing import Tracer, trace, trace_from_environment

__all__ = ["AccumulateGrad", "Tracer", "render", "show", "to_dot", "trace", "trace_from_environment"]
