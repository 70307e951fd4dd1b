"""A short run stepped in NumPy (gdlab._stepped) against the compiled descent: the same rows to
rounding, and the engine's same facts, status, regime and sentence."""

import numpy as np
import pytest

import gdlab
from gdlab import _stepped
from gdlab._methods import METHODS
from gdlab._stepped import STEPPED_STEPS, descend_stepped, landscape_stepped


@pytest.fixture(autouse=True)
def _fresh():
    """Each test's losses unseen (stepping a loss for long enough hands it to the compiled path)."""
    _stepped._SPENT.forget()
    yield
    _stepped._SPENT.forget()


# (loss, start, rate, steps, tol, what the compiled run does): converging, oscillating while it
# converges, bouncing at the step limit, diverging (exploded, and not finite), still descending at
# the step limit, a gradient that vanished at the step limit (the Hessian's kind of point), several
# parameters. None is chaotic: there rounding grows until no two compilers agree.
TABLE = [
    ("(b/3-1)^2", {"b": -10.0}, 0.5, 200, 1e-8, "converged"),
    ("(b/3-1)^2", {"b": -10.0}, 8.0, 300, 1e-8, "converged"),  # overshoots, settling
    ("(b/3-1)^2", {"b": -10.0}, 9.0, 60, 1e-8, "max_steps"),  # bounces at 2/L
    ("(b/3-1)^2", {"b": -10.0}, 0.5, 20, 1e-8, "max_steps"),  # still descending
    ("(b/3-1)^2", {"b": -10.0}, 20.0, 60, 1e-8, "diverged"),
    ("(b/7-1)^4", {"b": -10.0}, 0.5, 100, None, "max_steps"),
    ("(b/7-1)^4", {"b": -10.0}, 500.0, 100, 1e-8, "diverged"),
    ("sin(b) + b^2/10", {"b": 3.0}, 0.1, 100, None, "max_steps"),
    ("-b^2 + b^4/4", {"b": 0.5}, 0.1, 200, 1e-9, "converged"),
    ("1/b", {"b": 1.0}, 1.0, 50, None, "max_steps"),
    ("log(b)", {"b": 3.0}, 1.0, 50, None, "diverged"),  # leaves the domain: not finite
    ("(x-1)^2 + 10*(y-x^2)^2", {"x": -1.0, "y": 1.0}, 0.01, 300, None, "max_steps"),
    ("(x-1)^2 + 10*(y-x^2)^2", {"x": -1.0, "y": 1.0}, 0.06, 100, None, "diverged"),
    ("(b-2)^2 + abs(b)/10", {"b": -3.0}, 0.1, 300, 1e-9, "converged"),  # a kink: the Hessian op by op
    ("exp(x) + exp(-y) + (x-y)^2/4", {"x": 1.0, "y": -1.0}, 0.3, 400, 1e-10, "converged"),
]


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal to 1e-12 relative to max(1, |a|), and non-finite in the same places."""
    if a.shape != b.shape or not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return False
    both = np.isfinite(a)
    return bool(np.all(np.abs(a[both] - b[both]) <= 1e-12 * np.maximum(1.0, np.abs(a[both]))))


@pytest.mark.parametrize("method", ["gd", "momentum", "nesterov"])
@pytest.mark.parametrize(("text", "start", "lr", "steps", "tol", "gd_status"), TABLE)
def test_stepped_run_is_the_compiled_run(text, start, lr, steps, tol, gd_status, method):
    loss = gdlab.parse(text)
    spec = METHODS[method].configured(momentum=0.7) if method != "gd" else METHODS[method]
    compiled = gdlab.descend(loss, start, lr=lr, steps=steps, method=spec, tol=tol)
    stepped = descend_stepped(loss, start, lr=lr, steps=steps, method=spec, tol=tol)
    assert stepped is not None
    if method == "gd":
        assert compiled.status.value == gd_status  # the table covers what it says it covers
    assert stepped.steps == compiled.steps
    assert _close(stepped.flat_params(), compiled.flat_params())
    assert _close(stepped.loss, compiled.loss)
    assert _close(stepped.flat_grad(), compiled.flat_grad())
    assert (stepped.status, stepped.regime, stepped.message) == (
        compiled.status,
        compiled.regime,
        compiled.message,
    )
    a, b = stepped.facts, compiled.facts
    assert (a.outcome, a.step, a.overshot, a.undefined, a.not_finite) == (
        b.outcome,
        b.step,
        b.overshot,
        b.undefined,
        b.not_finite,
    )
    assert (a.probe is None) == (b.probe is None)
    if a.probe is not None:
        assert (a.probe.flips, a.probe.moved, a.probe.pairs) == (b.probe.flips, b.probe.moved, b.probe.pairs)
    assert (a.curvature is None) == (b.curvature is None)
    if a.curvature is not None:
        assert np.allclose(a.curvature, b.curvature, rtol=1e-12, atol=1e-15)


def test_gd_rows_follow_the_closed_form():
    """An independent oracle: gd on (b/2-1)^2 is b_k = 2 + (b_0 - 2)(1 - lr/2)^k."""
    path = descend_stepped(
        gdlab.parse("(b/2-1)^2"), {"b": -10.0}, lr=0.3, steps=30, method=METHODS["gd"], tol=None
    )
    assert path is not None
    k = np.arange(31)
    assert np.allclose(path.params["b"], 2 + (-12.0) * (1 - 0.3 / 2) ** k, rtol=1e-13, atol=1e-13)
    assert np.allclose(path.grad["b"], (path.params["b"] / 2 - 1), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    ("text", "start", "method", "steps"),
    [
        ("(b/3-1)^2", {"b": 1.0}, "adam", 10),  # a method not written out here
        ("sum((y - b0 - b1*x)^2)", None, "gd", 10),  # data, and a reduction over it
        ("(b/3-1)^2", {"b": 1.0}, "gd", STEPPED_STEPS + 1),  # long: compiling pays
        ("(b/3-1)^2", {"b": 1.0}, "sign", 10),  # stops when a step no longer lowers the loss
    ],
)
def test_what_it_does_not_take_is_left_to_the_compiled_path(text, start, method, steps):
    if start is None:
        loss = gdlab.parse(text, data={"x": np.arange(3.0), "y": np.arange(3.0)})
        start = {"b0": 0.0, "b1": 0.0}
    else:
        loss = gdlab.parse(text)
    assert descend_stepped(loss, start, lr=0.1, steps=steps, method=METHODS[method], tol=None) is None


def test_a_bad_start_is_refused_as_descend_refuses_it():
    loss = gdlab.parse("log(b)")
    with pytest.raises(gdlab.InputError) as compiled:
        gdlab.descend(loss, {"b": -1.0}, lr=0.1, steps=5)
    with pytest.raises(gdlab.InputError) as stepped:
        descend_stepped(loss, {"b": -1.0}, lr=0.1, steps=5, method=METHODS["gd"], tol=None)
    assert str(stepped.value) == str(compiled.value)


def test_the_hessian_of_an_analytic_loss_is_its_second_derivative():
    """The complex step through the exact gradient against the closed form: sin(b) + b^2/10 has
    f'' = 0.2 - sin(b), at the point where the run's gradient vanished."""
    loss = gdlab.parse("sin(b) + b^2/10")
    path = descend_stepped(loss, {"b": 3.0}, lr=0.5, steps=2000, method=METHODS["gd"], tol=1e-12)
    assert path is not None and path.status.value == "converged"
    b = float(path.params["b"][-1])
    assert path.facts.curvature == pytest.approx((0.2 - np.sin(b), 0.2 - np.sin(b)), rel=1e-13)


@pytest.mark.parametrize(
    ("text", "ranges", "num"),
    [
        ("(b/3-1)^2", [(-10.0, 12.0)], 400),
        ("log(b)", [(-1.0, 3.0)], 50),
        ("x*exp(-y) + abs(x)", [(-2.0, 2.0), (-1.0, 1.0)], 80),
    ],
)
def test_landscape_by_the_numpy_form_is_the_jax_one(text, ranges, num):
    loss = gdlab.parse(text)
    names = list(loss.params)
    mine = landscape_stepped(loss, names, ranges, num)
    theirs = gdlab.landscape(loss, tuple(0.0 for _ in names), ranges, num=num)
    assert mine is not None
    for a, b in zip(mine.axes, theirs.axes, strict=True):
        np.testing.assert_array_equal(a, b)
    assert _close(mine.values, theirs.values)


def test_a_loss_stepped_for_as_long_as_compiling_takes_is_compiled_from_then_on(monkeypatch):
    """Rent or buy: stepping is 5 to 15 times slower a step than a compiled run, so the runs of a
    loss run again and again are stepped only until their time adds up to a compilation's."""
    monkeypatch.setattr(_stepped, "COMPILE_SECONDS", 1e-9)  # compiling costs next to nothing: step once
    loss, gd = gdlab.parse("(b/3-1)^2"), METHODS["gd"]
    assert descend_stepped(loss, {"b": -10.0}, lr=0.5, steps=50, method=gd, tol=None) is not None
    assert descend_stepped(loss, {"b": -10.0}, lr=0.5, steps=50, method=gd, tol=None) is None
    other = METHODS["momentum"]  # another method's runs are another compilation
    assert descend_stepped(loss, {"b": -10.0}, lr=0.5, steps=50, method=other, tol=None) is not None
    monkeypatch.setattr(_stepped, "COMPILE_SECONDS", 60.0)
    for _ in range(20):  # well within a minute of stepping: stepped each time
        assert descend_stepped(loss, {"b": -10.0}, lr=0.5, steps=50, method=other, tol=None) is not None


def test_a_loss_once_compiled_is_not_stepped():
    loss, gd = gdlab.parse("(b/5-1)^2"), METHODS["gd"]
    _stepped.compiled(loss, gd)
    assert descend_stepped(loss, {"b": -10.0}, lr=0.5, steps=50, method=gd, tol=None) is None
    assert descend_stepped(loss, {"b": -10.0}, lr=0.5, steps=50, method=METHODS["nesterov"], tol=None)


def test_the_lab_compiles_a_loss_it_keeps_being_asked_for(monkeypatch):
    """The web's runs: a loss asked for once is stepped; one asked for again and again (a class on
    the preset) is compiled once its stepping has cost what compiling does, with the same answer."""
    from gdlab.web._compute import Lab
    from gdlab.web._models import RunIn

    calls = []
    monkeypatch.setattr(_stepped, "_stepped", lambda *a, **k: calls.append(1) or _stepped_once(*a, **k))
    monkeypatch.setattr(_stepped, "COMPILE_SECONDS", 1e-9)
    request = RunIn(expression="(b/9-1)^2", start={"b": -10.0}, rates=[0.5, 2.0], steps=60)
    first = Lab().trajectories(request)  # the first rate stepped, the second compiled
    again = Lab().trajectories(request)  # compiled
    assert len(calls) == 1
    for a, b in zip(first, again, strict=True):
        assert _close(a.flat_params(), b.flat_params()) and a.message == b.message


_stepped_once = _stepped._stepped
