"""A tanh RNN written with nothing but Tensor ops learns to continue a sine wave.

There are no layers here on purpose: the recurrence h_t = tanh(x_t W_x + h_{t-1} W_h + b)
is three lines, and backpropagation through time is whatever ``loss.backward()``
does with the graph those lines record. Parameters are updated by plain gradient
descent with momentum, by hand, under ``tr.no_grad()``.

    python examples/tiny_rnn.py [--steps 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import math

import tinygrad_rnn as tr


def make_batch(batch: int, length: int) -> tuple:
    """Sine waves of random phase and frequency: inputs x_0..x_{T-1}, targets x_1..x_T."""
    phase = tr.rand(batch, 1) * 2 * math.pi
    frequency = 0.15 + 0.1 * tr.rand(batch, 1)
    time = tr.arange(length + 1, dtype=tr.float32).reshape(1, -1)
    wave = (phase + frequency * time).sin()
    series = wave.T.unsqueeze(-1)  # (length + 1, batch, 1): time first, as recurrent layers take it
    return series[:-1], series[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tr.manual_seed(args.seed)

    hidden = args.hidden
    scale = 1 / math.sqrt(hidden)
    params = {
        "W_x": (tr.randn(1, hidden) * scale).requires_grad_(),
        "W_h": (tr.randn(hidden, hidden) * scale).requires_grad_(),
        "b": tr.zeros(hidden, requires_grad=True),
        "W_out": (tr.randn(hidden, 1) * scale).requires_grad_(),
        "b_out": tr.zeros(1, requires_grad=True),
    }
    velocity = {name: tr.zeros_like(p) for name, p in params.items()}
    learning_rate, momentum = 0.05, 0.9

    def predict(inputs: tr.Tensor) -> tr.Tensor:
        h = tr.zeros(inputs.shape[1], hidden)
        outputs = []
        for x_t in inputs:  # one step of the recurrence per time step
            h = (x_t @ params["W_x"] + h @ params["W_h"] + params["b"]).tanh()
            outputs.append(h @ params["W_out"] + params["b_out"])
        return tr.stack(outputs)

    for step in range(1, args.steps + 1):
        inputs, targets = make_batch(batch=16, length=30)
        loss = ((predict(inputs) - targets) ** 2).mean()
        for p in params.values():
            p.grad = None
        loss.backward()  # backpropagation through time, by the engine
        with tr.no_grad():
            for name, p in params.items():
                velocity[name] = momentum * velocity[name] + p.grad
                p -= learning_rate * velocity[name]
        if step % 50 == 0 or step == 1:
            print(f"step {step:4d}  mean squared error {loss.item():.5f}")

    inputs, targets = make_batch(batch=256, length=30)
    with tr.no_grad():
        model_error = ((predict(inputs) - targets) ** 2).mean().item()
    repeat_error = ((inputs - targets) ** 2).mean().item()
    print(f"held-out error {model_error:.5f}  (repeating the last value: {repeat_error:.5f})")
    print("learned to continue the wave" if model_error < repeat_error / 2 else "did not beat the baseline")


if __name__ == "__main__":
    main()
