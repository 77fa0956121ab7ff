"""``dophu backup`` / ``dophu restore``: the data dir's databases, models and the config in
one ``.tar.gz`` with a manifest.

Each SQLite file (the store, the crawl ledger, the service state) is copied with
SQLite's online backup API, so a backup taken while ``dophu run`` writes is
consistent; each copy must pass ``PRAGMA integrity_check``. The manifest lists every
file with its size and SHA-256; restore checks them all before it changes anything,
refuses a non-empty data dir (or a config dir with other files) without ``--force``,
and with ``--force`` keeps what it replaced in ``<data>/replaced-<time>/``.
Items kept in Elasticsearch are not in the file (back the cluster up with its own
snapshots); the manifest says which store was in use.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dophu.files import fsync_dir
from dophu.runlock import LOCK_FILENAME, is_locked

FORMAT = "dophu-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_SUFFIX = ".sqlite3"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
SKIP_NAMES = {"__pycache__", ".DS_Store"}


class BackupError(RuntimeError):
    """The backup cannot be made (names the file and why)."""


class RestoreError(ValueError):
    """The backup file is unusable, or restoring would overwrite data without --force."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file (online backup API), checked after."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=60)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {source}: {exc}") from exc
    try:
        dst = sqlite3.connect(target)
        try:
            src.execute("PRAGMA busy_timeout=60000")
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            result = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy {source}: {exc}") from exc
    finally:
        src.close()
    if result != "ok":
        raise BackupError(f"{source}: integrity check failed: {result}")


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=lambda _d, names: [n for n in names
                                                              if n in SKIP_NAMES],
                    dirs_exist_ok=True)


def _store_facts(db: Path) -> dict[str, Any]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        try:
            items = conn.execute("SELECT count(*) FROM items").fetchone()[0]
        except sqlite3.Error:
            items = None
        return {"items": items, "schema": conn.execute("PRAGMA user_version").fetchone()[0]}


def create_backup(config_dir: Path, data_dir: Path, dest: Path) -> dict[str, Any]:
    """Writes ``dest`` (a .tar.gz) whole or not at all; returns its manifest."""
    config_dir, data_dir, dest = Path(config_dir), Path(data_dir), Path(dest)
    if not data_dir.is_dir():
        raise BackupError(f"no data dir at {data_dir}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".dophu-backup-", dir=dest.parent) as tmp:
        staging = Path(tmp) / "content"
        databases = sorted(data_dir.glob(f"*{DB_SUFFIX}"))
        for db in databases:
            copy_sqlite(db, staging / "data" / db.name)
        if (data_dir / "models").is_dir():
            _copy_tree(data_dir / "models", staging / "data" / "models")
        if config_dir.is_dir():
            _copy_tree(config_dir, staging / "config")
        files = []
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            files.append({"path": path.relative_to(staging).as_posix(),
                          "bytes": path.stat().st_size, "sha256": _sha256(path)})
        store_db = staging / "data" / "dophu.sqlite3"
        manifest = {
            "format": FORMAT, "version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(),
            "dophu_version": _version(),
            "config_dir": str(config_dir.resolve()), "data_dir": str(data_dir.resolve()),
            "store": ("elasticsearch (items not included)" if os.environ.get("ELASTICSEARCH_URL")
                      else "sqlite"),
            "items": _store_facts(store_db) if store_db.exists() else None,
            "databases": [db.name for db in databases],
            "files": files,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
        partial = Path(tmp) / "backup.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(staging / MANIFEST, arcname=MANIFEST)
            for entry in files:
                tar.add(staging / entry["path"], arcname=entry["path"])
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, dest)
        fsync_dir(dest.parent)
    return manifest


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("dophu")
    except Exception:  # noqa: BLE001 - not installed as a package
        return "unknown"


def read_manifest(archive: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise RestoreError(f"{archive.name}: no {MANIFEST} inside")
            manifest = json.load(io.TextIOWrapper(member, encoding="utf-8"))
    except FileNotFoundError:
        raise RestoreError(f"{archive}: file not found") from None
    except KeyError:
        raise RestoreError(f"{archive.name}: no {MANIFEST} inside; not a dophu backup"
                           ) from None
    except (tarfile.TarError, OSError, EOFError, json.JSONDecodeError) as exc:
        raise RestoreError(f"{archive.name}: not a readable dophu backup ({exc})") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise RestoreError(f"{archive.name}: {MANIFEST}: not a dophu backup of version "
                           f"{FORMAT_VERSION}")
    return manifest


def _entries(directory: Path, *, ignore: tuple[str, ...] = ()) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name not in ignore)


def _files(base: Path) -> dict[str, Path]:
    return {p.relative_to(base).as_posix(): p for p in base.rglob("*")
            if p.is_file() and not (set(p.parts) & SKIP_NAMES)}


def _same_tree(left: Path, right: Path) -> bool:
    a, b = _files(left), _files(right)
    return a.keys() == b.keys() and all(a[k].read_bytes() == b[k].read_bytes() for k in a)


def restore_backup(archive: Path, config_dir: Path, data_dir: Path, *, force: bool = False,
                   with_config: bool = True) -> dict[str, Any]:
    """Puts the backup's databases and models in ``data_dir`` and its config in
    ``config_dir``; returns the manifest plus where replaced files were kept."""
    archive, config_dir, data_dir = Path(archive), Path(config_dir), Path(data_dir)
    manifest = read_manifest(archive)
    if is_locked(data_dir):
        raise RestoreError(f"a 'dophu run' is running on {data_dir}; stop it before restoring")
    old_data = _entries(data_dir, ignore=(LOCK_FILENAME,))
    if old_data and not force:
        raise RestoreError(f"the data dir {data_dir} is not empty ({len(old_data)} entries); "
                           "restore into an empty dir, or add --force (what is replaced is "
                           f"kept in {data_dir}/replaced-<time>/)")
    data_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    staging = data_dir / f".restore-{stamp}"
    try:
        _extract_checked(archive, manifest, staging)
        new_config = staging / "config"
        config_change = (with_config and new_config.is_dir()
                         and bool(_entries(config_dir))
                         and not _same_tree(new_config, config_dir))
        if config_change and not force:
            raise RestoreError(f"the config dir {config_dir} has other files than the backup; "
                               "add --force to replace them (kept in "
                               f"{data_dir}/replaced-<time>/config), or --no-config")
        kept = data_dir / f"replaced-{stamp}"
        if old_data:
            kept.mkdir()
            for entry in old_data:
                entry.rename(kept / entry.name)
        if config_change:
            shutil.copytree(config_dir, kept / "config")
        for entry in _entries(staging / "data"):
            entry.rename(data_dir / entry.name)
        if with_config and new_config.is_dir():
            config_dir.mkdir(parents=True, exist_ok=True)
            if config_change:
                for entry in _entries(config_dir):
                    if entry.is_dir():
                        shutil.rmtree(entry)
                    else:
                        entry.unlink()
            _copy_tree(new_config, config_dir)
        fsync_dir(data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {**manifest, "replaced": str(kept) if old_data or config_change else None}


def _extract_checked(archive: Path, manifest: dict[str, Any], staging: Path) -> None:
    """Extracts into ``staging`` (no path leaves it) and checks every file and database."""
    expected = {f["path"]: f for f in manifest.get("files", [])}
    staging.mkdir(parents=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                if member.name == MANIFEST:
                    continue
                if member.name not in expected or not member.isfile():
                    raise RestoreError(f"{archive.name}: unexpected entry {member.name!r}")
            tar.extractall(staging, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise RestoreError(f"{archive.name}: cannot be read whole ({exc})") from None
    for name, entry in expected.items():
        path = staging / name
        if not path.is_file():
            raise RestoreError(f"{archive.name}: {name} is missing")
        if path.stat().st_size != entry["bytes"] or _sha256(path) != entry["sha256"]:
            raise RestoreError(f"{archive.name}: {name} is damaged (checksum differs)")
        if name.startswith("data/") and name.endswith(DB_SUFFIX) and name.count("/") == 1:
            with contextlib.closing(sqlite3.connect(path)) as conn:
                result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                raise RestoreError(f"{archive.name}: {name}: integrity check failed: {result}")
    with contextlib.suppress(OSError):
        (staging / MANIFEST).unlink()


__all__ = ["BackupError", "RestoreError", "copy_sqlite", "create_backup", "read_manifest",
           "restore_backup"]
