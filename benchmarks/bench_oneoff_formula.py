"""A script that fits one model from a formula, whole process, against statsmodels.

A fresh Python reads a CSV of 500 rows with pandas, fits ``y ~ log(x) + C(g) + I(x**2)`` by
least squares (or ``z ~ x + C(g)`` by logistic regression) and prints the summary: ``gdlab.fit``
(this tree and a baseline tree, ``--baseline``, a ``src`` folder) against statsmodels'
``ols(...).fit().summary()`` (``logit``). Wall time of the whole
child process (interpreter start-up included) and its peak resident memory (``ru_maxrss``),
medians of fresh processes run in turn, so a busy moment falls on all of them alike.

Run: ``python benchmarks/bench_oneoff_formula.py [--runs 7] [--baseline /work/main/src]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
MODELS = {
    "least squares": ("y ~ log(x) + C(g) + I(x**2)", "", "ols", ""),
    "logistic": ("z ~ x + C(g)", ", family='logistic'", "logit", "disp=0"),
}


def _scripts(model: str) -> dict[str, str]:
    formula, family, how, options = MODELS[model]
    return {
        "gdlab": f"import pandas as pd, gdlab\ndata = pd.read_csv(PATH)\n"
        f"print(gdlab.fit(data, {formula!r}{family}).summary())\n",
        "statsmodels": "import numpy as np, pandas as pd\nimport statsmodels.formula.api as smf\n"
        "from numpy import log\ndata = pd.read_csv(PATH)\n"
        f"print(smf.{how}({formula!r}, data).fit({options}).summary())\n",
    }


PEAK = (
    "\nimport resource, sys\n"
    "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def _data(path: Path) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.uniform(1, 3, 500), "g": rng.choice(list("abcd"), 500)})
    frame["y"] = 2 * np.log(frame.x) + (frame.g == "b") + rng.normal(size=500)
    frame["z"] = (rng.random(500) < 1 / (1 + np.exp(-(frame.x - 2) - (frame.g == "c")))).astype(float)
    frame.to_csv(path, index=False)


def _child(script: str, src: str | None, path: Path) -> tuple[float, float]:
    """Seconds and peak MB of one fresh process running ``script`` (gdlab from ``src``)."""
    env = {**os.environ, "PYTHONPATH": src or ""}
    code = f"PATH = {str(path)!r}\n" + script + PEAK
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - began
    peak = next(line for line in done.stderr.splitlines() if line.startswith("PEAK"))
    return seconds, int(peak.split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per script")
    parser.add_argument("--baseline", default="/work/main/src", help="the baseline tree's src folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        _data(path)
        for model in MODELS:
            scripts = _scripts(model)
            kinds = {
                "gdlab (this tree)": (scripts["gdlab"], str(HERE / "src")),
                "gdlab (baseline)": (scripts["gdlab"], args.baseline),
                "statsmodels": (scripts["statsmodels"], None),
            }
            measured: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
            for _ in range(args.runs):
                for kind, (script, src) in kinds.items():
                    measured[kind].append(_child(script, src, path))
            base_s = statistics.median(s for s, _ in measured["statsmodels"])
            base_mb = statistics.median(m for _, m in measured["statsmodels"])
            print(f"{model} (medians of {args.runs} fresh processes, taken in turn):\n")
            print("| script | seconds | peak MB | time / statsmodels | memory / statsmodels |")
            print("| --- | ---: | ---: | ---: | ---: |")
            for kind, found in measured.items():
                s, mb = statistics.median(x for x, _ in found), statistics.median(m for _, m in found)
                print(f"| {kind} | {s:.3f} | {mb:.0f} | {s / base_s:.2f} | {mb / base_mb:.2f} |")
            print()


if __name__ == "__main__":
    main()
