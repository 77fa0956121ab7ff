"""Structured logs (plain or JSON lines on stderr, source and URL on crawl lines) and progress
(a bar on a terminal, log lines elsewhere)."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from dophu.config import Source
from dophu.crawl_runner import _Relay
from dophu.logs import (
    JsonFormatter,
    SourceMatcher,
    TextFormatter,
    fields_of_line,
    setup_logging,
    source_log,
)
from dophu.progress import Progress
from tests.conftest import REPO
from tests.service.conftest import ServiceEnv, article_rows, write_jsonl

SITE = Source(id="bao-demo", name="Báo", unit="bao-can-tho", kind="newspaper",
              home="http://127.0.0.1:8701/", feeds=["http://127.0.0.1:8701/rss/thoi-su.rss"])
OTHER = Source(id="dai-demo", name="Đài", unit="dai-ptth-can-tho", kind="broadcaster",
               home="http://127.0.0.1:8702/")


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("dophu.crawl", logging.WARNING, __file__, 1, msg, (), None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_formatter_keeps_the_fields() -> None:
    line = JsonFormatter().format(_record("trang lỗi", source="bao-demo",
                                          url="http://127.0.0.1:8701/a.html", attempt=2))
    document = json.loads(line)
    assert document["level"] == "warning" and document["logger"] == "dophu.crawl"
    assert document["msg"] == "trang lỗi" and document["attempt"] == 2
    assert document["source"] == "bao-demo" and document["url"].endswith("/a.html")
    assert document["ts"].endswith("+00:00")
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    assert "ValueError: boom" in json.loads(JsonFormatter().format(record))["exc"]


def test_text_formatter_puts_fields_on_the_first_line() -> None:
    line = TextFormatter().format(_record("Error downloading\nTraceback ...", source="x",
                                          url="http://h/"))
    first, rest = line.split("\n", 1)
    assert first.endswith("Error downloading [source=x url=http://h/]") and rest
    assert "WARNING dophu.crawl:" in first


def test_source_log_adds_source_and_url(caplog: pytest.LogCaptureFixture) -> None:
    log = source_log(logging.getLogger("crawlers.test"), "bao-demo")
    with caplog.at_level(logging.INFO):
        log.info("fetched", extra={"url": "http://127.0.0.1:8701/x"})
    assert caplog.records[-1].source == "bao-demo"
    assert caplog.records[-1].url == "http://127.0.0.1:8701/x"


def test_child_lines_become_fields() -> None:
    matcher = SourceMatcher([SITE, OTHER])
    scrapy = ("2025-05-05 07:00:01 [scrapy.core.scraper] ERROR: Error downloading "
              "<GET http://127.0.0.1:8702/video/1.html>")
    fields = fields_of_line(scrapy, matcher)
    assert fields["source"] == "dai-demo" and fields["url"].endswith("/video/1.html")
    assert fields["level"] == "error" and fields["logger"] == "scrapy.core.scraper"
    assert fields["msg"].startswith("Error downloading")
    own = fields_of_line(json.dumps({"level": "warning", "msg": "x", "source": "bao-demo",
                                     "url": "http://127.0.0.1:8701/"}), matcher)
    assert own["source"] == "bao-demo" and own["level"] == "warning"
    plain = fields_of_line("no url here", matcher, default_source="bao-demo")
    assert plain == {"msg": "no url here", "source": "bao-demo"}


def test_relay_groups_a_traceback_and_names_source_and_url() -> None:
    lines = [
        "2025-05-05 07:00:01 [scrapy.core.scraper] ERROR: Error downloading "
        "<GET http://127.0.0.1:8701/tin/1.html>",
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        "twisted.internet.error.TimeoutError: User timeout caused connection failure.",
        "2025-05-05 07:00:02 [scrapy.core.engine] INFO: Closing spider (finished)",
    ]
    stream = io.BytesIO(("\n".join(lines) + "\n").encode())
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    crawl_log = logging.getLogger("dophu.crawl")
    crawl_log.addHandler(handler)
    old_level = crawl_log.level
    crawl_log.setLevel(logging.INFO)
    try:
        relay = _Relay(stream, SourceMatcher([SITE, OTHER]), [SITE, OTHER])
        relay.run()
    finally:
        crawl_log.removeHandler(handler)
        crawl_log.setLevel(old_level)
    records = [json.loads(line) for line in handler.stream.getvalue().splitlines()]
    assert len(records) == 2
    error, closing = records
    assert error["level"] == "error" and error["source"] == "bao-demo"
    assert error["url"] == "http://127.0.0.1:8701/tin/1.html"
    assert "TimeoutError" in error["msg"] and error["child_logger"] == "scrapy.core.scraper"
    # a line of the whole pass: the pass's sources, no URL of its own
    assert closing["source"] == "bao-demo,dai-demo" and closing["level"] == "info"


def test_setup_logging_twice_keeps_one_handler() -> None:
    root = logging.getLogger()
    setup_logging(True)
    setup_logging(False)
    assert len([h for h in root.handlers if getattr(h, "_dophu", False)]) == 1


@pytest.mark.parametrize("how", ["option", "env"])
def test_import_logs_json_lines_with_progress(env: ServiceEnv, tmp_path: Path,
                                              how: str) -> None:
    rows = write_jsonl(tmp_path / "rows.jsonl", article_rows(40))
    if how == "option":
        done = env.run("--log-json", "import", str(rows), "--json")
    else:
        done = env.run("import", str(rows), "--json",
                       env=ServiceEnv.environment(DOPHU_LOG_FORMAT="json"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["new"] == 40              # stdout: the one JSON document
    records = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    progress = [r for r in records if r["logger"] == "dophu.progress"]
    assert progress and progress[-1]["done"] == 40 and progress[-1]["total"] == 40
    assert "finished" in progress[-1]["msg"]


def test_import_progress_plain_lines_off_a_terminal(env: ServiceEnv, tmp_path: Path) -> None:
    rows = write_jsonl(tmp_path / "rows.jsonl", article_rows(30))
    done = env.run("import", str(rows))
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "dophu.progress" in line]
    assert any("importing rows.jsonl: 30/30 rows (100%)" in line for line in lines)
    assert "\x1b[" not in done.stderr                         # no terminal codes


def test_import_progress_bar_on_a_terminal(env: ServiceEnv, tmp_path: Path) -> None:
    rows = write_jsonl(tmp_path / "rows.jsonl", article_rows(30))
    leader, follower = pty.openpty()
    try:
        child = subprocess.Popen(env.command("import", str(rows)), stdout=subprocess.PIPE,
                                 stderr=follower, stdin=subprocess.DEVNULL, cwd=REPO,
                                 env=ServiceEnv.environment(TERM="xterm", COLUMNS="120"))
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        assert child.wait(timeout=120) == 0
    finally:
        os.close(leader)
    text = output.decode("utf-8", "replace")
    assert "importing rows.jsonl" in text and "30/30" in text
    assert "━" in text                                         # rich's bar
    assert "dophu.progress" not in text                        # not the plain log line


def test_progress_counts_and_reports_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    with (caplog.at_level(logging.INFO, logger="dophu.progress"),
          pytest.raises(RuntimeError),
          Progress("copying", total=10, bar=False, every_seconds=3600) as advance):
        for _ in range(4):
            advance(1)
        raise RuntimeError("disk gone")
    messages = [r.getMessage() for r in caplog.records if r.name == "dophu.progress"]
    assert messages[0].startswith("copying: 1/10 items (10%)")
    assert messages[-1].startswith("copying: stopped by an error, 4 items")
