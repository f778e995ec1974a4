"""Type and server default comparison: what each database reports back counts as the same."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect

from amigrate.autogenerate.types import (
    TypeWords,
    default_sql,
    defaults_differ,
    normalize_default,
    types_differ,
)


def dialect(name: str) -> Dialect:
    if name == "mariadb":
        found: Dialect = mysql.dialect()
        found.is_mariadb = True  # type: ignore[attr-defined]
        return found
    module = {"sqlite": sqlite, "postgresql": postgresql, "mysql": mysql}[name]
    made: Dialect = module.dialect()
    return made


SAME = [
    # (dialect, as reflected, the model's type)
    ("postgresql", postgresql.VARCHAR(length=50), sa.String(50)),
    ("postgresql", postgresql.INTEGER(), sa.Integer()),
    ("postgresql", postgresql.DOUBLE_PRECISION(precision=53), sa.Float()),
    ("postgresql", postgresql.TIMESTAMP(timezone=True), sa.DateTime(timezone=True)),
    ("postgresql", postgresql.TIMESTAMP(), sa.DateTime()),
    ("postgresql", postgresql.NUMERIC(precision=8, scale=2), sa.Numeric(8, 2)),
    ("postgresql", postgresql.ENUM("a", "b", name="mood"), sa.Enum("a", "b", name="mood")),
    ("postgresql", postgresql.JSON(), sa.JSON()),
    ("postgresql", postgresql.VARCHAR(), sa.String()),
    ("mariadb", mysql.INTEGER(display_width=11), sa.Integer()),
    ("mariadb", mysql.TINYINT(display_width=1), sa.Boolean()),
    ("mariadb", mysql.DECIMAL(precision=8, scale=2), sa.Numeric(8, 2)),
    ("mariadb", mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin"), sa.JSON()),
    ("mariadb", mysql.VARCHAR(length=20), sa.String(20)),
    ("mariadb", mysql.ENUM("a", "b"), sa.Enum("a", "b", name="e")),
    ("mariadb", mysql.BIGINT(display_width=20), sa.BigInteger()),
    # What MySQL stores for a size it rounds up (found as a change on every run before).
    ("mariadb", mysql.DOUBLE(), sa.Float(precision=53)),
    ("postgresql", postgresql.REAL(), sa.Float(precision=10)),
    ("postgresql", postgresql.DOUBLE_PRECISION(), sa.Float(precision=53)),
    ("postgresql", postgresql.DOUBLE_PRECISION(), sa.Float()),
    ("mariadb", mysql.MEDIUMBLOB(), sa.LargeBinary(100_000)),
    ("mariadb", mysql.MEDIUMTEXT(), sa.Text(100_000)),
    ("mysql", mysql.TINYTEXT(), sa.Text(200)),
    (  # MySQL writes the collation back; a model without one takes the table's
        "mariadb",
        mysql.VARCHAR(50, charset="utf8mb4", collation="utf8mb4_bin"),
        sa.String(50),
    ),
    (
        "mariadb",
        mysql.VARCHAR(50, charset="utf8mb4", collation="utf8mb4_bin"),
        sa.String(50, collation="utf8mb4_bin"),
    ),
    ("mysql", mysql.BLOB(), sa.LargeBinary(65_535)),
    ("sqlite", sqlite.VARCHAR(length=5), sa.Enum("small", "large", name="e")),
    ("sqlite", sqlite.CHAR(length=32), sa.Uuid()),
    ("sqlite", sqlite.DATETIME(), sa.DateTime(timezone=True)),  # type: ignore[no-untyped-call]
    ("sqlite", sa.types.NullType(), sa.Integer()),  # unknown: never reported
    ("postgresql", postgresql.NUMERIC(precision=10, scale=0), sa.Numeric(10)),
    ("mariadb", mysql.DECIMAL(precision=10, scale=0), sa.Numeric(10)),
    ("mariadb", mysql.DECIMAL(precision=10, scale=0), sa.Numeric()),  # MySQL's default
    ("postgresql", postgresql.NUMERIC(), sa.Numeric()),
    ("postgresql", postgresql.CHAR(length=1), sa.CHAR()),  # CHAR is CHAR(1)
    ("postgresql", postgresql.TIMESTAMP(precision=6), sa.DateTime()),
    ("postgresql", postgresql.VARCHAR(10, collation="C"), sa.String(10, collation="C")),
    ("postgresql", postgresql.VARCHAR(10), sa.String(10, collation="default")),
]

DIFFERENT = [
    ("postgresql", postgresql.VARCHAR(length=50), sa.String(100)),
    ("postgresql", postgresql.INTEGER(), sa.BigInteger()),
    ("postgresql", postgresql.TIMESTAMP(), sa.DateTime(timezone=True)),
    ("postgresql", postgresql.JSON(), postgresql.JSONB()),
    ("postgresql", postgresql.NUMERIC(precision=8, scale=2), sa.Numeric(10, 2)),
    ("postgresql", postgresql.ENUM("a", name="mood"), sa.Enum("a", name="feeling")),
    ("mariadb", mysql.ENUM("a", "b"), sa.Enum("a", "c", name="e")),
    ("mariadb", mysql.ENUM("a", "b"), sa.Enum("a", "b", "c", name="e")),  # a value added
    ("mariadb", mysql.SET("a", "b", "c"), mysql.SET("a", "b")),
    ("mariadb", mysql.VARCHAR(length=20), sa.Text()),
    ("mariadb", mysql.BLOB(), sa.LargeBinary(100_000)),  # a bigger size: a real change
    ("postgresql", postgresql.DOUBLE_PRECISION(), sa.Float(precision=10)),  # REAL now
    ("mariadb", mysql.FLOAT(), sa.Float(precision=53)),
    ("mysql", mysql.JSON(), sa.Text()),
    ("sqlite", sqlite.INTEGER(), sa.String(10)),
    # (These were missed: a collation on one side only, an argument list on one side only.)
    ("postgresql", postgresql.VARCHAR(10), sa.String(10, collation="C")),
    ("postgresql", postgresql.TEXT(collation="POSIX"), sa.Text()),
    ("postgresql", postgresql.NUMERIC(precision=10, scale=2), sa.Numeric(10)),
    ("mariadb", mysql.DECIMAL(precision=10, scale=2), sa.Numeric(10)),
    ("sqlite", sqlite.NUMERIC(precision=10, scale=2), sa.Numeric(10)),
    ("postgresql", postgresql.VARCHAR(length=50), sa.String()),
    ("postgresql", postgresql.VARCHAR(), sa.String(50)),
    ("postgresql", postgresql.NUMERIC(precision=10, scale=2), sa.Numeric()),
    ("mariadb", mysql.DECIMAL(precision=8, scale=2), sa.Numeric()),  # DECIMAL(10, 0) there
    (  # a collation changed (it was missed: "extra words on one side")
        "mariadb",
        mysql.VARCHAR(50, charset="utf8mb4", collation="utf8mb4_bin"),
        sa.String(50, collation="utf8mb4_general_ci"),
    ),
]


@pytest.mark.parametrize(("name", "inspected", "model"), SAME)
def test_the_same_type_in_the_database_s_words(
    name: str, inspected: sa.types.TypeEngine[Any], model: sa.types.TypeEngine[Any]
) -> None:
    assert not types_differ(inspected, model, dialect(name))


@pytest.mark.parametrize(("name", "inspected", "model"), DIFFERENT)
def test_a_different_type(
    name: str, inspected: sa.types.TypeEngine[Any], model: sa.types.TypeEngine[Any]
) -> None:
    assert types_differ(inspected, model, dialect(name))


def test_a_type_the_dialect_cannot_compile_is_not_compared() -> None:
    assert not types_differ(mysql.VARCHAR(length=20), sa.String(), dialect("mysql"))


def test_type_words() -> None:
    words = TypeWords.parse("NUMERIC(8, 2) UNSIGNED")
    assert words == TypeWords(("numeric", "unsigned"), ("8", "2"))
    assert TypeWords.parse("TIMESTAMP WITH TIME ZONE").name == "timestamp with time zone"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("'n/a'::character varying", ("str", "n/a")),
        ("'it''s'", ("str", "it's")),
        ("'0'::numeric", ("num", 0)),
        ("0.00", ("num", 0)),
        ("(1)", ("num", 1)),
        ("true", ("num", 1)),
        ("now()", ("expr", "current_timestamp")),
        ("current_timestamp()", ("expr", "current_timestamp")),
        ("CURRENT_TIMESTAMP", ("expr", "current_timestamp")),
        ("('now'::text)::date", ("str", "now")),
        ("lower( name )", ("expr", "lower(name)")),
        ("(a) + (b)", ("expr", "(a)+(b)")),
        ("NULL", None),
        (None, None),
    ],
)
def test_normalize_default(sql: str | None, expected: Any) -> None:
    assert normalize_default(sql) == expected


def test_model_defaults_as_sql() -> None:
    pg = dialect("postgresql")
    assert default_sql(sa.DefaultClause("it's"), pg) == "'it''s'"
    assert default_sql(sa.DefaultClause(sa.text("now()")), pg) == "now()"
    assert default_sql(sa.DefaultClause(sa.func.now()), pg) == "now()"
    assert default_sql(sa.DefaultClause(sa.true()), dialect("sqlite")) == "1"
    assert default_sql(sa.Identity(), pg) is None
    assert default_sql(None, pg) is None


@pytest.mark.parametrize(
    ("inspected", "model", "differ"),
    [
        ("'0'::numeric", "'0'", False),
        ("0.00", "'0'", False),
        ("'n/a'::character varying", "'n/a'", False),
        ("'n/a'", "'N/A'", True),
        ("current_timestamp()", "now()", False),
        ("1", "true", False),
        (None, "'x'", True),
        ("'x'", None, True),
        (None, None, False),
        # As the servers write them back (they were reported on every run):
        ("timezone('utc'::text, now())", "timezone('utc', now())", False),  # PostgreSQL
        ("upper('abc'::text)", "upper('abc')", False),
        ("upper('abd'::text)", "upper('abc')", True),
        ("false", "'false'", False),  # Boolean(server_default="false")
        ("'a'::text || 'b'::text", "'a' || 'b'", False),
        (  # MariaDB
            "current_timestamp() ON UPDATE current_timestamp()",
            "CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP",
            False,
        ),
        ("current_timestamp(6)", "now(6)", False),  # MariaDB, func.now(6)
        ("current_timestamp(6)", "now(3)", True),
        ("(now() + '30 days'::interval)", "now() + interval '30 days'", False),  # PostgreSQL
        ("(now() + '30 days'::interval)", "now() + interval '31 days'", True),
        ("'30 days'::interval", "interval '30 days'", False),
        ("'30 days'::interval", "INTERVAL '31 days'", True),
        ("true", "'t'", False),  # PostgreSQL's spellings of a boolean
        ("false", "'off'", False),
        ("false", "'yes'", True),
    ],
)
def test_defaults_differ(inspected: str | None, model: str | None, differ: bool) -> None:
    assert defaults_differ(inspected, model) is differ


@pytest.mark.parametrize(
    ("inspected", "model", "differ"),
    [
        ("'007'::character varying", "'7'", True),  # PostgreSQL
        ("'007'", "'007'", False),
        ("'1.0'", "'1'", True),
        ("'7'::character varying", "7", False),  # server_default=sa.text("7")
        ("'true'", "'1'", True),
        ("'n/a'::character varying", "'n/a'", False),
        ("now()", "CURRENT_TIMESTAMP", False),
    ],
)
def test_a_text_columns_defaults_are_text(inspected: str, model: str, differ: bool) -> None:
    """Numbers in a text column are compared as the text they store (they were compared as
    numbers: a change from '007' to '7' went unnoticed)."""
    assert defaults_differ(inspected, model, textual=True) is differ
