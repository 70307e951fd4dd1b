"""A categorical column's levels and codes: one rule for every place rows are read.

A formula's category (``C(group)``, or a column of text) is read as the index of each row's
value among the column's levels, sorted (as R and patsy sort them, so the first is the
reference level of treatment coding). The levels are found once over all the rows (in memory,
over a Parquet directory, or over a cluster's chunks: each block's :func:`distinct` values,
merged by :func:`merge_levels`), and every block is then coded by :func:`codes` against them,
so every block codes alike. A value missing from a row is NaN (dropped with ``dropna``, like
any missing value); a value that is not among the levels is an error.

Example:
    >>> levels = merge_levels(distinct(["b", "a", None]), distinct(["c", "a"]))
    >>> levels
    ('a', 'b', 'c')
    >>> codes("column 'g'", ["c", "a", None], levels).tolist()
    [2.0, 0.0, nan]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np

from gdlab._checks import InputError

__all__ = ["MAX_LEVELS", "Levels", "codes", "distinct", "holds_text", "label", "merge_levels"]

# A category's levels: sorted strings, or sorted numbers.
Levels: TypeAlias = tuple[Any, ...]
# Levels one category may have: each is a column of the design.
MAX_LEVELS = 10_000


def holds_text(values: Any) -> bool:
    """Whether a column's values are text (strings, or objects that are not all numbers)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "US":
        return True
    if arr.dtype.kind != "O":
        return False
    return any(isinstance(v, str | bytes) for v in arr.reshape(-1))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("<NA>", "")


def distinct(values: Any) -> Levels:
    """The distinct values of a column (text, or numbers), sorted, missing values left out."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        found = np.unique(arr[~np.isnan(arr)] if arr.dtype.kind == "f" else arr)
        return tuple(_number(v) for v in found)
    import pandas as pd

    once = pd.unique(pd.Series(arr.reshape(-1), dtype=object))  # hashed: each value looked at once
    cells = {str(v).strip() if not isinstance(v, bytes) else v.decode() for v in once if not _missing(v)}
    return tuple(sorted(c for c in cells if c))


def _number(value: Any) -> float:
    return float(value)


def merge_levels(a: Levels, b: Levels) -> Levels:
    """The levels of two blocks as those of both, sorted; refused when one holds text and the
    other numbers, or when there are more than :data:`MAX_LEVELS`."""
    if a and b and isinstance(a[0], str) != isinstance(b[0], str):
        a, b = tuple(map(_text, a)), tuple(map(_text, b))
    merged = tuple(sorted(set(a) | set(b)))
    if len(merged) > MAX_LEVELS:
        raise InputError(
            f"a category has more than {MAX_LEVELS:,} levels: each is a column of the design; is it "
            "a number, to be read as one (leave C() off it)?"
        )
    return merged


def _text(value: Any) -> str:
    return value if isinstance(value, str) else label(value)


def label(level: Any) -> str:
    """A level as a coefficient's name writes it: text as it is, a whole number without a point."""
    if isinstance(level, str):
        return level
    return str(int(level)) if float(level).is_integer() else repr(float(level))


def codes(what: str, values: Any, levels: Levels) -> np.ndarray:
    """Each row's index among ``levels`` as float64 (NaN where the value is missing).

    Raises:
        InputError: a value that is not one of the levels (naming it, its row and the levels).
    """
    arr = np.asarray(values)
    text = bool(levels) and isinstance(levels[0], str)
    if not text and arr.dtype.kind in "biuf":
        numbers = arr.astype(np.float64, copy=False)
        ordered = np.asarray(levels, dtype=np.float64)
        where = np.searchsorted(ordered, numbers).clip(0, max(len(ordered) - 1, 0))
        out = where.astype(np.float64)
        known = ordered[where] == numbers if len(ordered) else np.zeros(len(numbers), bool)
        out[np.isnan(numbers)] = np.nan
        unseen = ~known & ~np.isnan(numbers)
        if unseen.any():
            _unseen(what, label(numbers[np.argmax(unseen)]), int(np.argmax(unseen)), levels)
        return out
    import pandas as pd

    flat = arr.reshape(-1)
    out = pd.Index(list(levels), dtype=object).get_indexer(flat).astype(np.float64)  # hashed, at C speed
    index = {level: float(i) for i, level in enumerate(levels)}
    for i in np.flatnonzero(out < 0):  # missing, or written otherwise (spaces, a number as text)
        value = flat[i]
        if _missing(value):
            out[i] = np.nan
            continue
        key = value.decode() if isinstance(value, bytes) else value
        key = str(key).strip() if text else _number(key) if not isinstance(key, str) else key
        found = index.get(key)
        if found is None and text and not isinstance(value, str):
            found = index.get(label(value))
        if found is None:
            _unseen(what, str(key), int(i), levels)
        out[i] = found
    return out


def _unseen(what: str, value: str, row: int, levels: Sequence[Any]) -> None:
    shown = ", ".join(repr(label(v)) for v in levels[:20]) + (" ..." if len(levels) > 20 else "")
    raise InputError(
        f"{what} holds {value!r} at row {row}, which is not one of the levels fitted ({shown}): "
        "a category's coefficients are those of its levels, so new rows must hold levels the fit saw"
    )
