"""``show``: the graph behind a tensor as an indented text tree."""

from __future__ import annotations

import sys

from .structure import AccumulateGrad, Function, Names, check_tensor, count_nodes, describe, edge_info


def show(t, names=None, file=None, max_lines: int = 2000) -> str:
    """Print, and return, everything ``t`` depends on as an indented tree, ``t`` first.

    Each op's line gives its node, the shape and dtype of what it made, and a number
    (``#3``); its inputs follow, indented. Leaves say ``leaf`` (and ``requires_grad``),
    inputs that need no gradient say ``constant``. ``names``, a dict name -> tensor
    (``dict(model.named_parameters())``, ``locals()``: values that are not tensors are
    ignored), labels tensors. A node reached a second time (a shared subgraph, a tensor
    used twice) is printed once and referred to afterwards as ``(see above #3)``, so the
    text grows with the number of nodes, not of paths. Only the graph's structure is read,
    so it works after ``backward()`` too. Output stops after ``max_lines`` lines.

    ``file``: a file object (default ``sys.stdout``) or a list to append the lines to.
    For ``y = (x * w).tanh().sum()`` with ``names=locals()``::

        #1 y: SumBackward () float32
          #2 TanhBackward (3,) float32
            #3 MulBackward (3,) float32
              x: leaf (3,) float32 requires_grad
              w: leaf (3,) float32 requires_grad
    """
    check_tensor("show", t)
    if not isinstance(max_lines, int) or max_lines < 1:
        raise ValueError(f"show: max_lines must be a positive int, got {max_lines!r}")
    labels = Names(names)
    if t.grad_fn is not None:
        first = t.grad_fn
    else:
        first = AccumulateGrad.of(t) if t.requires_grad else None
    numbers: dict[int, int] = {}  # id(node) -> its number, given when first printed
    lines: list[str] = []
    # Depth-first, with an explicit stack (graphs of 100,000 nodes): (depth, target, slot, (shape, dtype)).
    stack = [(0, first, t._output_nr, (t.shape, t.dtype))]
    while stack:
        if len(lines) >= max_lines:
            root_count = count_nodes(t.grad_fn) if t.grad_fn is not None else 0
            lines.append(f"... stopped after {max_lines} lines ({root_count} nodes in all; raise max_lines=)")
            break
        depth, target, slot, info = stack.pop()
        indent = "  " * depth
        if target is None:
            lines.append(f"{indent}constant {describe(info)}")
            continue
        if isinstance(target, AccumulateGrad):
            name = labels.of_leaf(target.variable)
            lines.append(f"{indent}{_prefix(name)}leaf {describe(info)} requires_grad")
            continue
        name = labels.of_output(target, slot)
        op = target.name + (f"[{slot}]" if len(target.output_refs) > 1 else "")
        seen = numbers.get(id(target))
        if seen is not None:
            lines.append(f"{indent}{_prefix(name)}{op} {describe(info)} (see above #{seen})")
            continue
        numbers[id(target)] = len(numbers) + 1
        lines.append(f"{indent}#{numbers[id(target)]} {_prefix(name)}{op} {describe(info)}")
        children = [(depth + 1, fn, s, edge_info(target, i)) for i, (fn, s) in enumerate(target.next_functions)]
        stack.extend(reversed(children))  # reversed: the first input is printed first
    text = "\n".join(lines)
    _emit(text, file)
    return text


def _prefix(name: str | None) -> str:
    return "" if name is None else f"{name}: "


def _emit(text: str, file) -> None:
    if isinstance(file, list):
        file.extend(text.split("\n"))
    else:
        print(text, file=sys.stdout if file is None else file)


__all__ = ["Function", "show"]
