"""Hooks amigrate reads from this migration environment. All of them are optional.

This environment belongs to an application that owns its ``AsyncEngine``. The
application migrates in its lifespan with::

    await amigrate.upgrade(config, "head", engine=engine)

and the ``amigrate`` command gets the same engine from ``create_engine`` below.
amigrate imports this module (it never runs it as a script) and uses the names
it defines; nothing here drives the migration loop.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from amigrate import Config

# target_metadata: your models, for ``amigrate revision --autogenerate`` and ``amigrate check``.
#
#   from myapp.models import Base
#   target_metadata = Base.metadata
target_metadata: sa.MetaData | None = None

# engine_options: used only when amigrate builds the engine from the URL itself.
engine_options: dict[str, Any] = {}


async def create_engine(config: Config) -> AsyncEngine:
    """The engine the ``amigrate`` command migrates with.

    Return your application's engine factory here so that the command line and
    the app connect the same way, for example:

        from myapp.db import make_engine
        return make_engine()

    amigrate disposes an engine it got from this hook when the command ends. When
    the application passes ``engine=`` to ``amigrate.upgrade()``, this hook is
    not called and the application's engine is left open.
    """
    return create_async_engine(config.url, **engine_options)


async def on_connect(connection: AsyncConnection, config: Config) -> None:
    """Run on each connection amigrate migrates with, before the first step.

    For example ``await connection.execute(sa.text("SET lock_timeout = '5s'"))``.
    """
