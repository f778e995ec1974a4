"""How offline statements are written for the database's own client (no database)."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import mysql, postgresql, sqlite

from amigrate.runtime.sqlscript import script_header, script_statement
from tests.sqlclient import split_statements

MYSQL = mysql.dialect()
POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("UPDATE t SET a = 1", "UPDATE t SET a = 1;"),
        ("UPDATE t SET a = 1;  \n", "UPDATE t SET a = 1;"),
        ("UPDATE t SET a = 1 -- why;", "UPDATE t SET a = 1 -- why\n;"),
        ("SELECT 1 # why", "SELECT 1 # why\n;"),
        ("INSERT INTO t VALUES ('a;b', \"c;d\", 'e\\';f', `g;h`)", None),
        ("/* a; b */ UPDATE t SET a = 1", None),
        (  # MySQL's -- starts a comment only before a blank
            "UPDATE t SET a = 1 --x; -- a comment",
            "DELIMITER //\nUPDATE t SET a = 1 --x; -- a comment\n//\nDELIMITER ;",
        ),
        ("CREATE TRIGGER t BEFORE INSERT ON u FOR EACH ROW BEGIN SET a = 1; END", "DELIMITER //"),
        ("BEGIN SET @a = '//'; END", "DELIMITER ;;"),
    ],
)
def test_mysql_statements(text: str, expected: str | None) -> None:
    rendered = script_statement(text, MYSQL)
    if expected is None:  # as it was, terminated
        assert rendered == text + ";"
    elif expected.startswith("DELIMITER") and expected.count("\n") == 0:
        delimiter = expected.split()[1]
        assert rendered == f"{expected}\n{text}{delimiter}\nDELIMITER ;"
    else:
        assert rendered == expected
    # The mysql client reads it back as the one statement.
    assert split_statements(rendered, "mysql") == [text.strip().rstrip(";").strip()]


def test_other_databases_need_no_delimiter() -> None:
    body = "CREATE TRIGGER t AFTER INSERT ON u BEGIN UPDATE u SET a = 1; END"
    assert script_statement(body, sqlite.dialect()) == body + ";"
    assert script_statement(body, POSTGRESQL) == body + ";"


def test_headers() -> None:
    assert script_header(MYSQL) == "SET NAMES utf8mb4;\n\n"
    assert script_header(POSTGRESQL) == "SET client_encoding = 'UTF8';\n\n"
    assert script_header(sqlite.dialect()) == ""
