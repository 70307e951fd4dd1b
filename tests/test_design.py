"""Standardised regressors for descent fits, read from the table's own columns (gdlab._design)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gdlab._design import Standard, aligned, moments
from gdlab.fitting._fit import fit


def _plain(kind, w, Z, y):
    eta = Z @ w
    if kind == "mse":
        return jnp.mean((eta - y) ** 2)
    return jnp.mean(jnp.logaddexp(0.0, eta) - y * eta)


@pytest.mark.parametrize("kind", ["mse", "logistic"])
@pytest.mark.parametrize("n", [5, 2 * 8192 + 77])  # less than a block; two blocks and a ragged tail
def test_a_pass_over_the_columns_is_the_value_and_gradient_of_the_loss(kind, n):
    rng = np.random.default_rng(2)
    columns = (rng.normal(50, 3, n), rng.normal(-1, 1e-3, n))
    y = (rng.uniform(size=n) < 0.4).astype(float) if kind == "logistic" else rng.normal(size=n)
    mean, scale = moments(columns, True)
    standard = Standard(columns, mean, scale, intercept=True)
    Z = np.column_stack([np.ones(n), *((c - m) / s for c, m, s in zip(columns, mean, scale, strict=True))])
    w = rng.normal(size=3)
    value, grad = standard.pass_fn(y, kind)(w)
    np.testing.assert_allclose(value, _plain(kind, w, Z, y), rtol=1e-12)
    np.testing.assert_allclose(grad, jax.grad(_plain, argnums=1)(kind, w, Z, y), rtol=1e-10, atol=1e-13)


def test_an_aligned_array_is_shared_by_jax():
    Z = aligned(np.random.default_rng(0).normal(size=(1000, 3)))
    assert Z.ctypes.data % 64 == 0
    assert jax.device_put(Z).unsafe_buffer_pointer() == Z.ctypes.data  # JAX reads it where it lies


def test_standardised_blocks_equal_the_textbook_formula():
    rng = np.random.default_rng(4)
    columns = (rng.normal(5, 3, 70_000), rng.uniform(0, 1e6, 70_000))  # two host blocks
    for intercept in (True, False):
        mean, scale = moments(columns, intercept)
        X = np.column_stack(columns)
        centre = X.mean(axis=0) if intercept else 0.0
        np.testing.assert_allclose(scale, np.sqrt(np.mean((X - centre) ** 2, axis=0)), rtol=1e-12)
        standard = Standard(columns, mean, scale, intercept)
        Z = (X - centre) / scale
        Z = np.column_stack([np.ones(len(X)), Z]) if intercept else Z
        np.testing.assert_allclose(standard.matrix(), Z, atol=1e-12)
        np.testing.assert_allclose(standard.gram(), Z.T @ Z / len(Z), atol=1e-10)


@pytest.mark.parametrize(("family", "method"), [("linear", "gd"), ("linear", "adam"), ("logistic", "gd")])
def test_a_large_float64_descent_fit_reads_the_columns_by_passes_and_agrees(family, method, monkeypatch):
    import gdlab.fitting._beside
    from gdlab._data import SHARE_VALUES

    monkeypatch.setattr(gdlab.fitting._beside, "PASS_VALUES", SHARE_VALUES)  # the same path, on less data

    n = SHARE_VALUES // 4 + 999  # x0, x1, x2 and y: a table that is shared, not copied
    rng = np.random.default_rng(6)
    x = {f"x{j}": rng.normal(3 * j, 1 + j, n) for j in range(3)}
    eta = 0.3 + 0.5 * x["x0"] - 0.2 * x["x1"] + 0.1 * x["x2"]
    noise = rng.uniform(size=n) < 1 / (1 + np.exp(-eta))
    y = noise.astype(float) if family == "logistic" else eta + rng.normal(size=n)
    result = fit(x | {"y": y}, y="y", x=list(x), family=family, method=method, steps=4000, lr=None)
    assert result.trajectory.method.endswith("(full batch over the table's columns)")
    assert result.status.value == "converged", result.message
    assert np.shares_memory(result._data["x0"], x["x0"])  # the data were not copied
    rtol = 1e-5 if method == "adam" else 1e-7
    np.testing.assert_allclose(result.coef, result.closed_form, rtol=rtol, atol=rtol)
    # each recorded gradient is the exact gradient of the mean loss at that step, on the standardised data
    Z = np.column_stack([np.ones(n), *((x[c] - x[c].mean()) / x[c].std() for c in x)])
    w = np.asarray(result.trajectory.params)[3]
    residual = (1 / (1 + np.exp(-Z @ w)) - y) if family == "logistic" else 2 * (Z @ w - y)
    np.testing.assert_allclose(np.asarray(result.trajectory.grad)[3], residual @ Z / n, rtol=1e-9, atol=1e-12)


def test_columns_of_one_row_major_array_are_read_by_rows_with_the_same_result():
    from gdlab._data import as_table
    from gdlab._design import _row_major

    rng = np.random.default_rng(10)
    A = rng.normal(size=(300_000, 4)) * [1.0, 10.0, 0.1, 1.0] + [0.0, 50.0, -3.0, 0.0]  # a shared table
    table = as_table(A)
    columns = [table[c] for c in ("2", "0", "1")]  # any order, not all of them
    assert _row_major(columns) is not None
    assert _row_major([A[:100, 0], A[:100, 1]]) is None  # a view of part of the rows: read by columns
    mean, scale = moments(columns, True)
    by_rows = Standard(columns, mean, scale, True).pass_fn(A[:, 3])
    copies = [np.array(c) for c in columns]
    by_columns = Standard(copies, mean, scale, True).pass_fn(A[:, 3])
    w = rng.normal(size=4)
    np.testing.assert_allclose(by_rows(w)[0], by_columns(w)[0], rtol=1e-14)
    np.testing.assert_allclose(by_rows(w)[1], by_columns(w)[1], rtol=1e-12, atol=1e-14)
