"""The version table: one row per current head, Alembic's layout.

``version_num VARCHAR(32)`` is the primary key (constraint ``<table>_pkc``, as
Alembic names it), so ``version_table = alembic_version`` reads and writes a
database that Alembic migrated. Every write checks that exactly one row changed;
anything else means another process changed the table under us, and the step
fails (and rolls back) rather than recording a wrong history.
"""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import Executable

from amigrate.errors import MigrationError
from amigrate.revisions import VersionChange, VersionWrite
from amigrate.revisions.revision import MAX_ID_LENGTH
from amigrate.runtime.direct import Write

__all__ = ["VersionTable", "write_statement"]


def write_statement(table: sa.Table, write: VersionWrite) -> Executable:
    """The SQL statement of one version-table write (see ``VersionChange.writes``)."""
    col = table.c.version_num
    if write.op == "insert":
        return table.insert().values(version_num=write.new)
    if write.op == "delete":
        return table.delete().where(col == write.old)
    return table.update().where(col == write.old).values(version_num=write.new)


class VersionTable:
    """The version table of one database (name and schema from the config)."""

    def __init__(self, name: str = "amigrate_version", schema: str | None = None) -> None:
        self.name = name
        self.schema = schema
        self.table = self._table(pk_name=f"{name}_pkc")
        # Built once: executing the same constructs with new parameters reuses
        # SQLAlchemy's compiled form (and the driver's prepared statement).
        col = self.table.c.version_num
        self._online: dict[str, Executable] = {
            "insert": self.table.insert(),
            "delete": self.table.delete().where(col == sa.bindparam("old_version")),
            "update": self.table.update()
            .where(col == sa.bindparam("old_version"))
            .values(version_num=sa.bindparam("new_version")),
        }

    def _table(self, *, pk_name: str | None) -> sa.Table:
        return sa.Table(
            self.name,
            sa.MetaData(),
            sa.Column("version_num", sa.String(MAX_ID_LENGTH), nullable=False),
            sa.PrimaryKeyConstraint("version_num", name=pk_name),
            schema=self.schema,
        )

    @property
    def qualified_name(self) -> str:
        """``schema.name`` or ``name``, for messages."""
        return f"{self.schema}.{self.name}" if self.schema else self.name

    async def exists(self, conn: AsyncConnection) -> bool:
        """Whether the table exists (a read; never creates it)."""
        return await conn.run_sync(
            lambda sync: sa.inspect(sync).has_table(self.name, schema=self.schema)
        )

    def table_for(self, dialect: Dialect) -> sa.Table:
        """The table as it is created on *dialect*."""
        if dialect.name in ("mysql", "mariadb"):
            # MySQL names every primary key PRIMARY and answers any other name with a
            # warning (1280), which asyncmy logs on each first run: the same table, with
            # the constraint left unnamed.
            return self._table(pk_name=None)
        return self.table

    async def create(self, conn: AsyncConnection, *, checkfirst: bool = True) -> None:
        """Create the table if it does not exist."""
        await conn.run_sync(
            lambda sync: self.table_for(sync.dialect).create(sync, checkfirst=checkfirst)
        )

    async def read(self, conn: AsyncConnection) -> tuple[str, ...]:
        """The heads recorded in the table, sorted (empty when there is no table)."""
        if not await self.exists(conn):
            return ()
        return await self.read_existing(conn)

    async def read_existing(self, conn: AsyncConnection) -> tuple[str, ...]:
        """The heads recorded in the table, which must exist."""
        result = await conn.execute(sa.select(self.table.c.version_num))
        return tuple(sorted(row[0] for row in result))

    async def purge(self, conn: AsyncConnection) -> None:
        """Delete every row (``stamp --purge``), whatever revisions they name."""
        await conn.execute(self.table.delete())

    def statements(self, change: VersionChange) -> list[Executable]:
        """The statements of *change*, in order (for offline SQL)."""
        return [write_statement(self.table, write) for write in change.writes]

    def writes(self, change: VersionChange) -> list[Write]:
        """The statements of *change*, each of which must change exactly one row."""
        out = []
        for write in change.writes:
            params: dict[str, str | None]
            if write.op == "insert":
                params = {"version_num": write.new}
            elif write.op == "delete":
                params = {"old_version": write.old}
            else:
                params = {"old_version": write.old, "new_version": write.new}
            out.append(Write(self._online[write.op], params, 1, partial(self._mismatch, write)))
        return out

    def _mismatch(self, write: VersionWrite, rowcount: int) -> MigrationError:
        return MigrationError(
            f"version table {self.qualified_name}: '{write}' changed {rowcount} rows, expected 1",
            hint="another process may have changed the version table; "
            "run 'amigrate current' and check who else migrates this database",
        )
