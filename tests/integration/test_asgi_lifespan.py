"""The example ASGI app (docs/examples/asgi_app.py) migrates in its lifespan."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.integration.test_runtime import snapshot
from tests.projects import linear, make_project

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "asgi_app.py"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLE)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


async def get(app: Any, path: str) -> tuple[int, Any]:
    """A minimal ASGI client: one GET request."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [],
        "scheme": "http",
        "server": ("test", 80),
        "client": ("test", 1),
        "root_path": "",
        "http_version": "1.1",
    }
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body)


async def test_lifespan_upgrades_with_the_apps_engine(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path, db_url, *linear(3))
    monkeypatch.setenv("AMIGRATE_CONFIG", str(project.ini))
    example = load_example(f"asgi_app_{tmp_path.name}")
    app = example.app
    async with app.router.lifespan_context(app):
        assert app.state.schema_heads == ("r003",)
        assert await get(app, "/health") == (200, {"schema": ["r003"]})
    assert (await snapshot(db_url))[1] == ["r003"]


async def test_replicas_starting_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three app instances in one process start at once; the history is applied once."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    project = make_project(tmp_path, url, *linear(3))
    monkeypatch.setenv("AMIGRATE_CONFIG", str(project.ini))
    apps = [load_example(f"asgi_replica_{i}_{tmp_path.name}").app for i in range(3)]

    async def start(app: Any) -> None:
        async with app.router.lifespan_context(app):
            assert app.state.schema_heads == ("r003",)

    await asyncio.gather(*(start(app) for app in apps))
    assert (await snapshot(url))[1] == ["r003"]
