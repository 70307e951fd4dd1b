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


# --- a design read a block of rows at a time: no copy of X --------------------------------------


def _tall(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.uniform(1900, 2000, n)  # a regressor far from zero: ill-conditioned beside the intercept
    X = np.column_stack([np.ones(n), t, rng.normal(size=n), (t - 1950) ** 2])
    return X, X @ np.array([3.0, 0.5, -2.0, 1e-3]) + rng.normal(size=n)


@pytest.mark.parametrize("n", [65_536, 150_001])  # exactly one block; two blocks and a ragged tail
def test_blocks_of_rows_agree_with_one_factorisation(n):
    X, y = _tall(n)
    reference = np.linalg.lstsq(X, y, rcond=None)[0]
    solved = least_squares(X, y)
    np.testing.assert_allclose(solved.coef, reference, rtol=1e-9)
    columns = gdlab._ols.Columns([None, X[:, 1], X[:, 2], X[:, 3]], n)
    from_columns = least_squares(columns, y)
    np.testing.assert_allclose(from_columns.coef, solved.coef, rtol=1e-12)
    assert from_columns.condition == pytest.approx(solved.condition, rel=1e-8)
    assert from_columns.refined and solved.refined  # ill-conditioned (1e9): refined over the blocks


def test_columns_read_a_block_at_a_time_never_copy_the_design(monkeypatch):
    X, y = _tall(150_001)
    columns = gdlab._ols.Columns([None, X[:, 1], X[:, 2], X[:, 3]], len(y))
    largest = []
    real = gdlab._ols.Columns.block

    def watched(self, start, stop, dtype=None, out=None):
        block = real(self, start, stop, dtype, out)
        largest.append(block.shape[0])
        return block

    monkeypatch.setattr(gdlab._ols.Columns, "block", watched)
    least_squares(columns, y)
    assert max(largest) == gdlab._ols._BLOCK_ROWS < len(y)


def test_float32_and_wide_designs_by_columns():
    X, y = _tall(1_000)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    solved = least_squares(gdlab._ols.Columns(list(X32.T), dtype=np.float32), y32, dtype=np.float32)
    assert solved.coef.dtype == np.float32
    np.testing.assert_allclose(solved.coef, np.linalg.lstsq(X32, y32, rcond=None)[0], rtol=2e-3)
    wide = np.random.default_rng(0).normal(size=(3, 5))  # fewer rows than columns: the minimum-norm solution
    with pytest.warns(gdlab.RankDeficientWarning, match="rank 3 < 5"):
        coef = gdlab.ols(wide, np.arange(3.0))
    np.testing.assert_allclose(coef, np.linalg.pinv(wide) @ np.arange(3.0), atol=1e-12)


def test_a_value_that_is_not_finite_is_named_by_row():
    X, y = _tall(100_000)
    X[70_000, 2] = np.inf  # in the second block
    with pytest.raises(gdlab.InputError, match="not finite in row 70000"):
        gdlab.ols(X, y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_lapack_calls_without_scipys_wrappers_give_scipys_answers(dtype):
    import scipy.linalg as sl

    from gdlab._ols import _conditions, _pivoted_qr, _solve_upper, _triu

    rng = np.random.default_rng(3)
    for p in (1, 2, 5, 40):
        A = rng.normal(size=(p, p)).astype(dtype)
        for ours, theirs in zip(_pivoted_qr(A.copy()), sl.qr(A, pivoting=True), strict=True):
            np.testing.assert_array_equal(ours, theirs)
            assert ours.dtype == theirs.dtype
        R = _triu(A) + 4 * np.eye(p, dtype=dtype)
        np.testing.assert_array_equal(_triu(A), np.triu(A))
        b = rng.normal(size=p).astype(dtype)
        for upper in (R, np.asfortranarray(R)):
            np.testing.assert_array_equal(_solve_upper(upper, b), sl.solve_triangular(upper, b))
        scaled = R * rng.uniform(1, 8, p).astype(dtype)
        expected = [np.linalg.cond(m) for m in (R, scaled)]
        np.testing.assert_allclose(
            _conditions(R, scaled, p), expected, rtol=1e-4 if dtype == np.float32 else 1e-12
        )
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        _solve_upper(np.zeros((2, 2), dtype), np.ones(2, dtype))


def test_the_factor_alone_is_least_squares_factor_bit_for_bit():
    """``factor`` (the statistics of a Jacobian read no solution) makes the same calls as
    ``least_squares``: every field equal to the last bit, the workspace sizes kept or not."""
    from gdlab import _ols
    from gdlab._ols import factor

    rng = np.random.default_rng(5)
    x = np.linspace(0, 1, 30)
    designs = [
        rng.normal(size=(14, 2)) * [1e3, 1e-4],
        rng.normal(size=(250, 8)),
        np.vander(x, 9),  # ill-conditioned: scaled condition near 1e6
        np.column_stack([x, 2 * x, np.ones(30)]),  # rank 2
        rng.normal(size=(3, 3)),
    ]
    for X in designs:
        y = rng.normal(size=X.shape[0])
        for cleared in (True, False):
            if cleared:
                _ols._LWORK.clear()
            found, solved = factor(X, y), least_squares(X, y, refine=False)
            for name in ("rank", "rcond", "condition", "scaled_condition", "R", "permutation", "scale"):
                np.testing.assert_array_equal(getattr(found, name), getattr(solved, name), err_msg=name)
            assert found.full_rank == solved.full_rank
        if found.full_rank:
            inverse = found.unscaled_inverse()
            np.testing.assert_array_equal(inverse, solved.unscaled_inverse())
            # the permuted, rescaled inverse as np.ix_ and np.outer write it, and (X'X)^-1 itself
            Rinv = np.linalg.inv(found.R)
            expected = np.empty_like(inverse)
            expected[np.ix_(found.permutation, found.permutation)] = Rinv @ Rinv.T
            loose = len(X) == 30  # the Vandermonde design: its inverse has lost digits either way
            np.testing.assert_allclose(
                inverse, expected / np.outer(found.scale, found.scale), rtol=1e-9 if loose else 1e-12
            )
            np.testing.assert_allclose(inverse, np.linalg.inv(X.T @ X), rtol=1e-5 if loose else 1e-12)
        else:
            assert found.rank == 2


def test_powers_of_two_with_and_without_a_zero_norm():
    from gdlab._ols import _power_of_two

    norms = np.array([3.0, 0.7, 1e-300, 5e300, 2.0**10 * 1.41])
    np.testing.assert_array_equal(_power_of_two(norms, np.dtype(np.float64)), 2.0 ** np.round(np.log2(norms)))
    np.testing.assert_array_equal(
        _power_of_two(np.array([3.0, 0.0, np.nan]), np.dtype(np.float64)), [4.0, 1.0, 1.0]
    )
    assert _power_of_two(norms[:2], np.dtype(np.float32)).dtype == np.float32
