"""``Migrator``: one database, its revision files, and the operations on it.

Composes the layers: the scripts (read with ``ast``), env.py's hooks, an engine
(the application's, or one amigrate makes and disposes), the version table, the
planner and the runner. Every method is awaitable from a running event loop;
file work runs in a worker thread so an application's loop is not blocked.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import anyio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from amigrate.config import Config, load_config, mask_url, remember_password
from amigrate.errors import (
    AmigrateError,
    CheckFailed,
    ConfigError,
    ConfigWarning,
    MigrationError,
    PartlyApplied,
    ScriptError,
    ValidationWarning,
)
from amigrate.operations.base import naming_convention
from amigrate.revisions import (
    Plan,
    RevisionGraph,
    Step,
    VersionChange,
    plan_downgrade,
    plan_stamp,
    plan_upgrade,
)
from amigrate.revisions.revision import MAX_ID_LENGTH
from amigrate.runtime.connect_errors import database_error, is_database_error
from amigrate.runtime.context import OnlineContext, autocommits, schema_search_path
from amigrate.runtime.engine import connect_error, make_engine
from amigrate.runtime.history import (
    RUNNING,
    HistoryEntry,
    HistoryTable,
    database_user,
    file_checksum,
    os_identity,
)
from amigrate.runtime.locking import migration_lock
from amigrate.runtime.offline import (
    offline_ends,
    refuse_current,
    render_plan,
    render_version_table,
)
from amigrate.runtime.repair import RepairResult, choose_repairs, named_revisions, write_repairs
from amigrate.runtime.runner import (
    PURGED,
    Recorder,
    RevisionFunction,
    StepCallback,
    StepResult,
    apply_plan,
    step_direction,
)
from amigrate.runtime.threads import in_thread
from amigrate.runtime.validation import (
    ValidationReport,
    applied_by_versions,
    applied_checksums,
    below_heads,
    compare,
)
from amigrate.runtime.versions import VersionTable
from amigrate.scripts.directory import ScriptDirectory
from amigrate.scripts.loader import EnvHooks, check_function, load_env

if TYPE_CHECKING:
    from amigrate.autogenerate.diff import SchemaDiff

__all__ = ["Migrator", "RunResult"]

Direction = Literal["up", "down", "stamp"]


def _in_transaction(sync: sa.Connection) -> bool:
    """Whether a failed statement would spoil the transaction the server has open (where
    amigrate's own, opened beneath SQLAlchemy, counts too); never on SQLite."""
    if sync.dialect.name == "sqlite":
        return False
    check = getattr(sync.connection.driver_connection, "is_in_transaction", None)
    return bool(check()) if check is not None else sync.in_transaction()


def _alembic_tables(sync: sa.Connection, schema: str | None) -> list[tuple[str | None, list[str]]]:
    """Alembic's version tables the connection sees, each with its rows: on PostgreSQL in
    any schema (the one named *schema*, or the default, first), elsewhere in *schema*."""
    schemas: list[str | None] = []
    if sync.dialect.name != "postgresql" or schema is not None:
        if sa.inspect(sync).has_table("alembic_version", schema=schema):
            schemas = [schema]
    else:
        names = sync.exec_driver_sql(
            "SELECT n.nspname FROM pg_catalog.pg_class c\n"
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
            "WHERE c.relname = 'alembic_version' AND c.relkind IN ('r', 'p')\n"
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema')\n"
            "ORDER BY n.nspname = current_schema() DESC, n.nspname"
        ).scalars()
        default = sync.exec_driver_sql("SELECT current_schema()").scalar()
        schemas = [None if name == default else name for name in names]
    found = []
    for name in schemas:
        table = sa.table("alembic_version", sa.column("version_num"), schema=name)
        try:
            with sync.begin_nested() if _in_transaction(sync) else nullcontext():
                rows = sync.execute(sa.select(table.c.version_num)).scalars().all()
        except sa.exc.DBAPIError:
            continue  # (another's schema, not readable: not this config's database)
        found.append((name, sorted(str(row) for row in rows)))
    return found


@dataclass(frozen=True)
class RunResult:
    """What a run did: the heads before and after, and each step applied.

    ``sql`` holds the script when the run was offline (``--sql``); ``resolved`` the
    revision whose recorded failure this run marked resolved without running a step
    (a ``stamp``, or ``--force``, that found the database where it says).
    """

    direction: Direction
    target: str
    from_heads: tuple[str, ...]
    to_heads: tuple[str, ...]
    steps: tuple[StepResult, ...]
    database: str
    sql: str | None = None
    resolved: str | None = None

    @property
    def duration(self) -> float:
        """Seconds spent in the steps."""
        return sum(step.duration for step in self.steps)


def _unresolved(failure: HistoryEntry, *, then: str = "", locked: bool = True) -> PartlyApplied:
    live = not locked and failure.status == RUNNING
    return PartlyApplied(
        unresolved_message(failure, locked=locked),
        hint=("if no migrator is running it, " if live else "")
        + "finish or undo that revision by hand, then record where the database is with "
        f"'amigrate stamp <revision>' (or run again with --force){then}",
    )


def unresolved_message(failure: HistoryEntry, *, locked: bool = True) -> str:
    """What a newest history row that upgrade and downgrade refuse over says: a failure,
    or a step that did not finish (*locked*: read holding the migration lock, so its
    migrator is gone; else it may be running now)."""
    when = failure.applied_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    if failure.status != RUNNING:
        return (
            f"revision {failure.revision} failed partway on {when} and the database may be "
            f"partly changed: {failure.error or 'no details recorded'}"
        )
    verb = "upgrade" if failure.direction == "up" else "downgrade"
    started = f"the {verb} of revision {failure.revision} started on {when} (by {failure.os_user})"
    if locked:
        return (
            f"{started} and did not finish: its migrator stopped (killed, or its host or "
            "connection lost) after part of the revision committed, so the database may be "
            "partly changed"
        )
    return (
        f"{started} and has not finished: another migrator is running it now, or it stopped "
        "partway (killed, or its host or connection lost) and the database may be partly changed"
    )


def _script_run_id(plan: Plan, checksums: Mapping[str, str]) -> str:
    """The run id a script's history rows share: derived from what it does, so that
    the same command renders the same script (one that is checked in can be compared)."""
    what = [
        (s.revision, step_direction(s), s.from_revisions, s.to_revisions, checksums.get(s.revision))
        for s in plan.steps
    ]
    return hashlib.sha256(repr((what, plan.purge)).encode()).hexdigest()[:32]


def _refuse_implicit_commit(ctx: OnlineContext) -> None:
    """MySQL/MariaDB commit the open transaction before any DDL: amigrate cannot run inside
    the caller's transaction there (it would commit the caller's work, and could not be
    rolled back with it)."""
    if ctx.external_transaction and ctx.connection.dialect.name in ("mysql", "mariadb"):
        raise MigrationError(
            f"{ctx.connection.dialect.name} commits an open transaction before each DDL "
            "statement, so amigrate cannot run inside the connection's transaction",
            hint="commit or roll back first, or pass amigrate the engine (engine=...) instead",
        )


async def _make_ready(conn: AsyncConnection, *, opened: bool, writes: bool) -> None:
    """Refuse a connection amigrate cannot run on as it is (a schema_translate_map; given
    in AUTOCOMMIT, to write), or set it right (amigrate's own from an AUTOCOMMIT engine)."""
    sync = conn.sync_connection
    if sync is not None and sync.get_execution_options().get("schema_translate_map"):
        raise MigrationError(
            "the engine or connection amigrate was given has a schema_translate_map, which "
            "amigrate does not apply to all of its statements (its tables, the revisions' "
            "DDL): the run would be split between schemas",
            hint="pass it without one (.execution_options(schema_translate_map=None)) and "
            "name the schema with version_table_schema and the operations' schema=, or "
            "migrate each schema as a target (docs/multidb.md)",
        )
    # (SQLite: prepare() takes the driver's transactions over whatever the level, and
    # SQLAlchemy's recipe for real SQLite transactions sets isolation_level None.)
    # (A read on the application's connection: nothing to roll back; left as it is.)
    if conn.dialect.name == "sqlite" or not (opened or writes) or not await autocommits(conn):
        return
    if not opened:
        raise MigrationError(
            "the connection amigrate was given is in AUTOCOMMIT, so a failing revision "
            "could not be rolled back",
            hint="pass a connection at the database's default isolation level, or "
            "the engine (engine=...)",
        )
    # An engine in AUTOCOMMIT (isolation_level="AUTOCOMMIT"): every statement would commit
    # as it ran, and a failed revision stay half done while reported rolled back. The run's
    # connection gets the database's default level (SQLAlchemy restores the engine's when
    # the connection goes back to the pool).
    await conn.execution_options(isolation_level=conn.dialect.default_isolation_level)


def _as_config(config: Config | str | os.PathLike[str]) -> Config:
    return config if isinstance(config, Config) else load_config(config)


class Migrator:
    """Migrations for one database, as an async context manager.

    ``Migrator(config)`` makes its own engine from the configured URL (NullPool)
    and disposes it on exit; ``engine=`` or ``connection=`` use the
    application's and leave them open; ``url=`` overrides the configured URL.
    Nothing connects until a method needs the database, so offline SQL needs
    no server. For a fan-out, ``function_suffix`` (``_main``: run
    ``upgrade_main``), ``schema`` (a tenant's PostgreSQL schema: amigrate's
    tables live there and it is the search_path) and the shared ``scripts`` and
    ``env`` are set per database.

    ``exclusive_loop=True`` says nothing else runs on the event loop meanwhile (a
    script or the CLI, not an application's lifespan): on SQLite amigrate then runs
    its own statements on the loop's thread instead of handing each one to
    aiosqlite's worker thread, which is faster but blocks the loop while SQLite
    works (where the connection allows it: SQLAlchemy opens SQLite files with
    ``check_same_thread=False``).
    """

    def __init__(
        self,
        config: Config | str | os.PathLike[str],
        *,
        engine: AsyncEngine | None = None,
        connection: AsyncConnection | None = None,
        url: str | None = None,
        x_args: Mapping[str, str] | None = None,
        on_step: StepCallback | None = None,
        lock_timeout: float | None = None,
        function_suffix: str = "",
        schema: str | None = None,
        scripts: ScriptDirectory | None = None,
        env: EnvHooks | None = None,
        exclusive_loop: bool = False,
    ) -> None:
        if engine is not None and connection is not None:
            raise ConfigError("give Migrator an engine or a connection, not both")
        self.config = _as_config(config)
        self._engine = engine
        self._connection = connection
        self._url = url
        self._x_args = dict(self.config.x_args if x_args is None else x_args)
        self._on_step = on_step
        if lock_timeout is not None and not lock_timeout >= 0:  # (negative, or NaN)
            raise ValueError(f"lock_timeout must be a number of seconds >= 0, not {lock_timeout}")
        self._lock_timeout = lock_timeout if lock_timeout is not None else self.config.lock_timeout
        self._suffix = function_suffix
        self._exclusive_loop = exclusive_loop
        self._owned_engine: AsyncEngine | None = None
        # Migrators of several databases of one project share the files and env.py.
        self._scripts: ScriptDirectory | None = scripts
        self._env: EnvHooks | None = env
        # A schema target (one tenant's PostgreSQL schema): amigrate's tables live there and
        # unqualified names resolve there (search_path).
        self.schema = schema
        table_schema = schema or self.config.version_table_schema
        self.versions = VersionTable(self.config.version_table, table_schema)
        self.history = HistoryTable(self.config.history_table, table_schema)

    # -- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Migrator:
        await in_thread(self._load_sources)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Dispose the engine amigrate created (never the application's)."""
        if self._owned_engine is not None:
            engine, self._owned_engine = self._owned_engine, None
            with anyio.CancelScope(shield=True):
                await engine.dispose()

    def _load_sources(self) -> None:
        if self._scripts is None:
            scripts = ScriptDirectory.from_config(self.config)
            scripts.graph  # noqa: B018 - read and validate the history now, in this thread
            self._scripts = scripts
        if self._env is None:
            self._env = load_env(self.config.script_location, sys_path=self.config.prepend_sys_path)

    @property
    def scripts(self) -> ScriptDirectory:
        """The revision files (after entering the context)."""
        if self._scripts is None:
            raise RuntimeError("use 'async with Migrator(...)' before calling its methods")
        return self._scripts

    @property
    def graph(self) -> RevisionGraph:
        """The revision graph."""
        return self.scripts.graph

    @property
    def env(self) -> EnvHooks:
        """env.py's hooks."""
        if self._env is None:
            raise RuntimeError("use 'async with Migrator(...)' before calling its methods")
        return self._env

    @property
    def url(self) -> str:
        """The database URL in use."""
        engine = self._connection.engine if self._connection is not None else self._engine
        if engine is not None:
            url = engine.url.render_as_string(hide_password=False)
            remember_password(url)  # (the one output masks)
            return url
        if not self._url and not self.config.url_or_none:
            several = self.config.get_list("databases") or self.config.get_section("targets")
            if several:
                raise ConfigError(
                    f"this project migrates several databases ({', '.join(several)}), "
                    "and no single URL is configured",
                    hint="select them: databases='all' / targets='all' with upgrade(), "
                    "downgrade(), current() or fan_out() in the API (Migrator(..., url=...) "
                    "for one of them), or -d NAME on the command line",
                )
        if self._url:
            remember_password(self._url)
        return self._url or self.config.url

    @property
    def database(self) -> str:
        """The database, for output: its URL with the password masked."""
        return mask_url(self.url)

    @property
    def _hook_config(self) -> Config:
        """The config env.py's hooks receive: its ``url`` is this migrator's (``url=``, a
        fan-out's target) and its ``x_args`` this run's (the API's ``x_args=`` as well as
        the command line's ``-x``)."""
        if self._x_args == self.config.x_args and not self._url:
            return self.config
        derived = self.config.derive({}, url=self._url)
        derived.x_args = dict(self._x_args)
        return derived

    @property
    def _own_sessions(self) -> bool:
        """Whether the connections are amigrate's own (no engine or connection of the
        application's): their session settings, and their number, are amigrate's to choose."""
        return self._engine is None and self._connection is None

    async def _get_engine(self) -> AsyncEngine:
        if self._engine is not None:
            return self._engine
        if self._owned_engine is None:
            if self.env.create_engine is not None:
                return await self._engine_from_hook()
            options = self.config.engine_options
            if options:  # the config's are text: let the engine convert them
                options["_coerce_config"] = True
            # env.py's engine_options over the config's sqlalchemy.* keys
            options.update(self.env.engine_options)
            self._owned_engine = make_engine(self.url, options)
        return self._owned_engine

    async def _engine_from_hook(self) -> AsyncEngine:
        assert self.env.create_engine is not None
        made = await self._hook("create_engine", self.env.create_engine, self._hook_config)
        if not isinstance(made, AsyncEngine):
            raise ScriptError(
                f"{self.env.path}: create_engine() returned {type(made).__name__}, "
                "not an AsyncEngine",
                hint="return create_async_engine(...) from it",
            )
        if self._owned_engine is not None:
            # Another first call of this migrator's (asyncio.gather) made one while the
            # hook ran: one engine, and the other closed, not left open.
            if made is not self._owned_engine:  # (a hook may hand back one cached engine)
                await made.dispose()
            return self._owned_engine
        self._owned_engine = made
        return made

    async def _hook(self, name: str, hook: Callable[..., Any], *args: Any) -> Any:
        """Await env.py's *hook*; its failure names it (it is the project's code)."""
        try:
            return await hook(*args)
        except AmigrateError:
            raise  # amigrate's own error (a ${VAR} of the config unset, say) says it already
        except Exception as exc:
            raise ScriptError(
                f"{self.env.path}: {name}() raised {type(exc).__name__}: {exc}",
                hint=f"fix {name}() in env.py; nothing was changed in the database",
            ) from exc

    def _missing_sqlite_file(self) -> bool:
        """Whether amigrate would open a SQLite file that does not exist (and so create it
        just to read nothing). Only for its own engine, made from a plain file URL."""
        if self._connection is not None or self._engine is not None:
            return False
        if self.env.create_engine is not None or self.env.on_connect is not None:
            return False
        from amigrate.runtime.quickread import parse_plain_url

        plain = parse_plain_url(self.url)
        return (
            plain is not None
            and plain.backend == "sqlite"
            and bool(plain.database)
            and not os.path.exists(plain.database or "")
        )

    @asynccontextmanager
    async def _connect(self, *, writes: bool = False) -> AsyncIterator[OnlineContext]:
        opened = self._connection is None
        if self._connection is not None:
            conn = self._connection
        else:
            engine = await self._get_engine()
            # SQLAlchemy's aiosqlite adapter, cancelled while it sets a new connection up,
            # leaves a close that never ends (a task asyncio.run then waits for, forever):
            # a SQLite connect of amigrate's own engine (no pool to wait for, no listener
            # of the application's) is local and quick, and not cancelled (a cancel lands
            # just after). An application's engine is left to the application's cancels.
            own = self._engine is None and self.env.create_engine is None
            local = anyio.CancelScope(shield=own and engine.dialect.name == "sqlite")
            try:
                with local:
                    conn = await engine.connect()
            except Exception as exc:
                raise connect_error(self.url, exc) from None
        try:
            await _make_ready(conn, opened=opened, writes=writes)
        except BaseException:
            if opened:
                with anyio.CancelScope(shield=True):
                    await conn.close()
            raise
        ctx = OnlineContext(
            self.config,
            conn,
            self._x_args,
            external_transaction=conn.in_transaction(),
            exclusive_loop=self._exclusive_loop,
            own_session=self._own_sessions,
        )
        try:
            await self._setup(ctx)
            yield ctx
        except Exception as exc:
            # What the database refused outside a step (a privilege, a lock, a trigger on
            # amigrate's tables) is an AmigrateError too, as the docs promise, the driver's
            # error its cause; a step's failure is a MigrationFailed already.
            if is_database_error(exc):
                # (The URL connected to: env.py's create_engine may choose another.)
                url = conn.engine.url.render_as_string(hide_password=False)
                raise database_error(exc, url) from exc
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await self._teardown(ctx)
                if opened and self._engine is not None and self.env.on_connect is not None:
                    # env.py's on_connect changed the session (search_path, lock_timeout,
                    # sql_mode): the pool must not hand that connection to the application.
                    await conn.invalidate()
                if opened:
                    await conn.close()

    async def _teardown(self, ctx: OnlineContext) -> None:
        """Leave the connection as it came: it may go back to the application's pool."""
        if ctx.connection.closed or ctx.connection.invalidated:
            return
        await ctx.rollback()
        if ctx.session_autocommits:
            # A revision's SET autocommit = 1 (MySQL): SQLAlchemy begins its transactions
            # implicitly, so on this session the application's rollbacks would undo nothing.
            await ctx.connection.exec_driver_sql("SET autocommit = 0")
        if self.schema is not None and ctx.connection.dialect.name == "postgresql":
            saved = ctx.saved_search_path
            if saved is None:
                await ctx.connection.execute(sa.text("RESET search_path"))
            else:
                await ctx.connection.execute(
                    sa.text("SELECT set_config('search_path', :p, false)"), {"p": saved}
                )
            await ctx.commit()
        await ctx.release()

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[Callable[[], bool]]:
        """Hold the migration lock (on a connection of its own) for the block; give the
        function that says whether it is still held (see :func:`migration_lock`)."""
        engine = (
            self._connection.engine if self._connection is not None else await self._get_engine()
        )
        schema = self.versions.schema
        conn = self._connection
        current = {"postgresql": "current_schema()", "mysql": "DATABASE()", "mariadb": "DATABASE()"}
        if schema is None and conn is not None and conn.dialect.name in current:
            # The application's connection may have a search_path of its own (or, on MySQL,
            # have said USE otherdb): the lock is named after where the version table is.
            began = not conn.in_transaction()
            query = f"SELECT {current[conn.dialect.name]}"
            schema = (await conn.execute(sa.text(query))).scalar()
            if began:
                await conn.rollback()  # (as it came: not in a transaction)
        # In the application's transaction, what the run does is seen by others only once
        # the application commits: the lock must last until then (PostgreSQL).
        transaction = conn if conn is not None and conn.in_transaction() else None
        async with migration_lock(
            engine,
            schema,
            self.versions.name,
            lock_timeout=self._lock_timeout,
            transaction=transaction,
            keep=self._own_sessions,  # (no pool to spare)
        ) as held:
            yield held

    @asynccontextmanager
    async def _fresh(self, engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        """Another connection, set up as _setup sets the run's (see fresh_connection)."""
        async with engine.connect() as conn:
            changed = self.schema is not None or self.env.on_connect is not None
            try:
                if self.schema is not None:
                    await conn.execute(sa.text(schema_search_path(conn.dialect, self.schema)))
                if self.env.on_connect is not None:
                    await self._hook("on_connect", self.env.on_connect, conn, self._hook_config)
                await conn.commit()
                yield conn
            finally:
                if changed and not self._own_sessions:
                    # (the application's pool must not get a session set up for amigrate)
                    with anyio.CancelScope(shield=True):
                        await conn.invalidate()

    async def _setup(self, ctx: OnlineContext) -> None:
        ctx.set_up_fresh = self._fresh
        await ctx.prepare()
        await self._check_client(ctx)
        if self.schema is not None:
            await self._use_schema(ctx)
        if self.env.on_connect is not None:
            await self._hook("on_connect", self.env.on_connect, ctx.connection, self._hook_config)
            await ctx.commit()
        await ctx.truncate_journal()  # after on_connect: a journal mode it sets stays

    async def _check_client(self, ctx: OnlineContext) -> None:
        """PostgreSQL 14+, on a session of amigrate's own: the server checks every second,
        while a statement runs, that amigrate is still there. A migrator killed (SIGKILL,
        the OOM killer) left its statement running on the server, holding its locks, and
        the next migrator waited behind it without a word until it ended (minutes, for a
        long CREATE INDEX)."""
        conn = ctx.connection
        if not self._own_sessions:
            return  # (the application's session: its settings are its own)
        if conn.dialect.name != "postgresql" or (conn.dialect.server_version_info or (0,)) < (14,):
            return
        await conn.execute(
            sa.text("SELECT set_config('client_connection_check_interval', '1000', false)")
        )
        await ctx.commit()

    async def _use_schema(self, ctx: OnlineContext) -> None:
        conn = ctx.connection
        statement = schema_search_path(conn.dialect, self.schema or "")
        # The connection may be the application's: its search_path is put back after.
        saved = await conn.execute(sa.text("SELECT current_setting('search_path')"))
        ctx.saved_search_path = saved.scalar()
        await conn.execute(sa.text(statement))
        await ctx.commit()

    async def _create_schema(self, ctx: OnlineContext) -> None:
        if self.schema is None:
            return
        conn = ctx.connection
        quoted = conn.dialect.identifier_preparer.quote_schema(self.schema)
        await ctx.begin()
        await conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))
        await ctx.commit()

    # -- reading ---------------------------------------------------------------------

    async def current(self) -> tuple[str, ...]:
        """The heads recorded in the database (read-only: never creates the version table,
        nor the file of a SQLite database that does not exist yet)."""
        if self._missing_sqlite_file():
            return ()
        async with self._connect() as ctx:
            heads = await self._read_heads(ctx.connection)
            await ctx.rollback()
            return heads

    async def _read_heads(self, conn: AsyncConnection, *, refuse: bool = False) -> tuple[str, ...]:
        """The version rows; where the table is missing, what Alembic's says is said too
        (*refuse*: as the upgrade would, else as a warning)."""
        if await self.versions.exists(conn):
            return await self.versions.read_existing(conn)
        await self._warn_of_alembic(conn, refuse=refuse)
        return ()

    async def compare(self, metadata: Any = None, *, check_heads: bool = True) -> SchemaDiff:
        """The differences between the models and the database (read-only).

        The models are env.py's ``target_metadata`` (this database's entry of a
        multidb dict) unless *metadata* is given; env.py's autogenerate settings
        apply (see ``amigrate.autogenerate``). Unless *check_heads* is False,
        the database must be at head.
        """
        from amigrate.autogenerate.api import compare_migrator

        async with self._connect() as ctx:
            heads = await self.versions.read(ctx.connection)
            try:
                return await compare_migrator(
                    ctx.connection,
                    heads,
                    graph=self.graph,
                    config=self.config,
                    env=self.env,
                    exclude=[
                        (self.versions.schema, self.versions.name),
                        (self.history.schema, self.history.name),
                    ],
                    metadata=metadata,
                    database=self._suffix[1:] or None,
                    check_heads=check_heads,
                )
            finally:
                await ctx.rollback()

    async def plan(
        self,
        target: str = "head",
        *,
        direction: Literal["up", "down"] = "up",
        force: bool = False,
    ) -> Plan:
        """The steps ``upgrade`` / ``downgrade`` would run now (reads the database only).

        Raises :class:`~amigrate.errors.PartlyApplied` where the run would refuse: a
        failure recorded in the history (unless *force*, as the run's own).
        """
        if direction not in ("up", "down"):
            raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
        heads, failure = await self._status(refuse=direction == "up")
        if failure is not None and not force:
            raise _unresolved(failure, locked=False)
        return self._make_plan(direction, target, heads)

    async def last_failure(self) -> HistoryEntry | None:
        """The failure recorded in the history that nothing has resolved since (read-only):
        ``upgrade`` and ``downgrade`` refuse to run over it (see ``stamp``)."""
        return (await self.status())[1]

    async def status(self) -> tuple[tuple[str, ...], HistoryEntry | None]:
        """The version rows and the unresolved failure (see :meth:`last_failure`), read in
        one connection (read-only)."""
        return await self._status()

    async def _status(self, *, refuse: bool = False) -> tuple[tuple[str, ...], HistoryEntry | None]:
        if self._missing_sqlite_file():
            return (), None
        async with self._connect() as ctx:
            heads = await self._read_heads(ctx.connection, refuse=refuse)
            failure = await self.history.last_failure(ctx.connection)
            await ctx.rollback()
            return heads, failure

    def _naming_convention(self) -> Mapping[str, Any] | None:
        """The naming convention of env.py's ``target_metadata`` (this database's entry
        of a multidb dict), which operations give unnamed constraints, as Alembic's do."""
        target = self.env.target_metadata
        if isinstance(target, Mapping):
            target = target.get(self._suffix[1:]) if self._suffix else None
        return target.naming_convention if isinstance(target, sa.MetaData) else None

    def _make_plan(
        self,
        direction: Direction,
        target: str | Sequence[str],
        heads: tuple[str, ...],
        *,
        purge: bool = False,
    ) -> Plan:
        if direction == "up":
            assert isinstance(target, str)
            return plan_upgrade(self.graph, heads, target)
        if direction == "down":
            assert isinstance(target, str)
            return plan_downgrade(self.graph, heads, target)
        return plan_stamp(self.graph, heads, list(target), purge=purge)

    # -- writing ---------------------------------------------------------------------

    async def ensure_version(self) -> None:
        """Create the version table if it does not exist."""
        async with self._locked(), self._connect(writes=True) as ctx:
            _refuse_implicit_commit(ctx)
            exists = await self.versions.exists(ctx.connection)
            await ctx.commit()  # (a read: see _run)
            if exists:
                return
            await self._create_schema(ctx)
            await ctx.begin()
            await self.versions.create(ctx.connection, checkfirst=False)
            await ctx.commit()

    async def upgrade(self, target: str = "head", *, force: bool = False) -> RunResult:
        """Apply every revision up to *target* (``head``, ``+2``, a partial id, ...).

        *force* runs even over a failure recorded in the history (see ``log``).
        """
        return await self._run("up", target, force=force)

    async def downgrade(self, target: str, *, force: bool = False) -> RunResult:
        """Undo revisions down to *target* (``-1``, ``base``, an id)."""
        return await self._run("down", target, force=force)

    async def stamp(self, revisions: str | Sequence[str], *, purge: bool = False) -> RunResult:
        """Write the version table to say *revisions* are applied, running no code.

        A stamp also resolves a failure recorded in the history: it says where
        the database really is.
        """
        targets = [revisions] if isinstance(revisions, str) else list(revisions)
        return await self._run("stamp", targets, purge=purge)

    async def _run(
        self,
        direction: Direction,
        target: str | Sequence[str],
        *,
        purge: bool = False,
        force: bool = False,
    ) -> RunResult:
        # Lock, then read the heads, then plan, then apply (another replica may have
        # migrated while this one waited).
        async with self._locked() as lock_held, self._connect(writes=True) as ctx:
            _refuse_implicit_commit(ctx)
            conn = ctx.connection
            versions_exist = await self.versions.exists(conn)
            history_exists = await self.history.exists(conn)
            heads = await self.versions.read_existing(conn) if versions_exist else ()
            if not versions_exist and direction == "up":
                await self._warn_of_alembic(conn, refuse=True)
            failure = await self.history.last_failure(conn, exists=history_exists)
            db_user = await database_user(conn)
            await ctx.commit()
            if failure is not None and not force and direction != "stamp":
                raise _unresolved(failure)
            plan = self._make_plan(direction, target, heads, purge=purge)
            functions, checksums = await self._load(plan, ctx.dialect.name)
            if not (
                versions_exist and history_exists
            ):  # (only now: a refused plan changes nothing)
                await self._create_schema(ctx)
                await ctx.begin()
                # Known missing (looked under the lock): created without looking again, as
                # SQLite fails at once a write after a read in one transaction while another
                # connection writes (where a first write waits for it).
                if not versions_exist:
                    await self.versions.create(conn, checkfirst=False)
                if not history_exists:
                    await self.history.create(conn, checkfirst=False)
                await ctx.commit()
            if history_exists:  # (a step or a resolution writes a row)
                await self.history.ensure_charset(conn)
                await ctx.commit()
            if direction == "up" and plan.steps:
                await self._check_applied(ctx, heads)
            recorder = Recorder(self.history, uuid.uuid4().hex, db_user, os_identity(), checksums)
            if plan.purge:
                plan = await self._purge(ctx, recorder, plan, heads)
            with naming_convention(self._naming_convention()):
                steps = await apply_plan(
                    ctx,
                    self.versions,
                    plan,
                    functions,
                    self._messages(plan),
                    per_migration=self.config.transaction_per_migration,
                    on_step=self._on_step,
                    recorder=recorder,
                    lock_held=lock_held,
                )
            resolved = None
            if failure is not None and not steps:
                await self._record_resolution(ctx, recorder, plan, failure)
                resolved = failure.revision
        return RunResult(
            direction,
            target if isinstance(target, str) else " ".join(target),
            heads,
            plan.to_heads,
            tuple(steps),
            self.database,
            resolved=resolved,
        )

    async def _purge(
        self, ctx: OnlineContext, recorder: Recorder, plan: Plan, heads: tuple[str, ...]
    ) -> Plan:
        """Empty the version table for ``stamp --purge``; keep in the history what was there.

        The plan's steps start from an empty table; the first one's history row names
        the rows it replaced instead. With no step (``--purge base``) each removed row
        gets a row of its own, written with the purge.
        """
        writes = []
        if not plan.steps:
            for head in heads:
                change = VersionChange("delete", (head,), ())
                gone = Step(head, "down", change, (head,), (), is_stamp=True)
                writes.append(recorder.write(gone, PURGED, 0.0))
        await ctx.begin()
        await self.versions.purge(ctx.connection)
        await ctx.finish(writes, commit=True)
        if not plan.steps or not heads:
            return plan
        first = replace(plan.steps[0], from_revisions=heads)
        return replace(plan, steps=(first, *plan.steps[1:]))

    async def _record_resolution(
        self, ctx: OnlineContext, recorder: Recorder, plan: Plan, failure: HistoryEntry
    ) -> None:
        """A stamp or --force run that changed nothing still marks the failure resolved."""
        heads = plan.to_heads
        note = Step(
            failure.revision,
            "up",
            VersionChange("update", (failure.revision,), (failure.revision,)),
            tuple(heads),
            tuple(heads),
            is_stamp=True,
        )
        await ctx.begin()
        await ctx.finish(
            [recorder.write(note, "resolved the failure recorded before", 0.0)], commit=True
        )

    async def _warn_of_alembic(self, conn: AsyncConnection, *, refuse: bool) -> None:
        """Refuse when the version table is missing but Alembic's has rows: an upgrade
        would start from base on a database Alembic migrated (and on MySQL leave the
        first revision's DDL behind when it fails). Where the config names its own
        version table, that is what it means: a warning then. Not *refuse*-ing (a read:
        ``current``), a warning that says what an upgrade would do."""
        versions = self.versions
        if versions.name == "alembic_version":
            return
        # (Empty: Alembic took it down to base, and starting from base is right.)
        found = [f for f in await conn.run_sync(_alembic_tables, versions.schema) if f[1]]
        if not found:
            return
        where, heads = found[0]
        table = f"{where}.alembic_version" if where else "alembic_version"
        at = f"at {', '.join(heads)}"
        schema = f" and version_table_schema = {where}" if where != versions.schema else ""
        hint = (
            "set version_table = alembic_version to go on from Alembic's history "
            "(docs/from-alembic.md); or, to start a history of amigrate's own beside it, "
            "set version_table = amigrate_version"
        )
        if self.config.get("version_table") is None and where == versions.schema:
            if refuse:
                raise ConfigError(
                    f"this database was migrated by Alembic ({table} is {at}) and has no "
                    f"{versions.qualified_name}: an upgrade would start from base",
                    hint=hint,
                )
            warnings.warn(
                f"this database was migrated by Alembic ({table} is {at}) and has no "
                f"{versions.qualified_name}, so it reads as <base>, and upgrade refuses to "
                f"start from there; {hint}",
                ConfigWarning,
                stacklevel=2,
            )
            return
        what = "this upgrade starts" if refuse else "it reads as <base> and an upgrade starts"
        warnings.warn(
            f"this database has Alembic's {table} ({at}) but no {versions.qualified_name}, "
            f"so {what} from base; to go on from Alembic's history, set "
            f"version_table = alembic_version{schema} (docs/from-alembic.md)",
            ConfigWarning,
            stacklevel=2,
        )

    async def _check_applied(self, ctx: OnlineContext, heads: tuple[str, ...]) -> None:
        mode = self.config.validate_on_upgrade
        if mode == "off":
            return
        report = await self._validate(ctx, heads)
        changed = report.of_kind("changed")
        if not changed:
            return
        names = ", ".join(p.revision for p in changed)
        text = f"applied revision{'s' if len(changed) > 1 else ''} {names} changed since applied"
        if mode == "strict":
            raise CheckFailed(
                text + " (validate_on_upgrade = strict)",
                hint="run 'amigrate validate' for details; revert the edit, accept it with "
                "'amigrate repair', or set validate_on_upgrade = warn",
            )
        warnings.warn(text + "; 'amigrate validate' shows them", ValidationWarning, stacklevel=2)

    # -- audit -----------------------------------------------------------------------

    async def validate(self) -> ValidationReport:
        """Compare the applied revisions' recorded checksums with their files (read-only)."""
        if self._missing_sqlite_file():
            return ValidationReport()
        async with self._connect() as ctx:
            heads = await self.versions.read(ctx.connection)
            report = await self._validate(ctx, heads)
            await ctx.rollback()
            return report

    async def _validate(self, ctx: OnlineContext, heads: tuple[str, ...]) -> ValidationReport:
        recorded = applied_checksums(await self.history.entries(ctx.connection))
        applied = below_heads(recorded, self.graph, heads)
        files, paths = await self._file_checksums(applied)
        report = compare(applied, files, paths, heads, known=self.scripts.scripts.keys())
        by_versions = applied_by_versions(self.graph, heads)
        unchecked = sum(1 for revision in by_versions if applied.get(revision) is None)
        return replace(report, unchecked=unchecked)

    async def _file_checksums(
        self, revisions: Iterable[str]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The checksum and the path of each of *revisions* that has a file."""
        scripts = self.scripts.scripts

        def read() -> dict[str, str]:
            return {rev: file_checksum(scripts[rev].path) for rev in revisions if rev in scripts}

        files = await in_thread(read)
        return files, {rev: str(scripts[rev].path) for rev in files}

    async def repair(self, revisions: str | Sequence[str] = ()) -> RepairResult:
        """Accept the files of applied revisions as they are now (``amigrate repair``).

        Records in the history, for each of *revisions* (default: every applied
        revision whose file changed since), the file's checksum as it is now, so
        that ``validate`` passes; the schema and the version table are untouched.
        Under the migration lock, in one transaction. Refuses, before writing, a
        revision that is not applied or whose file is gone, and a database with a
        failure recorded in the history (``stamp`` resolves that).
        """
        requested = [revisions] if isinstance(revisions, str) else list(revisions)
        if self._missing_sqlite_file():  # nothing applied; do not create the file
            named_revisions(self.graph, requested, (), ())
            return RepairResult(self.database)
        async with self._locked(), self._connect(writes=True) as ctx:
            _refuse_implicit_commit(ctx)
            conn = ctx.connection
            heads = await self.versions.read(conn)
            entries = await self.history.entries(conn)
            failure = await self.history.last_failure(conn)
            db_user = await database_user(conn)
            await ctx.rollback()
            if failure is not None:
                raise _unresolved(failure, then="; then repair")
            recorded = below_heads(applied_checksums(entries), self.graph, heads)
            named = named_revisions(self.graph, requested, heads, recorded) if requested else None
            files, paths = await self._file_checksums([*recorded, *(named or ())])
            repairs, unchanged, remaining = choose_repairs(
                named, recorded, files, paths, heads, self.scripts.scripts.keys()
            )
            run_id = None
            if repairs:
                run_id = await write_repairs(
                    ctx, self.history, repairs, db_user=db_user, create=not entries
                )
        return RepairResult(
            self.database, tuple(repairs), tuple(unchanged), tuple(remaining), run_id
        )

    async def log(
        self, *, limit: int | None = None, revisions: Sequence[str] | None = None
    ) -> list[HistoryEntry]:
        """The history rows, newest first (read-only)."""
        if self._missing_sqlite_file():
            return []
        async with self._connect() as ctx:
            entries = await self.history.entries(ctx.connection, limit=limit, revisions=revisions)
            await ctx.rollback()
            return entries

    def _messages(self, plan: Plan) -> dict[str, str]:
        return {
            step.revision: self.graph[step.revision].message
            for step in plan.steps
            if step.revision in self.graph
        }

    async def _load(
        self, plan: Plan, dialect: str
    ) -> tuple[dict[str, RevisionFunction], dict[str, str]]:
        """Import and check every function the plan runs, before step one; checksum its files."""
        suffix = self._suffix
        scripts = self.scripts

        def load() -> tuple[dict[str, RevisionFunction], dict[str, str]]:
            functions: dict[str, RevisionFunction] = {}
            checksums: dict[str, str] = {}
            for step in plan.steps:
                if step.revision not in scripts.graph:
                    continue
                path = scripts.script(step.revision).path
                if len(step.revision) > MAX_ID_LENGTH and dialect != "sqlite":
                    # Found before step one, not at the version row: on MySQL the step's
                    # DDL has committed by then. (SQLite does not hold VARCHAR to its length.)
                    raise ScriptError(
                        f"{path}: revision {step.revision[:12]}... is {len(step.revision)} "
                        f"characters long; the version table's version_num holds {MAX_ID_LENGTH}",
                        hint=f"use an id of at most {MAX_ID_LENGTH} characters; nothing was "
                        "changed in the database",
                    )
                checksums[step.revision] = file_checksum(path)
                if step.is_stamp:
                    continue
                name = ("upgrade" if step.direction == "up" else "downgrade") + suffix
                module = scripts.load_module(step.revision)
                functions[step.revision] = check_function(module, name, step.revision, path)
            return functions, checksums

        return await in_thread(load)

    # -- offline ---------------------------------------------------------------------

    async def sql(self, direction: Literal["up", "down"], spec: str) -> RunResult:
        """Render the SQL of ``upgrade spec`` / ``downgrade spec`` without a connection.

        *spec* is a target (an upgrade starts from ``base``) or a range
        ``from:to``. The dialect comes from the URL; no connection is opened.
        """
        start, end = offline_ends(self.graph, direction, spec)
        return await self._offline(self._make_plan(direction, end, start), spec)

    async def stamp_sql(self, revisions: Sequence[str], *, purge: bool = False) -> RunResult:
        """Render the SQL of ``stamp revisions`` on a database whose version table is
        empty or missing; with *purge*, whatever rows it has are deleted first."""
        for revision in revisions:
            refuse_current(revision, "'stamp <revision> --sql'")
        plan = self._make_plan("stamp", revisions, (), purge=purge)
        return await self._offline(plan, " ".join(revisions))

    async def ensure_version_sql(self) -> str:
        """Render ``CREATE TABLE`` of the version table."""
        return await render_version_table(
            self.config, self.url, self.versions, self._x_args, schema=self.schema
        )

    async def _offline(self, plan: Plan, spec: str) -> RunResult:
        backend = self.url.split(":", 1)[0].split("+", 1)[0]
        functions, checksums = await self._load(plan, backend)
        # The database user is the script's session's, read as it runs (see HistoryTable).
        recorder = Recorder(
            self.history, _script_run_id(plan, checksums), None, os_identity(), checksums
        )
        with naming_convention(self._naming_convention()):
            sql, steps = await render_plan(
                plan,
                config=self.config,
                url=self.url,
                versions=self.versions,
                recorder=recorder,
                functions=functions,
                messages=self._messages(plan),
                x_args=self._x_args,
                schema=self.schema,
            )
        return RunResult(
            plan.direction, spec, plan.from_heads, plan.to_heads, tuple(steps), self.database, sql
        )
