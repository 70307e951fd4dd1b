"""Moving text drawn with Pillow onto rendered frames.

matplotlib lays out and rasterises a text afresh every frame, which costs more
than everything else in a frame together. The moving labels (step counter,
slope) are ordinary matplotlib ``Text`` artists, so static pictures draw them
as usual; animations read each one's string, position, size and colour, and
draw it with Pillow's FreeType renderer at the same place.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from matplotlib import font_manager
from matplotlib.colors import to_rgba
from matplotlib.text import Text

from gdlab.render._fonts import HANGUL, cjk_font

_HORIZONTAL = {"left": "l", "center": "m", "right": "r"}
_VERTICAL = {"top": "t", "center": "m", "center_baseline": "m", "baseline": "s", "bottom": "d"}


@functools.cache
def _font(path: str, pixels: int):
    from PIL import ImageFont

    # The basic layout (no complex-script shaping) is enough for these labels, and faster.
    return ImageFont.truetype(path, pixels, layout_engine=ImageFont.Layout.BASIC)


def _font_file(text: Text, hangul: bool) -> str:
    props = text.get_fontproperties()
    return _find_font(props.get_style(), props.get_weight(), props.get_stretch(), hangul)


@functools.cache
def _find_font(style: Any, weight: Any, stretch: Any, hangul: bool) -> str:
    family = cjk_font() if hangul and cjk_font() else "DejaVu Sans"
    props = font_manager.FontProperties(family=family, style=style, weight=weight, stretch=stretch)
    return font_manager.findfont(props)


def draw_texts(frame: np.ndarray, texts: list[Text], dpi: float) -> np.ndarray:
    """Draw ``texts`` onto an (h, w, 4) RGBA frame, in place where it is writable; return it.

    Only the rectangle each text covers is handed to Pillow, not the whole frame.
    """
    if not frame.flags.writeable:
        frame = frame.copy()
    height = frame.shape[0]
    for text in texts:
        label = text.get_text()
        if not label or not text.get_visible():
            continue
        x, y = text.get_transform().transform(text.get_position())
        if text.axes is not None and text.get_clip_on() and not text.axes.bbox.contains(x, y):
            continue
        pixels = max(1, round(text.get_fontproperties().get_size_in_points() * dpi / 72))
        font = _font(_font_file(text, bool(HANGUL.search(label))), pixels)
        color = tuple(round(255 * c) for c in to_rgba(text.get_color(), text.get_alpha()))
        lines = label.split("\n")
        vertical = text.get_verticalalignment()
        # Pillow anchors one line at a time: a text of several lines is drawn line by line,
        # spaced as matplotlib spaces them, its first line's top (or last line's bottom) at y.
        factor = text.get_linespacing()  # a number, or "normal" (the font's own: about 1.2)
        spacing = (factor if isinstance(factor, int | float) else 1.2) * pixels
        first = {"top": 0.0, "bottom": -(len(lines) - 1)}.get(vertical, -(len(lines) - 1) / 2)
        if len(lines) > 1 and vertical not in ("top", "bottom"):
            vertical = "center"
        anchor = _HORIZONTAL[text.get_horizontalalignment()] + _VERTICAL[vertical]
        for n, line in enumerate(lines):
            at = (float(x), height - float(y) + (first + n) * spacing)
            _draw_line(frame, line, font, anchor, at, color)
    return frame


def _draw_line(frame: np.ndarray, label: str, font, anchor: str, at: tuple[float, float], color) -> None:
    """Draw one line of text at ``at`` (pixels from the top left), into its rectangle only."""
    from PIL import Image, ImageDraw

    height, width = frame.shape[:2]
    left, top, right, bottom = font.getbbox(label, anchor=anchor)
    box = (
        max(int(np.floor(at[0] + left)) - 2, 0),
        max(int(np.floor(at[1] + top)) - 2, 0),
        min(int(np.ceil(at[0] + right)) + 2, width),
        min(int(np.ceil(at[1] + bottom)) + 2, height),
    )
    if box[0] >= box[2] or box[1] >= box[3]:
        return
    patch = Image.fromarray(np.ascontiguousarray(frame[box[1] : box[3], box[0] : box[2]]))
    ImageDraw.Draw(patch).text((at[0] - box[0], at[1] - box[1]), label, font=font, fill=color, anchor=anchor)
    frame[box[1] : box[3], box[0] : box[2]] = np.asarray(patch)
