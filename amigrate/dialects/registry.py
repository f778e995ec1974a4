"""Compile operations into SQLAlchemy statements for one dialect, and apply them.

``compile_op(op, dialect)`` looks up the compiler registered for the op's class
and the dialect's name, falling back to the generic one (dialect ``None``). It
is pure: offline SQL, online execution and (later) autogenerate share it.

``apply_op(op, executor)`` is what the runtime calls: by default it compiles
and executes the statements in order. A few ops must look at the database
first (a SQLite batch reflects the table it recreates; PostgreSQL drops the
enum types a dropped table leaves unused; MySQL's ``MODIFY`` needs the column
as it is). They register an *applier*, which does so through the executor the
runtime passes in (``run_sync`` for reflection) — this package never opens a
connection itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable

from amigrate.operations.base import MigrateOp

__all__ = [
    "CompiledOp",
    "Executor",
    "apply_op",
    "compile_op",
    "register",
    "register_applier",
    "run_compiled",
]

OpT = TypeVar("OpT", bound=MigrateOp)
T = TypeVar("T")


@dataclass
class CompiledOp:
    """The statements that perform an op, and what awaiting the op returns."""

    statements: list[Executable] = field(default_factory=list)
    result: Any = None
    execution_options: dict[str, Any] = field(default_factory=dict)


class Executor(Protocol):
    """What appliers run statements through (the runtime's migration context)."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def as_sql(self) -> bool:
        """True when rendering offline SQL: nothing can be read from a database."""
        ...

    async def execute(
        self,
        statement: Executable,
        options: Mapping[str, Any] | None = None,
        parameters: Any = None,
    ) -> Any: ...

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

    @property
    def catalog(self) -> dict[str, Any]:
        """Facts appliers learned from the catalog in this run; the executor forgets
        them when the schema may have changed in a way it does not follow."""
        ...

    @property
    def revision_state(self) -> dict[str, Any]:
        """What appliers keep for the end of the running revision (empty at its start)."""
        ...

    def after_revision(self, key: str, action: Callable[[], Awaitable[Any]]) -> None:
        """Run *action* once the revision's function has returned (once per *key*)."""
        ...


Compiler = Callable[[Any, Dialect], CompiledOp]
Applier = Callable[[Any, Executor], Awaitable[Any]]
_COMPILERS: dict[tuple[type[MigrateOp], str | None], Compiler] = {}
_APPLIERS: dict[tuple[type[MigrateOp], str | None], Applier] = {}


def register(
    op_class: type[OpT], dialect: str | None = None
) -> Callable[[Callable[[OpT, Dialect], CompiledOp]], Callable[[OpT, Dialect], CompiledOp]]:
    """Register the compiler of *op_class* for *dialect* (None: every dialect)."""

    def decorate(fn: Callable[[OpT, Dialect], CompiledOp]) -> Callable[[OpT, Dialect], CompiledOp]:
        _COMPILERS[(op_class, dialect)] = fn
        return fn

    return decorate


def register_applier(
    op_class: type[OpT], dialect: str | None = None
) -> Callable[
    [Callable[[OpT, Executor], Awaitable[Any]]], Callable[[OpT, Executor], Awaitable[Any]]
]:
    """Register how *op_class* is applied on *dialect* when compiling alone is not enough."""

    def decorate(
        fn: Callable[[OpT, Executor], Awaitable[Any]],
    ) -> Callable[[OpT, Executor], Awaitable[Any]]:
        _APPLIERS[(op_class, dialect)] = fn
        return fn

    return decorate


# MariaDB's own dialect (mariadb:// URLs) is named "mariadb"; it compiles as MySQL does.
_FAMILY = {"mariadb": "mysql"}
# The module registering each dialect's own compilers, imported when first needed.
_MODULES = {
    "postgresql": "amigrate.dialects.postgresql",
    "sqlite": "amigrate.dialects.sqlite",
    "mysql": "amigrate.dialects.mysql",
}
_loaded: set[str] = set()


def _lookup(
    registry: dict[tuple[type[MigrateOp], str | None], T], op: MigrateOp, name: str
) -> T | None:
    name = _FAMILY.get(name, name)
    if name not in _loaded:
        if name in _MODULES:
            importlib.import_module(_MODULES[name])
        _loaded.add(name)
    for cls in type(op).__mro__:
        for key in ((cls, name), (cls, None)):
            if key in registry:
                return registry[key]
    return None


def compile_op(op: MigrateOp, dialect: Dialect) -> CompiledOp:
    """The statements that perform *op* on *dialect* (may raise ``UnsupportedOperation``)."""
    compiler = _lookup(_COMPILERS, op, dialect.name)
    if compiler is None:
        raise NotImplementedError(f"no compiler for {type(op).__name__}")  # a programming error
    return compiler(op, dialect)


async def run_compiled(compiled: CompiledOp, executor: Executor) -> Any:
    """Execute compiled statements in order; the op's result, else the last statement's."""
    result: Any = None
    for statement in compiled.statements:
        result = await executor.execute(statement, compiled.execution_options)
    return compiled.result if compiled.result is not None else result


async def apply_op(op: MigrateOp, executor: Executor) -> Any:
    """Perform *op* through *executor*: its applier if it has one, else compile and execute."""
    applier = _lookup(_APPLIERS, op, executor.dialect.name)
    if applier is not None:
        return await applier(op, executor)
    return await run_compiled(compile_op(op, executor.dialect), executor)
