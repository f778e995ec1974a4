"""The renderer: every op autogenerate emits, written as code (golden), and the printer.

The golden file ``tests/golden/render_ops.py`` is a real module: ruff and mypy
check it with the rest of the tests, so the rendered calls are valid against
``Operations``. Regenerate it after an intended change with
``AMIGRATE_UPDATE_GOLDEN=1 python -m pytest tests/unit/autogenerate/test_render.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from amigrate.autogenerate import objects
from amigrate.autogenerate.code import Call, Kw, Seq, flat, format_statement, py_str
from amigrate.autogenerate.literals import RenderContext, render_type
from amigrate.autogenerate.render import render_ops
from amigrate.autogenerate.snapshot import (
    ColumnInfo,
    ForeignKeyInfo,
    PrimaryKeyInfo,
    TableInfo,
    UniqueInfo,
)
from amigrate.errors import CommandError
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    BatchAlterTableOp,
    CreateCheckConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    CreateTableCommentOp,
    CreateTableOp,
    CreateUniqueConstraintOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    DropTableCommentOp,
    DropTableOp,
    ExecuteOp,
    MigrateOp,
    RenameTableOp,
)
from tests.unit.autogenerate.custom_types import Cents, Money, Mood

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "render_ops.py"
RUFF = Path(sys.executable).parent / "ruff"

HEADER = '''"""Golden output of amigrate's autogenerate renderer: each op it writes, as code.

Written by tests/unit/autogenerate/test_render.py; do not edit by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

import tests.unit.autogenerate.custom_types
from amigrate import Operations
'''


def ops() -> list[tuple[str, MigrateOp]]:
    """Every op the renderer writes, with a note on what it shows."""
    account = CreateTableOp(
        "account",
        (
            sa.Column("id", sa.Integer, sa.Identity(start=10), primary_key=True),
            sa.Column("email", sa.String(255), nullable=False, comment="login"),
            sa.Column("status", sa.Enum("new", "active", name="status"), server_default="new"),
            sa.Column("created", sa.DateTime(timezone=True), server_default=sa.func.now()),
            sa.Column("price", sa.Numeric(10, 2)),
            sa.Column("total", sa.Numeric(12, 2), sa.Computed("price * 2", persisted=True)),
            sa.Column("data", postgresql.JSONB),
            sa.Column("tags", postgresql.ARRAY(sa.String(20))),
            sa.Column("balance", Money(12, 2)),
            sa.Column("owner_id", sa.Integer, autoincrement=False),
            sa.ForeignKeyConstraint(
                ["owner_id"], ["app.owner.id"], name="fk_account_owner", ondelete="SET NULL"
            ),
            sa.UniqueConstraint("email", name="uq_account_email"),
            sa.CheckConstraint("char_length(email) > 3", name="ck_account_email"),
            sa.Index("ix_account_created", "created"),
        ),
        schema="app",
        kw={"comment": "people", "mysql_engine": "InnoDB"},
    )
    reflected = AddColumnOp(
        "account",
        sa.Column(
            "code",
            mysql.VARCHAR(length=20, charset="utf8mb4", collation="utf8mb4_bin"),
            nullable=False,
            server_default=sa.text("'x'"),
        ),
    )
    return [
        ("a table with every kind of column and constraint", account),
        ("a table as reflected: the database's names and types", reflected_table()),
        ("drop a table", DropTableOp("legacy", schema="app", if_exists=True)),
        ("rename a table", RenameTableOp("people", "person")),
        ("set a table comment", CreateTableCommentOp("account", "people", existing_comment="x")),
        ("remove a table comment", DropTableCommentOp("account", existing_comment="people")),
        (
            "add a column with a foreign key, a default and a comment",
            AddColumnOp(
                "account",
                sa.Column(
                    "parent_id",
                    sa.BigInteger,
                    sa.ForeignKey("account.id", ondelete="CASCADE"),
                    nullable=False,
                    server_default="0",
                    comment="who",
                ),
                schema="app",
            ),
        ),
        ("add a column of reflected MySQL type", reflected),
        (
            "add a column whose type has a variant",
            AddColumnOp(
                "account",
                sa.Column("nick", sa.String(50).with_variant(mysql.VARCHAR(50), "mysql")),
            ),
        ),
        ("drop a column", DropColumnOp("account", "legacy", schema="app")),
        (
            "change type, nullability, default and comment",
            AlterColumnOp(
                "account",
                "email",
                schema="app",
                nullable=True,
                type_=sa.String(320),
                server_default=None,
                comment=None,
                existing_type=mysql.VARCHAR(length=255),
                existing_nullable=False,
                existing_server_default=sa.text("'none'"),
                existing_comment="login",
            ),
        ),
        (
            "a default that is an expression",
            AlterColumnOp(
                "account",
                "created",
                server_default=sa.func.now(),
                existing_type=postgresql.TIMESTAMP(timezone=True),
            ),
        ),
        (
            "create an expression index with a dialect option",
            CreateIndexOp(
                "ix_account_lower_email",
                "account",
                (sa.text("lower(email)"),),
                unique=True,
                kw={"postgresql_where": sa.text("status = 'active'")},
            ),
        ),
        (
            "create an index on columns",
            CreateIndexOp("ix_account_name", "account", ("last", "first"), schema="app"),
        ),
        ("drop an index", DropIndexOp("ix_account_created", "account", schema="app")),
        (
            "create a unique constraint",
            CreateUniqueConstraintOp("uq_account_name", "account", ("first", "last")),
        ),
        ("drop a unique constraint", DropConstraintOp("uq_account_name", "account", "unique")),
        (
            "create a foreign key",
            CreateForeignKeyOp(
                "fk_account_owner",
                "account",
                "owner",
                ("owner_id",),
                ("id",),
                ondelete="CASCADE",
                deferrable=True,
                initially="DEFERRED",
                source_schema="app",
                referent_schema="app",
            ),
        ),
        (
            "drop a foreign key",
            DropConstraintOp("fk_account_owner", "account", "foreignkey", schema="app"),
        ),
        ("create a primary key", CreatePrimaryKeyOp("pk_tag", "tag", ("id",))),
        ("create a check constraint", CreateCheckConstraintOp("ck_qty", "item", "qty > 0")),
    ]


def reflected_table() -> CreateTableOp:
    """The downgrade of dropping a table PostgreSQL reported (what autogenerate builds)."""
    info = TableInfo(
        schema=None,
        name="owner",
        columns=(
            ColumnInfo("id", postgresql.INTEGER(), nullable=False, autoincrement=True),
            ColumnInfo("name", postgresql.VARCHAR(length=50), nullable=False, comment="who"),
            ColumnInfo("mood", postgresql.ENUM("happy", "sad", name="mood"), nullable=True),
            ColumnInfo(
                "joined",
                postgresql.TIMESTAMP(timezone=True),
                nullable=True,
                default="now()",
            ),
            ColumnInfo("score", postgresql.DOUBLE_PRECISION(precision=53), nullable=True),
            ColumnInfo("team_id", postgresql.INTEGER(), nullable=True),
        ),
        primary_key=PrimaryKeyInfo("owner_pkey", ("id",)),
        uniques=(UniqueInfo("owner_name_key", ("name",)),),
        foreign_keys=(
            ForeignKeyInfo("owner_team_id_fkey", ("team_id",), None, "team", ("id",), "CASCADE"),
        ),
        comment="owners",
    )
    drop = DropTableOp("owner", definition=objects.reflected_table(info))
    return drop.reverse()


def batch_op() -> BatchAlterTableOp:
    return BatchAlterTableOp(
        "account",
        (
            AddColumnOp("account", sa.Column("age", sa.Integer), insert_after="email"),
            AlterColumnOp("account", "email", type_=sa.String(320), existing_type=sa.String(255)),
            DropColumnOp("account", "legacy"),
            CreateIndexOp("ix_account_age", "account", ("age",)),
            DropIndexOp("ix_account_created", "account"),
            CreateUniqueConstraintOp("uq_account_age", "account", ("age", "email")),
            DropConstraintOp("uq_account_name", "account", "unique"),
            CreateForeignKeyOp(
                "fk_account_owner",
                "account",
                "owner",
                ("owner_id",),
                ("id",),
                referent_schema="app",
            ),
            DropConstraintOp("fk_account_parent", "account", "foreignkey"),
            CreateTableCommentOp("account", "people"),
            DropTableCommentOp("account", existing_comment="people"),
        ),
        schema="app",
    )


def render_golden(width: int = 100) -> tuple[str, RenderContext]:
    ctx = RenderContext(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
    parts = []
    for note, op in ops():
        parts.append(f"    # {type(op).__name__}: {note}\n" + render_ops([op], ctx, width=width))
    batch = render_ops([batch_op()], ctx, width=width)
    text = (
        HEADER
        + "\n\nasync def upgrade(op: Operations) -> None:\n"
        + "\n".join(parts)
        + "\n\n\nasync def batch(op: Operations) -> None:\n"
        + batch
        + "\n"
    )
    return text, ctx


def test_golden_every_op() -> None:
    text, ctx = render_golden()
    if os.environ.get("AMIGRATE_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    # The header imports exactly what the rendered code asked for.
    assert ctx.import_lines() == [
        "import tests.unit.autogenerate.custom_types",
        "from sqlalchemy.dialects import mysql",
        "from sqlalchemy.dialects import postgresql",
    ]
    assert ctx.uses_sa


def test_ruff_format_keeps_what_the_printer_writes(tmp_path: Path) -> None:
    """At ruff's default width (88), ``ruff format`` changes nothing the renderer wrote."""
    text, _ = render_golden(width=88)
    path = tmp_path / "rendered.py"
    path.write_text(text)
    result = subprocess.run(
        [str(RUFF), "format", "--isolated", "--diff", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_op_without_a_renderer_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match=r"cannot write execute\('SELECT 1'\)"):
        render_ops([ExecuteOp("SELECT 1")], RenderContext())


def test_no_ops_is_pass() -> None:
    assert render_ops([], RenderContext()) == "    pass"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("plain", '"plain"'), ('say "hi"', "'say \"hi\"'"), ("it's", '"it\'s"'), ("a\nb", '"a\\nb"')],
)
def test_strings_are_written_as_ruff_writes_them(value: str, expected: str) -> None:
    assert py_str(value) == expected


def test_the_printer_splits_as_ruff_does() -> None:
    call = Call("op.f", ("1", "2"))
    assert format_statement(call, 4, prefix="await ") == "    await op.f(1, 2)"
    long_args = tuple(py_str("x" * 30) for _ in range(2))
    assert format_statement(Call("op.f", long_args), 0, width=40) == (
        'op.f(\n    "' + "x" * 30 + '",\n    "' + "x" * 30 + '",\n)'
    )
    hugged = Call("op.f", (Kw("a", "1"), Seq(("2", "3"))))
    assert format_statement(hugged, 0, width=16) == "op.f(\n    a=1, [2, 3]\n)"
    assert format_statement(Seq(("1",), "()"), 0) == "(1,)"


def test_types_render_with_the_arguments_that_differ() -> None:
    ctx = RenderContext()
    assert flat(render_type(sa.String(50), ctx)) == "sa.String(length=50)"
    assert flat(render_type(sa.Integer, ctx)) == "sa.Integer()"
    assert flat(render_type(mysql.INTEGER(display_width=11), ctx)) == (
        "mysql.INTEGER(display_width=11)"
    )
    assert flat(render_type(sa.Enum("a", "b", name="e", native_enum=False), ctx)) == (
        'sa.Enum("a", "b", name="e", native_enum=False)'
    )
    assert flat(render_type(Money(8, 2), ctx)) == (
        "tests.unit.autogenerate.custom_types.Money(precision=8, scale=2)"
    )
    assert flat(render_type(Cents(), ctx)) == "tests.unit.autogenerate.custom_types.Cents()"
    # A non-native enum's own length (its VARCHAR), and an Enum behind a TypeDecorator:
    # without them the revision made another type (a change found forever, no values).
    longer = sa.Enum("red", "green", name="color", native_enum=False, length=20)
    assert flat(render_type(longer, ctx)) == (
        'sa.Enum("red", "green", name="color", native_enum=False, length=20)'
    )
    assert flat(render_type(mysql.SET("x", "y"), ctx)) == 'mysql.SET("x", "y")'
    assert flat(render_type(Mood("aa", "bb", name="mood"), ctx)) == (
        'tests.unit.autogenerate.custom_types.Mood("aa", "bb", name="mood")'
    )
    assert ctx.import_lines() == [
        "import tests.unit.autogenerate.custom_types",
        "from sqlalchemy.dialects import mysql",
    ]


def test_a_changed_expression_default_renders_both_ways() -> None:
    # sa.true() == False builds a clause, whose truth is undefined: the renderer must
    # not compare defaults with ``in``/``==``.
    op = AlterColumnOp(
        "t",
        "flag",
        server_default=sa.true(),
        existing_server_default=sa.false(),
        existing_type=sa.Boolean(),
    )
    code = render_ops([op, op.reverse()], RenderContext())
    up, down = ('server_default=sa.text("{}"),\n        existing_server_default=sa.text("{}")',) * 2
    assert up.format("true", "false") in code
    assert down.format("false", "true") in code
