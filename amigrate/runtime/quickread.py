"""Read the version table straight through the driver, without SQLAlchemy.

``amigrate current`` and ``upgrade --plan`` only need the rows of one small
table; importing SQLAlchemy's engine and async layers costs more than the rest
of those commands together. When nothing in env.py needs a SQLAlchemy
connection (no ``on_connect``, ``create_engine`` or ``engine_options``) and the
URL is a plain one of the three supported drivers, the CLI reads the rows here;
otherwise it takes the ordinary path. Read-only: a SQLite file that does not
exist is not created, and no table is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from amigrate.runtime.connect_errors import connect_error, database_error, is_database_error

__all__ = ["PlainURL", "parse_plain_url", "read_heads", "read_sqlite_heads"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


@dataclass(frozen=True)
class PlainURL:
    """The parts of a database URL that a driver's connect() takes."""

    backend: str
    driver: str
    username: str | None
    password: str | None
    host: str | None
    port: int | None
    database: str | None


def parse_plain_url(url: str) -> PlainURL | None:
    """Split *url*; None when it carries anything a plain connect would ignore (query options)."""
    match = re.match(r"^([A-Za-z0-9_]+)(?:\+([A-Za-z0-9_]+))?://(.*)$", url)
    if match is None:
        return None
    backend, driver, rest = match.group(1), match.group(2) or "", match.group(3)
    if backend == "sqlite":
        path, _, query = rest.partition("?")
        if query or not path.startswith("/") or path == "/:memory:":
            return None
        return PlainURL("sqlite", driver, None, None, None, None, unquote(path[1:]))
    try:
        parts = urlsplit(f"//{rest}")
    except ValueError:  # (an unclosed IPv6 bracket): the full path says what is wrong
        return None
    if parse_qsl(parts.query) or parts.fragment:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    database = unquote(parts.path.lstrip("/")) or None
    return PlainURL(
        backend,
        driver,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        parts.hostname,
        port,
        database,
    )


def _usable(url: str, tables: tuple[str, str], schema: str | None) -> PlainURL | None:
    plain = parse_plain_url(url)
    if plain is None or not all(_IDENT.fullmatch(t) for t in tables):
        return None
    if schema and not _IDENT.fullmatch(schema):
        return None
    return plain


def read_sqlite_heads(
    url: str, tables: tuple[str, str], schema: str | None
) -> tuple[str, ...] | None:
    """The rows of a SQLite version table, without an event loop; None if not handled here.

    *tables* are the version table and the history table: where the history's newest row
    records a failure, the ordinary path reads the database (it reports the failure).
    """
    plain = _usable(url, tables, schema)
    if plain is None or plain.backend != "sqlite" or plain.driver not in ("", "aiosqlite"):
        return None
    if schema:
        return None
    return _sqlite(plain.database or "", tables)


async def read_heads(
    url: str, tables: tuple[str, str], schema: str | None
) -> tuple[str, ...] | None:
    """The version table's rows, sorted; ``()`` for a SQLite file that does not exist; None
    if not handled here (see :func:`read_sqlite_heads`), which includes a database without
    the version table (the ordinary path says what Alembic's table holds, if it is there)."""
    plain = _usable(url, tables, schema)
    if plain is None:
        return None
    if plain.backend == "sqlite":
        return read_sqlite_heads(url, tables, schema)
    if plain.backend == "postgresql" and plain.driver in ("", "asyncpg"):
        return await _postgresql(plain, tables, schema, url)
    return None


_NEWEST_STATUS = "SELECT status FROM {} ORDER BY id DESC LIMIT 1"
#: history.UNFINISHED (not imported: that module imports SQLAlchemy).
UNFINISHED = ("failed", "running")


def _sqlite(path: str, tables: tuple[str, str]) -> tuple[str, ...] | None:
    import os
    import sqlite3
    from urllib.parse import quote

    if not os.path.exists(path):
        return ()
    table, history = tables
    conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
    try:
        found = {
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)", tables
            )
        }
        if history in found:
            newest = conn.execute(_NEWEST_STATUS.format(f'"{history}"')).fetchone()
            if newest is not None and newest[0] in UNFINISHED:
                return None
        if table not in found:
            alembic = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            # (the ordinary path looks in Alembic's table, and says what it holds)
            return None if alembic is not None else ()
        rows = conn.execute(f'SELECT version_num FROM "{table}"').fetchall()
        return tuple(sorted(str(r[0]) for r in rows))
    finally:
        conn.close()


async def _postgresql(
    plain: PlainURL, tables: tuple[str, str], schema: str | None, url: str
) -> tuple[str, ...] | None:
    import asyncpg

    try:
        conn = await asyncpg.connect(
            host=plain.host,
            port=plain.port,
            user=plain.username,
            password=plain.password,
            database=plain.database,
        )
    except OSError as exc:  # refused, unreachable
        raise connect_error(url, exc) from None
    except Exception as exc:
        if type(exc).__module__.startswith("asyncpg"):  # authentication, no database
            raise connect_error(url, exc) from None
        raise
    try:
        return await _read_rows(conn, tables, schema)
    except Exception as exc:
        if is_database_error(exc):  # connected, then refused: a privilege, say
            raise database_error(exc, url) from None
        raise
    finally:
        await conn.close()


async def _read_rows(
    conn: Any, tables: tuple[str, str], schema: str | None
) -> tuple[str, ...] | None:
    table, history = (f'"{schema}"."{t}"' if schema else f'"{t}"' for t in tables)
    exists = await conn.fetchrow(
        "SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL", table, history
    )
    if exists[1] and await conn.fetchval(_NEWEST_STATUS.format(history)) in UNFINISHED:
        return None
    if not exists[0]:
        alembic = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relname = 'alembic_version'"
            " AND relkind IN ('r', 'p'))"
        )
        # (the ordinary path looks in Alembic's table, and says what it holds)
        return None if alembic else ()
    rows = await conn.fetch(f"SELECT version_num FROM {table}")
    return tuple(sorted(str(r[0]) for r in rows))
