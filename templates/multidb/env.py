"""Hooks amigrate reads from this multi-database environment. All are optional.

amigrate imports this module (it never runs it as a script) and uses the names
it defines. The databases and their URLs are in amigrate.ini: ``databases =
main, analytics`` and a ``[main]`` / ``[analytics]`` section each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

# target_metadata: the models of each database, for autogenerate, keyed by database name.
#
#   from myapp.models import MainBase, AnalyticsBase
#   target_metadata = {"main": MainBase.metadata, "analytics": AnalyticsBase.metadata}
target_metadata: dict[str, sa.MetaData | None] = {"main": None, "analytics": None}

# engine_options: keyword arguments for create_async_engine(), for every database.
engine_options: dict[str, Any] = {}

# on_connect: run on each connection amigrate migrates with, before the first step;
# connection.engine.url tells which database it is.
#
#   async def on_connect(connection, config):
#       ...
