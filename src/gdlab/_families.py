"""The families of a fit, each by its loss on the rows of standardised data (``Z``, ``y``):
the mean squared error of a linear model and the mean log-loss of a logistic one, and the
settings of the Newton (IRLS) loop that fits a logistic model in memory and from streamed passes.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

# Newton's method (IRLS) stops once no coefficient moves by more than this, relatively...
IRLS_RTOL = 1e-13
# ...or after this many steps (a separable logistic problem never stops moving).
IRLS_MAX_ITERATIONS = 100


def mse(b: Any, data: dict[str, Any]) -> Any:
    """The mean squared error of coefficients ``b`` on rows of standardised data."""
    return jnp.mean((data["y"] - data["Z"] @ b) ** 2)


def mean_log_loss(b: Any, data: dict[str, Any]) -> Any:
    """The mean log-loss (negative log-likelihood per row) of a logistic model's coefficients ``b``."""
    eta = data["Z"] @ b
    return jnp.mean(jnp.logaddexp(0.0, eta) - data["y"] * eta)


__all__ = ["IRLS_MAX_ITERATIONS", "IRLS_RTOL", "mean_log_loss", "mse"]
