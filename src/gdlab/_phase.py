"""Phase diagrams: every (rate, momentum) pair in one compiled, vmapped call, and the theory's boundary.

A phase diagram is a sweep over two settings at once: the rate, and the setting that weighs past
gradients into a step (heavy ball's and Nesterov's ``momentum``, Adam's ``b1``). The runs are the
sweep's (:func:`gdlab._sweep.run_batch`: one compiled program over all of them), judged by the
engine, so each cell reads as the same run of :func:`gdlab.descend` would. On a quadratic the
theory draws the same map: heavy ball converges exactly when ``0 <= b < 1`` and
``0 < lr*L < 2(1 + b)`` (see :meth:`gdlab.Stability.momentum_bound`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import jax
import numpy as np

from gdlab import _checks
from gdlab._checks import LIMITS, PYTHON, InputError, Spelling, size
from gdlab._engine import REGIMES, STATUSES, Facts, Notes, Runs, describe
from gdlab._json import plain
from gdlab._loss import as_loss
from gdlab._methods import METHODS, Method, resolve_method
from gdlab._precision import as_float_tree, resolve_dtype
from gdlab._pytree import ravel_pytree
from gdlab._stability import STABILITY_COMPONENTS, Stability, constant_curvature
from gdlab._sweep import checked_lrs, run_batch
from gdlab._trajectory import Regime, flat_rows
from gdlab._types import DTypeLike, Loss, MethodLike, Params

# Numbers a run holds while it runs, per parameter: its parameters, gradient, optimiser state (Adam's
# two moments), the two saved rows and their gradients; a grid is refused past LIMITS.sweep_numbers.
HELD_PER_PARAMETER = 8

# Each rule's regime and status names (gdlab._engine.RULES), looked up by the cells' rules at once.
_REGIME_NAMES = np.array([r.value for r in REGIMES])
_STATUS_NAMES = np.array([s.value for s in STATUSES])

# Regimes that mean "it converges, given steps": the theory's stable side.
SETTLING = (Regime.CONVERGED.value, Regime.SLOW.value)


@dataclass(frozen=True)
class Boundary:
    """What the theory says about a (rate, momentum) grid on a quadratic: where it converges.

    Attributes:
        stability: the quadratic's curvature (its Hessian's eigenvalues, the same everywhere).
        nesterov: the bound is Nesterov's (else heavy ball's).
        stable: per cell, shape (rates, momenta): the theory says the run converges.
        critical_lrs: per momentum, the largest rate that converges (the boundary).
        best: the fastest (rate, momentum) pair, or ``None`` when the quadratic is not strictly convex.
        formula: the boundary in words.
    """

    stability: Stability
    nesterov: bool
    stable: np.ndarray
    critical_lrs: np.ndarray
    best: tuple[float, float] | None
    formula: str

    @property
    def near(self) -> np.ndarray:
        """Per cell: a neighbour (sideways or diagonal) lies on the other side of the boundary, so
        the cell's label depends on how close it is, not only on which side."""
        s = np.pad(self.stable, 1, mode="edge")
        rows, cols = self.stable.shape
        differs = np.zeros_like(self.stable)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                differs |= s[1 + di : 1 + di + rows, 1 + dj : 1 + dj + cols] != self.stable
        return differs

    def bound(self, momentum: float) -> float:
        """The largest rate that converges with ``momentum``."""
        return self.stability.momentum_bound(momentum, nesterov=self.nesterov)

    def to_dict(self) -> dict[str, object]:
        best = None if self.best is None else {"lr": self.best[0], "momentum": self.best[1]}
        return {
            "formula": self.formula,
            "L": self.stability.L,
            "mu": self.stability.mu,
            "condition": self.stability.condition,
            "critical_lrs": self.critical_lrs,
            "best": best,
        }


@dataclass(frozen=True, repr=False)
class Phase:
    """Runs over a grid of rates and momenta: what each did, and the theory's boundary on a quadratic.

    Cell ``(i, j)`` is the run at rate ``lrs[i]`` with momentum ``momenta[j]``; every array below is
    shaped ``(len(lrs), len(momenta))``.

    Attributes:
        lrs: the rates, ascending as given.
        momenta: the values of the method's momentum setting (``setting``).
        setting: the setting varied: ``"momentum"`` (momentum, nesterov) or ``"b1"`` (adam).
        method: the optimiser's name.
        steps: the step limit.
        tol: the tolerance on the gradient norm, if any.
        regime: each cell's regime name (``"converged"``, ``"slow"``, ``"oscillating"``,
            ``"diverged"``, ``"stalled"``), decided by the engine.
        status: each cell's status name.
        notes: each cell's sentence, the engine's words for how the run ended (``notes[i, j]``;
            worded when first read, :class:`gdlab._engine.Notes`).
        final_loss: each run's last loss.
        final_grad_norm: each run's last gradient norm.
        steps_taken: each run's number of steps.
        boundary: the theory's :class:`Boundary` (heavy ball and Nesterov on a quadratic), else ``None``.
        theory_note: why there is no boundary, when there is none.
        facts: what each note was made of (flat, cell-major), to word it again for a front end.

    Example:
        >>> import gdlab
        >>> grid = gdlab.phase("(b/2-1)^2", -10.0, lrs=[0.5, 5], momenta=[0, 0.5], steps=50)
        >>> grid.regime.shape
        (2, 2)
    """

    lrs: np.ndarray
    momenta: np.ndarray
    setting: str
    method: str
    steps: int
    tol: float | None
    regime: np.ndarray
    status: np.ndarray
    notes: Notes
    final_loss: np.ndarray
    final_grad_norm: np.ndarray
    steps_taken: np.ndarray
    boundary: Boundary | None
    theory_note: str
    facts: Sequence[Facts] = field(default=(), compare=False, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.lrs.size), int(self.momenta.size))

    def note(self, i: int, j: int, spelling: Spelling = PYTHON) -> str:
        """Cell ``(i, j)``'s sentence, naming the parameters as ``spelling`` writes them."""
        rows, cols = self.shape
        whole = all(isinstance(k, int | np.integer) and not isinstance(k, bool) for k in (i, j))
        if not (whole and -rows <= i < rows and -cols <= j < cols):
            raise InputError(
                f"cell ({i!r}, {j!r}) is outside the grid: give whole numbers below {rows} (the rate) "
                f"and {cols} (the {self.setting})"
            )
        i, j = range(rows)[i], range(cols)[j]
        if isinstance(self.notes, Notes):
            return self.notes.word(i * cols + j, spelling)
        return describe(self.facts[i * cols + j], spelling) if self.facts else str(self.notes[i, j])

    def counts(self) -> dict[str, int]:
        """How many cells fell into each regime."""
        return {r.value: int(np.sum(self.regime == r.value)) for r in Regime}

    def agreement(self) -> dict[str, int] | None:
        """Against the theory, over the cells not next to its boundary: how many there are, and how
        many the runs label as it predicts (converged or slow inside, diverged outside)."""
        if self.boundary is None:
            return None
        away = ~self.boundary.near
        settles = np.isin(self.regime, SETTLING)
        agrees = np.where(self.boundary.stable, settles, self.regime == Regime.DIVERGED.value)
        return {"cells": int(np.sum(away)), "agree": int(np.sum(agrees & away))}

    def to_dict(self, *, notes: bool = True, spelling: Spelling = PYTHON) -> dict[str, object]:
        """Strict-JSON-ready: the axes, each cell's regime, final loss and gradient norm, steps and
        (``notes=True``) sentence, the counts, and the theory's boundary where there is one."""
        out = {
            "method": self.method,
            "setting": self.setting,
            "steps": self.steps,
            "tol": self.tol,
            "lrs": self.lrs,
            "momenta": self.momenta,
            "counts": self.counts(),
            "regime": self.regime,
            "final_loss": self.final_loss,
            "final_grad_norm": self.final_grad_norm,
            "steps_taken": self.steps_taken,
            "theory": None if self.boundary is None else self.boundary.to_dict(),
            "theory_note": self.theory_note,
            "agreement": self.agreement(),
        }
        if notes:
            rows, cols = self.shape
            out["notes"] = [[self.note(i, j, spelling) for j in range(cols)] for i in range(rows)]
        return plain(out)

    def plot(self) -> object:
        """The picture of this phase diagram, as :func:`gdlab.plot` draws it."""
        from gdlab._pictures import draw

        return draw("phase", self)

    def __repr__(self) -> str:
        rows, cols = self.shape
        counts = ", ".join(f"{n} {k}" for k, n in self.counts().items() if n)
        lines = [
            f"Phase({self.method}, {rows} rates x {cols} {self.setting} values, {self.steps} steps: {counts})"
        ]
        if self.boundary is None:
            lines.append(f"  {self.theory_note}")
        else:
            lines.append(f"  theory: {self.boundary.formula}")
            if self.boundary.best is not None:
                lr, b = self.boundary.best
                lines.append(f"  fastest pair: lr={lr:.6g}, {self.setting}={b:.6g}")
            agree = self.agreement()
            assert agree is not None
            counted = f"{agree['agree']:,} of {agree['cells']:,} cells agree with the theory"
            lines.append(
                f"  away from the boundary, {counted}"
                if agree["cells"]
                else "  every cell is next to the boundary: a finer grid compares the runs with the theory"
            )
        return "\n".join(lines)


def _momenta(values: object, setting: str) -> np.ndarray:
    """The second axis: a non-empty list of finite values in [0, 1)."""
    kind = f"{setting} values in [0, 1)"
    found = _checks.number_list("momenta", values, kind, "[0, 0.5, 0.9]", "use fewer momenta")
    bad = found[~(np.isfinite(found) & (found >= 0) & (found < 1))]
    if bad.size:
        raise InputError(
            f"every value in momenta must be in [0, 1) (the {setting} of a step: 0 is none, 1 never "
            f"forgets); got {bad[0]:g}"
        )
    return found


def _momentum_method(method: MethodLike) -> Method:
    """The method, when it has a momentum setting to vary."""
    spec = resolve_method(method)
    if spec.momentum is None or not spec.needs_lr:
        takes = ", ".join(n for n, m in METHODS.items() if m.momentum is not None)
        name = spec.name
        known = METHODS[name].momentum if name in METHODS else None
        if known is not None:  # optax.adam, say: its name says which setting to vary
            raise InputError(
                lambda s: (
                    f"{s.name('method')} is an optax transformation or factory, whose {known} gdlab "
                    f"cannot vary: pass {s.setting('method', name, quoted=True)} (the name)"
                ),
                parameter="method",
            )
        raise InputError(
            lambda s: (
                f"{s.setting('method', name, quoted=True)} has no momentum setting to vary: a phase diagram "
                f"varies the rate and the momentum; use one of {takes}"
            ),
            parameter="method",
        )
    return spec


def phase(
    f: Loss,
    init: Params,
    *,
    lrs: object,
    momenta: object,
    method: MethodLike = "momentum",
    steps: int,
    tol: float | None = None,
    dtype: DTypeLike = None,
) -> Phase:
    """Run every (rate, momentum) pair from ``init`` in one compiled, vmapped call; label each cell.

    Args:
        f: the loss of one argument, as in :func:`gdlab.descend`.
        init: the start, shared by every run.
        lrs: the rates (see :func:`gdlab.rates` for a log-spaced range).
        momenta: the values of the method's momentum, each in [0, 1): ``momentum`` for
            ``"momentum"`` (heavy ball) and ``"nesterov"``, ``b1`` for ``"adam"``.
        method: ``"momentum"``, ``"nesterov"`` or ``"adam"`` (or such a method with other
            settings changed, ``gdlab.METHODS["adam"].configured(b2=0.99)``).
        steps: the step limit of every run.
        tol: a run stops once its gradient norm is <= ``tol``.
        dtype: the floating type to compute in (default float64).

    Returns:
        A :class:`Phase`: each cell's regime and sentence by the engine, its final loss and
        gradient norm; on a quadratic (its Hessian the same wherever it is taken), for heavy ball
        and Nesterov, the theory's boundary and the fastest pair beside them.

    Example:
        >>> import gdlab
        >>> p = gdlab.phase(lambda b: (b / 2 - 1) ** 2, -10.0, lrs=[1, 5, 13], momenta=[0, 0.5], steps=500)
        >>> p.regime.tolist()
        [['converged', 'converged'], ['diverged', 'converged'], ['diverged', 'diverged']]
        >>> p.boundary.critical_lrs.tolist()       # 2(1 + b)/L with L = 1/2
        [4.0, 6.0]
    """
    f = as_loss(f)
    spec = _momentum_method(method)
    setting = spec.momentum
    assert setting is not None
    dt = resolve_dtype(dtype)
    steps, stop = _checks.steps(steps), _checks.tol(tol)
    start = as_float_tree(init, dt, "init")
    rate = checked_lrs(lrs, dt)
    beta = _momenta(momenta, setting)
    result = _runs(f, spec, start, rate, beta, steps, stop, dt)
    grid = (rate.size, beta.size)
    finals = flat_rows(result.final_grad, len(result)).astype(np.float64)
    with np.errstate(all="ignore"):
        grad_norm = np.linalg.norm(finals, axis=1)
    boundary, why = _theory(f, spec, start, rate, beta, dt)
    assert isinstance(result.facts, Runs) and result.rules is not None
    return Phase(
        lrs=rate.astype(np.float64),
        momenta=beta,
        setting=setting,
        method=spec.name,
        steps=steps,
        tol=stop,
        regime=_REGIME_NAMES[result.rules].reshape(grid),
        status=_STATUS_NAMES[result.rules].reshape(grid),
        notes=Notes(result.facts, result.rules, grid),
        final_loss=np.asarray(result.final_loss, np.float64).reshape(grid),
        final_grad_norm=grad_norm.reshape(grid),
        steps_taken=np.asarray(result.steps_taken).reshape(grid),
        boundary=boundary,
        theory_note=why,
        facts=result.facts,
    )


def _runs(f, spec: Method, start: Params, rate: np.ndarray, beta: np.ndarray, steps: int, stop, dt):
    """Every cell's run, as one batch of the sweep's compiled runs (its start and end saved),
    once the grid is known to fit in memory."""
    runs = rate.size * beta.size
    size("runs (rates x momenta)", runs, LIMITS.runs, "use fewer rates or momenta")
    components = ravel_pytree(start)[0].size
    held = runs * max(components, 1) * HELD_PER_PARAMETER
    size("numbers held by the runs", held, LIMITS.sweep_numbers, "use fewer rates or momenta")
    # Rate-major: run i * len(momenta) + j has rate lrs[i] and momentum momenta[j].
    batched = jax.tree.map(lambda a: np.broadcast_to(a, (runs, *np.shape(a))).copy(), start)
    return run_batch(
        f,
        spec,
        batched,
        np.repeat(rate, beta.size),
        steps=steps,
        tol=stop,
        every=max(steps, 1),
        chunks=1 if steps else 0,
        dtype=dt,
        settings=np.tile(beta, rate.size),
    )


def _theory(f, spec: Method, start: Params, lrs: np.ndarray, momenta: np.ndarray, dt) -> tuple:
    """The theory's :class:`Boundary`, or ``None`` and why there is none."""
    if spec.name not in ("momentum", "nesterov"):
        return None, f"{spec.name} has no closed-form stability boundary: the map is measured only"
    components = ravel_pytree(start)[0].size
    if components > STABILITY_COMPONENTS:
        return None, (
            f"the loss has {components:,} parameters, more than {STABILITY_COMPONENTS:,}: its dense "
            "Hessian, which the theory's boundary needs, is not computed"
        )
    curvature = constant_curvature(f, _probe_points(start), dtype=dt)
    if curvature is None:
        return None, (
            "the loss is not a quadratic (its Hessian differs from point to point), so the theory's "
            "boundary, which holds near a minimum, is not drawn"
        )
    nesterov = spec.name == "nesterov"
    if curvature.mu < 0 or curvature.L <= 0:
        return None, (
            f"the quadratic has no minimum (its smallest curvature is {curvature.mu:.3g}): every rate "
            "moves away along a direction that curves down"
        )
    bounds = np.array([curvature.momentum_bound(b, nesterov=nesterov) for b in momenta])
    stable = lrs[:, None].astype(np.float64) < bounds[None, :]
    which = "2(1+b)/(1+2b)" if nesterov else "2(1+b)"
    formula = (
        f"{spec.name} converges on this quadratic exactly when 0 <= b < 1 and 0 < lr*L < {which}, "
        f"L = {curvature.L:.6g} its largest curvature"
    )
    return Boundary(
        curvature, nesterov, stable, bounds, curvature.best_momentum(nesterov=nesterov), formula
    ), ""


def _probe_points(start: Params) -> list[Params]:
    """The start and two points around it, a few times its own size away (a fixed pattern, so the
    same loss always gets the same answer): where a quadratic's Hessian must come out the same."""
    flat, unravel = ravel_pytree(start)
    x = np.asarray(flat, np.float64)
    pattern = np.random.default_rng(0).uniform(0.5, 1.5, x.size) * np.where(np.arange(x.size) % 2, -1, 1)
    step = pattern * (1 + np.abs(x))
    return [start, unravel(x + step), unravel(x - 2.5 * step[::-1])]
