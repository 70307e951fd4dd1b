"""Streaming Parquet: fixed-shape blocks, one-pass least squares, passes per step, SGD, constant memory."""

import itertools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gdlab
from gdlab import _host
from gdlab._checks import InputError
from gdlab.data import _parquet
from gdlab.fitting import _linear

RNG = np.random.default_rng(12)
N = 5_003  # not a multiple of any block size below
X1 = RNG.normal(5.0, 3.0, N)
X2 = RNG.normal(0.0, 1.0, N)
Y = 1.5 + 2.0 * X1 - 3.0 * X2 + RNG.normal(0.0, 0.5, N)
LABEL = (RNG.random(N) < 1 / (1 + np.exp(-(0.3 * X1 - 1.0 * X2 - 1.2)))).astype(float)
DATA = {"x1": X1, "x2": X2, "y": Y, "label": LABEL}


def fit_parquet(path, *, y, x, batch_rows=_parquet.BATCH_ROWS, dropna=False, **options):
    """``gdlab.fit`` of a Parquet source opened with blocks of ``batch_rows`` rows."""
    source = _parquet.open_parquet(path, [*gdlab._data.names(x), y], batch_rows=batch_rows, dropna=dropna)
    return gdlab.fit(source, y=y, x=x, dropna=dropna, **options)


def sgd_parquet(loss, init, path, *, buffer_rows=None, **options):
    """``gdlab.sgd`` streaming ``path``, its rows mixed within windows of ``buffer_rows``."""
    return gdlab.sgd(loss, init, path, stream=True, shuffle_buffer=buffer_rows, **options)


def _write_parts(folder: Path, data: dict, parts: int = 3, row_group: int = 611) -> Path:
    """``data`` as ``parts`` files with small, ragged row groups (pyarrow's batches never cross them)."""
    folder.mkdir(exist_ok=True)
    n = len(next(iter(data.values())))
    edges = np.linspace(0, n, parts + 1).astype(int)
    for i, (a, b) in enumerate(itertools.pairwise(edges)):
        frame = pd.DataFrame({k: v[a:b] for k, v in data.items()})
        frame.to_parquet(folder / f"part-{i}.parquet", row_group_size=row_group)
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return _write_parts(tmp_path_factory.mktemp("stream") / "data", DATA)


def test_blocks_have_one_shape_and_hold_every_row_in_order(folder):
    source = _parquet.open_parquet(folder, "x1,y", batch_rows=1000)
    blocks = list(source.blocks())
    assert {b.columns["x1"].shape for b in blocks} == {(1000,)} and len(blocks) == 6
    assert [b.rows for b in blocks] == [1000] * 5 + [3]
    last = blocks[-1]
    assert last.mask.sum() == 3 and np.all(last.columns["x1"][3:] == last.columns["x1"][0])
    x1 = np.concatenate([b.columns["x1"][: b.rows] for b in blocks])
    np.testing.assert_array_equal(x1, X1)


def test_a_pass_compiles_once_for_ragged_row_groups(folder):
    source = _parquet.open_parquet(folder, batch_rows=700)
    loss = lambda b, d: (d["y"] - b[0] - b[1] * d["x1"]) ** 2
    _host._block_terms._clear_cache()
    for start in (np.zeros(2), np.ones(2)):
        _host.value_and_grad(loss, start, source)
    assert _host._block_terms._cache_size() == 1


def test_one_pass_least_squares_matches_lstsq_and_statsmodels(folder):
    import statsmodels.api as sm

    fit = fit_parquet(folder, y="y", x=["x1", "x2"], batch_rows=512)
    X = np.column_stack([np.ones(N), X1, X2])
    expected = np.linalg.lstsq(X, Y, rcond=None)[0]
    np.testing.assert_allclose(fit.coef, expected, rtol=1e-12)
    ols = sm.OLS(Y, X).fit()
    np.testing.assert_allclose(fit.stats.se, ols.bse, rtol=1e-10)
    assert fit.stats.r2 == pytest.approx(ols.rsquared, rel=1e-12)
    assert fit.stats.rss == pytest.approx(ols.ssr, rel=1e-10)
    assert fit.n == N and fit.names == ("intercept", "x1", "x2")


def test_statistics_give_centred_spreads_and_merge_as_one_pass(folder, tmp_path):
    stats = _linear.linear_stats(folder, y="y", x="x1,x2")
    np.testing.assert_allclose(stats.means(), [X1.mean(), X2.mean()], rtol=1e-13)
    np.testing.assert_allclose(stats.spreads(), [X1.std(), X2.std()], rtol=1e-12)
    half = _write_parts(tmp_path / "a", {k: v[:2000] for k, v in DATA.items()}, parts=1)
    rest = _write_parts(tmp_path / "b", {k: v[2000:] for k, v in DATA.items()}, parts=1)
    merged = _linear.linear_stats(half, y="y", x="x1,x2").merge(_linear.linear_stats(rest, y="y", x="x1,x2"))
    np.testing.assert_allclose(merged.R.T @ merged.R, stats.R.T @ stats.R, rtol=1e-10)
    assert merged.n == N


def test_tsqr_keeps_the_digits_normal_equations_lose(tmp_path):
    """A quartic in x near 10 (condition 1.5e9), exact coefficients 1..5: QR's accuracy, not X'X's."""
    x = np.linspace(9.0, 11.0, 4000)
    beta = np.arange(1.0, 6.0)
    powers = {f"x{k}": x**k for k in range(1, 5)}
    y = np.polynomial.polynomial.polyval(x, beta)
    path = _write_parts(tmp_path / "poly", {**powers, "y": y}, parts=2, row_group=999)
    fit = fit_parquet(path, y="y", x=list(powers), batch_rows=1024)
    X = np.column_stack([np.ones_like(x), *powers.values()])
    error = lambda coef: np.max(np.abs(coef - beta) / beta)
    normal = np.linalg.solve(X.T @ X, X.T @ y)
    householder = np.linalg.lstsq(X, y, rcond=None)[0]
    assert error(fit.coef) < 1e-5 < 1e-2 < error(normal)
    assert error(fit.coef) < 30 * error(householder)


def test_descent_and_sweep_run_on_the_local_quadratic(folder):
    streamed = fit_parquet(folder, y="y", x="x1,x2", method="gd")
    in_memory = gdlab.fit(DATA, y="y", x="x1,x2", method="gd")
    np.testing.assert_allclose(streamed.coef, in_memory.coef, rtol=1e-10)
    assert streamed.steps == in_memory.steps and streamed.lr == pytest.approx(in_memory.lr, rel=1e-10)
    stats = _linear.linear_stats(folder, y="y", x="x1,x2")
    mse = lambda b: jnp.mean((Y - b[0] - b[1] * X1 - b[2] * X2) ** 2)
    lrs = [1e-4, 1e-3, 5e-3]
    local = gdlab.sweep(stats.loss, np.zeros(3), lrs=lrs, steps=200)
    direct = gdlab.sweep(mse, np.zeros(3), lrs=lrs, steps=200)
    np.testing.assert_allclose(local.final, direct.final, rtol=1e-10)
    assert [r.value for r in local.regime] == [r.value for r in direct.regime]


def test_logistic_newton_with_a_pass_per_step_matches_statsmodels(folder):
    import statsmodels.api as sm

    fit = fit_parquet(folder, y="label", x="x1,x2", family="logistic", batch_rows=1024)
    X = np.column_stack([np.ones(N), X1, X2])
    logit = sm.Logit(LABEL, X).fit(disp=0, tol=1e-14, maxiter=100)
    np.testing.assert_allclose(fit.coef, logit.params, rtol=1e-9)
    np.testing.assert_allclose(fit.stats.se, logit.bse, rtol=1e-7)
    in_memory = gdlab.fit(DATA, y="label", x="x1,x2", family="logistic")
    np.testing.assert_allclose(fit.coef, in_memory.coef, rtol=1e-10)
    assert fit.status.value == "converged"


def test_full_batch_gradient_and_descent_equal_the_in_memory_ones(folder):
    source = _parquet.open_parquet(folder, batch_rows=777)
    log_loss = lambda b, d: jnp.mean(
        jnp.logaddexp(0.0, b[0] + b[1] * d["x1"] + b[2] * d["x2"])
        - d["label"] * (b[0] + b[1] * d["x1"])
        - d["label"] * b[2] * d["x2"]
    )
    at = np.array([0.1, -0.2, 0.3])
    value, grad = _host.value_and_grad(log_loss, at, source)
    v, g = jax.value_and_grad(log_loss)(at, DATA)
    assert value == pytest.approx(float(v), rel=1e-13)
    np.testing.assert_allclose(grad, g, rtol=1e-12)
    streamed = gdlab.descend_parquet(log_loss, np.zeros(3), source, lr=0.05, steps=15)
    plain = gdlab.descend(lambda b: log_loss(b, DATA), np.zeros(3), lr=0.05, steps=15)
    np.testing.assert_allclose(streamed.params, plain.params, rtol=0, atol=1e-12)
    np.testing.assert_allclose(streamed.loss, plain.loss, rtol=1e-12)
    assert streamed.message == plain.message


def test_sgd_batches_are_a_seeded_permutation_within_bounded_windows(folder):
    source = _parquet.open_parquet(folder, "x1", batch_rows=500)
    batches = list(_parquet.shuffled_batches(source, 100, 1200, seed=5, epoch=0))
    assert len(batches) == N // 100
    seen = np.concatenate([b["x1"] for b in batches])
    position = {v: i for i, v in enumerate(X1)}
    rows = np.array([position[v] for v in seen])
    assert len(set(rows)) == len(rows) and not np.array_equal(rows, np.sort(rows))
    assert np.all(np.abs(rows - np.arange(len(rows))) < 2 * 1200)  # mixed only within a window
    again = list(_parquet.shuffled_batches(source, 100, 1200, seed=5, epoch=0))
    other = list(_parquet.shuffled_batches(source, 100, 1200, seed=5, epoch=1))
    assert np.array_equal(again[0]["x1"], batches[0]["x1"]) and not np.array_equal(other[0]["x1"], seen[:100])


def test_sgd_streams_each_epoch_and_records_the_full_loss_at_both_ends(folder):
    """Between its ends a streamed run records each step's minibatch loss (the first batch's is not
    the data's); its first and last rows are the loss on all the data, as SGD in memory records them,
    so its curve starts where a full-batch descent's does."""
    mse = lambda b, d: jnp.mean((d["y"] - b[0] - b[1] * d["x1"] - b[2] * d["x2"]) ** 2)
    run = gdlab.sgd(mse, np.zeros(3), folder, lr=5e-3, batch_size=50, epochs=3, seed=1)
    same = sgd_parquet(mse, np.zeros(3), folder, lr=5e-3, batch_size=50, epochs=3, seed=1)
    np.testing.assert_array_equal(run.params, same.params)
    assert run.steps == 3 * (N // 50) and "streamed from data" in run.message
    assert run.loss[-1] == pytest.approx(float(mse(run.final, DATA)), rel=1e-12)
    assert run.loss[0] == pytest.approx(float(mse(np.zeros(3), DATA)), rel=1e-12)
    assert run.loss[-1] < 1.0 < run.loss[0]


def test_bad_sources_and_settings_are_input_errors(folder, tmp_path):
    with pytest.raises(InputError, match=r"no column 'x9'; it has 'x1', 'x2', 'y', 'label'"):
        _parquet.open_parquet(folder, "x9")
    with pytest.raises(InputError, match="no such file or directory"):
        _parquet.open_parquet(tmp_path / "missing")
    pd.DataFrame({"a": ["u", "v"]}).to_parquet(tmp_path / "text.parquet")
    with pytest.raises(InputError, match="column 'a' holds text, not numbers"):
        _parquet.open_parquet(tmp_path / "text.parquet")
    pd.DataFrame({"a": [1.0, np.nan, 3.0]}).to_parquet(tmp_path / "gap.parquet", row_group_size=1)
    with pytest.raises(InputError, match=r"column 'a' has a missing value .* at row 1"):
        list(_parquet.open_parquet(tmp_path / "gap.parquet").blocks())
    with pytest.raises(InputError, match="'lbfgs' evaluates the loss at trial points"):
        gdlab.descend_parquet(lambda b, d: (d["y"] - b) ** 2, 0.0, folder, lr=0.1, steps=2, method="lbfgs")
    with pytest.raises(InputError, match="batch_size must be between 1 and the 5,003 rows"):
        sgd_parquet(lambda b, d: (d["y"] - b) ** 2, 0.0, folder, lr=0.1, batch_size=10**6)
    with pytest.raises(InputError, match="must hold only 0 and 1"):
        fit_parquet(folder, y="y", x="x1", family="logistic")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="not a readable Parquet"):
        _parquet.open_parquet(tmp_path / "bad.parquet")


_CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from gdlab import _host
    from gdlab.fitting import _linear
    from gdlab.data import _parquet
    def status(key):  # this process's own figures (ru_maxrss would include the parent's peak)
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    columns = [f"x{j}" for j in range(7)]
    def passes(path):
        source = _parquet.open_parquet(path, [*columns, "y"], batch_rows=16384)
        stats = _linear.linear_stats(source, y="y", x=columns)
        loss = lambda b, d: (d["y"] - b[0] - b[1] * d["x0"]) ** 2
        _host.value_and_grad(loss, np.zeros(2), source)
        return stats.n
    passes(sys.argv[1])  # compile and warm up on a small file
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # the peak so far is forgotten: VmHWM restarts from the current size
    before = status("VmRSS")
    n = passes(sys.argv[2])
    print(n, status("VmHWM") - before)
    """
)


def _random_parquet(path: Path, rows: int, chunk: int = 250_000) -> int:
    """Uncompressed random columns x0..x6 and y, written a chunk at a time; returns the data's bytes."""
    rng = np.random.default_rng(0)
    schema = pa.schema([(f"x{j}", pa.float64()) for j in range(7)] + [("y", pa.float64())])
    with pq.ParquetWriter(path, schema, compression="none") as writer:
        for start in range(0, rows, chunk):
            block = rng.standard_normal((8, min(chunk, rows - start)))
            writer.write_table(pa.table(list(block), schema=schema), row_group_size=100_000)
    return rows * 8 * 8


def test_memory_stays_constant_whatever_the_file_size(tmp_path):
    small, big = tmp_path / "small.parquet", tmp_path / "big.parquet"
    _random_parquet(small, 40_000)
    data_bytes = _random_parquet(big, 2_000_000)
    cap = 30 * 2**20  # the growth of peak memory allowed: under a quarter of the 128 MB of data
    assert data_bytes >= 4 * cap
    # Freed blocks go back to the system at once (malloc's large-block threshold, Arrow's system
    # allocator rather than mimalloc, which keeps ~35 MB it freed), so the peak measures live memory.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "ARROW_DEFAULT_MEMORY_POOL": "system"}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(small), str(big)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    rows, growth = map(int, done.stdout.split())
    assert rows == 2_000_000
    assert growth < cap, f"peak memory grew by {growth / 2**20:.1f} MB streaming {data_bytes / 2**20:.0f} MB"


def test_what_streams(folder, tmp_path):
    single = tmp_path / "one.parquet"
    pd.DataFrame({"x": [1.0, 2.0]}).to_parquet(single)
    assert _parquet.should_stream(folder) and not _parquet.should_stream(single)
    assert _parquet.should_stream(single, stream=True) and not _parquet.should_stream(folder, stream=False)
    assert not _parquet.should_stream({"x": [1.0]})
    with pytest.raises(InputError, match="stream=True needs a Parquet file or a directory"):
        gdlab.sgd(lambda b, d: jnp.mean((d["x"] - b) ** 2), 0.0, {"x": [1.0, 2.0]}, lr=0.1, stream=True)


def test_a_pass_shows_a_progress_bar_on_a_terminal_only(folder, monkeypatch, capsys):
    from gdlab import _progress

    monkeypatch.setattr(_progress, "DELAY", -1.0)  # show at once, not after a second
    source = _parquet.open_parquet(folder, "y", batch_rows=1000)
    list(source.blocks())
    assert capsys.readouterr().err == ""  # not a terminal: nothing
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    list(source.blocks())
    assert "reading data" in capsys.readouterr().err


def test_a_fused_pass_over_memory_gives_the_autodiff_gradient():
    X = np.column_stack([np.ones(N), X1, X2])
    b = np.array([0.3, -0.1, 0.2])
    mse = lambda b: jnp.mean((Y - X @ b) ** 2)
    value, grad = _host.fused_pass(X, Y, rows=1000)(b)
    assert value == pytest.approx(float(mse(b)), rel=1e-13)
    np.testing.assert_allclose(grad, jax.grad(mse)(b), rtol=1e-12)
    log_loss = lambda b: jnp.mean(jnp.logaddexp(0.0, X @ b) - LABEL * (X @ b))
    value, grad = _host.fused_pass(X, LABEL, family="logistic", rows=999)(b)
    assert value == pytest.approx(float(log_loss(b)), rel=1e-13)
    np.testing.assert_allclose(grad, jax.grad(log_loss)(b), rtol=1e-12)
    run = _host.descend_passes(_host.fused_pass(X, Y), np.zeros(3), lr=0.01, steps=10)
    plain = gdlab.descend(mse, np.zeros(3), lr=0.01, steps=10)
    np.testing.assert_allclose(run.params, plain.params, rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["lbfgs", "adam"])
def test_every_method_runs_on_the_statistics_as_on_the_data(folder, method):
    streamed = fit_parquet(folder, y="y", x="x1,x2", intercept=False, method=method)
    in_memory = gdlab.fit(DATA, y="y", x="x1,x2", intercept=False, method=method)
    np.testing.assert_allclose(streamed.coef, in_memory.coef, rtol=1e-10)
    assert streamed.steps == in_memory.steps and streamed.stats.r2 == pytest.approx(in_memory.stats.r2)
    np.testing.assert_allclose(
        streamed.coefficient_path(), in_memory.coefficient_path(), rtol=1e-9, atol=1e-12
    )


def test_descent_on_the_raw_columns_follows_the_in_memory_one(folder):
    streamed = fit_parquet(folder, y="y", x="x1,x2", method="gd", standardize=False, steps=300)
    in_memory = gdlab.fit(DATA, y="y", x="x1,x2", method="gd", standardize=False, steps=300)
    assert not streamed.standardized and streamed.lr == pytest.approx(in_memory.lr, rel=1e-10)
    np.testing.assert_allclose(
        streamed.coefficient_path(), in_memory.coefficient_path(), rtol=1e-9, atol=1e-12
    )


def test_gdlab_fit_streams_a_parquet_directory(folder):
    """The same gdlab.fit call: a directory of Parquet files is streamed, in one pass for ols."""
    streamed = gdlab.fit(folder, y="y", x="x1,x2")
    in_memory = gdlab.fit(DATA, y="y", x="x1,x2")
    np.testing.assert_allclose(streamed.coef, in_memory.coef, rtol=1e-12)
    np.testing.assert_allclose(streamed.stats.se, in_memory.stats.se, rtol=1e-10)
    logistic = gdlab.fit(folder, y="label", x="x1,x2", family="logistic")
    np.testing.assert_allclose(
        logistic.coef, gdlab.fit(DATA, y="label", x="x1,x2", family="logistic").coef, rtol=1e-9
    )


def _with_gaps(data: dict, gaps: dict) -> dict:
    """``data`` with NaN at the given rows of the given columns."""
    out = {k: v.copy() for k, v in data.items()}
    for column, rows in gaps.items():
        out[column][rows] = np.nan
    return out


def test_dropna_drops_rows_as_they_are_read_as_the_in_memory_fit_does(tmp_path):
    gappy = _with_gaps(DATA, {"x1": [5, 1666, 1667, 4999], "y": [5, 611, 3335], "label": [20, 4000]})
    path = _write_parts(tmp_path / "gaps", gappy)
    for family, y in (("linear", "y"), ("logistic", "label")):
        streamed = fit_parquet(path, y=y, x="x1,x2", family=family, dropna=True, batch_rows=500)
        in_memory = gdlab.fit(gappy, y=y, x="x1,x2", family=family, dropna=True)
        np.testing.assert_allclose(streamed.coef, in_memory.coef, rtol=1e-10)
        np.testing.assert_allclose(streamed.stats.se, in_memory.stats.se, rtol=1e-8)
        assert (streamed.n, streamed.dropped) == (in_memory.n, in_memory.dropped) != (N, 0)
    assert gdlab.fit(path, y="y", x="x1,x2", dropna=True).dropped == 6
    kept = ~np.isnan(gappy["x1"]) & ~np.isnan(gappy["y"])
    mse = lambda b, d: jnp.mean((d["y"] - b[0] - b[1] * d["x1"]) ** 2)
    value, _ = _host.value_and_grad(mse, np.ones(2), _parquet.open_parquet(path, "x1,y", dropna=True))
    assert value == pytest.approx(float(mse(np.ones(2), {k: v[kept] for k, v in gappy.items()})), rel=1e-12)
    with pytest.raises(InputError, match="every one of its 2 rows has a missing value"):
        nan2 = tmp_path / "nan2.parquet"
        pd.DataFrame({"x": [np.nan, 1.0], "y": [1.0, np.nan]}).to_parquet(nan2)
        gdlab.fit(nan2, y="y", x="x", dropna=True, stream=True)


def test_a_missing_value_names_its_column_and_row_as_in_memory(tmp_path):
    gappy = _with_gaps(DATA, {"x2": [3000, 4321]})
    path = _write_parts(tmp_path / "gaps", gappy)
    with pytest.raises(InputError, match=r"the first at row 3000: fill them, or drop those rows with dropna"):
        gdlab.fit(gappy, y="y", x="x1,x2")
    for family, y in (("linear", "y"), ("logistic", "label")):
        with pytest.raises(
            InputError, match=r"column 'x2' has a missing value \(NaN or null\) at row 3000: "
        ):
            gdlab.fit(path, y=y, x="x1,x2", family=family)
    infinite = tmp_path / "inf.parquet"
    pd.DataFrame({"x": [1.0, 2.0, np.inf], "y": [1.0, 2.0, 3.0]}).to_parquet(infinite)
    with pytest.raises(InputError, match=r"column 'x' has an infinite value \(inf\) at row 2"):
        gdlab.fit(infinite, y="y", x="x", dropna=True, stream=True)


def test_fit_options_on_streamed_data_are_checked_and_used_as_in_memory(folder):
    sgd_settings = {"epochs": 3, "batch_size": 2, "seed": 9, "decay": False}
    streamed = gdlab.fit(folder, y="y", x="x1,x2", method="gd", dtype="float64", **sgd_settings)
    in_memory = gdlab.fit(DATA, y="y", x="x1,x2", method="gd", **sgd_settings)
    np.testing.assert_allclose(streamed.coef, in_memory.coef, rtol=1e-10)
    for bad in ({"epochs": 0}, {"batch_size": 1.5}, {"seed": -1}):
        with pytest.raises(InputError, match=str(next(iter(bad)))):
            gdlab.fit(DATA, y="y", x="x1,x2", method="gd", **bad)
        with pytest.raises(InputError, match=str(next(iter(bad)))):
            gdlab.fit(folder, y="y", x="x1,x2", method="gd", **bad)
    with pytest.raises(InputError, match=r"method='sgd' is not run on streamed data .* gdlab.sgd\(loss"):
        gdlab.fit(folder, y="y", x="x1,x2", method="sgd")
    with pytest.raises(InputError, match=r"computes in float64; leave dtype unset \(got float32\)"):
        gdlab.fit(folder, y="y", x="x1,x2", dtype="float32")


def _hive(root: Path, frame: pd.DataFrame) -> Path:
    for year, part in frame.groupby("year"):
        folder = root / f"year={int(year)}"
        folder.mkdir(parents=True)
        part.drop(columns="year").to_parquet(folder / "part-0.parquet", row_group_size=300)
    return root


def test_a_hive_partitioned_directory_reads_its_key_as_a_column(tmp_path):
    years = np.repeat([2019, 2020, 2021], [1500, 2000, N - 3500])
    frame = pd.DataFrame({"x1": X1, "y": Y + 0.25 * (years - 2020), "year": years.astype(float)})
    root = _hive(tmp_path / "hive", frame)
    for x in ("x1,year", "x1"):
        streamed = gdlab.fit(root, y="y", x=x)
        in_memory = gdlab.fit(frame, y="y", x=x)
        np.testing.assert_allclose(streamed.coef, in_memory.coef, rtol=1e-10)
    assert streamed.n == N
    mse = lambda b, d: jnp.mean((d["y"] - b[0] - b[1] * d["x1"] - b[2] * (d["year"] - 2020)) ** 2)
    settings = {"lr": 0.01, "batch_size": 100, "epochs": 1, "shuffle": False}
    run = gdlab.sgd(mse, np.zeros(3), root, **settings)
    plain = gdlab.sgd(mse, np.zeros(3), {c: frame[c].to_numpy() for c in frame}, **settings)
    np.testing.assert_allclose(run.params, plain.params, rtol=1e-10, atol=1e-13)
    assert "in the data order" in run.message
    shuffled = gdlab.sgd(mse, np.zeros(3), root, lr=0.01, batch_size=100, shuffle_buffer=600)
    assert run.steps == shuffled.steps and not np.allclose(run.params[1], shuffled.params[1])


def test_sgd_refuses_a_shuffle_buffer_where_nothing_uses_it(folder):
    mse = lambda b, d: jnp.mean((d["y"] - b) ** 2)
    with pytest.raises(InputError, match="shuffle=False takes them in the data's order"):
        gdlab.sgd(mse, 0.0, folder, lr=0.1, batch_size=10, shuffle=False, shuffle_buffer=100)
    with pytest.raises(InputError, match="data in memory are shuffled whole"):
        gdlab.sgd(mse, 0.0, DATA, lr=0.1, batch_size=10, shuffle_buffer=100)
    with pytest.raises(InputError, match="batch_size=None takes every row"):
        gdlab.sgd(mse, 0.0, folder, lr=0.1, shuffle_buffer=100)


def test_a_formula_on_streamed_data_is_refused_with_the_way_to_fit_it(folder, tmp_path):
    single = tmp_path / "one.parquet"
    pd.DataFrame(DATA).to_parquet(single)
    for data, stream in ((folder, None), (single, True)):
        with pytest.raises(
            InputError, match=r"a formula \(model=...\) is fitted in memory.*pandas.read_parquet"
        ):
            gdlab.fit(data, y="y", model="b1 + b2*x1", stream=stream)


def test_a_single_file_with_a_text_column_the_fit_does_not_read_is_fitted(tmp_path):
    path = tmp_path / "small.parquet"
    frame = pd.DataFrame({"a": np.arange(20.0), "name": ["q"] * 20})
    frame["y"] = 2 * frame["a"] + 1
    frame.to_parquet(path)
    assert gdlab.fit(path, y="y", x="a").coefficients == pytest.approx({"intercept": 1.0, "a": 2.0})
    with pytest.raises(gdlab.InputError, match="'name' holds text"):
        gdlab.fit(path, y="y", x="name")


def test_a_second_streamed_descent_fit_compiles_nothing(tmp_path):
    """The descent beside a streamed closed form runs on the statistics as data, so the next fit of
    as many coefficients (other rows, another file) reuses the compiled code; a closure over each
    fit's statistics compiled it again every time (half a second a fit)."""
    import pandas as pd

    from gdlab import _descend

    rng = np.random.default_rng(3)
    for k in range(3):
        X = rng.standard_normal((500, 2))
        y = X @ [1.0, -2.0] + k + rng.standard_normal(500)
        frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y})
        frame.to_parquet(tmp_path / f"f{k}.parquet")
    first = gdlab.fit(str(tmp_path / "f0.parquet"), y="y", x="a,b", method="gd", stream=True)
    compiled = _descend._chunk._cache_size()
    for k in (1, 2):
        again = gdlab.fit(str(tmp_path / f"f{k}.parquet"), y="y", x="a,b", method="gd", stream=True)
        np.testing.assert_allclose(again.coef, again.closed_form, rtol=1e-6)
    assert _descend._chunk._cache_size() == compiled and first.status is gdlab.Status.CONVERGED
