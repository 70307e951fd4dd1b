"""A formula's NumPy form (gdlab._numeric): its plan, the parts computed once a fit, the Jacobian by
one backward pass, and the last evaluations kept; against the hand-written Jacobians of
``nls_problems``, mpmath's derivatives and central differences."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from gdlab._checks import InputError
from gdlab._expr import ExpressionError, numeric_form
from gdlab._trajectory import Status
from gdlab.fitting._fit import fit
from nls_problems import JACOBIANS, MODELS, digits, gauss_like, misra1a, thurber_like, with_reference


def _parts(form, indices):
    return {form.plan.nodes[i].op.name if form.plan.nodes[i].op else form.plan.nodes[i].name for i in indices}


def test_the_parts_without_parameters_are_computed_once_when_bound():
    form = numeric_form("(b1 + b2*x + b3*x^2 + b4*x^3)/(1 + b5*x + b6*x^2 + b7*x^3)", ("x",))
    plan = form.plan
    # x^2 and x^3 are written twice each and are one part each, computed when bound
    squares = [i for i, node in enumerate(plan.nodes) if node.op is not None and not plan.varies[i]]
    assert len(squares) == 2 and _parts(form, squares) == {"**"}
    taped = set(plan.ops)
    assert not taped & set(squares)
    assert len(plan.ops) == 13  # 6 products, 6 sums, 1 quotient: the powers are not on it
    x = thurber_like().x
    bound = form.bind({"x": x}, len(x))
    assert all(bound._base[i].shape == x.shape for i in squares)
    np.testing.assert_array_equal(bound._base[squares[0]], x * x)


def test_a_part_written_twice_is_one_part():
    form = numeric_form("exp(-(x-b1)^2/b2) * (x-b1) + (x - b1)", ("x",))
    differences = [i for i, node in enumerate(form.plan.nodes) if node.op is not None and node.op.name == "-"]
    assert len(differences) == 1


@pytest.mark.parametrize(
    ("make", "kind"), [(misra1a, "exp"), (thurber_like, "thurber"), (gauss_like, "gauss")]
)
def test_values_and_jacobian_equal_the_hand_written_ones(make, kind):
    problem = make()
    form = numeric_form(problem.formula, ("x",))
    bound = form.bind({"x": problem.x}, len(problem.x))
    for start in problem.starts:
        b = np.array(list(start.values()))
        values, jacobian = bound.jacobian(b)
        model = MODELS.get(kind, lambda b, x: b[0] * (1 - np.exp(-b[1] * x)))
        expected = model(b, problem.x)
        np.testing.assert_allclose(values, expected, rtol=1e-14)
        np.testing.assert_allclose(jacobian, JACOBIANS[kind](b, problem.x), rtol=1e-13, atol=0)
        np.testing.assert_array_equal(bound.values(b), values)


def test_a_parameter_in_a_part_without_data_and_a_shared_part_against_mpmath():
    """b2^2 and b3^2 read no data (their derivatives pass back through every row), x-b1 is one
    part used three times, and min, max, clip, log, sqrt, sigmoid and division meet on the way."""
    text = (
        "b1*exp(-(x-b1)^2/b2^2) + b3^2*(x-b1) - sqrt(b2*x + 1)/(x - b1 + 4) + clip(x*b3, 0.1, 0.9)"
        " + log(b2 + x) * sigmoid(b3 - x) + max(b1 - x, 0.2) + b3^x"
    )
    x = np.array([0.1, 0.4, 0.8, 1.3, 2.2, 3.1])
    b = np.array([0.7, 1.3, 0.6])
    form = numeric_form(text, ("x",))
    values, jacobian = form.jacobian(b, {"x": x}, len(x))

    def model(xi, b1, b2, b3):
        return (
            b1 * mpmath.exp(-((xi - b1) ** 2) / b2**2)
            + b3**2 * (xi - b1)
            - mpmath.sqrt(b2 * xi + 1) / (xi - b1 + 4)
            + min(max(xi * b3, mpmath.mpf("0.1")), mpmath.mpf("0.9"))
            + mpmath.log(b2 + xi) / (1 + mpmath.exp(-(b3 - xi)))
            + max(b1 - xi, mpmath.mpf("0.2"))
            + b3**xi
        )

    with mpmath.workdps(40):
        args = [mpmath.mpf(float(v)) for v in b]
        for i, xi in enumerate(x):
            point = mpmath.mpf(float(xi))
            assert abs(float(model(point, *args)) - values[i]) <= 1e-13 * max(1.0, abs(values[i]))
            for k in range(3):
                exact = mpmath.diff(
                    lambda v, k=k, at=point: model(at, *[v if j == k else a for j, a in enumerate(args)]),
                    args[k],
                )
                assert abs(float(exact) - jacobian[i, k]) <= 1e-13 * max(1.0, abs(float(exact))), (i, k)


def test_the_jacobian_against_central_differences_where_a_part_is_a_number():
    form = numeric_form("b1*x + b2^2 + exp(b1) + 2^0.5/b2", ("x",))
    x = np.linspace(0.5, 2.0, 5)
    b = np.array([0.3, 1.7])
    _, jacobian = form.jacobian(b, {"x": x}, len(x))
    h = 1e-6
    for k in range(2):
        step = np.eye(2)[k] * h
        central = (form.values(b + step, {"x": x}, 5) - form.values(b - step, {"x": x}, 5)) / (2 * h)
        np.testing.assert_allclose(jacobian[:, k], central, rtol=1e-8)
    np.testing.assert_allclose(jacobian[:, 1], 2 * 1.7 - 2**0.5 / 1.7**2, rtol=1e-14)  # the same each row


def test_the_kept_evaluations_are_of_their_own_point_and_read_only():
    problem = thurber_like()
    bound = numeric_form(problem.formula, ("x",)).bind({"x": problem.x}, len(problem.x))
    a, b, c = (np.array(list(s.values())) * f for s in problem.starts[:1] for f in (1.0, 1.1, 1.2))
    model = MODELS["thurber"]
    for point in (a, b, c, a, c, b, b, a):  # more points than are kept, in turn
        np.testing.assert_allclose(bound.values(point), model(point, problem.x), rtol=1e-14)
        values, jacobian = bound.jacobian(point)
        np.testing.assert_allclose(values, model(point, problem.x), rtol=1e-14)
        np.testing.assert_allclose(jacobian, JACOBIANS["thurber"](point, problem.x), rtol=1e-13)
    again = bound.jacobian(a)
    assert again[1] is bound.jacobian(a)[1]  # the last Jacobian, given again
    for array in (*again, bound.values(b)):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0.0


def test_a_constant_part_that_divides_by_zero_is_refused_in_words():
    with pytest.raises(ExpressionError, match="1/0 is infinite"):
        numeric_form("b*x + 1/0", ("x",))
    data = {"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.5]}
    with pytest.raises(InputError, match="1/0 is infinite"):
        fit(data, y="y", model="b*x + 1/0")


def test_a_parameter_at_zero_under_a_division_is_inf_not_an_error():
    form = numeric_form("x/b1 + b2", ("x",))
    with np.errstate(all="ignore"):
        values, jacobian = form.jacobian(np.array([0.0, 1.0]), {"x": np.array([1.0, 2.0])}, 2)
    assert np.all(np.isinf(values)) and np.all(np.isinf(jacobian[:, 0])) and np.all(jacobian[:, 1] == 1)


def test_leastsq_gives_the_same_fit_where_scipy_has_no_lmder(monkeypatch):
    from gdlab.fitting import _minpack

    problem = misra1a()
    data = {"x": problem.x, "y": problem.y}
    direct = fit(data, y="y", model=problem.formula, init=problem.starts[1])
    monkeypatch.setattr(_minpack, "_scipy_lmder", lambda: None)
    wrapped = fit(data, y="y", model=problem.formula, init=problem.starts[1])
    assert wrapped.trajectory.message.startswith("converged") and wrapped.method == "lm"
    np.testing.assert_allclose(wrapped.coef, direct.coef, rtol=1e-12)
    np.testing.assert_allclose(wrapped.stats.se, direct.stats.se, rtol=1e-9)
    assert wrapped.trajectory.steps == direct.trajectory.steps


def test_minpack_is_stopped_where_its_trials_are_noise_and_the_answer_keeps_its_digits(monkeypatch):
    """Gauss-like's MINPACK run is stopped where it rejects a trial at a settled point (its sum of
    squares fell by its rounding, by a halving step, stationary): three fewer evaluations, and the
    polished answer agrees with the run MINPACK ends by its own rule to the last digits, 14 correct.
    A run that crawls along a flat valley (MGH09's sum stops falling long before its parameters
    stop moving) is not cut short: only where its steps have started to halve (without that
    condition it stops a step sooner with 7.1 digits)."""
    from gdlab.fitting import _minpack
    from nist import load

    problem = with_reference(gauss_like(), "gauss")
    data = {"x": problem.x, "y": problem.y}
    calls = []
    trial = _minpack._Recorder.trial  # MINPACK's residuals, counted when evaluated (not when stopped)
    monkeypatch.setattr(_minpack._Recorder, "trial", lambda self, u: (trial(self, u), calls.append(1))[0])
    stopped = fit(data, y="y", model=problem.formula, init=problem.starts[1])
    early = len(calls)
    assert "the sum of squares stopped falling (relative 1e-14)" in stopped.trajectory.message
    monkeypatch.setattr(_minpack, "FALL", 0.0)  # never settled: MINPACK's own stop
    calls.clear()
    own = fit(data, y="y", model=problem.formula, init=problem.starts[1])
    assert "stopped falling (relative 1e-14)" not in own.trajectory.message
    assert early <= len(calls) - 3
    np.testing.assert_allclose(stopped.coef, own.coef, rtol=1e-14)
    assert digits(stopped.coef, list(problem.certified.values())) >= 14
    monkeypatch.undo()
    mgh09 = load("MGH09")
    crawl = fit(mgh09.columns, y="y", model=mgh09.formula, init=mgh09.starts[0])
    assert crawl.trajectory.message.startswith("converged") and crawl.trajectory.steps >= 390
    assert digits(crawl.coef, list(mgh09.certified.values())) >= 7.5
    monkeypatch.setattr(_minpack, "_halving", lambda points: True)
    cut = fit(mgh09.columns, y="y", model=mgh09.formula, init=mgh09.starts[0])
    assert digits(cut.coef, list(mgh09.certified.values())) < 7.5


def test_the_polish_solves_least_squares_as_numpy_lstsq_and_refuses_a_singular_jacobian():
    """The Gauss-Newton polish's solve (LAPACK's gels, a Householder QR of the column-scaled
    Jacobian) against np.linalg.lstsq (an SVD), on columns scaled from 1e-3 to 1e3, tall and
    square; a repeated column, or one equal to another to 1e-17, is singular: None."""
    from gdlab.fitting import _minpack

    rng = np.random.default_rng(2)
    for n, p in ((30, 4), (250, 8), (6, 2), (5, 5)):
        J, r = rng.normal(size=(n, p)) * np.geomspace(1e-3, 1e3, p), rng.normal(size=n)
        norms = np.linalg.norm(J, axis=0)  # the oracle on the same scaled columns
        expected = np.linalg.lstsq(J / norms, r, rcond=None)[0] / norms
        for layout in (np.ascontiguousarray(J), np.asfortranarray(J)):
            found, factor = _minpack._solve_linear(layout.copy(), r)
            np.testing.assert_allclose(found, expected, rtol=1e-12)
            # the same factor solves the normal equations of another point's slope J'r2
            r2 = rng.normal(size=n)
            again = np.linalg.lstsq(J / norms, r2, rcond=None)[0] / norms
            np.testing.assert_allclose(_minpack._solve_normal(factor, J.T @ r2), again, rtol=1e-9)
    J, r = rng.normal(size=(30, 4)), rng.normal(size=30)
    assert _minpack._solve_linear(np.column_stack([J, J[:, 0]]), r) is None  # rank 4 of 5
    near = J[:, 0] * (1 + 1e-17 * rng.normal(size=30))
    assert _minpack._solve_linear(np.column_stack([J, near]), r) is None
    assert _minpack._solve_linear(np.column_stack([J, np.zeros(30)]), r) is None  # a zero column


def test_the_written_code_holds_no_text_of_the_formula():
    """The forward and backward code is written from the plan alone: no name or number typed in
    the formula appears in it (every part is v<place>, s<place> where it is one number, its
    derivative g<place>)."""
    import re

    text = "weight*exp(-rate*hour) + offset/(hour + 7.25) - sigmoid(weight) + scale^2*hour"
    form = numeric_form(text, ("hour",))
    source = form.plan.source
    for typed in ("weight", "rate", "hour", "offset", "scale", "7.25"):
        assert typed not in source
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", source))
    assert {n for n in names if re.fullmatch(r"[vg]\d+", n)}  # its parts, by place
    assert not {"weight", "rate", "hour", "offset", "scale"} & names


def test_negations_and_doublings_cost_no_pass_over_the_rows_and_change_no_bit():
    """-(x-b)^2/c^2 is written as a division by -c^2 (no negated array), and a square's derivative
    2x passes back as x with its 2 carried to the column: the values and the Jacobian are the same
    to the last bit as the plain derivative rules give (checked by central differences and by the
    formulas' own algebra), and the negation's value is never read."""
    form = numeric_form("b1*exp(-(x-b2)^2/b3^2) + (-(x*b1))/b3 - (x-b2)^2", ("x",))
    source = form.plan.source
    assert " / (-s" in source and "np.multiply(" in source
    x = np.linspace(-2.0, 3.0, 7)
    b1, b2, b3 = 1.3, 0.4, 0.9
    values, jacobian = form.jacobian(np.array([b1, b2, b3]), {"x": x}, len(x))
    d, e = x - b2, np.exp(-((x - b2) ** 2) / b3**2)
    np.testing.assert_allclose(values, b1 * e - x * b1 / b3 - d**2, rtol=1e-15)
    expected = np.column_stack(
        [e - x / b3, b1 * e * 2 * d / b3**2 + 2 * d, b1 * e * 2 * d**2 / b3**3 + x * b1 / b3**2]
    )
    np.testing.assert_allclose(jacobian, expected, rtol=1e-14, atol=1e-15)


def test_data_a_formula_fits_to_their_last_digits_are_at_a_minimum_without_the_compiled_path(monkeypatch):
    """An exact sine's residuals at the answer are rounding (5e-16), their cosines with the
    Jacobian's columns any size: MINPACK's answer is a minimum to the residuals' rounding and is
    kept (the compiled path, a second to compile, is not run). A stall far from the minimum
    (BoxBOD's first start: cosine 0.64 at a sum of squares of 1e4) still goes to it."""
    from gdlab.fitting import _formula
    from nls_problems import boxbod

    t = np.linspace(0.0, 10.0, 50)
    data = {"t": t, "y": 1.5 * np.sin(0.8 * t + 0.3)}
    runner = _formula._runner
    monkeypatch.setattr(_formula, "_runner", lambda *a: pytest.fail("the compiled path ran"))
    found = fit(data, y="y", model="A*sin(w*t+p)", init={"A": 1.0, "w": 0.75, "p": 0.0})
    assert found.status is Status.CONVERGED and found.stats.rss < 1e-29
    np.testing.assert_allclose(found.coef, [1.5, 0.8, 0.3], rtol=1e-14)
    problem = boxbod()
    with pytest.raises(pytest.fail.Exception, match="the compiled path ran"):
        fit({"x": problem.x, "y": problem.y}, y="y", model=problem.formula, init=problem.starts[0])
    monkeypatch.setattr(_formula, "_runner", runner)


@pytest.mark.parametrize(
    "text",
    [
        "b1*exp(-b2*x) + b3*exp(-(x-b4)^2/b5^2) + b6*exp(-(x-b7)^2/b8^2)",
        "a*exp(b*x)*exp(c*x)",  # a product of two scaled derivatives
        "p*q + q*p*x + exp(p*q)",  # a derivative that is one number, added to rows
        "a*tanh(b*x)*b + a/b",
        "(a/(b*c))*x^2 - x/(a*c) + sin(c)*x",  # numbers divided and multiplied on the way back
        "-(x-b)^2/c^2 + a*exp(-k*x)*k",
        "a*b",  # no rows at all: every column one number
    ],
)
def test_a_factor_that_is_one_number_is_applied_once_and_the_jacobian_is_exact(text):
    """A factor that is one number (a parameter, a function of parameters, a constant) is carried
    beside a derivative and applied where a column is written (Gauss-like's backward code: five
    passes over the rows, none reading a number, then a column each), and the Jacobian,
    plain and scaled, equals the complex-step derivative (exact to rounding, no difference taken)."""
    import re

    form = numeric_form(text, ("x",))
    backward = form.plan.source.split("def backward")[1]
    statements = [line for line in backward.splitlines() if re.match(r"\s+g\d+ = ", line)]
    if text.startswith("b1*exp"):  # (where derivatives of different numbers are added, they are applied)
        assert len(statements) == 5 and not any(re.search(r"\bs\d+\b", line) for line in statements)
    x = np.linspace(0.3, 1.7, 9)
    p = len(form.params)
    b = np.linspace(0.6, 1.4, p)
    _, jacobian = form.jacobian(b, {"x": x}, len(x))
    bound = form.plan.bind({"x": x}, len(x))
    h = 1e-30
    step = np.column_stack([bound.values(b + 1j * h * np.eye(p)[k]).imag / h for k in range(p)])
    np.testing.assert_allclose(jacobian, step, rtol=2e-15 * 16, atol=1e-300)
    times = np.linspace(-2.0, 3.0, p)
    _, scaled = bound.columns(b, times)
    np.testing.assert_allclose(scaled, step * times, rtol=2e-15 * 16, atol=1e-300)


def test_a_name_that_reads_as_a_number_no_formula_holds_is_refused_unless_it_is_a_column():
    """``c/inf`` would make ``inf`` a parameter: it is refused in words, in a fit's formula and in a
    loss alike; a column named ``inf`` is the data."""
    from gdlab import descend

    t = np.linspace(0.0, 1.0, 10)
    for call in (
        lambda: fit({"t": t, "y": t}, y="y", model="c/inf"),
        lambda: fit({"t": t, "y": t}, y="y", model="a*t + NaN"),
        lambda: descend("(b-1)^2 + Infinity", init=1.0, lr=0.1, steps=3),
    ):
        with pytest.raises(
            ExpressionError, match=r"is not a number a formula may hold .* give it another name"
        ):
            call()
    assert fit({"t": t, "inf": t, "y": 2 * t}, y="y", model="a*inf").coef == pytest.approx([2.0])


def test_the_polish_allows_the_sum_of_squares_its_residuals_rounding(monkeypatch):
    """Lanczos3's residuals are 1e-5 of its data, so its sum of squares is known to about 1e-11 of
    itself (each residual to eps |y_i|), not 1e-12: a polishing step that moves it by 3e-12 is
    within its rounding and is taken. Both starts reach 10.4 parameter digits of NIST's certified
    values; allowed only 1e-12 of the sum, the polish stops at its first step with 7 to 8."""
    from gdlab.fitting import _minpack
    from nist import load

    lanczos3 = load("Lanczos3")
    certified = list(lanczos3.certified.values())

    def found(start: int) -> float:
        fitted = fit(lanczos3.columns, y="y", model=lanczos3.formula, init=lanczos3.starts[start])
        return digits(fitted.coef, certified)

    assert min(found(0), found(1)) >= 10.4
    monkeypatch.setattr(_minpack, "rounding", lambda rss, size_y, xp=None: _minpack.ROUNDING * rss)
    assert max(found(0), found(1)) < 9


def test_a_polishing_step_within_an_ulp_of_every_parameter_is_not_taken(monkeypatch):
    """MINPACK's answer on Misra1a from NIST's second start is already at the parameters' rounding:
    the polish's Gauss-Newton step there is 8e-17 of them, under one ulp, so it is not evaluated
    or recorded (it cost a Jacobian). The answer keeps its 11.1 digits, and agrees with the one
    that takes the step to the last bits. Nor is a step taken whose size the last two predict at
    the parameters' rounding (Gauss-like's third, 8e-15)."""
    from gdlab.fitting import _minpack

    sizes = []
    size = _minpack._size
    monkeypatch.setattr(_minpack, "_size", lambda step, u: sizes.append(size(step, u)) or sizes[-1])
    problem = misra1a()
    data = {"x": problem.x, "y": problem.y}
    kept = fit(data, y="y", model=problem.formula, init=problem.starts[1])
    assert len(sizes) == 1 and 0 < sizes[0] < np.finfo(float).eps
    assert "Gauss-Newton" not in kept.trajectory.message and kept.trajectory.steps == 6
    assert digits(kept.coef, list(problem.certified.values())) >= 11
    monkeypatch.setattr(_minpack, "_EPS", 0.0)  # every step taken, as before
    taken = fit(data, y="y", model=problem.formula, init=problem.starts[1])
    assert "then 1 Gauss-Newton step" in taken.trajectory.message and taken.trajectory.steps == 7
    np.testing.assert_allclose(kept.coef, taken.coef, rtol=4 * np.finfo(float).eps)
    monkeypatch.setattr(_minpack, "_EPS", np.finfo(float).eps)
    sizes.clear()
    gauss = with_reference(gauss_like(), "gauss")
    polished = fit({"x": gauss.x, "y": gauss.y}, y="y", model=gauss.formula, init=gauss.starts[1])
    assert "then 2 Gauss-Newton steps" in polished.trajectory.message and 1e-13 < sizes[-1] < 1e-12
    # its steps fall by 40 a step (1.3e-11, then 3.2e-13): the next, 8e-15, would be at the
    # parameters' rounding (SETTLED), so it is not taken, for 14.25 digits instead of 15.0
    assert sizes[-1] ** 2 / sizes[-2] <= _minpack.SETTLED
    assert digits(polished.coef, list(gauss.certified.values())) >= 14
