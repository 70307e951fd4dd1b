import numpy as np
import pytest

import gdlab
from gdlab._ols import IllConditionedWarning, least_squares


def test_matches_numpy_lstsq_on_random_data():
    rng = np.random.default_rng(7)
    X = np.column_stack([np.ones(50), rng.normal(size=(50, 3))])
    y = rng.normal(size=50)
    np.testing.assert_allclose(gdlab.ols(X, y), np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10)


def test_shape_follows_x_transpose_y():
    cafe = gdlab.datasets.cafe()
    assert gdlab.ols(cafe.X, cafe.y).shape == (2,)
    assert gdlab.ols(cafe.X, cafe.y.reshape(-1, 1)).shape == (2, 1)


def test_stable_where_the_explicit_inverse_is_not():
    # Columns nearly collinear (condition number ~1e7): inverting X'X squares it.
    t = np.linspace(0, 1, 200)
    X = np.column_stack([np.ones_like(t), t, t + 1e-7 * np.sin(40 * t)])
    beta = np.array([1.0, 2.0, 3.0])
    y = X @ beta
    stable_error = np.max(np.abs(gdlab.ols(X, y) - beta))
    inverse_error = np.max(np.abs(np.linalg.inv(X.T @ X) @ X.T @ y - beta))
    assert stable_error < 1e-6
    assert inverse_error > 100 * stable_error


def test_bad_shapes_and_values():
    cafe = gdlab.datasets.cafe()
    with pytest.raises(ValueError, match="2-D"):
        gdlab.ols(cafe.x, cafe.y)
    with pytest.raises(ValueError, match="10 rows but y has 9"):
        gdlab.ols(cafe.X, cafe.y[:9])
    with pytest.raises(ValueError, match=r"\(n,\) or \(n, 1\)"):
        gdlab.ols(cafe.X, np.ones((10, 2)))
    with pytest.raises(ValueError, match="finite"):
        gdlab.ols(cafe.X, np.where(cafe.y > 70, np.nan, cafe.y))


def test_rank_deficient_design_warns():
    X = np.column_stack([np.ones(5), np.arange(5.0), 2 * np.arange(5.0)])
    with pytest.warns(gdlab.RankDeficientWarning, match="rank 2 < 3"):
        gdlab.ols(X, np.arange(5.0))


# --- accuracy on ill-conditioned designs, against a 50-digit reference ------------------------------


def _reference(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The exact least-squares solution for the given floats: normal equations in 50-digit arithmetic."""
    import mpmath

    with mpmath.workdps(50):
        A = mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in X])
        b = mpmath.matrix([mpmath.mpf(float(v)) for v in y])
        return np.array([float(v) for v in mpmath.lu_solve(A.T * A, A.T * b)])


def _digits(estimate: np.ndarray, exact: np.ndarray) -> float:
    """The fewest correct significant digits over the coefficients (NIST's log relative error)."""
    with np.errstate(divide="ignore"):
        error = np.abs(np.asarray(estimate) - exact) / np.abs(exact)
    return float(np.min(-np.log10(np.maximum(error, 1e-17))))


def _designs():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-9, -3, 82))  # a degree-10 polynomial in the manner of NIST's Filip
    X = np.vander(x, 11, increasing=True)
    beta = rng.normal(size=11) * 10.0 ** -np.arange(11)
    yield "degree-10 polynomial", X, X @ beta + 0.01 * rng.normal(size=82)
    t = np.linspace(0, 1, 50)
    X = np.column_stack([np.ones(50), 1000 + t, (1000 + t) ** 2])  # a quadratic far from the origin
    yield "quadratic", X, 1 + 2 * t + 3 * t**2 + 0.1 * rng.normal(size=50)
    import statsmodels.api as sm

    longley = sm.datasets.longley.load_pandas()  # six collinear economic series (NIST's Longley)
    yield "Longley", np.column_stack([np.ones(16), longley.exog.to_numpy()]), longley.endog.to_numpy()
    x = np.arange(21.0)  # NIST's Wampler1: an exact quintic, every coefficient 1
    yield "Wampler1", np.vander(x, 6, increasing=True), np.vander(x, 6, increasing=True) @ np.ones(6)


@pytest.mark.parametrize(("name", "X", "y"), list(_designs()), ids=lambda v: v if isinstance(v, str) else "")
def test_at_least_the_digits_of_the_best_numpy_or_scipy_solver(name, X, y):
    import scipy.linalg

    exact = _reference(X, y)
    theirs = {"numpy.linalg.lstsq": np.linalg.lstsq(X, y, rcond=None)[0]}
    for driver in ("gelsd", "gelsy", "gelss"):
        theirs[f"scipy {driver}"] = scipy.linalg.lstsq(X, y, lapack_driver=driver)[0]
    best = max(_digits(b, exact) for b in theirs.values())
    solved = least_squares(X, y)
    ours = _digits(solved.coef, exact)
    assert ours >= best + 1, (name, ours, {k: _digits(b, exact) for k, b in theirs.items()})
    assert ours >= 9.5 and solved.rank == X.shape[1] and solved.refined
    assert solved.condition == pytest.approx(np.linalg.cond(X), rel=1e-3)


def test_an_ill_conditioned_design_is_not_called_rank_deficient_and_the_warning_names_its_condition():
    _, X, y = next(_designs())
    with pytest.warns(IllConditionedWarning) as w:
        gdlab.ols(X, y)
    (message,) = [str(x.message) for x in w]
    assert f"condition number {np.linalg.cond(X):.3g}" in message and "rank" not in message


def test_rcond_is_the_users_cut_off():
    _, X, y = next(_designs())
    pivots = np.abs(np.diag(least_squares(X, y).R))
    smallest = pivots.min() / pivots.max()
    assert least_squares(X, y, rcond=smallest / 2).rank == 11
    coarse = least_squares(X, y, rcond=smallest * 2)
    assert coarse.rank == 10 and "rank 10 < 11" in coarse.messages()[0]
    with pytest.warns(gdlab.RankDeficientWarning, match=r"rank 10 < 11 .*rcond=2\.\d*e-"):
        gdlab.ols(X, y, rcond=smallest * 2)
    with pytest.raises(ValueError, match=r"rcond must be a number in \[0, 1\)"):
        gdlab.ols(X, y, rcond=-1)


def test_the_minimum_norm_solution_of_a_rank_deficient_design():
    X = np.column_stack([np.ones(5), np.arange(5.0), 2 * np.arange(5.0)])
    y = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    with pytest.warns(gdlab.RankDeficientWarning):
        coef = gdlab.ols(X, y)
    np.testing.assert_allclose(coef, np.linalg.pinv(X) @ y, rtol=1e-12)


def test_float32():
    cafe = gdlab.datasets.cafe()
    coef = gdlab.ols(cafe.X, cafe.y, dtype="float32")
    assert coef.dtype == np.float32
    np.testing.assert_allclose(coef, np.linalg.lstsq(cafe.X, cafe.y, rcond=None)[0], rtol=1e-5)
