"""Where the rows live is decided once (gdlab.data.open_source): the same rows give the same answer in
memory, from a CSV file, from a Parquet file, streamed from a Parquet directory, and on a Dask
cluster, through gdlab.descend, gdlab.sgd and gdlab.fit alike."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import gdlab
from gdlab.data import Where, where

RNG = np.random.default_rng(11)
N = 3_000
X1 = RNG.normal(2.0, 3.0, N)
X2 = RNG.normal(0.0, 1.0, N)
FRAME = pd.DataFrame({"x1": X1, "x2": X2, "y": 0.5 + 1.5 * X1 - 2.0 * X2 + RNG.normal(0.0, 0.7, N)})
START = jnp.array([0.0, 0.0, 0.0])


def mse(b, d):
    return jnp.mean((d["y"] - b[0] - b[1] * d["x1"] - b[2] * d["x2"]) ** 2)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sources")
    FRAME.to_csv(folder / "rows.csv", index=False)
    FRAME.to_parquet(folder / "rows.parquet")
    parts = folder / "parts"
    parts.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(N), 4)):
        FRAME.iloc[rows].to_parquet(parts / f"part-{i}.parquet")
    return folder


@pytest.fixture(scope="module")
def in_memory():
    return gdlab.descend(mse, START, lr=0.02, steps=60, data={c: FRAME[c].to_numpy() for c in FRAME})


def test_where_the_rows_live_is_decided_in_one_place(files):
    assert where({"x": np.zeros(3)}) is Where.MEMORY
    assert where(FRAME) is Where.MEMORY
    assert where(str(files / "rows.csv")) is Where.MEMORY
    assert where(str(files / "rows.parquet")) is Where.MEMORY
    assert where(str(files / "rows.parquet"), stream=True) is Where.PARQUET
    assert where(str(files / "parts")) is Where.PARQUET
    with pytest.raises(gdlab.InputError, match="needs a Parquet file"):
        where(str(files / "rows.csv"), stream=True)


@pytest.mark.parametrize(
    "source",
    ["frame", "rows.csv", "rows.parquet", "stream rows.parquet", "parts"],
)
def test_descend_takes_data_wherever_it_lives(files, in_memory, source):
    if source == "frame":
        path = gdlab.descend(mse, START, lr=0.02, steps=60, data=FRAME)
    elif source.startswith("stream "):
        path = gdlab.descend(mse, START, lr=0.02, steps=60, data=str(files / source[7:]), stream=True)
    else:
        path = gdlab.descend(mse, START, lr=0.02, steps=60, data=str(files / source))
    np.testing.assert_allclose(path.flat_params(), in_memory.flat_params(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(path.loss, in_memory.loss, rtol=1e-10)
    assert path.status is in_memory.status


def test_descend_reads_only_the_columns_it_is_given(files, in_memory):
    wider = FRAME.assign(note="text the loss does not read")
    path = gdlab.descend(mse, START, lr=0.02, steps=60, data=wider, columns=["x1", "x2", "y"])
    np.testing.assert_allclose(path.flat_params(), in_memory.flat_params(), rtol=1e-10, atol=1e-12)


def test_streamed_descent_refuses_what_it_cannot_honour(files):
    with pytest.raises(gdlab.InputError, match="dropna=True cleans rows read into memory"):
        gdlab.descend(mse, START, lr=0.02, steps=3, data=str(files / "parts"), dropna=True)
    with pytest.raises(gdlab.InputError, match="lr is required"):
        gdlab.descend(mse, START, steps=3, data=str(files / "parts"))
    with pytest.raises(gdlab.InputError, match="computed in float64"):
        gdlab.descend(mse, START, lr=0.02, steps=3, data=str(files / "parts"), dtype="float32")


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore:.*unclosed.*:DeprecationWarning")
@pytest.mark.filterwarnings("ignore::UserWarning:distributed")
def test_descend_on_a_cluster_gives_the_in_memory_path(in_memory):
    from helpers import local_cluster

    dd = pytest.importorskip("dask.dataframe")
    with local_cluster() as (_, client):
        frame = dd.from_pandas(FRAME, npartitions=3)
        path = gdlab.descend(mse, START, lr=0.02, steps=60, data=frame, client=client)
        np.testing.assert_allclose(path.flat_params(), in_memory.flat_params(), rtol=1e-10, atol=1e-12)
        with pytest.raises(gdlab.InputError, match="rows stay on the cluster"):
            gdlab.descend(mse, START, lr=0.02, steps=3, data=frame, client=client, stream=True)
