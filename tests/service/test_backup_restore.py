"""``dophu backup`` / ``dophu restore``: a round trip gives back the same items, states,
models and config; restore never overwrites data silently and refuses a damaged file."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import tarfile
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dophu.backup import RestoreError, create_backup, read_manifest, restore_backup
from dophu.models import Item
from dophu.runlock import scheduler_lock
from store.sqlite import SQLiteStore
from tests.service.conftest import ServiceEnv

PACKAGED_MODEL = Path(__file__).resolve().parents[2] / "classifier" / "models"


def _export(env: ServiceEnv) -> list[dict]:
    done = env.cli("export")
    assert done.exit_code == 0, done.stderr
    return sorted((json.loads(line) for line in done.stdout.splitlines()),
                  key=lambda item: item["id"])


def _with_model_and_state(env: ServiceEnv) -> bytes:
    """A trained-model file under data/models and a service run's state."""
    model = next(PACKAGED_MODEL.glob("*.joblib"))
    (env.data / "models").mkdir(exist_ok=True)
    shutil.copy2(model, env.data / "models" / model.name)
    done = env.run("run", "--once")
    assert done.returncode == 0, done.stderr
    return model.read_bytes()


def test_round_trip(imported_env: ServiceEnv, tmp_path: Path) -> None:
    env = imported_env
    model_bytes = _with_model_and_state(env)
    archive = tmp_path / "backups" / "dophu.tar.gz"
    done = env.run("backup", str(archive), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["items"] == len(env.items()) > 100
    assert set(summary["databases"]) >= {"dophu.sqlite3", "service.sqlite3"}
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", "data/dophu.sqlite3", "config/sources.yaml",
            "config/settings.yaml"} <= names
    assert any(n.startswith("data/models/") for n in names)

    target = ServiceEnv(tmp_path / "restored")
    shutil.rmtree(target.config)
    shutil.rmtree(target.data)
    done = target.cli("restore", str(archive))
    assert done.exit_code == 0, done.stderr
    assert target.integrity() == "ok"
    assert _export(target) == _export(env)
    assert target.source_states() == env.source_states()
    assert (target.data / "models" / next(PACKAGED_MODEL.glob("*.joblib")).name
            ).read_bytes() == model_bytes
    for name in ("sources.yaml", "settings.yaml"):
        assert (target.config / name).read_bytes() == (env.config / name).read_bytes()
    assert target.status()["reports"] == env.status()["reports"]   # the service state too


def test_restore_refuses_to_overwrite_without_force(imported_env: ServiceEnv,
                                                    tmp_path: Path) -> None:
    env = imported_env
    archive = tmp_path / "b.tar.gz"
    assert env.cli("backup", str(archive)).exit_code == 0
    before = len(env.items())
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"url": "https://import.example/late", "title": "Bài mới",
                                 "text": "Nội dung", "source": "demo-bao"}) + "\n",
                     encoding="utf-8")
    assert env.cli("import", str(extra)).exit_code == 0
    assert len(env.items()) == before + 1

    done = env.cli("restore", str(archive))
    assert done.exit_code == 2
    assert "not empty" in done.stderr and "--force" in done.stderr
    assert len(env.items()) == before + 1                     # nothing changed

    done = env.cli("restore", str(archive), "--force")
    assert done.exit_code == 0, done.stderr
    assert len(env.items()) == before                         # the backup's items
    kept = list(env.data.glob("replaced-*"))
    assert len(kept) == 1 and (kept[0] / "dophu.sqlite3").exists()
    with sqlite3.connect(kept[0] / "dophu.sqlite3") as conn:  # the replaced store, whole
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == before + 1
    assert env.integrity() == "ok"


def test_restore_refuses_a_damaged_or_foreign_file(imported_env: ServiceEnv,
                                                   tmp_path: Path) -> None:
    env = imported_env
    archive = tmp_path / "b.tar.gz"
    create_backup(env.config, env.data, archive)
    assert read_manifest(archive)["format"] == "dophu-backup"
    # the same archive with the store's bytes changed after the manifest was written
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "data/dophu.sqlite3":
                data = data[:-100] + b"\0" * 100
            dst.addfile(member, io.BytesIO(data))
    empty = tmp_path / "empty-data"
    with pytest.raises(RestoreError, match="dophu.sqlite3 is damaged"):
        restore_backup(damaged, tmp_path / "cfg", empty)
    assert not (empty / "dophu.sqlite3").exists()
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        tar.add(env.config / "sources.yaml", arcname="sources.yaml")
    done = env.cli("restore", str(foreign), "--force")
    assert done.exit_code == 2 and "not a dophu backup" in done.stderr
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(RestoreError):
        restore_backup(truncated, tmp_path / "cfg2", tmp_path / "data2")


def test_restore_refuses_while_the_service_runs(imported_env: ServiceEnv,
                                                tmp_path: Path) -> None:
    env = imported_env
    archive = tmp_path / "b.tar.gz"
    create_backup(env.config, env.data, archive)
    with scheduler_lock(env.data), pytest.raises(RestoreError, match="stop it"):
        restore_backup(archive, env.config, env.data, force=True)


def test_backup_while_writing_is_consistent(imported_env: ServiceEnv, tmp_path: Path) -> None:
    """The online backup API copies a snapshot: each backup taken while a writer commits
    batches is a whole store whose count is one of the committed counts."""
    env = imported_env
    store = SQLiteStore(env.store_path)
    start = store.count()
    stop = threading.Event()
    committed = [start]

    def write() -> None:
        batch_no = 0
        while not stop.is_set() and batch_no < 200:
            batch = [Item(id=f"w{batch_no}-{i}", url=f"https://import.example/w/{batch_no}/{i}",
                          source="demo-bao", unit="bao-can-tho", kind="newspaper",
                          title=f"Tin {batch_no}-{i}", text="Nội dung " * 50,
                          fetched_at=datetime.now(UTC)) for i in range(20)]
            store.upsert(batch)
            committed.append(committed[-1] + 20)
            batch_no += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        counts = []
        for n in range(3):
            archive = tmp_path / f"live-{n}.tar.gz"
            manifest = create_backup(env.config, env.data, archive)
            counts.append(manifest["items"]["items"])
    finally:
        stop.set()
        writer.join()
        store.close()
    assert all(count in committed for count in counts), (counts, committed[-1])
    restored = tmp_path / "restored-data"
    restore_backup(tmp_path / "live-2.tar.gz", tmp_path / "cfg", restored)
    with sqlite3.connect(restored / "dophu.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == counts[-1]
