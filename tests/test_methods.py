"""Second-order and line-search methods by name: newton, lbfgs, gd-armijo, against SciPy's optimisers."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize

import gdlab
from gdlab import Status
from gdlab._methods import METHODS, resolve_method
from helpers import lecture_loss, rosenbrock

ROSEN_START = np.array([-1.5, 2.0])


def test_the_new_names_are_methods():
    for name in ("newton", "lbfgs", "gd-armijo"):
        assert name in METHODS and resolve_method(name.upper()).name == name
    assert not resolve_method("newton").needs_lr and not resolve_method("lbfgs").needs_lr
    assert resolve_method("gd-armijo").needs_lr


def test_newton_takes_one_step_on_a_quadratic():
    path = gdlab.descend(lecture_loss, -10.0, steps=50, method="newton", tol=1e-12)
    assert path.steps == 1 and path.status is Status.CONVERGED and path.method == "newton" and path.lr is None
    assert path.params.tolist() == [-10.0, 2.0]  # the full step -f'/f'' = -(-6)/(1/2) = 12, exactly
    assert path.message == "converged at step 1: gradient norm 0 <= tol 1e-12"
    A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    c = np.array([1.0, -2.0, 0.5])
    quad = lambda x: 0.5 * x @ jnp.asarray(A) @ x - jnp.asarray(c) @ x
    path = gdlab.descend(quad, np.zeros(3), steps=50, method="newton", tol=1e-12)
    assert path.steps == 1
    np.testing.assert_allclose(path.final, np.linalg.solve(A, c), rtol=1e-14)


def test_newton_and_lbfgs_on_rosenbrock_reach_scipys_minimum():
    reference = scipy.optimize.minimize(
        scipy.optimize.rosen,
        ROSEN_START,
        jac=scipy.optimize.rosen_der,
        hess=scipy.optimize.rosen_hess,
        method="trust-exact",
        options={"gtol": 1e-12},
    ).x
    np.testing.assert_allclose(reference, [1.0, 1.0], atol=1e-7)
    for method, most in (("newton", 40), ("lbfgs", 80)):
        path = gdlab.descend(rosenbrock, ROSEN_START, steps=500, method=method, tol=1e-9)
        assert path.status is Status.CONVERGED and path.steps < most, (method, path.message)
        assert path.message.startswith(f"converged at step {path.steps}: gradient norm")
        np.testing.assert_allclose(path.final, reference, atol=1e-8)
        assert np.all(np.diff(path.loss) <= 0)  # both line searches only accept steps that lower the loss


def test_damped_newton_escapes_a_maximum():
    well = lambda b: -(b**2) + 0.25 * b**4  # a maximum at 0, minima at +-sqrt(2)
    path = gdlab.descend(well, 0.1, steps=100, method="newton", tol=1e-10)
    # undamped Newton would step to the maximum at 0; the shifted Hessian points downhill instead
    assert path.status is Status.CONVERGED and path.final == pytest.approx(np.sqrt(2), rel=1e-12)
    assert np.all(np.diff(path.loss) < 0)


def test_gd_armijo_lets_the_line_search_choose_the_rate():
    tiny = 1e-4  # plain gd at this rate needs ~300,000 steps on the lecture loss
    plain = gdlab.descend(lecture_loss, -10.0, lr=tiny, steps=1000, tol=1e-10)
    searched = gdlab.descend(lecture_loss, -10.0, lr=tiny, steps=1000, method="gd-armijo", tol=1e-10)
    assert plain.status is Status.MAX_STEPS
    assert searched.status is Status.CONVERGED and searched.steps < 100 and searched.method == "gd-armijo"
    assert searched.final == pytest.approx(2.0, abs=1e-9)
    big = gdlab.descend(lecture_loss, -10.0, lr=100.0, steps=1000, method="gd-armijo", tol=1e-10)
    assert big.status is Status.CONVERGED and np.all(np.diff(big.loss) <= 0)  # plain gd diverges at 100
    assert gdlab.descend(lecture_loss, -10.0, lr=100.0, steps=50).status is Status.DIVERGED


def test_gd_armijo_on_rosenbrock_never_raises_the_loss():
    path = gdlab.descend(rosenbrock, ROSEN_START, lr=1e-3, steps=30_000, method="gd-armijo", tol=1e-5)
    assert path.status is Status.CONVERGED
    assert np.all(np.diff(path.loss) <= 1e-15)
    np.testing.assert_allclose(path.final, [1.0, 1.0], atol=1e-4)


def test_the_methods_work_on_dict_parameters_and_in_float32():
    loss = lambda p: (p["a"] - 1.0) ** 2 + 10 * (p["b"] + 2.0) ** 2
    path = gdlab.descend(loss, {"a": 0.0, "b": 0.0}, steps=100, method="newton", tol=1e-8)
    assert (
        path.steps == 1 and path.final["a"] == pytest.approx(1.0) and path.final["b"] == pytest.approx(-2.0)
    )
    low = gdlab.descend(loss, {"a": 0.0, "b": 0.0}, steps=100, method="lbfgs", tol=1e-3, dtype="float32")
    assert low.loss.dtype == np.float32 and low.final["b"] == pytest.approx(-2.0, abs=1e-3)


def test_lr_is_refused_where_the_method_chooses_its_own_steps():
    """One rule (the registry's ``Method.rate``) for descend, fit and the command line."""
    with pytest.raises(ValueError, match="method='newton' sets its own step size: leave lr out"):
        gdlab.descend(lecture_loss, -10.0, lr=0.1, steps=10, method="newton")
    with pytest.raises(ValueError, match="method='newton' sets its own step size: leave lr out"):
        gdlab.fit("cafe", y="y", x="x", method="newton", lr=0.1)
    with pytest.raises(ValueError, match=r"method='gd-armijo' needs a learning rate: pass lr=0\.01, say"):
        gdlab.descend(lecture_loss, -10.0, steps=10, method="gd-armijo")


def test_an_unknown_name_is_refused_in_one_wording_by_every_setting_and_front_end():
    """A method, a family or a covariance that is none of the choices: the same sentence (the
    setting as each front end writes it, the nearest choice, every choice) from the library's
    descend and fit, and the command line's run and fit (the lab's, in its own test)."""
    from typer.testing import CliRunner

    import gdlab
    from gdlab.cli import app

    descent = ", ".join(gdlab.METHODS)
    with pytest.raises(gdlab.InputError) as err:
        gdlab.descend("b^2", 1.0, method="adma", steps=5)
    assert str(err.value) == (
        f"method='adma' is unknown: did you mean 'adam'? choose one of {descent}, "
        "or pass an optax GradientTransformation"
    )
    refusals = {
        "method": (dict(method="sdg"), "'sdg' is unknown: did you mean 'sgd'? choose one of ols, sgd, gd,"),
        "family": (
            dict(family="logistc"),
            "'logistc' is unknown: did you mean 'logistic'? choose one of binomial",
        ),
        "cov": (dict(cov="hc4"), "'hc4' is unknown: did you mean 'HC3'? choose one of nonrobust, HC0, HC1"),
    }
    runner = CliRunner()
    for param, (kwargs, said) in refusals.items():
        with pytest.raises(gdlab.InputError) as err:
            gdlab.fit("cafe", y="y", x="x", **kwargs)
        assert str(err.value).startswith(f"{param}={said}") and err.value.parameter == param
        typed = runner.invoke(app, ["fit", "cafe", "--y", "y", "--x", "x", f"--{param}", kwargs[param]])
        assert (
            typed.exit_code == 2
            and f"error: --{param} {said.replace(repr(kwargs[param]), kwargs[param], 1)}" in typed.output
        )
    typed = runner.invoke(app, ["run", "b^2", "--init", "1", "--lr", "0.1", "--method", "adma"])
    assert (
        typed.exit_code == 2
        and f"error: --method adma is unknown: did you mean 'adam'? choose one of {descent}\n" in typed.output
    )
    # the lab's request: tests/test_web_api.py ("method: 'newtonian' is unknown: did you mean ...")
