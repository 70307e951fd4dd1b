"""Pictures and animations: frames, pixels, files, errors."""

import base64
import io
import itertools
import json
import re
import shutil
import subprocess
import sys
import tracemalloc
import warnings

import imageio_ffmpeg
import jax.numpy as jnp
import matplotlib as mpl
import matplotlib.colors as mcolors
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import gdlab
from gdlab._checks import InputError
from gdlab.render import WRITERS, _fonts, figure_bytes, write_figure
from gdlab.render._frames import pick_frames
from gdlab.render._palette import COLORS, fixed_palette, quantize
from helpers import lecture_loss, rosenbrock

RED = np.array(
    [int(COLORS[0][i : i + 2], 16) for i in (1, 3, 5)]
)  # the first run's colour: the moving point's face


@pytest.fixture(scope="module")
def path():
    return gdlab.descend(lecture_loss, -10.0, lr=0.1, steps=40)


@pytest.fixture(scope="module")
def movie(path):
    return gdlab.animate(path, frames=21)


def marker_pixel(movie, step, trajectory):
    """Where the moving point of ``trajectory`` at ``step`` is drawn: (row, column)."""
    movie.figure.canvas.draw()  # the layout settles the axes' place on the first draw
    ax = movie.figure.axes[0]
    k = min(step, trajectory.steps)
    x, y = ax.transData.transform((float(trajectory.params[k]), float(trajectory.loss[k])))
    return round(float(movie.size[1] - y)), round(float(x))


def colour_near(frame, row, col, colour, radius=2, tol=40):
    patch = frame[row - radius : row + radius + 1, col - radius : col + radius + 1, :3].astype(int)
    return bool(np.any(np.all(np.abs(patch - colour) <= tol, axis=-1)))


def test_frames_counts_sizes_and_steps(movie, path):
    assert len(movie) == 21 and movie.size == (640, 480)
    assert movie.steps[0] == 0 and movie.steps[-1] == path.steps
    shapes = {frame.shape for frame in movie.frames()}
    assert shapes == {(480, 640, 4)}


def test_marker_sits_at_its_data_coordinates(movie, path):
    frames = [frame.copy() for frame in movie.frames()]
    for index in (0, 7, 20):
        row, col = marker_pixel(movie, int(movie.steps[index]), path)
        assert colour_near(frames[index], row, col, RED), f"frame {index}"
    # ... and not where another frame's marker is
    row, col = marker_pixel(movie, int(movie.steps[20]), path)
    assert not colour_near(frames[0], row, col, RED, radius=1, tol=20)


def test_background_outside_the_axes_never_changes(movie):
    frames = [frame.copy() for frame in movie.frames()]
    ax = movie.figure.axes[0]
    x0, y0, x1, y1 = ax.bbox.extents
    height = movie.size[1]
    outside = np.ones(frames[0].shape[:2], dtype=bool)
    outside[int(height - y1) : int(height - y0) + 1, int(x0) : int(x1) + 1] = False
    for frame in frames[1:]:
        assert np.array_equal(frame[outside], frames[0][outside])
    assert not np.array_equal(frames[0], frames[-1])  # the inside does move


def test_gif_decodes_to_every_frame_with_white_background(movie, path, tmp_path):
    target = movie.save(tmp_path / "descent.gif")
    with Image.open(target) as gif:
        assert gif.n_frames == len(movie) and gif.size == movie.size
        decoded = []
        for i in range(gif.n_frames):
            gif.seek(i)
            decoded.append(np.asarray(gif.convert("RGB")))
            assert gif.info["duration"] == 50
    assert tuple(decoded[0][3, 3]) == (255, 255, 255)
    for index in (0, 10, 20):
        row, col = marker_pixel(movie, int(movie.steps[index]), path)
        assert colour_near(decoded[index], row, col, RED)
    raw = movie.frame(-1)[..., :3].astype(int)
    assert np.abs(decoded[-1].astype(int) - raw).mean() < 1.0  # quantisation only


def test_mp4_decodes_to_every_frame(movie, tmp_path):
    target = movie.save(tmp_path / "descent.mp4")
    # Decode every frame with ffmpeg itself and read its count and size from its report.
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    done = subprocess.run(
        [ffmpeg, "-hide_banner", "-i", str(target), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(re.findall(r"frame=\s*(\d+)", done.stderr)[-1]) == len(movie)
    assert "640x480" in done.stderr and "h264" in done.stderr


def player_frames(page):
    """Every frame the HTML player shows: its first frame with each change painted over it."""
    first = re.search(r'src="data:image/png;base64,([^"]+)"', page)  # the img, before the script
    frame = np.asarray(Image.open(io.BytesIO(base64.b64decode(first.group(1)))).convert("RGB"))
    frames = [frame]
    for change in json.loads(re.search(r"var changes = (\[.*?\]);\n", page).group(1)):
        frame = frame.copy()
        if change:
            left, top, png = change
            patch = np.asarray(Image.open(io.BytesIO(base64.b64decode(png))).convert("RGBA"))
            height, width = patch.shape[:2]
            region = frame[top : top + height, left : left + width]
            region[patch[..., 3] > 0] = patch[..., :3][patch[..., 3] > 0]
        frames.append(frame)
    return frames


def quantized_frames(movie):
    """The frames in the one palette the player uses."""
    frames = [frame[..., :3].copy() for frame in movie.frames()]
    palette = fixed_palette(frames[0], colors=255)
    return [np.asarray(quantize(frame, palette).convert("RGB")) for frame in frames]


def test_html_player_rebuilds_every_frame_exactly_and_fetches_nothing(movie, tmp_path):
    page = movie.save(tmp_path / "descent.html").read_text(encoding="utf-8")
    shown = player_frames(page)
    assert len(shown) == len(movie)
    assert all(np.array_equal(a, b) for a, b in zip(shown, quantized_frames(movie), strict=True))
    raw = movie.frame(-1)[..., :3].astype(int)
    assert np.abs(shown[-1].astype(int) - raw).mean() < 1.0  # quantisation only
    assert page.count("iVBOR") == len(movie)  # base64 of the PNG signature: each frame once
    assert not re.search(r"https?://|src=\"//|<link|<script src|@import|url\(", page)
    for control in ("-play", "-slider", "-prev", "-next", "-speed", "-loop", "-canvas"):
        assert control in page
    assert movie._repr_html_().count("iVBOR") == len(movie)


# Runs a player's script against a stand-in page that records what is painted on its canvas:
# "first" (the first frame) or [change, left, top]; a copy of a saved canvas copies its record.
PLAYER_HARNESS = r"""
const fs = require("fs"), vm = require("vm");
const script = fs.readFileSync(process.argv[2], "utf8");
const actions = JSON.parse(process.argv[3]);
let made = 0;
class Canvas {
  constructor() { this.width = 0; this.height = 0; this.ops = []; this.style = {}; this.calls = 0; }
  getContext() {
    const self = this;
    return { drawImage(source, x, y) {
      self.calls += 1;
      if (source instanceof Canvas || source.whole) {
        if (x || y) { throw new Error("a whole picture drawn at an offset"); }
        self.ops = source instanceof Canvas ? source.ops.slice() : ["first"];
      } else if (!source.loaded) { throw new Error("a picture drawn before it loaded"); }
      else { self.ops.push([source.id, x, y]); }
    } };
  }
}
class Picture {
  constructor() { this.id = made++; this.loaded = false; }
  set src(value) { setTimeout(() => { this.loaded = true; this.onload(); }, 1); }
}
const elements = {};
function element(name) {
  if (!(name in elements)) {
    elements[name] = name.endsWith("-canvas") ? new Canvas()
      : name.endsWith("-img") ? { whole: true, complete: false, naturalWidth: 0, style: {} }
      : { style: {}, value: "0", textContent: "", innerHTML: "", checked: true };
  }
  return elements[name];
}
const page = { getElementById: element, createElement: () => new Canvas() };
const context = { document: page, Image: Picture, setInterval, clearInterval, parseInt, parseFloat, Math };
vm.createContext(context);
vm.runInContext(script, context);
const find = (suffix) => element(Object.keys(elements).find((k) => k.endsWith(suffix)));
const out = { before: find("-label").textContent, shown: [] };
setTimeout(() => { find("-img").complete = true; find("-img").onload(); }, 1);
setTimeout(() => {
  for (const [control, value] of actions) {
    const target = find("-" + control);
    const calls = find("-canvas").calls;
    if (control === "slider") { target.value = String(value); target.oninput.call(target); }
    else { target.onclick(); }
    out.shown.push({ label: find("-label").textContent, ops: find("-canvas").ops.slice(),
                     calls: find("-canvas").calls - calls,
                     canvas: find("-canvas").style.display, img: find("-img").style.display });
  }
  console.log(JSON.stringify(out));
}, 50);
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to run the player's script")
def test_html_player_script_paints_the_frame_it_names(tmp_path):
    run = gdlab.descend(lecture_loss, -10.0, lr=0.02, steps=200)
    movie = gdlab.animate(run, frames=80, size=(320, 240))  # over three saved canvases
    page = movie.to_html()
    (tmp_path / "player.js").write_text(re.search(r"<script>(.*)</script>", page, re.S).group(1))
    (tmp_path / "harness.js").write_text(PLAYER_HARNESS)
    actions = [
        ["slider", 5],
        ["next", None],
        ["slider", 79],
        ["slider", 3],
        ["last", None],
        ["slider", 60],
        ["slider", 51],
        ["prev", None],
        ["first", None],
        ["slider", 30],
    ]
    done = subprocess.run(
        ["node", str(tmp_path / "harness.js"), str(tmp_path / "player.js"), json.dumps(actions)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["before"] == "step 0 (frame 1/80)"
    changes = json.loads(re.search(r"var changes = (\[.*?\]);\n", page).group(1))
    patches = [
        np.asarray(Image.open(io.BytesIO(base64.b64decode(c[2]))).convert("RGBA")) for c in changes if c
    ]
    expected = player_frames(page)
    first = expected[0]
    wanted = [5, 6, 79, 3, 79, 60, 51, 50, 0, 30]
    for shown, index in zip(result["shown"], wanted, strict=True):
        assert shown["label"] == f"step {movie.steps[index]} (frame {index + 1}/80)"
        assert shown["canvas"] == "block" and shown["img"] == "none"
        assert shown["ops"][0] == "first"
        canvas = first.copy()
        for picture, left, top in shown["ops"][1:]:
            patch = patches[picture]
            region = canvas[top : top + patch.shape[0], left : left + patch.shape[1]]
            region[patch[..., 3] > 0] = patch[..., :3][patch[..., 3] > 0]
        assert np.array_equal(canvas, expected[index]), index
    # a jump back from 79 to 60 paints the canvas saved at 50 and ten changes, not sixty
    assert result["shown"][5]["calls"] <= 1 + 10


def test_static_formats(movie, path, tmp_path):
    png = movie.save(tmp_path / "last.png")
    with Image.open(png) as image:
        assert image.size == movie.size
    assert (tmp_path / "x.svg").exists() is False
    svg = movie.save(tmp_path / "x.svg").read_text()
    assert "<svg" in svg[:500]
    assert movie.save(tmp_path / "x.pdf").read_bytes().startswith(b"%PDF")
    figure = gdlab.plot(path, tangent=True, history=True)
    assert isinstance(figure, Figure) and len(figure.axes) == 2
    assert gdlab.save_figure(figure, tmp_path / "plot.svg").read_text().count("<svg") == 1
    # the animation still plays after a still was taken
    assert all(artist.get_animated() for artist in movie.scene.moving)


class WriteOnly:
    """A stream with nothing but ``write``, like a web response body."""

    def __init__(self):
        self.parts = []

    def write(self, data):
        self.parts.append(bytes(data))
        return len(data)


@pytest.fixture
def reproducible(monkeypatch):
    """SVG and PDF without the time of writing or random ids in them."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    with mpl.rc_context({"svg.hashsalt": "gdlab"}):
        yield


def without_ids(data, fmt):
    return re.sub(rb"gdlab-[0-9a-f]{8}", b"gdlab-id", data) if fmt == "html" else data


@pytest.mark.parametrize("fmt", ["gif", "mp4", "html", "png", "svg", "pdf"])
def test_bytes_and_streams_equal_the_saved_file(movie, tmp_path, reproducible, fmt):
    saved = movie.save(tmp_path / f"descent.{fmt}").read_bytes()
    stream = WriteOnly()
    movie.write(stream, fmt)
    for data in (movie.to_bytes(fmt), b"".join(stream.parts), movie.to_bytes(f".{fmt.upper()}")):
        assert without_ids(data, fmt) == without_ids(saved, fmt)
    assert WRITERS[fmt].media_type.split("/")[0] in ("image", "video", "text", "application")


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_figure_bytes_and_streams_equal_the_saved_file(path, tmp_path, reproducible, fmt):
    figure = gdlab.plot(path, history=True)
    figure.canvas.draw()  # constrained layout moves a pixel on each of the first draws: keep one
    figure.set_layout_engine("none")
    saved = gdlab.save_figure(figure, tmp_path / f"plot.{fmt}").read_bytes()
    stream = WriteOnly()
    write_figure(figure, stream, fmt)
    assert figure_bytes(figure, fmt) == b"".join(stream.parts) == saved


def test_bad_formats_and_options_are_input_errors(movie, path):
    with pytest.raises(InputError, match=r"as 'jpg': not a supported format; use one of gif, mp4, html"):
        movie.to_bytes("jpg")
    with pytest.raises(InputError, match=r"as 'gif': not a supported format; use one of png, svg, pdf"):
        figure_bytes(gdlab.plot(path), "gif")
    with pytest.raises(InputError, match=r"\.gif takes no option quality; its options: fps, loop"):
        movie.to_bytes("gif", quality=5)
    with pytest.raises(InputError, match=r"\.png takes no option fps; its options: none"):
        movie.to_bytes("png", fps=3)


def test_a_still_keeps_the_animation_and_its_step_counter(path):
    fresh = gdlab.animate(path, frames=21).frame(5)
    movie = gdlab.animate(path, frames=21)
    movie.to_bytes("png")
    assert np.array_equal(movie.frame(5), fresh)
    assert all(artist.get_animated() for artist in movie.scene.moving)


def test_plot_into_given_axes(path):
    figure = Figure()
    ax = figure.add_subplot()
    assert gdlab.plot(path, ax=ax) is figure
    assert ax.get_xlabel() == "b" and len(ax.lines) >= 3  # curve, trail with its dots, point
    with pytest.raises(ValueError, match="single-panel"):
        gdlab.plot([path, path], ax=ax, layout="panels")


def test_bad_extensions_and_paths(movie, path, tmp_path):
    with pytest.raises(ValueError, match=r"\.jpg is not supported; use \.gif, \.mp4, \.html, \.png"):
        movie.save(tmp_path / "x.jpg")
    with pytest.raises(ValueError, match=r"has no extension; add one of \.gif"):
        movie.save(tmp_path / "x")
    with pytest.raises(ValueError, match=r"\.gif is not supported; use \.png, \.svg, \.pdf"):
        gdlab.save_figure(gdlab.plot(path), tmp_path / "still.gif")
    with pytest.raises(ValueError, match="does not exist"):
        movie.save(tmp_path / "no" / "such" / "x.gif")
    with pytest.raises(ValueError, match="is a folder"):
        (tmp_path / "dir.gif").mkdir()
        movie.save(tmp_path / "dir.gif")


@pytest.mark.parametrize("extension", ["gif", "mp4", "html"])
def test_interrupted_save_leaves_nothing_behind(movie, tmp_path, monkeypatch, extension):
    target = tmp_path / f"keep.{extension}"
    target.write_bytes(b"old")
    real_frames = type(movie).frames

    def interrupted(self):
        for i, frame in enumerate(real_frames(self)):
            if i == 3:
                raise KeyboardInterrupt
            yield frame

    monkeypatch.setattr(type(movie), "frames", interrupted)
    with pytest.raises(KeyboardInterrupt):
        movie.save(target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_several_rates_overlay_and_panels():
    paths = [gdlab.descend(lecture_loss, -10.0, lr=lr, steps=30) for lr in (0.5, 2.0, 4.0, 5.0)]
    overlay = gdlab.animate(paths, frames=31)
    assert len(overlay.figure.axes) == 1 and len(overlay) == 31
    legend = [t.get_text() for t in overlay.figure.axes[0].get_legend().get_texts()]
    assert legend[0] == "gd, lr=0.5" and legend[3] == "gd, lr=5 (diverged at step 29)"
    frame = overlay.frame(1)  # after one step: -7, 2, 14 and 20, all apart
    for i, t in enumerate(paths[:3]):  # lr=5 diverges: it leaves the window, which it does not set
        row, col = marker_pixel(overlay, 1, t)
        colour = np.array(mcolors.to_rgb(COLORS[i])) * 255
        assert colour_near(frame, row, col, colour), t.label
    panels = gdlab.animate(paths, layout="panels", history=True, frames=5)
    assert len(panels.figure.axes) == 8 and panels.size == (1680, 720)


def test_two_parameters_contour_levels_and_surface():
    start = np.array([-1.2, 1.0])
    runs = [gdlab.descend(rosenbrock, start, lr=1e-3, steps=300)]
    movie = gdlab.animate(runs, frames=10, xlim=(-2, 2), ylim=(-1, 3))
    contour = movie.figure.axes[0].collections[0]
    assert isinstance(contour.norm, mcolors.LogNorm)  # Rosenbrock spans orders of magnitude
    assert len(list(movie.frames())) == 10
    bowl = gdlab.descend(lambda p: p[0] ** 2 + p[1] ** 2 + 1, start, lr=0.1, steps=20)
    assert not isinstance(gdlab.plot(bowl).axes[0].collections[0].norm, mcolors.LogNorm)
    surface = gdlab.animate(runs, view="surface", frames=4)
    assert surface.figure.axes[0].name == "3d" and len(list(surface.frames())) == 4


def test_many_parameters_show_the_loss_history():
    run = gdlab.descend(lambda w: jnp.sum((w - jnp.arange(5.0)) ** 2), np.zeros(5), lr=0.1, steps=50)
    figure = gdlab.plot(run)
    assert figure.axes[0].get_yscale() == "log" and figure.axes[0].get_xlabel() == "iteration"


def test_trajectories_of_different_lengths_each_stop_at_their_end():
    short = gdlab.descend(lecture_loss, -10.0, lr=1.0, steps=100, tol=1e-6)
    long = gdlab.descend(lecture_loss, -10.0, lr=0.05, steps=100)
    movie = gdlab.animate([short, long], frames=101)
    assert short.steps < 100 and movie.steps[-1] == 100
    row, col = marker_pixel(movie, 100, short)
    assert colour_near(movie.frame(-1), row, col, RED)


def test_long_runs_get_log_spaced_frames():
    run = gdlab.descend(lecture_loss, -10.0, lr=0.01 / 6, steps=10000)
    movie = gdlab.animate(run, frames=100, spacing="log")
    assert len(movie) == 100 and movie.steps[:5].tolist() == [0, 1, 2, 3, 4]
    assert movie.steps[-1] == 10000


def test_pick_frames_rules():
    assert pick_frames(5).tolist() == [0, 1, 2, 3, 4, 5]
    assert pick_frames(1000, 3).tolist() == [0, 500, 1000]
    assert pick_frames(1000, [0, 10, 10, 999]).tolist() == [0, 10, 999]
    log = pick_frames(10000, 50, "log")
    assert len(log) == 50 and np.all(np.diff(log) > 0)
    with pytest.raises(ValueError, match="between 0 and 10"):
        pick_frames(10, [0, 11])
    with pytest.raises(ValueError, match="spacing"):
        pick_frames(10, 5, "cubic")
    with pytest.raises(ValueError, match="at least 1"):
        pick_frames(10, 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"layout": "grid"}, "layout must be one of"),
        ({"view": "wire"}, "view must be one of"),
        ({"lang": "fr"}, "lang must be one of"),
        ({"xlim": (3, 1)}, "xlim must be"),
        ({"size": (10, 10)}, "size must be"),
        ({"size": (9000, 9000)}, r"is 81,000,000 pixels, more than a picture may have"),
        ({"fps": 0}, "fps must be"),
    ],
)
def test_bad_options(path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gdlab.animate(path, **kwargs)


def test_not_a_trajectory_is_a_clear_error():
    with pytest.raises(ValueError, match="Trajectory"):
        gdlab.plot([1, 2, 3])


@pytest.mark.skipif(_fonts.cjk_font() is None, reason="no Hangul font (apt-get install fonts-nanum)")
def test_korean_labels_render_with_a_hangul_font(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns per missing glyph
        movie = gdlab.animate(path, frames=3, lang="ko", title="경사하강법")
        figure = gdlab.plot(path, lang="ko", title="학습률")
        figure.canvas.draw()
        list(movie.frames())
    assert figure.axes[0].get_ylabel() == "손실"


def test_missing_hangul_font_warns_once(path, monkeypatch):
    monkeypatch.setattr(_fonts, "cjk_font", lambda: None)
    monkeypatch.setattr(_fonts, "_warned", False)
    with pytest.warns(_fonts.MissingFontWarning, match="fonts-nanum") as record:
        gdlab.plot(path, title="경사하강법").canvas.draw()
        gdlab.plot(path, title="학습률").canvas.draw()
    assert len([w for w in record if w.category is _fonts.MissingFontWarning]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gdlab.plot(path, title="no Korean here").canvas.draw()


def test_peak_memory_does_not_grow_with_frames(tmp_path):
    run = gdlab.descend(lecture_loss, -10.0, lr=0.01, steps=400)

    def peak(frames):
        movie = gdlab.animate(run, frames=frames)
        tracemalloc.start()
        movie.save(tmp_path / f"m{frames}.gif")
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size

    assert peak(400) < 1.5 * peak(50)


def test_progress_is_silent_off_a_terminal(movie, tmp_path, capsys, monkeypatch):
    from gdlab import _progress

    monkeypatch.setattr(_progress, "DELAY", 0.0)
    movie.save(tmp_path / "quiet.gif")
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_plot_grid_one_and_two_axes():
    one = gdlab.grid_search(lecture_loss, np.linspace(-10, 10, 100))
    figure = gdlab.plot_grid(one)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["grid points", "best b = 1.91919 (index 59)"]
    assert figure.axes[0].get_title() == "grid search: 100 evaluations"
    two = gdlab.grid_search(
        lambda p: (p[0] - 1) ** 2 + (p[1] + 1) ** 2, (np.linspace(-3, 3, 7), np.linspace(-3, 3, 7))
    )
    assert "best (1, -1)" in gdlab.plot_grid(two).axes[0].get_legend().get_texts()[0].get_text()
    with pytest.raises(ValueError, match="grid_search"):
        gdlab.plot_grid(np.zeros(3))


def test_labels_name_the_legend_and_must_match(path):
    figure = gdlab.plot([path, path], labels=["first", "second"])
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == ["first", "second"]
    with pytest.raises(ValueError, match=r"labels gives 1 name\(s\) for 2 trajectories"):
        gdlab.plot([path, path], labels=["only one"])


def test_a_missing_writer_says_what_to_install(movie, tmp_path, monkeypatch):
    import dataclasses

    from gdlab.render import _writers

    broken = dataclasses.replace(_writers.WRITERS["mp4"], available=lambda: False)
    monkeypatch.setitem(_writers.WRITERS, "mp4", broken)
    with pytest.raises(ValueError, match=r"\.mp4 needs imageio-ffmpeg.*use one of \.gif, \.html"):
        movie.save(tmp_path / "x.mp4")


def test_a_point_off_the_chart_is_pinned_to_the_edge_and_named():
    runs = [gdlab.descend(lecture_loss, -10.0, lr=lr, steps=30) for lr in (0.5, 5.0)]
    movie = gdlab.animate(runs, frames=31)
    movie.scene.update(20)  # the lr=5 run is far away by step 20
    notes = [t.get_text() for t in movie.scene.texts if t.get_visible()]
    assert any(n.startswith("off the chart:\nb=") and "loss=" in n for n in notes)
    point = [a for a in movie.scene.moving if getattr(a, "get_marker", lambda: "")() == "^"]
    assert len(point) == 1
    movie.figure.canvas.draw()
    ax = movie.figure.axes[0]
    x, y = point[0].get_data()
    low, high = ax.get_ylim()
    assert ax.get_xlim()[0] <= x[0] <= ax.get_xlim()[1] and high - 0.05 * (high - low) <= y[0] < high
    # the whole triangle is inside the axes, not clipped in the corner
    px, py = ax.transData.transform((x[0], y[0]))
    radius = point[0].get_markersize() / 72 * movie.figure.dpi / 2
    frame = ax.get_window_extent()
    assert frame.x0 + radius <= px <= frame.x1 - radius and frame.y0 + radius <= py <= frame.y1 - radius


def test_runs_of_different_losses_cannot_share_one_curve():
    a = gdlab.descend(lecture_loss, -10.0, lr=0.5, steps=5)
    b = gdlab.descend(lambda x: x**2, -10.0, lr=0.1, steps=5)
    with pytest.raises(ValueError, match=r"different loss from the one drawn.*layout='panels'"):
        gdlab.plot([a, b])
    figure = gdlab.plot([a, b], layout="panels")  # each panel draws its own loss
    assert len(figure.axes) == 2
    same = gdlab.descend(lambda b: (b / 2 - 1) ** 2, -10.0, lr=0.2, steps=5)  # an equal lambda
    assert len(gdlab.plot([a, same]).axes) == 1


def test_panels_share_one_colour_bar_and_static_plots_have_no_counter():
    start = np.array([-1.2, 1.0])
    runs = [gdlab.descend(rosenbrock, start, lr=lr, steps=50) for lr in (1e-3, 2e-3)]
    figure = gdlab.plot(runs, layout="panels")
    assert len(figure.axes) == 3  # two panels and one colour bar
    texts = [t.get_text() for ax in figure.axes for t in ax.texts if t.get_visible()]
    assert not any(t.startswith("step") for t in texts)


def test_plot_sweep_bands_bound_and_steps():
    result = gdlab.sweep(lecture_loss, -10.0, lrs=gdlab.rates(1e-2, 10, 25), steps=500, tol=1e-8)
    figure = gdlab.plot_sweep(result)
    top, _ = figure.axes
    assert top.get_xscale() == "log" and top.get_yscale() == "log"
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    occurred = [r.value for r in gdlab.Regime if r in set(result.regime)]  # only those are listed
    assert labels[: len(occurred)] == occurred and "stalled" not in labels
    assert occurred == ["converged", "slow", "diverged"]
    assert "2/L = 4" in labels and "2/(mu+L) = 2" in labels
    assert len(top.patches) == 25  # one colour band per rate
    x = [line.get_xdata()[0] for line in top.lines if line.get_linestyle() == "--" and len(line.get_xdata())]
    assert x == [4.0]
    with pytest.raises(ValueError, match=r"gdlab\.sweep"):
        gdlab.plot_sweep([1, 2])


def drawn(figure):
    """Lay out and draw ``figure``; its renderer, for window extents."""
    figure.canvas.draw()
    return figure.canvas.get_renderer()


def overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def cafe_sgd():
    cafe = gdlab.datasets.cafe()
    data = {"x": cafe.x, "y": cafe.y}
    mse = lambda b, d: jnp.mean((d["y"] - b[0] - b[1] * d["x"]) ** 2)
    start = np.array([9.0, 2.0])
    paths = [
        gdlab.sgd(mse, start, data, lr=1e-3, batch_size=2, epochs=40, seed=0),
        gdlab.sgd(mse, start, data, lr=1e-3, epochs=200),
    ]
    return paths, gdlab.ols(cafe.X, cafe.y).ravel()


def test_colour_bar_word_and_history_label_do_not_read_loss_loss():
    run = gdlab.descend(rosenbrock, np.array([-1.2, 1.0]), lr=1e-3, steps=100)
    figure = gdlab.plot(run, history=True)
    renderer = drawn(figure)
    main, history, bar = figure.axes[0], figure.axes[1], figure.axes[2]
    assert history.get_ylabel() == "loss" and main.name == "rectilinear"
    word = bar.title if bar.title.get_text() else bar.yaxis.label
    assert word.get_text() == "loss"
    a, b = word.get_window_extent(renderer), history.yaxis.label.get_window_extent(renderer)
    assert not overlap(a, b)
    # not side by side on one line either (the two words would read "loss loss")
    assert a.y1 < b.y0 or b.y1 < a.y0


def test_a_short_path_is_framed_with_the_minimum_it_heads_for():
    run = gdlab.descend(lecture_loss, -10.0, lr=0.01 / 6, steps=100)  # -10 to -9.04; minimum at 2
    ax = gdlab.animate(run).figure.axes[0]
    low, high = ax.get_xlim()
    assert low <= -10 and high > 2 + 1  # the minimum, and some of the curve past it
    assert high - low < 40  # still about the path, not the whole line
    far = gdlab.descend(lambda b: (b / 2 - 1000) ** 2, 0.0, lr=1e-5, steps=100)  # moves 1; minimum 2000
    low, high = gdlab.plot(far).axes[0].get_xlim()
    assert high < 10  # a minimum 2,000 path-lengths away is not framed
    ax = gdlab.plot(run, minimum=5.0).axes[0]  # a minimum passed in
    assert ax.get_xlim()[1] > 5


def test_the_minimum_is_not_at_the_edge_and_the_slope_label_stays_inside():
    run = gdlab.descend(lecture_loss, -10.0, lr=0.5, steps=60)  # ends on the minimum
    figure = gdlab.plot(run, tangent=True)
    renderer = drawn(figure)
    ax = figure.axes[0]
    low, high = ax.get_xlim()
    assert 0.2 < (2 - low) / (high - low) < 0.8
    notes = [t for t in ax.texts if t.get_text().startswith("slope")]
    assert len(notes) == 1
    box, frame = notes[0].get_window_extent(renderer), ax.get_window_extent(renderer)
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1


def test_two_parameter_pictures_frame_and_mark_the_optimum():
    paths, optimum = cafe_sgd()
    movie = gdlab.animate(paths, frames=5)
    ax = movie.figure.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < optimum[0] < x1 and y0 < optimum[1] < y1
    stars = [line for line in ax.lines if line.get_marker() == "*"]
    assert len(stars) == 1
    np.testing.assert_allclose(np.ravel(stars[0].get_data()), optimum, rtol=1e-6)
    given = gdlab.plot(paths, minimum=np.array([9.5, 2.2])).axes[0]
    star = next(line for line in given.lines if line.get_marker() == "*")
    assert np.ravel(star.get_data()).tolist() == [9.5, 2.2]


def test_parameter_names_follow_the_loss():
    homework = gdlab.descend(lambda x: (x - 1) ** 2, -3.0, lr=0.01 / 3, steps=10)
    assert gdlab.animate(homework).figure.axes[0].get_xlabel() == "x"
    typed = gdlab.parse("(x-1)^2")
    assert gdlab.plot(gdlab.descend(typed, {"x": -3.0}, lr=0.1, steps=5)).axes[0].get_xlabel() == "x"
    pair = gdlab.descend(lambda w: (w[0] - 1) ** 2 + w[1] ** 2, np.array([0.0, 1.0]), lr=0.1, steps=5)
    ax = gdlab.plot(pair).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("w[0]", "w[1]")
    named = gdlab.plot(homework, names=["theta"]).axes[0]
    assert named.get_xlabel() == "theta"
    with pytest.raises(ValueError, match="names gives 2 name"):
        gdlab.plot(homework, names=["a", "b"])


def along(xy_display: np.ndarray, spacing: float = 1.0) -> np.ndarray:
    """Points every ``spacing`` pixels along a polyline given in display coordinates."""
    xy = xy_display[np.all(np.isfinite(xy_display), axis=1)]
    parts = [xy[:1]]
    for a, b in itertools.pairwise(xy):
        n = int(min(np.hypot(*(b - a)) / spacing, 5000)) + 1
        parts.append(a + (b - a) * np.linspace(0, 1, n + 1)[1:, None])
    return np.concatenate(parts)


def line_pixels(ax) -> np.ndarray:
    """Display points along every line in ``ax`` (paths and curve), segments included."""
    lines = [line.get_xydata() for line in ax.lines if len(line.get_xydata())]
    return np.concatenate([along(ax.transData.transform(np.clip(xy, -1e12, 1e12))) for xy in lines])


def covered(box, points: np.ndarray, pad: float = 0.0) -> int:
    """How many ``points`` lie within ``pad`` pixels of ``box``."""
    x, y = points[:, 0], points[:, 1]
    inside = (x > box.x0 - pad) & (x < box.x1 + pad) & (y > box.y0 - pad) & (y < box.y1 + pad)
    return int(np.sum(inside))


@pytest.mark.parametrize("animated", [False, True])
def test_the_legend_covers_no_path(animated):
    runs = [gdlab.descend(lecture_loss, -10.0, lr=lr, steps=40) for lr in (0.5, 2.0, 4.0, 5.0)]
    if animated:
        movie = gdlab.animate(runs, frames=41, tangent=False)
        list(movie.frames())  # the background is drawn while the paths are empty
        figure = movie.scene.freeze(40)
    else:
        figure = gdlab.plot(runs, history=True, tangent=False)
    renderer = drawn(figure)
    ax = figure.axes[0]
    frame = ax.get_window_extent(renderer)
    shown = line_pixels(ax)
    shown = shown[[frame.contains(x, y) for x, y in shown]]  # lines are clipped to the axes
    assert covered(ax.get_legend().get_window_extent(renderer), shown) == 0


def test_the_step_counter_covers_no_part_of_the_curve():
    homework = gdlab.descend(lambda x: (x - 1) ** 2, -3.0, lr=0.01 / 3, steps=100)
    for movie in (gdlab.animate(homework, xlim=(-4, 3)), gdlab.animate(lecture_path(), spacing="log")):
        renderer = drawn(movie.figure)
        ax = movie.figure.axes[0]
        box = next(t for t in movie.scene.counters if t.get_bbox_patch() is not None)
        extent = box.get_bbox_patch().get_window_extent(renderer)
        curve = ax.transData.transform(ax.lines[0].get_xydata())  # drawn first, under the paths
        assert covered(extent, along(curve), pad=10) == 0  # a clear gap, not touching the line


def lecture_path():
    return gdlab.descend(lecture_loss, -10.0, lr=0.01 / 6, steps=10000)


def round_number(value: float) -> bool:
    """Two significant digits at most: 1000, 300, 50, 2.5, 0.01."""
    return value == 0 or np.isclose(float(f"{value:.2g}"), value, rtol=1e-9, atol=0)


def test_colour_bar_ticks_are_round_numbers():
    paths, _ = cafe_sgd()
    log_spread = gdlab.descend(rosenbrock, np.array([-1.2, 1.0]), lr=1e-3, steps=100)
    for figure in (gdlab.plot(paths), gdlab.plot(log_spread)):
        drawn(figure)
        bar = figure.axes[-1]
        low, high = bar.get_ylim()
        ticks = [v for v in bar.get_yticks() if low <= v <= high]
        assert len(ticks) >= 3
        assert all(round_number(v) for v in ticks), ticks
        labels = [t.get_text() for t in bar.get_yticklabels() if t.get_text()]
        assert labels and not any("e+" in text for text in labels), labels
    grid = gdlab.grid_search(rosenbrock, [np.linspace(-2, 2, 30), np.linspace(-1, 3, 30)])
    figure = gdlab.plot_grid(grid)
    drawn(figure)
    assert all(round_number(v) for v in figure.axes[-1].get_yticks())


def test_a_sweep_without_tol_draws_no_empty_panel():
    result = gdlab.sweep(lecture_loss, -10.0, lrs=gdlab.rates(1e-4, 10, 20), steps=1000)
    figure = gdlab.plot_sweep(result)
    for ax in figure.axes:
        data = [line.get_ydata() for line in ax.lines if len(line.get_ydata()) > 2]
        assert data and np.isfinite(np.concatenate(data)).sum() >= 10, ax.get_ylabel()


def test_losses_near_the_largest_float_draw_without_warnings(tmp_path):
    bowl = lambda p: 1e307 * (p[0] ** 2 + p[1] ** 2 + 1)
    runs = [
        gdlab.descend(lambda b: -jnp.exp(b), 0.0, lr=1e-3, steps=2000),  # falls to -inf
        gdlab.descend(lambda b: 1e307 * (b**2 + 1), 1.0, lr=1e-308, steps=3),
        gdlab.descend(lambda p: -jnp.exp(p[0] + p[1]), np.zeros(2), lr=1e-3, steps=1000),
        gdlab.descend(bowl, np.ones(2), lr=1e-308, steps=3),
    ]
    for run in runs:
        for options in ({}, {"history": True}, {"view": "surface"}):
            figure = gdlab.plot(run, **options)
            figure_bytes(figure, "png")
            gdlab.animate(run, frames=4, **options).to_bytes("gif")
    grid = gdlab.grid_search(bowl, [np.linspace(-1, 1, 5), np.linspace(-1, 1, 5)])
    figure_bytes(gdlab.plot_grid(grid), "png")
    result = gdlab.sweep(lambda b: 1e300 * b**2, 1.0, lrs=[1e-302, 1e-300, 1e-299], steps=20)
    figure_bytes(gdlab.plot_sweep(result), "png")


def test_progress_tracker_shows_a_bar_on_a_terminal_after_the_delay(monkeypatch):
    from gdlab import _progress

    monkeypatch.setattr(_progress, "DELAY", 0.0)
    monkeypatch.setattr(_progress.sys.stderr, "isatty", lambda: True, raising=False)
    bar = _progress._Bar(10, "sweeping")
    for done in range(1, 11):
        bar.advance(done)
    assert bar.shown and bar.bar is not None and bar.bar.tasks[0].completed == 10
    bar.stop()
    with _progress.tracker(3, "quiet") as advance:  # off a terminal: nothing shows
        monkeypatch.setattr(_progress.sys.stderr, "isatty", lambda: False, raising=False)
        advance(1)


def test_the_progress_helper_imports_no_matplotlib():
    code = "import sys, gdlab._progress; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _pinned_point(scene):
    return [a for a in scene.moving if getattr(a, "get_marker", lambda: "o")() not in ("o", "None", "")]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_loss_falling_off_the_chart_points_down_in_the_pictures_words(lang):
    run = gdlab.descend(lambda b: -jnp.exp(b), 0.0, lr=0.001, steps=10000)
    assert run.loss[-1] == -np.inf
    with warnings.catch_warnings():  # the words are the test, not the font (fonts-nanum may be absent)
        warnings.simplefilter("ignore", _fonts.MissingFontWarning)
        movie = gdlab.animate(run, frames=10, lang=lang)
    movie.scene.update(run.steps)
    (point,) = _pinned_point(movie.scene)
    assert point.get_marker() == "v"
    ax = movie.figure.axes[0]
    low, high = ax.get_ylim()
    assert low < point.get_ydata()[0] <= low + 0.05 * (high - low)  # at the bottom edge
    notes = [t.get_text() for t in movie.scene.texts if t.get_visible() and "=" in t.get_text()]
    off, loss = ("off the chart", "loss") if lang == "en" else ("차트 밖", "손실")
    assert notes == [f"{off}:\nb=6.48e+05, {loss}=-inf"]


def test_edge_arrows_point_the_way_the_value_went():
    from gdlab.render._scene import _edge_arrow

    lims = ((0.0, 1.0), (0.0, 1.0))
    assert _edge_arrow(0.5, -np.inf, *lims) == "v"
    assert _edge_arrow(0.5, np.inf, *lims) == "^"
    assert _edge_arrow(0.5, -3.0, *lims) == "v"
    assert _edge_arrow(5.0, 0.5, *lims) == ">"
    assert _edge_arrow(-5.0, 0.5, *lims) == "<"


def test_edge_arrows_of_a_plane_point_along_the_larger_excursion():
    from gdlab.render._scene import _edge_arrow_2d

    lims = ((0.0, 1.0), (0.0, 1.0))
    assert _edge_arrow_2d(0.5, 9e5, *lims) == "^"
    assert _edge_arrow_2d(0.5, -9e5, *lims) == "v"
    assert _edge_arrow_2d(-7.0, 2.0, *lims) == "<"
    assert _edge_arrow_2d(9.0, 0.5, *lims) == ">"


def test_a_sweep_whose_diverged_runs_stopped_early_does_not_say_none_stopped():
    result = gdlab.sweep(lecture_loss, -10.0, lrs=gdlab.rates(5, 100, 6), steps=300, tol=1e-8)
    assert list(result.steps_taken) == [29, 10, 6, 5, 4, 3]
    titles = [ax.get_title() for ax in gdlab.plot_sweep(result).axes]
    assert "no run met tol before step 300; 6 stopped early (diverged)" in titles
    untold = gdlab.sweep(lecture_loss, -10.0, lrs=gdlab.rates(1e-5, 10, 12), steps=300)
    titles = [ax.get_title() for ax in gdlab.plot_sweep(untold).axes]
    assert (
        "no run met tol before step 300; 1 stopped early (diverged) "
        "(give tol to stop at convergence)" in titles
    )


def test_a_path_running_away_down_a_saddle_keeps_the_saddle_in_view():
    saddle = gdlab.expr("x^2 - y^2") if hasattr(gdlab, "expr") else None
    f = saddle or (lambda p: p["x"] ** 2 - p["y"] ** 2)
    run = gdlab.descend(f, {"x": 1.0, "y": 0.001}, lr=0.1, steps=100)
    assert abs(float(run.flat_params()[-1, 1])) > 1e4  # it ran away along y
    movie = gdlab.animate(run, frames=101)
    ax = movie.figure.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < 0 < 1 < x1 and y0 < 0 < y1
    assert 0.5 <= (y1 - y0) / (x1 - x0) <= 2  # both axes on one scale: the saddle shows
    movie.scene.update(run.steps)
    (point,) = _pinned_point(movie.scene)
    assert point.get_marker() == "^"
    assert y0 < point.get_ydata()[0] < y1 and y1 - point.get_ydata()[0] <= 0.05 * (y1 - y0)
    notes = [t.get_text() for t in movie.scene.texts if t.get_visible() and "=" in t.get_text()]
    assert len(notes) == 1 and notes[0].startswith("off the chart:\n") and "y=8.28e+04" in notes[0]
    movie.scene.update(0)
    assert [a.get_marker() for a in movie.scene.moving if hasattr(a, "get_marker")].count("o") >= 2


def test_a_small_animation_with_history_stacks_its_panels_and_keeps_its_legend_over_one():
    runs = [gdlab.descend(lecture_loss, -10.0, lr=lr, steps=40) for lr in (0.5, 3.9, 4.2)]
    movie = gdlab.animate(runs, history=True, size=(640, 480))
    assert movie.size == (640, 480)
    frame = [f.copy() for f in movie.frames()][-1]
    main, history = movie.figure.axes[:2]
    a, b = main.get_window_extent(), history.get_window_extent()
    assert a.width >= 500 and b.width >= 500 and b.y1 < a.y0  # one above the other, each wide
    legend = main.get_legend().get_window_extent()
    assert legend.x0 >= 0 and legend.x1 <= 640 and legend.width <= a.width
    assert not history.get_legend()
    note = next(t for t in movie.scene.texts if t.get_visible() and t.get_text().startswith("off the chart"))
    box = note.get_window_extent(movie.figure.canvas.get_renderer())
    assert a.x0 <= box.x0 and box.x1 <= a.x1 - 5  # inside the panel, clear of its edge
    assert frame.shape == (480, 640, 4)


@pytest.mark.parametrize(
    ("loss", "init", "lr", "steps"),
    [
        ("(b/2-1)^2", -10.0, 0.01 / 6, 100),  # the lecture's run, in float32 as the lecture ran it
        ("(b/2-1)^2", -10.0, 5.0, 40),  # diverging: points pinned at the chart's edge
        ("x^2 + 10*y^2", {"x": 1.0, "y": 1.0}, 0.05, 50),
    ],
)
def test_float32_runs_draw_and_animate_without_a_warning(loss, init, lr, steps):
    """Drawing reads a float32 run in float64 (filling a gap with 1e300 overflowed float32)."""
    path = gdlab.descend(loss, init, lr=lr, steps=steps, dtype="float32")
    assert path.loss.dtype == np.float32
    gdlab.plot(path)
    assert len(gdlab.animate(path, frames=4)) == 4


def test_an_animation_with_fewer_frames_than_asked_says_why():
    """A one-regressor fit by gd converges in one step at 2/(mu+L) (its standardised Hessian is 2I):
    animate(fit, frames=40) gave 2 frames without a word."""
    cafe = gdlab.datasets.cafe()
    fit = gdlab.fit(cafe, y="y", x="x", method="gd")
    assert fit.steps == 1 and fit.lr == pytest.approx(0.5)
    movie = gdlab.animate(fit, frames=40)
    assert len(movie) == 2
    assert movie.note == (
        "2 frames, not 40: the run converged in 1 step, and a frame shows a step; a smaller rate "
        "than 0.5 takes more steps to watch"
    )
    assert repr(movie).endswith(movie.note)
    capped = gdlab.descend("(b/2-1)^2", -10.0, lr=0.01, steps=10)  # took the steps it was given
    assert gdlab.animate(capped, frames=40).note == ""
    assert "\n" not in repr(gdlab.animate(capped, frames=40))


def test_a_sweep_or_a_phase_is_not_animated_and_says_what_is():
    """animate() of a Sweep said to give "a Trajectory or a list of them, a Sweep, ..." and then
    refused the Sweep: it now says a Sweep is one picture, and how its runs animate."""
    sweep = gdlab.sweep(lecture_loss, -10.0, lrs=[0.5, 2.0, 4.0], steps=50)
    with pytest.raises(InputError, match=r"a Sweep is drawn as one picture, not animated: gdlab.plot\(it\)"):
        gdlab.animate(sweep)
    assert len(gdlab.animate([sweep.trajectory(i) for i in (0, 2)], frames=3)) == 3


def test_a_sweep_and_a_phase_diagram_in_korean():
    """lang="ko" words a sweep's and a phase diagram's pictures in Korean, the regimes in the lab
    page's words (수렴, 느림, 발산); an unknown language is refused, not ignored."""
    sweep = gdlab.sweep(lecture_loss, -10.0, lrs=gdlab.rates(1e-3, 10, 20), steps=300)
    figure = gdlab.plot(sweep, lang="ko")
    top, bottom = figure.axes
    legend = [t.get_text() for t in top.get_legend().get_texts()]
    assert {"수렴", "느림", "발산"} <= set(legend) and "2/L = 4" in legend
    assert bottom.get_xlabel() == "학습률" and top.get_ylabel() == "최종 손실"
    assert top.get_title() == "gd: 300단계 실행 20개"
    phase = gdlab.phase(lecture_loss, -10.0, lrs=[0.5, 2.0, 5.0], momenta=[0.0, 0.5], steps=50)
    drawn = gdlab.plot(phase, lang="ko")
    assert drawn.axes[0].get_xlabel() == "학습률"
    assert any(t.get_text().startswith("수렴 (") for t in drawn.legends[0].get_texts())
    with pytest.raises(InputError, match="lang='kr' is unknown"):
        gdlab.plot_sweep(sweep, lang="kr")


def test_a_korean_players_script_counts_in_korean(tmp_path):
    """The player's script of a lang="ko" animation labels its frames in Korean, as its picture."""
    run = gdlab.descend(lecture_loss, -10.0, lr=0.5, steps=20)
    page = gdlab.animate(run, frames=5, size=(320, 240), lang="ko").to_html()
    (tmp_path / "player.js").write_text(re.search(r"<script>(.*)</script>", page, re.S).group(1))
    (tmp_path / "harness.js").write_text(PLAYER_HARNESS)
    done = subprocess.run(
        ["node", str(tmp_path / "harness.js"), str(tmp_path / "player.js"), json.dumps([["last", None]])],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["before"] == "단계 0 (장면 1/5)"
    assert result["shown"][0]["label"] == "단계 20 (장면 5/5)"


def test_without_a_hangul_font_every_korean_picture_falls_back_to_english(path, monkeypatch):
    """One rule (_fonts.drawn_language) for every picture: lang="ko" with no font that draws
    Hangul warns once and draws English words, not boxes: a descent, a fit, a sweep, a grid."""
    monkeypatch.setattr(_fonts, "cjk_font", lambda: None)
    monkeypatch.setattr(_fonts, "_warned", False)
    fit = gdlab.fit("cafe", y="y", x="x", method="gd", lr=0.05)
    sweep = gdlab.sweep(lecture_loss, -10.0, lrs=[0.5, 2.0, 5.0], steps=50)
    grid = gdlab.grid_search(lecture_loss, np.linspace(-10, 10, 20))
    with pytest.warns(_fonts.MissingFontWarning, match="fonts-nanum"):
        descent = gdlab.plot(path, lang="ko")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _fonts.MissingFontWarning)
        pictures = [fit.plot(lang="ko"), gdlab.plot(sweep, lang="ko"), gdlab.plot(grid, lang="ko")]
    assert descent.axes[0].get_ylabel() == "loss"
    assert pictures[0].axes[1].get_title() == "residuals"
    assert gdlab.animate(fit, frames=2, lang="ko").scene.lang == "en"  # its player too
    assert pictures[1].axes[-1].get_xlabel() == "learning rate"
    assert pictures[2].axes[0].get_ylabel() == "loss"
