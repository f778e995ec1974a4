"""Time whole processes of amigrate and Alembic, side by side, on generated histories.

    python bench/run.py                                   # every scenario, 1000 linear, SQLite
    python bench/run.py --n 1000 5000 --shape linear branchy --scenario heads --scenario history
    python bench/run.py --backend postgresql --scenario upgrade --scenario downgrade
    python bench/run.py --json > results.json

Each scenario runs one warm-up and then R timed runs of each tool, interleaved (amigrate,
Alembic, raw, then Alembic, raw, amigrate, ...: each round starts with the next tool), each
as a fresh process; the database is prepared before each run, outside the timing.
Reported: the median wall time, the amigrate/Alembic ratio, peak RSS (the child's
``ru_maxrss`` from ``wait4``, the largest over the timed runs) and the median CPU time of
each process (user + system, from the same ``wait4``: not the database server's, and far
steadier than the wall time on a machine whose disk or neighbours are busy).
A tool whose command fails is reported with its exit code and first error line; the
other tools' numbers are still shown. Scenarios live in ``SCENARIOS``: add one with
``register(Scenario(...))``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import generate

BENCH_DIR = Path(__file__).resolve().parent
RAW_SCRIPT = BENCH_DIR / "raw.py"
BACKEND_URLS = {
    "sqlite": None,  # a SQLite file in each project's folder
    "postgresql": "postgresql://postgres@127.0.0.1:5432/amigrate_bench",
}

Tool = Literal["amigrate", "alembic", "raw"]
TOOLS: tuple[Tool, ...] = ("amigrate", "alembic", "raw")
DbState = Literal["any", "empty", "head"]


# --- scenarios -------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a scenario's checks may look at: the generated history and the database."""

    manifest: dict[str, Any]
    databases: dict[Tool, Database]


Check = Callable[[Context, Tool, str], str | None]


@dataclass(frozen=True)
class Row:
    """One scenario on one history: the medians the goals are judged on (None = n/a)."""

    scenario: str
    backend: str
    shape: str
    n: int
    amigrate: float | None
    alembic: float | None
    raw: float | None
    amigrate_mb: float | None


@dataclass(frozen=True)
class Goal:
    """A target from the issues: *test* returns None when the row lacks the numbers."""

    text: str
    applies: Callable[[Row], bool]
    test: Callable[[Row], bool | None]


@dataclass(frozen=True)
class Scenario:
    """One comparison. Commands are the arguments after ``-c <ini>``; ``raw`` is the
    direction bench/raw.py runs in (None: no raw column); ``before`` is the database
    state each run starts from; ``checks`` run on the warm-up run's stdout."""

    name: str
    measures: str
    amigrate: tuple[str, ...]
    alembic: tuple[str, ...]
    raw: Literal["up", "down"] | None = None
    before: DbState = "any"
    checks: tuple[Check, ...] = ()
    goals: tuple[Goal, ...] = ()


SCENARIOS: dict[str, Scenario] = {}


def register(scenario: Scenario) -> Scenario:
    SCENARIOS[scenario.name] = scenario
    return scenario


def prints_head(ctx: Context, tool: Tool, stdout: str) -> str | None:
    if tool == "raw":
        return None
    missing = [h for h in ctx.manifest["heads"] if h not in stdout]
    return f"head {', '.join(missing)} not in the output" if missing else None


def prints_base(ctx: Context, tool: Tool, stdout: str) -> str | None:
    if tool == "raw" or ctx.manifest["base"] in stdout:
        return None
    return "the base revision is not in the output"


def tables_are(count: Callable[[Context], int]) -> Check:
    def check(ctx: Context, tool: Tool, stdout: str) -> str | None:
        want, got = count(ctx), ctx.databases[tool].bench_tables()
        return None if got == want else f"{got} benchmark tables in the database, expected {want}"

    return check


def at(n: int) -> Callable[[Row], bool]:
    return lambda row: row.n == n


def below(seconds: float) -> Callable[[Row], bool | None]:
    return lambda row: None if row.amigrate is None else row.amigrate < seconds


def faster_than_alembic(times: float) -> Callable[[Row], bool | None]:
    def test(row: Row) -> bool | None:
        if row.amigrate is None or row.alembic is None:
            return None
        return row.alembic >= times * row.amigrate

    return test


def within_raw(factor: float) -> Callable[[Row], bool | None]:
    def test(row: Row) -> bool | None:
        if row.amigrate is None or row.raw is None:
            return None
        return row.amigrate <= factor * row.raw

    return test


def peak_below(mb: float) -> Callable[[Row], bool | None]:
    return lambda row: None if row.amigrate_mb is None else row.amigrate_mb < mb


READ_ONLY_GOALS = (
    Goal("< 0.3 s at 1,000", at(1000), below(0.3)),
    Goal(">= 4x faster than Alembic at 1,000", at(1000), faster_than_alembic(4)),
    Goal("< 1 s at 5,000", at(5000), below(1.0)),
    Goal("peak < 100 MB at 5,000", at(5000), peak_below(100)),
)

register(
    Scenario(
        "heads",
        "read the versions folder, build the graph, print the head(s); no database",
        ("heads",),
        ("heads",),
        checks=(prints_head,),
        goals=READ_ONLY_GOALS,
    )
)
register(
    Scenario(
        "history",
        "read the versions folder, print every revision in order; no database",
        ("history",),
        ("history",),
        checks=(prints_head, prints_base),
        goals=READ_ONLY_GOALS,
    )
)
register(
    Scenario(
        "plan",
        "amigrate: the steps 'upgrade head' would take on an empty database, without "
        "running them; Alembic has no such command, so its offline 'upgrade head --sql'",
        ("upgrade", "head", "--plan"),
        ("upgrade", "head", "--sql"),
        before="empty",
        checks=(prints_head,),
        goals=READ_ONLY_GOALS,
    )
)
register(
    Scenario(
        "sql",
        "offline SQL for base -> head ('upgrade head --sql'), both tools; no database",
        ("upgrade", "head", "--sql"),
        ("upgrade", "head", "--sql"),
        checks=(prints_head,),
    )
)
register(
    Scenario(
        "current",
        "connect, read the version table of a database at head, print it",
        ("current",),
        ("current",),
        before="head",
        checks=(prints_head,),
        goals=(
            Goal("< 0.4 s at 1,000", at(1000), below(0.4)),
            Goal("peak < 100 MB at 5,000", at(5000), peak_below(100)),
        ),
    )
)
register(
    Scenario(
        "upgrade",
        "apply every revision to an empty database ('upgrade head'); raw: the same DDL",
        ("upgrade", "head"),
        ("upgrade", "head"),
        raw="up",
        before="empty",
        checks=(tables_are(lambda ctx: ctx.manifest["n"]),),
        goals=(
            Goal(
                "within 1.3x of raw at 1,000 (PostgreSQL)",
                lambda row: row.n == 1000 and row.backend == "postgresql",
                within_raw(1.3),
            ),
            Goal(
                ">= 2x faster than Alembic at 1,000 (SQLite)",
                lambda row: row.n == 1000 and row.backend == "sqlite",
                faster_than_alembic(2),
            ),
        ),
    )
)
register(
    Scenario(
        "downgrade",
        "roll a database at head back to base ('downgrade base'); raw: the same DDL",
        ("downgrade", "base"),
        ("downgrade", "base"),
        raw="down",
        before="head",
        checks=(tables_are(lambda ctx: 0),),
    )
)


# --- databases -------------------------------------------------------------------------


class Database(Protocol):
    """One tool's database: emptied or restored to "at head" before each run."""

    @property
    def target(self) -> str:
        """What bench/raw.py connects to: a file path or an asyncpg DSN."""
        ...

    def reset(self) -> None: ...
    def save_head(self) -> None: ...
    def restore_head(self) -> None: ...
    def bench_tables(self) -> int: ...
    def cleanup(self) -> None: ...


class SqliteDatabase:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.snapshot = path.with_name(path.name + ".head")

    @property
    def target(self) -> str:
        return str(self.path)

    def _remove(self, path: Path) -> None:
        for p in (path, path.with_name(path.name + "-journal"), path.with_name(path.name + "-wal")):
            p.unlink(missing_ok=True)

    def reset(self) -> None:
        self._remove(self.path)

    def save_head(self) -> None:
        shutil.copyfile(self.path, self.snapshot)

    def restore_head(self) -> None:
        self._remove(self.path)
        shutil.copyfile(self.snapshot, self.path)

    def bench_tables(self) -> int:
        import sqlite3

        conn = sqlite3.connect(self.path)
        try:
            row = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 't\\_%' "
                "ESCAPE '\\'"
            ).fetchone()
            return int(row[0])
        finally:
            conn.close()

    def cleanup(self) -> None:
        self._remove(self.path)
        self.snapshot.unlink(missing_ok=True)


class PostgresDatabase:
    """A database on a PostgreSQL server; "at head" is kept as a template database, so a
    restore is one ``CREATE DATABASE ... TEMPLATE``."""

    def __init__(self, dsn: str, tool: str, history: str) -> None:
        self.dsn = dsn
        base, _, self.name = dsn.rpartition("/")
        self.name = self.name.partition("?")[0]
        if not re.fullmatch(r"\w+", self.name):
            raise SystemExit(f"error: unusable PostgreSQL database name {self.name!r}")
        self.admin_dsn = f"{base}/postgres"
        # One snapshot per history and tool; the name stays within PostgreSQL's 63 bytes.
        digest = hashlib.sha1(history.encode()).hexdigest()[:8]
        self.snapshot = f"{self.name[:40]}_{tool}_{digest}"

    @property
    def target(self) -> str:
        return self.dsn

    def _admin(self, *statements: str) -> None:
        run_admin(self.admin_dsn, statements)

    def reset(self) -> None:
        self._admin(
            f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', f'CREATE DATABASE "{self.name}"'
        )

    def save_head(self) -> None:
        self._admin(
            f'DROP DATABASE IF EXISTS "{self.snapshot}" WITH (FORCE)',
            f'CREATE DATABASE "{self.snapshot}" TEMPLATE "{self.name}"',
        )

    def restore_head(self) -> None:
        self._admin(
            f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)',
            f'CREATE DATABASE "{self.name}" TEMPLATE "{self.snapshot}"',
        )

    def bench_tables(self) -> int:
        async def go() -> int:
            import asyncpg

            conn = await asyncpg.connect(self.dsn)
            try:
                return int(
                    await conn.fetchval(
                        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename LIKE 't\\_%'"
                    )
                )
            finally:
                await conn.close()

        return asyncio.run(go())

    def cleanup(self) -> None:
        self._admin(
            f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)',
            f'DROP DATABASE IF EXISTS "{self.snapshot}" WITH (FORCE)',
        )


def plain_url(url: str, here: Path) -> str:
    """A URL from the manifest as the tools see it: ``%(here)s`` expanded."""
    return url.replace("%(here)s", str(here))


def sqlite_path(url: str, here: Path) -> Path:
    path = plain_url(url, here).partition(":///")[2].partition("?")[0]
    if not path or path == ":memory:":
        raise SystemExit("error: the benchmark needs a SQLite file, not an in-memory database")
    return Path(path) if Path(path).is_absolute() else here / path


def run_admin(dsn: str, statements: Sequence[str]) -> None:
    """Run *statements* one by one on a fresh asyncpg connection to *dsn*."""

    async def go() -> None:
        import asyncpg  # type: ignore[import-untyped]

        conn = await asyncpg.connect(dsn)
        try:
            for stmt in statements:
                await conn.execute(stmt)
        finally:
            await conn.close()

    asyncio.run(go())


def asyncpg_dsn(url: str) -> str:
    rest = url.partition("://")[2]
    return f"postgresql://{rest}"


# --- running one process ---------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    seconds: float
    peak_mb: float
    cpu_s: float
    exit_code: int
    stdout: str
    stderr: str

    def error_line(self) -> str:
        """The line that says what went wrong: the first ``error`` line, else the first."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        for line in lines:
            if line.lower().startswith(("error", "fatal")) or "Error:" in line:
                return line
        return lines[0] if lines else "(no output on stderr)"

    def describe(self) -> str:
        return f"exit {self.exit_code}: {self.error_line()}"


def run_process(argv: Sequence[str], cwd: Path, env: dict[str, str], timeout: float) -> Outcome:
    """Run *argv* to completion; wall time from spawn to reap, and its own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True,
        )  # fmt: skip
        timer = threading.Timer(timeout, os.killpg, (proc.pid, signal.SIGKILL))
        timer.start()
        try:
            # wait4 gives this child's own rusage (RUSAGE_CHILDREN only grows).
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if proc.returncode == -signal.SIGKILL and seconds >= timeout:
        stderr = f"error: timed out after {timeout:.0f} s\n{stderr}"
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    kib = usage.ru_maxrss / 1024 if sys.platform == "darwin" else usage.ru_maxrss
    cpu = usage.ru_utime + usage.ru_stime
    return Outcome(seconds, kib / 1024, cpu, proc.returncode, stdout, stderr)


# --- a benchmark run -------------------------------------------------------------------


@dataclass
class ToolResult:
    """One tool in one scenario: timed samples, or why there are none."""

    samples: list[float] = field(default_factory=list)
    peaks_mb: list[float] = field(default_factory=list)
    cpu_samples: list[float] = field(default_factory=list)
    error: str | None = None
    check: str | None = None
    command: list[str] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples and not self.error else None

    @property
    def peak_mb(self) -> float | None:
        return max(self.peaks_mb) if self.peaks_mb and not self.error else None

    @property
    def median_cpu(self) -> float | None:
        ok = self.cpu_samples and not self.error
        return statistics.median(self.cpu_samples) if ok else None

    def as_json(self) -> dict[str, Any]:
        return {
            "median_s": self.median,
            "peak_mb": self.peak_mb,
            "samples_s": self.samples,
            "median_cpu_s": self.median_cpu,
            "cpu_samples_s": self.cpu_samples,
            "error": self.error,
            "check": self.check,
            "command": self.command,
        }


@dataclass
class Bench:
    """The histories, databases and processes of one ``run.py`` invocation."""

    backend: str
    url: str | None
    style: generate.Style
    runs: int
    warmup: int
    timeout: float
    out_root: Path
    regenerate: bool
    alembic_per_migration: bool = False
    tools: tuple[Tool, ...] = TOOLS
    env: dict[str, str] = field(init=False)
    _head_ready: dict[tuple[str, Tool], str | None] = field(default_factory=dict)
    _databases: dict[Path, dict[Tool, Database]] = field(default_factory=dict)
    _regenerated: set[Path] = field(default_factory=set)

    def __post_init__(self) -> None:
        # The tools must read only the files given with -c, whatever the caller's shell has.
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AMIGRATE_", "ALEMBIC_"))
        }

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def project(self, n: int, shape: generate.Shape) -> tuple[Path, dict[str, Any]]:
        """The generated history for (n, shape), generated unless it is up to date."""
        backend = generate.resolve_urls(self.url).backend
        out = (
            self.out_root
            / generate.default_out(n, shape, self.style, backend, self.alembic_per_migration).name
        )
        manifest_file = out / "bench.json"
        # --regenerate means once per run: a later scenario must not wipe the databases
        # (and head snapshots) an earlier one prepared.
        fresh = not self.regenerate or out in self._regenerated
        if manifest_file.is_file() and fresh:
            manifest: dict[str, Any] = json.loads(manifest_file.read_text(encoding="utf-8"))
            wanted = {
                "generator_version": generate.GENERATOR_VERSION,
                "n": n,
                "shape": shape,
                "style": self.style,
                "url": self.url,
                "alembic_transaction_per_migration": self.alembic_per_migration,
            }
            if all(manifest.get(k) == v for k, v in wanted.items()):
                return out, manifest
        self.log(f"generating {out} ...")
        self._regenerated.add(out)
        return out, generate.generate(
            out, n, shape, self.style, self.url, self.alembic_per_migration
        )

    def databases(self, out: Path, manifest: dict[str, Any]) -> dict[Tool, Database]:
        if out in self._databases:
            return self._databases[out]
        dbs: dict[Tool, Database] = {}
        if manifest["backend"] == "sqlite":
            paths: dict[Tool, Path] = {
                "amigrate": sqlite_path(manifest["amigrate_url"], out / "amigrate"),
                "alembic": sqlite_path(manifest["alembic_url"], out / "alembic"),
                "raw": out / "raw" / generate.DB_FILE,
            }
            if len(set(paths.values())) != len(paths):
                raise SystemExit("error: give each tool its own SQLite file (a relative path)")
            dbs = {tool: SqliteDatabase(paths[tool]) for tool in TOOLS}
        elif manifest["backend"] == "postgresql":
            dsn = asyncpg_dsn(manifest["amigrate_url"])
            for tool in TOOLS:
                dbs[tool] = PostgresDatabase(dsn, tool, str(out.resolve()))
        else:
            raise SystemExit(f"error: run.py does not support {manifest['backend']!r} yet")
        self._databases[out] = dbs
        return dbs

    def argv(
        self, tool: Tool, out: Path, manifest: dict[str, Any], args: Sequence[str]
    ) -> list[str]:
        if tool == "raw":
            target = self.databases(out, manifest)["raw"].target
            statements = out / "raw" / "statements.json"
            return [sys.executable, str(RAW_SCRIPT), str(statements), "--db", target, *args]
        ini = out / tool / f"{tool}.ini"
        return [sys.executable, "-m", tool, "-c", str(ini), *args]

    def ensure_head(self, tool: Tool, out: Path, manifest: dict[str, Any]) -> str | None:
        """Bring *tool*'s database to head once with the tool itself and keep it as a
        snapshot; return why that failed, or None."""
        key = (str(out), tool)
        if key in self._head_ready:
            return self._head_ready[key]
        db = self.databases(out, manifest)[tool]
        args = ["--direction", "up"] if tool == "raw" else ["upgrade", "head"]
        self.log(f"  preparing a database at head for {tool} ...")
        db.reset()
        outcome = run_process(
            self.argv(tool, out, manifest, args), out / tool, self.env, self.timeout
        )
        error: str | None = None
        if outcome.exit_code != 0:
            error = f"setup '{' '.join(args)}' failed: {outcome.describe()}"
        elif (tables := db.bench_tables()) != manifest["n"]:
            error = f"setup '{' '.join(args)}' left {tables} of {manifest['n']} tables"
        else:
            db.save_head()
        self._head_ready[key] = error
        return error

    def run_scenario(
        self, scenario: Scenario, n: int, shape: generate.Shape
    ) -> dict[Tool, ToolResult]:
        out, manifest = self.project(n, shape)
        dbs = self.databases(out, manifest)
        ctx = Context(manifest, dbs)
        tools = [tool for tool in self.tools if tool != "raw" or scenario.raw]
        results = {tool: ToolResult() for tool in tools}
        for tool in tools:
            args = ["--direction", scenario.raw] if tool == "raw" and scenario.raw else []
            if tool != "raw":
                args = list(scenario.amigrate if tool == "amigrate" else scenario.alembic)
            results[tool].command = self.argv(tool, out, manifest, args)
            if scenario.before == "head":
                results[tool].error = self.ensure_head(tool, out, manifest)
        total = self.warmup + self.runs
        for i in range(total):
            # Each round starts with the next tool: none always runs just after another
            # one's database was dropped (PostgreSQL's server is slower for a while after).
            shift = i % len(tools)
            for tool in tools[shift:] + tools[:shift]:
                result = results[tool]
                if result.error:
                    continue
                db = dbs[tool]
                if scenario.before == "empty":
                    db.reset()
                elif scenario.before == "head":
                    db.restore_head()
                outcome = run_process(result.command, out / tool, self.env, self.timeout)
                label = "warm-up" if i < self.warmup else f"run {i - self.warmup + 1}/{self.runs}"
                if outcome.exit_code != 0:
                    result.error = outcome.describe()
                    self.log(f"  {scenario.name} {shape}-{n} {tool} {label}: {result.error}")
                    continue
                self.log(
                    f"  {scenario.name} {shape}-{n} {tool} {label}: "
                    f"{outcome.seconds:.3f} s (cpu {outcome.cpu_s:.3f} s), {outcome.peak_mb:.0f} MB"
                )
                if i == 0:  # the first run of each tool: is the result what it should be?
                    found = (check(ctx, tool, outcome.stdout) for check in scenario.checks)
                    problems = [p for p in found if p]
                    if problems:
                        result.check = "; ".join(problems)
                        self.log(f"  {scenario.name} {shape}-{n} {tool}: CHECK {result.check}")
                if i >= self.warmup:
                    result.samples.append(outcome.seconds)
                    result.peaks_mb.append(outcome.peak_mb)
                    result.cpu_samples.append(outcome.cpu_s)
        return results

    def cleanup(self) -> None:
        for dbs in self._databases.values():
            for db in dbs.values():
                try:
                    db.cleanup()
                except Exception as exc:  # cleanup must not hide the results
                    self.log(f"cleanup: {type(exc).__name__}: {exc}")


# --- reporting -------------------------------------------------------------------------


def goal_status(scenario: Scenario, row: Row) -> list[tuple[str, bool | None]]:
    return [(g.text, g.test(row)) for g in scenario.goals if g.applies(row)]


SKIPPED: dict[str, Any] = {
    "median_s": None, "peak_mb": None, "median_cpu_s": None, "skipped": True
}  # fmt: skip


def fmt_s(result: dict[str, Any]) -> str:
    if result.get("skipped"):
        return "-"
    return "n/a" if result["median_s"] is None else f"{result['median_s']:.3f}"


def fmt_cpu(result: dict[str, Any]) -> str:
    if result.get("skipped") or result.get("median_cpu_s") is None:
        return "-" if result.get("skipped") else "n/a"
    return f"{result['median_cpu_s']:.2f}"


def fmt_mb(result: dict[str, Any]) -> str:
    if result.get("skipped"):
        return "-"
    return "n/a" if result["peak_mb"] is None else f"{result['peak_mb']:.0f}"


def fmt_ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def render_table(records: list[dict[str, Any]]) -> str:
    header = [
        "scenario", "shape", "n", "amigrate s", "alembic s", "raw s", "ratio", "vs raw",
        "cpu a/b/raw s", "amigrate MB", "alembic MB", "goals",
    ]  # fmt: skip
    rows = [header]
    notes: list[str] = []
    for rec in records:
        # A tool left out with --tool, or with no raw column, shows "-".
        a, b, raw = (rec.get(tool) or SKIPPED for tool in TOOLS)
        goals = rec["goals"]
        if not goals:
            goal_cell = ""
        elif any(ok is False for _, ok in goals):
            goal_cell = "MISS"
        elif any(ok is None for _, ok in goals):
            goal_cell = "?"
        else:
            goal_cell = "ok"
        rows.append(
            [
                rec["scenario"],
                rec["shape"],
                str(rec["n"]),
                fmt_s(a),
                fmt_s(b),
                fmt_s(raw),
                fmt_ratio(a["median_s"], b["median_s"]),
                fmt_ratio(a["median_s"], raw["median_s"]),
                "/".join(fmt_cpu(r) for r in (a, b, raw)),
                fmt_mb(a),
                fmt_mb(b),
                goal_cell,
            ]
        )
        where = f"{rec['scenario']} ({rec['shape']}, {rec['n']})"
        for tool in TOOLS:
            result = rec.get(tool)
            if not result:
                continue
            if result["error"]:
                what = "not available" if tool == "amigrate" else "failed"
                notes.append(f"{where} {tool}: {what} ({result['error']})")
            if result["check"]:
                notes.append(f"{where} {tool}: CHECK FAILED: {result['check']}")
        for text, ok in goals:
            if ok is not None:  # "?" in the table already says amigrate has no number
                notes.append(f"{where} goal {text}: {'ok' if ok else 'MISS'}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for j, r in enumerate(rows):
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines + (["", *notes] if notes else []))


def version_of(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    """Where and with what a benchmark ran, for its JSON output."""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "amigrate": version_of("amigrate"),
        "amigrate_install": amigrate_install(),
        "alembic": version_of("alembic"),
        "sqlalchemy": version_of("sqlalchemy"),
    }


def amigrate_install() -> str:
    """How the measured amigrate is installed: from source without bytecode, every run
    compiles amigrate's own modules first (about 0.1 s), which a user's install does not."""
    spec = importlib.util.find_spec("amigrate")
    if spec is None or spec.origin is None:
        return "not installed"
    origin = Path(spec.origin)
    where = "from this checkout" if generate.REPO_DIR in origin.parents else "installed"
    compiled = Path(importlib.util.cache_from_source(str(origin))).exists()
    return f"{where}, {'with bytecode' if compiled else 'NO bytecode (see bench/README.md)'}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="scenarios: " + ", ".join(SCENARIOS),
    )
    parser.add_argument("--n", type=int, nargs="+", default=[1000], help="history sizes")
    parser.add_argument(
        "--shape", nargs="+", choices=generate.SHAPES, default=["linear"], help="history shapes"
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="repeatable; default: all, in the order listed below",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per tool (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument(
        "--backend", choices=list(BACKEND_URLS), help="default: sqlite, or --url's backend"
    )
    parser.add_argument(
        "--url",
        help="database URL instead of the backend's default "
        f"(postgresql: {BACKEND_URLS['postgresql']}); its database is dropped and recreated",
    )
    parser.add_argument("--style", choices=generate.STYLES, default="ops")
    parser.add_argument(
        "--alembic-transaction-per-migration",
        action="store_true",
        help="Alembic commits after each revision, like amigrate (stock Alembic: one transaction)",
    )
    parser.add_argument(
        "--tool",
        action="append",
        choices=TOOLS,
        help="repeatable; only these tools (default all; raw only where a scenario has it)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per process")
    parser.add_argument("--out", type=Path, default=generate.DEFAULT_OUT, help="histories root")
    parser.add_argument("--regenerate", action="store_true", help="regenerate the histories")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    url = args.url or BACKEND_URLS[args.backend or "sqlite"]
    backend = generate.resolve_urls(url).backend
    if args.backend and backend != args.backend:
        parser.error(f"--url is a {backend} URL but --backend is {args.backend}")
    bench = Bench(
        backend,
        url,
        args.style,
        args.runs,
        args.warmup,
        args.timeout,
        args.out,
        args.regenerate,
        args.alembic_transaction_per_migration,
        tuple(t for t in TOOLS if t in (args.tool or TOOLS)),
    )
    names = args.scenario or list(SCENARIOS)
    records: list[dict[str, Any]] = []
    try:
        for shape in args.shape:
            for n in args.n:
                for name in names:
                    scenario = SCENARIOS[name]
                    bench.log(f"{name} on {shape}-{n} ({backend}) ...")
                    results = bench.run_scenario(scenario, n, shape)
                    row = Row(
                        name,
                        backend,
                        shape,
                        n,
                        results["amigrate"].median if "amigrate" in results else None,
                        results["alembic"].median if "alembic" in results else None,
                        results["raw"].median if "raw" in results else None,
                        results["amigrate"].peak_mb if "amigrate" in results else None,
                    )
                    record: dict[str, Any] = {
                        "scenario": name,
                        "measures": scenario.measures,
                        "backend": backend,
                        "shape": shape,
                        "n": n,
                        "style": args.style,
                        **{tool: r.as_json() for tool, r in results.items()},
                        "goals": goal_status(scenario, row),
                    }
                    records.append(record)
    finally:
        bench.cleanup()
    if args.json:
        meta = {
            **environment(),
            "backend": backend,
            "runs": args.runs,
            "warmup": args.warmup,
            "style": args.style,
            "alembic_transaction_per_migration": args.alembic_transaction_per_migration,
        }
        for rec in records:
            rec["goals"] = [{"goal": text, "met": ok} for text, ok in rec["goals"]]
        print(json.dumps({"meta": meta, "results": records}, indent=2))
    else:
        print(
            f"backend {backend}, style {args.style}, median of {args.runs} runs after "
            f"{args.warmup} warm-up; amigrate {amigrate_install()}; "
            f"alembic {version_of('alembic')}, "
            f"Python {platform.python_version()}; ratio = amigrate / alembic"
            + ("; Alembic: transaction per migration" * args.alembic_transaction_per_migration)
        )
        print(render_table(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
