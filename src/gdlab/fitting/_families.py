"""The families of a fit, each by its loss and by its terms on one block of rows.

Modelled on dask-glm's ``families.py``: a family is what every algorithm needs to know about a
model and nothing about where the rows are. Per family:

- its mean loss on rows of standardised data (``Z``, ``y``), which the compiled drivers descend;
- its block terms: a function of one :class:`~gdlab.data.Block` (its columns dict, its real rows)
  whose results over all blocks merge, two at a time, into those of all the rows (a source
  reduces them, see :meth:`gdlab.data.Source.reduce`): the QR factor of ``[1 | X | y]`` for a
  linear model (merged by :func:`gdlab._tsqr.merge_r`), and the loss and gradient on standardised
  columns for a descent (a Newton (IRLS) step's terms, the logistic one's included, are a GLM
  family's: :mod:`gdlab.fitting._glm`);
- the curvature factor of its loss (``2 Z'Z/n`` for squared errors, at most ``Z'Z/(4n)`` for
  the log-loss), from which the rate rules choose a rate.

A GLM family (Poisson, binomial with trials) is a :class:`~gdlab.fitting._glm_families.GlmFamily`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from gdlab._checks import InputError
from gdlab._design import block_terms
from gdlab._lazy import lazy
from gdlab._tsqr import updated_factor
from gdlab.data import Block

if TYPE_CHECKING:
    import jax.numpy as jnp
else:  # a closed form or a Newton fit never imports JAX; the losses below do when called
    jnp = lazy("jax.numpy")

__all__ = [
    "CURVATURE",
    "IRLS_MAX_ITERATIONS",
    "IRLS_RTOL",
    "Kind",
    "add_values",
    "check_binary_response",
    "linear_block",
    "mean_log_loss",
    "mse",
    "standard_block",
]

Kind = Literal["mse", "logistic"]

# Newton's method (IRLS) stops once no coefficient moves by more than this, relatively...
IRLS_RTOL = 1e-13
# ...or after this many steps (a separable logistic problem never stops moving).
IRLS_MAX_ITERATIONS = 100

# The Hessian of each family's mean loss is about this factor times Z'Z/n.
CURVATURE: dict[str, float] = {"mse": 2.0, "logistic": 0.25}


def mse(b: Any, data: dict[str, Any]) -> Any:
    """The mean squared error of coefficients ``b`` on rows of standardised data."""
    return jnp.mean((data["y"] - data["Z"] @ b) ** 2)


def mean_log_loss(b: Any, data: dict[str, Any]) -> Any:
    """The mean log-loss (negative log-likelihood per row) of a logistic model's coefficients ``b``."""
    eta = data["Z"] @ b
    return jnp.mean(jnp.logaddexp(0.0, eta) - data["y"] * eta)


# --- linear: the QR factor of [1 | X | y] -----------------------------------------------------------


def linear_block(block: Block, x: Sequence[str], y: str, intercept: bool) -> np.ndarray:
    """A block's ``R`` of ``[1 | X | y]`` (its real rows), written once into the array LAPACK
    factors; two merge by :func:`gdlab._tsqr.merge_r`."""
    q = len(x) + 1 + int(intercept)
    return updated_factor(np.zeros((q, q)), block.columns, (*x, y), block.rows, intercept)


# --- logistic: one Newton (IRLS) step's terms -------------------------------------------------------


def check_binary_response(y: np.ndarray, column: str, start: int = 0, within: str = "") -> None:
    """Refuse a block's response that is not 0/1, naming the first bad row (``start`` + its row
    in the block, then ``within``, such as " of a chunk")."""
    bad = np.flatnonzero((y != 0) & (y != 1))
    if bad.size:
        row = int(bad[0])
        value = y[row]
        raise InputError(
            lambda s: (
                f"column {column!r} must hold only 0 and 1 for "
                f"{s.setting('family', 'logistic', quoted=True)}; it holds {value:g} at row "
                f"{start + row}{within}: recode it, for example as 1 where it is above a threshold"
            ),
            parameter="family",
        )


# --- a descent's loss and gradient on standardised columns ----------------------------------------


def standard_block(
    block: Block,
    x: Sequence[str],
    y: str,
    intercept: bool,
    mean: np.ndarray,
    scale: np.ndarray,
    w: np.ndarray,
    kind: Kind,
) -> tuple[float, np.ndarray]:
    """A block's summed loss of ``kind`` and its gradient at ``w``, on its regressors standardised
    (``(x - mean) / scale``, a column of ones first with an intercept)."""
    count = block.rows
    Z = np.empty((count, len(x) + int(intercept)), order="F")
    if intercept:
        Z[:, 0] = 1.0
    for j, name in enumerate(x):
        Z[:, j + int(intercept)] = (block.columns[name][:count] - mean[j]) / scale[j]
    return block_terms(Z, block.columns[y][:count], w, kind)


def add_values(a: tuple[float, np.ndarray], b: tuple[float, np.ndarray]) -> tuple[float, np.ndarray]:
    """Two blocks' :func:`standard_block` as those of both."""
    return a[0] + b[0], a[1] + b[1]
