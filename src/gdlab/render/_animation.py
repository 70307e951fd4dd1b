"""Animations of descents: frames drawn by blitting onto a background drawn once."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from gdlab._checks import InputError
from gdlab.render import _writers
from gdlab.render._overlay import draw_texts
from gdlab.render._player import html_player
from gdlab.render._scene import Scene


class Animation:
    """An animation of one or more trajectories; save it or show it in a notebook.

    Frames are drawn on demand and streamed to the encoder, so memory does not
    grow with their number.

    Attributes:
        scene: the figure and its moving artists.
        steps: the trajectory step shown in each frame.
        fps: frames per second when played.
        note: why it has fewer frames than were asked for, in a sentence (empty otherwise).
    """

    def __init__(self, scene: Scene, steps: np.ndarray, fps: float = 20.0, note: str = "") -> None:
        if not (np.isfinite(fps) and fps > 0):
            raise InputError(f"fps must be a number > 0; got {fps!r}")
        self.scene = scene
        self.steps = np.asarray(steps, dtype=int)
        self.fps = float(fps)
        self.note = note

    def __len__(self) -> int:
        return int(self.steps.size)

    def __repr__(self) -> str:
        width, height = self.size
        line = (
            f"Animation({len(self)} frames of steps {self.steps[0]}..{self.steps[-1]}, "
            f"{width}x{height} px, {self.fps:g} fps)"
        )
        return f"{line}\n  {self.note}" if self.note else line

    @property
    def figure(self):
        """The matplotlib Figure being animated."""
        return self.scene.figure

    @property
    def description(self) -> str:
        """What it shows, in words (an HTML page's title, its picture's alternative text): the
        figure's title where it has one (a fit's: ``y ~ x: gd``), else a descent."""
        from gdlab.render._words import PLAYER_WORDS

        words = PLAYER_WORDS[self.scene.lang]
        title = self.figure.get_suptitle()
        return f"{title} ({words['animation']})" if title else words["descent"]

    @property
    def size(self) -> tuple[int, int]:
        """Frame width and height in pixels."""
        width, height = self.figure.canvas.get_width_height()
        return int(width), int(height)

    def frames(self) -> Iterator[np.ndarray]:
        """Yield each frame as an (height, width, 4) uint8 RGBA array.

        Each array is a view of the canvas, valid until the next frame is drawn:
        copy it to keep it.
        """
        fig = self.scene.figure
        # Animations are drawn on figures from new_figure, which attaches an Agg canvas.
        canvas = cast(FigureCanvasAgg, fig.canvas)
        with _quiet_glyphs():
            if not self.scene.blit:
                for step in self.steps:
                    self.scene.update(int(step))
                    for artist in self.scene.moving:
                        artist.set_animated(False)
                    canvas.draw()
                    self.scene.keep_layout()
                    yield np.asarray(canvas.buffer_rgba())
                return
            canvas.draw()
            self.scene.keep_layout()
            background = canvas.copy_from_bbox(fig.bbox)
            texts = set(self.scene.texts)
            for step in self.steps:
                canvas.restore_region(background)
                for artist in self.scene.update(int(step)):
                    if artist not in texts:
                        fig.draw_artist(artist)
                frame = np.asarray(canvas.buffer_rgba())
                yield draw_texts(frame, self.scene.texts, fig.dpi) if texts else frame

    def frame(self, index: int) -> np.ndarray:
        """A copy of one frame (negative counts from the end)."""
        wanted = range(len(self))[index]
        for i, image in enumerate(self.frames()):
            if i == wanted:
                return image.copy()
        raise IndexError(index)

    def save(self, path: str | os.PathLike[str], **options: object) -> Path:
        """Write the animation to a file; the format comes from the extension.

        ``.gif``, ``.mp4``, ``.html`` (self-contained player), ``.png`` (last
        frame), ``.svg`` and ``.pdf`` (last frame as a vector picture). The file
        is written under a temporary name and renamed when complete.

        Args:
            path: where to write.
            **options: the format's own: ``fps`` (gif, mp4, html), ``loop``
                (gif: 0 repeats for ever), ``quality`` (mp4, 0-10), ``title`` (html).

        Returns:
            The path written.
        """
        return _writers.save(self, path, animated=True, **options)

    def write(self, stream: _writers.BinaryStream, format: str = "gif", **options: object) -> None:
        """Write the animation's bytes to ``stream`` (anything with a binary ``write``).

        Args:
            stream: an open binary file, ``io.BytesIO``, a response body.
            format: ``"gif"``, ``"mp4"``, ``"html"``, ``"png"``, ``"svg"`` or ``"pdf"``.
            **options: as in :meth:`save`.
        """
        _writers.write(self, stream, format, animated=True, **options)

    def to_bytes(self, format: str = "gif", **options: object) -> bytes:
        """The animation encoded in ``format``, as bytes (e.g. for a web response).

        Args:
            format: as in :meth:`write`.
            **options: as in :meth:`save`.

        Example:
            >>> import gdlab
            >>> path = gdlab.descend(lambda b: (b / 2 - 1) ** 2, -10.0, lr=0.5, steps=5)
            >>> gdlab.animate(path, size=(160, 120)).to_bytes("gif")[:6]
            b'GIF89a'
        """
        return _writers.to_bytes(self, format, animated=True, **options)

    def to_html(self, *, fps: float | None = None) -> str:
        """The self-contained HTML player (play, pause, step slider), as a string.

        Args:
            fps: frames per second when played (default: the animation's own).
        """
        return html_player(self, fps=fps)

    def _repr_html_(self) -> str:
        return self.to_html()


@contextlib.contextmanager
def _quiet_glyphs():
    """gdlab warns once about a missing Hangul font; matplotlib would warn per glyph."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        yield
