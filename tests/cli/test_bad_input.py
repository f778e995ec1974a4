"""Bad input, through the real command: one clear line, the documented exit code, no
traceback, and the database exactly as it was (schema, version rows, history rows)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.helpers import assert_clean_error, run_cli
from tests.projects import Project, Rev, linear, make_project, render

Setup = Callable[[Project], None]


async def _state(url: str) -> tuple[object, ...]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:

            def schema(sync: sa.Connection) -> dict[str, list[str]]:
                inspector = sa.inspect(sync)
                return {
                    t: [c["name"] for c in inspector.get_columns(t)]
                    for t in inspector.get_table_names()
                }

            tables = await conn.run_sync(schema)
            versions = sorted(
                r[0]
                for r in await conn.execute(sa.text("SELECT version_num FROM amigrate_version"))
            )
            history = (
                await conn.execute(sa.text("SELECT COUNT(*), MAX(id) FROM amigrate_history"))
            ).one()
            return tables, versions, tuple(history)
    finally:
        await engine.dispose()


def state(url: str) -> tuple[object, ...]:
    return asyncio.run(_state(url))


def write(name: str, text: str) -> Setup:
    def setup(p: Project) -> None:
        (p.versions / name).write_text(text)

    return setup


def replace_in(name: str, old: str, new: str) -> Setup:
    def setup(p: Project) -> None:
        path = p.versions / name
        path.write_text(path.read_text().replace(old, new))

    return setup


def config_text(text: str) -> Setup:
    def setup(p: Project) -> None:
        p.ini.write_text(text.replace("URL", p.url))

    return setup


def add_setting(key: str, value: str) -> Setup:
    def setup(p: Project) -> None:
        if key == "sqlalchemy.url":
            p.url = value
        else:
            p.settings[key] = value
        p.write_config()

    return setup


def add(*revs: Rev) -> Setup:
    def setup(p: Project) -> None:
        for rev in revs:
            if rev.message == "copy":  # a second file declaring an existing id
                (p.versions / f"{rev.id}_copy.py").write_text(render(rev))
            else:
                p.add(rev)

    return setup


def versions_folder_is_a_file(p: Project) -> None:
    shutil.rmtree(p.versions)  # with its __pycache__, where Python writes bytecode
    p.versions.write_text("")


def non_utf8(p: Project) -> None:
    (p.versions / "r004.py").write_bytes(
        b'"""caf\xe9"""\nrevision = "r004"\ndown_revision = "r003"\n'
    )


def env_import_error(p: Project) -> None:
    (p.root / "migrations" / "env.py").write_text("import no_such_module_for_env\n")


def alembic_env(p: Project) -> None:
    (p.root / "migrations" / "env.py").write_text(
        "from alembic import context\n\nconfig = context.config\n"
    )


def database_ahead(p: Project) -> None:
    # the version table names a revision no file has
    async def go() -> None:
        engine = create_async_engine(p.url, poolclass=NullPool)
        async with engine.begin() as conn:
            await conn.execute(sa.text("UPDATE amigrate_version SET version_num = 'zz99'"))
        await engine.dispose()

    asyncio.run(go())


def nothing(p: Project) -> None:
    pass


@dataclass(frozen=True)
class Case:
    id: str
    setup: Setup
    args: tuple[str, ...]
    match: str
    code: int = 1


CASES = [
    Case("malformed config", config_text("script_location = x\n"), ("upgrade",), "not a valid ini"),
    Case(
        "missing script_location",
        config_text("[amigrate]\nsqlalchemy.url = URL\n"),
        ("upgrade",),
        "no script_location",
    ),
    Case("missing config file", nothing, ("-c", "nope.ini", "upgrade"), "config file nope.ini"),
    Case("unknown section", nothing, ("-n", "prod", "upgrade"), "no [prod] section"),
    Case(
        "an Alembic ini",
        config_text("[alembic]\nscript_location = migrations\nsqlalchemy.url = URL\n"),
        ("upgrade",),
        "read its [alembic] section with -n alembic",
    ),
    Case(
        "unreadable versions folder",
        versions_folder_is_a_file,
        ("upgrade",),
        "version folder cannot be read",
    ),
    Case("non-UTF-8 revision file", non_utf8, ("upgrade",), "r004.py:1: is not UTF-8 text"),
    Case("bad URL", nothing, ("--url", "::nonsense::", "upgrade"), "cannot be parsed"),
    Case("sync driver", nothing, ("--url", "mysql+pymysql://u@h/d", "upgrade"), "sync driver"),
    Case(
        "unknown driver",  # (it said "the sync driver 'bar'")
        nothing,
        ("--url", "postgresql+bar://u@h/d", "upgrade"),
        "the unknown driver 'bar'; amigrate needs an async driver",
    ),
    Case(
        "unknown dialect with a driver",  # (it said "the sync driver 'bar'" too)
        nothing,
        ("--url", "foo+bar://u@h/d", "upgrade"),
        "unknown database dialect 'foo+bar'",
    ),
    Case(
        "SQLite file in a folder that does not exist",
        nothing,
        ("--url", "sqlite+aiosqlite:////no-such-folder-amigrate/app.db", "upgrade"),
        "the folder /no-such-folder-amigrate does not exist",
    ),
    Case(
        "unreachable server",
        nothing,
        ("--url", "postgresql+asyncpg://u:pw-secret@127.0.0.1:1/d", "upgrade"),
        "cannot connect to postgresql+asyncpg://u:***@127.0.0.1:1/d",
    ),
    Case(
        "missing environment variable",
        add_setting("sqlalchemy.url", "${AMIGRATE_TEST_UNSET_VARIABLE}"),
        ("upgrade",),
        "AMIGRATE_TEST_UNSET_VARIABLE is not set",
    ),
    Case("unknown target", nothing, ("upgrade", "nope"), "no revision matches 'nope'"),
    Case("ambiguous target", nothing, ("upgrade", "r00"), "matches 3 revisions"),
    Case("past the head", nothing, ("upgrade", "+5"), "+5"),
    Case("past the base", nothing, ("downgrade", "-5"), "-5"),
    Case("downgrade +1", nothing, ("downgrade", "+1"), "+1"),
    Case("upgrade -1", nothing, ("upgrade", "-1"), "-1"),
    Case("empty target", nothing, ("upgrade", ""), "empty target"),
    Case("a range as a target", nothing, ("upgrade", "r001:r002"), "is a range"),
    Case(
        "a cycle",
        replace_in("r001.py", "down_revision = None", "down_revision = 'r003'"),
        ("upgrade",),
        "cycle",
    ),
    Case(
        "a duplicate id",
        add(Rev("r002", "r001", message="copy")),
        ("upgrade",),
        "declared in more than one file",
    ),
    Case(
        "a dangling down_revision",
        add(Rev("r004", "gone")),
        ("upgrade",),
        "'gone', which is not a known revision",
    ),
    Case(
        "a duplicate branch label",
        add(Rev("r004", "r003", branch_labels=("x",)), Rev("r005", "r003", branch_labels=("x",))),
        ("upgrade", "r004"),
        "branch label 'x'",
    ),
    Case(
        "several heads",
        add(Rev("r004", "r002"), Rev("r005", "r002")),
        ("upgrade", "head"),
        "'head' is ambiguous",
    ),
    Case(
        "a syntax error in the header",
        write("r004.py", 'revision = "r004\n'),
        ("upgrade",),
        "r004.py:1: syntax error",
    ),
    Case(
        "a syntax error in a body",
        add(Rev("r003", "r002", upgrade="await op.execute((")),
        ("upgrade",),
        "r003.py:",
    ),
    Case(
        "a non-literal identifier",
        write("r004.py", "revision = 'r004'\ndown_revision = x()\n"),
        ("upgrade",),
        "down_revision must be a literal",
    ),
    Case(
        "a revision that raises",
        add(Rev("r003", "r002", upgrade="raise KeyError('boom')")),
        ("upgrade",),
        "r002 -> r003 (r003) failed: KeyError: 'boom'",
    ),
    Case(
        "a sync upgrade",
        add(Rev("r003", "r002", sync=True)),
        ("upgrade",),
        "must be a coroutine function",
    ),
    Case(
        "an unawaited op",
        add(Rev("r003", "r002", upgrade="op.drop_table('rt1')")),
        ("upgrade",),
        "was never awaited",
    ),
    Case(
        "offline with a revision that reads data",
        add(Rev("r004", "r003", upgrade="(await op.execute('SELECT 1')).scalar()")),
        ("upgrade", "r003:r004", "--sql"),
        "the result of a query that reads data",
    ),
    Case(
        "offline downgrade without a range", nothing, ("downgrade", "-1", "--sql"), "needs a range"
    ),
    Case("a database at an unknown revision", database_ahead, ("upgrade",), "zz99"),
    Case("current at an unknown revision", database_ahead, ("current",), "zz99"),
    Case("stamp of an unknown revision", nothing, ("stamp", "nope"), "no revision matches"),
    Case("an import error in env.py", env_import_error, ("upgrade",), "env.py:1: importing it"),
    Case("Alembic's env.py", alembic_env, ("current",), "this is Alembic's env.py"),
    Case(
        "a bad lock_timeout",
        add_setting("lock_timeout", "soon"),
        ("upgrade",),
        "lock_timeout = 'soon' is not a number",
    ),
    Case(
        "a bad validate_on_upgrade",
        add_setting("validate_on_upgrade", "maybe"),
        ("upgrade",),
        "validate_on_upgrade = 'maybe'",
    ),
    Case(
        "a lock_timeout of nan",
        add_setting("lock_timeout", "nan"),
        ("upgrade",),
        "lock_timeout = nan is not a number of seconds",
    ),
    Case("a --lock-timeout of nan", nothing, ("--lock-timeout", "nan", "upgrade"), "nan", code=2),
    Case("a malformed -x", nothing, ("-x", "novalue", "upgrade"), "expected key=value", code=2),
    Case(
        "a negative --lock-timeout",
        nothing,
        ("--lock-timeout", "-1", "upgrade"),
        "--lock-timeout",
        code=2,
    ),
    Case(
        "a negative --concurrency before the target",
        nothing,
        ("upgrade", "--concurrency", "-1", "head"),
        "'--concurrency': -1 is not in the range",
        code=2,
    ),
    Case(
        "Alembic's op.get_bind() in a converted revision",
        replace_in(
            "r003.py", "await op.create_table(", "op.get_bind()\n    await op.create_table("
        ),
        ("upgrade",),
        "op.get_bind is Alembic's; amigrate's op has no get_bind: use 'op.connection'",
    ),
    Case("an unknown option", nothing, ("upgrade", "--fast"), "No such option", code=2),
    Case("an unknown command", nothing, ("migrate",), "No such command", code=2),
    Case("a bad --rev-id", nothing, ("revision", "-m", "x", "--rev-id", "a-b"), "contains '-'"),
    Case("init into a non-empty folder", nothing, ("init", "migrations"), "not empty"),
    Case("an unknown template", nothing, ("init", "other", "-t", "nope"), "no template named"),
]


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, as_json: bool, sqlite_url: str, tmp_path: Path) -> None:
    """Under --json the same failure is also one JSON object on stdout, same exit code."""
    project = make_project(tmp_path, sqlite_url, *linear(3))
    assert run_cli("upgrade", "r002", cwd=tmp_path).code == 0
    case.setup(project)
    before = state(sqlite_url)
    files_before = sorted(p.name for p in tmp_path.iterdir())
    result = run_cli(*(("--json",) if as_json else ()), *case.args, cwd=tmp_path)
    assert_clean_error(result, code=case.code, match=case.match)  # the human line either way
    assert "pw-secret" not in result.output
    assert state(sqlite_url) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files_before
    if as_json:
        error = json.loads(result.out)["error"]
        assert list(error)[:4] == ["type", "message", "hint", "exit_code"]
        assert error["exit_code"] == case.code
        assert error["type"] == "UsageError" if case.code == 2 else error["type"].isidentifier()
        assert case.match in f"{error['message']} {error['hint']}"


@pytest.mark.parametrize(
    ("args", "code", "kind"),
    [
        (("upgrade", "--json", "--fast"), 2, "UsageError"),
        (("upgrade", "9", "--json"), 1, "UnknownRevision"),
        (("history", "-r", "9:", "--json"), 1, "UnknownRevision"),
        (("current", "--json", "--check-heads"), 3, "CheckFailed"),
    ],
)
def test_the_commands_json_flag_gives_json_errors_too(
    args: tuple[str, ...], code: int, kind: str, sqlite_url: str, tmp_path: Path
) -> None:
    """Also when the command's own --json is not parsed yet (a usage error after it)."""
    make_project(tmp_path, sqlite_url, *linear(1))
    result = run_cli(*args, cwd=tmp_path)
    assert_clean_error(result, code=code)
    assert json.loads(result.out)["error"]["type"] == kind


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (
            "result = await op.execute('UPDATE rt1 SET name = 1')\nassert result.rowcount",
            "upgrade r003 -> r004 (r004) cannot be rendered as SQL: AttributeError",
        ),
        ("await op.connection.execute(sa.text('SELECT 1'))", "revision r004 uses op.connection"),
        (
            "print((await op.execute('-- how many\\nSELECT count(*) FROM rt1')).scalar())",
            "the result of a query that reads data",
        ),
    ],
)
def test_offline_sql_that_fails_midway_prints_no_script(
    tmp_path: Path, sqlite_url: str, body: str, match: str
) -> None:
    """A DBA piping --sql to a file must not get the steps before the failure as if
    they were the script: stdout stays empty, the exit code is 1."""
    revs = [*linear(3), Rev("r004", "r003", upgrade=body), Rev("r005", "r004")]
    make_project(tmp_path, sqlite_url, *revs)
    result = run_cli("upgrade", "--sql", cwd=tmp_path)
    assert_clean_error(result, match=match)
    assert result.out == ""
    assert "nothing was printed" in result.err or "needs a live database" in result.err


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_bad_input_on_servers(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The cases whose effect depends on the dialect, on the servers too."""
    url: str = request.getfixturevalue(f"{backend}_url")
    project = make_project(tmp_path, url, *linear(3))
    assert run_cli("upgrade", "r002", cwd=tmp_path).code == 0
    for case in CASES:
        if case.id not in ("a revision that raises", "an unawaited op", "a sync upgrade"):
            continue
        case.setup(project)
        before = state(url)
        result = run_cli(*case.args, cwd=tmp_path)
        assert_clean_error(result, code=case.code, match=case.match)
        after = state(url)
        assert after == before, case.id


def test_wrong_password_never_shows(mysql_url: str, tmp_path: Path) -> None:
    url = sa.make_url(mysql_url).set(password="pw-secret")
    make_project(tmp_path, url.render_as_string(hide_password=False), *linear(1))
    result = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(result, match="cannot connect")
    assert "pw-secret" not in result.output


def test_a_percent_in_the_url_fails_only_where_the_url_is_used(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://app:s3cr%40t@localhost/app"
    project = make_project(tmp_path, url, Rev("a1", None))
    project.ini.write_text(project.ini.read_text().replace("%%", "%"))  # one '%', not '%%'
    assert run_cli("heads", cwd=tmp_path).out.strip() == "a1 (head)"
    assert run_cli("history", cwd=tmp_path).code == 0
    result = run_cli("current", cwd=tmp_path)
    assert_clean_error(result, match="sqlalchemy.url: a '%' that is not followed by '%' or '('")
    assert "s3cr" not in result.output
    assert "40t" not in result.output


def test_a_message_that_reads_json_asks_for_no_json(sqlite_url: str, tmp_path: Path) -> None:
    # "-m --json" is the message; the command line used to be scanned for the word, so
    # that a failure printed a JSON error on stdout nobody asked for.
    make_project(tmp_path, sqlite_url, *linear(1))
    result = run_cli("revision", "-m", "--json", "--rev-id", "r001", cwd=tmp_path)
    assert_clean_error(result, code=1, match="r001")
    assert result.out == ""
    result = run_cli("revision", "-m", "--json", cwd=tmp_path)
    assert result.code == 0, result.err
    assert not result.out.lstrip().startswith("{")
    created = [
        p for p in (tmp_path / "migrations" / "versions").glob("*.py") if p.name != "r001.py"
    ]
    assert len(created) == 1
    assert '"""--json' in created[0].read_text()
    # A usage error after it: the command line is read as click reads it, -m takes the word.
    result = run_cli("revision", "-m", "--json", "--bogus", cwd=tmp_path)
    assert_clean_error(result, code=2, match="No such option '--bogus'")
    assert result.out == ""
    result = run_cli("history", "-ir", "--json", "--bogus", cwd=tmp_path)  # -i, then -r VALUE
    assert_clean_error(result, code=2, match="--bogus")
    assert result.out == ""
    result = run_cli("revision", "-m", "x", "--json", "--bogus", cwd=tmp_path)
    assert result.code == 2
    assert json.loads(result.out)["error"]["type"] == "UsageError"


def test_sys_exit_at_import_time_is_an_error(sqlite_url: str, tmp_path: Path) -> None:
    # It ended the command with its code and nothing said (exit 0: 'upgrade' applied
    # nothing and succeeded), and --json printed no document.
    project = make_project(tmp_path, sqlite_url, *linear(1))
    for where in ("revision", "env.py"):
        if where == "env.py":
            project.env("import sys\nsys.exit(0)\n")
        else:
            path = project.versions / "r001.py"
            path.write_text(path.read_text() + "\nimport sys\nsys.exit(3)\n")
        result = run_cli("upgrade", cwd=tmp_path)
        assert_clean_error(result, match="importing it called sys.exit(")
        document = json.loads(run_cli("--json", "upgrade", cwd=tmp_path).out)
        assert document["error"]["type"] == "ScriptError"


def test_what_a_revision_prints_stays_out_of_the_json(sqlite_url: str, tmp_path: Path) -> None:
    chatty = Rev("r002", "r001", upgrade='print("progress: 50%")', extra='print("imported")')
    make_project(tmp_path, sqlite_url, *linear(1), chatty)
    result = run_cli("--json", "upgrade", cwd=tmp_path)
    assert result.code == 0, result
    assert json.loads(result.out)["to_heads"] == ["r002"]  # stdout: the document alone
    assert "progress: 50%" in result.err
    assert "imported" in result.err
    plain = run_cli("downgrade", "base", cwd=tmp_path)
    assert "imported" in plain.out  # without --json, stdout is the revision's as well


def test_version_as_json(tmp_path: Path) -> None:
    assert run_cli("--version", cwd=tmp_path).out.startswith("amigrate, version ")
    for args in (("--json", "--version"), ("--version", "--json")):
        result = run_cli(*args, cwd=tmp_path)
        assert result.code == 0, result
        assert set(json.loads(result.out)) == {"version"}


def test_a_name_longer_than_the_database_allows_is_the_users_error(
    postgresql_url: str, tmp_path: Path
) -> None:
    make_project(tmp_path, postgresql_url, *linear(1), version_table="v" * 70)
    result = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(result, match="exceeds maximum length of 63 characters")
    assert "unexpected" not in result.err
    assert "hint: shorten the name (version_table" in result.err


def test_an_unclosed_ipv6_bracket_is_a_url_that_cannot_be_parsed(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    for command in ("current", "upgrade"):
        result = run_cli("--url", "mysql+asyncmy://u:pw@[::1:3306/x", command, cwd=tmp_path)
        assert_clean_error(result, match="cannot be parsed")
        assert ":pw@" not in result.output


def test_config_files_as_editors_and_users_leave_them(sqlite_url: str, tmp_path: Path) -> None:
    project = make_project(tmp_path, sqlite_url, *linear(1))
    text = project.ini.read_text()
    project.ini.write_bytes(b"\xef\xbb\xbf" + text.encode())  # a BOM (Notepad's UTF-8)
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    assert_clean_error(run_cli("-c", str(tmp_path), "current"), match="is a folder")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    result = run_cli("-c", str(tmp_path / "pyproject.toml"), "current", cwd=tmp_path)
    assert_clean_error(result, match="no [tool.amigrate] table in")
    # Logging sections Python's fileConfig cannot apply: a config error, not a crash.
    logging = "\n[loggers]\nkeys = root,nosuch\n[handlers]\nkeys =\n[formatters]\nkeys =\n"
    project.ini.write_text(text + logging + "[logger_root]\nhandlers =\n")
    result = run_cli("current", cwd=tmp_path)
    assert_clean_error(result, match="the logging sections of")
    assert "unexpected" not in result.err


def test_a_database_named_twice_is_migrated_once(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    ini = tmp_path / "amigrate.ini"
    ini.write_text(ini.read_text() + f"\n[targets]\nmain = sqlite+aiosqlite:///{tmp_path}/m.db\n")
    result = run_cli("-d", "main", "-d", "main", "upgrade", cwd=tmp_path)
    assert result.code == 0, result
    assert run_cli("-d", "main", "current", cwd=tmp_path).out.strip() == "main: r001 (head)"


def test_help_under_json_is_on_stdout(tmp_path: Path) -> None:
    for args in (("--json", "upgrade", "--help"), ("upgrade", "--json", "-h")):
        result = run_cli(*args, cwd=tmp_path)
        assert result.code == 0, result
        assert "Usage: amigrate upgrade" in result.out


def test_a_config_named_by_amigrate_config_says_so(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    result = run_cli("heads", cwd=tmp_path, env={"AMIGRATE_CONFIG": "/nonexistent/a.ini"})
    assert_clean_error(
        result, match="config file /nonexistent/a.ini not found (named by $AMIGRATE_CONFIG)"
    )
    (tmp_path / "confdir").mkdir()
    result = run_cli("-c", "confdir", "init", "migrations", cwd=tmp_path)
    assert_clean_error(result, match="is a folder")


def test_alembics_raiseerr_shows_the_traceback(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    result = run_cli("--raiseerr", "-n", "prod", "heads", cwd=tmp_path)
    assert result.code == 1
    assert "Traceback" in result.err
