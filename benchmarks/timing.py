"""What the benchmarks share: best-of-n timing and the ours-against-torch table."""

from __future__ import annotations

import statistics
import time


def best_time(step, repeats: int) -> float:
    """Best-of-``repeats`` wall time of ``step()`` in milliseconds, after two warm-up calls
    (the minimum is the run least disturbed by the rest of the machine)."""
    step()
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def print_comparison(ours: dict, theirs: dict | None, repeats: int, label: str, unit: str = "ms") -> None:
    """Time each workload of ``ours`` and, when torch is there, the same one of ``theirs``,
    in this one run, and print both with the ratio ours / torch."""
    print(f"{label:32s} {'ours ' + unit:>12s} {'torch ' + unit:>12s} {'ours/torch':>11s}")
    for name, step in ours.items():
        mine = best_time(step, repeats)
        if theirs is None:
            print(f"{name:32s} {mine:12.3f}")
            continue
        reference = best_time(theirs[name], repeats)
        print(f"{name:32s} {mine:12.3f} {reference:12.3f} {mine / reference:10.2f}x")


def interleaved_medians(steps: dict, repeats: int, warmup: int = 1) -> dict:
    """Median wall time in milliseconds of each ``steps[name]()``, measured interleaved: each of the
    ``repeats`` rounds runs every step once, the order rotated by one each round, so that noise from
    the rest of the machine (and the cache state one step leaves for the next) falls on all alike.
    ``warmup`` untimed calls of each first."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {name: [] for name in steps}
    for name in rotating_order(list(steps), repeats):
        start = time.perf_counter()
        steps[name]()
        times[name].append(time.perf_counter() - start)
    return {name: 1000 * statistics.median(values) for name, values in times.items()}


def rotating_order(names: list, repeats: int):
    """The order of ``repeats`` interleaved rounds: every name once per round, rotated by one each round."""
    for round_ in range(repeats):
        shift = round_ % len(names)
        yield from names[shift:] + names[:shift]
