"""What a database refusal outside a step says, and what it hints to do next."""

from __future__ import annotations

import sqlite3

from amigrate.runtime.connect_errors import database_error


class _Refused(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def test_a_privilege_is_the_default_hint() -> None:
    error = database_error(_Refused("permission denied for table amigrate_version", "42501"))
    assert str(error) == "the database refused: permission denied for table amigrate_version"
    assert "may read and write amigrate's tables" in (error.hint or "")


def test_a_lock_or_a_lost_connection_does_not_blame_privileges() -> None:
    """(The privilege hint followed a lock timeout, a deadlock, SQLite's busy timeout.)"""
    for exc in (
        _Refused("canceling statement due to lock timeout", "55P03"),
        _Refused("deadlock detected", "40P01"),
        sqlite3.OperationalError("database is locked"),
        Exception(1205, "Lock wait timeout exceeded; try restarting transaction"),  # (MySQL's)
    ):
        hint = database_error(exc).hint or ""
        assert hint.startswith("another session held a lock amigrate needed"), exc


def test_a_file_that_is_not_a_database() -> None:
    hint = database_error(sqlite3.DatabaseError("file is not a database")).hint or ""
    assert "not a SQLite database" in hint


def test_the_password_is_masked() -> None:
    url = "postgresql+asyncpg://app:s3cret@db/app"
    error = database_error(_Refused("role app with password s3cret refused"), url)
    assert "s3cret" not in str(error)
    assert "app:***@db" in str(error)
