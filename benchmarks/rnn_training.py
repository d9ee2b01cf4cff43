"""Whole training steps of recurrent layers, ours against PyTorch (CPU) in the same run.

One step = forward over a batch of sequences, cross-entropy on every step's output,
backward (backpropagation through time), Adam update. Prints milliseconds per step
and ours / torch.

    python benchmarks/rnn_training.py [--kinds RNN LSTM GRU] [--steps 32] [--batch 16]
        [--hidden 64] [--repeats 10] [--device cpu]
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import print_comparison  # benchmarks/timing.py, beside this script


def training_step(lib, nn, optim, kind: str, state: dict, x, y, classes: int, device: str):
    """A closure doing one training step, written once for both libraries."""
    rnn = getattr(nn, kind)(x.shape[-1], state["hidden"]).to(device)
    head = nn.Linear(state["hidden"], classes).to(device)
    rnn.load_state_dict({k: v for k, v in state[kind].items()})
    params = list(rnn.parameters()) + list(head.parameters())
    optimizer = optim.Adam(params, lr=1e-3)

    def step():
        out, _ = rnn(x)
        loss = nn.functional.cross_entropy(head(out).reshape(-1, classes), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kinds", nargs="+", default=["RNN", "LSTM", "GRU"])
    parser.add_argument("--steps", type=int, default=32, help="sequence length")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--inputs", type=int, default=16)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import tinygrad_rnn as tr
    from tinygrad_rnn import nn, optim

    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.steps, args.batch, args.inputs)).astype(np.float32)
    y = rng.integers(0, args.classes, (args.steps, args.batch))
    state = {"hidden": args.hidden}
    for kind in args.kinds:
        # NumPy copies: the same starting weights for both libraries (torch.tensor cannot read our Tensors)
        state[kind] = {k: v.numpy().copy() for k, v in getattr(nn, kind)(args.inputs, args.hidden).state_dict().items()}

    ours = {kind: training_step(tr, nn, optim, kind, state, tr.tensor(x, device=args.device),
                                tr.tensor(y, device=args.device), args.classes, args.device)
            for kind in args.kinds}
    try:
        import torch

        torch.set_num_threads(1)
        device = "cuda" if args.device.startswith("cuda") else "cpu"
        theirs = {}
        for kind in args.kinds:
            weights = {"hidden": args.hidden, kind: {k: torch.tensor(v) for k, v in state[kind].items()}}
            theirs[kind] = training_step(torch, torch.nn, torch.optim, kind, weights, torch.tensor(x, device=device),
                                         torch.tensor(y, device=device), args.classes, device)
    except ImportError:
        theirs = None
        print("torch is not installed: printing our times only (pip install torch==2.13.0 to compare)")

    print(f"T={args.steps} N={args.batch} H={args.hidden} input={args.inputs} device={args.device}")
    print_comparison(ours, theirs, args.repeats, "layer (one training step)")


if __name__ == "__main__":
    main()
