"""Fixtures for the API tests: a config dir (the repo's plan and sources, test tokens), a
store filled with hand-built items, the app and a TestClient on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from dophu.context import Context
from store import open_store
from tests.api.api_fixture import TOKEN_AN, TOKEN_BINH, TOKENS_ENV, fill, write_config

AppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppFactory]:
    """Builds an app over the filled store; keyword arguments change the API settings."""
    monkeypatch.setenv("DOPHU_API_TOKENS", TOKENS_ENV)
    monkeypatch.delenv("ELASTICSEARCH_URL", raising=False)
    data_dir = tmp_path / "data"
    store = open_store(data_dir)
    fill(store)
    store.close()
    contexts: list[Context] = []

    def build(**settings: object) -> FastAPI:
        config_dir = write_config(tmp_path / f"config-{len(contexts)}", **settings)  # type: ignore[arg-type]
        context = Context(config_dir=config_dir, data_dir=data_dir)
        contexts.append(context)
        return create_app(context)

    yield build
    for context in contexts:
        context.close()


@pytest.fixture
def app(make_app: AppFactory) -> FastAPI:
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def an() -> dict[str, str]:
    """The bearer header of the token named "an" (from settings.yaml)."""
    return {"Authorization": f"Bearer {TOKEN_AN}"}


@pytest.fixture
def binh() -> dict[str, str]:
    """The bearer header of the token named "binh" (from DOPHU_API_TOKENS)."""
    return {"Authorization": f"Bearer {TOKEN_BINH}"}
