"""gdlab: see and understand derivatives and gradient descent, exactly and fast.

Importing gdlab makes float64 JAX's default (JAX's own default is float32);
every computing function takes ``dtype="float32"`` to reproduce float32 results.

The public names load on first use, so ``import gdlab`` and the command line
start without paying for JAX until it is needed.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

from gdlab._pictures import register

# float64 before any array exists: through the environment when JAX is not yet
# imported (JAX reads it at import), through its config when it already is.
if "jax" in sys.modules:
    sys.modules["jax"].config.update("jax_enable_x64", True)
else:
    os.environ["JAX_ENABLE_X64"] = "True"

__version__ = "0.1.0"

_EXPORTS = {
    "grad": "gdlab._derivatives",
    "value_and_grad": "gdlab._derivatives",
    "hessian": "gdlab._derivatives",
    "check_grad": "gdlab._gradcheck",
    "GradCheck": "gdlab._gradcheck",
    "ols": "gdlab._ols",
    "RankDeficientWarning": "gdlab._ols",
    "grid_search": "gdlab._grid",
    "GridResult": "gdlab._grid",
    "GridEdgeWarning": "gdlab._grid",
    "descend": "gdlab._where",
    "METHODS": "gdlab._methods",
    "Method": "gdlab._methods",
    "Trajectory": "gdlab._trajectory",
    "Status": "gdlab._trajectory",
    "datasets": "gdlab.datasets",
    "landscape": "gdlab._landscape",
    "Landscape": "gdlab._landscape",
    "plot": "gdlab.render",
    "animate": "gdlab.render",
    "save_figure": "gdlab.render",
    "figure_bytes": "gdlab.render",
    "plot_grid": "gdlab.render",
    "plot_sweep": "gdlab.render",
    "plot_phase": "gdlab.render",
    "Animation": "gdlab.render",
    "sweep": "gdlab._sweep",
    "phase": "gdlab._phase",
    "Phase": "gdlab._phase",
    "Sweep": "gdlab._sweep",
    "Regime": "gdlab._trajectory",
    "rates": "gdlab._sweep",
    "sgd": "gdlab._sgd",
    "parse": "gdlab._expr",
    "Expression": "gdlab._expr",
    "ExpressionError": "gdlab._expr",
    "stability": "gdlab._stability",
    "Stability": "gdlab._stability",
    "gradient_report": "gdlab._gradreport",
    "GradientReport": "gdlab._gradreport",
    "InputError": "gdlab._checks",
    "LIMITS": "gdlab._checks",
    "Outcome": "gdlab._engine",
    "fit": "gdlab.fitting._fit",
    "Fit": "gdlab.fitting._result",
    "NotFiniteWarning": "gdlab.fitting._result",
    "as_table": "gdlab._data",
    "Table": "gdlab._data",
    "lab": "gdlab.web._widget",
    "lesson": "gdlab.web._widget",
    "consistency": "gdlab._consistency",
    "Consistency": "gdlab._consistency",
    "IllConditionedWarning": "gdlab._ols",
    "descend_parquet": "gdlab._where",
    "linear_stats": "gdlab.fitting._linear",
    "LinearStats": "gdlab.fitting._linear",
    "descend_dask": "gdlab._where",
    "ClusterError": "gdlab.data",
    "open_source": "gdlab.data",
    "Source": "gdlab.data",
    "keep_compiled": "gdlab._cache",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:
    from gdlab import datasets
    from gdlab._cache import keep_compiled
    from gdlab._checks import LIMITS, InputError
    from gdlab._consistency import Consistency, consistency
    from gdlab._data import Table, as_table
    from gdlab._derivatives import grad, hessian, value_and_grad
    from gdlab._engine import Outcome
    from gdlab._expr import Expression, ExpressionError, parse
    from gdlab._gradcheck import GradCheck, check_grad
    from gdlab._gradreport import GradientReport, gradient_report
    from gdlab._grid import GridEdgeWarning, GridResult, grid_search
    from gdlab._landscape import Landscape, landscape
    from gdlab._methods import METHODS, Method
    from gdlab._ols import IllConditionedWarning, RankDeficientWarning, ols
    from gdlab._phase import Phase, phase
    from gdlab._sgd import sgd
    from gdlab._stability import Stability, stability
    from gdlab._sweep import Sweep, rates, sweep
    from gdlab._trajectory import Regime, Status, Trajectory
    from gdlab._where import descend, descend_dask, descend_parquet
    from gdlab.data import ClusterError, Source, open_source
    from gdlab.fitting._fit import fit
    from gdlab.fitting._linear import LinearStats, linear_stats
    from gdlab.fitting._result import Fit, NotFiniteWarning
    from gdlab.render import (
        Animation,
        animate,
        figure_bytes,
        plot,
        plot_grid,
        plot_phase,
        plot_sweep,
        save_figure,
    )
    from gdlab.web._widget import lab, lesson


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gdlab' has no attribute {name!r}")
    value = _load(module)
    value = value if name == "datasets" else getattr(value, name)
    globals()[name] = value
    return value


def _load(module: str) -> Any:
    """One of gdlab's modules, imported on first use (see :func:`gdlab._lazy.imported`)."""
    from gdlab._lazy import imported

    imported("gdlab._precision")
    return imported(module)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


def _trajectory_html(trajectory: Trajectory) -> str | None:
    from gdlab.render._notebook import trajectory_html

    return trajectory_html(trajectory)


def _register_notebook_display() -> None:
    """In a running IPython, show trajectories as players; drawing loads on the first one."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        html = shell.display_formatter.formatters["text/html"]
        html.for_type_by_name("gdlab._trajectory", "Trajectory", _trajectory_html)


def _fit_picture(result: Fit, **options: Any) -> Any:
    from gdlab.render import plot

    return plot(result, **options)  # the options a fit's picture takes, checked there


def _phase_picture(result: Phase) -> Any:
    from gdlab.render._phase import plot_phase

    return plot_phase(result)


_register_notebook_display()
register("fit", _fit_picture)  # Fit.plot(): the fitting code draws nothing itself
register("phase", _phase_picture)  # Phase.plot(), likewise
