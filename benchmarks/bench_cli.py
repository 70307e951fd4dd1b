"""Command-line start-up and the lecture's 100-step descent to a GIF, end to end, in new processes.

Baselines, timed the same way in this run: a Python interpreter that does nothing, and one
that only imports JAX (what any JAX tool pays before its first computation). The descent is
timed with JAX's persistent compilation cache off, then on (the second and later runs reuse
compiled code). Medians of ``--repeats`` runs.

Run: ``python benchmarks/bench_cli.py [--repeats 5]``.
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

GDLAB = str(Path(sys.executable).with_name("gdlab"))
DESCENT = ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.01/6", "--steps", "100", "--out"]


def timed(command: list[str], repeats: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    plain = {**os.environ, "GDLAB_NO_CACHE": "1"}
    cached = {**os.environ, "XDG_CACHE_HOME": str(folder / "cache")}
    gif = str(folder / "descent.gif")
    timed([GDLAB, *DESCENT, gif], 1, cached)  # fills the cache
    rows = {
        "python -c pass": timed([sys.executable, "-c", "pass"], args.repeats, plain),
        "python -c 'import jax'": timed([sys.executable, "-c", "import jax"], args.repeats, plain),
        "gdlab --help": timed([GDLAB, "--help"], args.repeats, plain),
        "gdlab run ... --out descent.gif (no cache)": timed([GDLAB, *DESCENT, gif], args.repeats, plain),
        "gdlab run ... --out descent.gif (cache warm)": timed([GDLAB, *DESCENT, gif], args.repeats, cached),
    }
    print(f"new processes, medians of {args.repeats}")
    for name, seconds in rows.items():
        print(f"{name:48} {seconds:7.3f} s")


if __name__ == "__main__":
    main()
