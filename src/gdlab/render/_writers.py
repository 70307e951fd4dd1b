"""Writers by format name, in a small registry; each writes bytes to a binary stream.

:func:`save` wraps a writer with an atomic rename (a temporary file beside the
target, renamed when complete); :func:`to_bytes` wraps it with a buffer in
memory, for a web response or a notebook.

Animations stream their frames: a GIF through Pillow with one fixed palette and
only the changed rectangle of each frame, an MP4 through the ffmpeg that
imageio-ffmpeg ships, an HTML file as a self-contained player.
"""

from __future__ import annotations

import inspect
import io
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from gdlab._checks import InputError
from gdlab._io import atomic_path
from gdlab._progress import progress
from gdlab.render._palette import Quantizer, changed_box, packed_pixels
from gdlab.render._player import html_player


class BinaryStream(Protocol):
    """Where a writer puts its bytes: an open binary file, ``io.BytesIO``, a response body."""

    def write(self, data: bytes, /) -> object: ...


@dataclass(frozen=True)
class Writer:
    """How to write one format.

    Attributes:
        format: the format's name, which is also its file extension.
        description: one line for error messages and help.
        media_type: the MIME type, for a web response.
        write: ``write(animation_or_figure, stream, **options)``.
        animated: whether it writes animations.
        static: whether it writes static figures.
        available: whether what it needs is installed.
        requires: what to install when it is not.
    """

    format: str
    description: str
    media_type: str
    write: Callable[..., None]
    animated: bool
    static: bool
    available: Callable[[], bool] = lambda: True
    requires: str = ""


WRITERS: dict[str, Writer] = {}


def register(
    format: str,
    description: str,
    media_type: str,
    *,
    animated: bool,
    static: bool,
    available: Callable[[], bool] = lambda: True,
    requires: str = "",
):
    """Decorator adding a writer for ``format`` to :data:`WRITERS`."""

    def add(write: Callable[..., None]) -> Callable[..., None]:
        WRITERS[format] = Writer(
            format, description, media_type, write, animated, static, available, requires
        )
        return write

    return add


def available_writers(*, animated: bool) -> list[str]:
    """Formats that can be written now, for animations or for static figures."""
    return [name for name, w in WRITERS.items() if (w.animated if animated else w.static) and w.available()]


def _check_available(writer: Writer, choices: str) -> Writer:
    if not writer.available():
        raise InputError(f"writing .{writer.format} needs {writer.requires}; or use one of {choices}")
    return writer


def writer_for(path: object, *, animated: bool) -> Writer:
    """The writer for ``path``'s extension, or an InputError listing what there is."""
    ext = Path(str(path)).suffix.lower().lstrip(".")
    kind = "an animation" if animated else "a picture"
    writer = WRITERS.get(ext)
    if writer is not None and (writer.animated if animated else writer.static) and writer.available():
        return writer  # the list of choices (which looks for ffmpeg) is for the errors alone
    choices = ", ".join(f".{e}" for e in available_writers(animated=animated))
    if not ext:
        raise InputError(f"cannot write {kind} to {path}: the name has no extension; add one of {choices}")
    if writer is None or not (writer.animated if animated else writer.static):
        raise InputError(f"cannot write {kind} to {path}: .{ext} is not supported; use {choices}")
    return _check_available(writer, choices)


def writer_named(format: str, *, animated: bool) -> Writer:
    """The writer for ``format`` (``"gif"``, ``".GIF"``), or an InputError listing what there is."""
    name = str(format).lower().lstrip(".")
    kind = "an animation" if animated else "a picture"
    writer = WRITERS.get(name)
    if writer is not None and (writer.animated if animated else writer.static) and writer.available():
        return writer
    choices = ", ".join(available_writers(animated=animated))
    if writer is None or not (writer.animated if animated else writer.static):
        raise InputError(f"cannot write {kind} as {format!r}: not a supported format; use one of {choices}")
    return _check_available(writer, choices)


def _write(writer: Writer, picture, stream: BinaryStream, options: dict[str, object]) -> None:
    """Call ``writer``; an option it does not take is the user's error, not a TypeError."""
    parameters = inspect.signature(writer.write).parameters.values()
    accepted = [p for p in parameters if p.kind is p.KEYWORD_ONLY]
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
    unknown = sorted(set(options) - {p.name for p in accepted})
    if unknown and not takes_any:
        known = ", ".join(p.name for p in accepted) or "none"
        raise InputError(f".{writer.format} takes no option {', '.join(unknown)}; its options: {known}")
    writer.write(picture, stream, **options)


def write(picture, stream: BinaryStream, format: str, *, animated: bool, **options: object) -> None:
    """Write ``picture`` (an animation or a figure) in ``format`` to ``stream``."""
    _write(writer_named(format, animated=animated), picture, stream, options)


def to_bytes(picture, format: str, *, animated: bool, **options: object) -> bytes:
    """``picture`` (an animation or a figure) encoded in ``format``."""
    buffer = io.BytesIO()
    write(picture, buffer, format, animated=animated, **options)
    return buffer.getvalue()


def save(picture, path: str | os.PathLike[str], *, animated: bool, **options: object) -> Path:
    """Write ``picture`` to ``path`` in the format its extension names, atomically.

    The bytes go to a temporary file beside ``path``, renamed over it when
    complete; on any error ``path`` is left as it was.
    """
    writer = writer_for(path, animated=animated)
    target = Path(path)
    with atomic_path(target) as tmp, open(tmp, "wb") as stream:
        _write(writer, picture, stream, options)
    return target


@register("gif", "animated GIF (Pillow, one fixed palette)", "image/gif", animated=True, static=False)
def write_gif(animation, stream: BinaryStream, *, fps: float | None = None, loop: int = 0) -> None:
    """Stream frames into a GIF: each frame stores only the rectangle that changed."""
    from PIL import GifImagePlugin

    duration = max(2, round(100 / (fps or animation.fps))) * 10  # GIF counts centiseconds
    quantizer = None
    previous: np.ndarray | None = None
    for rgba in progress(animation.frames(), len(animation), "writing GIF"):
        pixels = packed_pixels(rgba)
        if previous is None or quantizer is None:  # the first frame
            quantizer = Quantizer(np.ascontiguousarray(rgba[..., :3]))
            first = quantizer.image(rgba)
            header, _ = GifImagePlugin.getheader(first, info={"loop": loop, "duration": duration})
            stream.write(b"".join(header))
            stream.write(b"".join(GifImagePlugin.getdata(first, duration=duration, disposal=1)))
            previous = pixels.copy()
        else:
            left, top, right, bottom = changed_box(pixels, previous) or (0, 0, 1, 1)
            crop = quantizer.image(rgba[top:bottom, left:right])
            data = GifImagePlugin.getdata(crop, offset=(left, top), duration=duration, disposal=1)
            stream.write(b"".join(data))
            previous[top:bottom, left:right] = pixels[top:bottom, left:right]
    stream.write(b";")


def _has_ffmpeg() -> bool:
    try:
        import imageio_ffmpeg

        return bool(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return False


@register(
    "mp4",
    "H.264 video (the ffmpeg shipped by imageio-ffmpeg)",
    "video/mp4",
    animated=True,
    static=False,
    available=_has_ffmpeg,
    requires="imageio-ffmpeg (pip install imageio-ffmpeg)",
)
def write_mp4(animation, stream: BinaryStream, *, fps: float | None = None, quality: float = 7) -> None:
    """Stream frames through a pipe into ffmpeg's H.264 encoder.

    ffmpeg writes the index at the front of the file (``+faststart``, so a
    browser can play it while it downloads), which needs a file it can seek
    in: it encodes into a temporary file, whose bytes are then copied out.
    """
    import imageio_ffmpeg

    with tempfile.TemporaryDirectory(prefix="gdlab-") as folder, warnings.catch_warnings():
        video = Path(folder) / "video.mp4"
        # Starting ffmpeg forks; JAX warns about forks, but ffmpeg runs no Python.
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called")
        encoder = imageio_ffmpeg.write_frames(
            str(video),
            animation.size,
            pix_fmt_in="rgba",
            fps=fps or animation.fps,
            codec="libx264",
            quality=quality,
            macro_block_size=2,
            ffmpeg_log_level="error",
            # x264's veryfast preset: a third less encoding time than its default, and for
            # flat-coloured pictures no larger a file.
            output_params=["-movflags", "+faststart", "-preset", "veryfast"],
        )
        encoder.send(None)
        try:
            for rgba in progress(animation.frames(), len(animation), "writing MP4"):
                encoder.send(np.ascontiguousarray(rgba))
        finally:
            encoder.close()
        with open(video, "rb") as encoded:
            shutil.copyfileobj(encoded, stream)


_PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="margin:16px">
{player}
</body></html>
"""


@register(
    "html",
    "self-contained HTML player (play, pause, step slider; works offline)",
    "text/html; charset=utf-8",
    animated=True,
    static=False,
)
def write_html(
    animation, stream: BinaryStream, *, fps: float | None = None, title: str | None = None
) -> None:
    import html

    named = animation.description if title is None else title
    page = _PAGE.format(
        lang=animation.scene.lang, title=html.escape(named), player=html_player(animation, fps=fps)
    )
    stream.write(page.encode("utf-8"))


def _write_still(fmt: str):
    def write_still(picture, stream: BinaryStream) -> None:
        # matplotlib wants a seekable file for some formats; a response body may not be one.
        buffer = io.BytesIO()
        if not hasattr(picture, "scene"):  # a matplotlib Figure
            picture.savefig(buffer, format=fmt, dpi=picture.dpi)
        else:
            scene = picture.scene
            scene.freeze(int(picture.steps[-1]))
            try:
                scene.figure.savefig(buffer, format=fmt, dpi=scene.figure.dpi)
                scene.keep_layout()
            finally:
                scene.thaw()
        stream.write(buffer.getvalue())

    return write_still


for _fmt, _description, _media in (
    ("png", "PNG picture (the last frame of an animation)", "image/png"),
    ("svg", "SVG vector picture", "image/svg+xml"),
    ("pdf", "PDF vector picture", "application/pdf"),
):
    register(_fmt, _description, _media, animated=True, static=True)(_write_still(_fmt))
