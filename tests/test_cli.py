import subprocess
import sys

from typer.testing import CliRunner

from gdlab.cli import app

runner = CliRunner()


def test_demo_prints_every_lecture_value_and_agrees():
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
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
