"""Speed of a learning-rate sweep: 1,000 rates x 10,000 steps of the lecture's loss in one call.

Baselines in this process: the same 1,000 descents run one after another with
``gdlab.descend`` (each already compiled), and a bare vmapped update loop with
no status or regime tracking (a floor: what the arithmetic alone costs).
Also how the time grows as the number of rates doubles. Medians.

Run: ``python benchmarks/bench_sweep.py [--repeats 5] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import jax
import jax.numpy as jnp

import gdlab

STEPS = 10_000


def lecture_loss(b):
    return (b / 2 - 1) ** 2


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def first_call(count: int, dtype: str) -> float:
    def fresh(b):  # a new function: the call traces and compiles
        return (b / 2 - 1) ** 2

    start = time.perf_counter()
    gdlab.sweep(fresh, -10.0, lrs=gdlab.rates(1e-4, 10, count), steps=STEPS, save="final", dtype=dtype)
    return time.perf_counter() - start


def bare_loop(count: int, dtype: str):
    """b <- b - lr * (b/2 - 1), vmapped over rates: no checks, nothing recorded."""

    def run(b, lr):
        return jax.lax.scan(lambda b, _: (b - lr * (b / 2 - 1), None), b, None, length=STEPS)[0]

    fn = jax.jit(jax.vmap(run))
    inits = jnp.full(count, -10.0, dtype=dtype)
    lrs = jnp.asarray(gdlab.rates(1e-4, 10, count), dtype=dtype)
    fn(inits, lrs).block_until_ready()
    return lambda: fn(inits, lrs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    print(f"1,000 rates x {STEPS:,} steps of (b/2-1)^2 from -10; medians of {args.repeats}")
    for dtype in ("float64", "float32"):
        lrs = gdlab.rates(1e-4, 10, 1000)

        def sweep(lrs=lrs, dtype=dtype):
            return gdlab.sweep(lecture_loss, -10.0, lrs=lrs, steps=STEPS, save="final", dtype=dtype)

        sweep()
        steady = timed(sweep, args.repeats)
        compile_s = statistics.median(first_call(1000, dtype) for _ in range(3))
        bare = timed(bare_loop(1000, dtype), args.repeats)
        gdlab.descend(lecture_loss, -10.0, lr=0.1, steps=STEPS, dtype=dtype)

        def one_by_one(dtype=dtype):
            return [
                gdlab.descend(lecture_loss, -10.0, lr=float(r), steps=STEPS, dtype=dtype).final
                for r in gdlab.rates(1e-4, 10, 1000)
            ]

        sequential = timed(one_by_one, 1)
        figures[dtype] = {
            "sweep_steady_s": steady,
            "sweep_first_call_s": compile_s,
            "one_after_another_s": sequential,
            "bare_loop_s": bare,
        }
        print(
            f"{dtype}: sweep {steady * 1e3:.1f} ms steady, {compile_s * 1e3:.0f} ms first call; "
            f"1,000 descend calls {sequential:.2f} s ({sequential / steady:.0f}x the sweep); "
            f"bare loop {bare * 1e3:.1f} ms"
        )
    print("scaling (float64, steady):")
    scaling = {}
    for count in (125, 250, 500, 1000, 2000, 4000):
        lrs = gdlab.rates(1e-4, 10, count)

        def run(lrs=lrs):
            return gdlab.sweep(lecture_loss, -10.0, lrs=lrs, steps=STEPS, save="final")

        run()
        scaling[count] = timed(run, args.repeats)
        each = scaling[count] / count * 1e6
        print(f"  {count:>5} rates: {scaling[count] * 1e3:8.1f} ms  ({each:.1f} us a rate)")
    figures["scaling_s"] = scaling
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=1)


if __name__ == "__main__":
    main()
