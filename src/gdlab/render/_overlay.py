"""Moving text drawn with Pillow onto rendered frames.

matplotlib lays out and rasterises a text afresh every frame, which costs more
than everything else in a frame together. The moving labels (step counter,
slope) are ordinary matplotlib ``Text`` artists, so static pictures draw them
as usual; animations read each one's string, position, size and colour, and
draw it with Pillow's FreeType renderer at the same place.
"""

from __future__ import annotations

import functools

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

    return ImageFont.truetype(path, pixels)


def _font_file(text: Text, hangul: bool) -> str:
    props = text.get_fontproperties().copy()
    if hangul and cjk_font():
        props.set_family(cjk_font())
    else:
        props.set_family("DejaVu Sans")
    return font_manager.findfont(props)


def draw_texts(frame: np.ndarray, texts: list[Text], dpi: float) -> np.ndarray:
    """Draw ``texts`` onto an (h, w, 4) RGBA frame; return the new frame."""
    from PIL import Image, ImageDraw

    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
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
        anchor = _HORIZONTAL[text.get_horizontalalignment()] + _VERTICAL[text.get_verticalalignment()]
        color = tuple(round(255 * c) for c in to_rgba(text.get_color(), text.get_alpha()))
        draw.text((float(x), height - float(y)), label, font=font, fill=color, anchor=anchor)
    return np.asarray(image)
