"""tr.graph and grad_fn.next_functions: the graph's structure (also after backward), show,
to_dot/render, trace (and TINYGRAD_RNN_TRACE), and the worked trace of docs/learn/step8."""

import functools
import math
import operator
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import function as tr_function
from tinygrad_rnn.function import AccumulateGrad

ROOT = Path(__file__).resolve().parent.parent


def _leaves(values=((1.0, 2.0, 3.0), (0.5, -1.0, 0.25))):
    return [tr.tensor(list(v), requires_grad=True) for v in values]


# ---------------------------------------------------------------- next_functions and repr
def test_next_functions_of_a_small_graph():
    x, w = _leaves()
    y = (x * w).tanh().sum()
    ((tanh, slot),) = y.grad_fn.next_functions
    assert tanh.name == "TanhBackward" and slot == 0
    ((mul, slot),) = tanh.next_functions
    assert mul.name == "MulBackward" and slot == 0
    (ax, sx), (aw, sw) = mul.next_functions
    assert type(ax).__name__ == "AccumulateGrad" and (sx, sw) == (0, 0)
    assert ax.variable is x and aw.variable is w and ax.next_functions == ()
    # A constant (the 2) needs no gradient: (None, 0), as in PyTorch.
    assert (x * 2).grad_fn.next_functions[1] == (None, 0)
    # The same leaf twice gives the same AccumulateGrad, as in PyTorch.
    (a, _), (b, _) = (x * x).grad_fn.next_functions
    assert a is b and a.variable is x
    # A node with several outputs: each consumer names the slot it read.
    first, second = x.unsqueeze(0).expand(2, 3).unbind(0)
    (u0, s0), (u1, s1) = (first + second).grad_fn.next_functions
    assert u0 is u1 and u0.name == "UnbindBackward" and (s0, s1) == (0, 1)


def test_repr_shows_op_shape_and_dtype_and_survives_backward():
    x = tr.randn(16, 64, requires_grad=True)
    h = x.tanh()
    assert repr(h.grad_fn) == "<TanhBackward (16, 64) float32>"
    assert h.grad_fn.name == "TanhBackward"  # .name is unchanged: other code reads it
    loss = (h * 2.0).sum()
    node = h.grad_fn
    del h
    loss.backward()  # frees the saved values; h is gone too: the shape must have been recorded
    assert repr(node) == "<TanhBackward (16, 64) float32>"
    assert repr(loss.grad_fn) == "<SumBackward () float32>"
    assert repr(node.next_functions[0][0]) == "<AccumulateGrad (16, 64) float32>"
    parts = tr.randn(4, 3, dtype=tr.float64, requires_grad=True).unbind(0)
    assert repr(parts[0].grad_fn) == "<UnbindBackward 4 outputs (3,) float64>"


def _structure(root):
    """The graph below ``root`` as a list of (depth, name, slot, leaf number): iterative,
    names without PyTorch's version digits, leaves numbered by first appearance."""
    leaves, rows, stack = {}, [], [(0, root, 0)]
    while stack:
        depth, node, slot = stack.pop()
        if node is None:
            rows.append((depth, None, slot, None))
            continue
        name = re.sub(r"\d+$", "", type(node).__name__ if type(node).__name__ == "AccumulateGrad" else node.name())
        leaf = leaves.setdefault(id(node.variable), len(leaves)) if name == "AccumulateGrad" else None
        rows.append((depth, name, slot, leaf))
        stack.extend((depth + 1, fn, s) for fn, s in reversed(node.next_functions))
    return rows


class _Ours:
    """Our nodes spoken as PyTorch's: ``name()`` is a method there."""

    def __init__(self, node):
        self.node = node

    def name(self):
        return self.node.name

    @property
    def variable(self):
        return self.node.variable

    @property
    def next_functions(self):
        return tuple((None if fn is None else _Ours(fn), s) for fn, s in self.node.next_functions)


_GRAPHS = {
    "tanh_of_product": lambda lib, x, w: (x * w).tanh().sum(),
    "reuse_and_constant": lambda lib, x, w: (x * 2 + x * w).exp().sum(),
    "diamond": lambda lib, x, w: ((x - w) * (x - w).tanh()).sum(),
    # (reduce, not sum(): 0 + t would add a scalar, an edge PyTorch's AddBackward1 does not have)
    "unbind": lambda lib, x, w: functools.reduce(operator.add, [a * b for a, b in zip(x.unbind(0), w.unbind(0))]),
}


@pytest.mark.parametrize("graph", sorted(_GRAPHS))
def test_next_functions_match_pytorch_before_and_after_backward(graph):
    torch = pytest.importorskip("torch")
    values = ([1.0, 2.0, 3.0], [0.5, -1.0, 0.25])
    ours_in = [tr.tensor(v, requires_grad=True) for v in values]
    theirs_in = [torch.tensor(v, requires_grad=True) for v in values]
    ours = _GRAPHS[graph](tr, *ours_in)
    theirs = _GRAPHS[graph](torch, *theirs_in)
    expected = _structure(theirs.grad_fn)
    assert _structure(_Ours(ours.grad_fn)) == expected
    # The leaves are the very tensors, in the same places.
    ours_leaves = [n.variable for n in _walk(_Ours(ours.grad_fn)) if type(n.node).__name__ == "AccumulateGrad"]
    assert {id(v) for v in ours_leaves} == {id(v) for v in ours_in}
    ours.backward()
    theirs.backward()
    assert _structure(_Ours(ours.grad_fn)) == expected == _structure(theirs.grad_fn)


def _walk(root):
    """Every node below ``root`` once (by identity; ``_Ours`` wrappers by the node they wrap)."""
    found, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        key = id(getattr(node, "node", node))
        if key in seen:
            continue
        seen.add(key)
        found.append(node)
        stack.extend(fn for fn, _ in node.next_functions if fn is not None)
    return found


def test_structure_walkable_after_backward_and_leaves_weak():
    x, w = _leaves()
    y = ((x * w).tanh() + x).sum()
    before = tr.graph.show(y, file=[])
    y.backward()
    assert tr.graph.show(y, file=[]) == before
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()  # the values are freed all the same
    # After backward the graph holds its leaves weakly (as the brief asks): a dead leaf shows as variable None.
    z = tr.tensor([1.0, 2.0], requires_grad=True)
    out = (z * 3.0).sum()
    out.backward()
    mul = out.grad_fn.next_functions[0][0]
    del z
    assert mul.next_functions[0][0].variable is None


# ---------------------------------------------------------------- show
def test_show_exact_text_with_names_reuse_and_constants():
    x, w = _leaves()
    z = x * 2.0
    u = (z + z * w).sum()
    text = tr.graph.show(u, names={"x": x, "w": w, "z": z, "u": u, "not a tensor": 3}, file=[])
    assert text == "\n".join([
        "#1 u: SumBackward () float32",
        "  #2 AddBackward (3,) float32",
        "    #3 z: MulBackward (3,) float32",
        "      x: leaf (3,) float32 requires_grad",
        "      constant () float32",
        "    #4 MulBackward (3,) float32",
        "      z: MulBackward (3,) float32 (see above #3)",
        "      w: leaf (3,) float32 requires_grad",
    ])
    lines = []
    tr.graph.show(u, file=lines)
    assert lines[0] == "#1 SumBackward () float32" and len(lines) == 8


def test_show_prints_and_handles_leaves_and_bad_names(capsys):
    x, _ = _leaves()
    assert tr.graph.show(x, names=dict(x=x)) == "x: leaf (3,) float32 requires_grad"
    assert capsys.readouterr().out == "x: leaf (3,) float32 requires_grad\n"
    assert tr.graph.show(tr.ones(2), file=[]) == "constant (2,) float32"
    with pytest.raises(TypeError, match="names: expected a dict"):
        tr.graph.show(x, names=[x])
    with pytest.raises(TypeError, match="show: expected a Tensor"):
        tr.graph.show(np.ones(2))


def test_show_and_to_dot_on_a_chain_deeper_than_the_recursion_limit():
    x = tr.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(sys.getrecursionlimit() + 500):
        y = y * 1.0
    text = tr.graph.show(y, file=[], max_lines=50)
    assert text.splitlines()[-1].startswith("... stopped after 50 lines")
    assert f"({sys.getrecursionlimit() + 500} nodes in all" in text
    assert "more op nodes not drawn" in tr.graph.to_dot(y, max_nodes=10)


# ---------------------------------------------------------------- to_dot and render
def _check_dot(dot: str) -> tuple[dict, list]:
    """Balanced braces, one statement per line, every edge's endpoints declared."""
    assert dot.startswith("digraph ") and dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}") == 1
    declared, edges = {}, []
    for line in dot.splitlines()[1:-1]:
        edge = re.fullmatch(r"\s+(\w+) -> (\w+)( \[.*\])?;", line)
        if edge:
            edges.append(edge.group(1, 2))
            continue
        node = re.fullmatch(r"\s+(\w+) \[label=(\"(?:[^\"\\]|\\.)*\"), (.*)\];", line)
        if node:
            declared[node.group(1)] = (node.group(2), node.group(3))
        else:
            assert line.strip().startswith("node ["), line
    for a, b in edges:
        assert a in declared and b in declared, (a, b)
    return declared, edges


def test_to_dot_is_well_formed_and_labels_names():
    x, w = _leaves()
    h = (x * w).tanh()
    y = (h * h).sum()
    declared, edges = _check_dot(tr.graph.to_dot(y, names={"x": x, "w": w, "h": h, "y": y}))
    boxes = [label for label, style in declared.values() if "shape=box" in style]
    assert sorted(b.split("\\n")[0].strip('"') for b in boxes) == sorted(
        ["SumBackward", "MulBackward", "TanhBackward", "MulBackward"])
    filled = {label for label, style in declared.values() if "fillcolor=lightblue" in style}
    assert filled == {'"x\\n(3,) float32"', '"w\\n(3,) float32"'}
    assert declared["out"][0] == '"y\\n() float32"'
    (h_id,) = [k for k, (label, _) in declared.items() if label.startswith('"h\\n')]
    assert sum(1 for a, _ in edges if a == h_id) == 2  # h feeds the product twice
    y.backward()
    assert _check_dot(tr.graph.to_dot(y))[0].keys() == _check_dot(tr.graph.to_dot(y))[0].keys()


def test_to_dot_parsed_by_graphviz_when_installed(tmp_path):
    graphviz = pytest.importorskip("graphviz")
    x, w = _leaves()
    y = (x * w).tanh().sum()
    try:
        svg = graphviz.Source(tr.graph.to_dot(y, names=locals())).pipe(format="svg")
    except graphviz.ExecutableNotFound:
        pytest.skip("the Graphviz dot program is not installed")
    assert b"<svg" in svg and b"TanhBackward" in svg
    path = tr.graph.render(y, tmp_path / "g.svg")
    assert path.read_bytes().startswith(b"<?xml") or b"<svg" in path.read_bytes()


def test_lstm_64_steps_drawable_under_the_cap():
    lstm = tr.nn.LSTM(4, 8, impl="composed")
    out, _ = lstm(tr.randn(64, 2, 4))
    loss = out.sum()
    total = len({id(n) for n in _walk(loss.grad_fn) if not isinstance(n, AccumulateGrad)})
    assert total > 500
    declared, _ = _check_dot(tr.graph.to_dot(loss, names=dict(lstm.named_parameters()), max_nodes=120))
    boxes = [k for k, (_, style) in declared.items() if "shape=box" in style]
    assert len(boxes) == 120
    assert f"... {total - 120} more op nodes not drawn" in declared["cut"][0]
    assert any(label.startswith('"weight_hh_l0') for label, _ in declared.values())
    assert "cut" not in _check_dot(tr.graph.to_dot(loss, max_nodes=total))[0]


def test_render_says_what_to_install(monkeypatch, tmp_path):
    x, _ = _leaves()
    y = x.sum()
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    with pytest.raises(ImportError, match=r'pip install "tinygrad_rnn\[examples\]".*dot.*to_dot'):
        tr.graph.render(y, tmp_path / "g.svg")
    with pytest.raises(ValueError, match="format="):
        tr.graph.render(y, tmp_path / "g")


def test_render_without_the_dot_program(monkeypatch, tmp_path):
    graphviz = pytest.importorskip("graphviz")

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Source, "pipe", missing)
    with pytest.raises(RuntimeError, match="`dot` program was not found.*to_dot"):
        tr.graph.render(_leaves()[0].sum(), tmp_path / "g.png")


# ---------------------------------------------------------------- trace
def _norms(line: str) -> list[float]:
    return [float(v) for v in re.findall(r"\|g\|=([-\d.e+]+)", line)]


def test_trace_order_and_gradient_norms():
    x, w = _leaves()
    lines = []
    with tr.graph.trace(file=lines):
        y = (x * w).tanh().sum()
        y.backward()
    assert [line.split()[0] for line in lines] == ["forward"] * 3 + ["backward"] * 3  # formulas' ops not shown
    assert [line.split()[2].split("(")[0] for line in lines[:3]] == ["Mul", "Tanh", "Sum"]
    assert lines[0] == "forward  #1 Mul((3,), (3,)) -> (3,) float32"
    assert [line.split()[2] for line in lines[3:]] == ["SumBackward:", "TanhBackward:", "MulBackward:"]
    assert [line.split()[1] for line in lines[3:]] == ["#3", "#2", "#1"]
    out_norm, x_norm, w_norm = _norms(lines[5])
    assert x_norm == pytest.approx(np.linalg.norm(x.grad.numpy()), rel=1e-3)
    assert w_norm == pytest.approx(np.linalg.norm(w.grad.numpy()), rel=1e-3)
    assert _norms(lines[3]) == [1.0, pytest.approx(math.sqrt(3), rel=1e-3)]
    assert _norms(lines[4])[1] == pytest.approx(out_norm)  # Tanh sends what Mul receives


def test_trace_marks_ops_without_graph_and_can_show_backward_ops():
    x = tr.tensor([1.0, -2.0], requires_grad=True)
    lines = []
    with tr.graph.trace(file=lines, backward_ops=True):
        with tr.no_grad():
            x * 2.0
        (x * x).sum().backward()
    assert lines[0].endswith("[no graph]")
    assert lines[1].startswith("forward  #1 Mul")
    assert len([line for line in lines if line.startswith("forward")]) > 3  # the formulas' ops too
    with pytest.raises(TypeError, match="file must be"):
        with tr.graph.trace(file=3):
            pass


def test_trace_nests_and_restores_the_tracer():
    assert tr_function.tracer is None
    outer, inner = [], []
    x = tr.tensor([1.0, 2.0], requires_grad=True)
    with tr.graph.trace(file=outer) as first:
        x.exp()
        with pytest.raises(ZeroDivisionError):
            with tr.graph.trace(file=inner):
                assert tr_function.tracer is not first
                x.tanh()
                raise ZeroDivisionError  # an error inside the block still restores
        assert tr_function.tracer is first
        x.sin()
    assert tr_function.tracer is None
    assert [line.split()[2][:3] for line in outer] == ["Exp", "Tan", "Sin"]
    assert len(inner) == 1 and "Tanh" in inner[0]


def test_env_var_traces_a_script_to_stderr():
    script = "import tinygrad_rnn as tr\nx = tr.ones(2, requires_grad=True)\n(x * 3.0).sum().backward()\nprint('ok')"
    env = dict(os.environ, TINYGRAD_RNN_TRACE="1", PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "ok\n"
    lines = run.stderr.splitlines()
    assert "TINYGRAD_RNN_TRACE" in lines[0]
    assert lines[1].startswith("forward  #1 Mul((2,), ()) -> (2,) float32")
    assert lines[-1].startswith("backward #1 MulBackward:")
    assert _norms(lines[-1])[1] == pytest.approx(math.sqrt(18), rel=1e-3)  # dL/dx = 3 per element
    env["TINYGRAD_RNN_TRACE"] = "0"
    quiet = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert quiet.stderr == ""


# ---------------------------------------------------------------- docs/learn/step8
def test_step8_trace_numbers_match_the_gradients_and_the_page(capsys):
    found = runpy.run_path(str(ROOT / "docs" / "learn" / "step8_trace.py"), run_name="__main__")
    printed = capsys.readouterr().out
    x, w, lines = found["x"], found["w"], found["lines"]
    xs, ws = x.numpy().astype(np.float64), w.numpy().astype(np.float64)
    tanh_grad = 1 - np.tanh(xs * ws) ** 2
    np.testing.assert_allclose(x.grad.numpy(), tanh_grad * ws, rtol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), tanh_grad * xs, rtol=1e-5)
    mul_line = lines[-1]
    shown = [[float(v) for v in group.split(", ")] for group in re.findall(r"\[([^\]]*)\]", mul_line)]
    np.testing.assert_allclose(shown[1], x.grad.numpy(), rtol=1e-3)  # dL/din0 of MulBackward is x.grad
    np.testing.assert_allclose(shown[2], w.grad.numpy(), rtol=1e-3)
    page = (ROOT / "docs" / "learn" / "step8_trace.md").read_text()
    assert printed.rstrip("\n") in page  # the page shows the program's real output
