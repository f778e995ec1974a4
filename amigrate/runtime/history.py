"""The audit history: one row per applied upgrade, downgrade or stamp step.

Each row is written in the step's own transaction, so a rolled-back step leaves
no row. A step that fails (or is interrupted) after part of its work committed
(MySQL/MariaDB DDL, which commits as it runs; what ran before and inside
``op.autocommit_block()``) is recorded with ``status = 'failed'`` and the
statement that failed; the next run refuses to continue over it until the user
resolves it (``stamp``, or ``--force``).

Where a step can commit part of its work before its end (MySQL/MariaDB, whose DDL
commits; any database at an ``op.autocommit_block()``), its row is written first with
``status = 'running'``, in the step's transaction, so that the first early commit
takes it along; the step's end turns it into ``applied`` (or ``failed``). A migrator
killed in between (SIGKILL, a lost host) leaves the ``running`` row, and the next
run refuses over it as over a failure, instead of running the revision again over
its committed half.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.sql.expression import ColumnElement, Executable

from amigrate._version import __version__

__all__ = ["RUNNING", "UNFINISHED", "HistoryEntry", "HistoryTable", "checksum", "os_identity"]

#: The status of the row of a step that has started and may have committed part of its work.
RUNNING = "running"
#: The statuses of a newest row that upgrade and downgrade refuse to run over.
UNFINISHED = ("failed", RUNNING)

CHECKSUM_VERSION = "v1"

#: The width of the ``db_user`` column.
_DB_USER = 128


def checksum(source: bytes) -> str:
    """The checksum of a revision file, blind to BOMs, line endings and trailing blanks.

    Prefixed with its algorithm version (``v1:``) so the normalisation can
    change later without every recorded checksum looking edited.
    """
    if source.startswith(b"\xef\xbb\xbf"):
        source = source[3:]
    lines = source.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    normalised = b"\n".join(line.rstrip() for line in lines).rstrip(b"\n") + b"\n"
    return f"{CHECKSUM_VERSION}:{hashlib.sha256(normalised).hexdigest()}"


def file_checksum(path: Path) -> str:
    """The checksum of the file at *path*."""
    return checksum(path.read_bytes())


def os_identity() -> str:
    """``user@host`` of this process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class HistoryEntry:
    """One row of the history table."""

    id: int
    run_id: str
    revision: str
    direction: str
    from_revisions: str
    to_revisions: str
    message: str
    checksum: str | None
    status: str
    error: str | None
    applied_at: dt.datetime  #: UTC (aware)
    duration: float
    db_user: str | None
    os_user: str
    amigrate_version: str

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data."""
        data = dict(self.__dict__)
        data["applied_at"] = self.applied_at.isoformat()
        return data


def _utc(stored: dt.datetime) -> dt.datetime:
    """``applied_at`` as read (UTC, stored without a zone) made aware: it says so."""
    return stored.replace(tzinfo=dt.UTC) if stored.tzinfo is None else stored.astimezone(dt.UTC)


def _short(text: str | None, length: int) -> str | None:
    if text is None:
        return None
    return text if len(text) <= length else text[: length - 3] + "..."


log = logging.getLogger("amigrate.history")


class HistoryTable:
    """The history table of one database (``history_table`` in the config)."""

    def __init__(self, name: str = "amigrate_history", schema: str | None = None) -> None:
        self.name = name
        self.schema = schema
        self.table = self._build()
        #: The INSERT of one row, built once (its compiled form is reused).
        self.insert = self.table.insert()
        #: The UPDATE that ends a step's ``running`` row (see :meth:`ending`), built once.
        t = self.table
        self.end = (
            t.update()
            .where(
                t.c.run_id == sa.bindparam("m_run_id", type_=t.c.run_id.type),
                t.c.revision == sa.bindparam("m_revision", type_=t.c.revision.type),
                t.c.status == sa.bindparam("m_status", type_=t.c.status.type),
            )
            .values({name: sa.bindparam(f"new_{name}", type_=t.c[name].type) for name in _ENDING})
        )
        #: The DELETE of a step's ``running`` row, when the step was rolled back after all.
        self.unmark = t.delete().where(
            t.c.run_id == sa.bindparam("m_run_id", type_=t.c.run_id.type),
            t.c.revision == sa.bindparam("m_revision", type_=t.c.revision.type),
            t.c.status == sa.bindparam("m_status", type_=t.c.status.type),
        )

    def ending(self, row: dict[str, Any]) -> dict[str, Any]:
        """The parameters of :attr:`end` (or :attr:`unmark`) for the step whose final
        *row* (see :meth:`row`) replaces its ``running`` one."""
        params = {f"new_{name}": row[name] for name in _ENDING}
        params.update(m_run_id=row["run_id"], m_revision=row["revision"], m_status=RUNNING)
        return params

    def _build(self, **options: Any) -> sa.Table:
        name = self.name
        return sa.Table(
            name,
            sa.MetaData(),
            sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
            sa.Column("run_id", sa.String(32), nullable=False),
            sa.Column("revision", sa.String(32), nullable=False),
            sa.Column("direction", sa.String(8), nullable=False),
            sa.Column("from_revisions", sa.String(255), nullable=False),
            sa.Column("to_revisions", sa.String(255), nullable=False),
            sa.Column("message", sa.String(255), nullable=False),
            sa.Column("checksum", sa.String(80)),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("error", sa.Text),
            sa.Column("applied_at", sa.DateTime, nullable=False),
            sa.Column("duration", sa.Float, nullable=False),
            sa.Column("db_user", sa.String(_DB_USER)),
            sa.Column("os_user", sa.String(255), nullable=False),
            sa.Column("amigrate_version", sa.String(32), nullable=False),
            sa.Index(f"ix_{name}_revision", "revision"),
            schema=self.schema,
            **options,
        )

    def table_for(self, dialect: Dialect) -> sa.Table:
        """The table as it is created on *dialect*: on MySQL in utf8mb4, so that a message
        or an error holds any text, whatever the database's default character set (latin1,
        utf8mb3) would take. (Only there: the option loads SQLAlchemy's MySQL dialect.)"""
        if dialect.name not in ("mysql", "mariadb"):
            return self.table
        return self._build(mysql_charset="utf8mb4", mariadb_charset="utf8mb4")

    async def create(self, conn: AsyncConnection, *, checkfirst: bool = True) -> None:
        """Create the table (and its index) if it does not exist."""
        await conn.run_sync(
            lambda sync: self.table_for(sync.dialect).create(sync, checkfirst=checkfirst)
        )

    async def ensure_charset(self, conn: AsyncConnection) -> None:
        """On MySQL, convert a table that an earlier amigrate made in the database's default
        character set (latin1, utf8mb3) to utf8mb4, so that any message fits (a row that
        did not fit failed the step after its DDL had committed). Elsewhere nothing."""
        if conn.dialect.name not in ("mysql", "mariadb"):
            return
        collation = (
            await conn.execute(
                sa.text(
                    "SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE "
                    "TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :name"
                ),
                {"schema": self.schema, "name": self.name},
            )
        ).scalar()
        if collation is None or str(collation).startswith("utf8mb4"):
            return
        table = conn.dialect.identifier_preparer.format_table(self.table)
        log.info("converting %s from %s to utf8mb4", table, collation)
        await conn.execute(sa.text(f"ALTER TABLE {table} CONVERT TO CHARACTER SET utf8mb4"))

    def create_script(self, dialect: Dialect) -> list[str]:
        """The table and its index as offline SQL, each made only where it is missing.

        On PostgreSQL in a ``DO`` block that looks first: ``IF NOT EXISTS`` alone needs
        the right to create (and to own the table), which a role that only migrates
        data may lack, where online nothing is created. On MySQL, which has no such
        block in a script, a statement prepared from what ``information_schema`` says
        (the ``CREATE TABLE``, or ``DO 0``). MySQL has no ``CREATE INDEX IF NOT
        EXISTS`` (MariaDB has): there the index is declared in the ``CREATE TABLE``,
        which makes both or neither.
        """
        created_table = self.table_for(dialect)
        table = str(CreateTable(created_table, if_not_exists=True).compile(dialect=dialect)).strip()
        (index,) = created_table.indexes
        if dialect.name not in ("mysql", "mariadb"):
            created = str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)).strip()
            if dialect.name != "postgresql":
                return [table, created]
            name = dialect.identifier_preparer.format_table(self.table).replace("'", "''")
            body = "\n".join(
                [
                    "BEGIN",
                    f"    IF to_regclass('{name}') IS NULL THEN",
                    "        " + table.replace("\n", "\n        ") + ";",
                    f"        {created};",
                    "    END IF;",
                    "END;",
                ]
            )
            if "$$" in body:
                raise AssertionError(f"unexpected $$ in the history table's DDL: {body!r}")
            return [f"DO $$\n{body}\n$$"]
        body, close, options = table.rpartition("\n)")
        if not close:
            raise AssertionError(f"unexpected CREATE TABLE of the history table: {table!r}")
        quote = dialect.identifier_preparer.quote
        columns = ", ".join(quote(str(c.name)) for c in index.columns)
        inline = f",\n\tINDEX {quote(str(index.name))} ({columns})"
        create = body + inline + close + options
        literal = dialect.statement_compiler(dialect, None).render_literal_value
        schema = literal(self.table.schema, sa.String()) if self.table.schema else "DATABASE()"
        missing = (
            "(SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
            f"{schema} AND table_name = {literal(self.table.name, sa.String())}) = 0"
        )
        return [
            f"SET @amigrate_ddl = IF({missing}, {literal(create, sa.String())}, 'DO 0')",
            "PREPARE amigrate_ddl FROM @amigrate_ddl",
            "EXECUTE amigrate_ddl",
            "DEALLOCATE PREPARE amigrate_ddl",
        ]

    def offline_insert(self, values: dict[str, Any], dialect: Dialect) -> Executable:
        """The INSERT of one row in a script: the time and the database user are the
        database's own when the script runs (*values* has those of the rendering process)."""
        values = dict(values, applied_at=_utc_now(dialect), db_user=_session_user(dialect))
        return self.table.insert().inline().values(**values)  # inline: no RETURNING id

    def offline_copy(
        self, values: dict[str, Any], sources: dict[str, sa.Column[Any]], dialect: Dialect
    ) -> Executable:
        """``INSERT ... SELECT`` in a script: a row per row of the *sources*' table (in the
        order of its first column), with the *sources* columns' values for those names."""
        values = dict(values, applied_at=_utc_now(dialect), db_user=_session_user(dialect))
        columns = [
            (
                sources[name]
                if name in sources
                else value
                if isinstance(value, sa.ColumnElement)
                else sa.literal(value, self.table.c[name].type)
            ).label(name)
            for name, value in values.items()
        ]
        query = sa.select(*columns).order_by(next(iter(sources.values())))
        return self.table.insert().from_select(list(values), query)

    async def exists(self, conn: AsyncConnection) -> bool:
        """Whether the table exists (a read)."""
        return await conn.run_sync(
            lambda sync: sa.inspect(sync).has_table(self.name, schema=self.schema)
        )

    def row(
        self,
        *,
        run_id: str,
        revision: str,
        direction: str,
        from_revisions: Sequence[str],
        to_revisions: Sequence[str],
        message: str,
        checksum: str | None,
        duration: float,
        db_user: str | None,
        os_user: str,
        status: str = "applied",
        error: str | None = None,
    ) -> dict[str, Any]:
        """The values of one row (applied_at is now, in UTC, stored without a zone)."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        return {
            "run_id": run_id,
            "revision": revision,
            "direction": direction,
            "from_revisions": _short(",".join(from_revisions), 255),
            "to_revisions": _short(",".join(to_revisions), 255),
            "message": _short(message, 255),
            "checksum": checksum,
            "status": status,
            "error": error,
            "applied_at": now,
            "duration": round(duration, 6),
            "db_user": _short(db_user, _DB_USER),
            "os_user": _short(os_user, 255),
            "amigrate_version": __version__,
        }

    async def entries(
        self,
        conn: AsyncConnection,
        *,
        limit: int | None = None,
        revisions: Sequence[str] | None = None,
        exists: bool | None = None,
    ) -> list[HistoryEntry]:
        """Rows newest first, optionally only for *revisions* (*exists*: whether the
        table exists, when the caller has looked already)."""
        if not (exists if exists is not None else await self.exists(conn)):
            return []
        t = self.table
        query = sa.select(t).order_by(t.c.id.desc())
        if revisions is not None:
            query = query.where(t.c.revision.in_(list(revisions)))
        if limit is not None:
            query = query.limit(limit)
        rows = await conn.execute(query)
        return [
            HistoryEntry(**{**row._asdict(), "applied_at": _utc(row.applied_at)}) for row in rows
        ]

    async def last_failure(
        self, conn: AsyncConnection, *, exists: bool | None = None
    ) -> HistoryEntry | None:
        """The newest row, if it records a failure nothing has resolved since, or a step
        that started and did not finish (``running``: its migrator was killed, or, read
        without the migration lock, it is running now)."""
        newest = await self.entries(conn, limit=1, exists=exists)
        return newest[0] if newest and newest[0].status in UNFINISHED else None


#: The columns a step's end sets on its ``running`` row.
_ENDING = ("message", "status", "error", "applied_at", "duration")


def _utc_now(dialect: Dialect) -> ColumnElement[Any]:
    """The current UTC time as SQL, stored as the online run stores ``applied_at``."""
    if dialect.name == "postgresql":
        return sa.func.timezone("UTC", sa.func.clock_timestamp())
    if dialect.name in ("mysql", "mariadb"):
        return sa.func.utc_timestamp(6)
    if dialect.name == "sqlite":
        # SQLAlchemy's text layout: six digits of the second (SQLite's %f has three).
        return sa.func.strftime("%Y-%m-%d %H:%M:%f000", "now")
    return sa.func.current_timestamp()


def _session_user(dialect: Dialect) -> ColumnElement[Any]:
    """The user the script runs as, as :func:`database_user` reads it online."""
    if dialect.name == "postgresql":
        return sa.func.current_user()  # a name: 63 characters at most
    if dialect.name in ("mysql", "mariadb"):
        # user@host may be longer than the column: shortened as online (HistoryTable.row).
        user = sa.func.current_user()
        short = sa.func.concat(sa.func.left(user, _DB_USER - 3), "...")
        return sa.case((sa.func.char_length(user) > _DB_USER, short), else_=user)
    return sa.null()


async def database_user(conn: AsyncConnection) -> str | None:
    """The user the connection is logged in as (None where the database has no users)."""
    name = conn.dialect.name
    if name == "postgresql":
        return str((await conn.execute(sa.text("SELECT current_user"))).scalar_one())
    if name in ("mysql", "mariadb"):
        return str((await conn.execute(sa.text("SELECT CURRENT_USER()"))).scalar_one())
    return conn.engine.url.username
