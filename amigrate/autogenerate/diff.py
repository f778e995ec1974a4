"""The result of a comparison: changes, each with the ops that make it and undo it.

A :class:`Change` is one difference ("add column 'account.email'") holding
the operations that apply it (``upgrade``) and those that undo it
(``downgrade``), built together while comparing, when everything about both
sides is known — a dropped column's downgrade needs the column as the
database had it, which a ``DropColumnOp`` alone does not carry.

:class:`SchemaDiff` orders the changes so that each op finds what it needs:
new tables first, then the changes to existing tables (foreign keys dropped
before the columns and tables they use, added after them), dropped tables
last. The downgrade is the reverse of each change, in reverse order. With
``batch=True`` the changes to each existing table are gathered into one
``BatchAlterTableOp`` (SQLite recreates a table to alter it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal

from amigrate.operations.batch import BatchAlterTableOp
from amigrate.operations.ops import MigrateOp

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

__all__ = ["Change", "ChangeKind", "Phase", "SchemaDiff"]

ChangeKind = Literal[
    "add_table",
    "remove_table",
    "add_column",
    "remove_column",
    "modify_column",
    "add_index",
    "remove_index",
    "add_unique",
    "remove_unique",
    "add_foreign_key",
    "remove_foreign_key",
    "modify_table_comment",
]


class Phase(IntEnum):
    """Where a change runs in the upgrade; the downgrade runs them backwards."""

    CREATE_TABLE = 0
    DROP_FOREIGN_KEY = 1
    DROP_INDEX = 2
    ADD_COLUMN = 3
    ALTER_COLUMN = 4
    DROP_COLUMN = 5
    CREATE_INDEX = 6
    CREATE_FOREIGN_KEY = 7
    TABLE_COMMENT = 8
    DROP_TABLE = 9


@dataclass(frozen=True)
class Change:
    """One difference between the models and the database.

    ``upgrade`` makes the database match the models; ``downgrade`` undoes it
    (each runs in order). ``table`` / ``schema`` name the table it is on,
    ``name`` the column, index or constraint.
    """

    kind: ChangeKind
    description: str
    upgrade: tuple[MigrateOp, ...]
    downgrade: tuple[MigrateOp, ...]
    phase: Phase
    table: str
    schema: str | None = None
    name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The change as JSON-ready data (``check --json``)."""
        return {
            "kind": self.kind,
            "schema": self.schema,
            "table": self.table,
            "name": self.name,
            "description": self.description,
        }


@dataclass(frozen=True)
class _Unit:
    """Changes applied together: one change, or a batch of changes to one table."""

    changes: tuple[Change, ...]
    batch: bool


@dataclass(frozen=True)
class SchemaDiff:
    """Every difference found, in the order the upgrade applies them.

    ``notes`` are differences that were found but cannot be written as ops
    (an unnamed constraint to drop, say); ``database`` is the database's name
    in a multidb project; ``dialect`` is the database's dialect name, and
    ``sql_dialect`` the SQLAlchemy dialect (to write SQL expressions with).
    """

    changes: tuple[Change, ...]
    dialect: str
    notes: tuple[str, ...] = ()
    database: str | None = None
    sql_dialect: Dialect | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The upgrade's order; stable, so the tables keep the models' order.
        ordered = tuple(sorted(self.changes, key=lambda c: c.phase))
        object.__setattr__(self, "changes", ordered)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    @property
    def is_empty(self) -> bool:
        """True when the models and the database match."""
        return not self.changes

    def _units(self, batch: bool) -> list[_Unit]:
        ordered = self.changes
        if not batch:
            return [_Unit((c,), False) for c in ordered]
        # A table's batch takes the place of its first change.
        slots: list[Change | tuple[str | None, str]] = []
        grouped: dict[tuple[str | None, str], list[Change]] = {}
        for change in ordered:
            if change.phase in (Phase.CREATE_TABLE, Phase.DROP_TABLE):
                slots.append(change)
                continue
            key = (change.schema, change.table)
            if key not in grouped:
                grouped[key] = []
                slots.append(key)
            grouped[key].append(change)
        return [
            _Unit((slot,), False) if isinstance(slot, Change) else _Unit(tuple(grouped[slot]), True)
            for slot in slots
        ]

    def upgrade_ops(self, *, batch: bool = False) -> list[MigrateOp]:
        """The operations that make the database match the models, in order."""
        return [op for unit in self._units(batch) for op in _ops(unit, "upgrade")]

    def downgrade_ops(self, *, batch: bool = False) -> list[MigrateOp]:
        """The operations that undo :meth:`upgrade_ops`, in order."""
        return [op for unit in reversed(self._units(batch)) for op in _ops(unit, "downgrade")]


def _ops(unit: _Unit, direction: Literal["upgrade", "downgrade"]) -> Sequence[MigrateOp]:
    changes = unit.changes if direction == "upgrade" else tuple(reversed(unit.changes))
    ops = [op for change in changes for op in getattr(change, direction)]
    if not unit.batch:
        return ops
    first = unit.changes[0]
    return [BatchAlterTableOp(first.table, tuple(ops), schema=first.schema)]
