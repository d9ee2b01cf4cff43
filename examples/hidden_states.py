"""Look inside an RNN: its hidden state, unit by unit, as it reads a word, before and after training.

The network learns to spell a handful of words: reading a word one character at a
time, it predicts the next character, and "." after the last one. Each word starts
with its own letter, so after the first character the rest is fully determined, but
only for a network that remembers: after the "i" of "missi" comes "s", after the "i" of
"mississi" comes "p"; after "ello" comes "." in "hello" and "w" in "yellow". The
hidden state is the only place where that memory can be.

With ``--plot`` the picture shows the hidden state (rows: hidden units, columns: the
characters read so far) as a heatmap, for the untrained network (random weights:
the state follows the current character and little else) and the trained one (units
that keep track of where in the word it is), with each step's prediction on top.

    python examples/hidden_states.py [--word mississippi] [--cell rnn] [--plot states.png]
"""

from __future__ import annotations

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.training import Stopwatch, evaluate, example_arguments, log, optimize, progress, save_figure

WORDS = ("hello", "yellow", "banana", "mississippi", "tomorrow")
END = "."  # what comes after the last character


class Speller(nn.Module):
    """One-hot characters in, next-character scores out; keeps every hidden state."""

    def __init__(self, cell: str, vocab: int, hidden: int):
        super().__init__()
        self.rnn = {"rnn": nn.RNN, "gru": nn.GRU}[cell](vocab, hidden)  # both keep the state in [-1, 1]
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x: tr.Tensor, lengths=None) -> tuple:
        states, _ = self.rnn(x, lengths=lengths)  # (time, batch, hidden): the state after each character
        return self.head(states), states


def read_word(model: Speller, vocab: tr.data.CharVocabulary, word: str, device) -> tuple:
    """The hidden states (hidden, len(word)) while reading ``word``, and the predicted next characters."""
    x = tr.one_hot(vocab.encode(word, device), len(vocab)).float().unsqueeze(1)  # (time, 1, vocab)
    logits, states = evaluate(model, lambda: model(x))
    return states[:, 0].T.numpy(), vocab.decode(logits[:, 0].argmax(-1))


def main() -> None:
    parser = example_arguments(__doc__.split("\n")[0], steps=600, cell="rnn", hidden=16, lr=0.02, word="mississippi")
    args = tr.training.apply_quick(parser, parser.parse_args(), steps=150)
    tr.manual_seed(args.seed)
    vocab = tr.data.CharVocabulary("".join(WORDS) + END)
    if set(args.word) - set(vocab.chars):
        parser.error(f"--word may only use the characters {''.join(vocab.chars)}")

    # All the words in one padded batch: inputs are the characters, targets the next ones.
    inputs, lengths = tr.data.pad_sequences(
        [tr.one_hot(vocab.encode(w, args.device), len(vocab)).float() for w in WORDS])  # (time, words, vocab)
    targets, _ = tr.data.pad_sequences([vocab.encode(w[1:] + END, args.device) for w in WORDS],
                                        padding_value=-100)  # -100: cross_entropy's ignore_index, for padding
    model = Speller(args.cell, len(vocab), args.hidden).to(args.device)
    before = read_word(model, vocab, args.word, args.device)

    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    watch = Stopwatch()
    bar = progress(range(1, args.steps + 1), desc="training", enabled=not args.no_progress)
    for step in bar:
        logits, _ = model(inputs, lengths)
        loss = optimize(nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), targets.reshape(-1)), optimizer)
        if step == 1 or step % max(1, args.steps // 6) == 0:
            log(bar, f"step {step:4d}  loss {loss:.4f}")
    print(f"trained {args.steps} steps in {watch.elapsed:.1f} s")

    predicted = evaluate(model, lambda: model(inputs, lengths)[0].argmax(-1))  # (time, words)
    # Padding targets are -100, which no prediction equals, so matches count only real characters.
    correct, total = int((predicted == targets).sum().item()), sum(lengths)
    for i, word in enumerate(WORDS):
        print(f"  {word:>12} -> {vocab.decode(predicted[: len(word), i])}")
    after = read_word(model, vocab, args.word, args.device)

    if args.plot:
        def draw(pyplot):
            figure, panels = pyplot.subplots(1, 2, figsize=(13, 5.2), sharey=True)
            for panel, (states, guesses), title in zip(panels, (before, after), ("before training", "after training")):
                image = panel.imshow(states, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
                panel.set_xticks(range(len(args.word)), list(args.word), fontsize=13)
                panel.set_yticks(range(states.shape[0]))
                panel.set_xlabel(f"character read (the word {args.word!r}, left to right)")
                top = panel.secondary_xaxis("top")  # what the network predicts comes next, after each character
                top.set_xticks(range(len(args.word)), list(guesses), fontsize=13, color="C2")
                panel.set_title(f"{title}: predicts {guesses!r} next", pad=26)
            panels[0].set_ylabel("hidden unit")
            figure.colorbar(image, ax=panels, label="hidden state value", shrink=0.85)
            return figure

        save_figure(draw, args.plot)
    print(f"final loss {loss:.4f}, next-character accuracy {correct / total:.3f} ({correct}/{total})")


if __name__ == "__main__":
    main()
