"""Files written whole or not at all: a reader (or a restart after kill -9) never sees half."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"


class WriteError(OSError):
    """A file could not be written (disk full, read-only, no permission): names the file."""


def fsync_dir(directory: Path) -> None:
    """Makes a rename in ``directory`` survive a power cut (no-op where not supported)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Writes ``data`` to a temporary file beside ``path``, syncs it, renames it into place."""
    path = Path(path)
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                            suffix=TEMP_SUFFIX)
        with os.fdopen(handle, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
        fsync_dir(path.parent)
    except OSError as exc:
        raise WriteError(exc.errno, f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
    return path


def remove_stale_temps(directory: str | Path) -> list[Path]:
    """Temporary files a killed writer left behind (``.name.XXXX.tmp``); the real files
    beside them are whole, the temporary ones are not worth keeping."""
    directory = Path(directory)
    removed = []
    if not directory.is_dir():
        return removed
    for stale in directory.glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            stale.unlink()
            removed.append(stale)
    return removed


__all__ = ["WriteError", "fsync_dir", "remove_stale_temps", "write_atomic"]
