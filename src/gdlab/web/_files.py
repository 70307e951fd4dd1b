"""Where the lab's front-end files are: the page's own, and plotly.js from the plotly package."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

STATIC = Path(__file__).parent / "static"


def plotly_js() -> Path:
    """plotly.js as shipped inside the installed plotly package."""
    return Path(str(importlib.resources.files("plotly") / "package_data" / "plotly.min.js"))
