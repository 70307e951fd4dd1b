"""Notebook display: trajectories as players, figures as pictures, registered for gdlab's types only."""

import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

import gdlab
from gdlab._checks import InputError
from gdlab.render import _notebook
from helpers import lecture_loss


@pytest.fixture(scope="module")
def path():
    return gdlab.descend(lecture_loss, -10.0, lr=0.1, steps=40)


def run_python(code):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_trajectory_shows_its_summary_over_a_light_player(path):
    page = _notebook.trajectory_html(path)
    assert page.startswith("<pre>Trajectory(gd, lr=0.1") and "gdlab-player" in page
    assert page.count("iVBOR") == len(path.loss)  # 41 frames, each stored once
    # 708 KB when every frame was a whole PNG and the first was stored twice
    assert len(page) < 160_000


def test_a_trajectory_that_cannot_be_drawn_falls_back_to_its_summary(path, monkeypatch):
    def cannot(*args, **kwargs):
        raise InputError("two-parameter pictures draw the loss: pass loss=the loss function")

    monkeypatch.setattr(_notebook, "animate", cannot)
    assert _notebook.trajectory_html(path) is None


def test_importing_gdlab_loads_no_drawing_and_registers_nothing_without_ipython():
    loaded = run_python("""
        import sys
        import gdlab
        print("matplotlib" in sys.modules, "gdlab.render" in sys.modules, "IPython" in sys.modules)
    """)
    assert loaded == ["False", "False", "False"]


def test_in_ipython_only_trajectories_are_registered_and_by_name():
    registered = run_python("""
        import sys, types

        class Formatter:
            def for_type_by_name(self, module, name, function):
                print(f"{module}.{name}")
            def for_type(self, cls, function):
                print(cls.__name__)

        shell = types.SimpleNamespace(display_formatter=types.SimpleNamespace(
            formatters={"text/html": Formatter()}))
        sys.modules["IPython"] = types.SimpleNamespace(get_ipython=lambda: shell)
        import gdlab
        print("matplotlib" in sys.modules, "gdlab._trajectory" in sys.modules)
    """)
    assert registered == ["gdlab._trajectory.Trajectory", "False", "False"]


def test_in_a_real_ipython_trajectories_show_as_players_and_figures_as_pictures():
    pytest.importorskip("IPython")
    shown = run_python("""
        import sys
        from IPython.core.interactiveshell import InteractiveShell

        shell = InteractiveShell.instance()
        import gdlab
        path = gdlab.descend(lambda b: (b / 2 - 1) ** 2, -10.0, lr=0.5, steps=5)
        formats = shell.display_formatter.format
        print("gdlab-player" in formats(path)[0]["text/html"])
        print("text/html" in formats([path, path])[0], "text/html" in formats([1, 2])[0])
        print(formats(gdlab.plot(path))[0]["image/png"][:4] == b"\\x89PNG")
    """)
    assert shown == ["True", "False", "False", "True"]


def png_size(data):
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_static_pictures_show_in_a_notebook(path):
    assert png_size(gdlab.plot(path, history=True)._repr_png_()) == (1000, 480)
    grid = gdlab.grid_search(lecture_loss, np.linspace(-10, 10, 21))
    assert png_size(gdlab.plot_grid(grid)._repr_png_()) == (640, 480)
    result = gdlab.sweep(lecture_loss, -10.0, lrs=gdlab.rates(1e-2, 10, 5), steps=50)
    assert png_size(gdlab.plot_sweep(result, size=(700, 500))._repr_png_()) == (700, 500)


def test_figure_sizes_are_checked():
    grid = gdlab.grid_search(lecture_loss, np.linspace(-10, 10, 21))
    with pytest.raises(InputError, match=r"size must be \(width, height\) in pixels, each >= 64"):
        gdlab.plot_grid(grid, size=(10, 10))


def test_loading_a_verb_freezes_what_the_import_made_and_leaves_the_collector_as_it_was():
    # A full collection walked the ~150,000 objects JAX and gdlab's modules make (0.17 s), and the
    # first one fell inside a user's first call: the verb's import now freezes them.
    states = run_python("""
        import gc, sys
        import gdlab
        before = gc.get_freeze_count()
        gdlab.descend
        print("jax" in sys.modules, gc.get_freeze_count() - before > 50_000, gc.isenabled())
        gc.disable()
        gdlab.fit
        print(gc.isenabled())
    """)
    assert states == ["True", "True", "True", "False"]
