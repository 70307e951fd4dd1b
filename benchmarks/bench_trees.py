"""This checkout against another one (an older commit), on the work the named benchmarks time.

Each workload calls only the public API (``gdlab.fit``, ``gdlab.descend``, ``gdlab.sweep``,
``gdlab.sgd``), so that both trees run the same code path. Every (workload, tree) pair runs in a
fresh process with the tree's ``src`` first on ``PYTHONPATH``; the trees alternate, round after
round (A B, B A, A B, ...), so that a machine's slow minute lands on both. A process prints its
warm seconds (the median of ``--repeats`` calls after one untimed call), and, for the descent, the
first call's seconds (imports, tracing, compiling), each also in the process's CPU seconds (all
its threads), which another process's load moves less than the wall clock. The table gives each
tree's median over the rounds and the ratio this tree / the baseline.

The workloads stand for the benchmarks they come from:

- ``bench_descend``: the lecture's descent, first call and warm;
- ``bench_sweep``: 20 rates of the lecture's loss, 2,000 steps;
- ``bench_large``: a linear fit (closed form) and a descent fit by adam on n x 20 columns in
  memory, one epoch of SGD over them;
- ``bench_fit``: the closed form on n x 50;
- streamed (``bench_data``/``bench_large``): the linear and the logistic fit of a Parquet directory;
- ``bench_dask_compare``: a descent fit by gd of Dask data on a local cluster (127.0.0.1).

Run: ``python benchmarks/bench_trees.py --baseline ../old-checkout [--rows 200000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

COMMON = """
import json, statistics, sys, time
import numpy as np, pandas as pd
import gdlab
rows, repeats, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cpu_seconds = {}
def timed(fn, key="warm"):
    fn()
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time(); fn()
        times.append(time.perf_counter() - t); cpu.append(time.process_time() - c)
    cpu_seconds[key + " cpu"] = statistics.median(cpu)
    return statistics.median(times)
def report(fn):
    print(json.dumps({"warm": timed(fn), **cpu_seconds}))
rng = np.random.default_rng(0)
def frame(n, p):
    X = rng.standard_normal((n, p))
    y = X @ np.linspace(-1, 1, p) + 0.5 + rng.standard_normal(n)
    data = pd.DataFrame(X, columns=[f"x{i}" for i in range(p)]); data["y"] = y
    return data, [f"x{i}" for i in range(p)]
"""

WORKLOADS = {
    "descend (lecture, 100 steps)": """
run = lambda: gdlab.descend("(b/2-1)^2", -10.0, lr=0.01, steps=100)
t, c = time.perf_counter(), time.process_time(); run()
first, first_cpu = time.perf_counter() - t, time.process_time() - c
print(json.dumps({"warm": timed(run), "first": first, **cpu_seconds, "first cpu": first_cpu}))
""",
    "sweep (20 rates, 2,000 steps)": """
lrs = np.linspace(0.1, 4.5, 20)
report(lambda: gdlab.sweep("(b/2-1)^2", -10.0, lrs=lrs, steps=2000))
""",
    "fit closed form, n x 20": """
data, x = frame(rows, 20)
report(lambda: gdlab.fit(data, y="y", x=x))
""",
    "fit closed form, n x 50": """
data, x = frame(rows, 50)
report(lambda: gdlab.fit(data, y="y", x=x))
""",
    "fit by adam, n x 20": """
data, x = frame(rows, 20)
report(lambda: gdlab.fit(data, y="y", x=x, method="adam", lr=0.05, steps=200))
""",
    "sgd, one epoch of n x 20": """
import jax.numpy as jnp
data, x = frame(rows, 20)
arrays = {"X": data[x].to_numpy(), "y": data["y"].to_numpy()}
mse = lambda b, d: jnp.mean((d["y"] - d["X"] @ b) ** 2)
epoch = lambda: gdlab.sgd(mse, jnp.zeros(20), arrays, lr=0.01, batch_size=1024, epochs=1)
report(epoch)
""",
    "fit of a Parquet directory (linear)": """
report(lambda: gdlab.fit(folder, y="y", x=[f"x{i}" for i in range(10)]))
""",
    "fit of a Parquet directory (logistic)": """
x = [f"x{i}" for i in range(10)]
report(lambda: gdlab.fit(folder, y="z", x=x, family="logistic"))
""",
    "fit of Dask data by gd (local cluster)": """
import dask.dataframe as dd
from dask.distributed import Client, LocalCluster
data, x = frame(rows, 10)
local = dict(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0")
with LocalCluster(**local) as cluster, Client(cluster):
    ddf = dd.from_pandas(data, npartitions=8).persist()
    report(lambda: gdlab.fit(ddf, y="y", x=x, method="gd", lr=0.1, steps=50))
""",
}


def parquet_folder(folder: Path, rows: int) -> None:
    """Four Parquet files of ``rows`` rows in all: x0..x9, y (linear) and z (0/1)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    for part in range(4):
        n = rows // 4
        X = rng.standard_normal((n, 10))
        data = pd.DataFrame(X, columns=[f"x{i}" for i in range(10)])
        data["y"] = X @ np.linspace(-1, 1, 10) + rng.standard_normal(n)
        data["z"] = (rng.random(n) < 1 / (1 + np.exp(-X[:, 0] + 0.5 * X[:, 1]))).astype(float)
        data.to_parquet(folder / f"part-{part}.parquet")


def run(tree: Path, code: str, rows: int, repeats: int, folder: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "GDLAB_NO_CACHE": "1"}
    script = textwrap.dedent(COMMON) + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-c", script, str(rows), str(repeats), str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout (its src/ is used)")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="workloads whose name starts with one of these")
    args = parser.parse_args()
    trees = {"this": HERE, "baseline": args.baseline.resolve()}
    names = [n for n in WORKLOADS if not args.only or any(n.startswith(o) for o in args.only)]
    seen: dict[tuple[str, str, str], list[float]] = {}
    errors: dict[tuple[str, str], str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parquet_folder(folder, args.rows)
        for r in range(args.rounds):
            for name in names:
                order = list(trees) if r % 2 == 0 else list(reversed(trees))
                for which in order:
                    out = run(trees[which], WORKLOADS[name], args.rows, args.repeats, folder)
                    if "error" in out:
                        errors[(name, which)] = out["error"]
                        continue
                    for kind, seconds in out.items():
                        seen.setdefault((name, kind, which), []).append(seconds)
                    print(f"round {r + 1} {which:8s} {name}: {out}", file=sys.stderr, flush=True)
    print(f"rows {args.rows:,}, {args.rounds} rounds, medians of {args.repeats} warm calls a round")
    print("| workload | this tree (s) | baseline (s) | this / baseline |")
    print("|---|---:|---:|---:|")
    for name in names:
        for kind in ("warm", "first", "warm cpu", "first cpu"):
            mine, theirs = seen.get((name, kind, "this")), seen.get((name, kind, "baseline"))
            if not mine or not theirs:
                continue
            a, b = statistics.median(mine), statistics.median(theirs)
            label = {
                "warm": name,
                "first": f"{name}, first call",
                "warm cpu": f"{name} (CPU seconds)",
                "first cpu": f"{name}, first call (CPU seconds)",
            }[kind]
            print(f"| {label} | {a:.4g} | {b:.4g} | {a / b:.3f} |")
    for (name, which), error in errors.items():
        print(f"| {name} | {which} failed: {error} | | |")


if __name__ == "__main__":
    main()
