"""Find and rename column identifiers in stored SQL (CHECK expressions, CREATE INDEX).

A batch that recreates a SQLite table replays the SQL SQLite stored for its
indexes and check constraints. When the batch renames or drops a column, that
SQL must follow: these helpers tokenize it just enough to tell identifiers from
string literals, so ``'name'`` (a string) is never mistaken for ``name``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["identifiers", "rename_identifier", "split_index_sql"]

_TOKEN = re.compile(
    r"""
      (?P<string>'(?:[^']|'')*')
    | (?P<dquoted>"(?:[^"]|"")*")
    | (?P<bquoted>`(?:[^`]|``)*`)
    | (?P<bracketed>\[[^\]]*\])
    | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
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
