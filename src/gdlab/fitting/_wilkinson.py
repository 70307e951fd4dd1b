"""Model formulas in Wilkinson notation (``"y ~ x1 + C(group) + log(x2) + x1:x3"``), read as R
and statsmodels (patsy) read them, without evaluating the user's text.

formulaic's parser reads the grammar (``+``, ``:``, ``*``, ``-1``, ``+0``, ``(a+b)^2`` ...) into
terms of factors; it evaluates nothing. Each factor is then one of:

- a category: ``C(column)``, ``C(column, Treatment(reference="b"))``, or a column holding text,
  treatment-coded against its first level (sorted, as R and patsy sort them) or the reference
  given;
- a number: a column, or an expression of columns (``log(x2)``, ``I(x**2)``, ``x1^2`` inside
  ``I()``) compiled by gdlab's whitelisting expression compiler (:mod:`gdlab._expr`), which
  refuses attribute access, dunder names and calls outside its list.

Which terms are coded in full and which against a reference follows patsy's rule (terms grouped
by their numeric factors, each group's categorical subterms spanned once), so that the columns,
their order and their names (``C(group)[T.b]``, ``x1:C(group)[T.c]``, ``Intercept``) are
statsmodels'. A :class:`Coding` is a formula with the levels found over all the rows; it turns
any block of rows (in memory, streamed, on a worker) into the same design columns.
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlab._categories import Levels, label
from gdlab._checks import LIMITS, InputError

__all__ = ["Coding", "Factor", "Formula", "parse_formula"]

_TREATMENT = "Treatment"
# Columns a formula's design may have (each a coefficient, and a column of every block).
MAX_COLUMNS = 10_000


@dataclass(frozen=True)
class Factor:
    """One factor of a term.

    Attributes:
        code: the factor as the formula writes it (``C(g)``, ``log(x2)``): its name in the
            coefficients' names.
        columns: the columns it reads.
        category: a category's column, or ``None`` for a number.
        reference: a category's reference level as given (``None``: its first level).
        expression: a number's expression for gdlab's compiler (``None``: the column itself).
    """

    code: str
    columns: tuple[str, ...]
    category: str | None = None
    reference: Any = None
    expression: str | None = None


@dataclass(frozen=True)
class Formula:
    """A formula read: its response, its terms (each a tuple of factors) and its intercept."""

    text: str
    response: Factor
    terms: tuple[tuple[Factor, ...], ...]
    intercept: bool

    def columns(self) -> tuple[str, ...]:
        """Every column read, each once, the response's first."""
        found = [*self.response.columns]
        for term in self.terms:
            for factor in term:
                found.extend(factor.columns)
        return tuple(dict.fromkeys(found))

    def categories(self) -> tuple[str, ...]:
        """The columns named as categories (``C(column)``)."""
        return tuple(dict.fromkeys(f.category for t in self.terms for f in t if f.category))

    def bare(self) -> tuple[str, ...]:
        """The columns used as they are (a category if they hold text, as R and patsy read them)."""
        return tuple(
            dict.fromkeys(
                f.columns[0] for t in self.terms for f in t if f.category is None and f.expression is None
            )
        )


def parse_formula(text: object) -> Formula:
    """Read ``text`` (``"y ~ x + C(g)"``) into a :class:`Formula`, checking every factor's
    expression with gdlab's compiler; nothing in it is evaluated.

    Raises:
        InputError: text that is not a formula (naming the problem), no ``~`` or no response,
            several parts (``|``), a factor outside gdlab's expression language (attribute
            access, dunder names, calls outside its list).

    Example:
        >>> f = parse_formula("y ~ x1 * C(g) - 1")
        >>> [":".join(f.code for f in t) for t in f.terms], f.intercept
        (['x1', 'C(g)', 'x1:C(g)'], False)
    """
    if not isinstance(text, str):
        raise InputError(f"a formula is text, such as 'y ~ x + C(g)'; got {text!r}", parameter="formula")
    if len(text) > LIMITS.expression_chars:
        raise InputError(
            f"the formula has {len(text):,} characters; the limit is {LIMITS.expression_chars:,}"
        )
    if "~" not in text:
        raise InputError(
            f"{text!r} has no '~': write the response, then '~', then the terms, as in 'y ~ x + C(g)'",
            parameter="formula",
        )
    sides = _parsed(text)
    lhs = [t for t in sides.lhs]
    if len(lhs) != 1 or len(lhs[0].factors) != 1:
        raise InputError(f"{text!r}: give one response column (or expression of one) left of '~'")
    response = _factor(lhs[0].factors[0], text)
    if response.category is not None:
        raise InputError(f"{text!r}: the response is a number (a 0/1 column for a logistic fit), not C(...)")
    terms, intercept = [], False
    for term in sides.rhs:
        kinds = [str(f.eval_method.value) for f in term.factors]
        if all(k == "literal" for k in kinds):
            if [str(f.expr) for f in term.factors] != ["1"]:
                raise InputError(
                    f"{text!r}: a number alone ({term}) is not a term; write 1 or 0 for the intercept"
                )
            intercept = True
            continue
        terms.append(tuple(_factor(f, text) for f in term.factors))
    return Formula(text, response, tuple(terms), intercept)


_COLOURS = re.compile(r"\x1b\[[0-9;]*m")
_MARKED = re.compile("\u29db(.*?)\u29da")  # the formula parser's marks around the piece it could not read


def _unread(text: str, err: BaseException) -> str:
    """Why the formula parser could not read ``text``, in plain words (no terminal colours, the
    parser's typo mended), with its marked piece underlined by carets as gdlab's expression
    errors underline theirs, and how a formula is written."""
    first, *rest = _COLOURS.sub("", str(err)).split("\n")
    said = first.replace("insuffient", "insufficient").strip().rstrip(".")
    if isinstance(err, SyntaxError):  # Python's words for a term formulaic could not read
        said = "a term is not an expression of columns"
    caret = ""
    for line in rest:
        found = _MARKED.search(line)
        if found is not None:
            plain = _MARKED.sub(lambda m: m.group(1), line)
            shown = " " * found.start() + "^" * max(1, len(found.group(1)))
            caret = f"\n  {plain}\n  {shown}"
            break
    return (
        f"{text!r} is not a formula gdlab reads ({said}): write it as 'y ~ x1 + x2', the response, "
        f"'~', then terms joined by '+', each a column, C(column) or an expression of columns{caret}"
    )


def _parsed(text: str) -> Any:
    from formulaic.errors import FormulaicError
    from formulaic.parser import DefaultFormulaParser

    try:
        sides = DefaultFormulaParser().get_terms(text)
    except (FormulaicError, ValueError, TypeError, SyntaxError, RecursionError) as err:
        said = _unread(text, err)
        model = _as_model(text)
        if model is None:
            raise InputError(said, parameter="formula") from None
        response, right, names = model
        raise InputError(
            lambda s: (
                f"{said}\nIf {names} are parameters to fit, the formula is a model, not terms: give "
                f"{s.setting('y', response, quoted=True)} and {s.setting('model', right, quoted=True)}"
            ),
            parameter="formula",
        ) from None
    if not hasattr(sides, "lhs") or not hasattr(sides, "rhs") or not hasattr(sides.rhs, "__iter__"):
        raise InputError(
            f"{text!r}: give one formula 'y ~ terms' (several parts, with '|', are not read)",
            parameter="formula",
        )
    if any(not hasattr(t, "factors") for t in [*sides.lhs, *sides.rhs]):
        raise InputError(
            f"{text!r}: give one formula 'y ~ terms' (several parts are not read)", parameter="formula"
        )
    return sides


def _as_model(text: str) -> tuple[str, str, str] | None:
    """``y ~ expression`` read as a model with parameters (``y ~ b1*(1-exp(-b2*t))``, which the
    formula parser refuses as terms): its response, its right side and the names it holds (some
    of them parameters), where gdlab's compiler reads the right side as one expression of names."""
    from gdlab._expr import ExpressionError, numeric_form, parse

    left, _, right = text.partition("~")
    response, right = left.strip(), right.strip()
    if not response.isidentifier() or not right:
        return None
    try:
        compiled = numeric_form(right) or parse(right)
    except (ExpressionError, InputError):
        return None
    names = list(compiled.params)
    if not names:
        return None
    listed = ", ".join(repr(n) for n in names[:-1]) + (" or " if len(names) > 1 else "") + repr(names[-1])
    return response, right, f"some of {listed}" if len(names) > 1 else listed


def _factor(factor: Any, text: str) -> Factor:
    code, how = str(factor.expr), str(factor.eval_method.value)
    if how == "lookup" and (code.isidentifier() and not code.startswith("__")):
        return Factor(code, (code,))
    if how == "literal":
        raise InputError(f"{text!r}: a number ({code}) inside a term; numbers go inside I(...), as I(2*x)")
    if re.match(r"^\s*C\s*\(", code):
        return _category(code, text)
    inner = re.match(r"^\s*I\s*\((.*)\)\s*$", code, re.S)
    expression = inner.group(1) if inner else code
    from gdlab._expr import numeric_form, parse

    # both refuse attribute access, dunder names and unknown calls; the NumPy form needs no JAX
    compiled = numeric_form(expression) or parse(expression)
    if not compiled.params:
        raise InputError(f"{text!r}: the factor {code} reads no column")
    return Factor(code, compiled.params, expression=expression)


def _category(code: str, text: str) -> Factor:
    """``C(column)`` or ``C(column, Treatment(reference=level))``, read by its syntax tree alone."""
    wrong = InputError(
        f"{text!r}: {code} is not a category gdlab reads: write C(column), or "
        "C(column, Treatment(reference='level')) for another reference level",
        parameter="formula",
    )
    try:
        call = ast.parse(code.strip(), mode="eval").body
    except SyntaxError:
        raise wrong from None
    if not (isinstance(call, ast.Call) and not call.keywords and 1 <= len(call.args) <= 2):
        raise wrong
    column = call.args[0]
    if not isinstance(column, ast.Name) or column.id.startswith("__"):
        raise wrong
    reference = None
    if len(call.args) == 2:
        reference = _reference(call.args[1], wrong)
    return Factor(code, (column.id,), category=column.id, reference=reference)


def _reference(node: ast.AST, wrong: InputError) -> Any:
    if isinstance(node, ast.Name) and node.id == _TREATMENT:
        return None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == _TREATMENT):
        raise wrong
    given = [*node.args, *(k.value for k in node.keywords if k.arg == "reference")]
    if len(given) != 1 or len(node.args) + len(node.keywords) != 1 or not isinstance(given[0], ast.Constant):
        raise wrong
    value = given[0].value
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise wrong
    return value


# --- the design: which columns, named how --------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the design: its name and, per factor of its term, the level it indicates
    (``None`` for a number); no factors for the intercept."""

    name: str
    parts: tuple[tuple[Factor, int | None], ...]


@dataclass(frozen=True)
class Coding:
    """A formula with its categories' levels: the design's columns, for any block of rows.

    Attributes:
        formula: the formula.
        levels: each category's levels (found over all the rows).
        columns: the design's columns, in statsmodels' order and with its names.
    """

    formula: Formula
    levels: dict[str, Levels]
    columns: tuple[Column, ...]

    @classmethod
    def of(cls, formula: Formula, levels: dict[str, Levels]) -> Coding:
        terms = tuple(tuple(_as_category(f, levels) for f in term) for term in formula.terms)
        formula = Formula(formula.text, formula.response, terms, formula.intercept)
        for term in terms:
            for factor in term:
                if factor.category is not None:
                    _reference_level(factor, levels[factor.category])
        return cls(formula, dict(levels), _columns(formula, levels))

    @property
    def names(self) -> tuple[str, ...]:
        """The coefficients' names, ``Intercept`` first when fitted."""
        return tuple(c.name for c in self.columns)

    def references(self) -> list[str]:
        """Each category's reference level, in words, for the summary."""
        said = {}
        for term in self.formula.terms:
            for factor in term:
                if factor.category is not None and factor.code not in said:
                    levels = self.levels[factor.category]
                    ref = levels[_reference_level(factor, levels)]
                    said[factor.code] = (
                        f"{factor.code}: reference level {label(ref)!r} ({len(levels)} levels)"
                    )
        return list(said.values())

    def response(self, columns: dict[str, np.ndarray], count: int) -> np.ndarray:
        """The response of a block's first ``count`` rows."""
        return _number(self.formula.response, columns, count, 0)

    def design(
        self, columns: dict[str, np.ndarray], count: int, start: int = 0, *, finite: bool = True
    ) -> list[np.ndarray]:
        """The design's columns (the intercept's ones included) of a block's first ``count`` rows
        (``start``: the block's first row in the data, for messages). A term that is not a finite
        number at a row (a log of a negative number) is refused, unless not ``finite`` (new rows to
        predict, which predict NaN there)."""
        numbers: dict[str, np.ndarray] = {}
        out = []
        for column in self.columns:
            value = np.ones(count)
            for factor, level in column.parts:
                if level is None:
                    if factor.code not in numbers:
                        numbers[factor.code] = _number(factor, columns, count, start, finite)
                    value = value * numbers[factor.code]
                else:
                    value = value * (columns[str(factor.category)][:count] == level)
            out.append(value)
        return out


def _as_category(factor: Factor, levels: dict[str, Levels]) -> Factor:
    """A bare column that holds text is a category (as R and patsy read it)."""
    if factor.category is None and factor.expression is None and factor.columns[0] in levels:
        return Factor(factor.code, factor.columns, category=factor.columns[0])
    return factor


def _reference_level(factor: Factor, levels: Levels) -> int:
    if not levels:
        raise InputError(f"{factor.code}: the column {factor.category!r} holds no value in the rows fitted")
    if factor.reference is None:
        return 0
    for i, level in enumerate(levels):
        if level == factor.reference or label(level) == str(factor.reference):
            return i
    shown = ", ".join(repr(label(v)) for v in levels[:20])
    raise InputError(
        f"{factor.code}: reference level {factor.reference!r} is not one of the levels ({shown})"
    )


def _number(
    factor: Factor, columns: dict[str, np.ndarray], count: int, start: int, finite: bool = True
) -> np.ndarray:
    if factor.expression is None:
        values = np.asarray(columns[factor.code][:count], dtype=np.float64)
    else:
        data = {c: np.asarray(columns[c][:count], dtype=np.float64) for c in factor.columns}
        values = _evaluated(factor.expression, data, count)
    bad = ~np.isfinite(values)
    if finite and bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"{factor.code} is {values[row]} at row {start + row}: a fit needs finite numbers "
            "(a log of 0 or of a negative number? leave those rows out of the data)"
        )
    return values


def _evaluated(expression: str, data: dict[str, np.ndarray], count: int) -> np.ndarray:
    """A factor's expression of columns on ``count`` rows: by its NumPy form (no JAX), or where it
    has none (a reduction over the rows) by the compiled expression. Both are kept per text (in
    this process, a worker's too), so a streamed fit compiles an expression once, not once a block.
    A value outside a function's domain is NaN (refused by the caller, naming its row)."""
    from gdlab._expr import numeric_form

    form = numeric_form(expression, tuple(data))
    if form is not None and not form.params:
        with np.errstate(all="ignore"):
            found = form.function(dict(data))
    else:
        from gdlab._loss import as_loss

        found = as_loss(expression).function(data)
    return np.broadcast_to(np.asarray(found, dtype=np.float64), (count,))


def _columns(formula: Formula, levels: dict[str, Levels]) -> tuple[Column, ...]:
    """patsy's columns: terms grouped by their numeric factors (the group without any first),
    by degree within a group, each term's categorical subterms spanned once per group."""
    terms = [(), *formula.terms] if formula.intercept else list(formula.terms)
    buckets: dict[frozenset, list] = {}
    for term in terms:
        key = frozenset(f.code for f in term if f.category is None)
        buckets.setdefault(key, []).append(term)
    order = sorted(buckets, key=lambda k: (bool(k), list(buckets).index(k)))
    out: list[Column] = []
    for key in order:
        used: set[frozenset] = set()
        for term in sorted(buckets[key], key=len):
            for subterm in _subterms([f for f in term if f.category is not None], used):
                out.extend(_subterm_columns(term, subterm, levels))
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"{formula.text!r}: the term(s) {', '.join(twice)} appear twice")
    return tuple(out)


def _subterms(categorical: list[Factor], used: set[frozenset]) -> list[dict[str, bool]]:
    """patsy's ``pick_contrasts_for_term``: each subset of the categorical factors not yet
    spanned, then simplified greedily (``a-`` beside ``a-:b-`` becomes ``a-:b+``); each subterm
    maps a factor's code to whether it is coded in full (True) or against its reference."""
    subsets = [
        frozenset(f.code for f in combo)
        for size in range(len(categorical) + 1)
        for combo in itertools.combinations(categorical, size)
    ]
    fresh = [s for s in subsets if s not in used]
    used.update(fresh)
    subterms = [frozenset((code, False) for code in s) for s in fresh]
    while True:
        for i, short in enumerate(subterms):
            for j in range(i + 1, len(subterms)):
                long = subterms[j]
                if len(long) - len(short) == 1 and long >= short:
                    ((code, _),) = long - short
                    subterms[j] = frozenset({*short, (code, True)})
                    subterms.pop(i)
                    break
            else:
                continue
            break
        else:
            return [dict(s) for s in subterms]


def _subterm_columns(
    term: tuple[Factor, ...], subterm: dict[str, bool], levels: dict[str, Levels]
) -> list[Column]:
    """A subterm's columns: the product of its factors' columns, the first factor's varying
    fastest (as patsy orders them), named as patsy names them."""
    choices: list[list[tuple[Factor, int | None, str]]] = []
    for factor in term:
        if factor.category is None:
            choices.append([(factor, None, factor.code)])
            continue
        if factor.code not in subterm:
            continue
        kept = levels[factor.category]
        reference = _reference_level(factor, kept)
        full = subterm[factor.code]
        choices.append(
            [
                (factor, i, f"{factor.code}[{'' if full else 'T.'}{label(level)}]")
                for i, level in enumerate(kept)
                if full or i != reference
            ]
        )
    if not term:
        return [Column("Intercept", ())]
    size = int(np.prod([len(c) for c in choices]))
    if size > MAX_COLUMNS:
        written = ":".join(f.code for f in term)
        raise InputError(
            f"the term {written} makes {size:,} columns (the product of its categories' levels); "
            f"a design may have {MAX_COLUMNS:,}: leave out the interaction, or a category with many levels"
        )
    out = []
    for combo in itertools.product(*reversed(choices)):
        parts = tuple(reversed(combo))
        out.append(Column(":".join(p[2] for p in parts), tuple((p[0], p[1]) for p in parts)))
    return out


# --- a fit of a formula ----------------------------------------------------------------------

# The design's columns as the fit of y= and x= reads them: names that no user column takes.
_INTERNAL = "_design{}_"


@contextlib.contextmanager
def _model_hint(read: Formula) -> Iterator[None]:
    """A missing column of a formula with an expression or a product (``a`` in ``y ~ a*exp(-k*t)``,
    ``y ~ a*t``) is likely a parameter: the refusal says where a model with parameters goes."""
    try:
        yield
    except InputError as err:
        said = str(err)
        factors = [factor for term in read.terms for factor in term]
        missing = [c for f in factors for c in f.columns if f"no column {c!r}" in said]
        # an expression of it (a*exp(-k*t)), or a product with it (a*t): a parameter, more likely
        # than a misspelt column (a missing column alone, y ~ q, is only that)
        if missing and any(f.expression is not None or len(term) > 1 for term in read.terms for f in term):
            model, response, name = read.text.split("~", 1)[1].strip(), read.response.code, missing[0]
            raise InputError(
                lambda s: (
                    f"{said}. If {name!r} is a parameter to fit, the formula is a model, not terms: give "
                    f"{s.setting('y', response, quoted=True)} and {s.setting('model', model, quoted=True)}"
                ),
                parameter="formula",
            ) from None
        raise


def fit_formula_terms(data: Any, formula: str, fit: Any, settings: dict[str, Any]) -> Any:
    """``fit(data, formula, ...)``: the levels found over all the rows, the design's columns made
    from each block of rows, and the fit of those by ``fit(..., y=, x=)``, wherever the rows are;
    the result names its coefficients as statsmodels does and keeps the coding for predictions."""
    import dataclasses

    from gdlab._data import Table
    from gdlab._files import table_size
    from gdlab.data import Where, find_levels, open_source, where

    read = parse_formula(formula)
    extra = [settings.get(k) for k in ("weights", "trials", "groups")]
    offset = settings.get("offset")
    columns = [*read.columns(), *(c for c in extra if c)]
    if offset:
        from gdlab._expr import parse

        columns += [offset] if offset.isidentifier() else list(parse(offset).params)
    columns = list(dict.fromkeys(columns))
    client, stream, dropna = settings.get("client"), settings.get("stream"), bool(settings.get("dropna"))
    groups = settings.get("groups")
    text_only = (*read.bare(), *([groups] if groups else []))  # cluster labels may be text
    with _model_hint(read):
        levels = find_levels(data, read.categories(), text_only, client=client, stream=stream)
    coding = Coding.of(read, {k: v for k, v in levels.items() if k != groups or k in read.columns()})
    internal = {_INTERNAL.format(j): c.name for j, c in enumerate(coding.columns) if c.parts}
    if not internal:  # 'y ~ 1' (or 'y ~ 0'): no term besides the intercept
        raise InputError(
            f"the formula {formula!r} has no regressor: a fit of the intercept alone is the mean of "
            f"{read.response.code!r} (its standard error the standard deviation over sqrt(n)); "
            "add a term, as in 'y ~ x'"
        )
    y_name = _INTERNAL.format("y")
    fitted = dict(settings)
    fitted.update(intercept=read.intercept, y=y_name, x=list(internal))
    place = where(data, client=client, stream=stream)
    with _model_hint(read):
        source = open_source(
            data, columns=columns, dropna=dropna, client=client, stream=stream, categories=levels
        )
    design = DesignColumns(coding, y_name, tuple(internal))
    if place is Where.MEMORY:
        table = source.table()
        table_size(table.n, len(coding.columns) + len(columns), LIMITS.table_numbers, "the formula's design")
        made = design(dict(table.columns), table.n)
        made.update({c: table[c] for c in columns if c not in made})
        found = _renamed(lambda: fit(made, **fitted), internal, _response_name(read))
        # the fit's rows as its picture reads them: the response, the design's columns by name, and
        # the columns the terms read (a formula of one number, 'y ~ log(x)', is drawn over it)
        named = {_response_name(read): made[y_name], **{internal[k]: made[k] for k in internal}}
        named.update(
            {c: table[c] for c in read.columns() if c not in read.response.columns and c not in named}
        )
        drawn = (
            Table(named, table.n, table.dropped, table.source, table.dtype)
            if found._data is not None
            else None
        )
        found = dataclasses.replace(found, dropped=table.dropped, _data=drawn)
    else:
        from gdlab.data import derived

        fitted.pop("dtype", None)
        found = _renamed(lambda: fit(derived(source, design), **fitted), internal, _response_name(read))
    names = tuple(internal.get(n, n) for n in found.names)
    if read.intercept:
        names = ("Intercept", *names[1:])
    warnings = tuple(_named(w, internal, _response_name(read)) for w in found.warnings)
    return dataclasses.replace(found, y=_response_name(read), names=names, warnings=warnings, terms=coding)


def _response_name(formula: Formula) -> str:
    return formula.response.code


@dataclass(frozen=True)
class DesignColumns:
    """A block's columns with the design's added: the response as ``y`` and each column of the
    design under its internal name (picklable: sent to a cluster's workers with each pass)."""

    coding: Coding
    y: str
    x: tuple[str, ...]

    def __call__(self, columns: dict[str, np.ndarray], count: int, start: int = 0) -> dict[str, np.ndarray]:
        made = self.coding.design(columns, count, start)
        if self.coding.formula.intercept:
            made = made[1:]
        out = dict(columns)
        size = len(next(iter(columns.values())))
        out[self.y] = _padded(self.coding.response(columns, count), size)
        out.update({name: _padded(v, size) for name, v in zip(self.x, made, strict=True)})
        return out


def _padded(values: np.ndarray, size: int) -> np.ndarray:
    """A block's first rows' values, padded (with the first row's) to the block's length."""
    if len(values) == size:
        return np.ascontiguousarray(values)
    out = np.empty(size)
    out[: len(values)] = values
    out[len(values) :] = values[0] if len(values) else 0.0
    return out


def _rename(text: Any, internal: dict[str, str]) -> Any:
    if not isinstance(text, str):
        return text
    for mine, name in internal.items():
        text = text.replace(mine, name)
    return text


def _named(text: Any, internal: dict[str, str], response: str) -> Any:
    """A warning or an error of the fit of the design, naming its columns and its response as the
    formula names them (``'_designy_' is constant`` is ``'log(y)' is constant``)."""
    if not isinstance(text, str):
        return text
    return _rename(text, internal).replace(_INTERNAL.format("y"), response)


def _renamed(run: Any, internal: dict[str, str], response: str) -> Any:
    """``run()``, its errors naming the design's columns and the response as the formula names them."""
    try:
        return run()
    except InputError as err:
        said = str(err)
        if not any(mine in said for mine in [*internal, _INTERNAL.format("y")]):
            raise
        words = err.words

        if words is None:
            raise InputError(_named(said, internal, response), parameter=err.parameter) from None
        raise InputError(lambda s: _named(words(s), internal, response), parameter=err.parameter) from None
