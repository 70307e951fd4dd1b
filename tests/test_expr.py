"""The expression language: what it compiles, what it refuses, and that it never evaluates text."""

import ast
import contextlib
import math

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdlab
from gdlab import ExpressionError, parse
from gdlab._expr import number
from gdlab._symbolic import evaluate

CAFE = gdlab.datasets.cafe()


def test_the_lecture_losses():
    loss = parse("(b/2-1)^2")
    assert loss.params == ("b",) and loss.text == "(b/2-1)**2"
    assert float(loss(b=-10)) == 36.0 and str(loss.derivative("b")) == "b/2 - 1"
    sse = parse("sum((y - b0 - b1*x)^2)", data={"x": CAFE.x, "y": CAFE.y})
    assert sse.params == ("b0", "b1") and sse.data == ("y", "x")
    g = jax.grad(sse.function)({"b0": 9.0, "b1": 2.0})
    np.testing.assert_allclose([g["b0"], g["b1"]], [-126.78690966, -3208.839478884], rtol=1e-10)
    assert str(sse.derivative("b0")) == "sum(2*b0 + 2*b1*x - 2*y)"
    assert "sum" in sse.pretty() and "DataSum" not in sse.pretty()
    assert loss.latex() == r"\left(\frac{b}{2} - 1\right)^{2}"
    assert loss.pretty().splitlines()[1].strip() == "/b    \\"


def test_matrix_form_compiles_without_symbolic_derivative():
    X, y = CAFE.X, CAFE.y.reshape(-1, 1)
    loss = parse("(y - X@beta).T @ (y - X@beta)", data={"X": X, "y": y})
    assert loss.params == ("beta",) and loss.sympy is None
    g = jax.grad(lambda b: loss.function({"beta": b}).reshape(()))(np.array([[9.0], [2.0]]))
    np.testing.assert_allclose(g.ravel(), [-126.78690966, -3208.839478884], rtol=1e-10)
    with pytest.raises(ValueError, match="no symbolic derivative"):
        loss.derivative("beta")
    assert float(parse("x[0] + x[-1] + sum(x[1:3])", data={"x": np.arange(5.0)}).function({})) == 7.0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("sin(pi/2) + cos(0) + tan(0)", 2.0),
        ("exp(0) + log(e) + log10(100) + log2(8)", 7.0),
        ("sqrt(16) + abs(-3) + tanh(0)", 7.0),
        ("sigmoid(0) + relu(-2) + relu(3)", 3.5),
        ("softplus(0)", math.log(2)),
        ("min(3, 2) + max(3, 2) + clip(5, 0, 1)", 6.0),
        ("-2^2", -4.0),
        ("2^-1", 0.5),
        ("+3 - -3", 6.0),
    ],
)
def test_functions_and_operators(text, value):
    assert float(parse(text).function({})) == pytest.approx(value)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('ls')",
        "().__class__.__bases__[0].__subclasses__()",
        "b.__class__",
        "b.real",
        "(lambda: 1)()",
        "[c for c in b]",
        "f'{b}'",
        "b if b > 0 else -b",
        "b > 0",
        "b and c",
        "exec('1')",
        "eval('1')",
        "open('/etc/passwd')",
        "getattr(b, 'T')",
        "sin(x=1)",
        "sum(*b)",
        "{1: 2}",
        "{b}",
        "[b]",
        "(b, c)",
        "b[0]",
        "b; c",
        "b = 1",
        "import os",
        "x := 1",
        "'text'",
        "b'bytes'",
        "1j",
        "True",
        "None",
        "...",
        "__builtins__",
        "_b + 1",
        "sqrt",
        "a.T.__class__",
        "x[0.5]",
        "x[::2]",
        "globals()",
        "vars()",
        "compile('1','','eval')",
        "\\u0062",
        "b\\x00",
        "9**9**9**9",
        "1e999",
        "10**1000",
        "(" * 70 + "b" + ")" * 70,
        "+".join(["b"] * 700),
        "b" * 3000,
        "\u0411 + 1",
        "b \u2212 1",
        "\uff42 + 1",
        "",
        "   ",
    ],
)
def test_hostile_and_invalid_inputs_are_refused_cleanly(text):
    with pytest.raises(ExpressionError):
        parse(text, data={"x": np.arange(5.0)})


def test_errors_point_at_the_problem_and_suggest():
    with pytest.raises(ExpressionError) as err:
        parse("sqr(b) + 1")
    assert "did you mean sqrt?" in str(err.value)
    assert str(err.value).splitlines()[-2:] == ["  sqr(b) + 1", "  ^^^"]
    with pytest.raises(ExpressionError, match="did you mean '-'"):
        parse("b \u2212 1")
    with pytest.raises(ExpressionError, match=r"unknown name 'bb'; did you mean b\?"):
        parse("b + bb", params=["b"])
    with pytest.raises(ExpressionError) as err:
        parse("b + * 2")
    assert err.value.start == 4


def test_no_code_path_evaluates_text():
    """No module of gdlab calls eval, exec, compile, sympify, parse_expr or lambdify, but one: the
    NumPy form compiles the code it writes from a formula's plan (``gdlab._numeric.Plan``), in
    which no text of the formula can be (checked token by token before it is compiled, and below)."""
    from pathlib import Path

    builtins_run_code = {"eval", "exec", "compile", "__import__"}  # re.compile is fine
    sympy_runs_code = {"sympify", "parse_expr", "lambdify"}
    written = []
    for source in Path(gdlab.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if not isinstance(node, ast.Call):
                continue
            bare = getattr(node.func, "id", None)
            attribute = getattr(node.func, "attr", None)
            if bare in {"exec", "compile"} and source.name == "_numeric.py":
                written.append((bare, ast.unparse(node.args[0])))
                continue
            assert bare not in builtins_run_code | sympy_runs_code, f"{source.name}:{node.lineno} {bare}"
            assert attribute not in sympy_runs_code, f"{source.name}:{node.lineno} {attribute}"
    assert sorted(written) == [
        ("compile", "self.source"),
        ("exec", "compile(self.source, '<gdlab formula>', 'exec')"),
    ]


def test_the_numeric_forms_written_code_refuses_anything_but_its_own():
    """The check before a formula's written code is compiled: a string, or a name it did not write
    (a formula's parameter, a builtin), is refused."""
    from gdlab._numeric import _check_written

    space = {"np", "_sigmoid"}
    _check_written(
        "def forward(base, coef):\n    v0, = coef\n    v1 = np.exp(v0)\n    return (v0, v1,)", space
    )
    for bad in ("    v1 = __import__('os')", "    v1 = rate * 2", "    v1 = open", "    v1 = 'text'"):
        with pytest.raises(AssertionError):
            _check_written(f"def forward(base, coef):\n{bad}\n    return None", space)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_fuzz_only_expression_errors(text):
    with contextlib.suppress(ExpressionError):
        parse(text, data={"x": np.arange(3.0)})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="bx0123456789.+-*/^()[]:,@ .Tsincoexplogqrtabumax_", max_size=40))
def test_fuzz_grammar_characters_only_expression_errors(text):
    try:
        expr = parse(text, data={"x": np.arange(3.0)})
    except ExpressionError:
        return
    assert isinstance(expr, gdlab.Expression)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_symbolic_derivative_equals_autodiff(point):
    loss = parse("sin(a*b) + exp(c/3)*a^2 + log(1 + b^2) + sigmoid(c) + softplus(a - c)")
    values = dict(zip(("a", "b", "c"), point, strict=True))
    auto = jax.grad(loss.function)({k: np.float64(v) for k, v in values.items()})
    for name in loss.params:
        assert evaluate(loss.derivative(name), values, {}) == pytest.approx(
            float(auto[name]), rel=1e-9, abs=1e-12
        )


def test_symbolic_derivative_with_data_equals_autodiff():
    data = {"x": CAFE.x, "y": CAFE.y}
    loss = parse("mean((y - b0 - b1*x)^2)", data=data)
    auto = jax.grad(loss.function)({"b0": 9.0, "b1": 2.0})
    for name in ("b0", "b1"):
        assert evaluate(loss.derivative(name), {"b0": 9.0, "b1": 2.0}, data) == pytest.approx(
            float(auto[name])
        )


def test_numbers_for_options():
    assert number("0.01/6") == 0.01 / 6 and number("2^10") == 1024.0 and number("pi") == math.pi
    for bad in ("b", "1/0", "sqrt(-1)", "x + 1", "9**9**9"):
        with pytest.raises(ExpressionError):
            number(bad)


def test_more_functions_and_their_derivatives():
    for text, derivative in [
        ("atan(b)", "1/(b**2 + 1)"),
        ("arcsin(b)", "1/sqrt(1 - b**2)"),
        ("sinh(b)", "cosh(b)"),
    ]:
        assert str(gdlab.parse(text).derivative("b")) == derivative
    loss = gdlab.parse("erf(b) + cosh(b) + acos(b/2)")
    report = gdlab.gradient_report(loss, 0.3)
    assert report.agree and report.rows[0].symbolic == pytest.approx(report.rows[0].autodiff, rel=1e-12)


def test_a_one_parameter_expression_takes_a_number():
    assert float(gdlab.parse("(b/2-1)^2")(-10)) == 36.0
    with pytest.raises(gdlab.InputError, match="by name"):
        gdlab.parse("a + b")(1.0)


def test_non_ascii_names_and_constants_used_as_parameters_are_explained():
    with pytest.raises(gdlab.ExpressionError, match="ASCII letters"):
        gdlab.parse("θ^2")
    with pytest.raises(gdlab.ExpressionError, match=r"'e' is the constant 2\.71828"):
        gdlab.parse("(e - 1)^2", params=["e"])


def test_typed_loss_text_works_in_every_python_entry_point():
    """The text of a loss is accepted wherever a function is: one API for every front end."""
    path = gdlab.descend("(b/2-1)^2", -10.0, lr=0.5, steps=200, tol=1e-10)
    assert path.status.value == "converged" and float(path.params[-1]) == pytest.approx(2.0)
    rosen = "(1-x)^2 + 100*(y-x^2)^2"
    start = {"x": -1.5, "y": 2.0}
    swept = gdlab.sweep(rosen, start, lrs=[1e-4, 1e-3], steps=50)
    assert [r["status"] for r in swept.runs()] == ["max_steps", "max_steps"]
    curvature = gdlab.stability(rosen, {"x": 1.0, "y": 1.0}).L
    assert curvature == pytest.approx(1001.6006, rel=1e-6)
    g = gdlab.grad(rosen)(start)
    assert float(g["x"]) == pytest.approx(2 * (-2.5) - 400 * -1.5 * (2 - 2.25))
    found = gdlab.grid_search("(b/2-1)^2", {"b": np.linspace(0, 4, 5)})
    assert (found.best, found.loss) == ({"b": 2.0}, 0.0)


def test_expression_called_with_a_dict_of_parameters():
    loss = gdlab.parse("(1-x)^2 + 100*(y-x^2)^2")
    assert float(loss({"x": 1.0, "y": 1.0})) == 0.0
    assert float(loss({"x": 0.0, "y": 0.0})) == 1.0
    with pytest.raises(gdlab.InputError, match="give a value for y"):
        loss({"x": 1.0})


def test_expression_keeps_float32():
    """Constants and bound data take the parameters' precision: a float32 run stays float32."""
    loss = gdlab.parse("(b/2-1)^2 + sum((y - b*x)^2)", data={"x": np.arange(3.0), "y": np.ones(3)})
    assert loss(np.float32(1.0)).dtype == np.float32
    assert loss(1.0).dtype == np.float64
    path = gdlab.descend("(b/2-1)^2", -10.0, lr=0.5, steps=100, tol=1e-8, dtype="float32")
    assert path.params.dtype == np.float32
    assert "float32" in path.message and "float64" in path.message


def test_expressions_with_the_same_text_and_different_data_do_not_share_compiled_code():
    """Compiled code is cached by the loss object: two data sets under one text must not collide."""
    one = gdlab.parse("sum((y - b)^2)", data={"y": np.array([1.0, 1.0])})
    two = gdlab.parse("sum((y - b)^2)", data={"y": np.array([5.0, 5.0])})
    assert one != two
    ends = [float(gdlab.descend(f, 0.0, lr=0.1, steps=200).params[-1]) for f in (one, two)]
    assert ends == pytest.approx([1.0, 5.0])


@pytest.mark.parametrize(
    ("text", "advice"),
    [
        ("θ^2", "write theta^2"),
        ("(θ1-2)^2 + β₀", "write (theta1-2)^2 + beta0"),
        ("Σ*λ", "write Sigma*lam"),
        ("손실^2 + b", "write w^2 + b"),  # a name the loss does not use already
        ("손실^2 + 값", "write b^2 + w"),
    ],
)
def test_names_in_other_scripts_are_answered_with_an_ascii_name(text, advice):
    with pytest.raises(gdlab.ExpressionError) as err:
        gdlab.parse(text)
    first = str(err.value).splitlines()[0]
    assert first.endswith(f"names are written in ASCII letters, digits and _: {advice}")
    rewritten = advice.removeprefix("write ")
    assert gdlab.parse(rewritten).params  # the advice itself is a loss


def test_a_loss_without_parameters_says_so_where_it_is_used():
    """A constant written where a parameter was meant (e, pi) is named, in Python as on the command line."""
    for use in (
        lambda: gdlab.descend("(e-1)^2", 1.0, lr=0.1, steps=3),
        lambda: gdlab.grad("(e-1)^2")(1.0),
        lambda: gdlab.parse("(e-1)^2")(1.0),
    ):
        with pytest.raises(
            gdlab.ExpressionError, match="e is a constant, not a parameter: name the parameter b"
        ):
            use()
    assert float(gdlab.parse("2+3")()) == 5.0


def test_the_expression_guide_states_the_expression_limits():
    from pathlib import Path

    from gdlab import LIMITS

    guide = Path(__file__).parent.parent / "docs" / "guides" / "expressions.md"
    readme = " ".join(guide.read_text(encoding="utf-8").split())
    assert f"more than {LIMITS.expression_nodes} parts (nodes of the syntax tree" in readme
    assert f"texts over {LIMITS.expression_chars:,} characters" in readme
    assert f"nesting over {LIMITS.expression_depth} brackets" in readme
    with pytest.raises(ExpressionError, match=f"the limit is {LIMITS.expression_nodes}"):
        parse("+".join(["b"] * 400))


def test_expression_called_with_values_in_the_order_of_its_parameters():
    loss = gdlab.parse("(a-1)^2 + (b-2)^2")
    assert float(loss((1.0, 2.0))) == 0.0 and float(loss([0.0, 0.0])) == 5.0
    with pytest.raises(
        gdlab.InputError, match=r"give 2 values, one per parameter \(a, b\), or a dict .*; got 3"
    ):
        loss((1.0, 2.0, 3.0))
    path = gdlab.descend("(a-1)^2 + (b-2)^2", (0.0, 0.0), lr=0.1, steps=200)
    assert [float(v) for v in path.final] == pytest.approx([1.0, 2.0])


def test_a_number_is_refused_in_the_words_of_a_number():
    with pytest.raises(ExpressionError, match="a list is not allowed in a number") as err:
        number("[1, 2]")
    assert str(err.value).splitlines()[-2:] == ["  [1, 2]", "  ^^^^^^"]


def test_data_named_like_a_constant_is_the_data():
    """A column called e was silently replaced by 2.718...: data the user binds by name wins."""
    loss = parse("sum((e - b)^2)", data={"e": np.array([1.0, 3.0])})
    assert loss.data == ("e",) and float(loss(b=0.0)) == 10.0
    assert str(loss.derivative("b")) == "sum(2*b - 2*e)"
    assert float(parse("sum((e - b)^2)")(b=0.0)) == pytest.approx(math.e**2)  # without data, Euler's number


def test_a_parsed_functions_single_parameter_takes_a_number_and_several_need_a_dict():
    """``parse(...).function`` takes a dict of the parameters; with one parameter a number is that
    parameter (as the command line's ``--init -10``), with several it is refused with the dict to give."""
    import gdlab

    path = gdlab.descend(gdlab.parse("(b-1)^2").function, 0.0, lr=0.1, steps=500, tol=1e-10)
    assert float(path.final) == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(
        gdlab.InputError, match=r"parameters b, c: pass them as a dict, as in \{'b': 0.0, 'c': 0.0\}"
    ):
        gdlab.descend(gdlab.parse("(b-1)^2+c^2").function, 0.0, lr=0.1, steps=5)


def test_a_typed_loss_of_several_parameters_takes_a_list_start_in_their_order_everywhere():
    """``[3, 1]`` for ``x^2 + 10*y^2`` is x = 3, y = 1 (the parameters' order of appearance), in
    every verb: it reached the loss as one array and was refused as 'give the values by name'."""
    text = "x^2 + 10*y^2"
    by_name = {"x": 3.0, "y": 1.0}
    listed = gdlab.descend(text, [3.0, 1.0], lr=0.05, steps=20)
    named = gdlab.descend(text, by_name, lr=0.05, steps=20)
    np.testing.assert_allclose(listed.loss, named.loss, rtol=1e-15)
    assert listed.loss[0] == 9 + 10  # x = 3, y = 1, not the other way round
    sweep_listed = gdlab.sweep(text, [3.0, 1.0], lrs=[0.01, 0.05], steps=20)
    np.testing.assert_allclose(
        sweep_listed.final_loss, gdlab.sweep(text, by_name, lrs=[0.01, 0.05], steps=20).final_loss
    )
    phase = gdlab.phase(text, [3.0, 1.0], lrs=[0.01, 0.05], momenta=[0.0, 0.5], steps=20)
    assert phase.final_loss.shape == (2, 2)
    np.testing.assert_allclose(np.asarray(gdlab.grad(text)(np.array([3.0, 1.0]))), [6.0, 20.0])
    assert gdlab.stability(text, [3.0, 1.0]).critical_lr == pytest.approx(2 / 20)
    with pytest.raises(
        gdlab.InputError, match=r"give 2 values, one per parameter \(x, y\), or a dict such as"
    ):
        gdlab.descend(text, [3.0, 1.0, 2.0], lr=0.05, steps=20)


@pytest.mark.parametrize(
    ("typed", "line", "caret"),
    [
        ("(b/2-1)^^2", "(b/2-1)^^2", "        ^"),
        ("b^2 +* 3", "b^2 +* 3", "     ^"),
        ("2b^2", "2b^2", "^^"),
        ("b**2 +* 3", "b**2 +* 3", "      ^"),
    ],
)
def test_an_error_shows_the_text_as_it_was_typed(typed, line, caret):
    """The caret is under what the user typed (``^``), not under the ``**`` it is read as."""
    from gdlab._expr import numeric_form

    for compile_text in (parse, numeric_form):
        with pytest.raises(ExpressionError) as found:
            compile_text(typed)
        assert str(found.value).split("\n")[1:] == ["  " + line, "  " + caret]


def test_a_loss_and_the_results_that_hold_it_survive_a_pickle():
    """A compiled function does not pickle: a loss is written as its text, parameters and data and
    compiled again when read back, so descents, sweeps and phase diagrams pickle (multiprocessing,
    joblib, a saved notebook state)."""
    import pickle

    from gdlab.datasets import cafe

    c = cafe()
    matrix = gdlab.parse("(y - X@beta).T @ (y - X@beta)", data={"X": c.X, "y": c.y})
    again = pickle.loads(pickle.dumps(matrix))
    assert again.params == ("beta",) and again.data == matrix.data
    assert float(again(beta=np.array([9.0, 2.0]))) == float(matrix(beta=np.array([9.0, 2.0])))
    for result in (
        gdlab.descend("(b/2-1)^2", -10.0, lr=0.1, steps=10),
        gdlab.sweep("(b/2-1)^2", -10.0, lrs=[0.1, 1.0], steps=10),
        gdlab.phase("(b/2-1)^2", -10.0, lrs=[0.1, 1.0], momenta=[0.0, 0.5], steps=10),
    ):
        read = pickle.loads(pickle.dumps(result))
        assert str(read) == str(result) and read.to_dict() == result.to_dict()


@pytest.mark.parametrize("module", ["np", "numpy", "math"])
def test_a_listed_function_may_be_called_through_numpy_as_formulas_write_it(module):
    """patsy's and statsmodels' formulas write np.log(x): the listed function, read by name (the
    same value, derivative and exact form); nothing else of the module is reachable."""
    typed = parse(f"{module}.log(b) + {module}.exp(b/2)")
    plain = parse("log(b) + exp(b/2)")
    assert float(typed(b=2.0)) == float(plain(b=2.0))
    assert str(typed.sympy) == str(plain.sympy)
    assert float(gdlab.grad(typed)(2.0)) == pytest.approx(float(gdlab.grad(plain)(2.0)), rel=1e-15)
    with pytest.raises(ExpressionError, match=rf"unknown function '{module}.log1p'; did you mean log10\?"):
        parse(f"{module}.log1p(b)")
    for text in (f"{module}.loadtxt('x')", f"{module}.system(b)", "os.system(b)", "os.pi * b"):
        with pytest.raises(ExpressionError):
            parse(text)
    # its constants pi and e are the numbers pi and e name (numbers: a column named pi is not them)
    constants = parse(f"b * {module}.pi + {module}.e")
    assert float(constants(b=2.0)) == float(parse("b*pi + e")(b=2.0)) == 2 * math.pi + math.e
    refused = rf"'{module}.inf' is not in the expression language: of {module}, only the constants pi and e"
    with pytest.raises(ExpressionError, match=refused):
        parse(f"{module}.inf * b")
    data = {"x": np.array([0.0, 1.0, 2.0]), "pi": np.array([5.0, 6.0, 7.0])}
    assert float(parse(f"sum((b*x - {module}.pi)^2)", data=data)(b=0.0)) == pytest.approx(3 * math.pi**2)
