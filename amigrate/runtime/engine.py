"""Engines and URLs: async drivers, clear errors, passwords masked."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.sqltypes import _AbstractInterval

from amigrate.config import mask_url
from amigrate.errors import ConfigError
from amigrate.runtime.connect_errors import connect_error

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
        raise ConfigError(
            f"the database URL uses the sync driver {driver!r}; amigrate needs an async driver",
            hint=f"write {backend}+{suggestion}://..." if suggestion else "use an asyncio driver",
        )
    return parsed


def dialect_for(url: str) -> Dialect:
    """The dialect of *url*, without connecting (for offline SQL)."""
    parsed = async_url(url)
    try:
        dialect_cls = parsed.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise ConfigError(
            f"unknown database dialect {parsed.drivername!r} in {mask_url(str(parsed))}",
            hint="use postgresql+asyncpg, sqlite+aiosqlite or mysql+asyncmy",
        ) from None
    # A driver whose paramstyle is format/pyformat (asyncmy, psycopg) has SQLAlchemy
    # write each % of the SQL as %%, for the driver to undo; offline nothing undoes it.
    dialect: Dialect = cast("type[DefaultDialect]", dialect_cls)(paramstyle="named")
    base = dialect.statement_compiler
    dialect.statement_compiler = type(f"Offline{base.__name__}", (_OfflineLiterals, base), {})
    return dialect


def make_engine(url: str, options: Mapping[str, Any] | None = None) -> AsyncEngine:
    """An engine for *url* that keeps no pool (amigrate's own engines are short-lived)."""
    parsed = async_url(url)
    kwargs = {"poolclass": NullPool, **dict(options or {})}
    try:
        return create_async_engine(parsed, **kwargs)
    except sa.exc.NoSuchModuleError:
        raise ConfigError(
            f"unknown database dialect {parsed.drivername!r} in {mask_url(str(parsed))}",
            hint="use postgresql+asyncpg, sqlite+aiosqlite or mysql+asyncmy",
        ) from None
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


_NO_VALUE: Any = object()


class _OfflineLiterals(SQLCompiler):
    """Literal values written as the online run stores them, where SQLAlchemy renders
    none or another: JSON as its text from the dialect's serializer (a ``None`` as JSON
    ``null``, unless the column says ``none_as_null``), bytes as a hex literal (a
    TypeDecorator over either processes the value first, as online), arrays as
    ``CAST(ARRAY[...] AS type[])``, and see :meth:`_fallback`."""

    def render_literal_bindparam(  # type: ignore[override]
        self, bindparam: Any, render_literal_value: Any = _NO_VALUE, **kw: Any
    ) -> Any:
        if render_literal_value is not _NO_VALUE:
            kw["render_literal_value"] = render_literal_value
        elif (
            bindparam.value is None
            and bindparam.callable is None
            and _json_or_bytes(bindparam.type) is not None
            and not (self._collect_params and bindparam.key in self._collected_params)
        ):
            # Online the type's bind processing sees the None (JSON writes 'null').
            kw["render_literal_value"] = None
        return super().render_literal_bindparam(bindparam, **kw)  # type: ignore[no-untyped-call]

    def render_literal_value(self, value: Any, type_: sa.types.TypeEngine[Any]) -> str:
        if (
            self.dialect.name == "postgresql"
            and isinstance(value, dt.timedelta)
            and isinstance(type_, _AbstractInterval)  # sa.Interval, PostgreSQL's INTERVAL
        ):
            # asyncpg sends the days apart from the seconds ('1 day 00:00:05');
            # SQLAlchemy's literal is all seconds ('24:00:05').
            secs = f"{value.seconds}.{value.microseconds:06d}"
            return f"make_interval(days => {value.days}, secs => {secs})"
        if isinstance(type_, sa.ARRAY) and isinstance(value, list | tuple):
            # SQLAlchemy's fails on a NULL item and writes an empty one without its type.
            array_type = self.dialect.type_compiler_instance.process(type_)
            return f"CAST({self._array(value, type_)} AS {array_type})"
        impl = _json_or_bytes(type_)
        if impl is None:
            try:
                return super().render_literal_value(value, type_)
            except sa.exc.CompileError:
                rendered = self._fallback(value, type_)
                if rendered is None:
                    raise
                return rendered
        serializer = getattr(self.dialect, "_json_serializer", None) or json.dumps
        if isinstance(type_, sa.TypeDecorator):
            # All of its processing, as the driver would get the value (PickleType does
            # its work in bind_processor, over the binary type's own).
            processor = type_._cached_bind_processor(self.dialect)
            sent = processor(value) if processor is not None else value
            if sent is None:
                return "NULL"
            if isinstance(impl, sa.JSON):
                text = sent if isinstance(sent, str) else serializer(sent)
                return super().render_literal_value(text, sa.String())
        else:
            if isinstance(impl, sa.JSON):
                if value is None and impl.none_as_null:
                    return "NULL"
                if value is sa.JSON.NULL:
                    value = None
                return super().render_literal_value(serializer(value), sa.String())
            if value is None:
                return "NULL"
            sent = value
        if not isinstance(sent, bytes | bytearray | memoryview):
            raise sa.exc.CompileError(
                f"a {type(sent).__name__} value for a binary column ({type_!r}): bytes expected"
            )
        digits = bytes(sent).hex()
        return f"decode('{digits}', 'hex')" if self.dialect.name == "postgresql" else f"X'{digits}'"

    def _fallback(self, value: Any, type_: sa.types.TypeEngine[Any]) -> str | None:
        """A value SQLAlchemy has no literal for, as what the driver would get
        (``sa.Interval`` stored as a DATETIME gets a datetime; text stays text), a
        literal of that value's own type."""
        if value is None:
            return "NULL"
        processor = type_._cached_bind_processor(self.dialect)
        sent = processor(value) if processor is not None else value
        own = sa.literal(sent).type
        if sent is value and not isinstance(value, str):
            return None  # (text: the database reads it as the column's type, INET, ...)
        if isinstance(own, sa.types.NullType) or type(own) is type(type_):
            return None
        rendered: str = self.render_literal_value(sent, own)
        return rendered

    def _array(self, value: list[Any] | tuple[Any, ...], type_: sa.ARRAY[Any]) -> str:
        items = (
            "NULL"
            if item is None
            else self._array(item, type_)
            if isinstance(item, list | tuple)
            else self.render_literal_value(item, type_.item_type)
            for item in value
        )
        return f"ARRAY[{', '.join(items)}]"


def _json_or_bytes(type_: sa.types.TypeEngine[Any]) -> sa.JSON | sa.types._Binary | None:
    """*type_* (or the type a TypeDecorator stores as) when it is JSON or binary."""
    impl = type_.impl_instance if isinstance(type_, sa.TypeDecorator) else type_
    return impl if isinstance(impl, sa.JSON | sa.types._Binary) else None
