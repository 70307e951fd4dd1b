"""Wilkinson formulas with categories (``gdlab.fit(data, "y ~ x + C(g)")``): the design, the names
and every statistic against statsmodels' formula API on a data set it ships (Fair's affairs), the
same fit over Parquet files and a Dask cluster, predictions coded with the fit's levels, and
hostile formulas refused by gdlab's expression compiler."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from numpy import log  # noqa: F401  (statsmodels' formulas evaluate log(...) from this namespace)

import gdlab
from gdlab import InputError
from gdlab.fitting._wilkinson import Coding, parse_formula

FAITHS = {1.0: "none", 2.0: "slight", 3.0: "fair", 4.0: "strong"}
TERMS = "age + C(faith) + log(yrs_married) + age:educ"


def _fair() -> pd.DataFrame:
    frame = sm.datasets.fair.load_pandas().data.copy()
    frame["faith"] = frame["religious"].map(FAITHS)
    frame["had"] = (frame["affairs"] > 0).astype(float)
    frame["rating"] = frame["rate_marriage"].astype(float)
    frame["block"] = np.arange(len(frame)) // 25  # clusters of 25 rows in the data's order
    return frame


def _close(mine, theirs, rel=1e-8):
    np.testing.assert_allclose(
        np.asarray(mine, dtype=float), np.asarray(theirs, dtype=float), rtol=rel, atol=0
    )


def test_the_columns_and_their_names_are_patsys():
    levels = {"g": ("a", "b", "c"), "h": ("u", "v")}
    expected = {
        "y ~ x1:x3 + x1 + C(g) + log(x2)": ["Intercept", "C(g)[T.b]", "C(g)[T.c]", "x1:x3", "x1", "log(x2)"],
        "y ~ x1*C(g) - 1": ["C(g)[a]", "C(g)[b]", "C(g)[c]", "x1", "x1:C(g)[T.b]", "x1:C(g)[T.c]"],
        "y ~ C(g):x1": ["Intercept", "C(g)[a]:x1", "C(g)[b]:x1", "C(g)[c]:x1"],
        "y ~ C(g):C(h)": [
            "Intercept",
            "C(h)[T.v]",
            "C(g)[T.b]:C(h)[u]",
            "C(g)[T.c]:C(h)[u]",
            "C(g)[T.b]:C(h)[v]",
            "C(g)[T.c]:C(h)[v]",
        ],
        "y ~ C(g) + C(h) + 0": ["C(g)[a]", "C(g)[b]", "C(g)[c]", "C(h)[T.v]"],
        "y ~ g + x1": ["Intercept", "g[T.b]", "g[T.c]", "x1"],
        "y ~ C(g, Treatment(reference='b'))": [
            "Intercept",
            "C(g, Treatment(reference='b'))[T.a]",
            "C(g, Treatment(reference='b'))[T.c]",
        ],
    }
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "y": rng.normal(size=40),
            "x1": rng.normal(size=40),
            "x2": rng.uniform(1, 2, 40),
            "x3": rng.normal(size=40),
            "g": rng.choice(list("abc"), 40),
            "h": rng.choice(list("uv"), 40),
        }
    )
    for formula, names in expected.items():
        assert list(Coding.of(parse_formula(formula), levels).names) == names, formula
        if "reference" not in formula:  # patsy writes the quotes as typed; formulaic as 'b'
            theirs = smf.ols(formula, frame).fit()
            assert list(theirs.params.index) == names
            _close(gdlab.fit(frame, formula).coef, theirs.params, 1e-9)


@pytest.mark.parametrize("cov", ["nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"])
def test_ols_with_a_category_and_an_interaction_equals_statsmodels(cov):
    frame = _fair()
    formula = f"affairs ~ {TERMS}"
    kw = {"cov_kwds": {"groups": frame["block"]}} if cov == "cluster" else {}
    theirs = smf.ols(formula, frame).fit(cov_type=cov, use_t=True, **kw)
    mine = gdlab.fit(frame, formula, cov=cov, groups="block" if cov == "cluster" else None)
    assert list(mine.names) == list(theirs.params.index)
    assert mine.names[1] == "C(faith)[T.none]"
    s = mine.stats
    _close(mine.coef, theirs.params)
    _close(s.se, theirs.bse)
    _close(mine.conf_int(0.1), theirs.conf_int(0.1))
    assert s.model_test.statistic == pytest.approx(theirs.fvalue, rel=1e-8)
    assert s.aic == pytest.approx(theirs.aic, rel=1e-10) and s.bic == pytest.approx(theirs.bic, rel=1e-10)
    if cov in ("nonrobust", "HC3"):  # the term's F test, its coefficients named as statsmodels names them
        levels = ("C(faith)[T.none]", "C(faith)[T.slight]", "C(faith)[T.strong]")
        expected = theirs.f_test(", ".join(f"{n} = 0" for n in levels))
        found = mine.test(" = ".join(levels) + " = 0")
        assert found.statistic == pytest.approx(float(np.squeeze(expected.fvalue)), rel=1e-8)
        assert found.pvalue == pytest.approx(float(expected.pvalue), rel=1e-7)
        with pytest.raises(InputError, match=r"cannot read the restriction C\(faith\)\[T.nne\] = 0"):
            mine.test("C(faith)[T.nne] = 0")
    table = mine.to_pandas()
    assert list(table.index) == list(theirs.params.index)
    assert mine.to_dict()["levels"]["faith"] == ["fair", "none", "slight", "strong"]
    assert "C(faith): reference level 'fair' (4 levels)" in mine.summary()


@pytest.mark.parametrize("interval", ["confidence", "prediction"])
def test_predictions_code_new_rows_with_the_fits_levels(interval):
    frame = _fair()
    formula = f"affairs ~ {TERMS}"
    theirs = smf.ols(formula, frame).fit()
    mine = gdlab.fit(frame, formula)
    new = frame.iloc[[3, 70, 500, 2]][["age", "faith", "yrs_married", "educ"]]  # not every level
    expected = theirs.get_prediction(new).summary_frame(alpha=0.1)
    found = mine.predict(new, interval=interval, alpha=0.1)
    _close(mine.predict(new), theirs.predict(new))
    kind = "mean_ci" if interval == "confidence" else "obs_ci"
    _close(found["mean"], expected["mean"])
    _close(found["lower"], expected[f"{kind}_lower"])
    _close(found["upper"], expected[f"{kind}_upper"])
    unseen = new.assign(faith=["none", "devout", "fair", "fair"])
    with pytest.raises(
        InputError, match=r"column 'faith' holds 'devout' at row 1, which is not one of the levels"
    ):
        mine.predict(unseen)


def test_weighted_least_squares_with_a_formula_equals_statsmodels_wls():
    frame = _fair()
    formula = f"affairs ~ {TERMS}"
    theirs = smf.wls(formula, frame, weights=frame["educ"]).fit()
    mine = gdlab.fit(frame, formula, weights="educ")
    _close(mine.coef, theirs.params)
    _close(mine.stats.se, theirs.bse)
    _close(mine.conf_int(), theirs.conf_int())
    assert mine.stats.aic == pytest.approx(theirs.aic, rel=1e-8)
    new = frame.iloc[[1, 50, 300]]  # a new row's weight is 1, as statsmodels' get_prediction takes it
    expected = theirs.get_prediction(new).summary_frame(alpha=0.05)
    for interval, kind in (("confidence", "mean_ci"), ("prediction", "obs_ci")):
        found = mine.predict(new, interval=interval)
        _close(found["lower"], expected[f"{kind}_lower"])
        _close(found["upper"], expected[f"{kind}_upper"])


@pytest.mark.parametrize("cov", ["nonrobust", "HC0"])
def test_logistic_with_a_formula_equals_statsmodels_logit(cov):
    frame = _fair()
    formula = f"had ~ {TERMS}"
    theirs = smf.logit(formula, frame).fit(disp=0, tol=1e-12, cov_type=cov)
    mine = gdlab.fit(frame, formula, family="logit", cov=cov)
    assert list(mine.names) == list(theirs.params.index)
    _close(mine.coef, theirs.params)
    _close(mine.stats.se, theirs.bse)
    _close(mine.conf_int(), theirs.conf_int())
    assert mine.stats.aic == pytest.approx(theirs.aic, rel=1e-9)
    new = frame.iloc[[5, 9]]
    _close(mine.predict(new), theirs.predict(new))


def test_poisson_with_a_formula_equals_statsmodels_glm():
    frame = _fair()
    formula = f"rating ~ {TERMS}"
    theirs = smf.glm(formula, frame, family=sm.families.Poisson()).fit(tol=1e-12)
    mine = gdlab.fit(frame, formula, family="poisson")
    _close(mine.coef, theirs.params)
    _close(mine.stats.se, theirs.bse)
    _close(mine.conf_int(), theirs.conf_int())
    assert mine.stats.aic == pytest.approx(theirs.aic, rel=1e-9)
    assert mine.stats.deviance == pytest.approx(theirs.deviance, rel=1e-9)
    _close(mine.predict(frame.iloc[:4]), theirs.predict(frame.iloc[:4]))


def test_the_same_formula_on_parquet_files_equals_the_fit_in_memory(tmp_path):
    frame = _fair()[["affairs", "rating", "age", "faith", "yrs_married", "educ"]]
    for i, part in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[part].to_parquet(tmp_path / f"part-{i}.parquet")
    cases = (
        (f"affairs ~ {TERMS}", "linear"),
        (f"rating ~ {TERMS}", "poisson"),
        ("affairs ~ faith * age + C(rating, Treatment(reference=3))", "linear"),  # text read bare; numbers
    )
    for formula, family in cases:
        memory = gdlab.fit(frame, formula, family=family)
        streamed = gdlab.fit(tmp_path, formula, family=family)
        assert streamed.names == memory.names
        _close(streamed.coef, memory.coef, 1e-10)
        _close(streamed.stats.se, memory.stats.se, 1e-10)


def test_a_streamed_formula_reads_its_own_columns_and_no_other(tmp_path):
    """A Parquet file's text columns that the formula does not name are not read (they were
    refused as "holds text, not numbers", with advice no option could follow)."""
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"x": rng.normal(size=60), "g": rng.choice(list("abc"), 60), "note": ["ok"] * 60})
    frame["y"] = 1 + 2 * frame.x + (frame.g == "b") + rng.normal(size=60)
    frame.to_parquet(tmp_path / "shops.parquet")
    for formula in ("y ~ x", "y ~ x + C(g)"):
        streamed = gdlab.fit(tmp_path / "shops.parquet", formula, stream=True)
        memory = gdlab.fit(frame[["x", "g", "y"]], formula)
        assert streamed.names == memory.names
        _close(streamed.coef, memory.coef, 1e-10)


def test_the_same_formula_on_a_dask_cluster_equals_the_fit_in_memory():
    dd = pytest.importorskip("dask.dataframe")
    from helpers import local_cluster

    frame = _fair()[["affairs", "had", "age", "faith", "yrs_married", "educ"]]
    with local_cluster(workers=2) as (_, client):  # worker processes: the coding travels pickled
        data = dd.from_pandas(frame, npartitions=4)
        for formula, family in ((f"affairs ~ {TERMS}", "linear"), (f"had ~ {TERMS}", "logistic")):
            memory = gdlab.fit(frame, formula, family=family)
            remote = gdlab.fit(data, formula, family=family, client=client)
            assert remote.names == memory.names
            _close(remote.coef, memory.coef, 1e-10)
            _close(remote.stats.se, memory.stats.se, 1e-10)


def test_a_text_column_passed_as_x_gets_a_hint_toward_a_formula():
    with pytest.raises(InputError, match=r"holds text.*give a formula.*\"affairs ~ age \+ C\(faith\)\""):
        gdlab.fit(_fair(), y="affairs", x="age,faith")


@pytest.mark.parametrize(
    ("formula", "said"),
    [
        ("affairs ~ age.__class__", "attribute .__class__ is not allowed"),
        ("affairs ~ __import__('os')", "is not allowed"),
        ("affairs ~ open('/etc/passwd')", "is not allowed"),
        ("affairs ~ I((lambda: 1)())", "only the listed functions"),
        ("affairs ~ __builtins__", "may not start with an underscore"),
        ("affairs ~ system(age)", "only the listed functions|unknown"),
        ("affairs ~ C(faith.__class__)", "not a category gdlab reads"),
        ("affairs ~ C(faith, Sum)", "not a category gdlab reads"),
        ("affairs ~ age | faith", "several parts"),
        ("affairs", "has no '~'"),
    ],
)
def test_hostile_and_unknown_formulas_are_refused_without_evaluation(formula, said):
    with pytest.raises(InputError, match=said):
        gdlab.fit(_fair(), formula)


def test_a_formula_and_y_together_are_refused_and_a_huge_power_is_said():
    with pytest.raises(InputError, match="give a formula or y, not both"):
        gdlab.fit(_fair(), "affairs ~ age", y="affairs")
    with pytest.raises(InputError, match=r"I\(age \*\* 10 \*\* 10\) is inf at row 0"):
        gdlab.fit(_fair(), "affairs ~ I(age**10**10)")


def test_dropped_rows_a_descent_beside_and_the_picture_of_a_formula_fit():
    frame = _fair().iloc[:400].copy()
    frame.loc[frame.index[3], "age"] = np.nan
    frame.loc[frame.index[8], "faith"] = None
    theirs = smf.ols(f"affairs ~ {TERMS}", frame.dropna(subset=["age", "faith"])).fit()
    mine = gdlab.fit(frame, f"affairs ~ {TERMS}", dropna=True, method="gd", steps=20000)
    assert mine.dropped == 2 and mine.n == 398
    assert "(2 observations deleted due to missingness" in mine.summary()
    _close(mine.closed_form, theirs.params)
    assert mine.max_difference < 1e-6
    figure = mine.plot()
    assert figure.get_suptitle() == f"affairs ~ {TERMS}: gd on standardised regressors"
    assert figure.axes[0].get_xlabel() == "fitted"  # several regressors: observed against fitted
    with pytest.raises(InputError, match="missing value"):
        gdlab.fit(frame, f"affairs ~ {TERMS}")


def test_a_design_too_wide_is_refused_before_its_columns_are_made():
    levels = {"a": tuple(float(i) for i in range(200)), "b": tuple(str(i) for i in range(200))}
    with pytest.raises(InputError, match=r"the term C\(a\):C\(b\) makes 39,800 columns"):
        Coding.of(parse_formula("y ~ C(a):C(b)"), levels)


def test_a_linear_or_logistic_formula_is_fitted_and_tested_without_importing_jax_or_optax(tmp_path):
    """A script's one-off fit (a category, a function of a column) never pays for JAX: the closed
    form and Newton's method are NumPy's, each factor's expression is evaluated by its NumPy form,
    and a Wald test's restrictions are read with exact derivatives by it too."""
    from fresh import run_fresh

    rng = np.random.default_rng(3)
    data = pd.DataFrame({"x": rng.uniform(1, 3, 80), "g": rng.choice(list("abc"), 80)})
    data["y"] = 2 * np.log(data.x) + (data.g == "b") + rng.normal(size=80)
    data["z"] = (rng.random(80) < 1 / (1 + np.exp(-(data.x - 2)))).astype(float)
    data.to_csv(tmp_path / "d.csv", index=False)
    script = (
        "import pandas as pd, gdlab\n"
        f"data = pd.read_csv({str(tmp_path / 'd.csv')!r})\n"
        "fit = gdlab.fit(data, 'y ~ log(x) + C(g) + I(x**2)')\n"
        "fit.summary(); fit.predict(data)\n"
        "bare = gdlab.fit(data, y='y', x='x')\n"
        "wald = fit.test('C(g)[T.b] = C(g)[T.c] = 0').statistic\n"
        "logit = gdlab.fit(data, 'z ~ x + C(g)', family='logistic')\n"
        "logit.summary(); logit.predict(data, interval='confidence')\n"
        "found = [list(fit.names), fit.coef.tolist(), bare.coef.tolist(), wald, logit.coef.tolist()]\n"
    )
    imported, found = run_fresh(script, ("jax", "optax", "sympy"))
    assert imported == []
    names, coef, bare, wald, logit = found
    ref = smf.ols("y ~ log(x) + C(g) + I(x**2)", data).fit()
    assert names == list(ref.params.index)
    np.testing.assert_allclose(coef, ref.params.to_numpy(), rtol=1e-10)
    theirs = ref.wald_test("C(g)[T.b] = C(g)[T.c] = 0", scalar=True, use_f=True).statistic
    assert wald == pytest.approx(float(theirs), rel=1e-9)
    np.testing.assert_allclose(logit, smf.logit("z ~ x + C(g)", data).fit(disp=0).params, rtol=1e-7)
    np.testing.assert_allclose(bare, smf.ols("y ~ x", data).fit().params.to_numpy(), rtol=1e-10)


def test_a_factor_without_a_numpy_form_is_evaluated_as_before():
    # mean() over the rows has no NumPy form: the compiled expression evaluates it
    rng = np.random.default_rng(4)
    data = pd.DataFrame({"x": rng.uniform(1, 2, 50), "y": rng.normal(size=50)})
    found = gdlab.fit(data, "y ~ I(x - mean(x)) + log(x)")
    ref = smf.ols("y ~ I(x - x.mean()) + log(x)", data).fit()
    np.testing.assert_allclose(found.coef, ref.params.to_numpy(), rtol=1e-10)


@pytest.mark.parametrize("family", ["logistic", "poisson"])
def test_a_formulas_bad_response_is_named_as_the_formula_names_it(family):
    data = pd.DataFrame({"x": np.arange(6.0), "y": [0, 1, -1.5, 1, 0, 1]})
    with pytest.raises(InputError, match=r"column 'y' (must hold only 0 and 1|holds -1.5)") as found:
        gdlab.fit(data, "y ~ x", family=family)
    assert "_design" not in str(found.value) and "the response" not in str(found.value)


def test_the_command_line_spells_a_formulas_family_as_its_option(tmp_path):
    from typer.testing import CliRunner

    from gdlab.cli import app

    (tmp_path / "d.csv").write_text("x,y\n1,1.5\n2,0\n3,1\n4,0\n")
    result = CliRunner().invoke(app, ["fit", str(tmp_path / "d.csv"), "y ~ x", "--family", "logistic"])
    assert result.exit_code == 2
    assert "column 'y' must hold only 0 and 1 for --family logistic" in " ".join(result.output.split())


@pytest.mark.parametrize("text", ["y ~ x +", "y ~ x + C(g", "y ~ (x"])
def test_a_broken_formula_is_said_in_plain_words(text):
    data = pd.DataFrame({"x": [1.0, 2, 3], "y": [1.0, 2, 4], "g": ["a", "b", "a"]})
    with pytest.raises(InputError, match="is not a formula gdlab reads") as found:
        gdlab.fit(data, text)
    said = str(found.value)
    assert "\x1b" not in said and "\u29db" not in said and "\u29da" not in said
    assert "write it as 'y ~ x1 + x2'" in said
    # the piece the parser could not read, underlined as gdlab's expression errors underline theirs
    line, caret = said.split("\n")[-2:]
    assert line == "  " + text and caret.strip() and set(caret.strip()) == {"^"}
    assert text[len(caret) - len(caret.lstrip()) - 2] in "+C("


def test_a_model_typed_as_a_formula_is_pointed_to_model():
    data = pd.DataFrame({"t": np.arange(6.0), "yd": [3, 2.2, 1.7, 1.4, 1.25, 1.15]})
    with pytest.raises(InputError, match=r"no column 'a'.*give y='yd' and model='a\*exp\(-k\*t\)\+c'"):
        gdlab.fit(data, "yd ~ a*exp(-k*t)+c")
    with pytest.raises(InputError) as plain:  # a missing column of plain terms is only that
        gdlab.fit(data, "yd ~ q")
    assert "model" not in str(plain.value)


def test_numpys_functions_in_a_formula_are_named_as_statsmodels_names_them():
    x = np.arange(1.0, 21.0)
    data = pd.DataFrame({"x": x, "y": 2 * np.log(x) + np.sin(x) / 10})
    mine = gdlab.fit(data, "y ~ np.log(x) + np.sqrt(x)")
    theirs = smf.ols("y ~ np.log(x) + np.sqrt(x)", data).fit()
    assert list(mine.names) == list(theirs.params.index) == ["Intercept", "np.log(x)", "np.sqrt(x)"]
    np.testing.assert_allclose(mine.coef, theirs.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(mine.predict(data.head(3)), theirs.predict(data.head(3)), rtol=1e-12)


@pytest.mark.parametrize(
    ("formula", "said", "names"),
    [
        # the formula parser refuses the right side as terms; gdlab's compiler reads it as one expression
        ("y ~ b1*(1-exp(-b2*t))", "is not a formula gdlab reads", "some of 'b1', 'b2' or 't' are"),
        # read as terms, a name that is no column
        ("y ~ a*t", "no column 'a'", "'a' is"),
        ("y ~ a*exp(-k*t)", "no column 'a'", "'a' is"),
    ],
)
def test_a_model_with_parameters_written_with_a_tilde_is_pointed_to_model(tmp_path, formula, said, names):
    """A model with parameters typed as ``y ~ model`` is told where a model goes, in each front
    end's words (the command line's quoted as a shell reads them), and the suggestion fits."""
    from typer.testing import CliRunner

    from gdlab.cli import app

    t = np.linspace(0.0, 5.0, 20)
    data = {"t": t, "y": 3 * (1 - np.exp(-0.7 * t))}
    right = formula.split("~")[1].strip()
    with pytest.raises(InputError) as err:
        gdlab.fit(data, formula)
    assert said in str(err.value)
    assert f"If {names} parameters to fit" in str(err.value) or f"If {names} a parameter" in str(err.value)
    assert str(err.value).endswith(f"the formula is a model, not terms: give y='y' and model={right!r}")
    path = tmp_path / "d.csv"
    pd.DataFrame(data).to_csv(path, index=False)
    result = CliRunner().invoke(app, ["fit", str(path), formula])
    assert result.exit_code == 2
    assert result.output.rstrip().endswith(f"give --y y and --model '{right}'"), result.output
    followed = CliRunner().invoke(app, ["fit", str(path), "--y", "y", "--model", right, "--json"])
    assert followed.exit_code == 0, followed.output


def test_a_formula_that_is_not_an_expression_either_gets_no_model_hint():
    with pytest.raises(InputError) as err:
        gdlab.fit({"t": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 4.0]}, "y ~ t + )")
    assert "is not a formula gdlab reads" in str(err.value) and "model" not in str(err.value)


@pytest.mark.parametrize("formula", ["y ~ 1", "log(y) ~ 1"])
def test_an_intercept_alone_is_refused_with_what_it_would_be(formula):
    """An intercept alone (R's lm(y ~ 1)) is refused saying what it is, not as an empty x."""
    with pytest.raises(InputError, match=r"has no regressor: a fit of the intercept alone is the mean of"):
        gdlab.fit({"y": [1.0, 2.0, 3.0, 4.0], "x": [1.0, 2.0, 3.0, 5.0]}, formula)
