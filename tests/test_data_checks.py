"""Data that pandas or pyarrow would read wrongly without a word is refused, for every source.

A repeated column name, a CSV row with a field too many or too few, a directory of Parquet
files whose columns differ, an infinite value under dropna: each is an InputError naming the
file, the column or line, and the fix, through the library and the command line (exit 2).
And dropna says how many rows it dropped wherever a fit is reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import gdlab
from gdlab import _data
from gdlab._checks import InputError
from gdlab._data import as_table, column_names
from gdlab.cli import app
from gdlab.data import _parquet

runner = CliRunner()

X = np.arange(1.0, 9.0)
Y = 1.0 + 2.0 * X + np.array([0.1, -0.1, 0.2, -0.2, 0.0, 0.1, -0.1, 0.0])
OK = "".join(f"{x:g},{y:g}\n" for x, y in zip(X, Y, strict=True))  # rows of x,y


def _csv(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _refused(args: list[str]) -> str:
    result = runner.invoke(app, args, terminal_width=400)
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())


def _fit_output(args: list[str]) -> str:
    result = runner.invoke(app, args, terminal_width=400)
    assert result.exit_code == 0, result.output
    return result.output


# --- (a) a column name given twice ----------------------------------------------------------


def test_a_csv_header_naming_a_column_twice_is_refused_not_renamed(tmp_path):
    path = _csv(tmp_path, "x,x,y\n1,10,3\n2,20,5\n3,30,7\n")
    said = r"data.csv: more than one column named 'x' \('x' is columns 1, 2 of the header\)"
    for columns in (None, "x,y", "y", "x.1"):  # x.1 is pandas' name for the second: not in the file
        with pytest.raises(InputError, match=said):
            as_table(path, columns=columns)
    with pytest.raises(InputError, match=said):
        column_names(path)
    with pytest.raises(InputError, match=said):
        gdlab.fit(path, y="y", x="x")
    assert "more than one column named 'x'" in _refused(["fit", str(path), "--y", "y", "--x", "x"])


def test_a_parquet_file_or_directory_naming_a_column_twice_is_refused(tmp_path):
    twice = pa.Table.from_arrays([pa.array(X), pa.array(10 * X), pa.array(Y)], names=["x", "x", "y"])
    pq.write_table(twice, tmp_path / "twice.parquet")
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(pa.table({"x": X, "y": Y}), folder / "part-0.parquet")
    pq.write_table(twice, folder / "part-1.parquet")
    with pytest.raises(InputError, match=r"twice.parquet: more than one column named 'x'"):
        as_table(tmp_path / "twice.parquet", columns="y")
    with pytest.raises(InputError, match=r"twice.parquet: more than one column named 'x'"):
        gdlab.fit(tmp_path / "twice.parquet", y="y", x="x", stream=True)
    with pytest.raises(InputError, match=r"part-1.parquet: more than one column named 'x'"):
        gdlab.fit(folder, y="y", x="x")
    assert "part-1.parquet: more than one column named 'x'" in _refused(
        ["fit", str(folder), "--y", "y", "--x", "x"]
    )


def test_a_dataframe_naming_a_column_twice_is_refused():
    frame = pd.DataFrame(np.c_[X, 10 * X, Y], columns=["x", "x", "y"])
    with pytest.raises(InputError, match=r"the DataFrame: more than one column named 'x'"):
        gdlab.fit(frame, y="y", x="x")


# --- (b) a row with a field too many or too few ---------------------------------------------


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ("2,5,99\n", "line 3 has 3 fields but the header names 2 columns (x, y); a value holding a comma"),
        ("2\n", "line 3 has 1 field but the header names 2 columns (x, y); write an empty field"),
    ],
)
def test_a_ragged_csv_row_is_refused_naming_its_line_and_field_counts(tmp_path, bad, said):
    path = _csv(tmp_path, "x,y\n1,3\n" + bad + OK)
    for columns in (None, "x", "y"):  # pandas with usecols dropped the extra field without a word
        with pytest.raises(InputError) as err:
            as_table(path, columns=columns, dropna=True)
        assert str(err.value) == f"{path}: {said}" + str(err.value).split(said)[1]
    assert f"{path}: {said}" in _refused(["fit", str(path), "--y", "y", "--x", "x", "--dropna"])


def test_a_file_separated_by_semicolons_with_decimal_commas_is_told_its_separator(tmp_path):
    path = _csv(tmp_path, "x;y\n1,5;2\n2,5;4\n")
    with pytest.raises(InputError, match=r"line 2 has 2 fields .* look separated by ';', not commas"):
        as_table(path)


def test_the_line_counts_blank_lines_and_values_that_span_lines(tmp_path):
    # line 4 is blank, line 5-6 hold one row (a quoted value with a newline); line 8 is ragged
    path = _csv(tmp_path, 'x,y,note\n1,3,a\n2,5,b\n\n3,7,"two\nlines"\n4,9,c\n5,11\n6,13,d\n')
    with pytest.raises(InputError, match=r"data.csv: line 8 has 2 fields but the header names 3"):
        as_table(path, columns="x,y")


def test_a_first_row_with_an_extra_field_is_not_taken_for_an_index(tmp_path):
    path = _csv(tmp_path, "x,y\n0,1,3\n1,2,5\n")  # pandas made the first column the index
    with pytest.raises(InputError, match=r"line 2 has 3 fields but the header names 2"):
        as_table(path)


def test_a_well_formed_csv_reads_every_value(tmp_path):
    text = 'a,b,note\n1,"2",x\n 5 ,3e-1,"y, z"\nNA,4,\n7,,w\n'  # a quoted comma is no field
    table = as_table(_csv(tmp_path, text), columns="a,b", dropna=True)
    assert table["a"].tolist() == [1.0, 5.0] and table["b"].tolist() == [2.0, 0.3]
    assert table.dropped == 2 and column_names(tmp_path / "data.csv") == ("a", "b", "note")
    flags = as_table(_csv(tmp_path, "t,v\nTrue,1\nfalse,2\n", "flags.csv"))
    assert flags["t"].tolist() == [1.0, 0.0] and flags["v"].tolist() == [1.0, 2.0]


def test_a_value_mistake_in_a_csv_names_the_file_and_line(tmp_path):
    path = _csv(tmp_path, "x,y\n1,3\n\n2,five\n3,7\n")
    with pytest.raises(InputError, match=r"column 'y' holds text, not numbers: 'five' at row 1 \(line 4 of "):
        as_table(path)
    gap = _csv(tmp_path, "x,y\n1,3\n2,\n", "gap.csv")
    with pytest.raises(InputError, match=r"the first at row 1 \(line 3 of .*gap.csv\): fill them"):
        as_table(gap)


def test_a_csv_beyond_the_limit_is_refused_before_its_columns_are_made(tmp_path, monkeypatch):
    path = _csv(tmp_path, "x,y\n" + OK * 10)  # 80 rows
    monkeypatch.setattr(_data, "MAX_TABLE_NUMBERS", 100)
    with pytest.raises(InputError, match=r"data.csv: 80 rows x 2 columns is more than the 100 numbers"):
        as_table(path)
    assert as_table(path, columns="x").n == 80  # 80 numbers: within the limit


# --- (c) a directory of Parquet files whose columns differ ------------------------------------


def _parts(folder: Path, frames: list[pd.DataFrame]) -> Path:
    folder.mkdir()
    for i, frame in enumerate(frames):
        frame.to_parquet(folder / f"part-{i}.parquet")
    return folder


def test_a_file_calling_a_column_by_another_name_is_refused_before_any_row_is_read(tmp_path, monkeypatch):
    good = pd.DataFrame({"x": X, "y": Y})
    folder = _parts(tmp_path / "data", [good, good, good.rename(columns={"x": "X"})])

    def no_reading(*args, **kwargs):
        raise AssertionError("rows were read")

    said = (
        f"{folder / 'part-2.parquet'} has no column 'x', which {folder / 'part-0.parquet'} has "
        "(it has 'X': the same column named differently?)"
    )
    with monkeypatch.context() as patched:
        patched.setattr(pq.ParquetFile, "iter_batches", no_reading)
        for dropna in (False, True):  # dropna used to drop that file's rows as missing
            with pytest.raises(InputError) as err:
                gdlab.fit(folder, y="y", x="x", dropna=dropna)
            assert str(err.value).startswith(said)
    with pytest.raises(InputError, match=r"has column 'X', which .*part-0.parquet does not"):
        _parquet.open_parquet(folder)  # every column: the names must be the same
    assert _parquet.open_parquet(folder, "y").n == 24  # the columns read are in every file
    assert said in _refused(["fit", str(folder), "--y", "y", "--x", "x", "--dropna"])


def test_a_file_holding_text_where_the_first_holds_numbers_is_refused(tmp_path):
    good = pd.DataFrame({"x": X, "y": Y})
    folder = _parts(tmp_path / "data", [good, good.astype({"x": str})])
    with pytest.raises(InputError) as err:
        gdlab.fit(folder, y="y", x="x")
    assert str(err.value).startswith(
        f"{folder / 'part-1.parquet'}: column 'x' holds text, not numbers, "
        f"where {folder / 'part-0.parquet'} holds double"
    )


def test_integer_and_float_files_of_one_column_are_read_alike(tmp_path):
    whole = pd.DataFrame({"x": np.arange(8), "y": 2 * np.arange(8) + 1})
    folder = _parts(tmp_path / "data", [whole.astype(float), whole])
    fitted = gdlab.fit(folder, y="y", x="x")
    assert fitted.n == 16 and fitted.coefficients == pytest.approx({"intercept": 1.0, "x": 2.0})


# --- (d) dropna says how many rows it dropped -----------------------------------------------


def _with_gaps(tmp_path: Path) -> dict[str, Path]:
    y = Y.copy()
    y[[2, 5]] = np.nan
    frame = pd.DataFrame({"x": X, "y": y})
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    frame.to_parquet(tmp_path / "gaps.parquet")
    _parts(tmp_path / "gaps", [frame.iloc[:4], frame.iloc[4:]])
    return {"csv": tmp_path / "gaps.csv", "parquet": tmp_path / "gaps.parquet", "folder": tmp_path / "gaps"}


def test_dropna_reports_the_rows_dropped_in_the_summary_and_the_command_line(tmp_path):
    sources = _with_gaps(tmp_path)
    keep = ~np.isin(np.arange(8), [2, 5])
    expected = np.polyfit(X[keep], Y[keep], 1)[::-1]
    for source in (*sources.values(), pd.read_csv(sources["csv"])):
        fitted = gdlab.fit(source, y="y", x="x", dropna=True)
        assert fitted.n == 6 and fitted.dropped == 2
        assert list(fitted.coefficients.values()) == pytest.approx(expected, rel=1e-10)
        assert "(2 observations deleted due to missingness: dropna=True)" in fitted.summary()
        assert "dropped 2 rows with a missing value" in repr(fitted)
    for path in sources.values():
        text = _fit_output(["fit", str(path), "--y", "y", "--x", "x", "--dropna", "--method", "ols"])
        assert text.startswith("Fit(y ~ x, ols, 6 rows)")
        assert "(2 observations deleted due to missingness: --dropna)" in text
    nothing = gdlab.fit({"x": X, "y": Y}, y="y", x="x", dropna=True)
    assert nothing.dropped == 0 and "missingness" not in nothing.summary()


# --- (f) an infinite value is refused, with or without dropna -------------------------------


def test_dropna_refuses_an_infinite_value_naming_its_column_and_row(tmp_path):
    y = Y.copy()
    y[3], y[6] = np.nan, np.inf
    frame = pd.DataFrame({"x": X, "y": y})
    frame.to_csv(tmp_path / "inf.csv", index=False)
    frame.to_parquet(tmp_path / "inf.parquet")
    folder = _parts(tmp_path / "inf", [frame.iloc[:5], frame.iloc[5:]])
    where = {
        "data": "at row 6;",
        str(tmp_path / "inf.csv"): "at row 6 (line 8 of",
        str(tmp_path / "inf.parquet"): "at row 6 of",
        str(folder): "at row 6;",
    }
    for source, at in where.items():
        data = frame if source == "data" else source
        with pytest.raises(InputError) as err:
            gdlab.fit(data, y="y", x="x", dropna=True)
        message = str(err.value)
        assert "column 'y' has an infinite value (inf) " + at in message, message
        assert "dropna=True drops only missing values (NaN, empty cells), not infinite ones" in message
    said = _refused(["fit", str(tmp_path / "inf.csv"), "--y", "y", "--x", "x", "--dropna"])
    assert "column 'y' has an infinite value (inf) at row 6" in said
    assert "--dropna drops only missing values" in said


# --- Dask: the same checks on a cluster -----------------------------------------------------


@pytest.fixture(scope="module")
def client():
    from helpers import local_cluster

    with local_cluster() as (_, running):
        yield running


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_dask_data_are_checked_as_data_in_memory(client):
    dd = pytest.importorskip("dask.dataframe")
    twice = pd.DataFrame(np.c_[X, 10 * X, Y], columns=["x", "x", "y"])
    with pytest.raises(InputError, match=r"the Dask DataFrame: more than one column named 'x'"):
        gdlab.fit(dd.from_pandas(twice, npartitions=2), y="y", x="x", client=client)
    y = Y.copy()
    y[[2, 5]] = np.nan
    gaps = dd.from_pandas(pd.DataFrame({"x": X, "y": y}), npartitions=2)
    fitted = gdlab.fit(gaps, y="y", x="x", dropna=True, client=client)
    keep = ~np.isnan(y)
    assert fitted.n == 6 and fitted.dropped == 2
    assert list(fitted.coefficients.values()) == pytest.approx(np.polyfit(X[keep], Y[keep], 1)[::-1])
    assert "(2 observations deleted due to missingness: dropna=True)" in fitted.summary()
    y[6] = -np.inf
    infinite = dd.from_pandas(pd.DataFrame({"x": X, "y": y}), npartitions=2)
    with pytest.raises(
        InputError, match=r"column 'y' has an infinite value \(-inf\) at row 6; .*dropna=True drops"
    ):
        gdlab.fit(infinite, y="y", x="x", dropna=True, client=client)


# --- (e) reading a file makes no second copy of its columns ---------------------------------

_MEMORY_CHILD = textwrap.dedent(
    """
    import sys
    from gdlab._data import as_table

    def status(key):
        with open("/proc/self/status") as handle:
            return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(key + ":"))

    for path in sys.argv[1:]:
        as_table(path.replace("big", "small"), dropna=True)  # pyarrow's first use, outside the peak
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # the peak so far is forgotten: VmHWM restarts from the current size
        before = status("VmRSS")
        table = as_table(path, dropna=True)
        print(table.n, status("VmHWM") - before)
        del table
    """
)


def _random_files(folder: Path, name: str, rows: int) -> None:
    rng = np.random.default_rng(0)
    columns = {f"x{j}": rng.standard_normal(rows) for j in range(7)}
    columns["x0"][::100] = np.nan  # dropna compacts the columns where they lie
    table = pa.table(columns)
    pq.write_table(table, folder / f"{name}.parquet", row_group_size=50_000, compression="none")
    pacsv.write_csv(table, folder / f"{name}.csv")


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="measures memory on Linux")
def test_reading_a_file_peaks_near_the_size_of_its_columns(tmp_path):
    _random_files(tmp_path, "small", 1_000)
    rows = 1_000_000
    _random_files(tmp_path, "big", rows)
    data = rows * 7 * 8  # 56 MB of float64
    # Arrow's system allocator and malloc's mmap threshold make the peak measure live memory
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "ARROW_DEFAULT_MEMORY_POOL": "system"}
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(tmp_path / "big.parquet"), str(tmp_path / "big.csv")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    (parquet_rows, parquet_peak), (csv_rows, csv_peak) = (
        map(int, line.split()) for line in done.stdout.split("\n")[:2]
    )
    assert parquet_rows == csv_rows == rows - rows // 100
    # it was 2.4x (Parquet) and 3.4x (CSV): a whole Arrow table, then NumPy copies, then dropna's
    assert parquet_peak < 1.35 * data, parquet_peak / data
    assert csv_peak < 1.2 * data + 64 * 2**20, csv_peak / data  # pyarrow's CSV reader holds ~55 MB


def test_a_few_long_arrays_in_a_tuple_are_asked_for_as_named_columns():
    """``fit((t, y), ...)`` meant two columns; an array of them is 2 rows of 40 columns named 0..39,
    so it is refused with the fix. Many short arrays in a list are rows, as NumPy reads them."""
    t = np.linspace(0.0, 5.0, 40)
    with pytest.raises(InputError) as err:
        gdlab.fit((t, 3 * t), y="y", x="t")
    assert str(err.value) == (
        "data is 2 arrays of 40 values: name them as columns, as in {'t': ..., 'y': ...} "
        "(or give np.column_stack(...), rows x columns)"
    )
    rows = [np.array([1.0, 2.0]), np.array([2.0, 4.1]), np.array([3.0, 6.2])]
    np.testing.assert_allclose(gdlab.fit(rows, y="1", x="0").coef, [-0.1, 2.1], atol=1e-12)
