"""Watch the gradient vanish: how much does the loss at the last step care about each earlier step?

A recurrent network learns from the gradient of its loss L_T at the last step T with
respect to each earlier hidden state h_t. If ‖∂L_T/∂h_t‖ shrinks as t goes back, the
early steps get (next to) no learning signal, and whatever happened there can never be
learned. This example measures that norm at every step, for a tanh RNN, an LSTM and a
GRU, each before and after training on the adding problem (examples/adding_problem.py),
where the first number to remember lies in the first half of the sequence.

The sequence is run one step at a time with the cells (``nn.RNNCell``, ``nn.LSTMCell``,
``nn.GRUCell``), which take the trained layers' weights once their names lose the
layer suffix (``weight_ih_l0`` -> ``weight_ih``). Each step's state h_t gets a hook,
``h_t.register_hook(...)``, that the backward pass calls with ∂L_T/∂h_t; the norms are
computed in float64 so that the tiniest do not underflow to zero. With ``--plot`` you
see the norms against t on a log scale, untrained next to trained.

    python examples/vanishing_gradients.py [--length 100] [--steps 1500] [--plot vanishing.png] [--device cuda]
"""

from __future__ import annotations

import math

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.training import Stopwatch, apply_quick, evaluate, example_arguments, optimize, progress, save_figure

LAYERS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
CELLS = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}


class Adder(nn.Module):
    """A recurrent layer reads the sequence; a Linear layer turns its last output into the sum."""

    def __init__(self, kind: str, hidden: int):
        super().__init__()
        self.kind = kind
        self.rnn = LAYERS[kind](2, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: tr.Tensor) -> tr.Tensor:
        outputs, _ = self.rnn(x)
        return self.head(outputs[-1])


def gradient_norms(model: Adder, inputs: tr.Tensor, targets: tr.Tensor) -> list:
    """‖∂L_T/∂h_t‖ for t = 0 .. T-1: the model's weights in a cell, run step by step in
    float64, with a hook on every step's hidden state h_t."""
    cell = CELLS[model.kind](2, model.rnn.hidden_size)
    cell.load_state_dict({name.removesuffix("_l0"): value for name, value in model.rnn.state_dict().items()})
    head = nn.Linear(model.rnn.hidden_size, 1)
    head.load_state_dict(model.head.state_dict())
    cell.to(tr.float64, device=inputs.device)
    head.to(tr.float64, device=inputs.device)
    inputs, targets = inputs.to(tr.float64), targets.to(tr.float64)

    norms = [math.nan] * inputs.shape[0]

    def record(t: int):
        def hook(grad):  # called by backward with ∂L_T/∂h_t, all of it (every later step's path summed)
            norms[t] = (grad * grad).sum().sqrt().item()
        return hook

    h, c = None, None
    for t in range(inputs.shape[0]):
        if model.kind == "LSTM":
            h, c = cell(inputs[t], None if h is None else (h, c))
        else:
            h = cell(inputs[t], h)
        h.register_hook(record(t))
    loss = nn.functional.mse_loss(head(h), targets)  # L_T: the loss at the last step, the only one
    loss.backward()
    return norms


def train(model: Adder, args, generator) -> None:
    """Adam on fresh adding-problem batches, with the fused layers (fast); the cells only measure."""
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    for _ in progress(range(args.steps), desc=f"training {model.kind}", enabled=not args.no_progress):
        inputs, targets = tr.data.adding_problem(args.batch, args.length, generator, args.device)
        optimize(nn.functional.mse_loss(model(inputs), targets), optimizer, max_norm=1.0)


def main() -> None:
    parser = example_arguments(__doc__.split("\n")[0], length=100, steps=1500, hidden=32, batch=128, lr=0.02,
                               probe_batch=256)
    args = apply_quick(parser, parser.parse_args(), length=20, steps=600)
    tr.manual_seed(args.seed)
    T = args.length
    probe = tr.data.adding_problem(args.probe_batch, T, np.random.default_rng((args.seed, 0)), args.device)
    baseline = ((probe[1] - 1) ** 2).mean().item()
    print(f"adding problem, T={T}: training each network {args.steps} steps of batch {args.batch} "
          f"(always predicting 1 scores MSE {baseline:.3f})")

    norms = {"untrained": {}, "trained": {}}
    for kind in LAYERS:
        watch = Stopwatch()
        model = Adder(kind, args.hidden).to(args.device)
        norms["untrained"][kind] = gradient_norms(model, *probe)
        train(model, args, np.random.default_rng((args.seed, 1)))  # the same batches for all three
        norms["trained"][kind] = gradient_norms(model, *probe)
        mse = evaluate(model, lambda m=model: nn.functional.mse_loss(m(probe[0]), probe[1]).item())
        print(f"{kind}: trained in {watch.elapsed:.1f} s, test MSE {mse:.4f}")

    if args.plot:

        def draw(pyplot):
            figure, panels = pyplot.subplots(1, 2, figsize=(11, 4.2), sharey=True)
            for panel, (state, curves) in zip(panels, norms.items()):
                for kind, values in curves.items():  # relative to t=T-1: a trained model's small error
                    panel.plot(range(T), np.divide(values, values[T - 1]), label=kind)  # shrinks them all
                panel.axvspan(0, T // 2 - 1, color="0.92", zorder=0, label="where the first marker lies")
                panel.set_yscale("log")
                panel.set_xlabel("time step t")
                panel.set_title(f"{state}")
                panel.legend()
            panels[0].set_ylabel(rf"$\|\partial L / \partial h_t\| \;/\; \|\partial L / \partial h_{{{T - 1}}}\|$"
                                 " (log scale)")
            figure.suptitle("How strongly the last step's loss reaches back to each hidden state")
            figure.tight_layout()
            return figure

        save_figure(draw, args.plot)

    picks = (T - 1, T // 2, 0)
    print()
    print("‖∂L/∂h_t‖ at " + " ".join(f"{f't={t}':>9s}" for t in picks) + "   t=0 over t=T-1")
    for state, curves in norms.items():
        for kind, values in curves.items():
            cells = " ".join(f"{values[t]:9.2e}" for t in picks)
            print(f"{state + ' ' + kind:15s} {cells}   {values[0] / values[T - 1]:9.1e}")
    print()
    ratio = {state: {kind: values[0] / values[T - 1] for kind, values in curves.items()}
             for state, curves in norms.items()}
    print(f"Untrained, the gradient fades for all three: back at t=0 it is {ratio['untrained']['RNN']:.0e} (RNN), "
          f"{ratio['untrained']['LSTM']:.0e} (LSTM) and {ratio['untrained']['GRU']:.0e} (GRU) of its size at "
          f"t={T - 1}.")
    trained = ratio["trained"]
    if min(trained["LSTM"], trained["GRU"]) > 100 * trained["RNN"]:
        print(f"Trained, the gates learn to hold it open: LSTM {trained['LSTM']:.0e}, GRU {trained['GRU']:.0e}; "
              f"the tanh RNN has no gate and stays at {trained['RNN']:.0e}, so the first half of the sequence "
              "sends it next to no signal to learn from.")
    else:
        print(f"Trained: LSTM {trained['LSTM']:.0e}, GRU {trained['GRU']:.0e}, RNN {trained['RNN']:.0e}; "
              "this run did not set the gated networks apart (try more --steps).")


if __name__ == "__main__":
    main()
