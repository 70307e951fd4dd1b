"""Speed of a warm 1,000-rate x 10,000-step sweep with the kept curvature and without it.

In one process, timed in turn: ``gdlab.sweep`` as it is (the 2/L report and the curvature where a
gradient vanished read back from :data:`gdlab._stability._KNOWN`), the same sweep with that cache
off (``KNOWN_BYTES = -1``: computed each call, as before the cache), and the bare vmapped loop of
``bench_sweep.py``. Medians and fastest wall seconds, and median CPU seconds, against the bare loop.

Run: ``python benchmarks/bench_sweep_cache.py [--repeats 61]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import jax

from gdlab import _stability

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sweep import RATES, bare_loop, sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=61)
    args = parser.parse_args()
    for dtype in ("float64", "float32"):
        call = sweep(dtype)
        call()

        def uncached(call=call):
            kept, _stability.KNOWN_BYTES = _stability.KNOWN_BYTES, -1
            try:
                return call()
            finally:
                _stability.KNOWN_BYTES = kept

        calls = {"kept": call, "computed": uncached, "bare": bare_loop(RATES, dtype)}
        wall: dict[str, list[float]] = {name: [] for name in calls}
        cpu: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(args.repeats):
            for name, each in calls.items():
                start, used = time.perf_counter(), time.process_time()
                jax.block_until_ready(each())
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - used)
        bare_med, bare_min = statistics.median(wall["bare"]), min(wall["bare"])
        bare_cpu = statistics.median(cpu["bare"])
        for name in calls:
            med, low, used = statistics.median(wall[name]), min(wall[name]), statistics.median(cpu[name])
            print(
                f"{dtype} {name:8s} median {med * 1e3:.2f} ms ({med / bare_med:.2f}x the bare loop), "
                f"fastest {low * 1e3:.2f} ms ({low / bare_min:.2f}x), CPU {used * 1e3:.2f} ms "
                f"({used / bare_cpu:.2f}x)"
            )


if __name__ == "__main__":
    main()
