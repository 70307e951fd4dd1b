"""Command-line start-up and the lecture's 100-step descent to a GIF, end to end, in new processes.

Timed the same way in this run, each repeat running every command once in turn (so that a busy
moment of this shared machine falls on all of them alike): a Python interpreter that does
nothing, one that only imports JAX (what any JAX tool pays before its first computation), and
the descent on this tree and on a baseline tree (``--baseline``, a ``src`` folder, run by
``--baseline-python``). The descent is timed with JAX's persistent compilation cache warm (each
tree its own, filled first) and with it off (``GDLAB_NO_CACHE=1``). Medians of ``--repeats``.

Run: ``python benchmarks/bench_cli.py [--repeats 7] [--baseline /work/main/src]``.
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

DESCENT = ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.01/6", "--steps", "100", "--out"]
HERE = str(Path(__file__).resolve().parents[1] / "src")


def seconds(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline", default="/work/main/src", help="the baseline tree's src folder")
    parser.add_argument("--baseline-python", default="/work/main/.venv/bin/python")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    gif = str(folder / "descent.gif")
    trees = {"this tree": (sys.executable, HERE), "baseline": (args.baseline_python, args.baseline)}

    def env(tree: str, cache: bool) -> dict[str, str]:
        made = {**os.environ, "PYTHONPATH": trees[tree][1]}
        made.pop("GDLAB_NO_CACHE", None)
        if cache:
            made["XDG_CACHE_HOME"] = str(folder / tree.replace(" ", "-"))
        else:
            made["GDLAB_NO_CACHE"] = "1"
        return made

    def descent(tree: str) -> list[str]:
        return [trees[tree][0], "-m", "gdlab.cli", *DESCENT, gif]

    plain = {**os.environ, "GDLAB_NO_CACHE": "1"}
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([sys.executable, "-c", "pass"], plain),
        "python -c 'import jax'": ([sys.executable, "-c", "import jax"], plain),
        "gdlab --help": ([sys.executable, "-m", "gdlab.cli", "--help"], env("this tree", False)),
    }
    for tree in trees:
        commands[f"run ... --out descent.gif, {tree}, cache warm"] = (descent(tree), env(tree, True))
        commands[f"run ... --out descent.gif, {tree}, no cache"] = (descent(tree), env(tree, False))
    for tree in trees:  # fill each tree's compilation cache
        seconds(descent(tree), env(tree, True))
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, (command, environment) in commands.items():
            times[name].append(seconds(command, environment))
    median = {name: statistics.median(found) for name, found in times.items()}
    jax = median["python -c 'import jax'"]
    print(f"new processes, medians of {args.repeats} (each repeat runs every command once)")
    print(f"{'what':<52} {'median':>8} {'x import jax':>13}")
    for name, value in median.items():
        print(f"{name:<52} {value:>7.2f}s {value / jax:>12.2f}x")
    for cache in ("cache warm", "no cache"):
        mine = median[f"run ... --out descent.gif, this tree, {cache}"]
        theirs = median[f"run ... --out descent.gif, baseline, {cache}"]
        print(f"run ... --out descent.gif ({cache}): this tree / baseline = {mine / theirs:.2f}")


if __name__ == "__main__":
    main()
