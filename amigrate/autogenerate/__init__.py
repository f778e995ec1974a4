"""Autogenerate: compare SQLAlchemy models with a live database, and write the revision.

``amigrate revision --autogenerate`` and ``amigrate check`` are built from
these parts, each usable alone:

- :func:`compare_database` reflects a database (``run_sync`` around the
  inspector's bulk methods) into a :class:`Snapshot` and compares it with
  ``MetaData``, giving a :class:`SchemaDiff` of :class:`Change` objects, each
  holding the ops that apply it and those that undo it;
- :func:`compare_metadata` is the comparison alone: models and a snapshot in,
  no database needed;
- :func:`render_migration` writes a diff's ops as the bodies of ``async def
  upgrade(op)`` and ``downgrade(op)``.

``Migrator.compare()`` and :func:`compare` do it for a configured project,
with env.py's settings (:class:`AutogenerateOptions`); see docs/autogenerate.md.
"""

from amigrate.autogenerate.api import compare, compare_database
from amigrate.autogenerate.compare import compare_metadata
from amigrate.autogenerate.diff import Change, ChangeKind, SchemaDiff
from amigrate.autogenerate.options import AutogenerateOptions, CompareContext
from amigrate.autogenerate.snapshot import Snapshot, reflect
from amigrate.autogenerate.writer import RenderedMigration, render_migration

__all__ = [
    "AutogenerateOptions",
    "Change",
    "ChangeKind",
    "CompareContext",
    "RenderedMigration",
    "SchemaDiff",
    "Snapshot",
    "compare",
    "compare_database",
    "compare_metadata",
    "reflect",
    "render_migration",
]
