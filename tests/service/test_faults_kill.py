"""kill -9 in the middle of an import and of a report: the next start finds an intact store
(``PRAGMA integrity_check``), no duplicated item, whole report files, and finishes the work.
(kill -9 during a crawl is in test_run_demo.py, against the demo sites.)"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from openpyxl import load_workbook

from dophu.dates import LOCAL_TZ, parse_iso_week
from dophu.settings import ServiceSettings
from dophu.weekly_job import last_due_moment, week_reported_at
from tests.service.conftest import (
    LineReader,
    ServiceEnv,
    article_rows,
    kill_group,
    write_jsonl,
)

COPIES = 16          # 125 demo articles × 16 = 2000 rows: a few store batches of 500


def many_rows() -> list[dict]:
    rows = []
    for copy in range(COPIES):
        for row in article_rows():
            rows.append({**row, "url": f"{row['url']}?copy={copy}",
                         "title": f"{row['title']} ({copy})"})
    return rows


def test_kill_during_import_then_import_again(env: ServiceEnv, tmp_path: Path) -> None:
    rows = many_rows()
    path = write_jsonl(tmp_path / "big.jsonl", rows)
    child = env.popen("import", str(path))
    assert child.stderr is not None
    log = LineReader(child.stderr)
    # plain progress lines (stderr is not a terminal): wait until two batches are stored
    log.wait_for(r"importing big\.jsonl: (1[1-9]\d\d|[2-9]\d\d\d)/2000 rows", timeout=180)
    kill_group(child)
    assert env.integrity() == "ok"
    stored = len(env.items())
    assert stored < len(rows)                          # it was killed before the end

    done = env.run("import", str(path), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["read"] == len(rows) and report["rejected"] == []
    assert report["new"] == len(rows) - stored
    items = env.items()
    assert len(items) == len(rows)
    assert len({url for _, url, _ in items}) == len(rows)       # no URL twice
    assert env.integrity() == "ok"


def _check_whole(path: Path) -> None:
    """A report file is whole: it parses in its format."""
    if path.suffix == ".json":
        assert json.loads(path.read_text(encoding="utf-8"))["week"]
    elif path.suffix == ".xlsx":
        assert zipfile.is_zipfile(path)
        assert load_workbook(path, read_only=True).sheetnames
    elif path.suffix == ".html":
        assert path.read_text(encoding="utf-8").rstrip().endswith("</html>")
    else:
        assert path.read_text(encoding="utf-8").strip()


def rows_in_due_week() -> tuple[str, list[dict]]:
    """The demo articles re-dated into the week whose report is due now (so the report the
    service writes on start has content and takes a moment to render)."""
    settings = ServiceSettings()
    week = week_reported_at(last_due_moment(settings, datetime.now(UTC)))
    monday, _ = parse_iso_week(week)
    rows = []
    for n, row in enumerate(article_rows()):
        day = datetime.combine(monday + timedelta(days=n % 7), time(8 + n % 10),
                               tzinfo=LOCAL_TZ)
        rows.append({**row, "published_at": day.isoformat()})
    return week, rows


def test_kill_during_report_then_restart(env: ServiceEnv, tmp_path: Path) -> None:
    week, rows = rows_in_due_week()
    done = env.run("import", str(write_jsonl(tmp_path / "week.jsonl", rows)))
    assert done.returncode == 0, done.stderr
    child = env.popen("run", "--once")
    assert child.stderr is not None
    log = LineReader(child.stderr)
    log.wait_for(rf"writing the weekly report {week} \(html\)", timeout=120, every=0.01)
    kill_group(child)
    reports = env.data / "reports"
    finished = [p for p in reports.glob("*") if not p.name.startswith(".")]
    for path in finished:                     # whatever was renamed into place is whole
        _check_whole(path)
    assert len(finished) < 4
    assert env.integrity() == "ok"

    done = env.run("run", "--once")
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in reports.iterdir())
    assert names == sorted(f"dophu-{week}.{ext}" for ext in ("html", "xlsx", "md", "json"))
    for path in reports.iterdir():            # no half-written temporary file left either
        _check_whole(path)
    status = env.status()
    assert sorted({r["format"] for r in status["reports"] if r["week"] == week}) == [
        "html", "json", "md", "xlsx"]
    done = env.run("run", "--once")           # and it is not written a second time
    assert done.returncode == 0 and "weekly reports written: none due" in done.stderr
