"""Speed of a 10,000-step descent on the lecture's loss, against loops run in this process.

Prints medians (this machine is shared and noisy) and ratios against:
- an eager Python loop of the same step with ``jax.grad`` (the style of the
  lecture's GradientTape loop, without TensorFlow);
- a plain Python float loop with the derivative written by hand;
- the lecture's own ``tf.GradientTape`` loop, when TensorFlow is installed
  (``pip install 'gdlab[bench]'``).

Run: ``make bench`` or ``python benchmarks/bench_descend.py [--eager-repeats 3] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp

import gdlab

STEPS = 10_000
LR = 0.01 / 6


def lecture_loss(b):
    return (b / 2 - 1) ** 2


def timed(fn, repeats: int, final: float | None = None) -> float:
    """Median seconds of ``repeats`` calls; checks the loop ends where gdlab does."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        if final is not None:
            assert abs(float(result) - final) < 1e-4, (fn.__name__, result, final)
    return statistics.median(times)


def gdlab_first_call() -> float:
    """A fresh loss each time, so the call includes tracing and compilation."""

    def fresh(b):
        return (b / 2 - 1) ** 2

    start = time.perf_counter()
    gdlab.descend(fresh, -10.0, lr=LR, steps=STEPS)
    return time.perf_counter() - start


FRESH = """
import time
start = time.perf_counter()
import gdlab
imported = time.perf_counter()
gdlab.descend(lambda b: (b / 2 - 1) ** 2, -10.0, lr=0.01 / 6, steps=10_000)
print(imported - start, time.perf_counter() - imported)
"""


def fresh_process() -> tuple[float, float]:
    """Seconds to import gdlab, then for its first descent, in a new Python process."""
    done = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, check=True)
    imported, first = (float(v) for v in done.stdout.split())
    return imported, first


def eager_jax_loop() -> float:
    grad = jax.grad(lecture_loss)
    b = jnp.asarray(-10.0)
    for _ in range(STEPS):
        b = b - LR * grad(b)
    return float(b)


def python_float_loop() -> float:
    b = -10.0
    for _ in range(STEPS):
        b -= LR * (b / 2 - 1)
    return b


def tensorflow_loop() -> float:
    import tensorflow as tf

    beta = tf.Variable(-10.0)
    alpha = LR
    for _ in range(STEPS):
        with tf.GradientTape(persistent=True) as tape:
            loss = (beta / 2 - 1) ** 2
        beta.assign_sub(tape.gradient(loss, beta) * alpha)
    return float(beta.numpy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steady-repeats", type=int, default=200)
    parser.add_argument("--compile-repeats", type=int, default=7)
    parser.add_argument("--eager-repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    final = float(gdlab.descend(lecture_loss, -10.0, lr=LR, steps=STEPS).final)
    first = [gdlab_first_call() for _ in range(args.compile_repeats)]
    steady = timed(
        lambda: gdlab.descend(lecture_loss, -10.0, lr=LR, steps=STEPS).final,
        args.steady_repeats,
        final,
    )
    fresh = [fresh_process() for _ in range(args.compile_repeats)]
    rows = {
        "new process: import gdlab": statistics.median(f[0] for f in fresh),
        "new process: first descend (JAX start-up + compile + run)": statistics.median(f[1] for f in fresh),
        "gdlab.descend, first call (trace + compile + run)": statistics.median(first),
        "gdlab.descend, steady state": steady,
        "eager Python loop of jax.grad steps": timed(eager_jax_loop, args.eager_repeats, final),
        "plain Python float loop, derivative by hand": timed(python_float_loop, 21, final),
    }
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        tf_note = "TensorFlow not installed: pip install 'gdlab[bench]' to time the lecture's loop"
    else:
        tensorflow_loop()  # warm-up: TensorFlow's first call sets up its runtime
        # float32, as in the lecture: it ends at 1.997125, within 1e-4 of gdlab's float64.
        rows["the lecture's tf.GradientTape loop"] = timed(tensorflow_loop, args.eager_repeats, final)
        tf_note = ""
    steady_s = rows["gdlab.descend, steady state"]
    print(f"10,000-step descent on (b/2-1)^2, lr=0.01/6 (final b = {final:.7f})")
    print(
        f"python {platform.python_version()}, jax {jax.__version__}, {platform.machine()}, "
        f"backend {jax.default_backend()}; medians"
    )
    print(f"{'':60} {'median':>12} {'x gdlab steady':>15}")
    for name, seconds in rows.items():
        print(f"{name:60} {seconds * 1e3:>9.3f} ms {seconds / steady_s:>14.1f}x")
    if tf_note:
        print(tf_note)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({k: v for k, v in rows.items()}, out, indent=1)


if __name__ == "__main__":
    main()
