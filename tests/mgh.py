"""Classic unconstrained test problems (Moré, Garbow and Hillstrom, ACM TOMS 7(1), 1981).

Each loss is a sum of squared residuals ``f_i(x)`` written with ``jax.numpy`` on a flat
vector, from the paper's standard start. They are here to audit what gdlab says about a
run (converged, diverged, slow, stalled) against the run's own record, on losses with
curved valleys, bad scaling, singular minima and flat regions: far beyond a parabola.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

import gdlab  # noqa: F401  (float64 before any array below is made)


@dataclass(frozen=True, eq=False)
class Classic:
    """A test problem: a name, the loss (one function object, so compiled code is shared) and its start."""

    name: str
    loss: Callable[[jnp.ndarray], jnp.ndarray]
    start: np.ndarray


def _squares(residuals: Callable[[jnp.ndarray], list | jnp.ndarray]) -> Callable:
    def loss(x):
        r = residuals(x)
        r = jnp.stack(r) if isinstance(r, list) else r
        return jnp.sum(r**2)

    return loss


_BARD_Y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39])
_GAUSS_HALF = [0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521]
_GAUSS_Y = np.array([*_GAUSS_HALF, 0.3989, *_GAUSS_HALF[::-1]])
_MEYER_Y = np.array(
    [34780, 28610, 23650, 19630, 16370, 13720, 11540, 9744, 8261, 7030, 6005, 5147, 4427, 3820, 3307, 2872.0]
)
_KOWALIK_Y = np.array(
    [0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246]
)
_KOWALIK_U = np.array([4, 2, 1, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625])
_OSBORNE_Y = np.array(
    [
        0.844,
        0.908,
        0.932,
        0.936,
        0.925,
        0.908,
        0.881,
        0.850,
        0.818,
        0.784,
        0.751,
        0.718,
        0.685,
        0.658,
        0.628,
        0.603,
        0.580,
        0.558,
        0.538,
        0.522,
        0.506,
        0.490,
        0.478,
        0.467,
        0.457,
        0.448,
        0.438,
        0.431,
        0.424,
        0.420,
        0.414,
        0.411,
        0.406,
    ]
)


def _helical(x):
    theta = jnp.arctan2(x[1], x[0]) / (2 * jnp.pi)
    return [10 * (x[2] - 10 * theta), 10 * (jnp.sqrt(x[0] ** 2 + x[1] ** 2) - 1), x[2]]


def _bard(x):
    u = np.arange(1, 16.0)
    v = 16 - u
    w = np.minimum(u, v)
    return _BARD_Y - (x[0] + u / (v * x[1] + w * x[2]))


def _gaussian(x):
    t = (8 - np.arange(1, 16.0)) / 2
    return x[0] * jnp.exp(-x[1] * (t - x[2]) ** 2 / 2) - _GAUSS_Y


def _meyer(x):
    t = 45 + 5 * np.arange(1, 17.0)
    return x[0] * jnp.exp(x[1] / (t + x[2])) - _MEYER_Y


def _box(x):
    t = 0.1 * np.arange(1, 11.0)
    return jnp.exp(-t * x[0]) - jnp.exp(-t * x[1]) - x[2] * (np.exp(-t) - np.exp(-10 * t))


def _wood(x):
    return [
        10 * (x[1] - x[0] ** 2),
        1 - x[0],
        np.sqrt(90) * (x[3] - x[2] ** 2),
        1 - x[2],
        np.sqrt(10) * (x[1] + x[3] - 2),
        (x[1] - x[3]) / np.sqrt(10),
    ]


def _kowalik(x):
    u = _KOWALIK_U
    return _KOWALIK_Y - x[0] * (u**2 + u * x[1]) / (u**2 + u * x[2] + x[3])


def _brown_dennis(x):
    t = np.arange(1, 21.0) / 5
    return (x[0] + t * x[1] - np.exp(t)) ** 2 + (x[2] + x[3] * np.sin(t) - np.cos(t)) ** 2


def _osborne(x):
    t = 10 * np.arange(33.0)
    return _OSBORNE_Y - (x[0] + x[1] * jnp.exp(-t * x[3]) + x[2] * jnp.exp(-t * x[4]))


def _biggs(x):
    t = 0.1 * np.arange(1, 14.0)
    y = np.exp(-t) - 5 * np.exp(-10 * t) + 3 * np.exp(-4 * t)
    return x[2] * jnp.exp(-t * x[0]) - x[3] * jnp.exp(-t * x[1]) + x[5] * jnp.exp(-t * x[4]) - y


def _extended_rosenbrock(x):
    odd, even = x[0::2], x[1::2]
    return jnp.concatenate([10 * (even - odd**2), 1 - odd])


def _extended_powell(x):
    a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
    return jnp.concatenate([a + 10 * b, np.sqrt(5) * (c - d), (b - 2 * c) ** 2, np.sqrt(10) * (a - d) ** 2])


def _penalty(x):
    return jnp.concatenate([np.sqrt(1e-5) * (x - 1), jnp.atleast_1d(jnp.sum(x**2) - 0.25)])


def _variably(x):
    j = np.arange(1, x.shape[0] + 1.0)
    s = jnp.sum(j * (x - 1))
    return jnp.concatenate([x - 1, jnp.stack([s, s**2])])


def _trigonometric(x):
    n = x.shape[0]
    i = np.arange(1, n + 1.0)
    return n - jnp.sum(jnp.cos(x)) + i * (1 - jnp.cos(x)) - jnp.sin(x)


def _brown_almost_linear(x):
    n = x.shape[0]
    head = x[:-1] + jnp.sum(x) - (n + 1)
    return jnp.concatenate([head, jnp.atleast_1d(jnp.prod(x) - 1)])


def _boundary(x):
    n = x.shape[0]
    h = 1 / (n + 1)
    t = h * np.arange(1, n + 1.0)
    padded = jnp.concatenate([jnp.zeros(1), x, jnp.zeros(1)])
    return 2 * x - padded[:-2] - padded[2:] + h**2 * (x + t + 1) ** 3 / 2


def _broyden_tridiagonal(x):
    padded = jnp.concatenate([jnp.zeros(1), x, jnp.zeros(1)])
    return (3 - 2 * x) * x - padded[:-2] - 2 * padded[2:] + 1


def _linear_full_rank(x, m=6):
    total = jnp.sum(x)
    head = x - 2 / m * total - 1
    return jnp.concatenate([head, jnp.full(m - x.shape[0], -2 / m * total - 1)])


def _linear_rank_one(x, m=6):
    j = np.arange(1, x.shape[0] + 1.0)
    return np.arange(1, m + 1.0) * jnp.sum(j * x) - 1


def _chebyquad(x):
    n = x.shape[0]
    y = 2 * x - 1
    t_prev, t_now = jnp.ones_like(y), y
    out = []
    for i in range(1, n + 1):
        exact = 0.0 if i % 2 else -1 / (i * i - 1)
        out.append(jnp.mean(t_now) - exact)
        t_prev, t_now = t_now, 2 * y * t_now - t_prev
    return out


def _build() -> tuple[Classic, ...]:
    table: list[tuple[str, Callable, list[float]]] = [
        ("rosenbrock", lambda x: [10 * (x[1] - x[0] ** 2), 1 - x[0]], [-1.2, 1]),
        (
            "freudenstein_roth",
            lambda x: [
                -13 + x[0] + ((5 - x[1]) * x[1] - 2) * x[1],
                -29 + x[0] + ((x[1] + 1) * x[1] - 14) * x[1],
            ],
            [0.5, -2],
        ),
        (
            "powell_badly_scaled",
            lambda x: [1e4 * x[0] * x[1] - 1, jnp.exp(-x[0]) + jnp.exp(-x[1]) - 1.0001],
            [0, 1],
        ),
        ("brown_badly_scaled", lambda x: [x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2], [1, 1]),
        ("beale", lambda x: np.array([1.5, 2.25, 2.625]) - x[0] * (1 - x[1] ** np.arange(1, 4.0)), [1, 1]),
        (
            "jennrich_sampson",
            lambda x: (
                2
                + 2 * np.arange(1, 11.0)
                - (jnp.exp(np.arange(1, 11.0) * x[0]) + jnp.exp(np.arange(1, 11.0) * x[1]))
            ),
            [0.3, 0.4],
        ),
        ("helical_valley", _helical, [-1, 0, 0]),
        ("bard", _bard, [1, 1, 1]),
        ("gaussian", _gaussian, [0.4, 1, 0]),
        ("meyer", _meyer, [0.02, 4000, 250]),
        ("box_3d", _box, [0, 10, 20]),
        ("powell_singular", lambda x: _extended_powell(x), [3, -1, 0, 1]),
        ("wood", _wood, [-3, -1, -3, -1]),
        ("kowalik_osborne", _kowalik, [0.25, 0.39, 0.415, 0.39]),
        ("brown_dennis", _brown_dennis, [25, 5, -5, -1]),
        ("osborne_1", _osborne, [0.5, 1.5, -1, 0.01, 0.02]),
        ("biggs_exp6", _biggs, [1, 2, 1, 1, 1, 1]),
        ("extended_rosenbrock", _extended_rosenbrock, [-1.2, 1] * 5),
        ("extended_powell", _extended_powell, [3, -1, 0, 1] * 2),
        ("penalty_1", _penalty, [1, 2, 3, 4]),
        ("variably_dimensioned", _variably, list(1 - np.arange(1, 7) / 6)),
        ("trigonometric", _trigonometric, [0.2] * 5),
        ("brown_almost_linear", _brown_almost_linear, [0.5] * 5),
        ("discrete_boundary", _boundary, list((t := np.arange(1, 7) / 7) * (t - 1))),
        ("broyden_tridiagonal", _broyden_tridiagonal, [-1] * 6),
        ("linear_full_rank", _linear_full_rank, [1] * 4),
        ("linear_rank_one", _linear_rank_one, [1] * 4),
        ("chebyquad", _chebyquad, list(np.arange(1, 5) / 5)),
    ]
    return tuple(Classic(name, _squares(res), np.asarray(x0, dtype=float)) for name, res, x0 in table)


CLASSICS = _build()
