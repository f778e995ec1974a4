"""One-line database errors with the password masked (no SQLAlchemy needed)."""

from __future__ import annotations

import sys
from urllib.parse import parse_qs, unquote, urlsplit

from amigrate.config import mask_url
from amigrate.errors import DatabaseError

__all__ = ["connect_error", "database_error", "is_database_error"]

_DRIVERS = frozenset({"asyncpg", "asyncmy", "aiomysql", "aiosqlite", "sqlite3", "psycopg"})

_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "sslpassword"})


def _passwords(url: str) -> list[str]:
    """The passwords in *url*: its userinfo's (with or without a scheme) and its query's."""
    _, sep, rest = url.partition("://")
    try:
        parts = urlsplit(f"//{rest if sep else url}")
        found = [parts.password or ""]
        query = parse_qs(parts.query)
    except ValueError:
        return []
    for key, values in query.items():
        if key.lower() in _QUERY_KEYS:
            found += values
    return [unquote(p) for p in found if p]


def connect_error(url: str, exc: BaseException) -> DatabaseError:
    """A one-line error for a failed connection; the password appears nowhere in it."""

    orig = getattr(exc, "orig", None) or exc
    detail = " ".join(str(orig).split()) or type(orig).__name__
    for password in _passwords(url):
        detail = detail.replace(password, "***")
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.TimeoutError):  # the pool, not the server
        return DatabaseError(
            f"no connection to {mask_url(url)} came free in the engine's pool: "
            f"{mask_url(detail.split(' (Background')[0])}",
            hint="amigrate takes two connections from the engine (one holds the migration "
            "lock): give its pool room for two (pool_size / max_overflow)",
        )
    return DatabaseError(
        f"cannot connect to {mask_url(url)}: {mask_url(detail)}",
        hint="check that the server is running and the URL's host, port, user, password "
        "and database",
    )


def is_database_error(exc: BaseException) -> bool:
    """Whether *exc* is the database's (or its driver's) answer, not a bug of amigrate's."""

    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError):
        return True
    return type(exc).__module__.split(".")[0] in _DRIVERS


def database_error(exc: BaseException, url: str | None = None) -> DatabaseError:
    """A one-line error for what the database refused outside a migration step
    (a missing privilege, a missing schema), the password appearing nowhere in it."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    detail = lines[0].strip() if lines else type(orig).__name__
    for password in _passwords(url or ""):
        detail = detail.replace(password, "***")
    where = f" ({mask_url(url)})" if url else ""
    if _busy(orig, detail):
        hint = (
            "another session held a lock amigrate needed, or the connection was lost: "
            "run the command again"
        )
    elif detail.startswith("file is not a database"):
        hint = "the URL names a file that is not a SQLite database: check its path"
    else:
        hint = (
            "check that the database user may read and write amigrate's tables and their "
            "schema (version_table, version_table_schema), then run the command again"
        )
    return DatabaseError(f"the database{where} refused: {mask_url(detail)}", hint=hint)


#: SQLSTATEs / MySQL errors of a lock or timeout, not of a privilege.
_BUSY_STATES = frozenset({"55P03", "57014", "40P01", "40001", "08006", "08003"})
_BUSY_MYSQL = frozenset({1205, 1213, 2006, 2013})


def _busy(orig: BaseException, detail: str) -> bool:
    """Whether *orig* is a lock wait, a timeout, a deadlock or a lost connection."""
    if getattr(orig, "sqlstate", None) in _BUSY_STATES:
        return True
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _BUSY_MYSQL:
        return True
    return detail.startswith(("database is locked", "database table is locked"))
