"""Operations as the code of ``async def upgrade(op)``: ``await op.add_column(...)``.

One renderer per op class (a registry, as the dialects compile ops), each
giving a :class:`~amigrate.autogenerate.code.Call`; inside a batch block the
same op renders as ``await batch.<method>(...)`` without the table name.
:func:`render_ops` prints a list of ops as the body of a revision function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import conv

from amigrate.autogenerate.code import Call, Kw, Node, Seq, format_statement, py_str
from amigrate.autogenerate.literals import (
    RenderContext,
    render_server_default,
    render_type,
    render_value,
    sql,
)
from amigrate.errors import CommandError
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    BatchAlterTableOp,
    CreateCheckConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    CreateTableCommentOp,
    CreateTableOp,
    CreateUniqueConstraintOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    DropTableCommentOp,
    DropTableOp,
    MigrateOp,
    RenameTableOp,
)

__all__ = ["render_column", "render_op", "render_ops"]

OpT = TypeVar("OpT", bound=MigrateOp)
# (op, context, in_batch) -> (method, arguments)
Renderer = Callable[[Any, RenderContext, bool], tuple[str, list[Node]]]
_RENDERERS: dict[type[MigrateOp], Renderer] = {}


def _renders(cls: type[OpT]) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        _RENDERERS[cls] = fn
        return fn

    return register


def _kw(args: list[Node], name: str, value: Any, ctx: RenderContext, *, skip: Any = None) -> None:
    """Append ``name=value`` unless *value* is *skip* (None by default)."""
    if value is skip or (skip is None and value is None):
        return
    rendered = render_value(value, ctx)
    args.append(Kw(name, rendered if rendered is not None else repr(value)))


def _names(names: Sequence[str]) -> Seq:
    return Seq(tuple(py_str(n) for n in names))


def _table_args(table: str, batch: bool) -> list[Node]:
    """The table name, which a batch's methods do not take."""
    return [] if batch else [py_str(table)]


def _schema(args: list[Node], schema: str | None, batch: bool, ctx: RenderContext) -> None:
    if not batch:
        _kw(args, "schema", schema, ctx)


def _extra(args: list[Node], kw: Any, ctx: RenderContext) -> None:
    for name, value in kw.items():
        _kw(args, name, value, ctx)


# -- columns and schema items -------------------------------------------------------------


def _fk_node(fk: sa.ForeignKey, ctx: RenderContext) -> Node:
    args: list[Node] = [py_str(fk.target_fullname)]
    constraint = fk.constraint
    _kw(args, "name", fk.name if isinstance(fk.name, str) else None, ctx)
    for option in ("ondelete", "onupdate", "deferrable", "initially", "match"):
        _kw(args, option, getattr(constraint, option, None) or getattr(fk, option), ctx)
    return Call(ctx.sa("ForeignKey"), tuple(args))


def _generated(column: sa.Column[Any], ctx: RenderContext) -> list[Node]:
    default = column.server_default
    if isinstance(default, sa.Identity):
        args: list[Node] = []
        _kw(args, "always", default.always, ctx, skip=False)
        _kw(args, "on_null", default.on_null, ctx)
        for option in ("start", "increment", "minvalue", "maxvalue", "cycle", "cache", "order"):
            _kw(args, option, getattr(default, option, None), ctx)
        return [Call(ctx.sa("Identity"), tuple(args))]
    if isinstance(default, sa.Computed):
        args = [py_str(sql(default.sqltext, ctx))]
        _kw(args, "persisted", default.persisted, ctx)
        return [Call(ctx.sa("Computed"), tuple(args))]
    return []


def render_column(column: sa.Column[Any], ctx: RenderContext, *, in_table: bool = False) -> Node:
    """``sa.Column("name", type, ...)``; *in_table*: keys and indexes are rendered by the table."""
    args: list[Node] = [py_str(column.name), render_type(column.type, ctx)]
    if not in_table:
        args += [
            _fk_node(fk, ctx) for fk in sorted(column.foreign_keys, key=lambda f: f.target_fullname)
        ]
    args += _generated(column, ctx)
    for check in column.constraints if not in_table else ():
        if isinstance(check, sa.CheckConstraint):
            check_args: list[Node] = [py_str(sql(check.sqltext, ctx))]
            _constraint_name(check_args, check, ctx)
            args.append(Call(ctx.sa("CheckConstraint"), tuple(check_args)))
    if not in_table and column.primary_key:
        args.append(Kw("primary_key", "True"))
    if not column.nullable and (in_table or not column.primary_key):
        args.append(Kw("nullable", "False"))
    if isinstance(column.server_default, sa.DefaultClause):
        args.append(Kw("server_default", render_server_default(column.server_default, ctx)))
    if isinstance(column.autoincrement, bool):
        args.append(Kw("autoincrement", repr(column.autoincrement)))
    _kw(args, "comment", column.comment, ctx)
    if not in_table:
        _kw(args, "unique", column.unique, ctx, skip=None)
        _kw(args, "index", column.index, ctx, skip=None)
    return Call(ctx.sa("Column"), tuple(args))


def _constraint_name(args: list[Node], item: sa.Constraint | sa.Index, ctx: RenderContext) -> None:
    if isinstance(item.name, str):
        args.append(Kw("name", _name(item.name)))


def _table_items(table: sa.Table, ctx: RenderContext) -> list[Node]:
    items: list[Node] = [render_column(c, ctx, in_table=True) for c in table.columns]
    pk = table.primary_key
    if pk.columns:
        args: list[Node] = [py_str(c.name) for c in pk.columns]
        _constraint_name(args, pk, ctx)
        items.append(Call(ctx.sa("PrimaryKeyConstraint"), tuple(args)))
    for fk in sorted(
        table.foreign_key_constraints, key=lambda c: (str(c.name or ""), c.column_keys)
    ):
        args = [
            _names([c.name for c in fk.columns]),
            _names([e.target_fullname for e in fk.elements]),
        ]
        _constraint_name(args, fk, ctx)
        for option in ("ondelete", "onupdate", "deferrable", "initially", "match"):
            _kw(args, option, getattr(fk, option), ctx)
        items.append(Call(ctx.sa("ForeignKeyConstraint"), tuple(args)))
    others = sorted(
        (c for c in table.constraints if type(c) in (sa.UniqueConstraint, sa.CheckConstraint)),
        key=lambda c: (type(c).__name__ != "UniqueConstraint", str(c.name or "")),
    )
    for constraint in others:
        if isinstance(constraint, sa.UniqueConstraint):
            args = [py_str(c.name) for c in constraint.columns]
            for option in ("deferrable", "initially"):
                _kw(args, option, getattr(constraint, option), ctx)
            _extra(args, constraint.dialect_kwargs, ctx)
            func = "UniqueConstraint"
        elif getattr(constraint, "_type_bound", False):
            continue  # added by an Enum / Boolean type itself
        else:
            assert isinstance(constraint, sa.CheckConstraint)
            args = [py_str(sql(constraint.sqltext, ctx))]
            func = "CheckConstraint"
        _constraint_name(args, constraint, ctx)
        items.append(Call(ctx.sa(func), tuple(args)))
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        args = [_name(index.name if isinstance(index.name, str) else str(index.name))]
        args += [
            py_str(e.name)
            if isinstance(e, sa.Column)
            else Call(ctx.sa("text"), (py_str(sql(e, ctx)),))
            for e in index.expressions
        ]
        if index.unique:
            args.append(Kw("unique", "True"))
        _extra(args, index.dialect_kwargs, ctx)
        items.append(Call(ctx.sa("Index"), tuple(args)))
    return items


# -- tables -------------------------------------------------------------------------------


@_renders(CreateTableOp)
def _create_table(op: CreateTableOp, ctx: RenderContext, batch: bool) -> tuple[str, list[Node]]:
    args: list[Node] = [py_str(op.table_name), *_table_items(op.to_table(), ctx)]
    _kw(args, "schema", op.schema, ctx)
    _kw(args, "if_not_exists", op.if_not_exists, ctx, skip=False)
    _extra(args, op.kw, ctx)
    return "create_table", args


@_renders(DropTableOp)
def _drop_table(op: DropTableOp, ctx: RenderContext, batch: bool) -> tuple[str, list[Node]]:
    args: list[Node] = [py_str(op.table_name)]
    _kw(args, "schema", op.schema, ctx)
    _kw(args, "if_exists", op.if_exists, ctx, skip=False)
    return "drop_table", args


@_renders(RenameTableOp)
def _rename_table(op: RenameTableOp, ctx: RenderContext, batch: bool) -> tuple[str, list[Node]]:
    args: list[Node] = [py_str(op.table_name), py_str(op.new_table_name)]
    _kw(args, "schema", op.schema, ctx)
    return "rename_table", args


@_renders(CreateTableCommentOp)
def _create_table_comment(
    op: CreateTableCommentOp, ctx: RenderContext, batch: bool
) -> tuple[str, list[Node]]:
    args = [*_table_args(op.table_name, batch), py_str(op.comment)]
    _kw(args, "existing_comment", op.existing_comment, ctx)
    _schema(args, op.schema, batch, ctx)
    return "create_table_comment", args


@_renders(DropTableCommentOp)
def _drop_table_comment(
    op: DropTableCommentOp, ctx: RenderContext, batch: bool
) -> tuple[str, list[Node]]:
    args = _table_args(op.table_name, batch)
    _kw(args, "existing_comment", op.existing_comment, ctx)
    _schema(args, op.schema, batch, ctx)
    return "drop_table_comment", args


# -- columns ------------------------------------------------------------------------------


@_renders(AddColumnOp)
def _add_column(op: AddColumnOp, ctx: RenderContext, batch: bool) -> tuple[str, list[Node]]:
    args = [*_table_args(op.table_name, batch), render_column(op.column, ctx)]
    _schema(args, op.schema, batch, ctx)
    _kw(args, "if_not_exists", op.if_not_exists, ctx, skip=False)
    if batch:
        _kw(args, "insert_before", op.insert_before, ctx)
        _kw(args, "insert_after", op.insert_after, ctx)
    return "add_column", args


@_renders(DropColumnOp)
def _drop_column(op: DropColumnOp, ctx: RenderContext, batch: bool) -> tuple[str, list[Node]]:
    args = [*_table_args(op.table_name, batch), py_str(op.column_name)]
    _schema(args, op.schema, batch, ctx)
    _kw(args, "if_exists", op.if_exists, ctx, skip=False)
    return "drop_column", args


@_renders(AlterColumnOp)
def _alter_column(op: AlterColumnOp, ctx: RenderContext, batch: bool) -> tuple[str, list[Node]]:
    args = [*_table_args(op.table_name, batch), py_str(op.column_name)]
    _kw(args, "new_column_name", op.new_column_name, ctx)
    if op.type_ is not None:
        args.append(Kw("type_", render_type(op.type_, ctx)))
    if op.existing_type is not None:
        args.append(Kw("existing_type", render_type(op.existing_type, ctx)))
    _kw(args, "nullable", op.nullable, ctx)
    _kw(args, "existing_nullable", op.existing_nullable, ctx)
    if op.server_default is not False:
        args.append(Kw("server_default", render_server_default(op.server_default, ctx)))
    # Identity, not ``in``: a default may be a SQL expression, whose == builds a clause.
    if op.existing_server_default is not False and op.existing_server_default is not None:
        args.append(
            Kw("existing_server_default", render_server_default(op.existing_server_default, ctx))
        )
    if op.comment is not False:
        _kw(args, "comment", op.comment, ctx, skip=False)
    _kw(args, "existing_comment", op.existing_comment, ctx)
    _kw(args, "autoincrement", op.autoincrement, ctx)
    _kw(args, "existing_autoincrement", op.existing_autoincrement, ctx)
    _kw(args, "postgresql_using", op.postgresql_using, ctx)
    _schema(args, op.schema, batch, ctx)
    if batch:
        _kw(args, "insert_before", op.insert_before, ctx)
        _kw(args, "insert_after", op.insert_after, ctx)
    _extra(args, op.kw, ctx)
    return "alter_column", args


# -- indexes and constraints --------------------------------------------------------------


@_renders(CreateIndexOp)
def _create_index(op: CreateIndexOp, ctx: RenderContext, batch: bool) -> tuple[str, list[Node]]:
    args: list[Node] = [_name(op.index_name)]
    args += _table_args(op.table_name, batch)
    columns = render_value(list(op.columns), ctx)
    args.append(columns if columns is not None else "[]")
    _kw(args, "unique", op.unique, ctx, skip=False)
    _schema(args, op.schema, batch, ctx)
    if not batch:
        _kw(args, "if_not_exists", op.if_not_exists, ctx, skip=False)
    _extra(args, op.kw, ctx)
    return "create_index", args


@_renders(DropIndexOp)
def _drop_index(op: DropIndexOp, ctx: RenderContext, batch: bool) -> tuple[str, list[Node]]:
    args: list[Node] = [_name(op.index_name)]
    if not batch and op.table_name is not None:
        args.append(py_str(op.table_name))
    _schema(args, op.schema, batch, ctx)
    if not batch:
        _kw(args, "if_exists", op.if_exists, ctx, skip=False)
    _extra(args, op.kw, ctx)
    return "drop_index", args


def _name(name: str | None) -> Node:
    """A constraint's or index's name; a final one (a naming convention's result, or the
    database's own) as ``op.f(...)``, which the convention leaves alone when the revision
    runs (as Alembic writes it; a plain name would be converted again)."""
    if name is None:
        return "None"
    if isinstance(name, conv):
        return Call("op.f", (py_str(str(name)),))
    return py_str(name)


@_renders(CreateUniqueConstraintOp)
def _create_unique(
    op: CreateUniqueConstraintOp, ctx: RenderContext, batch: bool
) -> tuple[str, list[Node]]:
    args = [_name(op.constraint_name), *_table_args(op.table_name, batch), _names(op.columns)]
    _schema(args, op.schema, batch, ctx)
    _extra(args, op.kw, ctx)
    return "create_unique_constraint", args


@_renders(CreatePrimaryKeyOp)
def _create_primary_key(
    op: CreatePrimaryKeyOp, ctx: RenderContext, batch: bool
) -> tuple[str, list[Node]]:
    args = [_name(op.constraint_name), *_table_args(op.table_name, batch), _names(op.columns)]
    _schema(args, op.schema, batch, ctx)
    return "create_primary_key", args


@_renders(CreateCheckConstraintOp)
def _create_check(
    op: CreateCheckConstraintOp, ctx: RenderContext, batch: bool
) -> tuple[str, list[Node]]:
    condition = op.condition if isinstance(op.condition, str) else sql(op.condition, ctx)
    args = [_name(op.constraint_name), *_table_args(op.table_name, batch), py_str(condition)]
    _schema(args, op.schema, batch, ctx)
    _extra(args, op.kw, ctx)
    return "create_check_constraint", args


@_renders(CreateForeignKeyOp)
def _create_foreign_key(
    op: CreateForeignKeyOp, ctx: RenderContext, batch: bool
) -> tuple[str, list[Node]]:
    args = [_name(op.constraint_name), *_table_args(op.source_table, batch)]
    args += [py_str(op.referent_table), _names(op.local_cols), _names(op.remote_cols)]
    for option in ("onupdate", "ondelete", "deferrable", "initially", "match"):
        _kw(args, option, getattr(op, option), ctx)
    if not batch:
        _kw(args, "source_schema", op.source_schema, ctx)
    _kw(args, "referent_schema", op.referent_schema, ctx)
    _extra(args, op.kw, ctx)
    return "create_foreign_key", args


@_renders(DropConstraintOp)
def _drop_constraint(
    op: DropConstraintOp, ctx: RenderContext, batch: bool
) -> tuple[str, list[Node]]:
    args = [_name(op.constraint_name), *_table_args(op.table_name, batch)]
    _kw(args, "type_", op.type_, ctx)
    _schema(args, op.schema, batch, ctx)
    if not batch:
        _kw(args, "if_exists", op.if_exists, ctx, skip=False)
    return "drop_constraint", args


# -- statements ---------------------------------------------------------------------------


def _batch(op: BatchAlterTableOp, ctx: RenderContext, indent: int, width: int) -> str:
    args: list[Node] = [py_str(op.table_name)]
    _kw(args, "schema", op.schema, ctx)
    _kw(args, "recreate", op.recreate, ctx, skip="auto")
    if op.naming_convention:
        _kw(args, "naming_convention", dict(op.naming_convention), ctx)
    head = format_statement(
        Call("op.batch_alter_table", tuple(args)),
        indent,
        prefix="async with ",
        suffix=" as batch:",
        width=width,
    )
    inner = [
        render_op(inner, ctx, indent=indent + 4, width=width, batch=True) for inner in op.operations
    ]
    return "\n".join([head, *inner])


def render_op(
    op: MigrateOp, ctx: RenderContext, *, indent: int = 0, width: int = 0, batch: bool = False
) -> str:
    """One op as an awaited call (a batch as an ``async with`` block), at *indent*."""
    if isinstance(op, BatchAlterTableOp) and not batch:
        return _batch(op, ctx, indent, width)
    renderer = _RENDERERS.get(type(op))
    if renderer is None:
        raise CommandError(
            f"autogenerate cannot write {op.describe()} ({type(op).__name__}) as code",
            hint="leave that change out (include_object in env.py) and write it by hand",
        )
    method, args = renderer(op, ctx, batch)
    receiver = "batch" if batch else "op"
    return format_statement(
        Call(f"{receiver}.{method}", tuple(args)), indent, prefix="await ", width=width
    )


def render_ops(
    ops: Sequence[MigrateOp], ctx: RenderContext, *, indent: int = 4, width: int = 0
) -> str:
    """The ops as statements at *indent*, one after another (``pass`` when there are none)."""
    if not ops:
        return " " * indent + "pass"
    return "\n".join(render_op(op, ctx, indent=indent, width=width) for op in ops)
