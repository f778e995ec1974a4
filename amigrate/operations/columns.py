"""Column operations: add, drop and alter a column."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

from amigrate.errors import ScriptError
from amigrate.operations.base import MigrateOp

__all__ = [
    "AddColumnOp",
    "AlterColumnOp",
    "DropColumnOp",
    "ServerDefault",
    "check_alter_kw",
    "check_placement",
]

#: What ``server_default=`` accepts: a string (a literal), ``sa.text()`` or a SQL
#: expression, ``sa.Computed`` / ``sa.Identity``, or None (drop the default).
ServerDefault = str | sa.TextClause | sa.ColumnElement[Any] | sa.schema.FetchedValue | None


@dataclass(frozen=True, eq=False)
class AddColumnOp(MigrateOp):
    """Add a column to an existing table.

    ``insert_before`` / ``insert_after`` place the column in a batch (SQLite
    recreates the table, MySQL says ``AFTER``); a plain ``ADD COLUMN`` appends it.
    ``inline_references`` writes the column's single-column foreign key as
    ``REFERENCES`` in the ``ADD COLUMN`` (not as a second statement);
    ``inline_primary_key`` writes ``PRIMARY KEY`` there (as Alembic 1.18's).
    """

    table_name: str
    column: sa.Column[Any]
    schema: str | None = None
    if_not_exists: bool = False
    insert_before: str | None = None
    insert_after: str | None = None
    inline_references: bool | None = None
    inline_primary_key: bool | None = None

    def reverse(self) -> DropColumnOp:
        return DropColumnOp(self.table_name, self.column.name, schema=self.schema)

    def describe(self) -> str:
        return f"add_column({self.table_name!r}, {self.column.name!r})"


@dataclass(frozen=True, eq=False)
class DropColumnOp(MigrateOp):
    """Drop a column (with the indexes and constraints that use it, where the dialect does)."""

    table_name: str
    column_name: str
    schema: str | None = None
    if_exists: bool = False

    def describe(self) -> str:
        return f"drop_column({self.table_name!r}, {self.column_name!r})"


@dataclass(frozen=True, eq=False)
class AlterColumnOp(MigrateOp):
    """Change a column's type, nullability, server default, comment or name.

    A change is given by ``nullable`` / ``type_`` (None: unchanged),
    ``server_default`` / ``comment`` (False: unchanged, None: remove) and
    ``new_column_name``. The ``existing_*`` fields describe the column as it is:
    MySQL/MariaDB redefine the whole column (``MODIFY``) — online amigrate restates
    it as the database has it, with only these changes; offline SQL writes it from
    the ``existing_*`` values, so whatever is not given is lost, and needs at least
    ``existing_type``. ``reverse()`` uses them too. In a batch, ``insert_before`` /
    ``insert_after`` move the column (SQLite recreates the table, MySQL says
    ``MODIFY ... AFTER``; offline that needs ``existing_nullable`` and
    ``existing_server_default`` too).
    """

    table_name: str
    column_name: str
    schema: str | None = None
    nullable: bool | None = None
    type_: TypeEngine[Any] | None = None
    server_default: ServerDefault | Literal[False] = False
    new_column_name: str | None = None
    comment: str | Literal[False] | None = False
    autoincrement: bool | None = None
    existing_type: TypeEngine[Any] | None = None
    existing_nullable: bool | None = None
    existing_server_default: ServerDefault | Literal[False] = False
    existing_comment: str | None = None
    existing_autoincrement: bool | None = None
    postgresql_using: str | None = None
    insert_before: str | None = None
    insert_after: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def changes(self) -> tuple[str, ...]:
        """What this op changes: ``type``, ``nullable``, ``default``, ``comment``, ``name``..."""
        found = []
        if self.type_ is not None:
            found.append("type")
        if self.nullable is not None:
            found.append("nullable")
        if self.server_default is not False:
            found.append("default")
        if self.comment is not False:
            found.append("comment")
        if self.autoincrement is not None:
            found.append("autoincrement")
        if self.new_column_name is not None and self.new_column_name != self.column_name:
            found.append("name")
        return tuple(found)

    def reverse(self) -> AlterColumnOp:
        missing = [
            name
            for name, changed, known in (
                ("existing_type", self.type_ is not None, self.existing_type is not None),
                (
                    "existing_nullable",
                    self.nullable is not None,
                    self.existing_nullable is not None,
                ),
                (
                    "existing_server_default",
                    self.server_default is not False,
                    self.existing_server_default is not False,
                ),
            )
            if changed and not known
        ]
        if missing:
            raise NotImplementedError(
                f"{self.describe()} cannot be reversed without {', '.join(missing)}"
            )
        return AlterColumnOp(
            self.table_name,
            self.new_column_name or self.column_name,
            schema=self.schema,
            nullable=self.existing_nullable if self.nullable is not None else None,
            type_=self.existing_type if self.type_ is not None else None,
            server_default=(
                self.existing_server_default if self.server_default is not False else False
            ),
            new_column_name=self.column_name if "name" in self.changes else None,
            comment=self.existing_comment if self.comment is not False else False,
            existing_type=self.type_ or self.existing_type,
            existing_nullable=self.nullable
            if self.nullable is not None
            else self.existing_nullable,
            existing_server_default=(
                self.server_default
                if self.server_default is not False
                else self.existing_server_default
            ),
            existing_comment=(self.comment if self.comment is not False else self.existing_comment),
        )

    def describe(self) -> str:
        return f"alter_column({self.table_name!r}, {self.column_name!r})"


# The prefixes of the dialect options alter_column passes on in ``kw``.
_DIALECTS = ("postgresql_", "mysql_", "mariadb_", "sqlite_", "mssql_", "oracle_")


def check_alter_kw(table_name: str, column_name: str, kw: Mapping[str, Any]) -> None:
    """Refuse an ``alter_column`` keyword that is neither an argument nor a dialect
    option (``<dialect>_<option>``): a misspelt ``nulable=False`` would otherwise
    change nothing, silently."""
    for key in kw:
        where = f"alter_column({table_name!r}, {column_name!r})"
        if key in ("insert_before", "insert_after"):
            raise ScriptError(
                f"{where}: {key} moves a column only in a batch",
                hint=f"write 'async with op.batch_alter_table({table_name!r}) as batch:' "
                f"and 'await batch.alter_column({column_name!r}, {key}=...)' in it",
            )
        if not key.startswith(_DIALECTS):
            raise ScriptError(
                f"{where}: unexpected keyword argument {key!r}",
                hint="check its spelling; dialect options are named <dialect>_<option> "
                "(postgresql_using)",
            )


def check_placement(
    what: str, names: tuple[str | None, ...], insert_before: str | None, insert_after: str | None
) -> None:
    """Refuse a placement that names no place: both sides at once, or the column itself
    under any of its *names* (a rename's new one too): MySQL would say ``AFTER a`` of
    ``a``; SQLite's rebuild lost the column's place."""
    if insert_before is not None and insert_after is not None:
        raise ScriptError(
            f"{what}: give insert_before or insert_after, not both",
            hint="name the one neighbour the column goes next to",
        )
    for key, place in (("insert_before", insert_before), ("insert_after", insert_after)):
        if place is not None and place in names:
            raise ScriptError(
                f"{what}: {key}={place!r} names the column itself",
                hint="name the column it goes next to",
            )
