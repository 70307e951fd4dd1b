import numpy as np
import pytest

import gdlab
from helpers import rosenbrock


def test_correct_formula_passes_and_report_is_a_table():
    report = gdlab.check_grad(
        rosenbrock,
        np.array([-1.2, 1.0]),
        analytic=lambda p: np.array(
            [-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2), 200 * (p[1] - p[0] ** 2)]
        ),
    )
    assert report.passed
    np.testing.assert_allclose(report.autodiff, [-215.6, -88.0])
    np.testing.assert_allclose(report.numeric, report.autodiff, rtol=1e-8)
    assert report.max_rel_error < 1e-8
    text = repr(report)
    assert "passed" in text and "b[0]" in text and "-215.6" in text and "analytic" in text


def test_wrong_formula_fails():
    report = gdlab.check_grad(lambda b: (b / 2 - 1) ** 2, -10.0, analytic=lambda b: b - 2)
    assert not report.passed and not report
    assert report.max_abs_error == pytest.approx(6.0)
    assert "FAILED" in repr(report)


def test_analytic_as_value_and_tuple_point():
    report = gdlab.check_grad(lambda p: p[0] * p[1] ** 2, (2.0, 3.0), analytic=(9.0, 12.0))
    assert report.passed and report.names == ("b0", "b1")


def test_near_zero_gradient_at_large_loss_is_not_a_false_alarm():
    # Loss near 1e8 with a zero gradient: rounding in f(x+h) - f(x-h) must not fail it.
    report = gdlab.check_grad(lambda b: 1e8 + (b - 3.0) ** 2, 3.0)
    assert report.passed


def test_bad_inputs():
    with pytest.raises(ValueError, match="3 components but the point has 2"):
        gdlab.check_grad(lambda p: p[0] * p[1], np.array([1.0, 2.0]), analytic=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="tol"):
        gdlab.check_grad(lambda b: b**2, 1.0, tol=0)


def test_a_finite_difference_that_overflowed_confirms_nothing():
    """(b+1)^(10^10) at 0: autodiff and the formula give 1e10, the central difference overflows to
    inf (and so does its rounding floor): the check fails, and the report says why."""
    import gdlab

    assert not gdlab.check_grad(lambda b: (b + 1) ** 1e10, 0.0).passed
    report = gdlab.gradient_report("(b+1)^(10^10)", {"b": 0.0})
    assert not report.agree and report.rows[0].autodiff == pytest.approx(1e10)
    assert any("finite difference overflowed" in note for note in report.notes)
