"""Command-line values: parameter settings, ranges and data, read safely."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gdlab._checks import InputError
from gdlab._expr import Expression, ExpressionError, mentions, no_parameters, number, parse


def load_data(source: str | None, text: str, option: str = "--data") -> dict[str, np.ndarray]:
    """The columns of ``source`` (a CSV or Parquet file, or ``cafe``) that the loss ``text`` names."""
    if source is None:
        return {}
    from gdlab._data import as_table, column_names

    try:
        wanted = [c for c in column_names(source) if mentions(text, c)]
        if not wanted:
            return {}  # the loss names no column; its free names are parameters
        table = as_table(source, columns=wanted)
    except InputError as err:
        raise InputError(f"{option} {source}: {err}") from None
    return {name: table[name] for name in table.names}


def expression(text: str, data: dict[str, np.ndarray]) -> Expression:
    """The loss, its data names bound to columns of the same names; it needs a parameter."""
    loss = parse(text, data=data)
    if not loss.params:
        raise no_parameters(loss)
    return loss


def problem(text: str, source: str | None, init: list[str], tol: str | None):
    """What ``run`` and ``sweep`` share: the loss with its data, the start, and the tolerance."""
    loss = expression(text, load_data(source, text))
    return loss, settings(init, loss, "--init"), None if tol is None else number(tol)


def settings(pairs: list[str], expr: Expression, option: str) -> dict[str, float]:
    """``["b=9", "b1=2"]`` (or ``["9"]`` for a single parameter) as a dict of floats."""
    values: dict[str, float] = {}
    for pair in ",".join(pairs).split(","):
        if not pair.strip():
            continue
        name, sep, value = pair.partition("=")
        if not sep:
            if len(expr.params) != 1:
                raise InputError(
                    f"{option} {pair}: name the parameter, as in {option} {expr.params[0]}={pair}"
                )
            name, value = expr.params[0], name
        name = name.strip()
        if name in values:
            raise InputError(f"{option}: {name} is given twice; give each parameter once")
        if name not in expr.params:
            raise InputError(
                f"{option} {pair}: {name!r} is not a parameter of the loss; it has {expr.params}"
            )
        if not value.strip():
            raise InputError(f"{option} {pair}: give a number after =, as in {option} {name}=0")
        values[name] = number(value.strip())
    missing = [p for p in expr.params if p not in values]
    if missing:
        hint = ""
        if expr.data_values:
            columns = ", ".join(expr.data_values)
            hint = f"; if {', '.join(missing)} are data, they are not numeric columns of --data ({columns})"
        elif len(missing) > 1 or missing[0] in ("x", "y", "X"):
            hint = "; if they are data, pass --data FILE.csv (or --data cafe)"
        raise InputError(
            f"{option}: give a value for {', '.join(missing)} (as in {option} {missing[0]}=0){hint}"
        )
    return values


def span(text: str, option: str) -> tuple[float, float]:
    """``"-10:10"`` as (low, high)."""
    low, sep, high = text.partition(":")
    if not sep:
        raise InputError(f"{option} {text}: write a range as low:high, as in -10:10")
    lo, hi = number(low), number(high)
    if not lo < hi:
        raise InputError(f"{option} {text}: the low end must be below the high end")
    return lo, hi


def rates(text: str) -> np.ndarray:
    """``"0.1"``, ``"0.1,0.5,2"``, ``"1e-4:10:log50"`` or ``"0.1:2:20"`` as an array of rates."""
    try:
        return _rates(text)
    except ExpressionError as err:
        raise InputError(f"--lr {text}: {err.args[0]}") from None
    except InputError as err:
        message = str(err)
        raise InputError(message if message.startswith("--lr") else f"--lr {text}: {message}") from None


def _rates(text: str) -> np.ndarray:
    parts = text.split(":")
    if len(parts) == 1:
        if any(not v.strip() for v in text.split(",")):
            raise InputError(f"--lr {text}: a rate is missing between commas; write rates as 0.1,0.5,2")
        return np.array([number(v) for v in text.split(",")], dtype=float)
    if len(parts) != 3:
        raise InputError(f"--lr {text}: write rates as 0.1, as 0.1,0.5,2 or as low:high:log50")
    lo, hi, count = number(parts[0]), number(parts[1]), parts[2].strip()
    log = count.startswith("log")
    try:
        num = int(count[3:] if log else count)
    except ValueError:
        raise InputError(f"--lr {text}: the count must be a whole number, as in 1e-4:10:log50") from None
    from gdlab._sweep import rates as make

    return make(lo, hi, num, log=log)


def value(text: str, option: str) -> float:
    """A number typed for ``option`` (arithmetic such as 0.01/6 is fine), its errors naming the option."""
    try:
        return number(text)
    except ExpressionError as err:
        raise InputError(f"{option} {text}: {err.args[0]}") from None


def whole_number(text: str, option: str, low: int = 0) -> int:
    """A whole number typed for ``option``: 1000, 1e3 or 10**3."""
    from gdlab._checks import whole

    amount = value(text, option)
    if not float(amount).is_integer():
        raise InputError(f"{option} {text}: give a whole number")
    return whole(option, int(amount), low=low)


KINDS = {
    "animation": (".gif", ".mp4", ".html"),
    "picture": (".png", ".svg", ".pdf"),
    "table": (".csv", ".json"),
}


def check_out(out: Path | None, kinds: tuple[str, ...]) -> None:
    """Refuse an --out file gdlab cannot write before any work is done: its format, then its folder."""
    if out is None:
        return
    choices = [ext for kind in kinds for ext in KINDS[kind]]
    if out.suffix.lower() not in choices:
        got = f"{out.suffix} is not supported here" if out.suffix else "the name has no extension"
        raise InputError(f"--out {out}: {got}; use one of {', '.join(choices)}")
    folder = out.parent
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {out}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise InputError(f"--out {out}: the folder {folder} does not exist; create it first")
    if out.is_dir():
        raise InputError(f"--out {out}: it is a folder; give a file name")


__all__ = ["ExpressionError", "check_out", "expression", "load_data", "rates", "settings", "span"]
