"""Results as strict JSON: plain Python values, with NaN and infinities written as null.

Every result's ``to_dict()`` goes through :func:`plain`, so the command line's
``--json``, files written by ``to_json`` and web responses agree.
"""

from __future__ import annotations

import enum
import json
import math
from typing import Any


def plain(value: Any) -> Any:
    """``value`` with NumPy numbers and arrays made Python ones, enums their values, and NaN/inf None."""
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "tolist") and not isinstance(value, str):  # NumPy and JAX arrays and scalars
        value = value.tolist()
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


def dumps(value: Any) -> str:
    """Strict JSON text of ``value`` (see :func:`plain`), indented one space."""
    return json.dumps(plain(value), indent=1, allow_nan=False, ensure_ascii=False)
