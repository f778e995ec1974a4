"""CREATE INDEX on plain column names is rendered without a stand-in Table: it must be
exactly what SQLAlchemy's CreateIndex renders, on every dialect, for any name."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex

from amigrate.dialects import compile_op
from amigrate.dialects.ddl import CreatePlainIndex
from amigrate.operations.ops import CreateIndexOp
from tests.unit.dialects.test_compile import DIALECTS as FACTORIES

DIALECTS = {name: factory() for name, factory in FACTORIES.items()}

NAMES = [
    "ix_t_name",
    "select",  # reserved word
    "MixedCase",
    "with space",
    "per%cent",
    'quote"d',
    "back`tick",
    "ünïcode",
    "x" * 63,  # PostgreSQL's longest
    sa.sql.elements.quoted_name("forced", quote=True),
    sa.sql.elements.conv("ix_" + "y" * 80),  # a final name: truncated, not refused
]


def _both(dialect: Dialect, op: CreateIndexOp) -> tuple[str, str]:
    """What amigrate compiles for *op*, and what SQLAlchemy's CreateIndex renders."""
    (statement,) = compile_op(op, dialect).statements
    assert isinstance(statement, sa.sql.ClauseElement)
    expected = CreateIndex(op.to_index(), if_not_exists=op.if_not_exists)
    return str(statement.compile(dialect=dialect)), str(expected.compile(dialect=dialect))


@pytest.mark.parametrize("dialect_name", DIALECTS)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("schema", [None, "Other Schema"])
@pytest.mark.parametrize(("unique", "if_not_exists"), [(False, False), (True, True)])
def test_the_same_sql_as_sqlalchemy(
    dialect_name: str, name: str, schema: str | None, unique: bool, if_not_exists: bool
) -> None:
    op = CreateIndexOp(
        name,
        "Table",
        ("id", "order", "Mixed Col"),
        schema=schema,
        unique=unique,
        if_not_exists=if_not_exists,
    )
    ours, theirs = _both(DIALECTS[dialect_name], op)
    assert ours == theirs
    assert isinstance(compile_op(op, DIALECTS[dialect_name]).statements[0], CreatePlainIndex)


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
    column=st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s),
    dialect_name=st.sampled_from(sorted(DIALECTS)),
)
def test_any_name_renders_the_same(name: str, column: str, dialect_name: str) -> None:
    ours, theirs = _both(DIALECTS[dialect_name], CreateIndexOp(name, "t", (column,)))
    assert ours == theirs


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_a_name_too_long_is_refused_the_same_way(dialect_name: str) -> None:
    dialect = DIALECTS[dialect_name]
    name = "z" * (dialect.max_identifier_length + 1)
    op = CreateIndexOp(name, "t", ("id",))
    (statement,) = compile_op(op, dialect).statements
    assert isinstance(statement, sa.sql.ClauseElement)
    with pytest.raises(sa.exc.IdentifierError):
        statement.compile(dialect=dialect)
    with pytest.raises(sa.exc.IdentifierError):
        CreateIndex(op.to_index()).compile(dialect=dialect)


@pytest.mark.parametrize(
    "op",
    [
        CreateIndexOp("ix", "t", (sa.text("lower(name)"),)),  # an expression
        CreateIndexOp("ix", "t", ("name",), kw={"postgresql_where": sa.text("name > ''")}),
        CreateIndexOp(None, "t", ("name",)),  # no name: SQLAlchemy's error
    ],
)
def test_anything_else_goes_through_sqlalchemy(op: CreateIndexOp) -> None:
    (statement,) = compile_op(op, DIALECTS["postgresql"]).statements
    assert isinstance(statement, CreateIndex)
