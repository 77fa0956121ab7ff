"""``dophu report weekly|range``: the coverage report to a file or stdout.

Without ``-o`` the report goes to stdout (json, md, html; Markdown by default);
with ``-o`` the format is taken from ``--format`` or else the file's extension,
and the file is written whole or not at all. XLSX needs ``-o``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from dophu.context import Context
    from reports.model import Report

DEFAULT_STDOUT_FORMAT = "md"


def _choose_format(fmt: str | None, output: Path | None) -> str:
    from dophu.cli import BadInput
    from reports.render import EXTENSIONS, FORMATS

    if output is not None and output.is_dir():
        raise BadInput(f"-o {output}: is a directory; give a file name")
    if fmt is None and output is not None:
        by_suffix = {ext: name for name, ext in EXTENSIONS.items()}
        fmt = by_suffix.get(output.suffix.lower())
        if fmt is None:
            raise BadInput(f"-o {output}: cannot tell the format from the extension "
                           f"{output.suffix or '(none)'!r}; add --format {'|'.join(FORMATS)}")
    fmt = (fmt or DEFAULT_STDOUT_FORMAT).lower()
    if fmt not in FORMATS:
        raise BadInput(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "xlsx" and output is None:
        raise BadInput("--format xlsx needs -o FILE (a spreadsheet cannot go to the terminal)")
    return fmt


def _write(report: Report, fmt: str, output: Path | None) -> None:
    """Renders, then writes stdout or the file (via a temporary file renamed into place)."""
    from dophu.cli import BadInput
    from reports.render import render

    data = render(report, fmt)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.",
                                            suffix=".tmp")
        with os.fdopen(handle, "wb") as tmp:
            tmp.write(data)
        os.replace(tmp_name, output)
    except OSError as exc:
        raise BadInput(f"-o {output}: cannot write ({exc.strerror or exc})") from None
    sys.stderr.write(f"wrote {output} ({fmt}, {len(data):,} bytes)\n")


def _parse_day(value: str, option: str) -> date:
    from dophu.cli import BadInput
    from dophu.dates import DateParseError, parse_date

    try:
        return parse_date(value)
    except DateParseError as exc:
        raise BadInput(f"{option}: {exc}") from None


def _phase_span(context: Context, phase: str) -> tuple[date, date]:
    from dophu.cli import BadInput

    plan = context.plan
    if not plan.phases:
        raise BadInput(f"--phase: plan {plan.id!r} has no phases")
    if phase == "all":
        return min(p.start for p in plan.phases), max(p.end for p in plan.phases)
    found = next((p for p in plan.phases if p.id == phase), None)
    if found is None:
        known = ", ".join(p.id for p in plan.phases)
        raise BadInput(f"--phase: unknown phase {phase!r} (one of: {known}, all)")
    return found.start, found.end


FormatOption = Annotated[str | None, typer.Option(
    "--format", "-f", help="html | xlsx | md | json (default: from -o's extension, else md)")]
OutputOption = Annotated[Path | None, typer.Option(
    "-o", "--output", help="Write to this file (needed for xlsx); default: stdout")]
UnitOption = Annotated[str | None, typer.Option(
    "--unit", help="Only this unit of the plan (the report a unit head receives)")]


def register(app: typer.Typer) -> None:
    """Adds ``dophu report weekly`` and ``dophu report range``."""
    from dophu.cli import context_of, handle_errors

    report_app = typer.Typer(no_args_is_help=True,
                             help="Coverage reports: a week, or any period.")
    app.add_typer(report_app, name="report")

    @report_app.command("weekly")
    @handle_errors
    def weekly(
        typer_ctx: typer.Context,
        week: Annotated[str | None, typer.Option(
            "--week", help="ISO week YYYY-Www (default: the last full week, Asia/Ho_Chi_Minh)")
        ] = None,
        fmt: FormatOption = None,
        output: OutputOption = None,
        unit: UnitOption = None,
    ) -> None:
        """The weekly coverage report: themes, units and gaps, anniversaries, top items."""
        from reports.build import build_weekly

        context = context_of(typer_ctx)
        chosen = _choose_format(fmt, output)
        report = build_weekly(context.store, context.plan, context.sources, week=week,
                              unit=unit)
        _write(report, chosen, output)

    @report_app.command("range")
    @handle_errors
    def range_(
        typer_ctx: typer.Context,
        date_from: Annotated[str | None, typer.Option(
            "--from", help="First day (2025-04-01 or 1/4/2025), inclusive")] = None,
        date_to: Annotated[str | None, typer.Option(
            "--to", help="Last day, inclusive")] = None,
        phase: Annotated[str | None, typer.Option(
            "--phase", help="A phase id of the plan, or 'all' (the whole plan) instead of "
                            "--from/--to")] = None,
        granularity: Annotated[str, typer.Option(
            "--granularity", "-g", help="day | week | month")] = "week",
        fmt: FormatOption = None,
        output: OutputOption = None,
        unit: UnitOption = None,
    ) -> None:
        """The same report for any period (a month, a phase, the whole plan)."""
        from dophu.cli import BadInput
        from reports.build import build_range

        context = context_of(typer_ctx)
        chosen = _choose_format(fmt, output)
        if phase is not None:
            if date_from or date_to:
                raise BadInput("--phase replaces --from/--to; give one or the other")
            first, last = _phase_span(context, phase)
        else:
            if not date_from or not date_to:
                missing = "--from" if not date_from else "--to"
                raise BadInput(f"{missing} is required (or --phase ID)")
            first, last = _parse_day(date_from, "--from"), _parse_day(date_to, "--to")
        report = build_range(context.store, context.plan, context.sources, first, last,
                             granularity=granularity.lower(), unit=unit)  # type: ignore[arg-type]
        _write(report, chosen, output)
