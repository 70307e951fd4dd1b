"""A script run in a fresh Python: which of some modules it imported, and what it found."""

from __future__ import annotations

import json
import subprocess
import sys


def run_fresh(script: str, watched: tuple[str, ...]) -> tuple[list[str], object]:
    """Run ``script``, which leaves its answer (JSON-ready) in ``found``, in a new interpreter;
    return which of the ``watched`` modules it imported, sorted, and ``found``."""
    tail = (
        "\nimport json as _json, sys as _sys\n"
        f"print(_json.dumps([sorted(m for m in {watched!r} if m in _sys.modules), found]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script + tail], capture_output=True, text=True, check=True)
    imported, found = json.loads(done.stdout.splitlines()[-1])
    return imported, found
