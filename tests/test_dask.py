"""Data on a Dask cluster: resident chunks, one task per chunk, the loop on the client."""

import os
import signal
import time

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import gdlab
from gdlab import _host
from gdlab._checks import InputError
from gdlab.data import _dask
from gdlab.fitting import _linear

dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")

pytestmark = [
    # distributed's own shutdown chatter, not gdlab's: narrow to its modules.
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore:.*unclosed.*:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning:distributed"),
]

RNG = np.random.default_rng(3)
N = 4_000
X1 = RNG.normal(2.0, 3.0, N)
X2 = RNG.normal(0.0, 1.0, N)
Y = 0.5 + 1.5 * X1 - 2.0 * X2 + RNG.normal(0.0, 0.7, N)
LABEL = (RNG.random(N) < 1 / (1 + np.exp(-(0.4 * X1 - 0.8 * X2 - 0.5)))).astype(float)
FRAME = pd.DataFrame({"x1": X1, "x2": X2, "y": Y, "label": LABEL})
DATA = {c: FRAME[c].to_numpy() for c in FRAME}


def mse(b, d):
    return jnp.mean((d["y"] - b[0] - b[1] * d["x1"] - b[2] * d["x2"]) ** 2)


def log_loss(b, d):
    eta = b[0] + b[1] * d["x1"] + b[2] * d["x2"]
    return jnp.mean(jnp.logaddexp(0.0, eta) - d["label"] * eta)


@pytest.fixture(scope="module")
def cluster():
    from helpers import local_cluster

    with local_cluster(workers=2) as (local, client):
        yield local, client


@pytest.fixture(scope="module")
def client(cluster):
    return cluster[1]


@pytest.fixture(scope="module")
def chunks(client):
    return _dask.as_dask_data(dd.from_pandas(FRAME, npartitions=5), client=client)


def test_chunks_stay_on_the_workers(chunks, client):
    assert chunks.n == N and len(chunks.chunks) == 5 and chunks.recomputable
    held = client.who_has(list(chunks.chunks))
    assert all(len(where) >= 1 for where in held.values())
    assert {f.status for f in chunks.chunks} == {"finished"}


@pytest.mark.parametrize("cov", ["HC3", "cluster"])
def test_robust_standard_errors_on_the_cluster_equal_the_in_memory_ones(client, cov):
    frame = FRAME.assign(firm=np.arange(N) % 7.0)
    groups = "firm" if cov == "cluster" else None
    on_cluster = gdlab.fit(
        dd.from_pandas(frame, npartitions=5), y="y", x="x1,x2", cov=cov, groups=groups, client=client
    )
    in_memory = gdlab.fit(frame, y="y", x="x1,x2", cov=cov, groups=groups)
    assert on_cluster.stats.cov_type == cov and on_cluster.stats.groups == in_memory.stats.groups
    np.testing.assert_allclose(on_cluster.stats.se, in_memory.stats.se, rtol=1e-10)
    np.testing.assert_allclose(on_cluster.conf_int(), in_memory.conf_int(), rtol=1e-10)
    assert on_cluster.test("x1 = 1.5").pvalue == pytest.approx(in_memory.test("x1 = 1.5").pvalue, rel=1e-8)


def test_linear_fit_equals_the_in_memory_fit(chunks, client):
    on_cluster = gdlab.fit(chunks, y="y", x="x1,x2")
    in_memory = gdlab.fit(FRAME, y="y", x="x1,x2")
    np.testing.assert_allclose(on_cluster.coef, in_memory.coef, rtol=1e-10)
    np.testing.assert_allclose(on_cluster.stats.se, in_memory.stats.se, rtol=1e-10)
    X = np.column_stack([np.ones(N), X1, X2])
    np.testing.assert_allclose(on_cluster.coef, np.linalg.lstsq(X, Y, rcond=None)[0], rtol=1e-10)
    array = da.from_array(np.column_stack([X1, X2, Y]), chunks=(700, 3))
    from_array = gdlab.fit(array, y="2", x="0,1", client=client)
    np.testing.assert_allclose(from_array.coef, in_memory.coef, rtol=1e-10)


def test_a_sweep_on_the_cluster_statistics_equals_the_in_memory_sweep(chunks):
    stats = _linear.linear_stats(chunks, y="y", x="x1,x2")
    mse = lambda b: jnp.mean((Y - b[0] - b[1] * X1 - b[2] * X2) ** 2)
    lrs = [1e-3, 1e-2, 0.05]
    local = gdlab.sweep(stats.loss, np.zeros(3), lrs=lrs, steps=300)
    direct = gdlab.sweep(mse, np.zeros(3), lrs=lrs, steps=300)
    np.testing.assert_allclose(local.final, direct.final, rtol=1e-10)
    gd = gdlab.fit(chunks, y="y", x="x1,x2", method="gd")
    np.testing.assert_allclose(gd.coef, gdlab.fit(FRAME, y="y", x="x1,x2", method="gd").coef, rtol=1e-10)


def test_logistic_fit_equals_the_in_memory_fit(chunks):
    on_cluster = gdlab.fit(chunks, y="label", x="x1,x2", family="logistic")
    in_memory = gdlab.fit(FRAME, y="label", x="x1,x2", family="logistic")
    np.testing.assert_allclose(on_cluster.coef, in_memory.coef, rtol=1e-10)
    np.testing.assert_allclose(on_cluster.stats.se, in_memory.stats.se, rtol=1e-8)
    assert on_cluster.steps == in_memory.steps


def test_descent_equals_the_in_memory_descent_and_compiles_once_per_worker(chunks, client):
    run = gdlab.descend_dask(log_loss, np.zeros(3), chunks, lr=0.1, steps=12)
    again = gdlab.descend_dask(log_loss, np.ones(3), chunks, lr=0.1, steps=3)
    plain = gdlab.descend(lambda b: log_loss(b, DATA), np.zeros(3), lr=0.1, steps=12)
    np.testing.assert_allclose(run.params, plain.params, rtol=0, atol=1e-12)
    np.testing.assert_allclose(run.loss, plain.loss, rtol=1e-12)
    assert run.message == plain.message and again.steps == 3
    counts = _host.compile_counts(client)
    token = _dask._SENT[(client.id, id(log_loss))][1].token
    # Chunks of 800 rows: one trace per worker process, whatever the number of steps and runs.
    assert all(c.get(token, 0) <= 1 for c in counts.values())
    assert sum(c.get(token, 0) for c in counts.values()) >= 1


def test_bad_data_is_an_input_error(client):
    frame = FRAME.assign(x1=FRAME.x1.where(FRAME.index != 7))
    with pytest.raises(InputError, match=r"column 'x1' has 1 missing value\(s\) .*, the first at row 7: "):
        gdlab.fit(dd.from_pandas(frame, npartitions=2), y="y", x="x1", client=client)
    with pytest.raises(InputError, match="no column 'x3'"):
        gdlab.fit(dd.from_pandas(FRAME, npartitions=2), y="y", x="x3", client=client)
    with pytest.raises(InputError, match="must hold only 0 and 1"):
        gdlab.fit(dd.from_pandas(FRAME, npartitions=2), y="y", x="x1", family="logistic", client=client)


def _kill_a_worker_on_call(monkeypatch, cluster, call: int) -> list:
    """Kill (SIGKILL) one worker process as the ``call``-th reduction starts."""
    calls: list = []
    original = _dask.tree_sum

    def killing(client, parts, add):
        calls.append(1)
        if len(calls) == call:
            nanny = next(iter(cluster.workers.values()))
            os.kill(nanny.process.process.pid, signal.SIGKILL)
        return original(client, parts, add)

    monkeypatch.setattr(_dask, "tree_sum", killing)
    return calls


def _wait_for_workers(client, n=2, timeout=60):
    deadline = time.monotonic() + timeout
    while len(client.scheduler_info()["workers"]) < n and time.monotonic() < deadline:
        time.sleep(0.2)


def test_a_worker_killed_mid_fit_is_recovered_from_the_graph(cluster, monkeypatch):
    local, client = cluster
    data = _dask.as_dask_data(dd.from_pandas(FRAME, npartitions=5), client=client)
    calls = _kill_a_worker_on_call(monkeypatch, local, 3)
    run = gdlab.descend_dask(log_loss, np.zeros(3), data, lr=0.1, steps=6)
    plain = gdlab.descend(lambda b: log_loss(b, DATA), np.zeros(3), lr=0.1, steps=6)
    assert len(calls) == 7
    np.testing.assert_allclose(run.params, plain.params, rtol=0, atol=1e-12)
    _wait_for_workers(client)


def test_a_worker_killed_holding_scattered_data_is_a_clear_error(cluster, monkeypatch):
    local, client = cluster
    _wait_for_workers(client)
    data = _dask.as_dask_data(FRAME, client=client, chunk_rows=500)
    assert not data.recomputable and len(data.chunks) == 8
    _kill_a_worker_on_call(monkeypatch, local, 2)
    with pytest.raises(gdlab.ClusterError, match="cannot be recomputed"):
        gdlab.descend_dask(log_loss, np.zeros(3), data, lr=0.1, steps=6)


def test_sgd_runs_a_task_per_step_and_follows_its_batches(chunks, client):
    run = gdlab.sgd(mse, np.zeros(3), chunks, lr=0.02, batch_size=200, epochs=2, seed=4, client=client)
    assert run.steps == 2 * 5 * (800 // 200)
    plan = _dask.batch_plan(chunks.rows, 200, seed=4, epoch=0)
    bounds = np.cumsum((0, *chunks.rows))
    c, rows = plan[0]
    first = {k: v[bounds[c] : bounds[c + 1]][rows] for k, v in DATA.items()}
    expected = -0.02 * np.asarray(jax.grad(mse)(np.zeros(3), first))
    np.testing.assert_allclose(run.params[1], expected, rtol=1e-12)
    assert run.loss[-1] == pytest.approx(float(mse(run.final, DATA)), rel=1e-12)
    assert run.loss[-1] < 0.6 * run.loss[0]
    again = gdlab.sgd(mse, np.zeros(3), chunks, lr=0.02, batch_size=200, epochs=2, seed=4)
    np.testing.assert_array_equal(again.params, run.params)


def test_sgd_refuses_a_run_past_the_memory_limit_before_any_task(chunks, monkeypatch):
    import dataclasses

    monkeypatch.setattr(_host, "LIMITS", dataclasses.replace(gdlab.LIMITS, trajectory_numbers=100))
    mse = lambda b, d: jnp.mean((d["y"] - b[0]) ** 2)
    with pytest.raises(InputError, match="numbers an sgd run keeps"):
        gdlab.sgd(mse, np.zeros(3), chunks, lr=0.02, batch_size=200, epochs=2)


def test_gdlab_fit_runs_on_the_cluster_for_a_dask_collection_or_a_client(client):
    frame = dd.from_pandas(FRAME, npartitions=3)
    in_memory = gdlab.fit(FRAME, y="y", x="x1,x2")
    np.testing.assert_allclose(gdlab.fit(frame, y="y", x="x1,x2").coef, in_memory.coef, rtol=1e-10)
    via_client = gdlab.fit(FRAME, y="y", x="x1,x2", client=client)
    np.testing.assert_allclose(via_client.coef, in_memory.coef, rtol=1e-10)


def _gappy_frame() -> pd.DataFrame:
    frame = FRAME.copy()
    frame.loc[[3, 1999, 2000], "x1"] = np.nan
    frame.loc[[3, 2500], "y"] = np.nan
    frame.loc[[10, 3999], "label"] = np.nan
    return frame


def test_dropna_on_the_cluster_drops_rows_in_each_chunk_as_in_memory(client):
    frame = _gappy_frame()
    for family, y in (("linear", "y"), ("logistic", "label")):
        in_memory = gdlab.fit(frame, y=y, x="x1,x2", family=family, dropna=True)
        for data in (dd.from_pandas(frame, npartitions=4), frame):
            on_cluster = gdlab.fit(data, y=y, x="x1,x2", family=family, dropna=True, client=client)
            np.testing.assert_allclose(on_cluster.coef, in_memory.coef, rtol=1e-10)
            np.testing.assert_allclose(on_cluster.stats.se, in_memory.stats.se, rtol=1e-8)
            assert (on_cluster.n, on_cluster.dropped) == (in_memory.n, in_memory.dropped) != (N, 0)
    with pytest.raises(InputError) as in_memory_error:
        gdlab.fit(frame, y="y", x="x1,x2")
    with pytest.raises(InputError) as cluster_error:
        gdlab.fit(dd.from_pandas(frame, npartitions=4), y="y", x="x1,x2", client=client)
    assert str(cluster_error.value) == str(in_memory_error.value)
    assert "column 'y' has 2 missing value(s) (NaN or an empty cell), the first at row 3" in str(
        cluster_error.value
    )
    with pytest.raises(InputError, match="holds 2 at row 2345: recode"):
        gdlab.fit(dd.from_pandas(FRAME.assign(label=LABEL + (FRAME.index == 2345)), npartitions=4),
                  y="label", x="x1", family="logistic", client=client)  # fmt: skip


def test_fit_options_on_the_cluster_are_checked_and_used_as_in_memory(chunks, client):
    settings = {"method": "gd", "epochs": 3, "batch_size": 2, "seed": 9, "decay": False, "dtype": "float64"}
    on_cluster = gdlab.fit(chunks, y="y", x="x1,x2", client=client, **settings)
    np.testing.assert_allclose(
        on_cluster.coef, gdlab.fit(FRAME, y="y", x="x1,x2", **settings).coef, rtol=1e-10
    )
    with pytest.raises(InputError, match="epochs must be a whole number >= 1"):
        gdlab.fit(chunks, y="y", x="x1,x2", method="gd", epochs=0)
    with pytest.raises(InputError, match=r"method='sgd' is not run on data on a cluster .*client="):
        gdlab.fit(chunks, y="y", x="x1,x2", method="sgd")
    with pytest.raises(InputError, match=r"computes in float64; leave dtype unset \(got float32\)"):
        gdlab.fit(chunks, y="y", x="x1,x2", dtype="float32")
    with pytest.raises(InputError, match="stream=True reads a Parquet file here"):
        gdlab.fit(FRAME, y="y", x="x1,x2", client=client, stream=True)


def test_sgd_on_the_cluster_takes_batches_in_order_without_shuffle(chunks, client):
    run = gdlab.sgd(mse, np.zeros(3), chunks, lr=0.02, batch_size=200, shuffle=False, seed=4)
    assert run.steps == 5 * (800 // 200) and "in the data order" in run.message
    p = np.zeros(3)
    for start in range(0, N, 200):
        batch = {k: v[start : start + 200] for k, v in DATA.items()}
        p = p - 0.02 * np.asarray(jax.grad(mse)(p, batch))
    np.testing.assert_allclose(run.final, p, rtol=1e-10)
    with pytest.raises(InputError, match="shuffle_buffer is the window of rows mixed when streaming"):
        gdlab.sgd(mse, np.zeros(3), chunks, lr=0.02, batch_size=200, shuffle_buffer=1000)
    with pytest.raises(InputError, match="stream=True reads a Parquet file here"):
        gdlab.sgd(mse, np.zeros(3), chunks, lr=0.02, batch_size=200, stream=True)


def test_a_formula_on_the_cluster_is_refused_with_the_way_to_fit_it(client):
    for data, kwargs in ((dd.from_pandas(FRAME, npartitions=2), {}), (FRAME, {"client": client})):
        with pytest.raises(
            InputError, match=r"a formula \(model=...\) is fitted in memory, not on a cluster"
        ):
            gdlab.fit(data, y="y", model="b1 + b2*x1", **kwargs)


def test_a_column_that_is_not_numbers_is_refused_before_any_task(client):
    frame = FRAME.assign(txt="q", when=pd.Timestamp("2026-01-01"), kind=pd.Categorical(["a"] * N))
    data = dd.from_pandas(frame, npartitions=4)
    for column, what in (("txt", "text"), ("when", "dates or times"), ("kind", "categories")):
        with pytest.raises(InputError, match=f"column '{column}' holds {what}"):
            gdlab.fit(data, y="y", x=["x1", column], client=client)
    assert (
        gdlab.fit(data.assign(flag=data.x1 > 0), y="y", x="x1,flag", client=client).n == N
    )  # booleans are 0/1


def test_sgd_on_the_cluster_reads_the_chosen_columns_and_drops_missing_rows(client):
    frame = _gappy_frame().assign(txt="q")
    mse = lambda b, d: jnp.mean((d["y"] - b[0] - b[1] * d["x1"]) ** 2)
    path = gdlab.sgd(mse, jnp.zeros(2), dd.from_pandas(frame, npartitions=4), lr=0.05, batch_size=50,
                     epochs=2, client=client, columns="x1,y", dropna=True)  # fmt: skip
    clean = frame.dropna(subset=["x1", "y"])
    closed = np.linalg.lstsq(np.column_stack([np.ones(len(clean)), clean.x1]), clean.y, rcond=None)[0]
    np.testing.assert_allclose(path.final, closed, atol=0.15)  # near the least-squares line of the kept rows
    with pytest.raises(InputError, match="holds text"):
        gdlab.sgd(mse, jnp.zeros(2), dd.from_pandas(frame, npartitions=4), lr=0.05, batch_size=50,
                  client=client, columns="x1,y,txt")  # fmt: skip
