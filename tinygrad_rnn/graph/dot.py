"""``to_dot`` and ``render``: the graph behind a tensor as a Graphviz drawing.

Ops are boxes (the node's name, the shape and dtype it made), leaves that require grad are
filled ellipses, the tensor drawn from is a green ellipse, and a tensor given a name in
``names=`` gets an ellipse of its own between the op that made it and its consumers. Inputs
that need no gradient (constants) are not drawn, as in PyTorch's torchviz.

Big graphs are *cut*, not collapsed: the walk goes depth-first from the output, first input
first (``show``'s order), so what is drawn is whole subgraphs (for an RNN, whole steps with
their parameters) rather than one thin layer of every step; after ``max_nodes`` ops one note
says how many were left out and points at the ops whose inputs were not drawn. Collapsing
repeated structure (the steps of an RNN) would need to recognise that two subgraphs compute
the same thing; a cut needs no such guess and is honest about what it leaves out.
"""

from __future__ import annotations

from pathlib import Path

from .structure import AccumulateGrad, Function, Names, check_tensor, count_nodes, describe, edge_info

_INSTALL = (
    'install the graphviz Python package (pip install "tinygrad_rnn[examples]", or pip install graphviz) '
    "and the Graphviz programs (the `dot` binary: apt install graphviz, brew install graphviz, or "
    "https://graphviz.org/download/); tr.graph.to_dot(t) works without either and returns the DOT source"
)


def _quote(text: str) -> str:
    """A DOT string literal (labels may hold quotes, backslashes and newlines)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(t, names=None, max_nodes: int = 200) -> str:
    """The Graphviz DOT source of the graph ``t`` depends on (a ``str``; nothing to install).

    ``names``: a dict name -> tensor labelling tensors (values that are not tensors are
    ignored). At most ``max_nodes`` op nodes are drawn, depth-first from ``t`` (the order of
    ``show``): the rest are cut and replaced by one note saying how many were left out, so a 64-step
    LSTM on the composed road (about 900 ops) stays drawable. Render the text with
    ``render(t, "graph.svg")``, or ``dot -Tsvg graph.dot -o graph.svg``.
    """
    check_tensor("to_dot", t)
    if not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1:
        raise ValueError(f"to_dot: max_nodes must be a positive int, got {max_nodes!r}")
    labels = Names(names)
    lines = [
        "digraph tinygrad_rnn {",
        '  node [fontname="Helvetica", fontsize=10];',
        f"  out [label={_quote(_tensor_label(labels, t))}, shape=ellipse, style=filled, fillcolor=darkolivegreen1];",
    ]
    root = t.grad_fn
    if root is None:
        return "\n".join(lines + ["}"]) + "\n"
    ids = _first_ops(root, max_nodes)  # op node -> its DOT id, for the ops drawn
    leaves: dict[int, str] = {}  # id(leaf tensor) -> DOT id
    tensors: dict[tuple, str] = {}  # (id(node), slot) of a named tensor -> DOT id
    keep = []  # the AccumulateGrad objects met: alive until the end, so their ids stay unique
    cut = []  # DOT ids of drawn ops with an input that was not drawn
    for node, me in ids.values():
        meta = [m for m in node.output_meta() if m is not None]
        label = node.name + (f"\n{describe(meta[0])}" if len(meta) == 1 else f"\n{len(meta)} outputs" if meta else "")
        lines.append(f"  {me} [label={_quote(label)}, shape=box];")
        for position, (fn, slot) in enumerate(node.next_functions):
            if fn is None:
                continue  # a constant: not drawn
            if isinstance(fn, AccumulateGrad):
                keep.append(fn)
                key = id(fn.variable) if fn.variable is not None else id(fn)
                if key not in leaves:
                    leaves[key] = f"l{len(leaves)}"
                    name = labels.of_leaf(fn.variable) or "leaf"
                    text = f"{name}\n{describe(edge_info(node, position))}"
                    lines.append(f"  {leaves[key]} [label={_quote(text)}, shape=ellipse, style=filled, "
                                 "fillcolor=lightblue];")
                lines.append(f"  {leaves[key]} -> {me};")
                continue
            if id(fn) not in ids:
                if not cut or cut[-1] != me:
                    cut.append(me)
                continue
            source = ids[id(fn)][1]
            name = labels.of_output(fn, slot)
            if name is not None:  # a named tensor: an ellipse between its op and its consumers
                key = (id(fn), slot)
                if key not in tensors:
                    tensors[key] = f"t{len(tensors)}"
                    text = f"{name}\n{describe(edge_info(node, position))}"
                    lines.append(f"  {tensors[key]} [label={_quote(text)}, shape=ellipse];")
                    lines.append(f"  {source} -> {tensors[key]};")
                source = tensors[key]
            many = len(fn.output_refs) > 1 and name is None
            lines.append(f"  {source} -> {me}" + (f" [label={_quote(str(slot))}];" if many else ";"))
    lines.append("  n0 -> out;")
    if cut:
        left_out = count_nodes(root) - len(ids)
        text = f"... {left_out} more op nodes not drawn\n(max_nodes={max_nodes})"
        lines.append(f"  cut [label={_quote(text)}, shape=note, style=filled, fillcolor=lightgrey];")
        lines.extend(f"  cut -> {me} [style=dashed];" for me in dict.fromkeys(cut))
    return "\n".join(lines + ["}"]) + "\n"


def _first_ops(root, max_nodes: int) -> dict:
    """The first ``max_nodes`` ops below ``root`` in depth-first order, first input first
    (``show``'s order): ``{id(node): (node, DOT id)}``. Iterative: graphs of 100,000 nodes."""
    found: dict[int, tuple] = {}
    stack = [root]
    while stack and len(found) < max_nodes:
        node = stack.pop()
        if id(node) in found:
            continue
        found[id(node)] = (node, f"n{len(found)}")
        stack.extend(reversed([fn for fn, _ in node.next_functions if isinstance(fn, Function)]))
    return found


def _tensor_label(labels: Names, t) -> str:
    name = labels.of_leaf(t) if t.grad_fn is None else labels.of_output(t.grad_fn, t._output_nr)
    return f"{name or 'output'}\n{tuple(t.shape)} {t.dtype}"


def render(t, path, names=None, format=None, max_nodes: int = 200) -> Path:
    """Draw the graph of ``t`` into ``path`` (SVG, PNG, PDF, ...) and return the path.

    The format is ``format`` or the path's suffix (``"graph.svg"``). Needs the ``graphviz``
    Python package and the Graphviz ``dot`` program; without them this raises an error
    saying what to install (``to_dot`` needs neither). ``names`` and ``max_nodes`` are
    ``to_dot``'s.
    """
    path = Path(path)
    fmt = format or path.suffix.lstrip(".").lower()
    if not fmt:
        raise ValueError(f"render: give format= (e.g. 'svg', 'png') or a path with a suffix, got {str(path)!r}")
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(f"tr.graph.render needs Graphviz: {_INSTALL}") from error
    source = graphviz.Source(to_dot(t, names=names, max_nodes=max_nodes))
    try:
        data = source.pipe(format=fmt)
    except graphviz.ExecutableNotFound as error:
        raise RuntimeError(f"tr.graph.render: the Graphviz `dot` program was not found; {_INSTALL}") from error
    path.write_bytes(data)
    return path


__all__ = ["render", "to_dot"]
