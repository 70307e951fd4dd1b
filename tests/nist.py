"""NIST's StRD nonlinear regression datasets, read from NIST's own files in ``tests/data/nist``.

Each file holds the model, two starting points, the certified parameters and their certified
standard deviations (computed by NIST in 128-bit arithmetic), the certified residual sum of squares,
residual standard deviation and degrees of freedom, and the data. :data:`MODELS` writes each model
in gdlab's expression syntax; :func:`load` reads a file into a :class:`Dataset`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

FOLDER = Path(__file__).parent / "data" / "nist"

# NIST's models in gdlab's syntax (``^`` for powers; ``pi`` and ``arctan`` are the compiler's own).
# Nelson's response is log(y): :func:`load` gives its column ``y`` as the log already.
_RATIONAL_33 = "(b1 + b2*x + b3*x^2 + b4*x^3) / (1 + b5*x + b6*x^2 + b7*x^3)"
_GAUSS = "b1*exp(-b2*x) + b3*exp(-(x-b4)^2/b5^2) + b6*exp(-(x-b7)^2/b8^2)"
_LANCZOS = "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)"
MODELS: dict[str, str] = {
    "Misra1a": "b1*(1-exp(-b2*x))",
    "Chwirut2": "exp(-b1*x)/(b2+b3*x)",
    "Chwirut1": "exp(-b1*x)/(b2+b3*x)",
    "Lanczos3": _LANCZOS,
    "Gauss1": _GAUSS,
    "Gauss2": _GAUSS,
    "DanWood": "b1*x^b2",
    "Misra1b": "b1*(1-(1+b2*x/2)^(-2))",
    "Kirby2": "(b1 + b2*x + b3*x^2) / (1 + b4*x + b5*x^2)",
    "Hahn1": _RATIONAL_33,
    "Nelson": "b1 - b2*x1*exp(-b3*x2)",
    "MGH17": "b1 + b2*exp(-x*b4) + b3*exp(-x*b5)",
    "Lanczos1": _LANCZOS,
    "Lanczos2": _LANCZOS,
    "Gauss3": _GAUSS,
    "Misra1c": "b1*(1-(1+2*b2*x)^(-0.5))",
    "Misra1d": "b1*b2*x*((1+b2*x)^(-1))",
    "Roszman1": "b1 - b2*x - arctan(b3/(x-b4))/pi",
    "ENSO": (
        "b1 + b2*cos(2*pi*x/12) + b3*sin(2*pi*x/12) + b5*cos(2*pi*x/b4) + b6*sin(2*pi*x/b4)"
        " + b8*cos(2*pi*x/b7) + b9*sin(2*pi*x/b7)"
    ),
    "MGH09": "b1*(x^2+x*b2) / (x^2+x*b3+b4)",
    "Thurber": _RATIONAL_33,
    "BoxBOD": "b1*(1-exp(-b2*x))",
    "Rat42": "b1 / (1+exp(b2-b3*x))",
    "MGH10": "b1 * exp(b2/(x+b3))",
    "Eckerle4": "(b1/b2) * exp(-0.5*((x-b3)/b2)^2)",
    "Rat43": "b1 / ((1+exp(b2-b3*x))^(1/b4))",
    "Bennett5": "b1 * (b2+x)^(-1/b3)",
}
NAMES = tuple(MODELS)  # NIST's order: lower, average, then higher difficulty within its table


@dataclass(frozen=True, eq=False)
class Dataset:
    """One NIST file: its model (NIST's text and gdlab's), starts, certified results and data."""

    name: str
    difficulty: str  # "Lower", "Average" or "Higher"
    model_text: str  # NIST's own words, joined onto one line
    formula: str  # the model in gdlab's syntax
    params: tuple[str, ...]
    starts: tuple[dict[str, float], dict[str, float]]
    certified: dict[str, float]
    certified_sd: dict[str, float]
    rss: float
    residual_sd: float
    df: int
    columns: dict[str, np.ndarray]  # "y" (log y for Nelson) and the predictors

    @property
    def n(self) -> int:
        return len(self.columns["y"])


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PARAMETER = re.compile(rf"^\s*(b\d+)\s*=\s*({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s*$")


def _certified(lines: list[str], label: str) -> float:
    for line in lines:
        if line.strip().startswith(label):
            return float(line.split(":")[1])
    raise ValueError(f"no {label!r} line")


@cache
def load(name: str) -> Dataset:
    """Read ``tests/data/nist/<name>.dat``: its parameter table, certified statistics and data."""
    lines = (FOLDER / f"{name}.dat").read_text().splitlines()
    difficulty = next(line.split()[0] for line in lines if line.strip().endswith("Level of Difficulty"))
    # The model: the lines after "Model:" up to the starting values' table, less the class and count.
    start = next(i for i, line in enumerate(lines) if line.startswith("Model:"))
    model_lines = []
    for line in lines[start + 2 :]:
        if "Starting" in line:
            break
        if line.strip() and "Parameters" not in line:
            model_lines.append(line.strip())
    rows = [m.groups() for m in map(_PARAMETER.match, lines) if m]
    params = tuple(row[0] for row in rows)
    if params != tuple(f"b{i}" for i in range(1, len(params) + 1)):
        raise ValueError(f"{name}: parameters {params}")
    table = {row[0]: [float(v) for v in row[1:]] for row in rows}
    # The data: the columns named on the last line that begins "Data:", every line after it.
    header = max(i for i, line in enumerate(lines) if line.startswith("Data:"))
    names = lines[header].split()[1:]
    values = np.array([[float(v) for v in line.split()] for line in lines[header + 1 :] if line.strip()])
    columns = {column: values[:, j] for j, column in enumerate(names)}
    if name == "Nelson":  # NIST's model is for log(y)
        columns["y"] = np.log(columns["y"])
    n = _certified(lines, "Number of Observations")
    if len(values) != n:
        raise ValueError(f"{name}: {len(values)} rows, NIST says {n}")
    return Dataset(
        name=name,
        difficulty=difficulty,
        model_text=" ".join(model_lines),
        formula=MODELS[name],
        params=params,
        starts=({p: table[p][0] for p in params}, {p: table[p][1] for p in params}),
        certified={p: table[p][2] for p in params},
        certified_sd={p: table[p][3] for p in params},
        rss=_certified(lines, "Residual Sum of Squares"),
        residual_sd=_certified(lines, "Residual Standard Deviation"),
        df=int(_certified(lines, "Degrees of Freedom")),
        columns=columns,
    )
