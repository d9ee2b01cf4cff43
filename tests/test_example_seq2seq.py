"""examples/seq2seq.py learns: its --quick runs decode held-out digit strings far above chance."""

from __future__ import annotations

import importlib.util
import re

from tests import helpers


def run_quick(*args: str) -> str:
    return helpers.run_example("seq2seq.py", "--quick", "--no-progress", *args).stdout


def accuracies(output: str) -> tuple:
    """(per-token, exact-match) from the last two lines, which the example keeps parseable."""
    *_, token_line, exact_line = output.strip().splitlines()
    token = re.fullmatch(r"per-token accuracy ([\d.]+) \(chance 0\.1\)", token_line)
    exact = re.fullmatch(r"exact-match accuracy ([\d.]+) on (\d+) held-out strings", exact_line)
    assert token and exact, output
    assert int(exact.group(2)) == 200, exact_line  # --quick holds out 200 strings
    return float(token.group(1)), float(exact.group(1))


def test_quick_reverse_learns_well_above_chance(tmp_path):
    plot = tmp_path / "seq2seq.png"
    output = run_quick("--plot", str(plot))
    token, exact = accuracies(output)
    # Chance is 0.1 per digit and ~0 for a whole string. Correct runs ended at per-token
    # 0.82..0.90 and exact match 0.70..0.83 over seeds 0-3 (300 steps); a decoder that
    # ignored the encoder's state could not get past guessing digits.
    assert token > 0.6, output
    assert exact > 0.4, output
    assert re.search(r"^\s+\d+ -> \S+\s+\d+\s+(ok|WRONG)$", output, re.M), output  # the examples are shown
    if importlib.util.find_spec("matplotlib"):
        assert plot.stat().st_size > 0


def test_quick_sort_with_an_lstm():
    token, exact = accuracies(run_quick("--task", "sort", "--cell", "lstm"))
    assert token > 0.6, (token, exact)  # sorting is the easier task: a GRU reached 0.996 here


def test_runs_on_the_strict_device():
    # "strict" refuses host/device mixing as CuPy does, so this catches code that would break on a GPU.
    token, _ = accuracies(run_quick("--device", "strict", "--steps", "20"))
    assert 0.0 <= token <= 1.0
