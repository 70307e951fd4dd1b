"""Data files read column by column, their structure checked before their values are trusted.

pandas and pyarrow read files forgivingly: pandas renames a repeated column (``x``, ``x.1``)
and, asked for some columns, drops a row's extra field or fills a missing one with NaN; a
directory of Parquet files takes its columns from its first file and fills what another file
lacks with nulls. Here a CSV's header is read with the csv module, every row's field count is
checked as the file is parsed, and every Parquet file's footer is checked against the first
file's before any data is read: each of those is an error naming the file, the line or the
column, and the fix.

Columns are filled a block of rows at a time into float64 arrays made once: the peak memory
of a read is about the columns' size, not the two or three copies that reading a whole table
and then converting it makes.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np

from gdlab._checks import InputError, closest

__all__ = [
    "CSV_MISSING",
    "TextCells",
    "check_parquet_files",
    "csv_header",
    "csv_line",
    "is_number_type",
    "numbers_held",
    "parquet_file",
    "parquet_names",
    "read_csv",
    "read_parquet",
    "repeated_names",
    "table_size",
    "unique",
]

# Bytes of CSV text parsed at a time (pyarrow's default). The reader's memory grows with it:
# about 55 MB beyond the columns at 1 MB, whatever the file's size; 240 MB and growing at 16 MB.
CSV_BLOCK = 1 << 20
# Rows of a Parquet file converted at a time into the columns.
PARQUET_ROWS = 1 << 16
# Cells a CSV means as missing: pyarrow's list, and pandas' "None" and "<NA>" besides.
CSV_MISSING = (
    *("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"),
    *("N/A", "NA", "NULL", "NaN", "n/a", "nan", "null", "None", "<NA>"),
)
# (column label, cells as text or None, the first cell's row) -> float64 values; names a bad cell.
TextCells: TypeAlias = Callable[[str, np.ndarray, int], np.ndarray]


def table_size(rows: int, columns: int, limit: int, what: str) -> None:
    """Refuse a table of more than ``limit`` numbers before its columns are allocated."""
    if rows * columns > limit:
        too_many = (
            f"{what}: {rows:,} rows x {columns:,} columns is more than the {limit:,} numbers "
            f"({limit * 8 / 1e9:.3g} GB in float64) a table may hold in memory"
        )
        raise InputError(
            lambda s: (
                f"{too_many}; ask for fewer columns, use a sample of the rows, or stream a Parquet "
                f"file ({s.setting('stream', True)})"
            ),
            parameter="stream",
        )


def unique(found: Sequence[str], source: object, where: str = "") -> tuple[str, ...]:
    """``found``, or an error naming each repeated column name and where it appears."""
    repeated = sorted({c for c in found if list(found).count(c) > 1})
    if not repeated:
        return tuple(found)
    places = "; ".join(
        f"{name!r} is columns {', '.join(str(j + 1) for j, c in enumerate(found) if c == name)}"
        for name in repeated
    )
    of = f" of {where}" if where else ""
    raise InputError(
        f"{source}: more than one column named {', '.join(map(repr, repeated))} ({places}{of}): "
        "a name must pick one column; rename the columns so that each name is different"
    )


# --- CSV ----------------------------------------------------------------------------------------


def csv_header(path: Path) -> tuple[str, ...]:
    """The column names in a CSV's first line, read as written (pandas would rename a repeated
    name ``x.1``, a name the file does not have); an empty name is ``Unnamed: j``, as in pandas."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            first = next(csv.reader(handle), None)
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not a readable CSV file: it is not UTF-8 text; save it as UTF-8") from err
    except csv.Error as err:
        raise InputError(f"{path}: not a readable CSV file ({err})") from err
    if first is None:
        raise InputError(f"{path}: the file is empty")
    if not first:
        raise InputError(f"{path}: the first line is empty; it must name the columns, as in x,y")
    return unique(tuple(name or f"Unnamed: {j}" for j, name in enumerate(first)), path, "the header")


def read_csv(
    path: Path, header: tuple[str, ...], chosen: tuple[str, ...], limit: int, text: TextCells
) -> dict[str, np.ndarray]:
    """The ``chosen`` columns as float64 (NaN where a cell is missing), read a block at a time.

    Columns of plain numbers are parsed by pyarrow; a column that also holds other text (words
    for true and false, numbers with spaces, or a mistake) is re-read as text and converted by
    ``text``, which names the first cell that is not a number.

    Raises:
        InputError: a row whose field count differs from the header's (naming its line), more
            than ``limit`` numbers, or what ``text`` refuses.
    """
    as_text: set[str] = set()
    while True:
        try:
            return _csv_columns(path, header, chosen, as_text, limit, text)
        except _NotNumbers as err:  # read again, with that column as text
            if err.column in as_text or err.column not in chosen:
                raise InputError(f"{path}: column {err.column!r} reads as neither numbers nor text") from None
            as_text.add(err.column)


class _NotNumbers(Exception):
    def __init__(self, column: str) -> None:
        self.column = column


def _csv_columns(
    path: Path,
    header: tuple[str, ...],
    chosen: tuple[str, ...],
    as_text: set[str],
    limit: int,
    text: TextCells,
) -> dict[str, np.ndarray]:
    """Each column filled into one array as the blocks are parsed (no list of pieces joined at
    the end, which would hold the table twice, once in Arrow's pool and once joined)."""
    room = _most_rows(path)
    table_size(room, len(chosen), limit, str(path))  # before anything is allocated
    # room is counted from line ends: rows never written cost address space, not memory
    found = {name: np.empty(room) for name in chosen}
    rows = 0
    for batch in _csv_batches(path, header, chosen, as_text):
        m = batch.num_rows
        if rows + m > room:  # line ends that pyarrow and this count disagree on: grow
            room = max(2 * room, rows + m)
            found = {name: np.resize(values, room) for name, values in found.items()}
        for name in chosen:
            values = batch.column(name).to_numpy(zero_copy_only=False)
            if name in as_text:
                values = text(f"column {name!r}", values, rows)
            found[name][rows : rows + m] = values
        rows += m
    return {name: values[:rows] for name, values in found.items()}


def _most_rows(path: Path) -> int:
    """At least the data rows of a CSV: its lines (ended by a newline, or by a carriage return
    alone) after the header; exactly them unless a line is blank or a quoted value spans lines."""
    newlines = returns = 0
    last = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(CSV_BLOCK):
            newlines, returns = newlines + chunk.count(b"\n"), returns + chunk.count(b"\r")
            last = chunk[-1:]
    return max(newlines, returns) + (last not in (b"\n", b"\r")) - 1


def _csv_batches(
    path: Path, header: tuple[str, ...], chosen: tuple[str, ...], as_text: set[str]
) -> Iterator[Any]:
    """pyarrow's record batches of the chosen columns; a ragged row or a column that is not all
    numbers stops the read with an error naming it."""
    import pyarrow as pa
    import pyarrow.csv as pc

    ragged: list[Any] = []

    def refuse_row(row: Any) -> str:
        ragged.append(row)  # an exception raised here is swallowed by pyarrow: keep the row instead
        return "error"

    options = {
        "read_options": pc.ReadOptions(
            column_names=list(header), skip_rows=1, block_size=CSV_BLOCK, use_threads=False
        ),
        "parse_options": pc.ParseOptions(newlines_in_values=True, invalid_row_handler=refuse_row),
        "convert_options": pc.ConvertOptions(
            include_columns=list(chosen),
            column_types={c: pa.string() if c in as_text else pa.float64() for c in chosen},
            null_values=list(CSV_MISSING),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    }
    try:
        yield from pc.open_csv(path, **options)
    except pa.ArrowInvalid as err:
        if ragged:
            raise _ragged(path, header, ragged[0]) from None
        found = re.search(r"CSV column #(\d+)", str(err))
        if "conversion error" in str(err) and found and int(found[1]) < len(header):
            raise _NotNumbers(header[int(found[1])]) from None
        raise InputError(f"{path}: not a readable CSV file ({err})") from err


def _ragged(path: Path, header: tuple[str, ...], row: Any) -> InputError:
    """The first row whose field count is not the header's, by its line in the file."""
    found = _first_ragged_line(path, len(header))
    line, fields = found if found is not None else (None, row.actual_columns)
    where = (
        f"line {line}" if line is not None else f"row {row.number or '?'} of the file (the header is row 1)"
    )
    names = ", ".join(header) if len(header) <= 12 else f"{', '.join(header[:12])} ..."
    fix = (
        "a value holding a comma must be in double quotes, and every row needs exactly one field per column"
        if fields > len(header)
        else "write an empty field for a missing value (1,,3), so that every row has one field per column"
    )
    sep = next((s for s in (";", "\t", "|") if len(header) == 1 and s in header[0]), None)
    if sep is not None:  # a file separated by semicolons whose numbers have decimal commas, say
        fix = f"its values look separated by {sep!r}, not commas: save it with commas, or read it with "
        fix += f"pandas.read_csv(path, sep={sep!r}) and pass the DataFrame"
    return InputError(
        f"{path}: {where} has {fields} field{'s' * (fields != 1)} but the header names {len(header)} "
        f"columns ({names}); {fix}. Fix that line (and check the lines after it)"
    )


def _first_ragged_line(path: Path, width: int) -> tuple[int, int] | None:
    """(line, fields) of the first non-empty row of another width than the header's, counting
    lines as an editor does (a quoted value may span lines); ``None`` if the csv module disagrees."""
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            start = reader.line_num + 1
            for fields in reader:
                if fields and len(fields) != width:
                    return start, len(fields)
                start = reader.line_num + 1
    except csv.Error:  # a field longer than the csv module takes: name the row pyarrow counted
        return None
    return None


def csv_line(path: Path, row: int) -> int | None:
    """The line of the file where data row ``row`` (0 is the first after the header) starts."""
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            start, seen = reader.line_num + 1, -1
            for fields in reader:
                seen += bool(fields)  # pyarrow skips empty lines: they are no row
                if fields and seen == row:
                    return start
                start = reader.line_num + 1
    except csv.Error:
        return None
    return None


# --- Parquet ------------------------------------------------------------------------------------


def parquet_file(path: str | Path) -> Any:
    """A ``pyarrow.parquet.ParquetFile`` (only its footer is read), or an error saying the file is not one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # without pre-buffering: it reads whole column chunks ahead, doubling the peak of a read
        return pq.ParquetFile(path, pre_buffer=False)
    except (pa.ArrowException, OSError) as err:
        raise InputError(f"{path}: not a readable Parquet file ({err})") from err


def parquet_names(path: Path) -> tuple[str, ...]:
    """A Parquet file's column names, from its footer; a repeated name is an error."""
    return unique(tuple(parquet_file(path).schema_arrow.names), path)


def repeated_names(where: Path) -> None:
    """Refuse the first Parquet file at ``where`` (a file, or a directory's ``.parquet`` and
    ``.pq`` files) that repeats a column name, naming it; nothing when none does."""
    found = [where] if where.is_file() else sorted(where.rglob("*.parquet")) + sorted(where.rglob("*.pq"))
    for path in found:
        try:
            handle = parquet_file(path)
        except InputError:  # not Parquet: the caller says what is wrong
            continue
        unique(tuple(handle.schema_arrow.names), path)


def is_number_type(kind: Any) -> bool:
    """Whether Arrow values of ``kind`` are numbers gdlab reads as float64 (integers, floats,
    booleans, decimals, dictionary-coded integers)."""
    import pyarrow as pa

    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
        or (pa.types.is_dictionary(kind) and pa.types.is_integer(kind.value_type))
    )


def read_parquet(handle: Any, chosen: tuple[str, ...], path: Path) -> dict[str, Any]:
    """The ``chosen`` columns of a Parquet file: numbers filled into float64 arrays made once
    (NaN where a value is null), a block of rows at a time; other columns as pyarrow gives them
    (text, dates ...), for the caller to name what they hold."""
    import pyarrow as pa

    schema = handle.schema_arrow
    numbers = [c for c in chosen if is_number_type(schema.field(c).type)]
    found: dict[str, Any] = {c: np.empty(handle.metadata.num_rows) for c in numbers}
    try:
        start = 0
        for batch in handle.iter_batches(batch_size=PARQUET_ROWS, columns=numbers, use_pandas_metadata=False):
            for name in numbers:
                found[name][start : start + batch.num_rows] = as_floats(batch.column(name))
            start += batch.num_rows
        for name in chosen:
            if name not in found:
                found[name] = handle.read(columns=[name]).column(name).to_numpy(zero_copy_only=False)
    except (pa.ArrowException, OSError) as err:
        raise InputError(f"{path}: not a readable Parquet file ({err})") from err
    return {name: found[name] for name in chosen}


def as_floats(values: Any) -> np.ndarray:
    """Arrow numbers as float64, null as NaN (no copy for float64 without nulls)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if values.type != pa.float64():
        values = pc.cast(values, pa.float64(), safe=False)  # int64 beyond 2**53 rounds, as NumPy does
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def check_parquet_files(
    files: Sequence[str], chosen: tuple[str, ...] | None, columns: Sequence[str], text: Sequence[str] = ()
) -> int:
    """Check every file's columns, from its footer, against the first file's; return the rows.

    A directory's dataset takes its columns from the first file and fills what a later file
    lacks with nulls: a file that calls ``x`` ``X`` would read as missing values. So every file
    must have the columns read (all of the first file's when ``chosen`` is None: then the same
    names), each holding numbers. Integer and float columns may differ between files (both are
    read as float64). ``columns`` are the dataset's: the first file's, and hive partition keys,
    which no file holds. ``text`` are columns read as categories, which may hold text.

    Raises:
        InputError: a file lacking a column, with another column, holding text, or repeating
            a name, naming that file, the first file and the columns.
    """
    first_names: tuple[str, ...] = ()
    first_types: dict[str, Any] = {}
    rows = 0
    for i, path in enumerate(files):
        handle = parquet_file(path)
        schema = handle.schema_arrow
        held = unique(tuple(schema.names), path)
        if i == 0:
            first_names, first_types = held, {n: schema.field(n).type for n in held}
        keys = [c for c in columns if c not in first_names]
        _same_columns(path, held, files[0], first_names, chosen, keys)
        for name in chosen if chosen is not None else held:
            if name in held and name not in text:
                numbers_held(path, name, schema.field(name).type, files[0], first_types.get(name))
        rows += handle.metadata.num_rows
    return rows


def _same_columns(
    path: str,
    held: tuple[str, ...],
    first: str,
    first_names: tuple[str, ...],
    chosen: tuple[str, ...] | None,
    keys: Sequence[str],
) -> None:
    wanted = [c for c in (first_names if chosen is None else chosen) if c not in keys]
    lacking = [c for c in wanted if c not in held]
    extra = [c for c in held if c not in first_names] if chosen is None else []
    if not lacking and not extra:
        return
    said = []
    if lacking:
        close = [m for c in lacking if (m := _renamed(c, held, first_names)) is not None]
        guess = (
            f" (it has {', '.join(map(repr, close))}: the same column named differently?)" if close else ""
        )
        said.append(f"has no column {', '.join(map(repr, lacking))}, which {first} has{guess}")
    if extra:
        said.append(f"has column {', '.join(map(repr, extra))}, which {first} does not")
    raise InputError(
        f"{path} {'; and '.join(said)}. Every file of a directory must have the same columns, or its rows "
        "would be read as missing values: rename the columns of that file, or move the file out"
    )


def _renamed(name: str, held: Sequence[str], first_names: Sequence[str]) -> str | None:
    """The column of ``held`` that is probably ``name`` written differently (another case first)."""
    others = [c for c in held if c not in first_names]
    same = [c for c in others if c.lower() == name.lower()]
    return same[0] if same else closest(name, others)


def numbers_held(path: object, name: str, kind: Any, first: object = None, first_kind: Any = None) -> None:
    """Refuse a column whose Arrow type is not numbers, naming what it holds (and what the
    ``first`` file's column of that name holds)."""
    if is_number_type(kind):
        return
    import pyarrow as pa

    held = "text" if pa.types.is_string(kind) or pa.types.is_large_string(kind) else f"{kind} values"
    beside = "" if first_kind is None or path == first else f", where {first} holds {first_kind}"
    raise InputError(
        f"{path}: column {name!r} holds {held}, not numbers{beside}; convert it to numbers, "
        "or leave it out of the columns read"
    )
