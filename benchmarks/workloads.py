"""Four recurrent training workloads, five implementations, one table: where our fused road stands.

One training step = forward over the whole (time-major) sequence, the loss, backward, plain SGD
(lr 0.01), float32, the same PyTorch-style initial weights (uniform ±1/sqrt(H)) for everyone:

    char  1-layer LSTM, H 128, one-hot 65 symbols, B 32, T 64,  Linear(128, 65) every step, cross-entropy
    tiny  1-layer tanh RNN, H 100, one-hot 65, B 1, T 25,       Linear(100, 65) every step, cross-entropy
    gru   1-layer GRU, H 256, dense input 64, B 64, T 100,      Linear(256, 1) on the last state, MSE
    long  1-layer LSTM, H 64, dense input 8, B 16, T 1000,      Linear(64, 1) on the last state, MSE

Implementations: PyTorch's fused layer (nn.LSTM/GRU/RNN), PyTorch's Python loop over
nn.LSTMCell/GRUCell/RNNCell, the NumPy floor (``numpy_floor.py``: the step written by hand), ours
``impl="fused"`` and ours ``impl="composed"``. They run interleaved (each repeat runs every
implementation once, in rotating order, so machine noise hits all alike); the table gives the
MEDIAN ms per step and the ratios ours fused / floor, ours fused / torch fused, ours composed /
torch cell loop and floor / torch fused. Before timing, the first step's loss of each is printed
and ours must agree with the floor to 1e-5 (relative): the comparison is of equal work.
PyTorch is optional: without it its columns are left out.

    OMP_NUM_THREADS=1 python benchmarks/workloads.py [--workloads char tiny gru long] [--repeats 7]
    python benchmarks/workloads.py --threads 1      # the same: re-runs itself with the variables set
    python benchmarks/workloads.py --no-torch       # the floor and ours only (default threads, no torch pool)
    python benchmarks/workloads.py --memory         # peak resident memory of the "long" step, per
                                                    # implementation, each in a fresh process
    python benchmarks/workloads.py --isolate        # each implementation timed in a process of its own

Why ``--isolate``: by default all five run in one process, so ours runs with torch's objects in the
heap. Our graph is made of Python objects, and CPython's cycle collector rescans every live object
each time it runs a full collection; importing torch adds ~150,000 of them, which made our composed
road's ``long`` step (1000 time steps, a graph of some 80,000 objects) up to ~2x slower than in a
process of its own. PyTorch's graph lives in C++ and does not feel this. With ``--isolate`` each
implementation lives in its own worker process (the rounds still interleave them, each worker times
its own steps): what a user of either library sees. It shows a second effect too: in a small fresh
process, arrays of several MiB made anew each step come from the C allocator, which returns them to
the system when freed and takes page faults to get them back (measured: ~2,500 minor faults per
``char`` step on our fused road, none for the NumPy floor, which allocates its buffers once for all
steps); in the shared process the heap stays large and the memory is reused. Run with
``MALLOC_TRIM_THRESHOLD_=1000000000 MALLOC_MMAP_THRESHOLD_=1000000000`` in the environment (the
workers inherit it) to have every process keep its freed memory instead.

Threads: BLAS reads OMP_NUM_THREADS / OPENBLAS_NUM_THREADS when NumPy is imported, so the count is
set before Python starts (or ``--threads N``, which uses threadpoolctl when installed and otherwise
re-executes this script with the variables set); the setting found is printed at the top. With more
than one thread, torch's OpenMP pool and NumPy's OpenBLAS pool share the cores inside one process, and
on a small or busy machine their spinning threads slow each other down (measured on 2 busy cores: the
torch columns up to 20 times slower than with one thread); compare with OMP_NUM_THREADS=1 there.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if (ROOT / "tinygrad_rnn").is_dir():  # run from a checkout: its tinygrad_rnn, not an installed copy
    sys.path.insert(0, str(ROOT))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402  (after the path set-up above)
import numpy_floor as floor  # noqa: E402  benchmarks/numpy_floor.py, beside this script
from timing import interleaved_medians, rotating_order  # noqa: E402  benchmarks/timing.py, beside this script

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
RECURRENT_NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
LAYERS = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN"}
TORCH_FUSED, TORCH_CELLS, FLOOR, OURS_FUSED, OURS_COMPOSED = (
    "torch fused", "torch cells", "numpy floor", "ours fused", "ours composed")


# ---------------------------------------------------------------- the implementations
def _loss(lib, workload, head, outputs, last, target):
    """The workload's loss, written once for both libraries."""
    if workload.loss == "cross_entropy":
        logits = head(outputs).reshape(-1, workload.outputs)
        return lib.nn.functional.cross_entropy(logits, target.reshape(-1))
    return lib.nn.functional.mse_loss(head(last), target)


def library_step(lib, workload, params: dict, data: tuple, impl: str | None = None, cells: bool = False):
    """``step()`` -> loss of one training step in ``lib`` (tinygrad_rnn or torch): its fused layer
    (``impl`` passed on to ours), or, with ``cells``, a Python loop over its LSTMCell/GRUCell/RNNCell."""
    layer_name = LAYERS[workload.cell]
    if cells:
        layer = getattr(lib.nn, layer_name + "Cell")(workload.inputs, workload.hidden)
        layer.load_state_dict({name[: -len("_l0")]: lib.tensor(params[name]) for name in RECURRENT_NAMES})
    else:
        kwargs = {} if impl is None else {"impl": impl}
        layer = getattr(lib.nn, layer_name)(workload.inputs, workload.hidden, **kwargs)
        layer.load_state_dict({name: lib.tensor(params[name]) for name in RECURRENT_NAMES})
    head = lib.nn.Linear(workload.hidden, workload.outputs)
    head.load_state_dict({"weight": lib.tensor(params["head.weight"]), "bias": lib.tensor(params["head.bias"])})
    x, target = (lib.tensor(array) for array in data)
    optimizer = lib.optim.SGD(list(layer.parameters()) + list(head.parameters()), lr=floor.LEARNING_RATE)
    per_step_loss = workload.loss == "cross_entropy"

    def run_cells():
        zeros = lib.zeros(workload.batch, workload.hidden)
        state = (zeros, zeros) if workload.cell == "lstm" else zeros
        outputs = []
        for t in range(workload.steps):
            state = layer(x[t], state)
            if per_step_loss:
                outputs.append(state[0] if workload.cell == "lstm" else state)
        last = state[0] if workload.cell == "lstm" else state
        return (lib.stack(outputs) if per_step_loss else None), last

    def step() -> float:
        if cells:
            outputs, last = run_cells()
        else:
            outputs, _ = layer(x)
            last = outputs[-1]
        loss = _loss(lib, workload, head, outputs, last, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return float(loss.item())

    return step


def make_steps(name: str, torch=None, include=None) -> dict:
    """{implementation: step()} for the workload ``name``, each on its own copy of the same weights and data
    (``include``: only these implementations; torch's are left out when ``torch`` is None)."""
    workload = floor.WORKLOADS[name]
    params, data = floor.init_params(workload), floor.make_data(workload)

    def copy():
        return {key: value.copy() for key, value in params.items()}

    makers = {
        FLOOR: lambda: floor.STEP_MAKERS[name](copy(), data),
        OURS_FUSED: lambda: library_step(_import_ours(), workload, copy(), data, impl="fused"),
        OURS_COMPOSED: lambda: library_step(_import_ours(), workload, copy(), data, impl="composed"),
    }
    if torch is not None:
        makers[TORCH_FUSED] = lambda: library_step(torch, workload, copy(), data)
        makers[TORCH_CELLS] = lambda: library_step(torch, workload, copy(), data, cells=True)
    order = [TORCH_FUSED, TORCH_CELLS, FLOOR, OURS_FUSED, OURS_COMPOSED]
    return {impl: makers[impl]() for impl in order if impl in makers and (include is None or impl in include)}


def check_losses(name: str, steps: dict, tolerance: float = 1e-5) -> None:
    """Run each step once from the same weights; print the losses; exit if ours and the floor differ."""
    _report_losses(name, {impl: step() for impl, step in steps.items()}, tolerance)


def _report_losses(name: str, losses: dict, tolerance: float = 1e-5) -> None:
    reference = losses[FLOOR]
    parts, bad = [], []
    for impl, value in losses.items():
        relative = abs(value - reference) / max(abs(reference), 1e-12)
        parts.append(f"{impl} {value:.7g}" + ("" if impl == FLOOR else f" ({relative:.1e})"))
        if impl.startswith("ours") and relative > tolerance:
            bad.append(impl)
    print(f"  {name}: first-step loss " + ", ".join(parts) + ("  MISMATCH" if bad else "  ok"))
    if bad:
        raise SystemExit(f"{name}: {', '.join(bad)} disagree with the NumPy floor beyond {tolerance:g} relative")


# ---------------------------------------------------------------- threads
def _thread_setting(torch) -> str:
    """The thread setting in force, in words."""
    env = " ".join(f"{variable}={os.environ.get(variable, 'unset')}" for variable in THREAD_VARIABLES)
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy: no mode="dicts"
        blas = "unknown"
    text = f"threads: {env}; NumPy BLAS {blas}; {os.cpu_count()} CPUs"
    if importlib.util.find_spec("threadpoolctl") is not None:
        from threadpoolctl import threadpool_info

        text += "; BLAS threads " + ",".join(str(pool["num_threads"]) for pool in threadpool_info())
    if torch is not None:
        text += f"; torch {torch.__version__} threads {torch.get_num_threads()}"
    return text


def _apply_threads(threads: int):
    """Limit BLAS to ``threads``: with threadpoolctl at once (returns its limiter, to keep), otherwise by
    re-executing this script with the variables set (unless they already say so)."""
    if importlib.util.find_spec("threadpoolctl") is not None:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(threads)
    if all(os.environ.get(variable) == str(threads) for variable in THREAD_VARIABLES):
        return None
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]])


def _import_ours():
    import tinygrad_rnn

    return tinygrad_rnn


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


# ---------------------------------------------------------------- memory
def memory_child(impl: str, steps: int) -> None:
    """In a fresh process: build the "long" step of ``impl``, run ``steps`` of it, print the peak
    resident memory after the set-up and after the steps as one JSON line."""
    import resource

    torch = _import_torch() if impl.startswith("torch") else None
    if impl.startswith("ours"):
        import tinygrad_rnn  # noqa: F401  (imported before the baseline, like torch)
    step = make_steps("long", torch=torch, include=[impl])[impl]
    setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    loss = [step() for _ in range(steps)][-1]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"impl": impl, "setup_kib": setup, "peak_kib": peak, "loss": loss}))


def memory_table(steps: int) -> None:
    """Each implementation's "long" step in its own fresh subprocess; print peak resident memory (MiB).
    (Linux carries ru_maxrss over fork and exec, so the caller must stay small: it imports neither torch
    nor tinygrad_rnn.)"""
    impls = [OURS_FUSED, FLOOR] + ([TORCH_FUSED] if importlib.util.find_spec("torch") is not None else [])
    workload = floor.WORKLOADS["long"]
    print(f"peak resident memory (ru_maxrss), workload long (LSTM H {workload.hidden}, B {workload.batch}, "
          f"T {workload.steps}), {steps} training steps, each implementation in a fresh process")
    print(f"{'implementation':16s} {'after set-up MiB':>17s} {'peak MiB':>9s} {'peak - set-up':>14s}"
          f" {'last loss':>10s}")
    for impl in impls:
        command = [sys.executable, str(Path(__file__).resolve()), "--memory-child", impl,
                   "--memory-steps", str(steps)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        row = json.loads(output.strip().splitlines()[-1])
        setup, peak = row["setup_kib"] / 1024, row["peak_kib"] / 1024  # ru_maxrss is in KiB on Linux
        print(f"{impl:16s} {setup:17.1f} {peak:9.1f} {peak - setup:14.1f} {row['loss']:10.5f}")
    if TORCH_FUSED not in impls:
        print("torch is not installed: no PyTorch row (pip install torch==2.13.0 to compare)")


# ---------------------------------------------------------------- each implementation in its own process
def worker(name: str, impl: str) -> None:
    """A worker process for ``--isolate``: build ``impl``'s step of workload ``name`` (importing only
    what it needs), print its first loss, then run one step per "step" line read, printing its time."""
    torch = _import_torch() if impl.startswith("torch") else None
    step = make_steps(name, torch=torch, include=[impl])[impl]
    print(json.dumps({"loss": step()}), flush=True)
    for line in sys.stdin:
        if line.strip() != "step":
            break
        start = time.perf_counter()
        step()
        print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


def isolated_medians(name: str, impls: list, repeats: int) -> dict:
    """As ``interleaved_medians``, but every implementation runs in a worker process of its own: the
    rounds still interleave them, and each times its own step, so no library runs with another's
    objects in its heap (a Python-level graph pays for every object the garbage collector must scan,
    and importing torch alone adds some 150,000 of them)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name]
    workers = {impl: subprocess.Popen(command + [impl], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for impl in impls}

    def ask(impl: str, line: str | None) -> dict:
        process = workers[impl]
        if line is not None:
            process.stdin.write(line + "\n")
            process.stdin.flush()
        reply = process.stdout.readline()
        if not reply:
            raise SystemExit(f"{name}: the {impl} worker stopped (exit status {process.wait()})")
        return json.loads(reply)

    try:
        losses = {impl: ask(impl, None)["loss"] for impl in impls}
        _report_losses(name, losses)
        for impl in impls:  # one untimed step each, as interleaved_medians does
            ask(impl, "step")
        times = {impl: [] for impl in impls}
        for impl in rotating_order(impls, repeats):
            times[impl].append(ask(impl, "step")["seconds"])
    finally:
        for process in workers.values():
            process.stdin.close()
            process.wait()
    return {impl: 1000 * statistics.median(values) for impl, values in times.items()}


# ---------------------------------------------------------------- the table
def print_table(results: dict, torch_present: bool) -> None:
    """The median ms per step of every implementation and workload, then the ratios."""
    impls = [TORCH_FUSED, TORCH_CELLS, FLOOR, OURS_FUSED, OURS_COMPOSED]
    ratios = [("fused/floor", OURS_FUSED, FLOOR), ("fused/torch", OURS_FUSED, TORCH_FUSED),
              ("composed/cells", OURS_COMPOSED, TORCH_CELLS), ("floor/torch", FLOOR, TORCH_FUSED)]
    if not torch_present:
        impls = impls[2:]
        ratios = ratios[:1]
    print("median ms per training step" + " " * 48 + "| ratios")
    print(f"{'workload':9s}" + "".join(f"{impl:>14s}" for impl in impls) + " |"
          + "".join(f"{label:>15s}" for label, _, _ in ratios))
    for name, times in results.items():
        print(f"{name:9s}" + "".join(f"{times[impl]:14.3f}" for impl in impls) + " |"
              + "".join(f"{times[a] / times[b]:14.2f}x" for _, a, b in ratios))


def isolated_table(args) -> None:
    """``--isolate``: the table, each implementation timed in a worker process of its own."""
    torch_present = not args.no_torch and importlib.util.find_spec("torch") is not None
    if args.threads:  # the workers read the setting when they import NumPy and torch
        for variable in THREAD_VARIABLES:
            os.environ[variable] = str(args.threads)
    print(_thread_setting(None) + ("; torch in its own workers" if torch_present else ""))
    print(f"tinygrad_rnn from {Path(importlib.util.find_spec('tinygrad_rnn').origin).parent}")
    impls = [TORCH_FUSED, TORCH_CELLS] if torch_present else []
    impls += [FLOOR, OURS_FUSED, OURS_COMPOSED]
    print("each implementation in its own process; checking that all compute the same first loss:")
    results = {}
    for name in args.workloads:
        results[name] = isolated_medians(name, impls, args.repeats)
        print(f"  {name}: timed ({args.repeats} interleaved rounds)", flush=True)
    print_table(results, torch_present)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", nargs="+", default=list(floor.WORKLOADS), choices=list(floor.WORKLOADS))
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds (the median is reported)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and torch threads (default: what the environment says)")
    parser.add_argument("--memory", action="store_true",
                        help="instead: peak resident memory of the long workload, a fresh process each")
    parser.add_argument("--memory-steps", type=int, default=3, help="training steps in each --memory process")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--isolate", action="store_true",
                        help="each implementation in a worker process of its own (rounds still interleaved)")
    parser.add_argument("--worker", nargs=2, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--no-torch", action="store_true",
                        help="leave PyTorch out even if installed (its thread pool then cannot compete with BLAS's)")
    args = parser.parse_args()

    limiter = _apply_threads(args.threads) if args.threads else None
    if args.worker:
        worker(*args.worker)
        return
    if args.memory_child:
        memory_child(args.memory_child, args.memory_steps)
        return
    if args.memory:  # before importing torch or tinygrad_rnn: a child's ru_maxrss starts at this process's RSS
        print(_thread_setting(None))
        print(f"tinygrad_rnn from {Path(importlib.util.find_spec('tinygrad_rnn').origin).parent}")
        memory_table(args.memory_steps)
        return
    if args.isolate:
        isolated_table(args)
        return
    torch = None if args.no_torch else _import_torch()
    if torch is not None and args.threads:
        torch.set_num_threads(args.threads)
    print(_thread_setting(torch))
    import tinygrad_rnn as tr

    print(f"tinygrad_rnn from {Path(tr.__file__).parent}")
    if torch is None:
        print("PyTorch left out (--no-torch) or not installed: printing the floor and ours only")

    print("checking that every implementation computes the same first loss:")
    all_steps = {}
    for name in args.workloads:
        all_steps[name] = make_steps(name, torch=torch)
        check_losses(name, all_steps[name])
    results = {}
    for name in args.workloads:
        results[name] = interleaved_medians(all_steps[name], args.repeats)
        print(f"  {name}: timed ({args.repeats} interleaved rounds)", flush=True)
    print_table(results, torch is not None)
    del limiter


if __name__ == "__main__":
    main()
