"""Linear regression by closed form, gd and sgd, against exact least squares computed independently."""

from __future__ import annotations

import dataclasses
import json
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gdlab import datasets
from gdlab._checks import InputError
from gdlab._trajectory import Regime, Status
from gdlab.fitting._fit import Fit, fit


def _exact_least_squares(columns: list[list[float]], y: list[float]) -> list[float]:
    """Solve the normal equations X'X b = X'y in exact rational arithmetic (no NumPy, no rounding)."""
    X = [[Fraction(v) for v in row] for row in zip(*columns, strict=True)]
    t = [Fraction(v) for v in y]
    p = len(columns)
    zero = Fraction(0)
    A: list[list[Fraction]] = [
        [sum((r[i] * r[j] for r in X), zero) for j in range(p)]
        + [sum((r[i] * v for r, v in zip(X, t, strict=True)), zero)]
        for i in range(p)
    ]
    for i in range(p):  # Gauss-Jordan elimination
        pivot = next(k for k in range(i, p) if A[k][i] != 0)
        A[i], A[pivot] = A[pivot], A[i]
        A[i] = [v / A[i][i] for v in A[i]]
        for k in range(p):
            if k != i:
                A[k] = [a - A[k][i] * b for a, b in zip(A[k], A[i], strict=True)]
    return [float(A[i][p]) for i in range(p)]


@pytest.fixture(scope="module")
def three():
    """Well-conditioned data with three regressors of different scales, one correlated with another."""
    rng = np.random.default_rng(7)
    n = 40
    a = rng.normal(size=n)
    b = 0.6 * a + 0.8 * rng.normal(size=n)
    c = rng.uniform(0, 50, size=n)
    y = 1.5 + 2 * a - b + 0.04 * c + 0.3 * rng.normal(size=n)
    return {"a": a, "b": b, "c": c, "y": y}


# --- the closed form -------------------------------------------------------------------------


def test_the_closed_form_is_exact_least_squares_on_the_cafe_data():
    cafe = datasets.cafe()
    exact = _exact_least_squares([[1.0] * 10, cafe.x.tolist()], cafe.y.tolist())
    result = fit("cafe", y="y", x="x")
    assert result.names == ("intercept", "x") and result.method == "ols" and result.n == 10
    np.testing.assert_allclose(result.coef, exact, rtol=1e-12)
    assert result.coefficients == pytest.approx({"intercept": 9.944573227, "x": 2.215704608})
    assert result.trajectory is None and result.status is None and result.max_difference is None


def test_the_closed_form_with_three_regressors_and_without_an_intercept(three):
    cols = [three[c].tolist() for c in "abc"]
    exact = _exact_least_squares([[1.0] * 40, *cols], three["y"].tolist())
    np.testing.assert_allclose(fit(three, y="y", x="a,b,c").coef, exact, rtol=1e-10)
    X = np.column_stack([three[c] for c in "abc"])
    lstsq = np.linalg.lstsq(X, three["y"], rcond=None)[0]
    plain = fit(three, y="y", x=["a", "b", "c"], intercept=False)
    assert plain.names == ("a", "b", "c") and plain.x == ("a", "b", "c")
    np.testing.assert_allclose(plain.coef, lstsq, rtol=1e-10)
    np.testing.assert_allclose(plain.coef, _exact_least_squares(cols, three["y"].tolist()), rtol=1e-10)


def test_a_simulated_regression_with_two_regressors_is_fitted_by_its_column_names():
    sample = datasets.make_regression(50, beta=(1.0, 2.0, -3.0), noise=0.5, seed=2)
    result = fit(sample, y="y", x="x1,x2")
    assert result.names == ("intercept", "x1", "x2")
    np.testing.assert_allclose(result.coef, np.linalg.lstsq(sample.X, sample.y, rcond=None)[0], rtol=1e-10)


def test_x_as_a_list_or_as_comma_separated_names_is_the_same_fit(three):
    listed = fit(three, y="y", x=["a", "b"])
    assert fit(three, y="y", x="a, b").coefficients == listed.coefficients
    assert fit(three, y="y", x=["a,b"]).coefficients == listed.coefficients


# --- gradient descent ----------------------------------------------------------------------------


def test_gd_reaches_the_closed_form_at_the_rate_the_hessian_suggests(three):
    cafe = fit("cafe", y="y", x="x", method="gd")
    # one standardised regressor beside the intercept: the Hessian 2Z'Z/n is 2I, so 2/(mu+L) = 1/2
    assert cafe.lr == pytest.approx(0.5) and "2/(mu+L)" in (cafe.lr_source or "")
    assert cafe.max_difference is not None and cafe.max_difference < 1e-9
    assert cafe.status is not None and cafe.status.value == "converged" and not cafe.warnings
    result = fit(three, y="y", x="a,b,c", method="gd")
    Z = np.column_stack([np.ones(40), *((three[c] - three[c].mean()) / three[c].std() for c in "abc")])
    eig = np.linalg.eigvalsh(2 * Z.T @ Z / 40)
    assert result.lr == pytest.approx(2 / (eig[0] + eig[-1]), rel=1e-10)
    assert result.max_difference is not None and result.max_difference < 1e-8
    np.testing.assert_allclose(result.coef, result.closed_form, rtol=1e-9)


def test_gd_without_an_intercept_and_with_a_given_rate(three):
    result = fit(three, y="y", x="a,c", method="gd", intercept=False, lr=0.3)
    assert result.lr == 0.3 and result.lr_source == "given"
    X = np.column_stack([three["a"], three["c"]])
    np.testing.assert_allclose(result.coef, np.linalg.lstsq(X, three["y"], rcond=None)[0], rtol=1e-8)


def test_gd_that_runs_out_of_steps_says_so(three):
    result = fit(three, y="y", x="a,b,c", method="gd", steps=2)
    assert result.status is not None and result.status.value == "max_steps"
    # The engine's sentence, as from a streamed fit's descent: one wording wherever the rows are.
    assert result.steps == 2 and result.warnings[0].startswith("gd: stopped at the step limit (2)")
    assert "raise the step limit" in result.warnings[0]


def test_a_descent_that_diverges_at_a_given_rate_says_so_in_its_warnings():
    for method, rate in (("gd", 1.5), ("sgd", 5.0)):  # sgd's rate decays, so it survives a little more
        result = fit("cafe", y="y", x="x", method=method, lr=rate, epochs=20)
        assert result.status is not None and result.status.value == "diverged"
        assert (
            result.warnings[0].startswith(f"{method}: diverged at step")
            and "lower the rate" in result.warnings[0]
        )
        assert json.loads(json.dumps(result.to_dict(), allow_nan=False))["status"] == "diverged"


def test_gd_in_float32(three):
    result = fit(three, y="y", x="a,b,c", method="gd", dtype="float32")
    assert result.dtype == np.float32 and result.trajectory is not None
    assert result.trajectory.loss.dtype == np.float32
    np.testing.assert_allclose(result.coef, result.closed_form, atol=1e-4)


def test_the_path_maps_back_to_original_units():
    result = fit("cafe", y="y", x="x", method="gd", lr=0.1)
    path = result.coefficient_path()
    assert path.shape == (result.steps + 1, 2)
    np.testing.assert_allclose(path[0], [0.0, 0.0], atol=1e-12)  # the start: every coefficient 0
    np.testing.assert_allclose(path[-1], result.coef, rtol=1e-12)
    with pytest.raises(InputError, match="ols fit has no path"):
        fit("cafe", y="y", x="x").coefficient_path()


# --- stochastic gradient descent -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "tolerance"),
    [
        # Intercepts sit far from the data (mean temperature 25), so they move 25 times the slope's error.
        ("cafe", {"intercept": 0.5, "x": 0.02}),
        ("simulated", {"intercept": 0.15, "x": 0.006}),
    ],
)
def test_sgd_seeds_agree_with_the_closed_form(data, tolerance):
    if data == "simulated":
        sample = datasets.make_regression(100, seed=0)
        data = {"x": sample.x, "y": sample.y}
    results = [fit(data, y="y", x="x", method="sgd", batch_size=8, epochs=200, seed=s) for s in (0, 1, 2)]
    for result in results:
        assert result.steps == 200 * (result.n // 8) and not result.warnings
        closed = dict(zip(result.names, result.closed_form, strict=True))
        for name, allowed in tolerance.items():
            assert abs(result.coefficients[name] - closed[name]) < allowed, (result.coefficients, closed)
    assert len({r.coefficients["x"] for r in results}) == 3  # three different paths, one answer


def test_the_sgd_rate_suits_the_batch():
    small = fit("cafe", y="y", x="x", method="sgd", batch_size=1, epochs=2)
    whole = fit("cafe", y="y", x="x", method="sgd", batch_size=10, epochs=2)
    # Batches of all 10 rows: 1/(2L) with L = 2. Single rows: 1/(2 max 2|z_i|^2), far smaller.
    assert whole.lr == pytest.approx(0.25)
    cafe = datasets.cafe()
    z = (cafe.x - cafe.x.mean()) / cafe.x.std()
    assert small.lr == pytest.approx(1 / (4 * np.max(1 + z**2)))
    assert "batches of 1 of 10 rows" in (small.lr_source or "") and "cosine" in (small.lr_source or "")
    assert small.trajectory is not None and "cosine decay" in small.trajectory.method
    fixed = fit("cafe", y="y", x="x", method="sgd", lr=0.01, decay=False, epochs=2)
    assert fixed.lr == 0.01 and fixed.lr_source == "given" and fixed.trajectory is not None
    assert "cosine" not in fixed.trajectory.method


def test_a_batch_larger_than_the_data_is_the_whole_data_and_said_so():
    result = fit("cafe", y="y", x="x", method="sgd", batch_size=50, epochs=3)
    assert result.warnings == ("batch_size 50 is more than the 10 rows: used batches of all 10",)
    assert result.steps == 3


# --- results ----------------------------------------------------------------------------------------


def test_warnings_are_data_not_printed(three):
    data = dict(three, twice=2 * three["a"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        closed = fit(data, y="y", x="a,twice")
        descent = fit(data, y="y", x="a,twice", method="gd")
    assert caught == []
    assert "rank 2 < 3" in closed.warnings[0] and "not unique" in closed.warnings[0]
    assert descent.warnings[0] == closed.warnings[0] and "another of the equally good" in descent.warnings[1]
    np.testing.assert_allclose(  # different coefficients, the same fitted values
        descent.predict(data), closed.predict(data), rtol=1e-8
    )


def test_to_dict_is_strict_json():
    for method in ("ols", "gd", "sgd"):
        result = fit("cafe", y="y", x="x", method=method, epochs=5)
        out = json.loads(json.dumps(result.to_dict(), allow_nan=False))
        assert out["closed_form"] == pytest.approx({"intercept": 9.944573227, "x": 2.215704608})
        assert out["method"] == method and out["rows"] == 10 and out["x"] == ["x"] and out["warnings"] == []
        if method == "ols":
            assert out["descent"] is None and out["status"] is None and out["lr"] is None
        else:
            assert out["descent"] == out["coefficients"] and out["status"] in ("converged", "max_steps")
            assert out["max_difference"] >= 0 and out["lr"] > 0 and out["steps"] >= 1


def test_to_pandas_and_repr():
    result = fit("cafe", y="y", x="x", method="gd")
    frame = result.to_pandas()
    assert list(frame.index) == ["intercept", "x"]
    stats = ["std error", "t", "P>|t|", "lower 95%", "upper 95%"]
    assert list(frame.columns) == ["closed form", "gd", "difference", *stats]
    assert frame.loc["x", "closed form"] == pytest.approx(2.215704608)
    assert list(fit("cafe", y="y", x="x").to_pandas().columns) == ["closed form", *stats]
    text = repr(result).splitlines()
    assert text[0] == "Fit(y ~ x, gd, 10 rows)"
    assert text[1].split() == ["coefficient", "closed", "form", "gd"]
    assert text[3].split()[:2] == ["x", "2.215704608"] and "converged" in text[4]


def test_predict_on_new_rows():
    result = fit("cafe", y="y", x="x")
    b0, b1 = result.coef
    np.testing.assert_allclose(result.predict({"x": [20.0, 30.0]}), [b0 + 20 * b1, b0 + 30 * b1])
    np.testing.assert_allclose(result.predict(pd.DataFrame({"x": [25.0], "other": ["a"]})), [b0 + 25 * b1])
    with pytest.raises(InputError, match="no column 'x'"):
        result.predict({"temp": [20.0]})


def test_a_fit_is_read_only():
    result = fit("cafe", y="y", x="x")
    assert isinstance(result, Fit)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.method = "gd"
    with pytest.raises(ValueError, match="read-only"):
        result.coef[0] = 0.0


def test_files_and_missing_values(tmp_path):
    cafe = datasets.cafe()
    csv = tmp_path / "sales.csv"
    rows = "".join(f"{x},{y}\n" for x, y in zip(cafe.x, cafe.y, strict=True))
    csv.write_text("temp,sales\n" + rows + "31.0,\n")
    parquet = tmp_path / "sales.parquet"
    pq.write_table(pa.table({"temp": cafe.x, "sales": cafe.y}), parquet)
    expected = fit("cafe", y="y", x="x").coef
    from_csv = fit(csv, y="sales", x="temp", dropna=True)
    assert from_csv.dropped == 1 and from_csv.n == 10 and from_csv.names == ("intercept", "temp")
    np.testing.assert_allclose(from_csv.coef, expected, rtol=1e-12)
    np.testing.assert_allclose(fit(parquet, y="sales", x="temp").coef, expected, rtol=1e-12)
    with pytest.raises(InputError, match=r"column 'sales' has 1 missing value.*row 10"):
        fit(csv, y="sales", x="temp")


# --- mistakes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"y": "y", "x": "a,y"}, ["'y' is the response y and also listed in x"]),
        ({"y": "y", "x": "a,k", "rows": 2}, ["2 rows but 3 coefficients (intercept, a, k)"]),
        ({"y": "y", "x": "a,k"}, ["column 'k' is constant (5 in every row)", "intercept=False"]),
        ({"y": "y", "x": "a,zero", "intercept": False}, ["column 'zero' is 0 in every row"]),
        ({"y": "y", "x": "a", "method": "newtn"}, ["method='newtn'", "ols, sgd, gd"]),
        ({"y": "y", "x": "a", "method": "lm"}, ["fits a formula (model=...)"]),
        ({"y": "y", "x": "a", "family": "poison"}, ["family='poison' is unknown: did you mean 'poisson'"]),
        ({"y": "y", "x": "a", "rcond": 2.0}, ["rcond must be a number in [0, 1)"]),
        ({"y": "y,a", "x": "k"}, ["y must name one column"]),
        ({"y": ["y"], "x": "a"}, ["y must be the name of one column"]),
        ({"y": "y", "x": "aa"}, ["no column 'aa'", "did you mean 'a'"]),
        ({"y": "y", "x": "a,a"}, ["'a' listed more than once"]),
        ({"y": "y", "x": "a", "steps": -1}, ["steps"]),
        ({"y": "y", "x": "a", "epochs": 0}, ["epochs"]),
        ({"y": "y", "x": "a", "batch_size": 0}, ["batch_size"]),
        ({"y": "y", "x": "a", "lr": -0.1}, ["lr must be"]),
        ({"y": "y", "x": "a", "dtype": "int32"}, ["dtype"]),
    ],
)
def test_mistakes_name_what_is_wrong(kwargs, words):
    rows = kwargs.pop("rows", 6)
    data = {
        "a": np.arange(rows, dtype=float),
        "k": np.full(rows, 5.0),
        "zero": np.zeros(rows),
        "y": np.arange(rows) ** 2.0,
    }
    with pytest.raises(InputError) as err:
        fit(data, **kwargs)
    for word in words:
        assert word in str(err.value)


def test_a_text_column_in_a_csv_is_named_not_dropped(tmp_path):
    csv = tmp_path / "sales.csv"
    csv.write_text("temp,sales,shop\n20.1,55.4,a\n22.2,58.2,b\n22.7,61.2,c\n")
    with pytest.raises(InputError, match=r"column 'shop' holds text, not numbers: 'a' at row 0"):
        fit(csv, y="sales", x="temp,shop")
    assert fit(csv, y="sales", x="temp").n == 3  # the text column is no trouble unless it is asked for


# --- standard errors and goodness of fit, against statsmodels -----------------------------------


@pytest.mark.parametrize("intercept", [True, False])
def test_standard_errors_t_r2_and_residual_sd_equal_statsmodels(three, intercept):
    import statsmodels.api as sm

    X = np.column_stack([three[c] for c in "abc"])
    model = sm.OLS(three["y"], sm.add_constant(X) if intercept else X).fit()
    result = fit(three, y="y", x="a,b,c", intercept=intercept)
    stats = result.stats
    assert stats is not None and stats.statistic_name == "t" and stats.df_resid == 40 - 3 - intercept
    np.testing.assert_allclose(result.coef, model.params, rtol=1e-10)
    np.testing.assert_allclose(stats.se, model.bse, rtol=1e-8)
    np.testing.assert_allclose(stats.statistic, model.tvalues, rtol=1e-8)
    np.testing.assert_allclose(stats.pvalue, model.pvalues, rtol=1e-6)
    assert stats.r2 == pytest.approx(model.rsquared, rel=1e-8)
    assert stats.adj_r2 == pytest.approx(model.rsquared_adj, rel=1e-8)
    assert stats.sigma == pytest.approx(np.sqrt(model.scale), rel=1e-8)
    assert stats.rss == pytest.approx(model.ssr, rel=1e-8)
    assert stats.log_likelihood == pytest.approx(model.llf, rel=1e-8)
    assert stats.condition == pytest.approx(np.linalg.cond(model.model.exog), rel=1e-6)


@pytest.mark.parametrize("given", ["dict", "frame", "matrix"])
def test_a_large_fit_makes_no_copy_of_its_columns_and_keeps_statsmodels_statistics(given):
    import statsmodels.api as sm

    from gdlab._data import SHARE_VALUES

    n = SHARE_VALUES // 4 + 12_345  # 4 columns: a table just above the size that is shared
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 3)) + np.array([0.0, 100.0, -5.0])
    y = X @ [1.0, -2.0, 0.5] + 3 + rng.normal(size=n)
    data = {
        "dict": {"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y},
        "frame": pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y}),
        "matrix": np.column_stack([X, y]),
    }[given]
    names = ("a", "b", "c") if given != "matrix" else ("0", "1", "2")
    result = fit(data, y="y" if given != "matrix" else "3", x=list(names))
    source = {"dict": X[:, 0], "frame": data, "matrix": data}[given]
    column = result._data[names[0]]
    held = data["a"].to_numpy() if given == "frame" else source
    assert np.shares_memory(column, held) and not column.flags.writeable
    model = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(result.coef, model.params, rtol=1e-10)
    np.testing.assert_allclose(result.stats.se, model.bse, rtol=1e-8)
    assert result.stats.r2 == pytest.approx(model.rsquared, rel=1e-10)
    np.testing.assert_allclose(result.predict(data)[:5], model.fittedvalues[:5], rtol=1e-12)


def test_a_small_table_is_a_copy_its_source_cannot_change(three):
    data = {c: np.array(three[c]) for c in ("a", "b", "c", "y")}
    result = fit(data, y="y", x="a,b,c")
    data["a"][:] = 0
    assert not np.shares_memory(result._data["a"], data["a"]) and result._data["a"].any()


def test_longley_statistics_equal_statsmodels():
    import statsmodels.api as sm

    longley = sm.datasets.longley.load_pandas()
    frame = longley.exog.assign(TOTEMP=longley.endog)
    model = sm.OLS(longley.endog, sm.add_constant(longley.exog)).fit()
    result = fit(frame, y="TOTEMP", x=list(longley.exog.columns))
    assert result.stats is not None
    np.testing.assert_allclose(result.coef, model.params, rtol=1e-9)
    np.testing.assert_allclose(result.stats.se, model.bse, rtol=1e-8)
    assert result.stats.r2 == pytest.approx(model.rsquared, rel=1e-8)
    assert result.stats.sigma == pytest.approx(np.sqrt(model.scale), rel=1e-8)
    # NIST's certified values for Longley (https://www.itl.nist.gov/div898/strd/lls/data/Longley.shtml)
    assert result.coefficients["intercept"] == pytest.approx(-3482258.63459582, rel=1e-10)
    assert result.coefficients["GNPDEFL"] == pytest.approx(15.0618722713733, rel=1e-10)
    assert result.stats.sigma == pytest.approx(304.854073561965, rel=1e-10)
    assert result.stats.r2 == pytest.approx(0.995479004577296, rel=1e-12)
    text = result.summary()
    assert "Multiple R-squared: 0.995479" in text and "std error" in text
    assert "condition number 4.86e+09" in text


# --- other methods beside the closed form, and why a descent stopped short -----------------------


def test_newton_lands_on_the_closed_form_in_one_step_and_lbfgs_gets_there():
    newton = fit("cafe", y="y", x="x", method="newton")
    assert newton.steps == 1 and newton.lr is None and newton.status is not None
    assert newton.max_difference is not None and newton.max_difference < 1e-12
    lbfgs = fit("cafe", y="y", x="x", method="lbfgs")
    assert lbfgs.status is not None and lbfgs.status.value == "converged"
    np.testing.assert_allclose(lbfgs.coef, lbfgs.closed_form, rtol=1e-9)
    assert "newton: 1 step on standardised regressors, converged" in repr(newton)


@pytest.mark.parametrize("method", ["newton", "lbfgs"])
def test_a_converged_gradient_whose_answer_has_no_correct_digit_is_not_converged(method):
    """In float32 on nearly collinear columns the gradient falls to tol in the rounding noise, far from
    the closed form: the run is labelled stalled (Outcome.IMPRECISE), and its warning says how far."""
    rng = np.random.default_rng(0)
    x1 = rng.normal(size=200)
    x2 = x1 + 1e-4 * rng.normal(size=200)
    data = {"x1": x1, "x2": x2, "y": 1 + 2 * x1 + 3 * x2 + 0.1 * rng.normal(size=200)}
    single = fit(data, y="y", x="x1,x2", method=method, dtype="float32")
    assert single.status is Status.STALLED and single.trajectory.regime is Regime.STALLED
    assert "(relative) from the closed form" in single.warnings[-1]
    double = fit(data, y="y", x="x1,x2", method=method)  # float64 gets the digits: converged
    assert double.status is Status.CONVERGED and double.max_difference < 1e-4


def test_descent_on_the_raw_columns_is_said_and_explained():
    result = fit("cafe", y="y", x="x", method="gd", standardize=False, steps=2000)
    assert not result.standardized and result.to_dict()["standardized"] is False
    assert result.warnings[0] == "descent ran on the raw columns (standardize=False), as the lecture does"
    cafe = datasets.cafe()
    eig = np.linalg.eigvalsh(2 * cafe.X.T @ cafe.X / 10)  # the raw problem's Hessian
    why = result.warnings[-1]
    assert f"condition number is {eig[-1] / eig[0]:.3g} (the columns are not standardised" in why
    assert "ran out of steps (2,000)" in why and "on the raw columns" in (result.lr_source or "")
    assert result.lr == pytest.approx(2 / (eig[0] + eig[-1]), rel=1e-9)
    path = result.coefficient_path()  # the raw path is its own coefficients
    np.testing.assert_allclose(path[-1], result.coef, rtol=1e-12)


def test_a_rate_above_two_over_l_is_named_as_the_reason():
    result = fit("cafe", y="y", x="x", method="gd", lr=1.2, steps=200)
    assert result.status is not None and result.status.value == "diverged"
    assert "lr=1.2 > 2/L=1: each step overshoots" in result.warnings[-1]


def test_a_collinear_design_explains_why_gd_is_slow():
    import statsmodels.api as sm

    longley = sm.datasets.longley.load_pandas()
    frame = longley.exog.assign(TOTEMP=longley.endog)
    result = fit(frame, y="TOTEMP", x=list(longley.exog.columns), method="gd", steps=500)
    assert "the Hessian's condition number is 1.22e+04" in result.warnings[-1]
    assert "ran out of steps (500)" in result.warnings[-1]


def test_a_constant_response_or_an_exact_fit_says_its_statistics_are_undefined():
    a = np.arange(10.0)
    data = {"a": a, "b": a**2 % 7, "y": np.full(10, 3.0)}
    constant = fit(data, y="y", x="a,b")
    assert constant.coefficients["intercept"] == pytest.approx(3.0)
    assert np.all(constant.stats.se == 0) and np.all(np.isnan(constant.stats.statistic))
    assert np.all(np.isnan(constant.stats.pvalue)) and np.isnan(constant.stats.r2)
    assert "'y' is constant (3 in every row): there is nothing to explain" in constant.warnings[-1]
    exact = fit({"a": a, "y": 1 + 2 * a}, y="y", x="a")
    assert exact.stats.rss == 0 and exact.stats.r2 == 1 and np.all(np.isnan(exact.stats.pvalue))
    assert "the fit is exact" in exact.warnings[-1]
    # a formula says the same, and a fit with as many coefficients as rows says its own, each with
    # the standard errors it has: 0, or none at all
    t = np.arange(1.0, 8.0)
    curve = fit({"t": t, "y": 3 * np.exp(-0.4 * t)}, y="y", model="a*exp(-k*t)", init={"a": 1.0, "k": 0.1})
    assert curve.warnings[-1] == exact.warnings[-1] and np.all(curve.stats.se == 0)
    for few in (
        fit({"a": a[:2], "y": 1 + 2 * a[:2]}, y="y", x="a"),
        fit(
            {"t": t[:2], "y": 3 * np.exp(-0.4 * t[:2])}, y="y", model="a*exp(-k*t)", init={"a": 1.0, "k": 0.1}
        ),
    ):
        assert few.warnings[-1].startswith("the fit has as many coefficients as rows")
        assert few.stats is None or np.all(np.isnan(few.stats.se))


def test_columns_numbered_as_an_array_or_a_frame_numbers_them_can_be_named_by_number():
    A = np.random.default_rng(0).normal(size=(50, 3))
    A[:, 2] = 2 * A[:, 0] + 1 + 0.01 * A[:, 1]
    for data in (A, pd.DataFrame(A)):
        by_number = fit(data, y=2, x=[0, 1])
        assert by_number.coefficients == fit(data, y="2", x=["0", "1"]).coefficients
        assert by_number.coefficients["0"] == pytest.approx(2.0)
    with pytest.raises(InputError, match="y must be the name of one column; got True"):
        fit(A, y=True, x=[0])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"y": "y", "x": "hours"},
        {"formula": "y ~ np.log(hours + 1)"},
        {"y": "y", "model": "a*hours + b", "init": {"a": 1.0, "b": 0.0}},
    ],
)
def test_new_rows_without_a_column_the_fit_reads_are_told_its_name(kwargs):
    """The fit's column name is the one to give (its formula cannot change now): "did you mean
    'hour'?" pointed the other way."""
    from gdlab import fit as fitted

    result = fitted({"hours": np.arange(10.0), "y": 2 * np.arange(10.0) + 1}, **kwargs)
    with pytest.raises(
        InputError,
        match=r"^the new rows have no column 'hours', which this fit reads "
        r"\(they have 'hour': name it 'hours'\)$",
    ):
        result.predict({"hour": [1.0]})
    with pytest.raises(InputError, match=r"\(their columns: 'z', 'w'\)$"):
        result.predict({"z": [1.0], "w": [2.0]})
    assert np.isfinite(result.predict({"hours": [1.0]})).all()


def test_a_linear_fit_exact_to_the_datas_rounding_is_said_exact_as_a_formulas_is():
    """Residuals of 1e-15 on values of 0.1 to 3.6 are the data's rounding (each value is known to
    about eps |y_i|): the fit is exact, its standard errors 0 and its t and p undefined, as for a
    formula's fit (one rule, _minpack.exact_floor); residuals of 1e-9 are not rounding."""
    x = np.random.default_rng(1).uniform(0.0, 5.0, 30)
    exact = fit({"x": x, "y": 0.1 + 0.7 * x + 1e-15 * np.sin(3 * x)}, y="y", x="x")
    assert exact.stats.rss == 0 and np.all(exact.stats.se == 0) and "the fit is exact" in exact.warnings[-1]
    noisy = fit({"x": x, "y": 0.1 + 0.7 * x + 1e-9 * np.sin(3 * x)}, y="y", x="x")
    assert noisy.stats.rss > 0 and np.all(noisy.stats.se > 0) and not noisy.warnings


def test_a_streamed_linear_fit_says_it_is_exact_as_one_in_memory_does(tmp_path):
    """The same rule where the rows are streamed from Parquet (|y| is the norm of the factor's last
    column): rounding-level residuals are 0, and the warning says the fit is exact."""
    import pandas as pd

    x = np.random.default_rng(1).uniform(0.0, 5.0, 30)
    path = tmp_path / "exact.parquet"
    pd.DataFrame({"x": x, "y": 0.1 + 0.7 * x + 1e-15 * np.sin(3 * x)}).to_parquet(path)
    memory, streamed = fit(path, y="y", x="x"), fit(path, y="y", x="x", stream=True)
    for found in (memory, streamed):
        assert found.stats.rss == 0 and np.all(found.stats.se == 0)
    assert streamed.warnings == memory.warnings and "the fit is exact" in streamed.warnings[-1]


@pytest.mark.parametrize("value", [5.0, 0.1, 1 / 3, -3.3, 1e8 + 0.1])
def test_a_constant_response_is_said_alike_in_memory_and_streamed_and_only_beside_an_intercept(
    tmp_path, value
):
    """A response of one value has nothing to explain beside an intercept: a fit of rows in memory
    and one streamed from Parquet both say so, naming the value (the streamed factor holds its
    spread as rounding, not 0: it used to say the fit was exact instead). Without an intercept the
    response is explained by x with residuals: no note, and standard errors as statsmodels' (the
    fit in memory used to say they were 0)."""
    import pandas as pd
    import statsmodels.api as sm

    x = np.linspace(0.0, 4.0, 40)
    path = tmp_path / "constant.parquet"
    pd.DataFrame({"x": x, "y": np.full(40, value)}).to_parquet(path)
    said = f"'y' is constant ({value:.10g} in every row): there is nothing to explain"
    for stream in (False, True):
        found = fit(path, y="y", x="x", stream=stream)
        assert said in found.warnings[-1] and np.all(found.stats.se == 0)
        assert np.isnan(found.stats.r2) and np.isnan(found.stats.adj_r2)  # R's 0/0
        through = fit(path, y="y", x="x", intercept=False, stream=stream)
        assert not any("constant" in w or "exact" in w for w in through.warnings)
        ours = sm.OLS(np.full(40, value), x).fit()
        np.testing.assert_allclose(through.stats.se, ours.bse, rtol=1e-9)


@pytest.mark.parametrize("value", [3.0, 0.1, 1 / 3, 0.0])
def test_a_regressor_of_one_value_is_refused_alike_in_memory_and_streamed(tmp_path, value):
    """One rule for a regressor of one value in every row (``_settings.check_design``): beside an
    intercept it is refused, naming its value, and without one a column of 0 is refused, in the
    same words whether the rows are in memory or streamed. The streamed fit used to test its
    spread for an exact 0, which rounding in the merged factor never gives: it fitted, rank-deficient."""
    import pandas as pd

    rng = np.random.default_rng(3)
    path = tmp_path / "design.parquet"
    pd.DataFrame({"x": rng.normal(size=200), "z": np.full(200, value), "y": rng.normal(size=200)}).to_parquet(
        path
    )
    said = []
    for stream in (False, True):
        with pytest.raises(InputError) as refused:
            fit(path, y="y", x="x,z", stream=stream)
        said.append(str(refused.value))
    assert (
        said[0]
        == said[1]
        == (
            f"column 'z' is constant ({value:.10g} in every row): beside the intercept it has nothing to "
            "explain; drop it from x, or fit intercept=False"
        )
    )
    if value == 0:
        for stream in (False, True):
            with pytest.raises(InputError, match="column 'z' is 0 in every row: it has no coefficient"):
                fit(path, y="y", x="x,z", intercept=False, stream=stream)


@pytest.mark.parametrize("noise", [1e-14, 3e-14, 1e-13])
def test_a_nearly_constant_regressor_is_judged_alike_in_memory_and_streamed(tmp_path, noise):
    """A regressor of 3 with noise at its rounding (1e-14) is constant to both fits, and refused;
    with noise a few times larger it is dependent on the intercept to both, at the same cut-off
    (``n eps``, the streamed fit's factor standing for its rows): the streamed fit used ``p eps``
    and fitted it full rank, with an intercept of 6e12 and p-values."""
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    path = tmp_path / "near.parquet"
    c = 3 + noise * rng.normal(size=200)
    pd.DataFrame({"x": x, "c": c, "y": 1 + 2 * x + rng.normal(size=200)}).to_parquet(path)
    if noise == 1e-14:
        for stream in (False, True):
            with pytest.raises(InputError, match="column 'c' is constant"):
                fit(path, y="y", x="x,c", stream=stream)
        return
    memory, streamed = (fit(path, y="y", x="x,c", stream=stream) for stream in (False, True))
    assert memory.warnings == streamed.warnings
    assert memory.warnings[0].startswith("X has rank 2 < 3 columns (pivots below rcond=4.44e-14")


@pytest.mark.parametrize("formula", [True, False])
@pytest.mark.parametrize("groups", [np.arange(20) % 4, ["g"], "", 3])
def test_groups_that_are_not_a_column_name_are_refused_in_words(formula, groups):
    """``groups=`` names a column of cluster labels; given the labels themselves (an array, as
    statsmodels' ``cov_kwds`` takes them), a list or an empty name, it is refused saying how to give
    them, with a formula or x= alike (an array raised NumPy's "truth value of an array is
    ambiguous", a list "unhashable type")."""
    x = np.linspace(0.0, 1.0, 20)
    data = {"x": x, "y": 2 * x + np.sin(9 * x), "g": np.arange(20) % 4}
    with pytest.raises(InputError, match="groups names the column of cluster labels, as groups='firm'"):
        if formula:
            fit(data, "y ~ x", cov="cluster", groups=groups)
        else:
            fit(data, y="y", x="x", cov="cluster", groups=groups)


@pytest.mark.parametrize("stream", [False, True])
def test_weighted_least_squares_says_a_constant_response_and_an_exact_fit_as_a_linear_fit_does(
    tmp_path, stream
):
    """Weighted least squares (the Gaussian GLM with weights) reads the linear fit's one rule: a
    constant response has nothing to explain beside an intercept (R² NaN, standard errors 0), and
    residuals within the data's rounding are 0 (the fit is exact); it said neither, with R² of 1
    or of rounding, and standard errors of 1e-16. A Wilkinson formula names its own response in
    the note ('log(y)'), not the design's internal name."""
    import pandas as pd

    x, w = np.linspace(0.0, 4.0, 40), np.linspace(1.0, 3.0, 40)
    for y, said in ((np.full(40, 5.0), "'y' is constant (5 in every row)"), (1 + 2 * x, "the fit is exact")):
        path = tmp_path / "weighted.parquet"
        pd.DataFrame({"x": x, "y": y, "w": w}).to_parquet(path)
        found = fit(path, "y ~ x", weights="w", stream=stream)
        assert said in found.warnings[-1] and np.all(found.stats.se == 0)
        assert np.isnan(found.stats.r2) == (said.startswith("'y' is constant"))
    noisy = fit({"x": x, "y": 1 + 2 * x + np.sin(7 * x), "w": w}, "y ~ x", weights="w")
    assert noisy.warnings == () and 0 < noisy.stats.r2 < 1
    logged = fit({"x": x, "y": np.full(40, 5.0)}, "log(y) ~ x")
    assert logged.warnings[-1].startswith("'log(y)' is constant (1.609437912 in every row)")
