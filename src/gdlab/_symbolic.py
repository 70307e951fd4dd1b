"""SymPy pieces for data: sums and means over the rows, which differentiate term by term."""

from __future__ import annotations

import sympy


class _OverRows(sympy.Function):
    """A linear reduction over the data's rows (data names stand for one row)."""

    nargs = 1
    word = ""  # how it prints
    latex_word = ""

    def _eval_derivative(self, symbol):
        return type(self)(sympy.diff(self.args[0], symbol))

    def _latex(self, printer):
        return self.latex_word + r" \left(" + printer._print(self.args[0]) + r"\right)"

    def _sympystr(self, printer):
        return f"{self.word}({printer._print(self.args[0])})"

    def _pretty(self, printer):
        return printer._print_Function(self, func_name=self.word)


class DataSum(_OverRows):
    """The sum of an expression over the rows of the data."""

    word, latex_word = "sum", r"\sum_i"


class DataMean(_OverRows):
    """The mean of an expression over the rows of the data."""

    word, latex_word = "mean", r"\operatorname{mean}_i"


def evaluate(expr, values: dict[str, float], data: dict) -> float:
    """A SymPy expression as a number: sums and means are expanded over the data's rows."""
    rows = len(next(iter(data.values()))) if data else 0

    def expand(e):
        if isinstance(e, _OverRows):
            inner = expand(e.args[0])
            terms = [
                inner.subs({sympy.Symbol(k, real=True): float(v[i]) for k, v in data.items()})
                for i in range(rows)
            ]
            total = sympy.Add(*terms)
            return total / rows if isinstance(e, DataMean) else total
        if e.args:
            return e.func(*[expand(a) for a in e.args])
        return e

    numeric = expand(expr).subs({sympy.Symbol(k, real=True): v for k, v in values.items()})
    value = complex(sympy.N(numeric))
    return value.real if value.imag == 0 else float("nan")
