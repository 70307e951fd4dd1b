"""JAX's persistent compilation cache on disk stays under its bound (gdlab._cache)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gdlab._cache import CACHE_BYTES, PRUNE_EVERY, prune_compilation_cache

NOW = 2_000_000_000.0


def _programs(folder: Path, sizes: list[int], used: list[float]) -> list[Path]:
    """Cache files as JAX names them, of ``sizes`` bytes (sparse), last used at ``used``."""
    paths = []
    for i, (size, when) in enumerate(zip(sizes, used, strict=True)):
        path = folder / f"jit_step-{i:04d}-cache"
        with open(path, "wb") as file:
            file.truncate(size)
        os.utime(path, (when, when))
        paths.append(path)
    return paths


def test_the_programs_used_longest_ago_go_first_down_to_three_quarters(tmp_path):
    # Ten programs of 100 bytes, used in a shuffled order: 1000 bytes against a bound of 600.
    used = [NOW - 3600 * k for k in (3, 9, 1, 7, 5, 0, 8, 2, 6, 4)]
    paths = _programs(tmp_path, [100] * 10, used)
    other = tmp_path / "notes.txt"
    other.write_text("not JAX's")
    removed = prune_compilation_cache(tmp_path, limit=600, now=NOW)
    left = sorted(p for p in paths if p.exists())
    # 1000 - 600 * 3/4 = 550: six files of 100 bytes go, the six used longest ago.
    assert removed == 600
    oldest_first = sorted(range(10), key=lambda i: used[i])
    assert left == sorted(paths[i] for i in oldest_first[6:])
    assert sum(p.stat().st_size for p in left) <= 600 * 3 // 4
    assert other.read_text() == "not JAX's"


def test_a_use_after_writing_counts_as_the_last_use(tmp_path):
    # Written long ago but read just now (its access time): it stays; the other one goes.
    read, unread = _programs(tmp_path, [400, 400], [NOW - 86400, NOW - 3600])
    os.utime(read, (NOW - 60, NOW - 86400))
    assert prune_compilation_cache(tmp_path, limit=600, now=NOW) == 400
    assert read.exists() and not unread.exists()


def test_a_cache_under_its_bound_keeps_everything(tmp_path):
    paths = _programs(tmp_path, [100] * 6, [NOW - k for k in range(6)])
    assert prune_compilation_cache(tmp_path, limit=600, now=NOW) == 0
    assert all(p.exists() for p in paths)


def test_the_folder_is_looked_at_once_a_day(tmp_path):
    paths = _programs(tmp_path, [100] * 4, [NOW - k for k in range(4)])
    assert prune_compilation_cache(tmp_path, limit=1100, now=NOW) == 0  # looked at: under the bound
    for path in paths:  # the programs grow to 1600 bytes in all
        with open(path, "wb") as file:
            file.truncate(400)
    # Over 1100, but looked at less than a day ago: nothing is listed or removed.
    assert prune_compilation_cache(tmp_path, limit=1100, now=NOW + PRUNE_EVERY - 1) == 0
    assert all(p.exists() for p in paths)
    # A day after the last look: down to 825 at most (two files of 400 go).
    assert prune_compilation_cache(tmp_path, limit=1100, now=NOW + PRUNE_EVERY + 1) == 800
    assert sum(p.exists() for p in paths) == 2


def test_a_command_prunes_the_cache_it_uses(tmp_path):
    """enable_compilation_cache (every command's start) bounds ``$XDG_CACHE_HOME/gdlab/jax``."""
    folder = tmp_path / "gdlab" / "jax"
    folder.mkdir(parents=True)
    quarter = CACHE_BYTES // 4
    paths = _programs(folder, [quarter + 1] * 5, [NOW - 5, NOW - 4, NOW - 3, NOW - 2, NOW - 1])
    code = "from gdlab._cache import enable_compilation_cache; print(enable_compilation_cache())"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("GDLAB_NO_CACHE", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == str(folder)
    # Five files of a quarter of the bound and a byte: down to three quarters of it, which three
    # such files pass by three bytes, so only the two used last stay.
    assert [p.exists() for p in paths] == [False, False, False, True, True]
