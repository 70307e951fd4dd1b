import numpy as np
import pytest

import gdlab
from gdlab import datasets


def test_cafe_is_read_only_and_consistent():
    cafe = datasets.cafe()
    assert cafe.n == 10 and cafe.X.shape == (10, 2) and cafe.beta.tolist() == [10.2, 2.2]
    np.testing.assert_allclose(cafe.noise, cafe.y - 10.2 - 2.2 * cafe.x)
    with pytest.raises(ValueError):
        cafe.y[0] = 0.0
    assert list(cafe.to_pandas().columns) == ["x", "y"]


def test_make_regression_repeats_from_a_seed():
    a = datasets.make_regression(30, beta=(1.0, -2.0), noise=0.5, seed=3)
    b = datasets.make_regression(30, beta=(1.0, -2.0), noise=0.5, seed=3)
    c = datasets.make_regression(30, beta=(1.0, -2.0), noise=0.5, seed=4)
    assert np.array_equal(a.y, b.y) and not np.array_equal(a.y, c.y)
    assert a.x.min() >= 20 and a.x.max() <= 30
    exact = datasets.make_regression(5, beta=(1.0, 2.0), noise=0.0)
    np.testing.assert_allclose(exact.y, 1 + 2 * exact.x)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "n must be a whole number >= 1; got 0"),
        ({"beta": (1.0,)}, "two or more finite"),
        ({"noise": -1.0}, "noise"),
        ({"low": 3.0, "high": 1.0}, "low < high"),
        # each of these raised a raw ValueError, TypeError or MemoryError
        ({"n": 10**12}, "n must be a whole number <= 500,000,000; got 1,000,000,000,000"),
        ({"n": 1e300}, "n must be a whole number <= 500,000,000; got 1e[+]300"),
        ({"n": 10**8, "beta": (1, 2, 3, 4, 5, 6)}, "600,000,000 numbers: at most 500,000,000"),
        ({"seed": -1}, "seed must be a whole number >= 0; got -1"),
        ({"seed": 1.5}, "seed must be a whole number; got 1.5"),
        ({"seed": 2**64}, "seed must be a whole number <= 9,223,372,036,854,775,807"),
        ({"noise": None}, "noise must be a number; got None"),
        ({"beta": ("a", "b")}, "beta must be two or more finite numbers"),
        ({"low": "x"}, "low must be a number; got 'x'"),
        ({"n": True}, "n must be a whole number; got True"),
    ],
)
def test_make_regression_rejects_bad_input(kwargs, match):
    with pytest.raises(gdlab.InputError, match=match):
        datasets.make_regression(**kwargs)


def test_make_regression_takes_a_whole_float_as_rows_like_every_count():
    assert datasets.make_regression(1e3, seed=1).n == 1000
    assert np.array_equal(datasets.make_regression(1e3, seed=1).y, datasets.make_regression(1000, seed=1).y)


def test_make_regression_with_several_regressors_matches_its_coefficients():
    data = datasets.make_regression(5000, beta=(1.0, 2.0, -3.0), noise=0.5, seed=3)
    assert data.x.shape == (5000, 2) and data.X.shape == (5000, 3)
    coef = np.linalg.lstsq(data.X, data.y, rcond=None)[0]
    np.testing.assert_allclose(coef, [1.0, 2.0, -3.0], atol=0.05)
    assert list(data.to_pandas().columns) == ["x1", "x2", "y"]
    np.testing.assert_allclose(data.noise.std(), 0.5, rtol=0.05)
