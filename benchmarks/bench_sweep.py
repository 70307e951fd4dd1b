"""Speed of a learning-rate sweep: 1,000 rates x 10,000 steps of the lecture's loss in one call.

Steady: the warm sweep against a bare vmapped update loop with no checks, nothing recorded and
nothing judged (a floor: what the arithmetic alone costs), timed in turn in this process; the
ratio sweep / bare loop. Also the part of the warm sweep spent in its compiled runs (the rest is
judging and assembling the result), and, for the record, the same 1,000 runs as ``gdlab.descend``
calls one after another and how the time grows with the number of rates.

First call: in a fresh process (``GDLAB_NO_CACHE=1``, so nothing compiled is read from disk), the
seconds of the first ``gdlab.sweep`` after ``import gdlab``, for this tree and, with
``--baseline``, another checkout (its ``src`` first on ``PYTHONPATH``), the trees alternating
round after round; the ratio this tree / the baseline. Medians throughout.

Run: ``python benchmarks/bench_sweep.py [--repeats 9] [--baseline ../old-checkout] [--rounds 3]
[--extra] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

import gdlab
from gdlab import _sweep

HERE = Path(__file__).resolve().parent.parent
STEPS = 10_000
RATES = 1000

FIRST_CALL = """
import json, sys, time
import gdlab
lrs = gdlab.rates(1e-4, 10, {rates})
start = time.perf_counter()
gdlab.sweep(lambda b: (b / 2 - 1) ** 2, -10.0, lrs=lrs, steps={steps}, save="final", dtype=sys.argv[1])
print(json.dumps({{"first": time.perf_counter() - start}}))
"""


def lecture_loss(b):
    return (b / 2 - 1) ** 2


def sweep(dtype: str, count: int = RATES):
    lrs = gdlab.rates(1e-4, 10, count)
    return lambda: gdlab.sweep(lecture_loss, -10.0, lrs=lrs, steps=STEPS, save="final", dtype=dtype)


def bare_loop(count: int, dtype: str):
    """b <- b - lr * (b/2 - 1), vmapped over rates: no checks, nothing recorded."""

    def run(b, lr):
        return jax.lax.scan(lambda b, _: (b - lr * (b / 2 - 1), None), b, None, length=STEPS)[0]

    fn = jax.jit(jax.vmap(run))
    inits = jnp.full(count, -10.0, dtype=dtype)
    lrs = jnp.asarray(gdlab.rates(1e-4, 10, count), dtype=dtype)
    fn(inits, lrs).block_until_ready()
    return lambda: fn(inits, lrs)


def in_turn(calls: dict, repeats: int, pick=statistics.median) -> dict[str, float]:
    """Each call's median seconds (or ``pick``'s), the calls timed in turn (so a slow minute lands
    on all)."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            jax.block_until_ready(call())
            times[name].append(time.perf_counter() - start)
    return {name: pick(t) for name, t in times.items()}


def compiled_part(call, repeats: int) -> float:
    """Median seconds of a warm sweep spent in its compiled runs (``_sweep._sweep_run``)."""
    inner, spent = _sweep._sweep_run, []

    def timing(*args, **kwargs):
        start = time.perf_counter()
        out = inner(*args, **kwargs)
        spent.append(time.perf_counter() - start)
        return out

    _sweep._sweep_run = timing
    try:
        for _ in range(repeats):
            call()
    finally:
        _sweep._sweep_run = inner
    return statistics.median(spent)


def first_calls(trees: dict[str, Path], dtype: str, rounds: int) -> dict[str, float]:
    """Median seconds of the first sweep in a fresh process, per tree, the trees alternating."""
    seen: dict[str, list[float]] = {name: [] for name in trees}
    script = FIRST_CALL.format(rates=RATES, steps=STEPS)
    for r in range(rounds):
        for name in list(trees) if r % 2 == 0 else list(reversed(trees)):
            env = {**os.environ, "PYTHONPATH": str(trees[name] / "src"), "GDLAB_NO_CACHE": "1"}
            done = subprocess.run(
                [sys.executable, "-c", script, dtype], env=env, capture_output=True, text=True, timeout=600
            )
            if done.returncode:
                raise SystemExit(f"{name} failed: {done.stderr.strip().splitlines()[-1:]}")
            seen[name].append(json.loads(done.stdout.strip().splitlines()[-1])["first"])
    return {name: statistics.median(t) for name, t in seen.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--baseline", type=Path, help="another checkout, for the first call's ratio")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per tree")
    parser.add_argument("--extra", action="store_true", help="also 1,000 descend calls and the scaling")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    trees = {"this": HERE} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    print(f"{RATES:,} rates x {STEPS:,} steps of (b/2-1)^2 from -10; medians of {args.repeats}")
    for dtype in ("float64", "float32"):
        call = sweep(dtype)
        call()
        turns = {"sweep": call, "bare": bare_loop(RATES, dtype)}
        steady = in_turn(turns, args.repeats)
        best = in_turn(turns, args.repeats, min)  # on a shared machine: the least disturbed call
        compiled = compiled_part(call, args.repeats)
        first = first_calls(trees, dtype, args.rounds) if args.rounds else {}
        row = {
            "sweep_steady_s": steady["sweep"],
            "bare_loop_s": steady["bare"],
            "steady_over_bare": steady["sweep"] / steady["bare"],
            "fastest_sweep_s": best["sweep"],
            "fastest_bare_s": best["bare"],
            "compiled_runs_s": compiled,
            "first_call_s": first,
        }
        print(
            f"{dtype}: sweep {steady['sweep'] * 1e3:.2f} ms steady, bare loop {steady['bare'] * 1e3:.2f} ms "
            f"({row['steady_over_bare']:.2f}x); compiled runs {compiled * 1e3:.2f} ms of the sweep; fastest "
            f"of each: {best['sweep'] * 1e3:.2f} ms and {best['bare'] * 1e3:.2f} ms "
            f"({best['sweep'] / best['bare']:.2f}x)"
        )
        words = ", ".join(f"{name} {s * 1e3:.0f} ms" for name, s in first.items())
        if "baseline" in first:
            row["first_over_baseline"] = first["this"] / first["baseline"]
            words += f" ({row['first_over_baseline']:.2f}x the baseline)"
        if first:
            print(f"{dtype}: first call in a fresh process: {words}")
        if args.extra:
            gdlab.descend(lecture_loss, -10.0, lr=0.1, steps=STEPS, dtype=dtype)
            start = time.perf_counter()
            for r in gdlab.rates(1e-4, 10, RATES):
                gdlab.descend(lecture_loss, -10.0, lr=float(r), steps=STEPS, dtype=dtype)
            row["one_after_another_s"] = time.perf_counter() - start
            print(f"{dtype}: 1,000 descend calls {row['one_after_another_s']:.2f} s")
        figures[dtype] = row
    if args.extra:
        print("scaling (float64, steady):")
        scaling = {}
        for count in (125, 250, 500, 1000, 2000, 4000):
            call = sweep("float64", count)
            call()
            scaling[count] = in_turn({"sweep": call}, args.repeats)["sweep"]
            each = scaling[count] / count * 1e6
            print(f"  {count:>5} rates: {scaling[count] * 1e3:8.2f} ms  ({each:.1f} us a rate)")
        figures["scaling_s"] = scaling
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=1)


if __name__ == "__main__":
    main()
