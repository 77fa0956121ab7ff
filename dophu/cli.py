"""The ``dophu`` command line (the contract is ``shared/docs/interface.md``).

Every ``--json`` prints exactly one JSON document on stdout; progress and logs
go to stderr. Exit 0 on success, 2 on bad input with one line naming the file,
line and field, 1 on other failures.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from dophu.config import (
    ConfigError,
    dump_sources,
    merge_sources,
    parse_sources_csv,
)
from dophu.context import Context
from dophu.dates import DateParseError, parse_date
from dophu.importer import ImportFileError, decode_bytes, import_file
from dophu.logs import setup_logging
from dophu.progress import count_records, progress
from store import QueryError, SearchQuery, StoreError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="dophu (độ phủ): coverage of a communication plan in Vietnamese media.")
plan_app = typer.Typer(no_args_is_help=True, help="The active plan.")
sources_app = typer.Typer(no_args_is_help=True, help="Configured sources and their health.")
app.add_typer(plan_app, name="plan")
app.add_typer(sources_app, name="sources")

err = Console(stderr=True)
out = Console(soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])
# From this many rows on, `dophu import` tags in a child process while it stores (two cores).
PARALLEL_IMPORT_ROWS = 1000


class BadInput(Exception):
    """A user error: exit 2 with this one-line message."""


def context_of(typer_ctx: typer.Context) -> Context:
    """The Context built from the global options (for commands in other modules too)."""
    return typer_ctx.obj


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")


def fail(message: str, code: int) -> None:
    """One plain line on stderr (never wrapped), then exit with ``code``."""
    sys.stderr.write(" ".join(message.split()) + "\n")
    sys.stderr.flush()
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Map known errors to exit codes and one clear line (a traceback only with DOPHU_DEBUG)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ConfigError, QueryError, ImportFileError, BadInput, DateParseError) as exc:
            fail(f"dophu: error: {exc}", 2)
        except StoreError as exc:
            fail(f"dophu: store error: {exc}", 1)
        except typer.Exit:
            raise
        except Exception as exc:  # noqa: BLE001 - last line of defence for a CLI
            if os.environ.get("DOPHU_DEBUG"):
                raise
            fail(f"dophu: failed: {type(exc).__name__}: {exc}", 1)

    return wrapper  # type: ignore[return-value]


@app.callback()
def main_options(
    typer_ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", help="Config dir "
                                                "(default: $DOPHU_CONFIG or ./config)")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Data dir "
                                              "(default: $DOPHU_DATA or ./data)")] = None,
    log_json: Annotated[bool, typer.Option("--log-json", help="Logs as JSON lines on stderr "
                                           "(also: DOPHU_LOG_FORMAT=json)")] = False,
) -> None:
    setup_logging(log_json)
    context = Context()
    if config is not None:
        context.config_dir = config
    if data is not None:
        context.data_dir = data
    typer_ctx.obj = context
    typer_ctx.call_on_close(context.close)


# ------------------------------------------------------------------ plan


@plan_app.command("show")
@handle_errors
def plan_show(typer_ctx: typer.Context,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Themes, anniversaries (dates and windows), phases and units of the active plan."""
    plan = context_of(typer_ctx).plan
    if as_json:
        emit_json(plan.model_dump(mode="json"))
        return
    out.print(f"[bold]{plan.name}[/bold]  ({plan.id})")
    table = Table("id", "chủ đề", "lớn", "mục", title="Chủ đề")
    for t in plan.themes:
        table.add_row(t.id, t.name, "✓" if t.major else "", t.ref)
    out.print(table)
    table = Table("id", "ngày kỷ niệm", "cửa sổ", "tên", title="Ngày kỷ niệm")
    for a in plan.anniversaries:
        table.add_row(a.id, a.date.isoformat(),
                      f"{a.window_start.isoformat()} → {a.window_end.isoformat()}", a.name)
    out.print(table)
    table = Table("id", "từ", "đến", "giai đoạn", title="Giai đoạn")
    for p in plan.phases:
        table.add_row(p.id, p.start.isoformat(), p.end.isoformat(), p.name)
    out.print(table)
    table = Table("id", "đơn vị", "nhóm", title="Đơn vị")
    for u in plan.units:
        table.add_row(u.id, u.name, u.group + ("" if u.responsible else " (tham khảo)"))
    out.print(table)


# ------------------------------------------------------------------ sources


def source_rows(context: Context) -> list[dict[str, Any]]:
    states = context.store.list_source_states()
    rows = []
    for s in context.sources:
        state = states.get(s.id)
        rows.append({
            **s.model_dump(mode="json"),
            "health": None if state is None else {
                "last_attempt": state.last_attempt, "last_success": state.last_success,
                "consecutive_failures": state.consecutive_failures,
                "last_error": state.last_error, "last_run": state.last_run,
                "next_due": state.next_due,
                "status": getattr(state, "status", None),
                "recent_errors": (getattr(state, "recent_errors", None) or [])[:5],
                "discovered": {"feeds": state.discovered_feeds,
                               "sitemaps": state.discovered_sitemaps,
                               "listings": state.discovered_listings},
            },
        })
    return rows


def _health_label(health: dict[str, Any]) -> str:
    """"site broken" and "published nothing" must not look alike."""
    if not health:
        return "chưa thu thập"
    if health.get("consecutive_failures"):
        return "LỖI (trang không truy cập được)"
    if health.get("status") == "no-new-items":
        return "hoạt động, không có bài mới"
    return "hoạt động"


@sources_app.command("list")
@handle_errors
def sources_list(typer_ctx: typer.Context,
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The configured sources with their health (last success, last error, items)."""
    rows = source_rows(context_of(typer_ctx))
    if as_json:
        emit_json({"sources": json.loads(json.dumps(rows, default=str))})
        return
    table = Table("id", "đơn vị", "loại", "trang chủ", "tình trạng", "lần thành công cuối",
                  "lần chạy cuối", "lỗi liên tiếp", "lỗi gần nhất")
    for row in rows:
        health = row["health"] or {}
        last_run = health.get("last_run") or {}
        table.add_row(row["id"], row["unit"], row["kind"], row["home"] or "",
                      _health_label(health),
                      str(health.get("last_success") or "chưa thu thập"),
                      f"mới {last_run.get('new', 0)} / đọc {last_run.get('seen', 0)}"
                      if last_run else "",
                      str(health.get("consecutive_failures", "")),
                      str(health.get("last_error") or ""))
    out.print(table)


@sources_app.command("import")
@handle_errors
def sources_import(typer_ctx: typer.Context, file: Path,
                   as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Add or update sources by id from a CSV export; a file with any bad row changes nothing."""
    context = context_of(typer_ctx)
    try:
        text, _ = decode_bytes(file.read_bytes())
    except FileNotFoundError:
        raise BadInput(f"{file}: file not found") from None
    incoming, errors = parse_sources_csv(text, context.plan, file)
    if errors:
        if as_json:
            emit_json({"added": 0, "updated": 0,
                       "errors": [e.model_dump() for e in errors]})
        for e in errors:
            err.print(f"{file.name}:{e.row}: {e.error}", markup=False, highlight=False)
        raise BadInput(f"{file.name}: {len(errors)} bad row(s); nothing was changed")
    merged, added, updated = merge_sources(context.sources, incoming)
    dump_sources(context.sources_path, merged)
    if as_json:
        emit_json({"added": added, "updated": updated, "errors": []})
    else:
        err.print(f"{added} added, {updated} updated ({context.sources_path})")


# ------------------------------------------------------------------ import / search / export


@app.command("import")
@handle_errors
def import_cmd(
    typer_ctx: typer.Context,
    file: Path,
    source: Annotated[str | None, typer.Option("--source", help="Source id for every row")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add items that were not crawled (JSON Lines or CSV: url,title,text,published_at,source)."""
    from dophu.tagging import load_tagger

    context = context_of(typer_ctx)
    tagger = load_tagger(context)
    rows = count_records(file)
    if rows and file.suffix.lower() in (".csv", ".tsv"):
        rows -= 1                                   # the header
    with progress(f"importing {file.name}", total=rows, unit="rows") as advance:
        report = import_file(file, context.store, context.sources, source_override=source,
                             tagger=tagger, progress=advance,
                             parallel=(rows or 0) >= PARALLEL_IMPORT_ROWS
                             and (os.cpu_count() or 1) > 1)
    if as_json:
        emit_json(report.as_json())
        return
    err.print(f"read {report.read}, new {report.new}, updated {report.updated}, "
              f"unchanged {report.unchanged}, rejected {len(report.rejected)}")
    for r in report.rejected[:50]:
        err.print(f"{file.name}:{r.line}: {r.error}", markup=False, highlight=False)
    if len(report.rejected) > 50:
        err.print(f"... and {len(report.rejected) - 50} more rejected rows")


def _date_option(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except DateParseError as exc:
        raise BadInput(f"{name}: {exc}") from None


@app.command("search")
@handle_errors
def search_cmd(
    typer_ctx: typer.Context,
    query: Annotated[str | None, typer.Argument(help="Words, with or without diacritics; "
                                                "\"a phrase\"; -exclude; a OR b")] = None,
    theme: Annotated[list[str] | None, typer.Option("--theme")] = None,
    anniversary: Annotated[list[str] | None, typer.Option("--anniversary")] = None,
    source: Annotated[list[str] | None, typer.Option("--source")] = None,
    unit: Annotated[list[str] | None, typer.Option("--unit")] = None,
    kind: Annotated[list[str] | None, typer.Option("--kind")] = None,
    date_from: Annotated[str | None, typer.Option("--from")] = None,
    date_to: Annotated[str | None, typer.Option("--to")] = None,
    relevant: Annotated[bool | None, typer.Option("--relevant/--not-relevant")] = None,
    sort: Annotated[str, typer.Option("--sort", help="relevance | date | date_asc")] = "relevance",
    limit: Annotated[int, typer.Option("--limit")] = 20,
    page: Annotated[int, typer.Option("--page")] = 1,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Full-text search with filters."""
    context = context_of(typer_ctx)
    plan = context.plan
    for values, known, name in ((theme, plan.label_ids("theme"), "--theme"),
                                (anniversary, plan.label_ids("anniversary"), "--anniversary")):
        for value in values or []:
            if value not in known:
                raise BadInput(f"{name}: unknown id {value!r} (see 'dophu plan show')")
    try:
        search_query = SearchQuery(
            text=query, themes=theme or [], anniversaries=anniversary or [],
            sources=source or [], units=unit or [], kinds=kind or [],
            date_from=_date_option(date_from, "--from"), date_to=_date_option(date_to, "--to"),
            relevant=relevant, sort=sort, size=limit, page=page)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise BadInput(f"--{error['loc'][0]}: {error['msg']}") from None
    result = context.store.search(search_query)
    if as_json:
        emit_json({"total": result.total,
                   "items": [{**h.item.public_dict(), "highlights": h.highlights}
                             for h in result.items],
                   "facets": result.facets})
        return
    out.print(f"{result.total} kết quả")
    for hit in result.items:
        item = hit.item
        when = item.published_at.date().isoformat() if item.published_at else "?"
        tags = ", ".join(t.id for t in item.themes + item.anniversaries)
        out.print(f"[bold]{item.title}[/bold]", highlight=False)
        out.print(f"  {when} · {item.source} · {item.url or ''}"
                  + (f" · {tags}" if tags else ""), highlight=False, markup=False)


@app.command("export")
@handle_errors
def export_cmd(
    typer_ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
) -> None:
    """Every indexed item as JSON Lines (the item form of interface.md)."""
    store = context_of(typer_ctx).store
    handle = output.open("w", encoding="utf-8") if output else sys.stdout
    count = 0
    try:
        for item in store.iter_items():
            handle.write(json.dumps(item.public_dict(), ensure_ascii=False) + "\n")
            count += 1
    finally:
        if output:
            handle.close()
    err.print(f"exported {count} items" + (f" to {output}" if output else ""))


# Each area adds its own commands (``register(app)`` in its ``cli`` module), so that
# crawler, classifier, reports, API and service code stay in their own packages.
COMMAND_MODULES = ("crawlers.cli", "classifier.cli", "reports.cli", "store.cli", "api.cli",
                   "dophu.service")


def _register_command_modules() -> None:
    import importlib
    import importlib.util

    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(app)


_register_command_modules()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
