"""Writers by file extension, in a small registry; every file is written atomically.

Animations stream their frames: a GIF through Pillow with one fixed palette and
only the changed rectangle of each frame, an MP4 through the ffmpeg that
imageio-ffmpeg ships, an HTML file as a self-contained player.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gdlab._checks import InputError
from gdlab._io import atomic_path
from gdlab.render._progress import progress
from gdlab.render._scene import COLORS


@dataclass(frozen=True)
class Writer:
    """How to write one file format.

    Attributes:
        extension: the file extension, without the dot.
        description: one line for error messages and help.
        write: ``write(animation_or_figure, path, **options) -> path``.
        animated: whether it writes animations.
        static: whether it writes static figures.
        available: whether what it needs is installed.
        requires: what to install when it is not.
    """

    extension: str
    description: str
    write: Callable[..., Path]
    animated: bool
    static: bool
    available: Callable[[], bool] = lambda: True
    requires: str = ""


WRITERS: dict[str, Writer] = {}


def register(extension: str, description: str, *, animated: bool, static: bool,
             available: Callable[[], bool] = lambda: True, requires: str = ""):  # fmt: skip
    """Decorator adding a writer for ``extension`` to :data:`WRITERS`."""

    def add(write: Callable[..., Path]) -> Callable[..., Path]:
        WRITERS[extension] = Writer(extension, description, write, animated, static, available,
                                    requires)  # fmt: skip
        return write

    return add


def available_writers(*, animated: bool) -> list[str]:
    """Extensions that can be written now, for animations or for static figures."""
    return [ext for ext, w in WRITERS.items() if (w.animated if animated else w.static) and w.available()]


def writer_for(path: object, *, animated: bool) -> Writer:
    """The writer for ``path``'s extension, or a ValueError listing what there is."""
    ext = Path(str(path)).suffix.lower().lstrip(".")
    kind = "an animation" if animated else "a picture"
    choices = ", ".join(f".{e}" for e in available_writers(animated=animated))
    writer = WRITERS.get(ext)
    if not ext:
        raise InputError(f"cannot write {kind} to {path}: the name has no extension; add one of {choices}")
    if writer is None or not (writer.animated if animated else writer.static):
        raise InputError(f"cannot write {kind} to {path}: .{ext} is not supported; use {choices}")
    if not writer.available():
        raise InputError(f"writing .{ext} needs {writer.requires}; or use one of {choices}")
    return writer


def _palette_source(first_rgb: np.ndarray) -> np.ndarray:
    """The first frame plus swatches of every trajectory colour blended into white."""
    swatches = []
    for color in (*COLORS, "#000000", "#ffffff"):
        rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
        for mix in (1.0, 0.75, 0.5, 0.25):
            swatches.append(np.round(rgb * mix + 255 * (1 - mix)))
    strip = np.repeat(np.array(swatches, dtype=np.uint8)[None, :, :], 8, axis=0)
    strip = np.repeat(strip, max(1, first_rgb.shape[1] // strip.shape[1]), axis=1)
    pad = np.full((8, first_rgb.shape[1], 3), 255, np.uint8)
    pad[:, : strip.shape[1]] = strip[:, : first_rgb.shape[1]]
    return np.concatenate([first_rgb, pad])


def _fixed_palette(first_rgb: np.ndarray):
    """One palette for every frame: the 128 commonest colours exactly (white stays
    white, lines keep their colour), the rest chosen by Pillow's max-coverage."""
    from PIL import Image

    source = _palette_source(first_rgb)
    flat = source.reshape(-1, 3).astype(np.uint32)
    colors, counts = np.unique((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2],
                               return_counts=True)  # fmt: skip
    chosen = list(colors[np.argsort(counts, kind="stable")[::-1][:128]])
    if colors.size > len(chosen):
        spread = Image.fromarray(source).quantize(colors=256, method=Image.Quantize.MAXCOVERAGE)
        rgb = np.array(spread.getpalette()[: 3 * 256], dtype=np.uint32).reshape(-1, 3)
        extra = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
        chosen += [c for c in dict.fromkeys(extra.tolist()) if c not in set(chosen)]
    packed = np.array(chosen, dtype=np.uint32)
    table = np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], axis=1)
    table = _keep_exact(table.astype(np.int64), 16)[:256]
    palette = Image.new("P", (1, 1))
    palette.putpalette(table.astype(np.uint8).ravel().tolist() + [0] * (768 - table.size))
    return palette


def _pixels(rgba: np.ndarray) -> np.ndarray:
    """An (h, w, 4) uint8 frame as (h, w) uint32: one comparison per pixel."""
    return np.ascontiguousarray(rgba).view(np.uint32)[..., 0]


def _keep_exact(table: np.ndarray, top: int) -> np.ndarray:
    """Drop entries that would steal the ``top`` colours' pixels.

    Pillow maps a pixel to the entry nearest the corner of its 4x4x4 colour cell,
    so white (255, 255, 255) would become a grey at (252, 252, 252) if one is in
    the palette. Entries at least as near a top colour's corner as that colour
    itself are removed.
    """
    keep = np.ones(len(table), dtype=bool)
    for i, color in enumerate(table[:top]):
        corner = (color >> 2) << 2
        own = np.sum((color - corner) ** 2)
        rivals = np.sum((table - corner) ** 2, axis=1) <= own
        rivals[: i + 1] = False
        keep &= ~rivals
    return table[keep]


def _changed_box(current: np.ndarray, previous: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pixels that differ; one pixel when none do."""
    diff = current != previous
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    if rows.size == 0:
        return 0, 0, 1, 1
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


@register("gif", "animated GIF (Pillow, one fixed palette)", animated=True, static=False)
def write_gif(animation, path: Path, *, fps: float | None = None, loop: int = 0) -> Path:
    """Stream frames into a GIF: each frame stores only the rectangle that changed."""
    from PIL import GifImagePlugin, Image

    centiseconds = max(2, round(100 / (fps or animation.fps)))
    duration = centiseconds * 10
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        palette = previous = None
        for rgba in progress(animation.frames(), len(animation), f"writing {path.name}"):
            pixels = _pixels(rgba)
            if palette is None:
                rgb = np.ascontiguousarray(rgba[..., :3])
                palette = _fixed_palette(rgb)
                first = Image.fromarray(rgb).quantize(palette=palette, dither=Image.Dither.NONE)
                header, _ = GifImagePlugin.getheader(first, info={"loop": loop, "duration": duration})
                out.writelines(header)
                out.writelines(GifImagePlugin.getdata(first, duration=duration, disposal=1))
            else:
                left, top, right, bottom = _changed_box(pixels, previous)
                crop = Image.fromarray(np.ascontiguousarray(rgba[top:bottom, left:right, :3]))
                crop = crop.quantize(palette=palette, dither=Image.Dither.NONE)
                out.writelines(
                    GifImagePlugin.getdata(crop, offset=(left, top), duration=duration, disposal=1)
                )
            previous = pixels.copy()
        out.write(b";")
    return path


def _has_ffmpeg() -> bool:
    try:
        import imageio_ffmpeg

        return bool(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return False


@register(
    "mp4",
    "H.264 video (the ffmpeg shipped by imageio-ffmpeg)",
    animated=True,
    static=False,
    available=_has_ffmpeg,
    requires="imageio-ffmpeg (pip install imageio-ffmpeg)",
)
def write_mp4(animation, path: Path, *, fps: float | None = None, quality: float = 7) -> Path:
    """Stream frames through a pipe into ffmpeg's H.264 encoder."""
    import imageio_ffmpeg

    width, height = animation.size
    with atomic_path(path) as tmp, warnings.catch_warnings():
        # Starting ffmpeg forks; JAX warns about forks, but ffmpeg runs no Python.
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called")
        encoder = imageio_ffmpeg.write_frames(
            str(tmp), (width, height), pix_fmt_in="rgba", fps=fps or animation.fps,
            codec="libx264", quality=quality, macro_block_size=2, ffmpeg_log_level="error",
            output_params=["-movflags", "+faststart"],
        )  # fmt: skip
        encoder.send(None)
        try:
            for rgba in progress(animation.frames(), len(animation), f"writing {path.name}"):
                encoder.send(np.ascontiguousarray(rgba))
        finally:
            encoder.close()
    return path


def _png_bytes(rgb: np.ndarray, palette) -> bytes:
    from PIL import Image

    image = Image.fromarray(rgb).quantize(palette=palette, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _encoded_frames(animation) -> list[str]:
    palette, encoded = None, []
    for rgba in progress(animation.frames(), len(animation), "encoding frames"):
        rgb = np.ascontiguousarray(rgba[..., :3])
        if palette is None:
            palette = _fixed_palette(rgb)
        encoded.append(base64.b64encode(_png_bytes(rgb, palette)).decode("ascii"))
    return encoded


_PLAYER = """<div class="gdlab-player" id="{uid}"
 style="font-family:sans-serif;max-width:{width}px">
<img id="{uid}-img" alt="{alt}" style="width:100%;height:auto;display:block"
 src="data:image/png;base64,{first}">
<div style="display:flex;align-items:center;gap:6px;flex-wrap:wrap;margin-top:4px">
<button type="button" id="{uid}-first" title="first frame">|&#x25C0;&#xFE0E;</button>
<button type="button" id="{uid}-prev" title="previous frame">&#x25C0;&#xFE0E;</button>
<button type="button" id="{uid}-play" title="play / pause">&#x25B6;&#xFE0E; play</button>
<button type="button" id="{uid}-next" title="next frame">&#x25B6;&#xFE0E;</button>
<button type="button" id="{uid}-last" title="last frame">&#x25B6;&#xFE0E;|</button>
<input type="range" id="{uid}-slider" min="0" max="{last}" value="0" style="flex:1;min-width:120px"
 aria-label="frame">
<span id="{uid}-label" style="min-width:9em;font-variant-numeric:tabular-nums"></span>
<label>speed <select id="{uid}-speed"><option value="0.25">0.25x</option>
<option value="0.5">0.5x</option><option value="1" selected>1x</option>
<option value="2">2x</option><option value="4">4x</option></select></label>
<label><input type="checkbox" id="{uid}-loop" checked> loop</label>
</div>
<script>
(function() {{
  var frames = {frames};
  var steps = {steps};
  var fps = {fps};
  var id = "{uid}", i = 0, timer = null;
  function el(name) {{ return document.getElementById(id + "-" + name); }}
  function show(k) {{
    i = Math.max(0, Math.min(frames.length - 1, k));
    el("img").src = "data:image/png;base64," + frames[i];
    el("slider").value = i;
    el("label").textContent =
      "step " + steps[i] + " (frame " + (i + 1) + "/" + frames.length + ")";
  }}
  function stop() {{
    clearInterval(timer); timer = null; el("play").innerHTML = "&#x25B6;&#xFE0E; play";
  }}
  function tick() {{
    if (i + 1 < frames.length) {{ show(i + 1); }}
    else if (el("loop").checked) {{ show(0); }}
    else {{ stop(); }}
  }}
  function play() {{
    if (timer) {{ stop(); return; }}
    if (i + 1 >= frames.length) {{ show(0); }}
    timer = setInterval(tick, 1000 / (fps * parseFloat(el("speed").value)));
    el("play").innerHTML = "|| pause";
  }}
  el("play").onclick = play;
  el("first").onclick = function() {{ stop(); show(0); }};
  el("last").onclick = function() {{ stop(); show(frames.length - 1); }};
  el("prev").onclick = function() {{ stop(); show(i - 1); }};
  el("next").onclick = function() {{ stop(); show(i + 1); }};
  el("slider").oninput = function() {{ stop(); show(parseInt(this.value, 10)); }};
  el("speed").onchange = function() {{ if (timer) {{ stop(); play(); }} }};
  show(0);
}})();
</script>
</div>"""


def html_player(animation, *, fps: float | None = None) -> str:
    """The animation as one HTML fragment: every frame inline, nothing fetched."""
    frames = _encoded_frames(animation)
    return _PLAYER.format(
        uid=f"gdlab-{secrets.token_hex(4)}",
        width=animation.size[0],
        alt=f"gradient descent animation, {len(frames)} frames",
        first=frames[0],
        last=len(frames) - 1,
        frames=json.dumps(frames),
        steps=json.dumps([int(s) for s in animation.steps]),
        fps=float(fps or animation.fps),
    )


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="margin:16px">
{player}
</body></html>
"""


@register("html", "self-contained HTML player (play, pause, step slider; works offline)",
          animated=True, static=False)  # fmt: skip
def write_html(animation, path: Path, *, fps: float | None = None) -> Path:
    page = _PAGE.format(title=path.stem, player=html_player(animation, fps=fps))
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def _savefig(figure, path: Path, fmt: str) -> Path:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=fmt, dpi=figure.dpi)
    return path


def _write_still(fmt: str):
    def write(target, path: Path, **_: object) -> Path:
        if not hasattr(target, "scene"):  # a matplotlib Figure
            return _savefig(target, path, fmt)
        scene = target.scene
        scene.freeze(int(target.steps[-1]))
        try:
            return _savefig(scene.figure, path, fmt)
        finally:
            for artist in scene.moving:
                artist.set_animated(True)

    return write


register("png", "PNG picture (the last frame of an animation)", animated=True, static=True)(
    _write_still("png")
)
register("svg", "SVG vector picture", animated=True, static=True)(_write_still("svg"))
register("pdf", "PDF vector picture", animated=True, static=True)(_write_still("pdf"))
