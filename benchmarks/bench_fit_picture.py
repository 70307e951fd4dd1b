"""A fit's picture as a user first meets it: a fresh process that fits a curve and draws it.

Each script runs in fresh processes, this tree's and the baseline's taken in turn, and prints
the seconds after the fit (drawing and writing the file) and the whole process's seconds:

- ``plot``: Misra1a fitted by lm, ``fit.plot()`` written as a PNG;
- ``animate``: the same fit animated, written as a GIF (a frame a step);
- ``beside``: adam beside lm on Misra1a (300 steps), 60 frames written as a GIF;
- ``several``: gd on two regressors, ``fit.plot()`` as a PNG.

Run: ``python benchmarks/bench_fit_picture.py --baseline <tree>/src [--runs 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

SETUP = (
    "import sys, time, tempfile\n"
    f"sys.path.insert(0, {str(HERE / 'tests')!r})\n"
    "import numpy as np\n"
    "import gdlab\n"
    "from nls_problems import misra1a\n"
    "p = misra1a()\n"
    "data = {'x': p.x, 'y': p.y}\n"
    "out = tempfile.mkdtemp()\n"
)
SCRIPTS = {
    "plot": "f = gdlab.fit(data, y='y', model='b1*(1-exp(-b2*x))', init=p.starts[0])\n"
    "t = time.perf_counter()\n"
    "gdlab.save_figure(f.plot(), out + '/fit.png')\n",
    "animate": "f = gdlab.fit(data, y='y', model='b1*(1-exp(-b2*x))', init=p.starts[0])\n"
    "t = time.perf_counter()\n"
    "gdlab.animate(f).save(out + '/fit.gif')\n",
    "beside": "f = gdlab.fit(data, y='y', model='b1*(1-exp(-b2*x))', init=p.starts[0],\n"
    "              method='adam', steps=300)\n"
    "t = time.perf_counter()\n"
    "gdlab.animate(f, frames=60).save(out + '/fit.gif')\n",
    "several": "rng = np.random.default_rng(1)\n"
    "d = {'a': rng.normal(size=200), 'b': rng.normal(size=200)}\n"
    "d['y'] = 1 + d['a'] - d['b'] + 0.3 * rng.normal(size=200)\n"
    "f = gdlab.fit(d, y='y', x=['a', 'b'], method='gd', lr=0.05, steps=200)\n"
    "t = time.perf_counter()\n"
    "gdlab.save_figure(f.plot(), out + '/fit.png')\n",
}
END = "print('DRAWN', time.perf_counter() - t)\n"


def _child(script: str, src: str) -> tuple[float, float]:
    """The seconds drawing took and the whole process's seconds, gdlab from ``src``."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", SETUP + script + END],
        env={**os.environ, "PYTHONPATH": src},
        capture_output=True,
        text=True,
        check=True,
    )
    whole = time.perf_counter() - began
    drawn = next(line for line in done.stdout.splitlines() if line.startswith("DRAWN"))
    return float(drawn.split()[1]), whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the baseline tree's src folder")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per script and tree")
    args = parser.parse_args()
    trees = {"this tree": str(HERE / "src"), "baseline": args.baseline}
    found: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.runs):
        for name, script in SCRIPTS.items():
            for tree, src in trees.items():
                try:
                    found.setdefault((name, tree), []).append(_child(script, src))
                except subprocess.CalledProcessError as error:  # the baseline may not draw it
                    print(f"{name} ({tree}) failed: {error.stderr.strip().splitlines()[-1]}", file=sys.stderr)
    print(f"Medians of {args.runs} fresh processes, the trees taken in turn (seconds):\n")
    print("| script | drawing, this tree | baseline | ratio | whole process, this tree | baseline | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in SCRIPTS:
        mine, theirs = found.get((name, "this tree"), []), found.get((name, "baseline"), [])
        if not mine or not theirs:
            continue
        a, b = (statistics.median(d for d, _ in runs) for runs in (mine, theirs))
        c, d = (statistics.median(w for _, w in runs) for runs in (mine, theirs))
        print(f"| {name} | {a:.3f} | {b:.3f} | {a / b:.2f} | {c:.2f} | {d:.2f} | {c / d:.2f} |")


if __name__ == "__main__":
    main()
