"""Private temporary folders for the files uploaded to the app.

The library reads files by path, so an uploaded file is written to a folder of its own for the
one run of the page that reads it, and the folder is removed when that run ends, whether it
succeeded or failed. A folder that outlives its run (the server was killed in the middle) is
removed by a later start: at the app's start and at the start of every run.

The folders are under ``DMI_UPLOAD_DIR``, by default ``dmi-uploads-<user id>`` in the system's
temporary folder, which only its owner may enter.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

__all__ = ["STALE_AFTER", "remove_stale_uploads", "upload_folder", "uploads_root"]

STALE_AFTER = timedelta(hours=1)
"""A run's folder nothing was written to for this long is a leftover: a run writes its outputs
as it goes, chunk by chunk."""

_PREFIX = "run-"


def uploads_root(root: str | Path | None = None) -> Path:
    """The folder that holds the runs' folders (made when missing, private to this user).

    Parameters
    ----------
    root
        Default: ``DMI_UPLOAD_DIR``, else ``dmi-uploads-<uid>`` in the system's temporary folder.

    Raises
    ------
    PermissionError
        When the folder is a link, or another user's, or others may enter it: in a shared
        temporary folder anyone could have made it first.
    """
    if root is None:
        root = os.environ.get("DMI_UPLOAD_DIR") or Path(
            tempfile.gettempdir(), f"dmi-uploads-{os.getuid()}"
        )
    path = Path(root)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(
            f"{path}: the upload folder must be a directory of this user that only it may "
            "enter (mode 700); remove it or set DMI_UPLOAD_DIR"
        )
    return path


def _last_change(folder: Path) -> float:
    """The latest modification time of a folder or anything in it."""
    latest = folder.lstat().st_mtime
    for entry in folder.rglob("*"):
        with contextlib.suppress(OSError):  # removed meanwhile
            latest = max(latest, entry.lstat().st_mtime)
    return latest


def remove_stale_uploads(
    root: str | Path | None = None, older_than: timedelta = STALE_AFTER, now: float | None = None
) -> list[Path]:
    """Remove the runs' folders nothing was written to for ``older_than``; return them.

    Parameters
    ----------
    root
        See :func:`uploads_root`.
    older_than
        How long without a change makes a folder a leftover.
    now
        The time to compare with (seconds since the epoch; default now).
    """
    base = uploads_root(root)
    limit = (time.time() if now is None else now) - older_than.total_seconds()
    removed = []
    for folder in base.glob(f"{_PREFIX}*"):
        try:
            stale = folder.is_dir() and not folder.is_symlink() and _last_change(folder) < limit
        except OSError:  # removed meanwhile by another process
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextlib.contextmanager
def upload_folder(root: str | Path | None = None) -> Iterator[Path]:
    """A new private folder for one run's files, removed when the run ends (also on failure).

    Leftover folders of earlier runs are removed first (:func:`remove_stale_uploads`).

    Parameters
    ----------
    root
        See :func:`uploads_root`.
    """
    remove_stale_uploads(root)
    folder = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=uploads_root(root)))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
