"""Speed and memory of exporting a 100-frame 640x480 animation, against matplotlib's own path.

The picture is the lecture's: the loss curve with the moving point and its trail
(``tangent=False``), a step counter and a legend.

The baseline draws the same picture (the same scene and artists) with
matplotlib's ``FuncAnimation`` and saves it with ``PillowWriter`` (GIF) and
``FFMpegWriter`` (MP4, pointed at the ffmpeg that imageio-ffmpeg ships), the
way the lecture's animations are made. Both run in this process, alternately; medians.

Run: ``python benchmarks/bench_render.py [--repeats 3] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
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


def timed_pair(ours, theirs, repeats: int) -> tuple[float, float]:
    """Medians of ``ours`` and ``theirs``, run alternately so a busy machine slows both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, into in ((ours, times[0]), (theirs, times[1])):
            start = time.perf_counter()
            fn()
            into.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


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
        ours, theirs = timed_pair(
            lambda ext=ext: gdlab_save(out / f"gdlab.{ext}"),
            lambda ext=ext, w=writer: matplotlib_save(out / f"mpl.{ext}", w),
            args.repeats,
        )
        rows[ext] = {"gdlab_s": ours, "matplotlib_s": theirs, "speedup": theirs / ours}
    memory = {n: peak_memory(lambda n=n: gdlab_save(out / f"m{n}.gif", n)) for n in (100, 400)}
    print("100-frame 640x480 animation of the lecture's descent; medians of", args.repeats)
    print(f"{'format':8}{'gdlab':>12}{'matplotlib':>14}{'speed-up':>11}")
    for ext, row in rows.items():
        print(f"{ext:8}{row['gdlab_s']:>10.3f} s{row['matplotlib_s']:>12.3f} s{row['speedup']:>10.1f}x")
    print(
        "peak Python memory of a GIF export: "
        + ", ".join(f"{n} frames {mb:.1f} MiB" for n, mb in memory.items())
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "peak_mib": memory}, indent=1))


if __name__ == "__main__":
    main()
