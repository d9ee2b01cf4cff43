"""Per-op cost of the autograd engine, against PyTorch (CPU) when it is installed.

Four workloads, each timed as forward + backward, repeated:
- elementwise: a few small elementwise ops on (32, 32) tensors, so the time is
  almost all per-op bookkeeping (graph nodes, Tensor objects, dispatch);
- elementwise chain: 20 elementwise ops in a row on (16, 64) tensors;
- recurrence: a 64-step tanh recurrence h = tanh(x_t W + h U + b), batch 16,
  hidden 64: the shape of RNN training, per step a few ops;
- GRU cell: a GRU cell written with Tensor ops (matmuls, gate slices, sigmoid,
  tanh, blends) run over 50 steps, batch 16, hidden 64: what a learner who writes
  their own cell gets.

Prints milliseconds per forward+backward and, when torch is present, the ratio
ours / torch measured in this same run (absolute times mean little across machines).

    python benchmarks/engine_overhead.py [--repeats 50] [--threads 1]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from timing import print_comparison  # benchmarks/timing.py, beside this script


def workloads(lib, make, steps: int = 64, batch: int = 16, hidden: int = 64):
    """The two workloads written once against a tiny adapter: ``make(array, grad)``
    turns a NumPy array into the library's tensor."""
    rng = np.random.default_rng(0)
    a = make(rng.standard_normal((32, 32)).astype(np.float32), True)
    b = make(rng.standard_normal((32, 32)).astype(np.float32), True)

    def elementwise():
        y = ((a * b + a).tanh() * b.sigmoid() - a).sum()
        y.backward()

    c = make(rng.standard_normal((16, 64)).astype(np.float32), True)
    d = make(rng.standard_normal((16, 64)).astype(np.float32), True)

    def chain():
        y = c
        for _ in range(5):  # 4 ops per round, 20 in all
            y = (y * d + c).tanh() - d
        y.sum().backward()

    xs = make(rng.standard_normal((steps, batch, hidden)).astype(np.float32), False)
    W = make((rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(np.float32), True)
    U = make((rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(np.float32), True)
    bias = make(np.zeros(hidden, dtype=np.float32), True)

    def recurrence():
        h = make(np.zeros((batch, hidden), dtype=np.float32), False)
        total = 0
        for t in range(steps):
            h = (xs[t] @ W + h @ U + bias).tanh()
            total = total + h.sum()
        total.backward()

    w_ih = make((rng.standard_normal((hidden, 3 * hidden)) / np.sqrt(hidden)).astype(np.float32), True)
    w_hh = make((rng.standard_normal((hidden, 3 * hidden)) / np.sqrt(hidden)).astype(np.float32), True)
    b_ih = make(np.zeros(3 * hidden, dtype=np.float32), True)
    b_hh = make(np.zeros(3 * hidden, dtype=np.float32), True)
    gru_steps = 50

    def gru_cell():
        # r, z, n gates as PyTorch's GRUCell: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h = make(np.zeros((batch, hidden), dtype=np.float32), False)
        for t in range(gru_steps):
            gi = xs[t] @ w_ih + b_ih
            gh = h @ w_hh + b_hh
            r = (gi[:, :hidden] + gh[:, :hidden]).sigmoid()
            z = (gi[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden]).sigmoid()
            n = (gi[:, 2 * hidden:] + r * gh[:, 2 * hidden:]).tanh()
            h = (1 - z) * n + z * h
        h.sum().backward()

    return {
        "elementwise (32x32, 5 ops)": elementwise,
        "elementwise chain (16x64, 20 ops)": chain,
        f"tanh recurrence ({steps} steps)": recurrence,
        f"GRU cell of Tensor ops ({gru_steps} steps)": gru_cell,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1, help="BLAS/torch threads for both libraries")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    import tinygrad_rnn as tr

    ours = workloads(tr, lambda array, grad: tr.tensor(array, requires_grad=grad))
    try:
        import torch

        torch.set_num_threads(args.threads)
        theirs = workloads(torch, lambda array, grad: torch.tensor(array, requires_grad=grad))
    except ImportError:
        theirs = None
        print("torch is not installed: printing our times only (pip install torch==2.13.0 to compare)")

    print_comparison(ours, theirs, args.repeats, "workload (forward + backward)")


if __name__ == "__main__":
    main()
