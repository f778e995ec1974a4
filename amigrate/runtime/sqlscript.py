"""Statements written as a script that the database's own client reads (``--sql``).

psql, the mysql client and the sqlite3 shell split a script into statements at
``;``. The mysql client does not know compound statements: a trigger or procedure
whose ``BEGIN ... END`` body holds ``;`` is sent in pieces unless the script
changes the delimiter around it (``DELIMITER //``), as mysqldump does. A script
also says how its text is encoded, so that a client whose own character set is
another (the MariaDB client's utf8mb3 cannot carry an emoji) reads it right.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Dialect

__all__ = ["script_header", "script_statement"]

# What the mysql client skips over when it looks for the delimiter: strings and quoted
# names (a backslash escapes in strings), and comments ('-- ' needs the blank).
_MYSQL_TOKEN = re.compile(
    r"""
      '(?:[^'\\]|\\.)*'
    | "(?:[^"\\]|\\.)*"
    | `[^`]*`
    | --(?=[ \t\r\n]|$)[^\n]*
    | \#[^\n]*
    | /\*.*?\*/
    | (?P<semicolon>;)
    | [^'"`\-\#/;]+
    | .
    """,
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)
_DELIMITERS = ("//", ";;", "$$")


def script_header(dialect: Dialect) -> str:
    """The statement that declares the script's encoding (UTF-8), or ``""``."""
    if dialect.name in ("mysql", "mariadb"):
        return "SET NAMES utf8mb4;\n\n"
    if dialect.name == "postgresql":
        return "SET client_encoding = 'UTF8';\n\n"
    return ""


def script_statement(text: str, dialect: Dialect) -> str:
    """*text* as one statement of a script, with its terminator."""
    statement = text.strip().rstrip(";").rstrip()
    last_line = statement.rpartition("\n")[2]
    if "--" in last_line or "#" in last_line:
        statement += "\n"  # the terminator must not land inside a line comment
    if dialect.name not in ("mysql", "mariadb") or not _has_semicolon(statement):
        return f"{statement};"
    delimiter = next((d for d in _DELIMITERS if d not in statement), None)
    number = 0
    while delimiter is None:
        number += 1
        delimiter = f"//{number}//" if f"//{number}//" not in statement else None
    return f"DELIMITER {delimiter}\n{statement}{delimiter}\nDELIMITER ;"


def _has_semicolon(statement: str) -> bool:
    """Whether the mysql client would end a statement inside *statement*."""
    return any(m.group("semicolon") for m in _MYSQL_TOKEN.finditer(statement))
