"""Symbolic work on a loss has a budget of size and time: huge powers give their derivative
(unsimplified, saying why) within seconds and flat memory, and still compute where finite."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time

import psutil
import pytest
import sympy

import gdlab
from gdlab import LIMITS
from gdlab._symbolic import OutOfTime, expansion_terms, power, within

HUGE = [("(b+1)^(10^10)", 10**10), ("(b+1)^1000", 1000), ("(b+1)^100000", 100_000)]
SECONDS = 2.0


@pytest.fixture(scope="module", autouse=True)
def warm():
    """The first loss of a process loads SymPy and compiles JAX's constant arithmetic: not the budget's."""
    gdlab.parse("(b/2-1)^2 + 2^0.5").exact_derivative("b")


@pytest.mark.parametrize(("text", "n"), HUGE)
def test_a_huge_power_gives_its_derivative_unsimplified_within_seconds(text, n):
    started = time.monotonic()
    loss = gdlab.parse(text)
    found = loss.exact_derivative("b")
    latex = loss.latex()
    assert time.monotonic() - started < SECONDS
    b = sympy.Symbol("b", real=True)
    assert found.exact == n * (b + 1) ** (n - 1)  # the closed form, unexpanded
    assert "unsimplified" in found.note and f"about {n:,} terms" in found.note
    assert latex.startswith(r"\left(b + 1\right)^{")
    assert loss.derivative("b") is found.exact  # worked out once


@pytest.mark.parametrize(("text", "n"), HUGE)
def test_a_huge_power_still_computes_where_it_is_finite(text, n):
    """Autodiff is not limited by the symbolic budget: its value and gradient against the closed form."""
    assert float(gdlab.parse(text)(b=-1.0)) == 0.0
    assert float(gdlab.grad(text)(-1.0)) == 0.0
    b = -1.0 + 2.0 ** (-100 / n)  # (b+1)^n is about 2^-100 there: finite, and not 0
    base = b + 1.0  # as JAX adds it
    value, slope = gdlab.value_and_grad(text)(b)
    assert float(value) == pytest.approx(base**n, rel=1e-6) and 1e-31 < float(value) < 1e-29
    assert float(slope) == pytest.approx(n * base ** (n - 1), rel=1e-6)


def test_the_gradient_report_of_a_huge_power_says_it_is_unsimplified():
    started = time.monotonic()
    report = gdlab.gradient_report("(b+1)^(10^4)", -1.0)
    assert time.monotonic() - started < 15  # it was over 20 s; it also compiles autodiff and differences
    row = report.rows[0]
    assert row.derivative == "10000*(b + 1)**9999"
    assert (row.symbolic, row.autodiff, row.finite_difference) == (0.0, 0.0, 0.0) and report.agree
    assert any("unsimplified" in note and "10,000 terms" in note for note in report.notes)
    assert report.to_dict()["notes"] == list(report.notes)


def test_the_command_line_differentiates_a_huge_power_and_says_why_it_is_unsimplified():
    from typer.testing import CliRunner

    from gdlab.cli import app

    started = time.monotonic()
    result = CliRunner().invoke(app, ["grad", "(b+1)^(10^4)", "--at", "b=-1", "--json"])
    assert time.monotonic() - started < 15 and result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["gradient"][0]["derivative"] == "10000*(b + 1)**9999" and out["gradient"][0]["autodiff"] == 0
    assert any("about 10,000 terms" in note for note in out["notes"])


def test_numbers_raised_to_huge_powers_are_floats_not_billions_of_digits():
    """SymPy pulls 2 out of (2*b)^n and raises it exactly: 2^(10^10) would never finish."""
    started = time.monotonic()
    for text, coefficient in [("(2*b)^(10^10)", 2.0), ("(b/3)^(10^10)", 1 / 3), ("(1/3)^(10^10)*b", None)]:
        loss = gdlab.parse(text)
        exact = loss.derivative("b")
        assert len(str(exact)) < 100 and sympy.latex(exact)
        assert float(loss(b=0.0)) == 0.0
        if coefficient is not None:  # c^n * b^n: the float keeps 15 digits of c^n
            mantissa, exponent = str(exact.as_coeff_Mul()[0]).split("e")
            log10 = 10**10 * math.log10(coefficient) + 10  # of n * c^n
            assert int(exponent) + math.log10(float(mantissa)) == pytest.approx(log10, abs=1e-5)
        else:
            assert float(exact) == 0.0  # 3^-(10^10) is below any float: the derivative of 0*b
    assert time.monotonic() - started < SECONDS


def test_small_powers_of_numbers_stay_exact():
    b = sympy.Symbol("b", real=True)
    assert power(sympy.Integer(2), sympy.Integer(10)) == 1024
    assert power(sympy.Rational(1, 3), sympy.Integer(100)) == sympy.Rational(1, 3**100)
    assert power(2 * b, sympy.Integer(3)) == 8 * b**3
    assert str(gdlab.parse("(b - 2^0.5)^2").derivative("b")) == "2*b - 2.82842712474619"


def test_expansion_terms_bound_what_expand_writes():
    """C(n + m - 1, m - 1) terms for a sum of m terms to the power n: an upper bound, and exact
    for a sum of distinct symbols; products multiply, and expanding inside a function counts."""
    b, c, x = sympy.symbols("b c x")
    full = (b + c + x + 1) ** 6
    assert expansion_terms(full) == math.comb(6 + 3, 3) == len(sympy.expand(full).args)
    for expr in [
        (b + 1) ** 30 * (c + 2) ** 3,
        (sympy.sin(b) + sympy.exp(c) + 1) ** 5,
        ((b + 1) ** 5 + 1) ** 5,
    ]:
        assert len(sympy.expand(expr).args) <= expansion_terms(expr)
    assert expansion_terms((b + 1) ** 30 * (c + 2) ** 3) == 31 * 4
    assert expansion_terms(sympy.sin((b + c) ** 7)) == 8  # inside the argument
    assert expansion_terms((1 + sympy.sqrt(2)) ** 1000) == 1001  # numbers expand too
    assert expansion_terms(1 / (b + 1) ** 400) == 401  # and denominators
    assert expansion_terms(2 ** (b**1000) * b**999) == 1  # a product of powers is one term
    assert expansion_terms((b + 1) ** (10**300)) == 1e300  # capped, not computed


def test_time_limit_stops_python_work_and_restores_the_tracer():
    def spin():
        while True:
            abs(sympy.Integer(1))  # pure-Python calls, as SymPy's work is

    previous = sys.gettrace()
    started = time.monotonic()
    with pytest.raises(OutOfTime):
        within(0.05, spin)
    assert time.monotonic() - started < 1.0
    assert sys.gettrace() is previous
    assert within(1.0, lambda: 6 * 7) == 42


def test_simplify_past_its_time_gives_the_derivative_unsimplified(monkeypatch):
    """With no time at all, each step falls back and says why; autodiff still gives the closed form."""
    import gdlab._symbolic

    monkeypatch.setattr(gdlab._symbolic, "LIMITS", dataclasses.replace(LIMITS, symbolic_seconds=0.0))
    loss = gdlab.parse("sin(b)^2 + cos(b)^2 + b^2")
    found = loss.exact_derivative("b")
    assert found.exact is None and "longer than 0 s" in found.note
    with pytest.raises(gdlab.InputError, match="no symbolic derivative here: working it out took longer"):
        loss.derivative("b")
    report = gdlab.gradient_report(loss, 1.5)
    assert report.rows[0].derivative is None and report.rows[0].autodiff == pytest.approx(3.0, rel=1e-12)
    assert any("longer than" in note for note in report.notes)


def test_an_exact_form_past_its_time_leaves_the_loss_to_autodiff(monkeypatch):
    import gdlab._expr

    monkeypatch.setattr(gdlab._expr, "LIMITS", dataclasses.replace(LIMITS, symbolic_seconds=0.0))
    loss = gdlab.parse("(b/2-1)^2")
    assert loss.sympy is None and "longer than 0 s" in loss.symbolic_note
    assert loss.latex() == loss.text
    assert float(gdlab.grad(loss)(-10.0)) == -6.0
    with pytest.raises(gdlab.InputError, match="took longer than 0 s"):
        loss.derivative("b")


def _rss() -> float:
    return psutil.Process().memory_info().rss / 2**20


HOSTILE = [text for text, _ in HUGE] + ["(2*b)^(10^10)", "(b/3)^(10^10)", "(b+1)^(10^4) + (b-1)^(10^4)"]


def test_memory_stays_flat_across_huge_powers():
    before = _rss()
    for text in HOSTILE * 2:
        loss = gdlab.parse(text)
        for name in loss.params:
            str(loss.exact_derivative(name).exact)
        loss.latex()
    assert _rss() - before < 100


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("fastapi")
    import httpx

    from gdlab.web import create_app
    from gdlab.web._server import running

    with running(create_app()) as base, httpx.Client(base_url=base, timeout=60) as session:
        session.post("/api/parse", json={"expression": "(b/2-1)^2"})  # the first answer loads everything
        yield session


def test_the_web_parses_huge_powers_within_seconds_and_flat_memory(client):
    before = _rss()  # the server runs in this process
    for text in HOSTILE:
        started = time.monotonic()
        response = client.post("/api/parse", json={"expression": text})
        assert time.monotonic() - started < SECONDS, text
        assert response.status_code == 200, response.text
        derivative = response.json()["derivatives"]["b"]
        assert derivative and len(derivative) < 200
    out = client.post("/api/parse", json={"expression": "(b+1)^(10^10)"}).json()
    assert out["derivatives"] == {"b": "10000000000*(b + 1)**9999999999"}
    assert out["derivatives_latex"]["b"] == r"10000000000 \left(b + 1\right)^{9999999999}"
    run = client.post("/api/run", json={"expression": "(b+1)^(10^10)", "start": {"b": -1}, "rates": [0.1]})
    assert run.status_code == 200 and run.json()["runs"][0]["final"]["b"] == -1.0  # a zero gradient there
    assert _rss() - before < 100


def test_the_page_is_told_why_a_derivative_is_not_simplified():
    from gdlab.web._compute import Lab
    from gdlab.web._models import ParseIn

    shown = Lab().parse(ParseIn(expression="(b+1)^(10^10)"))
    assert shown["notes"], shown
    assert shown["derivatives"]["b"] is None or "b" in shown["derivatives"]["b"]
    assert Lab().parse(ParseIn(expression="(b/2-1)^2"))["notes"] == []
