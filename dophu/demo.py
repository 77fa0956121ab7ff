"""``dophu demo``: the whole job on the bundled demo sites, on this machine, no internet.

1. starts the four demo sites (``demo.server.DemoSites``) on localhost;
2. builds ``out/demo-config`` (the default plan, the demo ``sources.yaml``, settings with
   politeness delays at zero: the sites are ours) and a fresh ``out/demo-data``;
3. crawls them (``dophu crawl --all`` in a subprocess), which tags and stores every item
   in the embedded store;
4. writes the weekly reports of the demo weeks into ``out/`` in every format;
5. prints a short summary in Vietnamese with the report paths;
6. serves the web pages until Ctrl-C (``--no-serve`` stops after the reports).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from dophu.config import find_plan_file
from dophu.context import Context
from dophu.crawl_runner import CrawlOutcome, run_crawl_process
from dophu.progress import on_terminal
from dophu.weekly_job import write_report_files

log = logging.getLogger("dophu.demo")

DEMO_BASE_PORT = 8701
DEMO_CRAWL_SETTINGS: dict[str, Any] = {
    "download_delay": 0, "autothrottle": False, "retry_backoff_seconds": 0,
    "timeout_seconds": 2.5, "retries": 1, "concurrency_per_host": 4,
    "pass_time_limit_seconds": 600,
}
SLOW_PAGE_SECONDS = 4.0          # the ward site's deliberately slow page outlasts the timeout
FORMATS = ["html", "xlsx", "md", "json"]
REPO_CONFIG = Path(__file__).resolve().parents[1] / "config"


class DemoError(RuntimeError):
    """The demo could not run (a step failed; the message says which)."""


@dataclass
class WeekReport:
    report: Any                      # reports.model.Report
    files: dict[str, Path]           # format -> file


@dataclass
class DemoResult:
    config_dir: Path
    data_dir: Path
    crawl: CrawlOutcome
    reports: dict[str, WeekReport] = field(default_factory=dict)
    items: int = 0
    seconds: float = 0.0
    url: str | None = None


def default_plan_file(config_dir: Path | None) -> Path:
    """The plan of ``--config`` when it has one, else the one shipped beside dophu."""
    for base in (config_dir, REPO_CONFIG):
        if base is None:
            continue
        with contextlib.suppress(Exception):
            return find_plan_file(base)
    raise DemoError(f"no plan file found in {config_dir} or {REPO_CONFIG}")


def build_demo_config(config_dir: Path, plan_file: Path, sites: Any) -> Path:
    """``out/demo-config``: the plan, the sites' ``sources.yaml``, fast crawl settings."""
    shutil.rmtree(config_dir, ignore_errors=True)
    (config_dir / "plans").mkdir(parents=True)
    shutil.copy2(plan_file, config_dir / "plans" / plan_file.name)
    sites.write_sources_yaml(config_dir / "sources.yaml")
    # a fresh token each run, so that the demo's visitor can sign in and confirm tags
    settings = {"crawl": DEMO_CRAWL_SETTINGS, "service": {"jitter_seconds": 0},
                "api": {"tokens": {"demo": secrets.token_urlsafe(12)}}}
    (config_dir / "settings.yaml").write_text(
        "# Demo settings: the demo sites run on this machine, so no politeness delay;\n"
        "# the API token is made for this demo run only.\n"
        + yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return config_dir


def _free_port(host: str, wanted: int) -> int:
    for port in (wanted, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise DemoError(f"no free port on {host}")


def _start_sites() -> Any:
    from demo.server import DemoSites

    ports = [DEMO_BASE_PORT + i for i in range(4)]
    try:
        return DemoSites(ports=ports, slow_seconds=SLOW_PAGE_SECONDS).start()
    except OSError:                           # a port is taken: any free ones will do
        return DemoSites(slow_seconds=SLOW_PAGE_SECONDS).start()


def demo_weeks(all_weeks: bool) -> list[str]:
    """The weeks in which every demo site published (or every week with an item)."""
    from demo.manifest import load_articles, weeks_with_all_sites

    if all_weeks:
        return sorted({a.iso_week for a in load_articles()})
    return weeks_with_all_sites()


def run_demo(out_dir: Path, *, base_config: Path | None, serve: bool, host: str = "127.0.0.1",
             port: int = 8000, all_weeks: bool = False,
             console: Console | None = None) -> DemoResult:
    console = console or Console()
    started = time.monotonic()
    out_dir = Path(out_dir)
    config_dir, data_dir = out_dir / "demo-config", out_dir / "demo-data"
    plan_file = default_plan_file(base_config)
    shutil.rmtree(data_dir, ignore_errors=True)     # the sites' ports change: start clean
    data_dir.mkdir(parents=True)
    sites = _start_sites()
    try:
        build_demo_config(config_dir, plan_file, sites)
        for site_id, url in sites.urls.items():
            log.info("demo site %s at %s", site_id, url, extra={"source": site_id, "url": url})
        context = Context(config_dir=config_dir, data_dir=data_dir)
        crawl = _crawl(context, console)
        if crawl.outcome != "ok":
            raise DemoError(f"the crawl failed: {crawl.error}")
        result = DemoResult(config_dir, data_dir, crawl, items=context.store.count())
        result.reports = _write_reports(context, out_dir, demo_weeks(all_weeks))
        result.seconds = round(time.monotonic() - started, 1)
        print_summary(console, context, result)
        if serve:
            serve_pages(context, host, port, console, result)
        return result
    finally:
        sites.stop()


def _crawl(context: Context, console: Console) -> CrawlOutcome:
    sources = list(context.sources)
    limit = float(context.settings.crawl.pass_time_limit_seconds + 60)
    message = f"Đang thu thập {len(sources)} trang demo (dophu crawl --all)…"
    log.info("crawling the %d demo sites", len(sources))
    if on_terminal():
        with console.status(message):
            return run_crawl_process(context.config_dir, context.data_dir, sources,
                                     time_limit=limit, all_sources=True)
    return run_crawl_process(context.config_dir, context.data_dir, sources,
                             time_limit=limit, all_sources=True)


def _write_reports(context: Context, out_dir: Path, weeks: list[str]
                   ) -> dict[str, WeekReport]:
    from dophu.progress import progress
    from reports.build import build_weekly

    written: dict[str, WeekReport] = {}
    with progress("weekly reports", total=len(weeks), unit="weeks") as advance:
        for week in weeks:
            report = build_weekly(context.store, context.plan, list(context.sources), week=week)
            written[week] = WeekReport(report, write_report_files(report, week, FORMATS,
                                                                  out_dir))
            advance(1)
    return written


def print_summary(console: Console, context: Context, result: DemoResult) -> None:
    """A few lines a communication officer can read: what was collected, each week's
    coverage, where the reports are."""
    crawl_rows = {r["id"]: r for r in (result.crawl.summary or {}).get("sources", [])}
    table = Table(title="Thu thập từ các trang demo", title_justify="left")
    for column in ("Nguồn", "Đơn vị", "Bài mới", "Lỗi"):
        table.add_column(column)
    for source in context.sources:
        row = crawl_rows.get(source.id, {})
        table.add_row(source.name, source.unit, str(row.get("new", 0)), str(row.get("errors", 0)))
    console.print(table)
    majors = [t for t in context.plan.themes if t.major]
    table = Table(title="Báo cáo tuần: độ phủ các chủ đề lớn", title_justify="left")
    for column in ("Tuần", "Từ – đến", "Tin bài", "Liên quan", "Chủ đề lớn có tin",
                   "Đơn vị có khoảng trống"):
        table.add_column(column)
    for week, written in result.reports.items():
        report = written.report
        covered = [t for t in report.themes if t.major and t.items > 0]
        monitored = [u for u in report.units if u.status != "not_monitored"]
        with_gaps = [u for u in monitored if u.gaps]
        table.add_row(week, f"{report.date_from:%d/%m}–{report.date_to:%d/%m/%Y}",
                      str(report.totals.items), str(report.totals.relevant),
                      f"{len(covered)}/{len(majors)}", f"{len(with_gaps)}/{len(monitored)}")
    console.print(table)
    console.print("[bold]Tệp báo cáo:[/bold]")
    for week, written in result.reports.items():
        paths = [str(p) for p in written.files.values()]
        console.print(f"  {week}: " + "  ".join(paths), highlight=False, soft_wrap=True)
    console.print(f"Đã thu thập {result.items} tin bài trong {result.seconds} giây "
                  f"(kho dữ liệu: {result.data_dir}, cấu hình: {result.config_dir}).",
                  highlight=False)


def serve_pages(context: Context, host: str, port: int, console: Console, result: DemoResult,
           stop: threading.Event | None = None) -> None:
    """Serves the web pages until Ctrl-C (or ``stop`` is set)."""
    from dophu.web_host import WebServer, build_api

    port = _free_port(host, port)
    server = WebServer(build_api(context), host, port)
    server.start()
    result.url = f"http://{host}:{port}/"
    console.print(f"[bold green]Xem kết quả trên trình duyệt: {result.url}[/bold green] "
                  "(Ctrl-C để dừng)", highlight=False)
    if result.reports:
        first = min(w.report.date_from for w in result.reports.values())
        last = max(w.report.date_to for w in result.reports.values())
        console.print(f"Nhãn cần xem lại (điểm sát ngưỡng): {result.url}review?from="
                      f"{first:%Y-%m-%d}&to={last:%Y-%m-%d}", highlight=False, markup=False)
    token = context.settings.api.tokens.get("demo")
    if token:
        console.print(f"Mã đăng nhập (để xác nhận hay loại nhãn): {token}", highlight=False,
                      markup=False)
    stop = stop or threading.Event()
    try:
        while server.alive and not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        console.print("Đã dừng.")



__all__ = ["DEMO_CRAWL_SETTINGS", "DemoError", "DemoResult", "build_demo_config",
           "WeekReport", "demo_weeks", "run_demo", "serve_pages"]
