"""On a GPU (or, at small sizes, the CPU): the full-batch gradient against copy bandwidth, and a
sweep of 10^6 trajectories of the lecture's loss.

One command, self-contained, under 10 minutes on one device:

    pip install 'gdlab[cuda]'            # JAX with CUDA 12
    python benchmarks/bench_gpu.py       # sizes chosen from the device's memory
    python benchmarks/bench_gpu.py --small   # a smoke test on any machine (CPU included)

1. Copy bandwidth: ``x + 1`` over a large float32 array (read once, write once),
   the device's practical memory bandwidth, measured in the same process.
2. The full-batch least-squares gradient on an n x p design, float32 and
   float64: ``jax.grad`` of the mean squared error (two passes over X) and a
   matrix-free form ``(Xb - y) @ X``; bytes of X read per second against (1).
3. ``gdlab.sweep`` of ``(b/2-1)^2``: 1,000 rates x 1,000 starts = 10^6
   trajectories, keeping only their ends (``save="final"``).

Prints one line per measurement and, with ``--json``, writes them all.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import gdlab  # float64 available before JAX makes an array


def timed(fn, repeats: int) -> float:
    import jax

    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def device_memory() -> int | None:
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("bytes_limit")


def copy_bandwidth(nbytes: int, repeats: int) -> float:
    """Bytes moved per second (read + write) by ``x + 1`` on float32."""
    import jax
    import jax.numpy as jnp

    x = jnp.zeros(nbytes // 4, dtype=jnp.float32)
    add = jax.jit(lambda v: v + 1)
    seconds = timed(lambda: add(x), repeats)
    return 2 * nbytes / seconds


def gradient(n: int, p: int, dtype: str, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp

    key = jax.random.key(0)
    kx, ky, kb = jax.random.split(key, 3)
    X = jax.random.normal(kx, (n, p), dtype=dtype)
    y = jax.random.normal(ky, (n,), dtype=dtype)
    b = jax.random.normal(kb, (p,), dtype=dtype)
    autodiff = jax.jit(jax.grad(lambda b, X, y: jnp.mean((y - X @ b) ** 2)))
    explicit = jax.jit(lambda b, X, y: (2 / X.shape[0]) * ((X @ b - y) @ X))
    t_auto = timed(lambda: autodiff(b, X, y), repeats)
    t_explicit = timed(lambda: explicit(b, X, y), repeats)
    scale = float(jnp.max(jnp.abs(autodiff(b, X, y))))
    agree = float(jnp.max(jnp.abs(autodiff(b, X, y) - explicit(b, X, y)))) / max(scale, 1e-30)
    nbytes = n * p * jnp.dtype(dtype).itemsize
    return {
        "n": n,
        "p": p,
        "dtype": dtype,
        "bytes": nbytes,
        "jax_grad_s": t_auto,
        "jax_grad_Bps": nbytes / t_auto,
        "explicit_s": t_explicit,
        "explicit_Bps": nbytes / t_explicit,
        "relative_difference": agree,
    }


def sweep(rates: int, starts: int, steps: int) -> dict:
    lecture = lambda b: (b / 2 - 1) ** 2  # noqa: E731
    lrs = gdlab.rates(1e-3, 5.0, rates)
    inits = list(np.linspace(-10.0, 10.0, starts))
    start = time.perf_counter()
    first = gdlab.sweep(lecture, lrs=lrs, inits=inits, steps=steps, save="final")
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    again = gdlab.sweep(lecture, lrs=lrs, inits=inits, steps=steps, save="final")
    steady = time.perf_counter() - start
    regimes: dict[str, int] = {}
    for regime in again.regime:
        regimes[regime.value] = regimes.get(regime.value, 0) + 1
    assert np.array_equal(np.asarray(first.final), np.asarray(again.final), equal_nan=True)
    return {
        "runs": rates * starts,
        "steps": steps,
        "first_call_s": first_s,
        "steady_s": steady,
        "trajectory_steps_per_s": rates * starts * steps / steady,
        "regimes": regimes,
    }


def main() -> None:
    import jax

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="small sizes: a smoke test on any device")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    device = jax.devices()[0]
    on_gpu = device.platform == "gpu"
    small = args.small or not on_gpu
    memory = device_memory()
    print(f"device: {device.device_kind} ({device.platform}), memory {memory or 'unknown'} bytes", flush=True)
    if not on_gpu and not args.small:
        print("no GPU visible to JAX: running the small sizes (pip install 'gdlab[cuda]' on a CUDA machine)")
    results: dict = {"device": device.device_kind, "platform": device.platform}
    copy_bytes = 2**26 if small else min(2**33, (memory or 2**34) // 8)
    bandwidth = copy_bandwidth(copy_bytes, args.repeats)
    results["copy_Bps"] = bandwidth
    print(
        f"copy x+1 over {copy_bytes / 2**30:.2f} GiB float32: {bandwidth / 1e9:,.0f} GB/s moved", flush=True
    )
    results["gradient"] = []
    shapes = [(2**16, 100), (2**18, 10)] if small else [(2**24, 100), (2**30, 10), (2**23, 100)]
    for n, p in shapes:
        for dtype in ("float32", "float64"):
            nbytes = n * p * np.dtype(dtype).itemsize
            if memory is not None and 2.5 * nbytes > memory:
                continue
            r = gradient(n, p, dtype, args.repeats)
            results["gradient"].append(r)
            print(
                f"gradient {n:,} x {p} {dtype} ({nbytes / 2**30:.2f} GiB): "
                f"jax.grad {r['jax_grad_s'] * 1e3:.2f} ms "
                f"= {r['jax_grad_Bps'] / 1e9:,.0f} GB/s of X ({r['jax_grad_Bps'] / bandwidth:.0%} of copy), "
                f"(Xb-y)@X {r['explicit_s'] * 1e3:.2f} ms = {r['explicit_Bps'] / 1e9:,.0f} GB/s",
                flush=True,
            )
    rates, starts, steps = (100, 100, 1000) if small else (1000, 1000, 1000)
    s = sweep(rates, starts, steps)
    results["sweep"] = s
    print(
        f"sweep of (b/2-1)^2: {s['runs']:,} trajectories x {steps:,} steps: "
        f"first call {s['first_call_s']:.2f} s, steady {s['steady_s']:.3f} s "
        f"= {s['trajectory_steps_per_s'] / 1e9:.2f} G steps/s; regimes {s['regimes']}",
        flush=True,
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(main())
