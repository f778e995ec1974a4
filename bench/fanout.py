"""Time one history applied to many PostgreSQL databases: amigrate's fan-out against a
loop of Alembic processes, one per database.

    python bench/fanout.py                                # 50 databases x 100 revisions
    python bench/fanout.py --databases 10 --n 20 --runs 1 --warmup 0
    python bench/fanout.py --json > fanout.json

Three ways to bring D empty databases to head, each timed as whole processes:

- ``amigrate``: one ``amigrate upgrade head`` over the D targets of a ``[targets]``
  section, at its default concurrency (no ``--concurrency``);
- ``amigrate -c1``: the same with ``--concurrency 1`` (one database at a time);
- ``alembic loop``: D ``alembic -n <db> upgrade head`` processes, one after the other.

Before each timed run the D databases (``amigrate_fan_00``...) are dropped and created
empty, outside the timing; after it every database is checked to be at the head with N
benchmark tables, so a failure can never be timed as a result. The databases are
dropped at the end. Peak memory is the largest ``ru_maxrss`` of one process (for the
loop: of any of its processes).
"""

from __future__ import annotations

import argparse
import asyncio
import configparser
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import generate
from run import Outcome, ToolResult, environment, run_admin, run_process, version_of

DEFAULT_BASE_URL = "postgresql://postgres@127.0.0.1:5432"
DB_PREFIX = "amigrate_fan_"
GOAL = 3.0  # the Alembic loop / amigrate at its default concurrency


@dataclass(frozen=True)
class Tool:
    """One way to migrate every database: a label and the processes it runs."""

    name: str
    commands: tuple[tuple[str, ...], ...]
    cwd: Path


@dataclass
class Result(ToolResult):
    """One tool's timed samples, or why there are none."""

    tool: Tool = field(kw_only=True)

    def as_json(self) -> dict[str, Any]:
        data = super().as_json()
        del data["check"]  # fanout.py checks every database itself
        data["processes"] = len(self.tool.commands)
        data["command"] = list(self.tool.commands[0])
        return data


# --- the databases ---------------------------------------------------------------------


def database_url(base: str, name: str) -> str:
    """*base* (a server URL, any database in it is replaced) pointing at database *name*."""
    from sqlalchemy.engine import make_url

    return make_url(base).set(database=name).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    from sqlalchemy.engine import make_url

    plain = make_url(url).set(drivername="postgresql")
    return plain.render_as_string(hide_password=False)


class Databases:
    """The D benchmark databases on one server, reset with one admin connection."""

    def __init__(self, base: str, count: int) -> None:
        self.names = [f"{DB_PREFIX}{i:02d}" for i in range(count)]
        self.admin_dsn = asyncpg_dsn(database_url(base, "postgres"))
        self.base = base

    def dsn(self, name: str) -> str:
        return asyncpg_dsn(database_url(self.base, name))

    def _admin(self, statements: Sequence[str]) -> None:
        run_admin(self.admin_dsn, statements)

    def reset(self) -> None:
        # WITH (FORCE) ends connections a failed or killed run may have left behind.
        self._admin(
            [
                stmt
                for name in self.names
                for stmt in (
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                    f'CREATE DATABASE "{name}"',
                )
            ]
        )

    def drop(self) -> None:
        self._admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in self.names])

    def check(self, version_table: str, head: str, tables: int) -> str | None:
        """Why some database is not at *head* with *tables* benchmark tables, or None."""

        async def one(name: str) -> str | None:
            import asyncpg

            try:
                conn = await asyncpg.connect(self.dsn(name))
                try:
                    rows = await conn.fetch(f"SELECT version_num FROM {version_table}")
                    count = await conn.fetchval(
                        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename LIKE 't\\_%'"
                    )
                finally:
                    await conn.close()
            except (OSError, asyncpg.PostgresError) as exc:
                return f"{name}: {type(exc).__name__}: {exc}"
            versions = [r[0] for r in rows]
            if versions != [head] or count != tables:
                return f"{name}: {version_table} holds {versions}, {count} of {tables} tables"
            return None

        async def go() -> list[str | None]:
            return await asyncio.gather(*(one(name) for name in self.names))

        problems = [p for p in asyncio.run(go()) if p]
        if not problems:
            return None
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"not at head: {problems[0]}{more}"


# --- the projects ----------------------------------------------------------------------


def prepare(
    out: Path, n: int, dbs: Databases, base: str, regenerate: bool
) -> tuple[dict[str, Any], Path, Path]:
    """The generated history (reused when bench.json matches) with every database added:
    a ``[targets]`` section in amigrate.ini, and an ini section per database in a copy of
    alembic.ini (``alembic -n <name>``), so Alembic's stock env.py is unchanged."""
    first = database_url(base, dbs.names[0])
    manifest_file = out / "bench.json"
    manifest: dict[str, Any] | None = None
    if manifest_file.is_file() and not regenerate:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        wanted = {"generator_version": generate.GENERATOR_VERSION, "n": n, "url": first}
        if any(manifest.get(k) != v for k, v in wanted.items()):
            manifest = None
    if manifest is None:
        print(f"generating {out} ...", file=sys.stderr, flush=True)
        manifest = generate.generate(out, n, "linear", "ops", first)

    amigrate_ini = out / "amigrate" / "amigrate.ini"
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(amigrate_ini, encoding="utf-8")
    if parser.has_option("amigrate", "concurrency"):  # must measure the built-in default
        raise SystemExit(f"error: {amigrate_ini} sets concurrency")
    lines = ["", "[targets]"]
    for name in dbs.names:
        url = generate.resolve_urls(database_url(base, name)).amigrate
        lines.append(f"{name} = {generate.ini_escape(url)}")
    fanout_ini = amigrate_ini.with_name("fanout.ini")
    text = amigrate_ini.read_text(encoding="utf-8")
    fanout_ini.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")

    alembic_ini = out / "alembic" / "alembic.ini"
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(alembic_ini, encoding="utf-8")
    main = dict(parser.items("alembic"))
    lines = []
    for name in dbs.names:
        lines += ["", f"[{name}]"]
        url = generate.resolve_urls(database_url(base, name)).alembic
        options = {**main, "sqlalchemy.url": generate.ini_escape(url)}
        lines += [f"{key} = {value}" for key, value in options.items()]
    alembic_fanout = alembic_ini.with_name("fanout.ini")
    text = alembic_ini.read_text(encoding="utf-8")
    alembic_fanout.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")
    return manifest, fanout_ini, alembic_fanout


def tools(out: Path, dbs: Databases, amigrate_ini: Path, alembic_ini: Path) -> list[Tool]:
    amigrate = (sys.executable, "-m", "amigrate", "-c", str(amigrate_ini), "upgrade", "head")
    alembic = [
        (sys.executable, "-m", "alembic", "-c", str(alembic_ini), "-n", name, "upgrade", "head")
        for name in dbs.names
    ]
    return [
        Tool("amigrate", (amigrate,), out / "amigrate"),
        Tool("amigrate -c1", ((*amigrate, "--concurrency", "1"),), out / "amigrate"),
        Tool("alembic loop", tuple(alembic), out / "alembic"),
    ]


def run_tool(tool: Tool, env: dict[str, str], timeout: float) -> tuple[float, float, str | None]:
    """Run *tool*'s processes one after the other: wall time, peak MB, error or None."""
    outcomes: list[Outcome] = []
    start = time.perf_counter()
    for argv in tool.commands:
        outcome = run_process(argv, tool.cwd, env, timeout)
        outcomes.append(outcome)
        if outcome.exit_code != 0:
            return 0.0, 0.0, outcome.describe()
    seconds = time.perf_counter() - start
    return seconds, max(o.peak_mb for o in outcomes), None


# --- reporting -------------------------------------------------------------------------


def ratio(alembic: float | None, other: float | None) -> float | None:
    return None if alembic is None or not other else alembic / other


def render(results: list[Result]) -> str:
    alembic = results[-1].median
    rows = [["tool", "processes", "median s", "alembic loop / tool", "peak MB"]]
    for r in results:
        x = ratio(alembic, r.median)
        rows.append(
            [
                r.tool.name,
                str(len(r.tool.commands)),
                "n/a" if r.median is None else f"{r.median:.2f}",
                "-" if x is None else f"{x:.2f}x",
                "n/a" if r.peak_mb is None else f"{r.peak_mb:.0f}",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for j, row in enumerate(rows):
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines += [f"{r.tool.name}: FAILED ({r.error})" for r in results if r.error]
    lines.append(f"goal: amigrate >= {GOAL:g}x faster than the Alembic loop: {goal(results)}")
    return "\n".join(lines)


def goal(results: list[Result]) -> str:
    x = ratio(results[-1].median, results[0].median)
    if x is None:
        return "? (no numbers)"
    return f"{'PASS' if x >= GOAL else 'MISS'} ({x:.2f}x)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", type=int, default=50, help="databases (default 50)")
    parser.add_argument("--n", type=int, default=100, help="revisions (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument(
        "--url",
        default=DEFAULT_BASE_URL,
        help=f"the PostgreSQL server (default {DEFAULT_BASE_URL}); databases "
        f"{DB_PREFIX}00... on it are dropped and recreated",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per process")
    parser.add_argument("--out", type=Path, help="history folder (default bench/out/fanout-<n>)")
    parser.add_argument("--regenerate", action="store_true", help="regenerate the history")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or not 1 <= args.databases <= 100 or args.n < 1:
        parser.error("need --runs >= 1, --warmup >= 0, 1 <= --databases <= 100, --n >= 1")
    if generate.resolve_urls(args.url).backend != "postgresql":
        parser.error("--url must be a PostgreSQL server")

    out = args.out or generate.DEFAULT_OUT / f"fanout-{args.n}"
    dbs = Databases(args.url, args.databases)
    manifest, amigrate_ini, alembic_ini = prepare(out, args.n, dbs, args.url, args.regenerate)
    head = manifest["heads"][0]
    version_tables = {"amigrate": "amigrate_version", "alembic": "alembic_version"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMIGRATE_", "ALEMBIC_"))}
    results = [Result(tool=tool) for tool in tools(out, dbs, amigrate_ini, alembic_ini)]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        for i in range(args.warmup + args.runs):
            label = "warm-up" if i < args.warmup else f"run {i - args.warmup + 1}/{args.runs}"
            for result in results:  # interleaved: amigrate, amigrate -c1, alembic, amigrate...
                if result.error:
                    continue
                dbs.reset()
                seconds, peak, error = run_tool(result.tool, env, args.timeout)
                if error is None:
                    table = version_tables[result.tool.name.split()[0]]
                    error = dbs.check(table, head, args.n)
                if error:
                    result.error = error
                    log(f"  {result.tool.name} {label}: {error}")
                    continue
                log(f"  {result.tool.name} {label}: {seconds:.2f} s, {peak:.0f} MB")
                if i >= args.warmup:
                    result.samples.append(seconds)
                    result.peaks_mb.append(peak)
    finally:
        try:
            dbs.drop()
        except Exception as exc:  # cleanup must not hide the results
            log(f"cleanup: {type(exc).__name__}: {exc}")

    if args.json:
        meta = {
            **environment(),
            "databases": args.databases,
            "n": args.n,
            "runs": args.runs,
            "warmup": args.warmup,
            "alembic_env": manifest["alembic_env"],
            "alembic_url": manifest["alembic_url"],
        }
        body = {r.tool.name: r.as_json() for r in results}
        print(json.dumps({"meta": meta, "results": body, "goal": goal(results)}, indent=2))
    else:
        print(
            f"{args.databases} PostgreSQL databases x {args.n} revisions, median of "
            f"{args.runs} runs after {args.warmup} warm-up; alembic {version_of('alembic')} "
            f"({manifest['alembic_env']} env.py), Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs"
        )
        print(render(results))
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
