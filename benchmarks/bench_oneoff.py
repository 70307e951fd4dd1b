"""One-off fits: a script that fits one curve, whole process, and the warm ``lm`` fit, against SciPy.

1. Whole process: a fresh Python that imports gdlab, fits ``b1*(1-exp(-b2*x))`` to NIST's
   Misra1a (14 rows) from NIST's first start and prints the summary, against one that
   imports ``scipy.optimize.curve_fit``, fits the same and prints the coefficients and their
   standard errors. Wall time of the whole child process (interpreter start-up included) and
   its peak resident memory (``ru_maxrss``), medians of fresh processes run in turn.
2. Warm: ``gdlab.fit(..., model=...)`` (``lm``, the default) once its first call is over,
   against ``scipy.optimize.least_squares(method="lm")`` with NumPy residuals, the exact
   Jacobian and the accuracy table's tolerances (1e-15), on Misra1a, BoxBOD, Thurber-like
   and Gauss-like from NIST's second start (``tests/nls_problems.py``); wall medians and
   minimums and CPU medians (``time.process_time``), the two taken in turn in one process.

Each runs for this tree and for a baseline tree (``--baseline``, a ``src`` folder) in the same
run, so the ratios compare like with like on this noisy shared machine. With ``--parts``,
instead: where this tree's warm fit spends its time, part by part (the minimum of
``--repeats`` fits of each).

With ``--evaluations``: one evaluation of each formula's values, and of its values and Jacobian,
at a new point, against the model and its Jacobian written by hand in NumPy, for both trees.

Run: ``python benchmarks/bench_oneoff.py [--runs 7] [--repeats 200] [--baseline /work/main/src]
[--parts | --evaluations]``.
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
    """gdlab's warm fit and SciPy's lm (tolerances 1e-15), taken in turn: for each, the median and
    minimum wall milliseconds and the median CPU milliseconds; then gdlab's steps and SciPy's nfev."""
    import numpy as np
    import scipy.optimize

    import gdlab

    sys.path.insert(0, str(HERE / "tests"))
    from nls_problems import (
        JACOBIANS,
        MODELS,
        boxbod,
        digits,
        gauss_like,
        misra1a,
        thurber_like,
        with_reference,
    )

    exp_model = lambda b, x, exp=np.exp: b[0] * (1 - exp(-b[1] * x))  # noqa: E731
    found = {}
    for name, make, kind in (
        ("Misra1a", misra1a, "exp"),
        ("BoxBOD", boxbod, "exp"),
        ("Thurber-like", thurber_like, "thurber"),
        ("Gauss-like", gauss_like, "gauss"),
    ):
        problem = make() if kind == "exp" else with_reference(make(), kind)
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

        def ours_read(problem=problem, data=data, start=start):  # and its statistics read
            return gdlab.fit(data, y="y", model=problem.formula, init=start).stats

        steps = ours().trajectory.steps
        walls: list[list[float]] = [[], [], []]
        cpus: list[list[float]] = [[], [], []]
        for _ in range(repeats):
            for fn, wall, cpu in zip((ours, theirs, ours_read), walls, cpus, strict=True):
                began, began_cpu = time.perf_counter(), time.process_time()
                fn()
                wall.append(time.perf_counter() - began)
                cpu.append(time.process_time() - began_cpu)
        found[name] = [
            *(1e3 * f(kept) for kept in (walls[0], walls[1]) for f in (statistics.median, min)),
            *(1e3 * statistics.median(kept) for kept in cpus[:2]),
            steps,
            theirs().nfev,
            *(1e3 * f(walls[2]) for f in (statistics.median, min)),
            *(
                digits(fn().coef if fn is ours else fn().x, list(problem.certified.values()))
                for fn in (ours, theirs)
            ),
        ]
    return found


def warm_table(repeats: int, trees: dict[str, str], polish: list[str]) -> list[str]:
    results = {}
    for name, src in trees.items():
        done = subprocess.run(
            [sys.executable, __file__, "--warm-json", str(repeats), *polish],
            env={**os.environ, "PYTHONPATH": src},
            capture_output=True,
            text=True,
            check=True,
        )
        results[name] = json.loads(done.stdout.splitlines()[-1])
    names = list(trees)
    rows = [
        f'Warm `lm` fit against SciPy\'s `least_squares(method="lm")`, tolerances 1e-15 '
        f"({repeats} of each, each tree in its own process, gdlab's and SciPy's fits taken in turn; "
        "wall ms median and minimum, CPU ms median; the ratios gdlab / SciPy of each; the last column "
        f"gdlab's median against the {names[-1]}'s, measured in another process):",
        "",
        "| problem | tree | gdlab ms (min) | CPU | steps | SciPy ms (min) | CPU | nfev "
        "| ratio | ratio of min | CPU ratio | vs "
        + names[-1]
        + " | with `stats` read ms (min) | its ratio of min | digits, gdlab / SciPy |",
        "| --- | --- |" + " ---: |" * 13,
    ]
    for problem in results[names[0]]:
        for n in names:
            ours, ours_min, theirs, theirs_min, ours_cpu, theirs_cpu, steps, nfev, *more = results[n][problem]
            read_median, read_min, ours_digits, theirs_digits = more
            versus = ours / results[names[-1]][problem][0]
            rows.append(
                f"| {problem} | {n} | {ours:.3f} ({ours_min:.3f}) | {ours_cpu:.3f} | {steps} "
                f"| {theirs:.3f} ({theirs_min:.3f}) | {theirs_cpu:.3f} | {nfev} | {ours / theirs:.2f} "
                f"| {ours_min / theirs_min:.2f} | {ours_cpu / theirs_cpu:.2f} | {versus:.2f} "
                f"| {read_median:.3f} ({read_min:.3f}) | {read_min / theirs_min:.2f} "
                f"| {ours_digits:.1f} / {theirs_digits:.1f} |"
            )
    return rows


def parts(repeats: int) -> list[str]:
    """Where a warm fit's time goes: the minimum over ``repeats`` fits of each part, timed by
    wrapping the functions that do it (the parts add up only roughly)."""
    import numpy as np

    import gdlab
    from gdlab.fitting import _formula, _minpack

    sys.path.insert(0, str(HERE / "tests"))
    from nls_problems import boxbod, gauss_like, misra1a, thurber_like

    kept: dict[str, list[float]] = {}

    def timed(module: object, name: str) -> None:
        fn = getattr(module, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                kept.setdefault(name, []).append(time.perf_counter() - began)

        setattr(module, name, wrapper)

    for module, names in ((_minpack, ("_lmder", "_polish", "solve")),
                          (_formula, ("_inference", "_trajectory", "fit_formula"))):  # fmt: skip
        for name in names:
            timed(module, name)
    found = {}
    for name, make in (("Misra1a", misra1a), ("BoxBOD", boxbod), ("Thurber-like", thurber_like),
                       ("Gauss-like", gauss_like)):  # fmt: skip
        problem = make()
        data, start = {"x": problem.x, "y": problem.y}, problem.starts[1]
        gdlab.fit(data, y="y", model=problem.formula, init=start)
        kept.clear()
        for _ in range(repeats):
            gdlab.fit(data, y="y", model=problem.formula, init=start).stats  # noqa: B018  # read: computed
        found[name] = {k: 1e6 * float(np.min(v)) for k, v in kept.items()}
    lines = {
        "MINPACK's `lmder` with gdlab's evaluations": lambda m: m["_lmder"],
        "Gauss-Newton polish": lambda m: m["_polish"],
        "the Jacobian at MINPACK's answer, the stationarity check, the rows": lambda m: (
            m["solve"] - m["_lmder"] - m["_polish"]
        ),
        "the engine's judgment (facts, status; the trajectory is built when read)": lambda m: m[
            "_trajectory"
        ],
        "the rest: data checks, names, starts, binding, the Fit": lambda m: (
            m["fit_formula"] - m["solve"] - m["_trajectory"]
        ),
        "the whole fit": lambda m: m["fit_formula"],
        "statistics when first read (the pivoted QR factor, t, p)": lambda m: m["_inference"],
    }
    rows = [
        f"Where a warm fit's time goes (us, the minimum of {repeats} fits of each part):",
        "",
        "| part (us) | " + " | ".join(found) + " |",
        "| --- |" + " ---: |" * len(found),
    ]
    for label, value in lines.items():
        rows.append(f"| {label} | " + " | ".join(f"{value(m):,.0f}" for m in found.values()) + " |")
    return rows


def evaluations(repeats: int) -> dict[str, list[float]]:
    """One evaluation of each formula at a new point, against NumPy written by hand: the values
    alone, the values and the Jacobian, then the hand-written model and its Jacobian (minimum
    microseconds over 7 rounds of ``repeats``)."""
    import numpy as np

    from gdlab._expr import numeric_form

    sys.path.insert(0, str(HERE / "tests"))
    from nls_problems import JACOBIANS, MODELS, gauss_like, misra1a, thurber_like

    def least(fn: object) -> float:
        best = float("inf")
        for _ in range(7):
            began = time.perf_counter()
            for _ in range(repeats):
                fn()  # type: ignore[operator]
            best = min(best, (time.perf_counter() - began) / repeats)
        return 1e6 * best

    exp_model = lambda b, x: b[0] * (1 - np.exp(-b[1] * x))  # noqa: E731
    found = {}
    for name, make, kind in (("Misra1a", misra1a, "exp"), ("Thurber-like", thurber_like, "thurber"),
                             ("Gauss-like", gauss_like, "gauss")):  # fmt: skip
        problem = make()
        bound = numeric_form(problem.formula, ("x",)).bind({"x": problem.x}, len(problem.x))
        b = np.array(list(problem.starts[1].values()))
        points = [b * (1 + 1e-9 * k) for k in range(2 * repeats)]  # a new point each call
        turn = iter(range(10**9))

        def values(bound=bound, points=points, turn=turn):
            bound.values(points[next(turn) % len(points)])

        def both(bound=bound, points=points, turn=turn):
            point = points[next(turn) % len(points)]
            bound.values(point)
            bound.jacobian(point)

        model, jacobian = {"exp": exp_model, **MODELS}[kind], JACOBIANS[kind]
        found[name] = [
            least(values),
            least(both),
            least(lambda model=model, b=b, x=problem.x: model(b, x)),
            least(lambda jacobian=jacobian, b=b, x=problem.x: jacobian(b, x)),
        ]
    return found


def evaluations_table(repeats: int, trees: dict[str, str]) -> list[str]:
    results = {}
    for name, src in trees.items():
        done = subprocess.run(
            [sys.executable, __file__, "--evaluations-json", str(repeats)],
            env={**os.environ, "PYTHONPATH": src},
            capture_output=True,
            text=True,
            check=True,
        )
        results[name] = json.loads(done.stdout.splitlines()[-1])
    rows = [
        f"One evaluation at a new point (us, the minimum of 7 rounds of {repeats}; each tree in its own "
        "process), against the model and its Jacobian written by hand in NumPy:",
        "",
        "| problem | tree | values | values and Jacobian | hand-written values | hand-written Jacobian "
        "| values / hand | both / hand (values + Jacobian) |",
        "| --- | --- |" + " ---: |" * 6,
    ]
    for problem in results[next(iter(trees))]:
        for name in trees:
            values, both, model, jacobian = results[name][problem]
            rows.append(
                f"| {problem} | {name} | {values:.1f} | {both:.1f} | {model:.1f} | {jacobian:.1f} "
                f"| {values / model:.2f} | {both / (model + jacobian):.2f} |"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per script")
    parser.add_argument("--repeats", type=int, default=200, help="warm fits per problem")
    parser.add_argument("--baseline", default="/work/main/src", help="the baseline tree's src folder")
    parser.add_argument(
        "--parts", action="store_true", help="only where this tree's warm fit spends its time"
    )
    parser.add_argument(
        "--evaluations", action="store_true", help="only one evaluation of each formula, both trees"
    )
    parser.add_argument(
        "--polish",
        type=int,
        help="at most this many Gauss-Newton steps after MINPACK's answer (default gdlab's own), "
        "to time the fit at MINPACK's own stop (0) against SciPy's at its",
    )
    parser.add_argument("--warm-json", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--evaluations-json", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.polish is not None:
        from gdlab.fitting import _minpack

        _minpack.POLISH = args.polish
    if args.evaluations_json:
        print(json.dumps(evaluations(args.evaluations_json)))
        return
    trees = {"this tree": str(HERE / "src"), "baseline": args.baseline}
    if args.evaluations:
        print("\n".join(evaluations_table(args.repeats * 10, trees)))
        return
    if args.parts:
        print("\n".join(parts(args.repeats)))
        return
    if args.warm_json:
        print(json.dumps(warm(args.warm_json)))
        return
    print("\n".join(whole_process(args.runs, trees)), end="\n\n", flush=True)
    polish = [] if args.polish is None else ["--polish", str(args.polish)]
    print("\n".join(warm_table(args.repeats, trees, polish)), flush=True)


if __name__ == "__main__":
    main()
