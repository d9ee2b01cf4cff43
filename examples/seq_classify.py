"""Classify whole sequences: which waveform is this, sine, square, triangle or sawtooth?

Many-to-one: a GRU reads a sequence of numbers and only its final hidden state h_n,
its summary of everything it has read, goes to a linear layer that scores the classes.
Every sequence has its own random period, phase, amplitude, noise and length, so no
single step gives the answer away: the shape over time does. Sequences of different
lengths are padded into one batch with ``tr.data.pad_sequences`` and the layer is told
the real lengths (``lengths=``), so padding never enters the state and h_n is each
sequence's state after its own last real value.

With ``--plot`` the picture shows a few sequences of each class, the learning curve
and the confusion matrix on the test set.

    python examples/seq_classify.py [--epochs 20] [--seed 0] [--plot classify.png] [--device cuda]
"""

from __future__ import annotations

import math

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.training import Stopwatch, evaluate, example_arguments, log, optimize, progress, save_figure

CLASSES = ("sine", "square", "triangle", "sawtooth")


def waveform(kind: int, length: int, noise: float, generator) -> np.ndarray:
    """One noisy wave of class ``kind``: random period (6 to 16 steps), phase and amplitude."""
    period, phase, amplitude = generator.uniform(6, 16), generator.uniform(0, 1), generator.uniform(0.5, 1.5)
    u = (np.arange(length) / period + phase) % 1.0  # where in its cycle each step is, in [0, 1)
    shape = (np.sin(2 * math.pi * u), np.sign(np.sin(2 * math.pi * u)), 4 * np.abs(u - 0.5) - 1, 2 * u - 1)[kind]
    return amplitude * shape + noise * generator.standard_normal(length)


def make_dataset(count: int, min_length: int, max_length: int, noise: float, generator, device) -> tuple:
    """``count`` labelled sequences, padded: inputs (count, L_max, 1), lengths (count,), labels (count,)."""
    labels = generator.integers(0, len(CLASSES), count)
    lengths = generator.integers(min_length, max_length + 1, count)
    waves = [tr.tensor(waveform(k, n, noise, generator).astype(np.float32)).reshape(-1, 1)
             for k, n in zip(labels, lengths)]
    padded, _ = tr.data.pad_sequences(waves, batch_first=True)
    return padded.to(device), tr.tensor(lengths, device=device), tr.tensor(labels, device=device)


class SequenceClassifier(nn.Module):
    """A sequence of numbers in, one score per class out, read off the last hidden state."""

    def __init__(self, hidden: int, classes: int):
        super().__init__()
        self.rnn = nn.GRU(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: tr.Tensor, lengths: tr.Tensor) -> tr.Tensor:
        _, h_n = self.rnn(x, lengths=lengths)  # h_n: (1, batch, hidden), each at its own last step
        return self.head(h_n[0])


def accuracy_and_predictions(model: SequenceClassifier, data: tuple) -> tuple:
    """Fraction classified right and the predicted classes (a NumPy array), without a graph."""
    inputs, lengths, labels = data
    predicted = evaluate(model, lambda: model(inputs, lengths).argmax(-1))
    return (predicted == labels).float().mean().item(), predicted.numpy()


def main() -> None:
    parser = example_arguments(__doc__.split("\n")[0], epochs=20, train=2000, test=500, hidden=32, batch=32,
                               lr=0.01, min_length=20, max_length=50, noise=0.1)
    args = tr.training.apply_quick(parser, parser.parse_args(), epochs=6, train=800, test=300)
    tr.manual_seed(args.seed)
    generator = np.random.default_rng(args.seed)
    lengths = (args.min_length, args.max_length)
    train = make_dataset(args.train, *lengths, args.noise, generator, args.device)
    test = make_dataset(args.test, *lengths, args.noise, generator, args.device)
    chance = 1 / len(CLASSES)
    print(f"{args.train} training and {args.test} test sequences of {args.min_length} to {args.max_length} steps, "
          f"{len(CLASSES)} classes: {', '.join(CLASSES)}")

    model = SequenceClassifier(args.hidden, len(CLASSES)).to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)  # big steps first, small last
    watch, curve = Stopwatch(), []  # curve: (epoch, mean training loss, test accuracy)
    bar = progress(range(1, args.epochs + 1), desc="epochs", enabled=not args.no_progress)
    for epoch in bar:
        losses = []
        for inputs, lengths, labels in tr.data.batches(*train, batch_size=args.batch, generator=generator):
            loss = nn.functional.cross_entropy(model(inputs, lengths), labels)
            losses.append(optimize(loss, optimizer, max_norm=1.0))
        schedule.step()
        accuracy, _ = accuracy_and_predictions(model, test)
        curve.append((epoch, sum(losses) / len(losses), accuracy))
        log(bar, f"epoch {epoch:2d}  training loss {curve[-1][1]:.4f}  test accuracy {accuracy:.3f}")
    print(f"trained {args.epochs} epochs in {watch.elapsed:.1f} s")

    accuracy, predicted = accuracy_and_predictions(model, test)
    if args.plot:
        labels = test[2].numpy()
        confusion = np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
        np.add.at(confusion, (labels, predicted), 1)  # rows: true class, columns: predicted

        def draw(pyplot):
            figure, (waves, learning, matrix) = pyplot.subplots(1, 3, figsize=(16, 4.6))
            for k in range(len(CLASSES)):  # the first test sequence of each class, offset vertically
                i = int(np.flatnonzero(labels == k)[0])
                n = int(test[1][i].item())
                waves.plot(test[0][i, :n, 0].numpy() - 4 * k, color=f"C{k}")
            waves.set_yticks([-4 * k for k in range(len(CLASSES))], CLASSES)  # each row named by its class
            waves.set_title("one test sequence of each class")
            waves.set_xlabel("step")
            epochs, losses, accuracies = zip(*curve)
            learning.plot(epochs, losses, "o-", color="C0", label="training loss")
            learning.set_xlabel("epoch")
            learning.set_xticks(range(1, len(epochs) + 1, max(1, len(epochs) // 10)))  # whole epochs only
            learning.set_ylabel("cross-entropy")
            right = learning.twinx()
            right.plot(epochs, accuracies, "s-", color="C1", label="test accuracy")
            right.axhline(chance, color="C1", ls=":", label="chance")
            right.set_ylim(0, 1.02)
            right.set_ylabel("accuracy")
            learning.set_title("learning curve")
            learning.legend(loc="center left")
            right.legend(loc="center right")
            matrix.imshow(confusion, cmap="Blues")
            for (row, column), value in np.ndenumerate(confusion):
                color = "white" if value > confusion.max() / 2 else "black"
                matrix.text(column, row, str(value), ha="center", va="center", color=color)
            matrix.set_xticks(range(len(CLASSES)), CLASSES)
            matrix.set_yticks(range(len(CLASSES)), CLASSES)
            matrix.set_xlabel("predicted")
            matrix.set_ylabel("true")
            matrix.set_title(f"test confusion matrix (accuracy {accuracy:.3f})")
            figure.tight_layout()
            return figure

        save_figure(draw, args.plot)
    print(f"test accuracy {accuracy:.3f} (chance {chance:.2f})")


if __name__ == "__main__":
    main()
