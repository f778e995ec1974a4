"""A MySQL/MariaDB column as ``SHOW CREATE TABLE`` writes it, restated with changes.

MySQL changes a column's type, nullability, comment or place only by restating
the whole column (``MODIFY`` / ``CHANGE``), and whatever the statement leaves out
is lost: a collation, ``ON UPDATE``, ``AUTO_INCREMENT``, a generated column's
expression, ``INVISIBLE``, MariaDB's column ``CHECK`` (a JSON column's
``json_valid`` among them). SQLAlchemy's reflection reads back only some of
these, so online the column's definition is read from ``SHOW CREATE TABLE``
(which the server writes so that it runs again), split into its clauses, and
only the clauses an op changes are replaced: the rest is restated word for word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import sqlalchemy as sa

from amigrate.dialects.common import stand_in
from amigrate.dialects.sqltext import create_table_definitions, rename_identifier, tokens

__all__ = ["ColumnDefinition", "parse_column", "read_columns"]

# The words that start a clause of a column definition, and the kind of clause.
_STARTS = {
    "character": "charset",
    "charset": "charset",
    "collate": "collate",
    "not": "null",
    "null": "null",
    "default": "default",
    "on": "on_update",
    "auto_increment": "auto_increment",
    "comment": "comment",
    "generated": "generated",
    "check": "check",
    "constraint": "check",
    "invisible": "other",
    "visible": "other",
    "column_format": "other",
    "storage": "other",
    "srid": "other",
    "primary": "other",
    "unique": "other",
    "key": "other",
    "references": "other",
    "compressed": "other",
    "with": "other",
    "without": "other",
}
# How many tokens a clause always takes, its first word included (DEFAULT NULL,
# NOT NULL, CHARACTER SET x, ON UPDATE f, CONSTRAINT name CHECK): the words
# inside are not the start of another clause.
_TAKES = {
    "default": 2,
    "not": 2,
    "character": 3,
    "charset": 2,
    "collate": 2,
    "comment": 2,
    "on": 2,
    "constraint": 3,
}
_TYPE_ATTRIBUTES = {"unsigned", "signed", "zerofill"}
# Where a clause the definition lacks is put: before the first clause ranked
# after it (MariaDB wants a column's CHECK last, and a generated column's
# expression before its nullability and comment).
_RANK = {
    "charset": 0,
    "collate": 1,
    "generated": 2,
    "null": 3,
    "default": 4,
    "on_update": 5,
    "auto_increment": 6,
    "comment": 7,
    "check": 9,
}
# The words that start a table's own definitions (keys, constraints), not a column.
_TABLE_PARTS = {
    "primary",
    "unique",
    "key",
    "index",
    "fulltext",
    "spatial",
    "constraint",
    "foreign",
    "check",
    "period",
}
_NAMED = ("word", "bquoted", "dquoted")


@dataclass
class ColumnDefinition:
    """A column's definition split into its type and its clauses, in their order.

    ``clauses`` are ``(kind, sql)``: ``charset``, ``collate``, ``null``,
    ``default``, ``on_update``, ``auto_increment``, ``comment``, ``generated``,
    ``check`` or ``other`` (kept as written).
    """

    name: str
    type_sql: str
    clauses: list[tuple[str, str]] = field(default_factory=list)

    def clause(self, kind: str) -> str | None:
        """The SQL of the first clause of *kind*, or None."""
        return next((sql for k, sql in self.clauses if k == kind), None)

    def drop(self, *kinds: str) -> None:
        """Remove every clause of these kinds."""
        self.clauses = [(k, sql) for k, sql in self.clauses if k not in kinds]

    def put(self, kind: str, sql: str) -> None:
        """Replace the clause of *kind*, or add it where MySQL and MariaDB take it."""
        for i, (k, _) in enumerate(self.clauses):
            if k == kind:
                self.clauses[i] = (kind, sql)
                return
        rank = _RANK[kind]
        at = next(
            (i for i, (k, _) in enumerate(self.clauses) if _RANK.get(k, -1) > rank),
            len(self.clauses),
        )
        self.clauses.insert(at, (kind, sql))

    def sql(self) -> str:
        """The definition without the column name, as ``MODIFY`` takes it."""
        return " ".join([self.type_sql, *(sql for _, sql in self.clauses)])

    def changed(
        self,
        *,
        type_sql: str | None = None,
        text: bool = True,
        nullable: bool | None = None,
        default: str | Literal[False] | None = False,
        comment: str | Literal[False] | None = False,
        autoincrement: bool | None = None,
        new_name: str | None = None,
        quote: Callable[[str], str] = str,
    ) -> ColumnDefinition:
        """A copy with these changes (None / False: unchanged) and every other clause kept.

        *type_sql* is the new type as compiled (*text*: whether it holds text, so
        the column's character set and collation stay, unless the new type names
        its own); *default* and *comment* are SQL (None removes them).
        """
        new = replace(self, clauses=list(self.clauses))
        if type_sql is not None:
            new.type_sql = type_sql
            own = re.search(r"\b(CHARACTER SET|CHARSET|COLLATE)\b", type_sql, re.I)
            if not text or own:
                new.drop("charset", "collate")
            # MariaDB writes a JSON column's type as this CHECK; the new type has its own.
            json_check = ["check", "(", "json_valid", "(", self.name.lower(), ")", ")"]
            new.clauses = [
                (k, sql)
                for k, sql in new.clauses
                if not (k == "check" and _words(sql) == json_check)
            ]
        if nullable is not None:
            new.put("null", "NULL" if nullable else "NOT NULL")
            if not nullable and (new.clause("default") or "").upper() == "DEFAULT NULL":
                new.drop("default")  # a NOT NULL column has no default instead
        if default is None:
            new.drop("default")
        elif default is not False:
            new.put("default", f"DEFAULT {default}")
            if "ON UPDATE" in default.upper():
                new.drop("on_update")  # the new default says its own
        if comment is None:
            new.drop("comment")
        elif comment is not False:
            new.put("comment", f"COMMENT {comment}")
        if autoincrement is True:
            new.put("auto_increment", "AUTO_INCREMENT")
        elif autoincrement is False:
            new.drop("auto_increment")
        if new_name is not None:
            new.name = new_name
            new.clauses = [
                (k, rename_identifier(sql, self.name, new_name, quote) if k == "check" else sql)
                for k, sql in new.clauses
            ]
        return new


def _words(sql: str) -> list[str]:
    """*sql*'s tokens lower-cased, quoted names unquoted (a name may hold a blank), to compare."""
    return [
        text[1:-1].replace(text[0] * 2, text[0]).lower() if kind in _NAMED[1:] else text.lower()
        for kind, text in tokens(sql, blanks=False)
    ]


def parse_column(definition: str) -> ColumnDefinition:
    """A column definition as ``SHOW CREATE TABLE`` writes it (name first), split."""
    parts = tokens(definition)
    offsets = [0]
    for _, text in parts:
        offsets.append(offsets[-1] + len(text))
    solid = [i for i, (kind, text) in enumerate(parts) if not text.isspace()]
    kind, text = parts[solid[0]]
    name = text[1:-1].replace(text[0] * 2, text[0]) if kind in ("bquoted", "dquoted") else text
    # The type: a word, its arguments in parentheses, UNSIGNED / ZEROFILL.
    position = 1
    type_start = offsets[solid[position]]
    position += 1
    if position < len(solid) and parts[solid[position]] == ("other", "("):
        depth = 0
        while position < len(solid):
            text = parts[solid[position]][1]
            depth += {"(": 1, ")": -1}.get(text, 0)
            position += 1
            if depth == 0:
                break
    while position < len(solid) and parts[solid[position]][1].lower() in _TYPE_ATTRIBUTES:
        position += 1
    type_end = offsets[solid[position - 1] + 1]
    column = ColumnDefinition(name, definition[type_start:type_end])
    # The clauses: each runs to the next word that starts one, outside parentheses.
    starts: list[tuple[int, str]] = []
    depth = taking = 0
    for index in solid[position:]:
        kind, text = parts[index]
        word = text.lower() if kind == "word" else None
        if depth == 0 and taking == 0 and (kind == "comment" or word in _STARTS or not starts):
            starts.append((index, _STARTS.get(word or "", "other")))
            taking = _TAKES.get(word or "", 1)
        if depth == 0 and taking:
            taking -= 1
        if kind == "other" and text in "()":
            depth += 1 if text == "(" else -1
    bounds = [offsets[i] for i, _ in starts] + [len(definition)]
    column.clauses = [
        (clause_kind, definition[bounds[n] : bounds[n + 1]].strip())
        for n, (_, clause_kind) in enumerate(starts)
    ]
    return column


def read_columns(
    conn: sa.Connection, table_name: str, schema: str | None
) -> list[ColumnDefinition]:
    """The table's columns in their order, as ``SHOW CREATE TABLE`` has them (run_sync)."""
    table = conn.dialect.identifier_preparer.format_table(stand_in(table_name, schema))
    row = conn.exec_driver_sql(f"SHOW CREATE TABLE {table}").one()
    columns = []
    for definition in create_table_definitions(str(row[1])):
        kind, text = tokens(definition, blanks=False)[0]
        if kind in _NAMED and not (kind == "word" and text.lower() in _TABLE_PARTS):
            columns.append(parse_column(definition))
    return columns
