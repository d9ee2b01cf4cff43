"""PyTorch programs run here with only their import lines changed.

Each script below is written for PyTorch, in the idioms real RNN scripts use (``p.data.add_``
updates, ``topk`` decoding, ``DataLoader`` batches, packed padded batches, ``LSTMCell`` with
``LBFGS``). ``switch_imports`` rewrites its import lines to this framework and nothing else;
the script must then run, and where PyTorch is installed it must give PyTorch's numbers (both
start from the same weights, handed in as NumPy arrays).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

IMPORTS = [  # PyTorch's import line -> ours; nothing else in a script changes
    (r"^import torch$", "import tinygrad_rnn as torch"),
    (r"^import torch\.nn as nn$", "from tinygrad_rnn import nn"),
    (r"^import torch\.nn\.functional as F$", "from tinygrad_rnn.nn import functional as F"),
    (r"^import torch\.optim as optim$", "from tinygrad_rnn import optim"),
    (r"^from torch import optim$", "from tinygrad_rnn import optim"),
    (r"^from torch\.utils\.data import ", "from tinygrad_rnn.utils.data import "),
    (r"^from torch\.nn\.utils\.rnn import ", "from tinygrad_rnn.nn.utils.rnn import "),
    (r"^import torch\.onnx$", "import tinygrad_rnn.onnx"),
]


def switch_imports(script: str) -> str:
    """The script with its PyTorch import lines replaced by ours (and only those lines)."""
    lines = []
    for line in script.splitlines():
        for pattern, replacement in IMPORTS:
            if re.match(pattern, line):
                line = re.sub(pattern, replacement, line)
                break
        else:
            assert "torch" not in line or not line.lstrip().startswith(("import", "from")), line
        lines.append(line)
    return "\n".join(lines)


def run(script: str, **inputs) -> dict:
    namespace = dict(inputs)
    exec(compile(script, "<pytorch script>", "exec"), namespace)  # noqa: S102 (our own test scripts)
    return namespace


LANGUAGE_MODEL = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class LanguageModel(nn.Module):
    def __init__(self, vocab, embed, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.size(1))
        return self.head(out)


model = LanguageModel(VOCAB, 8, 16)
model.load_state_dict({name: torch.tensor(value) for name, value in WEIGHTS.items()})
dataset = TensorDataset(torch.tensor(TOKENS), torch.tensor(TARGETS), torch.tensor(LENGTHS))
loader = DataLoader(dataset, batch_size=4, shuffle=False)
losses = []
for epoch in range(3):
    model.train()
    for tokens, targets, lengths in loader:
        logits = model(tokens, lengths)
        loss = F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1), ignore_index=-100)
        model.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        for p in model.parameters():
            p.data.add_(p.grad.data, alpha=-0.5)
        losses.append(loss.item())

model.eval()
generated = []
with torch.no_grad():
    token, state = torch.LongTensor([[1]]), None
    for _ in range(12):
        out, state = model.rnn(model.embed(token), state)
        scores, top = model.head(out[:, -1]).topk(2)
        token = top[:, :1]
        generated.append(int(token.item()))
'''


def _language_model_inputs():
    rng = np.random.default_rng(0)
    vocab, batch, steps = 7, 10, 6
    lengths = rng.integers(2, steps + 1, size=batch)
    tokens = rng.integers(0, vocab, size=(batch, steps))
    targets = np.roll(tokens, -1, axis=1)
    for row, n in enumerate(lengths):
        tokens[row, n:] = 0
        targets[row, n - 1:] = -100  # nothing to predict after the last token
    weights = {
        "embed.weight": rng.normal(size=(vocab, 8)),
        "rnn.weight_ih_l0": rng.normal(scale=0.3, size=(64, 8)),
        "rnn.weight_hh_l0": rng.normal(scale=0.3, size=(64, 16)),
        "rnn.bias_ih_l0": rng.normal(scale=0.1, size=64),
        "rnn.bias_hh_l0": rng.normal(scale=0.1, size=64),
        "head.weight": rng.normal(scale=0.3, size=(vocab, 16)),
        "head.bias": np.zeros(vocab),
    }
    weights = {k: v.astype(np.float32) for k, v in weights.items()}
    return dict(VOCAB=vocab, WEIGHTS=weights, TOKENS=tokens, TARGETS=targets, LENGTHS=lengths)


def test_language_model_script_runs_with_imports_switched():
    ours = run(switch_imports(LANGUAGE_MODEL), **_language_model_inputs())
    losses = ours["losses"]
    assert len(losses) == 9 and all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < np.mean(losses[:3])  # it learns
    assert len(ours["generated"]) == 12 and all(0 <= t < 7 for t in ours["generated"])


def test_language_model_script_gives_pytorchs_numbers():
    pytest.importorskip("torch")
    inputs = _language_model_inputs()
    theirs = run(LANGUAGE_MODEL, **inputs)
    ours = run(switch_imports(LANGUAGE_MODEL), **inputs)
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=2e-5, atol=1e-6)
    assert ours["generated"] == theirs["generated"]


SINE_LBFGS = '''
import torch
import torch.nn as nn
import torch.optim as optim


class Sequence(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(1, 12)
        self.linear = nn.Linear(12, 1)

    def forward(self, inputs):
        h = torch.zeros(inputs.size(0), 12, dtype=torch.double)
        c = torch.zeros(inputs.size(0), 12, dtype=torch.double)
        outputs = []
        for x in inputs.split(1, dim=1):
            h, c = self.cell(x, (h, c))
            outputs += [self.linear(h)]
        return torch.cat(outputs, dim=1)


model = Sequence().double()
model.load_state_dict({name: torch.from_numpy(value) for name, value in WEIGHTS.items()})
inputs, targets = torch.from_numpy(SERIES[:, :-1]), torch.from_numpy(SERIES[:, 1:])
criterion = nn.MSELoss()
optimizer = optim.LBFGS(model.parameters(), lr=0.8)
losses = []


def closure():
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets)
    losses.append(loss.item())
    loss.backward()
    return loss


for step in range(3):
    optimizer.step(closure)
'''


def _sine_inputs():
    rng = np.random.default_rng(1)
    t = np.arange(21) / 3.0 + rng.uniform(0, 6, size=(4, 1))
    weights = {
        "cell.weight_ih": rng.normal(scale=0.3, size=(48, 1)),
        "cell.weight_hh": rng.normal(scale=0.3, size=(48, 12)),
        "cell.bias_ih": rng.normal(scale=0.1, size=48),
        "cell.bias_hh": rng.normal(scale=0.1, size=48),
        "linear.weight": rng.normal(scale=0.3, size=(1, 12)),
        "linear.bias": np.zeros(1),
    }
    return dict(SERIES=np.sin(t), WEIGHTS=weights)


def test_lstmcell_lbfgs_script_runs_with_imports_switched():
    ours = run(switch_imports(SINE_LBFGS), **_sine_inputs())
    losses = ours["losses"]
    assert len(losses) > 3 and losses[-1] < losses[0] / 2


def test_lstmcell_lbfgs_script_gives_pytorchs_numbers():
    pytest.importorskip("torch")
    inputs = _sine_inputs()
    theirs, ours = run(SINE_LBFGS, **inputs), run(switch_imports(SINE_LBFGS), **inputs)
    assert len(ours["losses"]) == len(theirs["losses"])
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-6, atol=1e-9)


def test_switch_imports_changes_only_import_lines():
    switched = switch_imports(LANGUAGE_MODEL)
    before, after = LANGUAGE_MODEL.splitlines(), switched.splitlines()
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(before) == len(after) and len(changed) == 5
    assert all(a.startswith(("import torch", "from torch")) for a, _ in changed)
