import json
import re
import shlex
import subprocess
import sys

import pytest
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
        (["run", "(b/2-1)^2", "--init", "-10", "--lr", "fast"], "unknown name 'fast'"),
        (["run", "(b/2-1)^2", "--init", "-10", "--lr", "-1"], "lr must be"),
        (
            ["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.1", "--out", "/no/such/dir/x.gif"],
            "does not exist",
        ),
        (["run", "(b/2-1)^2", "--init", "-10", "--lr", "0.1", "--out", "x.jpg"], "not supported"),
        (["sweep", "(b/2-1)^2", "--init", "-10", "--lr", "1:2:lots"], "whole number"),
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
    examples = []
    for command in ("grad", "grid", "run", "sweep", "fit", "demo"):
        text = runner.invoke(app, [command, "--help"], terminal_width=200).output
        examples += [line.strip() for line in text.splitlines() if line.strip().startswith("gdlab ")]
    assert len(examples) >= 7
    for example in examples:
        args = shlex.split(example)[1:]
        if args[0] == "demo":
            args.append("--no-pictures")
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"{example}: {result.output}"


def test_every_command_line_example_in_the_readme_runs(tmp_path, monkeypatch):
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.S)
    examples = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    examples = [line for line in examples if line.startswith("gdlab ")]
    assert len(examples) >= 7
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
    assert result.exit_code == 0 and "not finite at the start" in json.loads(result.stdout)["message"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grad", "x[20]*b", "--at", "b=1", "--data", "cafe"], "index 20 is out of range"),
        (["grad", "log(b-1)", "--at", "b=1"], "choose a point where it is finite"),
        (["grad", "sqrt(b)", "--at", "b=0"], "the gradient is not finite"),
        (["grad", "sum((y-b*x)^2)", "--at", "b=1"], "pass --data"),
        (["sweep", "b^2", "--init", "1", "--lr", "1e-3:1:log200000"], "at most 100,000 rates"),
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
        (["sweep", "b^2", "--init", "1", "--lr", "1e-4:10:log0"], "--lr 1e-4:10:log0: num must be"),
        (["run", "b^2", "--init", "1", "--lr", "0.1", "--steps", "2.5"], "--steps 2.5: give a whole number"),
        (["grad", "(b/2-1)^2", "--at", "b=1", "--at", "b=2"], "b is given twice"),
        (["run", "b^2", "--init", "1", "--lr", "0.1", "--out", "x.avi"], ".csv, .json"),
        (
            ["grid", "x^2+y^2+z^2", "--range", "x=-1:1,y=-1:1,z=-1:1", "--num", "5", "--out", "g3.png"],
            "a grid picture draws one or two parameters",
        ),
        (
            ["grid", "(x-1)^2+(y-2)^2", "--range", "x=-10:10,y=-10:10", "--num", "100000"],
            "10,000,000,000 grid points: at most 10,000,000",
        ),
        (["run", "b^2", "--init", "1", "--lr", "0.1", "--steps", "99999999999999999999"], "steps must be"),
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
