"""Many databases in one command: tenants (databases, SQLite files, schemas) and multidb."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate.errors import ConfigError
from amigrate.fanout import DatabaseTarget
from tests.conftest import require_server, run_async
from tests.helpers import Result, assert_clean_error, run_cli
from tests.projects import Rev, linear, make_project


async def _admin(url: str, *statements: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
def pg_databases() -> Iterator[list[str]]:
    """Twenty fresh PostgreSQL databases."""
    base = require_server("postgresql")
    names = [f"amigrate_fan_{uuid.uuid4().hex[:8]}_{i}" for i in range(20)]
    run_async(lambda: _admin(base, *(f"CREATE DATABASE {n}" for n in names)))
    try:
        yield [
            sa.make_url(base).set(database=n).render_as_string(hide_password=False) for n in names
        ]
    finally:
        run_async(
            lambda: _admin(base, *(f"DROP DATABASE IF EXISTS {n} WITH (FORCE)" for n in names))
        )


async def heads_of(url: str, schema: str | None = None) -> list[str]:
    engine = create_async_engine(url, poolclass=NullPool)
    table = f"{schema}.amigrate_version" if schema else "amigrate_version"
    try:
        async with engine.connect() as conn:
            found = await conn.run_sync(
                lambda sync: sa.inspect(sync).has_table("amigrate_version", schema=schema)
            )
            if not found:  # (a target cancelled before it made its tables)
                return []
            return sorted(
                r[0] for r in await conn.execute(sa.text(f"SELECT version_num FROM {table}"))
            )
    finally:
        await engine.dispose()


def test_forty_five_targets_in_one_command(
    pg_databases: list[str], postgresql_url: str, tmp_path: Path
) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(3))
    lines = [f"pg{i:02d} {url}" for i, url in enumerate(pg_databases)]
    lines += [f"file{i:02d} sqlite+aiosqlite:///{tmp_path / f'tenant{i}.db'}" for i in range(20)]
    lines += [f"schema{i} {postgresql_url} schema=tenant_{i}" for i in range(5)]
    (tmp_path / "tenants.txt").write_text("# name URL [schema=NAME]\n" + "\n".join(lines) + "\n")
    ini = tmp_path / "amigrate.ini"
    ini.write_text(ini.read_text() + "targets_file = %(here)s/tenants.txt\n")
    # one target is prepared to fail: a table with r002's name already exists
    asyncio.run(_admin(pg_databases[7], "CREATE TABLE rt2 (x INTEGER)"))

    result = run_cli("--json", "upgrade", "head", "--concurrency", "6", cwd=tmp_path)
    assert result.code == 1, result.err
    error = json.loads(result.out)["error"]  # the failure, with each database's row
    assert (error["type"], error["exit_code"]) == ("MigrationError", 1)
    rows = {row["target"]: row for row in error["databases"]}
    assert len(rows) == 45
    failed = rows.pop("pg07")
    assert failed["status"] == "failed"
    assert "rt2" in failed["error"]
    assert failed["failure"]["type"] == "MigrationFailed"
    assert failed["failure"]["failed"]["revision"] == "r002"
    assert [step["revision"] for step in failed["failure"]["applied"]] == ["r001"]
    assert {row["failure"] for row in rows.values()} == {None}
    assert (failed["from_heads"], failed["to_heads"], failed["steps"]) == ([], ["r001"], 1)
    bad = {
        name: r
        for name, r in rows.items()
        if (r["status"], r["to_heads"], r["steps"]) != ("ok", ["r003"], 3)
    }
    assert bad == {}
    assert "1 of 45 databases did not reach head: pg07 (failed)" in result.err
    assert asyncio.run(heads_of(pg_databases[7])) == ["r001"]  # r002 rolled back there
    assert asyncio.run(heads_of(pg_databases[3])) == ["r003"]
    assert asyncio.run(heads_of(str(postgresql_url), "tenant_4")) == ["r003"]

    # after the conflict is fixed, a second run only touches what is behind
    asyncio.run(_admin(pg_databases[7], "DROP TABLE rt2"))
    again = run_cli("--json", "upgrade", cwd=tmp_path)
    assert again.code == 0, again.err
    steps = {row["target"]: row["steps"] for row in json.loads(again.out)}
    assert steps.pop("pg07") == 2
    assert set(steps.values()) == {0}

    current = run_cli("current", cwd=tmp_path)
    assert current.code == 0
    assert "schema2: r003 (head)" in current.out.splitlines()
    text = run_cli("upgrade", cwd=tmp_path)  # the plain-text summary
    assert text.code == 0
    header = text.out.splitlines()[0].split()
    assert header == ["target", "from", "->", "to", "steps", "duration", "status"]


def sqlite_targets(tmp_path: Path, n: int) -> list[DatabaseTarget]:
    return [
        DatabaseTarget(f"t{i:02d}", f"sqlite+aiosqlite:///{tmp_path / f't{i}.db'}")
        for i in range(n)
    ]


def targets_project(tmp_path: Path, n: int) -> list[DatabaseTarget]:
    """A project of two revisions whose [targets] are *n* SQLite files (the CLI fans out)."""
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(2))
    targets = sqlite_targets(tmp_path, n)
    section = "".join(f"{t.name} = {t.url}\n" for t in targets)
    project.ini.write_text(project.ini.read_text() + "\n[targets]\n" + section)
    return targets


def poison(target: DatabaseTarget) -> None:
    asyncio.run(_admin(target.url, "CREATE TABLE rt1 (x INTEGER)"))


async def test_api_returns_every_outcome(tmp_path: Path) -> None:
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(2))
    targets = sqlite_targets(tmp_path, 6)
    await asyncio.to_thread(poison, targets[2])
    events: list[str] = []
    results = await amigrate.upgrade(
        project.config(),
        targets=targets,
        concurrency=2,
        on_event=lambda e: events.append(f"{e.target.name}:{e.kind}"),
    )
    assert [r.status for r in results] == ["ok", "ok", "failed", "ok", "ok", "ok"]
    assert results["t02"].error is not None
    assert "rt1" in results["t02"].message
    assert results["t05"].value is not None
    assert results["t05"].value.to_heads == ("r002",)
    assert len(results.failed) == 1
    assert events.count("t00:start") == 1
    assert events.count("t00:step") == 4  # before and after each of two steps
    assert events.count("t00:done") == 1


async def test_fail_fast_stops_early(tmp_path: Path) -> None:
    rev = Rev("r002", "r001", upgrade="import asyncio\nawait asyncio.sleep(0.3)")
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1), rev)
    targets = sqlite_targets(tmp_path, 10)
    await asyncio.to_thread(poison, targets[0])
    results = await amigrate.upgrade(
        project.config(), targets=targets, concurrency=2, fail_fast=True
    )
    statuses = [r.status for r in results]
    assert statuses[0] == "failed"
    assert "skipped" in statuses  # most never started
    assert statuses.count("ok") < 9
    for r in results:
        if r.status == "cancelled":
            assert await heads_of(r.target.url) in ([], ["r001"])  # rolled back mid-step


async def test_an_empty_list_names_no_database(tmp_path: Path) -> None:
    """targets=[] (a tenant query that found none) migrates nothing; it meant every one."""
    targets_project(tmp_path, 2)
    config = amigrate.load_config(str(tmp_path / "amigrate.ini"))
    assert len(await amigrate.upgrade(config, targets=[])) == 0
    assert len(await amigrate.upgrade(config, targets=())) == 0
    assert len(await amigrate.fan_out(config, lambda m: m.current(), targets=())) == 0
    assert not await asyncio.to_thread(lambda: list(tmp_path.glob("*.db")))  # none touched
    results = await amigrate.upgrade(config, targets=["t00"])
    assert [r.target.name for r in results] == ["t00"]


async def test_a_sqlite_target_cancelled_as_it_connects_leaves_no_task(tmp_path: Path) -> None:
    """--fail-fast cancelling a SQLite target while it connected left SQLAlchemy's close of
    that connection pending forever: asyncio.run, then the CLI, never ended (not even on
    SIGTERM)."""
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    down = DatabaseTarget("down", "postgresql+asyncpg://u:pw@127.0.0.1:9/nowhere")  # refused
    for attempt in range(3):
        (tmp_path / str(attempt)).mkdir()
        (lite,) = sqlite_targets(tmp_path / str(attempt), 1)
        before = asyncio.all_tasks()
        results = await amigrate.upgrade(project.config(), targets=[lite, down], fail_fast=True)
        assert [r.status for r in results][1] == "failed"
        for _ in range(100):  # (the close ends soon, later on a busy machine; never: the bug)
            if not asyncio.all_tasks() - before:
                break
            await asyncio.sleep(0.1)
        assert asyncio.all_tasks() - before == set()


async def test_cancelling_a_fan_out_releases_every_lock(tmp_path: Path) -> None:
    slow = Rev("r002", "r001", upgrade="import asyncio\nawait asyncio.sleep(30)")
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1), slow)
    targets = sqlite_targets(tmp_path, 4)
    task = asyncio.create_task(amigrate.upgrade(project.config(), targets=targets, concurrency=4))
    await asyncio.sleep(1.5)  # every target has committed r001 and sleeps inside r002
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for target in targets:  # each at a completed revision: r002 rolled back
        assert await heads_of(target.url) == ["r001"]
    for path in project.versions.glob("*.py"):
        path.write_text(path.read_text().replace("await asyncio.sleep(30)", "pass"))
    # Every lock was released: a new run takes each one at once.
    results = await amigrate.upgrade(
        project.config(), targets=targets, concurrency=4, lock_timeout=5
    )
    assert [r.status for r in results] == ["ok"] * 4
    for target in targets:
        assert await heads_of(target.url) == ["r002"]


async def test_canary(tmp_path: Path) -> None:
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    targets = sqlite_targets(tmp_path, 8)
    await asyncio.to_thread(poison, targets[1])
    results = await amigrate.upgrade(project.config(), targets=targets, canary=3)
    assert [r.status for r in results][:3] == ["ok", "failed", "ok"]
    assert {r.status for r in list(results)[3:]} == {"skipped"}
    (tmp_path / "t1.db").unlink()
    results = await amigrate.upgrade(project.config(), targets=targets, canary=3)
    assert results.ok


def multidb_project(tmp_path: Path) -> None:
    """``init -t multidb`` with one revision: users in main, events in analytics."""
    assert run_cli("init", "-t", "multidb", "migrations", cwd=tmp_path).code == 0
    rev = Rev(
        "a1",
        None,
        extra=(
            "async def upgrade_main(op):\n"
            '    await op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))\n'
            "async def downgrade_main(op):\n"
            '    await op.drop_table("users")\n'
            "async def upgrade_analytics(op):\n"
            '    await op.create_table("events", sa.Column("id", sa.Integer, primary_key=True))\n'
            "async def downgrade_analytics(op):\n"
            '    await op.drop_table("events")\n'
        ),
    )
    from tests.projects import render

    text = render(rev)
    text = text[: text.index("async def upgrade(op")]  # only the per-database functions
    (tmp_path / "migrations" / "versions" / "a1.py").write_text(text)


def test_multidb_databases(tmp_path: Path) -> None:
    multidb_project(tmp_path)
    result = run_cli("upgrade", cwd=tmp_path)
    assert result.code == 0, result.err

    async def tables(name: str) -> list[str]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / name}")
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        await engine.dispose()
        return sorted(found)

    assert asyncio.run(tables("main.db")) == ["amigrate_history", "amigrate_version", "users"]
    assert asyncio.run(tables("analytics.db")) == [
        "amigrate_history",
        "amigrate_version",
        "events",
    ]
    down = run_cli("-d", "analytics", "downgrade", "base", cwd=tmp_path)
    assert down.code == 0, down.err
    assert asyncio.run(tables("analytics.db")) == ["amigrate_history", "amigrate_version"]
    assert "users" in asyncio.run(tables("main.db"))
    assert run_cli("current", cwd=tmp_path).out.splitlines() == [
        "main: a1 (head)",
        "analytics: <base>",
    ]
    bad = run_cli("-d", "nope", "upgrade", cwd=tmp_path)
    assert bad.code == 1
    assert "no database or target named 'nope'" in bad.err


def test_the_summary_counts_committed_steps_and_unstarted_targets(tmp_path: Path) -> None:
    targets = targets_project(tmp_path, 3)
    asyncio.run(_admin(targets[0].url, "CREATE TABLE rt2 (x INTEGER)"))  # r002 fails there
    result = run_cli("upgrade", "--canary", "1", cwd=tmp_path)
    assert_clean_error(result, match="3 of 3 databases did not reach head")
    hint = "hint: the summary above says why; 2 were stopped or not started (--fail-fast, "
    assert hint + "--canary); running the command again" in result.err  # none completed
    rows = {line.split()[0]: line.split() for line in result.out.splitlines()[1:]}
    assert rows["t00"][1:5] == ["<base>", "->", "r001", "1"]  # r001 committed, then r002 failed
    assert rows["t01"][1:3] == ["-", "0"]


def test_multidb_plan_and_sql_per_database(tmp_path: Path) -> None:
    multidb_project(tmp_path)
    sql = run_cli("upgrade", "--sql", cwd=tmp_path)
    assert sql.code == 0, sql.err
    main_sql, analytics_sql = sql.out.split("-- database analytics")
    assert main_sql.startswith("-- database main")
    assert "CREATE TABLE users" in main_sql
    assert "events" not in main_sql
    assert "CREATE TABLE events" in analytics_sql
    assert "users" not in analytics_sql
    down = run_cli("-d", "main", "downgrade", "a1:base", "--sql", cwd=tmp_path)
    assert down.code == 0, down.err
    assert "DROP TABLE users" in down.out
    assert "analytics" not in down.out
    stamp = run_cli("stamp", "a1", "--sql", cwd=tmp_path)
    assert stamp.code == 0, stamp.err
    assert stamp.out.count("INSERT INTO amigrate_version (version_num) VALUES ('a1')") == 2
    assert not (tmp_path / "main.db").exists()  # offline: no connection, no file
    for read in (("current",), ("log",), ("validate",), ("upgrade", "--plan")):
        assert run_cli(*read, cwd=tmp_path).code == 0, read
    assert not (tmp_path / "main.db").exists()  # reads create no SQLite file either
    plan = run_cli("upgrade", "--plan", cwd=tmp_path)
    assert plan.code == 0, plan.err
    assert [line.split(" (")[0] for line in plan.out.splitlines() if line.startswith("Plan")] == [
        "Plan for main",
        "Plan for analytics",
    ]
    one = run_cli("-d", "analytics", "upgrade", "--plan", cwd=tmp_path)
    assert one.code == 0, one.err
    assert "Plan for analytics" in one.out
    assert "main" not in one.out
    data = json.loads(run_cli("--json", "upgrade", "--plan", cwd=tmp_path).out)
    assert sorted(data) == ["analytics", "main"]
    assert data["main"]["steps"][0]["revision"] == "a1"


def test_one_database_needs_only_its_own_url_variable(tmp_path: Path) -> None:
    multidb_project(tmp_path)
    ini = tmp_path / "amigrate.ini"
    text = ini.read_text()
    analytics = text.index("[analytics]")
    ini.write_text(
        text[:analytics]
        + text[analytics:].replace(
            text[analytics:].splitlines()[1], "sqlalchemy.url = ${AMIGRATE_TEST_UNSET_URL}", 1
        )
    )
    for command in (("upgrade",), ("current",), ("downgrade", "base"), ("history", "-i")):
        result = run_cli("-d", "main", *command, cwd=tmp_path)
        assert result.code == 0, (command, result)
    every = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(every, match="AMIGRATE_TEST_UNSET_URL is not set")


def test_a_databases_settings_are_expanded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amigrate.fanout import configured_databases

    multidb_project(tmp_path)
    ini = tmp_path / "amigrate.ini"
    ini.write_text(
        ini.read_text().replace(
            "[analytics]\n", "[analytics]\nversion_table = v_$${literal}\nhistory_table = ${H}\n"
        )
    )
    monkeypatch.setenv("H", "h_${not_a_reference}")
    config = amigrate.load_config(tmp_path / "amigrate.ini")
    (analytics,) = configured_databases(config, ["analytics"])
    derived = config.derive(analytics.settings)
    assert derived.version_table == "v_${literal}"
    assert derived.history_table == "h_${not_a_reference}"


def alpha_and_an_unreachable_target(tmp_path: Path) -> None:
    """A project with two targets: alpha (SQLite) and down (a server that is not there)."""
    make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    ini = tmp_path / "amigrate.ini"
    ini.write_text(
        ini.read_text()
        + f"\n[targets]\nalpha = sqlite+aiosqlite:///{tmp_path / 'a.db'}\n"
        + "down = postgresql+asyncpg://u:pw-secret@127.0.0.1:1/x\n"
    )


def test_plan_reports_each_target_when_one_is_unreachable(tmp_path: Path) -> None:
    alpha_and_an_unreachable_target(tmp_path)
    result = run_cli("upgrade", "--plan", cwd=tmp_path)
    assert_clean_error(result, match="1 of 2 databases could not be planned: down: cannot connect")
    assert "Plan for alpha" in result.out
    assert "pw-secret" not in result.output
    alone = run_cli("-d", "down", "upgrade", "--plan", cwd=tmp_path)
    assert_clean_error(alone, match="cannot connect to postgresql+asyncpg://u:***@127.0.0.1:1/x")


def test_a_partly_changed_database_gets_its_own_hint(tmp_path: Path) -> None:
    """Running the command again refuses a database that failed partway: the error says
    what to do there instead of 'running the command again only touches what is behind'."""
    from tests.integration.test_failures import AFTER_A_BLOCK

    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1), AFTER_A_BLOCK)
    targets = sqlite_targets(tmp_path, 2)
    section = "".join(f"{t.name} = {t.url}\n" for t in targets)
    project.ini.write_text(project.ini.read_text() + "\n[targets]\n" + section)
    asyncio.run(_admin(targets[1].url, "CREATE TABLE nope (x INTEGER)"))  # t01 gets through
    result = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(result, match="1 of 2 databases did not reach head: t00 (failed)")
    assert "t00 is partly changed: " in result.err
    assert "amigrate stamp" in result.err
    assert "only touches what is behind" not in result.err
    again = run_cli("upgrade", cwd=tmp_path)  # refused there now: said again
    assert_clean_error(again, match="t00 (failed)")
    assert "t00 is partly changed: " in again.err
    assert "only touches what is behind" not in again.err


def test_reads_report_each_target_when_one_is_unreachable(tmp_path: Path) -> None:
    alpha_and_an_unreachable_target(tmp_path)
    assert run_cli("-d", "alpha", "upgrade", cwd=tmp_path).code == 0
    for command, what, shown in [
        (("current",), "read", "alpha: r001 (head)"),
        (("log",), "read", "alpha: "),
        (("validate",), "checked", "alpha: 1 applied revision matches its file."),
    ]:
        result = run_cli(*command, cwd=tmp_path)
        assert_clean_error(result, match=f"1 of 2 databases could not be {what}: down: cannot")
        assert shown in result.out, result.out
        assert "pw-secret" not in result.output
    # What could be read, with the error beside it.
    document = json.loads(run_cli("--json", "current", cwd=tmp_path).out)
    assert document["error"]["message"].startswith("1 of 2 databases could not be read")
    data = document
    assert data["alpha"]["heads"][0]["revision"] == "r001"
    assert data["down"]["error"].startswith("cannot connect to postgresql+asyncpg://u:***@")
    data = json.loads(run_cli("--json", "validate", cwd=tmp_path).out)
    assert data["alpha"]["ok"] is True
    assert "error" in data["down"]


async def test_env_targets_hook(tmp_path: Path) -> None:
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    urls = [f"sqlite+aiosqlite:///{tmp_path / f'c{i}.db'}" for i in range(3)]
    project.env(
        f"""
        async def targets(config):
            # an application would read these from its catalog database
            return [("cat%d" % i, url) for i, url in enumerate({urls!r})]
        """
    )
    found = await amigrate.targets(project.config())
    assert [t.name for t in found] == ["cat0", "cat1", "cat2"]
    results = await amigrate.upgrade(project.config(), targets="all")
    assert results.ok
    assert [r.target.name for r in results] == ["cat0", "cat1", "cat2"]
    selected = await amigrate.current(project.config(), targets=["cat1"])
    assert [(r.target.name, r.value) for r in selected] == [("cat1", ("r001",))]


def test_targets_section_and_bad_lines(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    ini = tmp_path / "amigrate.ini"
    ini.write_text(
        ini.read_text()
        + f"\n[targets]\nalpha = sqlite+aiosqlite:///{tmp_path / 'a.db'}\n"
        + f"beta = sqlite+aiosqlite:///{tmp_path / 'b.db'}\n"
    )
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    assert run_cli("-d", "beta", "current", cwd=tmp_path).out.strip() == "beta: r001 (head)"
    (tmp_path / "more.txt").write_text("gamma\n")
    ini.write_text(ini.read_text().replace("[targets]", "targets_file = more.txt\n[targets]", 1))
    bad = run_cli("upgrade", cwd=tmp_path)
    assert bad.code == 1
    assert "more.txt:1: expected 'name URL [schema=NAME]'" in bad.err


def test_targets_file_lines_are_expanded_like_config_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """%(here)s is the config's folder whatever folder the command runs from."""
    project = tmp_path / "project"
    project.mkdir()
    make_project(project, "sqlite+aiosqlite:///unused.db", *linear(1))
    (project / "tenants.txt").write_text(
        "acme sqlite+aiosqlite:///%(here)s/acme.db  # beside amigrate.ini\n"
        "globex sqlite+aiosqlite:///${TENANT_DIR}/globex.db\n"
    )
    ini = project / "amigrate.ini"
    ini.write_text(ini.read_text() + "targets_file = tenants.txt\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"TENANT_DIR": str(tmp_path)}
    result = run_cli("-c", ini, "upgrade", cwd=elsewhere, env=env)
    assert result.code == 0, result
    assert (project / "acme.db").exists()
    assert (tmp_path / "globex.db").exists()
    assert list(elsewhere.iterdir()) == []
    (project / "tenants.txt").write_text("acme sqlite+aiosqlite:///%(nowhere)s/acme.db\n")
    bad = run_cli("-c", ini, "upgrade", cwd=elsewhere, env=env)
    assert_clean_error(bad, match="tenants.txt:1: %(nowhere)s refers to 'nowhere'")


@pytest.mark.skipif(os.name != "posix", reason="posix only")
def test_schema_targets_need_postgresql(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    (tmp_path / "tenants.txt").write_text(f"x sqlite+aiosqlite:///{tmp_path / 'x.db'} schema=s\n")
    ini = tmp_path / "amigrate.ini"
    ini.write_text(ini.read_text() + "targets_file = tenants.txt\n")
    result = run_cli("upgrade", cwd=tmp_path)
    assert result.code == 1
    assert "schema targets need PostgreSQL" in result.err


def test_when_every_database_failed_the_hint_says_no_others_completed(tmp_path: Path) -> None:
    targets = targets_project(tmp_path, 2)
    for target in targets:
        asyncio.run(_admin(target.url, "CREATE TABLE rt2 (x INTEGER)"))  # r002 fails
    result = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(result, match="2 of 2 databases did not reach head")
    assert "hint: the summary above says why; running the command again" in result.err
    as_json = json.loads(run_cli("--json", "upgrade", cwd=tmp_path).out)
    assert as_json["error"]["hint"].startswith("error.databases says why; running")


async def _with_locks_held(targets: list[DatabaseTarget], *args: str, cwd: Path) -> Result:
    """``amigrate ARGS`` while this process holds the migration lock of each of *targets*."""
    from amigrate.runtime.locking import migration_lock

    engines = [create_async_engine(t.url, poolclass=NullPool) for t in targets]
    try:
        async with contextlib.AsyncExitStack() as held:
            for engine in engines:
                lock = migration_lock(engine, None, "amigrate_version", lock_timeout=5)
                await held.enter_async_context(lock)
            return await asyncio.to_thread(run_cli, *args, cwd=cwd)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_databases_that_all_timed_out_on_the_lock_exit_as_one_would(
    tmp_path: Path,
) -> None:
    """Exit 4 (a lock timeout), as with one database: it was 1, as for any failure."""
    targets = targets_project(tmp_path, 3)
    command = ("--lock-timeout", "0.3", "upgrade")
    result = await _with_locks_held(targets[:2], *command, cwd=tmp_path)
    assert result.code == 4, result.output
    assert "2 of 3 databases did not reach head" in result.err
    assert (await _with_locks_held(targets, *command, cwd=tmp_path)).code == 4
    stamp = ("--lock-timeout", "0.3", "stamp", "head")
    assert (await _with_locks_held(targets, *stamp, cwd=tmp_path)).code == 4  # (it was 1)
    # A canary that timed out: the others were not started, and do not make it 1.
    canary = ("--lock-timeout", "0.3", "upgrade", "--canary", "1", "--concurrency", "1")
    result = await _with_locks_held(targets, *canary, cwd=tmp_path)
    assert result.code == 4, result.output
    assert "not started" in result.err or "skipped" in result.err
    await _admin(targets[0].url, "CREATE TABLE rt1 (x INTEGER)")  # failing otherwise: exit 1
    result = await _with_locks_held(targets[1:], *command, "head", cwd=tmp_path)
    assert result.code == 1, result.output


@pytest.mark.parametrize("how", ["--url", "$AMIGRATE_URL"])
@pytest.mark.parametrize("kind", ["targets", "databases"])
def test_a_url_for_one_database_is_refused_where_there_are_several(
    tmp_path: Path, kind: str, how: str
) -> None:
    # Both used to be ignored (the environment's silently): the command went on to every
    # configured database.
    if kind == "targets":
        targets = targets_project(tmp_path, 2)
        files = [Path(t.url.split("///", 1)[1]) for t in targets]
    else:
        multidb_project(tmp_path)
        files = [tmp_path / "main.db", tmp_path / "analytics.db"]
    other = tmp_path / "other.db"
    url = f"sqlite+aiosqlite:///{other}"
    for args in (("upgrade",), ("-d", "t00" if kind == "targets" else "main", "current")):
        if how == "--url":
            result = run_cli("--url", url, *args, cwd=tmp_path)
            assert_clean_error(result, code=2, match="--url names one database")
            assert "-d NAME" in result.err
        else:
            result = run_cli(*args, cwd=tmp_path, env={"AMIGRATE_URL": url})
            assert_clean_error(result, match="$AMIGRATE_URL names one database")
            assert "hint: unset AMIGRATE_URL; choose databases with -d NAME" in result.err
    assert not any(f.exists() for f in [*files, other])


def test_a_config_that_refers_to_amigrate_url_uses_it(tmp_path: Path) -> None:
    multidb_project(tmp_path)
    ini = tmp_path / "amigrate.ini"
    main_url = "sqlalchemy.url = sqlite+aiosqlite:///%(here)s/main.db"
    ini.write_text(ini.read_text().replace(main_url, "sqlalchemy.url = ${AMIGRATE_URL}"))
    other = tmp_path / "other.db"
    result = run_cli("upgrade", cwd=tmp_path, env={"AMIGRATE_URL": f"sqlite+aiosqlite:///{other}"})
    assert result.code == 0, result.err
    found = [f.exists() for f in (other, tmp_path / "main.db", tmp_path / "analytics.db")]
    assert found == [True, False, True]


@pytest.mark.parametrize(
    "where", ["ini comment", "escaped", "targets_file comment", "targets_file", "default"]
)
def test_only_a_real_reference_to_amigrate_url_lets_it_through(tmp_path: Path, where: str) -> None:
    # A comment or a literal $${...} is no reference: the variable is still refused.
    targets = targets_project(tmp_path, 2)
    ini = tmp_path / "amigrate.ini"
    other = tmp_path / "other.db"
    url = f"sqlite+aiosqlite:///{other}"
    if where == "ini comment":
        ini.write_text(ini.read_text() + "# t02 = ${AMIGRATE_URL}\n")
    elif where == "escaped":
        ini.write_text(ini.read_text().replace("[amigrate]", "[amigrate]\nnote = $${AMIGRATE_URL}"))
    elif where == "default":
        ini.write_text(ini.read_text() + "t02 = ${AMIGRATE_URL:-sqlite+aiosqlite:///none.db}\n")
    else:
        line = "t02 ${AMIGRATE_URL}\n"
        (tmp_path / "more.txt").write_text(("# " + line) if where.endswith("comment") else line)
        text = ini.read_text().replace("[amigrate]", "[amigrate]\ntargets_file = more.txt")
        ini.write_text(text)
    result = run_cli("upgrade", cwd=tmp_path, env={"AMIGRATE_URL": url})
    if where in ("targets_file", "default"):
        assert result.code == 0, result.err
        assert other.exists()
    else:
        assert_clean_error(result, match="$AMIGRATE_URL names one database")
        assert not other.exists()
    assert all(Path(t.url.split("///", 1)[1]).exists() == (result.code == 0) for t in targets)


def test_url_names_the_catalog_an_env_targets_hook_reads(tmp_path: Path) -> None:
    # env.py's targets() may read its list from config.url (a catalog database): --url
    # picks the catalog (staging, production), as $AMIGRATE_URL does.
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    project.env(
        """
        async def targets(config):
            folder = config.url.rsplit("/", 1)[0]  # the catalog's folder holds its tenants
            return [("acme", folder + "/acme.db")]
        """
    )
    staging = tmp_path / "staging"
    staging.mkdir()
    url = f"sqlite+aiosqlite:///{staging / 'catalog.db'}"
    result = run_cli("--url", url, "upgrade", cwd=tmp_path)
    assert result.code == 0, result.err
    assert run_cli("--url", url, "current", cwd=tmp_path).out.splitlines() == ["acme: r001 (head)"]
    # -d without any configured targets: the error about that, not about --url.
    plain = tmp_path / "plain"
    make_project(plain, f"sqlite+aiosqlite:///{plain / 'p.db'}", *linear(1))
    lone = run_cli("-d", "foo", "--url", url, "current", cwd=plain)
    assert lone.code != 0
    assert "--url names one database" not in lone.err


def test_a_concurrency_below_one_in_the_config_is_refused(tmp_path: Path) -> None:
    # --concurrency 0 was refused, and concurrency = 0 in the config taken for the default.
    targets_project(tmp_path, 2)
    ini = tmp_path / "amigrate.ini"
    ini.write_text(ini.read_text().replace("[amigrate]", "[amigrate]\nconcurrency = 0", 1))
    result = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(result, match="concurrency = 0 in the config is below 1")


async def test_targets_given_as_lists_or_catalog_rows(tmp_path: Path) -> None:
    """A list or a row of a catalog query (SQLAlchemy's Row) is a target as a tuple is;
    what is not a target is refused without showing its password."""
    from amigrate.fanout import _as_target

    url = "postgresql+asyncpg://app:S3cretPW@db/acme"
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}")
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(sa.text("SELECT 'acme', :u, NULL"), {"u": url})).one()
    finally:
        await engine.dispose()
    assert _as_target(row) == DatabaseTarget("acme", url)
    assert _as_target(["acme", url, "tenant"]) == DatabaseTarget("acme", url, "tenant")
    assert "S3cretPW" not in repr(DatabaseTarget("acme", url))
    with pytest.raises(ConfigError, match="a target must be") as info:
        _as_target(("acme", url, "tenant", "extra"))
    assert "S3cretPW" not in str(info.value)
    assert "app:***@db" in str(info.value)


async def test_targets_of_a_multidb_project_point_at_its_databases(tmp_path: Path) -> None:
    from amigrate.config import Config
    from amigrate.fanout import resolve

    config = Config.from_values(
        {"script_location": str(tmp_path), "databases": "main, analytics"}, here=tmp_path
    )
    with pytest.raises(
        ConfigError, match=r"this project lists databases \(main, analytics\)"
    ) as info:
        await resolve(config, targets="all")
    assert "databases='all'" in (info.value.hint or "")
