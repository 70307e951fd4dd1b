"""gdlab: see and understand derivatives and gradient descent, exactly and fast.

Importing gdlab switches JAX to float64 (its own default is float32); every
computing function takes ``dtype="float32"`` to reproduce float32 results.
"""

from gdlab import _precision  # noqa: F401  (float64 before any array exists)
from gdlab import datasets
from gdlab._derivatives import grad, hessian, value_and_grad
from gdlab._descend import descend
from gdlab._gradcheck import GradCheck, check_grad
from gdlab._grid import GridEdgeWarning, GridResult, grid_search
from gdlab._methods import METHODS
from gdlab._ols import RankDeficientWarning, ols
from gdlab._trajectory import Status, Trajectory

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "GradCheck",
    "GridEdgeWarning",
    "GridResult",
    "RankDeficientWarning",
    "Status",
    "Trajectory",
    "__version__",
    "check_grad",
    "datasets",
    "descend",
    "grad",
    "grid_search",
    "hessian",
    "ols",
    "value_and_grad",
]
