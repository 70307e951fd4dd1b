"""Models on data: the closed form beside descent and second-order methods, as one Fit result.

Linear least squares is solved in closed form (scaled, pivoted Householder QR,
see :mod:`gdlab._ols`) with standard errors and R²; any descent method runs
beside it on standardised regressors (each centred and scaled to unit spread),
where one rate suits every coefficient, and its answer is mapped back to the
original units, so it can be read beside the closed form. ``family="logistic"``
fits a 0/1 response by Newton's method (IRLS, :mod:`gdlab.fitting._logistic`), and
``model="b1*(1-exp(-b2*x))"`` a formula by nonlinear least squares
(:mod:`gdlab.fitting._formula`).

Example:
    >>> import gdlab
    >>> from gdlab.fitting._fit import fit
    >>> result = fit("cafe", y="y", x="x", method="gd")
    >>> result.coefficients
    {'intercept': 9.944..., 'x': 2.215...}
    >>> result.max_difference < 1e-9, result.status.value
    (True, 'converged')
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from gdlab._checks import DEFAULT_STEPS, InputError
from gdlab._data import DataLike, NamesLike, design_matrix
from gdlab._methods import Method
from gdlab._ols import Columns
from gdlab._precision import resolve_dtype
from gdlab._types import DTypeLike
from gdlab.data import Where, find_levels, open_source, where
from gdlab.fitting._result import Fit
from gdlab.fitting._robust import LOGISTIC_COV_TYPES, Robust, check_groups, cov_type
from gdlab.fitting._settings import (
    METHODS,
    FitMethod,
    Settings,
    check_design,
    family_name,
    fit_method,
    method_name,
    variables,
)

__all__ = ["METHODS", "Fit", "FitMethod", "fit"]


def fit(
    data: DataLike,
    formula: str | None = None,
    *,
    y: str | None = None,
    x: NamesLike | None = None,
    model: str | None = None,
    family: str = "linear",
    method: FitMethod | str | Any = None,
    init: dict[str, float] | None = None,
    intercept: bool = True,
    standardize: bool = True,
    steps: int = DEFAULT_STEPS,
    epochs: int = 200,
    batch_size: int = 8,
    seed: int = 0,
    lr: float | None = None,
    decay: bool = True,
    tol: float | None = None,
    rcond: float | None = None,
    dropna: bool = False,
    dtype: DTypeLike = None,
    client: Any = None,
    stream: bool | None = None,
    cov: str = "nonrobust",
    groups: str | None = None,
    trials: str | None = None,
    weights: str | None = None,
    offset: str | None = None,
) -> Fit:
    """Fit ``y ~ x`` (or ``y ~ model``, or a formula such as ``"y ~ x + C(g)"``): in closed form,
    or iteratively beside the reference solution.

    Linear least squares (the default) is solved in closed form by scaled,
    pivoted Householder QR, with standard errors, t values, R², adjusted R²,
    the residual SD and the condition number. Any other method runs beside it:
    ``"gd"`` and the other descent methods, ``"newton"``, ``"lbfgs"`` and
    ``"sgd"`` start from zero on the standardised regressors (unless
    ``standardize=False``, which shows the raw, often ill-conditioned problem)
    and map their answer back to the original units. Unless ``lr`` is given,
    gd takes the rate ``2/(mu+L)`` from the eigenvalues of the loss's Hessian
    ``2Z'Z/n`` (the fastest fixed rate on this quadratic), and sgd a rate suited
    to its batch (see :func:`_sgd_rate`) that decays to 0 by a cosine over the
    run, so that the noise of the batches dies out and seeds agree with the
    closed form. When a descent stops far from the closed form, ``warnings``
    says why (a rate above 2/L, too few steps, unscaled columns, a flat direction).

    ``family="logistic"`` fits a 0/1 response by maximum likelihood (Newton's
    method, IRLS, to convergence; a descent method runs beside it on the mean
    log-loss). ``model=`` fits a formula in gdlab's expression language, such as
    ``"b1*(1-exp(-b2*x))"``, by least squares: its names that are columns are
    data, the rest parameters, started from ``init`` (default 1 each), by
    ``"lm"`` (Levenberg-Marquardt, the default), ``"gauss-newton"``, or a
    descent method beside lm.

    Args:
        data: anything :func:`gdlab._data.as_table` reads: arrays, a dict, a
            DataFrame, a CSV or Parquet path, ``"cafe"``.
        formula: a model formula in Wilkinson notation, as R and statsmodels read it:
            ``"y ~ x1 + C(group) + log(x2) + x1:x3"``, ``x1*x3`` (both and their product),
            ``-1`` or ``+0`` (no intercept), ``C(g, Treatment(reference="b"))``, ``I(x**2)``;
            a category (``C(col)``, or a column of text) is treatment-coded against its first
            level (sorted) and its coefficients named as statsmodels names them
            (``C(group)[T.b]``). Each term's expression goes through gdlab's expression
            compiler, never Python's ``eval`` (see :mod:`gdlab.fitting._wilkinson`).
        y: the response column.
        x: the regressor columns: a list, or names separated by commas (not with ``model``).
        model: a formula of columns and parameters, fitted by least squares.
        family: ``"linear"`` (or ``"gaussian"``), ``"logistic"`` (or ``"binomial"``,
            ``"logit"``: a 0/1 response, or successes of ``trials``), ``"poisson"`` (counts,
            log link), or a family added with :func:`gdlab.fitting._glm_families.register`.
            A GLM (Poisson, binomial with trials, and any fit with ``weights`` or ``offset``)
            is fitted by Newton's method (IRLS), a pass per step, in memory, streamed or on a
            cluster alike.
        method: ``"ols"`` (default for linear: closed form only), ``"newton"``
            (default for logistic), ``"lm"`` (default for a formula),
            ``"gauss-newton"``, ``"sgd"``, any name :func:`gdlab.descend` takes
            (``"gd"``, ``"gd-armijo"``, ``"momentum"``, ``"adam"``, ``"lbfgs"`` ...)
            or an optax transformation.
        init: a formula's starting values by parameter name, one for every parameter;
            without it every parameter starts at 1, and the fit's warnings say so.
        intercept: fit an intercept (a column of ones).
        standardize: run descent on standardised regressors (default); False
            runs it on the raw columns.
        steps: the most steps of an iterative method (it stops earlier once converged).
        epochs: passes of sgd over the data.
        batch_size: rows per sgd step (at most the rows there are).
        seed: the shuffling seed of sgd.
        lr: the learning rate, instead of the one chosen from the curvature
            (sgd's still decays from it unless ``decay=False``).
        decay: sgd's rate decays to 0 by a cosine over the run; ``False`` keeps it fixed.
        tol: stop an iterative method once the gradient norm is this small
            (default: 1e-10 relative to the response's size).
        rcond: the closed form's cut-off for dependent columns (see :func:`gdlab.ols`).
        dropna: drop rows with missing values in ``y`` or ``x`` (counted in
            ``dropped``, which the summary and the command line report) instead
            of refusing them. An infinite value is refused either way, naming
            its column and row: it is a wrong value rather than a missing one
            (often a log of 0 or a division by 0), and a fit cannot use it;
            make it missing (NaN) to have its row dropped.
        dtype: the floating type (default float64).
        client: a ``dask.distributed.Client``: the work runs on its cluster, the
            data's chunks staying on the workers (also when ``data`` is a Dask
            array or DataFrame), one pass of chunk factors for a linear fit and a pass per
            Newton step for a logistic one (see :mod:`gdlab.fitting._linear`).
        stream: read a Parquet file in fixed-size batches instead of into memory
            (default: a directory of Parquet files, or a file larger than a table
            may be, is streamed), as on a cluster.
        cov: the covariance behind the standard errors, tests and intervals: ``"nonrobust"``
            (``s^2 (X'X)^-1``; the inverse information for logistic), White's
            heteroskedasticity-robust ``"HC0"``, ``"HC1"``, ``"HC2"``, ``"HC3"`` (linear,
            weighted least squares, and a formula's, with its Jacobian for the design; a
            logistic, binomial or Poisson fit takes ``"HC0"``, without ``weights``), or
            ``"cluster"`` (robust to correlation within the clusters of ``groups``), as
            statsmodels' ``cov_type=`` (with ``use_t=True`` for a linear fit); computed by one
            more pass where the rows are not in memory.
        groups: the column of cluster labels for ``cov="cluster"`` (numbers or text).
        trials: a binomial model's column of trials; ``y`` then holds the successes of each
            row (R's ``cbind(successes, failures)``, statsmodels' two-column response).
        weights: a column of weights, 0 or more: weighted least squares for a linear
            (Gaussian) fit (statsmodels' ``WLS``), frequency weights for a GLM
            (statsmodels' ``GLM(freq_weights=)``).
        offset: a column, or an expression of columns such as ``"log(exposure)"``, added to
            the linear predictor with coefficient 1 (a Poisson rate's exposure).

    Returns:
        A :class:`Fit`.

    Raises:
        InputError: a bad column or value (see :func:`gdlab._data.as_table`),
            ``y`` among ``x``, fewer rows than coefficients, a constant
            regressor beside the intercept, a response that is not 0/1 for
            logistic, a formula naming an unknown column, or a bad setting.

    Example:
        >>> import gdlab
        >>> result = gdlab.fit("cafe", y="y", x="x")
        >>> {k: round(v, 6) for k, v in result.coefficients.items()}
        {'intercept': 9.944573, 'x': 2.215705}
        >>> shops = {"sales": [55.4, 58.2, 61.2, 60.1, 64.3, 66.0, 59.0],
        ...          "temp": [20.1, 22.2, 22.7, 24.0, 25.5, 26.1, 21.0], "shop": list("abcabcb")}
        >>> list(gdlab.fit(shops, "sales ~ temp + C(shop)").coefficients)
        ['Intercept', 'C(shop)[T.b]', 'C(shop)[T.c]', 'temp']
    """
    check_groups(groups)  # before a formula's columns are gathered with it
    if formula is not None:
        return _fit_formula(data, formula, locals())
    if isinstance(model, str) and "~" in model:  # "y ~ a*exp(-k*t)": the response goes to y=
        response, right = (side.strip() for side in model.split("~", 1))
        raise InputError(
            lambda s: (
                f"{s.name('model')} takes the formula's right side alone: give "
                f"{s.setting('y', response, quoted=True)} and {s.setting('model', right, quoted=True)}"
            ),
            parameter="model",
        )
    if y is None and model is not None:
        raise InputError(
            lambda s: (
                f"name the response column: {s.setting('y', 'y', quoted=True)} beside "
                f"{s.setting('model', model, quoted=True)}"
            ),
            parameter="y",
        )
    if y is None:
        raise InputError(
            lambda s: (
                f"name the response: a formula such as 'y ~ x + C(g)' as the second argument, or "
                f"{s.setting('y', 'y', quoted=True)} with {s.setting('x', 'x', quoted=True)}"
            ),
            parameter="y",
        )
    kind = family_name(family)
    cov = cov_type(cov, groups)
    if kind not in ("linear", "logistic") or trials or weights or offset:
        return _fit_glm(
            data,
            family,
            y,
            x,
            model,
            method,
            cov,
            groups,
            intercept,
            dropna,
            dtype,
            client,
            stream,
            trials,
            weights,
            offset,
        )
    if cov == "cluster" and model is not None:
        raise InputError(
            lambda s: (
                f"{s.setting('cov', cov, quoted=True)} is computed for linear and logistic fits "
                f"({s.setting('x', '...')}); a formula takes White's: "
                f"{s.setting('cov', 'HC3', quoted=True)} (or 'HC0' to 'HC2')"
            ),
            parameter="cov",
        )
    if cov not in LOGISTIC_COV_TYPES and kind == "logistic":
        raise InputError(
            lambda s: (
                f"a logistic fit's robust covariance is White's: give {s.setting('cov', 'HC0', quoted=True)} "
                f"(statsmodels' Logit gives {cov!r} the same numbers) or "
                f"{s.setting('cov', 'cluster', quoted=True)}"
            ),
            parameter="cov",
        )
    if model is not None:
        linear = (("intercept", intercept), ("standardize", standardize))
        dropped = [name for name, value in linear if not value]
        if dropped:  # settings of a linear model's design, which a formula has none of
            raise InputError(
                lambda s: (
                    f"{s.setting(dropped[0], False)} sets a linear model's design; a formula "
                    f"({s.name('model')}) has the terms it writes and no other (no intercept is added, "
                    "nothing is standardised): leave it out"
                ),
                parameter=dropped[0],
            )
        if x is not None:
            raise InputError(
                lambda s: f"give {s.name('x')} (a linear model) or {s.name('model')} (a formula), not both",
                parameter="x",
            )
        if kind != "linear":
            raise InputError(
                lambda s: (
                    f"{s.name('model')} formulas are fitted by least squares: leave "
                    f"{s.setting('family', 'linear', quoted=True)}"
                ),
                parameter="family",
            )
        place = where(data, client=client, stream=stream)
        if place is not Where.MEMORY:
            raise _formula_refused(data, streamed=place is Where.PARQUET)
        from gdlab.fitting._formula import fit_formula

        return fit_formula(
            data,
            y=y,
            model=model,
            method=method,
            init=init,
            steps=steps,
            lr=lr,
            tol=tol,
            dropna=dropna,
            dtype=dtype,
            cov=cov,
        )
    if x is None:
        raise InputError(
            lambda s: (
                f"name the regressors: {s.setting('x', 'temp', quoted=True)} {s.several('x')}, or give "
                f"a formula with {s.setting('model', 'b1*(1-exp(-b2*temp))', quoted=True)}"
            ),
            parameter="x",
        )
    if init is not None:
        raise InputError(
            lambda s: (
                f"{s.name('init')} gives a formula's parameters ({s.setting('model', '...')}) their starts; "
                f"a linear fit ({s.setting('x', '...')}) has none to give: leave it unset"
            ),
            parameter="init",
        )
    place = where(data, client=client, stream=stream)
    how = fit_method(method, kind)
    response, regressors = variables(y, x)
    read = (response, *regressors, *([groups] if groups and groups not in (response, *regressors) else []))
    robust = Robust(cov, groups)
    labels = _cluster_labels(data, groups, client, stream)
    if place is not Where.MEMORY:
        settings = _checked_elsewhere(
            place, kind, how, dtype, steps, epochs, batch_size, seed, lr, decay, tol, standardize
        )
        with _category_hint(response, regressors):
            source = open_source(
                data, columns=read, dropna=dropna, client=client, stream=stream, categories=labels
            )
        return _fit_source(source, kind, how, response, regressors, bool(intercept), settings, rcond, robust)
    dt = resolve_dtype(dtype)
    settings = Settings.checked(steps, epochs, batch_size, seed, lr, decay, tol, standardize)
    with _category_hint(response, regressors):
        opened = open_source(data, columns=read, dtype=dt, dropna=dropna, categories=labels)
    table = opened.table()
    coefficients = ("intercept", *regressors) if intercept else regressors
    _check_design(table, regressors, coefficients, bool(intercept))
    target = np.asarray(table[response])
    if kind == "logistic":
        from gdlab.fitting._logistic import fit_logistic

        design = design_matrix(table, regressors, intercept=bool(intercept))
        found = fit_logistic(design, target, response, how, settings, table, bool(intercept), dt)
        return robust.applied(found, opened)
    columns = Columns([None] * bool(intercept) + [table[c] for c in regressors], table.n, dt)
    result = _linear(columns, coefficients, target, response, how, settings, table, bool(intercept), rcond)
    return robust.applied(result, opened)


def _cluster_labels(data: Any, groups: str | None, client: Any, stream: bool | None) -> dict | None:
    """The levels of a ``groups`` column that holds text (cluster labels such as firm names), found
    once over all the rows, so that every block reads each label as the same number; ``None``
    for numeric labels or no clusters."""
    if not groups:
        return None
    return find_levels(data, (), (groups,), client=client, stream=stream) or None


@contextlib.contextmanager
def _category_hint(response: str, regressors: tuple[str, ...]) -> Iterator[None]:
    """A regressor refused for holding text gets a hint: a category is fitted by a formula."""
    try:
        yield
    except InputError as err:
        said = str(err)
        text = next((c for c in regressors if f"column {c!r} holds text" in said), None)
        if text is None:
            raise
        others = " + ".join(f"C({c})" if c == text else c for c in regressors)
        raise InputError(
            f"{said}; if {text!r} is a category, give a formula instead of y and x, which codes "
            f'its levels: "{response} ~ {others}"',
            parameter="x",
        ) from None


def _fit_formula(data: DataLike, formula: str, given: dict[str, Any]) -> Fit:
    """A Wilkinson formula's fit (:mod:`gdlab.fitting._wilkinson`): its design made from the rows
    wherever they are, fitted as ``fit(..., y=, x=)`` fits columns."""
    from gdlab.fitting._wilkinson import fit_formula_terms

    clash = [name for name in ("y", "x", "model") if given[name] is not None]
    if clash and isinstance(formula, str) and "~" not in formula:  # a stray name, not a formula
        raise InputError(
            lambda s: (
                f"{formula!r} is not a formula (it has no '~'), and {s.name(clash[0])} names the columns: "
                f"to give several regressors, name them all in {s.setting('x', 'a,b', quoted=True)} "
                f"{s.several('x')}, or write a formula such as 'y ~ a + b' alone"
            ),
            parameter="formula",
        )
    if clash:
        first = clash[0]
        raise InputError(
            lambda s: (
                f"give a formula or {s.name(first)}, not both: the formula names the response and the terms"
            ),
            parameter=first,
        )
    settings = {
        k: v for k, v in given.items() if k not in ("data", "formula", "y", "x", "model", "intercept")
    }
    if not given["intercept"]:
        raise InputError(
            lambda s: (
                "a formula says whether it has an intercept: write '- 1' or '+ 0' in it instead of "
                f"{s.setting('intercept', False)}"
            ),
            parameter="intercept",
        )
    return fit_formula_terms(data, formula, fit, settings)


def _fit_glm(
    data: DataLike,
    family: str,
    y: str,
    x: NamesLike | None,
    model: str | None,
    method: Any,
    cov: str,
    groups: str | None,
    intercept: bool,
    dropna: bool,
    dtype: DTypeLike,
    client: Any,
    stream: bool | None,
    trials: str | None,
    weights: str | None,
    offset: str | None,
) -> Fit:
    """A GLM (or weighted least squares) by one IRLS loop over the source, wherever the rows are."""
    from gdlab.fitting._glm import Model, fit_glm
    from gdlab.fitting._glm_families import glm_family

    chosen = glm_family(family)
    if model is not None:  # a nonlinear formula: least squares alone, as scipy's least_squares
        given = [s for s, v in (("weights", weights), ("trials", trials), ("offset", offset)) if v]
        what = " and ".join(given) if given else f"family {chosen.name!r}"
        verb = "apply" if len(given) > 1 or what in ("weights", "trials") else "applies"
        raise InputError(
            lambda s: (
                f"a formula ({s.setting('model', '...')}) is fitted by unweighted least squares: {what} "
                f"{verb} to a linear predictor, named with {s.setting('x', '...')} or a formula with '~'"
            ),
            parameter="model",
        )
    if x is None:
        raise InputError(
            lambda s: (
                f"{s.name('trials')}, {s.name('weights')}, {s.name('offset')} and family "
                f"{chosen.name!r} fit a linear predictor: name its regressors with {s.setting('x', '...')}"
            ),
            parameter="x",
        )
    if trials and chosen.name != "binomial":
        raise InputError(
            lambda s: (
                f"{s.name('trials')} is a binomial model's: give "
                f"{s.setting('family', 'binomial', quoted=True)}"
            ),
            parameter="trials",
        )
    kind = "ols" if chosen.name == "gaussian" else "newton"
    if method is not None and (not isinstance(method, str) or method.strip().lower() not in (kind, "newton")):
        settings = [
            name for name, value in (("trials", trials), ("weights", weights), ("offset", offset)) if value
        ]
        solved = "in closed form" if kind == "ols" else "by Newton's method (IRLS)"
        beside = "" if settings else " (descent methods run beside linear and logistic fits)"
        raise InputError(
            lambda s: (
                f"a {chosen.name} fit"
                + (f" with {' and '.join(s.name(name) for name in settings)}" if settings else "")
                + f" is solved {solved}: leave {s.name('method')} unset{beside}"
            ),
            parameter="method",
        )
    if chosen.name != "gaussian" and cov not in LOGISTIC_COV_TYPES:
        raise InputError(
            lambda s: (
                f"a {chosen.name} fit's robust covariance is White's: give "
                f"{s.setting('cov', 'HC0', quoted=True)} (statsmodels' GLM gives {cov!r} the same "
                f"numbers) or {s.setting('cov', 'cluster', quoted=True)}, or leave {s.name('cov')} unset"
            ),
            parameter="cov",
        )
    if chosen.name != "gaussian" and cov != "nonrobust" and weights:
        raise InputError(
            lambda s: (
                f"{s.setting('cov', cov, quoted=True)} is computed for a {chosen.name} fit without "
                f"{s.name('weights')} (frequency weights count each row as that many, which White's "
                f"sandwich of the weighted rows does not): leave {s.name('cov')} unset, or give each "
                "row its own line"
            ),
            parameter="cov",
        )
    if dtype is not None and resolve_dtype(dtype) != np.float64:
        raise InputError(f"a GLM is computed in float64; leave dtype unset (got {resolve_dtype(dtype)})")
    response, regressors = variables(y, x)
    spec = Model(chosen, response, regressors, bool(intercept), trials, weights, offset)
    read = (*spec.columns(), *([groups] if groups and groups not in spec.columns() else []))
    labels = _cluster_labels(data, groups, client, stream)
    with _category_hint(response, regressors):
        source = open_source(
            data, columns=read, dropna=dropna, client=client, stream=stream, categories=labels
        )
    return Robust(cov, groups).applied(fit_glm(source, spec, kind), source, spec)


def _checked_elsewhere(place: Where, kind: str, how: Any, dtype: Any, *settings: Any) -> Settings:
    """Check the settings as an in-memory fit checks them (``epochs``, ``batch_size``, ``seed`` and
    ``decay`` are sgd's, unused by other methods, as in memory), and refuse what a fit of rows
    elsewhere cannot do: ``method="sgd"`` (gdlab.sgd runs minibatches there), a method that
    evaluates the loss at trial points for a logistic fit (each a pass), a type other than float64."""
    checked = Settings.checked(*settings)
    what, sgd = (
        (
            "streamed data",
            "gdlab.sgd(loss, init, path, batch_size=..., epochs=...) streams minibatches from the file",
        )
        if place is Where.PARQUET
        else (
            "data on a cluster",
            "gdlab.sgd(loss, init, data, client=..., batch_size=..., epochs=...) runs minibatches there",
        )
    )
    if how == "sgd":
        raise InputError(
            lambda s: (
                f"{s.setting('method', 'sgd', quoted=True)} is not run on {what} by gdlab.fit: the "
                "closed form and every full-batch method run from the statistics of one pass instead "
                f"({s.setting('method', 'gd', quoted=True)}, 'adam' ...); {sgd}, or read the data into memory"
            ),
            parameter="method",
        )
    if dtype is not None and resolve_dtype(dtype) != np.float64:
        raise InputError(
            f"a fit of {what} computes in float64; leave dtype unset (got {resolve_dtype(dtype)}), "
            "or read the data into memory"
        )
    if kind == "logistic" and how != "newton":
        from gdlab._host import streamable

        streamable(how)  # beside Newton's method, each of its gradients is a pass
    return checked


def _fit_source(
    source: Any,
    kind: str,
    how: Any,
    response: str,
    regressors: tuple[str, ...],
    intercept: bool,
    settings: Settings,
    rcond: float | None,
    robust: Robust,
) -> Fit:
    """The fit of rows streamed or on a cluster: one family's algorithm over the source."""
    if kind == "logistic":
        from gdlab.fitting._logistic import fit_logistic_source

        return robust.applied(
            fit_logistic_source(source, regressors, response, intercept, how, settings), source
        )
    from gdlab.fitting._linear import linear_fit, linear_stats

    stats = linear_stats(source, y=response, x=regressors, intercept=intercept)
    result = linear_fit(
        stats,
        how,
        steps=settings.steps,
        lr=settings.lr,
        tol=settings.tol,
        rcond=rcond,
        standardize=settings.standardize,
        dropped=source.dropped + source.n - stats.n,
    )
    return robust.applied(result, source)


def _formula_refused(data: object, *, streamed: bool) -> InputError:
    """The error for a formula (``gdlab.fit(..., model=...)``) on data streamed from Parquet
    (``streamed``) or on a cluster: a formula is fitted in memory."""
    if streamed:
        return InputError(
            lambda s: (
                f"a formula ({s.setting('model', '...')}) is fitted in memory, and {data} would be "
                f"streamed (a directory of Parquet files, a file too large for a table, or "
                f"{s.setting('stream', True)}): read the rows into memory (pandas.read_parquet, or "
                f"{s.setting('stream', False)} for one file a table can hold) and fit those, or fit a "
                f"linear model with {s.setting('x', '...')}, which streams"
            ),
            parameter="model",
        )
    return InputError(
        "a formula (model=...) is fitted in memory, not on a cluster: leave client= unset and give the "
        "rows in memory (a Dask DataFrame's .compute()), or fit a linear model with x=..., which runs "
        "on the cluster"
    )


def _linear(
    design: Columns,
    coefficients: tuple[str, ...],
    target: np.ndarray,
    response: str,
    how: str | Method,
    settings: Settings,
    table: Any,
    intercept: bool,
    rcond: float | None,
) -> Fit:
    """The closed form from the table's columns (no design matrix is built: see
    :class:`gdlab._ols.Columns`), and a descent beside it for any other method."""
    from gdlab._ols import least_squares
    from gdlab.fitting import _inference

    dt = design.dtype
    solved = least_squares(design, target, rcond=rcond, dtype=dt)
    closed = np.asarray(solved.coef, dtype=np.float64)
    stats = _inference.linear(solved, design, target.astype(np.float64, copy=False), intercept)
    notes = solved.messages()
    constant = _inference.constant_of(target) if intercept else None
    note = _inference.linear_note(stats.rss, stats.df_resid, response, constant)
    if note is not None:
        notes = (*notes, note)
    result = Fit(
        y=response,
        names=coefficients,
        method=method_name(how),
        coef=closed,
        closed_form=closed,
        n=table.n,
        warnings=notes,
        dropped=table.dropped,
        intercept=intercept,
        dtype=dt,
        stats=stats if solved.full_rank else None,
        _data=table,
    )
    if how == "ols":
        return result
    from gdlab.fitting._beside import descent  # JAX and optax: the closed form alone never needs them

    return descent(result, tuple(table[c] for c in result.x), target, settings, how)


def _check_design(
    table: Any, regressors: tuple[str, ...], coefficients: tuple[str, ...], intercept: bool
) -> None:
    """Refuse fewer rows than coefficients, and a regressor of one value in every row
    (:func:`gdlab.fitting._settings.check_design`, the streamed fit's rule)."""
    from gdlab.fitting._inference import constant_of

    found = {name: constant_of(table[name]) for name in regressors}
    check_design(table.n, coefficients, intercept, {n: v for n, v in found.items() if v is not None})
