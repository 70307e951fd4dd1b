"""Linear restrictions on a fit's coefficients, written as text: ``"x1 = x2 = 0"``, ``"x1 = 0, x2 = 2*x3"``.

Each side is compiled by gdlab's expression language (:func:`gdlab._expr.parse`, never
evaluated as Python), with the coefficient names as its parameters. A restriction
``lhs = rhs`` is the function ``f(b) = lhs - rhs``; for a linear one ``f(b) = r'b - q``, so its
gradient at any point is the row ``r`` and ``q = -f(0)``, exactly. A restriction whose gradient
moves, or whose value is not ``r'b - q`` at a test point, is not linear and is refused.
A chain ``a = b = c`` is the two restrictions ``a = b`` and ``b = c``; a part with no ``=`` is
``part = 0`` (as statsmodels reads it).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from gdlab._checks import InputError, closest
from gdlab._expr import ExpressionError, numeric_form, parse

__all__ = ["restrictions"]


def _parts(text: str) -> list[str]:
    """``text`` split at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def _sides(part: str) -> list[str]:
    sides = part.replace("==", "=").split("=")
    if any(not side.strip() for side in sides):
        raise InputError(
            f"the restriction {part.strip()!r} has an empty side: write it as 'x1 = 0' or 'x1 = x2'",
            parameter="restrictions",
        )
    return sides if len(sides) > 1 else [*sides, "0"]


def _gradient(text: str, names: tuple[str, ...]) -> tuple[tuple[str, ...], Callable]:
    """The names ``text`` reads, and ``at(point)``: its value and gradient (over ``names``) there.

    By its NumPy form with exact forward-mode derivatives (no JAX); by JAX's where it has none."""
    form = numeric_form(text)
    if form is not None:

        def at(point: np.ndarray) -> tuple[float, np.ndarray]:
            used = np.array([point[names.index(n)] for n in form.params])
            value, jac = form.jacobian(used, {}, 1)
            row = np.zeros(len(names))
            for j, name in enumerate(form.params):
                row[names.index(name)] = jac[0, j]
            return float(value[0]), row

        return form.params, at
    import jax

    found = parse(text)

    def f(b: jax.Array) -> jax.Array:
        return found.function({n: b[names.index(n)] for n in found.params})

    def at_jax(point: np.ndarray) -> tuple[float, np.ndarray]:
        b = jax.numpy.asarray(point)
        return float(f(b)), np.asarray(jax.grad(f)(b), dtype=np.float64)

    return found.params, at_jax


def _row(lhs: str, rhs: str, names: tuple[str, ...]) -> tuple[np.ndarray, float]:
    text = f"({lhs}) - ({rhs})"
    try:
        params, at = _gradient(text, names)
    except ExpressionError as err:
        raise InputError(f"cannot read the restriction {lhs.strip()} = {rhs.strip()}: {err}") from None
    for name in params:
        if name not in names:
            near = closest(name, names)
            hint = f" (did you mean {near!r}?)" if near else ""
            raise InputError(
                f"{name!r} in the restriction {lhs.strip()} = {rhs.strip()} is not a coefficient of this "
                f"fit{hint}; its coefficients are {', '.join(names)}",
                parameter="restrictions",
            )

    offset, row = at(np.zeros(len(names)))
    point = np.linspace(0.5, 1.7, len(names))
    value, moved = at(point)
    scale = 1 + np.abs(row).sum() + abs(offset)
    if (
        not (np.allclose(moved, row, rtol=1e-9, atol=1e-9 * scale))
        or abs(value - (row @ point + offset)) > 1e-9 * scale * 3
    ):
        raise InputError(
            f"the restriction {lhs.strip()} = {rhs.strip()} is not linear in the coefficients: "
            "fit.test tests linear restrictions such as 'x1 = 2*x2' or 'x1 + x2 = 1'",
            parameter="restrictions",
        )
    if not row.any():
        raise InputError(
            f"the restriction {lhs.strip()} = {rhs.strip()} names no coefficient: "
            "write it in terms of the coefficients, as in 'x1 = 0'",
            parameter="restrictions",
        )
    return row, -offset


def restrictions(text: str, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The matrix ``R`` and vector ``q`` of the restrictions ``R b = q`` that ``text`` writes.

    Example:
        >>> R, q = restrictions("x1 = x2 = 0", ("intercept", "x1", "x2"))
        >>> R.tolist(), q.tolist()
        ([[0.0, 1.0, -1.0], [0.0, 0.0, 1.0]], [0.0, 0.0])
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError(
            "give the restrictions as text, such as 'x1 = 0' or 'x1 = x2 = 0'", parameter="restrictions"
        )
    # a formula's names (C(g)[T.b], x1:x3) are not names of the expression language: each is
    # read as a plain name standing for it, and said as itself again in any message
    aliases = {n: f"coefficient{j}" for j, n in enumerate(names) if not n.isidentifier()}
    for name in sorted(aliases, key=len, reverse=True):
        text = text.replace(name, aliases[name])
    plain = tuple(aliases.get(n, n) for n in names)
    rows = []
    try:
        for part in _parts(text):
            sides = _sides(part)
            rows += [_row(a, b, plain) for a, b in itertools.pairwise(sides)]
    except InputError as err:
        if not aliases:
            raise
        said = str(err)
        for name in sorted(aliases, key=len, reverse=True):
            said = said.replace(aliases[name], name)
        raise InputError(said, parameter="restrictions") from None
    R = np.array([r for r, _ in rows])
    q = np.array([v for _, v in rows]) + 0.0  # no -0.0
    if np.linalg.matrix_rank(R) < len(R):
        raise InputError(
            f"the restrictions {text!r} are not independent (one follows from the others): drop the "
            "redundant ones",
            parameter="restrictions",
        )
    return R, q
