"""gdlab's gradient descent on a Dask cluster against dask-glm's, on the same data and cluster.

Both run on one ``LocalCluster`` (2 worker processes, 1 thread each, on
127.0.0.1). The data, n rows of 10 standard normal regressors and
``y = 1 + X @ beta + noise``, are made on the workers as one float64 Dask array
of n x 11 in chunks of rows, and persisted there; neither side sends data from
the client.

- dask-glm: ``dask_glm.algorithms.gradient_descent`` (what
  ``dask_ml.linear_model.LinearRegression(solver="gradient_descent")`` calls) on
  ``[1 | X]`` and ``y``, persisted, with its defaults (it standardises the
  columns, and chooses each step by a backtracking line search, which costs
  extra passes for the loss); ``max_iter`` fixed. Its iterations and loss
  evaluations are counted through its family (``Normal``, the sum of squares).
- gdlab: ``gdlab.descend_dask`` of the mean squared error on the same
  blocks seen as a Dask DataFrame (one task per chunk, summed on the workers),
  a fixed learning rate; ``steps`` updates take ``steps + 1`` passes.
- gdlab's own answer to the same fit: ``gdlab.fit(frame, y="y", x=[...],
  method="gd")``, one TSQR pass on the cluster and the descent on the client.

The time of a pass is the whole call's time divided by its gradient passes
(dask-glm: its counted iterations, including its standardisation passes and the
line search; gdlab: ``steps + 1``), the median of the repeats. Each
coefficient vector is compared with the closed form (the normal equations of
the same persisted arrays, solved in NumPy), so both did the same work.

Run: ``python benchmarks/bench_dask_compare.py [--quick] [--repeats 3] [--iterations 10] [--json out.json]``.
Needs dask-glm (in requirements/dev.in).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

import gdlab  # float64 before JAX makes any array

P = 10
BETA = np.linspace(-2.0, 2.0, P)


def counting_normal():
    """dask-glm's Normal family, counting its gradients (iterations) and loss evaluations."""
    from dask_glm.families import Normal

    counts = {"gradient": 0, "loglike": 0}

    class Counted(Normal):
        @staticmethod
        def loglike(Xbeta, y):
            counts["loglike"] += 1
            return Normal.loglike(Xbeta, y)

        @staticmethod
        def gradient(Xbeta, X, y):
            counts["gradient"] += 1
            return Normal.gradient(Xbeta, X, y)

    return Counted, counts


def mse(b, d):
    import jax.numpy as jnp

    X = jnp.stack([d[f"x{j}"] for j in range(1, P + 1)], axis=-1)
    return jnp.mean((d["y"] - b[0] - X @ b[1:]) ** 2)


def compare(client, chunks: int, rows: int, iterations: int, repeats: int, lr: float) -> dict:
    import dask
    import dask.array as da
    import dask.dataframe as dd
    from dask_glm.algorithms import gradient_descent

    from gdlab import _host
    from gdlab.data import open_source

    n = chunks * rows
    rng = da.random.default_rng(7)
    X = rng.standard_normal((n, P), chunks=(rows, P))
    y = 1.0 + X @ BETA + 0.5 * rng.standard_normal(n, chunks=rows)
    data = da.concatenate([X, y[:, None]], axis=1).rechunk((rows, P + 1)).persist()
    # dask-glm's view: [1 | X] and y; gdlab's: the same blocks as a DataFrame.
    Xg = da.concatenate([da.ones((n, 1), chunks=(rows, 1)), data[:, :P]], axis=1).persist()
    yg = data[:, P].persist()
    names = [f"x{j}" for j in range(1, P + 1)]
    frame = dd.from_dask_array(data, columns=[*names, "y"]).persist()
    dask.compute(Xg.sum(), yg.sum())  # all resident before any clock starts
    frame.y.sum().compute()

    G, c = dask.compute(Xg.T @ Xg, Xg.T @ yg)
    closed = np.linalg.solve(G, c)

    family, counts = counting_normal()
    chunked = open_source(frame, client=client)
    b0 = np.zeros(P + 1)
    _host.value_and_grad(mse, b0, chunked)  # send the loss and compile it on the workers
    times: dict[str, list[float]] = {"glm": [], "gd": [], "fit": []}
    glm_passes, glm_evals = [], []
    for _ in range(repeats):  # interleaved, so a busy machine slows all three alike
        counts.update(gradient=0, loglike=0)
        start = time.perf_counter()
        glm_beta = gradient_descent(Xg, yg, max_iter=iterations, tol=0.0, family=family)
        times["glm"].append(time.perf_counter() - start)
        glm_passes.append(counts["gradient"])
        glm_evals.append(counts["loglike"])

        start = time.perf_counter()
        run = gdlab.descend_dask(mse, b0, chunked, lr=lr, steps=iterations)
        times["gd"].append(time.perf_counter() - start)
        gd_beta = np.asarray(run.params[-1])

        start = time.perf_counter()
        fit = gdlab.fit(frame, y="y", x=names, method="gd")
        times["fit"].append(time.perf_counter() - start)
    chunked.release()
    fit_beta = np.asarray(fit.coef)

    del data, Xg, yg, frame  # the workers drop them once no collection holds them
    glm_total, gd_total = statistics.median(times["glm"]), statistics.median(times["gd"])
    glm_n = int(statistics.median(glm_passes))
    return {
        "chunks": chunks,
        "rows_per_chunk": rows,
        "rows": n,
        "columns": P,
        "max_iter_or_steps": iterations,
        "dask_glm_total_s": glm_total,
        "dask_glm_iterations": glm_n,
        "dask_glm_loss_evaluations": int(statistics.median(glm_evals)),
        "dask_glm_per_iteration_s": glm_total / glm_n,
        "dask_glm_max_abs_error": float(np.max(np.abs(glm_beta - closed))),
        "gdlab_total_s": gd_total,
        "gdlab_passes": iterations + 1,
        "gdlab_per_pass_s": gd_total / (iterations + 1),
        "gdlab_max_abs_error": float(np.max(np.abs(gd_beta - closed))),
        "gdlab_fit_gd_s": statistics.median(times["fit"]),
        "gdlab_fit_gd_steps": int(fit.trajectory.steps),
        "gdlab_fit_gd_max_abs_error": float(np.max(np.abs(fit_beta - closed))),
        "ratio_per_iteration": (glm_total / glm_n) / (gd_total / (iterations + 1)),
        "load_average_1min_after": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=10, help="dask-glm's max_iter, gdlab's steps")
    parser.add_argument("--lr", type=float, default=0.4, help="gdlab's learning rate")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sizes = ((4, 10_000),) if args.quick else ((4, 250_000), (8, 250_000))
    repeats = 2 if args.quick else args.repeats

    import dask
    import dask_glm
    from dask.distributed import Client, LocalCluster

    results = []
    began = time.perf_counter()
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
        for chunks, rows in sizes:
            results.append(compare(client, chunks, rows, args.iterations, repeats, args.lr))

    print(
        f"dask {dask.__version__}, dask-glm {dask_glm.__version__}; LocalCluster 2 processes x 1 thread; "
        f"max_iter = steps = {args.iterations}; medians of {repeats}; "
        f"{time.perf_counter() - began:.0f} s in all; 1-minute load average after each size: "
        + ", ".join(f"{r['load_average_1min_after']:.1f}" for r in results)
    )
    print()
    print(
        "| chunks x rows (x 10) | dask-glm: total (iterations, loss evals) | dask-glm per iteration "
        "| gdlab descend_dask: total (passes) | gdlab per pass | ratio "
        '| max abs error vs closed form: dask-glm / gdlab | gdlab.fit(method="gd") |'
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['chunks']} x {r['rows_per_chunk']:,} | {r['dask_glm_total_s']:.2f} s "
            f"({r['dask_glm_iterations']}, {r['dask_glm_loss_evaluations']}) "
            f"| {r['dask_glm_per_iteration_s'] * 1e3:.0f} ms "
            f"| {r['gdlab_total_s']:.2f} s ({r['gdlab_passes']}) | {r['gdlab_per_pass_s'] * 1e3:.0f} ms "
            f"| {r['ratio_per_iteration']:.1f}x "
            f"| {r['dask_glm_max_abs_error']:.1e} / {r['gdlab_max_abs_error']:.1e} "
            f"| {r['gdlab_fit_gd_s']:.2f} s ({r['gdlab_fit_gd_max_abs_error']:.0e}) |"
        )
    line = {
        "cores": os.cpu_count(),
        "dask": dask.__version__,
        "dask_glm": dask_glm.__version__,
        "results": results,
    }
    print(json.dumps(line))
    if args.json:
        args.json.write_text(json.dumps(line, indent=2))


if __name__ == "__main__":
    main()
