import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import gdlab
from helpers import lecture_loss


@pytest.fixture(scope="module")
def path():
    return gdlab.descend(lecture_loss, -10.0, lr=0.5, steps=20)


@pytest.fixture(scope="module")
def vector_path():
    return gdlab.descend(lambda b: (b[0] - 1) ** 2 + 2 * b[1] ** 2, np.array([3.0, -1.0]), lr=0.1, steps=5)


def test_is_immutable(path):
    with pytest.raises(dataclasses.FrozenInstanceError):
        path.lr = 1.0
    with pytest.raises(ValueError, match="read-only"):
        path.params[0] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        path.loss[0] = 0.0


def test_rows_final_and_repr(path):
    assert path.steps == 20 and len(path.params) == 21
    assert float(path.final) == float(path.params[-1]) == float(path.at(20))
    assert path.final_loss == path.loss[-1]
    text = repr(path)
    assert "Trajectory(gd, lr=0.5, 20 steps, status=max_steps)" in text
    assert "start: b=-10  loss=36" in text and "step limit (20)" in text


def test_to_pandas_columns(vector_path):
    frame = vector_path.to_pandas()
    assert list(frame.columns) == ["step", "b[0]", "b[1]", "loss", "grad b[0]", "grad b[1]"]
    np.testing.assert_array_equal(frame[["b[0]", "b[1]"]].to_numpy(), vector_path.params)
    assert frame["step"].tolist() == list(range(6))


def test_csv_round_trip_is_exact(vector_path, tmp_path):
    target = tmp_path / "path.csv"
    vector_path.to_csv(target)
    back = pd.read_csv(target)
    np.testing.assert_array_equal(back[["b[0]", "b[1]"]].to_numpy(), vector_path.params)
    np.testing.assert_array_equal(back["loss"].to_numpy(), vector_path.loss)
    assert [p.name for p in tmp_path.iterdir()] == ["path.csv"]


def test_json_round_trip_and_non_finite_as_null(tmp_path):
    diverged = gdlab.descend(lambda b: b**2, 1.0, lr=1e200, steps=5)
    target = tmp_path / "d.json"
    diverged.to_json(target)
    data = json.loads(target.read_text())
    assert data["status"] == "diverged" and data["steps"] == diverged.steps
    assert data["params"][0] == [1.0] and data["names"] == ["b"]
    assert None in [row for row in data["loss"]]


def test_unwritable_paths_are_clear_errors(path, tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        path.to_csv(tmp_path / "missing" / "x.csv")
    with pytest.raises(ValueError, match="is a folder"):
        path.to_json(tmp_path)


def test_interrupted_write_leaves_the_old_file(path, tmp_path, monkeypatch):
    target = tmp_path / "keep.csv"
    target.write_text("old\n")

    def explode(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", explode)
    with pytest.raises(KeyboardInterrupt):
        path.to_csv(target)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


def test_without_a_path_csv_and_json_come_back_as_text(vector_path, tmp_path):
    assert vector_path.to_csv() == vector_path.to_csv(tmp_path / "p.csv").read_text()
    assert vector_path.to_json() + "\n" == vector_path.to_json(tmp_path / "p.json").read_text()
    assert json.loads(vector_path.to_json())["loss"] == vector_path.loss.tolist()
