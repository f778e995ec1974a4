"""``repair``: accepting intended edits of applied revisions, on every backend."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import amigrate
from amigrate.errors import (
    AmbiguousRevision,
    CheckFailed,
    CommandError,
    DatabaseError,
    LockTimeout,
    MigrationError,
    MigrationFailed,
    UnknownRevision,
)
from amigrate.runtime.history import checksum
from tests.helpers import assert_clean_error, run_cli
from tests.integration.test_failures import AFTER_A_BLOCK
from tests.integration.test_fanout import _admin, multidb_project
from tests.integration.test_runtime import snapshot
from tests.projects import Project, Rev, linear, make_project


def edit(project: Project, revision: str, text: str = "# an intended edit\n") -> str:
    """Append *text* to the revision's file; return its new checksum."""
    path = project.versions / f"{revision}.py"
    path.write_text(path.read_text() + text)
    return checksum(path.read_bytes())


async def test_repair_accepts_edited_revisions(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(3))
    config = project.config()
    await amigrate.upgrade(config)
    before = await snapshot(db_url)
    old = (await amigrate.log(config, revisions=["r001"]))[0].checksum
    new1, new2 = edit(project, "r001"), edit(project, "r002")
    report = await amigrate.validate(config)
    assert [(p.kind, p.revision) for p in report.problems] == [
        ("changed", "r001"),
        ("changed", "r002"),
    ]

    result = await amigrate.repair(config)
    assert [(r.revision, r.recorded, r.checksum) for r in result.repaired] == [
        ("r001", old, new1),
        ("r002", report.problems[1].recorded, new2),
    ]
    assert result.repaired[0].path.endswith("r001.py")
    assert (result.unchanged, result.remaining) == ((), ())
    assert await snapshot(db_url) == before  # neither the schema nor the version table
    report = await amigrate.validate(config)
    assert report.ok, report
    assert report.checked == 3

    rows = await amigrate.log(config, limit=2)
    assert [(e.revision, e.direction, e.status, e.checksum) for e in rows] == [
        ("r002", "repair", "applied", new2),
        ("r001", "repair", "applied", new1),
    ]
    assert {e.run_id for e in rows} == {result.run_id}
    assert (rows[1].from_revisions, rows[1].to_revisions) == ("r001", "r001")
    assert rows[1].message == f"accepted the file as it is now (was {(old or '')[:15]})"
    assert "@" in rows[1].os_user
    assert rows[1].amigrate_version == amigrate.__version__

    again = await amigrate.repair(config)  # nothing left: no row
    assert (again.repaired, again.run_id) == ((), None)
    assert len(await amigrate.log(config)) == 5
    # The repaired revisions go down and up as any other; the upgrade records its checksum.
    await amigrate.downgrade(config, "base")
    await amigrate.upgrade(config)
    assert (await amigrate.validate(config)).ok


async def test_repair_named_revisions(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(3))
    config = project.config()
    await amigrate.upgrade(config)
    edit(project, "r001")
    edit(project, "r002")
    result = await amigrate.repair(config, ["r002", "r003", "r002"])
    assert [r.revision for r in result.repaired] == ["r002"]
    assert result.unchanged == ("r003",)
    assert [(p.kind, p.revision) for p in result.remaining] == [("changed", "r001")]
    report = await amigrate.validate(config)
    assert [(p.kind, p.revision) for p in report.problems] == [("changed", "r001")]
    async with amigrate.Migrator(config) as m:
        assert [r.revision for r in (await m.repair("head-2")).repaired] == ["r001"]
        assert (await m.validate()).ok


async def test_repair_refuses_before_writing(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(3), Rev("r0x", "r003"))
    config = project.config()
    await amigrate.upgrade(config, "r002")
    edit(project, "r001")
    rows = len(await amigrate.log(config))
    cases: list[tuple[list[str], type[Exception], str]] = [
        (["r001", "r003"], CommandError, "revision r003 is not applied to this database"),
        (["r001", "nope"], UnknownRevision, "no revision matches 'nope'"),
        (["r0"], AmbiguousRevision, "'r0' matches 4 revisions"),
        (["base"], CommandError, "'base' names no revision"),
    ]
    for revisions, error, message in cases:
        with pytest.raises(error, match=message):
            await amigrate.repair(config, revisions)
    assert len(await amigrate.log(config)) == rows  # nothing written, r001 included
    assert not (await amigrate.validate(config)).ok


async def test_what_a_stamp_left_behind_is_not_applied(sqlite_url: str, tmp_path: Path) -> None:
    """After 'stamp r001' (or base, or --purge onto another branch) the revisions above are
    no longer applied: validate does not check them and repair refuses them (validate
    reported r003 changed and repair wrote a row for it)."""
    project = make_project(tmp_path, sqlite_url, *linear(3), Rev("b1", "r001"))
    config = project.config()
    await amigrate.upgrade(config, "r003")
    await amigrate.stamp(config, "r001")
    edit(project, "r003")
    report = await amigrate.validate(config)
    assert (report.ok, report.checked) == (True, 1)
    with pytest.raises(CommandError, match="revision r003 is not applied to this database"):
        await amigrate.repair(config, ["r003"])
    await amigrate.stamp(config, "base")
    assert (await amigrate.validate(config)).checked == 0
    await amigrate.stamp(config, "r003")
    await amigrate.stamp(config, "b1", purge=True)  # another branch: r002, r003 left behind
    assert (await amigrate.validate(config)).ok


async def test_repair_of_a_revision_whose_file_is_gone(db_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, db_url, *linear(3))
    config = project.config()
    await amigrate.upgrade(config)
    edit(project, "r001")
    (project.versions / "r003.py").unlink()
    with pytest.raises(CommandError, match="revision r003 is applied, but no revision file") as e:
        await amigrate.repair(config, "r003")
    assert "restore the file" in (e.value.hint or "")
    # Without names: what can be repaired is, and what cannot is returned.
    result = await amigrate.repair(config)
    assert [r.revision for r in result.repaired] == ["r001"]
    assert [(p.kind, p.revision) for p in result.remaining] == [("missing", "r003")]


async def test_repair_refuses_over_a_recorded_failure(db_url: str, tmp_path: Path) -> None:
    """A failure is resolved by saying where the database is (stamp), not by a repair."""
    project = make_project(tmp_path, db_url, *linear(1), AFTER_A_BLOCK)
    config = project.config()
    with pytest.raises(MigrationFailed):
        await amigrate.upgrade(config)
    edit(project, "r001")
    with pytest.raises(MigrationError, match="r002 failed partway") as info:
        await amigrate.repair(config)
    assert (info.value.hint or "").endswith(
        "'amigrate stamp <revision>' (or run again with --force); then repair"
    )
    (failed, _) = await amigrate.log(config)
    assert failed.status == "failed"  # still the newest row: still unresolved
    with pytest.raises(MigrationError, match="failed partway"):
        await amigrate.upgrade(config)
    await amigrate.stamp(config, "r001")  # the user undid r002's work by hand
    assert [r.revision for r in (await amigrate.repair(config)).repaired] == ["r001"]
    assert (await amigrate.validate(config)).ok


TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER no_r002 BEFORE INSERT ON amigrate_history "
        "WHEN NEW.revision = 'r002' BEGIN SELECT RAISE(ABORT, 'no r002'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION no_r002() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.revision = 'r002' THEN RAISE EXCEPTION 'no r002'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER no_r002 BEFORE INSERT ON amigrate_history "
        "FOR EACH ROW EXECUTE FUNCTION no_r002()",
    ],
    "mysql": [
        "CREATE TRIGGER no_r002 BEFORE INSERT ON amigrate_history FOR EACH ROW BEGIN "
        "IF NEW.revision = 'r002' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no r002'; "
        "END IF; END"
    ],
}


async def test_a_failed_write_leaves_no_row(db_url: str, tmp_path: Path) -> None:
    """The rows of one repair commit together: the second failing takes the first back."""
    project = make_project(tmp_path, db_url, *linear(2))
    config = project.config()
    await amigrate.upgrade(config)
    await _admin(db_url, *TRIGGERS[db_url.split("+")[0]])
    edit(project, "r001")
    edit(project, "r002")
    with pytest.raises(DatabaseError, match="the database .* refused: .*no r002") as caught:
        await amigrate.repair(config)
    assert isinstance(caught.value.__cause__, DBAPIError)  # (the driver's error, as its cause)
    assert [e.direction for e in await amigrate.log(config)] == ["up", "up"]
    assert len((await amigrate.validate(config)).problems) == 2
    assert [r.revision for r in (await amigrate.repair(config, "r001")).repaired] == ["r001"]


async def test_repair_waits_for_the_lock(db_url: str, tmp_path: Path) -> None:
    from amigrate.runtime.locking import migration_lock

    project = make_project(tmp_path, db_url, *linear(1))
    config = project.config()
    await amigrate.upgrade(config)
    edit(project, "r001")
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with migration_lock(engine, None, "amigrate_version", lock_timeout=1):
            with pytest.raises(LockTimeout):
                await amigrate.repair(config, lock_timeout=0.3)
    finally:
        await engine.dispose()
    assert [e.direction for e in await amigrate.log(config)] == ["up"]


async def test_repair_a_database_alembic_migrated(sqlite_url: str, tmp_path: Path) -> None:
    """No history yet: nothing to repair by default; a named revision gets its first row."""
    await _admin(
        sqlite_url,
        "CREATE TABLE alembic_version (version_num VARCHAR(32))",
        "INSERT INTO alembic_version VALUES ('r002')",
    )
    project = make_project(tmp_path, sqlite_url, *linear(2), version_table="alembic_version")
    config = project.config()
    assert (await amigrate.repair(config)).repaired == ()
    assert "amigrate_history" not in (await snapshot(sqlite_url, "alembic_version"))[0]
    report = await amigrate.validate(config)
    assert (report.ok, report.checked, report.unchecked) == (True, 0, 2)
    # (It said "0 applied revisions match their files.")
    said = (await asyncio.to_thread(run_cli, "validate", cwd=tmp_path)).out
    assert said.startswith("2 applied revisions have no checksum recorded (applied by Alembic")
    assert "0 applied" not in said
    result = await amigrate.repair(config, "r001")
    assert [(r.revision, r.recorded) for r in result.repaired] == [("r001", None)]
    (row,) = await amigrate.log(config)
    assert row.message == "accepted the file as it is now (no checksum was recorded)"
    report = await amigrate.validate(config)
    assert (report.checked, report.unchecked) == (1, 1)  # r001 is checked from now on
    edit(project, "r001")
    assert not (await amigrate.validate(config)).ok


async def test_repair_needs_no_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'none.db'}"
    config = make_project(tmp_path, url, *linear(1)).config()
    assert (await amigrate.repair(config)).repaired == ()
    with pytest.raises(CommandError, match=r"r001 is not applied .* \(it is at <base>\)"):
        await amigrate.repair(config, "r001")
    assert not (tmp_path / "none.db").exists()


def log_lines(tmp_path: Path) -> list[str]:
    return run_cli("log", cwd=tmp_path).out.splitlines()


def test_repair_cli(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(3))
    assert run_cli("upgrade", "r002", cwd=tmp_path).code == 0
    result = run_cli("repair", cwd=tmp_path)
    assert (result.code, result.out) == (
        0,
        "Nothing to repair: no applied revision's file differs from the checksum recorded "
        "for it.\n",
    ), result
    edit(project, "r001")
    validate = run_cli("validate", cwd=tmp_path)
    assert_clean_error(validate, code=3, match="error: 1 problem found")
    assert "accept intended edits with 'amigrate repair'" in validate.err
    before = log_lines(tmp_path)
    for args, match in [
        (("repair", "r003"), "error: revision r003 is not applied to this database"),
        (("repair", "r001", "zz"), "error: no revision matches 'zz'"),
        (("repair", "r00"), "error: 'r00' matches 3 revisions"),
        (("repair", "--sql"), "error: repair has no --sql: it writes only the history table"),
    ]:
        assert_clean_error(run_cli(*args, cwd=tmp_path), match=match)
    assert log_lines(tmp_path) == before

    result = run_cli("repair", cwd=tmp_path)
    assert result.code == 0, result
    assert result.out == f"repaired: r001: {project.versions / 'r001.py'} accepted as it is now\n"
    assert run_cli("validate", cwd=tmp_path).code == 0
    newest = log_lines(tmp_path)[0]
    assert "  repair r001 -> r001, accepted the file as it is now (was v1:" in newest
    assert " by " in newest

    data = json.loads(run_cli("repair", "r001", "r002", "--json", cwd=tmp_path).out)
    assert data["unchanged"] == ["r001", "r002"]
    assert (data["repaired"], data["run_id"]) == ([], None)
    new = edit(project, "r002")
    data = json.loads(run_cli("--json", "repair", cwd=tmp_path).out)
    assert [(r["revision"], r["checksum"]) for r in data["repaired"]] == [("r002", new)]
    entries = json.loads(run_cli("--json", "log", "--limit", "1", cwd=tmp_path).out)
    assert (entries[0]["direction"], entries[0]["run_id"]) == ("repair", data["run_id"])

    (project.versions / "r002.py").unlink()
    (project.versions / "r003.py").unlink()
    edit(project, "r001")
    result = run_cli("repair", cwd=tmp_path)
    assert result.code == 0, result
    assert result.out.splitlines() == [
        f"repaired: r001: {project.versions / 'r001.py'} accepted as it is now",
        "not repaired: missing: r002: applied, but no revision file declares it",
    ]


def test_repair_cli_refuses_over_a_failure(sqlite_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, sqlite_url, *linear(1), AFTER_A_BLOCK)
    assert run_cli("upgrade", cwd=tmp_path).code == 1
    result = run_cli("repair", cwd=tmp_path)
    assert_clean_error(result, match="error: revision r002 failed partway on ")
    assert "then repair" in result.err


def test_repair_multidb(tmp_path: Path) -> None:
    multidb_project(tmp_path)
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    path = tmp_path / "migrations" / "versions" / "a1.py"
    path.write_text(path.read_text() + "# edited\n")
    assert run_cli("validate", cwd=tmp_path).code == 3

    one = run_cli("-d", "analytics", "repair", cwd=tmp_path)
    assert one.code == 0, one
    assert one.out == f"analytics: repaired: a1: {path} accepted as it is now\n"
    data = json.loads(run_cli("--json", "validate", cwd=tmp_path).out)  # exit 3
    assert (data["main"]["ok"], data["analytics"]["ok"]) == (False, True)

    data = json.loads(run_cli("--json", "repair", cwd=tmp_path).out)
    assert sorted(data) == ["analytics", "main"]
    assert [r["revision"] for r in data["main"]["repaired"]] == ["a1"]
    assert data["analytics"]["repaired"] == []
    assert run_cli("validate", cwd=tmp_path).code == 0

    # A revision applied in one database only: the other is repaired, the error names it.
    assert run_cli("-d", "main", "downgrade", "base", cwd=tmp_path).code == 0
    result = run_cli("repair", "a1", cwd=tmp_path)
    assert_clean_error(
        result, match="1 of 2 databases could not be repaired: main: revision a1 is not applied"
    )
    assert "analytics: unchanged: a1: already matches its file" in result.out
    single = run_cli("-d", "main", "repair", "a1", cwd=tmp_path)
    assert_clean_error(single, match="error: revision a1 is not applied to this database")


async def test_strict_upgrade_points_at_repair(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(2), validate_on_upgrade="strict")
    config = project.config()
    await amigrate.upgrade(config, "r001")
    edit(project, "r001")
    with pytest.raises(CheckFailed, match="validate_on_upgrade = strict") as info:
        await amigrate.upgrade(config)
    assert "accept it with 'amigrate repair'" in (info.value.hint or "")
    await amigrate.repair(config)
    assert [s.revision for s in (await amigrate.upgrade(config)).steps] == ["r002"]


async def test_repair_logs_each_revision(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(1))
    await amigrate.upgrade(project.config())
    edit(project, "r001")
    with caplog.at_level(logging.INFO, logger="amigrate"):
        await amigrate.repair(project.config())
    assert "Repaired r001: accepted the file as it is now (was v1:" in caplog.text
