"""Recreate a table with changes ("move and copy"): the model behind a SQLite batch.

:class:`TableRebuild` starts from the table as it is (reflected, or ``copy_from``),
takes the batch's ops one by one, and then produces the statements: create the
new table under a temporary name, copy the rows, drop the old table, rename the
new one, and recreate its indexes and triggers. Constraints are kept by column
*name*, so renames and drops can follow them; stored SQL (check expressions,
index definitions) is rewritten with :mod:`amigrate.dialects.sqltext`.

Pure: no connection here. Every argument error is a ``ScriptError`` naming the
batch, raised before any statement runs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable
from sqlalchemy.sql.expression import Executable

from amigrate.dialects.common import stand_in, type_constraints
from amigrate.dialects.ddl import RawDDL, RenameTable
from amigrate.dialects.sqltext import (
    identifiers,
    in_schema,
    rename_identifier,
    split_index_sql,
)
from amigrate.dialects.tablemodel import (
    ColumnPlan,
    ConstraintPlan,
    TableModel,
    copy_type,
    plain_name,
)
from amigrate.errors import ScriptError
from amigrate.operations.base import MigrateOp
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateCheckConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    CreateTableCommentOp,
    CreateUniqueConstraintOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    DropTableCommentOp,
)

__all__ = ["TableRebuild"]


class TableRebuild(TableModel):
    """The new definition of one table, built up op by op (see the module docstring)."""

    # -- errors ----------------------------------------------------------------------------

    def _error(self, op: MigrateOp, message: str, hint: str) -> ScriptError:
        return ScriptError(
            f"batch_alter_table({self.table_name!r}): {op.describe()}: {message}", hint=hint
        )

    def _column(self, op: MigrateOp, name: str) -> ColumnPlan:
        column = self.columns.get(name)
        if column is None:
            raise self._error(
                op,
                f"{self.table_name!r} has no column {name!r}",
                f"its columns are: {', '.join(self.columns)}",
            )
        return column

    # -- the batch's ops -------------------------------------------------------------------

    def apply(self, op: MigrateOp) -> None:
        """Take one op of the batch into the new definition."""
        if isinstance(op, AddColumnOp):
            self._add_column(op)
        elif isinstance(op, DropColumnOp):
            self._drop_column(op)
        elif isinstance(op, AlterColumnOp):
            self._alter_column(op)
        elif isinstance(op, CreateIndexOp):
            self._create_index(op)
        elif isinstance(op, DropIndexOp):
            self._drop_index(op)
        elif isinstance(op, CreatePrimaryKeyOp):
            self._check_columns(op, list(op.columns))
            cols = list(op.columns)
            self.primary_key = ConstraintPlan(
                "primary", self._named("primary", op.constraint_name, cols), cols
            )
        elif isinstance(
            op, CreateUniqueConstraintOp | CreateCheckConstraintOp | CreateForeignKeyOp
        ):
            constraint = self._model(op.to_constraint())
            self._check_columns(op, constraint.columns)
            self.constraints.append(constraint)
        elif isinstance(op, DropConstraintOp):
            self._drop_constraint(op)
        elif isinstance(op, CreateTableCommentOp):
            self.comment = op.comment
        elif isinstance(op, DropTableCommentOp):
            self.comment = None
        else:
            raise self._error(
                op, "this op cannot be part of a batch", "run it before or after the batch"
            )

    def _check_columns(self, op: MigrateOp, names: list[str]) -> None:
        for name in names:
            self._column(op, name)

    def _place(self, op: MigrateOp, name: str, before: str | None, after: str | None) -> None:
        order = [c for c in self.columns if c != name]
        if before is not None:
            self._column(op, before)
            order.insert(order.index(before), name)
        elif after is not None:
            self._column(op, after)
            order.insert(order.index(after) + 1, name)
        else:
            order.append(name)
        self.columns = {c: self.columns[c] for c in order}

    def _add_column(self, op: AddColumnOp) -> None:
        name = op.column.name
        if name in self.columns:
            if op.if_not_exists:
                return
            raise self._error(op, f"{self.table_name!r} already has a column {name!r}", "")
        # Attach a copy to a scratch table to see what the column brings (FK, unique, index).
        metadata = (
            sa.MetaData(naming_convention=dict(self.naming_convention))
            if self.naming_convention
            else sa.MetaData()
        )
        scratch = sa.Table(self.table_name, metadata, op.column._copy(), schema=self.schema)
        column = scratch.c[name]
        self.columns[name] = ColumnPlan.of(column, source=None)
        self._place(op, name, op.insert_before, op.insert_after)
        if column.primary_key:
            pk = self.primary_key or ConstraintPlan("primary", None, [])
            pk.columns.append(name)
            self.primary_key = pk
        self._harvest_new(scratch)

    def _harvest_new(self, scratch: sa.Table) -> None:
        saved_pk = self.primary_key
        self._harvest(scratch)
        self.primary_key = saved_pk  # the scratch table's key is the new column alone
        for index in scratch.indexes:
            expressions = [e.name if isinstance(e, sa.Column) else e for e in index.expressions]
            self.new_indexes.append(
                CreateIndexOp(
                    plain_name(index.name),
                    self.table_name,
                    tuple(expressions),
                    schema=self.schema,
                    unique=bool(index.unique),
                )
            )

    def _drop_column(self, op: DropColumnOp) -> None:
        name = op.column_name
        if name not in self.columns and op.if_exists:
            return
        self._column(op, name)
        del self.columns[name]
        key = name.lower()
        if self.primary_key is not None and name in self.primary_key.columns:
            self.primary_key.columns.remove(name)
            if not self.primary_key.columns:
                self.primary_key = None
        # As PostgreSQL does: indexes and constraints that use the column go with it.
        self.constraints = [
            c
            for c in self.constraints
            if name not in c.columns
            and (c.sqltext is None or key not in identifiers(c.sqltext))
            and not self._refers_to_own(c, name)
        ]
        self.indexes = {
            n: sql
            for n, sql in self.indexes.items()
            if key not in identifiers(split_index_sql(sql)[1])
        }
        self.new_indexes = [i for i in self.new_indexes if name not in i.columns]

    def _refers_to_own(self, constraint: ConstraintPlan, column: str) -> bool:
        ref = constraint.referent
        return (
            ref is not None
            and (ref[0], ref[1]) == (self.schema, self.table_name)
            and column in ref[2]
        )

    def _alter_column(self, op: AlterColumnOp) -> None:
        column = self._column(op, op.column_name)
        if op.type_ is not None:
            self._drop_type_checks(op.column_name, op.existing_type, op.type_)
            column.type_ = copy_type(op.type_)
        if op.nullable is not None:
            column.nullable = op.nullable
        if op.server_default is not False:
            column.server_default = op.server_default
        if op.comment is not False:
            column.comment = op.comment
        if op.autoincrement is not None:
            column.autoincrement = op.autoincrement
        name = op.column_name
        if "name" in op.changes:
            assert op.new_column_name is not None
            new = op.new_column_name
            if new in self.columns:
                raise self._error(op, f"{self.table_name!r} already has a column {new!r}", "")
            self._rename(name, new)
            name = new
        if op.insert_before is not None or op.insert_after is not None:
            self._place(op, name, op.insert_before, op.insert_after)

    def _drop_type_checks(self, name: str, old_type: Any, new_type: Any) -> None:
        """A column's type changes: the CHECKs its old type made (``existing_type``'s: a
        non-native Boolean's or Enum's) go, and so does a stored one the new type makes
        again (by name, or unnamed by its text), as Alembic's alter_column drops them."""
        made = [
            c
            for type_ in (old_type, new_type)
            if type_ is not None
            for c in type_constraints(self.table_name, self.schema, name, type_, self.dialect)
            if isinstance(c, sa.CheckConstraint)
        ]
        names = {c.name for c in made if isinstance(c.name, str)}
        texts = {_words(self._sql(c.sqltext)) for c in made}
        self.constraints = [
            c
            for c in self.constraints
            if not (
                c.kind == "check"
                and (c.name in names or (c.name is None and _words(c.sqltext or "") in texts))
            )
        ]

    def _rename(self, old: str, new: str) -> None:
        column = self.columns[old]
        column.name = new
        self.columns = {(new if k == old else k): v for k, v in self.columns.items()}
        quote = self.dialect.identifier_preparer.quote

        def swap(names: list[str]) -> list[str]:
            return [new if n == old else n for n in names]

        for constraint in [*self.constraints, *([self.primary_key] if self.primary_key else [])]:
            constraint.columns = swap(constraint.columns)
            if constraint.sqltext is not None:
                constraint.sqltext = rename_identifier(constraint.sqltext, old, new, quote)
            if self._refers_to_own(constraint, old):
                assert constraint.referent is not None
                schema, table, cols = constraint.referent
                constraint.referent = (schema, table, swap(cols))
        for index_name, sql in self.indexes.items():
            head, body = split_index_sql(sql)
            self.indexes[index_name] = head + rename_identifier(body, old, new, quote)
        for plan in self.columns.values():  # generated columns' expressions
            computed = plan.server_default
            if isinstance(computed, sa.Computed):
                text = str(computed.sqltext)
                renamed = rename_identifier(text, old, new, quote)
                if renamed != text:
                    plan.server_default = sa.Computed(sa.text(renamed), computed.persisted)
        self.new_indexes = [
            replace(i, columns=tuple(new if c == old else c for c in i.columns))
            for i in self.new_indexes
        ]

    def _create_index(self, op: CreateIndexOp) -> None:
        self._check_columns(op, [c for c in op.columns if isinstance(c, str)])
        self.new_indexes.append(op)

    def _drop_index(self, op: DropIndexOp) -> None:
        for i, index in enumerate(self.new_indexes):
            if index.index_name == op.index_name:
                del self.new_indexes[i]
                return
        if op.index_name in self.indexes:
            del self.indexes[op.index_name]
        elif not op.if_exists:
            known = [*self.indexes, *(str(i.index_name) for i in self.new_indexes)]
            raise self._error(
                op,
                f"{self.table_name!r} has no index {op.index_name!r}",
                f"its indexes are: {', '.join(known) or '(none)'}",
            )

    def _drop_constraint(self, op: DropConstraintOp) -> None:
        if self.primary_key is not None and (
            op.constraint_name == self.primary_key.name
            or (op.type_ == "primary" and self.primary_key.name is None)
        ):
            self.primary_key = None
            return
        for i, constraint in enumerate(self.constraints):
            if constraint.name is not None and constraint.name == op.constraint_name:
                del self.constraints[i]
                return
        if op.if_exists:
            return
        named = [c.name for c in self.constraints if c.name is not None]
        if self.primary_key is not None and self.primary_key.name:
            named.append(self.primary_key.name)
        raise self._error(
            op,
            f"{self.table_name!r} has no constraint named {op.constraint_name!r}",
            f"its named constraints are: {', '.join(sorted(named)) or '(none)'}; "
            "unnamed ones get names from batch_alter_table(naming_convention=...)",
        )

    # -- the statements --------------------------------------------------------------------

    def reorder(self, partial_reordering: tuple[tuple[str, ...], ...]) -> None:
        """Put each group of columns in its given order (the rest keep their places)."""
        for group in partial_reordering:
            order = list(self.columns)
            slots = sorted(order.index(c) for c in group if c in self.columns)
            for slot, name in zip(slots, [c for c in group if c in self.columns], strict=True):
                order[slot] = name
            self.columns = {c: self.columns[c] for c in order}

    def _carry_sequence(self, temp_name: str) -> list[Executable]:
        """Give the new table the old one's AUTOINCREMENT counter, so deleted ids stay unused.

        Copying the rows sets the new counter to the highest id copied; the old
        counter can be higher (rows deleted at the end). RENAME TABLE moves the
        counter's row to the final name.
        """
        quote = self.dialect.identifier_preparer.quote
        sequence = f"{quote(self.schema)}.sqlite_sequence" if self.schema else "sqlite_sequence"

        def literal(name: str) -> str:
            return "'" + name.replace("'", "''") + "'"

        old_seq = f"(SELECT seq FROM {sequence} WHERE name = {literal(self.table_name)})"
        return [
            RawDDL(
                f"UPDATE {sequence} SET seq = max(seq, coalesce({old_seq}, 0)) "
                f"WHERE name = {literal(temp_name)}"
            ),
            RawDDL(
                f"INSERT INTO {sequence} (name, seq) SELECT {literal(temp_name)}, seq "
                f"FROM {sequence} WHERE name = {literal(self.table_name)} AND NOT EXISTS "
                f"(SELECT 1 FROM {sequence} WHERE name = {literal(temp_name)})"
            ),
        ]

    def _check_kept(self) -> None:
        """Refuse a constraint the new table would have to keep but could not."""
        for plan in [self.primary_key, *self.constraints]:
            if plan is not None and plan.problem is not None:
                what = "primary key" if plan.kind == "primary" else f"{plan.kind} constraint"
                named = f" {plan.name!r}" if plan.name else ""
                raise ScriptError(
                    f"batch_alter_table({self.table_name!r}): its {what}{named} on "
                    f"{', '.join(plan.columns)} {plan.problem}, which the recreated table "
                    "could not keep",
                    hint="drop it in this batch (and create a unique index with the "
                    "collation after it), or recreate the table yourself",
                )

    def statements(
        self,
        *,
        table_args: tuple[Any, ...] = (),
        table_kwargs: dict[str, Any] | None = None,
        legacy_alter_table: bool = False,
    ) -> list[Executable]:
        """Create the new table, copy the rows, drop the old one, rename, re-index."""
        self._check_kept()
        metadata = sa.MetaData()
        temp_name = f"_amigrate_tmp_{self.table_name}"
        constraints = [self.build_constraint(c, metadata) for c in self.constraints]
        if self.primary_key is not None and self.primary_key.columns:
            constraints.insert(0, self.build_constraint(self.primary_key, metadata))
        kwargs = {**self.kwargs, **(table_kwargs or {})}
        if self.comment is not None:
            kwargs["comment"] = self.comment
        new = sa.Table(
            temp_name,
            metadata,
            *(c.build() for c in self.columns.values()),
            *constraints,
            *table_args,
            schema=self.schema,
            **kwargs,
        )
        pk = self.primary_key
        if pk is not None and len(pk.columns) == 1 and "sqlite_on_conflict" in pk.options:
            # An AUTOINCREMENT key is written in its column, which SQLAlchemy gives
            # the column's own ON CONFLICT (the table constraint's is not used there).
            resolution = pk.options["sqlite_on_conflict"]
            new.c[pk.columns[0]].dialect_kwargs["sqlite_on_conflict_primary_key"] = resolution
        # A generated column computes its values in the new table: it takes no INSERT.
        copied = [
            c
            for c in self.columns.values()
            if c.source is not None and not isinstance(c.server_default, sa.Computed)
        ]
        old = stand_in(
            self.table_name,
            self.schema,
            *(sa.Column(c.source, sa.types.NullType()) for c in copied if c.source),
        )
        statements: list[Executable] = [
            CreateTable(new),
            new.insert().from_select(
                [c.name for c in copied], sa.select(*(c.copy_expression(old) for c in copied))
            ),
        ]
        if self.dialect.name == "sqlite" and new.dialect_options["sqlite"]["autoincrement"]:
            statements += self._carry_sequence(temp_name)
        statements.append(DropTable(old))
        rename = RenameTable(stand_in(temp_name, self.schema), self.table_name)
        if self.dialect.name == "sqlite" and not legacy_alter_table:
            # Modern RENAME checks every view and trigger against the schema, and a view
            # of the dropped table would fail it; the legacy rename does not look.
            statements += [
                RawDDL("PRAGMA legacy_alter_table = ON"),
                rename,
                RawDDL("PRAGMA legacy_alter_table = OFF"),
            ]
        else:
            statements.append(rename)
        statements += [RawDDL(self._stored(sql)) for sql in self.indexes.values()]
        statements += [CreateIndex(op.to_index()) for op in self.new_indexes]
        statements += [RawDDL(self._stored(sql)) for sql in self.triggers]
        return statements

    def _stored(self, sql: str) -> str:
        """Stored SQL of an index or trigger, to be made again where the table is."""
        if self.schema is None:
            return sql
        return in_schema(sql, self.dialect.identifier_preparer.quote_schema(self.schema))


def _words(sql: str) -> str:
    """*sql* with its whitespace normalised, to compare stored and generated CHECKs."""
    return " ".join(sql.split())
