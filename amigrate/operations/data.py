"""Data operations: execute SQL, bulk inserts, and the helpers ``inline_literal`` and ``f``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, conv
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeEngine

from amigrate.operations.base import MigrateOp

__all__ = ["BulkInsertOp", "ExecuteOp", "InlineLiteral", "f", "inline_literal"]


@dataclass(frozen=True, eq=False)
class ExecuteOp(MigrateOp):
    """Execute a SQL string, ``text()`` or any executable construct."""

    sqltext: str | Executable
    execution_options: Mapping[str, Any] | None = None

    def describe(self) -> str:
        text = self.sqltext if isinstance(self.sqltext, str) else type(self.sqltext).__name__
        short = " ".join(str(text).split())
        return f"execute({short[:60] + ('...' if len(short) > 60 else '')!r})"


@dataclass(frozen=True, eq=False)
class BulkInsertOp(MigrateOp):
    """Insert rows (dicts keyed by column name) into a ``Table`` or ``sa.table()``.

    Online, ``multiinsert`` sends all rows as one executemany; offline every row
    is its own ``INSERT`` with literal values.
    """

    table: sa.Table | sa.TableClause
    rows: tuple[Mapping[str, Any], ...]
    multiinsert: bool = True

    def describe(self) -> str:
        return f"bulk_insert({self.table.name!r}, {len(self.rows)} rows)"


class InlineLiteral(BindParameter[Any]):
    """A value that is always rendered into the SQL text, never sent as a parameter."""

    inherit_cache = True


@compiles(InlineLiteral)
def _render_inline_literal(element: InlineLiteral, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.render_literal_bindparam(element, **kw))  # type: ignore[no-untyped-call]


def inline_literal(value: Any, type_: TypeEngine[Any] | type[TypeEngine[Any]] | None = None) -> Any:
    """A literal value for ``op.execute()`` statements that must also render offline.

    ``sa.update(t).where(t.c.status == op.inline_literal("new"))`` renders
    ``WHERE status = 'new'`` in ``--sql`` output, where a bound parameter has no value.
    """
    return InlineLiteral(None, value, type_=type_, unique=True)


def f(name: str) -> conv:
    """Mark *name* as final: a naming convention will not be applied to it again."""
    return conv(name)
