"""The estimate's error against the sample size: 1/sqrt(n), as theory says."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gdlab import datasets
from gdlab._checks import InputError
from gdlab._consistency import consistency


def test_the_error_falls_like_one_over_root_n_and_matches_theory():
    result = consistency((100, 1000, 10000), repeats=60, seed=1)
    assert -0.6 < result.rate < -0.4
    np.testing.assert_allclose(result.errors[:, 1], result.theory, rtol=0.35)  # 60 repeats: ~10% spread
    assert result.theory[0] / result.theory[-1] == pytest.approx(10.0)
    # the first data set of the first size, fitted independently
    sample = datasets.make_regression(100, (10.2, 2.2), 1.0, 1)
    first = np.linalg.lstsq(sample.X, sample.y, rcond=None)[0]
    assert abs(first[1] - 2.2) < 5 * result.theory[0]
    out = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert out["sizes"] == [100, 1000, 10000] and len(out["slope_rmse"]) == 3
    assert [a.get_xscale() for a in result.plot().axes] == ["log"]
    assert repr(result).startswith("Consistency(3 sizes x 60 repeats; error ~ n^-0.")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"sizes": (100,)}, "at least two sample sizes"),
        ({"sizes": (2, 10)}, "sizes"),
        ({"repeats": 1}, "repeats"),
    ],
)
def test_bad_settings(kwargs, words):
    with pytest.raises(InputError, match=words):
        consistency(**kwargs)
