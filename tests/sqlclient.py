"""Apply an offline SQL script (``--sql``) as the native clients would, with the Python drivers.

psql and the mysql client split a script into statements themselves and send them
one at a time (so that ``CREATE INDEX CONCURRENTLY`` runs outside a transaction
unless the script opened one), stopping at the first error with ``psql -v
ON_ERROR_STOP=1`` and ``mysql`` (whose session autocommits, and which reads
``DELIMITER`` lines); SQLite's ``executescript`` reads a script as the sqlite3
shell does. :func:`split_statements` follows the clients' rules for quotes,
comments, dollar quotes and delimiters, so a script that would not run in the
client does not run here either.
"""

from __future__ import annotations

import re
import sqlite3

import anyio
from sqlalchemy.engine import make_url

__all__ = ["apply_script", "split_statements"]

_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_DELIMITER_LINE = re.compile(r"DELIMITER[ \t]+(\S+)[ \t]*(?:\n|\Z)", re.IGNORECASE)


def split_statements(script: str, dialect: str) -> list[str]:
    """The statements of *script* as psql (``postgresql``) or mysql (``mysql``) sends them."""
    mysql = dialect == "mysql"
    statements: list[str] = []
    delimiter = ";"
    current: list[str] = []
    i, n = 0, len(script)
    while i < n:
        if mysql and _only_comments("".join(current), mysql):
            # DELIMITER is a command of the client, read where a statement would start.
            line_start = script.rfind("\n", 0, i) + 1
            found = _DELIMITER_LINE.match(script, i) if not script[line_start:i].strip() else None
            if found:
                delimiter = found.group(1)
                current = []
                i = found.end()
                continue
        if script.startswith(delimiter, i):
            statements.append("".join(current).strip())
            current = []
            i += len(delimiter)
            continue
        end = _skip_quoted(script, i, mysql)
        current.append(script[i:end])
        i = end
    tail = "".join(current).strip()
    if tail and not _only_comments(tail, mysql):
        raise ValueError(f"the script ends inside a statement: {tail[:80]!r}")
    return [s for s in statements if s and not _only_comments(s, mysql)]


def _skip_quoted(script: str, i: int, mysql: bool) -> int:
    """Where the token at *i* ends: a whole string, identifier, comment, or one character."""
    char = script[i]
    if char in "'\"" or (mysql and char == "`"):
        j = i + 1
        while j < len(script):
            if mysql and char != "`" and script[j] == "\\":
                j += 2
                continue
            if script[j] == char:
                if script.startswith(char * 2, j):  # a doubled quote stays inside
                    j += 2
                    continue
                return j + 1
            j += 1
        raise ValueError(f"unterminated quote in the script at {script[i : i + 40]!r}")
    if script.startswith("--", i) and (not mysql or script[i + 2 : i + 3] in (" ", "\t", "\n")):
        return _line_end(script, i)
    if mysql and char == "#":
        return _line_end(script, i)
    if script.startswith("/*", i):
        end = script.find("*/", i + 2)
        if end < 0:
            raise ValueError("unterminated comment in the script")
        return end + 2
    if not mysql and char == "$":
        tag = _DOLLAR_TAG.match(script, i)
        if tag:
            end = script.find(tag.group(0), tag.end())
            if end < 0:
                raise ValueError(f"unterminated {tag.group(0)} quote in the script")
            return end + len(tag.group(0))
    return i + 1


def _line_end(script: str, i: int) -> int:
    end = script.find("\n", i)
    return len(script) if end < 0 else end + 1


def _only_comments(text: str, mysql: bool) -> bool:
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        end = _skip_quoted(text, i, mysql)
        if end == i + 1 or text[i] in "'\"`$":
            return False
        i = end
    return True


async def apply_script(url: str, script: str) -> None:
    """Run *script* on the database at *url* as its native client would; raise on an error."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = parsed.database
        assert path

        def run() -> None:
            conn = sqlite3.connect(path, isolation_level=None)
            try:
                conn.executescript(script)
            finally:
                conn.close()

        await anyio.to_thread.run_sync(run)
    elif backend == "postgresql":
        import asyncpg

        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        pg = await asyncpg.connect(dsn)
        try:
            for statement in split_statements(script, "postgresql"):
                await pg.execute(statement)
        finally:
            await pg.close()
    else:
        import asyncmy

        my = await asyncmy.connect(
            host=parsed.host or "localhost",
            port=parsed.port or 3306,
            user=parsed.username or "root",
            password=parsed.password or "",
            database=parsed.database,
            autocommit=True,  # as the mysql client's session
            # The MariaDB client's default character set (utf8mb3): an emoji gets through
            # only when the script says it is utf8mb4.
            charset="utf8",
        )
        try:
            async with my.cursor() as cursor:
                for statement in split_statements(script, "mysql"):
                    await cursor.execute(statement)
        finally:
            my.close()
