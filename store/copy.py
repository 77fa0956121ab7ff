"""Move everything from one store to another: items with their tags, feedback, crawl state.

Items go in id order (``Store.iter_items``) in batches; after each batch the
target is asked which ids it now holds and the last copied id is written to a
checkpoint file, so a copy that is stopped goes on from there the next time.
Feedback is copied when the target does not have it yet (so a second run adds
nothing), source states are written over. At the end the counts are compared.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dophu.models import Feedback, Item
from store.base import Store, StoreError


@dataclass
class CopyReport:
    items_in_source: int = 0
    items_in_target: int = 0
    items_copied: int = 0
    resumed_after: str | None = None
    feedback_copied: int = 0
    feedback_in_source: int = 0
    feedback_in_target: int = 0
    states_copied: int = 0
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return asdict(self)


class Checkpoint:
    """The last copied id, in a small JSON file replaced atomically after each batch."""

    def __init__(self, path: Path, label: str):
        self.path = path
        self.label = label

    def load(self) -> tuple[str | None, int]:
        if not self.path.exists():
            return None, 0
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"unreadable checkpoint {self.path}: {exc} (remove it or use "
                             "--restart)") from exc
        if data.get("copy") != self.label:
            raise StoreError(f"checkpoint {self.path} is for {data.get('copy')!r}, not "
                             f"{self.label!r} (remove it or use --restart)")
        return data.get("last_id"), int(data.get("copied", 0))

    def save(self, last_id: str, copied: int) -> None:
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump({"copy": self.label, "last_id": last_id, "copied": copied}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def _feedback_key(feedback: Feedback) -> tuple[object, ...]:
    return (feedback.item_id, feedback.label_kind, feedback.label, feedback.action,
            feedback.user, feedback.at, feedback.note)


def copy_store(source: Store, target: Store, checkpoint: Checkpoint, *, batch_size: int = 500,
               progress: Callable[[int], None] | None = None,
               refresh: Callable[[], None] | None = None) -> CopyReport:
    """Copy ``source`` into ``target``; raise StoreError if the target ends up short."""
    report = CopyReport(items_in_source=source.count())
    after, copied = checkpoint.load()
    report.resumed_after = after
    report.items_copied = copied
    if progress and copied:
        progress(copied)
    batch: list[Item] = []

    def flush() -> None:
        target.upsert(batch)
        ids = [i.id for i in batch]
        missing = set(ids) - target.known_ids(ids)
        if missing:
            raise StoreError(f"{len(missing)} items did not arrive in the target: "
                             f"{', '.join(sorted(missing)[:10])}")
        report.items_copied += len(batch)
        checkpoint.save(batch[-1].id, report.items_copied)
        if progress:
            progress(len(batch))
        batch.clear()

    for item in source.iter_items(after_id=after, batch_size=batch_size):
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()

    wanted = source.list_feedback()
    have = Counter(_feedback_key(f) for f in target.list_feedback())
    for feedback in wanted:
        key = _feedback_key(feedback)
        if have[key]:
            have[key] -= 1
            continue
        target.add_feedback(feedback.model_copy(update={"id": None}))
        report.feedback_copied += 1
    for state in source.list_source_states().values():
        target.put_source_state(state)
        report.states_copied += 1

    if refresh:
        refresh()
    report.items_in_target = target.count()
    report.feedback_in_source = len(wanted)
    report.feedback_in_target = len(target.list_feedback())
    if report.items_in_target < report.items_in_source:
        raise StoreError(f"the target holds {report.items_in_target} items, the source "
                         f"{report.items_in_source}: the copy is incomplete (run it again to "
                         "go on from the checkpoint)")
    if report.items_in_target > report.items_in_source:
        report.warnings.append(f"the target holds {report.items_in_target - report.items_in_source}"
                               " items that are not in the source")
    if report.feedback_in_target < report.feedback_in_source:
        raise StoreError(f"the target holds {report.feedback_in_target} feedback entries, "
                         f"the source {report.feedback_in_source}")
    checkpoint.clear()
    return report
