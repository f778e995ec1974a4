"""The CLI's one event-loop entry point, and helpers commands share to reach a database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from amigrate.cli.state import CliState

if TYPE_CHECKING:
    from amigrate.migrator import Migrator
    from amigrate.runtime.runner import StepCallback
    from amigrate.scripts.directory import ScriptDirectory

T = TypeVar("T")

__all__ = ["current_heads", "migrator", "run_async"]


def run_async(fn: Callable[[], Awaitable[T]]) -> T:
    """Run *fn* on a new asyncio loop (SQLAlchemy's async layer needs asyncio)."""
    import anyio

    async def main() -> T:
        return await fn()

    return anyio.run(main, backend="asyncio")


def migrator(state: CliState, *, on_step: StepCallback | None = None) -> Migrator:
    """A Migrator for the CLI's config and options (not yet entered)."""
    from amigrate.migrator import Migrator

    config = state.load_config()
    return Migrator(
        config,
        url=state.url,
        x_args=state.x_args,
        on_step=on_step,
        lock_timeout=state.lock_timeout,
    )


def current_heads(state: CliState, scripts: ScriptDirectory | None = None) -> tuple[str, ...]:
    """The database's heads, read-only (for ``history -i`` and ranges with ``current``)."""

    async def read() -> tuple[str, ...]:
        async with migrator(state) as m:
            return await m.current()

    return run_async(read)
