"""Data beyond memory: gradient bandwidth, memory of a fit, Parquet streaming, Dask per iteration.

Everything is measured against a baseline run in the same process:

1. bandwidth: the full-batch least-squares gradient on an n x 100 float64 design
   (``jax.grad`` of the mean squared error, two passes over X, as a descent fit on
   a standardised copy computes it; one fused pass over blocks of rows that stay
   in cache, ``gdlab._host.fused_pass`` in NumPy; and the pass over separate
   columns that a large descent fit makes instead of copying them)
   against a plain NumPy reduction over the same bytes (``X.sum(axis=0)``: the machine's read bandwidth);
2. memory: peak resident memory of 20 descent steps on in-memory data against
   the data's size (X handed to JAX with ``jax.device_put``, which does not copy
   an aligned array), with X an argument of the compiled gradient, with X
   captured by the loss given to ``gdlab.descend``, and of ``gdlab.fit`` (closed
   form, and gd) from columns; each in a fresh subprocess;
3. Parquet: rows per second of the one-pass least-squares statistics (TSQR) and
   of a full-batch gradient pass, and the growth of peak memory, as the file doubles;
4. Dask: the time of one iteration (one task per chunk, summed on the workers)
   on a local cluster of 2 worker processes with small chunks, against a bare
   round trip of one task, and against the same gradient in memory.

Run: ``python benchmarks/bench_data.py [--rows 1000000] [--quick] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import gdlab
from gdlab import _host
from gdlab._design import Standard, aligned_empty

P = 100


def timed(fn, repeats: int = 5) -> float:
    import jax

    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bandwidth(n: int) -> dict:
    """Gradient time against the read bandwidth measured on the same array."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    X = aligned_empty((n, P), np.float64)  # 64-byte aligned: jax.device_put shares it
    X[...] = rng.standard_normal((n, P))
    y = rng.standard_normal(n)
    b = rng.standard_normal(P)
    nbytes = X.nbytes
    read = timed(lambda: X.sum(axis=0))
    Xd, yd = jax.device_put(X), jax.device_put(y)
    shared = Xd.unsafe_buffer_pointer() == X.ctypes.data
    mse = lambda beta, X, y: jnp.mean((y - X @ beta) ** 2)  # noqa: E731
    grad = jax.jit(jax.grad(mse))
    two = timed(lambda: grad(b, Xd, yd).block_until_ready())
    fused = _host.fused_pass(X, y)
    one = timed(lambda: fused(b))
    np.testing.assert_allclose(grad(b, Xd, yd), fused(b)[1], rtol=1e-9)
    # a large descent fit's pass: the table's separate columns, standardised a block at a time
    columns = np.asfortranarray(X)  # each column contiguous, as a DataFrame or a dict holds them
    standard = Standard(list(columns.T), np.zeros(P), np.ones(P), intercept=False)
    by_columns = standard.pass_fn(y)
    from_columns = timed(lambda: by_columns(b))
    np.testing.assert_allclose(grad(b, Xd, yd), by_columns(b)[1], rtol=1e-9)
    return {
        "n": n,
        "bytes": nbytes,
        "device_put_shares_memory": shared,
        "numpy_read_GBps": nbytes / read / 1e9,
        "jax_grad_s": two,
        "jax_grad_GBps": nbytes / two / 1e9,
        "fused_grad_s": one,
        "fused_grad_GBps": nbytes / one / 1e9,
        "columns_grad_s": from_columns,
        "columns_grad_GBps": nbytes / from_columns / 1e9,
    }


_MEMORY_CHILD = """
import sys
import numpy as np
import gdlab, jax, jax.numpy as jnp
n, p, what = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def status(key):  # this process's own figures (ru_maxrss would include the parent's peak)
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
def now():
    return status("VmRSS")
jax.jit(lambda v: v + 1)(np.zeros(3))  # JAX's own start-up, before the baseline
if what.startswith("fit"):  # and the modules a fit imports (SciPy, pandas' readers ...), on 3 rows
    gdlab.fit({"a": [0.0, 1.0, 2.0], "y": [1.0, 2.0, 4.0]}, y="y", x="a", method=what[4:] or "ols")
base = now()
rng = np.random.default_rng(0)
from gdlab._design import aligned_empty
X = aligned_empty((n, p), np.float64)  # 64-byte aligned: jax.device_put shares it
for start in range(0, n, 65536):  # filled a block at a time: no temporary as large as X
    X[start : start + 65536] = rng.standard_normal((min(65536, n - start), p))
y = X[:, 0] + rng.standard_normal(n)
data = now() - base
open("/proc/self/clear_refs", "w").write("5")  # the peak from here on
if what in ("closure", "argument", "data"):
    Xd, yd = jax.device_put(X), jax.device_put(y)
    assert Xd.unsafe_buffer_pointer() == X.ctypes.data  # no copy
if what == "closure":  # X captured by the loss: XLA embeds it in the program as a constant
    gdlab.descend(lambda b: jnp.mean((yd - Xd @ b) ** 2), np.zeros(p), lr=0.1, steps=20)
elif what == "data":  # X handed to gdlab.descend as data=: an argument of the compiled run
    gdlab.descend(lambda b, d: jnp.mean((d[1] - d[0] @ b) ** 2), np.zeros(p), lr=0.1, steps=20, data=(Xd, yd))
elif what == "argument":  # X an argument of the compiled gradient; the optimiser outside
    from gdlab._host import descend_passes
    grad = jax.jit(jax.value_and_grad(lambda b, X, y: jnp.mean((y - X @ b) ** 2)))
    descend_passes(lambda b: grad(b, Xd, yd), np.zeros(p), lr=0.1, steps=20)
elif what == "fused":  # one pass over X per step, in blocks (NumPy's BLAS)
    from gdlab._host import descend_passes, fused_pass
    descend_passes(fused_pass(X, y), np.zeros(p), lr=0.1, steps=20)
else:  # "fit" (the closed form) or "fit-gd": a fit from columns, as a DataFrame holds them
    columns = {f"x{j}": X[:, j] for j in range(p)}
    gdlab.fit(columns | {"y": y}, y="y", x=list(columns), method=what[4:] or "ols", steps=20)
peak = status("VmHWM") - base  # data, and whatever the work added at its peak
print(data, peak)
"""


def memory(n: int, p: int, what: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(n), str(p), what],
        capture_output=True,
        text=True,
        check=True,
    )
    data, peak = map(int, done.stdout.split())
    return {
        "what": what,
        "n": n,
        "p": p,
        "data_MB": data / 2**20,
        "peak_MB": peak / 2**20,
        "ratio": peak / data,
    }


def write_parquet(path: Path, rows: int, columns: int = 10, chunk: int = 250_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(1)
    schema = pa.schema([(f"x{j}", pa.float64()) for j in range(columns - 1)] + [("y", pa.float64())])
    with pq.ParquetWriter(path, schema, compression="snappy") as writer:
        for start in range(0, rows, chunk):
            block = rng.standard_normal((columns, min(chunk, rows - start)))
            writer.write_table(pa.table(list(block), schema=schema), row_group_size=100_000)


_STREAM_CHILD = """
import sys, time
import numpy as np
from gdlab import _host
from gdlab.fitting import _linear
from gdlab.data import open_source
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
small, path = sys.argv[1], sys.argv[2]
x = [f"x{j}" for j in range(9)]
loss = lambda b, d: (d["y"] - b[0] - b[1] * d["x0"] - b[2] * d["x1"]) ** 2
def run(p):
    s = open_source(p, columns=[*x, "y"], stream=True)
    t0 = time.perf_counter(); _linear.linear_stats(s, y="y", x=x); t1 = time.perf_counter()
    _host.value_and_grad(loss, np.zeros(3), s); t2 = time.perf_counter()
    return s.n, t1 - t0, t2 - t1
run(small)
open("/proc/self/clear_refs", "w").write("5")  # forget the peak so far
before = status("VmRSS")
n, stats, grad = run(path)
print(n, stats, grad, status("VmHWM") - before)
"""


def parquet(rows: int, folder: Path) -> dict:
    small, path = folder / "small.parquet", folder / f"rows{rows}.parquet"
    if not small.exists():
        write_parquet(small, 50_000)
    write_parquet(path, rows)
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "ARROW_DEFAULT_MEMORY_POOL": "system"}
    done = subprocess.run(
        [sys.executable, "-c", _STREAM_CHILD, str(small), str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    n, stats, grad, growth = done.stdout.split()
    path.unlink()
    data = rows * 10 * 8
    return {
        "rows": int(n),
        "data_MB": data / 2**20,
        "tsqr_s": float(stats),
        "tsqr_rows_per_s": int(n) / float(stats),
        "grad_pass_s": float(grad),
        "grad_rows_per_s": int(n) / float(grad),
        "peak_growth_MB": int(growth) / 2**20,
    }


def dask_iteration(chunks: int, rows: int, repeats: int) -> dict:
    import dask.dataframe as dd
    import jax
    import jax.numpy as jnp
    import pandas as pd
    from dask.distributed import Client, LocalCluster

    from gdlab import _host
    from gdlab.data import open_source

    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.standard_normal((chunks * rows, 3)), columns=["x1", "x2", "y"])
    mse = lambda b, d: jnp.mean((d["y"] - b[0] - b[1] * d["x1"] - b[2] * d["x2"]) ** 2)  # noqa: E731
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        Client(cluster) as client,
    ):
        data = open_source(dd.from_pandas(frame, npartitions=chunks), client=client)
        b = np.zeros(3)
        _host.value_and_grad(mse, b, data)  # send and compile
        iteration = timed(lambda: _host.value_and_grad(mse, b, data), repeats)
        bare = timed(lambda: client.submit(np.add, b, 1.0, pure=False).result(), repeats)
        steps = 20
        start = time.perf_counter()
        gdlab.descend_dask(mse, b, data, lr=0.1, steps=steps)
        per_step = (time.perf_counter() - start) / (steps + 1)
        fit_start = time.perf_counter()
        gdlab.fit(data, y="y", x="x1,x2")
        fit = time.perf_counter() - fit_start
    full = {c: frame[c].to_numpy() for c in frame}
    local = jax.jit(jax.value_and_grad(mse))
    in_memory = timed(lambda: local(b, full), repeats)
    return {
        "chunks": chunks,
        "rows_per_chunk": rows,
        "iteration_s": iteration,
        "descent_step_s": per_step,
        "one_task_round_trip_s": bare,
        "in_memory_gradient_s": in_memory,
        "linear_fit_s": fit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the n x 100 design")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--parts", default="bandwidth,memory,parquet,dask", help="which to run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = 50_000 if args.quick else args.rows
    results: dict = {"bandwidth": [], "memory": [], "parquet": [], "dask": []}
    parts = set(args.parts.split(","))
    for n in (rows // 4, rows // 2, rows) if "bandwidth" in parts else ():
        r = bandwidth(n)
        results["bandwidth"].append(r)
        print(
            f"gradient n={n:>9,} x {P} ({r['bytes'] / 2**20:,.0f} MB): "
            f"read {r['numpy_read_GBps']:.2f} GB/s | jax.grad {r['jax_grad_s'] * 1e3:.1f} ms "
            f"= {r['jax_grad_GBps']:.2f} GB/s ({r['jax_grad_GBps'] / r['numpy_read_GBps']:.0%}) | "
            f"NumPy fused one pass {r['fused_grad_s'] * 1e3:.1f} ms = {r['fused_grad_GBps']:.2f} GB/s "
            f"({r['fused_grad_GBps'] / r['numpy_read_GBps']:.0%}) | "
            f"fit's pass over columns {r['columns_grad_s'] * 1e3:.1f} ms = {r['columns_grad_GBps']:.2f} GB/s "
            f"({r['columns_grad_GBps'] / r['numpy_read_GBps']:.0%})"
        )
    for what in ("fused", "argument", "data", "closure", "fit", "fit-gd") if "memory" in parts else ():
        for n in (rows // 2, rows):
            m = memory(max(n, 100_000), 20 if what.startswith("fit") else P, what)
            results["memory"].append(m)
            print(
                f"memory {what:>7} n={n:>9,} x {m['p']}: data {m['data_MB']:,.0f} MB, "
                f"peak {m['peak_MB']:,.0f} MB ({m['ratio']:.2f}x)"
            )
    with tempfile.TemporaryDirectory() as folder:
        base = 250_000 if args.quick else 1_000_000
        for n in (base, 2 * base, 4 * base) if "parquet" in parts else ():
            r = parquet(n, Path(folder))
            results["parquet"].append(r)
            print(
                f"parquet {n:>9,} rows x 10 ({r['data_MB']:,.0f} MB): "
                f"TSQR {r['tsqr_rows_per_s'] / 1e6:.2f} M rows/s, "
                f"gradient pass {r['grad_rows_per_s'] / 1e6:.2f} M rows/s, "
                f"peak memory +{r['peak_growth_MB']:.1f} MB"
            )
    for chunks, per in ((4, 1_000), (16, 1_000), (4, 250_000)) if "dask" in parts else ():
        r = dask_iteration(chunks, per, 5 if args.quick else 15)
        results["dask"].append(r)
        print(
            f"dask {chunks} chunks x {per:,} rows: iteration {r['iteration_s'] * 1e3:.1f} ms, "
            f"descent step {r['descent_step_s'] * 1e3:.1f} ms, "
            f"one-task round trip {r['one_task_round_trip_s'] * 1e3:.1f} ms, "
            f"in memory {r['in_memory_gradient_s'] * 1e3:.2f} ms, linear fit {r['linear_fit_s'] * 1e3:.0f} ms"
        )
    results["max_rss_MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
