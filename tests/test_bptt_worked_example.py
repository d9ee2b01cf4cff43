"""The worked example at the end of docs/bptt.md (T=2, H=1, tanh RNN): every number it prints
is recomputed here with ``nn.RNN(1, 1)`` on both roads in float64, so a wrong digit in the
document, or a change to the example's setup that its numbers do not follow, fails this test.

The numbers are parsed from the markdown: the setup line (``$w_x = 0.5$`` ...) gives the
inputs, the table gives each quantity's value in its last column, and every other 6-digit
number in the section (the substituted numbers in the formulas) must be one of those values.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import nn

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## 9. A worked example by hand"
# The example's setup as the document must state it; the test computes from what it parses,
# and checks it against this so that a section emptied of its setup cannot pass.
SETUP = {"w_x": 0.5, "w_h": -1.0, "b_{ih}": 0.06, "b_{hh}": 0.04, "x_1": 1.0, "x_2": 2.0, "h_0": 0.0, "y": 1.0}
# The first cell of each table row, in the order the table gives them.
QUANTITIES = (
    "$a_1$", "$h_1$", "$a_2$", "$h_2$", "$L$",
    r"$\delta h_2$", "$1 - h_2^2$", r"$\delta a_2$", r"$\delta h_1$", "$1 - h_1^2$", r"$\delta a_1$", r"$\delta h_0$",
    r"$\delta w_x$, step 1", r"$\delta w_x$, step 2", r"$\delta w_x$",
    r"$\delta w_h$, step 1", r"$\delta w_h$, step 2", r"$\delta w_h$",
    r"$\delta b_{ih} = \delta b_{hh}$", r"$\delta x_1$", r"$\delta x_2$",
)


def section() -> str:
    """The worked example's section of docs/bptt.md: from its heading to the next one (or the end)."""
    text = (ROOT / "docs" / "bptt.md").read_text(encoding="utf-8")
    assert HEADING in text, f"docs/bptt.md has no section {HEADING!r}"
    body = text.split(HEADING, 1)[1]
    return body.split("\n## ", 1)[0]


def parsed_setup(text: str) -> dict:
    """{name: value} from the ``$name = value$`` pieces of the setup line."""
    return {name: float(value) for name, value in re.findall(r"\$([a-z]_\{?[a-z0-9]+\}?|y) = (-?[\d.]+)\$", text)}


def table(text: str) -> dict:
    """{first cell: last cell as a string} for the rows of the section's table."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and not set(cells[0]) <= set("-: "):
            rows[cells[0]] = cells[-1]
    rows.pop("quantity", None)  # the header
    return rows


def recompute(setup: dict, impl: str) -> dict:
    """Every quantity of the table, computed by ``nn.RNN(1, 1, impl=impl)`` in float64.

    One run over both steps gives the forward values and the full gradients (weights, biases,
    inputs, h_0; ``retain_grad`` on h_2). A second run of step 2 alone, from h_1 as a leaf,
    gives what reaches h_1 through the recurrence (its ``.grad``) and step 2's share of each
    weight gradient (its weights' ``.grad``); step 1's share is the total minus step 2's.
    """
    def layer():
        rnn = nn.RNN(1, 1, impl=impl, dtype=tr.float64)
        # PyTorch's layout: weights (H, I) and (H, H), two biases (H,) whose sum is the example's b.
        state = {"weight_ih_l0": [[setup["w_x"]]], "weight_hh_l0": [[setup["w_h"]]],
                 "bias_ih_l0": [setup["b_{ih}"]], "bias_hh_l0": [setup["b_{hh}"]]}
        rnn.load_state_dict({name: np.array(value, dtype=np.float64) for name, value in state.items()})
        return rnn

    def loss(h):  # L = (h_2 - y)^2 / 2
        return ((h - setup["y"]) ** 2 / 2).sum()

    rnn = layer()
    x = tr.tensor([[[setup["x_1"]]], [[setup["x_2"]]]], dtype=tr.float64, requires_grad=True)  # (T=2, N=1, I=1)
    h0 = tr.tensor([[[setup["h_0"]]]], dtype=tr.float64, requires_grad=True)
    out, h_n = rnn(x, h0)
    h_n.retain_grad()
    total = loss(h_n)
    total.backward()
    h1, h2 = (out[t].item() for t in range(2))
    assert h_n.item() == h2

    step2 = layer()
    h1_leaf = tr.tensor([[[h1]]], dtype=tr.float64, requires_grad=True)
    _, h2_again = step2(x.detach()[1:], h1_leaf)
    loss(h2_again).backward()

    def grad(module, name):
        return getattr(module, name).grad.item()

    da2 = grad(step2, "bias_ih_l0")
    assert grad(rnn, "bias_ih_l0") == grad(rnn, "bias_hh_l0")  # both biases enter a_t the same way
    return {
        "$a_1$": float(np.arctanh(h1)), "$h_1$": h1, "$a_2$": float(np.arctanh(h2)), "$h_2$": h2,
        "$L$": total.item(),
        r"$\delta h_2$": h_n.grad.item(), "$1 - h_2^2$": 1 - h2 ** 2, r"$\delta a_2$": da2,
        r"$\delta h_1$": h1_leaf.grad.item(), "$1 - h_1^2$": 1 - h1 ** 2,
        r"$\delta a_1$": grad(rnn, "bias_ih_l0") - da2, r"$\delta h_0$": h0.grad.item(),
        r"$\delta w_x$, step 1": grad(rnn, "weight_ih_l0") - grad(step2, "weight_ih_l0"),
        r"$\delta w_x$, step 2": grad(step2, "weight_ih_l0"), r"$\delta w_x$": grad(rnn, "weight_ih_l0"),
        r"$\delta w_h$, step 1": grad(rnn, "weight_hh_l0") - grad(step2, "weight_hh_l0"),
        r"$\delta w_h$, step 2": grad(step2, "weight_hh_l0"), r"$\delta w_h$": grad(rnn, "weight_hh_l0"),
        r"$\delta b_{ih} = \delta b_{hh}$": grad(rnn, "bias_ih_l0"),
        r"$\delta x_1$": x.grad[0].item(), r"$\delta x_2$": x.grad[1].item(),
    }


def six_digits(value: float) -> float:
    """``value`` rounded to 6 significant digits, as the document prints it."""
    return float(f"{value:.6g}")


def by_hand(setup: dict) -> dict:
    """The same quantities from the formulas of sections 1-2, in plain Python: a third opinion."""
    wx, wh, b = setup["w_x"], setup["w_h"], setup["b_{ih}"] + setup["b_{hh}"]
    a1 = wx * setup["x_1"] + wh * setup["h_0"] + b
    h1 = np.tanh(a1)
    a2 = wx * setup["x_2"] + wh * h1 + b
    h2 = np.tanh(a2)
    dh2 = h2 - setup["y"]
    da2 = dh2 * (1 - h2 ** 2)
    dh1 = da2 * wh
    da1 = dh1 * (1 - h1 ** 2)
    return {"$a_1$": a1, "$h_1$": h1, "$a_2$": a2, "$h_2$": h2, "$L$": dh2 ** 2 / 2, r"$\delta h_2$": dh2,
            r"$\delta a_2$": da2, r"$\delta h_1$": dh1, r"$\delta a_1$": da1, r"$\delta h_0$": da1 * wh,
            r"$\delta w_x$": da1 * setup["x_1"] + da2 * setup["x_2"], r"$\delta w_h$": da1 * setup["h_0"] + da2 * h1,
            r"$\delta b_{ih} = \delta b_{hh}$": da1 + da2}


def test_the_document_states_the_setup_the_test_expects():
    assert parsed_setup(section()) == SETUP


def test_the_table_has_every_quantity_once():
    assert list(table(section())) == list(QUANTITIES)


@pytest.mark.parametrize("impl", ["fused", "composed"])
def test_every_number_in_the_table_is_what_nn_rnn_computes(impl):
    text = section()
    computed = recompute(parsed_setup(text), impl)
    hand = by_hand(parsed_setup(text))
    for name, cell in table(text).items():
        value = computed[name]
        if name in hand:
            assert value == pytest.approx(hand[name], rel=1e-12, abs=1e-15), name
        printed = float(cell.replace("−", "-").strip("$ "))
        assert printed == six_digits(value), f"{name}: the document says {cell}, nn.RNN ({impl}) gives {value:.9g}"
        if value != 0:  # 6 significant digits, trailing zeros included: "0.600000", not "0.6"
            assert len(re.sub(r"\D", "", cell).lstrip("0")) == 6, f"{name}: {cell} is not printed to 6 digits"


def test_every_other_long_number_in_the_section_is_one_of_the_values():
    # The "with the numbers" column repeats values in its arithmetic: each must be a computed one
    # (or its negative), so a typo there fails too.
    text = section()
    values = {abs(six_digits(v)) for v in recompute(parsed_setup(text), "fused").values()}
    found = re.findall(r"\d+\.\d{4,}", text)
    assert len(found) > len(QUANTITIES), "the section should show its arithmetic"
    for number in found:
        assert float(number) in values, f"{number} in the worked example is none of the computed values"


def test_the_figure_script_draws_the_unrolled_network(tmp_path):
    if not importlib.util.find_spec("matplotlib"):
        pytest.skip("needs matplotlib")
    spec = importlib.util.spec_from_file_location("make_bptt_figure", ROOT / "docs" / "make_bptt_figure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "bptt_unrolled.png"
    module.main([str(path)])
    assert path.stat().st_size > 10_000
