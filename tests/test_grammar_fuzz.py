"""A fuzz of the expression language: every text its grammar allows compiles, differentiates,
prints and computes, or is refused as an InputError (an ExpressionError), within a time bound,
through the library, the command line and the web API. Nothing else may escape: another
exception is a bug of gdlab's (exit 1 on the command line, HTTP 500 on the web).

GDLAB_FUZZ_EXAMPLES sets how many texts the library test tries (300 by default; 10,000 were
run once with no unexpected exception), and an eighth of it (at least 40) the command line
and the web API each.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import gdlab
from gdlab._expr import FUNCTIONS
from gdlab.cli import app

CAFE = gdlab.datasets.cafe()
DATA = {"x": np.asarray(CAFE.x), "y": np.asarray(CAFE.y)}
POINT = {"b": 0.7, "c": -0.3}
SECONDS = 10.0  # for everything done to one text: generous, as the test machines are shared
EXAMPLES = int(os.environ.get("GDLAB_FUZZ_EXAMPLES", "300"))
FRONT_EXAMPLES = max(40, EXAMPLES // 8)  # the command line and the web, each text run twice

# Texts the grammar allows that raised an unexpected exception (HTTP 500, exit 1): each
# refused one with the part the caret must stand under.
REFUSED = [
    ("relu(arccos(10))", "arccos(10)", "undefined"),
    ("max(b, sqrt(-1))", "sqrt(-1)", "undefined"),
    ("min(b, log(0))", "log(0)", "infinite"),
    ("relu(3.5)/clip(2,0.0,0.0)+b", "relu(3.5)/clip(2,0.0,0.0)", "division by zero"),
    ("sinh(sinh(1e300))+b", "sinh(1e300)", "too large"),
    ("max(b, log(b-b-1))", "log(b-b-1)", "undefined"),  # SymPy folds it to log(-1) = i*pi
    ("b*tan(pi/2)", "tan(pi/2)", "infinite"),  # finite in floating point, a pole exactly
    ("relu(sqrt(-b^2-1))", "sqrt(-b^2-1)", "not a real number for any value"),
]


@pytest.mark.parametrize(("text", "part", "words"), REFUSED)
def test_undefined_parts_are_refused_with_a_caret_under_them(text, part, words):
    with pytest.raises(gdlab.ExpressionError, match=words) as err:
        gdlab.parse(text)
    # the caret stands under the text as it was typed (its ^, not the ** it is read as)
    assert (err.value.start, err.value.end) == (text.index(part), text.index(part) + len(part))
    assert str(err.value).splitlines()[-1].strip() == "^" * len(part)
    for use in (lambda: gdlab.grad(text)(1.0), lambda: gdlab.descend(text, 1.0, lr=0.1, steps=3)):
        with pytest.raises(gdlab.ExpressionError, match=words):
            use()


def _cafe_rms(b0: float, b1: float) -> tuple[float, float, float]:
    """sqrt(mean(r^2)) for r = y - b0 - b1*x, and its gradient, in NumPy: the closed form."""
    r = DATA["y"] - b0 - b1 * DATA["x"]
    rms = float(np.sqrt(np.mean(r**2)))
    return rms, float(-np.mean(r) / rms), float(-np.mean(r * DATA["x"]) / rms)


def test_a_power_of_a_mean_over_data_prints_and_differentiates():
    """_OverRows._latex() was not told the power it is raised to: mean(...)^0.5 had no LaTeX."""
    loss = gdlab.parse("mean((y-b0-b1*x)^2)^0.5", data=DATA)
    assert loss.latex() == (
        r"\left(\operatorname{mean}_i \left(\left(- b_{0} - b_{1} x + y\right)^{2}\right)\right)^{0.5}"
    )
    rms, d0, d1 = _cafe_rms(9.0, 2.0)
    report = gdlab.gradient_report(loss, {"b0": 9.0, "b1": 2.0})
    assert report.loss == pytest.approx(rms, rel=1e-12) and report.agree
    for row, closed in zip(report.rows, (d0, d1), strict=True):
        assert row.symbolic == pytest.approx(closed, rel=1e-9) and row.autodiff == pytest.approx(
            closed, rel=1e-9
        )
    path = gdlab.descend(loss, {"b0": 9.0, "b1": 2.0}, lr=0.5, steps=2)
    assert float(path.loss[0]) == pytest.approx(rms, rel=1e-12)


def test_a_sum_without_data_is_its_part_as_in_jax():
    """sum(b) is b (JAX sums the one value); its square differentiates to 2*b, exactly and by autodiff."""
    loss = gdlab.parse("sum(b)^2")
    assert str(loss.derivative("b")) == "2*b" and loss.latex() == "b^{2}"
    assert float(gdlab.grad("sum(b)^2")(3.0)) == 6.0
    with_data = gdlab.parse("sum(b)^2 + mean(b*x)", data=DATA)
    report = gdlab.gradient_report(with_data, 3.0)
    assert report.rows[0].symbolic == pytest.approx(6.0 + float(np.mean(DATA["x"])), rel=1e-12)
    assert report.agree
    path = gdlab.descend("sum(b)^2", 3.0, lr=0.25, steps=1)
    assert float(path.params[-1]) == 1.5


def test_shapes_that_do_not_fit_are_input_errors_wherever_the_loss_is_computed():
    """A loss that returns a vector raised TypeError from the gradient report; a matrix product
    of numbers, ValueError from the parser: both are the user's to fix."""
    with pytest.raises(gdlab.InputError, match="matmul"):
        gdlab.grad(gdlab.parse("x @ b", data=DATA))(1.0)
    with pytest.raises(gdlab.InputError, match="one number"):
        gdlab.gradient_report(gdlab.parse("b*x", data=DATA), 1.0)
    with pytest.raises(gdlab.ExpressionError, match="2 @ 3 cannot be computed"):
        gdlab.parse("2 @ 3 + b")
    assert float(gdlab.parse("x @ y + b", data=DATA)(b=1.0)) == float(DATA["x"] @ DATA["y"]) + 1.0


def test_reproducers_through_the_command_line():
    for text, part, _ in REFUSED:
        result = CliRunner().invoke(app, ["grad", text, "--at", "b=1"])
        assert result.exit_code == 2 and "^" * len(part) in result.output, result.output
    _, d0, d1 = _cafe_rms(9.0, 2.0)
    args = ["grad", "mean((y-b0-b1*x)^2)^0.5", "--at", "b0=9,b1=2", "--data", "cafe", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["gradient"]
    assert [r["autodiff"] for r in rows] == pytest.approx([d0, d1], rel=1e-9)
    result = CliRunner().invoke(
        app, ["run", "sum(b)^2", "--init", "3", "--lr", "0.25", "--steps", "1", "--json"]
    )
    assert result.exit_code == 0 and json.loads(result.output)["final"]["b"] == 1.5


def test_reproducers_through_the_web_api(client):
    for text, _, words in REFUSED:
        for path in ("/api/parse", "/api/run"):
            body = {"expression": text, "start": {"b": 1}, "rates": [0.1]} if path == "/api/run" else {}
            response = client.post(path, json={"expression": text, **body})
            assert response.status_code == 422 and words in response.json()["detail"], response.text
    out = client.post("/api/parse", json={"expression": "mean((y-b0-b1*x)^2)^0.5", "data": "cafe"}).json()
    assert out["latex"].startswith(r"\left(\operatorname{mean}_i") and out["derivatives_latex"]["b0"]
    assert client.post("/api/parse", json={"expression": "sum(b)^2"}).json()["derivatives"] == {"b": "2*b"}


# Numbers as typed: zero, tiny, huge, long, fractional, and any float in range.
NUMBERS = st.one_of(
    st.sampled_from(
        [
            "0",
            "0.0",
            "1",
            "2",
            "0.5",
            "3.5",
            "10",
            "1e10",
            "1e300",
            "1e-300",
            "5e-324",
            "123456789",
            "9" * 310,
        ]
    ),
    st.integers(0, 10**12).map(str),
    st.floats(0, 1e300, allow_nan=False, allow_infinity=False).map(repr),
)
# Parameters, the cafe data (whole, one row, a slice, empty, out of range), constants.
NAMES = st.sampled_from(["b", "c", "x", "y", "pi", "e", "x[0]", "y[-1]", "x[1:4]", "y[5:2]", "x[99]"])
ONE_ARGUMENT = sorted(name for name, (_, low, _) in FUNCTIONS.items() if low == 1)
OPERATORS = ["+", "-", "*", "/", "^", "**", "@"]


def _call(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(ONE_ARGUMENT), inner).map(lambda t: f"{t[0]}({t[1]})")


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Every way the grammar combines texts: each operator (without brackets, so precedence
    varies), unary minus, brackets, transpose, and each function with each number of arguments
    it takes."""
    return st.one_of(
        st.tuples(inner, st.sampled_from(OPERATORS), inner).map(" ".join),
        _call(inner),
        inner.map(lambda t: f"-{t}"),
        inner.map(lambda t: f"({t})"),
        st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        inner.map(lambda t: f"({t}).T"),
        st.tuples(inner, inner, inner).map(lambda t: f"clip({t[0]}, {t[1]}, {t[2]})"),
    )


# Calls are leaves too: drawn inside the recursion alone, most functions were seldom reached.
TEXTS = st.recursive(st.one_of(NUMBERS, NAMES, _call(NUMBERS | NAMES)), _grow, max_leaves=12)
# For the front ends, most texts also as a loss they can run: a parameter, and one number.
FRONT_TEXTS = st.one_of(TEXTS, TEXTS.map(lambda t: f"mean({t}) + b^2"), TEXTS.map(lambda t: f"{t} + c*b"))
FUZZ = settings(
    deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def _everything(loss: gdlab.Expression) -> None:
    """What the front ends do with a loss: print it, differentiate it, compute it and its gradient."""
    loss.latex()
    loss.pretty()
    for name in loss.params:
        found = loss.exact_derivative(name)
        assert found.exact is not None or found.note  # no derivative without a reason
        if found.exact is not None:
            str(found.exact)
            sympy.latex(found.exact)
    if not loss.params:  # every front end refuses it: nothing to differentiate or move
        return
    point = {name: POINT[name] for name in loss.params}
    value, gradient = gdlab.value_and_grad(loss)(point)
    float(value), [float(g) for g in gradient.values()]
    gdlab.gradient_report(loss, point)


def _outcome(text: str) -> str:
    """'ok' or 'refused'; any other exception propagates and fails the test."""
    started = time.monotonic()
    try:
        _everything(gdlab.parse(text, data=DATA))
        result = "ok"
    except gdlab.InputError:
        result = "refused"
    assert time.monotonic() - started < SECONDS, f"{text!r} took {time.monotonic() - started:.1f} s"
    return result


def _start(text: str) -> dict[str, float]:
    """A value for each parameter of ``text`` (b's, when it is refused or has none)."""
    try:
        params = gdlab.parse(text, data=DATA).params
    except gdlab.InputError:
        params = ()
    return {name: POINT[name] for name in params or ("b",)}


def _point(text: str) -> str:
    """:func:`_start` as the command line writes it: b=0.7,c=-0.3."""
    return ",".join(f"{name}={value}" for name, value in _start(text).items())


# Each function at least once in every run, over the data and beside the parameters.
EACH_FUNCTION = [f"sum({name}(b*x/100 - c)) + {name}(b)" for name in ONE_ARGUMENT] + [
    "min(b, c) + max(x[0], b) + clip(mean(y*b), -c, 3)",
    "min(x) + max(y) + b",
]


@settings(FUZZ, max_examples=EXAMPLES)
@given(TEXTS)
def test_every_text_of_the_grammar_works_or_is_refused(text):
    assert _outcome(text) == "ok" or text not in EACH_FUNCTION


for _text in EACH_FUNCTION:
    test_every_text_of_the_grammar_works_or_is_refused = example(_text)(
        test_every_text_of_the_grammar_works_or_is_refused
    )


def test_the_fuzz_reaches_every_function_and_both_outcomes():
    """The strategy is not vacuous: it writes every function, and texts that work and texts refused."""
    seen: list[str] = []

    @settings(FUZZ, max_examples=1000, database=None)
    @given(TEXTS)
    def collect(text):
        seen.append(text)

    collect()
    for name in FUNCTIONS:
        assert any(f"{name}(" in text for text in seen), name
    assert {_outcome(text) for text in seen[:30]} == {"ok", "refused"}


runner = CliRunner()


@settings(FUZZ, max_examples=FRONT_EXAMPLES)
@given(FRONT_TEXTS)
def test_the_command_line_exits_0_or_2(text):
    for args in (
        ["grad", text, "--at", _point(text), "--data", "cafe"],
        ["run", text, "--init", _point(text), "--lr", "0.01", "--steps", "5", "--data", "cafe"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 2), f"{args}: {result.output}"


@pytest.fixture(scope="module")
def url():
    pytest.importorskip("fastapi")
    from gdlab.web import create_app
    from gdlab.web._server import running

    with running(create_app()) as base:
        yield base


@pytest.fixture(scope="module")
def client(url):
    import httpx

    with httpx.Client(base_url=url, timeout=60) as session:
        yield session


@settings(FUZZ, max_examples=FRONT_EXAMPLES)
@given(text=FRONT_TEXTS)
def test_the_web_api_answers_200_or_422(client, text):
    start = _start(text)
    for path, body in (
        ("/api/parse", {"expression": text, "data": "cafe"}),
        ("/api/run", {"expression": text, "data": "cafe", "start": start, "rates": [0.01], "steps": 5}),
    ):
        response = client.post(path, json=body)
        assert response.status_code in (200, 422), f"{path} {text!r}: {response.text}"
