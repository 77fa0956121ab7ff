"""``dophu index ...``: move items between the embedded store and Elasticsearch, see the spool.

``dophu index copy --from sqlite --to elasticsearch`` (or back) copies every item,
tag, feedback entry and source state in batches, with a progress bar on a terminal
and plain lines otherwise, resumable from a checkpoint in the data dir.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from store import STORE_FILENAME, Store
from store.copy import Checkpoint, CopyReport, copy_store
from store.spool import SPOOL_FILENAME, SpoolingStore, spool_status

log = logging.getLogger(__name__)

BACKENDS = ("sqlite", "elasticsearch")

def open_backend(kind: str, data_dir: Path, es_url: str | None, *, readonly: bool) -> Store:
    """The data dir's SQLite store, or Elasticsearch at --es-url / ELASTICSEARCH_URL."""
    if kind == "sqlite":
        from store.sqlite import SQLiteStore

        path = data_dir / STORE_FILENAME
        if readonly and not path.exists():
            from dophu.cli import BadInput

            raise BadInput(f"--from sqlite: no store at {path}")
        return SQLiteStore(path, readonly=readonly)
    url = es_url or os.environ.get("ELASTICSEARCH_URL")
    if not url:
        from dophu.cli import BadInput

        raise BadInput("elasticsearch: give --es-url or set ELASTICSEARCH_URL")
    from store.elastic import ElasticStore

    return ElasticStore(url, api_key=os.environ.get("ELASTICSEARCH_API_KEY") or None)


class Progress:
    """A rich progress bar on a terminal; otherwise a plain line every few seconds."""

    def __init__(self, total: int, *, every_seconds: float = 5.0):
        self.total = total
        self.done = 0
        self.every = every_seconds
        self._last = 0.0
        self._bar = None
        if sys.stderr.isatty():
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(transient=False)
            self._bar.start()
            self._task = self._bar.add_task("copying items", total=total)

    def __call__(self, count: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
            return
        now = time.monotonic()
        if now - self._last >= self.every or self.done >= self.total:
            self._last = now
            share = f" ({100 * self.done // self.total}%)" if self.total else ""
            sys.stderr.write(f"copied {self.done}/{self.total} items{share}\n")
            sys.stderr.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _report_lines(report: CopyReport, source: str, target: str) -> list[str]:
    lines = [f"copied {report.items_copied} items from {source} to {target}"
             + (f" (resumed after {report.resumed_after})" if report.resumed_after else ""),
             f"items: {report.items_in_source} in {source}, {report.items_in_target} in "
             f"{target}",
             f"feedback: {report.feedback_copied} copied ({report.feedback_in_source} in "
             f"{source}, {report.feedback_in_target} in {target}); source states: "
             f"{report.states_copied}"]
    return lines + [f"warning: {w}" for w in report.warnings]


def register(app: typer.Typer) -> None:
    from dophu.cli import BadInput, context_of, emit_json, handle_errors

    index_app = typer.Typer(no_args_is_help=True,
                            help="The item index: copy between stores, the Elasticsearch spool.")

    @index_app.command("copy")
    @handle_errors
    def index_copy(
        typer_ctx: typer.Context,
        source: Annotated[str, typer.Option("--from", help="sqlite | elasticsearch")],
        target: Annotated[str, typer.Option("--to", help="sqlite | elasticsearch")],
        es_url: Annotated[str | None, typer.Option(
            "--es-url", help="Elasticsearch URL (default: $ELASTICSEARCH_URL)")] = None,
        batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=5000)] = 500,
        restart: Annotated[bool, typer.Option(
            "--restart", help="Forget the checkpoint and copy from the first item")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Copy every item, tag, feedback entry and source state (resumable)."""
        for name, value in (("--from", source), ("--to", target)):
            if value not in BACKENDS:
                raise BadInput(f"{name}: expected sqlite or elasticsearch, got {value!r}")
        if source == target:
            raise BadInput("--from and --to are the same store")
        data_dir = context_of(typer_ctx).data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        checkpoint = Checkpoint(data_dir / f"index-copy-{source}-to-{target}.json",
                                f"{source}->{target}")
        if restart:
            checkpoint.clear()
        origin = open_backend(source, data_dir, es_url, readonly=True)
        try:
            destination = open_backend(target, data_dir, es_url, readonly=False)
            try:
                progress = Progress(origin.count())
                try:
                    report = copy_store(origin, destination, checkpoint, batch_size=batch_size,
                                        progress=progress,
                                        refresh=getattr(destination, "refresh_indices", None))
                finally:
                    progress.close()
            finally:
                destination.close()
        finally:
            origin.close()
        if as_json:
            emit_json(report.as_json())
        else:
            for line in _report_lines(report, source, target):
                sys.stderr.write(line + "\n")

    @index_app.command("spool")
    @handle_errors
    def index_spool(
        typer_ctx: typer.Context,
        replay: Annotated[bool, typer.Option(
            "--replay", help="Write the spooled items to Elasticsearch now")] = False,
        es_url: Annotated[str | None, typer.Option("--es-url")] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Items kept locally while Elasticsearch was unreachable (and replay them)."""
        path = context_of(typer_ctx).data_dir / SPOOL_FILENAME
        replayed = None
        if replay:
            if not path.exists():
                raise BadInput(f"no spool at {path}")
            remote = open_backend("elasticsearch", path.parent, es_url, readonly=False)
            spooling = SpoolingStore(remote, path)
            try:
                if not spooling.replay():
                    from store import StoreError

                    raise StoreError(f"Elasticsearch is still unreachable; "
                                     f"{spooling.spool.pending()} items stay in {path}")
                replayed = spooling.replayed
            finally:
                spooling.close()
        status = (spool_status(path) if path.exists() else
                  {"path": str(path), "pending_items": 0, "pending_states": 0,
                   "rejected_items": 0})
        if replayed is not None:
            status["replayed_items"] = replayed
        if as_json:
            emit_json(status)
        else:
            sys.stderr.write(", ".join(f"{k}: {v}" for k, v in status.items()) + "\n")

    app.add_typer(index_app, name="index")
