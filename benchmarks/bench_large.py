"""Large data in memory: what each of gdlab's choices costs or saves, against the other way, in one run.

Each line times gdlab's default against the alternative it replaced, in the same process
(medians; the alternative is switched on by changing the module constant that chooses):

1. a descent fit by adam on n x 20 float64 columns: NumPy passes over the columns (no copy)
   against the compiled run on a standardised copy (``gdlab.fitting._beside.PASS_VALUES``);
2. one epoch of minibatch SGD (``gdlab.fit(method="sgd")``, batches of 1,024): each step
   recording its own minibatch's loss against the loss on all the rows
   (``gdlab._sgd.WHOLE_ROWS``);
3. a fit's picture drawn and saved as PNG: a sample of 20,000 rows against every row
   (``gdlab.render._fitplot.DRAW_POINTS``);
4. a warm ``gdlab.descend`` of a loss typed as text: the parsed loss kept per text against
   parsing (and so compiling) it again on every call (``gdlab._loss._parsed``).

At the default million rows the first three use gdlab's large-data ways; well below it (where
a copy is small and the whole-data loss cheap) gdlab takes the other way itself.

Run: ``python benchmarks/bench_large.py [--rows 1000000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np

import gdlab
from gdlab import _loss, _sgd
from gdlab.fitting import _beside
from gdlab.render import _fitplot


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def with_constant(module, name: str, value, fn):
    """``fn()`` with ``module.name`` set to ``value`` for the call."""
    kept = getattr(module, name)
    setattr(module, name, value)
    try:
        return fn()
    finally:
        setattr(module, name, kept)


def line(what: str, ours: float, theirs: float, how: str, other: str) -> str:
    return f"| {what} | {how}: {ours * 1e3:,.1f} ms | {other}: {theirs * 1e3:,.1f} ms | {theirs / ours:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, repeats = args.rows, args.repeats
    rng = np.random.default_rng(0)
    columns = {f"x{j}": rng.normal(j, 1 + j, n) for j in range(20)}
    y = sum(columns.values()) + rng.normal(size=n)
    data = columns | {"y": y}
    x = list(columns)
    rows = ["| choice | gdlab | the other way | saved (ratio) |", "| --- | ---: | ---: | ---: |"]

    def adam():
        return gdlab.fit(data, y="y", x=x, method="adam", steps=100)

    adam()  # compile both ways first
    with_constant(_beside, "PASS_VALUES", 10**15, adam)
    passes = median_seconds(adam, repeats)
    copy = with_constant(_beside, "PASS_VALUES", 10**15, lambda: median_seconds(adam, repeats))
    rows.append(
        line(
            f"adam fit, 100 steps, {n:,} x 20", passes, copy, "passes over the columns", "compiled on a copy"
        )
    )

    small = {"x0": columns["x0"], "x1": columns["x1"], "y": y}

    def sgd():
        return gdlab.fit(small, y="y", x="x0,x1", method="sgd", epochs=1, batch_size=1024)

    sgd()
    with_constant(_sgd, "WHOLE_ROWS", 10**15, sgd)
    sampled = median_seconds(sgd, repeats)
    whole = with_constant(_sgd, "WHOLE_ROWS", 10**15, lambda: median_seconds(sgd, 1))
    rows.append(
        line(
            f"sgd fit, 1 epoch of batches of 1,024, {n:,} x 2", sampled, whole, "minibatch losses", "all rows"
        )
    )

    one = gdlab.fit(small, y="y", x="x0")

    def picture():
        one.plot().savefig(io.BytesIO(), format="png", dpi=100)

    picture()  # matplotlib's first figure
    sample = median_seconds(picture, repeats)
    every = with_constant(_fitplot, "DRAW_POINTS", n + 1, lambda: median_seconds(picture, 1))
    rows.append(line(f"fit picture, {n:,} rows", sample, every, "a sample of 20,000 rows", "every row"))

    def text():
        return gdlab.descend("(b/2-1)^2", {"b": 0.0}, lr=0.5, steps=50)

    text()
    kept = median_seconds(text, 20)

    def parsed_again():
        _loss._parsed.cache_clear()
        return text()

    again = median_seconds(parsed_again, 5)
    rows.append(
        line("warm descend of a typed loss, 50 steps", kept, again, "parsed once", "parsed each call")
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
