"""Robust covariances of a linear fit by one reduction over the rows, wherever they live.

The sandwich ``A M A`` of ``A = (X'X)^-1`` (from the QR factor) and a "meat" ``M`` summed over
the rows: ``sum w_i e_i^2 x_i x_i'`` for White's HC0-HC3 (``w`` 1, ``n/(n-p)``, ``1/(1-h_i)``,
``1/(1-h_i)^2``, ``h_i = x_i' A x_i`` the leverage), or ``sum_g s_g s_g'`` over clusters of the
scores ``s_g = sum_{i in g} e_i x_i`` with statsmodels' (and Stata's) correction
``G/(G-1) (n-1)/(n-p)``, tested on ``G - 1`` degrees of freedom. Each block of a
:class:`~gdlab.data.Source` gives its part of ``M`` (or its clusters' score sums), so the same
numbers come from memory, a Parquet file or a cluster.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from gdlab._checks import InputError, unknown
from gdlab.data import Block
from gdlab.fitting._inference import with_covariance
from gdlab.fitting._result import Fit

__all__ = [
    "COV_TYPES",
    "LOGISTIC_COV_TYPES",
    "Model",
    "Robust",
    "check_groups",
    "cov_type",
    "robust_covariance",
    "white",
    "white_meat",
]

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
_BY_LOWER = {c.lower(): c for c in COV_TYPES}  # a covariance's name in any case
# Rows of the design built at a time (bounds the memory of a robust covariance of a large table).
_ROWS = 65_536
# A leverage within this of 1 is 1: HC2 and HC3 would divide by rounding (1 - h of 1e-16).
LEVERAGE_ONE = 1e-10
# A logistic fit's sandwich is White's (statsmodels' Logit gives HC1-HC3 the same numbers as HC0).
LOGISTIC_COV_TYPES = ("nonrobust", "HC0", "cluster")


@dataclass(frozen=True)
class Robust:
    """The covariance a fit asked for (``cov=``, ``groups=``)."""

    kind: str = "nonrobust"
    groups: str | None = None

    def applied(self, result: Fit, source: Any, glm: Any = None) -> Fit:
        """``result`` with this covariance behind its statistics (one pass over ``source``);
        ``glm``, a GLM's :class:`gdlab.fitting._glm.Model`, gives each row's score."""
        stats = result.stats
        if self.kind == "nonrobust" or stats is None:
            return result
        # Least squares, weighted or not, estimates its dispersion: its bread is (X'WX)^-1, its
        # tests t on n - p (or G - 1); a logistic fit's and another GLM's are the inverse
        # information, with z tests, as statsmodels' Logit and GLM
        squares = result.least_squares
        bread = stats.cov / stats.sigma**2 if stats.sigma and squares else stats.cov
        model = Model(result.x, result.y, result.intercept, result.family == "logistic", glm)
        cov, df, clusters = robust_covariance(
            source, model, stats.coef, bread, self.kind, result.n, self.groups
        )
        tested = df if squares else None
        return dataclasses.replace(result, stats=with_covariance(stats, cov, self.kind, tested, clusters))


class Model(NamedTuple):
    """What a block needs to know of the model: its columns, and whether the mean is logistic (or
    a GLM's, whose :class:`gdlab.fitting._glm.Model` gives the scores)."""

    x: tuple[str, ...]
    y: str
    intercept: bool
    logistic: bool = False
    glm: Any = None


def check_groups(groups: object) -> None:
    """Refuse ``groups`` that is not the name of a column (an array of labels, an empty name),
    saying how to give the labels: checked before anything reads the data."""
    if groups is not None and not (isinstance(groups, str) and groups.strip()):
        given = "an empty name" if isinstance(groups, str) else f"{type(groups).__name__} values"
        raise InputError(
            lambda s: (
                f"{s.name('groups')} names the column of cluster labels, as "
                f"{s.setting('groups', 'firm', quoted=True)}; it was given {given}: add the labels to the "
                "data as a column (one per row) and name that column"
            ),
            parameter="groups",
        )


def cov_type(name: object, groups: str | None) -> str:
    """The covariance named by ``name`` (any case), checked against ``groups``."""
    found = _BY_LOWER.get(name.lower()) if isinstance(name, str) else None
    if found is None:
        raise unknown("cov", name, COV_TYPES)
    check_groups(groups)
    if found == "cluster" and groups is None:
        raise InputError(
            lambda s: (
                f"{s.setting('cov', 'cluster', quoted=True)} needs the column of cluster labels: "
                f"give {s.setting('groups', 'firm', quoted=True)} (numbers or text)"
            ),
            parameter="groups",
        )
    if found != "cluster" and groups is not None:
        raise InputError(
            lambda s: (
                f"{s.name('groups')} names the clusters of {s.setting('cov', 'cluster', quoted=True)}; "
                f"with {s.setting('cov', found, quoted=True)} leave it out, or give "
                f"{s.setting('cov', 'cluster', quoted=True)}"
            ),
            parameter="groups",
        )
    return found


def _pieces(block: Block, model: Model, coef: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, slice]]:
    """The block's real rows, ``_ROWS`` at a time (a table in memory is one block: its design is
    never built whole): each piece's design, its residuals ``y - mean`` (a probability for a
    logistic model: a row's score is its residual times its regressors) and its rows."""
    for start in range(0, block.rows, _ROWS):
        rows = slice(start, min(start + _ROWS, block.rows))
        columns = [np.ones(rows.stop - start)] * model.intercept + [block.columns[c][rows] for c in model.x]
        X = np.column_stack(columns)
        if model.glm is not None:
            from gdlab.fitting._glm import scores

            e = scores(model.glm, X, block.columns, rows, coef)
            if model.glm.weights and model.glm.family.name == "gaussian":
                # weighted least squares: the rows whitened, sqrt(w) x and e / sqrt(w) (e = w r),
                # as statsmodels' WLS reads them: the same scores and meat, and each row's leverage
                # w x'(X'WX)^-1 x for HC2 and HC3 (a row of weight 0 counts for nothing)
                root = np.sqrt(np.asarray(block.columns[model.glm.weights][rows], dtype=np.float64))
                with np.errstate(divide="ignore", invalid="ignore"):
                    e = np.where(root > 0, e / root, 0.0)
                X = X * root[:, None]
            yield X, e, rows
            continue
        eta = X @ coef
        mean = 1 / (1 + np.exp(-eta)) if model.logistic else eta
        yield X, block.columns[model.y][rows] - mean, rows


def _meat(block: Block, model: Model, coef: np.ndarray, bread: np.ndarray, kind: str) -> np.ndarray:
    meat = np.zeros((len(coef), len(coef)))
    for X, e, _ in _pieces(block, model, coef):
        meat += white_meat(X, e, bread, kind)
    return meat


def white_meat(X: np.ndarray, e: np.ndarray, bread: np.ndarray, kind: str) -> np.ndarray:
    """White's meat ``sum w_i e_i^2 x_i x_i'`` of rows ``X`` (a design's, or a formula's Jacobian's)
    with residuals ``e``: ``w`` 1 for HC0 and HC1 (HC1's ``n/(n-p)`` is applied to the sum, see
    :func:`white`), ``1/(1-h_i)`` for HC2, ``1/(1-h_i)^2`` for HC3, ``h_i = x_i' bread x_i``."""
    w = e**2
    if kind in ("HC2", "HC3"):
        h = np.einsum("ij,ij->i", X @ bread, X)  # the leverages
        left = 1 - h
        if not np.all(left > LEVERAGE_ONE):  # NaN (a row not finite) is refused too
            count = int(np.count_nonzero(~(left > LEVERAGE_ONE)))
            raise InputError(
                lambda s: (
                    f"{s.setting('cov', kind, quoted=True)} divides each row's squared residual by "
                    f"(1 - its leverage), and {count} row{'s' * (count > 1)} of this fit "
                    f"{'have' if count > 1 else 'has'} leverage 1 (the fit passes through "
                    f"{'them' if count > 1 else 'it'} whatever its value): give "
                    f"{s.setting('cov', 'HC0', quoted=True)} or 'HC1'"
                ),
                parameter="cov",
            )
        w = w / left ** (1 if kind == "HC2" else 2)
    return (X * w[:, None]).T @ X


def white(bread: np.ndarray, meat: np.ndarray, kind: str, n: int) -> tuple[np.ndarray, float]:
    """White's ``kind`` covariance ``bread meat bread`` from the meat summed over all ``n`` rows, and
    the degrees of freedom of its tests, ``n - p``."""
    p = len(bread)
    if kind == "HC1":
        meat = meat * n / (n - p)
    return bread @ meat @ bread, float(n - p)


def _scores(block: Block, model: Model, coef: np.ndarray, groups: str) -> dict[float, np.ndarray]:
    found: dict[float, np.ndarray] = {}
    for X, e, rows in _pieces(block, model, coef):
        labels, where = np.unique(block.columns[groups][rows], return_inverse=True)
        S = X * e[:, None]
        sums = np.column_stack([np.bincount(where, S[:, j], len(labels)) for j in range(S.shape[1])])
        found = _joined(found, dict(zip(labels.tolist(), sums, strict=True)))
    return found


def _added(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a + b


def _joined(a: dict[float, np.ndarray], b: dict[float, np.ndarray]) -> dict[float, np.ndarray]:
    out = dict(a)
    for label, s in b.items():
        out[label] = out[label] + s if label in out else s
    return out


def robust_covariance(
    source: Any,
    model: Model,
    coef: np.ndarray,
    bread: np.ndarray,
    kind: str,
    n: int,
    groups: str | None = None,
) -> tuple[np.ndarray, float, int | None]:
    """The ``kind`` covariance of ``coef`` (``bread``: ``(X'X)^-1``, or the inverse information of a
    logistic model), the degrees of freedom of its tests, and the clusters counted (``None`` but
    for ``"cluster"``): one pass over the ``n`` rows of ``source``."""
    p = len(coef)
    if kind == "cluster":
        assert groups is not None
        sums = source.reduce(_scores, _joined, model, coef, groups)
        G = len(sums)
        if G < 2:
            raise InputError(
                f"cov='cluster' needs at least 2 clusters; column {groups!r} has {G}", parameter="groups"
            )
        S = np.array(list(sums.values()))
        meat = S.T @ S * (G / (G - 1)) * ((n - 1) / (n - p))
        return bread @ meat @ bread, float(G - 1), G
    meat = source.reduce(_meat, _added, model, coef, bread, kind)
    return (*white(bread, meat, kind, n), None)
