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


def interrupted(
    args: list[str], after: float, *, ready: bool = False, wait: float = 20
) -> tuple[int, bytes, float]:
    """Start ``python args``, send it Ctrl-C ``after`` seconds later (after it prints ``ready``,
    when asked); its exit code, its stderr and the seconds from Ctrl-C to its exit. Fails the test
    when it has not stopped ``wait`` seconds after Ctrl-C.

    The child starts with SIGINT at its default, whatever this process has: a test run started in
    the background of a shell ignores SIGINT, and a child inherits that (Python then installs no
    KeyboardInterrupt handler in it at all)."""
    import os
    import signal
    import time

    import pytest

    env = {**os.environ, "JAX_PLATFORMS": "cpu", "GDLAB_NO_CACHE": "1"}
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    with proc:
        if ready:
            assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(after)
        assert proc.poll() is None, proc.communicate()  # still running when Ctrl-C comes
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()  # its pipes closed
            pytest.fail(f"Ctrl-C did not stop {args} within {wait:g} s")
    return proc.returncode, err, time.perf_counter() - sent
