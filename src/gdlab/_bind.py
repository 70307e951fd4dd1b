"""Which data a typed loss reads: the one rule every front end (command line, page, widget) uses.

A loss text names data columns by name (``sum((y - b0 - b1*x)^2)``), and ``X``, when the
data has no column of that name, is the lecture's design matrix: a column of ones, then
every column the loss does not name, so that ``(y - X@beta).T @ (y - X@beta)`` on the cafe
data reads ``y`` and ``X = [1, x]``.
"""

from __future__ import annotations

import numpy as np

from gdlab._checks import InputError, Spelling
from gdlab._data import DataLike, as_table, column_names, design_matrix
from gdlab._expr import Expression, mentions, parse


def loss_data(data: DataLike | None, text: str) -> dict[str, np.ndarray]:
    """The arrays of ``data`` that the loss ``text`` names, with ``X`` as the design matrix.

    Example:
        >>> sorted((k, v.shape) for k, v in loss_data("cafe", "(y - X@beta).T @ (y - X@beta)").items())
        [('X', (10, 2)), ('y', (10,))]
    """
    if data is None:
        return {}
    columns = column_names(data)
    wanted = [c for c in columns if mentions(text, c)]
    found: dict[str, np.ndarray] = {}
    if wanted:
        table = as_table(data, columns=wanted)
        found = {name: np.asarray(table[name]) for name in table.names}
    if "X" not in columns and mentions(text, "X"):
        found["X"] = np.asarray(design_matrix(data, [c for c in columns if c not in wanted]).matrix)
    return found  # empty when the loss names no column: its free names are parameters


def parse_with_data(text: str, data: DataLike | None) -> Expression:
    """``text`` parsed with the data it names bound (see :func:`loss_data`)."""
    return parse(text, data=loss_data(data, text))


def check_start(loss: Expression, values: dict) -> None:
    """Refuse a start the loss cannot be computed at (a vector of the wrong length, a number where
    the matrix form needs a vector) with an :class:`InputError` that says what to give."""
    try:
        loss(values)
    except InputError:
        raise
    except (TypeError, ValueError) as err:
        problem = str(err)
        example = next(iter(loss.params), "beta")

        def words(s: Spelling) -> str:
            option = s.name("init", "")
            hint = (
                f"; a matrix form (@) takes a vector, as in {option + ' ' if option else ''}{example}=[9,2]"
            )
            where = f"{option}: " if option else "the start: "
            shown = hint if "@" in loss.text else ""
            return f"{where}the loss cannot be computed at these values: {problem}{shown}"

        raise InputError(words, parameter="init") from None


__all__ = ["check_start", "loss_data", "parse_with_data"]
