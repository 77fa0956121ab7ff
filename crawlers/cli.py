"""``dophu crawl``: one pass over the sources that are due, then exit."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    from dophu.cli import BadInput, context_of, emit_json, err, handle_errors, out

    @app.command("crawl")
    @handle_errors
    def crawl_cmd(
        typer_ctx: typer.Context,
        source: Annotated[list[str] | None, typer.Option(
            "--source", help="Crawl this source (repeatable), due or not")] = None,
        all_sources: Annotated[bool, typer.Option(
            "--all", help="Every enabled source, due or not")] = False,
        shard: Annotated[str | None, typer.Option(
            "--shard", help="i/N: only the sources whose id hashes to shard i of N "
                            "(0 <= i < N)")] = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """One pass: discover, fetch, extract, tag, index; then exit."""
        from crawlers.run import CrawlBusyError, CrawlInputError, run_crawl

        context = context_of(typer_ctx)
        try:
            summary = run_crawl(context, source_ids=source or None, all_sources=all_sources,
                                shard=shard)
        except CrawlInputError as exc:
            raise BadInput(str(exc)) from None
        except CrawlBusyError as exc:
            err.print(f"dophu: {exc}", markup=False, highlight=False)
            raise typer.Exit(1) from None
        if as_json:
            emit_json(summary)
            return
        if not summary["sources"]:
            err.print("no source is due (use --all or --source ID)")
            return
        for row in summary["sources"]:
            line = (f"{row['id']}: fetched {row['fetched']}, new {row['new']}, "
                    f"updated {row['updated']}, errors {row['errors']}")
            if row["status"] != "ok":
                line += " — FAILED"
            if row.get("last_error"):
                line += f" (last: {row['last_error']})"
            out.print(line, markup=False, highlight=False)
        out.print(f"new items: {summary['new']} ({summary['finish_reason']})")
