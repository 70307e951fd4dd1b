"""The families of a generalised linear model, one object each, in a registry a new one joins.

Modelled on dask-glm's ``families.py`` and statsmodels' ``genmod.families``: a family is its
link (``eta = g(mu)``), the inverse link and its derivative ``dmu/deta``, its variance function
``V(mu)``, the deviance and log-likelihood of each row, where Newton's method (IRLS) starts, and
which responses it accepts. Everything else (the IRLS loop over a :class:`~gdlab.data.Source`,
the weights, the offset, the inference) is written once in :mod:`gdlab.fitting._glm`.

Per row, ``y`` is the response (for a binomial model with trials, the proportion
``successes / trials``), ``m`` the binomial trials (1 for every other family) and ``w`` the
frequency weight; the deviance and log-likelihood returned are per row, before ``w``.

A new family is one :class:`GlmFamily` passed to :func:`register`::

    register(GlmFamily(name="gamma", link=..., ...), aliases=("Gamma",))

after which ``gdlab.fit(..., family="gamma")`` fits it in memory, streamed and on a cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import final

import numpy as np
from scipy.special import gammaln, xlogy  # type: ignore[import-untyped]

from gdlab._checks import unknown

__all__ = ["ALIASES", "GLM_FAMILIES", "GlmFamily", "glm_family", "register"]

Array = np.ndarray
RowFunction = Callable[[Array], Array]


@final
@dataclass(frozen=True)
class GlmFamily:
    """One family of a GLM.

    Attributes:
        name: its name (``fit(..., family=name)``).
        link: ``eta = g(mu)``.
        inverse: ``mu = g^-1(eta)``.
        derivative: ``dmu/deta`` at ``eta``.
        variance: ``V(mu)``.
        deviance: each row's deviance ``d(y, mu, m)`` (before its frequency weight).
        loglike: each row's log-likelihood ``l(y, mu, m)`` at scale 1 (``None``: the scale is
            estimated, the Gaussian's: :mod:`gdlab.fitting._glm` computes it from the deviance).
        start: the mean Newton's method starts from, ``mu0(y, m)``.
        bad: each row's response the family cannot take (a boolean per row), and ``wants``, the
            words for what it takes.
        wants: what a response must be, in words.
        scale_estimated: whether the dispersion is estimated (Gaussian) rather than 1.
        canonical: whether the link is the family's canonical link, where ``dmu/deta`` equals
            ``V(mu)`` (so a Newton step computes the variance alone).
    """

    name: str
    link: RowFunction
    inverse: RowFunction
    derivative: RowFunction
    variance: RowFunction
    deviance: Callable[[Array, Array, Array], Array]
    loglike: Callable[[Array, Array, Array], Array] | None
    start: Callable[[Array, Array], Array]
    bad: RowFunction
    wants: str
    scale_estimated: bool = False
    canonical: bool = False


def _expit(eta: Array) -> Array:
    return np.exp(-np.logaddexp(0.0, -eta))


def _logit_derivative(eta: Array) -> Array:
    p = _expit(eta)
    return np.maximum(p * (1 - p), 1e-300)


def _binomial_deviance(y: Array, mu: Array, m: Array) -> Array:
    # written as differences of xlogy, so a mean that rounds to 0 or 1 where y is too gives 0
    return 2 * m * (xlogy(y, y) - xlogy(y, mu) + xlogy(1 - y, 1 - y) - xlogy(1 - y, 1 - mu))


def _binomial_loglike(y: Array, mu: Array, m: Array) -> Array:
    k = y * m
    choose = gammaln(m + 1) - gammaln(k + 1) - gammaln(m - k + 1)
    return choose + xlogy(k, mu) + xlogy(m - k, 1 - mu)


def _poisson_deviance(y: Array, mu: Array, m: Array) -> Array:
    return 2 * (xlogy(y, y) - xlogy(y, mu) - (y - mu))


def _poisson_loglike(y: Array, mu: Array, m: Array) -> Array:
    return xlogy(y, mu) - mu - gammaln(y + 1)


BINOMIAL = GlmFamily(
    name="binomial",
    link=lambda mu: np.log(mu / (1 - mu)),
    inverse=_expit,
    derivative=_logit_derivative,
    variance=lambda mu: np.maximum(mu * (1 - mu), 1e-300),
    deviance=_binomial_deviance,
    loglike=_binomial_loglike,
    start=lambda y, m: (m * y + 0.5) / (m + 1),  # R's binomial()$initialize
    bad=lambda y: (y < 0) | (y > 1),
    wants="0 and 1 (or, with trials=, successes between 0 and the trials)",
    canonical=True,
)

POISSON = GlmFamily(
    name="poisson",
    link=np.log,
    inverse=np.exp,
    derivative=np.exp,
    variance=lambda mu: mu,
    deviance=_poisson_deviance,
    loglike=_poisson_loglike,
    start=lambda y, m: y + 0.1,  # R's poisson()$initialize
    bad=lambda y: y < 0,
    wants="counts of 0 or more",
    canonical=True,
)

GAUSSIAN = GlmFamily(
    name="gaussian",
    link=lambda mu: mu,
    inverse=lambda eta: eta,
    derivative=np.ones_like,
    variance=np.ones_like,
    deviance=lambda y, mu, m: (y - mu) ** 2,
    loglike=None,
    start=lambda y, m: y,
    bad=lambda y: np.zeros(y.shape, dtype=bool),
    wants="numbers",
    scale_estimated=True,
    canonical=True,
)

# name -> family; ALIASES maps the other names R and statsmodels use to these.
GLM_FAMILIES: dict[str, GlmFamily] = {}
ALIASES: dict[str, str] = {}


def register(family: GlmFamily, aliases: tuple[str, ...] = ()) -> GlmFamily:
    """Add ``family`` (and names that mean it) to the families :func:`gdlab.fit` takes."""
    GLM_FAMILIES[family.name] = family
    for alias in aliases:
        ALIASES[alias.lower()] = family.name
    return family


register(BINOMIAL, aliases=("logit", "logistic", "binomial"))
register(POISSON, aliases=("poisson",))
register(GAUSSIAN, aliases=("gaussian", "normal", "linear"))


def glm_family(name: object) -> GlmFamily:
    """The family called ``name`` (any name :data:`ALIASES` knows), or an error suggesting one."""
    key = name.strip().lower() if isinstance(name, str) else ""
    if key in ALIASES:
        return GLM_FAMILIES[ALIASES[key]]
    raise unknown("family", name, sorted(ALIASES))
