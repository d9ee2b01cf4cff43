"""The classic first RNN: learn to map "hell" to "ello", one character at a time.

At each step the network sees one character of "hell" and must predict the next
character of "hello". A character is a one-hot vector over the alphabet {h, e, l, o};
an ``nn.RNN`` carries what it has seen in its hidden state, and a ``nn.Linear``
turns each hidden state into scores for the next character. Note the two "l"s:
after the first "l" the answer is "l", after the second it is "o", so the network
must remember where it is, which is exactly what the hidden state is for.

    python examples/hello_rnn.py [--steps 100] [--seed 0] [--device cpu]
"""

from __future__ import annotations

import argparse

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim

ALPHABET = "helo"


class CharRNN(nn.Module):
    """One-hot characters in, next-character scores out."""

    def __init__(self, vocab: int, hidden: int):
        super().__init__()
        self.rnn = nn.RNN(vocab, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x: tr.Tensor) -> tr.Tensor:
        states, _ = self.rnn(x)  # (batch, time, hidden): the hidden state after each character
        return self.head(states)  # (batch, time, vocab): scores for the next character


def encode(text: str, device: str) -> tr.Tensor:
    """Character indices of ``text`` as an int64 tensor."""
    return tr.tensor([ALPHABET.index(ch) for ch in text], device=device)


def decode(indices: tr.Tensor) -> str:
    return "".join(ALPHABET[i] for i in indices.tolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()
    tr.manual_seed(args.seed)

    inputs = tr.one_hot(encode("hell", args.device), len(ALPHABET)).float().unsqueeze(0)  # (1, 4, 4)
    targets = encode("ello", args.device)  # (4,)
    model = CharRNN(len(ALPHABET), args.hidden).to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=0.05)

    for step in range(1, args.steps + 1):
        logits = model(inputs)[0]  # (4, vocab)
        loss = nn.functional.cross_entropy(logits, targets)
        optimizer.zero_grad()
        loss.backward()  # backpropagation through time
        optimizer.step()
        if step == 1 or step % 10 == 0:
            print(f"step {step:3d}  loss {loss.item():.4f}  hell -> {decode(logits.argmax(-1))}")

    with tr.no_grad():
        prediction = decode(model(inputs)[0].argmax(-1))
    print(f"final prediction: {prediction}")


if __name__ == "__main__":
    main()
