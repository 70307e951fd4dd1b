import subprocess
import sys

from PIL import Image
from typer.testing import CliRunner

from gdlab.cli import app

runner = CliRunner()


def test_demo_prints_every_lecture_value_and_agrees():
    result = runner.invoke(app, ["demo", "--no-pictures"])
    assert result.exit_code == 0, result.output
    assert "pictures" not in result.output
    for printed in (
        "-126.78690968",
        "-3208.83947922",
        "1.9191919191919187"[:13],
        "12.215025",
        "-9.040152",
        "-3.2133687",
        "1.997125",
        "diverged",
    ):
        assert printed in result.output
    assert "values agree with the lecture" in result.output


def test_version_and_help():
    assert runner.invoke(app, ["--version"]).output.startswith("gdlab 0.1.0")
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "demo" in result.output


def test_help_does_not_import_jax():
    code = "import sys; from gdlab.cli import app; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_demo_writes_the_lecture_pictures(tmp_path):
    out = tmp_path / "pictures"
    result = runner.invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    expected = {
        "loss_curve.png": 1,
        "grid_search.png": 1,
        "descent_lr_0.01_6.gif": 100,
        "learning_rates.gif": 41,
        "learning_rates.png": 1,
        "homework.gif": 100,
        "sweep_lecture.png": 1,
        "sweep_cafe.png": 1,
        "sgd_cafe.gif": 100,
    }
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    for name, frames in expected.items():
        assert str(out / name) in "".join(result.output.split())
        with Image.open(out / name) as image:
            assert getattr(image, "n_frames", 1) == frames


def test_demo_out_must_be_a_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["demo", "--out", str(blocker)])
    assert result.exit_code == 2 and "is a file; give a folder" in " ".join(result.output.split())
    assert "Example 9-10" not in result.output  # refused before any work
