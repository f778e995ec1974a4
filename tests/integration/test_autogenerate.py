"""``revision --autogenerate`` and ``check`` through the real command, on each backend.

From an empty database, models using every feature autogenerate compares give
a first revision; applied, ``check`` passes. A second model change (a column,
an index, a type, a dropped table) gives a revision with exactly those changes,
whose downgrade returns the schema to the first state (read by reflection), the
dropped table's check constraints included.
The files pass ``ruff check`` and are formatted by the configured ruff hook.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_async
from tests.helpers import assert_clean_error, run_cli
from tests.integration.test_autogenerate_support import (
    assert_ruff_clean,
    autogenerate,
    kinds,
    models_project,
    set_models,
)
from tests.integration.test_ops_support import describe
from tests.projects import Rev

FIRST = """
owner = sa.Table(
    "owner",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False, unique=True),
    sa.Column("joined", sa.DateTime(timezone=True), server_default=sa.func.now()),
    comment="people who own items",
)
item = sa.Table(
    "item",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "owner_id",
        sa.Integer,
        sa.ForeignKey("owner.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("code", sa.String(20), nullable=False, server_default="new"),
    sa.Column("qty", sa.Integer, nullable=False, server_default="1"),
    sa.Column("price", sa.Numeric(8, 2)),
    sa.Column("active", sa.Boolean, server_default=sa.true()),
    sa.Column("note", sa.Text, comment="free text"),
    sa.Column("kind", sa.Enum("small", "large", name="item_kind")),
    sa.Column("data", sa.JSON),
    sa.UniqueConstraint("code", "owner_id", name="uq_item_code_owner"),
    sa.Index("ix_item_price", "price"),
)
legacy = sa.Table(
    "legacy",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("item.id", name="fk_legacy_item")),
    sa.Column("body", sa.String(100), server_default="-"),
    sa.Column("qty", sa.Integer, sa.CheckConstraint("qty > 0")),
    sa.CheckConstraint("qty < 1000", name="ck_legacy_qty_max"),
)
"""

# The second change: a column added, an index added, a type changed, a table dropped.
SECOND = (
    FIRST.replace(
        'sa.String(20), nullable=False, server_default="new"',
        'sa.String(40), nullable=False, server_default="new"',
    )
    .replace(
        '    sa.Index("ix_item_price", "price"),\n',
        '    sa.Index("ix_item_price", "price"),\n'
        '    sa.Column("weight", sa.Float, sa.CheckConstraint("weight >= 0", name="ck_weight")),\n'
        '    sa.Index("ix_item_code", "code"),\n',
    )
    .split("legacy = sa.Table(")[0]
)


def test_autogenerate_then_check_then_a_second_change(db_url: str, tmp_path: Path) -> None:
    project = models_project(tmp_path, db_url, FIRST, hooks=True)
    cwd = project.root

    _, first = autogenerate(project, "first")
    assert kinds(first["changes"]) == ["add_table"] * 3
    assert [h["returncode"] for h in first["hooks"]] == [0]
    first_path = Path(first["path"])
    assert_ruff_clean(first_path)
    text = first_path.read_text()
    assert 'await op.create_table(\n        "owner",' in text
    assert 'await op.create_index(op.f("ix_item_owner_id"), "item", ["owner_id"])' in text

    assert run_cli("upgrade", "head", cwd=cwd).code == 0
    check = run_cli("check", cwd=cwd)
    assert check.code == 0, check
    assert check.out == "No differences between the models and the database.\n"
    first_state = run_async(lambda: describe(db_url))
    assert sorted(first_state["tables"]) == ["item", "legacy", "owner"]
    # A column's own check is written as one of the table's (Alembic leaves it out).
    assert 'sa.CheckConstraint("qty > 0")' in text
    legacy_checks = [sql for _, sql in first_state["tables"]["legacy"]["checks"]]
    assert len(legacy_checks) == 2
    assert any("qty > 0" in sql.replace("`", "") for sql in legacy_checks)

    set_models(project, SECOND)
    differs = run_cli("check", cwd=cwd)
    assert_clean_error(differs, code=3, match="the models and the database differ: 4 changes")
    assert "add column 'item.weight'" in differs.out

    _, second = autogenerate(project, "second")
    assert kinds(second["changes"]) == ["add_column", "add_index", "modify_column", "remove_table"]
    second_path = Path(second["path"])
    assert_ruff_clean(second_path)
    second_text = second_path.read_text()
    assert "VARCHAR(20) -> VARCHAR(40)" in " ".join(c["description"] for c in second["changes"])
    assert 'await op.drop_table("legacy")' in second_text
    # The downgrade recreates the dropped table with its checks, as the database has them.
    assert 'name=op.f("ck_legacy_qty_max")' in second_text
    assert "CONSTRAINT_" not in second_text  # MariaDB's made-up names are not kept
    # An added column keeps its own check (Alembic leaves it out).
    assert 'sa.CheckConstraint("weight >= 0", name="ck_weight")' in second_text

    assert run_cli("upgrade", "head", cwd=cwd).code == 0
    assert run_cli("check", cwd=cwd).code == 0
    second_state = run_async(lambda: describe(db_url))
    assert "legacy" not in second_state["tables"]
    assert "ck_weight" in [name for name, _ in second_state["tables"]["item"]["checks"]]

    down = run_cli("downgrade", "-1", cwd=cwd)
    assert down.code == 0, down
    assert run_async(lambda: describe(db_url)) == first_state

    # Now the database is behind the history: both commands refuse.
    for command in (("check",), ("revision", "--autogenerate", "-m", "third")):
        refused = run_cli(*command, cwd=cwd)
        assert_clean_error(refused, match="not at the head")
        assert "amigrate upgrade heads" in refused.err
    assert len(list(project.versions.glob("*.py"))) == 2


def test_nothing_to_write(sqlite_url: str, tmp_path: Path) -> None:
    project = models_project(tmp_path, sqlite_url, "")
    empty = run_cli("revision", "--autogenerate", "-m", "nothing", cwd=project.root)
    assert empty.code == 0, empty
    assert "No changes between the models and the database; no revision written" in empty.out
    assert not list(project.versions.glob("*.py"))

    _, written = autogenerate(project, "nothing", "--allow-empty", "--rev-id", "e1")
    assert written["changes"] == []
    path = project.versions / "e1_nothing.py"
    assert path.is_file()
    assert "import sqlalchemy as sa" not in path.read_text()  # nothing uses it
    assert_ruff_clean(path)

    misuse = run_cli("revision", "--allow-empty", "-m", "x", cwd=project.root)
    assert_clean_error(misuse, code=2)


def test_without_target_metadata(sqlite_url: str, tmp_path: Path) -> None:
    project = models_project(tmp_path, sqlite_url, "")
    project.env("x = 1\n")
    result = run_cli("check", cwd=project.root)
    assert_clean_error(result, match="env.py sets no target_metadata")
    assert "target_metadata = Base.metadata" in result.err


def test_several_heads_are_refused_before_the_database_is_read(
    sqlite_url: str, tmp_path: Path
) -> None:
    project = models_project(tmp_path, sqlite_url, FIRST)
    project.add(Rev("b1", None), Rev("b2", None))  # two bases, two heads
    result = run_cli("revision", "--autogenerate", "-m", "x", cwd=project.root)
    assert_clean_error(result, match="'head' is ambiguous: the history has 2 heads: b1, b2")
    assert "Detected" not in result.output  # nothing was compared
    assert not (tmp_path / "test.db").exists()


CONVENTION_HEADER = """
import sqlalchemy as sa

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
})
target_metadata = metadata
"""

CONVENTION_MODELS = """
account = sa.Table(
    "account",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("balance", sa.Numeric(12, 2), index=True),
    sa.CheckConstraint("balance >= 0", name="balance_pos"),
)
"""


def test_names_a_convention_made_are_written_final(db_url: str, tmp_path: Path) -> None:
    """Names the models' naming convention made are written op.f("..."), as Alembic writes
    them: the revision's op applies the convention too, and would convert a plain
    'ck_account_balance_pos' again into 'ck_account_ck_account_balance_pos'."""
    project = models_project(tmp_path, db_url, "")
    set_models(project, CONVENTION_MODELS, header=CONVENTION_HEADER)
    _, first = autogenerate(project, "first")
    text = Path(first["path"]).read_text()
    assert 'name=op.f("ck_account_balance_pos")' in text
    assert 'op.f("ix_account_balance")' in text
    assert run_cli("upgrade", "head", cwd=project.root).code == 0
    checks = run_async(lambda: describe(db_url))["tables"]["account"]["checks"]
    assert [name for name, _ in checks] == ["ck_account_balance_pos"]
    assert run_cli("check", cwd=project.root).code == 0


SHARED_SEQUENCE = """
counter = sa.Table(
    "counter",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("n", sa.BigInteger, server_default=sa.text("nextval('shared_seq')")),
)
"""


def test_a_default_from_a_shared_sequence_is_a_default(postgresql_url: str, tmp_path: Path) -> None:
    """Only a serial column's own sequence makes its nextval() default implicit: one that
    takes numbers from a sequence it does not own keeps its default (it was reported as
    missing on every run)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    async def create_sequence() -> None:
        engine = create_async_engine(postgresql_url)
        try:
            async with engine.begin() as conn:
                await conn.exec_driver_sql("CREATE SEQUENCE shared_seq")
        finally:
            await engine.dispose()

    run_async(create_sequence)
    project = models_project(tmp_path, postgresql_url, SHARED_SEQUENCE)
    autogenerate(project, "first")
    assert run_cli("upgrade", "head", cwd=project.root).code == 0
    check = run_cli("check", cwd=project.root)
    assert check.code == 0, check
