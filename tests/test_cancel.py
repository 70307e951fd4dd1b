"""Long work stops within about a second of a cancelled scope or Ctrl-C, whatever a step costs."""

from __future__ import annotations

import signal
import time

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import gdlab
from fresh import interrupted
from gdlab import _cancel
from gdlab._cancel import Cancelled, Pace, scope

# The work is cancelled 0.5 s in; it must stop within this many seconds of starting (a compile
# on the first call included; generous, for a slow shared machine).
WITHIN = 3.0
ROWS = 200_000


def lecture_loss(b):
    return (b / 2 - 1) ** 2


def _mse(b, data):
    return jnp.mean((data["y"] - data["X"] @ b) ** 2)


@pytest.fixture(scope="module")
def big():
    """200,000 rows: a step that reads them all costs a millisecond or more."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(ROWS, 5))
    return {"X": X, "y": X @ np.arange(1.0, 6.0) + rng.normal(size=ROWS)}


def _stops(work) -> float:
    """Seconds until ``work()`` raised Cancelled inside a scope with a 0.5 s time limit."""
    start = time.perf_counter()
    with pytest.raises(Cancelled, match="time limit"), scope(timeout=0.5):
        work()
    return time.perf_counter() - start


def test_a_long_descent_stops_when_its_scope_runs_out():
    assert _stops(lambda: gdlab.descend(lecture_loss, -10.0, lr=1e-9, steps=10**9 - 1, tol=1e-30)) < WITHIN


def test_a_descent_whose_steps_read_200000_rows_stops_as_promptly(big):
    run = lambda: gdlab.descend(_mse, np.zeros(5), lr=1e-6, steps=10**6, tol=1e-300, data=big)
    assert _stops(run) < WITHIN


def test_a_long_sweep_stops_when_its_scope_runs_out():
    run = lambda: gdlab.sweep(lecture_loss, -10.0, lrs=gdlab.rates(1e-6, 1e-5, 50), steps=10**8, save="final")
    assert _stops(run) < WITHIN


def test_sgd_on_200000_rows_stops_when_its_scope_runs_out(big):
    run = lambda: gdlab.sgd(_mse, np.zeros(5), big, lr=1e-4, batch_size=8, epochs=300)
    assert _stops(run) < WITHIN


@pytest.mark.parametrize("method", ["gd", "sgd"])
def test_a_fit_on_200000_rows_stops_when_its_scope_runs_out(big, method):
    frame = pd.DataFrame(big["X"], columns=[f"x{i}" for i in range(1, 6)]).assign(y=big["y"])
    settings = {"steps": 10**6, "tol": 1e-300} if method == "gd" else {"epochs": 300}
    run = lambda: gdlab.fit(frame, y="y", x="x1,x2,x3,x4,x5", method=method, **settings)
    assert _stops(run) < WITHIN + 2  # the closed form beside it comes first


def test_streamed_sgd_stops_when_its_scope_runs_out(tmp_path, big):
    path = tmp_path / "big.parquet"
    pd.DataFrame({"x": big["X"][:, 0], "y": big["y"]}).to_parquet(path)
    loss = lambda b, d: jnp.mean((d["y"] - b * d["x"]) ** 2)
    run = lambda: gdlab.sgd(loss, 0.0, str(path), lr=1e-3, batch_size=8, epochs=50, stream=True)
    assert _stops(run) < WITHIN


def test_a_formula_fit_checks_its_scope_between_calls():
    x = np.linspace(0, 10, 2000)
    data = {"x": x, "y": 3 * np.exp(-0.4 * x)}
    with pytest.raises(Cancelled, match="the client left"), scope() as s:
        s.cancel("the client left")
        gdlab.fit(data, y="y", model="a*exp(-b*x)", init={"a": 1.0, "b": 1.0})


def test_a_cancelled_scope_stops_the_work_with_its_reason():
    with pytest.raises(Cancelled, match="the client left"), scope() as s:
        s.cancel("the client left")
        gdlab.descend(lecture_loss, -10.0, lr=0.1, steps=10)


def test_pace_sizes_chunks_by_their_measured_time():
    pace = Pace(most=1 << 16, first=64)
    assert pace.steps() == 64
    pace.took(64, 64 * 2e-3)  # 2 ms a step: a chunk of 0.25 s is 125 steps, taken as 64
    assert pace.steps() == 64 and _cancel.CHUNK_SECONDS == 0.25
    pace.took(64, 64 * 1e-7)  # cheap steps: as many as a chunk may hold
    assert pace.steps() == 1 << 16
    pace.took(1, 10.0)  # a step longer than a chunk: one at a time
    assert pace.steps() == 1


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_swallowed_during_a_chunk_is_raised_when_the_chunk_ends():
    """Python raises KeyboardInterrupt wherever the signal finds it; in a finaliser (JAX has a
    garbage-collector callback) it is printed as ignored and lost, and a script's descent ran on.
    Each compiled chunk remembers a Ctrl-C and raises it when it returns."""

    class Finalised:
        def __del__(self):
            signal.raise_signal(signal.SIGINT)  # its handler runs here, inside the finaliser

    def chunk(swallow):
        if swallow:
            Finalised()
        return jnp.zeros(())

    outer = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, as a script has
    try:
        with pytest.raises(KeyboardInterrupt):
            Pace(most=1).timed(1, chunk, True)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
        assert float(Pace(most=1).timed(1, chunk, False)) == 0.0  # and forgotten once raised
    finally:
        signal.signal(signal.SIGINT, outer)


def test_a_sweep_in_chunks_sized_by_time_keeps_every_row_of_one_call(monkeypatch):
    f = lambda p: (p["b"] - 1) ** 2 + 0.5 * jnp.sin(3 * p["c"]) + p["c"] ** 2
    cases = [
        {"save": "all", "steps": 300, "tol": 1e-8},
        {"save": 7, "steps": 500},
        {"save": "final", "steps": 999},
    ]
    whole = [gdlab.sweep(f, {"b": 0.0, "c": 0.5}, lrs=[0.01, 0.3, 1.5], **case) for case in cases]
    from gdlab import _sweep

    monkeypatch.setattr(_sweep, "WHOLE_SECONDS", 0.0)
    monkeypatch.setattr(_cancel, "CHUNK_SECONDS", 1e-5)  # a few steps a call
    for case, one in zip(cases, whole, strict=True):
        chunked = gdlab.sweep(f, {"b": 0.0, "c": 0.5}, lrs=[0.01, 0.3, 1.5], **case)
        np.testing.assert_array_equal(chunked.loss, one.loss)
        np.testing.assert_array_equal(chunked.params["c"], one.params["c"])
        assert chunked.notes == one.notes and np.array_equal(chunked.steps_taken, one.steps_taken)


def test_descend_and_sgd_in_short_chunks_give_the_same_path(monkeypatch, big):
    data = {"X": big["X"][:103], "y": big["y"][:103]}
    before = gdlab.descend(lecture_loss, -10.0, lr=0.01, steps=3000)
    sgd_before = gdlab.sgd(_mse, np.zeros(5), data, lr=0.01, batch_size=7, epochs=13, seed=3)
    monkeypatch.setattr(_cancel, "CHUNK_SECONDS", 1e-5)
    after = gdlab.descend(lecture_loss, -10.0, lr=0.01, steps=3000)
    sgd_after = gdlab.sgd(_mse, np.zeros(5), data, lr=0.01, batch_size=7, epochs=13, seed=3)
    np.testing.assert_array_equal(after.params, before.params)
    np.testing.assert_array_equal(sgd_after.params, sgd_before.params)
    np.testing.assert_array_equal(sgd_after.loss, sgd_before.loss)


def test_ctrl_c_stops_a_fit_on_200000_rows_at_once(tmp_path, big):
    """`gdlab fit` by gradient descent on 200,000 rows: Ctrl-C once it runs, and it exits with a short
    message within about a second (it took 54 s when a chunk was a fixed 65,536 steps)."""
    path = tmp_path / "big.csv"
    frame = pd.DataFrame(big["X"], columns=[f"x{i}" for i in range(1, 6)]).assign(y=big["y"])
    frame.to_csv(path, index=False)
    args = ["fit", str(path), "--y", "y", "--x", "x1,x2,x3,x4,x5", "--method", "gd", "--steps", "1e6"]
    code, err, took = interrupted(["-m", "gdlab.cli", *args, "--tol", "1e-300"], after=10, wait=30)
    assert code == 130 and err.strip() == b"interrupted", err[-500:]
    assert took < 5, f"{took:.2f} s from Ctrl-C to exit"
