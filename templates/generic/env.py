"""Hooks amigrate reads from this migration environment. All of them are optional.

amigrate imports this module (it never runs it as a script) before it migrates or
compares schemas, and uses the names it defines; delete what you do not need.
Nothing here drives the migration loop: amigrate does that, awaits each revision's
``upgrade(op)`` and takes the migration lock.

The configuration is available as ``config`` in every hook (``config.x_args`` holds
the ``-x key=value`` pairs of the command line). Keep this module cheap to import:
``amigrate current`` and ``history`` import it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

# target_metadata: the models ``amigrate revision --autogenerate`` and ``amigrate check``
# compare with the database. A MetaData, a list of them, or None.
#
#   from myapp.models import Base
#   target_metadata = Base.metadata
target_metadata: sa.MetaData | None = None

# engine_options: keyword arguments for ``create_async_engine()`` when amigrate creates
# the engine from the URL. amigrate's own engines always use NullPool.
engine_options: dict[str, Any] = {}

# on_connect: run on each connection amigrate migrates with, before the first step.
# Session settings belong here:
#
#   import sqlalchemy as sa
#   from sqlalchemy.ext.asyncio import AsyncConnection
#   from amigrate import Config
#
#   async def on_connect(connection: AsyncConnection, config: Config) -> None:
#       await connection.execute(sa.text("SET lock_timeout = '5s'"))   # PostgreSQL
#       await connection.execute(sa.text("PRAGMA foreign_keys = ON"))  # SQLite

# create_engine: build the engine yourself instead of from the URL (for example to
# reuse your application's settings). amigrate disposes an engine it got this way.
#
#   from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
#
#   async def create_engine(config: Config) -> AsyncEngine:
#       return create_async_engine(config.url, connect_args={"timeout": 10})
