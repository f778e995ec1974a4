"""amigrate's own statements, sent to the driver beneath SQLAlchemy in as few trips as possible.

A step's bookkeeping (the version-table write, the history row, ``COMMIT``) is a
few small statements whose SQL never changes, and a generated revision is mostly
CREATE statements. Through SQLAlchemy each statement costs more than the
database's own work: on aiosqlite three hops to the driver's worker thread and a
greenlet switch, on asyncpg a PREPARE round trip before every DDL statement.

- :class:`SQLiteDirect` runs a batch in aiosqlite's worker thread in one hop (the
  bookkeeping and ``COMMIT`` of a step together), and every DDL statement of an op
  in one hop.
- :class:`AsyncpgDirect` sends CREATE statements as simple queries and keeps the
  bookkeeping statements prepared in asyncpg's own cache. amigrate opens and ends
  the transaction on the asyncpg connection; SQLAlchemy's side of the connection
  is put in AUTOCOMMIT meanwhile, so what a revision runs through SQLAlchemy
  (``op.connection``, ``op.execute``) starts no transaction of its own and runs
  inside amigrate's.

A :class:`Write` is one bookkeeping statement with the row count it must change;
:class:`DirectStatement` is its SQL compiled once for the dialect, with the
dialect's bind processors (SQLite stores ``DateTime`` as text).

The direct path is only taken where nothing can notice it: no engine logging at
INFO (``echo``), no cursor-execute listeners, amigrate owning the transaction.
Everywhere else the same statements run through SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import (
    CreateIndex,
    CreateSchema,
    CreateSequence,
    CreateTable,
    DropIndex,
    DropTable,
)
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable

from amigrate.dialects.ddl import CreatePlainIndex

#: DDL that only adds: it cannot make a prepared statement stale.
CREATING = (CreateTable, CreateIndex, CreatePlainIndex, CreateSequence, CreateSchema)
#: DDL after which no prepared statement can return other columns or types than before:
#: a statement on a dropped table fails whatever is cached.
KEEPS_STATEMENTS = (*CREATING, DropTable, DropIndex)

BEGIN, COMMIT, ROLLBACK = "BEGIN", "COMMIT", "ROLLBACK"

__all__ = [
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "AsyncpgDirect",
    "Combined",
    "Direct",
    "DirectStatement",
    "SQLiteDirect",
    "Write",
    "direct_for",
]


@dataclass(frozen=True)
class Write:
    """One bookkeeping statement: a construct built once, its values, and what it must change.

    *mismatch* turns a wrong row count into the error to raise (before anything commits).
    """

    statement: Executable
    params: Mapping[str, Any]
    expect: int | None = None
    mismatch: Callable[[int], Exception] | None = field(default=None, compare=False)

    def check(self, rowcount: int) -> None:
        if self.expect is not None and rowcount != self.expect:
            if self.mismatch is not None:
                raise self.mismatch(rowcount)
            raise RuntimeError(f"expected {self.expect} rows, changed {rowcount}")


class DirectStatement:
    """A construct compiled once for *dialect*: its SQL and positional parameter order."""

    def __init__(self, statement: Executable, dialect: Dialect, keys: Sequence[str]) -> None:
        if not isinstance(statement, ClauseElement):
            raise TypeError(f"cannot compile {type(statement).__name__}")
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"{type(statement).__name__} is not a DML statement")
        self.sql: str = compiled.string
        names: Sequence[str] = compiled.positiontup or ()
        self._order: list[tuple[str, Callable[[Any], Any] | None]] = []
        for name in names:
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            # An INSERT's binds are named after its columns; an UPDATE's SET binds too,
            # while a bindparam("x") in a WHERE keeps its own key.
            self._order.append((bind.key, processor))

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for key, processor in self._order:
            value = values.get(key)
            out.append(processor(value) if processor is not None and value is not None else value)
        return tuple(out)


@dataclass(frozen=True)
class Combined:
    """Writes to different tables sent as one statement; its one row holds each one's count."""

    writes: tuple[Write, ...]


Item = tuple[str, tuple[Any, ...], "Write | Combined | None"]


class Direct:
    """Statements sent to the driver connection beneath SQLAlchemy's (see the module doc)."""

    #: Which DDL goes straight to the driver: every kind, or only CREATE (see asyncpg).
    all_ddl = True

    def __init__(self, driver_connection: Any, dialect: Dialect) -> None:
        self._driver = driver_connection
        self._dialect = dialect
        #: Compiled statements by what they were built from (a write's construct and
        #: parameter names; for a combined statement, those of each of its writes).
        self._compiled: dict[Any, DirectStatement] = {}

    def compile(self, write: Write) -> DirectStatement:
        keys = tuple(sorted(write.params))
        key = (id(write.statement), keys)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = DirectStatement(write.statement, self._dialect, keys)
        return found

    def item(self, write: Write) -> Item:
        compiled = self.compile(write)
        return (compiled.sql, compiled.parameters(write.params), write)

    def items(self, writes: Sequence[Write]) -> list[Item]:
        """*writes* as items to :meth:`run`, in order."""
        return [self.item(write) for write in writes]

    def ending(self, *, begin_again: bool) -> list[Item]:
        """``COMMIT``, and ``BEGIN`` of the next transaction with *begin_again*."""
        if begin_again:
            return [(COMMIT, (), None), (BEGIN, (), None)]
        return [(COMMIT, (), None)]

    async def run(self, items: Sequence[Item], *, interruptible: bool = False) -> None:
        """Execute *items* in order; a wrong row count stops there, before anything after it.

        *interruptible*: part of the run's own work (not of a cleanup after a failure),
        where a cancel may stop it (see :meth:`SQLiteDirect._run_inline`)."""
        raise NotImplementedError

    #: Whether SQLAlchemy's side of the connection is in AUTOCOMMIT, so that ending a
    #: transaction it began sends nothing (asyncpg); on SQLite it would commit amigrate's.
    sqlalchemy_autocommits = False

    async def in_transaction(self) -> bool:
        raise NotImplementedError

    def ddl_ran(self, statement: Any) -> None:
        """*statement*, DDL, ran here: whatever SQLAlchemy caches about the schema is stale."""

    def _wrap(self, exc: Exception, sql: str, params: Any) -> sa.exc.StatementError:
        # The error SQLAlchemy would have raised, so callers see one kind either way.
        return sa.exc.DBAPIError.instance(sql, params, exc, Exception, dialect=self._dialect)


#: SQLite virtual-machine steps between two looks at whether the run was cancelled.
_PROGRESS_STEPS = 1000


class SQLiteDirect(Direct):
    """Batches run in aiosqlite's worker thread, one hop per batch.

    *inline*: run them on the calling (event loop's) thread instead, blocking the loop
    while SQLite works but saving the two thread switches of each hop; for a caller
    whose loop runs nothing else, on a connection that allows it.
    """

    def __init__(
        self,
        driver_connection: Any,
        dialect: Dialect,
        *,
        inline: bool = False,
        own_session: bool = False,
    ) -> None:
        super().__init__(driver_connection, dialect)
        self.inline = inline
        #: The connection is amigrate's own: its progress handler is amigrate's to set.
        self._own_session = own_session
        #: The cancel requests of the running task seen so far (see :meth:`_run_inline`).
        self._cancels_seen = 0

    async def run(self, items: Sequence[Item], *, interruptible: bool = False) -> None:
        failed: list[Item] = []

        def work() -> None:
            db: sqlite3.Connection = self._driver._conn
            for item in items:
                failed[:] = [item]
                sql, params, write = item
                cursor = db.execute(sql, params)
                try:
                    if write is not None:
                        assert isinstance(write, Write), "SQLite runs its writes one by one"
                        write.check(cursor.rowcount)
                finally:
                    cursor.close()
            failed.clear()

        try:
            if self.inline and interruptible:
                await self._run_inline(work)
            elif self.inline:
                work()  # (a cleanup after a failure: nothing may stop it half-way)
            else:
                await self._driver._execute(work)
        except sqlite3.Error as exc:
            sql, params, _ = failed[0] if failed else ("", (), None)
            raise self._wrap(exc, sql, params) from exc

    async def _run_inline(self, work: Callable[[], None]) -> None:
        """Run *work* on this thread, still stopped by a cancel (Ctrl-C, SIGTERM).

        Nothing here gives the loop a turn, and the loop is where a task's cancel is
        delivered: a run of many steps went on to its end after Ctrl-C, and a long
        statement ran to its end. So a cancel the task was asked for is delivered
        before the statements start (a turn of the loop), and one asked for while they
        run stops the statement running (sqlite3's progress handler, where the signal
        handler that asks for it runs too), which ends in the cancel, not in its error.
        The handler is set only on a connection of amigrate's own (sqlite3 cannot give
        back one the application set). A signal handler that raises (Python's own for
        SIGINT, without asyncio's) raises in the progress handler, where sqlite3 drops
        the exception and stops the statement: that is raised as KeyboardInterrupt.
        """
        task = asyncio.current_task()
        if task is None:
            work()
            return
        await self._deliver_cancel(task)
        if not self._own_session:
            work()
            return
        asked = task.cancelling()
        stopped: list[bool] = []

        def stop() -> bool:
            if task.cancelling() > asked:
                stopped.append(True)
                return True
            return False

        db: sqlite3.Connection = self._driver._conn
        db.set_progress_handler(stop, _PROGRESS_STEPS)
        try:
            work()
        except sqlite3.OperationalError as exc:
            if stopped:
                await self._deliver_cancel(task)
            elif "interrupt" in str(exc):
                raise KeyboardInterrupt from exc  # (the progress handler raised: see above)
            raise
        finally:
            db.set_progress_handler(None, 0)

    async def _deliver_cancel(self, task: asyncio.Task[Any]) -> None:
        """Let the loop deliver a cancel *task* was asked for since the last one seen."""
        if task.cancelling() > self._cancels_seen:
            self._cancels_seen = task.cancelling()
            await asyncio.sleep(0)

    async def in_transaction(self) -> bool:
        if self.inline:
            return bool(self._driver._conn.in_transaction)
        return bool(await self._driver._execute(lambda: self._driver._conn.in_transaction))


class AsyncpgDirect(Direct):
    """Statements on the asyncpg connection: DDL as a simple query, the rest prepared once.

    SQLAlchemy's adapter prepares every statement before running it (two round trips
    for a DDL statement), and after DDL other than CREATE drops asyncpg's caches, so
    that amigrate's next statements are prepared again; asyncpg keeps amigrate's few
    statements prepared in its own cache. After DDL that can change what a query
    returns (ALTER, DROP COLUMN, ...), SQLAlchemy's own prepared statements (a
    revision's queries) are marked stale the way its adapter does it, so they are
    prepared again the next time they run.
    """

    sqlalchemy_autocommits = True

    def __init__(self, driver_connection: Any, dialect: Dialect, adapter: Any = None) -> None:
        super().__init__(driver_connection, dialect)
        # SQLAlchemy's hook: its asyncpg dialect keeps the time of the last DDL, and each
        # connection prepares again what it prepared before then (older releases had it
        # on the adapted connection). Without a hook only CREATE (which cannot make a
        # prepared statement stale) skips SQLAlchemy.
        self._mark_stale = getattr(dialect, "_invalidate_schema_cache", None) or getattr(
            adapter, "_invalidate_schema_cache", None
        )
        self.all_ddl = self._mark_stale is not None

    def ddl_ran(self, statement: Any) -> None:
        # SQLAlchemy marks its statements stale after any DDL, which also empties
        # asyncpg's cache (amigrate's statements are prepared again, and so is a catalog
        # query that takes a millisecond to plan); after CREATE or DROP TABLE/INDEX
        # nothing cached can have changed shape.
        if self._mark_stale is not None and not isinstance(statement, KEEPS_STATEMENTS):
            self._mark_stale()

    def items(self, writes: Sequence[Write]) -> list[Item]:
        # A step's version write and history row touch different tables: one statement
        # (data-modifying CTEs, each counting its rows) instead of one round trip each.
        out: list[Item] = []
        group: list[Write] = []
        for write in writes:
            if group and not _combinable([*group, write]):
                out.append(self._group_item(group))
                group = []
            group.append(write)
        if group:
            out.append(self._group_item(group))
        return out

    def _group_item(self, group: Sequence[Write]) -> Item:
        if len(group) == 1:
            return self.item(group[0])
        key = (tuple(id(w.statement) for w in group), tuple(tuple(sorted(w.params)) for w in group))
        compiled = self._compiled.get(key)
        if compiled is None:
            statement = _counting_ctes(group)
            keys = [k for w in group for k in sorted(w.params)]
            compiled = self._compiled[key] = DirectStatement(statement, self._dialect, keys)
        values: dict[str, Any] = {}
        for write in group:
            values.update(write.params)
        return (compiled.sql, compiled.parameters(values), Combined(tuple(group)))

    async def run(self, items: Sequence[Item], *, interruptible: bool = False) -> None:
        for sql, params, check in items:
            try:
                if isinstance(check, Combined):
                    counts = await self._driver.fetchrow(sql, *params)
                else:
                    status = await self._driver.execute(sql, *params)
            except Exception as exc:
                if not isinstance(exc, self._errors()):
                    raise
                raise self._wrap(exc, sql, params) from exc
            if isinstance(check, Combined):
                for write, count in zip(check.writes, counts, strict=True):
                    write.check(int(count))
            elif check is not None:
                # "UPDATE 1", "DELETE 1", "INSERT 0 1": the count is the last word.
                check.check(int(status.rsplit(" ", 1)[-1]))

    async def in_transaction(self) -> bool:
        return bool(self._driver.is_in_transaction())

    def ending(self, *, begin_again: bool) -> list[Item]:
        # One simple query, one round trip; a failed COMMIT stops it before BEGIN.
        return [(f"{COMMIT}; {BEGIN}", (), None)] if begin_again else [(COMMIT, (), None)]

    def _wrap(self, exc: Exception, sql: str, params: Any) -> sa.exc.StatementError:
        # As SQLAlchemy's adapter does: asyncpg's error becomes the DBAPI class it stands
        # for (a ForeignKeyViolationError an IntegrityError), then SQLAlchemy's own.
        dbapi = self._dialect.loaded_dbapi
        translate = getattr(dbapi, "_asyncpg_error_translate", {})
        for cls in type(exc).__mro__:
            if cls in translate:
                exc = translate[cls](str(exc.args[0]) if exc.args else str(exc), exc)
                break
        return sa.exc.DBAPIError.instance(sql, params, exc, dbapi.Error, dialect=self._dialect)

    @staticmethod
    def _errors() -> tuple[type[Exception], ...]:
        import asyncpg

        return (asyncpg.PostgresError, asyncpg.InterfaceError)


_CTE_PREFIX = "amigrate_w"


def _combinable(group: Sequence[Write]) -> bool:
    """Whether *group* can run as one statement with the same effect as one by one.

    The parts of one statement all see the database as it was before it: that is the
    same only when no two of them touch the same table. Their parameter names must
    not collide either.
    """
    tables: set[Any] = set()
    names: set[str] = set()
    for write in group:
        statement = write.statement
        if not isinstance(statement, sa.Insert | sa.Update | sa.Delete):
            return False
        if getattr(statement.table, "name", "").startswith(_CTE_PREFIX):
            return False  # would be shadowed by the names of the parts
        tables.add(statement.table)
        names.update(write.params)
    return len(tables) == len(group) and len(names) == sum(len(w.params) for w in group)


def _counting_ctes(group: Sequence[Write]) -> sa.Select[Any]:
    """``WITH w0 AS (... RETURNING 1), w1 AS (...) SELECT count(w0), count(w1)``."""
    counts = []
    for index, write in enumerate(group):
        statement = write.statement
        if isinstance(statement, sa.Insert):
            # The values as named parameters (executing the bare INSERT names them the same).
            statement = statement.values({key: sa.bindparam(key) for key in sorted(write.params)})
        assert isinstance(statement, sa.Insert | sa.Update | sa.Delete)
        cte = statement.returning(sa.literal_column("1")).cte(f"{_CTE_PREFIX}{index}")
        counts.append(sa.select(sa.func.count()).select_from(cte).scalar_subquery())
    return sa.select(*counts)


async def direct_for(
    conn: AsyncConnection, *, inline: bool = False, own_session: bool = False
) -> Direct | None:
    """The direct path for *conn*, or None where SQLAlchemy must see every statement.

    *inline*: the caller's loop runs nothing else, so on SQLite the statements may run
    on its thread, where the connection allows that (``check_same_thread=False``).
    """
    driver_name = (conn.dialect.name, conn.dialect.driver)
    if driver_name not in (("sqlite", "aiosqlite"), ("postgresql", "asyncpg")):
        return None
    engine = conn.sync_engine
    if engine.logger.isEnabledFor(logging.INFO) or engine.echo:
        return None  # the user asked to see the SQL: let SQLAlchemy log it
    dispatch = engine.dispatch
    if dispatch.before_cursor_execute or dispatch.after_cursor_execute:
        return None  # instrumentation (tracing, metrics) must see every statement
    if dispatch.begin or dispatch.commit or dispatch.rollback:
        # The application acts on transactions (SQLAlchemy's recipe for real SQLite
        # transactions sends its own BEGIN): they must be SQLAlchemy's, which it sees.
        return None
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if driver_name[1] == "asyncpg":
        return AsyncpgDirect(driver, conn.dialect, raw.dbapi_connection)
    if driver is None or not (hasattr(driver, "_execute") and hasattr(driver, "_conn")):
        return None  # an aiosqlite without the worker-thread hook: the normal path
    inline = inline and _any_thread(driver._conn)
    return SQLiteDirect(driver, conn.dialect, inline=inline, own_session=own_session)


def _any_thread(connection: sqlite3.Connection) -> bool:
    """Whether *connection* may be used from this thread (created with check_same_thread=False)."""
    try:
        connection.cursor().close()  # sqlite3 checks the thread here
    except sqlite3.ProgrammingError:
        return False
    return True
