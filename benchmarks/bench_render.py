"""Speed and memory of exporting a 100-frame 640x480 animation, against matplotlib's own path.

The picture is the lecture's: the loss curve with the moving point and its trail
(``tangent=False``), a step counter and a legend.

The baseline draws the same picture (the same scene and artists) with
matplotlib's ``FuncAnimation`` and saves it with ``PillowWriter`` (GIF) and
``FFMpegWriter`` (MP4, pointed at the ffmpeg that imageio-ffmpeg ships), the
way the lecture's animations are made. Both run in this process, alternately; medians.

Wall-clock time is what a user waits; CPU time (this process and ffmpeg) is also
printed, as it is steadier on a shared machine.

Run: ``python benchmarks/bench_render.py [--repeats 3] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import imageio_ffmpeg
import matplotlib as mpl
from matplotlib import animation as mpl_animation

import gdlab
from gdlab.render._frames import pick_frames
from gdlab.render._scene import Options, build_scene


def lecture_path(steps: int = 100):
    return gdlab.descend(lambda b: (b / 2 - 1) ** 2, -10.0, lr=0.01 / 6 * 60, steps=steps)


def gdlab_save(path: Path, frames: int = 100) -> None:
    gdlab.animate(lecture_path(max(frames, 100)), frames=frames, tangent=False).save(path)


def matplotlib_save(path: Path, writer) -> None:
    """The same scene, animated the standard way: a full redraw per frame."""
    trajectory = lecture_path()
    steps = pick_frames(trajectory.steps, 100)
    scene = build_scene(trajectory, Options(tangent=False), frame_steps=steps)
    for artist in scene.moving:
        artist.set_animated(False)
    movie = mpl_animation.FuncAnimation(
        scene.figure, lambda i: scene.update(int(steps[i])), frames=len(steps), blit=False
    )
    movie.save(path, writer=writer, dpi=scene.figure.dpi)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg): steadier than the clock
    on a shared machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_pair(ours, theirs, repeats: int) -> dict[str, float]:
    """Medians of wall and CPU time of ``ours`` and ``theirs``, run alternately so a busy
    machine slows both alike."""
    names = ("gdlab_s", "matplotlib_s", "gdlab_cpu_s", "matplotlib_cpu_s")
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(repeats):
        for fn, name in ((ours, "gdlab"), (theirs, "matplotlib")):
            start, cpu = time.perf_counter(), cpu_seconds()
            fn()
            times[f"{name}_s"].append(time.perf_counter() - start)
            times[f"{name}_cpu_s"].append(cpu_seconds() - cpu)
    return {name: statistics.median(values) for name, values in times.items()}


def peak_memory(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    mpl.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
    warnings.filterwarnings("ignore", message=".*os.fork.*")
    out = Path(tempfile.mkdtemp())
    gdlab_save(out / "warm.gif")  # imports, fonts and compilation are not what is measured
    rows = {}
    for ext, writer in (
        ("gif", mpl_animation.PillowWriter(fps=20)),
        ("mp4", mpl_animation.FFMpegWriter(fps=20, codec="libx264")),
    ):
        row = timed_pair(
            lambda ext=ext: gdlab_save(out / f"gdlab.{ext}"),
            lambda ext=ext, w=writer: matplotlib_save(out / f"mpl.{ext}", w),
            args.repeats,
        )
        row["speedup"] = row["matplotlib_s"] / row["gdlab_s"]
        row["cpu_speedup"] = row["matplotlib_cpu_s"] / row["gdlab_cpu_s"]
        rows[ext] = row
    memory = {n: peak_memory(lambda n=n: gdlab_save(out / f"m{n}.gif", n)) for n in (100, 400)}
    print("100-frame 640x480 animation of the lecture's descent; medians of", args.repeats)
    print(
        f"{'format':8}{'gdlab':>12}{'matplotlib':>14}{'speed-up':>11}"
        f"{'CPU: gdlab':>13}{'matplotlib':>13}{'ratio':>8}"
    )
    for ext, r in rows.items():
        print(
            f"{ext:8}{r['gdlab_s']:>10.3f} s{r['matplotlib_s']:>12.3f} s{r['speedup']:>10.1f}x"
            f"{r['gdlab_cpu_s']:>11.3f} s{r['matplotlib_cpu_s']:>11.3f} s{r['cpu_speedup']:>7.1f}x"
        )
    print(
        "peak Python memory of a GIF export: "
        + ", ".join(f"{n} frames {mb:.1f} MiB" for n, mb in memory.items())
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "peak_mib": memory}, indent=1))


if __name__ == "__main__":
    main()
