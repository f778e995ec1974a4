"""Table operations: create, drop, rename, and table comments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from amigrate.operations.base import MigrateOp, new_metadata

__all__ = [
    "CreateTableCommentOp",
    "CreateTableOp",
    "DropTableCommentOp",
    "DropTableOp",
    "RenameTableOp",
]


def _attached_to(item: sa.schema.SchemaItem) -> object:
    """The table an item already belongs to, or None (without raising for loose items)."""
    if isinstance(item, sa.Column | sa.Index):
        return item.table
    return getattr(item, "parent", None)


def _owner(items: tuple[sa.schema.SchemaItem, ...]) -> sa.Table | None:
    """The table every item already belongs to, if they all belong to one."""
    owners = {id(_attached_to(item)): _attached_to(item) for item in items}
    if len(owners) == 1:
        (owner,) = owners.values()
        if isinstance(owner, sa.Table):
            return owner
    return None


def _copy_table(table: sa.Table) -> sa.Table:
    """*table* in a metadata of its own, its columns' named types in their own schemas
    (``to_metadata`` gives an ``Enum(schema="other")`` the table's schema instead)."""
    copy = table.to_metadata(new_metadata())
    for column in table.columns:
        schema = getattr(column.type, "schema", None)
        copied = copy.c[column.key].type
        if (
            isinstance(column.type, sa.types.SchemaType)
            and getattr(copied, "schema", None) != schema
        ):
            copied.schema = schema  # type: ignore[attr-defined]
    return copy


@dataclass(frozen=True, eq=False)
class CreateTableOp(MigrateOp):
    """Create a table from columns, constraints and indexes.

    ``kw`` holds the ``Table`` keywords: ``comment=``, ``info=``, ``prefixes=`` and
    dialect options such as ``mysql_engine=``.
    """

    table_name: str
    columns: tuple[sa.schema.SchemaItem, ...]
    schema: str | None = None
    if_not_exists: bool = False
    kw: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def _template(self) -> sa.Table:
        # Columns, constraints and indexes attach to one table only, once; build that
        # table once and hand out copies, so the op compiles any number of times.
        owner = _owner(self.columns)
        if owner is not None:  # the items of an existing Table (a reversed drop_table)
            return _copy_table(owner)
        return sa.Table(
            self.table_name, new_metadata(), *self.columns, schema=self.schema, **self.kw
        )

    def to_table(self, metadata: sa.MetaData | None = None) -> sa.Table:
        """The ``Table`` this operation creates: the op's own, or a copy in *metadata*.

        Compiling does not change a table, so the op's own one serves every
        compilation; a migration of a thousand tables should not build each twice.
        """
        if metadata is None:
            return self._template
        return self._template.to_metadata(metadata)

    def reverse(self) -> DropTableOp:
        return DropTableOp(self.table_name, schema=self.schema, definition=self.to_table())

    def describe(self) -> str:
        return f"create_table({self.table_name!r})"


@dataclass(frozen=True, eq=False)
class DropTableOp(MigrateOp):
    """Drop a table.

    ``definition`` is the table as it was, when that is known (the reverse of a
    ``create_table``, or autogenerate): it makes the op reversible and lets offline
    SQL drop the PostgreSQL enum types the table used (online runs find those in
    the catalog).
    """

    table_name: str
    schema: str | None = None
    if_exists: bool = False
    definition: sa.Table | None = None

    def reverse(self) -> CreateTableOp:
        table = self.definition
        if table is None:
            return super().reverse()  # type: ignore[return-value]
        kw: dict[str, Any] = dict(table.kwargs)
        if table.comment is not None:
            kw["comment"] = table.comment
        items = (*table.columns, *table.constraints, *table.indexes)
        return CreateTableOp(self.table_name, items, schema=self.schema, kw=kw)

    def describe(self) -> str:
        return f"drop_table({self.table_name!r})"


@dataclass(frozen=True, eq=False)
class RenameTableOp(MigrateOp):
    """Rename a table (it stays in its schema)."""

    table_name: str
    new_table_name: str
    schema: str | None = None

    def reverse(self) -> RenameTableOp:
        return RenameTableOp(self.new_table_name, self.table_name, schema=self.schema)

    def describe(self) -> str:
        return f"rename_table({self.table_name!r}, {self.new_table_name!r})"


@dataclass(frozen=True, eq=False)
class CreateTableCommentOp(MigrateOp):
    """Set a table's comment; ``existing_comment`` is what ``reverse()`` restores."""

    table_name: str
    comment: str
    schema: str | None = None
    existing_comment: str | None = None

    def reverse(self) -> CreateTableCommentOp | DropTableCommentOp:
        if self.existing_comment is None:
            return DropTableCommentOp(self.table_name, self.schema, existing_comment=self.comment)
        return CreateTableCommentOp(
            self.table_name, self.existing_comment, self.schema, existing_comment=self.comment
        )

    def describe(self) -> str:
        return f"create_table_comment({self.table_name!r})"


@dataclass(frozen=True, eq=False)
class DropTableCommentOp(MigrateOp):
    """Remove a table's comment; ``existing_comment`` is what ``reverse()`` restores."""

    table_name: str
    schema: str | None = None
    existing_comment: str | None = None

    def reverse(self) -> CreateTableCommentOp:
        if self.existing_comment is None:
            return super().reverse()  # type: ignore[return-value]
        return CreateTableCommentOp(self.table_name, self.existing_comment, self.schema)

    def describe(self) -> str:
        return f"drop_table_comment({self.table_name!r})"
