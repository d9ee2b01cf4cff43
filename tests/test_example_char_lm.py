"""examples/char_lm.py learns: its --quick runs end well below the baselines, a resumed run
carries on from its checkpoint's step, and any text file can be the corpus."""

from __future__ import annotations

import importlib.util
import random
import re
import subprocess
from pathlib import Path

import tinygrad_rnn as tr
from tests import helpers

ROOT = Path(__file__).resolve().parent.parent


def run_char_lm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return helpers.run_example("char_lm.py", "--quick", "--no-progress", *args, check=check)


def numbers(output: str) -> dict:
    """The baselines and the final held-out bpc the example prints."""
    uniform, unigram = re.search(r"baselines: uniform ([\d.]+) bits per character, unigram \S+ \S+ ([\d.]+)",
                                 output).groups()
    last = output.strip().splitlines()[-1]
    assert last.startswith("held-out bits per character: "), last
    return {"uniform": float(uniform), "unigram": float(unigram), "bpc": float(last.split(": ")[1])}


def test_quick_run_beats_both_baselines():
    result = numbers(run_char_lm().stdout)
    # log2(vocab) is knowing nothing; the unigram entropy is knowing only character frequencies.
    assert result["bpc"] < result["uniform"] - 2.0, result
    assert result["bpc"] < result["unigram"] - 1.0, result


def test_resume_continues_from_the_checkpoint(tmp_path):
    checkpoint = tmp_path / "char_lm.npz"
    run_char_lm("--steps", "40", "--checkpoint", str(checkpoint))
    assert tr.load(checkpoint)["step"] == 40

    plot = tmp_path / "curve.png"
    output = run_char_lm("--steps", "80", "--checkpoint", str(checkpoint), "--resume", "--plot", str(plot)).stdout
    assert f"resumed from {checkpoint} at step 40" in output
    assert "step    80" in output and "step    40" not in output  # it trained steps 41..80 only
    saved = tr.load(checkpoint)
    assert saved["step"] == 80
    assert saved["history"]["step"] == [40, 50, 80]  # the learning curve goes on where it stopped (evals every 50)
    assert numbers(output)["bpc"] < numbers(output)["uniform"] - 1.0
    if importlib.util.find_spec("matplotlib"):
        assert plot.stat().st_size > 0

    # Another text means another alphabet: the checkpoint cannot be resumed, and says why.
    other = tmp_path / "other.txt"
    other.write_text("abc " * 2000)
    refused = run_char_lm("--text", str(other), "--checkpoint", str(checkpoint), "--resume", check=False)
    assert refused.returncode != 0 and "another alphabet" in refused.stderr


def test_any_text_file_with_a_gru(tmp_path):
    words = "the a cat dog sat ran on under mat log quickly slowly".split()
    rng = random.Random(0)
    sentences = (" ".join(rng.choice(words) for _ in range(rng.randint(3, 8))) + ".\n" for _ in range(1500))
    corpus = tmp_path / "words.txt"
    corpus.write_text("".join(sentences))

    output = run_char_lm("--text", str(corpus), "--cell", "gru").stdout
    assert f"characters of {corpus}" in output
    result = numbers(output)
    assert result["bpc"] < result["unigram"] - 1.0, result
