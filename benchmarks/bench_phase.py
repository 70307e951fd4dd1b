"""Speed of a phase diagram: a 200 x 200 (rate, momentum) grid of 1,000-step runs in one call.

``gdlab.phase`` of the lecture's loss ``(b/2-1)^2`` from -10 with heavy-ball momentum: 200
log-spaced rates from 1e-3 to 10 by 200 momenta from 0 to 0.99, 1,000 steps each. Baselines in
this process: the part of the warm call spent in its compiled runs (the rest is judging all 40,000
cells and assembling the result); the same grid as 200 ``gdlab.sweep`` calls, one per momentum
(each momentum is a method of its own, ``METHODS["momentum"].configured(momentum=b)``, so each
call compiles its own program; ``--separate K`` times the first K of them, which the figures scale
to 200, K = 200 timing all); and one such sweep, warm, times 200 (what the separate sweeps would
cost if their compiled code were reused). Every timed separate sweep's regimes are checked to be
the phase's. Medians.

Run: ``python benchmarks/bench_phase.py [--repeats 5] [--separate 20] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from bench_sweep import compiled_part  # the same timing of the compiled runs as the sweep's

import gdlab

STEPS = 1000
LRS = gdlab.rates(1e-3, 10, 200)
MOMENTA = np.linspace(0, 0.99, 200)


def lecture_loss(b):
    return (b / 2 - 1) ** 2


def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def first_call() -> float:
    def fresh(b):  # a new function: the call traces and compiles
        return (b / 2 - 1) ** 2

    start = time.perf_counter()
    gdlab.phase(fresh, -10.0, lrs=LRS, momenta=MOMENTA, steps=STEPS)
    return time.perf_counter() - start


def separate_sweeps(momenta: np.ndarray) -> list:
    return [
        gdlab.sweep(
            lecture_loss,
            -10.0,
            lrs=LRS,
            steps=STEPS,
            method=gdlab.METHODS["momentum"].configured(momentum=float(b)),
            save="final",
        )
        for b in momenta
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--separate", type=int, default=20, help="separate sweeps timed (of 200)")
    args = parser.parse_args()
    print(f"200 rates x 200 momenta x {STEPS:,} steps of (b/2-1)^2 from -10; medians of {args.repeats}")
    first = statistics.median(first_call() for _ in range(3))

    def grid_call():
        return gdlab.phase(lecture_loss, -10.0, lrs=LRS, momenta=MOMENTA, steps=STEPS)

    grid_call()
    warm, grid = timed(grid_call, args.repeats)
    grid = lambda: gdlab.phase(lecture_loss, -10.0, lrs=LRS, momenta=MOMENTA, steps=STEPS)  # noqa: E731
    compiled = compiled_part(grid, args.repeats)  # the rest of the call judges the cells at once
    print(
        f"gdlab.phase: first call {first:.2f} s, warm {warm:.3f} s, of which compiled runs {compiled:.3f} s "
        f"(the whole call is {warm / compiled:.2f}x its compiled runs)"
    )
    count = max(1, min(args.separate, MOMENTA.size))
    scale = MOMENTA.size / count
    start = time.perf_counter()
    sweeps = separate_sweeps(MOMENTA[:count])
    separate = (time.perf_counter() - start) * scale
    regimes = np.array([[r.value for r in s.regime] for s in sweeps]).T
    same = bool(np.array_equal(regimes, grid.regime[:, :count]))
    one = gdlab.METHODS["momentum"].configured(momentum=0.5)
    gdlab.sweep(lecture_loss, -10.0, lrs=LRS, steps=STEPS, method=one, save="final")
    single, _ = timed(
        lambda: gdlab.sweep(lecture_loss, -10.0, lrs=LRS, steps=STEPS, method=one, save="final"), args.repeats
    )
    measured = "" if count == MOMENTA.size else f" ({count} timed, scaled to 200)"
    print(
        f"200 separate sweeps{measured}: {separate:.1f} s ({separate / warm:.0f}x the warm phase); "
        f"one warm sweep x 200: {single * 200:.2f} s "
        f"({single * 200 / warm:.1f}x); every timed cell's regime the same: {same}"
    )
    figures = {
        "phase_first_call_s": first,
        "phase_warm_s": warm,
        "phase_compiled_runs_s": compiled,
        "separate_sweeps_s": separate,
        "separate_sweeps_timed": count,
        "one_warm_sweep_s": single,
        "same_regimes": same,
    }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=1)


if __name__ == "__main__":
    main()
