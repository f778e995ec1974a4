"""What the database refuses outside a migration step (a privilege, a missing schema)
is one clear line with a hint, never "unexpected ... report it" or "cannot connect"."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import _admin, run_async
from tests.helpers import assert_clean_error, run_cli
from tests.projects import linear, make_project


@pytest.fixture
def unprivileged_url(postgresql_url: str) -> Iterator[str]:
    """*postgresql_url* as a new role that may connect but owns and is granted nothing."""
    role = f"amigrate_test_{uuid.uuid4().hex[:10]}"
    run_async(lambda: _admin(postgresql_url, f"CREATE ROLE {role} LOGIN PASSWORD 'pw-hidden'"))
    try:
        yield (
            make_url(postgresql_url)
            .set(username=role, password="pw-hidden")
            .render_as_string(hide_password=False)
        )
    finally:
        run_async(lambda: _admin(postgresql_url, f"DROP ROLE {role}"))


def test_a_missing_privilege_is_one_clear_line(
    tmp_path: Path, postgresql_url: str, unprivileged_url: str
) -> None:
    make_project(tmp_path, postgresql_url, *linear(2))
    assert run_cli("upgrade", "+1", cwd=tmp_path).code == 0  # amigrate's tables, owned by postgres
    for command in (("current",), ("upgrade", "--plan"), ("upgrade",), ("log",), ("validate",)):
        result = run_cli("--url", unprivileged_url, *command, cwd=tmp_path)
        assert_clean_error(result, match="refused: permission denied for table amigrate_")
        assert "cannot connect" not in result.err
        assert "report it" not in result.err
        assert "pw-hidden" not in result.output
        assert "hint: check that the database user may read and write amigrate's tables" in (
            result.err
        )


def test_a_missing_version_table_schema(tmp_path: Path, postgresql_url: str) -> None:
    make_project(tmp_path, postgresql_url, *linear(1), version_table_schema="nosuchschema")
    result = run_cli("upgrade", cwd=tmp_path)
    assert_clean_error(result, match='refused: schema "nosuchschema" does not exist')


def test_a_port_that_is_not_a_number(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///unused.db", *linear(1))
    result = run_cli(
        "--url", "postgresql+asyncpg://u:pw@127.0.0.1:port/db", "current", cwd=tmp_path
    )
    assert_clean_error(result, match="cannot be parsed")
    assert "user@host:port/database" in result.err
