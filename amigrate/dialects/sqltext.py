"""Find and rename column identifiers in stored SQL (CHECK expressions, CREATE INDEX).

A batch that recreates a SQLite table replays the SQL SQLite stored for its
indexes and check constraints. When the batch renames or drops a column, that
SQL must follow: these helpers tokenize it just enough to tell identifiers from
string literals, so ``'name'`` (a string) is never mistaken for ``name``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "ColumnClauses",
    "column_clauses",
    "identifiers",
    "rename_identifier",
    "split_index_sql",
]

_TOKEN = re.compile(
    r"""
      (?P<string>'(?:[^']|'')*')
    | (?P<dquoted>"(?:[^"]|"")*")
    | (?P<bquoted>`(?:[^`]|``)*`)
    | (?P<bracketed>\[[^\]]*\])
    | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<comment>--[^\n]*|/\*.*?(?:\*/|$))
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokens(sql: str) -> list[tuple[str, str]]:
    return [(m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(sql)]


def _identifier(kind: str, text: str) -> str | None:
    """The identifier a token names (lower-cased: SQLite compares them so), or None."""
    if kind == "word":
        return text.lower()
    if kind == "dquoted":
        return text[1:-1].replace('""', '"').lower()
    if kind == "bquoted":
        return text[1:-1].replace("``", "`").lower()
    if kind == "bracketed":
        return text[1:-1].lower()
    return None


def identifiers(sql: str) -> set[str]:
    """Every identifier (and keyword) in *sql*, lower-cased; string literals excluded."""
    found = set()
    for kind, text in _tokens(sql):
        name = _identifier(kind, text)
        if name is not None:
            found.add(name)
    return found


def rename_identifier(sql: str, old: str, new: str, quote: Callable[[str], str]) -> str:
    """*sql* with each identifier *old* replaced by ``quote(new)``."""
    target = old.lower()
    out = []
    for kind, text in _tokens(sql):
        out.append(quote(new) if _identifier(kind, text) == target else text)
    return "".join(out)


def split_index_sql(sql: str) -> tuple[str, str]:
    """``CREATE INDEX ix ON t (a, b) WHERE ...`` split before the column list's ``(``.

    The head names the index and the table; the rest holds the columns and any
    WHERE clause, the part that refers to columns.
    """
    position = 0
    seen_on = False
    for match in _TOKEN.finditer(sql):
        kind, text = match.lastgroup, match.group()
        if kind == "word" and text.upper() == "ON":
            seen_on = True
        elif seen_on and text == "(":
            position = match.start()
            break
    return sql[:position], sql[position:]


# What starts a table constraint (rather than a column) in a CREATE TABLE body.
_TABLE_CONSTRAINT = {"constraint", "primary", "unique", "check", "foreign"}


@dataclass
class ColumnClauses:
    """What a column's definition in stored ``CREATE TABLE`` SQL says beyond its type.

    SQLAlchemy's SQLite reflection does not read these back.
    """

    name: str
    collation: str | None = None
    autoincrement: bool = False
    unique: bool = False
    unique_name: str | None = None


def _name(kind: str, text: str) -> str | None:
    """The identifier a token names, in its own case."""
    if kind == "word":
        return text
    if kind in ("dquoted", "bquoted"):
        return text[1:-1].replace(text[0] * 2, text[0])
    if kind == "bracketed":
        return text[1:-1]
    if kind == "string":  # SQLite takes 'name' where it expects a name
        return text[1:-1].replace("''", "'")
    return None


def column_clauses(create_sql: str) -> list[ColumnClauses]:
    """The columns of a stored ``CREATE TABLE`` statement, with their COLLATE,
    AUTOINCREMENT and inline UNIQUE clauses (table constraints are skipped)."""
    tokens = [t for t in _tokens(create_sql) if t[0] != "comment" and not t[1].isspace()]
    definitions: list[list[tuple[str, str]]] = []
    depth = 0
    for kind, text in tokens:
        if text == "(" and kind == "other":
            depth += 1
            if depth == 1:
                definitions.append([])
                continue
        elif text == ")" and kind == "other":
            depth -= 1
            if depth == 0:
                break
        if depth == 1 and kind == "other" and text == ",":
            definitions.append([])
        elif depth >= 1:
            definitions[-1].append((kind, text))
    found = []
    for definition in definitions:
        if not definition:
            continue
        kind, text = definition[0]
        name = _name(kind, text)
        if name is None or (kind == "word" and text.lower() in _TABLE_CONSTRAINT):
            continue
        clauses = ColumnClauses(name)
        level = 0
        for i, (kind, text) in enumerate(definition[1:], start=1):
            if kind == "other" and text in "()":
                level += 1 if text == "(" else -1
                continue
            if level or kind != "word":
                continue  # inside a CHECK (...) or DEFAULT (...): not the column's own
            word = text.lower()
            if word == "collate" and i + 1 < len(definition):
                clauses.collation = _name(*definition[i + 1])
            elif word == "autoincrement":
                clauses.autoincrement = True
            elif word == "unique":
                clauses.unique = True
                if i >= 2 and definition[i - 2][1].lower() == "constraint":
                    clauses.unique_name = _name(*definition[i - 1])
        found.append(clauses)
    return found
