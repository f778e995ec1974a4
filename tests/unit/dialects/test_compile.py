"""Ops compiled per dialect, without a database: the SQL, and what a dialect refuses."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect

from amigrate.dialects import compile_op
from amigrate.errors import ScriptError, UnsupportedOperation
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    BulkInsertOp,
    CreateExcludeConstraintOp,
    CreateIndexOp,
    CreateSequenceOp,
    CreateTableOp,
    CreateViewOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    DropTableOp,
    MigrateOp,
    RenameTableOp,
)


def mariadb() -> Dialect:
    dialect = mysql.dialect()
    dialect.is_mariadb = True
    return dialect


DIALECTS: dict[str, Callable[[], Dialect]] = {
    "postgresql": postgresql.dialect,
    "sqlite": sqlite.dialect,
    "mysql": mysql.dialect,
    "mariadb": mariadb,
}


def sql(op: MigrateOp, dialect: str) -> list[str]:
    d = DIALECTS[dialect]()
    out = []
    for statement in compile_op(op, d).statements:
        assert isinstance(statement, sa.sql.ClauseElement)
        compiled = statement.compile(dialect=d, compile_kwargs={"literal_binds": True})
        out.append(" ".join(str(compiled).split()))
    return out


ALTER_TYPE = AlterColumnOp(
    "t", "x", type_=sa.BigInteger(), nullable=False, existing_type=sa.Integer()
)


@pytest.mark.parametrize(
    ("op", "dialect", "expected"),
    [
        (RenameTableOp("t", "u", "s"), "postgresql", ["ALTER TABLE s.t RENAME TO u"]),
        (RenameTableOp("t", "u", "s"), "mysql", ["ALTER TABLE s.t RENAME TO s.u"]),
        (
            ALTER_TYPE,
            "postgresql",
            [
                "ALTER TABLE t ALTER COLUMN x TYPE BIGINT",
                "ALTER TABLE t ALTER COLUMN x SET NOT NULL",
            ],
        ),
        (ALTER_TYPE, "mysql", ["ALTER TABLE t MODIFY x BIGINT NOT NULL"]),
        (
            AlterColumnOp(
                "t",
                "x",
                insert_after="y",
                existing_type=sa.String(5, collation="utf8mb4_bin"),
                existing_nullable=False,
                existing_server_default="a",
                existing_comment="c",
            ),
            "mariadb",
            [
                "ALTER TABLE t MODIFY x VARCHAR(5) COLLATE utf8mb4_bin NOT NULL DEFAULT 'a' "
                "COMMENT 'c' AFTER y"
            ],
        ),
        (
            AlterColumnOp(
                "t",
                "x",
                new_column_name="z",
                nullable=True,
                insert_after="y",
                existing_type=sa.Integer(),
                existing_server_default=None,
                existing_autoincrement=True,
            ),
            "mysql",
            ["ALTER TABLE t CHANGE x z INTEGER NULL AUTO_INCREMENT AFTER y"],
        ),
        (
            AlterColumnOp(
                "t",
                "x",
                new_column_name="y",
                comment="why",
                existing_type=sa.String(5),
                existing_nullable=False,
                existing_server_default="a",
                existing_autoincrement=False,
            ),
            "mysql",
            ["ALTER TABLE t CHANGE x y VARCHAR(5) NOT NULL DEFAULT 'a' COMMENT 'why'"],
        ),
        (
            AlterColumnOp("t", "x", new_column_name="y", server_default=None),
            "mysql",
            ["ALTER TABLE t ALTER COLUMN x DROP DEFAULT", "ALTER TABLE t RENAME COLUMN x TO y"],
        ),
        (
            AlterColumnOp("t", "x", new_column_name="y"),
            "sqlite",
            ["ALTER TABLE t RENAME COLUMN x TO y"],
        ),
        (
            AlterColumnOp("t", "x", type_=sa.Integer(), postgresql_using="x::integer"),
            "postgresql",
            ["ALTER TABLE t ALTER COLUMN x TYPE INTEGER USING x::integer"],
        ),
        (
            AlterColumnOp("t", "x", type_=sa.Enum("a", "b", name="kind"), server_default="a"),
            "postgresql",
            [
                "CREATE TYPE kind AS ENUM ('a', 'b')",
                "ALTER TABLE t ALTER COLUMN x DROP DEFAULT",
                "ALTER TABLE t ALTER COLUMN x TYPE kind USING x::text::kind",
                "ALTER TABLE t ALTER COLUMN x SET DEFAULT 'a'",
            ],
        ),
        (
            AlterColumnOp("t", "x", comment=None),
            "postgresql",
            ["COMMENT ON COLUMN t.x IS NULL"],
        ),
        (
            AlterColumnOp("t", "x", server_default=sa.text("now()")),
            "postgresql",
            ["ALTER TABLE t ALTER COLUMN x SET DEFAULT now()"],
        ),
        (
            DropConstraintOp("ck", "t", "check"),
            "mysql",
            ["ALTER TABLE t DROP CHECK ck"],
        ),
        (
            DropConstraintOp("ck", "t", "check", if_exists=True),
            "mariadb",
            ["ALTER TABLE t DROP CONSTRAINT IF EXISTS ck"],
        ),
        (DropConstraintOp("fk", "t", "foreignkey"), "mysql", ["ALTER TABLE t DROP FOREIGN KEY fk"]),
        (DropConstraintOp("uq", "t", "unique"), "mysql", ["ALTER TABLE t DROP INDEX uq"]),
        (DropConstraintOp("pk", "t", "primary"), "mysql", ["ALTER TABLE t DROP PRIMARY KEY"]),
        (DropConstraintOp("pk", "t"), "postgresql", ["ALTER TABLE t DROP CONSTRAINT pk"]),
        (
            CreateIndexOp("ix", "t", (sa.text("lower(x)"),)),
            "mysql",
            ["CREATE INDEX ix ON t ((lower(x)))"],
        ),
        (
            CreateIndexOp("ix", "t", ("x",), kw={"mysql_length": 5}),
            "mysql",
            ["CREATE INDEX ix ON t (x(5))"],
        ),
        (
            CreateIndexOp("ix", "t", ("x",), kw={"postgresql_include": ["y"]}),
            "postgresql",
            ["CREATE INDEX ix ON t (x) INCLUDE (y)"],
        ),
        (DropIndexOp("ix", "t", "s"), "postgresql", ["DROP INDEX s.ix"]),
        (DropIndexOp("ix", "t"), "mysql", ["DROP INDEX ix ON t"]),
        (
            CreateViewOp("v", "SELECT 1;", or_replace=True),
            "sqlite",
            ["DROP VIEW IF EXISTS v", "CREATE VIEW v AS SELECT 1"],
        ),
        (
            CreateViewOp("v", "SELECT 1", or_replace=True),
            "postgresql",
            ["CREATE OR REPLACE VIEW v AS SELECT 1"],
        ),
        (
            CreateSequenceOp("s", start=3, if_not_exists=True),
            "mariadb",
            ["CREATE SEQUENCE IF NOT EXISTS s START WITH 3"],
        ),
        (
            AddColumnOp("t", sa.Column("x", sa.Integer, sa.ForeignKey("p.id"), comment="c")),
            "postgresql",
            [
                "ALTER TABLE t ADD COLUMN x INTEGER",
                "ALTER TABLE t ADD FOREIGN KEY(x) REFERENCES p (id)",
                "COMMENT ON COLUMN t.x IS 'c'",
            ],
        ),
        (
            AddColumnOp("t", sa.Column("x", sa.Integer, sa.ForeignKey("p.id"), comment="c")),
            "sqlite",
            ["ALTER TABLE t ADD COLUMN x INTEGER REFERENCES p (id)"],
        ),
        (
            AddColumnOp("t", sa.Column("x", sa.Integer, comment="c"), if_not_exists=True),
            "mariadb",
            ["ALTER TABLE t ADD COLUMN IF NOT EXISTS x INTEGER COMMENT 'c'"],
        ),
        (
            AddColumnOp("t", sa.Column("mood", sa.Enum("a", "b", name="mood"))),
            "postgresql",
            ["CREATE TYPE mood AS ENUM ('a', 'b')", "ALTER TABLE t ADD COLUMN mood mood"],
        ),
        (
            DropTableOp(
                "t",
                definition=CreateTableOp(
                    "t", (sa.Column("mood", sa.Enum("a", name="mood")),)
                ).to_table(),
            ),
            "postgresql",
            ["DROP TABLE t", "DROP TYPE mood"],
        ),
        (  # the reverse of a drop_table: its enum stays in its schema (to_metadata's moved)
            DropTableOp(
                "t",
                definition=sa.Table(
                    "t", sa.MetaData(), sa.Column("o", sa.Enum("x", name="oe", schema="other"))
                ),
            ).reverse(),
            "postgresql",
            ["CREATE TYPE other.oe AS ENUM ('x')", "CREATE TABLE t ( o other.oe )"],
        ),
        (
            BulkInsertOp(sa.table("t", sa.column("x"), sa.column("y")), ({"x": 1}, {"y": "o'k"})),
            "sqlite",
            ["INSERT INTO t (x) VALUES (1)", "INSERT INTO t (y) VALUES ('o''k')"],
        ),
        (
            AddColumnOp("t", sa.Column("x", sa.Integer), insert_after="y"),
            "mariadb",
            ["ALTER TABLE t ADD COLUMN x INTEGER AFTER y"],
        ),
        (
            AddColumnOp(
                "t", sa.Column("x", sa.Integer, sa.ForeignKey("o.id")), inline_references=True
            ),
            "postgresql",
            ["ALTER TABLE t ADD COLUMN x INTEGER REFERENCES o (id)"],
        ),
        (  # MySQL ignores an inline REFERENCES: the key stays a statement of its own
            AddColumnOp(
                "t", sa.Column("x", sa.Integer, sa.ForeignKey("o.id")), inline_references=True
            ),
            "mysql",
            [
                "ALTER TABLE t ADD COLUMN x INTEGER",
                "ALTER TABLE t ADD FOREIGN KEY(x) REFERENCES o (id)",
            ],
        ),
        (
            AddColumnOp(
                "t", sa.Column("id", sa.Integer, primary_key=True), inline_primary_key=True
            ),
            "postgresql",
            ["ALTER TABLE t ADD COLUMN id SERIAL NOT NULL PRIMARY KEY"],
        ),
        (
            CreateExcludeConstraintOp(
                "ex", "t", (("during", "&&"), ("room", "=")), where="room > 0", kw={"using": "gist"}
            ),
            "postgresql",
            [
                "ALTER TABLE t ADD CONSTRAINT ex EXCLUDE USING gist "
                "(during WITH &&, room WITH =) WHERE (room > 0)"
            ],
        ),
        (  # SQLite takes the key inline only; its name and options go with it.
            AddColumnOp(
                "t",
                sa.Column(
                    "x",
                    sa.Integer,
                    sa.ForeignKey(
                        "p.id",
                        name="fk_x",
                        ondelete="CASCADE",
                        deferrable=True,
                        initially="DEFERRED",
                    ),
                ),
            ),
            "sqlite",
            [
                "ALTER TABLE t ADD COLUMN x INTEGER CONSTRAINT fk_x REFERENCES p (id) "
                "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
            ],
        ),
        # Identities, as Alembic's alter_column (PostgreSQL).
        (
            AlterColumnOp("t", "x", server_default=sa.Identity(start=5, increment=2)),
            "postgresql",
            [
                "ALTER TABLE t ALTER COLUMN x ADD GENERATED BY DEFAULT AS IDENTITY "
                "(INCREMENT BY 2 START WITH 5)"
            ],
        ),
        (
            AlterColumnOp(
                "t", "x", server_default=sa.Identity(always=True), existing_server_default="0"
            ),
            "postgresql",
            [
                "ALTER TABLE t ALTER COLUMN x DROP DEFAULT",
                "ALTER TABLE t ALTER COLUMN x ADD GENERATED ALWAYS AS IDENTITY",
            ],
        ),
        (
            AlterColumnOp(
                "t",
                "x",
                server_default=sa.Identity(always=True, increment=10, cycle=True),
                existing_server_default=sa.Identity(start=1),
            ),
            "postgresql",
            [
                "ALTER TABLE t ALTER COLUMN x SET GENERATED ALWAYS SET INCREMENT BY 10 "
                "SET START WITH 1 SET CYCLE"
            ],
        ),
        (
            AlterColumnOp(
                "t",
                "x",
                server_default=sa.Identity(start=1),
                existing_server_default=sa.Identity(start=1),
                nullable=False,
            ),
            "postgresql",
            ["ALTER TABLE t ALTER COLUMN x SET NOT NULL"],
        ),
        (
            AlterColumnOp("t", "x", server_default=None, existing_server_default=sa.Identity()),
            "postgresql",
            ["ALTER TABLE t ALTER COLUMN x DROP IDENTITY"],
        ),
        (
            AlterColumnOp(
                "t",
                "x",
                type_=sa.Integer(),
                postgresql_using="x::integer",
                server_default=sa.Identity(),
                existing_server_default=sa.text("'7'"),
            ),
            "postgresql",
            [  # (the old default is dropped before the type changes: it may not cast)
                "ALTER TABLE t ALTER COLUMN x DROP DEFAULT",
                "ALTER TABLE t ALTER COLUMN x TYPE INTEGER USING x::integer",
                "ALTER TABLE t ALTER COLUMN x ADD GENERATED BY DEFAULT AS IDENTITY",
            ],
        ),
    ],
)
def test_compiles(op: MigrateOp, dialect: str, expected: list[str]) -> None:
    assert sql(op, dialect) == expected


@pytest.mark.parametrize(
    ("op", "dialect", "error", "match"),
    [
        (ALTER_TYPE, "sqlite", UnsupportedOperation, "can only rename a column"),
        (
            AlterColumnOp("t", "x", nullable=False),
            "mysql",
            UnsupportedOperation,
            "it restates the whole column (MODIFY), so offline it needs the column as it is: "
            "existing_type",
        ),
        (
            # Without NULL/NOT NULL the MODIFY would make a NOT NULL column nullable.
            AlterColumnOp("t", "x", type_=sa.Numeric(12, 2), existing_type=sa.Numeric(10, 2)),
            "mysql",
            UnsupportedOperation,
            "so offline it needs the column as it is: existing_nullable",
        ),
        (DropConstraintOp("ck", "t"), "mysql", UnsupportedOperation, "needs type_"),
        (
            AlterColumnOp("t", "x", server_default=sa.Identity()),
            "mysql",
            UnsupportedOperation,
            "nor an identity outside PostgreSQL",
        ),
        (
            AlterColumnOp("t", "x", server_default=sa.Computed("y + 1")),
            "mysql",
            UnsupportedOperation,
            "does not add, change or remove a generated column",
        ),
        (
            DropConstraintOp("ck", "t", "check", if_exists=True),
            "mysql",
            UnsupportedOperation,
            "MySQL has no DROP ... IF EXISTS",
        ),
        (DropIndexOp("ix"), "mysql", UnsupportedOperation, "needs table_name"),
        (CreateSequenceOp("s"), "mysql", UnsupportedOperation, "MySQL has no sequences"),
        (CreateSequenceOp("s"), "sqlite", UnsupportedOperation, "SQLite has no sequences"),
        (
            CreateIndexOp("ix", "t", (sa.text("lower(x)"),)),
            "mariadb",
            UnsupportedOperation,
            "MariaDB indexes hold columns",
        ),
        (DropColumnOp("t", "x", if_exists=True), "mysql", UnsupportedOperation, "IF EXISTS"),
        (
            AddColumnOp("t", sa.Column("x", sa.Integer), insert_after="y"),
            "postgresql",
            UnsupportedOperation,
            "insert_before/insert_after",
        ),
        (
            CreateExcludeConstraintOp("ex", "t", (("x", "="),)),
            "mysql",
            UnsupportedOperation,
            "EXCLUDE constraints are PostgreSQL's",
        ),
        (
            AddColumnOp("t", sa.Column("x", sa.Integer), insert_before="y"),
            "mysql",
            UnsupportedOperation,
            "insert_before needs the table's column order",
        ),
        (
            AlterColumnOp("t", "x", insert_after="y", existing_type=sa.Integer()),
            "mysql",
            UnsupportedOperation,
            "moving a column restates all of it (MODIFY ... AFTER), so offline it needs the "
            "column as it is: existing_nullable, existing_server_default",
        ),
        (
            AlterColumnOp("t", "x", type_=sa.Integer(), insert_after="y", existing_nullable=True),
            "mariadb",
            UnsupportedOperation,
            "offline it needs the column as it is: existing_server_default",
        ),
        (
            AlterColumnOp("t", "x", insert_before="y"),
            "mysql",
            UnsupportedOperation,
            "insert_before needs the table's column order",
        ),
        (
            AlterColumnOp("t", "x", insert_after="y"),
            "postgresql",
            UnsupportedOperation,
            "PostgreSQL cannot move an existing column",
        ),
        (
            AlterColumnOp("t", "x", insert_after="y"),
            "sqlite",
            UnsupportedOperation,
            "SQLite places a column only when a batch recreates the table",
        ),
        (
            AlterColumnOp("t", "x", postgresql_using="x::int"),
            "postgresql",
            ScriptError,
            "postgresql_using needs type_",
        ),
        (
            BulkInsertOp(sa.table("t", sa.column("x")), ({"x": 1, "z": 2, "w": 3},)),
            "postgresql",
            ScriptError,
            "row 1 has keys that 't' has no column for: 'w', 'z'",
        ),
    ],
)
def test_refuses(op: MigrateOp, dialect: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match.replace("(", r"\(").replace(")", r"\)")) as info:
        sql(op, dialect)
    assert getattr(info.value, "hint", None)


def test_unsupported_names_the_op_and_dialect() -> None:
    with pytest.raises(UnsupportedOperation) as info:
        sql(ALTER_TYPE, "sqlite")
    assert str(info.value).startswith("alter_column('t', 'x') is not supported on SQLite: ")
    assert "batch_alter_table" in (info.value.hint or "")
    with pytest.raises(UnsupportedOperation, match="not supported on MariaDB"):
        sql(CreateIndexOp("ix", "t", (sa.text("lower(x)"),)), "mariadb")


def test_a_dialects_own_module_loads_when_first_needed() -> None:
    # A run on SQLite imports neither amigrate's nor SQLAlchemy's PostgreSQL/MySQL code.
    code = (
        "import sys\n"
        "from sqlalchemy.dialects import sqlite\n"
        "from amigrate.dialects import compile_op\n"
        "from amigrate.operations.ops import DropTableOp\n"
        "compile_op(DropTableOp('t'), sqlite.dialect())\n"
        "assert 'amigrate.dialects.sqlite' in sys.modules\n"
        "for name in ('postgresql', 'mysql'):\n"
        "    assert f'amigrate.dialects.{name}' not in sys.modules, name\n"
        "    assert f'sqlalchemy.dialects.{name}' not in sys.modules, name\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
