"""`gdlab fit`: a thin front end over gdlab.fit for linear, logistic and formula models."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gdlab.cli import app
from gdlab.fitting._fit import fit
from nls_problems import misra1a

runner = CliRunner()


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fit")
    rng = np.random.default_rng(3)
    a = rng.normal(size=120)
    passed = (rng.uniform(size=120) < 1 / (1 + np.exp(-(0.5 + 1.5 * a)))).astype(int)
    pd.DataFrame({"a": a, "b": rng.normal(size=120), "pass": passed}).to_csv(folder / "exam.csv", index=False)
    problem = misra1a()
    pd.DataFrame({"x": problem.x, "y": problem.y}).to_csv(folder / "misra.csv", index=False)
    return folder


def test_logistic_from_the_command_line_equals_the_library(files):
    out = _json(
        ["fit", str(files / "exam.csv"), "--y", "pass", "--x", "a", "--x", "b", "--family", "logistic"]
    )
    expected = fit(files / "exam.csv", y="pass", x="a,b", family="logistic")
    assert out["family"] == "logistic" and out["method"] == "newton"
    assert out["coefficients"] == pytest.approx(expected.coefficients, rel=1e-12)
    assert out["std_errors"]["a"] == pytest.approx(float(expected.stats.se[1]), rel=1e-12)


def test_a_formula_with_starts_and_a_picture(files):
    picture = files / "misra.png"
    args = [
        "fit",
        str(files / "misra.csv"),
        "--y",
        "y",
        "--model",
        "b1*(1-exp(-b2*x))",
        "--init",
        "b1=500,b2=1e-4",
    ]
    out = _json([*args, "--out", str(picture)])
    assert out["method"] == "lm" and out["model"] == "b1*(1-exp(-b2*x))"
    assert out["coefficients"]["b1"] == pytest.approx(2.3894212918e02, rel=1e-9)  # NIST's certified value
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = runner.invoke(app, args).output
    assert text.startswith("Fit(y ~ b1*(1-exp(-b2*x)), lm, 14 rows)") and "converged at step" in text


def test_a_fit_animates_step_by_step_as_the_library_animates_it(files):
    """--out fit.gif animates the fit (a frame a step where it took fewer than 100), as
    gdlab.animate(fit) does; its last frame is the picture --out fit.png draws."""
    from PIL import Image

    import gdlab

    args = ["fit", str(files / "misra.csv"), "--y", "y", "--model", "b1*(1-exp(-b2*x))"]
    args += ["--init", "b1=500,b2=1e-4"]
    movie, still = files / "misra.gif", files / "misra-last.png"
    result = runner.invoke(app, [*args, "--out", str(movie)])
    assert result.exit_code == 0, result.output
    assert f"wrote {movie}" in " ".join(result.output.split())
    mine = fit(files / "misra.csv", y="y", model="b1*(1-exp(-b2*x))", init={"b1": 500, "b2": 1e-4})
    with Image.open(movie) as image:
        assert image.n_frames == mine.steps + 1 and image.size == (1000, 440)
    assert runner.invoke(app, [*args, "--out", str(still)]).exit_code == 0
    with Image.open(still) as image:
        assert image.size == gdlab.animate(mine).size


def test_a_fits_picture_in_korean_from_the_command_line(files):
    """--lang ko draws --out's picture in Korean, the same picture as fit.plot(lang="ko"); a
    language without words is refused before the fit runs."""
    import gdlab

    args = ["fit", str(files / "misra.csv"), "--y", "y", "--model", "b1*(1-exp(-b2*x))"]
    args += ["--init", "b1=500,b2=1e-4"]
    picture = files / "misra-ko.png"
    result = runner.invoke(app, [*args, "--out", str(picture), "--lang", "ko"])
    assert result.exit_code == 0, result.output
    mine = fit(files / "misra.csv", y="y", model="b1*(1-exp(-b2*x))", init={"b1": 500, "b2": 1e-4})
    theirs = files / "misra-ko-library.png"
    gdlab.save_figure(mine.plot(lang="ko"), theirs)
    assert picture.read_bytes() == theirs.read_bytes()
    refused = runner.invoke(app, [*args, "--out", str(picture), "--lang", "kr"])
    assert refused.exit_code == 2 and "--lang kr is unknown: choose one of en, ko" in refused.output


def test_ols_prints_standard_errors_and_r2(files):
    result = runner.invoke(app, ["fit", "cafe", "--y", "y", "--x", "x", "--method", "ols", "--no-intercept"])
    assert result.exit_code == 0 and "Multiple R-squared: " in result.output and "std error" in result.output
    assert "Fit(y ~ x - 1, ols, 10 rows)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--y", "a", "--x", "pass", "--family", "logistic"], "column 'a' must hold only 0 and 1"),
        (["--y", "pass", "--model", "b1*exp(b2*aa)"], "did you mean 'a'"),
        (["--y", "pass", "--model", "b1*a", "--init", "b1"], "--init b1: write name=value"),
        (
            ["--y", "pass", "--model", "b1*a+b2", "--init", "b1=1 b2=3"],
            "separate the values with commas, as in --init b1=1,b2=3",
        ),
        (["--y", "pass", "--x", "a", "--out", "fit.csv"], "--out fit.csv: .csv is not supported here"),
        (
            ["--y", "pass", "--x", "a", "--method", "ols", "--out", "fit.gif"],
            "no steps to animate: fit with --method gd or another iterative method ('momentum', "
            "'adam', 'newton', 'lbfgs', 'sgd'; 'lm' or 'gauss-newton' for a formula), or draw this "
            "one as a picture (--out fit.png)",
        ),
        (["--y", "pass"], "name the regressors"),
        (
            ["--y", "pass", "--x", "a", "b"],
            "'b' is not a formula (it has no '~'), and --y names the columns: to give several "
            "regressors, name them all in --x a,b (repeat --x, or x1,x2)",
        ),
    ],
)
def test_mistakes_exit_2_with_the_message(files, args, message):
    result = runner.invoke(app, ["fit", str(files / "exam.csv"), *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_the_options_its_messages_name_exist_and_bad_models_exit_2(files):
    csv = str(files / "exam.csv")
    loose = _json(["fit", csv, "--y", "a", "--x", "b", "--method", "adam", "--tol", "1e-3"])
    tight = _json(["fit", csv, "--y", "a", "--x", "b", "--method", "adam", "--tol", "1e-12"])
    assert loose["steps"] < tight["steps"]  # --tol, which the descent messages name, is honoured
    named = runner.invoke(app, ["fit", csv, "--y", "a"])
    assert named.exit_code == 2 and "--x temp (repeat --x, or x1,x2)" in named.output
    assert "--model 'b1*(1-exp(-b2*temp))'" in named.output and "x=" not in named.output
    constant = runner.invoke(app, ["fit", csv, "--y", "a", "--model", "2*b"])
    assert constant.exit_code == 2 and "has no parameters to fit" in constant.output
    cut = runner.invoke(app, ["fit", csv, "--y", "a", "--x", "b", "--rcond", "2"])
    assert cut.exit_code == 2 and "--rcond must be a number in [0, 1)" in cut.output
    streamed = runner.invoke(app, ["fit", csv, "--y", "a", "--x", "b", "--stream"])
    assert streamed.exit_code == 2 and "--stream needs a Parquet file" in streamed.output


def test_a_fits_sentences_name_the_command_lines_options_in_text_and_json(tmp_path):
    """The rate's source and the engine's ending, in --json and in the table: --lr and --tol, never
    the Python keywords lr= and tol."""
    rng = np.random.default_rng(0)
    h, a = rng.normal(170, 10, 200), rng.uniform(20, 60, 200)
    path = tmp_path / "people.csv"
    pd.DataFrame({"height": h, "age": a, "weight": 0.5 * h + 0.1 * a + rng.normal(0, 3, 200)}).to_csv(
        path, index=False
    )
    args = ["fit", str(path), "--y", "weight", "--x", "height,age", "--method", "adam"]
    done = runner.invoke(app, [*args, "--json"])
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout)
    assert "give --lr to change it" in out["lr_source"] and "<= --tol " in out["message"]
    text = " ".join(runner.invoke(app, args).output.split())
    assert "give --lr to change it" in text and "<= --tol " in text and "lr=" not in text


def test_robust_standard_errors_from_the_command_line(files):
    from gdlab.fitting._fit import fit

    args = ["fit", "cafe", "--y", "y", "--x", "x", "--method", "ols", "--cov", "HC3"]
    out = _json(args)
    expected = fit("cafe", y="y", x="x", cov="HC3").stats
    assert out["statistics"]["cov_type"] == "HC3" and expected is not None
    assert list(out["std_errors"].values()) == pytest.approx(expected.se, rel=1e-12)
    result = runner.invoke(app, [*args[:-1], "HC4"])
    said = "--cov HC4 is unknown: did you mean 'HC3'? choose one of nonrobust, HC0"
    assert result.exit_code == 2 and said in result.output
    result = runner.invoke(app, [*args[:-1], "cluster"])
    needs = "--cov cluster needs the column of cluster labels: give --groups firm"
    assert result.exit_code == 2 and needs in result.output


def test_a_formula_with_a_category_from_the_command_line_equals_statsmodels(tmp_path):
    smf = pytest.importorskip("statsmodels.formula.api")
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {"y": rng.normal(size=50), "x": rng.normal(size=50), "g": rng.choice(list("pqr"), 50)}
    )
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = _json(["fit", str(tmp_path / "d.csv"), "y ~ x*C(g)"])
    theirs = smf.ols("y ~ x*C(g)", frame).fit()
    assert list(out["coefficients"]) == list(theirs.params.index)
    np.testing.assert_allclose(list(out["coefficients"].values()), theirs.params, rtol=1e-9)
    np.testing.assert_allclose(list(out["std_errors"].values()), theirs.bse, rtol=1e-9)
    assert out["formula"] == "y ~ x*C(g)" and out["levels"] == {"g": ["p", "q", "r"]}
    printed = runner.invoke(app, ["fit", str(tmp_path / "d.csv"), "y ~ x*C(g)"]).output
    assert "C(g): reference level 'p' (3 levels)" in printed and "x:C(g)[T.r]" in printed


@pytest.mark.parametrize(
    ("formula", "words"),
    [
        ("y ~ x.__class__", "attribute .__class__ is not allowed"),
        ("y ~ __import__('os')", "is not allowed"),
        ("y ~ eval(x)", "unknown"),
    ],
)
def test_a_hostile_formula_on_the_command_line_is_refused_with_exit_2(tmp_path, formula, words):
    pd.DataFrame({"y": [1.0, 2.0, 3.5], "x": [0.0, 1.0, 2.0]}).to_csv(tmp_path / "d.csv", index=False)
    result = runner.invoke(app, ["fit", str(tmp_path / "d.csv"), formula])
    assert result.exit_code == 2 and words in result.output


def test_a_formula_beside_y_or_no_intercept_is_refused_in_the_command_line_s_words(tmp_path):
    pd.DataFrame({"y": [1.0, 2.0, 3.5], "x": [0.0, 1.0, 2.0]}).to_csv(tmp_path / "d.csv", index=False)
    both = runner.invoke(app, ["fit", str(tmp_path / "d.csv"), "y ~ x", "--y", "y"], terminal_width=400)
    assert both.exit_code == 2 and "give a formula or --y, not both" in both.output
    bare = runner.invoke(app, ["fit", str(tmp_path / "d.csv"), "y ~ x", "--no-intercept"], terminal_width=400)
    assert bare.exit_code == 2 and "write '- 1' or '+ 0' in it instead of --no-intercept" in bare.output


def test_a_missing_start_is_shown_as_the_init_option_is_typed(tmp_path):
    from typer.testing import CliRunner

    from gdlab.cli import app

    (tmp_path / "e.csv").write_text("t,yd\n0,3\n1,2.2\n2,1.7\n3,1.4\n4,1.25\n5,1.15\n")
    args = ["fit", str(tmp_path / "e.csv"), "--y", "yd", "--model", "a*exp(-k*t)+c", "--init", "a=1,k=0.1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "as in --init a=1,k=1,c=1" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        # Gauss-Newton leaving the finite numbers: its sentence names a method and the start
        (
            {"model": "b1*(1-exp(-b2*t))", "init": {"b1": 1.0, "b2": 0.1}, "method": "gauss-newton"},
            ["--method lm", "(--init)"],
        ),
        # a descent beside the closed form that runs out of steps
        ({"x": "t", "method": "gd", "steps": 3, "standardize": False}, ["raise --steps"]),
        # a descent beside the closed form whose rate is past 2/L
        ({"x": "t", "method": "gd", "lr": 5.0, "steps": 50}, ["lower --lr"]),
    ],
)
def test_a_fits_every_sentence_names_the_command_lines_options(kwargs, words):
    """A fit's ending and warnings are sentences each front end words: the command line's summary
    says --method lm, not method='lm', and says each thing once."""
    import gdlab
    from gdlab.cli._options import CLI

    t = np.arange(1.0, 15.0)
    data = {"t": t, "y": 3 * (1 - np.exp(-0.4 * t)) + 0.01 * np.sin(t)}
    said = gdlab.fit(data, y="y", **kwargs).summary(CLI)
    for word in words:
        assert word in said, said
    for python in ("method='lm'", "(init)", "raise steps", "lower lr"):
        assert python not in said, said
    lines = [line.strip() for line in said.splitlines() if ":" in line]
    assert len(lines) == len(set(lines)), said


def test_a_formulas_start_with_no_number_says_which_and_a_linear_setting_is_refused(tmp_path):
    path = tmp_path / "rise.csv"
    t = np.linspace(0.0, 8.0, 12)
    path.write_text(
        "t,y\n" + "".join(f"{a},{3 * (1 - np.exp(-0.7 * a)) + 0.01 * np.sin(5 * a)}\n" for a in t)
    )
    args = ["fit", str(path), "--y", "y", "--model", "b1*(1-exp(-b2*t))"]
    result = runner.invoke(app, [*args, "--init", "b1=1,b2="])
    assert result.exit_code == 2 and "--init b2=: a number is missing" in result.output
    result = runner.invoke(app, [*args, "--x", "t"])
    assert (
        result.exit_code == 2
        and "give --x (a linear model) or --model (a formula), not both" in result.output
    )
    result = runner.invoke(app, [*args, "--no-intercept"])
    assert result.exit_code == 2 and "--no-intercept sets a linear model's design" in result.output
    result = runner.invoke(app, [*args, "--init", "b1=1,b2=0.5", "--method", "levenberg-marquardt", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["method"] == "lm"
