"""Why a learning rate converges, oscillates or diverges: the Hessian's eigenvalues.

Near a minimum a loss is close to a quadratic with Hessian H. Gradient descent
multiplies the error along each eigenvector of H (eigenvalue l) by ``1 - lr*l``
per step: it shrinks when that factor is inside (-1, 1), that is when
``lr < 2/l``. The largest eigenvalue L sets the bound ``lr < 2/L``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from gdlab._cache import Compiled
from gdlab._checks import InputError, number
from gdlab._engine import Facts, needs_curvature
from gdlab._json import plain
from gdlab._loss import as_loss, scalar_loss
from gdlab._precision import as_float_tree, resolve_dtype
from gdlab._pytree import ravel_pytree
from gdlab._types import DTypeLike, Loss, Params


@dataclass(frozen=True)
class Stability:
    """Curvature of a loss at a point and what it means for fixed-rate descent.

    Attributes:
        eigenvalues: the Hessian's eigenvalues, ascending.
        L: the largest eigenvalue (the sharpest curvature).
        mu: the smallest eigenvalue.
        critical_lr: ``2/L``: plain gradient descent diverges above it (inf when L <= 0).
        best_lr: ``2/(mu + L)``, the fixed rate that contracts fastest on a
            quadratic (``None`` unless mu > 0).
        condition: ``L/mu`` (inf unless mu > 0).
    """

    eigenvalues: np.ndarray
    L: float
    mu: float
    critical_lr: float
    best_lr: float | None
    condition: float

    def to_dict(self) -> dict[str, object]:
        """Strict-JSON-ready values (infinities as None)."""
        return plain(
            {
                "eigenvalues": self.eigenvalues,
                "L": self.L,
                "mu": self.mu,
                "critical_lr": self.critical_lr,
                "best_lr": self.best_lr,
                "condition": self.condition,
            }
        )

    def factor(self, lr: float) -> float:
        """How much one step of rate ``lr`` multiplies the slowest-shrinking error."""
        return float(np.max(np.abs(1 - lr * self.eigenvalues)))

    @classmethod
    def of(cls, eigenvalues: np.ndarray) -> Stability:
        """What a Hessian's eigenvalues (ascending) say about fixed rates."""
        eig = np.asarray(eigenvalues, dtype=np.float64)
        L, mu = float(eig[-1]), float(eig[0])
        return cls(
            eigenvalues=eig,
            L=L,
            mu=mu,
            critical_lr=2 / L if L > 0 else math.inf,
            best_lr=2 / (mu + L) if mu > 0 else None,
            condition=L / mu if mu > 0 else math.inf,
        )

    def momentum_bound(self, momentum: float, *, nesterov: bool = False) -> float:
        """The largest rate at which momentum ``momentum`` still converges on a quadratic with these
        eigenvalues (inf when L <= 0; every rate diverges along a negative eigenvalue).

        Heavy ball multiplies the error along eigenvalue l by the roots of
        ``z^2 - (1 + b - lr*l) z + b``; both lie inside the unit circle exactly when
        ``0 <= b < 1`` and ``0 < lr*l < 2(1 + b)``. Nesterov's (optax's form, which has the roots of
        ``z^2 - (1 + b)(1 - lr*l) z + b(1 - lr*l)``) needs ``0 < lr*l < 2(1 + b)/(1 + 2b)``.
        At ``b = 0`` both are gradient descent's ``2/L``.

        Example:
            >>> s = stability(lambda b: (b / 2 - 1) ** 2, 2.0)
            >>> s.momentum_bound(0.5), s.momentum_bound(0.5, nesterov=True)
            (6.0, 3.0)
        """
        if self.L <= 0:
            return math.inf
        b = float(momentum)
        return 2 * (1 + b) / ((1 + 2 * b) if nesterov else 1.0) / self.L

    def best_momentum(self, *, nesterov: bool = False) -> tuple[float, float] | None:
        """The (rate, momentum) pair that contracts fastest on a quadratic with these eigenvalues
        (``None`` unless mu > 0).

        Heavy ball: Polyak's ``lr = 4/(sqrt(L) + sqrt(mu))^2``, ``b = ((sqrt(k) - 1)/(sqrt(k) + 1))^2``
        with ``k = L/mu``. Nesterov: ``lr = 4/(3L + mu)``, ``b = (sqrt(3k + 1) - 2)/(sqrt(3k + 1) + 2)``
        (Lessard, Recht and Packard, 2016).

        Example:
            >>> s = stability(lambda b: (b / 2 - 1) ** 2, 2.0)
            >>> s.best_momentum()
            (2.0, 0.0)
        """
        if not self.mu > 0:
            return None
        k = self.condition
        if nesterov:
            root = math.sqrt(3 * k + 1)
            return 4 / (3 * self.L + self.mu), (root - 2) / (root + 2)
        root = math.sqrt(k)
        return 4 / (math.sqrt(self.L) + math.sqrt(self.mu)) ** 2, ((root - 1) / (root + 1)) ** 2

    def explain(self, lr: float) -> str:
        """One sentence on what rate ``lr`` does here, and why.

        Example:
            >>> s = stability(lambda b: (b / 2 - 1) ** 2, 2.0)
            >>> s.explain(5)
            'lr=5 > 2/L=4: each step overshoots by more than it gains, so it diverges near here'
            >>> s.explain(2)
            'lr=2 = 1/L: the step lands on the minimum of this quadratic at once'
        """
        lr = number("lr", lr)
        bound = self.critical_lr
        head = f"lr={lr:g}"
        if self.L == 0 and self.mu == 0:
            return (
                f"{head}: the loss has no curvature here (a kink, a plateau or an inflection), "
                "no bound applies"
            )
        if self.L <= 0:
            return f"{head}: the loss curves down here (L={self.L:.3g}): no minimum, no bound applies"
        if math.isclose(lr, bound, rel_tol=1e-9):
            return f"{head} = 2/L: the error flips sign each step without shrinking, so it oscillates forever"
        if lr > bound:
            return (
                f"{head} > 2/L={bound:.4g}: each step overshoots by more than it gains, so it diverges "
                "near here"
            )
        if math.isclose(lr, 1 / self.L, rel_tol=1e-9) and self.mu == self.L:
            return f"{head} = 1/L: the step lands on the minimum of this quadratic at once"
        if self.mu < 0:
            return (
                f"{head} < 2/L={bound:.4g}: the curved directions settle, but along a direction of "
                f"negative curvature (mu={self.mu:.3g}) descent moves away: this point is a saddle "
                "or a maximum, not a minimum"
            )
        rate = self.factor(lr)
        if rate == 0:
            return f"{head}: the step lands on the minimum of this quadratic at once"
        if rate >= 1:
            return (
                f"{head} < 2/L={bound:.4g}: the curved directions converge; along a flat direction "
                "(mu=0) nothing pulls the error back, so it stays where it is"
            )
        steps = math.ceil(math.log(1e-8) / math.log(rate))
        how = "overshooting back and forth" if lr > 1 / self.L else "from one side"
        return (
            f"{head} < 2/L={bound:.4g}: near here it converges {how}; the error shrinks by {rate:.6g} "
            f"a step, 1e-8 of itself after {steps:,} steps"
        )

    def summary(self) -> str:
        """What the curvature here means for fixed-rate gradient descent, in one sentence."""
        if self.L == 0 and self.mu == 0:
            return (
                "the loss has no curvature here (every eigenvalue 0): a kink, a plateau or an inflection "
                "point; the curvature says nothing here about which rates converge"
            )
        if self.L <= 0:
            return (
                f"the loss curves down in every direction here (L={self.L:.3g}): this is no minimum, and "
                "gradient descent moves away from it at any rate"
            )
        if self.mu < 0:
            return (
                f"a saddle: along a direction of negative curvature (mu={self.mu:.3g}) no rate converges; "
                f"2/L = {self.critical_lr:.6g} bounds the rate only along the directions that curve up"
            )
        return f"gradient descent diverges near here for lr > 2/L = {self.critical_lr:.6g}"

    def __repr__(self) -> str:
        best = "none (not strictly convex here)" if self.best_lr is None else f"{self.best_lr:.6g}"
        return (
            f"Stability(L={self.L:.6g}, mu={self.mu:.6g}, condition={self.condition:.4g})\n"
            f"  {self.summary()}\n"
            f"  fastest fixed rate 2/(mu+L) = {best}"
        )


# Compiled Hessians per loss and shapes, for the next call with the same loss: kept while the loss
# is among the most recently used (gdlab._cache.KEPT_LOSSES), then freed with its other code.
_HESSIANS: Compiled[Any] = Compiled(64, per_loss=True)


def _hessian(f, structure, shapes, dtype, batched: bool = False, bound: bool = False):
    """A compiled Hessian of ``f`` over flat parameters (or, ``batched``, over the rows of a
    matrix of them), called as ``hessian(flat, data)``: with ``bound`` the loss is
    ``f(params, data)``, the data an argument of the compiled code; otherwise ``data`` is ``None``."""
    return _HESSIANS.get((f, structure, shapes, dtype, batched, bound), _compile_hessian)


def _compile_hessian(key):
    f, structure, shapes, dtype, batched, bound = key
    hessian = uncompiled_hessian(f, structure, shapes, dtype, bound)
    return jax.jit(jax.vmap(hessian, in_axes=(0, None)) if batched else hessian)


def uncompiled_hessian(
    f, structure, shapes, dtype, bound: bool = False
) -> Callable[[np.ndarray, object], Any]:
    """The Hessian of ``f`` over flat parameters, called as ``hessian(flat, data)``, op by op (the
    compiled one's operations, without compiling them: for a loss seen once)."""
    template = jax.tree.unflatten(structure, [np.zeros(s, dtype) for s in shapes])
    unravel = ravel_pytree(template)[1]

    def loss(v, data):
        return scalar_loss(lambda p: f(p, data) if bound else f(p))(unravel(v))

    return jax.hessian(loss)


def stability(f: Loss, at: Params, *, dtype: DTypeLike = None) -> Stability:
    """Hessian eigenvalues of ``f`` at ``at``, the bound ``2/L`` and the best fixed rate.

    Args:
        f: the loss of one argument (number, array, tuple or dict).
        at: the point, usually a minimum (what the rate must respect near the end).
        dtype: the floating type to compute in (default float64).

    Returns:
        A :class:`Stability`.

    Example:
        >>> s = stability(lambda b: (b / 2 - 1) ** 2, 2.0)
        >>> s.L, s.critical_lr, s.best_lr
        (0.5, 4.0, 2.0)
    """
    hessian = hessian_matrix(f, at, dtype=dtype)
    if not np.all(np.isfinite(hessian)):
        raise InputError("the Hessian is not finite at this point; choose a point where the loss is")
    return Stability.of(np.linalg.eigvalsh(hessian))


# A dense Hessian has n^2 numbers and its eigenvalues take O(n^3): past this many parameters the
# curvature reports that drivers add on their own (a sweep's 2/L, a phase's boundary) are skipped
# (a sweep of a 30,000-parameter loss spent minutes building a 7 GB Hessian for its 2/L line).
STABILITY_COMPONENTS = 1000


def hessian_matrix(f: Loss, at: Params, *, dtype: DTypeLike = None) -> np.ndarray:
    """The Hessian of ``f`` at ``at`` over its flattened parameters, symmetrised, in float64."""
    f = as_loss(f)
    dt = resolve_dtype(dtype)
    point = as_float_tree(at, dt, "at")
    flat, _ = ravel_pytree(point)
    shapes = tuple(np.shape(x) for x in jax.tree.leaves(point))
    hessian = np.asarray(_hessian(f, jax.tree.structure(point), shapes, dt)(flat, None), dtype=np.float64)
    return (hessian + hessian.T) / 2


# Hessians at different points that differ by at most this, relative to their largest entry, are
# one constant Hessian: the loss is a quadratic there (autodiff of a quadratic gives the same numbers
# wherever it is taken; a little room is left for losses written with data).
SAME_HESSIAN = 1e-9


def constant_curvature(f: Loss, points: list[Params], *, dtype: DTypeLike = None) -> Stability | None:
    """The curvature of ``f`` when its Hessian is the same at every one of ``points`` (the loss is
    a quadratic, at least where they lie); ``None`` when it differs, or is not finite, at any.

    Example:
        >>> constant_curvature(lambda b: (b / 2 - 1) ** 2, [-10.0, 3.0]).L
        0.5
        >>> constant_curvature(lambda b: b**4, [-1.0, 2.0]) is None
        True
    """
    hessians = [hessian_matrix(f, p, dtype=dtype) for p in points]
    if not all(np.all(np.isfinite(h)) for h in hessians):
        return None
    scale = max(float(np.max(np.abs(h))) for h in hessians)
    if any(np.max(np.abs(h - hessians[0])) > SAME_HESSIAN * max(scale, 1e-300) for h in hessians[1:]):
        return None
    return Stability.of(np.linalg.eigvalsh(hessians[0]))


# A Hessian has as many columns as the loss has parameters; past this many the
# curvature check of a vanished gradient is skipped (it would cost more than the run).
CURVATURE_COMPONENTS = 400


def curvature_ranges(
    f: Any,
    points: Params,
    dtype: np.dtype,
    *,
    data: object = None,
    bound: bool = False,
    hessian: Callable[[np.ndarray, object], Any] | None = None,
) -> np.ndarray:
    """The lowest and highest Hessian eigenvalue at each of a batch of points.

    ``points`` carries a leading batch axis on every leaf; with ``bound`` the loss is
    ``f(params, data)`` and the data are an argument of the compiled Hessian. Returns an array
    ``(batch, 2)``; a row is NaN where the Hessian is not finite, and every row is
    NaN when the loss has more than :data:`CURVATURE_COMPONENTS` parameters (``hessian``: how one
    point's Hessian is had instead of compiling it, called as ``hessian(flat, data)``). This
    is how a run whose gradient vanished is told apart: a minimum (no negative
    curvature), a saddle, or a maximum.
    """
    leaves = jax.tree.leaves(points)
    batch = int(np.shape(leaves[0])[0]) if leaves else 0
    shapes = tuple(np.shape(x)[1:] for x in leaves)
    out = np.full((batch, 2), np.nan)
    if batch == 0 or sum(math.prod(s) for s in shapes) > CURVATURE_COMPONENTS:
        return out
    structure = jax.tree.structure(points)
    flat = np.concatenate([np.reshape(x, (batch, -1)) for x in leaves], axis=1).astype(dtype)
    dt = np.dtype(dtype)
    if batch == 1:
        one = hessian or _hessian(f, structure, shapes, dt, False, bound)
        h = np.asarray(one(flat[0], data), np.float64)[None]
    else:  # padded to a power of two, so batches of similar size share compiled code
        padded = np.concatenate([flat, np.repeat(flat[:1], (1 << (batch - 1).bit_length()) - batch, 0)])
        h = np.asarray(_hessian(f, structure, shapes, dt, True, bound)(padded, data), np.float64)[:batch]
    finite = np.all(np.isfinite(h), axis=(1, 2))
    if np.any(finite):
        eig = np.linalg.eigvalsh((h[finite] + np.swapaxes(h[finite], 1, 2)) / 2)
        out[finite] = eig[:, [0, -1]]
    return out


# A sweep reports the curvature at its best run's end and at each run whose gradient vanished; the
# same sweep again ends at the same points, so what was computed there is kept, per loss and type
# and the exact points (their bytes), for the KNOWN_POINTS most recently asked (and dropped with
# the loss when it leaves the ring of losses whose compiled code is kept, gdlab._cache). Points
# weighing more than KNOWN_BYTES are computed each time and not kept, so a cache entry is small.
KNOWN_POINTS = 64
KNOWN_BYTES = 2**18
_KNOWN: Compiled[Any] = Compiled(KNOWN_POINTS, per_loss=True)


def _points_key(points: Params) -> tuple[object, ...] | None:
    """The points as a key: structure, and each leaf's type, shape and bytes (``None`` when they
    weigh more than :data:`KNOWN_BYTES`)."""
    leaves = [np.asarray(x) for x in jax.tree.leaves(points)]
    if sum(x.nbytes for x in leaves) > KNOWN_BYTES:
        return None
    return (jax.tree.structure(points), *((x.dtype.str, x.shape, x.tobytes()) for x in leaves))


def _kept_at(f: Loss, what: str, dtype: np.dtype, points: Params, compute: Callable[[object], Any]) -> Any:
    """``compute()`` at ``points``, kept per loss, kind, type and the points' bytes for the next
    call at the same points (computed each time where the points weigh more than :data:`KNOWN_BYTES`)."""
    key = _points_key(points)
    if key is None:
        return compute(None)
    return _KNOWN.get((f, what, np.dtype(dtype).str, key), compute)


def known_stability(f: Loss, at: Params, dtype: np.dtype) -> Stability | None:
    """:func:`stability` of ``f`` at ``at`` (``None`` where it is refused: a Hessian not finite),
    kept for the next call at the same point (:data:`KNOWN_POINTS`)."""

    def compute(_: object) -> Stability | None:
        try:
            found = stability(f, at, dtype=dtype)
        except InputError:
            return None
        found.eigenvalues.setflags(write=False)  # shared by every result that reports it
        return found

    return _kept_at(f, "stability", dtype, at, compute)


def known_curvature_ranges(f: Loss, points: Params, dtype: np.dtype) -> np.ndarray:
    """:func:`curvature_ranges` of ``f`` (unbound, compiled) at a batch of points, kept for the next
    call at the same points (:data:`KNOWN_POINTS`); read-only."""

    def compute(_: object) -> np.ndarray:
        out = np.asarray(curvature_ranges(f, points, dtype))
        out.setflags(write=False)
        return out

    return _kept_at(f, "ranges", dtype, points, compute)


def with_curvature(
    facts: Facts,
    f: Any,
    point: Params,
    dtype: np.dtype,
    *,
    data: object = None,
    bound: bool = False,
    hessian: Callable[[np.ndarray, object], Any] | None = None,
) -> Facts:
    """``facts`` with the curvature at ``point`` (a run's last row) when its gradient vanished there.
    With ``bound``, the loss is ``f(params, data)`` and the data are an argument of the compiled Hessian;
    ``hessian``: how the Hessian is had instead (a run stepped without compiling: gdlab._stepped)."""
    if not needs_curvature(facts.outcome, *facts.grad_norms):
        return facts
    batch = jax.tree.map(lambda x: np.asarray(x)[None], point)
    low, high = curvature_ranges(f, batch, dtype, data=data, bound=bound, hessian=hessian)[0]
    return dataclasses.replace(facts, curvature=(float(low), float(high)))
