"""The descent beside the closed form: a fit's gradient method, run on the standardised regressors
from zero, with its rate, its path and why it ended where it did, set beside the exact answer.

Large data run as NumPy passes over the columns (no copy), smaller data compiled on one
standardised copy; ``sgd`` runs minibatches. Every family's fit (linear, logistic, in memory or
from a streamed pass's statistics) calls :func:`descent`.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Literal

import numpy as np
import optax

from gdlab import _checks
from gdlab._checks import LIMITS, Sentence, spelled
from gdlab._engine import Outcome, describe, judge
from gdlab._methods import Method, reads_loss, resolve_method
from gdlab._trajectory import Status, Trajectory
from gdlab.fitting._families import Kind, mean_log_loss, mse
from gdlab.fitting._result import Fit
from gdlab.fitting._settings import Scaling, Settings, curvature, eigenvalues, method_name, rate_for, stopped

__all__ = [
    "NO_DIGIT",
    "PASS_VALUES",
    "default_tol",
    "descent",
    "descent_over",
    "relative_off",
    "relative_offs",
]

# gd stops once the gradient norm falls to this fraction of the response's size
# (its root mean square, at least 1): an absolute 1e-10 is out of reach for sales
# in millions, and meaningless for responses near 1e-12.
_TOL = 1e-10


def descent(
    closed: Fit,
    columns: tuple[np.ndarray, ...],
    y: np.ndarray,
    settings: Settings,
    how: str | Method,
    kind: Literal["mse", "logistic"] = "mse",
) -> Fit:
    """``closed`` with the descent's coefficients, rate and path beside its closed form.

    The descent runs on the regressors ``columns`` standardised (unless
    ``settings.standardize`` is off), built once as one aligned array ``Z`` (the
    only copy of the data; see :mod:`gdlab._design`), on the mean squared error
    (``kind="mse"``, Hessian ``2Z'Z/n``) or the mean log-loss (``"logistic"``,
    Hessian at most ``Z'Z/(4n)``)."""
    from gdlab._design import Standard, aligned, moments

    factor = 2.0 if kind == "mse" else 0.25
    if settings.standardize:
        scaling = Scaling(*moments(columns, closed.intercept), closed.intercept)
    else:
        scaling = Scaling(np.zeros(len(columns)), np.ones(len(columns)), closed.intercept)
    standard = Standard(columns, scaling.mean, scaling.scale, closed.intercept)
    rate: float | None
    source: str | None
    if _passes(standard, how, closed.dtype):  # large data: no copy, one NumPy pass per step
        Z: Any = standard
        path, rate, source, notes = _descend_passes(standard, y, settings, how, kind, factor)
    elif how == "sgd":
        Z, y = standard.matrix(), aligned(y)
        path, rate, source, notes = _descend_sgd(Z, y, settings, closed.dtype, kind, factor)
    else:
        Z, y = standard.matrix(), aligned(y)
        path, rate, source, notes = _descend_method(Z, y, settings, closed.dtype, how, kind, factor)
    if not settings.standardize:
        source = None if source is None else source.replace("standardised regressors", "the raw columns")
        notes = ("descent ran on the raw columns (standardize=False), as the lecture does", *notes)
    coef = scaling.back(np.asarray(path.final))
    # sgd is not explained: minibatch noise keeps it near, not at, the closed form (its rate decays instead)
    if how != "sgd":
        if not closed.warnings or "rank" not in closed.warnings[0]:
            if path.status is Status.CONVERGED and relative_off(coef, closed.closed_form) > NO_DIGIT:
                path = _imprecise(path)
            notes += _why_far(
                coef, closed.closed_form, Z, path, rate, settings, method_name(how), factor, closed.reference
            )
        else:  # dependent columns: many coefficient vectors fit equally well
            notes = (
                f"{method_name(how)} may stop at another of the equally good solutions than the closed "
                "form's: compare fitted values (predict) rather than coefficients",
                *notes,
            )
    return dataclasses.replace(
        closed,
        coef=coef,
        lr=rate,
        lr_source=source,
        trajectory=path,
        warnings=(*closed.warnings, *notes),
        standardized=settings.standardize,
        _scaling=scaling,
    )


def _descend_method(
    Z: np.ndarray,
    y: np.ndarray,
    settings: Settings,
    dtype: np.dtype,
    how: str | Method,
    kind: Literal["mse", "logistic"] = "mse",
    factor: float = 2.0,
) -> tuple[Trajectory, float | None, str | None, tuple[str, ...]]:
    """A descent from zero on the mean squared error (or mean log-loss) of ``b`` on ``Z``, whose
    Hessian is about ``factor * Z'Z/n`` (its rates come from that)."""
    from gdlab._descend import descend

    spec = resolve_method(how)
    rate, source = rate_for(Z, spec, settings, factor)
    # The data are an argument of the compiled run: not embedded in it, and new data of the same
    # shapes reuse it.
    data = {"Z": Z, "y": y}
    tol = settings.tol if settings.tol is not None else _default_tol(y, dtype, spec.name)
    loss = mse if kind == "mse" else mean_log_loss
    path = descend(
        loss,
        np.zeros(Z.shape[1]),
        lr=rate,
        steps=settings.steps,
        tol=tol,
        method=spec,
        dtype=dtype,
        data=data,
    )
    return path, rate, source, stopped(path, spec.name)


def _default_tol(y: np.ndarray, dtype: np.dtype, name: str) -> float:
    """Stop once the gradient norm is 1e-10 relative to the response's size (or what the dtype allows)."""
    return default_tol(float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))), dtype, name)


def default_tol(rms: float, dtype: np.dtype, name: str) -> float:
    """The gradient norm a descent stops at: 1e-10 of the response's root mean square ``rms``
    (at least 1), or what the dtype allows."""
    size = max(1.0, rms)
    tol = max(_TOL, 100 * float(np.finfo(dtype).eps)) * size
    if name == "gd-armijo":  # below this its decreases are lost in the loss's rounding
        tol = max(tol, float(np.sqrt(np.finfo(dtype).eps)) * size)
    return tol


# A descent fit whose standardised regressors would hold this many numbers (64 MB of float64)
# or more reads the table's columns by passes instead of copying them (see _passes). Below it
# the copy is small, and a compiled run on it is faster than a pass per step from Python.
PASS_VALUES = 1 << 23


def _passes(standard: Any, how: str | Method, dtype: np.dtype) -> bool:
    """Whether a descent runs as NumPy passes over the columns (:func:`_descend_passes`): float64
    data whose standardised copy would hold :data:`PASS_VALUES` numbers or more, by a method that
    needs only gradients (not sgd, a line search or Newton's method)."""
    if how == "sgd" or dtype != np.float64 or standard.n * standard.p < PASS_VALUES:
        return False
    spec = resolve_method(how)
    return spec.needs_lr and not reads_loss(spec.name)


def _descend_passes(
    standard: Any, y: np.ndarray, settings: Settings, how: str | Method, kind: str, factor: float
) -> tuple[Trajectory, float | None, str | None, tuple[str, ...]]:
    """A full-batch descent from zero whose every gradient is one NumPy pass over the table's
    columns, standardised a block at a time (:meth:`gdlab._design.Standard.pass_fn`): the data
    are never copied. The optimiser, the stop rule and the record are :func:`gdlab.descend`'s."""
    from gdlab._host import descend_passes

    spec = resolve_method(how)
    rate, source = rate_for(standard, spec, settings, factor)
    tol = settings.tol if settings.tol is not None else _default_tol(y, np.dtype(np.float64), spec.name)
    assert rate is not None  # methods that need only gradients take a rate
    path = descend_passes(
        standard.pass_fn(y, kind),
        np.zeros(standard.p),
        lr=rate,
        steps=settings.steps,
        method=spec,
        tol=tol,
        where="the table's columns",
    )
    return path, rate, source, stopped(path, spec.name)


# A coefficient this far (relative) from the closed form has no correct digit.
NO_DIGIT = 0.1


def relative_offs(coef: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """Each coefficient's difference from the closed form's, relative to its size (or 1)."""
    return np.abs(coef - closed) / np.maximum(1.0, np.abs(closed))


def relative_off(coef: np.ndarray, closed: np.ndarray) -> float:
    """The largest difference of a coefficient from the closed form's (:func:`relative_offs`)."""
    return float(np.max(relative_offs(coef, closed)))


def _imprecise(path: Trajectory) -> Trajectory:
    """A run the engine called converged (its gradient fell to tol) whose answer has no correct digit:
    judged again by the engine as :attr:`Outcome.IMPRECISE` (stalled), with the words for it."""
    if path.facts is None:
        return path
    facts = dataclasses.replace(path.facts, outcome=Outcome.IMPRECISE)
    ending = judge(facts)
    return dataclasses.replace(
        path,
        status=ending.status,
        regime=ending.regime,
        message=ending.sentence,
        words=functools.partial(describe, facts),
        facts=facts,
    )


def _why_far(
    coef: np.ndarray,
    closed: np.ndarray,
    Z: np.ndarray,
    path: Trajectory,
    rate: float | None,
    settings: Settings,
    name: str,
    factor: float = 2.0,
    reference: str = "closed form",
) -> tuple[str, ...]:
    """Why a descent stopped far from the closed form, from the curvature (what :func:`gdlab.stability`
    reports for this quadratic): a rate above 2/L, too few steps, unscaled columns, a flat direction."""
    from gdlab._stability import Stability

    off = relative_off(coef, closed)
    if off <= 1e-6:
        return ()
    report = Stability.of(eigenvalues(Z, factor))
    L, mu = report.L, report.mu
    head = f"{name} stopped {off:.2g} (relative) from the {reference}"
    reasons: list[str] = []
    if rate is not None and name in ("gd", "sgd", "momentum", "nesterov") and rate >= report.critical_lr:
        explained = report.explain(rate)
        reasons.append(Sentence(lambda s: f"{explained}: lower {s.name('lr')}"))
    if mu <= 1e-12 * L:
        reasons.append(
            "the loss is flat along a direction (the Hessian's smallest eigenvalue is ~0: nearly collinear "
            "columns), so nothing pulls the coefficients there toward the closed form"
        )
    elif report.condition > 1e4:
        scale = "" if settings.standardize else " (the columns are not standardised: standardize=True helps)"
        reasons.append(
            f"the Hessian's condition number is {report.condition:.3g}{scale}: a fixed-rate descent needs "
            f"about {min(report.condition, 1e15):.2g} steps per factor of e along the flattest direction"
        )
    if path.status is Status.MAX_STEPS:
        steps = settings.steps
        reasons.append(Sentence(lambda s: f"it ran out of steps ({steps:,}): raise {s.name('steps')}"))
    return (
        Sentence(lambda s: f"{head}: {'; '.join(str(spelled(r, s)) for r in reasons) or path.message_in(s)}"),
    )


def _sgd_rate(Z: np.ndarray, size: int, factor: float = 2.0) -> tuple[float, str]:
    """``1/(2 L_b)``: the rate with a convergence guarantee for batches of ``size`` rows drawn without
    replacement, where ``L_b`` is the expected smoothness of a batch's loss (Gower et al., 2019):
    between ``L`` (the whole data) and the sharpest single row's curvature ``max 2|z_i|^2``."""
    n = len(Z)
    L, _ = curvature(Z, factor)
    sharpest = factor * float(np.max(np.einsum("ij,ij->i", Z, Z)))  # no temporary as large as Z
    L_b = L if n == 1 else n * (size - 1) / (size * (n - 1)) * L + (n - size) / (size * (n - 1)) * sharpest
    return 1 / (2 * L_b), f"1/(2 L_b) for batches of {size} of {n} rows, L_b={L_b:.4g}"


@functools.lru_cache(maxsize=32)
def _cosine(total: int) -> Method:
    """Plain SGD whose rate falls from ``lr`` to 0 by a cosine over ``total`` steps.

    Cached, so that runs of the same length share one compiled SGD loop."""
    return Method(
        "gd, cosine decay", make=lambda lr: optax.sgd(optax.cosine_decay_schedule(lr, max(total, 1)))
    )


def _descend_sgd(
    Z: np.ndarray,
    y: np.ndarray,
    settings: Settings,
    dtype: np.dtype,
    kind: Literal["mse", "logistic"] = "mse",
    factor: float = 2.0,
) -> tuple[Trajectory, float, str, tuple[str, ...]]:
    from gdlab._sgd import sgd

    loss = mse if kind == "mse" else mean_log_loss

    n = len(Z)
    size = min(settings.batch_size, n)
    notes: tuple[str, ...] = ()
    if size < settings.batch_size:
        notes = (
            f"batch_size {settings.batch_size:,} is more than the {n:,} rows: used batches of all {n:,}",
        )
    total = settings.epochs * (n // size)
    _checks.size(
        "numbers an sgd run keeps",
        (total + 1) * (2 * Z.shape[1] + 1),
        LIMITS.trajectory_numbers,
        "use fewer epochs or larger batches",
    )
    rate, source = (settings.lr, "given") if settings.lr is not None else _sgd_rate(Z, size, factor)
    if settings.decay:
        source += f", decaying to 0 by a cosine over {total:,} steps"
    path = sgd(
        loss,
        np.zeros(Z.shape[1]),
        {"Z": Z, "y": y},
        lr=rate,
        batch_size=size,
        epochs=settings.epochs,
        seed=settings.seed,
        method=_cosine(total) if settings.decay else "gd",
        dtype=dtype,
    )
    if path.status not in (Status.CONVERGED, Status.MAX_STEPS):  # an SGD run takes every step it is given
        notes += (Sentence(lambda s: f"sgd: {path.message_in(s)}"),)
    return path, rate, source, notes


def descent_over(closed: Fit, source: Any, settings: Settings, how: str | Method, kind: Kind) -> Fit:
    """``closed`` with a descent beside it whose every gradient is one pass over ``source`` (rows
    streamed or on a cluster): the same standardised problem, rate, tolerance and stop rule as
    :func:`descent` runs on rows in memory, its columns standardised block by block where they
    live (:func:`gdlab.fitting._families.standard_block`)."""
    from gdlab._host import descend_passes
    from gdlab.fitting._families import CURVATURE, add_values, standard_block
    from gdlab.fitting._linear import linear_stats, standardised

    x, y, intercept = closed.x, closed.y, closed.intercept
    stats = linear_stats(source, y=y, x=x, intercept=intercept)  # one pass: scaling and curvature
    RZ, scaling = standardised(stats) if settings.standardize else (stats.R, Scaling.identity(stats.p))
    spec = resolve_method(how)
    # The rate rule reads the Hessian factor*M'M/len(M); M = R_Z's top block x sqrt(p/n) has that of Z.
    rate, rule = rate_for(RZ[:-1, :-1] * np.sqrt(stats.p / stats.n), spec, settings, CURVATURE[kind])
    rms = float(np.sqrt(np.sum(stats.R[:, -1] ** 2) / stats.n))
    tol = settings.tol if settings.tol is not None else default_tol(rms, np.dtype(np.float64), spec.name)
    n, args = stats.n, (x, y, intercept, scaling.mean, scaling.scale)

    def pass_fn(w: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = source.reduce(standard_block, add_values, *args, np.asarray(w, np.float64), kind)
        return value / n, grad / n

    assert rate is not None  # methods that need only gradients take a rate
    path = descend_passes(
        pass_fn, np.zeros(stats.p), lr=rate, steps=settings.steps, method=spec, tol=tol, where=source.where
    )
    notes = stopped(path, spec.name)
    if not settings.standardize:
        rule = None if rule is None else rule.replace("standardised regressors", "the raw columns")
        notes = ("descent ran on the raw columns (standardize=False), as the lecture does", *notes)
    return dataclasses.replace(
        closed,
        coef=scaling.back(np.asarray(path.final)),
        lr=rate,
        lr_source=rule,
        trajectory=path,
        warnings=(*closed.warnings, *notes),
        standardized=settings.standardize,
        _scaling=scaling,
    )
