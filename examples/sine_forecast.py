"""Forecast a time series one step ahead with an LSTM (or GRU), and let it run free.

Many-to-many: at every step the network reads the current value and predicts the
next one, so a window of T values gives T predictions and T errors to learn from.
The series is a noisy sum of two sines by default, or a column of your own CSV file.
It is normalised (zero mean, unit variance on the training part), the first 80% is
for training and the last 20% for testing, and the test score is set against the
naive forecast "tomorrow is like today" (repeat the last value), which a model must
beat to be worth anything. The noise cannot be predicted, so no model reaches zero.

With ``--plot`` the picture shows the one-step predictions against the truth, and a
free-running forecast: after reading some real values, the model is fed its own
predictions and has to continue the series alone.

    python examples/sine_forecast.py [--cell lstm] [--steps 800] [--plot forecast.png]
    python examples/sine_forecast.py --csv prices.csv --column close [--device cuda]

``--column`` is a header name or a 0-based index (negative counts from the end; the
default, -1, is the last column).
"""

from __future__ import annotations

import csv
import math

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.training import Stopwatch, evaluate, example_arguments, log, optimize, progress, save_figure


def noisy_sines(length: int, noise: float, generator) -> np.ndarray:
    """Two sines (periods 40 and 17 steps) plus Gaussian noise: a pattern to learn, noise to ignore."""
    t = np.arange(length)
    return np.sin(2 * math.pi * t / 40) + 0.5 * np.sin(2 * math.pi * t / 17) + noise * generator.standard_normal(length)


def read_csv_column(path: str, column: str) -> np.ndarray:
    """The numbers of one column of a CSV file, named by header or by 0-based index; a
    first row that is not a number there is taken as the header; empty cells are skipped."""
    with open(path, newline="") as file:
        rows = [row for row in csv.reader(file) if row]
    if not rows:
        raise SystemExit(f"{path}: no rows")
    if column.lstrip("-").isdigit():
        index = int(column)
    elif column in rows[0]:
        index = rows[0].index(column)
    else:
        raise SystemExit(f"{path}: no column {column!r}; the header has {rows[0]}")
    values = []
    for number, row in enumerate(rows, 1):
        cell = row[index].strip() if -len(row) <= index < len(row) else ""
        try:
            values.append(float(cell))
        except ValueError:
            if cell and number > 1:  # the header is allowed not to be a number, nothing else is
                raise SystemExit(f"{path}, line {number}: {cell!r} in column {column!r} is not a number") from None
    if len(values) < 50:
        raise SystemExit(f"{path}: column {column!r} has {len(values)} numbers; at least 50 are needed")
    return np.asarray(values)


class Forecaster(nn.Module):
    """A value in, the predicted next value out, at every step; ``state`` carries on."""

    def __init__(self, cell: str, hidden: int):
        super().__init__()
        layer = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = layer(1, hidden)  # time first: (T, batch, 1)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: tr.Tensor, state=None) -> tuple:
        outputs, state = self.rnn(x, state)
        return self.head(outputs), state


def free_run(model: Forecaster, context: tr.Tensor, horizon: int) -> tr.Tensor:
    """Read the real values ``context`` (T, 1, 1), then predict ``horizon`` more, each
    from the model's own previous prediction. Returns the (horizon,) predictions."""
    prediction, state = model(context)
    value, forecast = prediction[-1:], []
    for _ in range(horizon):
        forecast.append(value.reshape(1))
        value, state = model(value, state)  # one step: the prediction goes back in as input
    return tr.cat(forecast)


def main() -> None:
    parser = example_arguments(__doc__.split("\n")[0], steps=800, cell="lstm", hidden=32, window=60, batch=32,
                               lr=0.01, length=3000, noise=0.1, csv=None, column="-1", horizon=120)
    args = tr.training.apply_quick(parser, parser.parse_args(), steps=150, hidden=16, window=40, horizon=60)
    tr.manual_seed(args.seed)
    generator = np.random.default_rng(args.seed)

    series = read_csv_column(args.csv, args.column) if args.csv else noisy_sines(args.length, args.noise, generator)
    split = int(0.8 * len(series))
    mean, std = series[:split].mean(), series[:split].std() or 1.0
    data = tr.tensor(((series - mean) / std).astype(np.float32), device=args.device)
    train, test = data[:split], data[split - args.window:]  # the test run warms up on the last training values
    print(f"{len(series)} values: {split} to train on, {len(series) - split} to test on (normalised)")

    model = Forecaster(args.cell, args.hidden).to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.steps)  # settle down at the end
    watch = Stopwatch()
    bar = progress(range(1, args.steps + 1), desc="training", enabled=not args.no_progress)
    for step in bar:
        inputs, targets = tr.data.random_windows(train, args.window, args.batch, generator)  # (T, batch) each
        prediction, _ = model(inputs.unsqueeze(-1))
        loss = optimize(nn.functional.mse_loss(prediction, targets.unsqueeze(-1)), optimizer, max_norm=1.0)
        schedule.step()
        if step == 1 or step % max(1, args.steps // 10) == 0:
            log(bar, f"step {step:4d}  training MSE {loss:.4f}")
    print(f"trained {args.steps} steps in {watch.elapsed:.1f} s")

    # One-step predictions over the whole test part, scored from the first test value on.
    def one_step_predictions():
        prediction, _ = model(test[:-1].reshape(-1, 1, 1))
        return prediction.reshape(-1)[args.window - 1:]

    predicted, truth = evaluate(model, one_step_predictions), test[args.window:]
    model_mse = ((predicted - truth) ** 2).mean().item()
    baseline_mse = ((test[args.window - 1:-1] - truth) ** 2).mean().item()  # repeat the last value

    # Free-running: read the real values just before the test part, then continue alone.
    horizon = min(args.horizon, len(truth))
    forecast = evaluate(model, lambda: free_run(model, test[: args.window].reshape(-1, 1, 1), horizon))
    free_mse = ((forecast - truth[:horizon]) ** 2).mean().item()
    print(f"free-running forecast of {horizon} steps: MSE {free_mse:.4f} (always predicting the mean: "
          f"{(truth[:horizon] ** 2).mean().item():.4f})")

    if args.plot:
        shown = min(len(truth), 200)

        def draw(pyplot):
            figure, (top, bottom) = pyplot.subplots(2, 1, figsize=(11, 6.5))
            top.plot(truth[:shown].numpy(), ".-", color="0.6", label="truth (normalised)")
            top.plot(predicted[:shown].numpy(), color="C1", label=f"one step ahead (MSE {model_mse:.4f})")
            top.set_title(f"{args.cell.upper()}: predict the next value from the real past values "
                          f"(repeat-last baseline MSE {baseline_mse:.4f})")
            top.set_xlabel("test step")
            top.margins(y=0.3)  # room for the legend above the curves
            top.legend(loc="upper center", ncol=2)
            past = np.arange(-args.window, 0)
            bottom.plot(past, test[: args.window].numpy(), ".-", color="0.3", label="read by the model")
            bottom.plot(np.arange(horizon), truth[:horizon].numpy(), ".-", color="0.6", label="truth (not seen)")
            bottom.plot(np.arange(horizon), forecast.numpy(), color="C3",
                        label=f"free-running forecast (MSE {free_mse:.4f})")
            bottom.axvline(-0.5, color="k", lw=0.8)
            bottom.set_title("free-running: after the vertical line the model is fed its own predictions")
            bottom.set_xlabel("steps from the start of the forecast")
            bottom.margins(y=0.3)
            bottom.legend(loc="upper center", ncol=3)
            figure.tight_layout()
            return figure

        save_figure(draw, args.plot)
    print(f"test MSE {model_mse:.4f} (repeat-last baseline {baseline_mse:.4f})")


if __name__ == "__main__":
    main()
