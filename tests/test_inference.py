"""Inference on every fit, against statsmodels 0.15 as the oracle and NIST's certified values.

Standard errors, t and p, intervals, the model's F test, tests of linear restrictions, the
log-likelihood, AIC and BIC, robust (HC0-HC3) and clustered covariances, prediction intervals,
logistic fits against ``Logit``, and formulas (nonlinear least squares) against NIST's certified
standard deviations, SciPy's ``curve_fit`` and R's ``nls``; the same numbers from Parquet files as
from memory; and the errors that bad settings get.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import gdlab
from gdlab._checks import InputError
from nls_problems import boxbod, gauss_like, misra1a

sm = pytest.importorskip("statsmodels.api")


def _stackloss() -> tuple[pd.DataFrame, str, list[str]]:
    return sm.datasets.stackloss.load_pandas().data, "STACKLOSS", ["AIRFLOW", "WATERTEMP", "ACIDCONC"]


def _longley() -> tuple[pd.DataFrame, str, list[str]]:
    data = sm.datasets.longley.load_pandas()
    return data.exog.assign(TOTEMP=data.endog), "TOTEMP", list(data.exog.columns)


def _cafe() -> tuple[pd.DataFrame, str, list[str]]:
    return gdlab.datasets.cafe().to_pandas(), "y", ["x"]


def _grunfeld() -> pd.DataFrame:
    frame = sm.datasets.grunfeld.load_pandas().data
    return frame.assign(firm=pd.factorize(frame["firm"])[0].astype(float))[
        ["invest", "value", "capital", "firm"]
    ]


def _ols(frame: pd.DataFrame, y: str, x: list[str], intercept: bool = True, **fit_kw: object):
    X = sm.add_constant(frame[x]) if intercept else frame[x]
    return sm.OLS(frame[y], X).fit(**fit_kw)


def _close(a: object, b: object, rtol: float) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=0)


# --- linear: every number beside statsmodels' OLS ------------------------------------------------


@pytest.mark.parametrize(("data", "rtol"), [(_stackloss, 1e-10), (_cafe, 1e-10), (_longley, 1e-8)])
def test_linear_inference_equals_statsmodels_ols(data, rtol):
    frame, y, x = data()
    model = _ols(frame, y, x)
    result = gdlab.fit(frame, y=y, x=x)
    s = result.stats
    assert s is not None and s.cov_type == "nonrobust"
    _close(s.se, model.bse, rtol)
    _close(s.statistic, model.tvalues, rtol)
    _close(s.pvalue, model.pvalues, 100 * rtol)  # a p-value's relative error grows with |t|
    _close(s.cov, model.cov_params(), rtol)
    for alpha in (0.05, 0.1, 0.01):
        _close(result.conf_int(alpha), model.conf_int(alpha), rtol)
    assert s.model_test is not None and s.model_test.distribution == "F"
    assert s.model_test.statistic == pytest.approx(model.fvalue, rel=rtol)
    assert s.model_test.pvalue == pytest.approx(model.f_pvalue, rel=100 * rtol)
    assert (s.model_test.df_num, s.model_test.df_denom) == (model.df_model, model.df_resid)
    assert s.log_likelihood == pytest.approx(model.llf, rel=rtol)
    assert s.aic == pytest.approx(model.aic, rel=rtol) and s.bic == pytest.approx(model.bic, rel=rtol)
    assert s.adj_r2 == pytest.approx(model.rsquared_adj, rel=rtol)
    assert s.deviance == pytest.approx(sm.GLM(frame[y], sm.add_constant(frame[x])).fit().deviance, rel=rtol)


def test_without_an_intercept_the_f_test_and_r2_are_about_zero_as_statsmodels_has_them():
    frame, y, x = _stackloss()
    model = _ols(frame, y, x, intercept=False)
    s = gdlab.fit(frame, y=y, x=x, intercept=False).stats
    assert s is not None and s.model_test is not None
    assert s.model_test.statistic == pytest.approx(model.fvalue, rel=1e-10)
    assert s.model_test.df_num == 3 and s.r2 == pytest.approx(model.rsquared, rel=1e-12)
    assert s.aic == pytest.approx(model.aic, rel=1e-12) and s.bic == pytest.approx(model.bic, rel=1e-12)


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [
        ("AIRFLOW = 0", "AIRFLOW = 0"),
        ("AIRFLOW = WATERTEMP = 0", "AIRFLOW - WATERTEMP = 0, WATERTEMP = 0"),
        ("AIRFLOW = 0, WATERTEMP = 2*ACIDCONC", "AIRFLOW = 0, WATERTEMP - 2*ACIDCONC = 0"),
        ("AIRFLOW + WATERTEMP == 1", "AIRFLOW + WATERTEMP = 1"),
        ("intercept = -40, ACIDCONC / 2 = 0", "const = -40, ACIDCONC = 0"),
    ],
)
def test_restrictions_are_tested_as_statsmodels_f_test_does(mine, theirs):
    frame, y, x = _stackloss()
    model = _ols(frame, y, x)
    found = gdlab.fit(frame, y=y, x=x).test(mine)
    expected = model.f_test(theirs)
    assert found.distribution == "F" and found.hypothesis == mine
    assert found.statistic == pytest.approx(float(np.squeeze(expected.fvalue)), rel=1e-9)
    assert found.pvalue == pytest.approx(float(expected.pvalue), rel=1e-8)
    assert (found.df_num, found.df_denom) == (expected.df_num, expected.df_denom)


# --- robust and clustered covariances -------------------------------------------------------------


@pytest.mark.parametrize("cov", ["HC0", "HC1", "HC2", "HC3", "cluster"])
def test_robust_covariances_equal_statsmodels_with_use_t(cov):
    frame = _grunfeld()
    kw = {"cov_kwds": {"groups": frame["firm"]}} if cov == "cluster" else {}
    model = _ols(frame, "invest", ["value", "capital"], cov_type=cov, use_t=True, **kw)
    result = gdlab.fit(
        frame, y="invest", x="value,capital", cov=cov.lower(), groups="firm" if cov == "cluster" else None
    )
    s = result.stats
    assert s is not None and s.cov_type == cov and s.groups == (11 if cov == "cluster" else None)
    _close(s.cov, model.cov_params(), 1e-9)
    _close(s.se, model.bse, 1e-9)
    _close(s.pvalue, model.pvalues, 1e-7)
    _close(result.conf_int(0.1), model.conf_int(0.1), 1e-9)
    assert s.model_test is not None
    assert s.model_test.statistic == pytest.approx(model.fvalue, rel=1e-9)
    assert s.model_test.pvalue == pytest.approx(model.f_pvalue, rel=1e-7)
    expected = model.f_test("value = 0, capital = 0.2")
    found = result.test("value = 0, capital = 0.2")
    assert found.statistic == pytest.approx(float(np.squeeze(expected.fvalue)), rel=1e-9)
    assert found.df_denom == expected.df_denom and found.pvalue == pytest.approx(
        float(expected.pvalue), rel=1e-7
    )
    assert "Standard errors: " in result.summary()
    if cov == "cluster":  # the clusters counted, as the tests' degrees of freedom read them
        assert "Standard errors: clustered by groups (11 clusters)" in result.summary()


def test_an_interval_asked_for_by_its_level_is_refused_with_the_alpha_meant():
    """alpha=0.95 (R's level=0.95) would give a 5% interval, far narrower than meant: refused with
    the alpha that gives it, for conf_int and predict alike; 0.5 (a 50% interval) is taken."""
    result = gdlab.fit("cafe", y="y", x="x")
    for ask in (
        lambda a: result.conf_int(a),
        lambda a: result.predict({"x": [20.0]}, interval="confidence", alpha=a),
    ):
        with pytest.raises(
            InputError, match=r"alpha=0.95 asks for a 5% interval: .* give 0.05 for a 95% interval"
        ):
            ask(0.95)
    low, high = result.conf_int(0.5).iloc[0]
    wide_low, wide_high = result.conf_int(0.05).iloc[0]
    assert wide_low < low < high < wide_high


@pytest.mark.parametrize("cov", ["HC2", "cluster"])
def test_a_table_in_memory_is_read_a_few_rows_at_a_time_with_the_same_numbers(monkeypatch, cov):
    frame = _grunfeld()
    groups = "firm" if cov == "cluster" else None
    whole = gdlab.fit(frame, y="invest", x="value,capital", cov=cov, groups=groups)
    monkeypatch.setattr("gdlab.fitting._robust._ROWS", 7)  # 32 pieces, the last short
    pieces = gdlab.fit(frame, y="invest", x="value,capital", cov=cov, groups=groups)
    assert whole.stats is not None and pieces.stats is not None
    _close(pieces.stats.cov, whole.stats.cov, 1e-12)


def test_the_robust_covariance_changes_the_numbers_it_should_and_no_other():
    frame = _grunfeld()
    plain, robust = (
        gdlab.fit(frame, y="invest", x="value,capital"),
        gdlab.fit(frame, y="invest", x="value,capital", cov="HC3"),
    )
    assert plain.stats is not None and robust.stats is not None
    assert not np.allclose(plain.stats.se, robust.stats.se, rtol=1e-3)
    np.testing.assert_array_equal(plain.coef, robust.coef)
    assert plain.stats.r2 == robust.stats.r2 and plain.stats.aic == robust.stats.aic


# --- predictions with intervals -----------------------------------------------------------------------


@pytest.mark.parametrize("cov", ["nonrobust", "HC3"])
@pytest.mark.parametrize("alpha", [0.05, 0.2])
def test_predict_intervals_equal_statsmodels_summary_frame(cov, alpha):
    frame, y, x = _stackloss()
    model = _ols(frame, y, x, cov_type=cov, use_t=True)
    new = pd.DataFrame(
        {"AIRFLOW": [50.0, 62.0, 80.0], "WATERTEMP": [18.0, 22.0, 27.0], "ACIDCONC": [72.0, 87.0, 90.0]}
    )
    expected = model.get_prediction(sm.add_constant(new, has_constant="add")).summary_frame(alpha=alpha)
    result = gdlab.fit(frame, y=y, x=x, cov=cov)
    confidence = result.predict(new, interval="confidence", alpha=alpha)
    prediction = result.predict(new, interval="prediction", alpha=alpha)
    assert list(confidence.columns) == ["mean", "se", "lower", "upper"]
    _close(confidence["mean"], expected["mean"], 1e-11)
    _close(confidence["se"], expected["mean_se"], 1e-9)
    _close(confidence[["lower", "upper"]], expected[["mean_ci_lower", "mean_ci_upper"]], 1e-9)
    _close(prediction[["lower", "upper"]], expected[["obs_ci_lower", "obs_ci_upper"]], 1e-9)
    _close(result.predict(new), expected["mean"], 1e-11)


# --- logistic: statsmodels' Logit -------------------------------------------------------------------


def test_logistic_likelihoods_tests_and_intervals_equal_statsmodels_logit():
    data = sm.datasets.spector.load_pandas().data
    x = ["GPA", "TUCE", "PSI"]
    model = sm.Logit(data["GRADE"], sm.add_constant(data[x])).fit(disp=0, tol=1e-12)
    result = gdlab.fit(data, y="GRADE", x=x, family="logistic")
    s = result.stats
    assert s is not None and s.df_inference is None
    assert s.log_likelihood == pytest.approx(model.llf, rel=1e-10)
    assert s.null_log_likelihood == pytest.approx(model.llnull, rel=1e-10)
    glm = sm.GLM(data["GRADE"], sm.add_constant(data[x]), family=sm.families.Binomial()).fit(tol=1e-12)
    assert s.deviance == pytest.approx(glm.deviance, rel=1e-9)
    assert s.null_deviance == pytest.approx(glm.null_deviance, rel=1e-9)
    assert s.aic == pytest.approx(model.aic, rel=1e-10) and s.bic == pytest.approx(model.bic, rel=1e-10)
    assert s.model_test is not None and s.model_test.distribution == "chi2"
    assert s.model_test.statistic == pytest.approx(model.llr, rel=1e-9)
    assert s.model_test.pvalue == pytest.approx(model.llr_pvalue, rel=1e-8)
    _close(result.conf_int(), model.conf_int(), 1e-7)
    _close(s.pvalue, model.pvalues, 1e-6)
    found, expected = (
        result.test("GPA = 0, PSI = 2"),
        model.wald_test("GPA = 0, PSI = 2", scalar=True, use_f=False),
    )
    assert found.distribution == "chi2" and found.df_denom is None and found.df_num == 2
    assert found.statistic == pytest.approx(float(expected.statistic), rel=1e-7)
    assert found.pvalue == pytest.approx(float(expected.pvalue), rel=1e-7)
    text = result.summary()
    assert "Null deviance: 41.1835 on 31 degrees of freedom" in text
    assert "Residual deviance: 25.7793 on 28 degrees of freedom" in text and "AIC: 33.7793" in text


@pytest.mark.parametrize("cov", ["HC0", "cluster"])
def test_logistic_robust_covariances_equal_statsmodels_logit(tmp_path, cov):
    data = sm.datasets.spector.load_pandas().data.assign(g=np.arange(32) // 4.0)
    x = ["GPA", "TUCE", "PSI"]
    kw = {"cov_kwds": {"groups": data["g"]}} if cov == "cluster" else {}
    model = sm.Logit(data["GRADE"], sm.add_constant(data[x])).fit(disp=0, tol=1e-12, cov_type=cov, **kw)
    groups = "g" if cov == "cluster" else None
    result = gdlab.fit(data, y="GRADE", x=x, family="logistic", cov=cov, groups=groups)
    s = result.stats
    assert s is not None and s.cov_type == cov and s.df_inference is None
    _close(s.se, model.bse, 1e-9)
    _close(s.pvalue, model.pvalues, 1e-8)
    _close(result.conf_int(), model.conf_int(), 1e-9)
    assert s.model_test is not None and s.model_test.statistic == pytest.approx(model.llr, rel=1e-9)
    found, expected = (
        result.test("GPA = 0, PSI = 2"),
        model.wald_test("GPA = 0, PSI = 2", scalar=True, use_f=False),
    )
    assert found.statistic == pytest.approx(float(expected.statistic), rel=1e-9)
    data.to_parquet(tmp_path / "spector.parquet")
    there = gdlab.fit(
        tmp_path / "spector.parquet", y="GRADE", x=x, family="logistic", cov=cov, groups=groups, stream=True
    )
    assert there.stats is not None
    _close(there.stats.se, s.se, 1e-9)


# --- formulas: nonlinear least squares as R's nls reports it -----------------------------------


NIST_SD = {
    "Misra1a": [2.7070075241e00, 7.2668688436e-06],
    "BoxBOD": [1.2354515176e01, 1.0455993237e-01],
}


@pytest.mark.parametrize("problem", [misra1a, boxbod])
def test_formula_standard_errors_equal_nist_certified_values_and_curve_fit(problem):
    from scipy.optimize import curve_fit

    case = problem()
    certified = NIST_SD[case.name.split()[0]]
    for start in case.starts:
        result = gdlab.fit({"x": case.x, "y": case.y}, y="y", model=case.formula, init=start)
        s = result.stats
        assert s is not None and s.statistic_name == "t" and s.df_resid == len(case.x) - 2
        _close(s.se, certified, 1e-8)
        assert s.rss == pytest.approx(case.rss, rel=1e-9)
        _close(s.statistic, result.coef / s.se, 1e-14)
    _, pcov = curve_fit(
        lambda x, b1, b2: b1 * (1 - np.exp(-b2 * x)), case.x, case.y, p0=list(case.certified.values())
    )
    _close(s.cov, pcov, 1e-6)  # curve_fit's Jacobian is differenced: its own accuracy, not ours
    lower, upper = result.conf_int(0.05).to_numpy().T
    from scipy import stats

    q = stats.t.ppf(0.975, s.df_resid)
    _close(upper - lower, 2 * q * np.asarray(certified), 1e-8)


@pytest.mark.parametrize("problem", [misra1a, gauss_like])
def test_formula_statistics_equal_those_of_a_fresh_solve_and_of_the_normal_equations(problem):
    """The statistics read the factor alone (no solve): the same covariance as ``least_squares``'
    factor with its solution, and as ``s^2 (J'J)^-1`` written out (scipy.linalg.inv of J'J)."""
    import scipy.linalg as sl
    from scipy import stats

    from gdlab._expr import numeric_form
    from gdlab._ols import least_squares
    from gdlab.fitting._inference import nonlinear

    case = problem()
    result = gdlab.fit({"x": case.x, "y": case.y}, y="y", model=case.formula, init=case.starts[1])
    numeric = numeric_form(case.formula, ("x",))
    assert numeric is not None
    values, model_jacobian = numeric.bind({"x": case.x}, len(case.x)).jacobian(result.coef)
    residual, jacobian = case.y - values, -model_jacobian
    found = nonlinear(result.coef, jacobian, residual)
    assert found is not None
    n, p = jacobian.shape
    s2 = residual @ residual / (n - p)
    fresh = s2 * least_squares(jacobian, residual, refine=False).unscaled_inverse()
    _close(found.cov, fresh, 1e-12)
    _close(found.cov, s2 * sl.inv(jacobian.T @ jacobian), 1e-9)
    np.testing.assert_array_equal(result.stats.cov, found.cov)
    _close(found.pvalue, 2 * stats.t.sf(np.abs(found.statistic), n - p), 1e-12)


def test_engel_power_law_has_r_nls_standard_errors():
    data = sm.datasets.engel.load_pandas().data
    result = gdlab.fit(data, y="foodexp", model="a*income^b", init={"a": 1, "b": 1})
    assert result.stats is not None
    assert [round(v, 3 - int(np.floor(np.log10(v)))) for v in result.stats.se] == [0.3828, 0.01939]
    text = result.summary()
    assert "<2e-16  ***" in text and "Residual standard error: 106.806 on 233 degrees of freedom" in text


# --- the same numbers from Parquet as from memory ---------------------------------------------------


@pytest.mark.parametrize("cov", ["nonrobust", "HC1", "HC3", "cluster"])
def test_parquet_files_give_the_numbers_memory_gives(tmp_path, cov):
    frame = _grunfeld()
    frame.loc[[3, 50, 151], "value"] = np.nan
    folder = tmp_path / "grunfeld"
    folder.mkdir()
    for k, start in enumerate(range(0, len(frame), 60)):
        frame.iloc[start : start + 60].to_parquet(folder / f"part-{k}.parquet")
    groups = "firm" if cov == "cluster" else None
    kw = {"y": "invest", "x": "value,capital", "cov": cov, "groups": groups, "dropna": True}
    here, there = gdlab.fit(frame, **kw), gdlab.fit(folder, **kw)
    assert here.stats is not None and there.stats is not None
    assert there.dropped == here.dropped == 3 and there.n == here.n == 217
    for name in ("se", "pvalue", "cov"):
        _close(getattr(there.stats, name), getattr(here.stats, name), 1e-10)
    _close(there.conf_int(), here.conf_int(), 1e-10)
    assert there.stats.model_test.statistic == pytest.approx(here.stats.model_test.statistic, rel=1e-10)
    assert there.stats.aic == pytest.approx(here.stats.aic, rel=1e-12)
    assert there.test("value = capital").statistic == pytest.approx(
        here.test("value = capital").statistic, rel=1e-10
    )
    assert "(3 observations deleted due to missingness: dropna=True)" in there.summary()
    kept = frame.dropna()
    model_kw = {"cov_kwds": {"groups": kept["firm"]}} if cov == "cluster" else {}
    model = _ols(kept, "invest", ["value", "capital"], cov_type=cov, use_t=True, **model_kw)
    _close(there.stats.se, model.bse, 1e-9)


# --- what the summary and the dictionary say -------------------------------------------------------------


def test_summary_reads_like_r():
    frame, y, x = _stackloss()
    text = gdlab.fit(frame, y=y, x=x).summary()
    lines = text.splitlines()
    assert lines[1].split() == ["coefficient", "closed", "form", "std", "error", "t", "P>|t|"]
    assert lines[2].split()[0] == "intercept" and lines[2].split()[-2:] == ["0.00375", "**"]
    assert lines[3].split()[-2:] == ["5.8e-05", "***"] and lines[4].split()[-1] == "**"
    assert lines[5].split()[-1] == "0.344"  # ACIDCONC: no star
    assert "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1" in text
    assert "Residual standard error: 3.24336 on 17 degrees of freedom" in text
    assert "Multiple R-squared: 0.913577,  Adjusted R-squared: 0.898326" in text
    assert "F-statistic: 59.9022 on 3 and 17 DF, p-value: 3.02e-09" in text
    tiny = gdlab.fit({"x": np.arange(50.0), "y": 3 * np.arange(50.0) + np.sin(np.arange(50.0))}, y="y", x="x")
    assert tiny.stats is not None and tiny.stats.pvalue[1] < 1e-30
    assert "<2e-16  ***" in tiny.summary() and " 0  " not in tiny.summary()


def test_to_dict_and_to_pandas_carry_every_new_number_as_strict_json():
    frame = _grunfeld()
    result = gdlab.fit(frame, y="invest", x="value,capital", cov="cluster", groups="firm")
    stats = result.to_dict()["statistics"]
    json.dumps(stats, allow_nan=False)
    assert stats["cov_type"] == "cluster" and stats["groups"] == 11 and stats["df_inference"] == 10
    assert stats["aic"] == pytest.approx(result.stats.aic) and stats["model_test"]["distribution"] == "F"
    np.testing.assert_allclose(stats["conf_int_95"], result.conf_int().to_numpy())
    frame_out = result.to_pandas()
    np.testing.assert_allclose(frame_out[["lower 95%", "upper 95%"]], result.conf_int().to_numpy())
    formula = gdlab.fit("cafe", y="y", model="a + b*x").to_dict()
    assert formula["std_errors"] is not None and formula["statistics"]["model_test"] is None


def test_p_values_and_intervals_need_no_scipy_stats():
    code = (
        "import sys, gdlab; f = gdlab.fit('cafe', y='y', x='x', cov='HC3'); f.summary(); f.conf_int(); "
        "f.test('x = 2'); gdlab.fit('cafe', y='y', model='a*x^b').summary(); "
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5, "0.05", True, float("nan")])
def test_alpha_outside_zero_one_is_refused(alpha):
    result = gdlab.fit("cafe", y="y", x="x")
    with pytest.raises(InputError, match=r"strictly between 0 and 1: give 0\.05"):
        result.conf_int(alpha)
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        result.predict({"x": [1.0]}, interval="confidence", alpha=alpha)


def test_bad_covariances_restrictions_and_intervals_are_refused_with_the_fix():
    unknown = r"cov='HC4' is unknown: did you mean 'HC3'\? choose one of nonrobust, HC0"
    with pytest.raises(InputError, match=unknown) as err:
        gdlab.fit("cafe", y="y", x="x", cov="HC4")
    assert err.value.parameter == "cov"
    from gdlab.fitting._robust import cov_type

    assert [cov_type(name, None) for name in ("hc1", "NonRobust", "Hc3")] == ["HC1", "nonrobust", "HC3"]
    assert cov_type("CLUSTER", "firm") == "cluster"
    with pytest.raises(InputError, match="cov=1 is unknown: choose one of"):
        cov_type(1, None)
    with pytest.raises(InputError, match="needs the column of cluster labels: give groups="):
        gdlab.fit("cafe", y="y", x="x", cov="cluster")
    with pytest.raises(InputError, match="leave it out, or give cov='cluster'"):
        gdlab.fit("cafe", y="y", x="x", groups="x")
    spector = sm.datasets.spector.load_pandas().data
    with pytest.raises(InputError, match="give cov='HC0'"):
        gdlab.fit(spector, y="GRADE", x="GPA", family="logistic", cov="HC3")
    with pytest.raises(InputError, match="a formula takes White's"):
        gdlab.fit("cafe", y="y", model="a + b*x", cov="cluster", groups="x")
    result = gdlab.fit("cafe", y="y", x="x")
    with pytest.raises(InputError, match=r"'z' in the restriction z = 0 is not a coefficient.*intercept, x"):
        result.test("z = 0")
    with pytest.raises(InputError, match="did you mean 'intercept'"):
        result.test("intercep = 1")
    with pytest.raises(InputError, match="not linear in the coefficients"):
        result.test("x*intercept = 1")
    with pytest.raises(InputError, match="not linear in the coefficients"):
        result.test("exp(x) = 1")
    with pytest.raises(InputError, match="not independent"):
        result.test("x = 1, 2*x = 2")
    with pytest.raises(InputError, match="names no coefficient"):
        result.test("x = x")
    with pytest.raises(InputError, match="did you mean 'prediction'"):
        result.predict({"x": [1.0]}, interval="predict")
    logistic = gdlab.fit(sm.datasets.spector.load_pandas().data, y="GRADE", x="GPA", family="logistic")
    with pytest.raises(
        InputError, match=r"a prediction interval \(for a new observation\) is given for linear"
    ):
        logistic.predict({"GPA": [3.0]}, interval="prediction")
    x = np.linspace(1.0, 5.0, 12)  # a + b*log10(c*x): b and c are one parameter, b*log10(c)
    singular = gdlab.fit({"x": x, "y": 1 + 2 * np.log10(x)}, y="y", model="a + b*log10(c*x)")
    with pytest.raises(InputError, match="this fit has no standard errors, so no interval"):
        singular.predict({"x": [3.0]}, interval="confidence")


def test_a_formula_fits_intervals_by_the_delta_method_against_curve_fit_and_the_linear_fit(monkeypatch):
    """predict(new, interval=...) of a formula fit: the variance of the formula at a new row is
    g' C g, g its gradient in the parameters there. With C from scipy.optimize.curve_fit's pcov and
    g written by hand, the standard errors agree to 1e-6; a formula linear in its parameters
    (a + b*x) gives the linear fit's intervals (statsmodels' get_prediction, tested above) to 1e-10;
    and a formula without a NumPy form (its gradient from JAX) gives the same as with one."""
    import scipy.optimize
    import scipy.stats

    from gdlab.fitting import _formula

    rng = np.random.default_rng(4)
    t = np.linspace(0.0, 8.0, 25)
    y = 3 * (1 - np.exp(-0.7 * t)) + 0.05 * rng.normal(size=25)
    data, new = {"t": t, "y": y}, {"t": np.array([0.5, 2.0, 4.0, 12.0])}
    curve = gdlab.fit(data, y="y", model="b1*(1-exp(-b2*t))", init={"b1": 1.0, "b2": 1.0})
    coef, pcov = scipy.optimize.curve_fit(
        lambda x, b1, b2: b1 * (1 - np.exp(-b2 * x)), t, y, p0=[1.0, 1.0], ftol=1e-15, xtol=1e-15, gtol=1e-15
    )
    b1, b2 = coef
    g = np.column_stack([1 - np.exp(-b2 * new["t"]), b1 * new["t"] * np.exp(-b2 * new["t"])])
    se = np.sqrt(np.einsum("ij,jk,ik->i", g, pcov, g))
    q = scipy.stats.t.ppf(0.95, 23)
    confidence = curve.predict(new, interval="confidence", alpha=0.1)
    np.testing.assert_allclose(confidence["se"], se, rtol=1e-6)
    np.testing.assert_allclose(confidence["mean"], b1 * (1 - np.exp(-b2 * new["t"])), rtol=1e-8)
    np.testing.assert_allclose(confidence["upper"] - confidence["mean"], q * se, rtol=1e-6)
    sigma2 = np.sum((y - b1 * (1 - np.exp(-b2 * t))) ** 2) / 23
    prediction = curve.predict(new, interval="prediction", alpha=0.1)
    np.testing.assert_allclose(prediction["se"], np.sqrt(se**2 + sigma2), rtol=1e-6)
    line = gdlab.fit(data, y="y", model="a + b*t", init={"a": 1.0, "b": 1.0})
    linear = gdlab.fit(data, y="y", x="t")
    for interval in ("confidence", "prediction"):
        mine, theirs = line.predict(new, interval=interval), linear.predict(new, interval=interval)
        np.testing.assert_allclose(mine.to_numpy(), theirs.to_numpy(), rtol=1e-10)
    monkeypatch.setattr(_formula, "numeric_form", lambda *args: None)  # the gradient from JAX
    jax_form = curve.predict(new, interval="confidence", alpha=0.1)
    np.testing.assert_allclose(jax_form.to_numpy(), confidence.to_numpy(), rtol=1e-12)


def test_cluster_labels_may_be_text_in_memory_over_parquet_and_for_a_glm(tmp_path):
    """Grunfeld's firms are names ('General Motors', ...): they were refused as 'holds text'. Their
    levels are found once over all the rows, so each block reads a firm as the same cluster."""
    named = sm.datasets.grunfeld.load_pandas().data[["invest", "value", "capital", "firm"]]
    named = named.assign(firm=named["firm"].astype(str))
    codes = pd.factorize(named["firm"])[0]
    model = _ols(
        named, "invest", ["value", "capital"], cov_type="cluster", use_t=True, cov_kwds={"groups": codes}
    )
    folder = tmp_path / "grunfeld"
    folder.mkdir()
    for part, rows in enumerate(np.array_split(np.arange(len(named)), 3)):  # firms split across files
        named.iloc[rows].to_parquet(folder / f"part-{part}.parquet")
    for data in (named, folder):
        for result in (
            gdlab.fit(data, y="invest", x="value,capital", cov="cluster", groups="firm"),
            gdlab.fit(data, "invest ~ value + capital", cov="cluster", groups="firm"),
        ):
            assert result.stats is not None and result.stats.groups == 11
            _close(result.stats.se, model.bse, 1e-9)
    counts = named.assign(invest=np.round(named["invest"] / 10))
    poisson = sm.GLM(
        counts["invest"], sm.add_constant(np.log(counts[["value", "capital"]])), family=sm.families.Poisson()
    ).fit(cov_type="cluster", cov_kwds={"groups": codes})
    found = gdlab.fit(
        counts.assign(lv=np.log(counts["value"]), lc=np.log(counts["capital"])),
        y="invest",
        x="lv,lc",
        family="poisson",
        cov="cluster",
        groups="firm",
    )
    _close(found.stats.se, poisson.bse, 1e-8)


def test_a_formula_fits_robust_covariance_is_whites_with_the_jacobian_for_the_design():
    """cov='HC0'..'HC3' with model=: White's sandwich with the formula's Jacobian in place of the
    design. A formula linear in its parameters gives the linear fit's (statsmodels', tested above)
    to 1e-10; a nonlinear one gives HC3 written out by hand from its Jacobian; 'cluster' is
    refused, naming what a formula takes."""
    from scipy import stats

    rng = np.random.default_rng(5)
    t = np.linspace(0.0, 8.0, 30)
    y = 3 * (1 - np.exp(-0.7 * t)) + 0.05 * (1 + t / 4) * rng.normal(size=30)  # spread growing with t
    data = {"t": t, "y": y}
    for kind in ("HC0", "HC1", "HC2", "HC3"):
        line = gdlab.fit(data, y="y", model="a + b*t", init={"a": 1.0, "b": 1.0}, cov=kind)
        linear = gdlab.fit(data, y="y", x="t", cov=kind)
        np.testing.assert_allclose(line.stats.cov, linear.stats.cov, rtol=1e-10)
        assert line.stats.cov_type == kind and line.stats.df_inference == 28
    curve = gdlab.fit(data, y="y", model="b1*(1-exp(-b2*t))", init={"b1": 1.0, "b2": 1.0}, cov="HC3")
    b1, b2 = curve.coef
    J = np.column_stack([1 - np.exp(-b2 * t), b1 * t * np.exp(-b2 * t)])
    e = y - b1 * (1 - np.exp(-b2 * t))
    bread = np.linalg.inv(J.T @ J)
    h = np.einsum("ij,jk,ik->i", J, bread, J)
    expected = bread @ (J.T * (e / (1 - h)) ** 2) @ J @ bread
    np.testing.assert_allclose(curve.stats.cov, expected, rtol=1e-8)
    np.testing.assert_allclose(
        curve.conf_int(0.05)["upper"] - curve.coef, curve.stats.se * stats.t.ppf(0.975, 28), rtol=1e-9
    )
    assert "Standard errors: HC3" in curve.summary()
    with pytest.raises(InputError, match=r"a formula takes White's: cov='HC3'"):
        gdlab.fit(
            {**data, "g": np.arange(30) % 3}, y="y", model="b1*(1-exp(-b2*t))", cov="cluster", groups="g"
        )


def test_robust_covariances_refuse_a_row_of_leverage_1_and_intervals_follow_the_fits_own_coefficients():
    """HC2 and HC3 divide by 1 - h_i: a row the fit passes through whatever its value (leverage 1)
    is refused in words, in a linear fit (it raised numpy's LinAlgError from the F test) and a
    formula's alike (it gave NaN). A descent beside lm has lm's statistics, and its intervals are
    centred on lm's answer, as conf_int is; with as many rows as parameters the refusal says so."""
    d = {"t": [1.0, 1.0, 1.0, 1.0, 5.0], "y": [1.0, 1.2, 0.9, 1.1, 3.0]}
    for kind in ("HC2", "HC3"):
        for given in ({"x": "t"}, {"model": "a + b*t", "init": {"a": 0.0, "b": 1.0}}):
            with pytest.raises(
                InputError, match=rf"cov='{kind}' divides .* 1 row of this fit has leverage 1"
            ):
                gdlab.fit(d, y="y", cov=kind, **given).stats  # noqa: B018  # (a formula's: when read)
    assert gdlab.fit(d, y="y", x="t", cov="HC1").stats.se == pytest.approx([0.0902110, 0.0180422], rel=1e-5)
    t = np.linspace(0.2, 10.0, 30)
    y = 3 * (1 - np.exp(-0.4 * t)) + (0.02 + 0.02 * t) * np.random.default_rng(4).standard_normal(30)
    model, start = "b1*(1-exp(-b2*t))", {"b1": 2.5, "b2": 0.3}
    beside = gdlab.fit({"t": t, "y": y}, y="y", model=model, init=start, method="gd", steps=20)
    lm = gdlab.fit({"t": t, "y": y}, y="y", model=model, init=start)
    assert not np.allclose(beside.coef, lm.coef)  # the descent stopped short
    np.testing.assert_allclose(
        beside.predict({"t": [5.0]}, interval="confidence").to_numpy(),
        lm.predict({"t": [5.0]}, interval="confidence").to_numpy(),
        rtol=1e-12,
    )
    few = gdlab.fit({"t": [1.0, 2.0], "y": [1.0, 3.0]}, y="y", model="a*exp(b*t)", init={"a": 1.0, "b": 1.0})
    with pytest.raises(InputError, match="it has 2 rows for 2 coefficients: no residual degrees of freedom"):
        few.predict({"t": [1.5]}, interval="confidence")
