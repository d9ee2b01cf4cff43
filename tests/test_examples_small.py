"""The shorter examples finish with --quick and learn (a broken model or engine would not)."""

from __future__ import annotations

import re

from tests import helpers


def quick(name: str) -> str:
    return helpers.run_example(name, "--quick", "--no-progress").stdout


def test_seq_classify_beats_chance():
    output = quick("seq_classify.py")
    accuracy, chance = map(float, re.search(r"test accuracy ([\d.]+) \(chance ([\d.]+)\)", output).groups())
    assert accuracy > chance + 0.2, output[-500:]


def test_sine_forecast_beats_repeating_the_last_value():
    output = quick("sine_forecast.py")
    mse, baseline = map(float, re.search(r"test MSE ([\d.e-]+) \(repeat-last baseline ([\d.e-]+)\)", output).groups())
    assert mse < 0.8 * baseline, output[-500:]


def test_hidden_states_network_spells_the_words():
    output = quick("hidden_states.py")
    loss, accuracy = map(float, re.search(r"final loss ([\d.]+), next-character accuracy ([\d.]+)", output).groups())
    assert accuracy >= 0.9 and loss < 0.5, output[-500:]
