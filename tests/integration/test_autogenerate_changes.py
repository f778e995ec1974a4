"""Every kind of change autogenerate detects, applied and undone on each backend.

The models change in every way autogenerate compares; the revision written
for that applies cleanly, leaves nothing to compare, and its downgrade puts
the schema back exactly as it was (read by reflection).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import amigrate
from amigrate.errors import ConfigError
from tests.helpers import assert_clean_error, run_cli
from tests.integration.test_autogenerate_support import (
    compare,
    kinds,
    models_project,
    set_models,
    write_revision,
)
from tests.integration.test_ops_support import backend, describe

BEFORE = """
owner = sa.Table(
    "owner",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("joined", sa.DateTime, server_default=sa.func.now()),
    comment="owners",
)
item = sa.Table(
    "item",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("owner.id", name="fk_item_owner")),
    sa.Column("code", sa.String(20), nullable=False, server_default="new"),
    sa.Column("qty", sa.Integer, nullable=False, server_default="1"),
    sa.Column("note", sa.Text, comment="free text"),
    sa.Column("label", sa.String(30)),
    sa.UniqueConstraint("code", name="uq_item_code"),
    sa.Index("ix_item_qty", "qty"),
)
obsolete = sa.Table(
    "obsolete",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text),
)
"""

AFTER = """
owner = sa.Table(
    "owner",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=True, index=True),
    sa.Column("joined", sa.DateTime, server_default=sa.func.now()),
    comment="people",
)
item = sa.Table(
    "item",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer),
    sa.Column("code", sa.String(40), nullable=False, server_default="fresh"),
    sa.Column("qty", sa.Integer, nullable=False, server_default="1"),
    sa.Column("note", sa.Text, comment="notes"),
    sa.Column("weight", sa.Float),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("item.id", name="fk_item_parent")),
    sa.UniqueConstraint("qty", "owner_id", name="uq_item_qty_owner"),
    sa.Index("ix_item_code", "code"),
)
tag = sa.Table(
    "tag",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("item.id"), nullable=False),
    sa.Column("name", sa.String(20), nullable=False, unique=True),
)
"""

EXPECTED = [
    "add_column",  # item.weight
    "add_column",  # item.parent_id
    "add_foreign_key",  # fk_item_parent
    "add_index",  # ix_item_code
    "add_index",  # ix_owner_name
    "add_table",  # tag
    "add_unique",  # uq_item_qty_owner
    "modify_column",  # owner.name nullable
    "modify_column",  # item.code type and default
    "modify_column",  # item.note comment (not on SQLite)
    "modify_table_comment",  # owner (not on SQLite)
    "remove_column",  # item.label
    "remove_foreign_key",  # fk_item_owner
    "remove_index",  # ix_item_qty
    "remove_table",  # obsolete
    "remove_unique",  # uq_item_code
]


async def test_every_kind_of_change(db_url: str, tmp_path: Path) -> None:
    project = models_project(tmp_path, db_url, BEFORE)
    config = project.config()
    await write_revision(config, "before", rev_id="a1")
    await amigrate.upgrade(config, "head")
    assert (await compare(config)).is_empty
    before = await describe(db_url)

    set_models(project, AFTER)
    path, diff = await write_revision(config, "after", rev_id="b2")
    expected = list(EXPECTED)
    if backend(db_url) == "sqlite":  # SQLite keeps no comments
        expected.remove("modify_column")
        expected.remove("modify_table_comment")
    assert kinds(diff) == expected
    assert not diff.notes
    source = path.read_text()
    if backend(db_url) == "sqlite":
        assert 'async with op.batch_alter_table("item") as batch:' in source

    await amigrate.upgrade(config, "head")
    after = await compare(config)
    assert after.is_empty, [c.description for c in after]
    await amigrate.downgrade(config, "a1")
    assert await describe(db_url) == before


async def test_compare_type_can_be_turned_off_or_decided(db_url: str, tmp_path: Path) -> None:
    project = models_project(tmp_path, db_url, BEFORE)
    config = project.config()
    await write_revision(config, "before", rev_id="a1")
    await amigrate.upgrade(config, "head")
    wider = BEFORE.replace("sa.String(20)", "sa.String(40)")

    set_models(project, wider)
    (change,) = await compare(config)
    assert change.kind == "modify_column"
    assert "VARCHAR(20) -> VARCHAR(40)" in change.description

    set_models(project, wider + "\ncompare_type = False\n")
    assert (await compare(config)).is_empty

    decide = """
seen = []

def compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    seen.append((context.dialect.name, inspected_column.name, metadata_column.name))
    if metadata_column.name == "code":
        return False  # the same, whatever the default comparison says
    return None
"""
    set_models(project, wider + decide)
    assert (await compare(config)).is_empty


async def test_server_defaults_are_compared_only_when_asked(db_url: str, tmp_path: Path) -> None:
    project = models_project(tmp_path, db_url, BEFORE)
    config = project.config()
    await write_revision(config, "before", rev_id="a1")
    await amigrate.upgrade(config, "head")
    changed = BEFORE.replace('server_default="1"', 'server_default="2"')
    set_models(project, changed)
    (change,) = await compare(config)
    assert change.description.startswith("modify column 'item.qty': server default")
    set_models(project, changed + "\ncompare_server_default = False\n")
    assert (await compare(config)).is_empty


async def test_a_text_columns_numeric_default_is_compared_as_text(
    db_url: str, tmp_path: Path
) -> None:
    """'007' and '7' are different defaults of a string column (they compared as numbers),
    and each database's way of writing '007' back is not a change."""
    models = BEFORE.replace(
        'sa.Column("label", sa.String(30)),',
        'sa.Column("label", sa.String(30), server_default="007"),',
    )
    project = models_project(tmp_path, db_url, models)
    config = project.config()
    await write_revision(config, "before", rev_id="a1")
    await amigrate.upgrade(config, "head")
    assert (await compare(config)).is_empty
    set_models(project, models.replace('server_default="007"', 'server_default="7"'))
    (change,) = await compare(config)
    assert change.description.startswith("modify column 'item.label': server default")


SIZES = """
sized = sa.Table(
    "sized",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("whole", sa.Numeric(10)),
    sa.Column("price", sa.Numeric(10, 2)),
    sa.Column("any_number", sa.Numeric()),
    sa.Column("code", sa.String(20)),
)
"""


async def test_sizes_dropped_from_a_type(db_url: str, tmp_path: Path) -> None:
    """A scale dropped from Numeric(10, 2), and on PostgreSQL a length dropped from a
    String (unlimited there), are changes; the types as created are not."""
    project = models_project(tmp_path, db_url, SIZES)
    config = project.config()
    await write_revision(config, "sized", rev_id="s1")
    await amigrate.upgrade(config, "head")
    assert (await compare(config)).is_empty
    set_models(project, SIZES.replace("sa.Numeric(10, 2)", "sa.Numeric(10)"))
    (change,) = await compare(config)
    assert change.description.startswith("modify column 'sized.price': type")
    if backend(db_url) == "postgresql":
        set_models(project, SIZES.replace("sa.String(20)", "sa.String()"))
        (change,) = await compare(config)
        assert change.description.startswith("modify column 'sized.code': type")


COLLATED = """
named = sa.Table(
    "named",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sorted_c", sa.String(20, collation="C")),
    sa.Column("plain", sa.Text),
)
"""


async def test_a_collation_added_or_removed_on_postgresql(
    postgresql_url: str, tmp_path: Path
) -> None:
    """PostgreSQL reports a collation only where one was given: one on either side only
    is a change (it was missed), the same one is not."""
    project = models_project(tmp_path, postgresql_url, COLLATED)
    config = project.config()
    await write_revision(config, "named", rev_id="c1")
    await amigrate.upgrade(config, "head")
    assert (await compare(config)).is_empty
    for changed in (
        COLLATED.replace('sa.String(20, collation="C")', "sa.String(20)"),
        COLLATED.replace("sa.Text)", 'sa.Text(collation="POSIX"))'),
    ):
        set_models(project, changed)
        (change,) = await compare(config)
        assert "type" in change.description


SPELLED_DEFAULTS = {
    "postgresql": """
token = sa.Table(
    "token",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("expires", sa.DateTime(timezone=True),
              server_default=sa.text("now() + interval '30 days'")),
    sa.Column("on", sa.Boolean, server_default="t"),
    sa.Column("off", sa.Boolean, server_default="off"),
    sa.Column("ttl", sa.Interval, server_default=sa.text("interval '30 days'")),
    sa.Column("answer", sa.Enum("yes", "y", "no", name="answer"), server_default="yes"),
)
""",
    "mysql": """
from sqlalchemy.dialects import mysql

token = sa.Table(
    "token",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", mysql.DATETIME(fsp=6), server_default=sa.func.now(6)),
)
""",
}


@pytest.mark.parametrize("db_url", ["postgresql", "mysql"], indirect=True)
async def test_defaults_as_the_database_spells_them_back(db_url: str, tmp_path: Path) -> None:
    """interval '30 days', 't' / 'off' for a Boolean (PostgreSQL) and now(6) (MariaDB) come
    back as '30 days'::interval, true / false and current_timestamp(6): no change (they
    were reported on every run)."""
    models = SPELLED_DEFAULTS[backend(db_url)]
    project = models_project(tmp_path, db_url, models)
    config = project.config()
    await write_revision(config, "first", rev_id="d1")
    await amigrate.upgrade(config, "head")
    assert (await compare(config)).is_empty
    if backend(db_url) == "postgresql":  # an enum's values are text, not booleans
        set_models(project, models.replace('server_default="yes"', 'server_default="y"'))
        (change,) = await compare(config)
        assert change.description.startswith("modify column 'token.answer': server default")


DEFERRED_UNIQUE = """
pair = sa.Table(
    "pair",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("a", sa.Integer),
    sa.Column("b", sa.Integer),
    sa.UniqueConstraint("a", "b", name="uq_pair_ab", deferrable=True, initially="DEFERRED",
                        postgresql_nulls_not_distinct=True),
)
"""


async def test_unique_constraint_options_are_kept(postgresql_url: str, tmp_path: Path) -> None:
    """deferrable, initially and postgresql_nulls_not_distinct reach the database, in a new
    table and in a unique constraint added later (they were left out)."""
    from tests.integration.test_ops_support import query

    project = models_project(tmp_path, postgresql_url, DEFERRED_UNIQUE)
    config = project.config()
    await write_revision(config, "first", rev_id="u1")
    await amigrate.upgrade(config, "head")
    added = 'pair.append_constraint(sa.UniqueConstraint("b", name="uq_pair_b", deferrable=True))'
    set_models(project, DEFERRED_UNIQUE + added + "\n")
    await write_revision(config, "second", rev_id="u2")
    await amigrate.upgrade(config, "head")
    rows = await query(
        postgresql_url,
        "SELECT conname, condeferrable, condeferred, indnullsnotdistinct FROM pg_constraint "
        "JOIN pg_index ON indexrelid = conindid WHERE conname LIKE 'uq_pair%' ORDER BY conname",
    )
    assert rows == [("uq_pair_ab", True, True, True), ("uq_pair_b", True, False, False)]
    assert (await compare(config)).is_empty


@pytest.mark.parametrize("db_url", ["sqlite", "mysql"], indirect=True)
async def test_a_deferrable_unique_constraint_elsewhere(db_url: str, tmp_path: Path) -> None:
    """Only PostgreSQL defers a unique constraint: elsewhere the revision leaves deferrable
    and initially out (SQLite and MariaDB refused the statement)."""
    project = models_project(tmp_path, db_url, DEFERRED_UNIQUE)
    config = project.config()
    await write_revision(config, "first", rev_id="u1")
    await amigrate.upgrade(config, "head")
    assert (await compare(config)).is_empty


FILTERS = """
def include_name(name, type_, parent_names):
    if type_ == "table":
        return not name.startswith("tmp_")
    return True


def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "column" and name == "label")
"""


async def test_include_name_and_include_object(db_url: str, tmp_path: Path) -> None:
    project = models_project(tmp_path, db_url, BEFORE)
    config = project.config()
    await write_revision(config, "before", rev_id="a1")
    await amigrate.upgrade(config, "head")
    from tests.integration.test_ops_support import query

    await query(db_url, "CREATE TABLE tmp_scratch (id INTEGER)")
    dropped_label = BEFORE.replace('    sa.Column("label", sa.String(30)),\n', "")
    set_models(project, dropped_label)
    found = await compare(config)
    assert sorted(c.description for c in found) == [
        "remove column 'item.label'",
        "remove table 'tmp_scratch'",
    ]
    set_models(project, dropped_label + FILTERS)
    assert (await compare(config)).is_empty


async def test_the_version_and_history_tables_are_never_reported(
    sqlite_url: str, tmp_path: Path
) -> None:
    project = models_project(tmp_path, sqlite_url, BEFORE)
    config = project.config()
    await write_revision(config, "before", rev_id="a1")
    await amigrate.upgrade(config, "head")
    set_models(project, "")
    removed = sorted(c.table for c in await compare(config))
    assert removed == ["item", "obsolete", "owner"]


async def test_bad_settings_are_clear_errors(sqlite_url: str, tmp_path: Path) -> None:
    project = models_project(tmp_path, sqlite_url, "")
    config = project.config()
    set_models(project, "compare_type = 'yes'\n")
    with pytest.raises(ConfigError, match="compare_type must be True, False or a function"):
        await compare(config)
    set_models(project, "target_metadata = {'main': metadata}\n")
    with pytest.raises(ConfigError, match="a dict keyed by database name"):
        await compare(config)
    set_models(project, "target_metadata = [metadata, 'x']\n")
    with pytest.raises(ConfigError, match="must be a MetaData or a list of them, not str"):
        await compare(config)


SCHEMAS = """
include_schemas = True

sa.Table("note", metadata, sa.Column("id", sa.Integer, primary_key=True))
sa.Table(
    "entry",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("note_id", sa.ForeignKey("note.id")),
    schema="audit",
)
"""


async def test_include_schemas(postgresql_url: str, tmp_path: Path) -> None:
    from tests.integration.test_ops_support import query

    await query(postgresql_url, "CREATE SCHEMA audit")
    await query(postgresql_url, "CREATE SCHEMA scratch")
    await query(postgresql_url, "CREATE TABLE scratch.junk (id INTEGER)")
    project = models_project(tmp_path, postgresql_url, SCHEMAS)
    config = project.config()
    path, found = await write_revision(config, "schemas", rev_id="a1")
    assert sorted(c.description for c in found) == [
        "add table 'audit.entry'",
        "add table 'note'",
        "remove table 'scratch.junk'",
    ]
    assert 'schema="audit"' in path.read_text()
    path.unlink()

    only_audit = SCHEMAS + (
        "\ndef include_name(name, type_, parent_names):\n"
        "    return type_ != 'schema' or name == 'audit'\n"
    )
    set_models(project, only_audit)
    await write_revision(config, "schemas", rev_id="a1")
    await amigrate.upgrade(config, "head")
    assert (await compare(config)).is_empty

    set_models(project, only_audit.replace("include_schemas = True", ""))
    # Without include_schemas, only the default schema is compared.
    assert (await compare(config)).is_empty


async def test_an_unnamed_foreign_key_that_changes_is_left_with_a_note(
    sqlite_url: str, tmp_path: Path
) -> None:
    # SQLite keeps foreign keys unnamed: adding the changed one would leave two keys
    # and a downgrade that cannot drop the new one; nothing is written, and a note says why.
    models = """
owner = sa.Table("owner", metadata, sa.Column("id", sa.Integer, primary_key=True))
item = sa.Table(
    "item",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("owner.id"{options})),
)
"""
    project = models_project(tmp_path, sqlite_url, models.format(options=""))
    config = project.config()
    await write_revision(config, "before", rev_id="a1")
    await amigrate.upgrade(config, "head")
    set_models(project, models.format(options=', ondelete="CASCADE"'))
    diff = await compare(config)
    assert diff.is_empty, [c.description for c in diff]
    (note,) = diff.notes
    assert "differs from the database's (ondelete=None" in note
    assert "no name to drop it by" in note
    # check, a CI gate, fails on it (it said "No differences" and exited 0)
    result = await asyncio.to_thread(run_cli, "check", cwd=project.root)
    assert_clean_error(result, code=3, match="differ in 1 way autogenerate cannot write")
    assert "No differences" not in result.out
    assert "note: " in result.err
