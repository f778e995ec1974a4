"""Engines and URLs: async drivers, clear errors, passwords masked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from amigrate.config import mask_url
from amigrate.errors import ConfigError
from amigrate.runtime.connect_errors import connect_error
from amigrate.runtime.literals import OfflineLiterals

__all__ = ["async_url", "connect_error", "dialect_for", "make_engine"]  # connect_error re-exported

# A URL without a driver gets the async driver amigrate ships with.
_ASYNC_DEFAULTS = {
    "postgresql": "asyncpg",
    "sqlite": "aiosqlite",
    "mysql": "asyncmy",
    "mariadb": "asyncmy",
}
_ASYNC_DRIVERS = {"asyncpg", "psycopg", "aiosqlite", "asyncmy", "aiomysql", "psycopg_async"}


def async_url(url: str) -> URL:
    """Parse *url*, giving a driverless URL its async driver; refuse a sync driver."""
    try:
        parsed = sa.make_url(url)
        parsed.port  # noqa: B018 - a port that is not a number fails here, not when connecting
    except (sa.exc.ArgumentError, ValueError):
        raise ConfigError(
            f"the database URL {mask_url(url)!r} cannot be parsed",
            # (No "user:password@" here: the CLI masks that in every line it prints.)
            hint="write it as dialect+driver://user@host:port/database, a password after "
            "the user and a colon, e.g. postgresql+asyncpg://app@localhost:5432/app or "
            "sqlite+aiosqlite:///app.db",
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if not driver and backend in _ASYNC_DEFAULTS:
        return parsed.set(drivername=f"{backend}+{_ASYNC_DEFAULTS[backend]}")
    if driver and driver not in _ASYNC_DRIVERS:
        suggestion = _ASYNC_DEFAULTS.get(backend)
        if suggestion is None:
            raise _unknown_dialect(parsed)
        what = "the sync driver" if driver in _SYNC_DRIVERS else "the unknown driver"
        raise ConfigError(
            f"the database URL uses {what} {driver!r}; amigrate needs an async driver",
            hint=f"write {backend}+{suggestion}://...",
        )
    return parsed


#: SQLAlchemy's drivers of the three databases that are not asyncio ones.
_SYNC_DRIVERS = {
    "psycopg2",
    "psycopg2cffi",
    "pg8000",
    "pygresql",
    "pysqlite",
    "pysqlcipher",
    "pymysql",
    "mysqldb",
    "mysqlconnector",
    "mariadbconnector",
    "cymysql",
    "pyodbc",
}


def _unknown_dialect(parsed: URL) -> ConfigError:
    return ConfigError(
        f"unknown database dialect {parsed.drivername!r} in {mask_url(str(parsed))}",
        hint="use postgresql+asyncpg, sqlite+aiosqlite or mysql+asyncmy",
    )


def dialect_for(url: str) -> Dialect:
    """The dialect of *url*, without connecting (for offline SQL)."""
    parsed = async_url(url)
    try:
        dialect_cls = parsed.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise _unknown_dialect(parsed) from None
    # A driver whose paramstyle is format/pyformat (asyncmy, psycopg) has SQLAlchemy
    # write each % of the SQL as %%, for the driver to undo; offline nothing undoes it.
    dialect: Dialect = cast("type[DefaultDialect]", dialect_cls)(paramstyle="named")
    base = dialect.statement_compiler
    dialect.statement_compiler = type(f"Offline{base.__name__}", (OfflineLiterals, base), {})
    return dialect


def make_engine(url: str, options: Mapping[str, Any] | None = None) -> AsyncEngine:
    """An engine for *url* that keeps no pool (amigrate's own engines are short-lived)."""
    parsed = async_url(url)
    kwargs = {"poolclass": NullPool, **dict(options or {})}
    try:
        return create_async_engine(parsed, **kwargs)
    except sa.exc.NoSuchModuleError:
        raise _unknown_dialect(parsed) from None
    except ImportError as exc:
        # asyncmy comes with amigrate's mysql extra; any other driver by its own name.
        package = "'amigrate[mysql]'" if exc.name == "asyncmy" else exc.name
        raise ConfigError(
            f"the driver for {parsed.drivername} is not installed: {exc}",
            hint=f"install it (pip install {package})" if package else "install it",
        ) from None
    except (TypeError, ValueError, sa.exc.ArgumentError) as exc:  # ValueError: echo = maybe
        raise ConfigError(
            f"cannot create the engine: {exc}",
            hint="check the config's sqlalchemy.* keys and env.py's engine_options",
        ) from None
