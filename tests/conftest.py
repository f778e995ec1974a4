"""Shared fixtures: a fresh database per test on SQLite, PostgreSQL and MariaDB/MySQL.

SQLite (a file in the test's tmp_path) is always available. PostgreSQL and
MariaDB/MySQL are used when ``AMIGRATE_TEST_POSTGRES_URL`` /
``AMIGRATE_TEST_MYSQL_URL`` name a server; each test then gets a database of
its own, created before and dropped after. Without the variable the test is
skipped and says why; with ``AMIGRATE_REQUIRE_SERVERS=1`` that skip is a
failure instead, so CI cannot pass without the servers.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

# Tests rewrite env.py and revision files and run them again within the same second,
# often with the same size (String(20) -> String(40)). Python trusts a cached .pyc
# whose recorded source mtime (whole seconds) and size match, so it would run the old
# code. No bytecode is written, here or in the processes the tests start.
sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"

BACKENDS = ("sqlite", "postgresql", "mysql")
_ENV = {"postgresql": "AMIGRATE_TEST_POSTGRES_URL", "mysql": "AMIGRATE_TEST_MYSQL_URL"}


def run_async(fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine function to completion on a private loop in a thread.

    Fixtures use this so that they work the same under sync and async tests
    (an async test's loop is already running in this thread).
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(fn()))
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def require_server(backend: str) -> str:
    """The server URL for *backend*, or skip (fail under AMIGRATE_REQUIRE_SERVERS=1)."""
    variable = _ENV[backend]
    url = os.environ.get(variable)
    if url:
        return url
    reason = f"{backend} tests need a server: set {variable} (see README.md)"
    if os.environ.get("AMIGRATE_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{reason}; AMIGRATE_REQUIRE_SERVERS=1 forbids skipping")
    pytest.skip(reason)


async def _admin(url: str, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _server_database(backend: str) -> Iterator[str]:
    from sqlalchemy.engine import make_url

    if backend == "mysql":
        try:
            import asyncmy  # noqa: F401
        except ImportError:
            if os.environ.get("AMIGRATE_REQUIRE_SERVERS") == "1":
                pytest.fail("asyncmy is not installed; pip install -e '.[test,mysql]'")
            pytest.skip("mysql tests need asyncmy: pip install -e '.[test,mysql]'")
    base = require_server(backend)
    name = f"amigrate_test_{uuid.uuid4().hex[:12]}"
    run_async(lambda: _admin(base, f"CREATE DATABASE {name}"))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        drop = f"DROP DATABASE IF EXISTS {name}"
        if backend == "postgresql":
            drop += " WITH (FORCE)"
        run_async(lambda: _admin(base, drop))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL for a new SQLite file in this test's folder."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    """A URL for a new PostgreSQL database, dropped after the test."""
    yield from _server_database("postgresql")


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """A URL for a new MariaDB/MySQL database, dropped after the test."""
    yield from _server_database("mysql")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh database on each backend in turn (sqlite, postgresql, mysql)."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def second_db_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """Another fresh database on *db_url*'s backend, to compare two ways of migrating."""
    if db_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'second.db'}"
        return
    yield from _server_database("postgresql" if db_url.startswith("postgresql") else "mysql")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Mark server tests, so `-m "not postgresql"` can leave them out.
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        fixtures = getattr(item, "fixturenames", ())
        for backend in ("postgresql", "mysql"):
            if f"{backend}_url" in fixtures or params.get("db_url") == backend:
                item.add_marker(getattr(pytest.mark, backend))
