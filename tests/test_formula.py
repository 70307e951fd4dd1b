"""Formulas fitted by least squares (lm, gauss-newton, descent) against NIST's certified values and SciPy."""

from __future__ import annotations

import contextlib
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize

from gdlab._checks import InputError
from gdlab._trajectory import Status
from gdlab.fitting import _formula
from gdlab.fitting._fit import fit
from nls_problems import JACOBIANS, MODELS, digits, gauss_like, misra1a, thurber_like, with_reference

MISRA = misra1a()


@contextlib.contextmanager
def _lowerings():
    """The functions JAX lowers to XLA (each one then compiled, or read from the persistent cache) in
    the block: a call that reuses compiled code lowers nothing."""
    seen: list[str] = []

    def listen(event: str, duration: float, **kwargs: object) -> None:
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            seen.append(str(kwargs.get("fun_name", "?")))

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        yield seen
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)


@pytest.mark.parametrize("method", ["lm", "gauss-newton"])
@pytest.mark.parametrize("start", [0, 1])
def test_misra1a_to_nists_certified_values(method, start):
    result = fit(
        {"x": MISRA.x, "y": MISRA.y}, y="y", model=MISRA.formula, init=MISRA.starts[start], method=method
    )
    certified = list(MISRA.certified.values())
    assert result.names == ("b1", "b2") and result.method == method and result.model == MISRA.formula
    assert digits(result.coef, certified) >= 9
    path = result.trajectory
    assert path is not None and path.status.value == "converged" and path.message.startswith("converged at")
    assert digits(path.loss[-1], MISRA.rss) >= 9
    if method == "lm":  # an accepted step never raises the loss (Gauss-Newton's full steps may)
        assert np.all(np.diff(path.loss) <= 1e-12 * path.loss[0])
    assert path.params["b1"][0] == MISRA.starts[start]["b1"]  # the path is in the parameters' own units
    np.testing.assert_allclose(result.coefficient_path()[-1], result.coef)


def test_thurber_like_rational_function_to_the_40_digit_reference_and_at_least_scipy():
    problem = with_reference(thurber_like(), "thurber")
    reference = list(problem.certified.values())
    result = fit({"x": problem.x, "y": problem.y}, y="y", model=problem.formula, init=problem.starts[0])
    assert result.method == "lm" and result.status is not None and result.status.value == "converged"
    assert result.trajectory is not None and digits(result.trajectory.loss[-1], problem.rss) >= 9
    ours = digits(result.coef, reference)
    powers = np.vander(problem.x, 4, increasing=True)  # 1, x, x^2, x^3
    top = lambda c: powers @ c[:4]
    bottom = lambda c: 1 + powers[:, 1:] @ c[4:]
    jacobian = (
        lambda c: np.column_stack(  # of the residuals y - top/bottom, exactly
            [-powers / bottom(c)[:, None], (top(c) / bottom(c) ** 2)[:, None] * powers[:, 1:]]
        )
    )
    theirs = scipy.optimize.least_squares(
        lambda c: problem.y - top(c) / bottom(c),
        list(problem.starts[0].values()),
        jac=jacobian,
        method="lm",
        xtol=1e-15,
        ftol=1e-15,
        gtol=1e-15,
    )
    assert ours >= 6 and ours >= digits(theirs.x, reference) - 0.5, (ours, digits(theirs.x, reference))


def test_a_descent_method_runs_beside_levenberg_marquardt():
    result = fit(
        {"x": MISRA.x, "y": MISRA.y}, y="y", model=MISRA.formula, init=MISRA.starts[1], method="lbfgs"
    )
    assert result.method == "lbfgs" and result.reference == "lm"
    assert digits(result.closed_form, list(MISRA.certified.values())) >= 9
    assert result.max_difference is not None and digits(result.coef, result.closed_form) >= 6
    stats = ["std error", "t", "P>|t|", "lower 95%", "upper 95%"]
    assert "lbfgs" in repr(result) and result.to_pandas().columns.tolist() == [
        "lm",
        "lbfgs",
        "difference",
        *stats,
    ]


def test_predict_evaluates_the_formula_on_new_rows():
    result = fit({"x": MISRA.x, "y": MISRA.y}, y="y", model=MISRA.formula, init=MISRA.starts[1])
    b1, b2 = result.coef
    new = np.array([100.0, 500.0])
    np.testing.assert_allclose(result.predict({"x": new}), b1 * (1 - np.exp(-b2 * new)), rtol=1e-14)
    assert (
        result.x == ("x",) and result.summary().splitlines()[0] == "Fit(y ~ b1*(1-exp(-b2*x)), lm, 14 rows)"
    )


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"model": "b1*(1-exp(-b2*t))"}, ["names no column of the data", "columns: x, y"]),
        ({"model": "b1*(1-exp(-b2*xx)) + 0*x"}, ["'xx', which is no column (did you mean 'x'?)"]),
        ({"model": "b1*x", "x": "x"}, ["give x (a linear model) or model (a formula), not both"]),
        ({"model": "b1*x + y"}, ["'y' is the response y and also appears in the formula"]),
        ({"model": "b1*(1-exp(-b2*x))", "init": {"b1": 1.0}}, ["init has no start for b2"]),
        ({"model": "b1*(1-exp(-b2*x))", "init": {"b1": 1.0, "b2": 1.0, "c": 2}}, ["init names 'c'"]),
        ({"model": "b1*(1-exp(-b2*x))", "method": "ols"}, ["a formula has no closed form"]),
        ({"model": "b1*(1-exp(-b2*x))", "method": "nope"}, ["method='nope' is unknown: choose one of ols"]),
        (
            {"model": "b1*log(b2*x)", "init": {"b1": 1.0, "b2": -1.0}},
            ["'b1*log(b2*x)' is nan at row 0 (x=77.6) at the start b1=1, b2=-1", "at 13 more rows"],
        ),
        ({"model": "sqr(b*x)"}, ["unknown function 'sqr'"]),
        ({"model": "y ~ b1*(1-exp(-b2*x))"}, ["model takes the formula's right side alone: give y='y' and "]),
        ({"model": "pi*b*x", "init": {"pi": 1.0, "b": 1.0}}, ["'pi' is the constant pi: name the parameter"]),
        (
            {"model": "b1*(1-exp(-b2*x))", "init": {"b1": 1.0, "bb2": 1.0}},
            ["(its parameters: b1, b2); did you"],
        ),
        ({"model": "b1*x", "intercept": False}, ["intercept=False sets a linear model's design"]),
        ({"model": "b1*x", "standardize": False}, ["standardize=False sets a linear model's design"]),
        ({"model": "b1*x", "family": "logistic"}, ["leave family='linear'"]),
    ],
)
def test_mistakes_in_a_formula_are_named(kwargs, words):
    with pytest.raises(InputError) as err:
        fit({"x": MISRA.x, "y": MISRA.y}, y="y", **kwargs)
    for word in words:
        assert word in str(err.value), str(err.value)


@pytest.mark.parametrize("rows", [14, 150_000])  # MINPACK's size, and the compiled path's (x 2 > SMALL)
def test_a_start_the_formula_cannot_be_fitted_from_is_refused_before_any_solver_runs(monkeypatch, rows):
    """Where the formula is not finite at the start, the first such row and its columns are named;
    where every residual is finite but the sum of their squares overflows, the residual that does
    it is named and the advice is the data's scale. Both before MINPACK runs or a solver is compiled."""
    from gdlab.fitting import _formula, _minpack

    monkeypatch.setattr(_formula, "_runner", lambda *a: pytest.fail("a solver was compiled"))
    monkeypatch.setattr(_minpack, "_lmder", lambda *a: pytest.fail("MINPACK ran"))
    x = np.resize(MISRA.x, rows)
    data = {"x": x, "y": np.resize(MISRA.y, rows)}
    with pytest.raises(InputError) as err:
        fit(data, y="y", model="a*exp(b*x)", init={"a": 1.0, "b": 1.0})  # exp(760) overflows
    said = str(err.value)
    assert said.startswith("the formula 'a*exp(b*x)' is inf at row 13 (x=760) at the start a=1, b=1"), said
    assert err.value.parameter == "init"
    with pytest.raises(InputError) as err:
        fit(data, y="y", model="a*exp(b*x)", init={"a": 1.0, "b": 0.9})  # exp(684) is 1e297, its square inf
    big = int(np.argmax(x))
    assert str(err.value) == (
        f"the sum of squares of the formula 'a*exp(b*x)' overflows float64 at the start a=1, b=0.9: its "
        f"residual at row {big} (x={x[big]:.6g}) is {MISRA.y[big % 14] - np.exp(0.9 * x[big]):.6g}: choose "
        "starting values nearer the data's scale (init)"
    )


def test_a_formula_without_a_numpy_form_is_refused_at_its_start_in_the_same_words():
    data = {"x": MISRA.x, "y": MISRA.y}
    with pytest.raises(InputError) as err:  # sum() has no NumPy form: the compiled path's first row says it
        fit(data, y="y", model="a*exp(b*x) + 0*sum(x)", init={"a": 1.0, "b": 1.0})
    assert str(err.value).startswith(
        "the formula 'a*exp(b*x) + 0*sum(x)' is inf at row 13 (x=760) at the start a=1, b=1: choose other"
    )


def test_gauss_newton_that_diverges_says_to_use_lm():
    x, y = np.array([1.0, 2.0, 3.0, 5.0, 7.0, 10.0]), np.array([109.0, 149.0, 149.0, 191.0, 213.0, 224.0])
    result = fit(
        {"x": x, "y": y}, y="y", model="b1*(1-exp(-b2*x))", init={"b1": 1.0, "b2": 1.0}, method="gauss-newton"
    )
    assert result.status is not None and result.status.value == "diverged"
    assert "use method='lm'" in result.warnings[0]


def test_the_same_formula_on_new_data_of_the_same_size_reuses_the_compiled_fit(monkeypatch):
    monkeypatch.setattr(_formula, "SMALL", 0)  # the compiled path, which a larger formula takes
    data = {"x": MISRA.x, "y": MISRA.y}
    first = fit(data, y="y", model=MISRA.formula, init=MISRA.starts[0])
    fitted = first.predict({"x": MISRA.x})
    with _lowerings() as seen:  # twice the response: b1 doubles, b2 stays, from the other start
        double = fit({"x": MISRA.x, "y": 2 * MISRA.y}, y="y", model=MISRA.formula, init=MISRA.starts[1])
        double.predict({"x": MISRA.x[::-1]})
        double.predict({"x": MISRA.x[::-1] + 1})
    assert seen == []
    b1, b2 = MISRA.certified.values()
    assert digits(double.coef, [2 * b1, b2]) >= 9
    np.testing.assert_allclose(double.predict({"x": MISRA.x}), 2 * fitted, rtol=1e-9)
    with _lowerings() as seen:  # one row fewer is another size: compiled anew (the count can fail)
        fit({"x": MISRA.x[1:], "y": MISRA.y[1:]}, y="y", model=MISRA.formula, init=MISRA.starts[1])
    assert seen != []


def test_a_run_longer_than_one_call_goes_on_where_the_last_call_stopped(monkeypatch):
    monkeypatch.setattr(_formula, "SMALL", 0)  # the compiled path, which a larger formula takes
    data = {"x": MISRA.x, "y": MISRA.y}
    whole = fit(data, y="y", model=MISRA.formula, init=MISRA.starts[0]).trajectory
    monkeypatch.setattr(_formula, "_CHUNK", 5)
    again = fit(data, y="y", model=MISRA.formula, init=MISRA.starts[0]).trajectory
    assert whole is not None and again is not None and whole.steps == again.steps == 29
    np.testing.assert_array_equal(again.flat_params(), whole.flat_params())
    np.testing.assert_array_equal(again.loss, whole.loss)
    assert again.status.value == "converged"
    short = fit(data, y="y", model=MISRA.formula, init=MISRA.starts[0], steps=12).trajectory
    assert short is not None and short.steps == 12 and short.status.value == "max_steps"
    np.testing.assert_array_equal(short.loss, whole.loss[:13])


def test_recorded_losses_and_gradients_are_the_formulas_own():
    result = fit({"x": MISRA.x, "y": MISRA.y}, y="y", model=MISRA.formula, init=MISRA.starts[0])
    path = result.trajectory
    assert path is not None

    def exact(k: int) -> tuple[float, np.ndarray]:  # the sum of squares and its gradient in b1, b2
        b1, b2 = path.params["b1"][k], path.params["b2"][k]
        e = np.exp(-b2 * MISRA.x)
        r = MISRA.y - b1 * (1 - e)
        return r @ r, np.array([-2 * r @ (1 - e), -2 * r @ (b1 * MISRA.x * e)])

    scale = np.array(list(MISRA.starts[0].values()))  # lm's scaled parameters b / start
    top = np.linalg.norm(exact(0)[1] * scale)
    for k in range(path.steps + 1):
        loss, gradient = exact(k)
        recorded = np.array([path.grad["b1"][k], path.grad["b2"][k]])
        np.testing.assert_allclose(path.loss[k], loss, rtol=1e-12)
        np.testing.assert_allclose(recorded * scale, gradient * scale, rtol=1e-7, atol=1e-10 * top)


@pytest.mark.parametrize("kind", ["exp", "thurber", "gauss"])
def test_the_benchmarks_numpy_jacobians_are_the_models_own(kind):
    problem = {"exp": MISRA, "thurber": thurber_like(), "gauss": gauss_like()}[kind]
    model = MODELS.get(kind, lambda b, x, exp=jnp.exp: b[0] * (1 - exp(-b[1] * x)))
    b = np.array(list(problem.starts[1].values()))
    autodiff = jax.jacfwd(lambda c: model(c, jnp.asarray(problem.x), jnp.exp))(jnp.asarray(b))
    np.testing.assert_allclose(
        JACOBIANS[kind](b, problem.x), autodiff, rtol=1e-12, atol=1e-12 * np.abs(autodiff).max()
    )


def test_gd_beside_lm_takes_a_rate_safe_where_the_curvature_grows():
    rng = np.random.default_rng(1)
    x = np.linspace(0, 10, 30)
    y = 2.5 * (1 - np.exp(-0.69 * x)) + 0.02 * rng.normal(size=30)
    # From b2=0.1 the curvature at the start is 1/3 of that at the solution: 1/L there diverged.
    result = fit({"x": x, "y": y}, y="y", model="b1*(1-exp(-b2*x))", init={"b1": 1, "b2": 0.1},
                 method="gd", steps=20_000)  # fmt: skip
    assert result.status.value == "converged", result.message
    assert "the larger at the start and at lm's solution" in result.lr_source
    np.testing.assert_allclose(result.coef, result.closed_form, rtol=1e-7)


@pytest.mark.parametrize(
    ("method", "start"),
    [
        ("lm", {"a": 1.0, "k": 0.1, "c": 0.0}),
        ("gauss-newton", {"a": 1.5, "k": 0.5, "c": 0.3}),
        ("adam", {"a": 1.0, "k": 0.1, "c": 0.0}),
    ],
)
def test_a_models_coefficients_keep_their_names_in_the_formulas_order(method, start):
    """``a*exp(-k*t)+c`` names its parameters a, k, c: not in sorted order (a, c, k), which is the
    order a dict of them flattens in. Every view of the fit (its coefficients, its prediction,
    its recorded path as a table) pairs each name with its own value, as SciPy's curve_fit does."""
    import pandas as pd

    rng = np.random.default_rng(0)
    t = np.linspace(0, 5, 40)
    y = 2 * np.exp(-0.7 * t) + 0.5 + 0.01 * rng.standard_normal(40)
    data = pd.DataFrame({"t": t, "y": y})
    reference, _ = scipy.optimize.curve_fit(lambda t, a, k, c: a * np.exp(-k * t) + c, t, y, p0=[1, 0.1, 0])
    extra = {"lr": 0.05, "steps": 20_000} if method == "adam" else {}
    result = fit(data, y="y", model="a*exp(-k*t)+c", init=start, method=method, **extra)
    assert result.names == ("a", "k", "c")
    np.testing.assert_allclose(result.coef, reference, rtol=1e-6)
    np.testing.assert_allclose(
        np.asarray(result.predict(data)), reference[0] * np.exp(-reference[1] * t) + reference[2], rtol=1e-6
    )
    last = result.trajectory.to_pandas().iloc[-1]
    for name, value in zip(result.names, reference, strict=True):
        assert last[name] == pytest.approx(value, rel=1e-6)
        assert result.trajectory.params[name][-1] == pytest.approx(value, rel=1e-6)


def test_a_small_formula_is_fitted_without_importing_jax_sympy_or_scipy_stats():
    from fresh import run_fresh

    script = (
        "import numpy as np, gdlab\n"
        f"x, y = np.array({MISRA.x.tolist()}), np.array({MISRA.y.tolist()})\n"
        f"fit = gdlab.fit({{'x': x, 'y': y}}, y='y', model={MISRA.formula!r}, init={MISRA.starts[0]!r})\n"
        "fit.summary(); fit.to_dict(); fit.predict({'x': x})\n"
        "found = fit.coef.tolist()\n"
    )
    imported, coef = run_fresh(script, ("jax", "sympy", "scipy.stats", "pandas", "optax"))
    assert imported == []
    assert digits(np.array(coef), list(MISRA.certified.values())) >= 9


@pytest.mark.parametrize("start", [0, 1])
def test_minpack_and_the_compiled_path_give_the_same_fit(monkeypatch, start):
    """BoxBOD's first start stalls MINPACK far from the minimum (the residuals not orthogonal to the
    Jacobian): the compiled path takes over there. From the second start MINPACK converges. Either
    way the Fit holds the same things, to the accuracy of the fit."""
    from nls_problems import boxbod

    case = boxbod()
    data = {"x": case.x, "y": case.y}
    fast = fit(data, y="y", model=case.formula, init=case.starts[start])
    monkeypatch.setattr(_formula, "SMALL", 0)
    compiled = fit(data, y="y", model=case.formula, init=case.starts[start])
    assert digits(fast.coef, list(case.certified.values())) >= 9
    if start == 0:  # the fallback ran: the very same run
        np.testing.assert_array_equal(fast.coef, compiled.coef)
        assert fast.trajectory.steps == compiled.trajectory.steps
    else:  # different paths: MINPACK's 14 moves and 4 polishing steps, optimistix's 15 moves
        assert fast.trajectory.steps == 18 and compiled.trajectory.steps == 15
        assert digits(fast.coef, list(case.certified.values())) > digits(
            compiled.coef, list(case.certified.values())
        )
    np.testing.assert_allclose(fast.stats.se, compiled.stats.se, rtol=1e-8)
    assert fast.trajectory.message.startswith("converged at step")
    assert fast.to_dict().keys() == compiled.to_dict().keys()
    assert fast.summary().splitlines()[0] == compiled.summary().splitlines()[0]


def test_the_numpy_form_and_its_jacobian_equal_jaxs_for_every_function():
    from gdlab._expr import numeric_form, parse

    text = (
        "b1*sin(b2*x) + cos(b1*x) + tan(b2*x/9) + exp(-b1*x) + log(b1*x) + log10(b2*x) + log2(x+b1)"
        " + sqrt(b1*x) + abs(b2-x) + tanh(b1*x) + sigmoid(b2*x) + relu(b1-x) + softplus(b2*x)"
        " + min(b1, x) + max(b2*x, 1) + clip(x, b1, 2) + arcsin(b2*x/5) + arccos(b2*x/5) + arctan(b1*x)"
        " + sinh(b2*x) + cosh(b1*x) + erf(b2*x) + x^b1 + b2^x + 2^0.5/b1 - -b2"
    )
    x = np.array([0.3, 0.7, 1.1, 1.9, 2.6])
    b = np.array([0.8, 0.45])
    form = numeric_form(text, ("x",))
    assert form is not None and form.params == ("b1", "b2")
    values, jacobian = form.jacobian(b, {"x": x}, len(x))
    expression = parse(text, data={"x": x})
    fn = lambda c: expression.function(dict(zip(expression.params, c, strict=True)))
    np.testing.assert_allclose(values, np.asarray(fn(jnp.asarray(b))), rtol=1e-13)
    np.testing.assert_allclose(jacobian, np.asarray(jax.jacfwd(fn)(jnp.asarray(b))), rtol=1e-12, atol=1e-13)
    assert numeric_form("b*sum(x)", ("x",)) is None and numeric_form("b*x[0]", ("x",)) is None


def test_fewer_steps_than_minpack_needs_end_where_the_compiled_run_ends():
    data = {"x": MISRA.x, "y": MISRA.y}
    short = fit(data, y="y", model=MISRA.formula, init=MISRA.starts[0], steps=5)
    assert short.trajectory.steps == 5 and short.status.value == "max_steps"
    assert short.warnings and "lm:" in short.warnings[0]


def test_a_method_that_scales_its_own_steps_gets_the_linear_fits_default_rate_on_a_typed_model():
    """Adam beside lm on Engel's power law was given 1/L = 8.5e-8 from the Gauss-Newton Hessian and
    never moved (a = 1.0004 from 1 after 5,000 steps); like a linear fit's on standardised
    regressors, its rate is 0.1 of the parameters scaled by their starts."""
    import statsmodels.api as sm

    engel = sm.datasets.engel.load_pandas().data
    result = fit(engel, y="foodexp", model="a*income^b", init={"a": 1, "b": 0.5}, method="adam")
    assert result.lr == 0.1 and "default 0.1 for adam" in str(result.lr_source)
    assert result.max_difference < 0.05  # from a difference of 1.75 (a: 2.75 against 1.0004)
    gd = fit(engel, y="foodexp", model="a*income^b", init={"a": 1, "b": 0.5}, method="gd")
    assert gd.lr is not None and gd.lr < 1e-6  # the curvature's rate for gd, as before


def test_a_formulas_statistics_are_computed_when_first_read_and_equal_computed_at_once(monkeypatch):
    """A script that reads only the coefficients does not pay for the standard errors (a third of a
    warm fit); reading them gives what computing them at once gives, computed once."""
    problem = misra1a()
    data, start = {"x": problem.x, "y": problem.y}, problem.starts[1]
    calls = []
    inference = _formula._inference
    monkeypatch.setattr(_formula, "_inference", lambda *a: calls.append(1) or inference(*a))
    result = fit(data, y="y", model=problem.formula, init=start)
    assert calls == [] and result.coefficients["b1"] == pytest.approx(problem.certified["b1"], rel=1e-9)
    first = result.stats
    assert calls == [1] and result.stats is first  # kept once computed
    expected = inference(_problem_of(data, problem.formula), result.coef)
    np.testing.assert_array_equal(first.se, expected.se)
    np.testing.assert_array_equal(first.cov, expected.cov)
    assert "std error" in result.summary()


def _problem_of(data, model):
    """The fit's problem as fit_formula builds it (for the statistics computed at once)."""
    captured = {}
    original = _formula._path

    def keep(problem, *args):
        captured["problem"] = problem
        return original(problem, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_formula, "_path", keep)
        fit(data, y="y", model=model, init=misra1a().starts[1])
    return captured["problem"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"y": "y", "x": "x"},
        {"formula": "y ~ x"},
        {"y": "y", "x": "x", "method": "gd"},
        {"y": "y", "model": "a*x + b", "init": {"a": 1.0, "b": 1.0}},
        {"y": "y", "x": "x", "method": "sgd", "batch_size": 4, "seed": 1},
        {"y": "y", "x": "x", "method": "adam"},  # its rate's source is a Sentence
        {"y": "big", "x": "x", "family": "logistic"},
        {"y": "big", "x": "x", "family": "logistic", "method": "gd"},
        {"formula": "y ~ x", "family": "poisson"},
    ],
)
def test_a_fit_survives_a_pickle(kwargs):
    """A fit pickled and read back (joblib, multiprocessing) reads the same: a formula's statistics
    are computed before it is written."""
    import copy
    import pickle

    from gdlab.datasets import cafe

    x, y = cafe().x, cafe().y
    big = np.array([0, 1, 0, 0, 1, 1, 0, 1, 1, 0.0])  # sales above the median, but for two swapped
    result = fit({"x": x, "y": y, "big": big}, **kwargs)
    again = pickle.loads(pickle.dumps(result))
    assert again.summary() == result.summary() == copy.deepcopy(result).summary()
    np.testing.assert_array_equal(again.coef, result.coef)
    np.testing.assert_array_equal(again.predict({"x": [20.0, 30.0]}), result.predict({"x": [20.0, 30.0]}))


def test_a_converged_formula_fits_run_is_recorded_when_first_read():
    """The trajectory of a converged formula fit is built when first read, once, as the fit's
    statistics are; the coefficients, status and warnings are there before, and read the same rows."""
    from gdlab.fitting._result import Later

    problem = misra1a()
    result = fit({"x": problem.x, "y": problem.y}, y="y", model=problem.formula, init=problem.starts[1])
    assert isinstance(result.__dict__["_trajectory_kept"], Later)
    path = result.trajectory
    assert result.trajectory is path and not isinstance(result.__dict__["_trajectory_kept"], Later)
    assert path.status.value == "converged" and path.message.startswith("converged at step 6")
    np.testing.assert_array_equal(result.coef, path.flat_params()[-1])
    assert not path.loss.flags.writeable and not path.params["b1"].flags.writeable
    assert result.warnings == ()


@pytest.mark.parametrize("column", ["e", "pi"])
def test_a_column_named_as_a_constant_is_the_data_in_a_formula(column):
    """A column called e or pi is the data in model= (as in every expression), not the constant:
    the fit reads it, with or without a NumPy form."""
    x = np.linspace(0.5, 3.0, 12)
    y = 2.5 * np.exp(0.3 * x)
    for model in (f"a*exp(b*{column})", f"a*exp(b*{column}) + 0*mean({column})"):
        result = fit({column: x, "y": y}, y="y", model=model, init={"a": 1.0, "b": 0.1})
        assert result.names == ("a", "b")
        np.testing.assert_allclose(result.coef, [2.5, 0.3], rtol=1e-9)


def test_an_unknown_method_is_refused_alike_for_a_formula_and_a_linear_fit():
    """One refusal for every model: the nearest name and every name fit takes (lm and gauss-newton
    among them, which a formula's refusal used to leave out)."""
    x = np.linspace(0.0, 1.0, 10)
    data = {"x": x, "y": 2 * x}
    said = []
    for model in ({"model": "a*x"}, {"x": "x"}):
        with pytest.raises(InputError) as err:
            fit(data, y="y", method="gaus-newton", **model)
        said.append(str(err.value))
    assert said[0] == said[1]
    assert "did you mean 'gauss-newton'?" in said[0] and ", lm, gauss-newton" in said[0]


@pytest.mark.parametrize(
    "how",
    [
        {"model": "a*exp(-b*x)", "init": {"a": 1.0, "b": 1.0}},
        {"x": "x"},
        {"formula": "y ~ x + g"},
        {"formula": "big ~ x", "family": "logistic"},
        {"formula": "k ~ x + g", "family": "poisson"},
    ],
)
def test_a_new_row_with_a_missing_value_predicts_nan_in_its_place(how, tmp_path):
    """A new row with a missing value (NaN, None, pandas' NA, an empty cell of a CSV) in a column
    the fit reads predicts NaN, in its place among the others (as R's predict with na.pass and
    statsmodels): for a formula, a linear, a Wilkinson, a logistic fit and a GLM, plain and with
    intervals; the complete rows predict what they predict alone. A column the fit does not read
    may be missing anywhere."""
    import pandas as pd

    x = np.linspace(0.1, 1.0, 10)
    g = np.array(list("abababbaba"), dtype=object)
    data = {"x": x, "y": 2 * np.exp(-x) + 0.01 * np.sin(7 * x), "g": g, "big": (x > 0.45) ^ (x == 0.5),
            "k": np.array([1, 0, 2, 1, 3, 2, 4, 3, 5, 6])}  # fmt: skip
    data["big"] = np.array([0, 0, 1, 0, 1, 1, 0, 1, 1, 1])
    formula = how.pop("formula", None)
    result = fit(data, formula, **how) if formula else fit(data, y="y", **how)
    whole = {"x": [0.3, 0.7, 0.9], "g": ["a", "b", "b"], "unread": [np.nan, 1.0, np.nan]}
    alone = result.predict(whole)
    gaps = [
        {"x": [0.3, np.nan, 0.7, 0.9], "g": ["a", "a", "b", "b"]},
        pd.DataFrame({"x": pd.array([0.3, pd.NA, 0.7, 0.9], dtype="Float64"), "g": ["a", "b", "b", "b"]}),
        {"x": [0.3, 0.5, 0.7, 0.9], "g": ["a", None, "b", "b"]},
    ]
    csv = tmp_path / "new.csv"
    csv.write_text("x,g\n0.3,a\n,b\n0.7,b\n0.9,b\n")
    reads_g = "+ g" in (formula or "")
    for new in [*gaps, str(csv)]:
        if not reads_g and isinstance(new, dict) and not np.isnan(np.asarray(new["x"], float)).any():
            continue  # g missing, not read: that row is complete
        found = result.predict(new)
        assert np.isnan(found[1]) and found.shape == (4,)
        np.testing.assert_allclose(found[[0, 2, 3]], alone, rtol=1e-12)
        frame = result.predict(new, interval="confidence")
        assert list(frame.index) == [0, 1, 2, 3] and frame.iloc[1].isna().all()
        np.testing.assert_allclose(frame["mean"].to_numpy()[[0, 2, 3]], alone, rtol=1e-12)
        assert np.isfinite(frame.drop(index=1).to_numpy()).all()
    every = result.predict({"x": [np.nan, np.nan], "g": ["a", "b"]}, interval="confidence")
    assert every.shape == (2, 4) and every.isna().all().all()
    assert np.isnan(result.predict({"x": [np.nan], "g": ["a"]})).all()
    with pytest.raises(InputError, match="infinite value"):  # not missing but wrong: still refused
        result.predict({"x": [0.3, np.inf], "g": ["a", "b"]})


def test_a_prediction_outside_the_formulas_domain_is_said_in_a_warning():
    """A formula not a finite number at a new row (a log of a negative number) predicts NaN there,
    and says so in a warning naming how many rows, the first and its values (R warns "NaNs
    produced"); rows with a missing value are not counted (they are NaN by choice), and a prediction
    that is finite everywhere warns of nothing."""
    import warnings

    from gdlab.fitting._result import NotFiniteWarning

    x = np.linspace(1.0, 5.0, 12)
    result = fit({"x": x, "y": 3 * np.log(x) + 1}, y="y", model="a*log(x)+b", init={"a": 1.0, "b": 1.0})
    with pytest.warns(NotFiniteWarning, match=r"^2 new rows predict NaN .*the first is row 2, where x=-2\)"):
        found = result.predict({"x": [2.0, np.nan, -2.0, -1.0]})
    np.testing.assert_allclose(found[0], 3 * np.log(2) + 1, rtol=1e-9)
    assert np.isnan(found[1:]).all()
    with pytest.warns(NotFiniteWarning, match=r"^a new row predicts NaN or an infinity \(row 0, where x=0\)"):
        result.predict({"x": [0.0]}, interval="prediction")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result.predict({"x": [2.0, np.nan]})


@pytest.mark.parametrize(
    ("given", "said"),
    [({"weights": "w"}, "weights apply"), ({"family": "poisson"}, "family 'poisson' applies"),
     ({"offset": "w"}, "offset applies")],
)  # fmt: skip
def test_weights_and_families_with_a_formula_are_refused_in_words_that_fit(given, said):
    """A nonlinear formula is fitted by unweighted least squares: weights, an offset or a family are
    refused as such (they used to be told to name their regressors with x=, which fits no formula)."""
    x = np.linspace(0.1, 1.0, 10)
    data = {"x": x, "y": 2 * np.exp(-x), "w": np.ones(10)}
    with pytest.raises(InputError, match=f"fitted by unweighted least squares: {said} to a linear predictor"):
        fit(data, y="y", model="a*exp(-b*x)", init={"a": 1.0, "b": 1.0}, **given)


@pytest.mark.parametrize(
    ("model", "init"),
    [("a + b*log10(c*x)", {"a": 1.0, "b": 1.0, "c": 1.0}),  # a and b*log10(c): one effect
     ("a*x^(b^2)", {"a": 1.0, "b": 0.0})],  # b has no effect at 0, where the fit stops
)  # fmt: skip
def test_a_formula_fit_without_standard_errors_says_why(model, init):
    """A converged formula fit whose Jacobian is rank-deficient at the answer has no statistics, and
    says so in its summary, its to_dict() warnings and the refusal of conf_int (it said nothing, and
    fit.stats was None)."""
    x = np.linspace(0.5, 3.0, 12)
    result = fit({"x": x, "y": 2 * np.log10(3 * x) + 1 + 2 * x**1.5}, y="y", model=model, init=init)
    assert result.status.value == "converged" and result.stats is None
    said = "no standard errors: the Jacobian at the answer is rank-deficient"
    assert f"warning: {said}" in result.summary()
    assert any(w.startswith(said) for w in result.to_dict()["warnings"])
    with pytest.raises(InputError, match="so no conf_int: the Jacobian at the answer is rank-deficient"):
        result.conf_int()
    full = fit(
        {"x": x, "y": 2 * x**1.5 + 0.01 * np.sin(7 * x)}, y="y", model="a*x^b", init={"a": 1.0, "b": 1.0}
    )
    assert full.stats is not None and not any("rank-deficient" in w for w in full.to_dict()["warnings"])


def test_options_a_fit_would_ignore_are_refused_in_words():
    """tol and lr with lm or gauss-newton (which stop and step by their own rules), and init with a
    linear fit (which has no parameters to start), were dropped without a word."""
    x = np.linspace(0.1, 1.0, 10)
    data = {"x": x, "y": 2 * np.exp(-x)}
    curve = {"model": "a*exp(-b*x)", "init": {"a": 1.0, "b": 1.0}}
    with pytest.raises(InputError, match="tol sets a descent method's steps and stop; method='lm' chooses"):
        fit(data, y="y", tol=1e-3, **curve)
    with pytest.raises(
        InputError, match="lr and tol set a descent method's steps and stop; method='gauss-newton'"
    ):
        fit(data, y="y", lr=0.1, tol=1e-3, method="gauss-newton", **curve)
    with pytest.raises(InputError, match=r"a linear fit \(x=\.\.\.\) has none to give"):
        fit(data, y="y", x="x", init={"a": 1.0})
    assert fit(data, y="y", method="adam", lr=0.01, steps=100, tol=1e-12, **curve).method == "adam"


def test_steps_that_stop_at_an_edge_of_the_formulas_domain_are_not_called_converged():
    """``a*t^k`` on data with t = 0: as k falls to 0 the row at t = 0 jumps (0^k = 0 for k > 0, 1 at
    0), so the sum of squares has no minimum there; MINPACK's answer is not stationary and the
    compiled solver's steps stop at k = 3e-16 with a gradient of norm 17. That is stalled, in
    words, not converged. The same formula on t > 0 reaches its minimum (SciPy's agrees)."""
    rng = np.random.default_rng(0)
    t = np.linspace(0.0, 5.0, 40)
    y = 3 * np.exp(-0.7 * t) + 0.05 * rng.normal(size=40)
    edge = fit({"t": t, "y": y}, y="y", model="a*t^k", init={"a": 1.0, "k": 0.5})
    assert edge.status is Status.STALLED and edge.stats is None
    assert (
        "the steps stopped changing the parameters, but not at a minimum: the gradient norm is"
        in edge.message
    )
    assert abs(edge.coefficients["k"]) < 1e-6
    inside = fit({"t": t[1:], "y": y[1:]}, y="y", model="a*t^k", init={"a": 1.0, "k": -0.5})
    assert inside.status is Status.CONVERGED
    theirs = scipy.optimize.least_squares(
        lambda b: b[0] * t[1:] ** b[1] - y[1:], [1.0, -0.5], method="lm", ftol=1e-15, xtol=1e-15, gtol=1e-15
    )
    np.testing.assert_allclose(inside.coef, theirs.x, rtol=1e-7)
    assert inside.stats.rss <= 2 * theirs.cost * (1 + 1e-12)  # cost is half the sum of squares


def test_an_answer_where_the_parameters_are_nearly_dependent_is_said_to_be_degenerate():
    """``A*sin(w*t+ph)+c`` started at w = 0.5 on data of w = 1.5 ends (as SciPy's does) where w is
    3e-4 and A = -c = 1.4e6: the Jacobian's columns, scaled, are dependent to 6e13 (an SVD of the
    exact Jacobian agrees, to 5%), past the linear fit's limit of 1e8, and the summary says so. Started at
    w = 1.4 it finds the sine, at a scaled condition of 4, and says nothing; NIST's hardest
    well-posed problem (Bennett5) is at 5.5e4."""
    t = np.linspace(0.0, 10.0, 80)
    y = 2 * np.sin(1.5 * t + 0.5) + 1 + 0.1 * np.random.default_rng(1).normal(size=80)
    data = {"t": t, "y": y}
    lost = fit(data, y="y", model="A*sin(w*t+ph)+c", init={"A": 1.0, "w": 0.5, "ph": 0.0, "c": 0.0})
    A, w, ph, _ = lost.coef
    exact = np.column_stack(
        [np.sin(w * t + ph), A * t * np.cos(w * t + ph), A * np.cos(w * t + ph), np.ones_like(t)]
    )
    singular = np.linalg.svd(exact / np.linalg.norm(exact, axis=0), compute_uv=False)
    # (to 5%: at a condition of 6e13 each computation is known to about eps * 6e13 = 1.3%)
    assert lost.stats.scaled_condition == pytest.approx(singular[0] / singular[-1], rel=5e-2)
    # the summary names both condition numbers, so that its warning's never seems to contradict it
    stats = lost.stats
    assert (
        f"condition number {stats.condition:.3g} ({stats.scaled_condition:.3g} with its columns scaled)"
        in (lost.summary())
    )
    assert lost.stats.scaled_condition > 1e13 and abs(w) < 1e-3
    said = [note for note in lost.to_dict()["warnings"] if "ill-conditioned" in note]
    assert len(said) == 1 and said[0].startswith(
        "the Jacobian at the answer is ill-conditioned: condition number"
    )
    assert "warning: the Jacobian at the answer is ill-conditioned" in lost.summary()
    found = fit(data, y="y", model="A*sin(w*t+ph)+c", init={"A": 1.0, "w": 1.4, "ph": 0.0, "c": 0.0})
    assert found.stats.scaled_condition < 10 and not found.to_dict()["warnings"]
    np.testing.assert_allclose(found.coef[:2], [2.0, 1.5], rtol=2e-2)


def test_lm_is_named_as_its_docs_name_it_and_a_formula_needs_its_response():
    data = {"x": MISRA.x, "y": MISRA.y}
    start = {"b1": 500.0, "b2": 1e-4}
    named = fit(data, y="y", model="b1*(1-exp(-b2*x))", init=start, method="Levenberg-Marquardt")
    assert named.method == "lm"
    np.testing.assert_array_equal(named.coef, fit(data, y="y", model="b1*(1-exp(-b2*x))", init=start).coef)
    assert (
        fit(data, y="y", model="b1*(1-exp(-b2*x))", init=start, method="gauss_newton").method
        == "gauss-newton"
    )
    with pytest.raises(InputError, match=r"name the response column: y='y' beside model='b1\*x'"):
        fit(data, model="b1*x")


@pytest.mark.parametrize("method", ["lm", "gauss-newton"])  # MINPACK's path, and the compiled one's
def test_a_start_where_the_formula_is_finite_but_a_derivative_is_not_is_refused_naming_it(method):
    """A Gaussian peak started at s = 0: the formula is 0 (finite) wherever t is not mu, but its
    derivatives are 0/0 there; no step can be taken, and the refusal names the parameter and the
    row, before any solver runs. Started near the peak it fits it."""
    t = np.linspace(-3.0, 3.0, 40)
    data = {"t": t, "y": 5 * np.exp(-((t - 0.3) ** 2) / (2 * 0.8**2))}
    model = "h*exp(-(t-mu)**2/(2*s**2))"
    with pytest.raises(InputError) as err:
        fit(data, y="y", model=model, init={"h": 1.0, "mu": 0.0, "s": 0.0}, method=method)
    assert str(err.value) == (
        f"the formula {model!r} is finite at the start h=1, mu=0, s=0, but its derivative in mu is nan at "
        "row 0 (t=-3): no step can be taken from there; choose other starting values (init)"
    )
    found = fit(data, y="y", model=model, init={"h": 4.0, "mu": 0.2, "s": 0.9}, method=method)
    np.testing.assert_allclose(found.coef, [5.0, 0.3, 0.8], rtol=1e-8)


def test_starts_of_every_kind_are_checked_as_one_number_is():
    """init's values are read as :func:`gdlab._checks.number` reads one: finite floats at once,
    anything else (an int, a NumPy number, text, inf) one by one, the first wrong one named."""
    from gdlab._checks import numbers

    assert numbers({"a": 1.0, "b": -2.5}, positive=False) == [1.0, -2.5]
    assert numbers({"a": 1, "b": np.float32(0.5)}, positive=False) == [1.0, 0.5]
    with pytest.raises(InputError, match=r"b must be a finite number > 0; got 0"):
        numbers({"a": 1.0, "b": 0.0})
    t = np.linspace(0.0, 1.0, 10)
    for bad, said in ((float("inf"), "must be a finite number; got inf"), ("2", "must be a number; got '2'")):
        with pytest.raises(InputError, match=re.escape(f"init['k'] {said}")):
            fit({"t": t, "y": t}, y="y", model="a*exp(k*t)", init={"a": 1.0, "k": bad})


def test_a_formula_fitted_without_starts_says_every_parameter_started_at_1():
    """Without init every parameter starts at 1 (a peak's centre far from it), and the fit's
    warnings say so, in each front end's words; with init nothing is said."""
    t = np.linspace(0.0, 6.0, 40)
    data = {"t": t, "y": 2 * np.exp(-((t - 3.1) ** 2) / (2 * 0.6**2)) + 0.3}
    model = "a*exp(-(t-mu)^2/(2*s^2))+c"
    bare = fit(data, y="y", model=model)
    assert bare.trajectory.flat_params()[0].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert any("every parameter started at 1" in w and "(init)" in w for w in bare.warnings)
    started = fit(data, y="y", model=model, init={"a": 1.0, "mu": 3.0, "s": 1.0, "c": 0.0})
    assert started.coef == pytest.approx([2.0, 3.1, 0.6, 0.3], rel=1e-9)
    assert not any("started at 1" in w for w in started.warnings)


@pytest.mark.parametrize("method", ["gauss-newton", "lm"])
def test_data_fitted_exactly_end_the_compiled_run_at_their_rounding(method, monkeypatch):
    """Gauss-Newton takes every step, so on data a formula fits exactly its sum of squares wanders
    within its rounding (1e-30) and its relative stop rule never held: 5,000 steps, no statistics.
    The compiled run now ends where the sum of squares reaches its residuals' rounding, and says
    so; Levenberg-Marquardt on the compiled path (MINPACK kept out) ends so too."""
    from gdlab.fitting import _formula

    monkeypatch.setattr(_formula, "SMALL", 0)  # the compiled path for lm too
    t = np.linspace(0.0, 10.0, 30)
    data = {"t": t, "y": 5 * np.exp(-0.7 * t) + 0.5}
    found = fit(data, y="y", model="A*exp(-k*t)+c", init={"A": 1.0, "k": 0.3, "c": 0.0}, method=method)
    assert found.status is Status.CONVERGED and found.steps < 100
    np.testing.assert_allclose(found.coef, [5.0, 0.7, 0.5], rtol=1e-13)
    assert found.stats is not None and np.all(found.stats.se < 1e-14)
    if method == "gauss-newton":
        assert "the residuals reached their rounding (|r| <= 16 eps |y|): the fit is exact" in found.message


def test_a_method_that_stops_by_its_own_rule_is_never_told_to_give_a_tolerance():
    """lm and gauss-newton take no tol (it is refused): a run of theirs that reaches its step limit
    with its gradient vanished, or its steps at the rounding, is not told to give one."""
    from gdlab._engine import Outcome, describe, facts_from_rows

    loss = np.array([10.0, 1.0, 1e-20, 1e-20])
    grads = np.array([[4.0, 1.0], [1.0, 0.5], [1e-12, 1e-12], [1e-12, 1e-12]])
    params = np.array([[0.0, 0.0], [0.5, 0.5], [1.0, 1.0], [1.0, 1.0]])
    for method, told in (("gauss-newton", False), ("lm", False), ("gd", True)):
        facts = facts_from_rows(Outcome.MAX_STEPS, loss, grads, params, lr=None, tol=None, method=method)
        assert ("tolerance" in describe(facts)) is told, describe(facts)


def test_a_fit_exact_to_the_datas_rounding_reports_no_precision_it_has_not():
    """Gauss-Newton ends on noise-free data with residuals at the data's rounding (a sum of squares
    of 1e-30, not 0): it reported standard errors of 6e-17, t of 5e16 and ***. Residuals within
    the rounding are 0, as lm's are: standard errors 0, t and p undefined, said in a warning. The
    gradient norm its sentence names is in the parameters' own units, as its trajectory's."""
    t = np.linspace(0.2, 10.0, 40)
    data = {"t": t, "y": 3 * (1 - np.exp(-0.4 * t))}
    for method in ("gauss-newton", "lm"):
        found = fit(data, y="y", model="b1*(1-exp(-b2*t))", init={"b1": 2.5, "b2": 0.3}, method=method)
        assert found.stats.rss == 0 and np.all(found.stats.se == 0) and np.all(np.isnan(found.stats.pvalue))
        assert any("the fit is exact" in w for w in found.warnings) and "<2e-16" not in found.summary()
    noisy = {"t": t, "y": data["y"] + 0.05 * np.sin(7 * t)}
    far = fit(noisy, y="y", model="b1*(1-exp(-b2*t))", init={"b1": -1.0, "b2": 0.01})
    last = np.array([far.trajectory.grad[name][-1] for name in far.names])
    assert f"gradient norm {np.linalg.norm(last):.3g}" in far.trajectory.message


def test_a_formula_fits_dictionary_claims_no_closed_form_and_no_descent_it_has_not():
    """to_dict() of a formula fitted by lm alone: its answer is "coefficients"; "closed_form" and
    "descent" are None (they repeated lm's values). With a descent beside it, lm's answer is the
    reference it is compared with, and the descent's its own."""
    t = np.linspace(0.0, 8.0, 25)
    data = {"t": t, "y": 3 * (1 - np.exp(-0.7 * t)) + 0.01 * np.sin(5 * t)}
    alone = fit(data, y="y", model="b1*(1-exp(-b2*t))", init={"b1": 1.0, "b2": 1.0}).to_dict()
    assert alone["closed_form"] is None and alone["descent"] is None and alone["reference"] == "lm"
    assert alone["coefficients"]["b1"] == pytest.approx(3.0, rel=1e-3)
    beside = fit(data, y="y", model="b1*(1-exp(-b2*t))", init={"b1": 1.0, "b2": 1.0}, method="gd").to_dict()
    assert beside["closed_form"] == pytest.approx(alone["coefficients"], rel=1e-12)
    assert beside["descent"] == beside["coefficients"]


@pytest.mark.parametrize("method", ["lm", "gauss-newton"])
@pytest.mark.parametrize("steps", [3, 5000])
def test_a_formula_fits_sentence_gives_the_gradient_norm_its_trajectory_holds(method, steps):
    """The gradient norm a formula fit's sentence gives, stopped at the step limit or converged, is
    the norm of its trajectory's last gradient, in the parameters' own units (the steps are taken in
    parameters scaled by their starts: a run stopped early said 204 where its gradient was 133)."""
    import re

    x = np.linspace(0.0, 5.0, 30)
    data = {"x": x, "y": 3 * np.exp(-0.7 * x) + 0.5 + 0.01 * np.cos(5 * x)}
    found = fit(
        data, y="y", model="A*exp(-k*x)+c", init={"A": 100.0, "k": 0.01, "c": 0.0}, method=method, steps=steps
    )
    said = float(re.search(r"gradient norm ([0-9.e+-]+)", found.trajectory.message).group(1))
    last = found.trajectory.flat_grad()[-1]
    assert said == pytest.approx(float(np.linalg.norm(last)), rel=5e-3)
    assert found.trajectory.message.startswith("stopped at the step limit" if steps == 3 else "converged")


@pytest.mark.parametrize("method", ["lm", "gauss-newton"])
@pytest.mark.parametrize("compiled", [False, True])
def test_a_formula_fit_stopped_at_its_step_limit_takes_the_first_steps_of_the_whole_run(
    method, compiled, monkeypatch
):
    """With ``steps=k`` a formula fit takes the first k steps of the run it takes without a limit (the
    same rows) and says it stopped at the limit. lm with steps=1 used to leave the parameters at
    the start (its first recorded step was the compiled solver's first call, which only evaluates
    the start), and lm cut short by the limit ran the compiled solver's other path instead of
    MINPACK's. Gauss-Newton's first step moves, on either path."""
    if compiled:
        monkeypatch.setattr(_formula, "SMALL", 0)
    t = np.linspace(0.0, 10.0, 40)
    data = {"t": t, "y": 3 * (1 - np.exp(-0.4 * t)) + 0.001 * np.sin(3 * t)}
    start = {"b1": 1.0, "b2": 0.1} if method == "lm" else {"b1": 2.5, "b2": 0.3}
    whole = fit(data, y="y", model="b1*(1-exp(-b2*t))", init=start, method=method).trajectory
    assert whole.status.value == "converged" and whole.steps >= 4
    assert not np.array_equal(whole.flat_params()[1], whole.flat_params()[0]) or method == "lm"
    for k in (1, 2, whole.steps - 1):
        cut = fit(data, y="y", model="b1*(1-exp(-b2*t))", init=start, method=method, steps=k).trajectory
        assert cut.steps == k and cut.message.startswith(f"stopped at the step limit ({k})")
        np.testing.assert_array_equal(cut.flat_params(), whole.flat_params()[: k + 1])
        np.testing.assert_array_equal(cut.loss, whole.loss[: k + 1])
    moved = fit(data, y="y", model="b1*(1-exp(-b2*t))", init=start, method=method, steps=1).trajectory
    assert not np.array_equal(moved.flat_params()[1], moved.flat_params()[0]) or (method, compiled) == (
        "lm",
        True,
    )


def test_predictions_keep_the_new_rows_labels_dtype_and_count_and_say_only_what_applies():
    """A DataFrame's index labels its interval frame (as statsmodels'); no rows predict nothing;
    a float32 fit predicts float32 with rows missing too; an infinite value is refused without
    offering dropna (predict has none); a Wilkinson term outside its function's domain predicts NaN
    with the warning, as a formula's does (it was refused as if the rows were being fitted); and
    the only warning at a formula's domain edge is gdlab's (NumPy's "invalid value" came first)."""
    import warnings

    import pandas as pd

    from gdlab.fitting._result import NotFiniteWarning

    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 5.0, 40)
    g = np.array(list("ab") * 20, dtype=object)
    frame = pd.DataFrame({"x": x, "g": g, "y": np.log(x) + (g == "b") + 0.1 * rng.normal(size=40)})
    linear = fit(frame, "y ~ x")
    labelled = linear.predict(
        pd.DataFrame({"x": [1.0, np.nan, 3.0]}, index=[10, 20, 30]), interval="confidence"
    )
    assert list(labelled.index) == [10, 20, 30] and labelled.loc[20].isna().all()
    assert linear.predict({"x": []}).shape == (0,)
    assert linear.predict({"x": []}, interval="prediction").shape == (0, 4)
    single = fit(frame, "y ~ x", dtype="float32")
    assert single.predict({"x": [1.0, np.nan]}).dtype == np.float32 == single.predict({"x": [1.0]}).dtype
    with pytest.raises(InputError, match="infinite value") as refused:
        linear.predict({"x": [1.0, np.inf]})
    assert "dropna" not in str(refused.value) and "predicts NaN there" in str(refused.value)
    logs = fit(frame, "y ~ log(x) + C(g)")
    with pytest.warns(NotFiniteWarning, match=r"^a new row predicts NaN .*row 1, where x=-1, g='b'\)"):
        found = logs.predict({"x": [1.0, -1.0], "g": ["a", "b"]})
    assert np.isfinite(found[0]) and np.isnan(found[1])
    curve = fit(frame, y="y", model="a*log(x)+b", init={"a": 1.0, "b": 0.0})
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        edge = curve.predict({"x": [0.0, 1.0]}, interval="confidence")
    assert [w.category for w in said] == [NotFiniteWarning]
    assert edge["mean"][0] == -np.inf and edge.iloc[0, 1:].isna().all()  # no interval there, as a term's
    with pytest.warns(NotFiniteWarning):
        wilkinson = fit(frame, "y ~ log(x)").predict({"x": [0.0, 1.0]}, interval="confidence")
    assert wilkinson["mean"][0] == -np.inf and wilkinson.iloc[0, 1:].isna().all()


def test_a_list_of_labels_with_nan_holds_a_missing_value_not_the_label_nan():
    """``["a", nan, "b"]`` is text with a missing value, as ``None`` and pandas' NaN are (NumPy
    alone would make it the label "nan", fitted as a level of its own and refused at prediction)."""
    rng = np.random.default_rng(2)
    x = rng.uniform(0.0, 1.0, 8)
    data = {"x": list(x), "y": x + rng.normal(size=8), "g": ["a", float("nan"), "b", "a", "b", "a", "b", "b"]}
    with pytest.raises(InputError, match="column 'g' has 1 missing value"):
        fit(data, "y ~ x + C(g)")
    found = fit(data, "y ~ x + C(g)", dropna=True)
    assert found.names == ("Intercept", "C(g)[T.b]", "x") and found.dropped == 1
    predicted = found.predict({"x": [0.5, 0.5], "g": ["a", float("nan")]})
    assert np.isfinite(predicted[0]) and np.isnan(predicted[1])


def test_lm_that_falls_back_to_the_compiled_solver_steps_alike_limited_or_not():
    """From BoxBOD's first start MINPACK ends where the residuals are not orthogonal to the Jacobian,
    so lm runs the compiled solver: a run given 1 to 4 steps takes that run's first steps too (it
    took MINPACK's, another path, until MINPACK ran out of them). Every recorded step moves: a
    proposal lm rejects is no step (30 of its 53 recorded steps stood still). Cut short, lm and
    Gauss-Newton are judged by their losses, and no sentence speaks of a rate they do not have."""
    from nist import load

    box = load("BoxBOD")
    start = {"b1": 1.0, "b2": 1.0}
    whole = fit(box.columns, y="y", model=box.formula, init=start).trajectory
    P = whole.flat_params()
    assert whole.status.value == "converged" and not (np.diff(P, axis=0) == 0).all(axis=1).any()
    for k in (1, 2, 3, 4):
        cut = fit(box.columns, y="y", model=box.formula, init=start, steps=k).trajectory
        np.testing.assert_array_equal(cut.flat_params(), P[: k + 1])
        assert "still descending" in cut.message and "rate" not in cut.message
    gn = fit(box.columns, y="y", model=box.formula, init=start, method="gauss-newton").trajectory
    assert gn.message.startswith("diverged at step 1: the sum of squares left the finite numbers")
    assert np.isfinite(gn.flat_params()[-1]).all() and not np.isfinite(gn.loss[-1])
    for k in (1, 2, 3):
        said = fit(
            box.columns,
            y="y",
            model=box.formula,
            init={"b1": 100.0, "b2": 0.75},
            method="gauss-newton",
            steps=k,
        ).trajectory.message
        assert "rate" not in said and "bounces" not in said


def test_an_unfinished_fits_picture_says_how_it_ended_and_keeps_the_data_in_view():
    """A fit cut at its step limit, or diverged, says so in its picture's title; a diverged fit's
    curve far off the data leaves the data in view (its 1e307 made them a flat line), and drawing
    its own rows warns of nothing (they are no new rows)."""
    import warnings

    from nist import load

    box = load("BoxBOD")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        diverged = fit(
            box.columns, y="y", model=box.formula, init={"b1": 1.0, "b2": 1.0}, method="gauss-newton"
        )
        figure = diverged.plot()
    data_axis = figure.axes[0]
    info = next(text for text in figure.texts + data_axis.texts if text.get_gid() == "info")
    assert figure.get_suptitle() == f"y ~ {box.formula}: gauss-newton"
    assert info.get_text().startswith("step 1 / 1   sum of squares inf\nb1 ")
    assert info.get_text().endswith("\ndiverged at step 1")
    low, high = data_axis.get_ylim()
    assert high - low < 4 * (224 - 109) and low < 109 and high > 224  # the data a quarter of it at least
    away = next(text for text in data_axis.texts if text.get_gid() != "info" and text.get_text())
    assert away.get_text().startswith("gauss-newton's curve is below the chart")

    def ending(result) -> str:
        figure = result.plot()
        info = next(text for text in figure.axes[0].texts if text.get_gid() == "info")
        return info.get_text().split("\n")[-1]

    cut = fit(box.columns, y="y", model=box.formula, init={"b1": 100.0, "b2": 0.75}, steps=2)
    assert ending(cut).endswith("stopped at the step limit (2)")
    done = fit(box.columns, y="y", model=box.formula, init={"b1": 100.0, "b2": 0.75})
    assert ending(done).endswith(f"converged at step {done.steps}")


def test_a_formula_fits_path_is_drawn_over_its_sum_of_squares():
    """A formula fit's trajectory carries its loss, the sum of squares as a function of its
    parameters by name: it gives the recorded loss at every step (so the picture's check that the
    path lies on the loss drawn holds), pickles with the fit, and ``gdlab.plot`` draws the lm path
    over its contours (it refused: "pass loss=the loss function")."""
    import pickle

    import gdlab
    from nist import load

    box = load("BoxBOD")
    result = fit(box.columns, y="y", model=box.formula, init={"b1": 100.0, "b2": 0.75})
    path = result.trajectory
    for k in range(path.steps + 1):
        assert float(path.loss_fn(path.at(k))) == pytest.approx(path.loss[k], rel=1e-12)
    again = pickle.loads(pickle.dumps(result)).trajectory
    assert float(again.loss_fn(again.at(-1))) == pytest.approx(path.loss[-1], rel=1e-12)
    figure = gdlab.plot(path)
    assert [axis.get_xlabel() for axis in figure.axes[:1]] == ["b1"]


def test_a_descent_beside_lm_says_which_units_its_numbers_are_in():
    """A descent beside lm steps on the mean squared residual in the parameters divided by their
    starts (its tolerance is in those units), and its trajectory holds the sum of squares in the
    parameters' own units, as lm's does (so both draw over one loss): its sentence says so, and the
    norm it gives is its last gradient's in those units (the trajectory's, times the starts, over
    the rows), where it read as a contradiction of the trajectory."""
    import re

    x = np.linspace(0.0, 5.0, 30)
    data = {"x": x, "y": 3 * np.exp(-0.7 * x) + 0.5 + 0.01 * np.cos(5 * x)}
    start = {"A": 10.0, "k": 0.1, "c": 1.0}
    found = fit(data, y="y", model="A*exp(-k*x)+c", init=start, method="adam", steps=50)
    message = found.trajectory.message
    assert message.endswith(
        "(on the mean squared residual, in the parameters divided by their starts; its trajectory holds "
        "the sum of squares in their own units, as lm's does)"
    )
    said = float(re.search(r"gradient norm ([0-9.e+-]+)", message).group(1))
    scaled = found.trajectory.flat_grad()[-1] * np.array(list(start.values())) / 30  # the mean's, scaled
    lm = fit(data, y="y", model="A*exp(-k*x)+c", init=start).trajectory
    assert found.trajectory.loss[0] == pytest.approx(lm.loss[0], rel=1e-12)  # one loss: the sum of squares
    assert said == pytest.approx(float(np.linalg.norm(scaled)), rel=5e-3)
    assert any(
        w.startswith("adam: stopped at the step limit (50)") and "divided by their starts" in w
        for w in found.warnings
    )


def test_newton_beside_lm_reaches_lms_answer_where_the_loss_no_longer_shows_its_steps():
    """Near BoxBOD's minimum a Newton step lowers the mean squared residual (194.7) by less than its
    rounding, though the gradient still says where to go: the line search refused every such step,
    and Newton stood 3e-10 from the minimum for the 4,995 steps left, its gradient at 2.7e-6 above
    the tolerance. Steps within the loss's rounding are now taken (optax's ``rtol``, 16 eps):
    Newton converges in a handful of steps to lm's answer."""
    from nist import load

    box = load("BoxBOD")
    start = {"b1": 100.0, "b2": 0.75}
    newton = fit(box.columns, y="y", model=box.formula, init=start, method="newton")
    assert newton.trajectory.status.value == "converged" and newton.trajectory.steps <= 10
    np.testing.assert_allclose(
        newton.coef, fit(box.columns, y="y", model=box.formula, init=start).coef, rtol=1e-9
    )


def test_a_descent_beside_lm_that_converges_elsewhere_says_so():
    """gd from b = -1 on a*exp(-b*x) runs b up to about 9,000, where exp(-b*x) is 0 past x = 0 and
    the gradient vanishes: converged by the engine's rule (a flat region), at a sum of squares
    hundreds of times lm's. Its warnings say where it stopped and what to do; a descent that
    reaches lm's answer says nothing of the kind."""
    rng = np.random.default_rng(0)
    x = np.linspace(0, 4, 30)
    data = {"x": x, "y": 3 * np.exp(-0.9 * x) + 0.05 * rng.normal(size=30)}
    far = fit(data, y="y", model="a*exp(-b*x)", init={"a": 1, "b": -1}, method="gd", lr=3)
    assert far.status.value == "converged" and far.coef[1] > 1000
    lm = fit(data, y="y", model="a*exp(-b*x)", init={"a": 1, "b": -1})
    mine = float(np.sum((data["y"] - far.predict(data)) ** 2))
    theirs = float(lm.stats.rss)
    (said,) = [w for w in far.warnings if "flat region or another minimum" in w]
    assert said.startswith(
        f"gd converged where the sum of squares is {mine:.4g}, {mine / theirs:.3g} times lm's"
    )
    assert f"with b {far.coef[1]:.4g} against lm's {lm.coef[1]:.4g}" in said
    assert "start nearer it (init), or fit by method='lm'" in said
    assert "flat region or another minimum" in " ".join(far.summary().split())
    near = fit(data, y="y", model="a*exp(-b*x)", init={"a": 1, "b": 0.5}, method="adam", steps=3000)
    assert near.status.value == "converged" and not any("flat region" in w for w in near.warnings)
