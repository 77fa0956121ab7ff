"""The running service's commands: ``dophu run``, ``status``, ``backup``, ``restore``, ``demo``.

``dophu run`` holds the data dir's lock, starts the scheduler (``dophu.scheduler``) and
serves the API from the same process (uvicorn in a thread) until SIGTERM or Ctrl-C;
``--once`` does what is due and exits, for cron.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

log = logging.getLogger("dophu.service")


def run_service(config_dir: Path, data_dir: Path, *, once: bool, serve: bool, host: str,
                port: int) -> int:
    """The body of ``dophu run``; returns the exit code."""
    from dophu.runlock import scheduler_lock
    from dophu.scheduler import Service

    with scheduler_lock(data_dir):
        service = Service(config_dir, data_dir, spread_first=not once)
        try:
            service.start_up()
            if once:
                return _run_once(service)
            return _run_forever(service, serve=serve, host=host, port=port)
        finally:
            service.close()


def _run_once(service: Any) -> int:
    result = service.run_due()
    crawled = [s for outcome in result.crawls for s in outcome.sources]
    failed = [f"{', '.join(o.sources)} ({o.outcome})" for o in result.crawls
              if o.outcome != "ok"]
    log.info("once: crawled %d source(s)%s; weekly reports written: %s", len(crawled),
             f", passes not finished: {'; '.join(failed)}" if failed else "",
             ", ".join(result.weeks) or "none due",
             extra={"crawled": crawled, "weeks": result.weeks, "failures": result.failures})
    for failure in result.failures:
        sys.stderr.write(f"dophu run: {failure}\n")
    return 1 if result.failures else 0


def _run_forever(service: Any, *, serve: bool, host: str, port: int) -> int:
    from dophu.scheduler import build_scheduler

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    def on_hup(_signum: int, _frame: Any) -> None:
        threading.Thread(target=service.check_config, name="config-reload", daemon=True).start()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, on_hup)
    scheduler = build_scheduler(service)
    web = None
    code = 0
    try:
        if serve:
            from dophu.web_host import ServiceApp, WebServer, build_api

            app = ServiceApp(build_api, service.context, service.health)
            service.on_config_change.append(app.swap)
            web = WebServer(app, host, port)
            try:
                web.start()
            except OSError as exc:
                sys.stderr.write(f"dophu run: {exc}\n")
                return 1
            log.info("serving http://%s:%d/", host, port, extra={"url": f"http://{host}:{port}/"})
        scheduler.start()
        log.info("scheduler started: data %s, config %s, weekly report %s %s (%s)",
                 service.data_dir, service.config.config_dir,
                 service.context.settings.service.weekly_report_day,
                 service.context.settings.service.weekly_report_time,
                 service.context.settings.service.timezone)
        while not stop.wait(1.0):
            if web is not None and not web.alive:
                log.error("the web server stopped: %s", web.error)
                code = 1
                break
    finally:
        service.stop_event.set()
        if scheduler.running:
            scheduler.shutdown(wait=True)
        if web is not None:
            web.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("stopped")
    return code


def _status(data_dir: Path) -> dict[str, Any]:
    from dophu.runlock import is_locked
    from dophu.service_state import STATE_FILENAME, ServiceState

    info: dict[str, Any] = {"data_dir": str(data_dir), "running": is_locked(data_dir)}
    if not (data_dir / STATE_FILENAME).exists():
        info["note"] = "the service has not run on this data dir"
        return info
    state = ServiceState(data_dir)
    try:
        info.update(state.status())
        info["crawl_runs"] = state.crawl_runs(limit=10)
        info["reports"] = state.report_files()[-20:]
    finally:
        state.close()
    return info


def register(app: typer.Typer) -> None:
    from dophu.cli import BadInput, context_of, emit_json, err, fail, handle_errors, out

    @app.command("run")
    @handle_errors
    def run_cmd(
        typer_ctx: typer.Context,
        once: Annotated[bool, typer.Option(
            "--once", help="Do what is due (crawls, the weekly report) and exit: for cron")
        ] = False,
        serve: Annotated[bool, typer.Option(
            "--serve/--no-serve", help="Serve the API and web pages in the same process")
        ] = True,
        host: Annotated[str, typer.Option("--host", help="Address the API listens on")
                        ] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535, help="API port")] = 8000,
    ) -> None:
        """The long-running service: scheduled crawling, the weekly report, the API."""
        from dophu.runlock import AlreadyRunning, LockError
        from dophu.service_state import ServiceStateError

        context = context_of(typer_ctx)
        try:
            code = run_service(context.config_dir, context.data_dir, once=once,
                               serve=serve and not once, host=host, port=port)
        except (AlreadyRunning, LockError, ServiceStateError, OSError) as exc:
            fail(f"dophu: {exc}", 1)
        except ValueError as exc:
            from api.auth import TokenConfigError

            if isinstance(exc, TokenConfigError):           # malformed API tokens
                raise BadInput(str(exc)) from None
            raise
        if code:
            raise typer.Exit(code)

    @app.command("status")
    @handle_errors
    def status_cmd(typer_ctx: typer.Context,
                   as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """What the service did: config in use (and its error), crawl passes, reports."""
        info = _status(Path(context_of(typer_ctx).data_dir))
        if as_json:
            emit_json(info)
            return
        out.print(f"dịch vụ: {'đang chạy' if info['running'] else 'không chạy'} "
                  f"({info['data_dir']})", highlight=False)
        config = info.get("config") or {}
        if config:
            out.print(f"cấu hình: {'tốt' if config.get('ok') else 'LỖI: ' + str(config['error'])}"
                      f" (đang dùng {config.get('in_use')}, nạp lúc {config.get('loaded_at')})",
                      highlight=False, markup=False)
        for run in info.get("crawl_runs", [])[:5]:
            out.print(f"thu thập {run['started_at']}: {', '.join(run['sources'])} → "
                      f"{run['outcome']} ({run['seconds']} s)"
                      + (f" {run['error']}" if run.get("error") else ""),
                      highlight=False, markup=False)
        weeks = sorted({r["week"] for r in info.get("reports", [])})
        if weeks:
            out.print(f"báo cáo tuần đã viết: {', '.join(weeks[-5:])}", highlight=False)

    @app.command("backup")
    @handle_errors
    def backup_cmd(typer_ctx: typer.Context,
                   file: Annotated[Path, typer.Argument(help="The .tar.gz to write")],
                   as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """A consistent copy of the store, the models and the config in one .tar.gz."""
        from dophu.backup import BackupError, create_backup

        context = context_of(typer_ctx)
        try:
            manifest = create_backup(context.config_dir, context.data_dir, file)
        except BackupError as exc:
            err.print(f"dophu: backup failed: {exc}", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except OSError as exc:
            err.print(f"dophu: backup failed: {file}: {exc.strerror or exc}", markup=False,
                      highlight=False)
            raise typer.Exit(1) from None
        summary = {"file": str(file), "files": len(manifest["files"]),
                   "bytes": file.stat().st_size, "items": (manifest.get("items") or {}).get(
                       "items"), "databases": manifest["databases"]}
        if as_json:
            emit_json(summary)
        else:
            err.print(f"wrote {file}: {summary['files']} files, {summary['items']} items, "
                      f"{summary['bytes']:,} bytes", highlight=False)

    @app.command("restore")
    @handle_errors
    def restore_cmd(typer_ctx: typer.Context,
                    file: Annotated[Path, typer.Argument(help="A file from 'dophu backup'")],
                    force: Annotated[bool, typer.Option(
                        "--force", help="Replace a non-empty data dir / a different config "
                                        "(the replaced files are kept in <data>/replaced-*)")
                    ] = False,
                    config: Annotated[bool, typer.Option(
                        "--config-files/--no-config", help="Restore the config dir too")
                    ] = True) -> None:
        """Puts a backup back: databases and models into --data, the config into --config."""
        from dophu.backup import RestoreError, restore_backup

        context = context_of(typer_ctx)
        try:
            manifest = restore_backup(file, context.config_dir, context.data_dir, force=force,
                                      with_config=config)
        except RestoreError as exc:
            raise BadInput(str(exc)) from None
        items = (manifest.get("items") or {}).get("items")
        err.print(f"restored {file} ({manifest['created_at']}, {items} items) into "
                  f"{context.data_dir}" + (f" and {context.config_dir}" if config else "")
                  + (f"; replaced files kept in {manifest['replaced']}"
                     if manifest.get("replaced") else ""), highlight=False, markup=False)

    @app.command("demo")
    @handle_errors
    def demo_cmd(
        typer_ctx: typer.Context,
        serve: Annotated[bool, typer.Option(
            "--serve/--no-serve", help="Serve the web pages after the reports")] = True,
        out_dir: Annotated[Path, typer.Option("--out", help="Where the demo writes")
                           ] = Path("out"),
        host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
        all_weeks: Annotated[bool, typer.Option(
            "--all-weeks", help="A report for every week with demo items, not only the "
                                "weeks in which every demo site published")] = False,
    ) -> None:
        """The main job on the bundled demo sites, end to end, on the embedded store."""
        from dophu.demo import DemoError, run_demo

        context = context_of(typer_ctx)
        try:
            run_demo(out_dir, base_config=context.config_dir, serve=serve, host=host,
                     port=port, all_weeks=all_weeks, console=out)
        except DemoError as exc:
            err.print(f"dophu demo: {exc}", markup=False, highlight=False)
            raise typer.Exit(1) from None


__all__ = ["register", "run_service"]
