"""The learner's path, docs/learn/: every step runs, and every step's engine agrees with tinygrad_rnn.

Each ``docs/learn/stepN_*.py`` exposes ``INPUTS`` (name -> number or array), a ``loss`` written
with plain operators (so it runs on the step's tensors and on tinygrad_rnn's alike) and
``gradients()``; here the same ``loss`` runs on tinygrad_rnn in float64 and the gradients must
agree to 1e-10. Step 7 has no ``loss`` (its RNN is written out) and is compared with ``nn.RNN``.
"""

import importlib.util
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_rnn as tr

LEARN = Path(__file__).resolve().parent.parent / "docs" / "learn"
SCRIPTS = sorted(LEARN.glob("step*.py"))


def load(stem):
    """Import ``docs/learn/<stem>*.py`` as a module, by path (docs/learn is no package)."""
    (path,) = LEARN.glob(f"{stem}_*.py")
    spec = importlib.util.spec_from_file_location(f"learn_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tinygrad_rnn_gradients(loss, inputs):
    """The gradients of ``loss(**inputs)`` computed by tinygrad_rnn, float64."""
    tensors = {name: tr.tensor(np.asarray(value, dtype=np.float64), requires_grad=True)
               for name, value in inputs.items()}
    loss(**tensors).backward()
    return {name: t.grad.numpy() for name, t in tensors.items()}


def test_the_steps_are_all_there():
    assert [p.name.split("_")[0] for p in SCRIPTS][:7] == [f"step{k}" for k in range(1, 8)]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_each_step_runs_as_a_script(script):
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                            cwd=LEARN.parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize("stem", ["step1", "step2", "step3", "step4", "step5", "step6"])
def test_step_gradients_match_tinygrad_rnn(stem):
    step = load(stem)
    ours, theirs = step.gradients(), tinygrad_rnn_gradients(step.loss, step.INPUTS)
    assert ours.keys() == theirs.keys()
    for name in theirs:
        assert np.shape(ours[name]) == np.shape(theirs[name]), name
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-10, err_msg=name)


def test_step1_order_matters():
    step = load("step1")
    assert all(g == 0.0 for g in step.wrong_order().values())  # inputs-first sends nothing


def test_step2_naive_walk_is_wrong_where_a_value_is_reused():
    step = load("step2")
    x, w = step.Value(step.INPUTS["x"]), step.Value(step.INPUTS["w"])
    step.loss(x, w).backward_naive()
    assert abs(x.grad - step.closed_form()["x"]) > 1e-3  # the bug the topological order fixes
    for name, g in step.gradients().items():
        assert abs(g - step.closed_form()[name]) < 1e-12


def test_step3_unbroadcast():
    step = load("step3")
    assert step.unbroadcast(np.ones((2, 3, 4)), (4,)).tolist() == [6.0] * 4
    assert step.unbroadcast(np.ones((3, 4)), (3, 1)).shape == (3, 1)


def test_step5_deep_chain_heap_works_and_recursion_fails():
    step = load("step5")
    start = time.perf_counter()
    assert step.chain_gradient(100_000) == 100_001.0
    assert time.perf_counter() - start < 5.0
    with pytest.raises(RecursionError):
        step.chain_gradient(5_000, walk="recursive")


def test_step6_second_derivatives():
    step = load("step6")
    ours, closed = step.second_derivatives(), step.closed_forms()
    for name, f in (("tanh", lambda x: x.tanh()), ("cube", lambda x: x * x * x)):
        np.testing.assert_allclose(ours[name], closed[name], rtol=0, atol=1e-12, err_msg=name)
        x = tr.tensor(step.X, requires_grad=True)
        (first,) = tr.grad(f(x).sum(), [x], create_graph=True)
        (second,) = tr.grad(first.sum(), [x])
        np.testing.assert_allclose(ours[name], second.numpy(), rtol=0, atol=1e-10, err_msg=name)


def test_step7_bptt_matches_nn_rnn():
    step = load("step7")
    rnn = tr.nn.RNN(step.I, step.H).to(tr.float64)  # built here, not with the step's own helper
    rnn.load_state_dict({name: step.INPUTS[name] for name in rnn.state_dict()})
    x = tr.tensor(step.INPUTS["x"], requires_grad=True)
    h0 = tr.tensor(step.INPUTS["h0"][None], requires_grad=True)
    out, _ = rnn(x, h0)
    (out * tr.tensor(step.V)).sum().backward()
    theirs = {"x": x.grad.numpy(), "h0": h0.grad.numpy()[0]}
    theirs.update({name: p.grad.numpy() for name, p in rnn.named_parameters()})
    for ours in (step.gradients(), step.engine_gradients()):
        assert ours.keys() == theirs.keys()
        for name in theirs:
            np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("page", sorted(LEARN.glob("*.md")), ids=lambda p: p.name)
def test_page_links_resolve(page):
    text = page.read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if "://" in target or target.startswith(("#", "mailto:")):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{page.name} links to {target}, which does not exist"


def test_readme_and_architecture_point_to_the_path():
    root = LEARN.parent.parent
    assert "docs/learn/README.md" in (root / "README.md").read_text()
    assert "docs/learn/" in (root / "docs" / "architecture.md").read_text()
