"""Memory kept after many distinct losses: descend, sweep and sgd, each in a fresh process.

A server (the lab page) sees a new loss per keystroke. Compiled code per loss must be
held in a bounded cache that really frees what it evicts; this prints the process's
resident memory (RSS, psutil) after a warm-up, then after ``N`` distinct losses with every
reference dropped, and the growth per loss. A flat line (growth that stops once the caches
are full) is the aim; growth per loss that never stops is a leak.

Run: ``python benchmarks/bench_memory.py [--counts 200 1000] [--kinds descend sweep sgd] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

# One child process per (kind, form): it prints "count rss_mb" after each checkpoint.
CHILD = r"""
import gc, sys
import numpy as np
import psutil
import jax.numpy as jnp
import gdlab

kind, form, counts = sys.argv[1], sys.argv[2], [int(c) for c in sys.argv[3:]]
process = psutil.Process()
x = np.linspace(-1, 1, 64)
data = {"x": x, "y": 2 * x + 1}


def text(k):
    return f"(b-{k})^2+0.5*(c+{k})^2"


def callable_(k):
    return lambda p: (p["b"] - k) ** 2 + 0.5 * (p["c"] + k) ** 2


def batch_loss(k):
    return lambda p, d: jnp.mean((d["y"] - p["b"] * d["x"] - k) ** 2) + 0.5 * (p["c"] + k) ** 2


def one(k):
    start = {"b": 0.0, "c": 0.0}
    if kind == "descend":
        f = text(k) if form == "text" else callable_(k)
        gdlab.descend(f, start, lr=0.1, steps=50, tol=1e-8)
    elif kind == "sweep":
        f = text(k) if form == "text" else callable_(k)
        gdlab.sweep(f, start, lrs=[0.01, 0.1, 0.5], steps=50, tol=1e-8)
    else:
        gdlab.sgd(batch_loss(k), start, data, lr=0.1, batch_size=16, epochs=2)


def rss():
    gc.collect()
    return process.memory_info().rss / 2**20


for k in range(10):  # warm-up: the first compilations and imports are not growth
    one(10_000 + k)
print(0, rss(), flush=True)
done = 0
for count in counts:
    for k in range(done, count):
        one(k + 1)
    done = count
    print(count, rss(), flush=True)
"""


def measure(kind: str, form: str, counts: list[int]) -> tuple[list[tuple[int, float]], str]:
    """(losses run, RSS in MB) at the warm-up and at each count, from a fresh process, and how it
    died if it did (the checkpoints it reached are kept)."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, kind, form, *map(str, counts)], capture_output=True, text=True
    )
    rows = [(int(a), float(b)) for a, b in (line.split() for line in out.stdout.splitlines())]
    died = ""
    if out.returncode:
        last = (out.stderr.strip().splitlines() or [""])[-1]
        died = f"died (exit {out.returncode}) after {rows[-1][0] if rows else 0:,} losses: {last[:200]}"
    return rows, died


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--kinds", nargs="+", default=["descend", "sweep", "sgd"])
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    for kind in args.kinds:
        for form in ["callable"] if kind == "sgd" else ["text", "callable"]:
            rows, died = measure(kind, form, sorted(args.counts))
            figures[f"{kind} ({form})"] = {"rss_mb": rows, "died": died}
            base = rows[0][1] if rows else float("nan")
            growth = ", ".join(f"{n:,} losses +{mb - base:.0f} MB" for n, mb in rows[1:])
            each = (rows[-1][1] - base) / rows[-1][0] if len(rows) > 1 else float("nan")
            print(f"{kind:>8} ({form:>8}): warm {base:.0f} MB; {growth}; {each:.3f} MB a loss {died}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=1)


if __name__ == "__main__":
    main()
