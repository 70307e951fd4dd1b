import numpy as np
import pytest

import gdlab


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
