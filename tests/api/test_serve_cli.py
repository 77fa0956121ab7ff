"""``dophu serve``: the real command, in a process of its own, answering on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from store import open_store
from tests.api.api_fixture import DAI_HOI, TOKENS_ENV, fill, write_config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dophu(config: Path, data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "dophu.cli", "--config", str(config), "--data", str(data),
            *args]


def _env(tokens: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ELASTICSEARCH_URL"}
    env["DOPHU_API_TOKENS"] = tokens
    return env


def test_serve_answers_on_the_given_host_and_port(tmp_path):
    config, data = write_config(tmp_path / "config"), tmp_path / "data"
    store = open_store(data)
    fill(store)
    store.close()
    port = _free_port()
    process = subprocess.Popen(
        _dophu(config, data, "serve", "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning"),
        env=_env(TOKENS_ENV), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "dophu serve did not answer in 60 s"
                time.sleep(0.2)
        assert health.json() == {"status": "ok", "items": 5}
        assert "server" not in health.headers
        page = httpx.get(f"{base}/?q=dai+hoi+dang", timeout=10)
        assert page.status_code == 200 and f'href="/items/{DAI_HOI.id}"' in page.text
        assert httpx.get(f"{base}/openapi.json", timeout=10).json()["info"]["title"] == (
            "dophu — độ phủ")
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert f"serving http://127.0.0.1:{port}/" in stderr


def test_serve_refuses_malformed_tokens_with_exit_2(tmp_path):
    config, data = write_config(tmp_path / "config"), tmp_path / "data"
    result = subprocess.run(_dophu(config, data, "serve", "--port", str(_free_port())),
                            env=_env("an-without-a-token"), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "dophu: error: DOPHU_API_TOKENS: entry 1 is not 'name:token'")
