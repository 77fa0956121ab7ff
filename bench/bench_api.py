"""The search endpoint under load: ``GET /api/items?q=...`` at 8 connections.

Run: ``.venv/bin/python -m bench --only api``. ``dophu serve`` runs in a child
process (uvicorn, one worker, 127.0.0.1, a free port) on the 153k store; an
httpx async client in this process keeps 8 connections busy with the search
stage's 200 queries, round robin, for a fixed time. Both share the machine's two
cores, as they would on a one-box install. Every request stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.bench_store import build_queries
from bench.common import REPO, Row, percentile
from bench.workspace import Workspace
from store.base import SearchQuery

CONNECTIONS = 8
RATE_TARGET = 200.0
P95_TARGET_MS = 100.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def query_params(query: SearchQuery) -> dict[str, Any]:
    params: dict[str, Any] = {"size": query.size}
    if query.text:
        params["q"] = query.text
    if query.sources:
        params["source"] = query.sources
    if query.date_from:
        params["from"] = query.date_from.isoformat()
    if query.date_to:
        params["to"] = query.date_to.isoformat()
    if query.sort != "relevance":
        params["sort"] = query.sort
    return params


def start_server(ws: Workspace, port: int, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "dophu.cli", "--config", str(ws.config_dir),
         "--data", str(ws.corpus_data_dir), "serve", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=REPO, stdout=handle, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO)})


def wait_ready(base: str, server: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"dophu serve exited ({server.returncode}):\n"
                               f"{log.read_text()[-2000:]}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"dophu serve did not answer /healthz in {timeout:.0f} s")


async def load(base: str, params: list[dict[str, Any]], seconds: float,
               max_requests: int) -> tuple[list[float], dict[int, int], float]:
    """(latencies in ms, count per status, elapsed seconds) for CONNECTIONS workers."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        deadline = started + seconds
        counter = iter(range(max_requests))

        async def worker() -> None:
            for n in counter:
                if time.perf_counter() > deadline:
                    return
                t0 = time.perf_counter()
                response = await client.get("/api/items", params=params[n % len(params)])
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        elapsed = time.perf_counter() - started
    return latencies, statuses, elapsed


def run_api(ws: Workspace) -> list[Row]:
    ws.corpus_store()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = ws.root / "serve.log"
    server = start_server(ws, port, log)
    try:
        wait_ready(base, server, log)
        params = [query_params(q) for q in build_queries()]
        asyncio.run(load(base, params[:40], 3.0, 40))          # warm up
        seconds = 6.0 if ws.quick else 20.0
        latencies, statuses, elapsed = asyncio.run(load(base, params, seconds, 50_000))
        rss_mb = psutil.Process(server.pid).memory_info().rss / 1e6
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    rate = len(latencies) / elapsed
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    ok = statuses.get(200, 0) == len(latencies)
    return [Row("API search", f"GET /api/items?q=… ({len(params)} queries round robin), "
                f"{CONNECTIONS} connections, {elapsed:.0f} s, uvicorn via dophu serve",
                round(rate, 1), f"req/s, p95 {p95:.0f} ms", None, "",
                f"≥ {RATE_TARGET:.0f} req/s, p95 ≤ {P95_TARGET_MS:.0f} ms",
                ok and rate >= RATE_TARGET and p95 <= P95_TARGET_MS,
                {"requests": len(latencies), "statuses": statuses, "p50_ms": round(p50, 1),
                 "p95_ms": round(p95, 1), "max_ms": round(max(latencies), 1),
                 "server_rss_mb": round(rss_mb)},
                command="python -m bench --only api")]
