"""Blocking work (reading and importing files) handed to a thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

__all__ = ["in_thread"]

T = TypeVar("T")


async def in_thread(fn: Callable[[], T]) -> T:
    """Run *fn* in the event loop's default executor (``asyncio.to_thread``).

    Not in anyio's worker threads: those are stopped only when the loop's root task ends,
    so a loop left by Ctrl-C (``run_until_complete`` without ``asyncio.run``) kept one
    running, and the process hung at exit. The executor's threads are stopped at exit.
    """
    return await asyncio.to_thread(fn)
