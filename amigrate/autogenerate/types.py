"""Whether a column's type or server default differs between the models and the database.

A database reports types in its own words (``INTEGER(11)``, ``TINYINT(1)``,
``DOUBLE PRECISION``, ``LONGTEXT`` for MariaDB's JSON), so both types are
compiled by the database's dialect and compared as words and arguments, with
synonyms per dialect. An argument list that only one side has (``INTEGER``
against ``INTEGER(11)``) is not a difference; arguments both sides give
(``VARCHAR(50)`` against ``VARCHAR(100)``) are.

Server defaults come back as SQL text the database rewrote (``'0'::numeric``,
``current_timestamp()``, ``0.00``); both sides are reduced to a literal (a
string or a number) or a normalised expression before comparing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

__all__ = [
    "TypeWords",
    "default_sql",
    "defaults_differ",
    "normalize_default",
    "type_sql",
    "types_differ",
]

# Words that name the same type, per dialect ("*": every dialect).
_SYNONYMS: dict[str, tuple[frozenset[str], ...]] = {
    "*": (frozenset({"numeric", "decimal"}),),
    "postgresql": (
        frozenset({"float", "double precision", "float8", "double"}),
        frozenset({"real", "float4"}),
    ),
    "mysql": (frozenset({"bool", "boolean", "tinyint"}),),
}
# MariaDB stores JSON as LONGTEXT with a json_valid() check.
_MARIADB_SYNONYMS = (frozenset({"json", "longtext"}),)

_TOKEN = re.compile(r"\([^)]*\)|[\w\-]+")


@dataclass(frozen=True)
class TypeWords:
    """A compiled type split into its words and its argument list."""

    words: tuple[str, ...]
    args: tuple[str, ...] | None

    @property
    def name(self) -> str:
        """All the words: ``timestamp with time zone``."""
        return " ".join(self.words)

    @classmethod
    def parse(cls, sql: str) -> TypeWords:
        """Split ``NUMERIC(8, 2) UNSIGNED`` into words and arguments."""
        words: list[str] = []
        args: tuple[str, ...] | None = None
        for token in _TOKEN.findall(sql.lower()):
            if token.startswith("("):
                if args is None:
                    args = tuple(a.strip() for a in token[1:-1].split(",") if a.strip())
            else:
                words.append(token)
        return cls(tuple(words), args)


def type_sql(type_: TypeEngine[Any], dialect: Dialect) -> str | None:
    """The type as *dialect* writes it in DDL, or None when it cannot be compiled there."""
    try:
        return str(dialect.type_compiler_instance.process(type_))
    except (sa.exc.CompileError, sa.exc.UnsupportedCompilationError, NotImplementedError):
        return None


def _synonyms(dialect: Dialect) -> Sequence[frozenset[str]]:
    family = "mysql" if dialect.name == "mariadb" else dialect.name
    found = list(_SYNONYMS["*"]) + list(_SYNONYMS.get(family, ()))
    if getattr(dialect, "is_mariadb", False) or dialect.name == "mariadb":
        found += _MARIADB_SYNONYMS
    return found


def _collation(t: TypeWords) -> str | None:
    words = t.words
    at = words.index("collate") if "collate" in words else -1
    name = words[at + 1].strip('"`') if 0 <= at < len(words) - 1 else None
    return None if name == "default" else name  # (PostgreSQL's: the type's own)


def _same_name(a: TypeWords, b: TypeWords, dialect: Dialect) -> bool:
    collations = _collation(a), _collation(b)
    if None not in collations and collations[0] != collations[1]:
        return False  # (both say one: MySQL writes it back; a model without one takes any)
    if dialect.name == "postgresql" and collations[0] != collations[1]:
        return False  # PostgreSQL reports a collation only where one was given
    if a.words[:1] == b.words[:1] and len(a.words) != len(b.words):
        return True  # extra words on one side only (CHARACTER SET ..., UNSIGNED)
    if a.words == b.words:
        return True
    for group in _synonyms(dialect):
        if {a.name, b.name} <= group or {a.words[0], b.words[0]} <= group:
            return True
    return False


def types_differ(inspected: TypeEngine[Any], metadata: TypeEngine[Any], dialect: Dialect) -> bool:
    """Whether the database's type and the model's type differ (the default comparison).

    Types that cannot be compared (a ``NullType`` on either side, or one that
    does not compile for this dialect) are never reported.
    """
    if isinstance(inspected, sa.types.NullType) or isinstance(metadata, sa.types.NullType):
        return False
    inspected_sql = type_sql(inspected, dialect)
    metadata_sql = type_sql(metadata, dialect)
    if inspected_sql is None or metadata_sql is None:
        return False
    a, b = TypeWords.parse(inspected_sql), TypeWords.parse(metadata_sql)
    if dialect.name in ("mysql", "mariadb"):
        b = _as_mysql_stores(b)
    elif dialect.name == "postgresql":
        b = _as_postgresql_stores(b)
    if not a.words or not b.words:
        return a != b
    if not _same_name(a, b, dialect):
        return True
    a, b = _with_scale(a), _with_scale(b)
    # Arguments count only where both sides give them (INTEGER vs INTEGER(11) is the same),
    # except PostgreSQL's VARCHAR and NUMERIC, unlimited without them (String(50) ->
    # String() is a change there); MySQL's ENUM and SET arguments are their values,
    # however many.
    if a.args is None or b.args is None:
        return (
            dialect.name == "postgresql"
            and a.name in _UNLIMITED_WITHOUT_ARGS
            and (a.args is None) != (b.args is None)
        )
    if len(a.args) == len(b.args) or a.words[0] in ("enum", "set"):
        return _args(a.args) != _args(b.args)
    return False


#: PostgreSQL types whose length or precision is unlimited when not given.
_UNLIMITED_WITHOUT_ARGS = frozenset({"varchar", "character varying", "numeric", "decimal"})


def _with_scale(words: TypeWords) -> TypeWords:
    """``NUMERIC(10)`` as the ``NUMERIC(10, 0)`` it is (a scale dropped from a model's
    ``Numeric(10, 2)`` was missed: one argument against two)."""
    if words.words[0] in ("numeric", "decimal") and words.args and len(words.args) == 1:
        return TypeWords(words.words, (*words.args, "0"))
    return words


#: MySQL keeps ``BLOB(n)`` / ``TEXT(n)`` as the smallest type that holds n bytes.
_SIZED = ((255, "tiny"), (65_535, ""), (16_777_215, "medium"), (4_294_967_295, "long"))


def _as_mysql_stores(words: TypeWords) -> TypeWords:
    """A model's type as MySQL/MariaDB store it: ``FLOAT(p)`` over 24 is ``DOUBLE``,
    ``BLOB(n)`` and ``TEXT(n)`` the smallest BLOB/TEXT that holds n (else a change is
    found on every run)."""
    if words.words[:1] in (("decimal",), ("numeric",)) and words.args is None:
        return TypeWords(words.words, ("10", "0"))  # what MySQL makes of a bare DECIMAL
    if len(words.words) < 1 or not words.args or not words.args[0].isdigit():
        return words
    name, size = words.words[0], int(words.args[0])
    if name == "float" and 24 < size <= 53:
        return TypeWords(("double", *words.words[1:]), None)
    if name in ("blob", "text"):
        prefix = next((p for limit, p in _SIZED if size <= limit), "long")
        return TypeWords((prefix + name, *words.words[1:]), None)
    return words


def _as_postgresql_stores(words: TypeWords) -> TypeWords:
    """``FLOAT(p)`` as PostgreSQL stores it: REAL up to 24 bits, else DOUBLE PRECISION."""
    if words.words != ("float",) or not words.args or not words.args[0].isdigit():
        return words
    return TypeWords(("real",) if int(words.args[0]) <= 24 else ("double", "precision"), None)


def _args(args: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(a.strip("'\"` ").lower() for a in args)


# -- server defaults ---------------------------------------------------------------------

_CAST = re.compile(r"^(?P<body>.*?)\s*::\s*[\w\s\".]+(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?$", re.S)
_NOW = {"now()", "current_timestamp", "current_timestamp()", "localtimestamp", "getdate()"}
# A string literal's cast inside an expression: 'utc'::text
_INNER_CAST = re.compile(r"('(?:[^']|'')*')::(?:[a-z_][\w ]*?)(?:\(\d+\))?(?=[\s,)]|$)")
_NOW_CALL = re.compile(r"\b(?:current_timestamp|now|localtimestamp)\((\d*)\)")
# A typed literal as a model writes it (interval '30 days'), as PostgreSQL writes it back
# once the inner casts are gone ('30 days').
_TYPED_LITERAL = re.compile(
    r"\b(?:interval|date|time|timestamp|timestamptz)\s+('(?:[^']|'')*')", re.IGNORECASE
)
# PostgreSQL's spellings of a boolean literal.
_TRUE, _FALSE = {"true", "t", "yes", "y", "on"}, {"false", "f", "no", "n", "off"}


def default_sql(default: Any, dialect: Dialect) -> str | None:
    """A model's ``server_default`` as the SQL text it puts in DDL (None: no default).

    A plain string is a literal (quoted); ``text()`` and expressions are
    compiled for *dialect*. ``Identity``, ``Computed`` and ``FetchedValue`` are
    not defaults this compares (None).
    """
    if default is None or not isinstance(default, sa.DefaultClause):
        return None
    arg = default.arg
    if isinstance(arg, str):
        return "'" + arg.replace("'", "''") + "'"
    if isinstance(arg, sa.TextClause):
        return arg.text
    try:
        compiled = arg.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    except sa.exc.SQLAlchemyError:
        return None
    return str(compiled)


def _strip_parens(text: str) -> str:
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, char in enumerate(text):
            depth += char == "("
            depth -= char == ")"
            if depth == 0 and i < len(text) - 1:
                return text  # "(a) + (b)": the outer parentheses are not one group
        text = text[1:-1].strip()
    return text


def normalize_default(sql: str | None, *, textual: bool = False) -> tuple[str, Any] | None:
    """SQL default text reduced for comparing.

    ``'n/a'::character varying`` gives ``("str", "n/a")``, ``0.00`` and ``'0'``
    give ``("num", Decimal(0))``, ``current_timestamp()`` gives
    ``("expr", "current_timestamp")``; no default gives None. A *textual*
    column's (``String``, ``Text``, ...) literals stay text, numbers or not:
    ``'007'`` is not ``'7'`` there.
    """
    if sql is None:
        return None
    text = _strip_parens(_TYPED_LITERAL.sub(r"\1", sql.strip()))
    while match := _CAST.match(text):  # PostgreSQL casts: 'n/a'::character varying
        text = _strip_parens(match["body"].strip())
    if len(text) >= 2 and text[0] == text[-1] == "'" and "'" not in text[1:-1].replace("''", ""):
        literal = text[1:-1].replace("''", "'")
        if textual:
            return ("str", literal)
        if literal.lower() in _TRUE | _FALSE:  # (a Boolean's "false" is stored bare)
            return ("num", Decimal(literal.lower() in _TRUE))
        number = _number(literal)
        return ("num", number) if number is not None else ("str", literal)
    lowered = text.lower()
    if textual and _number(text) is not None:
        return ("str", text)  # a bare number in a text column's DDL stores its digits
    if lowered in ("true", "false"):
        return ("num", Decimal(lowered == "true"))
    number = _number(text)
    if number is not None:
        return ("num", number)
    if lowered == "null":
        return None
    # PostgreSQL writes back the casts of literals inside an expression
    # (timezone('utc'::text, now())); MariaDB writes current_timestamp() everywhere.
    lowered = _INNER_CAST.sub(r"\1", lowered)
    lowered = _TYPED_LITERAL.sub(r"\1", lowered)
    lowered = _NOW_CALL.sub(_now, lowered)
    expr = re.sub(r"\s+", "", lowered).replace('"', "").replace("`", "")
    return ("expr", "current_timestamp" if expr in _NOW else expr)


def _now(match: re.Match[str]) -> str:
    """now(6), current_timestamp(6): the same; without a precision, current_timestamp."""
    return f"current_timestamp({match[1]})" if match[1] else "current_timestamp"


def _number(text: str) -> Decimal | None:
    if not re.fullmatch(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?", text.strip()):
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


def defaults_differ(
    inspected: str | None, metadata_sql: str | None, *, textual: bool = False
) -> bool:
    """Whether the database's default and the model's (both SQL text) differ; *textual*
    for a column of a string type (see :func:`normalize_default`)."""
    return normalize_default(inspected, textual=textual) != normalize_default(
        metadata_sql, textual=textual
    )
