"""Trajectories: what a descent did, step by step, as immutable arrays."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from gdlab._checks import PYTHON, Spelling, spelled
from gdlab._io import atomic_path
from gdlab._json import dumps, plain
from gdlab._lazy import lazy
from gdlab._types import Loss, Params

if TYPE_CHECKING:
    import jax
else:  # a fit's path of NumPy rows is kept without JAX
    jax = lazy("jax")


class Status(enum.Enum):
    """How a descent ended.

    ``STALLED``: it stopped where the gradient vanished, but not at a minimum:
    the loss had risen above its start (a flat region far from any minimum), the
    Hessian there has a negative eigenvalue (a saddle or a maximum), or the
    gradient became undefined where the loss had fallen (a kink or a pole).
    """

    CONVERGED = "converged"
    DIVERGED = "diverged"
    MAX_STEPS = "max_steps"
    STALLED = "stalled"

    def __str__(self) -> str:
        return self.value


def ending_words(status: Status, steps: int, lang: str = "en") -> str:
    """How a run ended, in the few words its pictures name it by (a legend, a title), where its
    sentence (:attr:`Trajectory.message`) says why; in English or Korean (``lang="ko"``, the lab
    page's words for each status: 수렴, 발산, 단계 한도, 정체).

    Example:
        >>> ending_words(Status.MAX_STEPS, 3), ending_words(Status.CONVERGED, 12, "ko")
        ('stopped at the step limit (3)', '12단계에서 수렴')
    """
    if lang == "ko":
        return {
            Status.CONVERGED: f"{steps:,}단계에서 수렴",
            Status.DIVERGED: f"{steps:,}단계에서 발산",
            Status.MAX_STEPS: f"단계 한도({steps:,}) 도달",
            Status.STALLED: f"{steps:,}단계에서 정체",
        }[status]
    return {
        Status.CONVERGED: f"converged at step {steps}",
        Status.DIVERGED: f"diverged at step {steps}",
        Status.MAX_STEPS: f"stopped at the step limit ({steps})",
        Status.STALLED: f"stalled at step {steps}",
    }[status]


class Regime(enum.Enum):
    """What a run was doing when it ended: the lecture's question, answered per run.

    The engine decides it with the sentence (:func:`gdlab._engine.judge`), so a run's regime never
    contradicts its own words, whichever driver ran it.
    """

    CONVERGED = "converged"
    OSCILLATING = "oscillating"
    SLOW = "slow"
    DIVERGED = "diverged"
    STALLED = "stalled"  # the gradient vanished, but not at a minimum (a flat region, a saddle, a kink)

    def __str__(self) -> str:
        return self.value


def _readonly(tree: object, copy: bool = True) -> object:
    def freeze(leaf: object) -> np.ndarray:
        arr = np.array(leaf) if copy else np.asarray(leaf).view()
        arr.setflags(write=False)
        return arr

    return tree_map(freeze, tree)


def tree_map(fn: Callable, tree: Any) -> Any:
    """``jax.tree.map``, without importing JAX for one array or a dict of arrays by name (its keys
    sorted, as JAX orders them)."""
    if _plain(tree):
        return fn(tree) if not isinstance(tree, dict) else {k: fn(tree[k]) for k in sorted(tree)}
    return jax.tree.map(fn, tree)


def _plain(tree: Any) -> bool:
    leaf = (np.ndarray, np.generic, float, int)
    if isinstance(tree, dict):
        return all(isinstance(k, str) for k in tree) and all(isinstance(v, leaf) for v in tree.values())
    return isinstance(tree, leaf)


@dataclass(frozen=True, repr=False)
class Trajectory:
    """Every step of one descent, from the start to where it stopped.

    Row ``k`` of each array is step ``k``; row 0 is the start, so there are
    ``steps + 1`` rows.

    Attributes:
        params: the parameters at every step: shaped like the start with a
            leading step axis (a tuple or dict of such arrays for a tuple or
            dict start).
        loss: the loss at every step, shape ``(steps + 1,)``.
        grad: the gradient at every step, shaped like ``params``.
        method: the optimiser's name (``"gd"``, ``"sign"``, ``"adam"`` ...).
        lr: the learning rate, or ``None`` when it lives inside an optax
            transformation that was passed in.
        status: how it ended: converged, diverged or max_steps.
        message: a sentence saying why it ended, and what to try.
        tol: the stopping tolerance on the gradient norm, if any.
        loss_fn: the loss that was minimised, kept so pictures can draw it.
        regime: what it was doing when it ended (converged, slow, oscillating, diverged,
            stalled), decided with ``status`` and ``message``; ``None`` from a driver that
            does not judge one.
        words: ``message`` as a function of a :class:`~gdlab._checks.Spelling`, so that a front
            end words it naming the parameters its own way (``--tol`` on the command line).
        facts: what the engine judged the ending from (:class:`gdlab._engine.Facts`), so that a
            fit that learns more (its answer has no correct digit) can have it judged again.

    Example:
        >>> import gdlab
        >>> path = gdlab.descend("(b/2-1)^2", -10.0, lr=0.01 / 6, steps=100)  # the lecture's run
        >>> path.steps, path.status.value, round(float(path.params[-1]), 6)
        (100, 'max_steps', -9.040149)
    """

    params: Params
    loss: np.ndarray
    grad: Params
    method: str
    lr: float | None
    status: Status
    message: str
    tol: float | None = None
    loss_fn: Loss | None = field(default=None, compare=False)
    regime: Regime | None = None
    words: Callable[[Spelling], str] | None = field(default=None, compare=False, repr=False)
    facts: Any = field(default=None, compare=False, repr=False)
    _names: tuple[str, ...] = field(default=(), compare=False)
    # The arrays were made for this Trajectory alone (views of a driver's table of rows that nothing
    # else holds): made read-only where they are, not copied (a long run's table is gigabytes).
    _owned: bool = field(default=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("params", "loss", "grad"):
            object.__setattr__(self, name, _readonly(getattr(self, name), copy=not self._owned))
        object.__setattr__(self, "_owned", False)  # a replace() with new arrays copies them
        if not self._names:
            from gdlab._pytree import component_names

            object.__setattr__(self, "_names", tuple(component_names(self.at(0))))

    @property
    def steps(self) -> int:
        """How many steps were taken (rows minus one)."""
        return int(self.loss.shape[0]) - 1

    def at(self, step: int) -> Params:
        """The parameters at ``step`` (negative counts from the end)."""
        return tree_map(lambda a: a[step], self.params)

    @property
    def final(self) -> Params:
        """The parameters after the last step, shaped like the start."""
        return self.at(-1)

    @property
    def final_loss(self) -> float:
        """The loss after the last step."""
        return float(self.loss[-1])

    @property
    def label(self) -> str:
        """A short legend label: the method and its rate."""
        return self.method if self.lr is None else f"{self.method}, lr={self.lr:.4g}"

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the parameter components (``b``, ``b[0]``, ``b0`` ...)."""
        return self._names

    def flat_params(self) -> np.ndarray:
        """The parameters as one matrix: a row per step, a column per component, in the order of
        :attr:`names`."""
        return self._flat(self.params)

    def flat_grad(self) -> np.ndarray:
        """The gradients as one matrix: a row per step, a column per component, in the order of
        :attr:`names`."""
        return self._flat(self.grad)

    def _flat(self, tree: Params) -> np.ndarray:
        rows = self.steps + 1
        # Named parameters in a dict (a model's a, k, c) flatten in sorted key order; the names
        # keep the order they were given in (the formula's), and the columns follow the names.
        if isinstance(tree, dict) and sorted(tree) == sorted(self._names):
            return np.column_stack([np.asarray(tree[n]).reshape(rows) for n in self._names])
        return flat_rows(tree, rows)

    def to_pandas(self):
        """A DataFrame with columns step, one per parameter, loss, one grad per parameter."""
        import pandas as pd

        frame = pd.DataFrame(self.flat_params(), columns=list(self.names))
        frame.insert(0, "step", np.arange(self.steps + 1))
        frame["loss"] = self.loss
        grads = pd.DataFrame(self.flat_grad(), columns=[f"grad {n}" for n in self.names])
        return pd.concat([frame, grads], axis=1)

    @overload
    def to_csv(self, path: None = None) -> str: ...
    @overload
    def to_csv(self, path: str | os.PathLike[str]) -> Path: ...
    def to_csv(self, path: str | os.PathLike[str] | None = None) -> Path | str:
        """Write :meth:`to_pandas` as CSV, atomically (temporary file, then rename); return the path.
        Without a path, return the CSV text."""
        text = self.to_pandas().to_csv(index=False, float_format="%.17g")
        if path is None:
            return text
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return Path(path)

    def message_in(self, spelling: Spelling) -> str:
        """:attr:`message`, naming the parameters as ``spelling`` writes them."""
        return str(spelled(self.message, spelling)) if self.words is None else self.words(spelling)

    def summary(self, spelling: Spelling = PYTHON) -> dict[str, object]:
        """How it went, without the rows: method, rate, status, message, start, final and their losses."""
        start, final = self.flat_params()[0], self.flat_params()[-1]
        return plain(
            {
                "method": self.method,
                "lr": self.lr,
                "status": self.status,
                "regime": None if self.regime is None else self.regime.value,
                "message": self.message_in(spelling),
                "tol": self.tol,
                "steps": self.steps,
                "start": dict(zip(self.names, start, strict=True)),
                "final": dict(zip(self.names, final, strict=True)),
                "start_loss": self.loss[0],
                "final_loss": self.loss[-1],
            }
        )

    def to_dict(self, spelling: Spelling = PYTHON) -> dict[str, object]:
        """Everything as strict-JSON values (non-finite as None), as :meth:`to_json` writes it."""
        rows = {
            "names": list(self.names),
            "params": self.flat_params(),
            "loss": self.loss,
            "grad": self.flat_grad(),
        }
        return plain(self.summary(spelling) | rows)

    @overload
    def to_json(self, path: None = None) -> str: ...
    @overload
    def to_json(self, path: str | os.PathLike[str]) -> Path: ...
    def to_json(self, path: str | os.PathLike[str] | None = None) -> Path | str:
        """Write :meth:`to_dict` as JSON, atomically; return the path. Non-finite values become null.
        Without a path, return the JSON text."""
        text = dumps(self.to_dict())
        if path is None:
            return text
        with atomic_path(path) as tmp:
            tmp.write_text(text + "\n", encoding="utf-8")
        return Path(path)

    def __repr__(self) -> str:
        rate = "lr inside the optimiser" if self.lr is None else f"lr={self.lr:.6g}"
        start = ", ".join(f"{n}={v:.8g}" for n, v in zip(self.names, self.flat_params()[0], strict=True))
        end = ", ".join(f"{n}={v:.8g}" for n, v in zip(self.names, self.flat_params()[-1], strict=True))
        return (
            f"Trajectory({self.method}, {rate}, {self.steps} steps, status={self.status.value})\n"
            f"  start: {start}  loss={self.loss[0]:.8g}\n"
            f"  final: {end}  loss={self.loss[-1]:.8g}\n"
            f"  {self.message}"
        )


def flat_rows(tree: Params, rows: int) -> np.ndarray:
    plain = _plain(tree) and isinstance(tree, dict)
    found = [tree[k] for k in sorted(tree)] if plain else jax.tree.leaves(tree)
    leaves = [np.asarray(leaf).reshape(rows, -1) for leaf in found]
    return np.concatenate(leaves, axis=1)
