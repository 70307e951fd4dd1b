"""The derivative of a typed loss three ways (symbolic, autodiff, finite differences), as one report."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gdlab._checks import LIMITS, InputError
from gdlab._expr import MATRIX_FORMS, Expression, no_parameters, parse
from gdlab._gradcheck import check_grad
from gdlab._json import plain
from gdlab._loss import scalar_loss
from gdlab._symbolic import evaluate
from gdlab._text import table
from gdlab._types import Params

# Symbolic and autodiff values agree when they differ by at most this, relative to max(1, |autodiff|).
AGREE = 1e-6


@dataclass(frozen=True)
class GradientRow:
    """One parameter's derivative.

    Attributes:
        parameter: its name.
        derivative: the symbolic derivative as text, or ``None`` (matrix forms have none).
        symbolic: that derivative evaluated exactly at the point, or ``None`` when
            it has none, the data has too many rows to expand, or it is not finite.
        autodiff: the derivative from automatic differentiation.
        finite_difference: the central finite difference.
    """

    parameter: str
    derivative: str | None
    symbolic: float | None
    autodiff: float
    finite_difference: float


@dataclass(frozen=True)
class GradientReport:
    """The result of :func:`gradient_report`.

    Attributes:
        expression: the loss, normalised.
        at: the point, by parameter name.
        loss: the loss there.
        rows: one :class:`GradientRow` per parameter.
        agree: whether every method agrees (finite differences within their rounding floor).
        max_rel_error: the largest relative difference between autodiff and finite differences.
        notes: what could not be computed, and why.
    """

    expression: str
    at: dict[str, float]
    loss: float
    rows: tuple[GradientRow, ...]
    agree: bool
    max_rel_error: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """Strict-JSON-ready values (non-finite as None)."""
        return plain(
            {
                "expression": self.expression,
                "at": self.at,
                "loss": self.loss,
                "gradient": [vars(row) for row in self.rows],
                "agree": self.agree,
                "max_rel_error": self.max_rel_error,
                "notes": list(self.notes),
            }
        )

    def __repr__(self) -> str:
        where = ", ".join(f"{k}={v:.6g}" for k, v in self.at.items())
        head = f"d/d({', '.join(self.at)}) {self.expression} at {where}: loss {self.loss:.10g}"
        cells = [("parameter", "derivative", "symbolic", "autodiff", "finite diff")]
        for r in self.rows:
            cells.append(
                (
                    r.parameter,
                    r.derivative or "(autodiff only)",
                    _num(r.symbolic),
                    _num(r.autodiff),
                    _num(r.finite_difference),
                )
            )
        lines = [head, *table([list(row) for row in cells], left=2)]
        verdict = "they agree" if self.agree else "they DISAGREE"
        lines.append(f"  {verdict} (largest relative difference {self.max_rel_error:.2g})")
        return "\n".join([*lines, *(f"  note: {n}" for n in self.notes)])


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"


def _point(loss: Expression, at: object) -> dict[str, float]:
    """``at`` as a float per parameter: a dict by name, or a number for a one-parameter loss."""
    if not isinstance(at, Mapping):
        if len(loss.params) != 1:
            raise InputError(f"give the point as a dict of {', '.join(loss.params)}; got {at!r}")
        at = {loss.params[0]: at}
    unknown = [k for k in at if k not in loss.params]
    if unknown:
        raise InputError(
            f"{', '.join(map(str, unknown))} is not a parameter of {loss.text}; it has {loss.params}"
        )
    missing = [p for p in loss.params if p not in at]
    if missing:
        raise InputError(f"give a value for {', '.join(missing)} (as in {missing[0]}=0)")
    from gdlab._checks import number

    return {name: number(name, at[name], positive=False) for name in loss.params}


def _columns(text: str, data: object) -> dict[str, np.ndarray]:
    """The columns of ``data`` (anything :func:`gdlab.as_table` reads) that the loss names."""
    if data is None:
        return {}
    from gdlab._data import as_table, column_names
    from gdlab._expr import mentions

    if isinstance(data, Mapping):
        return dict(data)  # arrays of any shape (the lecture's matrix X) go in as they are
    wanted = [c for c in column_names(data) if mentions(text, c)]
    table = as_table(data, columns=wanted) if wanted else None
    return {} if table is None else {name: table[name] for name in table.names}


def gradient_report(loss: str | Expression, at: Params, *, data: object = None) -> GradientReport:
    """The gradient of a typed loss at a point: symbolic, autodiff and finite differences side by side.

    Args:
        loss: the loss as text (``"(b/2-1)^2"``) or a parsed :class:`~gdlab.Expression`.
        at: the point: a dict by parameter name, or a number for a one-parameter loss.
        data: the data the loss's names refer to (with text only): a dict of arrays, a
            DataFrame, a CSV or Parquet path or ``"cafe"``, as :func:`gdlab.as_table` reads.

    Returns:
        A :class:`GradientReport`.

    Example:
        >>> import gdlab
        >>> report = gdlab.gradient_report("(b/2-1)^2", -10)
        >>> report.rows[0].derivative, report.rows[0].autodiff, report.agree
        ('b/2 - 1', -6.0, True)
    """
    if isinstance(loss, str):
        loss = parse(loss, data=_columns(loss, data))
    elif data is not None:
        raise InputError("data goes with a loss given as text; a parsed Expression has its data bound")
    if not loss.params:
        raise no_parameters(loss)
    point = _point(loss, at)
    where = ", ".join(f"{k}={v:.6g}" for k, v in point.items())
    value = float(scalar_loss(loss)(point))  # one number, or an InputError that says what it is
    if not math.isfinite(value):
        raise InputError(f"the loss is {value} at {where}: choose a point where it is finite")
    check = check_grad(loss.function, point)
    if not np.all(np.isfinite(check.autodiff)):
        raise InputError(f"the gradient is not finite at {where} (a kink or a pole): choose another point")
    rows_of_data = max((len(v) for v in loss.data_values.values() if np.ndim(v) > 0), default=0)
    exact_ok = loss.sympy is not None and rows_of_data <= LIMITS.symbolic_rows
    notes = []
    if loss.sympy is None:
        notes.append(loss.symbolic_note or MATRIX_FORMS)
    elif not exact_ok:
        notes.append(
            f"the data has {rows_of_data:,} rows, more than {LIMITS.symbolic_rows:,}: "
            "the symbolic derivative is not expanded over them"
        )
    rows = []
    for i, name in enumerate(check.names):
        derivative = symbolic = None
        if loss.sympy is not None:
            found = loss.exact_derivative(name)
            if found.note:
                notes.append(f"the derivative by {name}: {found.note}")
            if found.exact is not None:
                derivative = str(found.exact)
            if found.exact is not None and exact_ok:
                data = {k: np.asarray(v) for k, v in loss.data_values.items()}
                symbolic = evaluate(found.exact, point, data)
                symbolic = symbolic if math.isfinite(symbolic) else None
        rows.append(
            GradientRow(name, derivative, symbolic, float(check.autodiff[i]), float(check.numeric[i]))
        )
    exact_agree = all(
        r.symbolic is None or abs(r.symbolic - r.autodiff) <= AGREE * max(1.0, abs(r.autodiff)) for r in rows
    )
    agree = check.passed and exact_agree
    if not np.all(np.isfinite(check.numeric)):
        notes.append(
            "the finite difference overflowed (the loss leaves the floating-point range within a step "
            "of this point), so it cannot check the others here"
        )
    elif not check.passed and exact_agree and any(r.symbolic is not None for r in rows):
        notes.append(
            "symbolic and autodiff agree; the finite difference does not (rounding, or the loss "
            "bends sharply within a step of this point)"
        )
    return GradientReport(loss.text, point, value, tuple(rows), agree, check.max_rel_error, tuple(notes))
