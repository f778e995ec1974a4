"""Find and rename column identifiers in stored SQL (CHECK expressions, CREATE INDEX).

A batch that recreates a SQLite table replays the SQL SQLite stored for its
indexes and check constraints. When the batch renames or drops a column, that
SQL must follow: these helpers tokenize it just enough to tell identifiers from
string literals, so ``'name'`` (a string) is never mistaken for ``name``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ColumnClauses",
    "ConstraintClauses",
    "TableClauses",
    "Token",
    "create_table_definitions",
    "identifiers",
    "in_schema",
    "rename_identifier",
    "split_index_sql",
    "table_clauses",
    "tokens",
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


def _names(sql: str) -> list[tuple[str, str, str | None]]:
    """*sql*'s tokens, each with the identifier it names: None for a string, a symbol, a
    comment, and for a function's name (a bare word before ``(``: ``date(created)``
    calls ``date``, whatever column is called so)."""
    found = _tokens(sql)
    named: list[tuple[str, str, str | None]] = []
    for i, (kind, text) in enumerate(found):
        name = _identifier(kind, text)
        if kind == "word" and _next_symbol(found, i + 1) == "(":
            name = None
        named.append((kind, text, name))
    return named


def _next_symbol(found: list[tuple[str, str]], start: int) -> str | None:
    for kind, text in found[start:]:
        if kind == "comment" or text.isspace():
            continue
        return text
    return None


def identifiers(sql: str) -> set[str]:
    """Every identifier (and keyword) in *sql*, lower-cased; string literals and the
    names of functions called excluded."""
    return {name for _, _, name in _names(sql) if name is not None}


def rename_identifier(sql: str, old: str, new: str, quote: Callable[[str], str]) -> str:
    """*sql* with each identifier *old* replaced by ``quote(new)`` (a function of that
    name keeps its name)."""
    target = old.lower()
    return "".join(quote(new) if name == target else text for _, text, name in _names(sql))


def in_schema(create_sql: str, schema: str) -> str:
    """A ``CREATE INDEX`` / ``CREATE TRIGGER`` that SQLite stored (without the schema it
    is in) made in *schema* (quoted) again: its name qualified, ``CREATE INDEX
    other.ix ON t (a)``. Replayed bare, it would be made in ``main``, on a table of
    the same name there."""
    found = _tokens(create_sql)
    seen_kind = False
    for i, (kind, text) in enumerate(found):
        if kind == "comment" or text.isspace():
            continue
        word = text.upper() if kind == "word" else None
        if not seen_kind:
            seen_kind = word in ("INDEX", "TRIGGER")
            continue
        if word in ("IF", "NOT", "EXISTS"):
            continue
        head = "".join(t for _, t in found[:i])
        return f"{head}{schema}.{''.join(t for _, t in found[i:])}"
    return create_sql


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
# The column constraints an ON CONFLICT clause can follow.
_CONFLICT_TARGETS = {"not": "not_null", "primary": "primary_key", "unique": "unique"}

Token = tuple[str, str]


@dataclass
class ColumnClauses:
    """What a column's definition in stored ``CREATE TABLE`` SQL says beyond its type.

    SQLAlchemy's SQLite reflection does not read these back. ``on_conflict``
    maps ``not_null``, ``primary_key`` and ``unique`` to the ``ON CONFLICT``
    resolution written after that constraint (``REPLACE``, ``IGNORE``...).
    """

    name: str
    collation: str | None = None
    autoincrement: bool = False
    unique: bool = False
    unique_name: str | None = None
    on_conflict: dict[str, str] = field(default_factory=dict)
    #: A generated column's expression, as written (``[GENERATED ALWAYS] AS (...)``).
    generated: str | None = None
    #: What an inline ``REFERENCES`` clause says beyond its target: ``ondelete``,
    #: ``onupdate`` (``CASCADE``, ``SET NULL``...), ``deferrable`` (``True``/``False``)
    #: and ``initially`` (``DEFERRED``/``IMMEDIATE``), as SQLAlchemy names them.
    references: dict[str, Any] | None = None


@dataclass
class ConstraintClauses:
    """A table's own ``PRIMARY KEY (...)`` or ``UNIQUE (...)`` in stored SQL.

    ``columns`` holds None for an element that is not a plain column name;
    ``collated`` says an element has a ``COLLATE`` of its own.
    """

    kind: str  # "primary" or "unique"
    name: str | None
    columns: list[str | None]
    collated: bool = False
    on_conflict: str | None = None


@dataclass
class TableClauses:
    """What stored ``CREATE TABLE`` SQL says that reflection does not read back."""

    columns: list[ColumnClauses]
    constraints: list[ConstraintClauses]


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


def create_table_definitions(create_sql: str) -> list[str]:
    """The text of each comma-separated definition (a column or a table constraint)
    in a ``CREATE TABLE`` statement's parentheses, comments kept."""
    found: list[list[str]] = []
    depth = 0
    for kind, text in _tokens(create_sql):
        if kind == "other" and text == "(":
            depth += 1
            if depth == 1:
                found.append([])
                continue
        elif kind == "other" and text == ")":
            depth -= 1
            if depth == 0:
                break
        if depth == 1 and kind == "other" and text == ",":
            found.append([])
        elif depth >= 1:
            found[-1].append(text)
    return [text for text in ("".join(parts).strip() for parts in found) if text]


def tokens(sql: str, *, blanks: bool = True) -> list[Token]:
    """*sql* as ``(kind, text)`` tokens: ``string``, ``dquoted``, ``bquoted``,
    ``bracketed``, ``word``, ``comment``, or ``other`` (one character); without
    *blanks*, whitespace is left out."""
    return [t for t in _tokens(sql) if blanks or not t[1].isspace()]


def _word(token: Token) -> str | None:
    return token[1].lower() if token[0] == "word" else None


def _on_conflict(definition: list[Token], i: int) -> str | None:
    """The resolution of ``ON CONFLICT <resolution>`` starting at *definition[i]*."""
    if (
        _word(definition[i]) == "on"
        and i + 2 < len(definition)
        and _word(definition[i + 1]) == "conflict"
    ):
        return definition[i + 2][1].upper()
    return None


def _column(definition: list[Token], name: str) -> ColumnClauses:
    clauses = ColumnClauses(name)
    level = 0
    target: str | None = None  # the constraint an ON CONFLICT would belong to
    for i, (kind, text) in enumerate(definition[1:], start=1):
        if kind == "other" and text in "()":
            level += 1 if text == "(" else -1
            continue
        if level or kind != "word":
            continue  # inside a CHECK (...) or DEFAULT (...): not the column's own
        word = text.lower()
        resolution = _on_conflict(definition, i)
        if resolution is not None:
            if target is not None:
                clauses.on_conflict[target] = resolution
            continue
        if word in _CONFLICT_TARGETS:
            target = _CONFLICT_TARGETS[word]
        elif word in ("check", "default", "collate", "references", "generated", "as"):
            target = None
        if word == "references":
            clauses.references = _reference_options(definition, i + 1)
            if i >= 2 and _word(definition[i - 2]) == "constraint":  # CONSTRAINT fk REFERENCES
                clauses.references["name"] = _name(*definition[i - 1])
        elif word == "collate" and i + 1 < len(definition):
            clauses.collation = _name(*definition[i + 1])
        elif word == "autoincrement":
            clauses.autoincrement = True
        elif word == "unique":
            clauses.unique = True
            if i >= 2 and _word(definition[i - 2]) == "constraint":
                clauses.unique_name = _name(*definition[i - 1])
    return clauses


_OTHER_COLUMN_CONSTRAINT = {"constraint", "primary", "unique", "check", "default", "collate"}
_OTHER_COLUMN_CONSTRAINT |= {"generated", "as", "null"}


def _reference_options(definition: list[Token], start: int) -> dict[str, Any]:
    """``ON DELETE``/``ON UPDATE`` actions and deferrability after a column's
    ``REFERENCES table (column)``, read up to the column's next constraint."""
    options: dict[str, Any] = {}
    words = [_word(t) for t in definition]
    level = 0
    i = start
    while i < len(definition):
        kind, text = definition[i]
        if kind == "other" and text in "()":
            level += 1 if text == "(" else -1
        elif not level:
            word, after = words[i], words[i + 1 : i + 4] + [None] * 3
            if word in _OTHER_COLUMN_CONSTRAINT or (word == "not" and after[0] == "null"):
                break
            if word == "on" and after[0] in ("delete", "update"):
                if after[1] in ("set", "no") and after[2] is not None:
                    action, i = f"{after[1]} {after[2]}", i + 3
                else:
                    action, i = str(after[1]), i + 2
                options["on" + str(after[0])] = action.upper()
            elif word == "not" and after[0] == "deferrable":
                options["deferrable"], i = False, i + 1
            elif word == "deferrable":
                options["deferrable"] = True
            elif word == "initially" and after[0] is not None:
                options["initially"], i = after[0].upper(), i + 1
        i += 1
    return options


def _key_constraint(definition: list[Token]) -> ConstraintClauses | None:
    """A table's PRIMARY KEY or UNIQUE constraint; None for CHECK and FOREIGN KEY."""
    name = None
    rest = definition
    if _word(rest[0]) == "constraint" and len(rest) > 2:
        name, rest = _name(*rest[1]), rest[2:]
    kind = {"primary": "primary", "unique": "unique"}.get(_word(rest[0]) or "")
    if kind is None:
        return None
    start = next((i for i, t in enumerate(rest) if t == ("other", "(")), None)
    if start is None:
        return None
    found = ConstraintClauses(kind, name, [])
    element: list[Token] = []
    level = 0
    end = len(rest)
    for i, token in enumerate(rest[start + 1 :], start=start + 1):
        if token[0] == "other" and token[1] in "(),":
            if token[1] == "(":
                level += 1
            elif token[1] == ")" and level:
                level -= 1
            elif not level:
                found.columns.append(_element_column(element, found))
                element = []
                if token[1] == ")":
                    end = i + 1
                    break
                continue
        element.append(token)
    for i in range(end, len(rest)):
        resolution = _on_conflict(rest, i)
        if resolution is not None:
            found.on_conflict = resolution
    return found


def _element_column(element: list[Token], found: ConstraintClauses) -> str | None:
    """The column an element of a key's column list names: ``name [COLLATE c] [ASC|DESC]``
    (None for an expression)."""
    if any(_word(t) == "collate" for t in element):
        found.collated = True
    if not element or element[0][0] not in ("word", "dquoted", "bquoted", "bracketed"):
        return None
    rest = [_word(t) for t in element[1:]]
    if rest[:1] == ["collate"]:
        rest = rest[2:]
    if rest[:1] in (["asc"], ["desc"]):
        rest = rest[1:]
    return None if rest else _name(*element[0])


def table_clauses(create_sql: str) -> TableClauses:
    """The columns of a stored ``CREATE TABLE`` statement, with their COLLATE,
    AUTOINCREMENT, inline UNIQUE and ON CONFLICT clauses, and its PRIMARY KEY and
    UNIQUE table constraints (CHECK and FOREIGN KEY ones are skipped)."""
    found = TableClauses([], [])
    for written in create_table_definitions(create_sql):
        definition = [t for t in tokens(written, blanks=False) if t[0] != "comment"]
        if not definition:
            continue
        kind, text = definition[0]
        if kind == "word" and text.lower() in _TABLE_CONSTRAINT:
            constraint = _key_constraint(definition)
            if constraint is not None:
                found.constraints.append(constraint)
            continue
        name = _name(kind, text)
        if name is not None:
            column = _column(definition, name)
            column.generated = _generated(written)
            found.columns.append(column)
    return found


def _generated(definition: str) -> str | None:
    """The expression of ``AS (...)`` in a column definition, as written, if any."""
    parts = [t for t in tokens(definition) if t[0] != "comment"]
    level, start, previous = 0, None, None
    for i, (kind, text) in enumerate(parts):
        if kind == "other" and text == "(":
            level += 1
            if level == 1 and start is None and previous is not None and _word(previous) == "as":
                start = i + 1
        elif kind == "other" and text == ")":
            level -= 1
            if level == 0 and start is not None:
                return "".join(t for _, t in parts[start:i]).strip()
        if not text.isspace():
            previous = (kind, text)
    return None
