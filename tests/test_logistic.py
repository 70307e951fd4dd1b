"""Logistic regression: Newton's method (IRLS) against statsmodels' Logit and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab._checks import InputError
from gdlab.fitting._fit import fit


@pytest.fixture(scope="module")
def admissions():
    """Simulated pass/fail with one standard-normal score and one 0..50 regressor."""
    rng = np.random.default_rng(3)
    n = 300
    a, b = rng.normal(size=n), rng.uniform(0, 50, n)
    eta = -1 + 1.5 * a + 0.04 * b
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    return {"a": a, "b": b, "y": y}


@pytest.mark.parametrize("intercept", [True, False])
def test_coefficients_and_standard_errors_equal_statsmodels_logit(admissions, intercept):
    import statsmodels.api as sm

    X = np.column_stack([admissions["a"], admissions["b"]])
    model = sm.Logit(admissions["y"], sm.add_constant(X) if intercept else X).fit(disp=0, tol=1e-12)
    result = fit(admissions, y="y", x="a,b", family="logistic", intercept=intercept)
    assert result.family == "logistic" and result.method == "newton" and result.reference == "Newton (IRLS)"
    np.testing.assert_allclose(result.coef, model.params, rtol=1e-6)
    stats = result.stats
    assert stats is not None and stats.statistic_name == "z"
    np.testing.assert_allclose(stats.se, model.bse, rtol=1e-6)
    np.testing.assert_allclose(stats.statistic, model.tvalues, rtol=1e-6)
    np.testing.assert_allclose(stats.pvalue, model.pvalues, rtol=1e-5)
    assert stats.log_likelihood == pytest.approx(model.llf, rel=1e-9)
    if intercept:
        assert stats.r2 == pytest.approx(model.prsquared, rel=1e-8)
    assert result.trajectory is not None and result.status is not None
    assert result.status.value == "converged" and result.steps is not None and result.steps < 20


def test_coefficients_equal_scikit_learn_without_penalty(admissions):
    from sklearn.linear_model import LogisticRegression

    X = np.column_stack([admissions["a"], admissions["b"]])
    model = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, admissions["y"])
    result = fit(admissions, y="y", x="a,b", family="logistic")
    np.testing.assert_allclose(result.coef, [model.intercept_[0], *model.coef_[0]], rtol=1e-6)


def test_probabilities_predicted_for_new_rows(admissions):
    result = fit(admissions, y="y", x="a,b", family="logistic")
    b0, ba, bb = result.coef
    new = {"a": np.array([0.0, 1.0]), "b": np.array([10.0, 40.0])}
    expected = 1 / (1 + np.exp(-(b0 + ba * new["a"] + bb * new["b"])))
    np.testing.assert_allclose(result.predict(new), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("method", "within"),
    # Armijo's test cannot see a decrease below the loss's rounding: it stops at a gradient of sqrt(eps)
    [("gd", 1e-8), ("lbfgs", 1e-8), ("gd-armijo", 1e-6)],
)
def test_descent_methods_beside_newton(admissions, method, within):
    result = fit(admissions, y="y", x="a,b", family="logistic", method=method)
    assert result.method == method and result.status is not None and result.status.value == "converged"
    assert result.max_difference is not None and result.max_difference < within
    np.testing.assert_allclose(result.coef, result.closed_form, rtol=within)
    assert result.summary().splitlines()[0] == f"Fit(y ~ a + b, logistic, {method}, 300 rows)"


def test_a_response_that_is_not_0_1_is_named_with_its_first_bad_row(admissions):
    data = dict(admissions, y=admissions["y"].copy())
    data["y"][7] = 2.0
    with pytest.raises(InputError, match=r"column 'y' must hold only 0 and 1 .* 2 at row 7 \(1 such rows\)"):
        fit(data, y="y", x="a", family="logistic")
    with pytest.raises(InputError, match="'y' is 1 in every row: a logistic model needs both 0s and 1s"):
        fit(dict(admissions, y=np.ones(300)), y="y", x="a", family="logistic")
    with pytest.raises(InputError, match="a logistic model has no closed form"):
        fit(admissions, y="y", x="a", family="logistic", method="ols")


def test_perfect_separation_is_said():
    x = np.arange(10.0)
    result = fit({"x": x, "y": (x > 4.5).astype(float)}, y="y", x="x", family="logistic", steps=50)
    assert any("perfectly separated" in w for w in result.warnings)


def test_sgd_on_the_log_loss_comes_near_newtons_solution(admissions):
    result = fit(admissions, y="y", x="a,b", family="logistic", method="sgd", epochs=100, seed=1)
    assert result.steps == 100 * (300 // 8) and "1/(2 L_b)" in (result.lr_source or "")
    assert result.max_difference is not None and result.max_difference < 0.1
    np.testing.assert_allclose(result.coef[1:], result.closed_form[1:], rtol=0.1)


def test_separated_classes_are_not_called_converged():
    """x <= 3 is 0 and x >= 4 is 1: the likelihood has no finite maximum. Newton's steps stop on
    saturated coefficients (about 1e300); the fit says diverged and why, not converged."""
    import gdlab

    x = np.array([1.0, 2, 3, 4, 5, 6])
    separated = gdlab.fit({"x": x, "y": (x > 3.5).astype(float)}, y="y", x="x", family="logistic")
    assert separated.status is gdlab.Status.DIVERGED and "perfectly separated" in separated.message
    mixed = gdlab.fit({"x": x, "y": np.array([0.0, 1, 0, 1, 0, 1])}, y="y", x="x", family="logistic")
    assert mixed.status is gdlab.Status.CONVERGED


def test_separated_classes_have_no_standard_errors_to_read():
    """Wald standard errors taken where the steps stopped (1e150 beside coefficients of 1e300) read
    as z of 1e149 and p < 2e-16 ***: a significance that does not exist. They are not given: NA in
    the summary, no stars, null in the dictionary, and what reads them is refused in words."""
    import gdlab

    data = {"x": [1.0, 2, 3, 4], "y": [0.0, 0, 1, 1]}
    for kwargs in ({"formula": "y ~ x"}, {"y": "y", "x": "x"}):
        result = gdlab.fit(data, family="logistic", **kwargs)
        assert np.isnan(result.stats.se).all() and np.isnan(result.stats.pvalue).all()
        rows = result.summary().splitlines()[2:4]
        assert all(row.split()[2:5] == ["NA", "NA", "NA"] and "*" not in row for row in rows), rows
        assert set(result.to_dict()["std_errors"].values()) == {None}
        calls = {
            "conf_int": lambda fitted: fitted.conf_int(),
            "test": lambda fitted: fitted.test("x = 0"),
            "interval": lambda fitted: fitted.predict(data, interval="confidence"),
        }
        for what, read in calls.items():
            with pytest.raises(
                InputError, match=rf"no standard errors, so no {what}: .*classes are separated"
            ):
                read(result)
    assert result.stats.deviance == pytest.approx(0, abs=1e-12)  # the deviances stand: 0 at saturation
