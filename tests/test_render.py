"""Pictures and animations: frames, pixels, files, errors."""

import base64
import io
import json
import re
import shutil
import subprocess
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
from gdlab.render._palette import fixed_palette, quantize
from gdlab.render._scene import COLORS
from helpers import lecture_loss, rosenbrock

RED = np.array([214, 39, 40])  # COLORS[0], the moving point's face


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
    assert ax.get_xlabel() == "b" and len(ax.lines) >= 4
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
    for i, t in enumerate(paths):
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
    from gdlab.render import _progress

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
    assert any(n.startswith("off the chart: b=") and "loss=" in n for n in notes)
    point = [a for a in movie.scene.moving if getattr(a, "get_marker", lambda: "")() == "^"]
    assert len(point) == 1
    ax = movie.figure.axes[0]
    x, y = point[0].get_data()
    assert ax.get_xlim()[0] <= x[0] <= ax.get_xlim()[1] and y[0] == ax.get_ylim()[1]


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
