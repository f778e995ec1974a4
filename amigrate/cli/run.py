"""The CLI's one event-loop entry point, and helpers commands share to reach a database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from amigrate.cli.state import CliState

if TYPE_CHECKING:
    from amigrate.errors import MigrationInterrupted
    from amigrate.migrator import Migrator
    from amigrate.runtime.runner import StepCallback
    from amigrate.scripts.directory import ScriptDirectory

T = TypeVar("T")

__all__ = ["current_heads", "migrator", "run_async"]


def run_async(fn: Callable[[], Awaitable[T]]) -> T:
    """Run *fn* on a new asyncio loop (SQLAlchemy's async layer needs asyncio).

    Ctrl-C (or SIGTERM) cancels the run; when it interrupted a migration step, what the
    step left behind is raised as :class:`~amigrate.errors.MigrationInterrupted` (exit 130).
    """
    import asyncio
    import contextlib
    import signal

    import anyio

    interrupted: list[MigrationInterrupted] = []
    terminated: list[int] = []

    async def main() -> T:
        # SIGTERM (docker stop, Kubernetes, systemd) stops the run as Ctrl-C does: the
        # step's statement stopped, its transaction rolled back, the lock released.
        # A Python-level handler, as asyncio's own for SIGINT: it runs even while the loop
        # is busy (SQLite's statements run on its thread in the CLI; see
        # runtime.direct.SQLiteDirect), where one the loop dispatches would wait.
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def on_terminate(signum: int, frame: object) -> None:
            terminated.append(signal.SIGTERM)
            if task is not None:
                task.cancel()
            loop.call_soon_threadsafe(lambda: None)  # (wakes a loop waiting for I/O)

        previous = signal.getsignal(signal.SIGTERM)
        installed = False
        with contextlib.suppress(ValueError):  # (not the main thread)
            signal.signal(signal.SIGTERM, on_terminate)
            installed = True
        try:
            return await fn()
        except BaseException as exc:
            # Imported here: the runner imports SQLAlchemy, which the quick reads
            # (`current`, `--plan`) do without.
            from amigrate.runtime.runner import interruption

            # Cleanup after the cancellation may have raised on top of it: look down the chain.
            cause: BaseException | None = exc
            while cause is not None and not interrupted:
                found = interruption(cause)
                if found is not None:
                    interrupted.append(found)
                cause = cause.__context__
            raise
        finally:
            if installed:
                signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)

    try:
        return anyio.run(main, backend="asyncio")
    except BaseException as exc:
        if interrupted:
            raise interrupted[0] from None
        if terminated and isinstance(exc, asyncio.CancelledError):
            raise KeyboardInterrupt from None  # (reported as Ctrl-C is: "interrupted")
        raise


def migrator(state: CliState, *, on_step: StepCallback | None = None) -> Migrator:
    """A Migrator for the CLI's config and options (not yet entered)."""
    from amigrate.migrator import Migrator

    config = state.load_config()
    return Migrator(
        config,
        env=state.env_hooks(),  # (imported once per command: the CLI may have read it already)
        url=state.url,
        x_args=state.x_args,
        on_step=on_step,
        lock_timeout=state.lock_timeout,
        exclusive_loop=True,  # the CLI's loop runs this migration and nothing else
    )


def quick_heads(state: CliState) -> tuple[str, ...] | None:
    """The one database's heads, read without SQLAlchemy; None when that path does not apply.

    It applies when env.py has no connection hooks (see ``runtime.quickread``).
    """
    from amigrate.runtime.quickread import read_heads, read_sqlite_heads

    config = state.load_config()
    env = state.env_hooks()
    url = config.url_or_none
    if env.on_connect or env.create_engine or env.engine_options or not url:
        return None
    if config.engine_options:  # echo, connect_args...: the engine's path shows and uses them
        return None
    tables, schema = (config.version_table, config.history_table), config.version_table_schema
    if url.startswith("sqlite"):  # no event loop needed for a local file
        return read_sqlite_heads(url, tables, schema)
    return run_async(lambda: read_heads(url, tables, schema))


def current_heads(
    state: CliState, scripts: ScriptDirectory | None = None
) -> tuple[str, ...] | dict[str, list[str]]:
    """The database's heads, read-only (for ``history -i`` and ranges with ``current``).

    For a project with several databases: each head mapped to the databases at it.
    """
    from amigrate.cli.fanout import fanout_selection, run_fanout

    selection = fanout_selection(state)
    if selection is None:
        quick = quick_heads(state)
        if quick is not None:
            return quick

        async def read() -> tuple[str, ...]:
            async with migrator(state) as m:
                return await m.current()

        return run_async(read)

    async def read_one(m: Migrator) -> tuple[str, ...]:
        return await m.current()

    marks: dict[str, list[str]] = {}
    results = run_fanout(state, read_one, selection, progress=False)
    for result in results:
        if result.error is not None:
            raise result.error
        for head in result.value or ():
            marks.setdefault(head, []).append(result.target.name)
    if len(results) == 1:  # one database selected (-d): plain heads
        return tuple(sorted(marks))
    return marks
