"""One colour palette for every frame of an animation, and what changed between frames.

Building a palette per frame is what makes matplotlib's GIF writer slow; one
fixed palette chosen from the first frame is fast and keeps colours steady.
"""

from __future__ import annotations

import numpy as np

from gdlab._colours import COLORS


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


def fixed_palette(first_rgb: np.ndarray, colors: int = 256):
    """One palette (a Pillow "P" image) of at most ``colors`` entries for every frame.

    The 128 commonest colours of the first frame are kept exactly (white stays
    white, lines keep their colour); the rest are chosen by Pillow's max-coverage.
    """
    from PIL import Image

    source = _palette_source(first_rgb)
    flat = source.reshape(-1, 3).astype(np.uint32)
    packed, counts = np.unique((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2], return_counts=True)
    chosen = list(packed[np.argsort(counts, kind="stable")[::-1][:128]])
    if packed.size > len(chosen):
        spread = Image.fromarray(source).quantize(colors=256, method=Image.Quantize.MAXCOVERAGE)
        values = spread.getpalette()
        assert values is not None  # quantize always makes a "P" image, which has a palette
        rgb = np.array(values[: 3 * 256], dtype=np.uint32).reshape(-1, 3)
        extra = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
        taken = set(chosen)
        chosen += [c for c in dict.fromkeys(extra.tolist()) if c not in taken]
    table = np.array(chosen, dtype=np.uint32)
    table = np.stack([(table >> 16) & 255, (table >> 8) & 255, table & 255], axis=1)
    table = _keep_exact(table.astype(np.int64), 16)[:colors]
    palette = Image.new("P", (1, 1))
    # Exactly the table, no padding: Pillow then never maps a pixel past it.
    palette.putpalette(table.astype(np.uint8).ravel().tolist())
    return palette


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


def quantize(rgb: np.ndarray, palette):
    """An (h, w, 3) uint8 array as a Pillow "P" image in ``palette``, without dithering."""
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(rgb)).quantize(palette=palette, dither=Image.Dither.NONE)


def packed_pixels(rgba: np.ndarray) -> np.ndarray:
    """An (h, w, 4) uint8 frame as (h, w) uint32: one comparison per pixel."""
    return np.ascontiguousarray(rgba).view(np.uint32)[..., 0]


def changed_box(current: np.ndarray, previous: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the pixels that differ, or None when none do.

    Rows are compared two pixels at a time (as 64-bit words) where the width is
    even; columns only within the rows that changed.
    """
    pair = current.shape[1] % 2 == 0 and current.flags.c_contiguous and previous.flags.c_contiguous
    a, b = (current.view(np.uint64), previous.view(np.uint64)) if pair else (current, previous)
    diff = a != b
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    cols = np.flatnonzero(diff[top:bottom].any(axis=0))
    left, right = int(cols[0]), int(cols[-1]) + 1
    if pair:  # a changed word is two pixels: narrow to the one that changed
        left = 2 * left + int(np.all(current[top:bottom, 2 * left] == previous[top:bottom, 2 * left]))
        last = 2 * right - 1
        right = last + 1 - int(np.all(current[top:bottom, last] == previous[top:bottom, last]))
    return left, top, right, bottom


class Quantizer:
    """A fixed palette applied through a table of every colour seen so far.

    Pillow maps a colour to the palette the same way every time (no dithering),
    so each new colour is mapped by Pillow once and remembered: a frame then
    costs one table look-up per pixel. The table holds each colour's palette
    index plus one, 0 for "not seen yet", so the palette has at most 255 entries;
    its 16 MB of zeros come from the operating system page by page as colours
    are seen (filling it up front took 30-60 ms of a 3 s command).
    """

    SIZE = 255

    def __init__(self, first_rgb: np.ndarray) -> None:
        self.palette = fixed_palette(first_rgb, colors=self.SIZE)
        self.colors = self.palette.getpalette() or []  # read once, put on every frame
        self.table = np.zeros(1 << 24, dtype=np.uint8)

    def image(self, rgba: np.ndarray):
        """An (h, w, 4) uint8 RGBA array as a Pillow "P" image in the palette."""
        from PIL import Image

        keys = packed_pixels(rgba) & 0xFFFFFF
        found = self.table[keys]
        unseen = found == 0
        if unseen.any():
            new = np.unique(keys[unseen])
            rgb = np.ascontiguousarray(new.view(np.uint8).reshape(-1, 4)[None, :, :3])
            self.table[new] = np.asarray(quantize(rgb, self.palette)).ravel() + 1
            found = self.table[keys]
        indices = found - 1
        picture = Image.frombytes("P", (indices.shape[1], indices.shape[0]), indices.tobytes())
        picture.putpalette(self.colors)
        return picture
