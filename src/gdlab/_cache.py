"""JAX's persistent compilation cache: compiled code kept on disk between processes."""

from __future__ import annotations

import os
from pathlib import Path


def enable_compilation_cache() -> Path | None:
    """Keep compiled code between runs, so a repeated command starts faster; return the folder.

    It lives in ``$XDG_CACHE_HOME/gdlab/jax`` (default ``~/.cache/gdlab/jax``);
    ``GDLAB_NO_CACHE=1`` turns it off, and an unwritable home runs without it.
    """
    if os.environ.get("GDLAB_NO_CACHE"):
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "gdlab" / "jax"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    return folder
