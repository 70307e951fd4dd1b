"""Writing files so that an interrupted write never leaves a broken file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gdlab._checks import InputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    On any error the temporary file is removed and ``path`` is left as it was.

    Raises:
        ValueError: the folder does not exist or cannot be written to.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"cannot write {target}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise InputError(f"cannot write {target}: folder {folder} does not exist; create it first")
    if target.is_dir():
        raise InputError(f"cannot write {target}: it is a folder; give a file name")
    try:
        # Keep the extension last: encoders such as ffmpeg choose the format by it.
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{target.suffix}", dir=folder)
    except OSError as err:
        raise InputError(f"cannot write {target}: {err.strerror}; choose a writable folder") from err
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp_path, target)
    except OSError as err:
        if err.filename is None:  # a write that failed (a full disk) names no file: name ours
            raise type(err)(err.errno, err.strerror, str(target)) from err
        raise
    finally:
        tmp_path.unlink(missing_ok=True)
