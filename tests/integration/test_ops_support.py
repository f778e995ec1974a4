"""Shared machinery of the ``test_ops_*`` suites: a revision per op, and reflection.

:func:`describe` reads a database's whole schema, normalised so that two reads
compare equal exactly when the schema is the same; :func:`op_roundtrip` applies
a revision holding the op under test on top of a set-up revision, reads the
schema, downgrades, and checks the database is back as it was.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate.errors import MigrationError, UnsupportedOperation
from tests.projects import Rev, make_project

Schema = dict[str, Any]
_OWN = {"amigrate_version", "amigrate_history"}
_SYSTEM_SCHEMAS = {"information_schema", "public"}


def backend(url: str) -> str:
    """``sqlite``, ``postgresql`` or ``mysql`` (MariaDB) for a test URL."""
    return url.split("+", 1)[0].split(":", 1)[0]


def _table(inspector: sa.Inspector, conn: sa.Connection, name: str) -> dict[str, Any]:
    dialect = conn.dialect
    columns = [
        (
            c["name"],
            str(c["type"].compile(dialect=dialect)),
            bool(c["nullable"]),
            None if c.get("default") is None else str(c["default"]),
            c.get("comment"),
        )
        for c in inspector.get_columns(name)
    ]
    pk = inspector.get_pk_constraint(name)
    if dialect.name == "sqlite":
        # SQLite's reflection skips expression indexes; its stored SQL has everything.
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY name",
            (name,),
        ).all()
        # (SQLite quotes names it rewrites, as after a RENAME: the same index.)
        indexes: list[Any] = [(n, sql.replace('"', "")) for n, sql in rows]
        triggers = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (name,)
            )
        ]
        comment = None
    else:
        indexes = sorted(
            (
                i["name"],
                tuple(str(e) for e in (i.get("expressions") or i["column_names"])),
                bool(i["unique"]),
                repr(sorted((i.get("dialect_options") or {}).items())),
            )
            for i in inspector.get_indexes(name)
        )
        triggers = []
        comment = inspector.get_table_comment(name).get("text")
    return {
        "columns": columns,
        "pk": (pk.get("name"), tuple(pk["constrained_columns"])),
        "indexes": indexes,
        "uniques": sorted(
            (u["name"] or "", tuple(u["column_names"]))
            for u in inspector.get_unique_constraints(name)
        ),
        "fks": sorted(
            (
                f["name"] or "",
                tuple(f["constrained_columns"]),
                f["referred_schema"] or "",
                f["referred_table"],
                tuple(f["referred_columns"]),
                repr(sorted(f["options"].items())),
            )
            for f in inspector.get_foreign_keys(name)
        ),
        "checks": sorted(
            (c["name"] or "", c["sqltext"]) for c in inspector.get_check_constraints(name)
        ),
        "comment": comment,
        "triggers": triggers,
    }


def _describe(conn: sa.Connection) -> Schema:
    with warnings.catch_warnings():
        # SQLite's reflection skips expression indexes (read from sqlite_master instead).
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        return _describe_all(conn)


def _describe_all(conn: sa.Connection) -> Schema:
    inspector = sa.inspect(conn)
    dialect = conn.dialect
    schema: Schema = {
        "tables": {
            name: _table(inspector, conn, name)
            for name in sorted(inspector.get_table_names())
            if name not in _OWN
        },
        "views": sorted(inspector.get_view_names()),
    }
    if dialect.name == "postgresql":
        schema["enums"] = sorted(
            (e["schema"] or "", e["name"], tuple(e["labels"]))
            for e in inspector.get_enums(schema="*")  # type: ignore[attr-defined]
        )
        schema["schemas"] = sorted(
            s for s in inspector.get_schema_names() if s not in _SYSTEM_SCHEMAS
        )
    if dialect.name != "sqlite" and dialect.supports_sequences:
        schema["sequences"] = sorted(
            s for s in inspector.get_sequence_names() if not s.startswith("amigrate_")
        )
    return schema


async def describe(url: str) -> Schema:
    """The schema of the database at *url* (amigrate's own tables left out)."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_describe)
    finally:
        await engine.dispose()


async def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Run *sql* in a transaction of its own, with a fresh connection; the rows, if any."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(sa.text(sql))
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        await engine.dispose()


async def op_roundtrip(
    tmp_path: Path,
    url: str,
    *,
    upgrade: str,
    downgrade: str,
    setup: str = "pass",
    check: Callable[[], Awaitable[None]] | None = None,
) -> tuple[Schema, Schema]:
    """Apply *upgrade* over *setup*, read the schema, downgrade, check it is back.

    *check* runs after the upgrade (to look at rows). Returns the schemas before
    and after the upgrade.
    """
    project = make_project(
        tmp_path,
        url,
        Rev("a1", None, upgrade=setup, message="set up"),
        Rev("b2", "a1", upgrade=upgrade, downgrade=downgrade, message="op under test"),
    )
    config = project.config()
    await amigrate.upgrade(config, "a1")
    before = await describe(url)
    await amigrate.upgrade(config, "b2")
    after = await describe(url)
    if check is not None:
        await check()
    await amigrate.downgrade(config, "a1")
    assert await describe(url) == before, "the downgrade did not restore the schema"
    return before, after


async def expect_failure(
    tmp_path: Path,
    url: str,
    *,
    upgrade: str,
    error: type[Exception] = UnsupportedOperation,
    match: str,
    setup: str = "pass",
) -> Exception:
    """Apply *upgrade* over *setup*: it must fail with *error*, leaving the schema as it was."""
    project = make_project(
        tmp_path,
        url,
        Rev("a1", None, upgrade=setup, message="set up"),
        Rev("b2", "a1", upgrade=upgrade, message="op under test"),
    )
    config = project.config()
    await amigrate.upgrade(config, "a1")
    before = await describe(url)
    with pytest.raises(MigrationError) as info:
        await amigrate.upgrade(config, "b2")
    cause = info.value.__cause__
    assert isinstance(cause, error), repr(cause)
    assert match in str(cause), str(cause)
    assert match in str(info.value)  # the step's error says it too
    assert await describe(url) == before, "a failed step changed the schema"
    assert await amigrate.current(config) == ("a1",)
    return cause


async def test_describe_an_empty_database(db_url: str) -> None:
    schema = await describe(db_url)
    assert schema["tables"] == {}
    assert schema["views"] == []
