"""Which data a typed loss reads: the one rule every front end (command line, page, widget) uses.

A loss text names data columns by name (``sum((y - b0 - b1*x)^2)``), and ``X``, when the
data has no column of that name, is the lecture's design matrix: a column of ones, then
every column the loss does not name, so that ``(y - X@beta).T @ (y - X@beta)`` on the cafe
data reads ``y`` and ``X = [1, x]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gdlab._checks import InputError, Spelling
from gdlab._expr import Expression, mentions, no_parameters, parse

if TYPE_CHECKING:  # the data module loads when a loss reads data: a loss of parameters alone never needs it
    from gdlab._data import DataLike


def loss_data(data: DataLike | None, text: str) -> dict[str, np.ndarray]:
    """The arrays of ``data`` that the loss ``text`` names, with ``X`` as the design matrix.

    Example:
        >>> sorted((k, v.shape) for k, v in loss_data("cafe", "(y - X@beta).T @ (y - X@beta)").items())
        [('X', (10, 2)), ('y', (10,))]
    """
    if data is None:
        return {}
    from gdlab._data import as_table, column_names, design_matrix

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
    the matrix form needs a vector) with an :class:`InputError` that says what to give; a loss
    with no parameters has no start at all.

    The loss is traced at the start's shapes, not computed (``jax.eval_shape``): a start that
    does not fit fails while tracing, and computing would compile each operation of the loss
    on its own first (a tenth of a second of a command), only to throw the number away.
    """
    if not loss.params:
        raise no_parameters(loss)
    import jax

    try:
        jax.eval_shape(loss, {name: np.asarray(value) for name, value in values.items()})
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


def start_shapes(loss: Expression, arrays: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
    """The shape each parameter's start takes: ``()`` for a number, ``(k,)`` for a vector that
    the matrix form needs (``beta`` in ``X@beta``, ``k`` the columns of ``X``).

    Each parameter is tried as a number, then as a vector as long as a 2-D array of the data is
    wide; shapes are traced (``jax.eval_shape``), so nothing is computed.

    Example:
        >>> text = "(y - X@beta).T @ (y - X@beta)"
        >>> start_shapes(parse_with_data(text, "cafe"), loss_data("cafe", text))
        {'beta': (2,)}
    """
    import itertools

    import jax

    params = list(loss.params)
    widths = sorted({int(np.shape(a)[1]) for a in arrays.values() if np.ndim(a) == 2})
    choices: list[tuple[int, ...]] = [(), *((k,) for k in widths)]
    for shapes in itertools.islice(itertools.product(choices, repeat=len(params)), 256):
        point = {p: jax.ShapeDtypeStruct(s, np.float64) for p, s in zip(params, shapes, strict=True)}
        try:
            out = jax.eval_shape(loss.function, point)
        except Exception:
            continue
        if np.shape(out) == ():
            return dict(zip(params, shapes, strict=True))
    return {p: () for p in params}


def point_from_components(shapes: dict[str, tuple[int, ...]], values: dict[str, Any]) -> dict[str, object]:
    """A point of the loss from its components' values by name (``b``, ``beta[0]``, ``beta[1]``);
    the values may be traced (a picture evaluates the loss over a grid in compiled code)."""
    import jax.numpy as jnp

    point: dict[str, object] = {}
    for name, shape in shapes.items():
        parts = [values[f"{name}[{i}]"] for i in range(shape[0])] if shape else None
        point[name] = jnp.stack(parts) if parts is not None else values[name]
    return point


def component_list(shapes: dict[str, tuple[int, ...]]) -> list[str]:
    """The components' names, in the order a trajectory names them (``beta[0]``, ``beta[1]``, ``c``)."""
    from gdlab._pytree import component_names

    return component_names({p: np.zeros(s) for p, s in shapes.items()})


__all__ = [
    "check_start",
    "component_list",
    "loss_data",
    "parse_with_data",
    "point_from_components",
    "start_shapes",
]


# Starts tried, in order, for a parameter the user has not given one: 1 first, then others.
STARTS = (1.0, -1.0, 2.0, -2.0, 0.5, 3.0, -3.0)


def moving_start(loss: Expression, shapes: dict[str, tuple[int, ...]]) -> dict[str, float | list[float]]:
    """A start where the loss is finite and its gradient is not zero, so that a descent from it
    moves: 1 is the minimum of ``(x-1)^2`` and of Rosenbrock's function, where every rate would
    "converge at step 0". The first of :data:`STARTS` that moves (every parameter at it), else 1.

    Example:
        >>> moving_start(parse_with_data("(x-1)^2", None), {"x": ()})
        {'x': -1.0}
    """
    import jax

    value_and_grad = jax.value_and_grad(loss.function)  # a few calls: not worth compiling
    for value in STARTS:
        point = {p: np.full(shapes.get(p, ()), value) for p in loss.params}
        try:
            loss_at, grad = value_and_grad(point)
        except Exception:  # the loss is undefined there (log(0), a shape that does not fit)
            continue
        with np.errstate(all="ignore"):  # a huge gradient (b^(10^10)) is not finite: try the next
            norm = float(np.sqrt(sum(np.sum(np.square(np.asarray(g, np.float64))) for g in grad.values())))
        if np.isfinite(float(loss_at)) and np.isfinite(norm) and norm > 0:
            return {p: (point[p].tolist() if point[p].ndim else value) for p in loss.params}
    return {p: ([1.0] * shapes[p][0] if shapes.get(p) else 1.0) for p in loss.params}
