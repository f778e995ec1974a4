"""The index and constraint methods of ``op`` (a part of ``Operations``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.sql.elements import ColumnElement, TextClause

from amigrate.operations.base import MigrateOp, names
from amigrate.operations.calls import CallRecorder, OpCall
from amigrate.operations.constraints import (
    ConstraintType,
    CreateCheckConstraintOp,
    CreateExcludeConstraintOp,
    CreateForeignKeyOp,
    CreatePrimaryKeyOp,
    CreateUniqueConstraintOp,
    DropConstraintOp,
)
from amigrate.operations.indexes import CreateIndexOp, DropIndexOp, IndexElement

__all__ = ["ConstraintMethods"]


class ConstraintMethods(CallRecorder):
    """Indexes and constraints: ``create_index``, ``create_foreign_key``, ``drop_constraint``..."""

    def _run(self, op: MigrateOp) -> Any:
        raise NotImplementedError

    def create_index(
        self,
        index_name: str | None,
        table_name: str,
        columns: IndexElement | Sequence[IndexElement],
        *,
        schema: str | None = None,
        unique: bool = False,
        if_not_exists: bool = False,
        **kw: Any,
    ) -> OpCall[None]:
        """Create an index on column names and/or expressions (``sa.text("lower(email)")``).

        *kw* are dialect options: ``postgresql_where=``, ``postgresql_include=``,
        ``postgresql_using=``, ``postgresql_concurrently=True`` (inside
        ``op.autocommit_block()``), ``mysql_length=``, ...
        """
        cols = tuple(columns) if isinstance(columns, list | tuple) else (columns,)
        op = CreateIndexOp(
            index_name,
            table_name,
            cols,
            schema=schema,
            unique=unique,
            if_not_exists=if_not_exists,
            kw=kw,
        )
        return self._call(op, self._run)

    def drop_index(
        self,
        index_name: str,
        table_name: str | None = None,
        *,
        schema: str | None = None,
        if_exists: bool = False,
        **kw: Any,
    ) -> OpCall[None]:
        """Drop an index (``table_name`` is needed on MySQL/MariaDB)."""
        op = DropIndexOp(index_name, table_name, schema=schema, if_exists=if_exists, kw=kw)
        return self._call(op, self._run)

    def create_primary_key(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
    ) -> OpCall[None]:
        """Add a primary key on existing columns."""
        op = CreatePrimaryKeyOp(constraint_name, table_name, names(columns), schema)
        return self._call(op, self._run)

    def create_unique_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
        **kw: Any,
    ) -> OpCall[None]:
        """Add a unique constraint (*kw*: ``deferrable``, ``initially``, dialect options)."""
        op = CreateUniqueConstraintOp(constraint_name, table_name, names(columns), schema, kw)
        return self._call(op, self._run)

    def create_foreign_key(
        self,
        constraint_name: str | None,
        source_table: str,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        *,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        source_schema: str | None = None,
        referent_schema: str | None = None,
        **dialect_kw: Any,
    ) -> OpCall[None]:
        """Add a foreign key: ``source_table(local_cols)`` -> ``referent_table(remote_cols)``."""
        op = CreateForeignKeyOp(
            constraint_name,
            source_table,
            referent_table,
            names(local_cols),
            names(remote_cols),
            onupdate=onupdate,
            ondelete=ondelete,
            deferrable=deferrable,
            initially=initially,
            match=match,
            source_schema=source_schema,
            referent_schema=referent_schema,
            kw=dialect_kw,
        )
        return self._call(op, self._run)

    def create_check_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        condition: str | TextClause | ColumnElement[bool],
        *,
        schema: str | None = None,
        **kw: Any,
    ) -> OpCall[None]:
        """Add a check constraint; *condition* is SQL text or a SQL expression."""
        op = CreateCheckConstraintOp(constraint_name, table_name, condition, schema, kw)
        return self._call(op, self._run)

    def create_exclude_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        *elements: tuple[Any, str],
        where: str | TextClause | ColumnElement[bool] | None = None,
        schema: str | None = None,
        **kw: Any,
    ) -> OpCall[None]:
        """Add a PostgreSQL ``EXCLUDE`` constraint: ``("period", "&&"), ("room", "=")``.

        Elements are ``(column or expression, operator)`` pairs as for
        ``postgresql.ExcludeConstraint``; *kw* are ``using``, ``deferrable``,
        ``initially``. Other dialects refuse it before anything runs.
        """
        op = CreateExcludeConstraintOp(
            constraint_name, table_name, tuple(elements), where, schema, kw
        )
        return self._call(op, self._run)

    def drop_constraint(
        self,
        constraint_name: str,
        table_name: str,
        type_: ConstraintType | None = None,
        *,
        schema: str | None = None,
        if_exists: bool = False,
    ) -> OpCall[None]:
        """Drop a constraint by name.

        ``type_`` is one of ``"foreignkey"``, ``"primary"``, ``"unique"``,
        ``"check"``; MySQL/MariaDB need it, since they drop each kind differently.
        """
        op = DropConstraintOp(constraint_name, table_name, type_, schema, if_exists)
        return self._call(op, self._run)
