"""A model formula with a category against the same fit of columns made by hand, and against
statsmodels' formula API, all measured in this process.

The formula ``y ~ x1 + C(g) + log(x2)`` (five levels) is fitted by ``gdlab.fit`` in memory and
over a directory of Parquet files (the levels found by one pass over the category's column,
then the design made block by block); the baseline is ``gdlab.fit(..., y=, x=)`` of the same
design's columns computed beforehand (dummies and the log stored in the data), and
``statsmodels.formula.api.ols`` in memory. Prints Markdown (medians; this machine is noisy).

Run: ``python benchmarks/bench_formula.py [--rows 1000000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from numpy import log  # noqa: F401  (statsmodels' formula evaluates log(...) from this module)

import gdlab

FORMULA = "y ~ x1 + C(g) + log(x2)"
BY_HAND = "x1,gb,gc,gd,ge,lx2"


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "y": rng.normal(size=rows),
            "x1": rng.normal(size=rows),
            "x2": rng.uniform(1, 2, rows),
            "g": rng.choice(list("abcde"), rows),
        }
    )
    for level in "bcde":
        frame["g" + level] = (frame["g"] == level) * 1.0
    frame["lx2"] = np.log(frame["x2"])
    return frame


def _median(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frame = _frame(args.rows)
    folder = Path(tempfile.mkdtemp(prefix="bench-formula-"))
    for i, part in enumerate(np.array_split(np.arange(args.rows), 4)):
        frame.iloc[part].to_parquet(folder / f"part-{i}.parquet")
    import statsmodels.formula.api as smf

    cases = {
        "in memory": (lambda: gdlab.fit(frame, FORMULA), lambda: gdlab.fit(frame, y="y", x=BY_HAND)),
        "Parquet directory": (
            lambda: gdlab.fit(folder, FORMULA),
            lambda: gdlab.fit(folder, y="y", x=BY_HAND),
        ),
    }
    print(f"{args.rows:,} rows, {FORMULA!r}; medians of {args.repeats}\n")
    print("| data | formula (s) | columns by hand (s) | ratio |")
    print("|---|---|---|---|")
    for name, (formula, by_hand) in cases.items():
        a, b = _median(formula, args.repeats), _median(by_hand, args.repeats)
        print(f"| {name} | {a:.3f} | {b:.3f} | {a / b:.2f} |")
    ours = _median(lambda: gdlab.fit(frame, FORMULA), args.repeats)
    theirs = _median(lambda: smf.ols(FORMULA, frame).fit(), args.repeats)
    print(f"\nstatsmodels' ols(formula) in memory: {theirs:.3f} s; gdlab {ours:.3f} s ({theirs / ours:.2f}x)")


if __name__ == "__main__":
    main()
