"""The data layer: every kind of input becomes one checked table, and every mistake is named."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gdlab import _data, datasets
from gdlab._checks import InputError
from gdlab._data import as_table, batch_source, column_names, design_matrix, names


def _csv(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _parquet(tmp_path, columns: dict, name: str = "data.parquet"):
    path = tmp_path / name
    pq.write_table(pa.table(columns), path)
    return path


# --- what comes in ---------------------------------------------------------------------


def test_a_dict_becomes_read_only_float_columns_independent_of_the_input():
    x = np.array([1, 2, 3])
    y = np.array([0.5, 1.5, 2.5])
    table = as_table({"x": x, "y": y})
    assert table.names == ("x", "y") and table.n == 3 == len(table) and table.dtype == np.float64
    assert table["x"].tolist() == [1.0, 2.0, 3.0] and table["x"].dtype == np.float64
    y[0] = 99.0
    assert table["y"][0] == 0.5  # a copy, not a view of the caller's array
    with pytest.raises(ValueError, match="read-only"):
        table["y"][0] = 1.0
    with pytest.raises(TypeError):
        table.columns["z"] = y
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.n = 4


def test_float32_tables_and_column_selection_in_the_order_asked():
    table = as_table({"a": [1, 2], "b": [3, 4], "c": [5, 6]}, columns="c, a", dtype="float32")
    assert table.names == ("c", "a") and table["c"].dtype == np.float32
    assert table.select(["a"]).names == ("a",)
    assert as_table(table, dtype="float32") is table


def test_arrays_name_their_columns_by_position_or_by_field():
    assert as_table(np.arange(6.0).reshape(3, 2))["1"].tolist() == [1.0, 3.0, 5.0]
    assert as_table(np.array([1.0, 2.0])).names == ("0",)
    structured = np.array([(1.0, 2), (3.0, 4)], dtype=[("u", "f8"), ("v", "i4")])
    assert as_table(structured)["v"].tolist() == [2.0, 4.0]


def test_a_dataframe_with_nullable_and_boolean_columns():
    frame = pd.DataFrame(
        {"n": pd.array([1, 2, 3], dtype="Int64"), "b": [True, False, True], "f": [0.5, 1.0, 1.5]}
    )
    table = as_table(frame)
    assert table["n"].tolist() == [1.0, 2.0, 3.0] and table["b"].tolist() == [1.0, 0.0, 1.0]
    assert table.to_pandas().equals(frame.astype("float64"))


def test_csv_and_parquet_files_give_the_same_table(tmp_path):
    csv = _csv(tmp_path, "temp,sales,shop\n20.1,55.5,a\n22.2,58.25,b\n")
    parquet = _parquet(tmp_path, {"temp": [20.1, 22.2], "sales": [55.5, 58.25], "shop": ["a", "b"]})
    for path in (csv, parquet, str(csv)):
        table = as_table(path, columns=["temp", "sales"])
        assert table.names == ("temp", "sales") and table.source == str(path)
        assert table["temp"].tolist() == [20.1, 22.2] and table["sales"].tolist() == [55.5, 58.25]
    assert column_names(csv) == column_names(parquet) == ("temp", "sales", "shop")


def test_parquet_is_recognised_by_its_contents_whatever_the_suffix(tmp_path):
    path = _parquet(tmp_path, {"a": [1.0, 2.0]}, name="data.bin")
    assert as_table(path)["a"].tolist() == [1.0, 2.0]


def test_the_lecture_data_by_name_and_as_a_regression():
    cafe = datasets.cafe()
    for source in ("cafe", cafe):
        table = as_table(source)
        assert table.names == ("x", "y")
        np.testing.assert_array_equal(table["x"], cafe.x)
        np.testing.assert_array_equal(table["y"], cafe.y)
    assert column_names("cafe") == ("x", "y")
    several = datasets.make_regression(5, beta=(1.0, 2.0, -3.0), seed=1)
    table = as_table(several)
    assert table.names == ("x1", "x2", "y") == tuple(several.to_pandas().columns)
    np.testing.assert_array_equal(table["x2"], several.x[:, 1])


def test_dropna_drops_rows_missing_in_the_asked_columns_only_and_counts_them(tmp_path):
    csv = _csv(tmp_path, "a,b,c\n1,10,\n,20,x\n3,,\n4,40,\n")
    table = as_table(csv, columns="a,b", dropna=True)
    assert table.n == 2 and table.dropped == 2
    assert table["a"].tolist() == [1.0, 4.0] and table["b"].tolist() == [10.0, 40.0]
    assert "dropped 2 rows" in repr(table)


def test_numbers_written_as_text_are_numbers_and_blank_cells_are_missing():
    table = as_table({"a": np.array(["1.5", " 2 ", ""], dtype=object)}, dropna=True)
    assert table["a"].tolist() == [1.5, 2.0] and table.dropped == 1


def test_the_repr_summarises_each_column():
    text = repr(as_table({"x": [1.0, 3.0]}))
    assert text.splitlines() == ["Table(2 rows x 1 column, float64)", "  x  min 1  mean 2  max 3"]


# --- every mistake names the column and the first bad row -----------------------------------


@pytest.mark.parametrize(
    ("data", "kwargs", "words"),
    [
        (
            {"x": [1.0, 2.0, np.nan], "y": [1.0, 2.0, 3.0]},
            {},
            ["column 'x'", "1 missing", "row 2", "dropna=True"],
        ),
        ({"x": [1.0, np.inf]}, {}, ["column 'x'", "infinite", "row 1"]),
        ({"x": [1.0, -np.inf]}, {}, ["column 'x'", "-inf", "row 1"]),
        ({"x": [1.0, 2.0], "y": [1.0, 2.0, 3.0]}, {}, ["same number of rows", "'x' has 2", "'y' has 3"]),
        ({"x": np.float64(3.0)}, {}, ["column 'x'", "single value (3.0)", "[3.0]"]),
        ({"temp": [1.0]}, {"columns": "tmp"}, ["no column 'tmp'", "did you mean 'temp'", "it has 'temp'"]),
        ({"x": [1.0]}, {"columns": "x,x"}, ["'x' listed more than once"]),
        ({"x": [1.0]}, {"columns": "x,,y"}, ["empty column name"]),
        ({"x": ["1", "2", "three"]}, {}, ["column 'x'", "holds text", "'three' at row 2"]),
        ({"x": [1.0, 2e39]}, {"dtype": "float32"}, ["column 'x'", "too large for float32", "row 1"]),
        ({"x": [1.0, np.nan]}, {"dropna": True, "columns": "x"}, []),
        ({"x": [np.nan, np.nan]}, {"dropna": True}, ["every one of its 2 rows has a missing value"]),
        ({"x": np.array([1 + 2j])}, {}, ["column 'x'", "complex"]),
        ({"t": np.array(["2024-01-01"], dtype="datetime64[D]")}, {}, ["column 't'", "dates or times"]),
        ({"x": [[1.0, 2.0], [3.0]]}, {}, ["column 'x'", "rows have different lengths"]),
        ({"x": np.ones((2, 2))}, {}, ["column 'x'", "1-D", "(2, 2)"]),
        ({"x": [1.0, {"a": 1}]}, {}, ["column 'x'", "dict values", "row 1"]),
        ({1.5: [1.0]}, {}, ["column names must be strings"]),
        ({}, {}, ["no columns"]),
        ({"x": []}, {}, ["no rows"]),
        (np.ones((2, 2, 2)), {}, ["1-D or 2-D", "(2, 2, 2)"]),
    ],
)
def test_bad_data_is_named(data, kwargs, words):
    if not words:  # the one row with a value is kept
        assert as_table(data, **kwargs).n == 1
        return
    with pytest.raises(InputError) as err:
        as_table(data, **kwargs)
    for word in words:
        assert word in str(err.value)


def test_a_text_column_asked_for_by_name_is_an_error_naming_it_not_dropped(tmp_path):
    csv = _csv(tmp_path, "temp,sales\n20.1,55.5\n22.2,58.2\nhot,60.1\n")
    with pytest.raises(InputError, match=r"column 'temp' holds text, not numbers: 'hot' at row 2"):
        as_table(csv, columns=["temp", "sales"])
    with pytest.raises(InputError, match=r"column 'temp' holds text"):
        as_table(csv)  # all columns: still not dropped
    assert as_table(csv, columns="sales")["sales"].tolist() == [55.5, 58.2, 60.1]


def test_file_mistakes(tmp_path):
    empty = _csv(tmp_path, "", "empty.csv")
    header = _csv(tmp_path, "a,b\n", "header.csv")
    gap = _csv(tmp_path, "a,b\n1,2\n3,\n5,6\n", "gap.csv")
    twice = _csv(tmp_path, "a,b\n1,2\n", "twice.csv")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    cases = [
        (empty, None, ["empty"]),
        (header, None, ["no rows"]),
        (gap, None, ["column 'b'", "missing", "row 1"]),
        (twice, ["a", "c"], ["no column 'c'", "it has 'a', 'b'"]),
        (bad, None, ["not a readable Parquet file"]),
        (tmp_path / "nope.csv", None, ["no such file", "cafe"]),
        ("cafe.csv", None, ["no such file"]),
    ]
    for path, columns, words in cases:
        with pytest.raises(InputError) as err:
            as_table(path, columns=columns)
        for word in words:
            assert word in str(err.value), (path, str(err.value))


def test_parquet_mistakes_name_the_column_and_row(tmp_path):
    path = _parquet(tmp_path, {"a": [1.0, None, 3.0], "s": ["1", "2", "x"], "i": [1, 2, 3]})
    with pytest.raises(InputError, match=r"column 'a' has 1 missing value.*row 1"):
        as_table(path, columns="a")
    with pytest.raises(InputError, match=r"column 's' holds text, not numbers: 'x' at row 2"):
        as_table(path, columns="s")
    with pytest.raises(InputError, match=r"no column 'ii' \(did you mean 'i'\?\)"):
        as_table(path, columns="ii")
    assert as_table(path, columns="a", dropna=True)["a"].tolist() == [1.0, 3.0]


def test_a_parquet_file_too_large_is_refused_from_its_metadata_before_reading(tmp_path, monkeypatch):
    path = _parquet(tmp_path, {"a": np.arange(100.0), "b": np.arange(100.0)})
    monkeypatch.setattr(_data, "MAX_TABLE_NUMBERS", 150)

    def no_reading(*args, **kwargs):
        raise AssertionError("the rows were read")

    monkeypatch.setattr(pq.ParquetFile, "read", no_reading)
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", no_reading)
    with pytest.raises(InputError, match=r"100 rows x 2 columns is more than the 150 numbers"):
        as_table(path)
    with pytest.raises(AssertionError, match="read"):
        as_table(path, columns="a")  # 100 numbers: within the limit, so it is read


def test_duplicated_column_names_are_refused(tmp_path):
    frame = pd.DataFrame([[1.0, 2.0]], columns=["a", "a"])
    with pytest.raises(InputError, match="more than one column named 'a'"):
        as_table(frame)
    table = pa.Table.from_arrays([pa.array([1.0]), pa.array([2.0])], names=["a", "a"])
    path = tmp_path / "twice.parquet"
    pq.write_table(table, path)
    with pytest.raises(InputError, match="more than one column named 'a'"):
        as_table(path)


def test_a_missing_column_of_a_table_suggests_the_closest():
    table = as_table({"temperature": [1.0]})
    with pytest.raises(InputError, match=r"no column 'temprature' \(did you mean 'temperature'\?\)"):
        table["temprature"]
    with pytest.raises(InputError, match="no column 'z'"):
        table.select("z")
    assert "temperature" in table and "z" not in table and list(table) == ["temperature"]


# --- names and the design matrix -----------------------------------------------------------


def test_names_from_lists_and_comma_separated_strings():
    assert names("a, b") == ("a", "b") == names(["a", "b"]) == names(["a,b"])
    assert names(["a", 1]) == ("a", "1") and names(2) == ("2",)  # numbered columns, as an array's
    for bad, word in ((["a", 1.5], "strings"), (["a", True], "strings"), ("", "empty"), ([], "empty"),
                      ("a,a", "more than once")):  # fmt: skip
        with pytest.raises(InputError, match=word):
            names(bad)


def test_design_matrix_with_and_without_an_intercept():
    data = {"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 7.0], "y": [0.0, 0.0, 1.0]}
    design = design_matrix(data, "b,a")
    assert design.names == ("intercept", "b", "a")
    assert design.matrix.tolist() == [[1.0, 4.0, 1.0], [1.0, 5.0, 2.0], [1.0, 7.0, 3.0]]
    plain = design_matrix(as_table(data, dtype="float32"), ["a"], intercept=False)
    assert plain.names == ("a",) and plain.matrix.dtype == np.float32 and plain.matrix.shape == (3, 1)
    with pytest.raises(InputError, match="'intercept' clashes with the intercept"):
        design_matrix({"intercept": [1.0]}, "intercept")
    assert design_matrix({"intercept": [1.0]}, "intercept", intercept=False).names == ("intercept",)


# --- the batch source for SGD ---------------------------------------------------------------


def test_batch_source_keeps_the_shape_of_the_pytree():
    X, y = np.ones((4, 2)), np.arange(4)
    arrays, n = batch_source((X, y))
    assert isinstance(arrays, tuple) and n == 4
    assert all(isinstance(a, jax.Array) and a.dtype == np.float64 for a in arrays)
    assert arrays[0].shape == (4, 2) and arrays[1].tolist() == [0.0, 1.0, 2.0, 3.0]
    as_dict, _ = batch_source({"X": X, "y": [1, 2, 3, 4]})
    assert set(as_dict) == {"X", "y"} and as_dict["y"].shape == (4,)
    one, n = batch_source(y, "float32")
    assert one.dtype == np.float32 and n == 4
    column, n = batch_source([1.0, 2.0, 3.0])
    assert column.shape == (3,) and n == 3


def test_batch_source_turns_frames_tables_files_and_names_into_dicts_of_columns(tmp_path):
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0]})
    csv = _csv(tmp_path, "x,y\n1,3\n2,4\n")
    for source in (frame, as_table(frame), csv):
        arrays, n = batch_source(source)
        assert n == 2 and set(arrays) == {"x", "y"} and arrays["y"].tolist() == [3.0, 4.0]
    nested, n = batch_source({"rows": frame, "w": np.ones(2)})
    assert set(nested["rows"]) == {"x", "y"} and n == 2
    cafe, n = batch_source("cafe")
    assert n == 10 and set(cafe) == {"x", "y"}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ((np.ones(3), np.ones((2, 2))), ["same number of rows", "data[0] has 3", "data[1] has 2"]),
        ({"x": np.array([1.0, np.nan, 3.0])}, ["column 'x'", "missing", "row 1"]),
        ({"x": np.array([[1.0, 2.0], [3.0, np.inf]])}, ["column 'x'", "infinite", "row 1"]),
        ({"a": {"b": np.array(["1", "x"])}}, ["data['a']['b']", "'x' at row 1"]),
        ((np.ones(2), 3.0), ["data[1]", "single value (3.0)"]),
        (np.float64(2.0), ["single value"]),
        ((), ["holds no arrays"]),
        (np.ones((0, 2)), ["no rows"]),
        (pd.DataFrame({"s": ["a", "b"]}), ["column 's'", "'a' at row 0"]),
    ],
)
def test_batch_source_mistakes_are_named(data, words):
    with pytest.raises(InputError) as err:
        batch_source(data)
    for word in words:
        assert word in str(err.value)


def test_a_directory_is_pointed_to_streaming(tmp_path):
    with pytest.raises(InputError, match="is a directory: a directory of Parquet files is streamed"):
        as_table(tmp_path)


def test_a_file_separated_by_semicolons_is_told_so(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("a;y\n1;2\n2;4\n")
    with pytest.raises(InputError, match=r"look separated by ';', not commas"):
        as_table(path, columns="a,y")
