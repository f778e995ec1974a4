"""What a database holds, read once by reflection into plain data.

:func:`reflect` runs inside ``AsyncConnection.run_sync`` and uses SQLAlchemy's
inspector with its bulk methods (``get_multi_columns``, ``get_multi_indexes``,
...: one or a few catalog queries per schema instead of several per table). The
result is a :class:`Snapshot` of frozen dataclasses, so comparing it with the
models needs no connection and is tested without one.

Per-dialect quirks are flattened here, once: PostgreSQL's indexes that back
unique constraints are left out of the indexes, a serial column's
``nextval(...)`` default is read as "autoincrement, no default", and SQLite's
expression indexes (which the inspector skips) are read from ``sqlite_master``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.reflection import Inspector
from sqlalchemy.types import TypeEngine

__all__ = [
    "CheckInfo",
    "ColumnInfo",
    "ForeignKeyInfo",
    "IndexInfo",
    "PrimaryKeyInfo",
    "Snapshot",
    "TableInfo",
    "TableKey",
    "UniqueInfo",
    "dialect_family",
    "reflect",
    "schema_names",
]

#: ``(schema, table)``; the schema is None for the connection's default schema.
TableKey = tuple[str | None, str]


def dialect_family(name: str) -> str:
    """``mysql`` for MySQL and MariaDB (whose dialect may be called either), else *name*."""
    return "mysql" if name == "mariadb" else name


_SERIAL_DEFAULT = re.compile(r"nextval\('(?:[^']|'')+'(?:::regclass)?\)", re.I)


@dataclass(frozen=True)
class ColumnInfo:
    """A reflected column.

    ``default`` is the server default as the database reports it (SQL text), or
    None; ``autoincrement`` is None where the dialect does not say.
    """

    name: str
    type: TypeEngine[Any]
    nullable: bool
    default: str | None = None
    comment: str | None = None
    autoincrement: bool | None = None
    computed: Mapping[str, Any] | None = None
    identity: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PrimaryKeyInfo:
    """A reflected primary key (``columns`` empty when the table has none)."""

    name: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class IndexInfo:
    """A reflected index; ``expressions`` holds SQL text where an element is not a column."""

    name: str
    columns: tuple[str, ...]
    unique: bool
    expressions: tuple[str, ...] = ()
    dialect_options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_expression(self) -> bool:
        """Whether some element of the index is an expression rather than a column."""
        return bool(self.expressions)


@dataclass(frozen=True)
class UniqueInfo:
    """A reflected unique constraint (``name`` is None where SQLite keeps none)."""

    name: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class CheckInfo:
    """A reflected table CHECK constraint: its name (None where the database made one
    up) and its SQL as the database writes it back."""

    name: str | None
    sqltext: str


@dataclass(frozen=True)
class ForeignKeyInfo:
    """A reflected foreign key; ``referred_schema`` is None for the default schema."""

    name: str | None
    columns: tuple[str, ...]
    referred_schema: str | None
    referred_table: str
    referred_columns: tuple[str, ...]
    ondelete: str | None = None
    onupdate: str | None = None
    deferrable: bool | None = None
    initially: str | None = None


@dataclass(frozen=True)
class TableInfo:
    """A reflected table and everything autogenerate compares on it."""

    schema: str | None
    name: str
    columns: tuple[ColumnInfo, ...]
    primary_key: PrimaryKeyInfo
    indexes: tuple[IndexInfo, ...] = ()
    uniques: tuple[UniqueInfo, ...] = ()
    foreign_keys: tuple[ForeignKeyInfo, ...] = ()
    comment: str | None = None
    #: Read for what a downgrade recreates; autogenerate does not compare them (nor
    #: does Alembic): the database rewrites their SQL in its own words.
    checks: tuple[CheckInfo, ...] = ()

    @property
    def key(self) -> TableKey:
        """``(schema, name)``."""
        return (self.schema, self.name)

    def column(self, name: str) -> ColumnInfo:
        """The column called *name*."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


@dataclass(frozen=True)
class Snapshot:
    """The tables of the schemas that were reflected, by ``(schema, name)``.

    ``dialect`` is the dialect's family (``mysql`` for MariaDB too, see
    :func:`dialect_family`); ``mariadb`` tells MariaDB from MySQL;
    ``default_schema`` is the connection's default schema (tables there have
    schema None); ``supports_comments`` is False where comments are not kept.
    """

    dialect: str
    tables: Mapping[TableKey, TableInfo]
    default_schema: str | None = None
    mariadb: bool = False
    supports_comments: bool = True


def _schema_of(key_schema: str | None, default_schema: str | None) -> str | None:
    return None if key_schema == default_schema else key_schema


def _owned_sequences(conn: sa.Connection, schema: str | None) -> set[tuple[str, str]]:
    """PostgreSQL: the (table, column) pairs that own a sequence (serial columns)."""
    rows = conn.execute(
        sa.text(
            "SELECT t.relname, a.attname FROM pg_catalog.pg_depend d\n"
            "JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'\n"
            "JOIN pg_catalog.pg_class t ON t.oid = d.refobjid\n"
            "JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace\n"
            "JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid\n"
            "WHERE d.classid = 'pg_catalog.pg_class'::regclass\n"
            "AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'a'\n"
            "AND n.nspname = coalesce(:schema, current_schema())"
        ),
        {"schema": schema},
    )
    return {(str(table), str(column)) for table, column in rows}


def _column(info: Mapping[str, Any], dialect: str, owns_sequence: bool = True) -> ColumnInfo:
    default = info.get("default")
    autoincrement = info.get("autoincrement")
    if (
        dialect == "postgresql"
        and isinstance(default, str)
        and _SERIAL_DEFAULT.fullmatch(default.strip())
        and autoincrement
        and owns_sequence  # (a shared sequence's nextval() is a default like any other)
    ):
        # A serial column: its sequence belongs to the column, and recreating the
        # column with this default would name a sequence that no longer exists.
        default = None
    identity = info.get("identity")
    computed = info.get("computed")
    return ColumnInfo(
        name=info["name"],
        type=info["type"],
        nullable=bool(info.get("nullable", True)),
        default=None if default is None else str(default),
        comment=info.get("comment"),
        autoincrement=autoincrement if isinstance(autoincrement, bool) else None,
        computed=dict(computed) if computed else None,
        identity=dict(identity) if identity else None,
    )


def _index(info: Mapping[str, Any]) -> IndexInfo:
    names = tuple(info.get("column_names") or ())
    expressions = tuple(str(e) for e in info.get("expressions") or ())
    if None in names and not expressions:
        expressions = tuple("?" if n is None else n for n in names)
    options = {
        key: value
        for key, value in (info.get("dialect_options") or {}).items()
        if value not in (None, [], (), {}, "")
    }
    return IndexInfo(
        name=info["name"],
        columns=tuple(n for n in names if n is not None),
        unique=bool(info.get("unique")),
        expressions=expressions,
        dialect_options=options,
    )


def _foreign_key(info: Mapping[str, Any], default_schema: str | None) -> ForeignKeyInfo:
    options = info.get("options") or {}
    return ForeignKeyInfo(
        name=info.get("name"),
        columns=tuple(info["constrained_columns"]),
        referred_schema=_schema_of(info.get("referred_schema"), default_schema),
        referred_table=info["referred_table"],
        referred_columns=tuple(info["referred_columns"]),
        ondelete=options.get("ondelete"),
        onupdate=options.get("onupdate"),
        deferrable=options.get("deferrable"),
        initially=options.get("initially"),
    )


def _sqlite_expression_indexes(
    conn: sa.Connection, names: Iterable[str], known: Mapping[str, set[str]]
) -> dict[str, list[IndexInfo]]:
    """Indexes the SQLite inspector skips (on expressions), by table, from sqlite_master."""
    wanted = set(names)
    found: dict[str, list[IndexInfo]] = {}
    rows = conn.exec_driver_sql(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    )
    for name, table, sql in rows:
        if table not in wanted or name in known.get(table, set()):
            continue
        unique = bool(re.match(r"\s*CREATE\s+UNIQUE\s", sql, re.I))
        body = sql[sql.find("(") + 1 : sql.rfind(")")] if "(" in sql else sql
        found.setdefault(table, []).append(
            IndexInfo(name=name, columns=(), unique=unique, expressions=(body.strip(),))
        )
    return found


def _bulk(inspector: Inspector, method: str, schema: str | None, names: list[str]) -> Any:
    return getattr(inspector, method)(schema=schema, filter_names=names)


def _reflect_schema(
    conn: sa.Connection,
    inspector: Inspector,
    schema: str | None,
    names: list[str],
    default_schema: str | None,
) -> list[TableInfo]:
    dialect = conn.dialect
    columns = _bulk(inspector, "get_multi_columns", schema, names)
    pks = _bulk(inspector, "get_multi_pk_constraint", schema, names)
    fks = _bulk(inspector, "get_multi_foreign_keys", schema, names)
    indexes = _bulk(inspector, "get_multi_indexes", schema, names)
    uniques = _bulk(inspector, "get_multi_unique_constraints", schema, names)
    checks = _bulk(inspector, "get_multi_check_constraints", schema, names)
    comments: Mapping[Any, Any] = {}
    if dialect.supports_comments:
        comments = _bulk(inspector, "get_multi_table_comment", schema, names)
    extra: dict[str, list[IndexInfo]] = {}
    if dialect.name == "sqlite":
        known = {key[1]: {i["name"] for i in value} for key, value in indexes.items()}
        extra = _sqlite_expression_indexes(conn, names, known)
    owned = _owned_sequences(conn, schema) if dialect.name == "postgresql" else None
    tables = []
    for key in sorted(columns, key=lambda k: k[1]):
        pk = pks.get(key) or {}
        table_indexes = [
            _index(i)
            for i in indexes.get(key, [])
            # PostgreSQL lists the index behind each unique constraint too.
            if not i.get("duplicates_constraint")
        ]
        table_indexes += extra.get(key[1], [])
        tables.append(
            TableInfo(
                schema=_schema_of(schema, default_schema),
                name=key[1],
                columns=tuple(
                    _column(c, dialect.name, owned is None or (key[1], c["name"]) in owned)
                    for c in columns[key]
                ),
                primary_key=PrimaryKeyInfo(
                    pk.get("name"), tuple(pk.get("constrained_columns") or ())
                ),
                indexes=tuple(table_indexes),
                uniques=tuple(
                    UniqueInfo(u.get("name"), tuple(u["column_names"]))
                    for u in uniques.get(key, [])
                ),
                foreign_keys=tuple(_foreign_key(f, default_schema) for f in fks.get(key, [])),
                comment=(comments.get(key) or {}).get("text"),
                checks=tuple(_check(c, dialect.name) for c in checks.get(key, [])),
            )
        )
    return tables


#: The names MariaDB makes up for an unnamed CHECK (``CONSTRAINT_1``, ...).
_MARIADB_CHECK_NAME = re.compile(r"CONSTRAINT_[0-9]+")


def _check(info: Mapping[str, Any], dialect: str) -> CheckInfo:
    name = info.get("name")
    if dialect in ("mysql", "mariadb") and name and _MARIADB_CHECK_NAME.fullmatch(name):
        name = None  # unnamed in the model too: recreated unnamed, it gets the next number
    return CheckInfo(name, str(info["sqltext"]))


def reflect(
    conn: sa.Connection,
    schemas: Iterable[str | None],
    *,
    include_table: Callable[[str | None, str], bool] = lambda schema, name: True,
) -> Snapshot:
    """Read the tables of *schemas* (None: the default schema) into a :class:`Snapshot`.

    *include_table(schema, name)* decides which tables are read at all (the
    version and history tables, ``include_name``). Run it with
    ``await connection.run_sync(reflect, schemas)``.
    """
    inspector = sa.inspect(conn)
    default_schema = inspector.default_schema_name
    dialect = conn.dialect
    tables: dict[TableKey, TableInfo] = {}
    for schema in dict.fromkeys(_schema_of(s, default_schema) for s in schemas):
        names = [
            name for name in inspector.get_table_names(schema=schema) if include_table(schema, name)
        ]
        if not names:
            continue
        with warnings.catch_warnings():
            # SQLite's inspector skips expression indexes, with a warning; they are
            # read from sqlite_master instead.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
            found = _reflect_schema(conn, inspector, schema, names, default_schema)
        for table in found:
            tables[table.key] = table
    return Snapshot(
        dialect=dialect_family(dialect.name),
        tables=tables,
        default_schema=default_schema,
        mariadb=bool(getattr(dialect, "is_mariadb", False)) or dialect.name == "mariadb",
        supports_comments=bool(dialect.supports_comments),
    )


def schema_names(conn: sa.Connection) -> list[str | None]:
    """Every schema worth comparing (``include_schemas``): the default one as None, then others."""
    inspector = sa.inspect(conn)
    default = inspector.default_schema_name
    system = {"information_schema", "pg_catalog", "mysql", "performance_schema", "sys"}
    others = sorted(
        s
        for s in inspector.get_schema_names()
        if s != default and s not in system and not s.startswith("pg_")
    )
    return [None, *others]
