"""Command-line start-up and the lecture's 100-step descent to a GIF, end to end, in new processes.

Timed the same way in this run, each repeat running every command once in turn (so that a busy
moment of this shared machine falls on all of them alike): a Python interpreter that does
nothing, one that only imports JAX (what any JAX tool pays before its first computation), and
the descent on this tree and on a baseline tree (``--baseline``, a ``src`` folder, run by
``--baseline-python``). The descent is timed with JAX's persistent compilation cache warm (each
tree its own, filled first) and with it off (``GDLAB_NO_CACHE=1``). Medians of ``--repeats``, in
wall seconds and in the CPU seconds the process used (user and system, its threads too): on a
shared machine the second moves less with the load.

Where ``PYTHONDONTWRITEBYTECODE`` is set, every run compiles gdlab's modules from their source
(JAX's and matplotlib's come compiled with them): ``--bytecode`` adds the warm descent with each
tree's bytecode kept in a folder of its own (``PYTHONPYCACHEPREFIX``), as an installed gdlab runs.

Run: ``python benchmarks/bench_cli.py [--repeats 7] [--baseline /work/main/src] [--bytecode]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DESCENT = ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.01/6", "--steps", "100", "--out"]
HERE = str(Path(__file__).resolve().parents[1] / "src")


def seconds(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user and system) of ``command`` in a new process."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline", default="/work/main/src", help="the baseline tree's src folder")
    parser.add_argument("--baseline-python", default="/work/main/.venv/bin/python")
    parser.add_argument(
        "--bytecode",
        action="store_true",
        help="also time the warm descent with the trees' bytecode kept between runs (PYTHONDONTWRITEBYTECODE "
        "makes every run compile gdlab's modules from source; an installed gdlab has them compiled)",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    gif = str(folder / "descent.gif")
    trees = {"this tree": (sys.executable, HERE), "baseline": (args.baseline_python, args.baseline)}

    def env(tree: str, cache: bool, bytecode: bool = False) -> dict[str, str]:
        made = {**os.environ, "PYTHONPATH": trees[tree][1]}
        made.pop("GDLAB_NO_CACHE", None)
        if cache:
            made["XDG_CACHE_HOME"] = str(folder / tree.replace(" ", "-"))
        else:
            made["GDLAB_NO_CACHE"] = "1"
        if bytecode:  # gdlab's modules compiled once and kept, as an installed package's are
            made.pop("PYTHONDONTWRITEBYTECODE", None)
            made["PYTHONPYCACHEPREFIX"] = str(folder / f"{tree.replace(' ', '-')}-bytecode")
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
        if args.bytecode:
            commands[f"run ... --out descent.gif, {tree}, warm, bytecode"] = (
                descent(tree),
                env(tree, True, bytecode=True),
            )
    for tree in trees:  # fill each tree's compilation cache (and its bytecode)
        seconds(descent(tree), env(tree, True, bytecode=args.bytecode))
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, (command, environment) in commands.items():
            times[name].append(seconds(command, environment))
    wall = {name: statistics.median(w for w, _ in found) for name, found in times.items()}
    cpu = {name: statistics.median(c for _, c in found) for name, found in times.items()}
    jax, jax_cpu = wall["python -c 'import jax'"], cpu["python -c 'import jax'"]
    print(f"new processes, medians of {args.repeats} (each repeat runs every command once)")
    print(f"{'what':<52} {'wall':>8} {'x import jax':>13} {'cpu':>8} {'x import jax':>13}")
    for name in times:
        print(
            f"{name:<52} {wall[name]:>7.2f}s {wall[name] / jax:>12.2f}x "
            f"{cpu[name]:>7.2f}s {cpu[name] / jax_cpu:>12.2f}x"
        )
    for cache in ("cache warm", "no cache", *(("warm, bytecode",) if args.bytecode else ())):
        mine, theirs = (f"run ... --out descent.gif, {tree}, {cache}" for tree in trees)
        print(
            f"run ... --out descent.gif ({cache}): this tree / baseline = {wall[mine] / wall[theirs]:.2f} "
            f"(cpu {cpu[mine] / cpu[theirs]:.2f})"
        )


if __name__ == "__main__":
    main()
