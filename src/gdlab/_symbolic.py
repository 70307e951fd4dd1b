"""SymPy pieces for data: sums and means over the rows, which differentiate term by term."""

from __future__ import annotations

import sympy


class DataSum(sympy.Function):
    """The sum of an expression over the rows of the data (data names stand for one row)."""

    nargs = 1

    def _eval_derivative(self, symbol):
        return DataSum(sympy.diff(self.args[0], symbol))

    def _latex(self, printer):
        return r"\sum_i \left(" + printer._print(self.args[0]) + r"\right)"

    def _sympystr(self, printer):
        return f"sum({printer._print(self.args[0])})"

    def _pretty(self, printer):
        return printer._print_Function(self, func_name="sum")


class DataMean(sympy.Function):
    """The mean of an expression over the rows of the data."""

    nargs = 1

    def _eval_derivative(self, symbol):
        return DataMean(sympy.diff(self.args[0], symbol))

    def _latex(self, printer):
        return r"\operatorname{mean}_i \left(" + printer._print(self.args[0]) + r"\right)"

    def _sympystr(self, printer):
        return f"mean({printer._print(self.args[0])})"

    def _pretty(self, printer):
        return printer._print_Function(self, func_name="mean")


def evaluate(expr, values: dict[str, float], data: dict) -> float:
    """A SymPy expression as a number: sums and means are expanded over the data's rows."""
    rows = len(next(iter(data.values()))) if data else 0

    def expand(e):
        if isinstance(e, DataSum | DataMean):
            inner = expand(e.args[0])
            terms = [inner.subs({sympy.Symbol(k, real=True): float(v[i]) for k, v in data.items()})
                     for i in range(rows)]  # fmt: skip
            total = sympy.Add(*terms)
            return total / rows if isinstance(e, DataMean) else total
        if e.args:
            return e.func(*[expand(a) for a in e.args])
        return e

    numeric = expand(expr).subs({sympy.Symbol(k, real=True): v for k, v in values.items()})
    value = complex(sympy.N(numeric))
    return value.real if value.imag == 0 else float("nan")
