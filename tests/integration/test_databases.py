"""The database fixtures: every backend connects, and each test gets a database of its own."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


async def test_connects_to_a_fresh_empty_database(db_url: str) -> None:
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            assert (await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1
            tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
            assert tables == []
            await conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
    finally:
        await engine.dispose()


async def test_databases_are_not_shared(db_url: str) -> None:
    # The previous test created "probe"; a new database must not have it.
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
            assert "probe" not in tables
    finally:
        await engine.dispose()
