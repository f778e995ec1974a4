"""upgrade, downgrade, current, stamp, history -i and their bad inputs, through the real command."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import assert_clean_error, run_cli
from tests.projects import Rev, linear, make_project, table_rev


def test_upgrade_current_downgrade(db_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, db_url, *linear(3))
    result = run_cli("upgrade", "head", cwd=tmp_path)
    assert result.code == 0, result
    assert "Running upgrade <base> -> r001, create rt1" in result.err
    assert "<base> -> r003: 3 steps in" in result.err
    assert run_cli("current", cwd=tmp_path).out.strip() == "r003 (head)"
    assert run_cli("current", "--check-heads", cwd=tmp_path).code == 0

    result = run_cli("downgrade", "-1", cwd=tmp_path)
    assert result.code == 0, result
    assert "Running downgrade r003 -> r002, create rt3" in result.err
    checked = run_cli("current", "--check-heads", cwd=tmp_path)
    assert_clean_error(checked, code=3, match="the database is at r002, not at the head r003")
    assert checked.out.strip() == "r002"

    history = run_cli("history", "-i", cwd=tmp_path).out
    assert "r001 -> r002 (current), create rt2" in history
    assert run_cli("history", "-r-1:current", cwd=tmp_path).out.splitlines() == [
        "r001 -> r002, create rt2",
        "<base> -> r001, create rt1",
    ]
    assert run_cli("downgrade", "base", cwd=tmp_path).code == 0
    assert run_cli("current", cwd=tmp_path).out == ""


def test_history_counts_label_relative_ranges_from_the_database(
    sqlite_url: str, tmp_path: Path
) -> None:
    """label@-1 counts from the branch's applied head, with or without -i (without, it
    said that nothing was applied)."""
    make_project(
        tmp_path,
        sqlite_url,
        Rev("a1", None, branch_labels=("feature",)),
        Rev("a2", "a1"),
        Rev("a3", "a2"),
    )
    assert run_cli("upgrade", "a2", cwd=tmp_path).code == 0
    result = run_cli("history", "-r", "feature@-1:", cwd=tmp_path)
    assert result.code == 0, result
    assert [line.split(",")[0] for line in result.out.splitlines()] == [
        "a2 -> a3 (feature) (head)",
        "a1 -> a2 (feature)",
        "<base> -> a1 (feature)",
    ]
    marked = run_cli("history", "-i", "-r", "feature@-1:", cwd=tmp_path).out
    assert marked.replace(" (current)", "") == result.out


def test_history_range_relative_ends_count_from_the_other_end(
    sqlite_url: str, tmp_path: Path
) -> None:
    """As Alembic: in a range a bare +N counts from the lower end and -N from the upper one
    (they counted from the database: '-1:' showed the whole history, '-2:' needed one)."""
    make_project(tmp_path, sqlite_url, *linear(5))

    def ids(spec: str) -> list[str]:
        result = run_cli("history", "-r", spec, cwd=tmp_path)
        assert result.code == 0, result
        return [line.split(",")[0].split(" -> ")[1].split()[0] for line in result.out.splitlines()]

    assert ids("-2:") == ["r005", "r004", "r003"]  # nothing applied: no database needed
    assert run_cli("upgrade", "r002", cwd=tmp_path).code == 0
    assert ids("-1:") == ["r005", "r004"]
    assert ids("r003:+1") == ["r004", "r003"]
    assert ids(":+1") == ["r001"]
    assert ids("-1:current") == ["r002", "r001"]  # current is the database's
    assert ids("current:+1") == ["r003", "r002"]
    assert ids("-1:r004") == ["r004", "r003"]  # from the upper end, the database aside
    assert ids("-2:r005") == ["r005", "r004", "r003"]


def test_history_minus_n_of_several_heads(sqlite_url: str, tmp_path: Path) -> None:
    """'-1:' with two heads counts down from each, as Alembic does (it asked which of the
    database's heads, with no database involved)."""
    make_project(
        tmp_path,
        sqlite_url,
        Rev("r1", None),
        Rev("r2", "r1"),
        Rev("r3", "r2"),
        Rev("r4", "r2"),
        Rev("r5", "r4"),
        Rev("r6", "r5"),
    )

    def shown(spec: str) -> list[str]:
        result = run_cli("history", "-r", spec, cwd=tmp_path)
        assert result.code == 0, result
        lines = result.out.splitlines()
        return sorted(line.split(",")[0].split(" -> ")[1].split()[0] for line in lines)

    assert shown("-1:") == ["r2", "r3", "r5", "r6"]  # r3 and r2; r6 and r5
    assert shown("-2:") == ["r1", "r2", "r3", "r4", "r5", "r6"]
    assert shown("-3:") == ["r1", "r2", "r3", "r4", "r5", "r6"]  # r3 reaches base
    assert shown(":-1") == ["r1", "r2", "r4", "r5"]  # up to one below each head


def test_history_of_a_branch_from_its_base(sqlite_url: str, tmp_path: Path) -> None:
    """label@base: (and label@rev:) is that branch's history, as in Alembic (it was all)."""
    make_project(
        tmp_path,
        sqlite_url,
        Rev("l1", None, branch_labels=("main",)),
        Rev("l2", "l1"),
        Rev("l3", "l2"),
        Rev("s1", "l2", branch_labels=("side",)),
        Rev("s2", "s1"),
    )

    def ids(spec: str) -> list[str]:
        result = run_cli("history", "-r", spec, cwd=tmp_path)
        assert result.code == 0, result
        return [line.split(",")[0].split(" -> ")[1].split()[0] for line in result.out.splitlines()]

    assert ids("side@base:") == ["s2", "s1", "l2", "l1"]
    assert ids("side@base:heads") == ["s2", "s1", "l2", "l1"]
    assert ids("side@l2:") == ["s2", "s1", "l2"]
    assert sorted(ids("main@base:")) == ["l1", "l2", "l3", "s1", "s2"]  # side grew from main


def test_progress_lines(db_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, db_url, *linear(2))
    result = run_cli("-v", "upgrade", "head", cwd=tmp_path)
    assert result.code == 0, result
    # -v also shows log records (INFO, a driver's WARNING): keep the progress lines.
    lines = [line for line in result.err.splitlines() if line.startswith(("Running", "  done"))]
    assert lines[0] == "Running upgrade <base> -> r001, create rt1"
    assert re.fullmatch(r"  done in \d+ ms", lines[1]), lines
    assert lines[2] == "Running upgrade r001 -> r002, create rt2"
    assert re.fullmatch(r"  done in \d+ ms", lines[3]), lines
    quiet = run_cli("-q", "downgrade", "base", cwd=tmp_path)
    assert quiet.code == 0, quiet
    assert "Running" not in quiet.err


def test_plan_touches_nothing(sqlite_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, sqlite_url, *linear(3))
    result = run_cli("upgrade", "+2", "--plan", cwd=tmp_path)
    assert result.code == 0, result
    assert "(2 steps)" in result.out
    assert "  upgrade <base> -> r001, create rt1  [insert r001]" in result.out
    assert "  upgrade r001 -> r002, create rt2  [update r001 -> r002]" in result.out
    assert run_cli("current", cwd=tmp_path).out == ""  # nothing applied, no version table
    data = json.loads(run_cli("--json", "upgrade", "head", "--plan", cwd=tmp_path).out)
    assert [s["revision"] for s in data["steps"]] == ["r001", "r002", "r003"]
    change = data["steps"][1]["version_change"]
    assert change == {"kind": "update", "remove": ["r001"], "add": ["r002"]}


def test_json_result(sqlite_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, sqlite_url, *linear(2))
    data = json.loads(run_cli("--json", "upgrade", cwd=tmp_path).out)
    assert data["direction"] == "up"
    assert data["from_heads"] == []
    assert data["to_heads"] == ["r002"]
    assert [s["revision"] for s in data["steps"]] == ["r001", "r002"]
    assert all(s["duration"] >= 0 for s in data["steps"])


def test_current_as_json_says_what_upgrade_heads_would_apply(
    sqlite_url: str, tmp_path: Path
) -> None:
    # Two branches from r001, merged by m: 'upgrade heads' from b1 applies b2 and m.
    revs = [*linear(1), Rev("b1", "r001"), Rev("b2", "r001"), Rev("m", ("b1", "b2"))]
    make_project(tmp_path, sqlite_url, *revs)

    def current() -> dict[str, object]:
        data: dict[str, object] = json.loads(run_cli("--json", "current", cwd=tmp_path).out)
        return data

    data = current()
    assert (data["heads"], data["up_to_date"], data["pending"]) == ([], False, 4)
    assert run_cli("upgrade", "b1", cwd=tmp_path).code == 0
    data = current()
    assert (data["up_to_date"], data["pending"]) == (False, 2)
    assert run_cli("upgrade", "heads", cwd=tmp_path).code == 0
    data = current()
    assert (data["up_to_date"], data["pending"]) == (True, 0)
    assert run_cli("stamp", "--purge", "r001", cwd=tmp_path).code == 0
    for path in (tmp_path / "migrations" / "versions").glob("*.py"):
        path.unlink()  # the database names a revision no file has
    result = run_cli("--json", "current", cwd=tmp_path)
    assert result.code == 1
    data = json.loads(result.out)
    assert data["heads"] == [{"revision": "r001", "unknown": True}]
    assert (data["up_to_date"], data["pending"]) == (False, None)


def test_stamp(sqlite_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, sqlite_url, *linear(3))
    assert run_cli("stamp", "r002", cwd=tmp_path).code == 0
    assert run_cli("current", cwd=tmp_path).out.strip() == "r002"
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    assert run_cli("stamp", "--purge", "r001", cwd=tmp_path).code == 0
    assert run_cli("current", cwd=tmp_path).out.strip() == "r001"
    assert_clean_error(run_cli("stamp", "nope", cwd=tmp_path), match="no revision matches 'nope'")
    assert run_cli("current", cwd=tmp_path).out.strip() == "r001"
    # No revision is a usage error, as in Alembic (it was 'stamp base': the rows went).
    for bare in (("stamp",), ("stamp", "--purge"), ("--json", "stamp", "--purge")):
        assert_clean_error(run_cli(*bare, cwd=tmp_path), code=2, match="REVISIONS")
    assert run_cli("current", cwd=tmp_path).out.strip() == "r001"
    purged = run_cli("stamp", "--purge", "base", cwd=tmp_path)  # (it said "Nothing to do")
    assert (purged.code, purged.err) == (0, "r001 -> <base>: the version table was emptied\n")


def test_offline_sql_needs_no_server(tmp_path: Path) -> None:
    make_project(tmp_path, "postgresql+asyncpg://app:secret@127.0.0.1:1/app", *linear(2))
    result = run_cli("upgrade", "head", "--sql", cwd=tmp_path)
    assert result.code == 0, result
    assert result.out.startswith("SET client_encoding = 'UTF8';\n\nBEGIN;")
    assert "CREATE TABLE rt1" in result.out
    assert "INSERT INTO amigrate_version (version_num) VALUES ('r001');" in result.out
    down = run_cli("downgrade", "r002:base", "--sql", cwd=tmp_path)
    assert down.code == 0, down
    assert "DROP TABLE rt2;" in down.out
    assert down.out.rstrip().endswith("COMMIT;")
    assert_clean_error(run_cli("downgrade", "-1", "--sql", cwd=tmp_path), match="needs a range")


def test_offline_sql_refuses_a_revision_that_reads_data(tmp_path: Path) -> None:
    reader = Rev("r002", "r001", upgrade='rows = await op.connection.execute(sa.text("SELECT 1"))')
    make_project(tmp_path, "sqlite+aiosqlite:///x.db", *linear(1), reader)
    result = run_cli("upgrade", "head", "--sql", cwd=tmp_path)
    assert_clean_error(result, match="r002 uses op.connection, which needs a live database")


@pytest.mark.parametrize(
    ("args", "code", "match"),
    [
        (("upgrade", "zzz"), 1, "no revision matches 'zzz'"),
        (("upgrade", "r00"), 1, "'r00' matches 3 revisions: r001, r002, r003"),
        (("upgrade", "+9"), 1, "+9"),
        (("downgrade", "+1"), 1, "+1"),
        (("upgrade", "a:b:c"), 1, "a:b:c"),
        (("downgrade",), 2, "Missing argument"),
        (("upgrade", "--nope"), 2, "No such option"),
    ],
)
def test_bad_targets(
    sqlite_url: str, tmp_path: Path, args: tuple[str, ...], code: int, match: str
) -> None:
    make_project(tmp_path, sqlite_url, *linear(3))
    assert_clean_error(run_cli(*args, cwd=tmp_path), code=code, match=match)


def test_failing_revision_is_one_line(sqlite_url: str, tmp_path: Path) -> None:
    bad = Rev("r002", "r001", upgrade='raise ValueError("no good")', message="explodes")
    make_project(tmp_path, sqlite_url, *linear(1), bad)
    result = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(result, match="r001 -> r002 (explodes) failed: ValueError: no good")
    assert run_cli("current", cwd=tmp_path).out.strip() == "r001"


def test_failing_revision_as_json(db_url: str, tmp_path: Path) -> None:
    """The error's fields: the steps applied, the failed one, whether it is partial."""
    bad = Rev(
        "r002",
        "r001",
        upgrade='await op.execute("CREATE TABLE half (id int)")\nraise ValueError("no good")',
        message="explodes",
    )
    make_project(tmp_path, db_url, *linear(1), bad)
    result = run_cli("--json", "upgrade", cwd=tmp_path)
    assert_clean_error(result, match="r001 -> r002 (explodes) failed: ValueError: no good")
    error = json.loads(result.out)["error"]
    assert (error["type"], error["exit_code"]) == ("MigrationFailed", 1)
    assert error["message"] in result.err
    assert error["hint"] in result.err
    assert [step["revision"] for step in error["applied"]] == ["r001"]
    assert error["failed"]["revision"] == "r002"
    assert error["failed"]["from_revisions"] == ["r001"]
    assert error["partial"] is db_url.startswith("mysql")  # MySQL committed CREATE TABLE


def test_unreachable_server(tmp_path: Path) -> None:
    make_project(tmp_path, "postgresql+asyncpg://app:hunter2@127.0.0.1:1/app", *linear(1))
    result = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(
        result, match="cannot connect to postgresql+asyncpg://app:***@127.0.0.1:1/app"
    )
    assert "hunter2" not in result.output
    as_json = run_cli("--json", "upgrade", cwd=tmp_path)
    assert "hunter2" not in as_json.output
    error = json.loads(as_json.out)["error"]
    assert error["message"].startswith("cannot connect to postgresql+asyncpg://app:***@127.0.0.1")


def test_wrong_password_is_masked(mysql_url: str, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(mysql_url).set(username="root", password="hunter2-wrong")
    make_project(tmp_path, url.render_as_string(hide_password=False), *linear(1))
    result = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(result, match="cannot connect to")
    assert "hunter2" not in result.output
    assert "***" in result.err


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("not a url", "cannot be parsed"),
        ("postgresql+psycopg2://u@h/d", "sync driver 'psycopg2'"),
        ("nosuchdb://u@h/d", "unknown database dialect"),
    ],
)
def test_bad_urls(tmp_path: Path, url: str, match: str) -> None:
    make_project(tmp_path, url, *linear(1))
    assert_clean_error(run_cli("upgrade", cwd=tmp_path), match=match)


def test_driverless_url_gets_the_async_driver(tmp_path: Path) -> None:
    make_project(tmp_path, f"sqlite:///{tmp_path / 'plain.db'}", *linear(1))
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    assert run_cli("current", cwd=tmp_path).out.strip() == "r001 (head)"


def test_lock_timeout_exit_code(sqlite_url: str, tmp_path: Path) -> None:
    import fcntl

    make_project(tmp_path, sqlite_url, *linear(1))
    db = Path(sqlite_url.split("///")[1])
    fd = os.open(db.with_name(db.name + ".amigrate-lock"), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"pid 4242 on testhost")
        result = run_cli("--lock-timeout", "0.3", "upgrade", cwd=tmp_path)
        assert_clean_error(result, code=4, match="could not take the migration lock")
        assert "held by pid 4242 on testhost" in result.err
        as_json = run_cli("--lock-timeout", "0.3", "--json", "upgrade", cwd=tmp_path)
        assert_clean_error(as_json, code=4)
        assert json.loads(as_json.out)["error"]["type"] == "LockTimeout"
    finally:
        os.close(fd)
    assert run_cli("upgrade", cwd=tmp_path).code == 0


def test_unknown_revision_in_the_database(sqlite_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, sqlite_url, *linear(2))
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    (tmp_path / "migrations" / "versions" / "r002.py").unlink()
    result = run_cli("current", cwd=tmp_path)
    # An error (exit 1), not a failed check: exit 3 is --check-heads' answer.
    assert_clean_error(result, code=1, match="at 'r002', which no revision file has")
    assert "r002 (unknown revision: no script has it)" in result.out
    assert "hint: restore the missing file, or repair the version table with 'amigrate " in (
        result.err
    )
    assert "stamp --purge <revision>'" in result.err
    assert_clean_error(run_cli("current", "--check-heads", cwd=tmp_path), code=1, match="r002")
    upgrade = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(upgrade, match="r002")
    assert "stamp --purge" in upgrade.err


def test_version_rows_one_below_another(sqlite_url: str, tmp_path: Path) -> None:
    # current showed both rows and exited 0, while upgrade called the table inconsistent.
    make_project(tmp_path, sqlite_url, *linear(2))
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    path = sqlite_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO amigrate_version VALUES ('r001')")
    result = run_cli("current", cwd=tmp_path)
    assert_clean_error(result, code=1, match="the version table is inconsistent: r001 is below")
    assert "stamp --purge" in result.err
    assert_clean_error(run_cli("upgrade", cwd=tmp_path), match="inconsistent")


def _echo_editor(tmp_path: Path) -> dict[str, str]:
    """An $EDITOR that records the files it is given (and a $VISUAL that must not run)."""
    log = tmp_path / "edited.txt"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    editor.chmod(0o755)
    return {"EDITOR": str(editor), "VISUAL": "false"}


def test_show_and_edit_current_read_the_database(db_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, db_url, *linear(2))
    env = _echo_editor(tmp_path)
    shown = run_cli("show", "current", cwd=tmp_path)
    assert shown.code == 0, shown
    assert shown.out == ""
    assert "current names no revision (the database is at base)" in shown.err
    assert_clean_error(
        run_cli("edit", "current", cwd=tmp_path, env=env),
        match="no revision file is indicated by 'current': the database is at base",
    )
    assert run_cli("upgrade", "r001", cwd=tmp_path).code == 0
    shown = run_cli("show", "current", cwd=tmp_path)
    assert shown.code == 0, shown
    assert shown.out.startswith("Rev: r001\nParent: <base>\n")
    assert json.loads(run_cli("show", "current", "--json", cwd=tmp_path).out)[0]["revision"] == (
        "r001"
    )
    assert run_cli("show", "current+1", cwd=tmp_path).out.startswith("Rev: r002 (head)")
    edited = run_cli("edit", "current", cwd=tmp_path, env=env)
    assert edited.code == 0, edited
    assert (tmp_path / "edited.txt").read_text().strip().endswith("versions/r001.py")


def test_edit_base_and_several_heads(sqlite_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, sqlite_url, Rev("a1", None), Rev("b1", "a1"), Rev("b2", "a1"))
    env = _echo_editor(tmp_path)
    assert_clean_error(
        run_cli("edit", "base", cwd=tmp_path, env=env),
        match="no revision file is indicated by 'base'",
    )
    # like Alembic, 'heads' opens every head's file, one after the other
    assert run_cli("edit", "heads", cwd=tmp_path, env=env).code == 0
    opened = (tmp_path / "edited.txt").read_text().split()
    assert [Path(p).name for p in opened] == ["b1.py", "b2.py"]


def test_sqlalchemy_keys_are_engine_options(db_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, db_url, *linear(1), **{"sqlalchemy.echo": "true"})
    result = run_cli("upgrade", cwd=tmp_path)
    assert result.code == 0, result
    assert "CREATE TABLE rt1" in result.output  # the engine logs its SQL
    current = run_cli("current", cwd=tmp_path)  # not the quick read: it would not echo
    assert current.code == 0, current
    assert "SELECT" in current.output
    assert "r001 (head)" in current.out


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("sqlalchemy.bogus_option", "1", "Invalid argument(s) 'bogus_option'"),
        ("sqlalchemy.echo", "maybe", "String is not true/false: 'maybe'"),
    ],
)
def test_a_bad_engine_option_is_a_clear_error(
    sqlite_url: str, tmp_path: Path, key: str, value: str, match: str
) -> None:
    make_project(tmp_path, sqlite_url, *linear(1), **{key: value})
    result = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(result, match=f"cannot create the engine: {match}")
    assert "hint: check the config's sqlalchemy.* keys" in result.err


def test_offline_sql_is_the_same_bytes_whatever_the_hash_seed(tmp_path: Path) -> None:
    """Siblings of a branchy history come in a stable order, so a reviewed script is the
    one that is applied."""
    make_project(
        tmp_path,
        "sqlite+aiosqlite:///unused.db",
        table_rev("r1", None, "t1"),
        table_rev("r2", "r1", "t2"),
        table_rev("r3", "r1", "t3"),
        Rev("r4", ("r2", "r3")),
        Rev("x1", None, branch_labels=("aux",)),
        Rev("x2", "x1", depends_on=("r3",)),
    )
    scripts = set()
    for seed in ("1", "2", "3"):
        for args in (("upgrade", "heads"), ("downgrade", "heads:base"), ("stamp", "r4", "x2")):
            result = run_cli(
                "--url", "postgresql://app@db/app", *args, "--sql",
                cwd=tmp_path, env={"PYTHONHASHSEED": seed},
            )  # fmt: skip
            assert result.code == 0, result
            scripts.add((args, result.out))
    assert len(scripts) == 3


def test_offline_stamp_purge(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(2))
    result = run_cli("stamp", "r002", "--purge", "--sql", cwd=tmp_path)
    assert result.code == 0, result
    assert "DELETE FROM amigrate_version;" in result.out
    assert result.out.index("DELETE") < result.out.index("INSERT INTO amigrate_version")
    assert "DELETE" not in run_cli("stamp", "r002", "--sql", cwd=tmp_path).out


def test_env_py_is_imported_once_per_command(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(2))
    marker = tmp_path / "imports.txt"
    project.env(
        f"import pathlib\nwith pathlib.Path({str(marker)!r}).open('a') as f:\n    f.write('x')\n"
    )
    for args in (("upgrade", "head"), ("downgrade", "-1"), ("current",), ("upgrade", "--sql")):
        marker.unlink(missing_ok=True)
        result = run_cli(*args, cwd=tmp_path)
        assert result.code == 0, result
        assert marker.read_text() == "x", args
