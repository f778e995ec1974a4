"""Awaitable op calls, and what the runtime gives the ``op`` facade (``OpContext``).

Every schema method of ``op`` builds an operation and returns an :class:`OpCall`,
which runs it when awaited. A call that is never awaited would otherwise vanish
silently (Alembic records such a revision as applied), so the runtime asks
:meth:`CallRecorder.unawaited` after the revision returns and fails the step,
naming the call and its line.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Generator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from amigrate.operations.base import MigrateOp, check_names

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection

    from amigrate.config import Config

T = TypeVar("T")

__all__ = ["CallRecorder", "OpCall", "OpContext"]


class OpContext(Protocol):
    """What the runtime gives ``Operations`` (implemented by ``amigrate.runtime``)."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def connection(self) -> AsyncConnection: ...

    @property
    def config(self) -> Config: ...

    @property
    def x_args(self) -> Mapping[str, str]: ...

    async def run_op(self, op: MigrateOp) -> Any: ...

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

    async def run_revision_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

    def autocommit_block(self) -> AbstractAsyncContextManager[None]: ...


class OpCall(Generic[T]):
    """An operation waiting to be awaited; it runs when (and only when) it is awaited."""

    __slots__ = ("_start", "awaited", "description", "filename", "lineno")

    def __init__(
        self, start: Callable[[], Awaitable[T]], description: str, filename: str, lineno: int
    ) -> None:
        self._start = start
        self.awaited = False
        self.description = description
        self.filename = filename
        self.lineno = lineno

    def __await__(self) -> Generator[Any, None, T]:
        if self.awaited:
            raise RuntimeError(f"op.{self.description} was awaited twice")
        self.awaited = True
        return self._start().__await__()

    def __repr__(self) -> str:
        state = "awaited" if self.awaited else "not awaited"
        return f"<OpCall op.{self.description} ({state}) at {self.filename}:{self.lineno}>"


class CallRecorder:
    """Builds :class:`OpCall` objects and remembers them, to find the ones never awaited."""

    def __init__(self) -> None:
        self._calls: list[OpCall[Any]] = []

    def _call(self, op: MigrateOp, run: Callable[[MigrateOp], Awaitable[T]]) -> OpCall[T]:
        check_names(op)
        # The revision's own frame: the caller of the public method that called us.
        frame = sys._getframe(2)
        call = OpCall(lambda: run(op), op.describe(), frame.f_code.co_filename, frame.f_lineno)
        self._calls.append(call)
        return call

    def unawaited(self) -> list[OpCall[Any]]:
        """The calls made so far that were never awaited."""
        return [call for call in self._calls if not call.awaited]
