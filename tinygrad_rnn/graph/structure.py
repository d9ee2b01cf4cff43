"""What the graph tools share: the edges out of a node, the shape on each edge, and names.

A node's edges are PyTorch's ``next_functions`` (``function.py``): a ``Function`` made the
input, an ``AccumulateGrad`` stands for a leaf that requires grad, and ``None`` for a constant.
The shape and dtype of the tensor on an edge come from the consumer (its live inputs before
``backward()``, what ``release()`` recorded after), so they are known even when that tensor
itself is gone.
"""

from __future__ import annotations

from ..function import AccumulateGrad, Function
from ..tensor import Tensor


def edge_info(node: Function, position: int):
    """``(shape, dtype)`` of ``node``'s input ``position``, or None if nothing recorded it."""
    inputs = node.__dict__.get("inputs")
    if inputs is not None:
        return inputs[position].shape, inputs[position].dtype
    meta = node.__dict__.get("input_meta")
    return None if meta is None else meta[position]


def describe(info) -> str:
    """``(3, 4) float32`` for a ``(shape, dtype)`` pair, ``?`` when unknown."""
    return "?" if info is None else f"{tuple(info[0])} {info[1]}"


class Names:
    """Labels for tensors, from a dict name -> value (``dict(model.named_parameters())``,
    ``locals()``); values that are not tensors are ignored. A leaf is found by identity; a
    tensor made by an op by its place in the graph (its ``grad_fn`` and output slot), so the
    label holds on the node even when the walk never sees the tensor object itself."""

    def __init__(self, names):
        if names is not None and not isinstance(names, dict):
            raise TypeError(f"names: expected a dict name -> tensor (or None), got {type(names).__name__}")
        self.leaves: dict[int, str] = {}
        self.outputs: dict[tuple, str] = {}
        for name, value in (names or {}).items():
            if not isinstance(value, Tensor):
                continue
            if value.grad_fn is None:
                self.leaves.setdefault(id(value), str(name))  # the first name wins
            else:
                self.outputs.setdefault((id(value.grad_fn), value._output_nr), str(name))

    def of_leaf(self, leaf) -> str | None:
        return None if leaf is None else self.leaves.get(id(leaf))

    def of_output(self, node: Function, slot: int) -> str | None:
        return self.outputs.get((id(node), slot))


def check_tensor(where: str, t) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{where}: expected a Tensor, got {type(t).__name__}")


def count_nodes(root: Function) -> int:
    """How many ``Function`` nodes ``root`` depends on, itself included (iterative: no recursion)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        for fn, _ in stack.pop().next_functions:
            if isinstance(fn, Function) and id(fn) not in seen:
                seen.add(id(fn))
                stack.append(fn)
    return len(seen)


__all__ = ["AccumulateGrad", "Function", "Names", "check_tensor", "count_nodes", "describe", "edge_info"]
