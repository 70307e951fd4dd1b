"""How runs are drawn: one rule (gdlab._colours) for the pictures, the animations and the page,
and colour never the only cue: the palette stays apart for colour-blind readers."""

from __future__ import annotations

import itertools

import matplotlib as mpl
import numpy as np
import pytest

import gdlab
from gdlab._colours import COLORS, MARKERS, REGIME_COLOURS, REGIME_MARKERS, run_style, run_styles
from helpers import lecture_loss, rosenbrock

mpl.use("Agg")

# Machado, Oliveira and Fernandes (2009), "A physiologically-based model for simulation of color
# vision deficiency", severity 1.0: applied to linear RGB.
MACHADO = {
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "normal vision": np.eye(3),
}
# CIE76 colour difference: about 2.3 is just noticeable; the old palette's red and green were 7 apart
# under deuteranopia, its green and orange 5 under protanopia.
APART = 15.0


def _linear(colour: str) -> np.ndarray:
    rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    x = xyz @ np.clip(linear, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(x > 216 / 24389, np.cbrt(x), (24389 / 27 * x + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _seen(colour: str, vision: str) -> np.ndarray:
    return _lab(MACHADO[vision] @ _linear(colour))


@pytest.mark.parametrize("palette", [COLORS, tuple(REGIME_COLOURS.values())], ids=["runs", "regimes"])
@pytest.mark.parametrize("vision", list(MACHADO))
def test_the_colours_stay_apart_for_colour_blind_readers(vision, palette):
    for a, b in itertools.combinations(palette, 2):
        gap = float(np.linalg.norm(_seen(a, vision) - _seen(b, vision)))
        assert gap > APART, f"{a} and {b} are {gap:.1f} apart under {vision}"
    for colour in palette:  # and each stands out from the white page
        assert np.linalg.norm(_seen(colour, vision) - _seen("#ffffff", vision)) > 2 * APART


def test_every_run_the_page_draws_has_its_own_colour_and_dash():
    styles = run_styles(12)
    assert len({(s.colour, s.dash) for s in styles}) == 12
    for a, b in itertools.combinations(styles, 2):
        assert a.colour != b.colour or a.dash != b.dash
        if a.colour == b.colour:
            assert a.dash != b.dash  # a second cue where the colour repeats
    assert len({s.dash for s in styles[:3]}) == 3  # the lecture's three rates differ in dash too


@pytest.mark.parametrize("loss, start", [(lecture_loss, -10.0), (rosenbrock, np.array([-1.2, 1.0]))])
def test_the_pictures_draw_each_run_in_its_style(loss, start):
    """The animations (GIF, MP4) draw run i as the page does: run_style(i)'s colour and dash."""
    paths = [gdlab.descend(loss, start, lr=lr, steps=10) for lr in (1e-4, 2e-4, 3e-4)]
    movie = gdlab.animate(paths, frames=3, history=True)
    drawn = [
        line
        for ax in movie.figure.axes
        for line in ax.get_lines()
        if line.get_linestyle() not in ("None", "") and line.get_color() in COLORS
    ]
    for i in range(len(paths)):
        style = run_style(i)
        mine = [line for line in drawn if line.get_color() == style.colour]
        assert mine, f"run {i} is not drawn in {style.colour}"
        kinds = {line.get_linestyle() for line in mine}  # matplotlib calls any dash pattern "--"
        # A solid run's tangent is dashed; a dashed run has no solid line at all.
        assert ("-" not in kinds) == bool(style.dash), f"run {i}: {kinds}"


def test_the_pictures_contour_levels_are_the_library_s():
    """One rule for contour levels: render's levels() are gdlab._levels.contour_levels (the page's)."""
    from gdlab._levels import contour_levels
    from gdlab.render._levels import levels

    x = np.linspace(-1.5, 1.5, 40)
    values = (1 - x[:, None]) ** 2 + 100 * (x[None, :] - x[:, None] ** 2) ** 2
    found = contour_levels(values)
    assert found.log and np.array_equal(levels(values)[0], found.values)
    flat = contour_levels(x[:, None] ** 2 + x[None, :] ** 2 + 1)
    assert not flat.log and np.array_equal(levels(x[:, None] ** 2 + x[None, :] ** 2 + 1)[0], flat.values)


@pytest.mark.parametrize("huge", [4.01, 5.0, 100.0])
def test_a_diverging_run_does_not_set_the_pictures_window(huge):
    paths = [gdlab.descend(lecture_loss, -10.0, lr=lr, steps=60) for lr in (0.5, 2.0, huge)]
    low, high = gdlab.animate(paths, frames=2).figure.axes[0].get_xlim()
    assert -20 < low <= -10 and 2 <= high < 25, (low, high)


def test_each_regime_has_its_own_shape_in_the_sweep_picture_and_on_the_page():
    """Colour is not the only cue for a regime either: each has a marker, the same in the picture
    (matplotlib's letter) and on the page (plotly's name, from /api/methods)."""
    from matplotlib.collections import PathCollection
    from matplotlib.markers import MarkerStyle

    from gdlab.web._compute import Lab

    assert set(REGIME_MARKERS) == set(REGIME_COLOURS)
    assert len(set(REGIME_MARKERS.values())) == len(REGIME_MARKERS)
    assert Lab.methods()["regime_markers"] == REGIME_MARKERS
    # slow (lr 0.01), converged (0.5), diverged (6) for the lecture's loss from -10 in 300 steps
    result = gdlab.sweep(lecture_loss, -10.0, lrs=[0.01, 0.5, 6.0], steps=300)
    assert [r.value for r in result.regime] == ["slow", "converged", "diverged"]
    figure = gdlab.plot(result)  # gdlab.plot takes a sweep as plot_sweep does
    top = figure.axes[0]
    legend = {
        t.get_text(): h
        for t, h in zip(top.get_legend().get_texts(), top.get_legend().legend_handles, strict=True)
    }
    marks = [c for c in top.collections if isinstance(c, PathCollection) and len(c.get_offsets())]
    for i, regime in enumerate(result.regime):
        letter = MARKERS[REGIME_MARKERS[regime.value]]
        assert legend[regime.value].get_marker() == letter
        (mark,) = [c for c in marks if np.allclose(c.get_offsets()[:, 0], [result.lrs[i]])]
        expected = MarkerStyle(letter).get_path().transformed(MarkerStyle(letter).get_transform())
        assert np.allclose(mark.get_paths()[0].vertices, expected.vertices)
        assert mpl.colors.to_hex(mark.get_edgecolor()[0]) == REGIME_COLOURS[regime.value].lower()


def test_a_final_loss_of_exactly_zero_is_drawn_on_the_floor_and_said():
    # From b = 0 at lr 2 the lecture's loss lands on its minimum b = 2 exactly: loss 0
    result = gdlab.sweep(lecture_loss, 0.0, lrs=[0.5, 2.0], steps=50)
    assert result.final_loss[1] == 0 and result.final_loss[0] > 0
    top = gdlab.plot_sweep(result).axes[0]
    line = next(line for line in top.get_lines() if line.get_label() == "final loss")
    floor = line.get_ydata()[1]
    assert 0 < floor < result.final_loss[0] and np.isfinite(floor)
    assert top.get_ylim()[0] < floor
    assert "0 exactly (on the floor)" in [t.get_text() for t in top.get_legend().get_texts()]


def test_a_region_where_the_loss_explodes_does_not_set_the_colours():
    """BoxBOD's sum of squares over a window that takes in b2 < 0, where exp(-b2*x) explodes (1e26
    beside a minimum of 1168): the levels reach at most three decades above the grid's median, so
    the valley the paths cross (1e3 to 2e5) has colours of its own; the exploding region is drawn
    in the top colour. (With levels set by the largest value, the valley was below the floor: one
    colour.)"""
    from gdlab._levels import ABOVE, contour_levels

    x = np.array([1.0, 2.0, 3.0, 5.0, 7.0, 10.0])
    y = np.array([109.0, 149.0, 149.0, 191.0, 213.0, 224.0])
    b1, b2 = np.meshgrid(np.linspace(-30, 320, 120), np.linspace(-2.5, 7.5, 120), indexing="ij")
    with np.errstate(over="ignore"):
        values = ((y - b1[..., None] * (1 - np.exp(-b2[..., None] * x))) ** 2).sum(axis=-1)
    assert values.max() > 1e25 and 1100 < values.min() < 1200
    found = contour_levels(values)
    assert found.log and found.values[-1] <= np.median(values) * 10**ABOVE
    valley = values[values < 2e5]
    bands = np.unique(np.searchsorted(found.values, valley))
    assert len(bands) >= 8, found.values  # the valley in at least 8 colours, not 1
    assert found.values[0] == values.min()  # the minimum is the floor: nothing below it is cut


def test_every_table_of_the_pictures_words_has_every_language_and_every_word():
    """The pictures speak the languages of gdlab._checks.LANGUAGES (which --lang is checked
    against): each table of gdlab.render._words has each of them, with the same words."""
    from gdlab._checks import LANGUAGES
    from gdlab.render._words import FIT_WORDS, SWEEP_WORDS, WORDS

    for table in (WORDS, FIT_WORDS, SWEEP_WORDS):
        assert tuple(table) == LANGUAGES
        assert all(set(table[lang]) == set(table["en"]) for lang in LANGUAGES)
