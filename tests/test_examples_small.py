"""The shorter examples finish with --quick and learn (a broken model or engine would not)."""

from __future__ import annotations

import math
import re

from tests import helpers


def quick(name: str, *args: str) -> str:
    return helpers.run_example(name, "--quick", "--no-progress", *args).stdout


def test_seq_classify_beats_chance():
    output = quick("seq_classify.py")
    accuracy, chance = map(float, re.search(r"test accuracy ([\d.]+) \(chance ([\d.]+)\)", output).groups())
    assert chance == 0.25
    assert accuracy > chance + 0.2, output[-500:]  # about 0.65 in practice


def test_sine_forecast_beats_repeating_the_last_value():
    output = quick("sine_forecast.py")
    mse, baseline = map(float, re.search(r"test MSE ([\d.e-]+) \(repeat-last baseline ([\d.e-]+)\)", output).groups())
    assert mse < 0.8 * baseline, output[-500:]  # about half of it in practice


def test_sine_forecast_reads_a_csv_column(tmp_path):
    rows = ["day,value"] + [f"{i},{10 + 3 * math.sin(i / 5):.4f}" for i in range(300)]
    path = tmp_path / "series.csv"
    path.write_text("\n".join(rows) + "\n")
    output = quick("sine_forecast.py", "--csv", str(path), "--column", "value")
    assert "300 values: 240 to train on" in output, output[-500:]
    mse, baseline = map(float, re.search(r"test MSE ([\d.e-]+) \(repeat-last baseline ([\d.e-]+)\)", output).groups())
    assert mse < 0.8 * baseline, output[-500:]


def test_hidden_states_network_spells_the_words(tmp_path):
    # With --plot too: the figure code runs where matplotlib is installed, and is skipped where it is not.
    output = quick("hidden_states.py", "--plot", str(tmp_path / "states.png"))
    loss, accuracy = map(float, re.search(r"final loss ([\d.]+), next-character accuracy ([\d.]+)", output).groups())
    assert accuracy >= 0.9 and loss < 0.5, output[-500:]
    assert "mississippi -> ississippi." in output, output[-500:]
