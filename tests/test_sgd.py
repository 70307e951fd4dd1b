"""Stochastic gradient descent on data."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import gdlab

CAFE = gdlab.datasets.cafe()
DATA = {"x": CAFE.x, "y": CAFE.y}


def mse(b, d):
    return jnp.mean((d["y"] - b[0] - b[1] * d["x"]) ** 2)


def test_same_seed_same_path_other_seed_other_path():
    runs = [
        gdlab.sgd(mse, np.array([9.0, 2.0]), DATA, lr=1e-3, batch_size=2, epochs=10, seed=s)
        for s in (7, 7, 8)
    ]
    assert np.array_equal(runs[0].params, runs[1].params)
    assert not np.allclose(runs[0].params, runs[2].params)
    assert runs[0].steps == 50 and runs[0].params.shape == (51, 2)


def test_full_batch_is_plain_descent():
    stochastic = gdlab.sgd(mse, np.array([9.0, 2.0]), DATA, lr=1e-3, epochs=40)
    plain = gdlab.descend(lambda b: mse(b, DATA), np.array([9.0, 2.0]), lr=1e-3, steps=40)
    np.testing.assert_allclose(stochastic.params, plain.params, rtol=0, atol=1e-12)
    np.testing.assert_allclose(stochastic.loss, plain.loss, rtol=1e-12)


def test_first_step_uses_the_first_shuffled_batch():
    seed, size, lr = 3, 4, 1e-3
    path = gdlab.sgd(mse, np.array([9.0, 2.0]), DATA, lr=lr, batch_size=size, epochs=1, seed=seed)
    rows = np.asarray(jax.random.permutation(jax.random.fold_in(jax.random.key(seed), 0), 10))[:size]
    batch = {k: v[rows] for k, v in DATA.items()}
    expected = np.array([9.0, 2.0]) - lr * np.asarray(jax.grad(mse)(jnp.array([9.0, 2.0]), batch))
    np.testing.assert_allclose(path.params[1], expected, rtol=1e-14)
    assert path.steps == 2  # 10 // 4 batches; the 2 rows left over wait for the next epoch


def test_loss_and_grad_are_on_all_data_and_pictures_draw_it():
    path = gdlab.sgd(mse, np.array([9.0, 2.0]), DATA, lr=1e-3, batch_size=3, epochs=3)
    np.testing.assert_allclose(path.loss, [float(mse(p, DATA)) for p in path.params], rtol=1e-12)
    assert float(path.loss_fn(np.array([9.0, 2.0]))) == pytest.approx(float(mse(np.array([9.0, 2.0]), DATA)))
    assert len(gdlab.plot(path).axes) == 2  # a contour and its colour bar
    assert path.method == "sgd (gd, batch 3)" and "3 epoch(s) of 3 batches of 3 rows" in path.message


def test_dataframe_tuple_and_optimisers():
    frame = pd.DataFrame(DATA)
    from_frame = gdlab.sgd(mse, np.array([9.0, 2.0]), frame, lr=1e-3, batch_size=5, epochs=2, seed=1)
    from_dict = gdlab.sgd(mse, np.array([9.0, 2.0]), DATA, lr=1e-3, batch_size=5, epochs=2, seed=1)
    np.testing.assert_array_equal(from_frame.params, from_dict.params)
    pairs = (CAFE.x, CAFE.y)
    tuple_loss = lambda b, d: jnp.mean((d[1] - b[0] - b[1] * d[0]) ** 2)
    adam = gdlab.sgd(tuple_loss, np.array([9.0, 2.0]), pairs, lr=0.05, batch_size=5, epochs=30, method="adam")
    assert adam.final_loss < adam.loss[0] / 5


def test_divergence_is_reported():
    path = gdlab.sgd(mse, np.array([9.0, 2.0]), DATA, lr=1.0, batch_size=2, epochs=50)
    assert path.status is gdlab.Status.DIVERGED and "diverged at step" in path.message


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "between 1 and the 10 rows"),
        ({"batch_size": 11}, "between 1 and the 10 rows"),
        ({"epochs": 0}, "at least 1"),
        ({"batch_size": 2.5}, "batch_size must be a whole number"),
        ({"epochs": 1.5}, "epochs must be a whole number"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"lr": -1.0}, "lr must be"),
        ({"data": {"x": CAFE.x, "y": CAFE.y[:9]}}, "same number of rows"),
        ({"data": {"x": np.where(CAFE.x > 25, np.nan, CAFE.x), "y": CAFE.y}}, "column .x. has 5 missing"),
        ({"data": {}}, "holds no arrays"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"data": DATA, "lr": 1e-3, "batch_size": 2} | kwargs
    data = args.pop("data")
    with pytest.raises(ValueError, match=match):
        gdlab.sgd(mse, np.array([9.0, 2.0]), data, **args)


def test_attribute_access_on_a_dataframe_batch_gets_a_hint():
    frame = pd.DataFrame(DATA)
    with pytest.raises(ValueError, match=r'write batch\["y"\] rather than batch\.y'):
        gdlab.sgd(lambda b, d: jnp.mean((d.y - b[0] - b[1] * d.x) ** 2), np.array([9.0, 2.0]), frame, lr=1e-3)


def test_streamed_data_refuse_float32(tmp_path):
    pd.DataFrame(DATA).to_parquet(tmp_path / "part.parquet")
    with pytest.raises(gdlab.InputError, match="streamed and cluster data are computed in float64"):
        gdlab.sgd(mse, np.array([9.0, 2.0]), tmp_path, lr=1e-3, batch_size=2, dtype="float32")


def test_columns_and_dropna_choose_and_clean_a_table_in_memory_and_streamed(tmp_path):
    rng = np.random.default_rng(8)
    n = 400
    frame = pd.DataFrame({"x": rng.normal(size=n), "region": np.where(np.arange(n) % 2, "north", "south")})
    frame["y"] = 1.5 * frame["x"] + 0.5 + 0.1 * rng.normal(size=n)
    frame.loc[[3, 50, 51], "y"] = np.nan
    mse = lambda b, d: jnp.mean((d["y"] - b[0] - b[1] * d["x"]) ** 2)
    clean = frame.dropna().drop(columns="region")
    expected = gdlab.sgd(mse, jnp.zeros(2), clean, lr=0.05, batch_size=20, epochs=5, seed=1)
    chosen = gdlab.sgd(
        mse, jnp.zeros(2), frame, lr=0.05, batch_size=20, epochs=5, seed=1, columns="x,y", dropna=True
    )
    np.testing.assert_allclose(chosen.final, expected.final, rtol=1e-12)
    with pytest.raises(gdlab.InputError, match="'region' holds text"):
        gdlab.sgd(mse, jnp.zeros(2), frame, lr=0.05, batch_size=20)
    folder = tmp_path / "sales"
    frame.to_parquet(folder, partition_cols=["region"])  # a hive directory with a text key
    streamed = gdlab.sgd(
        mse, jnp.zeros(2), folder, lr=0.05, batch_size=20, epochs=5, seed=1, columns=["x", "y"], dropna=True
    )
    assert streamed.steps == 5 * ((n - 3) // 20)
    np.testing.assert_allclose(streamed.final, [0.5, 1.5], atol=0.1)
    with pytest.raises(gdlab.InputError, match="missing value"):
        gdlab.sgd(mse, jnp.zeros(2), folder, lr=0.05, batch_size=20, columns=["x", "y"])
    with pytest.raises(gdlab.InputError, match="choose and clean the columns of a table"):
        gdlab.sgd(mse, jnp.zeros(2), (np.ones((4, 2)), np.ones(4)), lr=0.1, batch_size=2, dropna=True)


def test_large_data_records_minibatch_losses_between_the_whole_first_and_last(monkeypatch):
    import gdlab._sgd

    rng = np.random.default_rng(9)
    x = rng.normal(size=300)
    data = {"x": x, "y": 2 * x + 1 + 0.1 * rng.normal(size=300)}
    mse = lambda b, d: jnp.mean((d["y"] - b[0] - b[1] * d["x"]) ** 2)
    whole = gdlab.sgd(mse, jnp.zeros(2), data, lr=0.05, batch_size=30, epochs=2, seed=4)
    monkeypatch.setattr(gdlab._sgd, "WHOLE_ROWS", 1000)  # 21 steps x 300 rows is more
    sampled = gdlab.sgd(mse, jnp.zeros(2), data, lr=0.05, batch_size=30, epochs=2, seed=4)
    np.testing.assert_allclose(
        sampled.params, whole.params, rtol=1e-12
    )  # the same steps, recorded differently
    np.testing.assert_allclose(sampled.loss[[0, -1]], whole.loss[[0, -1]], rtol=1e-12)
    assert not np.allclose(sampled.loss[1:-1], whole.loss[1:-1])
    assert "the steps between record their own minibatch's loss" in sampled.message
    # each middle row is its own minibatch's loss: 30 of the rows, so near the whole loss but not it
    np.testing.assert_allclose(sampled.loss[1:-1], whole.loss[1:-1], rtol=0.6)
