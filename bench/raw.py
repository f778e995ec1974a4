"""The physical limit: a generated history's DDL executed directly, in one process.

    python bench/raw.py bench/out/linear-1000/raw/statements.json --db FILE_OR_DSN --direction up

Each revision is one transaction holding its DDL and an ``UPDATE`` of a one-row version
table, as a migration tool's default "one transaction per revision" must at least do.
SQLite runs through the standard library's ``sqlite3`` (autocommit mode, explicit
``BEGIN``, so the DDL is transactional), PostgreSQL through asyncpg. Nothing else is
imported, so the process costs what starting Python and the driver costs and no more.
``run.py`` starts this script as the ``raw`` column of the upgrade and downgrade
scenarios.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

VERSION_TABLE = "raw_version"


def steps(statements: dict[str, Any], direction: str) -> list[tuple[str, list[str]]]:
    """``(version after the step, statements)`` per revision, in execution order."""
    revs = statements["revisions"]
    if direction == "up":
        return [(r["id"], r["up"]) for r in revs]
    return [(revs[i - 1]["id"] if i else "", revs[i]["down"]) for i in reversed(range(len(revs)))]


def run_sqlite(path: str, plan: list[tuple[str, list[str]]], direction: str) -> None:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        if direction == "up":
            conn.execute(f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL)")
            conn.execute(f"INSERT INTO {VERSION_TABLE} VALUES ('')")
        for version, stmts in plan:
            conn.execute("BEGIN")
            for stmt in stmts:
                conn.execute(stmt)
            conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = ?", (version,))
            conn.execute("COMMIT")
    finally:
        conn.close()


async def run_postgresql(dsn: str, plan: list[tuple[str, list[str]]], direction: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(dsn)
    try:
        if direction == "up":
            await conn.execute(
                f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL);"
                f"INSERT INTO {VERSION_TABLE} VALUES ('')"
            )
        for version, stmts in plan:
            async with conn.transaction():
                for stmt in stmts:
                    await conn.execute(stmt)
                await conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = $1", version)
    finally:
        await conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("statements", type=Path, help="raw/statements.json of a generated history")
    parser.add_argument("--db", required=True, help="SQLite file, or a postgresql:// DSN")
    parser.add_argument("--direction", choices=("up", "down"), default="up")
    args = parser.parse_args(argv)
    statements = json.loads(args.statements.read_text(encoding="utf-8"))
    plan = steps(statements, args.direction)
    backend = statements["backend"]
    if backend == "sqlite":
        run_sqlite(args.db, plan, args.direction)
    elif backend == "postgresql":
        import asyncio

        asyncio.run(run_postgresql(args.db, plan, args.direction))
    else:
        print(f"error: raw.py does not support {backend!r} yet", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
