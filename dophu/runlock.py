"""One scheduler per data dir: an ``fcntl`` lock on ``<data>/dophu-run.lock``.

The kernel drops the lock when its process dies (kill -9 included), so a stale
lock file never blocks the next start; the file only says who held it last.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_FILENAME = "dophu-run.lock"


class AlreadyRunning(RuntimeError):
    """Another scheduler holds the data dir's lock."""


class LockError(RuntimeError):
    """The lock file cannot be made (read-only or missing data dir)."""


def lock_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / LOCK_FILENAME


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        if text:
            return f" (pid {text})"
    return ""


@contextlib.contextmanager
def scheduler_lock(data_dir: str | Path) -> Iterator[Path]:
    """Held for the life of a ``dophu run``; raises AlreadyRunning when another has it."""
    path = lock_path(data_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LockError(f"cannot create the lock file {path}: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(
                f"another 'dophu run'{_holder(fd)} is already running on the data dir "
                f"{Path(data_dir)} (lock file {path}); only one scheduler may use a data "
                "dir") from None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)    # closing drops the lock


def is_locked(data_dir: str | Path) -> bool:
    """True while a scheduler runs on this data dir."""
    path = lock_path(data_dir)
    if not path.exists():
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


__all__ = ["AlreadyRunning", "LOCK_FILENAME", "LockError", "is_locked", "lock_path",
           "scheduler_lock"]
