"""Command-line values: parameter settings, ranges and data, read safely, and the library's
words for its arguments spelled as the command line's options."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np

from gdlab._checks import LIMITS, InputError, Spelling, closest, unknown
from gdlab._expr import Expression, ExpressionError, no_parameters, number, parse
from gdlab._numbers import read_number, read_rates, read_whole


def load_data(source: str | None, text: str, option: str = "--data") -> dict[str, np.ndarray]:
    """The columns of ``source`` (a CSV or Parquet file, or ``cafe``) that the loss ``text`` names.

    ``X``, when the loss names it and the data has no such column, is the lecture's design
    matrix: a column of ones, then every other column the loss does not name (for
    ``(y - X@beta).T @ (y - X@beta)`` on the cafe data: ones and x).
    """
    from gdlab._bind import loss_data

    try:
        return loss_data(source, text)
    except InputError as err:  # a message that names the file already says where
        where = option if str(source) in str(err) else f"{option} {source}"
        raise InputError(f"{where}: {err}") from None


def expression(text: str, data: dict[str, np.ndarray]) -> Expression:
    """The loss, its data names bound to columns of the same names; it needs a parameter."""
    loss = parse(text, data=data)
    if not loss.params:
        raise no_parameters(loss)
    return loss


def problem(text: str, source: str | None, init: list[str], tol: str | None):
    """What ``run`` and ``sweep`` share: the loss with its data, the start, and the tolerance."""
    loss = expression(text, load_data(source, text))
    start = computable(loss, settings(init, loss, "--init", source=source), "--init")
    return loss, start, None if tol is None else value(tol, "--tol")


def computable(loss: Expression, values: dict, option: str, vectors: bool = True) -> dict:
    """``values`` once the loss is known to compute at them: shapes that do not fit are an input error."""
    from gdlab._bind import check_start

    try:
        check_start(loss, values)
    except InputError as err:
        hint = "" if vectors or "@" not in loss.text else ", which only run and sweep take"
        raise InputError(err.spelled(CliSpelling(option)) + hint) from None
    return values


def data_columns(source: str | None) -> tuple[str, ...]:
    """The columns of ``--data`` (its header only), to suggest one for a misspelt name."""
    if source is None:
        return ()
    from gdlab._data import column_names

    try:
        return tuple(str(c) for c in column_names(source))
    except (InputError, OSError):  # the data were read already; a refusal here would say nothing new
        return ()


def settings(
    pairs: list[str], expr: Expression, option: str, vectors: bool = True, source: str | None = None
) -> dict[str, float | np.ndarray]:
    """``["b=9", "b1=2"]`` (or ``["9"]`` for a single parameter) as a dict of floats; a vector
    parameter is written in brackets, ``beta=[9,2]``. ``source``: ``--data``, whose columns (read
    only when a value is missing) suggest the column a misspelt name in the loss meant."""
    values: dict[str, float | np.ndarray] = {}
    for pair in _pairs(",".join(pairs)):
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
            raise not_a_parameter(option, pair, name, expr.params)
        if not value.strip():
            raise InputError(f"{option} {pair}: give a number after =, as in {option} {name}=0")
        _one_value(option, pair, value)
        values[name] = _setting(value.strip(), f"{option} {pair.strip()}", vectors)
    missing = [p for p in expr.params if p not in values]
    if missing:
        hint = ""
        columns = data_columns(source)
        unused = [c for c in columns if c not in expr.data_values]
        near = {p: closest(p, unused, cutoff=0.75) for p in missing}
        meant = [f"{p} -> {found}" for p, found in near.items() if found]
        if meant:
            hint = f"; or, if the loss means columns of --data, fix their names ({', '.join(meant)})"
        elif expr.data_values or columns:
            listed = ", ".join(columns or expr.data_values)
            hint = f"; if {', '.join(missing)} are data, they are not columns of --data (it has {listed})"
        elif len(missing) > 1 or missing[0] in ("x", "y", "X"):
            hint = "; if they are data, pass --data FILE.csv (or --data cafe)"
        raise InputError(
            f"{option}: give a value for {', '.join(missing)} (as in {option} {missing[0]}=0){hint}"
        )
    return values


def starts(pairs: list[str], option: str = "--init") -> dict[str, float]:
    """``["b1=500,b2=1e-4"]`` as a dict of numbers, each named: the starts of a formula whose
    parameters the library finds (``fit --model``), so unlike :func:`settings` it needs no loss."""
    values: dict[str, float] = {}
    for pair in ",".join(pairs).split(","):
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(f"{option} {pair}: write name=value, as in {option} b1=500,b2=1e-4")
        _one_value(option, pair, text)
        values[name.strip()] = _number_for(text, f"{option} {pair.strip()}")
    return values


def _one_value(option: str, pair: str, value: str) -> None:
    """Refuse a value that holds another setting (``a=1 b=3``: separated by a space, not a comma)."""
    if "=" in value:
        joined = re.sub(r"\s+", ",", pair.strip())
        raise InputError(f"{option} {pair.strip()}: separate the values with commas, as in {option} {joined}")


def not_a_parameter(option: str, pair: str, name: str, params: tuple[str, ...]) -> InputError:
    """The error for a setting of a name the loss does not have, with the nearest parameter."""
    close = closest(name, params, cutoff=0.5)
    hint = f"did you mean {close}? " if close else ""
    return InputError(
        f"{option} {pair}: {name!r} is not a parameter of the loss; {hint}its parameters: {', '.join(params)}"
    )


def _pairs(text: str) -> list[str]:
    """``"b0=9,beta=[1,2]"`` split at the commas outside brackets."""
    pairs, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char == "[") - (char == "]")
        if char == "," and depth == 0:
            pairs.append(text[start:i])
            start = i + 1
    return [*pairs, text[start:]]


def _setting(text: str, where: str, vectors: bool) -> float | np.ndarray:
    """One parameter's value: a number, or a vector of numbers in brackets."""
    if not (text.startswith("[") and text.endswith("]")):
        return _number_for(text, where)
    if not vectors:
        raise InputError(f"{where}: this command takes one number per parameter; run and sweep take vectors")
    parts = text[1:-1].split(",")
    if len(parts) > LIMITS.expression_chars:
        raise InputError(f"{where}: a vector may have at most {LIMITS.expression_chars:,} numbers")
    return np.array([_number_for(part, where) for part in parts], dtype=float)


def span(text: str, option: str) -> tuple[float, float]:
    """``"-10:10"`` as (low, high)."""
    low, sep, high = text.partition(":")
    if not sep:
        raise InputError(f"{option} {text}: write a range as low:high, as in -10:10")
    lo, hi = (_number_for(end, f"{option} {text}") for end in (low, high))
    if not lo < hi:
        raise InputError(f"{option} {text}: the low end must be below the high end")
    return lo, hi


def rates(text: str, option: str = "--lr", count: int | None = None) -> np.ndarray:
    """``"0.1"``, ``"0.1,0.5,2"``, ``"1e-4:10:log50"`` or ``"0.1:2:20"`` as an array of rates; with
    ``count``, ``"1e-4:10"`` too (``count`` log-spaced rates). A list is read by the library's rule
    (:func:`gdlab._numbers.read_rates`), as the lab page reads its rates box."""
    if ":" not in text:
        if text.count(",") >= LIMITS.rates:  # said before echoing (or reading) a long list
            raise InputError(f"{option}: {text.count(',') + 1:,} rates; at most {LIMITS.rates:,} are allowed")
        try:
            return np.array(read_rates(text, LIMITS.rates), dtype=float)
        except InputError as err:
            raise InputError(f"{option} {text}: {err}") from None
    lo, hi, num, log = _spaced(text, option, count, ("rate", "rates"), log=True)
    if not 0 < lo < hi:
        raise InputError(f"{option} {text}: write low:high:count with 0 < low < high, as in 1e-4:10:log50")
    from gdlab._sweep import rates as make

    return make(lo, hi, num, log=log)


def momenta(text: str, option: str = "--momenta", count: int = 50) -> np.ndarray:
    """``"0.9"``, ``"0,0.5,0.9"``, ``"0:0.99"`` (``count`` even values) or ``"0:0.99:20"`` as an array
    of momenta, each in [0, 1)."""
    lo, hi, num, log = _spaced(text, option, count, ("momentum", "momenta"), log=False)
    values = np.asarray(lo) if num is None else np.array([])
    if num is not None:
        if not lo < hi:
            raise InputError(f"{option} {text}: the low end must be below the high end, as in 0:0.99")
        values = np.geomspace(lo, hi, num) if log else np.linspace(lo, hi, num)
    outside = values[(values < 0) | (values >= 1)]
    if outside.size:
        raise InputError(
            f"{option} {text}: every momentum must be in [0, 1) (0 is none, 1 would never forget); "
            f"{outside[0]:g} is not"
        )
    return values


def _spaced(text: str, option: str, count: int | None, nouns: tuple[str, str], *, log: bool) -> tuple:
    """A list of numbers ``(values, None, None, False)``, or a range ``(low, high, count, log)``:
    ``low:high:count`` (even), ``low:high:logcount`` (log-spaced), or with a default ``count``
    (spaced as ``log`` says) ``low:high``. ``nouns``: what one value and several are called."""
    one, several = nouns
    parts = text.split(":")
    if len(parts) == 1:
        if text.count(",") >= LIMITS.rates:  # before reading each one
            raise InputError(
                f"{option}: {text.count(',') + 1:,} {several}; at most {LIMITS.rates:,} are allowed"
            )
        if any(not v.strip() for v in text.split(",")):
            raise InputError(
                f"{option} {text}: a {one} is missing between commas; write {several} as 0.1,0.5,2"
            )
        values = [_number_for(v, f"{option} {text}") for v in text.split(",")]
        return np.array(values, dtype=float), None, None, False
    if len(parts) == 2 and count is not None:
        lo, hi = (_number_for(end, f"{option} {text}") for end in parts)
        return lo, hi, count, log
    if len(parts) != 3:
        two = ", as low:high" if count is not None else ""
        raise InputError(f"{option} {text}: write {several} as 0.1, as 0.1,0.5,2{two} or as low:high:log50")
    lo, hi = (_number_for(end, f"{option} {text}") for end in parts[:2])
    spaced = parts[2].strip()
    logged = spaced.startswith("log")
    try:
        number(spaced[3:] if logged else spaced)
    except ExpressionError:
        raise InputError(
            f"{option} {text}: the count {spaced!r} is not a number; write low:high:count, "
            "as in 1e-4:10:log50 (log-spaced) or 0.1:2:20 (even)"
        ) from None
    num = _whole_for(
        spaced[3:] if logged else spaced, f"{option} {text}", f"the number of {several}", 1, LIMITS.rates
    )
    return lo, hi, num, logged


def value(text: str, option: str) -> float:
    """A number typed for ``option`` (arithmetic such as 0.01/6 is fine), its errors naming the option."""
    return _number_for(text, f"{option} {text}")


def whole_number(
    text: str, option: str, noun: str | None = None, low: int = 0, high: int = LIMITS.steps
) -> int:
    """A whole number typed for ``option`` (1000, 1e3, 10**3, 2*500) from ``low`` to ``high``; ``noun``
    says what it counts in an error (by default "the number of steps" for ``--steps``)."""
    noun = noun or f"the number of {option.lstrip('-').replace('-', ' ')}"
    return _whole_for(text, f"{option} {text}", noun, low, high)


def _number_for(text: str, where: str) -> float:
    """``text`` as a number (the library's rule, :func:`gdlab._numbers.read_number`); an error
    starts with ``where`` (the option and what was typed)."""
    try:
        return read_number(text)
    except InputError as err:
        several = "; gdlab sweep takes several rates" if "," in text and where.startswith("--lr") else ""
        raise InputError(f"{where}: {err}{several}") from None


def _whole_for(text: str, where: str, noun: str, low: int, high: int) -> int:
    """A whole number in ``[low, high]`` (:func:`gdlab._numbers.read_whole`), its errors after ``where``."""
    try:
        return read_whole(text, noun, low, high)
    except InputError as err:
        raise InputError(f"{where}: {err}") from None


def method(name: str, choices: tuple[str, ...]) -> str:
    """A method's name, checked here so that a typo is answered with the nearest name."""
    key = name.strip().lower()
    if key in choices:
        return key
    raise unknown("method", name, choices)


class CliSpelling(Spelling):
    """The library's parameters named as this command line's options: ``--tol``, ``--steps 100``.

    ``start`` names the option that gave the start (``--init``; ``--at`` for grad and grid).
    """

    def __init__(self, start: str = "--init"):
        self.start = start

    def name(self, param: str, words: str | None = None) -> str:
        return self.start if param == "init" else OPTIONS.get(param, param)

    def setting(self, param: str, value: object, *, quoted: bool = False) -> str:
        option = self.name(param)
        if value is True:  # a flag: --dropna, --stream
            return option
        if value is False:  # --no-intercept
            return f"--no-{option.removeprefix('--')}"
        if isinstance(value, dict):  # --init a=1,k=0.1, as the option is typed
            value = ",".join(
                f"{k}={v:g}" if isinstance(v, float | int) else f"{k}={v}" for k, v in value.items()
            )
        if isinstance(value, str):  # as a shell reads it: --model 'b1*(1-exp(-b2*t))'
            value = shlex.quote(value)
        return f"{option} {value}"

    def value(self, param: str, value: object) -> str:
        return f"{self.name(param)} {value}"

    def several(self, param: str) -> str:
        return f"(repeat {self.name(param)}, or {param}1,{param}2)"

    def function(self, name: str) -> str:
        return name  # a typed loss writes sum(...), not jnp.sum(...)

    def picture(self, what: str) -> str:
        return f"--out {what}.png"


CLI = CliSpelling()

# The library's keyword arguments, as this command line spells its options.
OPTIONS = {
    "tol": "--tol",
    "dropna": "--dropna",
    "stream": "--stream",
    "intercept": "--intercept",
    "rcond": "--rcond",
    "model": "--model",
    "steps": "--steps",
    "lr": "--lr",
    "lrs": "--lr",
    "momenta": "--momenta",
    "init": "--init",
    "inits": "--init",
    "num": "--num",
    "method": "--method",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "seed": "--seed",
    "frames": "--frames",
    "x": "--x",
    "y": "--y",
    "family": "--family",
    "cov": "--cov",
    "groups": "--groups",
    "trials": "--trials",
    "weights": "--weights",
    "offset": "--offset",
    "lang": "--lang",
    "out": "--out",
}
KINDS = {
    "animation": (".gif", ".mp4", ".html"),
    "picture": (".png", ".svg", ".pdf"),
    "table": (".csv", ".json"),
}


def check_out(out: Path | None, kinds: tuple[str, ...], lang: str = "en") -> None:
    """Refuse an --out file gdlab cannot write before any work is done: its format, then its folder,
    and a --lang its picture has no words for (:data:`gdlab._checks.LANGUAGES`)."""
    if out is None:
        return
    choices = [ext for kind in kinds for ext in KINDS[kind]]
    if out.suffix.lower() not in choices:
        got = f"{out.suffix} is not supported here" if out.suffix else "the name has no extension"
        other = next((kind for kind, exts in KINDS.items() if out.suffix.lower() in exts), None)
        close = closest(out.suffix.lower(), choices) if other is None else None
        hint = f" (did you mean {close}?)" if close else ""
        if other is not None:  # fit.csv: another command's format, not a misspelt one of these
            hint = (
                f" (it is {'an' if other[0] in 'aeiou' else 'a'} {other}, which this command does not write)"
            )
        raise InputError(f"--out {out}: {got}{hint}; use one of {', '.join(choices)}")
    folder = out.parent
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {out}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise InputError(f"--out {out}: the folder {folder} does not exist; create it first")
    if out.is_dir():
        raise InputError(f"--out {out}: it is a folder; give a file name")
    from gdlab._checks import LANGUAGES, unknown

    if lang not in LANGUAGES:
        raise unknown("lang", lang, LANGUAGES)


__all__ = [
    "CLI",
    "CliSpelling",
    "ExpressionError",
    "check_out",
    "expression",
    "load_data",
    "method",
    "momenta",
    "rates",
    "settings",
    "span",
    "starts",
    "value",
    "whole_number",
]
