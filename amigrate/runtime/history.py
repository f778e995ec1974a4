"""The audit history: one row per applied upgrade, downgrade or stamp step.

Each row is written in the step's own transaction, so a rolled-back step leaves
no row. A step that fails (or is interrupted) after part of its work committed
(MySQL/MariaDB DDL, which commits as it runs; what ran before and inside
``op.autocommit_block()``) is recorded with ``status = 'failed'`` and the
statement that failed; the next run refuses to continue over it until the user
resolves it (``stamp``, or ``--force``).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from amigrate._version import __version__

__all__ = ["HistoryEntry", "HistoryTable", "checksum", "os_identity"]

CHECKSUM_VERSION = "v1"


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
    applied_at: dt.datetime
    duration: float
    db_user: str | None
    os_user: str
    amigrate_version: str

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data."""
        data = dict(self.__dict__)
        data["applied_at"] = self.applied_at.isoformat()
        return data


def _short(text: str | None, length: int) -> str | None:
    if text is None:
        return None
    return text if len(text) <= length else text[: length - 3] + "..."


class HistoryTable:
    """The history table of one database (``history_table`` in the config)."""

    def __init__(self, name: str = "amigrate_history", schema: str | None = None) -> None:
        self.name = name
        self.schema = schema
        self.table = sa.Table(
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
            sa.Column("db_user", sa.String(128)),
            sa.Column("os_user", sa.String(255), nullable=False),
            sa.Column("amigrate_version", sa.String(32), nullable=False),
            sa.Index(f"ix_{name}_revision", "revision"),
            schema=schema,
        )
        #: The INSERT of one row, built once (its compiled form is reused).
        self.insert = self.table.insert()

    async def create(self, conn: AsyncConnection) -> None:
        """Create the table (and its index) if it does not exist."""
        await conn.run_sync(lambda sync: self.table.create(sync, checkfirst=True))

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
            "db_user": _short(db_user, 128),
            "os_user": _short(os_user, 255),
            "amigrate_version": __version__,
        }

    async def entries(
        self,
        conn: AsyncConnection,
        *,
        limit: int | None = None,
        revisions: Sequence[str] | None = None,
    ) -> list[HistoryEntry]:
        """Rows newest first, optionally only for *revisions*."""
        if not await self.exists(conn):
            return []
        t = self.table
        query = sa.select(t).order_by(t.c.id.desc())
        if revisions is not None:
            query = query.where(t.c.revision.in_(list(revisions)))
        if limit is not None:
            query = query.limit(limit)
        rows = await conn.execute(query)
        return [HistoryEntry(**row._asdict()) for row in rows]

    async def last_failure(self, conn: AsyncConnection) -> HistoryEntry | None:
        """The newest row, if it records a failure nothing has resolved since."""
        newest = await self.entries(conn, limit=1)
        return newest[0] if newest and newest[0].status == "failed" else None


async def database_user(conn: AsyncConnection) -> str | None:
    """The user the connection is logged in as (None where the database has no users)."""
    name = conn.dialect.name
    if name == "postgresql":
        return str((await conn.execute(sa.text("SELECT current_user"))).scalar_one())
    if name in ("mysql", "mariadb"):
        return str((await conn.execute(sa.text("SELECT CURRENT_USER()"))).scalar_one())
    return conn.engine.url.username
