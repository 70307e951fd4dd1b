import json
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

import gdlab
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


def test_the_lecture_s_gif_loads_only_what_it_draws_with(tmp_path):
    """gdlab run ... --out descent.gif pays for JAX, matplotlib and the table it prints: not for
    SymPy (the loss has nothing SymPy could refuse, and no exact form is asked for), nor for the
    data, web or video libraries, nor for optax (plain gd is gdlab's own rule) or pydantic (typer
    would validate text as text with it); its GIF still shows every step."""
    gif = tmp_path / "descent.gif"
    args = ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.01/6", "--steps", "100", "--out", str(gif)]
    code = (
        "import sys\nfrom gdlab.cli import app\n"
        f"try:\n    app({args!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "import json\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert {"jax", "matplotlib"} <= loaded
    unwanted = {"sympy", "pandas", "scipy", "plotly", "fastapi", "pyarrow", "dask", "imageio_ffmpeg"}
    assert not loaded & (unwanted | {"optax", "pydantic"})
    with Image.open(gif) as movie:
        assert movie.n_frames == 100  # --frames 100, from step 0 to step 100


def test_the_command_s_own_process_draws_the_same_gif(tmp_path):
    """The gdlab script's process leaves matplotlib's property tables out of its docstrings (and
    reads options without typer's validators): the GIF it writes is byte for byte the one a
    program calling app writes, where matplotlib is left as it is."""
    args = ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.01/6", "--steps", "20", "--out"]
    script, called = tmp_path / "script.gif", tmp_path / "called.gif"
    code = (  # main() ends the process once the exit handlers have run: the check is one of them
        "import atexit, matplotlib.artist\nfrom gdlab.cli import main\n"
        "def check():\n    from matplotlib.lines import Line2D\n"
        "    print('tables left out:', matplotlib.artist.kwdoc(Line2D) == '')\n"
        "atexit.register(check)\nmain()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args, str(script)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "tables left out: True"
    result = runner.invoke(app, [*args, str(called)])
    assert result.exit_code == 0, result.output
    from matplotlib.artist import kwdoc
    from matplotlib.lines import Line2D

    assert "linewidth" in kwdoc(Line2D)  # and kept here
    assert script.read_bytes() == called.read_bytes()


def test_the_script_exits_with_the_command_s_status_and_all_it_printed(tmp_path):
    """``python -m gdlab.cli`` ends its process past the interpreter's teardown: the status is the
    command's, what it printed arrives whole through a pipe, and the exit handlers have run."""
    gif = tmp_path / "d.gif"
    args = ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.01/6", "--steps", "20"]
    script = [sys.executable, "-m", "gdlab.cli"]
    done = subprocess.run([*script, *args, "--json", "--out", str(gif)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["out"] == str(gif) and summary["steps"] == 20
    with Image.open(gif) as movie:
        assert movie.n_frames == 21
    text = tmp_path / "d.txt"
    refused = subprocess.run([*script, *args, "--out", str(text)], capture_output=True, text=True)
    assert refused.returncode == 2 and ".txt is not supported" in refused.stderr
    misspelt = subprocess.run([*script, "run", "b^2", "--step", "3"], capture_output=True, text=True)
    assert misspelt.returncode == 2 and "did you mean --steps?" in misspelt.stderr
    code = (
        "import atexit, sys\nfrom gdlab.cli import main\n"
        "atexit.register(lambda: print('handlers ran', flush=True))\n"
        "sys.argv = ['gdlab', '--version']\nmain()"
    )
    version = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.splitlines() == ["gdlab 0.1.0", "handlers ran"]


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
        "methods_lecture.png": 1,
        "methods_cafe.png": 1,
        "fit_cafe.gif": 60,
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


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--out", "{tmp}/pictures"],
        ["grid", "(b/2-1)^2", "--range", "-10:10", "--num", "20", "--out", "{tmp}/g.png"],
        ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.5", "--steps", "5", "--out", "{tmp}/r.png"],
    ],
)
def test_a_full_disk_is_an_error_naming_the_file_with_nothing_half_written(tmp_path, monkeypatch, args):
    """Every command that writes: the operating system's refusal in words (exit 1), no traceback,
    and no temporary file left behind."""
    import errno
    import os

    from gdlab import _io

    def full(*_):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_io.os, "replace", full)
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    words = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert "error: No space left on device: " in words and "free some space" in words
    assert "Traceback" not in result.output and "File " not in result.output
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # nothing half written


def _json(args):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_grad_symbolic_autodiff_and_finite_differences_agree():
    out = _json(["grad", "(b/2-1)^2", "--at", "b=-10"])
    (row,) = out["gradient"]
    assert row["derivative"] == "b/2 - 1" and row["symbolic"] == row["autodiff"] == -6.0
    assert abs(row["finite_difference"] + 6) < 1e-8 and out["agree"] and out["loss"] == 36.0
    cafe = _json(["grad", "sum((y - b0 - b1*x)^2)", "--at", "b0=9,b1=2", "--data", "cafe"])
    values = [r["autodiff"] for r in cafe["gradient"]]
    assert values == [pytest.approx(-126.78690966), pytest.approx(-3208.839478884)]


def test_grid_finds_the_lecture_best_and_draws(tmp_path):
    out = _json(["grid", "(b/2-1)^2", "--range", "-10:10", "--num", "100", "--out", str(tmp_path / "g.png")])
    assert out["best"] == {"b": 1.9191919191919187} and out["index"] == 59 and out["evaluations"] == 100
    with Image.open(tmp_path / "g.png") as picture:
        assert picture.size == (640, 480)
    edge = _json(["grid", "(b-50)^2", "--range", "-10:10"])
    assert "edge" in edge["warnings"][0]


def test_run_matches_descend_and_writes_every_format(tmp_path):
    out = _json(["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.01/6", "--steps", "100"])
    assert out["final"]["b"] == pytest.approx(-9.040149417268745) and out["status"] == "max_steps"
    for name in ("d.gif", "d.png", "d.csv", "d.json", "d.html"):
        done = _json(
            [
                "run",
                "(b/2-1)^2",
                "--init",
                "-10",
                "--lr",
                "0.5",
                "--steps",
                "30",
                "--out",
                str(tmp_path / name),
            ]
        )
        assert (tmp_path / name).exists() and done["out"] == str(tmp_path / name)
    with Image.open(tmp_path / "d.gif") as movie:
        assert movie.n_frames == 31
    adam = _json(
        [
            "run",
            "(b/2-1)^2",
            "--init",
            "-5",
            "--lr",
            "0.5",
            "--steps",
            "10000",
            "--method",
            "adam",
            "--tol",
            "1e-8",
        ]
    )
    assert adam["status"] == "converged" and adam["final"]["b"] == pytest.approx(2.0, abs=1e-6)


def test_sweep_reports_regimes_and_the_bound(tmp_path):
    out = _json(
        [
            "sweep",
            "(b/2-1)^2",
            "--init",
            "-10",
            "--lr",
            "0.5,4,5",
            "--steps",
            "200",
            "--tol",
            "1e-8",
            "--out",
            str(tmp_path / "s.png"),
        ]
    )
    assert [r["regime"] for r in out["runs"]] == ["converged", "oscillating", "diverged"]
    assert out["critical_lr"] == 4.0 and (tmp_path / "s.png").exists()
    ranged = _json(["sweep", "(b/2-1)^2", "--init", "b=-10", "--lr", "1e-4:10:log50", "--steps", "100"])
    assert len(ranged["runs"]) == 50 and ranged["runs"][0]["lr"] == pytest.approx(1e-4)


def test_fit_closed_form_beside_descent(tmp_path):
    cafe = gdlab.datasets.cafe()
    csv = tmp_path / "sales.csv"
    csv.write_text("temp,sales\n" + "".join(f"{x},{y}\n" for x, y in zip(cafe.x, cafe.y, strict=True)))
    for method, tolerance in (("ols", None), ("gd", 1e-9), ("sgd", 0.5)):
        out = _json(["fit", str(csv), "--y", "sales", "--x", "temp", "--method", method])
        assert out["closed_form"]["temp"] == pytest.approx(2.2157046084)
        if tolerance is not None:
            assert out["max_difference"] < tolerance


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grad", "sqr(b)", "--at", "b=1"], "did you mean sqrt"),
        (["grad", "(b/2-1)^2", "--at", "c=1"], "'c' is not a parameter"),
        (["grad", "b0 + b1", "--at", "1"], "name the parameter"),
        (["run", "(b/2-1)^2", "--init", "-10", "--lr", "fast"], "fast is not a number"),
        (["run", "(b/2-1)^2", "--init", "-10", "--lr", "-1"], "lr must be"),
        (
            ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.1", "--out", "/no/such/dir/x.gif"],
            "does not exist",
        ),
        (["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.1", "--out", "x.jpg"], "not supported"),
        (  # another command's format is not taken for a misspelt picture (.csv is not .svg)
            ["fit", "cafe", "--y", "y", "--x", "x", "--out", "fit.csv"],
            "--out fit.csv: .csv is not supported here (it is a table, which this command does not write); "
            "use one of .png, .svg, .pdf",
        ),
        (["fit", "cafe", "--y", "y", "--x", "x", "--out", "fit.pnj"], "(did you mean .png?)"),
        (["sweep", "(b/2-1)^2", "--init", "-10", "--lr", "1:2:lots"], "the count 'lots' is not a number"),
        (["grid", "(b/2-1)^2", "--range", "10:-10"], "low end must be below"),
        (["grad", "sum(x)", "--at", "b=1", "--data", "nope.csv"], "no such file"),
        (["fit", "nope.csv", "--y", "a", "--x", "b"], "no such file"),
    ],
)
def test_bad_input_exits_2_with_the_message(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_every_example_in_help_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps help to the terminal; keep examples on one line
    cafe = gdlab.datasets.cafe()
    (tmp_path / "sales.csv").write_text(
        "temp,sales\n" + "".join(f"{x},{y}\n" for x, y in zip(cafe.x, cafe.y, strict=True))
    )
    rng = np.random.default_rng(0)  # counts with an exposure, for fit's Poisson example
    age, car, years = rng.uniform(20, 70, 60), rng.integers(0, 2, 60), rng.uniform(0.5, 2, 60)
    claims = rng.poisson(np.exp(-2 + 0.02 * age + 0.3 * car) * years)
    rows = zip(age, car, years, claims, strict=True)
    (tmp_path / "claims.csv").write_text(
        "age,car,years,claims\n" + "".join(f"{a},{c},{e},{k}\n" for a, c, e, k in rows)
    )
    t = np.linspace(0.0, 8.0, 25)  # a rise to a plateau, for fit's formula example
    growth = 3 * (1 - np.exp(-0.7 * t)) + 0.05 * rng.normal(size=t.size)
    (tmp_path / "growth.csv").write_text(
        "t,y\n" + "".join(f"{a},{b}\n" for a, b in zip(t, growth, strict=True))
    )
    examples = []
    for command in ("grad", "grid", "run", "sweep", "phase", "fit", "demo", "serve", "lesson"):
        text = runner.invoke(app, [command, "--help"], terminal_width=200).output
        found = [line.strip() for line in text.splitlines() if line.strip().startswith("gdlab ")]
        # and each on one line of an 80-column terminal, not wrapped mid-option
        monkeypatch.setenv("COLUMNS", "80")
        narrow = runner.invoke(app, [command, "--help"], terminal_width=80).output
        monkeypatch.setenv("COLUMNS", "200")
        assert [line.strip() for line in narrow.splitlines() if line.strip().startswith("gdlab ")] == found
        # indented as examples in every command's help alike (a help of one paragraph lost it)
        assert all(
            line.startswith("     gdlab ") for line in text.splitlines() if line.strip().startswith("gdlab ")
        )
        examples += found
    assert len(examples) >= 7
    for example in examples:
        args = shlex.split(example)[1:]
        if args[0] == "demo":
            args.append("--no-pictures")
        if args[0] in ("serve", "lesson"):  # checked, not started: the server is tested in test_web_*
            monkeypatch.setattr("gdlab.web.serve", lambda **kwargs: None)
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"{example}: {result.output}"


def test_every_command_line_example_in_the_readme_and_the_cli_guide_runs(tmp_path, monkeypatch):
    from pathlib import Path

    root = Path(__file__).parent.parent
    pages = [root / "README.md", root / "docs" / "guides" / "cli.md"]
    text = "".join(page.read_text(encoding="utf-8") for page in pages)
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    examples = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    examples = [line for line in examples if line.startswith("gdlab ")]
    assert len(examples) >= 7
    served: list[tuple] = []
    monkeypatch.setattr("gdlab.web.serve", lambda *args, **kwargs: served.append((args, kwargs)))
    monkeypatch.chdir(tmp_path)
    cafe = gdlab.datasets.cafe()
    rows = "".join(f"{x},{y}\n" for x, y in zip(cafe.x, cafe.y, strict=True))
    (tmp_path / "sales.csv").write_text("temp,sales\n" + rows)
    for example in examples:
        result = runner.invoke(app, shlex.split(example)[1:])
        assert result.exit_code == 0, f"{example}: {result.output}"
    assert (tmp_path / "descent.gif").exists() and (tmp_path / "lecture-pictures" / "homework.gif").exists()


def test_losses_without_parameters_and_glued_numbers_are_input_errors():
    result = runner.invoke(app, ["run", "1+1", "--init", "1", "--lr", "0.1"])
    assert result.exit_code == 2 and "has no parameters" in result.output
    result = runner.invoke(app, ["run", "2b", "--init", "1", "--lr", "0.1"])
    assert result.exit_code == 2 and "write 2*b: multiplication needs a *" in result.output
    result = runner.invoke(app, ["run", "exp(b)", "--init", "1000", "--lr", "0.1", "--json"])
    assert result.exit_code == 2 and "not finite at the start" in result.output  # nothing ran


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grad", "x[20]*b", "--at", "b=1", "--data", "cafe"], "index 20 is out of range"),
        (["grad", "log(b-1)", "--at", "b=1"], "choose a point where it is finite"),
        (["grad", "sqrt(b)", "--at", "b=0"], "the gradient is not finite"),
        (["grad", "sum((y-b*x)^2)", "--at", "b=1"], "pass --data"),
        (["sweep", "b^2", "--init", "1", "--lr", "1e-3:1:log200000"], "rates must be at most 100,000"),
    ],
)
def test_more_input_errors(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and message in " ".join(result.output.split())


def test_deep_nesting_answers_quickly_and_json_is_strict():
    deep = "sin(" * 15 + "b" + ")" * 15
    out = _json(["grad", deep, "--at", "b=1"])
    assert out["agree"] and out["gradient"][0]["symbolic"] == pytest.approx(out["gradient"][0]["autodiff"])
    grid = _json(["grid", "a^2+b^2", "--range", "a=-1:1,b=-2:2", "--num", "5"])
    assert grid["best"] == {"a": 0.0, "b": 0.0}
    diverged = runner.invoke(app, ["run", "b^2", "--init", "1", "--lr", "1e200", "--steps", "3", "--json"])
    assert "Infinity" not in diverged.stdout and "NaN" not in diverged.stdout
    json.loads(diverged.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "b^2", "--init", "1", "--lr", "0.1,,2"], "--lr 0.1,,2: a rate is missing between commas"),
        (
            ["sweep", "b^2", "--init", "1", "--lr", "1e-4:10:log0"],
            "--lr 1e-4:10:log0: the number of rates must be at least 1",
        ),
        (
            ["run", "b^2", "--init", "1", "--lr", "0.1", "--steps", "2.5"],
            "--steps 2.5: the number of steps must be a whole number",
        ),
        (["grad", "(b/2-1)^2", "--at", "b=1", "--at", "b=2"], "b is given twice"),
        (["grid", "b^2+c", "--range", "b=0:1", "--range", "c=0:1,b=1:2"], "--range: b is given twice"),
        (["run", "b^2", "--init", "1", "--lr", "0.1", "--out", "x.avi"], ".csv, .json"),
        (
            ["grid", "x^2+y^2+z^2", "--range", "x=-1:1,y=-1:1,z=-1:1", "--num", "5", "--out", "g3.png"],
            "a grid picture draws one or two parameters",
        ),
        (
            ["grid", "(x-1)^2+(y-2)^2", "--range", "x=-10:10,y=-10:10", "--num", "100000"],
            "10,000,000,000 grid points: at most 10,000,000",
        ),
        (
            ["run", "b^2", "--init", "1", "--lr", "0.1", "--steps", "99999999999999999999"],
            "--steps 99999999999999999999: the number of steps must be at most 2,147,483,646",
        ),
    ],
)
def test_input_errors_name_the_option(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and message in " ".join(result.output.split())


def test_a_loss_may_start_with_a_minus_and_steps_take_arithmetic():
    out = _json(["run", "-exp(b)", "--init", "0", "--lr", "0.1", "--steps", "1e3"])
    assert out["status"] == "diverged" and "fell without bound" in out["message"]
    assert "lower the rate" not in out["message"]


def test_a_file_in_the_way_of_the_out_folder_is_named(tmp_path):
    (tmp_path / "afile").write_text("")
    args = ["run", "b^2", "--init", "1", "--lr", "0.1", "--out", str(tmp_path / "afile" / "x.gif")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "is a file, not a folder" in result.output


def test_a_long_sweep_table_is_summarised_unless_all_is_asked_for():
    args = ["sweep", "(b/2-1)^2", "--init", "-10", "--lr", "0.01:6:200", "--steps", "300", "--tol", "1e-6"]
    short = runner.invoke(app, args, terminal_width=200)
    assert short.exit_code == 0 and "--all prints every run" in short.output
    assert short.output.count("\n") < 60
    full = runner.invoke(app, [*args, "--all"], terminal_width=200)
    assert full.exit_code == 0 and full.output.count("\n") > 200


def test_fit_reads_csv_and_parquet_and_names_bad_columns(tmp_path):
    import pandas as pd

    cafe = gdlab.datasets.cafe()
    frame = pd.DataFrame({"temp": cafe.x, "sales": cafe.y, "day": ["mon"] * 9 + ["tue"]})
    frame.to_csv(tmp_path / "sales.csv", index=False)
    frame.drop(columns="day").to_parquet(tmp_path / "sales.parquet")
    closed = gdlab.ols(cafe.X, cafe.y)
    for name in ("sales.csv", "sales.parquet"):
        out = _json(["fit", str(tmp_path / name), "--y", "sales", "--x", "temp", "--method", "ols"])
        assert out["closed_form"]["temp"] == pytest.approx(float(closed[1]), rel=1e-12)
    through_zero = _json(
        [
            "fit",
            str(tmp_path / "sales.csv"),
            "--y",
            "sales",
            "--x",
            "temp",
            "--method",
            "ols",
            "--no-intercept",
        ]
    )
    assert list(through_zero["closed_form"]) == ["temp"]
    for args, message in [
        (["--y", "sales", "--x", "day"], "column 'day' holds text, not numbers: 'mon' at row 0"),
        (["--y", "sales", "--x", "sales"], "sales"),
        (["--y", "sales", "--x", "tmp"], "did you mean 'temp'"),
    ]:
        result = runner.invoke(app, ["fit", str(tmp_path / "sales.csv"), *args])
        assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output


def _refused(args: list[str]) -> str:
    result = runner.invoke(app, args, terminal_width=400)
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())


# The library's keyword arguments as Python spells them: the command line must never show these.
KEYWORDS = "tol|steps|lrs?|num|epochs|batch_size|seed|frames"
PYTHON_WORDS = re.compile(rf"(?<![-\w])({KEYWORDS})(=|\))|(^|: )({KEYWORDS}) must\b")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.01", "--steps", "1000000000"],
            "--steps 1,000,000,000: keeping every step of this run would pass the limit of 200,000,000 "
            "numbers in memory; ask for at most 66,666,665 steps, or give a tolerance (--tol)",
        ),
        (["run", "b^2", "--init", "1", "--lr", "0"], "--lr must be a finite number > 0; got 0"),
        (
            ["run", "b^2", "--init", "1", "--lr", "0.1", "--tol", "-1"],
            "--tol must be a finite number > 0; got -1",
        ),
        (["sweep", "b^2", "--init", "1", "--lr", "0,1"], "--lr 0,1: write a decimal point, not a comma: 0.1"),
        (["fit", "cafe", "--y", "y", "--x", "x,x"], "--x: 'x' listed more than once"),
        (
            ["fit", "cafe", "--y", "y", "--x", "x", "--epochs", "0"],
            "--epochs 0: the number of epochs must be",
        ),
        (
            ["fit", "cafe", "--y", "y", "--x", "x", "--batch-size", "0"],
            "--batch-size 0: the batch size must be",
        ),
        (["run", "b^2", "--init", "1", "--lr", "0.1", "--tol", "fast"], "--tol fast: fast is not a number"),
        (["run", "b^2", "--init", "b=1/0", "--lr", "0.1"], "--init b=1/0: this arithmetic gives a number"),
        (["grid", "b^2", "--range", "0:fast"], "--range 0:fast: fast is not a number"),
        (["grad", "b^2", "--at", "b=2*c"], "--at b=2*c: 2*c is not a number"),
    ],
)
def test_errors_name_options_as_the_command_line_spells_them(args, expected):
    output = _refused(args)
    assert expected in output
    assert not PYTHON_WORDS.search(output), output
    if "; got " in expected:  # the value as typed (0, not 0.0), and nothing after it
        assert output.rstrip().endswith(expected), output


def test_run_messages_name_options_as_the_command_line_spells_them():
    args = ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.01", "--steps", "3"]
    table = runner.invoke(app, args, terminal_width=400)
    said = " ".join(table.output.split("┘")[-1].split())  # after the table (titled "gd, lr=0.01")
    assert table.exit_code == 0 and not PYTHON_WORDS.search(said)
    assert said == (
        "stopped at the step limit (--steps 3) with gradient norm 5.91: still descending "
        "(loss 36 -> 34.93), so raise --steps or the rate --lr 0.01"
    )
    assert _json(args)["message"] == said and not PYTHON_WORDS.search(_json(args)["message"])
    converged = _json(["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.5", "--steps", "1e3", "--tol", "1e-8"])
    assert converged["message"] == "converged at step 71: gradient norm 8.08e-09 <= --tol 1e-08"
    swept = _json(
        ["sweep", "(b/2-1)^2", "--init", "-10", "--lr", "0.5,0.01", "--steps", "5", "--tol", "1e-8"]
    )
    assert all(not PYTHON_WORDS.search(run["note"]) for run in swept["runs"])


def test_the_outcome_is_said_once():
    result = runner.invoke(app, ["run", "b^2", "--init", "1", "--lr", "1e200", "--steps", "3"])
    assert result.exit_code == 0
    assert result.output.count("diverged") == 1 and "diverged: diverged" not in result.output
    assert "diverged at step 1: the loss left the finite numbers" in " ".join(result.output.split())


def test_a_switch_takes_no_value_and_shows_no_type_in_help():
    output = _refused(["run", "b^2", "--init", "1", "--lr", "0.1", "--json", "true"])
    assert "--json is a switch and takes no value: write --json alone, without 'true'" in output
    commands = sorted(typer.main.get_command(app).commands)  # every command, and the group itself
    assert {"grad", "grid", "run", "sweep", "phase", "fit", "demo", "serve", "lesson"} <= set(commands)
    for args in ([], *([c] for c in commands)):
        text = runner.invoke(app, [*args, "--help"], terminal_width=200).output
        assert "--help" in text and "<bool>" not in text and "<list[str]>" not in text, args


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["run", "b^2", "--init", "1", "--lr", "0.1", "--step", "10"],
            "no such option --step (did you mean --steps?); see gdlab run --help",
        ),
        (
            ["sweep", "b^2", "--init", "1", "--lr", "0.1", "--tl", "1e-8"],
            "no such option --tl (did you mean --tol?)",
        ),
        (
            ["fit", "cafe", "--y", "y", "--x", "x", "--batch", "2"],
            "no such option --batch (did you mean --batch-size?)",
        ),
        (
            ["run", "b^2", "--init", "1", "-lr", "0.1"],
            "-lr is not an option: options start with two dashes, as in --lr",
        ),
        (
            ["run", "b^2", "--init", "1", "--lr", "0.1", "--method", "adma"],
            "--method adma is unknown: did you mean 'adam'?",
        ),
        (["sweep", "b^2", "--init", "1", "--lr", "0.1", "--method", "momentom"], "did you mean 'momentum'?"),
        (
            ["fit", "cafe", "--y", "y", "--x", "x", "--method", "sdg"],
            "--method sdg is unknown: did you mean 'sgd'?",
        ),
        (["rnu", "b^2"], "Did you mean 'run'?"),
        (
            ["run", "b", "^", "2", "--init", "1", "--lr", "0.1"],
            "unexpected '^' '2': give the loss once, in quotes",
        ),
        (
            ["grad", "(b-1)^2", "--at", "bb=1"],
            "--at bb=1: 'bb' is not a parameter of the loss; did you mean b?",
        ),
        (
            ["grid", "(b-1)^2+c", "--range", "q=0:1"],
            "'q' is not a parameter of the loss; its parameters: b, c",
        ),
        (
            ["run", "b^2", "--init", "1", "--lr", "0.1", "--out", "x.gfi"],
            "--out x.gfi: .gfi is not supported here (did you mean .gif?); use one of .gif,",
        ),
    ],
)
def test_typos_are_answered_with_the_nearest_name(args, expected):
    assert expected in _refused(args)


def test_every_numeric_option_takes_arithmetic():
    run = _json(
        [
            "run",
            "(b/2-1)^2",
            "--init",
            "-2*5",
            "--lr",
            "1/2",
            "--steps",
            "1e3",
            "--tol",
            "1e-4^2",
            "--frames",
            "2*5",
        ]
    )
    assert run["steps"] == 71 and run["lr"] == 0.5 and run["tol"] == 1e-8
    grid = _json(["grid", "(b/2-1)^2", "--range", "-10:2*5", "--num", "1e2"])
    assert grid["evaluations"] == 100 and grid["best"] == {"b": 1.9191919191919187}
    sweep = _json(["sweep", "(b/2-1)^2", "--init", "-10", "--lr", "1e-3:1:log2*5", "--steps", "1e2"])
    assert len(sweep["runs"]) == 10 and sweep["steps"] == 100
    phase = ["phase", "(b/2-1)^2", "--init", "-10", "--lrs", "1e-3:1:log2*2", "--momenta", "0:0.9:2+1"]
    grid_2 = _json([*phase, "--steps", "1e2", "--tol", "1e-4^2"])
    assert len(grid_2["regime"]) == 4 and len(grid_2["momenta"]) == 3
    assert grid_2["steps"] == 100 and grid_2["tol"] == 1e-8
    sgd = ["fit", "cafe", "--y", "y", "--x", "x", "--method", "sgd", "--epochs", "2*5"]
    fit = _json([*sgd, "--batch-size", "2^2", "--seed", "1e0", "--lr", "1/100"])
    assert fit["steps"] == 20 and fit["lr"] == 0.01  # 10 epochs of 2 batches of 4 rows
    adam = ["fit", "cafe", "--y", "y", "--x", "x", "--method", "adam", "--rcond", "1e-3/10"]
    loose, tight = _json([*adam, "--tol", "1e-1^2"]), _json([*adam, "--tol", "1e-6^2"])
    assert loose["steps"] < tight["steps"]


# Every option that takes a number, with arithmetic: a new one must be added here (and work).
ARITHMETIC = {
    ("grid", "--num"),
    ("run", "--lr"),
    ("run", "--steps"),
    ("run", "--tol"),
    ("run", "--frames"),
    ("sweep", "--lr"),
    ("sweep", "--steps"),
    ("sweep", "--tol"),
    ("phase", "--lrs"),
    ("phase", "--steps"),
    ("phase", "--tol"),
    ("fit", "--steps"),
    ("fit", "--epochs"),
    ("fit", "--batch-size"),
    ("fit", "--seed"),
    ("fit", "--lr"),
    ("fit", "--tol"),
    ("fit", "--rcond"),
    ("serve", "--port"),
    ("lesson", "--port"),
}


def test_every_numeric_option_is_in_the_arithmetic_test():
    import typer.main

    group = typer.main.get_command(app)
    numeric = {
        (name, option)
        for name, command in group.commands.items()  # type: ignore[attr-defined]
        for param in command.params
        if param.metavar in ("N", "NUMBER", "RATES")
        for option in param.opts
    }
    assert numeric == ARITHMETIC


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["grid", "b^2", "--range", "-1:1", "--num", "1e300"],
            "--num 1e300: the number of points must be at most 10,000,000",
        ),
        (
            ["run", "b^2", "--init", "1", "--lr", "0.1", "--steps", "1e300"],
            "--steps 1e300: the number of steps must be at most 2,147,483,646",
        ),
        (
            ["sweep", "b^2", "--init", "1", "--lr", "1e-4:10:log1e8"],
            "the number of rates must be at most 100,000",
        ),
        (["sweep", "b^2", "--init", "1", "--lr", "0.1", "--steps", "1e300"], "must be at most 2,147,483,646"),
        (
            ["run", "b^2", "--init", "1", "--lr", "0.1", "--frames", "1e300"],
            "--frames 1e300: the number of frames must be at most",
        ),
        (
            ["fit", "cafe", "--y", "y", "--x", "x", "--seed", "1e300"],
            "--seed 1e300: the seed must be at most 9,223,372,036,854,775,807",
        ),
        (
            ["fit", "cafe", "--y", "y", "--x", "x", "--epochs", "1e300"],
            "--epochs 1e300: the number of epochs must be at most",
        ),
        (
            ["sweep", "b^2", "--init", "1", "--lr", ",".join(["0.1"] * 100_001)],
            "--lr: 100,001 rates; at most 100,000",
        ),
    ],
)
def test_sizes_are_refused_with_the_limit_before_any_work(args, expected):
    output = _refused(args)
    assert expected in output and len(output) < 300


def test_a_long_run_with_a_tolerance_keeps_only_the_steps_it_takes():
    out = _json(
        ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.01", "--steps", "1000000000", "--tol", "1e-8"]
    )
    assert out["status"] == "converged" and out["steps"] == 4033


def test_a_parameter_that_cancels_is_a_loss_with_a_zero_gradient():
    out = _json(["run", "0*b + 5", "--init", "1", "--lr", "0.1", "--steps", "10"])
    assert out["final"] == {"b": 1.0} and out["final_loss"] == 5.0
    report = _json(["grad", "b - b + 1", "--at", "b=3"])
    assert report["gradient"][0]["autodiff"] == 0.0 and report["loss"] == 1.0


def test_a_loss_starting_with_a_minus_works_in_every_command():
    assert _json(["grad", "-b^2", "--at", "b=1"])["gradient"][0]["autodiff"] == -2.0
    assert _json(["grad", "-h^2", "--at", "h=1"])["gradient"][0]["autodiff"] == -2.0  # -h is not help
    assert _json(["grid", "-(b-3)^2", "--range", "-1:1", "--num", "3"])["best"] == {"b": -1.0}
    swept = _json(["sweep", "-exp(b)", "--init", "0", "--lr", "0.1", "--steps", "10"])
    assert swept["runs"][0]["final_loss"] < -1


def test_a_constant_typed_as_a_parameter_is_named():
    output = _refused(["run", "(e-1)^2", "--init", "1", "--lr", "0.1"])
    assert "e is a constant, not a parameter: name the parameter b, say" in output


def test_bad_data_is_named_by_data_not_by_at(tmp_path):
    (tmp_path / "t.csv").write_text("x,y\n1,2\n2,abc\n3,4\n")
    for command in (
        ["grad", "sum((y-b*x)^2)", "--at", "b=1"],
        ["run", "sum((y-b*x)^2)", "--init", "1", "--lr", "0.01"],
    ):
        output = _refused([*command, "--data", str(tmp_path / "t.csv")])
        assert (
            f"--data: column 'y' holds text, not numbers: 'abc' at row 1 (line 3 of {tmp_path / 't.csv'})"
            in output
        )
        assert "--at" not in output and "--init" not in output


def test_fit_takes_several_regressors_and_refuses_what_cannot_be_fitted(tmp_path):
    (tmp_path / "two.csv").write_text("x1,x2,y\n1,2,3\n2,1,4\n3,5,4\n4,4,6\n")
    out = _json(["fit", str(tmp_path / "two.csv"), "--y", "y", "--x", "x1,x2", "--method", "ols"])
    assert list(out["closed_form"]) == ["intercept", "x1", "x2"]
    assert out["closed_form"]["x1"] == pytest.approx(1.2) and out["closed_form"]["x2"] == pytest.approx(-0.3)
    assert "a column cannot explain itself" in _refused(
        ["fit", str(tmp_path / "two.csv"), "--y", "y", "--x", "y"]
    )
    (tmp_path / "one.csv").write_text("x,y\n1,2\n")
    output = _refused(["fit", str(tmp_path / "one.csv"), "--y", "y", "--x", "x"])
    assert "1 row but 2 coefficients" in output and "constant" not in output


def test_a_bad_out_is_refused_before_any_work(monkeypatch):
    import gdlab._descend
    import gdlab._grid

    def no_work(*args, **kwargs):
        raise AssertionError("the run started")

    monkeypatch.setattr(gdlab._descend, "descend", no_work)
    monkeypatch.setattr(gdlab._grid, "grid_search", no_work)
    assert ".gif, .mp4, .html, .png, .svg, .pdf, .csv, .json" in _refused(
        ["run", "b^2", "--init", "1", "--lr", "0.1", "--out", "x.avi"]
    )
    three = ["grid", "x^2+y^2+z^2", "--range", "x=-1:1,y=-1:1,z=-1:1", "--num", "5", "--out", "g3.png"]
    assert "a grid picture draws one or two parameters" in _refused(three)


def test_the_lecture_matrix_form_runs_with_a_vector_parameter():
    """X is the design matrix of --data (ones, then the columns the loss does not name); beta=[9,2]."""
    matrix = "(y - X@beta).T @ (y - X@beta)"
    out = _json(["run", matrix, "--init", "beta=[9,2]", "--lr", "1e-5", "--steps", "1", "--data", "cafe"])
    assert out["start"] == {"beta[0]": 9.0, "beta[1]": 2.0}
    # one step of the lecture's gradient (-126.78690966, -3208.83947888) at rate 1e-5
    assert out["final"]["beta[0]"] == pytest.approx(9 + 1e-5 * 126.78690966, rel=1e-12)
    assert out["final"]["beta[1]"] == pytest.approx(2 + 1e-5 * 3208.839478884, rel=1e-12)
    scalars = _json(
        [
            "run",
            "sum((y - b0 - b1*x)^2)",
            "--init",
            "b0=9,b1=2",
            "--lr",
            "1e-5",
            "--steps",
            "1",
            "--data",
            "cafe",
        ]
    )
    assert list(scalars["final"].values()) == pytest.approx(list(out["final"].values()), rel=1e-12)
    swept = _json(["sweep", matrix, "--init", "beta=[9,2]", "--lr", "1e-5,1e-4", "--data", "cafe"])
    assert [r["regime"] for r in swept["runs"]] == ["slow", "slow"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["grad", "sum(b^2)", "--at", "b=[1,2]"],
            "--at b=[1,2]: this command takes one number per parameter",
        ),
        (
            ["grid", "(y - X@beta).T @ (y - X@beta)", "--range", "beta=0:1", "--data", "cafe"],
            "use run or sweep with --init beta=[9,2]",
        ),
        (["run", "sum(b^2)", "--init", "b=[1,,2]", "--lr", "0.1"], "--init b=[1,,2]: a number is missing"),
        (["run", "b^2", "--init", "b=[1,2]", "--lr", "0.1"], "Reduce it, e.g. with sum(...) or mean(...)"),
        (["grad", "(y - X@beta).T @ (y - X@beta)", "--at", "beta=9"], "if they are data, pass --data"),
        (
            ["run", "(y - X@beta).T @ (y - X@beta)", "--init", "beta=9", "--lr", "0.1", "--data", "cafe"],
            "--init: the loss cannot be computed at these values: matmul input operand 1 must have ndim at "
            "least 1, but it has ndim 0; a matrix form (@) takes a vector, as in --init beta=[9,2]",
        ),
        (
            ["grad", "(y - X@beta).T @ (y - X@beta)", "--at", "beta=9", "--data", "cafe"],
            "takes a vector, as in --at beta=[9,2], which only run and sweep take",
        ),
        (
            ["grad", "sum((y - b*z)^2)", "--at", "b=1", "--data", "cafe"],
            "if z are data, they are not columns of --data (it has x, y)",  # the column y, not the option --y
        ),
        (
            ["run", "b^2", "--init", "1", "--lr", "0.1,0.2"],
            "--lr 0.1,0.2: give one number here, not several separated by commas; gdlab sweep takes several",
        ),
    ],
)
def test_vector_parameters_are_refused_where_they_cannot_be_used(args, expected):
    output = _refused(args)
    assert expected in output and "jnp." not in output


def test_a_file_in_the_way_of_a_folder_is_named_in_python_too(tmp_path):
    (tmp_path / "afile").write_text("")
    path = gdlab.descend("b^2", 1.0, lr=0.1, steps=3)
    for write in (path.to_csv, path.to_json):
        with pytest.raises(gdlab.InputError, match=r"afile is a file, not a folder"):
            write(tmp_path / "afile" / "x.out")


@pytest.mark.parametrize("steps", [10**20, 1e20, 1e300, float("inf")])
def test_python_refuses_the_same_sizes_with_the_limit(steps):
    """What the command line refuses, Python refuses alike: an InputError naming the limit."""
    for run in (
        lambda: gdlab.descend("b^2", 1.0, lr=0.1, steps=steps),
        lambda: gdlab.sweep("b^2", 1.0, lrs=[0.1], steps=steps),
    ):
        with pytest.raises(gdlab.InputError, match="steps must be a whole number <= 2,147,483,646"):
            run()


def test_a_data_column_named_e_is_the_column(tmp_path):
    (tmp_path / "e.csv").write_text("e,y\n1,2\n3,4\n")
    out = _json(["grad", "sum((y - b*e)^2)", "--at", "b=1", "--data", str(tmp_path / "e.csv")])
    (row,) = out["gradient"]
    assert row["derivative"] == "sum(2*e*(b*e - y))" and row["autodiff"] == row["symbolic"] == -8.0


def test_run_out_csv_is_python_to_csv_which_returns_the_path(tmp_path):
    out = _json(
        ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.5", "--steps", "3", "--out", str(tmp_path / "c.csv")]
    )
    path = gdlab.descend("(b/2-1)^2", -10.0, lr=0.5, steps=3)
    written = path.to_csv(tmp_path / "p.csv")
    assert written == tmp_path / "p.csv" and path.to_json(tmp_path / "p.json") == tmp_path / "p.json"
    assert (tmp_path / "c.csv").read_text() == written.read_text() and out["out"] == str(tmp_path / "c.csv")
    assert written.read_text().splitlines()[:2] == ["step,b,loss,grad b", "0,-10,36,-6"]


@pytest.mark.parametrize(
    ("loss", "start", "place"),
    [("-(b^2)", "0", "at a maximum of the loss"), ("x^2-y^2", "x=0,y=0", "at a saddle point")],
)
def test_a_start_where_the_gradient_vanishes_but_no_minimum_is_not_converged(loss, start, place):
    for tol in ([], ["--tol", "1e-8"]):
        out = _json(["run", loss, "--init", start, "--lr", "0.1", "--steps", "10", *tol])
        assert out["status"] == "stalled" and "converged" not in out["message"]
        assert f"the gradient vanished (norm 0) {place}, not a minimum" in out["message"]
    swept = _json(["sweep", loss, "--init", start, "--lr", "0.1,1", "--steps", "10", "--tol", "1e-8"])
    assert [r["regime"] for r in swept["runs"]] == ["stalled", "stalled"]


def test_methods_that_set_their_own_step_run_without_lr():
    """--lr was required, so lbfgs and newton (which refuse a rate) could not run from the command line."""
    for method in ("lbfgs", "newton"):
        out = _json(
            ["run", "(b/2-1)^2", "--init", "-10", "--method", method, "--steps", "20", "--tol", "1e-10"]
        )
        assert out["status"] == "converged" and out["final"]["b"] == pytest.approx(2.0)
        assert f"--method {method} sets its own step size: leave --lr out" in _refused(
            ["run", "(b/2-1)^2", "--init", "-10", "--method", method, "--lr", "1"]
        )
    needs = _refused(["run", "(b/2-1)^2", "--init", "-10"])
    assert "--method gd needs a learning rate: pass --lr 0.01, say" in needs
    fitted = _refused(["fit", "cafe", "--y", "y", "--x", "x", "--method", "newton", "--lr", "0.1"])
    assert "--method newton sets its own step size: leave --lr out" in fitted  # as run: one rule
    swept = _refused(["sweep", "(b/2-1)^2", "--init", "-10", "--lr", "0.1,1", "--method", "newton"])
    assert "--method newton sets its own step size, so a sweep of --lr rates cannot vary it" in swept


def test_serve_starts_the_lab_on_this_machine_only_by_default(monkeypatch):
    served: list[dict] = []
    monkeypatch.setattr("gdlab.web.serve", lambda **kwargs: served.append(kwargs))
    assert runner.invoke(app, ["serve"]).exit_code == 0
    assert runner.invoke(app, ["serve", "--port", "8000+1", "--open"]).exit_code == 0
    assert served == [
        {"host": "127.0.0.1", "port": 8000, "open_browser": False},
        {"host": "127.0.0.1", "port": 8001, "open_browser": True},
    ]
    result = runner.invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2 and "--port 70000" in result.output and "65,535" in result.output


def test_the_servers_collect_garbage_as_usual_the_one_shot_commands_rarely(monkeypatch):
    """main() makes Python's cyclic collector run rarely for a short command (it still runs, so a
    long command frees its cycles); a server lives long, so serve and lesson restore the usual
    thresholds before serving."""
    import gc

    from gdlab.cli._app import COMMAND_GC, SERVER_GC

    before = gc.get_threshold()
    collecting: list[tuple[bool, tuple[int, int, int]]] = []
    monkeypatch.setattr(
        "gdlab.web.serve", lambda **kwargs: collecting.append((gc.isenabled(), gc.get_threshold()))
    )
    monkeypatch.setattr("sys.argv", ["gdlab", "--version"])
    monkeypatch.setattr("gdlab.cli._app._leave", sys.exit)  # main() would end this process
    try:
        with pytest.raises(SystemExit):
            gdlab.cli.main()
        assert gc.isenabled() and gc.get_threshold() == COMMAND_GC
        for command in (["serve"], ["lesson", "--no-open"]):
            gc.set_threshold(*COMMAND_GC)
            assert runner.invoke(app, command).exit_code == 0
        assert collecting == [(True, SERVER_GC), (True, SERVER_GC)]
    finally:
        gc.set_threshold(*before)
        gc.enable()


def test_lesson_opens_the_lesson_in_a_browser(monkeypatch):
    served: list[dict] = []
    monkeypatch.setattr("gdlab.web.serve", lambda **kwargs: served.append(kwargs))
    assert runner.invoke(app, ["lesson"]).exit_code == 0
    options = ["--lang", "en", "--chapter", "grid", "--projector", "--no-open"]
    assert runner.invoke(app, ["lesson", *options]).exit_code == 0
    assert served == [
        {"host": "127.0.0.1", "port": 8000, "open_browser": True, "page": "/lesson?lang=ko"},
        {"host": "127.0.0.1", "port": 8000, "open_browser": False, "page": "/lesson?lang=en&c=grid&big=1"},
    ]
    result = runner.invoke(app, ["lesson", "--chapter", "gird"])
    assert result.exit_code == 2 and "did you mean grid?" in result.output
    assert runner.invoke(app, ["lesson", "--lang", "fr"]).exit_code == 2


@pytest.mark.parametrize("command", [["run", "--lr", "0.1"], ["grad"]])
def test_a_misspelt_column_in_a_loss_is_pointed_at_the_column_it_meant(tmp_path, command):
    """``wieght`` is no column of the file, so the loss reads it as a parameter; the refusal names
    the column it probably meant, for run and grad alike."""
    import pandas as pd

    path = tmp_path / "people.csv"
    pd.DataFrame({"height": [170.0, 180, 165], "weight": [70.0, 80, 60]}).to_csv(path, index=False)
    option = "--at" if command[0] == "grad" else "--init"
    args = [command[0], "mean((wieght - b0)^2)", option, "b0=0", "--data", str(path), *command[1:]]
    words = " ".join(_refused(args).split())
    assert f"{option}: give a value for wieght" in words
    assert "fix their names (wieght -> weight)" in words


@pytest.mark.parametrize("typed", ["nan", "-inf", "Infinity"])
def test_a_start_that_is_not_finite_is_named_as_such(typed):
    words = _refused(["run", "(b-1)^2", "--init", f"b={typed}", "--lr", "0.1"])
    assert f"--init b={typed}: give a finite number (not NaN or an infinity)" in words


def test_serve_on_a_busy_port_says_which_port_and_how_to_choose_another():
    """One line, exit 1, nothing announced before it (no URL, no server's own error)."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"error: port {port} is in use on 127.0.0.1"), result.output
    assert f"--port {port + 1}" in result.output and "http://" not in result.output
    assert result.output.count("\n") == 1


def test_serve_on_every_address_warns_in_words_and_gives_a_reachable_address(monkeypatch):
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: [s.close() for s in sockets or ()])
    import socket

    with socket.socket() as probe:  # a port free now
        probe.bind(("0.0.0.0", 0))
        port = probe.getsockname()[1]
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert "warning: serving on 0.0.0.0: other machines can reach this lab" in result.output, result.output
    assert "Warning:" not in result.output and "warnings.warn" not in result.output  # no source line
    assert "http://0.0.0.0" not in result.output and f"http://127.0.0.1:{port}/" in result.output


def test_help_paragraphs_are_not_broken_where_the_source_breaks_its_lines():
    """A docstring's paragraph reads as one line on a wide terminal (the help wraps it to the
    terminal, never where the source happened to break it); examples stay as written."""
    wide = {"COLUMNS": "200"}
    serve = [line.strip() for line in runner.invoke(app, ["serve", "--help"], env=wide).output.splitlines()]
    assert any(line.startswith("It listens on") and line.endswith("Ctrl-C stops it.") for line in serve), (
        serve
    )
    lesson = [line.strip() for line in runner.invoke(app, ["lesson", "--help"], env=wide).output.splitlines()]
    assert any(line.startswith("Nine chapters") and line.endswith("Ctrl-C stops it.") for line in lesson)
    assert "gdlab lesson --lang en --chapter grid --projector" in lesson


def test_python_dash_m_gdlab_is_the_command_line():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "gdlab", "run", "(b/2-1)^2", "--init", "-10", "--lr", "0.5", "--steps", "3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "(b/2-1)**2" in done.stdout and "--steps 3" in done.stdout


def test_a_value_that_holds_another_setting_is_told_to_use_commas():
    """``--init "a=1 b=3"`` (a space where a comma goes) is refused saying how to write it, in run
    as in fit, instead of a complaint about the character '='."""
    result = runner.invoke(app, ["run", "(a-1)^2+(b-2)^2", "--init", "a=1 b=3", "--lr", "0.1"])
    assert result.exit_code == 2
    assert "--init a=1 b=3: separate the values with commas, as in --init a=1,b=3" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["sweep", "(b/2-1)^2", "--init", "-10", "--lr", "1e-3:10:log8", "--steps", "100"],
        ["phase", "(b/2-1)^2", "--init", "-10", "--lrs", "1e-3:10:4", "--steps", "50"],
        ["grid", "(b/2-1)^2", "--range", "-10:10", "--num", "20"],
        ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.5", "--steps", "20"],
    ],
)
def test_every_picture_command_takes_lang(tmp_path, command):
    """--lang ko draws the command's picture in Korean, as the library's lang="ko" draws it; an
    unknown language is refused before the work (--lang was 'did you mean --lr?')."""
    out = tmp_path / "picture.png"
    done = CliRunner().invoke(app, [*command, "--out", str(out), "--lang", "ko"])
    assert done.exit_code == 0, done.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    refused = CliRunner().invoke(app, [*command, "--out", str(out), "--lang", "fr"])
    assert refused.exit_code == 2 and "--lang fr is unknown: choose one of en, ko" in refused.output
