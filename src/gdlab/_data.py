"""Data in: arrays, dicts, DataFrames, CSV and Parquet files as one validated numeric table.

Everything that fits or descends on data reads it through here, so every front
end gives the same errors for the same mistakes: the message names the column,
the first bad row and what is wrong with it. Rows count from 0, as in NumPy and
pandas; in a file, row 0 is the first row after the header.

Example:
    >>> from gdlab._data import as_table, design_matrix
    >>> table = as_table({"x": [1, 2, 3], "y": [2.0, 4.0, 6.5]})
    >>> table
    Table(3 rows x 2 columns, float64)
      x  min 1  mean 2  max 3
      y  min 2  mean 4.16667  max 6.5
    >>> design_matrix(table, ["x"]).names
    ('intercept', 'x')
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias, TypeGuard, final

import numpy as np

from gdlab import _files as files
from gdlab._categories import Levels, codes, distinct, holds_text, merge_levels
from gdlab._checks import LIMITS, InputError, closest
from gdlab._lazy import lazy
from gdlab._precision import resolve_dtype
from gdlab._text import count
from gdlab._types import DTypeLike

if TYPE_CHECKING:
    import jax
else:  # a table of NumPy columns is read without JAX
    jax = lazy("jax")

__all__ = [
    "DATASETS",
    "MAX_TABLE_NUMBERS",
    "Design",
    "Table",
    "as_table",
    "batch_source",
    "column_names",
    "complete_rows",
    "design_matrix",
    "infinite_value",
    "levels_in",
    "names",
    "no_column",
]

# What the data layer takes: NumPy arrays, a dict of them, a pandas DataFrame, a
# Table, a datasets.Regression, a CSV or Parquet path, or a data set's name.
DataLike: TypeAlias = Any
# Column names: a list of them, or one string of comma-separated names.
NamesLike: TypeAlias = str | Sequence[str]
# A batch source: a pytree (array, tuple, dict) of JAX arrays, each with a leading row axis.
Batch: TypeAlias = Any

# Numbers one table may hold (rows x columns): 4 GB in float64. Checked before a
# file is read where its size is known (Parquet metadata), as a CSV is read (block by
# block), and before a design matrix is allocated. Reading a file makes no second copy
# of its columns, so the process needs about this many numbers, not a multiple of it.
MAX_TABLE_NUMBERS = LIMITS.table_numbers
# The columns of a table of at least this many values that already have its dtype are
# shared (read-only views), not copied: a fit of large data makes no copy of it. Smaller
# tables are copies, so that a small table never changes when its source does.
SHARE_VALUES = 1 << 20


def _cafe() -> dict[str, np.ndarray]:
    from gdlab import datasets

    cafe = datasets.cafe()
    return {"x": np.asarray(cafe.x), "y": np.asarray(cafe.y)}


# Data sets by name: ``as_table("cafe")`` is the lecture's data, columns x and y.
DATASETS: Mapping[str, Callable[[], dict[str, np.ndarray]]] = MappingProxyType({"cafe": _cafe})


@final
@dataclass(frozen=True, eq=False, repr=False)
class Table:
    """Named numeric columns of one floating dtype and one length, read-only.

    Make one with :func:`as_table`, which validates what it is given. In a table
    of :data:`SHARE_VALUES` (about a million) values or more, a column that
    already has the table's dtype is a read-only view of the array it came
    from, not a copy: change that array and the table (and a fit's pictures)
    see the change.

    Attributes:
        columns: column name -> read-only 1-D array of ``n`` values.
        n: the number of rows.
        dropped: rows dropped for missing values (``as_table(..., dropna=True)``).
        source: where the data came from, as messages name it.
    """

    columns: Mapping[str, np.ndarray]
    n: int
    dropped: int = 0
    source: str = "data"
    _dtype: np.dtype = field(default=np.dtype("float64"), compare=False)

    def __post_init__(self) -> None:
        frozen = {}
        for name, values in self.columns.items():
            if values.shape != (self.n,) or values.dtype != self._dtype:
                raise InputError(
                    f"column {name!r}: expected {self.n} {self._dtype} values; got {values.shape}"
                )
            arr = values.view()
            arr.setflags(write=False)
            frozen[name] = arr
        object.__setattr__(self, "columns", MappingProxyType(frozen))

    def __reduce__(self) -> tuple[Any, ...]:  # a read-only mapping does not pickle: made again
        return (Table, (dict(self.columns), self.n, self.dropped, self.source, self._dtype))

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in order."""
        return tuple(self.columns)

    @property
    def dtype(self) -> np.dtype:
        """The floating dtype of every column."""
        return self._dtype

    def __len__(self) -> int:
        return self.n

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise InputError(no_column(name, self.names, self.source))
        return self.columns[name]

    def select(self, columns: NamesLike) -> Table:
        """A table of only ``columns`` (a list, or names separated by commas), in that order."""
        wanted = names(columns, "columns")
        for name in wanted:
            if name not in self.columns:
                raise InputError(no_column(name, self.names, self.source))
        return Table({c: self.columns[c] for c in wanted}, self.n, self.dropped, self.source, self._dtype)

    def to_pandas(self) -> Any:
        """The table as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame({name: np.array(values) for name, values in self.columns.items()})

    def __repr__(self) -> str:
        origin = "" if self.source == "data" else f", from {self.source}"
        head = f"Table({count(self.n, 'row')} x {count(len(self.columns), 'column')}, {self._dtype}{origin})"
        width = max((len(c) for c in self.columns), default=0)
        lines = [
            f"  {c:<{width}}  min {v.min():.6g}  mean {v.mean():.6g}  max {v.max():.6g}"
            for c, v in self.columns.items()
        ]
        if self.dropped:
            lines.append(f"  dropped {count(self.dropped, 'row')} with missing values")
        return "\n".join([head, *lines])


class Design(NamedTuple):
    """A design matrix and the names of its columns (the coefficients it fits)."""

    matrix: np.ndarray
    names: tuple[str, ...]


def names(value: NamesLike, what: str = "columns") -> tuple[str, ...]:
    """Column names from a list or from one comma-separated string: ``"a, b"`` is ``("a", "b")``.

    Example:
        >>> names(["temp", "rain,wind"])
        ('temp', 'rain', 'wind')
    """
    given = (value,) if type(value) is str else value
    if (
        type(given) is tuple
        and all(type(p) is str and p and "," not in p and p.strip() == p for p in given)
        and len(set(given)) == len(given)
    ):
        return given  # already names, as the steps below would give them
    parts = [value] if isinstance(value, str | int) and not isinstance(value, bool) else list(value)
    # a DataFrame made from an array has columns 0, 1, 2 ...: they are named "0", "1", "2" here
    parts = [str(p) if isinstance(p, int | np.integer) and not isinstance(p, bool) else p for p in parts]
    if not all(isinstance(p, str) for p in parts):
        raise InputError(
            lambda s: f"{s.name(what)} must be column names (strings); got {value!r}", parameter=what
        )
    found = tuple(n.strip() for n in ",".join(parts).split(","))
    if not parts or any(not n for n in found):
        raise InputError(
            lambda s: (
                f"{s.name(what)}: an empty column name in {value!r}; write names as 'a,b' or ['a', 'b']"
            ),
            parameter=what,
        )
    repeated = sorted({n for n in found if found.count(n) > 1})
    if repeated:
        twice = ", ".join(map(repr, repeated))
        raise InputError(lambda s: f"{s.name(what)}: {twice} listed more than once", parameter=what)
    return found


def as_table(
    data: DataLike,
    *,
    columns: NamesLike | None = None,
    dtype: DTypeLike = None,
    dropna: bool | None = False,
    categories: Mapping[str, Levels] | None = None,
) -> Table:
    """Read and check data as a :class:`Table` of numeric columns.

    Args:
        data: a dict of 1-D arrays (or lists), a 1-D or 2-D NumPy array (its
            columns named ``"0"``, ``"1"`` ...; a structured array's by its
            fields), a pandas DataFrame, a :class:`Table`, a
            ``datasets.Regression`` (columns x and y, or x1, x2, ... and y),
            the path of a CSV or Parquet file, or the name of a data set in
            :data:`DATASETS` (``"cafe"``).
        columns: the columns to keep, in order (a list, or names separated by
            commas); default all of them. A file is read for these columns only.
        dtype: the floating type of the table (default float64).
        dropna: drop the rows with a missing value (NaN, an empty cell) in the
            kept columns and count them in ``table.dropped``; otherwise a
            missing value is an error (``None``: an error that offers no dropping,
            for rows that must all be read, such as the new rows of a prediction).
            An infinite value is an error either way: it is not missing but wrong
            (often a log of 0 or a division by 0), and dropping it silently would
            hide that; as R's ``na.omit`` and pandas' ``dropna``, dropna drops
            missing values only.
        categories: columns read as categories, each with its levels (see
            :func:`levels_in`): such a column holds the index of each row's value among its
            levels (:func:`gdlab._categories.codes`), text or numbers alike.

    Returns:
        A :class:`Table`.

    Raises:
        InputError: a requested column that does not exist (with what exists
            and the closest name), text, missing or infinite values (with the
            column, the first bad row and its value; in a file, the file, and
            in a CSV the line), columns of different lengths, a single number
            where a column is needed, a file that is missing, empty or
            unreadable, a column name that a file or DataFrame repeats, a CSV
            row with more or fewer fields than the header (naming its line),
            or data larger than :data:`MAX_TABLE_NUMBERS` (a file is refused
            before its rows are read, or as soon as a CSV passes the limit).

    Example:
        >>> as_table({"x": [1.0, 2.0], "y": ["3", "four"]})
        Traceback (most recent call last):
        ...
        gdlab._checks.InputError: column 'y' holds text, not numbers: 'four' at row 1
    """
    dt = resolve_dtype(dtype)
    wanted = None if columns is None else names(columns, "columns")
    if isinstance(data, Table) and data.dtype == dt and not categories:
        return data if wanted is None else data.select(wanted)
    if not categories:
        return _validated(_raw_columns(data, wanted), dt, dropna)
    coded: set[str] = set()

    def code(name: str, cells: np.ndarray, start: int) -> np.ndarray:  # a CSV's text column
        coded.add(name)
        return codes(f"column {name!r}", cells, categories[name])

    read = _raw_columns(data, wanted, {name: code for name in categories})
    found = dict(read.columns)
    for name, levels in categories.items():
        if name in found and name not in coded:
            found[name] = codes(f"column {name!r}", found[name], levels)
    return _validated(read._replace(columns=found), dt, dropna)


def levels_in(data: DataLike, columns: Sequence[str], text_only: Sequence[str] = ()) -> dict[str, Levels]:
    """Each column's levels (its distinct values, sorted: see :mod:`gdlab._categories`), for the
    columns ``data`` holds in memory; of ``text_only``, only the columns that hold text.

    Example:
        >>> levels_in({"g": ["b", "a", "b"], "x": [1.0, 2.0, 3.0]}, ["g"], ["x"])
        {'g': ('a', 'b')}
    """
    found: dict[str, Levels] = {}

    def collect(name: str, cells: np.ndarray, start: int) -> np.ndarray:  # a CSV's text column
        found[name] = merge_levels(found.get(name, ()), distinct(cells))
        return np.zeros(len(cells))

    wanted = tuple(dict.fromkeys((*columns, *text_only)))
    read = _raw_columns(data, wanted, dict.fromkeys(wanted, collect))
    out = {}
    for name in wanted:
        if name in found:
            levels = found[name]
        elif name in columns or holds_text(read.columns[name]):
            levels = distinct(read.columns[name])
        else:
            continue
        if name in columns or (levels and isinstance(levels[0], str)):
            out[name] = levels
    return out


def column_names(data: DataLike) -> tuple[str, ...]:
    """The column names ``data`` has, reading only a file's header or metadata.

    Example:
        >>> column_names("cafe")
        ('x', 'y')
    """
    if isinstance(data, str | os.PathLike) and not _is_dataset(data):
        path = _existing(data)
        return files.parquet_names(path) if _is_parquet(path) else files.csv_header(path)
    return tuple(_raw_columns(data, None).columns)


def design_matrix(data: DataLike, x: NamesLike, *, intercept: bool = True) -> Design:
    """The design matrix of regressors ``x``: a column of ones first when ``intercept``.

    Args:
        data: a :class:`Table`, or anything :func:`as_table` reads.
        x: the regressor columns (a list, or names separated by commas).
        intercept: put a column of ones first, named ``"intercept"``.

    Returns:
        A :class:`Design`: ``matrix`` of shape (n, len(x) + intercept) in the
        table's dtype, and the coefficient ``names``.

    Example:
        >>> design_matrix({"a": [1.0, 2.0], "b": [3.0, 5.0]}, "b").matrix.tolist()
        [[1.0, 3.0], [1.0, 5.0]]
    """
    regressors = names(x, "x")
    if intercept and "intercept" in regressors:
        raise InputError(
            lambda s: (
                "a column named 'intercept' clashes with the intercept: rename it, or fit "
                + s.setting("intercept", False)
            ),
            parameter="intercept",
        )
    table = as_table(data, columns=regressors) if not isinstance(data, Table) else data.select(regressors)
    coefficients = ("intercept", *regressors) if intercept else regressors
    _check_size(table.n, len(coefficients), f"{table.source}: the design matrix")
    matrix = np.empty((table.n, len(coefficients)), dtype=table.dtype)
    if intercept:
        matrix[:, 0] = 1
    for j, name in enumerate(regressors, start=int(intercept)):
        matrix[:, j] = table.columns[name]
    return Design(matrix, coefficients)


def batch_source(data: DataLike, dtype: DTypeLike = None) -> tuple[Batch, int]:
    """Data as SGD steps over it: a pytree of JAX arrays sharing a leading row axis, and n.

    The shape of ``data`` is kept: one array stays an array, a tuple of arrays
    stays a tuple, a dict stays a dict. A DataFrame, a :class:`Table`, a
    ``datasets.Regression``, a file path or a data set's name becomes a dict of
    its columns. Each array may have more axes after the row axis (a matrix of
    regressors, say).

    Args:
        data: the arrays, as above.
        dtype: the floating type (default float64).

    Returns:
        ``(arrays, n)``: the pytree and the number of rows.

    Raises:
        InputError: as :func:`as_table`, naming the array (``x``, ``data[0]``)
            and its first bad row.

    Example:
        >>> arrays, n = batch_source((np.ones((4, 2)), np.arange(4)))
        >>> type(arrays).__name__, arrays[1].dtype.name, n
        ('tuple', 'float64', 4)
    """
    dt = resolve_dtype(dtype)
    if is_tabular(data):
        table = as_table(data, dtype=dt)
        return {c: jax.device_put(v) for c, v in table.columns.items()}, table.n
    if isinstance(data, Mapping) and not isinstance(data, dict):
        data = dict(data)
    data = jax.tree.map(_as_leaf, data, is_leaf=lambda v: is_tabular(v) or _is_number_list(v))
    pairs, structure = jax.tree_util.tree_flatten_with_path(data)
    if not pairs:
        raise InputError("data holds no arrays: pass arrays, a tuple or dict of them, or a DataFrame")
    labels = [_leaf_name(path) for path, _ in pairs]
    arrays = [
        _column(what, _array(what, leaf), dt, dropna=False)[0]
        for what, (_, leaf) in zip(labels, pairs, strict=True)
    ]
    _same_rows({what: a.shape[0] for what, a in zip(labels, arrays, strict=True)}, "data")
    n = arrays[0].shape[0]
    if n == 0:
        raise InputError("data has no rows")
    return jax.tree.unflatten(structure, [jax.device_put(a) for a in arrays]), n


# --- where the columns come from ---------------------------------------------------------


def _row(row: int) -> str:
    return f"row {row}"


class _Read(NamedTuple):
    """Columns as read, before their values are checked."""

    columns: dict[str, Any]  # name -> an array of whatever the column holds
    source: str  # what messages call the data
    at: Callable[[int], str] = _row  # how messages name row r: a file's messages name the file
    owned: bool = False  # arrays made by the reader, which no one else holds: dropna may compact them


# What a CSV reader does with a column that holds text: name, cells, first row -> values.
OnText: TypeAlias = Callable[[str, np.ndarray, int], np.ndarray]


def _raw_columns(
    data: DataLike, wanted: tuple[str, ...] | None, on_text: Mapping[str, OnText] | None = None
) -> _Read:
    """The requested columns of ``data`` as arrays of whatever they hold, and how to name them
    (a CSV's text column in ``on_text`` is handed to its function as it is read)."""
    if isinstance(data, str | os.PathLike):
        if _is_dataset(data):
            return _Read(_pick(DATASETS[str(data)](), wanted, str(data)), str(data))
        return _read_file(_existing(data), wanted, on_text or {})
    if isinstance(data, Table):
        return _Read(_pick(dict(data.columns), wanted, data.source), data.source)
    if _is_frame(data):
        return _Read(_pick(_frame_columns(data), wanted, "the DataFrame"), "data")
    if _is_regression(data):
        return _Read(_pick(_regression_columns(data), wanted, data.name), data.name)
    if isinstance(data, Mapping):
        return _Read(_pick({_key(k): _listed(v) for k, v in data.items()}, wanted, "data"), "data")
    return _Read(_pick(_array_columns(data), wanted, "the array"), "data")


def _listed(values: Any) -> Any:
    """A column given as a list: text with a missing value (``["a", nan, None]``) as objects, where
    NumPy would make ``nan`` the text ``"nan"``; any other column as it is."""
    if not isinstance(values, list | tuple):
        return values
    try:
        arr = np.asarray(values)
    except ValueError:
        return values  # nested lists of different lengths: said where the column is read
    if arr.dtype.kind == "U" and not all(isinstance(v, str) for v in values):
        return np.array(values, dtype=object)
    return arr


def _pick(found: dict[str, Any], wanted: tuple[str, ...] | None, source: str) -> dict[str, Any]:
    if not found:
        raise InputError(f"{source} has no columns")
    if wanted is None:
        return found
    for name in wanted:
        if name not in found:
            raise InputError(no_column(name, tuple(found), source))
    return {name: found[name] for name in wanted}


def no_column(name: str, existing: Sequence[str], source: str) -> str:
    close = closest(name, existing)
    hint = f" (did you mean {close!r}?)" if close else ""
    shown = ", ".join(map(repr, existing[:20]))
    more = f" and {len(existing) - 20:,} more" if len(existing) > 20 else ""
    joined = next((sep for sep in (";", "\t", "|") if len(existing) == 1 and sep in existing[0]), None)
    if joined is not None:  # a file whose values are separated by something other than commas
        more += (
            f": its values look separated by {joined!r}, not commas; save it with commas "
            f"(or read it with pandas.read_csv(path, sep={joined!r}) and pass the DataFrame)"
        )
    return f"{source}: no column {name!r}{hint}; it has {shown}{more}"


def _key(key: object) -> str:
    if not isinstance(key, str | int | np.integer):
        raise InputError(f"column names must be strings; got {key!r}")
    return str(key)


def _regression_columns(data: Any) -> dict[str, Any]:
    """A simulated regression's columns as its ``to_pandas`` names them: x and y, or x1, x2, ... and y."""
    x = np.asarray(data.x)
    regressors = {"x": x} if x.ndim == 1 else {f"x{j + 1}": x[:, j] for j in range(x.shape[1])}
    return {**regressors, "y": data.y}


def _array_columns(data: object) -> dict[str, Any]:
    if _columns_as_rows(data):  # (t, y): columns meant, which an array reads as rows (40 columns, 0..39)
        example = ", ".join(f"'{name}': ..." for name in ("t", "y", "z")[: min(len(data), 3)])
        sizes = ", ".join(f"{size:,}" for size in sorted({len(a) for a in data}))
        raise InputError(
            f"data is {len(data)} arrays of {sizes} values: name them as columns, as in {{{example}}} "
            "(or give np.column_stack(...), rows x columns)"
        )
    arr = _array("data", data)
    if arr.dtype.names:  # a structured array: one column per field
        return {name: arr[name] for name in arr.dtype.names}
    if arr.ndim == 1:
        return {"0": arr}
    if arr.ndim != 2:
        raise InputError(f"data must be a table: a 1-D or 2-D array (rows x columns); got shape {arr.shape}")
    return {str(j): arr[:, j] for j in range(arr.shape[1])}


def _columns_as_rows(data: object) -> TypeGuard[Sequence[np.ndarray]]:
    """Whether ``data`` is a few long 1-D arrays in a tuple or list, such as ``(t, y)``: columns,
    surely, where an array of them would be read as rows (many short ones are rows, as given)."""
    if not isinstance(data, tuple | list) or not data:
        return False
    if not all(isinstance(a, np.ndarray) and a.ndim == 1 for a in data):
        return False
    return len(data) < min(len(a) for a in data)


def _frame_columns(frame: Any) -> dict[str, Any]:
    import pandas as pd

    labels = files.unique([str(c) for c in frame.columns], "the DataFrame")
    found = {}
    for label, column in zip(labels, frame.columns, strict=True):
        series = frame[column]
        numeric = pd.api.types.is_numeric_dtype(series.dtype) and not isinstance(
            series.dtype, pd.CategoricalDtype
        )
        if series.dtype == np.float64 or not numeric:  # as they are (a float64 column is not copied)
            found[label] = series.to_numpy()
        else:  # nullable and integer columns: missing values become NaN
            found[label] = series.to_numpy(dtype="float64", na_value=np.nan)
    return found


def _is_dataset(data: str | os.PathLike[str]) -> bool:
    return isinstance(data, str) and data in DATASETS


def _existing(data: str | os.PathLike[str]) -> Path:
    path = Path(data)
    if path.is_dir():
        raise InputError(
            f"{data} is a directory: a directory of Parquet files is streamed rather than read into "
            "memory: gdlab.sgd(loss, init, directory, ...) or gdlab.fit(directory, y=, x=)"
        )
    if not path.is_file():
        known = " or a data set's name (" + ", ".join(DATASETS) + ")"
        raise InputError(f"{data}: no such file; give a CSV or Parquet file{known}")
    return path


def _is_parquet(path: Path) -> bool:
    """By the suffix, or by Parquet's magic bytes whatever the suffix."""
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _read_file(path: Path, wanted: tuple[str, ...] | None, on_text: Mapping[str, OnText]) -> _Read:
    try:
        if path.stat().st_size == 0:
            raise InputError(f"{path}: the file is empty")
        return _read_parquet(path, wanted) if _is_parquet(path) else _read_csv(path, wanted, on_text)
    except PermissionError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror})") from err


def _read_csv(path: Path, wanted: tuple[str, ...] | None, on_text: Mapping[str, OnText]) -> _Read:
    header = files.csv_header(path)
    chosen = header if wanted is None else tuple(_pick(dict.fromkeys(header), wanted, str(path)))

    def at(row: int) -> str:  # the line is found only when a message needs it
        line = files.csv_line(path, row)
        return f"row {row} ({'' if line is None else f'line {line} '}of {path})"

    by_what = {f"column {name!r}": (name, f) for name, f in on_text.items()}

    def text(what: str, cells: np.ndarray, start: int) -> np.ndarray:
        if what in by_what:
            name, f = by_what[what]
            return f(name, cells, start)
        return _text_cells(what, cells, start, at)

    columns = files.read_csv(path, header, chosen, MAX_TABLE_NUMBERS, text)
    return _Read(columns, str(path), at, owned=True)


def _read_parquet(path: Path, wanted: tuple[str, ...] | None) -> _Read:
    handle = files.parquet_file(path)
    existing = files.unique(tuple(handle.schema_arrow.names), path)
    chosen = existing if wanted is None else tuple(_pick(dict.fromkeys(existing), wanted, str(path)))
    _check_size(handle.metadata.num_rows, len(chosen), str(path))  # from the footer, before reading
    columns = files.read_parquet(handle, chosen, path)
    return _Read(columns, str(path), lambda row: f"row {row} of {path}", owned=True)


def _check_size(rows: int, columns: int, what: str) -> None:
    files.table_size(rows, columns, MAX_TABLE_NUMBERS, what)


# --- what the columns hold -------------------------------------------------------------


def _validated(read: _Read, dtype: np.dtype, dropna: bool | None) -> Table:
    source = read.source
    arrays = {name: _array(f"column {name!r}", values) for name, values in read.columns.items()}
    for name, arr in arrays.items():
        if arr.ndim != 1:
            raise InputError(f"column {name!r} must be 1-D (one value per row); got shape {arr.shape}")
    if len({arr.shape[0] for arr in arrays.values()}) > 1:
        _same_rows({repr(name): arr.shape[0] for name, arr in arrays.items()}, source)
    rows = next(iter(arrays.values())).shape[0]
    _check_size(rows, len(arrays), source)
    missing = None  # the rows with a missing value, once a column has one
    columns = {}
    share = read.owned or rows * len(arrays) >= SHARE_VALUES
    for name, arr in arrays.items():
        columns[name], gaps = _column(f"column {name!r}", arr, dtype, dropna, share, read.at)
        if gaps is not None:
            missing = gaps if missing is None else missing | gaps
    dropped = 0 if missing is None else int(missing.sum())
    if dropped == rows:
        raise InputError(
            f"{source}: every one of its {rows:,} rows has a missing value"
            if rows
            else f"{source} has no rows"
        )
    if dropped:
        assert missing is not None
        keep = ~missing
        del missing
        columns = {name: _kept(values, keep, read.owned) for name, values in columns.items()}
    return Table(columns, rows - dropped, dropped, source, dtype)


def complete_rows(data: DataLike, columns: Sequence[str]) -> tuple[np.ndarray | None, DataLike]:
    """New rows for a prediction: which of them have a missing value (NaN, an empty cell, ``None``,
    pandas' ``NA``) in one of ``columns`` (``None`` where none has), and the rows to compute on:
    ``data`` itself where none has, else its ``columns`` with each missing cell filled by the
    column's value in the first complete row (so that every row computes, and any other error names
    its own row). The caller sets the missing rows' predictions to NaN, as R's ``predict``
    (``na.pass``) gives them."""
    texts: dict[str, dict[str, int]] = {name: {} for name in columns}  # a CSV's text cells, numbered

    def numbered(name: str, cells: np.ndarray, start: int) -> np.ndarray:  # blank: NaN
        seen = texts[name]
        return np.array([math.nan if _blank(c) else seen.setdefault(str(c), len(seen)) for c in cells])

    read = _raw_columns(data, tuple(columns), dict.fromkeys(columns, numbered))
    arrays = {name: _array(f"column {name!r}", values) for name, values in read.columns.items()}
    for name, seen in texts.items():
        if seen:  # a CSV's text column: its cells again (NaN where blank)
            cells = np.array([None, *seen], dtype=object)
            codes = arrays[name]
            arrays[name] = cells[np.where(np.isnan(codes), 0, codes + 1).astype(np.intp)]
    if len({arr.shape for arr in arrays.values()}) != 1 or next(iter(arrays.values())).ndim != 1:
        return None, data  # said by as_table, in its words
    missing = None
    for arr in arrays.values():
        gaps = _gaps(arr)
        if gaps is not None and gaps.any():
            missing = gaps if missing is None else missing | gaps
    if missing is None and not len(next(iter(arrays.values()))):
        return np.zeros(0, bool), data  # no rows: nothing to predict (an empty answer)
    if missing is None or missing.all():
        return missing, data
    first = int(np.argmin(missing))
    filled = {}
    for name, arr in arrays.items():  # only the missing cells: the row's others are checked as read
        gaps = _gaps(arr)
        if gaps is not None and gaps.any():
            arr = arr.copy()
            arr[gaps] = arr[first]
        filled[name] = arr
    return missing, filled


def _gaps(arr: np.ndarray) -> np.ndarray | None:
    """Which cells of a column as read are missing (``None``: a kind that has none)."""
    if arr.dtype.kind == "f":
        return np.isnan(arr)
    if arr.dtype.kind in "OUS":
        return np.fromiter(map(_blank, arr), bool, len(arr))
    return None


def _blank(cell: object) -> bool:
    """Whether a cell of text or objects is missing, as :func:`_cell` reads it."""
    if isinstance(cell, bytes | str):
        return not cell.strip()
    return cell is None or _is_na(cell)


def _kept(values: np.ndarray, keep: np.ndarray, owned: bool) -> np.ndarray:
    """The rows of ``values`` where ``keep``: moved to the front in place, a block at a time, when
    the array is the reader's own (no second copy of a large table), else a new array."""
    if not owned or values.dtype != np.float64:
        return values[keep]
    written, block = 0, 1 << 16
    for start in range(0, len(values), block):
        part = values[start : start + block][keep[start : start + block]]  # read before written over
        values[written : written + len(part)] = part
        written += len(part)
    return values[:written]


def _column(
    what: str,
    arr: np.ndarray,
    dtype: np.dtype,
    dropna: bool | None,
    share: bool = False,
    at: Callable[[int], str] = _row,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Checked values of ``dtype`` and which rows are missing (``None``: none): text, infinities and
    (unless ``dropna``) missing values are errors naming the first bad row (``at`` names it).
    With ``share``, values already of ``dtype`` are returned as they are, not copied."""
    values = _numbers(what, arr, at)
    if values.ndim == 1 and values.dtype == dtype and bool(np.isfinite(values).all()):
        # the usual column, checked in one pass: nothing missing, infinite or too large for dtype
        return (values if share else values.copy()), None
    rows = _by_row(np.isnan(values))
    if rows.any() and not dropna:
        place = at(int(np.argmax(rows)))
        if dropna is None:  # rows that must all be read: no dropping to offer
            raise InputError(
                f"{what} has {int(rows.sum()):,} missing value(s) (NaN or an empty cell), the first at "
                f"{place}: every row is read, so fill them or leave those rows out"
            )
        raise InputError(
            lambda s: (
                f"{what} has {int(rows.sum()):,} missing value(s) (NaN or an empty cell), the first at "
                f"{place}: fill them, or drop those rows with {s.setting('dropna', True)}"
            ),
            parameter="dropna",
        )
    _no_infinity(what, values, at, dropna)
    if share and values.dtype == dtype:
        return values, rows  # shared: a large fit makes no copy of its data (see Table)
    with np.errstate(over="ignore"):
        cast = values.astype(dtype)  # a copy: the table must not change when the caller's array does
    overflow = _by_row(np.isinf(cast) & ~np.isinf(values))
    if overflow.any():
        first = int(np.argmax(overflow))
        raise InputError(f"{what} has a value too large for {dtype} at {at(first)}; compute in float64")
    return cast, rows


def _same_rows(rows: dict[str, int], source: str) -> None:
    if len(set(rows.values())) > 1:
        listed = ", ".join(f"{label} has {count:,}" for label, count in rows.items())
        raise InputError(f"{source}: every column needs the same number of rows; {listed}")


def _array(what: str, values: object) -> np.ndarray:
    try:
        arr = np.asarray(values)
    except ValueError as err:  # nested lists of different lengths
        raise InputError(f"{what} is not a rectangular array: its rows have different lengths") from err
    if arr.ndim == 0:
        shown = arr.item() if arr.dtype.kind in "biufc" else values
        raise InputError(
            f"{what} is a single value ({shown!r}); it needs one value per row, as in [{shown!r}]"
        )
    return arr


def _numbers(what: str, arr: np.ndarray, at: Callable[[int], str] = _row) -> np.ndarray:
    """``arr`` as float64 (NaN where a cell is missing), or an error naming the first non-number."""
    if arr.dtype.kind in "biuf":
        out = arr.astype(np.float64, copy=False)
    elif arr.dtype.kind == "c":
        raise InputError(f"{what} holds complex numbers; gdlab works with real numbers")
    elif arr.dtype.kind in "mM":
        raise InputError(
            f"{what} holds {arr.dtype} dates or times, not numbers; convert them to numbers first"
        )
    elif arr.dtype.kind in "OUS":
        out = _cells(what, arr, at)
    else:
        raise InputError(f"{what} holds {arr.dtype} values, not numbers")
    return out


def _cells(what: str, arr: np.ndarray, at: Callable[[int], str] = _row, start: int = 0) -> np.ndarray:
    """Text or Python objects, one by one: numbers pass, blanks are missing, text is an error
    (naming the row, counted from ``start``)."""
    flat = arr.reshape(-1)
    out = np.empty(flat.shape, dtype=np.float64)
    per_row = max(1, flat.size // max(1, arr.shape[0]))
    for i, cell in enumerate(flat):
        out[i] = _cell(what, cell, start + i // per_row, at)
    return out.reshape(arr.shape)


# How a CSV writes true and false (pandas reads such a column as booleans): 1 and 0.
_TRUTH = {"true": 1.0, "false": 0.0}


def _text_cells(what: str, cells: np.ndarray, start: int, at: Callable[[int], str]) -> np.ndarray:
    """A CSV column that is not all plain numbers, from its text: true and false are 1 and 0,
    numbers with spaces around them are numbers, and anything else is an error naming its row."""
    truth = [_TRUTH.get(c.strip().lower()) if isinstance(c, str) else None for c in cells]
    if all(t is not None or c is None for t, c in zip(truth, cells, strict=True)):
        return np.array([math.nan if t is None else t for t in truth])
    return _cells(what, cells, at, start)


def _cell(what: str, cell: object, row: int, at: Callable[[int], str] = _row) -> float:
    if cell is None or _is_na(cell):
        return math.nan
    if isinstance(cell, bytes):
        cell = cell.decode("utf-8", "replace")
    if isinstance(cell, str):
        cell = str(cell)  # np.str_ shows as np.str_('x')
        if not cell.strip():
            return math.nan
        try:
            return float(cell)
        except ValueError:
            raise InputError(f"{what} holds text, not numbers: {cell!r} at {at(row)}") from None
    if isinstance(cell, bool | int | float | np.number) and not isinstance(
        cell, complex | np.complexfloating
    ):
        return float(cell)
    raise InputError(f"{what} holds {type(cell).__name__} values, not numbers: {cell!r} at {at(row)}")


def _is_na(cell: object) -> bool:
    pandas = sys.modules.get("pandas")
    return (isinstance(cell, float) and math.isnan(cell)) or (pandas is not None and cell is pandas.NA)


def _by_row(mask: np.ndarray) -> np.ndarray:
    """Whether each row (the first axis) has a true cell."""
    return np.asarray(mask.any(axis=tuple(range(1, mask.ndim))))


# Said with every infinite value: dropna drops missing values only (see as_table).
def infinite_value(where: str) -> InputError:
    """The error for an infinite value at ``where`` ("column 'y' has an infinite value (inf) at row
    6"): a fit needs finite numbers, and dropna drops only missing values."""
    return InputError(
        lambda s: (
            f"{where}; a fit needs finite numbers, and {s.setting('dropna', True)} drops only missing "
            "values (NaN, empty cells), not infinite ones (often a log of 0 or a division by 0): correct the "
            "value, or make it missing to have its row dropped"
        ),
        parameter="dropna",
    )


def _no_infinity(
    what: str, values: np.ndarray, at: Callable[[int], str] = _row, dropna: bool | None = False
) -> None:
    infinite = _by_row(np.isinf(values))
    if infinite.any():
        first = int(np.argmax(infinite))
        row = np.ravel(values[first])
        where = f"{what} has an infinite value ({row[np.isinf(row)][0]}) at {at(first)}"
        if dropna is None:  # rows that must all be read (new rows to predict): no dropping to offer
            raise InputError(
                f"{where}: it is not missing but wrong (often a log of 0 or a division by 0); correct "
                "it, or make it missing (NaN), which predicts NaN there"
            )
        raise infinite_value(where)


# --- recognising what was given, without importing pandas to ask --------------------------


def _is_frame(data: object) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(data, pandas.DataFrame)


def _is_regression(data: object) -> bool:
    datasets = sys.modules.get("gdlab.datasets")
    return datasets is not None and isinstance(data, datasets.Regression)


def is_tabular(data: object) -> bool:
    """Whether ``data`` is a table of named columns (a :class:`Table`, a file, a DataFrame, a data
    set) rather than arrays the loss reads as they are."""
    return isinstance(data, Table | str | os.PathLike) or _is_frame(data) or _is_regression(data)


def _is_number_list(value: object) -> bool:
    """A flat list of numbers is one column, not a pytree of single numbers."""
    return isinstance(value, list) and not any(
        isinstance(v, tuple | list | dict) or np.ndim(v) for v in value
    )


def _as_leaf(value: object) -> object:
    """A DataFrame or Table inside a pytree becomes a dict of its columns; a list of numbers an array."""
    if _is_number_list(value):
        return np.asarray(value)
    return dict(as_table(value).columns) if is_tabular(value) else value


def _leaf_name(path: tuple[Any, ...]) -> str:
    if len(path) == 1 and isinstance(path[0], jax.tree_util.DictKey):
        return f"column {path[0].key!r}"
    return "data" + jax.tree_util.keystr(path)
