"""Literal values in offline SQL, written as the online run stores them.

The offline dialect's statement compiler (see :func:`amigrate.runtime.engine.dialect_for`)
takes :class:`OfflineLiterals` as a mixin: where SQLAlchemy renders no literal for a value,
or one that the database would store otherwise than the driver's value online, it writes
what the online run would have stored.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.sqltypes import _AbstractInterval

__all__ = ["OfflineLiterals"]


_NO_VALUE: Any = object()


class OfflineLiterals(SQLCompiler):
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
            bindparam.required
            and bindparam.value is None
            and bindparam.callable is None
            and not (self._collect_params and bindparam.key in self._collected_params)
        ):
            # Online the statement fails; SQLAlchemy's literal would be NULL (an UPDATE
            # that empties a column, a DELETE that matches nothing).
            raise sa.exc.CompileError(
                f"a value is required for the bind parameter {bindparam.key!r}"
            )
        elif (
            bindparam.value is None
            and bindparam.callable is None
            and (
                _json_or_bytes(bindparam.type, self.dialect) is not None
                or _decorated_array(bindparam.type, self.dialect)
            )
            and not (self._collect_params and bindparam.key in self._collected_params)
        ):
            # Online the type's bind processing sees the None (JSON writes 'null'; a
            # decorator may make it an empty array).
            kw["render_literal_value"] = None
        return super().render_literal_bindparam(bindparam, **kw)  # type: ignore[no-untyped-call]

    def render_literal_value(self, value: Any, type_: sa.types.TypeEngine[Any]) -> str:
        rendered = self._literal(value, type_)
        if "\x00" not in rendered:
            return rendered
        # A NUL in text: the clients read a script as C strings (sqlite3 cuts the statement
        # there, mysql stops): written as each database spells it, as online it is stored.
        name = self.dialect.name
        if name in ("mysql", "mariadb"):  # (its literals take backslash escapes)
            return rendered.replace("\x00", "\\0")
        if name == "sqlite":
            return "(" + rendered.replace("\x00", "' || char(0) || '") + ")"
        raise sa.exc.CompileError(f"{name} cannot store a NUL character in text")

    def _literal(self, value: Any, type_: sa.types.TypeEngine[Any]) -> str:
        type_ = _variant(type_, self.dialect)  # with_variant(...): this dialect's type
        if (
            self.dialect.name in ("mysql", "mariadb")
            and isinstance(value, dt.datetime | dt.time)
            and value.tzinfo is not None
            and isinstance(type_, sa.DateTime | sa.Time)  # the plain types: not a TypeDecorator
        ):
            # MySQL's DATETIME and TIME hold no offset: its drivers send an aware value's
            # wall time (MariaDB rejects '... +02:00').
            value = value.replace(tzinfo=None)
        if (
            self.dialect.name == "postgresql"
            and isinstance(value, dt.datetime)
            and value.tzinfo is None
            and isinstance(type_, sa.DateTime)  # the plain type: not a TypeDecorator
            and type_.timezone
        ):
            # asyncpg sends a naive value for TIMESTAMP WITH TIME ZONE as the instant it
            # is in the client's local time (datetime.astimezone); the bare literal would
            # be read in the session's time zone.
            value = value.astimezone(dt.UTC)
        if (
            self.dialect.name == "postgresql"
            and isinstance(value, dt.timedelta)
            and isinstance(type_, _AbstractInterval)  # sa.Interval, PostgreSQL's INTERVAL
        ):
            # asyncpg sends the days apart from the seconds ('1 day 00:00:05');
            # SQLAlchemy's literal is all seconds ('24:00:05').
            secs = f"{value.seconds}.{value.microseconds:06d}"
            return f"make_interval(days => {value.days}, secs => {secs})"
        if isinstance(value, float) and not math.isfinite(value):
            return self._not_finite(value)
        decorators, stored = _decorators(type_, self.dialect)
        if decorators and isinstance(stored, sa.ARRAY):
            # The decorators' own processing (outermost first), as online; then the
            # array's rendering.
            for decorator in decorators:
                if getattr(decorator, "_has_bind_processor", True):
                    value = decorator.process_bind_param(value, self.dialect)
            if value is None:
                return "NULL"
            type_ = stored
        if isinstance(type_, sa.ARRAY) and isinstance(value, list | tuple):
            # SQLAlchemy's fails on a NULL item and writes an empty one without its type.
            array_type = self.dialect.type_compiler_instance.process(type_)
            return f"CAST({self._array(value, type_)} AS {array_type})"
        impl = _json_or_bytes(type_, self.dialect)
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

    def _not_finite(self, value: float) -> str:
        """Infinity and NaN, which SQLAlchemy writes as bare ``inf`` / ``nan`` (names of
        columns to the database), as each database takes them from its driver."""
        name = self.dialect.name
        if name == "postgresql":
            return "'NaN'" if math.isnan(value) else f"'{'-' if value < 0 else ''}Infinity'"
        if name == "sqlite":  # (sqlite3 stores NaN as NULL)
            return "NULL" if math.isnan(value) else f"{'-' if value < 0 else ''}9e999"
        raise sa.exc.CompileError(f"{name} cannot store the float {value!r}")

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


def _json_or_bytes(
    type_: sa.types.TypeEngine[Any], dialect: Dialect
) -> sa.JSON | sa.types._Binary | None:
    """*type_* (or the type its TypeDecorators store as) when it is JSON or binary."""
    stored = _decorators(_variant(type_, dialect), dialect)[1]
    return stored if isinstance(stored, sa.JSON | sa.types._Binary) else None


def _decorated_array(type_: sa.types.TypeEngine[Any], dialect: Dialect) -> bool:
    """Whether *type_* is a TypeDecorator (with processing of its own) over an ARRAY."""
    decorators, stored = _decorators(_variant(type_, dialect), dialect)
    return isinstance(stored, sa.ARRAY) and any(
        getattr(d, "_has_bind_processor", True) for d in decorators
    )


def _variant(type_: sa.types.TypeEngine[Any], dialect: Dialect) -> sa.types.TypeEngine[Any]:
    """The type *dialect* uses for *type_* (``with_variant(..., dialect)``'s)."""
    while dialect.name in type_._variant_mapping:
        type_ = type_._variant_mapping[dialect.name]
    return type_


def _decorators(
    type_: sa.types.TypeEngine[Any], dialect: Dialect
) -> tuple[list[sa.TypeDecorator[Any]], sa.types.TypeEngine[Any]]:
    """The TypeDecorators *type_* is made of, outermost first, and the type they store as."""
    found: list[sa.TypeDecorator[Any]] = []
    while isinstance(type_, sa.TypeDecorator):
        found.append(type_)
        type_ = _variant(type_.load_dialect_impl(dialect), dialect)
    return found, type_
