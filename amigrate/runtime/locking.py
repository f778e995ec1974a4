"""The migration lock: one migrator per (database, schema, version table) at a time.

- PostgreSQL: a session-level ``pg_try_advisory_lock``, polled, on a dedicated
  connection in autocommit mode. A blocking or transaction-scoped lock would
  deadlock with ``CREATE INDEX CONCURRENTLY`` (which waits for every open
  transaction, including a waiting replica's) and could not be released after
  the migration connection's transaction aborted. A session lock dies with its
  session, so a killed migrator leaves nothing held.
- MySQL/MariaDB: ``GET_LOCK(name, 0)``, polled, on a dedicated connection; the
  name includes the database because named locks are server-wide.
- SQLite: an exclusive ``flock`` on ``<database file>.amigrate-lock``, polled,
  so it works across processes and between tasks of one process; the kernel
  drops it when the process dies.

Polling (with backoff) keeps the event loop free, lets ``lock_timeout`` apply,
and lets a waiting task be cancelled. Release happens in ``finally``, shielded
from cancellation.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anyio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from amigrate.errors import DatabaseError, LockTimeout
from amigrate.runtime.engine import connect_error

__all__ = ["lock_name", "migration_lock"]

log = logging.getLogger("amigrate.lock")

_FIRST_DELAY = 0.05
_MAX_DELAY = 1.0
_REPORT_EVERY = 5.0


def lock_name(database: str, schema: str | None, table: str) -> str:
    """The identity of the lock: the database, the version table's schema and name."""
    return f"amigrate:{database}:{schema or ''}:{table}"


def _resolved_name(engine: AsyncEngine, schema: str | None, table: str) -> Callable[[], str]:
    """The lock's name with the schema the version table is in: the configured one, else
    the connection's default (PostgreSQL's search_path; MySQL's database), so that two
    ways of naming one table take one lock. Read once the engine has connected."""

    def name() -> str:
        database = engine.url.database or ""
        if engine.dialect.name in ("mysql", "mariadb"):
            # A schema is a database there, and GET_LOCK's names are the server's: the
            # database the table is in, whatever database the URL names.
            resolved = schema or database
            return lock_name(resolved, resolved, table)
        return lock_name(database, schema or engine.dialect.default_schema_name, table)

    return name


def _pg_key(name: str) -> int:
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def _poll(
    try_once: Callable[[], Awaitable[bool]],
    holder: Callable[[], Awaitable[str | None]],
    *,
    what: str,
    lock_timeout: float | None,
) -> None:
    """Call *try_once* with backoff until it succeeds, or raise LockTimeout."""
    started = time.monotonic()
    delay = _FIRST_DELAY
    last_report = started
    reported = False
    while not await try_once():
        now = time.monotonic()
        waited = now - started
        if lock_timeout is not None and waited >= lock_timeout:
            who = await holder()
            raise LockTimeout(
                f"could not take the migration lock of {what} within {lock_timeout:g} s"
                + (f"; it is held by {who}" if who else ""),
                hint="another amigrate is migrating this database: wait for it, or raise "
                "lock_timeout (config) / --lock-timeout",
            )
        if not reported or now - last_report >= _REPORT_EVERY:
            who = await holder()
            log.warning(
                "waiting for the migration lock of %s (held by %s, %.0f s so far)",
                what,
                who or "another migrator",
                waited,
            )
            reported, last_report = True, now
        pause = delay if lock_timeout is None else min(delay, max(0.0, lock_timeout - waited))
        await anyio.sleep(pause)
        delay = min(delay * 2, _MAX_DELAY)


async def _dedicated(engine: AsyncEngine) -> AsyncConnection:
    try:
        conn = await engine.connect()
    except Exception as exc:
        raise connect_error(engine.url.render_as_string(hide_password=False), exc) from None
    # Never inside a transaction: see the module docstring.
    try:
        await conn.execution_options(isolation_level="AUTOCOMMIT")  # (a round trip on asyncmy)
    except BaseException:
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await conn.invalidate()
            await conn.close()
        raise
    return conn


Statement = tuple[str, dict[str, Any]]


@asynccontextmanager
async def _server_lock(
    engine: AsyncEngine,
    what: str,
    lock_timeout: float | None,
    *,
    setup: Callable[[AsyncConnection], Awaitable[None]],
    take: Callable[[], Statement],
    release: Callable[[], Statement],
    describe_holder: Callable[[AsyncConnection], Awaitable[str | None]],
    also: Callable[[AsyncConnection], Awaitable[bool]] | None = None,
    keep_connection: bool = False,
) -> AsyncIterator[Callable[[], bool]]:
    """A lock held by a session of its own (PostgreSQL, MySQL).

    Each attempt borrows a connection and gives it back unless it took the lock, so
    that tasks waiting on an application's engine do not hold its pool's connections
    (the task holding the lock needs a second one to migrate). *also* runs once the lock
    is taken, on its connection: False gives the lock back, to try again later.
    *keep_connection* (an engine of amigrate's own, no pool to spare): the attempts share
    one connection, instead of a new server session each (twice a second, minutes long).
    """
    held: list[AsyncConnection] = []
    spare: list[AsyncConnection] = []

    async def borrow() -> AsyncConnection:
        return spare.pop() if spare else await _dedicated(engine)

    async def try_once() -> bool:
        conn = await borrow()
        try:
            sql, params = take()  # (after connecting: the name may need the connection's schema)
            taken = bool((await conn.execute(sa.text(sql), params)).scalar_one() == 1)
            if taken and also is not None and not await also(conn):
                sql, params = release()
                await conn.execute(sa.text(sql), params)
                taken = False
            if taken:
                await setup(conn)  # (only the holder's session: it never goes back to a pool)
        except BaseException:
            # Interrupted, perhaps with the lock granted: the session must end with it.
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()
            raise
        if taken:
            held.append(conn)
        elif keep_connection:
            spare.append(conn)
        else:
            with anyio.CancelScope(shield=True):
                await conn.close()  # untouched: back to an application's pool as it came
        return taken

    async def holder() -> str | None:
        conn = await borrow()
        try:
            return await describe_holder(conn)
        finally:
            if keep_connection and not spare:
                spare.append(conn)
            else:
                with anyio.CancelScope(shield=True):
                    await conn.close()

    try:
        await _poll(try_once, holder, what=what, lock_timeout=lock_timeout)
    finally:
        for unused in spare:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await unused.close()
    (conn,) = held
    try:
        yield lambda: not _session_ended(conn)
    finally:
        with anyio.CancelScope(shield=True):
            await _release(conn, what, release)
            # Its session settings changed (setup): an application's pool must not get it.
            with contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()


def _session_ended(conn: AsyncConnection) -> bool:
    """Whether the lock's session is known to have ended (asyncpg notices the server
    closing an idle connection at once; asyncmy only when it next reads: never here)."""
    try:
        driver = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    except Exception:
        return False
    is_closed = getattr(driver, "is_closed", None)
    return bool(is_closed()) if callable(is_closed) else False


async def _release(conn: AsyncConnection, what: str, release: Callable[[], Statement]) -> None:
    """Release the lock; a connection lost meanwhile released it already (the run's
    outcome stands, with a warning that the lock was not held to the end)."""
    try:
        sql, params = release()
        await conn.execute(sa.text(sql), params)
    except Exception as exc:
        log.warning(
            "the connection holding the migration lock of %s was lost before the end of the "
            "run (%s): another migrator may have started meanwhile; 'amigrate log' shows "
            "what ran",
            what,
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
        )


def _postgresql(
    engine: AsyncEngine,
    name: Callable[[], str],
    what: str,
    lock_timeout: float | None,
    transaction: AsyncConnection | None,
    keep_connection: bool,
) -> AbstractAsyncContextManager[Callable[[], bool]]:
    """The session lock, and a second key for a run inside an application's transaction
    (``connection=``): that run holds the second key on its connection until the
    application commits (``pg_try_advisory_xact_lock``), since what it did is invisible
    to others until then; a migrator takes the lock only while nobody holds the second."""
    keys: list[int] = []

    def key(second: bool = False) -> int:
        if not keys:
            keys.extend((_pg_key(name()), _pg_key(name() + ":commit")))
        return keys[1] if second else keys[0]

    async def uncommitted_run_ended(conn: AsyncConnection) -> bool:
        if transaction is not None:
            # Its own transaction holds the key already when this is its second run.
            taken = await transaction.execute(
                sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key(second=True)}
            )
            return bool(taken.scalar_one())
        free = await conn.execute(
            sa.text(
                "SELECT CASE WHEN pg_try_advisory_lock(:k) THEN pg_advisory_unlock(:k) "
                "ELSE false END"
            ),
            {"k": key(second=True)},
        )
        return bool(free.scalar_one())

    async def setup(conn: AsyncConnection) -> None:
        await conn.execute(sa.text("SELECT set_config('application_name', 'amigrate', false)"))
        if (conn.dialect.server_version_info or (0,)) >= (14,):
            # The lock's session is idle while the migration runs: a server (or a managed
            # service) ending idle sessions would drop the lock half-way.
            await conn.execute(sa.text("SELECT set_config('idle_session_timeout', '0', false)"))

    async def holder(conn: AsyncConnection) -> str | None:
        for second in (False, True):
            hi, lo = (key(second) >> 32) & 0xFFFFFFFF, key(second) & 0xFFFFFFFF
            row = (
                await conn.execute(
                    sa.text(
                        "SELECT a.pid, a.application_name, a.usename, a.client_addr, "
                        "a.backend_start FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :hi "
                        "AND l.objid = :lo AND l.objsubid = 1"
                    ),
                    {"hi": hi, "lo": lo},
                )
            ).first()
            if row is not None:
                return (
                    f"pid {row.pid} ({row.application_name or 'unknown app'}, user "
                    f"{row.usename}{', from ' + str(row.client_addr) if row.client_addr else ''}"
                    f", connected since {row.backend_start:%Y-%m-%d %H:%M:%S})"
                    + (", whose transaction has not committed its run yet" if second else "")
                )
        return None

    return _server_lock(
        engine,
        what,
        lock_timeout,
        setup=setup,
        take=lambda: ("SELECT CASE WHEN pg_try_advisory_lock(:k) THEN 1 ELSE 0 END", {"k": key()}),
        release=lambda: ("SELECT pg_advisory_unlock(:k)", {"k": key()}),
        describe_holder=holder,
        also=uncommitted_run_ended,
        keep_connection=keep_connection,
    )


def _mysql(
    engine: AsyncEngine,
    name: Callable[[], str],
    what: str,
    lock_timeout: float | None,
    keep_connection: bool,
) -> AbstractAsyncContextManager[Callable[[], bool]]:
    # Named locks are at most 64 characters; a digest keeps long names unique.
    lock = "amigrate:" + hashlib.sha1(name().encode()).hexdigest()

    async def setup(conn: AsyncConnection) -> None:
        # The lock's session is idle while the migration runs: wait_timeout (8 hours by
        # default, often minutes on managed servers) would drop the lock half-way.
        await conn.execute(sa.text("SET SESSION wait_timeout = 31536000"))

    async def holder(conn: AsyncConnection) -> str | None:
        owner = (await conn.execute(sa.text("SELECT IS_USED_LOCK(:n)"), {"n": lock})).scalar()
        if owner is None:
            return None
        row = (
            await conn.execute(
                sa.text(
                    "SELECT USER, HOST, TIME FROM information_schema.PROCESSLIST WHERE ID = :i"
                ),
                {"i": owner},
            )
        ).first()
        if row is None:
            return f"connection {owner}"
        return f"connection {owner} ({row[0]}@{row[1]}, for {row[2]} s)"

    return _server_lock(
        engine,
        what,
        lock_timeout,
        setup=setup,
        take=lambda: ("SELECT GET_LOCK(:n, 0)", {"n": lock}),
        release=lambda: ("SELECT RELEASE_LOCK(:n)", {"n": lock}),
        describe_holder=holder,
        keep_connection=keep_connection,
    )


@asynccontextmanager
async def _sqlite(
    path: Path, what: str, lock_timeout: float | None
) -> AsyncIterator[Callable[[], bool]]:
    import fcntl

    lock_path = path.with_name(path.name + ".amigrate-lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _unusable_folder(path, exc) from exc
    try:

        async def try_once() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            os.ftruncate(fd, 0)
            info = f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')}"
            os.pwrite(fd, info.encode(), 0)
            return True

        async def holder() -> str | None:
            try:
                return lock_path.read_text(encoding="utf-8").strip() or None
            except OSError:
                return None

        await _poll(try_once, holder, what=what, lock_timeout=lock_timeout)
        try:
            yield _always  # (the process holds it as long as it lives)
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _always() -> bool:
    return True


def _unusable_folder(path: Path, exc: OSError) -> DatabaseError:
    """The lock file beside a SQLite database cannot be made: its folder is missing or
    not writable (SQLite could not write its journal there either)."""
    folder = path.parent
    if not folder.is_dir():
        return DatabaseError(
            f"cannot open the SQLite database {path}: the folder {folder} does not exist",
            hint="create the folder, or correct the path in the database URL",
        )
    return DatabaseError(
        f"cannot open the SQLite database {path}: amigrate cannot write in {folder} "
        f"({exc.strerror or exc})",
        hint="SQLite and amigrate's lock need a folder the user may write in: fix its "
        "permissions, or move the database",
    )


def _sqlite_file(engine: AsyncEngine) -> Path | None:
    """The database file, also of a URI filename (``sqlite:///file:app.db?uri=true``);
    None for an in-memory database."""
    url = engine.url
    database = url.database
    if url.query.get("uri") in ("true", "1") and database and database.startswith("file:"):
        if url.query.get("mode") == "memory":
            return None
        database = unquote(database[len("file:") :])
        if database.startswith("//"):  # file://[localhost]/path
            database = database[database.find("/", 2) :] if database.find("/", 2) > 0 else ""
    if not database or database == ":memory:":
        return None
    return Path(database).resolve()


@asynccontextmanager
async def migration_lock(
    engine: AsyncEngine,
    schema: str | None,
    table: str,
    *,
    lock_timeout: float | None = None,
    transaction: AsyncConnection | None = None,
    keep: bool = False,
) -> AsyncIterator[Callable[[], bool]]:
    """Hold the migration lock of the version table *schema.table* in *engine*'s database.

    Raises :class:`~amigrate.errors.LockTimeout` after *lock_timeout* seconds (None:
    wait as long as it takes, logging who holds the lock every few seconds). Gives a
    function that says whether the lock is still held, as far as can be known without
    a trip to the server (False once its session is seen to have ended).

    *transaction*: the application's connection, in a transaction the run leaves open
    (``connection=``); on PostgreSQL the lock then lasts until it commits. *keep*: the
    engine is amigrate's own, so a waiting migrator may keep one connection meanwhile.
    """
    url = engine.url
    what = url.render_as_string(hide_password=True)
    if schema is not None:  # (tenants in schemas of one database share its URL)
        what += f", schema {schema}"
    dialect = engine.dialect.name
    name = _resolved_name(engine, schema, table)
    if dialect == "postgresql":
        async with _postgresql(engine, name, what, lock_timeout, transaction, keep) as held:
            yield held
    elif dialect in ("mysql", "mariadb"):
        async with _mysql(engine, name, what, lock_timeout, keep) as held:
            yield held
    elif dialect == "sqlite" and (path := _sqlite_file(engine)) is not None:
        async with _sqlite(path, what, lock_timeout) as held:
            yield held
    else:  # an in-memory SQLite database has one connection and nothing to share
        yield _always
