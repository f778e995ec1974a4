"""Autogenerate across databases: a multidb project, and tenant targets."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.helpers import assert_clean_error, run_cli
from tests.integration.test_autogenerate_support import assert_ruff_clean
from tests.projects import make_project

MULTIDB_ENV = """
import sqlalchemy as sa

main = sa.MetaData()
sa.Table("users", main, sa.Column("id", sa.Integer, primary_key=True), sa.Column("e", sa.Text))
analytics = sa.MetaData()
sa.Table("events", analytics, sa.Column("id", sa.Integer, primary_key=True){extra})
target_metadata = {{"main": main, "analytics": analytics}}
"""


def test_multidb_revision_and_check(tmp_path: Path) -> None:
    assert run_cli("init", "-t", "multidb", "migrations", cwd=tmp_path).code == 0
    env = tmp_path / "migrations" / "env.py"
    env.write_text(MULTIDB_ENV.format(extra=""))

    first = run_cli("revision", "--autogenerate", "-m", "first", "--rev-id", "a1", cwd=tmp_path)
    assert first.code == 0, first
    assert "Detected: main: add table 'users'" in first.out
    assert "Detected: analytics: add table 'events'" in first.out
    path = tmp_path / "migrations" / "versions" / "a1_first.py"
    text = path.read_text()
    main_part = text[text.index("async def upgrade_main") : text.index("async def downgrade_main")]
    assert '"users"' in main_part
    assert '"events"' not in main_part
    assert 'await op.drop_table("events")' in text.split("async def downgrade_analytics")[1]
    assert_ruff_clean(path)

    assert run_cli("upgrade", cwd=tmp_path).code == 0
    ok = run_cli("check", cwd=tmp_path)
    assert ok.code == 0, ok

    env.write_text(MULTIDB_ENV.format(extra=', sa.Column("kind", sa.String(20))'))
    differs = run_cli("check", cwd=tmp_path)
    assert_clean_error(differs, code=3, match="differ: 1 change")
    assert differs.out == "analytics: add column 'events.kind'\n"
    document = json.loads(run_cli("check", "--json", cwd=tmp_path).out)
    assert document["error"]["exit_code"] == 3
    as_json = document
    assert as_json["ok"] is False
    assert [(c["database"], c["kind"]) for c in as_json["changes"]] == [("analytics", "add_column")]

    only_main = run_cli("-d", "main", "check", cwd=tmp_path)
    assert only_main.code == 0, only_main

    second = run_cli("revision", "--autogenerate", "-m", "kind", "--rev-id", "b2", cwd=tmp_path)
    assert second.code == 0, second
    text = (tmp_path / "migrations" / "versions" / "b2_kind.py").read_text()
    main_part = text[text.index("async def upgrade_main") : text.index("async def downgrade_main")]
    assert "pass" in main_part
    assert "add_column" in text.split("async def upgrade_analytics")[1]


def test_targets_compare_one_tenant_to_write_and_all_to_check(tmp_path: Path) -> None:
    project = make_project(tmp_path, "sqlite+aiosqlite:///unused.db")
    project.env(
        textwrap.dedent(
            """
            import sqlalchemy as sa

            target_metadata = sa.MetaData()
            sa.Table("t", target_metadata, sa.Column("id", sa.Integer, primary_key=True))
            """
        )
    )
    with project.ini.open("a") as fh:
        fh.write(
            "\n[targets]\n"
            f"acme = sqlite+aiosqlite:///{tmp_path / 'acme.db'}\n"
            f"globex = sqlite+aiosqlite:///{tmp_path / 'globex.db'}\n"
        )
    refused = run_cli("revision", "--autogenerate", "-m", "x", cwd=tmp_path)
    assert_clean_error(refused, match="compares the models with one of them")
    assert "-d NAME" in refused.err

    written = run_cli("-d", "acme", "revision", "--autogenerate", "-m", "t", cwd=tmp_path)
    assert written.code == 0, written
    assert run_cli("-d", "acme", "upgrade", cwd=tmp_path).code == 0
    assert run_cli("-d", "acme", "check", cwd=tmp_path).code == 0
    # globex is behind: check over every target says so.
    behind = run_cli("check", cwd=tmp_path)
    assert_clean_error(behind, match="not at the head")
    assert run_cli("upgrade", cwd=tmp_path).code == 0
    assert run_cli("check", cwd=tmp_path).code == 0
