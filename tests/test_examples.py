"""The examples run and do what they promise (they are the README's main job)."""

from __future__ import annotations

from pathlib import Path

from tests import helpers

ROOT = Path(__file__).resolve().parent.parent


def run_example(name: str, *args: str) -> str:
    return helpers.run_example(name, *args).stdout


def test_hello_rnn_learns_ello():
    lines = run_example("hello_rnn.py").strip().splitlines()
    assert lines[-1] == "final prediction: ello"
    first_loss = float(lines[0].split("loss")[1].split()[0])
    last_loss = float(lines[-2].split("loss")[1].split()[0])
    assert last_loss < first_loss / 10


def test_tiny_rnn_beats_the_repeat_baseline():
    output = run_example("tiny_rnn.py", "--steps", "150")
    assert output.strip().splitlines()[-1] == "learned to continue the wave"


def test_the_readme_example_runs(tmp_path, monkeypatch):
    import re

    readme = (ROOT / "README.md").read_text()
    code = re.findall(r"```python\n(.*?)```", readme, re.S)[0]
    monkeypatch.chdir(tmp_path)  # it writes checkpoint.npz
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "checkpoint.npz").exists()
    assert namespace["gxx"].numpy().tolist() == [[6.0, 12.0]]  # d²(x³)/dx² = 6x at x = [1, 2]
