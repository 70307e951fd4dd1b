"""One table over sources: every algorithm gives, wherever the rows live, the in-memory answer.

Sources: a DataFrame in memory, a Parquet file streamed (``stream=True``), a directory of
Parquet files, and rows on a Dask cluster (one local cluster for the module). Algorithms: the
linear closed form, the linear fit by gd / adam / lbfgs / newton, the logistic fit by newton and
by gd, full-batch descent of a loss, and SGD (the same batches give the same path; the same seed
gives the same run). Each equals the in-memory result to 1e-10, relative, on the parameters and
the loss. What is refused is refused for a reason, asserted at the end with its message.
"""

import numpy as np
import pandas as pd
import pytest

import gdlab
from gdlab._checks import InputError
from gdlab.data import Source, open_source

pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore:.*unclosed.*:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning:distributed"),
]

RTOL = 1e-10
N = 240  # 4 chunks of 60 on the cluster, 3 files of 80 in the directory: batches of 20 fit in each
RNG = np.random.default_rng(17)
X1 = RNG.normal(1.0, 2.0, N)
X2 = RNG.normal(0.0, 1.0, N)
Y = 0.5 + 1.5 * X1 - 2.0 * X2 + RNG.normal(0.0, 0.7, N)
LABEL = (RNG.random(N) < 1 / (1 + np.exp(-(0.6 * X1 - 0.9 * X2 - 0.3)))).astype(float)
FRAME = pd.DataFrame({"x1": X1, "x2": X2, "y": Y, "label": LABEL})
SOURCES = ["memory", "parquet-file", "parquet-directory", "dask"]


def mse(b, d):
    return ((d["y"] - b[0] - b[1] * d["x1"] - b[2] * d["x2"]) ** 2).mean()


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    folder = tmp_path_factory.mktemp("conformance")
    file = folder / "rows.parquet"
    FRAME.to_parquet(file, row_group_size=70)  # ragged row groups, re-cut into blocks
    directory = folder / "parts"
    directory.mkdir()
    for k in range(3):
        FRAME.iloc[80 * k : 80 * (k + 1)].to_parquet(directory / f"part-{k}.parquet")
    found = {"memory": (FRAME, {}), "parquet-file": (str(file), {"stream": True})}
    found["parquet-directory"] = (str(directory), {})
    yield found


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("dask.distributed")
    dd = pytest.importorskip("dask.dataframe")
    from helpers import local_cluster

    with local_cluster(workers=2) as (_, client):
        yield open_source(dd.from_pandas(FRAME, npartitions=4), client=client)


@pytest.fixture(params=SOURCES)
def place(request, places):
    """The data and the options that put its rows in one place."""
    if request.param == "dask":
        return request.getfixturevalue("cluster"), {}
    return places[request.param]


def close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0)


def test_every_source_is_a_source(place):
    data, options = place
    source = open_source(data, **options)
    assert isinstance(source, Source)
    assert source.n == N and {"x1", "x2", "y", "label"} <= set(source.names)
    assert (source.table() is not None) == (data is FRAME)


def test_linear_closed_form(place):
    data, options = place
    fit, memory = gdlab.fit(data, y="y", x="x1,x2", **options), gdlab.fit(FRAME, y="y", x="x1,x2")
    close(fit.coef, memory.coef)
    close(fit.stats.rss, memory.stats.rss)
    close(fit.stats.se, memory.stats.se, 1e-9)


@pytest.mark.parametrize("method", ["gd", "adam", "lbfgs", "newton"])
def test_linear_by_descent(place, method):
    data, options = place
    fit = gdlab.fit(data, y="y", x="x1,x2", method=method, steps=400, **options)
    memory = gdlab.fit(FRAME, y="y", x="x1,x2", method=method, steps=400)
    close(fit.coef, memory.coef)
    close(fit.trajectory.loss[-1], memory.trajectory.loss[-1])
    assert fit.steps == memory.steps and fit.status == memory.status


def test_logistic_by_newton(place):
    data, options = place
    fit = gdlab.fit(data, y="label", x="x1,x2", family="logistic", **options)
    memory = gdlab.fit(FRAME, y="label", x="x1,x2", family="logistic")
    close(fit.coef, memory.coef)
    close(fit.trajectory.loss[-1], memory.trajectory.loss[-1])
    close(fit.stats.se, memory.stats.se, 1e-8)
    assert fit.steps == memory.steps


def test_logistic_by_gd(place):
    """Beside Newton's solution, gd descends the mean log-loss of the standardised regressors:
    elsewhere each of its gradients is a pass over the rows."""
    data, options = place
    fit = gdlab.fit(data, y="label", x="x1,x2", family="logistic", method="gd", steps=60, **options)
    memory = gdlab.fit(FRAME, y="label", x="x1,x2", family="logistic", method="gd", steps=60)
    close(fit.coef, memory.coef)
    close(fit.trajectory.params, memory.trajectory.params)
    close(fit.trajectory.loss, memory.trajectory.loss)
    assert fit.lr == pytest.approx(memory.lr, rel=RTOL) and fit.status == memory.status


def test_full_batch_descent(place):
    data, options = place
    run = gdlab.descend(mse, np.zeros(3), lr=0.02, steps=25, data=data, **options)
    memory = gdlab.descend(mse, np.zeros(3), lr=0.02, steps=25, data=FRAME)
    close(run.params, memory.params)
    close(run.loss, memory.loss)
    assert run.message == memory.message


def test_sgd_follows_the_same_batches_and_repeats_from_its_seed(place):
    data, options = place
    settings = {"lr": 0.01, "batch_size": 20, "epochs": 2}
    run = gdlab.sgd(mse, np.zeros(3), data, shuffle=False, **settings, **options)
    memory = gdlab.sgd(mse, np.zeros(3), FRAME, shuffle=False, **settings)
    assert run.steps == memory.steps == 2 * N // 20
    close(run.params, memory.params)
    close(run.loss[-1], memory.loss[-1])  # the last row: the loss on all the rows
    first = gdlab.sgd(mse, np.zeros(3), data, seed=3, **settings, **options)
    again = gdlab.sgd(mse, np.zeros(3), data, seed=3, **settings, **options)
    np.testing.assert_array_equal(first.params, again.params)


def test_what_needs_the_rows_in_memory_is_refused_elsewhere_with_the_reason(places):
    """Refused on streamed and cluster rows, for a reason rather than for want of code:

    - a method that evaluates the loss at trial points (lbfgs's line search, gd-armijo) when the
      loss is not a small quadratic: each trial would be a pass over the rows (a linear fit by
      lbfgs runs, on the one-pass statistics; a logistic fit's log-loss has none);
    - a fit by sgd: it is ``gdlab.sgd`` on the rows themselves (the fit's statistics give every
      full-batch method instead);
    - a formula: fitted in memory by Levenberg-Marquardt, its Jacobian over every row at once.
    """
    path, options = places["parquet-file"]
    with pytest.raises(InputError, match="'lbfgs' evaluates the loss at trial points"):
        gdlab.fit(path, y="label", x="x1,x2", family="logistic", method="lbfgs", **options)
    with pytest.raises(InputError, match="'lbfgs' evaluates the loss at trial points"):
        gdlab.descend(mse, np.zeros(3), lr=0.1, steps=3, method="lbfgs", data=path, **options)
    with pytest.raises(InputError, match=r"is not run on streamed data by gdlab\.fit"):
        gdlab.fit(path, y="y", x="x1,x2", method="sgd", **options)
    with pytest.raises(InputError, match="is fitted in memory"):
        gdlab.fit(path, y="y", model="b1 + b2*x1", **options)


def test_the_algorithms_over_a_source_read_rows_in_memory_too():
    """In memory, gdlab runs its compiled drivers and refined QR; the algorithms written over a
    Source give the same answers there from one block of every row."""
    from gdlab import _host
    from gdlab.fitting import _linear, _logistic
    from gdlab.fitting._settings import Settings

    source = open_source(FRAME, columns="x1,x2,y,label")
    stats = _linear.linear_stats(source, y="y", x="x1,x2")
    close(stats.solve().coef, gdlab.fit(FRAME, y="y", x="x1,x2").coef)
    run = _host.descend_source(mse, np.zeros(3), source, lr=0.02, steps=25)
    close(run.params, gdlab.descend(mse, np.zeros(3), lr=0.02, steps=25, data=FRAME).params)
    settings = Settings.checked(60, 1, 1, 0, None, True)
    for method in ("newton", "gd"):
        fit = _logistic.fit_logistic_source(source, ("x1", "x2"), "label", True, method, settings)
        memory = gdlab.fit(FRAME, y="label", x="x1,x2", family="logistic", method=method, steps=60)
        close(fit.coef, memory.coef)
