"""Where revisions run: a live connection, or an offline SQL script.

:class:`OnlineContext` executes on an ``AsyncConnection`` and owns its
transactions. PostgreSQL and SQLite DDL is transactional; for SQLite that
means taking transaction control from the driver (its implicit BEGIN skips DDL)
and emitting ``BEGIN`` itself. :class:`OfflineContext` renders the same
statements as SQL text for ``--sql``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import ExecutableDDLElement
from sqlalchemy.sql.expression import Executable

from amigrate.dialects import apply_op
from amigrate.errors import ConfigError, MigrationError, ScriptError
from amigrate.operations.ops import ExecuteOp, MigrateOp
from amigrate.runtime.direct import (
    BEGIN,
    CREATING,
    KEEPS_STATEMENTS,
    ROLLBACK,
    Direct,
    SQLiteDirect,
    Write,
    direct_for,
)
from amigrate.runtime.sqlscript import script_header, script_statement

if TYPE_CHECKING:
    from amigrate.config import Config

T = TypeVar("T")

#: DDL after which what appliers learned from the catalog still holds: creating or
#: dropping a table or an index creates no type (an enum is created by its own statement).
KEEPS_CATALOG = KEEPS_STATEMENTS

__all__ = [
    "MigrationContext",
    "OfflineContext",
    "OnlineContext",
    "autocommits",
    "schema_search_path",
    "statement_kind",
    "transactional_ddl",
]


def schema_search_path(dialect: Dialect, schema: str) -> str:
    """``SET search_path TO <schema>``: where a schema target's unqualified names land."""
    if dialect.name != "postgresql":
        raise ConfigError(
            f"schema targets need PostgreSQL; {dialect.name} has no schemas to switch to",
            hint="give each target its own database URL instead",
        )
    return f"SET search_path TO {dialect.identifier_preparer.quote_schema(schema)}"


def transactional_ddl(dialect: Dialect) -> bool:
    """Whether the dialect's DDL can be rolled back (not MySQL/MariaDB: it commits itself)."""
    return dialect.name not in ("mysql", "mariadb")


#: Leading words of SQL text that only reads.
_READS = frozenset({"SELECT", "SHOW", "EXPLAIN", "DESCRIBE", "DESC", "VALUES", "TABLE"})
#: ``DO`` evaluates and discards on MySQL; on PostgreSQL it runs a block of code.
_MYSQL = frozenset({"mysql", "mariadb"})
#: Leading words of SQL text that changes rows, never the schema; ``SET`` changes a session
#: variable. Neither commits on MySQL (but for the statements ``_mysql_kind`` knows). Anything
#: else (CALL too: a procedure may run DDL) counts as DDL, which MySQL commits as it runs.
_WRITES_ROWS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "WITH", "SET", "COPY", "LOCK"}
)
_LEADING_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|#[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.S)

StatementKind = Literal["read", "dml", "ddl"]


def statement_kind(statement: Executable | str, dialect: str | None = None) -> StatementKind:
    """``read``, ``dml`` (changes rows) or ``ddl`` (anything else: MySQL commits it itself).

    What cannot be told apart counts as DDL, so that a failure says too much rather
    than too little about what may have been committed. *dialect* (its name) tells
    MySQL's ``DO expr`` (a read) from PostgreSQL's ``DO $$ code $$``.
    """
    if isinstance(statement, sa.sql.expression.SelectBase):
        return "read"
    if isinstance(statement, sa.sql.expression.UpdateBase):
        return "dml"
    if isinstance(statement, sa.TextClause):
        statement = statement.text
    if not isinstance(statement, str):
        return "ddl"
    return _text_kind(*_first_word(statement), dialect)


def _text_kind(text: str, first: str, dialect: str | None) -> StatementKind:
    if first in _READS or (first == "DO" and dialect in _MYSQL):
        return "read"
    if dialect in _MYSQL:
        mysql = _mysql_kind(text, first, dialect)
        if mysql is not None:
            return mysql
    return "dml" if first in _WRITES_ROWS else "ddl"


#: Seconds an interrupted SQLite statement's work has to end before it is cancelled.
_INTERRUPT_GRACE = 0.5

#: MariaDB's ``SET STATEMENT var = value [, ...] FOR statement``: the statement after FOR.
_SET_STATEMENT = re.compile(r"SET\s+STATEMENT\b.*?\bFOR\b(.*)\Z", re.I | re.S)
#: ``autocommit = value`` of the session (not ``@autocommit``, a user variable, nor in a
#: string): ``SET autocommit = 1``, ``SET SESSION autocommit = 'ON'``, ``SET @@autocommit := 1``.
_AUTOCOMMIT = re.compile(
    r"(?<![@\w.'\"])(?:@@(?:session\.|local\.)?|(?:SESSION|LOCAL)\s+)?autocommit\s*:?=\s*"
    r"('[^']*'|\"[^\"]*\"|@?\w+)",
    re.I,
)
_GLOBAL_AUTOCOMMIT = re.compile(r"(?:\bGLOBAL\s+|@@global\.)autocommit\b", re.I)
_TEMPORARY = re.compile(r"(?:CREATE(?:\s+OR\s+REPLACE)?|DROP)\s+TEMPORARY\b", re.I)


def _mysql_kind(text: str, first: str, dialect: str) -> StatementKind | None:
    """What MySQL/MariaDB make of statements PostgreSQL treats otherwise (None: the same).

    ``LOCK TABLES`` and ``SET autocommit = 1`` commit the open transaction (MySQL's
    implicit commits), ``SET STATEMENT ... FOR`` is what follows its FOR, and a
    TEMPORARY table is created and dropped without a commit.
    """
    if first == "LOCK":
        return "ddl"
    if first == "SET":
        statement = _SET_STATEMENT.match(text)
        if statement is not None:
            return _text_kind(*_first_word(statement.group(1)), dialect)
        return "ddl" if mysql_autocommit(text) else None
    if _TEMPORARY.match(_INLINE_COMMENT.sub(" ", text)):
        return "dml"
    return None


_INLINE_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def mysql_autocommit(text: str) -> bool | None:
    """What a MySQL ``SET`` does to the session's autocommit: True (on: it commits the open
    transaction, and each statement after it commits itself), False (off), None (neither).
    A value that cannot be read here (a variable, DEFAULT) counts as on."""
    if _first_word(text)[1] != "SET" or _GLOBAL_AUTOCOMMIT.search(text):
        return None
    found = _AUTOCOMMIT.search(text)
    if found is None:
        return None
    return found.group(1).strip("'\"").upper() not in ("0", "OFF", "FALSE")


def _ends_transaction(text: str) -> bool:
    """Whether SQL *text* begins or ends a transaction (``COMMIT``, ``ROLLBACK`` but not
    ``ROLLBACK TO`` a savepoint, ``BEGIN`` but not MariaDB's ``BEGIN NOT ATOMIC`` block,
    ``START TRANSACTION``, PostgreSQL's ``END`` and ``ABORT``)."""
    rest, first = _first_word(text)
    if first not in _TRANSACTION_CONTROL:
        return False
    words = rest.upper().replace(";", " ").split()
    second = words[1] if len(words) > 1 else ""
    if first == "ROLLBACK" and "TO" in words[1:3]:  # [WORK | TRANSACTION] TO SAVEPOINT
        return False
    if first == "START" and second != "TRANSACTION":
        return False
    return not (first == "BEGIN" and second == "NOT")


_TRANSACTION_CONTROL = frozenset({"COMMIT", "ROLLBACK", "BEGIN", "START", "END", "ABORT"})


def _first_word(text: str) -> tuple[str, str]:
    """*text* from its first word on (after comments and opening parentheses), and that
    word in capitals ("" when there is none)."""
    text = _LEADING_COMMENTS.sub("", text).lstrip("( \t\r\n")
    word = re.match(r"[A-Za-z]+", text)
    return text, word.group(0).upper() if word else ""


async def autocommits(conn: AsyncConnection) -> bool:
    """Whether *conn* is in AUTOCOMMIT (the engine's isolation level, or the connection's).

    ``get_isolation_level()`` cannot tell: it asks the server, which knows nothing of it.
    """
    detect = getattr(conn.dialect, "detect_autocommit_setting", None)
    if detect is None:  # (older SQLAlchemy)
        return conn.sync_connection is not None and (
            conn.sync_connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        )
    raw = await conn.get_raw_connection()
    return bool(detect(raw.dbapi_connection))


class MigrationContext:
    """The parts shared by the online and offline contexts (see ``OpContext``)."""

    def __init__(self, config: Config, dialect: Dialect, x_args: Mapping[str, str]) -> None:
        self._config = config
        self._dialect = dialect
        self._x_args = dict(x_args)
        #: The statement running now, so a failure can name it (compiled to text only then).
        self._running: Executable | None = None
        #: The revision running now, for messages.
        self.revision: str | None = None
        #: Statements executed in the current step, the failing one included.
        self.statements_run = 0
        #: Statements of the current step that are committed for good: DDL on MySQL
        #: (and the row changes before it, which its implicit COMMIT took along), and
        #: on every database what ran before and inside ``op.autocommit_block()``.
        #: A failure after any of them leaves a partly applied revision.
        self.committed_statements = 0
        #: The last of them, for messages.
        self.last_committed: Executable | None = None
        #: The current step may have committed work amigrate could not count: SQL run
        #: through ``op.connection`` where it commits (MySQL DDL, an autocommit block),
        #: or a committing statement interrupted while the server ran it.
        self.maybe_committed = False
        #: Times the open transaction was committed before its step ended (an autocommit
        #: block, MySQL's implicit COMMIT): the steps finished before then are applied
        #: even when the run is one transaction.
        self.early_commits = 0
        #: The current step's COMMIT is on its way (set by the runner).
        self.committing = False
        #: Autocommit blocks entered in this run.
        self.autocommit_blocks = 0
        self._autocommitting = False
        self._session_autocommits = False  # (a revision's SET autocommit = 1, on MySQL)
        # Row changes of this step in the open transaction: committed with the next
        # early commit, rolled back on failure.
        self._pending = 0
        self._pending_last: Executable | None = None
        self._raw_pending = False
        #: What dialect appliers learned from the catalog during this run (PostgreSQL:
        #: that no enum type exists). Forgotten whenever the schema may have changed in a
        #: way amigrate does not follow: the revision's own SQL (``op.execute``,
        #: ``op.connection``, ``op.run_sync``) or DDL other than creating and dropping
        #: tables and indexes.
        self.catalog: dict[str, Any] = {}
        #: What dialect appliers keep until the revision's function has returned (see
        #: :meth:`after_revision`), with the actions to run then.
        self.revision_state: dict[str, Any] = {}
        self._after_revision: dict[str, Callable[[], Awaitable[None]]] = {}
        #: The runner is handling the step's failure (rollback, the failure's history
        #: row): a cancel must not stop that half-way (see direct.SQLiteDirect).
        self.cleaning_up = False
        #: The current step's ``running`` history row, to write before the step can
        #: commit part of its work (see amigrate.runtime.history), and whether it is written.
        self.step_marker: Callable[[], Write] | None = None
        self.marker_written = False
        #: Opens another connection set up as the run's (see fresh_connection); None: as it comes.
        self.set_up_fresh: (
            Callable[[AsyncEngine], AbstractAsyncContextManager[AsyncConnection]] | None
        ) = None

    def after_revision(self, key: str, action: Callable[[], Awaitable[None]]) -> None:
        """Run *action* when the revision's function has returned, in its step (before
        its version row); *key* registered again keeps the first action."""
        self._after_revision.setdefault(key, action)

    async def end_revision(self) -> None:
        """Run the actions registered with :meth:`after_revision`, in their order."""
        while self._after_revision:
            key = next(iter(self._after_revision))
            await self._after_revision.pop(key)()

    def begin_step(self, revision: str) -> None:
        """Start counting the statements of *revision*'s step."""
        self.revision = revision
        self.revision_state = {}
        self._after_revision = {}
        self.cleaning_up = False
        self.step_marker = None
        self.marker_written = False
        self.statements_run = 0
        self.committed_statements = 0
        self.last_committed = None
        self.maybe_committed = False
        self.committing = False
        self._pending = 0
        self._pending_last = None
        self._raw_pending = False

    @property
    def session_autocommits(self) -> bool:
        """Whether a revision turned the MySQL session's autocommit on (``SET autocommit``)."""
        return self._session_autocommits

    @property
    def partly_committed(self) -> bool:
        """Whether the current step has (or may have) committed part of its work."""
        return self.committed_statements > 0 or self.maybe_committed

    @property
    def last_committed_statement(self) -> str | None:
        """The SQL of the step's last committed statement, as one line."""
        if self.last_committed is None:
            return None
        return describe_statement(self.last_committed, self._dialect)

    def _commits_itself(self, kind: StatementKind) -> bool:
        if kind == "read":
            return False
        if self._autocommitting or self._session_autocommits:
            return True
        return kind == "ddl" and not self.transactional_ddl

    def _starting(self, statement: Executable) -> StatementKind:
        """Count *statement*, about to run; return its kind."""
        if isinstance(statement, sa.TextClause) and _ends_transaction(statement.text):
            raise ScriptError(
                f"revision {self.revision}: op.execute({statement.text.strip()[:40]!r}) would "
                "end the transaction amigrate runs the revision in (its version row commits "
                "with its work)",
                hint="for statements that cannot run in a transaction, use "
                "'async with op.autocommit_block():'",
            )
        self._running = statement
        self.statements_run += 1
        kind = statement_kind(statement, self._dialect.name)
        if kind == "ddl" and not self.transactional_ddl and not self._autocommitting:
            # MySQL commits the open transaction before a DDL statement runs, even one
            # that then fails.
            self._committed_early()
        if not self.transactional_ddl and isinstance(statement, sa.TextClause):
            autocommit = mysql_autocommit(statement.text)
            if autocommit is not None:
                # SET autocommit = 1: what runs after it commits as it runs, for the rest
                # of the session (SQLAlchemy begins MySQL's transactions implicitly).
                self._session_autocommits = autocommit
        return kind

    def _finished(self, statement: Executable, kind: StatementKind) -> None:
        """*statement* ran: committed already, or pending in the open transaction."""
        self._running = None
        if self._commits_itself(kind):
            self.committed_statements += 1
            self.last_committed = statement
        elif kind != "read":
            self._pending += 1
            self._pending_last = statement

    def _interrupted(self, kind: StatementKind) -> None:
        """A cancellation or exit hit the running statement: the server may finish it."""
        if self._commits_itself(kind):
            self.maybe_committed = True

    def _committed_early(self) -> None:
        """The open transaction was committed before its step ended."""
        self.early_commits += 1
        if self._pending:
            self.committed_statements += self._pending
            self.last_committed = self._pending_last
            self._pending = 0
        if self._raw_pending:
            self.maybe_committed = True
            self._raw_pending = False

    def _entered_block(self) -> None:
        # What ran before the block is committed now, and what runs inside commits as it runs.
        self._committed_early()
        self.autocommit_blocks += 1
        self._autocommitting = True

    def _raw_access(self) -> None:
        """The revision took the connection: what it runs there is not counted."""
        if self._autocommitting or not self.transactional_ddl:
            self.maybe_committed = True
        else:
            self._raw_pending = True

    @property
    def current_statement(self) -> str | None:
        """The SQL of the statement that was running when a step failed, as one line."""
        if self._running is None:
            return None
        return describe_statement(self._running, self._dialect)

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    @property
    def config(self) -> Config:
        return self._config

    @property
    def x_args(self) -> Mapping[str, str]:
        return self._x_args

    @property
    def connection(self) -> AsyncConnection:
        raise NotImplementedError

    @property
    def transactional_ddl(self) -> bool:
        """Whether a failed step's DDL is rolled back."""
        return transactional_ddl(self._dialect)

    @property
    def as_sql(self) -> bool:
        """Whether statements are rendered as SQL text (``--sql``) rather than executed."""
        return False

    async def run_op(self, op: MigrateOp) -> Any:
        """Perform *op* on this dialect: execute (or render) its statements."""
        return await apply_op(op, self)

    async def execute(
        self,
        statement: Executable,
        options: Mapping[str, Any] | None = None,
        parameters: Any = None,
    ) -> Any:
        raise NotImplementedError

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        raise NotImplementedError

    async def run_revision_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``op.run_sync``: like :meth:`run_sync` (which amigrate's own catalog reads use),
        but what *fn* runs is the revision's, not counted, as with ``op.connection``."""
        self._raw_access()
        return await self.run_sync(fn, *args, **kwargs)

    def autocommit_block(self) -> Any:
        raise NotImplementedError

    async def begin(self) -> None:
        """Start a transaction."""
        raise NotImplementedError

    async def commit(self) -> None:
        """Commit the transaction, if one is open."""
        raise NotImplementedError

    async def rollback(self) -> None:
        """Roll back the transaction, if one is open."""
        raise NotImplementedError


def describe_statement(statement: Executable | str, dialect: Dialect) -> str:
    """One line of SQL for messages (the first 200 characters)."""
    try:
        text = statement if isinstance(statement, str) else str(_compile(statement, dialect))
    except Exception:  # a statement that does not compile is still worth naming
        text = type(statement).__name__
    else:
        if not isinstance(statement, str) and dialect.paramstyle in ("format", "pyformat"):
            text = text.replace("%%", "%")  # as the server runs it, not as the driver takes it
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197] + "..."


class OnlineContext(MigrationContext):
    """Revisions run on a live ``AsyncConnection``."""

    def __init__(
        self,
        config: Config,
        connection: AsyncConnection,
        x_args: Mapping[str, str],
        *,
        external_transaction: bool = False,
        exclusive_loop: bool = False,
        own_session: bool = False,
    ) -> None:
        super().__init__(config, connection.dialect, x_args)
        self._conn = connection
        #: The connection is amigrate's own (not an application's): its driver-level
        #: settings are amigrate's to change (SQLite's progress handler, see direct.py).
        self._own_session = own_session
        #: MySQL's id of the connection's server thread (CONNECTION_ID()), to stop a
        #: statement an interrupt left running.
        self._server_thread: int | None = None
        self._server_pid: int | None = None  # PostgreSQL's backend, on asyncpg
        #: A schema target's connection: its search_path before, to put back after.
        self.saved_search_path: str | None = None
        #: Nothing else runs on the event loop: amigrate may block it (see direct.py).
        self._exclusive_loop = exclusive_loop
        # A connection handed over inside the caller's transaction: run in it, never commit.
        self.external_transaction = external_transaction
        self._sqlite = connection.dialect.name == "sqlite"
        self._saved_sqlite_isolation: Any = None
        #: SQLite: amigrate switched the journal from DELETE to TRUNCATE for the run.
        self._truncating_journal = False
        #: amigrate's own statements straight to the driver, see runtime/direct.py.
        self._direct: Direct | None = None
        self._saved_isolation: str | None = None
        #: Whether the direct path opened the transaction now running.
        self._direct_open = False
        self._wants_result = False

    @property
    def connection(self) -> AsyncConnection:
        self.catalog.clear()  # whoever takes it may change the schema behind amigrate's back
        self._raw_access()
        return self._conn

    async def stop_running_statement(self) -> None:
        """After an interrupt: stop the statement the server may still be running.

        asyncmy only drops the connection, and MySQL runs the statement to its end (an
        ALTER TABLE for minutes) after the migration lock is gone; asyncpg's own cancel
        request may not go out. So from a connection of its own: ``KILL QUERY`` on
        MySQL, ``pg_cancel_backend`` on PostgreSQL (whatever the revision was running,
        through ``op`` or ``op.connection``; an idle session is left as it is).
        """
        if self._server_pid is not None:
            # asyncpg sends a cancel request of its own, but from a task that the
            # connection's teardown under a cancel scope (fan-out, move_on_after) can cut
            # short: the statement then ran on after the lock was released.
            stop = f"SELECT pg_cancel_backend({self._server_pid:d})"
        elif self._running is not None and self._server_thread is not None:
            stop = f"KILL QUERY {self._server_thread:d}"
        else:
            return
        with anyio.move_on_after(5):  # (best effort: the pool may have nothing free)
            try:
                async with self.engine.connect() as conn:
                    await conn.exec_driver_sql(stop)
            except Exception:  # it may have finished meanwhile
                pass

    @property
    def engine(self) -> AsyncEngine:
        """The engine of the connection (for a connection of amigrate's own)."""
        return self._conn.engine

    def fresh_connection(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """Another connection to the database, set up as the run's (a schema target's
        search_path, env.py's on_connect), for what must be done after the run's own is
        gone: the failure's history row, whether an interrupted COMMIT landed."""
        if self.set_up_fresh is None:
            return self.engine.connect()
        return self.set_up_fresh(self.engine)

    @property
    def closed(self) -> bool:
        """Whether the connection is gone: closed, invalidated, or closed under SQLAlchemy
        (asyncpg and asyncmy close it when a statement is cancelled as it runs)."""
        conn = self._conn
        if conn.closed or conn.invalidated:
            return True
        try:
            driver = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
        except Exception:  # no pooled connection any more
            return True
        is_closed = getattr(driver, "is_closed", None)  # asyncpg
        if callable(is_closed):
            return bool(is_closed())
        connected = getattr(driver, "connected", None)  # asyncmy
        return connected is False

    async def _begin_in_the_driver(self) -> None:
        """SQLite inside the caller's transaction: SQLAlchemy's ``begin()`` sends nothing,
        and pysqlite begins only before a row change, so DDL would autocommit (and stay
        when the caller rolls back). Begin for real, unless the driver already has."""
        if await self._driver_in_transaction() is False:
            await self._conn.exec_driver_sql("BEGIN")

    async def prepare(self) -> None:
        """Take transaction control; call once before the first transaction.

        SQLite: the driver's implicit BEGIN is turned off and amigrate emits its own.
        Where amigrate talks to the driver directly (runtime/direct.py) it opens and
        ends the transactions itself: on asyncpg SQLAlchemy's side is switched to
        AUTOCOMMIT, so a statement the revision runs through SQLAlchemy starts no
        transaction of its own and runs inside amigrate's.
        """
        if self._conn.dialect.name in ("mysql", "mariadb"):
            # To stop a statement an interrupt leaves running on the server (see
            # stop_running_statement); read outside any transaction of amigrate's.
            result = await self._conn.exec_driver_sql("SELECT CONNECTION_ID()")
            self._server_thread = int(result.scalar_one())
        elif self._conn.dialect.name == "postgresql":
            raw = await self._conn.get_raw_connection()
            get_pid = getattr(raw.driver_connection, "get_server_pid", None)  # asyncpg
            self._server_pid = int(get_pid()) if callable(get_pid) else None
            if not self.external_transaction:
                await self._end_autobegun()
        if self.external_transaction:
            if self._sqlite:
                await self._begin_in_the_driver()
            return
        await self._end_autobegun()
        if self._sqlite:

            def take_control(sync: sa.Connection) -> Any:
                dbapi = sync.connection.dbapi_connection
                previous = dbapi.isolation_level  # type: ignore[union-attr]
                dbapi.isolation_level = None  # type: ignore[union-attr]
                return previous

            self._saved_sqlite_isolation = await self._conn.run_sync(take_control)
        direct = await direct_for(
            self._conn, inline=self._exclusive_loop, own_session=self._own_session
        )
        if direct is not None and not self._sqlite:
            # (get_isolation_level() asks the server, which knows nothing of AUTOCOMMIT)
            if await autocommits(self._conn):
                self._saved_isolation = "AUTOCOMMIT"
            else:
                self._saved_isolation = await self._conn.get_isolation_level()
            await self._end_autobegun()  # reading the level autobegan one
            await self._conn.execution_options(isolation_level="AUTOCOMMIT")
        self._direct = direct

    async def truncate_journal(self) -> None:
        """SQLite: end each commit by truncating the rollback journal, not deleting it.

        With one transaction per revision a run commits many times, and deleting the
        journal file at each commit changes the directory (a thousand commits: ~0.15 s
        here). Truncating keeps the same durability. Only from SQLite's default DELETE
        mode (WAL and any mode the user chose stay as they are), only for the main
        database, and :meth:`release` switches back, which removes the empty journal.
        """
        if not self._sqlite or self.external_transaction or self._truncating_journal:
            return
        mode = await self._journal_mode()
        if mode == "delete":
            self._truncating_journal = await self._journal_mode("truncate") == "truncate"
        await self._end_autobegun()  # the PRAGMA's; SQLite itself has nothing open

    async def _journal_mode(self, new: str | None = None) -> str | None:
        sql = "PRAGMA main.journal_mode" + (f" = {new}" if new else "")
        try:
            row = (await self._conn.exec_driver_sql(sql)).first()
        except sa.exc.DBAPIError:  # a read-only database, say: leave the journal be
            return None
        return str(row[0]).lower() if row is not None else None

    async def _end_autobegun(self) -> None:
        """End the transaction SQLAlchemy began on its own for a statement (a read, a
        PRAGMA), if any: amigrate opens and ends the transactions it runs in."""
        if self._conn.in_transaction():
            await self._conn.commit()

    async def release(self) -> None:
        """Give transaction control back (the connection may be the application's)."""
        if self._direct is not None and self._direct_open and not self._conn.closed:
            # Left open by a failure whose ROLLBACK never ran (an interrupt on its way):
            # what follows would commit it.
            await self.rollback()
        direct, self._direct = self._direct, None
        if self.external_transaction or self._conn.closed:
            return
        if self._truncating_journal:
            self._truncating_journal = False
            # Unless the revisions chose a mode of their own meanwhile (WAL, say).
            if await self._journal_mode() == "truncate":
                await self._journal_mode("delete")  # which also removes the empty journal
            await self._end_autobegun()
        if self._sqlite:
            saved = self._saved_sqlite_isolation

            def give_back(sync: sa.Connection) -> None:
                sync.connection.dbapi_connection.isolation_level = saved  # type: ignore[union-attr]

            await self._conn.run_sync(give_back)
        elif direct is not None and self._saved_isolation is not None:
            await self._end_autobegun()  # the no-op one AUTOCOMMIT still tracks
            await self._conn.execution_options(isolation_level=self._saved_isolation)

    async def run_op(self, op: MigrateOp) -> Any:
        if not isinstance(op, ExecuteOp):
            return await apply_op(op, self)
        # op.execute() hands its CursorResult back: it must go through SQLAlchemy.
        self._wants_result = True
        try:
            return await apply_op(op, self)
        finally:
            self._wants_result = False

    async def begin(self) -> None:
        if self.external_transaction or self._direct_open:
            return  # open already: the previous step's commit began it (finish's reopen)
        await self._end_autobegun()  # a read's: start clean
        if self._direct is not None:
            # SQLAlchemy sees no transaction; one it autobegins for a statement of the
            # revision's own runs inside this one (SQLite has one transaction per connection).
            # Open from before it is sent: a cancel landing after the server began it (and
            # before this resumes) must still have rollback() look and end it.
            self._direct_open = True
            await self._direct.run([(BEGIN, (), None)], interruptible=not self.cleaning_up)
            return
        await self._conn.begin()
        if self._sqlite:
            # (Unless an application's "begin" listener has: SQLAlchemy's recipe for real
            # SQLite transactions sends its own BEGIN.)
            await self._begin_in_the_driver()

    async def commit(self) -> None:
        await self.finish([], commit=True)

    async def transaction_lost(self) -> bool:
        """Whether the revision ended the transaction amigrate opened for it (a COMMIT or
        ROLLBACK through ``op.connection``): then what it ran before may be committed,
        and its step counts as partly applied."""
        direct = self._direct
        if self._autocommitting or self.external_transaction or self.closed:
            return False  # (a lost connection: the failure says so, and what committed)
        if direct is not None:
            if not self._direct_open or await direct.in_transaction():
                return False
            self._direct_open = False
        elif not self._conn.in_transaction() or await self._driver_in_transaction() is not False:
            return False  # (MySQL: its DDL commits; the driver cannot say)
        self._committed_early()
        self.maybe_committed = True
        return True

    async def _driver_in_transaction(self) -> bool | None:
        """Whether the driver's connection is in a transaction (None: it cannot say)."""
        raw = await self._conn.get_raw_connection()
        driver: Any = raw.driver_connection
        if hasattr(driver, "is_in_transaction"):  # asyncpg
            # SQLAlchemy's adapter begins on the first statement: only once it has (it
            # keeps the transaction it began; older releases kept a flag).
            adapter = raw.dbapi_connection
            began = getattr(adapter, "_transaction", None) is not None
            if not began and getattr(adapter, "_started", None) is not True:
                return None
            return bool(driver.is_in_transaction())
        state = getattr(driver, "in_transaction", None)  # aiosqlite (sqlite3's attribute)
        return state if isinstance(state, bool) else None

    async def finish(self, writes: Sequence[Write], *, commit: bool, reopen: bool = False) -> None:
        """Run *writes* (each checked for its row count), then commit if *commit*.

        On the direct path this is one trip to the driver, ``COMMIT`` included; with
        *reopen* (another step follows) the next transaction begins in that trip too.
        """
        direct = self._direct
        if direct is not None:
            items = direct.items(writes)
            closing = commit and self._direct_open
            if closing and direct.sqlalchemy_autocommits and self._conn.in_transaction():
                # What SQLAlchemy began for a statement of the revision's is bookkeeping
                # only (its side is in AUTOCOMMIT): end it first, at no cost, so that the
                # next BEGIN still rides with this COMMIT.
                await self._conn.commit()
            # Not while SQLAlchemy holds a transaction of its own (a statement of the
            # revision's): its commit below would end the new one (pysqlite commits
            # whatever is open).
            again = closing and reopen and not self._conn.in_transaction()
            if closing:
                items += direct.ending(begin_again=again)
            if items:
                await direct.run(items, interruptible=not self.cleaning_up)
            if closing:
                self._direct_open = again
        else:
            for write in writes:
                result = await self._conn.execute(write.statement, dict(write.params))
                write.check(result.rowcount)
        if commit and not self.external_transaction and self._conn.in_transaction():
            await self._conn.commit()

    async def write_marker(self) -> None:
        """Write the current step's ``running`` history row (once), in its transaction:
        what commits next takes it along."""
        if self.step_marker is None or self.marker_written:
            return
        await self.finish([self.step_marker()], commit=False)
        self.marker_written = True

    async def rollback(self) -> None:
        if self.external_transaction:
            return
        if self._direct is not None and self._direct_open:
            if await self._direct.in_transaction():
                await self._direct.run([(ROLLBACK, (), None)])
            self._direct_open = False  # (only now: an interrupted ROLLBACK is tried again)
        if self._conn.in_transaction():
            await self._conn.rollback()

    async def execute(
        self,
        statement: Executable,
        options: Mapping[str, Any] | None = None,
        parameters: Any = None,
    ) -> Any:
        """Execute *statement*; a list of dicts in *parameters* makes it an executemany."""
        kind = self._starting(statement)
        try:
            result = await self._execute(statement, options, parameters)
        except BaseException as exc:
            if not isinstance(exc, Exception):
                self._interrupted(kind)
            raise
        self._finished(statement, kind)
        return result

    async def _execute(
        self, statement: Executable, options: Mapping[str, Any] | None, parameters: Any
    ) -> Any:
        if not isinstance(statement, KEEPS_CATALOG):
            self.catalog.clear()
        if (
            self._direct is not None
            and not self._wants_result
            and isinstance(statement, ExecutableDDLElement)
            and (self._direct.all_ddl or isinstance(statement, CREATING))
            and not options
            and parameters is None
        ):
            # An op's DDL: one trip to the driver instead of SQLAlchemy's several.
            sql = str(statement.compile(dialect=self._dialect))
            if isinstance(self._direct, SQLiteDirect) and self._direct.inline:
                await self._direct.run([(sql, (), None)], interruptible=not self.cleaning_up)
            else:
                await self._until_done(self._direct.run([(sql, (), None)]))
            self._direct.ddl_ran(statement)
            return None
        if isinstance(statement, CREATING) and not options and parameters is None:
            # A CREATE cannot invalidate anything already prepared, so it skips SQLAlchemy's
            # DDL path, which on asyncpg drops every cached statement and type after each
            # DDL statement (re-preparing and re-introspecting on the next step).
            text = str(statement.compile(dialect=self._dialect))
            return await self._until_done(self._conn.exec_driver_sql(text))
        return await self._until_done(
            self._conn.execute(statement, parameters, execution_options=dict(options or {}))
        )

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self.catalog.clear()
        return await self._until_done(self._conn.run_sync(fn, *args, **kwargs))

    async def _until_done(self, work: Coroutine[Any, Any, T]) -> T:
        """Await *work*; on SQLite, a cancel interrupts the statement it runs and waits for
        it to end before it goes on.

        aiosqlite runs the statement in its worker thread, which a cancel does not stop:
        the run ended only with the statement (minutes, for a big UPDATE), and SQLAlchemy,
        cancelled meanwhile under a cancel scope (a fan-out, ``move_on_after``), dropped
        the connection mid-statement, holding SQLite's write lock, with a close that never
        ends. sqlite3's ``interrupt()`` may be called from any thread.
        """
        if not self._sqlite:
            return await work
        task = asyncio.ensure_future(work)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                self._conn.sync_connection.connection.driver_connection._conn.interrupt()  # type: ignore[union-attr]
            with anyio.CancelScope(shield=True):
                # The statement fails ("interrupted") and *work* with it; work that runs more
                # statements (op.run_sync's function) is cancelled, once, if it goes on.
                with anyio.move_on_after(_INTERRUPT_GRACE):
                    await asyncio.wait([task])
                if not task.done():
                    task.cancel()
                    await asyncio.wait([task])
            if not task.cancelled():
                task.exception()  # (retrieved: the cancel is what is reported)
            raise

    async def _commit_at_block(self) -> None:
        """The COMMIT at a block's entry. Interrupted on its way, it may have landed, with
        what the step ran before the block and its ``running`` row: keep that row (made
        ``failed``) rather than remove it as if the step had rolled back."""
        pending = bool(self._pending or self._raw_pending)
        try:
            await self.commit()
        except BaseException as exc:
            if pending and not isinstance(exc, Exception):
                self.maybe_committed = True
            raise

    @asynccontextmanager
    async def autocommit_block(self) -> AsyncIterator[None]:
        if self.external_transaction:
            raise MigrationError(
                "autocommit_block() cannot run inside the caller's transaction",
                hint="pass amigrate a connection that is not in a transaction, or its engine",
            )
        if self._autocommitting:
            yield  # nested in another block: already outside a transaction
            return
        if self._direct is not None or self._sqlite:
            # amigrate owns the transaction; outside it statements autocommit (SQLite with
            # its implicit BEGIN off, asyncpg with SQLAlchemy's side in AUTOCOMMIT).
            was_open = self._direct_open if self._direct else self._conn.in_transaction()
            await self.write_marker()
            await self._commit_at_block()
            self._entered_block()
            try:
                yield
            except BaseException:
                # Failed or interrupted: the step ends here, and its error (not the
                # one a BEGIN on a lost or cancelled connection would raise) is reported.
                self._autocommitting = False
                raise
            self._autocommitting = False
            if was_open:
                await self.begin()
            return
        was_open = self._conn.in_transaction()
        # Read the level while still inside the transaction: reading it later would autobegin.
        previous = await self._conn.get_isolation_level()
        await self.write_marker()
        await self._commit_at_block()
        self._entered_block()
        await self._conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield
        except BaseException:
            # As above; but the isolation level goes back as it was (a connection the
            # application passed in stays its own: left in AUTOCOMMIT, its rollbacks would
            # undo nothing), unless the connection is lost, whatever interrupted this.
            self._autocommitting = False
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                if not (self._conn.closed or self._conn.invalidated):
                    await self._conn.rollback()
                    await self._conn.execution_options(isolation_level=previous)
            raise
        self._autocommitting = False
        # Under AUTOCOMMIT SQLAlchemy still autobegins a (no-op) transaction object.
        await self.commit()
        await self._conn.execution_options(isolation_level=previous)
        if was_open:
            await self.begin()


class OfflineContext(MigrationContext):
    """Revisions render SQL text (``--sql``): no connection, literal values."""

    def __init__(self, config: Config, dialect: Dialect, x_args: Mapping[str, str]) -> None:
        super().__init__(config, dialect, x_args)
        self.chunks: list[str] = []
        self._open = False
        #: A DDL statement ended the open transaction (MySQL): BEGIN before the next change.
        self._reopen = False
        self._statements = False

    def _offline_error(self, what: str) -> ScriptError:
        return ScriptError(
            f"revision {self.revision or '?'} uses {what}, which needs a live database; "
            "it cannot be rendered as offline SQL",
            hint="run it without --sql, or write the step with op.execute(...) statements "
            "(a query whose result it does not use is written to the script)",
        )

    @property
    def connection(self) -> AsyncConnection:
        raise self._offline_error("op.connection")

    @property
    def as_sql(self) -> bool:
        return True

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        raise self._offline_error("op.run_sync()")

    def comment(self, text: str) -> None:
        """Add a ``-- comment`` line."""
        self.chunks.append(f"-- {text}\n\n")

    def emit_text(self, text: str) -> None:
        """Add a statement given as text."""
        self.chunks.append(script_statement(text, self._dialect) + "\n\n")
        self._statements = True

    async def execute(
        self,
        statement: Executable,
        options: Mapping[str, Any] | None = None,
        parameters: Any = None,
    ) -> Any:
        if parameters is not None:  # ops render one literal statement per row offline
            raise TypeError("offline SQL has no parameters")
        reads = isinstance(statement, sa.Select | sa.TextClause) and _reads(statement)
        kind = self._starting(statement)  # what it commits, as online (see apply_plan)
        ends_transaction = kind == "ddl" and not self.transactional_ddl and not self._autocommitting
        if self._reopen and kind != "read" and not ends_transaction:
            # MySQL's DDL committed the transaction, and the client's session autocommits
            # what follows: begin again, so that the step's row changes (its version and
            # history rows) commit together, as online (where a new one begins by itself).
            self.emit_text("BEGIN")
            self._reopen = False
        self.emit_text(str(_compile(statement, self._dialect, literal_binds=True)))
        self._finished(statement, kind)
        if ends_transaction and self._open:
            self._reopen = True
        if reads:
            # Written to the script, as Alembic writes it (SELECT setval(...) is run for
            # what it does); a revision that looks at the rows cannot be rendered.
            return NoRows(self._offline_error("the result of a query that reads data"))
        return None

    async def begin(self) -> None:
        # MySQL too: its DDL commits as it runs, but a step's row changes and its version
        # row commit together, as online (the mysql client's session autocommits).
        if not self._open:
            self.emit_text("BEGIN")
            self._open = True

    async def commit(self) -> None:
        if self._open:
            self.emit_text("COMMIT")
            self._open = False
            self._reopen = False

    async def rollback(self) -> None:
        self._open = self._reopen = False

    @asynccontextmanager
    async def autocommit_block(self) -> AsyncIterator[None]:
        if self._autocommitting:
            yield  # nested in another block: already outside a transaction
            return
        was_open = self._open
        await self.commit()
        self._entered_block()
        try:
            yield
        finally:
            self._autocommitting = False
            if was_open:
                await self.begin()

    @property
    def sql(self) -> str:
        """The script so far (its encoding declared first, once it holds a statement)."""
        text = "".join(self.chunks).rstrip("\n")
        if self._statements:
            text = script_header(self._dialect) + text
        return text + "\n" if text else ""


class NoRows:
    """What ``op.execute()`` of a query gives offline: the query is in the script, and
    anything done with its result (rows, a scalar, a row count, its truth) raises the
    error it was made with: a script has no rows to give a revision."""

    __slots__ = ("_error",)

    def __init__(self, error: Exception) -> None:
        object.__setattr__(self, "_error", error)

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise self._error

    def __getattr__(self, name: str) -> Any:
        raise self._error

    __bool__ = __iter__ = __len__ = __getitem__ = __aiter__ = __setattr__ = _refuse


def _compile(statement: Executable, dialect: Dialect, *, literal_binds: bool = False) -> Any:
    if not isinstance(statement, sa.sql.ClauseElement):
        raise TypeError(f"cannot compile {type(statement).__name__}")
    kwargs = {"literal_binds": True} if literal_binds else {}
    return statement.compile(dialect=dialect, compile_kwargs=kwargs)


_CHANGES_ROWS = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


def _reads(statement: sa.Select[Any] | sa.TextClause) -> bool:
    """Whether *statement* is a query (after any comments and parentheses): a ``WITH``
    that changes no rows, a ``PRAGMA`` that sets nothing (``PRAGMA x = y`` does)."""
    if isinstance(statement, sa.Select):
        return True
    text, first = _first_word(statement.text)
    if first == "WITH":
        return _CHANGES_ROWS.search(text) is None
    if first == "PRAGMA":
        return "=" not in text
    return first in _READS  # a query: its point is its result, which offline SQL has not
