"""One-off fits: a script that fits one curve, whole process, and the warm ``lm`` fit, against SciPy.

1. Whole process: a fresh Python that imports gdlab, fits ``b1*(1-exp(-b2*x))`` to NIST's
   Misra1a (14 rows) from NIST's first start and prints the summary, against one that
   imports ``scipy.optimize.curve_fit``, fits the same and prints the coefficients and their
   standard errors. Wall time of the whole child process (interpreter start-up included) and
   its peak resident memory (``ru_maxrss``), medians of fresh processes run in turn.
2. Warm: ``gdlab.fit(..., model=...)`` (``lm``, the default) once its first call is over,
   against ``scipy.optimize.least_squares(method="lm")`` with NumPy residuals, the exact
   Jacobian and the accuracy table's tolerances (1e-15), on Misra1a, BoxBOD, Thurber-like
   and Gauss-like from NIST's second start (``tests/nls_problems.py``); medians, the two
   taken in turn in one process.

Each runs for this tree and for a baseline tree (``--baseline``, a ``src`` folder) in the same
run, so the ratios compare like with like on this noisy shared machine.

Run: ``python benchmarks/bench_oneoff.py [--runs 7] [--repeats 200] [--baseline /work/main/src]``.
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

HERE = Path(__file__).resolve().parent.parent
MISRA = """
x = np.array([77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1,
              689.1, 760.0])
y = np.array([10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.40,
              75.47, 81.78])
"""
SCRIPTS = {
    "gdlab": "import numpy as np\nimport gdlab\n"
    + MISRA
    + (
        'fit = gdlab.fit({"x": x, "y": y}, y="y", model="b1*(1-exp(-b2*x))",\n'
        '                init={"b1": 500.0, "b2": 1e-4})\n'
        "print(fit.summary())\n"
    ),
    "curve_fit": "import numpy as np\nfrom scipy.optimize import curve_fit\n"
    + MISRA
    + (
        "p, cov = curve_fit(lambda x, b1, b2: b1 * (1 - np.exp(-b2 * x)), x, y, p0=[500.0, 1e-4])\n"
        "print(p, np.sqrt(np.diag(cov)))\n"
    ),
}
PEAK = (
    "\nimport resource, sys\n"
    "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def _child(script: str, src: str | None) -> tuple[float, float]:
    """Seconds and peak MB of one fresh process running ``script`` (gdlab from ``src``)."""
    env = {**os.environ, "PYTHONPATH": src or ""}
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script + PEAK], env=env, capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - began
    peak = next(line for line in done.stderr.splitlines() if line.startswith("PEAK"))
    return seconds, int(peak.split()[1]) / 1024


def whole_process(runs: int, trees: dict[str, str]) -> list[str]:
    kinds = {**{f"gdlab ({name})": (SCRIPTS["gdlab"], src) for name, src in trees.items()},
             "scipy curve_fit": (SCRIPTS["curve_fit"], None)}  # fmt: skip
    measured: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    for _ in range(runs):
        for kind, (script, src) in kinds.items():
            measured[kind].append(_child(script, src))
    base_s = statistics.median(s for s, _ in measured["scipy curve_fit"])
    base_mb = statistics.median(m for _, m in measured["scipy curve_fit"])
    rows = [
        f"Whole process (medians of {runs} fresh processes, taken in turn):",
        "",
        "| script | seconds | peak MB | time / curve_fit | memory / curve_fit |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, found in measured.items():
        s, mb = statistics.median(x for x, _ in found), statistics.median(m for _, m in found)
        rows.append(f"| {kind} | {s:.3f} | {mb:.0f} | {s / base_s:.2f} | {mb / base_mb:.2f} |")
    return rows


def warm(repeats: int) -> dict[str, list[float]]:
    """Median milliseconds of gdlab's warm fit and SciPy's lm (tolerances 1e-15), and gdlab's steps."""
    import numpy as np
    import scipy.optimize

    import gdlab

    sys.path.insert(0, str(HERE / "tests"))
    from nls_problems import JACOBIANS, MODELS, boxbod, gauss_like, misra1a, thurber_like

    exp_model = lambda b, x, exp=np.exp: b[0] * (1 - exp(-b[1] * x))  # noqa: E731
    found = {}
    for name, make, kind in (
        ("Misra1a", misra1a, "exp"),
        ("BoxBOD", boxbod, "exp"),
        ("Thurber-like", thurber_like, "thurber"),
        ("Gauss-like", gauss_like, "gauss"),
    ):
        problem = make()
        data, start = {"x": problem.x, "y": problem.y}, problem.starts[1]
        model, jacobian, x, y = {"exp": exp_model, **MODELS}[kind], JACOBIANS[kind], problem.x, problem.y
        b0 = np.array(list(start.values()))

        def ours(problem=problem, data=data, start=start):
            return gdlab.fit(data, y="y", model=problem.formula, init=start)

        def theirs(model=model, jacobian=jacobian, x=x, y=y, b0=b0):
            return scipy.optimize.least_squares(
                lambda b: y - model(b, x), b0, jac=lambda b: -jacobian(b, x), method="lm",
                ftol=1e-15, xtol=1e-15, gtol=1e-15,
            )  # fmt: skip

        steps = ours().trajectory.steps
        times: list[list[float]] = [[], []]
        for _ in range(repeats):
            for fn, kept in zip((ours, theirs), times, strict=True):
                began = time.perf_counter()
                fn()
                kept.append(time.perf_counter() - began)
        found[name] = [
            statistics.median(times[0]) * 1e3,
            statistics.median(times[1]) * 1e3,
            steps,
            theirs().nfev,
        ]
    return found


def warm_table(repeats: int, trees: dict[str, str]) -> list[str]:
    results = {}
    for name, src in trees.items():
        done = subprocess.run(
            [sys.executable, __file__, "--warm-json", str(repeats)],
            env={**os.environ, "PYTHONPATH": src},
            capture_output=True,
            text=True,
            check=True,
        )
        results[name] = json.loads(done.stdout.splitlines()[-1])
    names = list(trees)
    rows = [
        f'Warm `lm` fit against SciPy\'s `least_squares(method="lm")`, tolerances 1e-15 '
        f"(medians of {repeats}, "
        "each tree in its own process, gdlab's and SciPy's fits taken in turn; ms, steps or nfev):",
        "",
        "| problem | "
        + " | ".join(f"gdlab ({n}) ms (steps) | SciPy ms (nfev) | ratio" for n in names)
        + " |",
        "| --- |" + " ---: | ---: | ---: |" * len(names),
    ]
    for problem in results[names[0]]:
        cells = []
        for n in names:
            ours, theirs, steps, nfev = results[n][problem]
            cells.append(f"{ours:.3f} ({steps}) | {theirs:.3f} ({nfev}) | {ours / theirs:.2f}")
        rows.append(f"| {problem} | " + " | ".join(cells) + " |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per script")
    parser.add_argument("--repeats", type=int, default=200, help="warm fits per problem")
    parser.add_argument("--baseline", default="/work/main/src", help="the baseline tree's src folder")
    parser.add_argument("--warm-json", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warm_json:
        print(json.dumps(warm(args.warm_json)))
        return
    trees = {"this tree": str(HERE / "src"), "baseline": args.baseline}
    print("\n".join(whole_process(args.runs, trees)), end="\n\n", flush=True)
    print("\n".join(warm_table(args.repeats, trees)), flush=True)


if __name__ == "__main__":
    main()
