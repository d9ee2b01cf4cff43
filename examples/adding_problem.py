"""The adding problem: why LSTMs and GRUs exist, in one run.

Hochreiter & Schmidhuber (1997) made up this task to show what a plain RNN cannot do.
Each sequence has T steps (100 by default) of two numbers: a random value in [0, 1],
and a marker that is 1 at exactly two steps, one in the first half and one in the
second half. After the last step the network must say the sum of the two marked
values. Nothing about the task is hard except the distance: the first marked value
must be kept for up to T steps while everything else is ignored.

A vanilla (tanh) RNN, an LSTM and a GRU get the same hidden size, the same batches,
the same number of steps and the same learning rate (Adam, gradient norm clipped to 1),
each with a Linear layer reading its last output. Always predicting 1, the mean
answer, scores MSE 1/6 ≈ 0.167: that is the baseline. The LSTM and the GRU learn the
task; the vanilla RNN stays at the baseline, because its gradient vanishes over the
steps that separate the first marker from the loss (examples/vanishing_gradients.py
measures exactly that). With ``--plot`` you see the learning curves: the gated
networks sit on the baseline for a while, then suddenly drop.

    python examples/adding_problem.py [--length 100] [--steps 2000] [--plot adding.png] [--device cuda]
"""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.training import (
    Stopwatch,
    apply_quick,
    evaluate,
    example_arguments,
    log,
    optimize,
    progress,
    save_figure,
)

LAYERS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
SOLVED = 0.01  # test MSE below this counts as solved: over 16 times better than the baseline


def number(mse: float) -> str:
    """An MSE for people and for parsers: 0.1640, or 2.3e-05 when four decimals would show 0.0000."""
    return f"{mse:.4f}" if mse >= 1e-3 else f"{mse:.1e}"


class Adder(nn.Module):
    """A recurrent layer reads the whole sequence; a Linear layer turns its last output into the sum."""

    def __init__(self, kind: str, hidden: int):
        super().__init__()
        self.rnn = LAYERS[kind](2, hidden)  # time first: (T, batch, 2)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: tr.Tensor) -> tr.Tensor:
        outputs, _ = self.rnn(x)
        return self.head(outputs[-1])  # only the last step answers


def train(kind: str, args, test: tuple) -> dict:
    """Train one network on fresh random batches; return its learning curve: the test MSE
    every few steps (``curve["mse"][-1]`` is the final one) and the steps it was measured at."""
    tr.manual_seed(args.seed)  # each network starts from its own seeded initialisation...
    generator = np.random.default_rng((args.seed, 1))  # ...and sees the very same batches as the others
    model = Adder(kind, args.hidden).to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    test_inputs, test_targets = test

    def test_mse() -> float:
        return evaluate(model, lambda: nn.functional.mse_loss(model(test_inputs), test_targets).item())

    every = max(1, args.steps // 50)
    curve = {"step": [0], "mse": [test_mse()]}
    watch = Stopwatch()
    bar = progress(range(1, args.steps + 1), desc=kind, enabled=not args.no_progress)
    for step in bar:
        inputs, targets = tr.data.adding_problem(args.batch, args.length, generator, args.device)
        optimize(nn.functional.mse_loss(model(inputs), targets), optimizer, max_norm=args.clip)
        if step % every == 0 or step == args.steps:
            curve["step"].append(step)
            curve["mse"].append(test_mse())
            if step % (every * 10) == 0:
                log(bar, f"{kind:4s} step {step:5d}  test MSE {number(curve['mse'][-1])}")
    print(f"{kind}: trained {args.steps} steps in {watch.elapsed:.1f} s, test MSE {number(curve['mse'][-1])}")
    return curve


def verdict(kind: str, mse: float, baseline: float, length: int) -> str:
    """One plain sentence on where a network stands."""
    if mse < SOLVED:
        return f"{kind}: {number(mse)}, solved: it carries the first marked value across up to {length} steps."
    if mse > 0.8 * baseline:
        why = (f"the gradient vanishes over {length} steps, so nothing tells it to keep the first value "
               "(examples/vanishing_gradients.py measures it)"
               if kind == "RNN" else "it is still on the plateau; give it more --steps")
        return f"{kind}: {mse:.2f}, no better than the baseline: {why}."
    return f"{kind}: {number(mse)}, better than the baseline, not solved (below {SOLVED}): try more --steps."


def main() -> None:
    parser = example_arguments(__doc__.split("\n")[0], length=100, steps=2000, hidden=32, batch=128, lr=0.02,
                               clip=1.0, test_size=1000)
    args = apply_quick(parser, parser.parse_args(), length=20, steps=800)
    print(f"adding problem: T={args.length} steps, hidden size {args.hidden}, {args.steps} steps of "
          f"batch {args.batch}, Adam lr {args.lr}, gradient norm clipped to {args.clip}")

    test = tr.data.adding_problem(args.test_size, args.length, np.random.default_rng((args.seed, 0)), args.device)
    baseline = ((test[1] - 1) ** 2).mean().item()  # always answering 1, the mean sum
    print(f"baseline (always predict 1): test MSE {baseline:.4f}")

    curves = {kind: train(kind, args, test) for kind in LAYERS}
    finals = {kind: curve["mse"][-1] for kind, curve in curves.items()}

    if args.plot:

        def draw(pyplot):
            figure, axes = pyplot.subplots(figsize=(8, 4.5))
            for kind, curve in curves.items():
                axes.plot(curve["step"], curve["mse"], label=f"{kind} (final {number(finals[kind])})")
            axes.axhline(baseline, color="k", ls="--", lw=1, label=f"always predict 1 ({baseline:.3f})")
            axes.axhline(SOLVED, color="0.5", ls=":", lw=1, label=f"solved ({SOLVED})")
            axes.set_yscale("log")
            axes.set_xlabel("training step")
            axes.set_ylabel("test MSE (log scale)")
            solved = [kind for kind, mse in finals.items() if mse < SOLVED]
            axes.set_title(f"The adding problem, T = {args.length}: solved by {', '.join(solved) or 'none'}")
            axes.legend()
            return figure

        save_figure(draw, args.plot)

    print()
    for kind in LAYERS:
        print(verdict(kind, finals[kind], baseline, args.length))
    for kind in LAYERS:
        print(f"{kind} test MSE {number(finals[kind])} (baseline {baseline:.4f})")


if __name__ == "__main__":
    main()
