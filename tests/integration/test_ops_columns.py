"""Column ops on SQLite, PostgreSQL and MariaDB: add, drop and alter, reflected and undone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import amigrate
from amigrate.config import Config
from tests.integration.test_ops_support import backend, expect_failure, op_roundtrip, query
from tests.projects import Rev, make_project

TABLES = """
await op.create_table("owner", sa.Column("id", sa.Integer, primary_key=True))
await op.create_table(
    "item",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), server_default="n/a", comment="label"),
    sa.Column("qty", sa.Integer, nullable=False, server_default="1"),
)
await op.execute("INSERT INTO item (id) VALUES (1)")
"""


def columns(schema: dict[str, Any], table: str = "item") -> dict[str, tuple[Any, ...]]:
    return {c[0]: c for c in schema["tables"][table]["columns"]}


async def test_add_column(db_url: str, tmp_path: Path) -> None:
    upgrade = """
await op.add_column("item", sa.Column("price", sa.Numeric(8, 2), server_default="0"))
await op.add_column(
    "item",
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("owner.id", name="fk_item_owner"),
              index=True, comment="who"),
)
"""
    downgrade = """
if op.dialect.name == "sqlite":  # SQLite's DROP COLUMN refuses a foreign key column
    async with op.batch_alter_table("item") as batch:
        await batch.drop_column("owner_id")
        await batch.drop_column("price")
else:
    await op.drop_constraint("fk_item_owner", "item", type_="foreignkey")
    await op.drop_index("ix_item_owner_id", "item")
    await op.drop_column("item", "owner_id")
    await op.drop_column("item", "price")
"""

    async def check() -> None:
        rows = await query(db_url, "SELECT id, price, owner_id FROM item")
        assert [(r[0], float(r[1]), r[2]) for r in rows] == [(1, 0.0, None)]

    _, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade=downgrade, check=check
    )
    cols = columns(after)
    assert list(cols)[-2:] == ["price", "owner_id"]
    assert cols["price"][2]  # nullable
    fks = after["tables"]["item"]["fks"]
    assert [(f[1], f[3], f[4]) for f in fks] == [(("owner_id",), "owner", ("id",))]
    assert any("ix_item_owner_id" in str(i) for i in after["tables"]["item"]["indexes"])
    if backend(db_url) != "sqlite":
        assert fks[0][0] == "fk_item_owner"
        assert cols["owner_id"][4] == "who"


async def test_add_column_with_its_own_checks(db_url: str, tmp_path: Path) -> None:
    """A column's CHECK constraints come with it, a named one by its name (on MariaDB, which
    takes no name on a column's CHECK, as the table's, in the same ALTER TABLE)."""
    upgrade = """
await op.add_column(
    "item",
    sa.Column("size", sa.Integer, sa.CheckConstraint("size > 0", name="ck_item_size"),
              sa.CheckConstraint("size < 100")),
)
"""
    downgrade = """
async with op.batch_alter_table("item") as batch:
    await batch.drop_column("size")
"""

    async def check() -> None:
        # (MariaDB reports a failed CHECK as an OperationalError, the others as IntegrityError.)
        with pytest.raises((sa.exc.IntegrityError, sa.exc.OperationalError), match="size|CHECK"):
            await query(db_url, "UPDATE item SET size = 0")
        with pytest.raises((sa.exc.IntegrityError, sa.exc.OperationalError), match="CHECK|item"):
            await query(db_url, "UPDATE item SET size = 100")

    _, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade=downgrade, check=check
    )
    checks = after["tables"]["item"]["checks"]
    assert "ck_item_size" in [name for name, _ in checks]


async def test_create_table_with_a_columns_named_check(db_url: str, tmp_path: Path) -> None:
    """MariaDB takes no name on a column's CHECK: there it is the table's, by that name."""
    upgrade = """
await op.create_table(
    "gauge",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("level", sa.Integer, sa.CheckConstraint("level >= 0", name="ck_gauge_level")),
)
"""
    downgrade = 'await op.drop_table("gauge")'

    async def check() -> None:
        with pytest.raises((sa.exc.IntegrityError, sa.exc.OperationalError), match="level"):
            await query(db_url, "INSERT INTO gauge (id, level) VALUES (1, -1)")

    _, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade=downgrade, check=check
    )
    assert "ck_gauge_level" in [name for name, _ in after["tables"]["gauge"]["checks"]]


@pytest.mark.parametrize("db_url", ["postgresql", "mysql"], indirect=True)
async def test_add_column_if_not_exists_with_a_named_check(db_url: str, tmp_path: Path) -> None:
    """A column that is there already is left as it is, its check too (MariaDB added the
    check anyway: 'Duplicate CHECK constraint name')."""
    add = (
        'await op.add_column("item", sa.Column("size", sa.Integer, '
        'sa.CheckConstraint("size > 0", name="ck_item_size")), if_not_exists=True)\n'
    )
    project = make_project(tmp_path, db_url, Rev("a1", None, upgrade=TABLES + add + add))
    await amigrate.upgrade(project.config())
    checks = await query(
        db_url,
        "SELECT count(*) FROM information_schema.table_constraints "
        "WHERE constraint_name = 'ck_item_size'",
    )
    assert checks == [(1,)]


async def test_add_column_if_not_exists(db_url: str, tmp_path: Path) -> None:
    upgrade = 'await op.add_column("item", sa.Column("name", sa.Text), if_not_exists=True)'
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=TABLES, upgrade=upgrade, match="no ADD COLUMN IF NOT EXISTS"
        )
        return
    before, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade="pass"
    )
    assert after == before  # the column was there: nothing changed


async def test_add_column_sqlite_cannot_add_in_place(sqlite_url: str, tmp_path: Path) -> None:
    for n, (column, why) in enumerate(
        [
            ('sa.Column("code", sa.String(5), unique=True)', "cannot add a UNIQUE column"),
            ('sa.Column("code", sa.Integer, nullable=False)', "NOT NULL column without a default"),
            (
                'sa.Column("at", sa.DateTime, server_default=sa.func.now())',
                "default is an expression",
            ),
        ]
    ):
        err = await expect_failure(
            tmp_path / str(n),
            sqlite_url.replace("test.db", f"test{n}.db"),
            setup=TABLES,
            upgrade=f'await op.add_column("item", {column})',
            match=why,
        )
        assert "batch_alter_table" in (getattr(err, "hint", None) or "")


async def test_add_and_drop_an_enum_column(postgresql_url: str, tmp_path: Path) -> None:
    before, after = await op_roundtrip(
        tmp_path,
        postgresql_url,
        setup=TABLES,
        upgrade='await op.add_column("item", sa.Column("size", sa.Enum("s", "m", name="size")))',
        downgrade='await op.drop_column("item", "size")',
    )
    assert before["enums"] == []
    assert [e[1:] for e in after["enums"]] == [("size", ("s", "m"))]
    assert columns(after)["size"][1] == "size"


async def test_enums_inside_type_decorators_are_created_and_dropped(
    postgresql_url: str, tmp_path: Path
) -> None:
    # SQLAlchemy's create_all creates the enum a TypeDecorator wraps; amigrate used to
    # leave it out ('type "mood" does not exist'), in an array too.
    decorators = """
        class Feeling(sa.types.TypeDecorator):
            impl = sa.Enum("happy", "sad", name="mood")
            cache_ok = True

        class Mood(sa.types.TypeDecorator):  # one over another
            impl = Feeling
            cache_ok = True

        class Sizes(sa.types.TypeDecorator):
            impl = sa.ARRAY(sa.Enum("s", "m", name="size"))
            cache_ok = True
    """
    before, after = await op_roundtrip(
        tmp_path,
        postgresql_url,
        setup=TABLES,
        upgrade=decorators
        + """
        await op.create_table("feel", sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("m", Mood()))
        await op.add_column("item", sa.Column("sizes", Sizes()))
        """,
        downgrade="""
        await op.drop_column("item", "sizes")
        await op.drop_table("feel")
        """,
    )
    assert before["enums"] == []
    assert sorted(e[1:] for e in after["enums"]) == [
        ("mood", ("happy", "sad")),
        ("size", ("s", "m")),
    ]
    assert columns(after, "feel")["m"][1] == "mood"


async def test_alter_an_array_column_to_an_array_of_a_new_enum(
    postgresql_url: str, tmp_path: Path
) -> None:
    # The cast goes through an array of text (it was written for one value: 'cannot be
    # cast automatically to type tag[]').
    async def values() -> None:
        assert await query(postgresql_url, "SELECT tags::text FROM tagged") == [("{a,b}",)]

    _, after = await op_roundtrip(
        tmp_path,
        postgresql_url,
        setup="""
        await op.create_table("tagged", sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("tags", sa.ARRAY(sa.String(10))))
        await op.execute("INSERT INTO tagged (id, tags) VALUES (1, '{a,b}')")
        """,
        upgrade="""
        await op.alter_column("tagged", "tags", type_=sa.ARRAY(sa.Enum("a", "b", name="tag")),
            existing_type=sa.ARRAY(sa.String(10)))
        """,
        downgrade="""
        await op.alter_column("tagged", "tags", type_=sa.ARRAY(sa.String(10)),
            existing_type=sa.ARRAY(sa.Enum("a", "b", name="tag")))
        """,
        check=values,
    )
    assert [e[1:] for e in after["enums"]] == [("tag", ("a", "b"))]
    assert columns(after, "tagged")["tags"][1] == "tag[]"


async def test_alter_a_column_to_a_new_domain(postgresql_url: str, tmp_path: Path) -> None:
    # It is created where missing, as create_table and add_column create theirs (it
    # failed: type "positive" does not exist).
    async def checked() -> None:
        with pytest.raises(Exception, match="positive"):
            await query(postgresql_url, "UPDATE item SET qty = 0")

    _, after = await op_roundtrip(
        tmp_path,
        postgresql_url,
        setup=TABLES,
        upgrade="""
        from sqlalchemy.dialects.postgresql import DOMAIN

        positive = DOMAIN("positive", sa.Integer, check="VALUE > 0")
        await op.alter_column("item", "qty", type_=positive, existing_type=sa.Integer())
        """,
        downgrade="""
        await op.alter_column("item", "qty", type_=sa.Integer(), existing_type=sa.Integer())
        """,
        check=checked,
    )
    assert columns(after)["qty"][1] == "positive"


async def test_alter_a_column_to_a_new_enum(postgresql_url: str, tmp_path: Path) -> None:
    """The type is created first and the values cast through text; back to a string, the
    enum nothing uses any more is dropped (as drop_column does)."""

    async def values() -> None:
        rows = await query(postgresql_url, "SELECT name::text FROM item")
        assert rows == [("s",)]

    before, after = await op_roundtrip(
        tmp_path,
        postgresql_url,
        setup=TABLES + "await op.execute(\"UPDATE item SET name = 's'\")",
        upgrade="""
            await op.alter_column(
                "item", "name", type_=sa.Enum("s", "m", name="size"), server_default=None
            )
        """,
        downgrade="""
            await op.alter_column("item", "name", type_=sa.String(50), server_default="n/a")
        """,
        check=values,
    )
    assert before["enums"] == []
    assert [e[1:] for e in after["enums"]] == [("size", ("s", "m"))]
    assert columns(after)["name"][1] == "size"


async def test_alter_a_column_with_a_default_to_a_new_enum(
    postgresql_url: str, tmp_path: Path
) -> None:
    """A default the op leaves as it is survives the change (PostgreSQL could not cast
    'happy'::character varying to the enum, and the step failed), online and offline."""
    setup = """
await op.create_table("a", sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("m", sa.String(10), server_default="happy"))
"""
    upgrade = """
await op.alter_column("a", "m", type_=sa.Enum("happy", "sad", name="mood"),
                      existing_type=sa.String(10))
"""
    offline = upgrade.replace(")\n", ', existing_server_default="happy")\n')
    downgrade = 'await op.alter_column("a", "m", type_=sa.String(10), server_default="happy")'

    async def check() -> None:
        await query(postgresql_url, "INSERT INTO a (id) VALUES (1)")
        assert await query(postgresql_url, "SELECT m::text FROM a") == [("happy",)]
        await query(postgresql_url, "DELETE FROM a")

    _, after = await op_roundtrip(
        tmp_path, postgresql_url, setup=setup, upgrade=upgrade, downgrade=downgrade, check=check
    )
    assert columns(after, "a")["m"][1] == "mood"
    project = make_project(
        tmp_path / "offline",
        postgresql_url,
        Rev("a1", None, upgrade=setup),
        Rev("b2", "a1", upgrade=offline),
    )
    async with amigrate.Migrator(project.ini) as m:
        script = (await m.sql("up", "a1:b2")).sql or ""
    assert "SET DEFAULT ('happy')::text::mood" in script


async def test_drop_column(db_url: str, tmp_path: Path) -> None:
    before, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade='await op.drop_column("item", "qty")',
        downgrade=(
            'await op.add_column("item", sa.Column("qty", sa.Integer, nullable=False, '
            'server_default="1"))'
        ),
    )
    assert "qty" in columns(before)
    assert list(columns(after)) == ["id", "name"]


@pytest.mark.parametrize(
    ("setup", "column", "match"),
    [
        ('await op.create_index("ix_item_qty", "item", ["qty"])', "qty", "the index 'ix_item_qty'"),
        (
            'await op.execute("CREATE UNIQUE INDEX ux_item_name ON item (name)")',
            "name",
            "ux_item_name",
        ),
        (
            'await op.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, code TEXT UNIQUE)")',
            None,
            "a UNIQUE constraint",
        ),
        ("pass", "id", "a column of the primary key"),
    ],
)
async def test_sqlite_drop_column_that_sqlite_cannot_drop(
    sqlite_url: str, tmp_path: Path, setup: str, column: str | None, match: str
) -> None:
    """SQLite's DROP COLUMN refuses these with errors that do not say what to do ('error
    in index ix after drop column'): refused first, pointing at a batch."""
    table = "item" if column is not None else "u"
    upgrade = f'await op.drop_column("{table}", "{column or "code"}")'
    cause = await expect_failure(
        tmp_path, sqlite_url, setup=TABLES + setup, upgrade=upgrade, match=match
    )
    assert "batch_alter_table" in str(getattr(cause, "hint", ""))


async def test_drop_column_if_exists(db_url: str, tmp_path: Path) -> None:
    upgrade = 'await op.drop_column("item", "nope", if_exists=True)'
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=TABLES, upgrade=upgrade, match="no DROP COLUMN IF EXISTS"
        )
        return
    before, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=upgrade, downgrade="pass"
    )
    assert after == before


ALTER_UP = """
await op.alter_column("item", "qty", type_=sa.BigInteger, nullable=True, server_default="5",
                      existing_type=sa.Integer)
await op.alter_column("item", "name", nullable=False, server_default=None)
"""
ALTER_DOWN = """
await op.alter_column("item", "name", nullable=True, server_default="n/a")
await op.alter_column("item", "qty", type_=sa.Integer, nullable=False, server_default="1")
"""


async def test_alter_column_type_nullability_default(db_url: str, tmp_path: Path) -> None:
    if backend(db_url) == "sqlite":
        err = await expect_failure(
            tmp_path,
            db_url,
            setup=TABLES,
            upgrade=ALTER_UP,
            match="can only rename a column, not change its type, nullable, default",
        )
        assert "batch_alter_table" in (getattr(err, "hint", None) or "")
        return
    before, after = await op_roundtrip(
        tmp_path, db_url, setup=TABLES, upgrade=ALTER_UP, downgrade=ALTER_DOWN
    )
    qty, name = columns(after)["qty"], columns(after)["name"]
    assert qty[1].startswith("BIGINT")
    assert qty[2]  # now nullable
    assert "5" in (qty[3] or "")
    assert not name[2]
    assert name[3] is None
    if backend(db_url) == "mysql":
        # MODIFY restates the column: the comment read from the database was kept.
        assert name[4] == "label"
    assert columns(before)["name"][4] == "label"


async def test_alter_column_rename(db_url: str, tmp_path: Path) -> None:
    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade='await op.alter_column("item", "name", new_column_name="title")',
        downgrade='await op.alter_column("item", "title", new_column_name="name")',
    )
    assert list(columns(after)) == ["id", "title", "qty"]
    title = columns(after)["title"]
    assert "n/a" in (title[3] or "")  # the default came along


async def test_alter_column_comment(db_url: str, tmp_path: Path) -> None:
    upgrade = 'await op.alter_column("item", "qty", comment="how many", existing_type=sa.Integer)'
    if backend(db_url) == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=TABLES, upgrade=upgrade, match="SQLite keeps no comments"
        )
        return
    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=TABLES,
        upgrade=upgrade,
        downgrade='await op.alter_column("item", "qty", comment=None)',
    )
    qty = columns(after)["qty"]
    assert qty[4] == "how many"
    assert not qty[2]  # MySQL's MODIFY kept NOT NULL (read from the database)
    assert "1" in (qty[3] or "")


async def test_alter_column_postgresql_using(db_url: str, tmp_path: Path) -> None:
    setup = TABLES + '\nawait op.add_column("item", sa.Column("code", sa.String(10)))'
    upgrade = (
        'await op.alter_column("item", "code", type_=sa.Integer, postgresql_using="code::integer")'
    )
    kind = backend(db_url)
    # (Elsewhere it is left out, as Alembic and SQLAlchemy leave other dialects' options:
    # one revision serves every database.)
    if kind == "sqlite":
        await expect_failure(
            tmp_path, db_url, setup=setup, upgrade=upgrade, match="can only rename a column"
        )
        return
    _, after = await op_roundtrip(
        tmp_path,
        db_url,
        setup=setup,
        upgrade=upgrade,
        downgrade='await op.alter_column("item", "code", type_=sa.String(10))',
    )
    assert columns(after)["code"][1] in ("INTEGER", "INTEGER(11)")


async def test_mysql_modify_keeps_what_it_is_not_told(mysql_url: str, tmp_path: Path) -> None:
    setup = """
await op.create_table(
    "event",
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.TIMESTAMP, nullable=False,
              server_default=sa.text("CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP")),
)
"""
    upgrade = """
await op.alter_column("event", "id", type_=sa.BigInteger)
await op.alter_column("event", "at", comment="when")
"""
    downgrade = """
await op.alter_column("event", "at", comment=None)
await op.alter_column("event", "id", type_=sa.Integer)
"""

    async def check() -> None:
        await query(mysql_url, "INSERT INTO event () VALUES ()")  # AUTO_INCREMENT kept
        assert await query(mysql_url, "SELECT id FROM event") == [(1,)]

    before, after = await op_roundtrip(
        tmp_path, mysql_url, setup=setup, upgrade=upgrade, downgrade=downgrade, check=check
    )
    at = columns(after, "event")["at"]
    assert at[1:4] == columns(before, "event")["at"][1:4]  # type, NOT NULL, ON UPDATE default
    assert "on update" in (at[3] or "").lower()
    assert at[4] == "when"
    assert columns(after, "event")["id"][1].startswith("BIGINT")


MOVABLE = """
await op.execute(
    "CREATE TABLE m ("
    "id int unsigned NOT NULL AUTO_INCREMENT COMMENT 'the id', "
    "code varchar(10) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL DEFAULT 'it''s' "
    "COMMENT 'a code', "
    "price decimal(8,2) unsigned zerofill DEFAULT 1.50, "
    "touched timestamp NOT NULL DEFAULT '2020-01-01 00:00:00' ON UPDATE current_timestamp(), "
    "doubled int GENERATED ALWAYS AS (qty * 2) VIRTUAL COMMENT 'twice', "
    "qty int DEFAULT 4 CHECK (qty >= 0), "
    "data json, "
    "hidden int INVISIBLE DEFAULT 3, "
    "PRIMARY KEY (id))"
)
await op.execute("INSERT INTO m (code, price, qty, data) VALUES ('a', 2, 5, '[1]')")
"""

# Each column moves, some with a change of type, nullability or name in the same op.
MOVE_UP = """
async with op.batch_alter_table("m") as batch:
    await batch.alter_column("hidden", insert_before="id")
    await batch.alter_column("id", insert_after="touched")
    await batch.alter_column("qty", type_=sa.BigInteger, insert_after="code")
    await batch.alter_column("price", nullable=False, insert_after="data")
    await batch.alter_column("doubled", insert_before="code")
    await batch.alter_column("data", insert_after="hidden")
    await batch.alter_column("touched", new_column_name="touched_at", insert_after="price")
"""
MOVE_DOWN = """
async with op.batch_alter_table("m") as batch:
    await batch.alter_column("id", insert_before="hidden")
    await batch.alter_column("code", insert_after="id")
    await batch.alter_column("price", nullable=True, insert_after="code")
    await batch.alter_column("touched_at", new_column_name="touched", insert_after="price")
    await batch.alter_column("doubled", insert_after="touched")
    await batch.alter_column("qty", type_=sa.Integer, insert_after="doubled")
    await batch.alter_column("data", insert_after="qty")
"""


async def show_columns(url: str) -> dict[str, str]:
    """Each column of table m as SHOW CREATE TABLE writes it, in order."""
    ((_, sql),) = await query(url, "SHOW CREATE TABLE m")
    lines = [line.strip().rstrip(",") for line in sql.splitlines()]
    return {line.split("`")[1]: line for line in lines if line.startswith("`")}


async def column_facts(url: str) -> dict[str, tuple[Any, ...]]:
    """information_schema's account of each column of m (its place left out)."""
    rows = await query(
        url,
        "SELECT COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, IS_NULLABLE, "
        "COLUMN_DEFAULT, EXTRA, GENERATION_EXPRESSION, COLUMN_COMMENT FROM "
        "information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'm'",
    )
    return {r[0]: r[1:] for r in rows}


async def column_checks(url: str) -> list[tuple[Any, ...]]:
    return await query(
        url,
        "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1",
    )


async def movable(tmp_path: Path, url: str, upgrade: str, downgrade: str) -> Config:
    """A project whose a1 creates table m (applied) and whose b2 is the op under test."""
    project = make_project(
        tmp_path,
        url,
        Rev("a1", None, upgrade=MOVABLE),
        Rev("b2", "a1", upgrade=upgrade, downgrade=downgrade),
    )
    config = project.config()
    await amigrate.upgrade(config, "a1")
    return config


async def test_mysql_moves_a_column_keeping_all_of_it(mysql_url: str, tmp_path: Path) -> None:
    # MODIFY ... AFTER restates the whole column: default, ON UPDATE, comment, charset
    # and collation, AUTO_INCREMENT, unsigned zerofill, a generated expression,
    # INVISIBLE and a column CHECK (JSON's too) must all come through unchanged.
    config = await movable(tmp_path, mysql_url, MOVE_UP, MOVE_DOWN)
    before, facts = await show_columns(mysql_url), await column_facts(mysql_url)
    checks = await column_checks(mysql_url)
    await amigrate.upgrade(config, "b2")
    after, moved = await show_columns(mysql_url), await column_facts(mysql_url)
    assert list(after) == [
        "hidden", "data", "doubled", "code", "qty", "id", "price", "touched_at"
    ]  # fmt: skip
    for name in ("hidden", "data", "doubled", "code", "id"):
        assert after[name] == before[name]  # moved only: word for word the same
        assert moved[name] == facts[name]
    assert after["touched_at"] == before["touched"].replace("`touched`", "`touched_at`")
    assert moved["touched_at"] == facts["touched"]
    # Changed in the same op: only what was asked for changed.
    assert moved["qty"] == ("bigint(20)", *facts["qty"][1:])
    assert after["qty"].endswith("DEFAULT 4 CHECK (`qty` >= 0)")
    assert moved["price"] == (*facts["price"][:3], "NO", *facts["price"][4:])
    assert await column_checks(mysql_url) == checks
    # The rows, and what the column attributes do, are still there.
    await query(mysql_url, "INSERT INTO m (price) VALUES (3)")
    await query(mysql_url, "UPDATE m SET code = 'b' WHERE id = 1")
    rows = await query(
        mysql_url, "SELECT id, code, qty, doubled, hidden, touched_at > '2020-01-01' FROM m"
    )
    assert rows == [(1, "b", 5, 10, 3, 1), (2, "it's", 4, 8, 3, 0)]
    await amigrate.downgrade(config, "a1")
    assert await show_columns(mysql_url) == before


async def test_mysql_modify_keeps_collation_and_column_checks(
    mysql_url: str, tmp_path: Path
) -> None:
    # Without a move too: a type or nullability change restates the column with its
    # character set, collation and CHECK (MariaDB's json_valid for a JSON column).
    upgrade = """
await op.alter_column("m", "code", type_=sa.String(20))
await op.alter_column("m", "data", nullable=False)
await op.alter_column("m", "qty", type_=sa.BigInteger, comment="how many")
"""
    downgrade = """
await op.alter_column("m", "qty", type_=sa.Integer, comment=None)
await op.alter_column("m", "data", nullable=True)
await op.alter_column("m", "code", type_=sa.String(10))
"""
    config = await movable(tmp_path, mysql_url, upgrade, downgrade)
    before = await column_facts(mysql_url)
    await amigrate.upgrade(config, "b2")
    after = await column_facts(mysql_url)
    assert after["code"] == ("varchar(20)", *before["code"][1:])
    # (NOT NULL: its DEFAULT NULL went, as MySQL wants.)
    assert after["data"] == (*before["data"][:3], "NO", None, *before["data"][5:])
    assert after["qty"] == ("bigint(20)", *before["qty"][1:-1], "how many")
    with pytest.raises(sa.exc.DBAPIError, match="CONSTRAINT"):
        await query(mysql_url, "UPDATE m SET data = 'not json', qty = -1")
    await amigrate.downgrade(config, "a1")
    assert await column_facts(mysql_url) == before


async def test_mysql_new_type_drops_json_check_of_a_column_named_with_a_blank(
    mysql_url: str, tmp_path: Path
) -> None:
    # MariaDB writes a JSON column's type as CHECK (json_valid(`my data`)): a new type
    # drops it whatever the column's name (a blank or a backtick in it too).
    upgrade = """
await op.create_table("j", sa.Column("my data", sa.JSON), sa.Column("we`ird", sa.JSON))
await op.alter_column("j", "my data", type_=sa.Text)
await op.alter_column("j", "we`ird", type_=sa.Text)
"""
    project = make_project(
        tmp_path, mysql_url, Rev("a1", None, upgrade=upgrade, downgrade='await op.drop_table("j")')
    )
    await amigrate.upgrade(project.config(), "a1")
    await query(mysql_url, "INSERT INTO j VALUES ('not json', 'nor this')")
    assert await column_checks(mysql_url) == []


async def test_mysql_modify_keeps_percent_signs(mysql_url: str, tmp_path: Path) -> None:
    # The column is restated as SHOW CREATE TABLE has it: a '%' in its default, comment or
    # enum values must reach the server as written (asyncmy formats with '%': it failed
    # with "not enough arguments for format string"), and so must a new one.
    upgrade = """
await op.create_table(
    "m",
    sa.Column("rate", sa.String(10), server_default="5%"),
    sa.Column("c", sa.String(10), comment="100% sure"),
    sa.Column("e", sa.Enum("5%", "50%", name="pct")),
)
await op.alter_column("m", "rate", nullable=False)
await op.alter_column("m", "c", type_=sa.String(20))
await op.alter_column("m", "e", new_column_name="e%2", comment="it's 1%")
"""
    project = make_project(
        tmp_path, mysql_url, Rev("a1", None, upgrade=upgrade, downgrade='await op.drop_table("m")')
    )
    await amigrate.upgrade(project.config(), "a1")
    facts = await column_facts(mysql_url)
    assert (facts["rate"][0], *facts["rate"][3:5]) == ("varchar(10)", "NO", "'5%'")
    assert (facts["c"][0], facts["c"][-1]) == ("varchar(20)", "100% sure")
    assert (facts["e%2"][0], facts["e%2"][-1]) == ("enum('5%','50%')", "it's 1%")


async def test_alter_column_adds_changes_and_drops_an_identity(
    postgresql_url: str, tmp_path: Path
) -> None:
    """As Alembic's alter_column on PostgreSQL: server_default=sa.Identity(...) adds one,
    a different one changes its options, None (with existing_server_default) drops it."""
    setup = """
await op.create_table(
    "counter",
    sa.Column("x", sa.Integer, nullable=False),
    sa.Column("y", sa.BigInteger, sa.Identity(start=1), nullable=False),
    sa.Column("note", sa.String(10)),
)
"""
    upgrade = """
await op.alter_column("counter", "x", server_default=sa.Identity(start=5, increment=2))
await op.alter_column("counter", "y", server_default=sa.Identity(start=1, increment=10),
                      existing_server_default=sa.Identity(start=1))
"""
    downgrade = """
await op.alter_column("counter", "y", server_default=sa.Identity(start=1),
                      existing_server_default=sa.Identity(start=1, increment=10))
await op.alter_column("counter", "x", server_default=None,
                      existing_server_default=sa.Identity(start=5, increment=2))
"""

    async def check() -> None:
        await query(postgresql_url, "INSERT INTO counter (note) VALUES ('a'), ('b')")
        rows = await query(postgresql_url, "SELECT x, y FROM counter ORDER BY x")
        assert rows == [(5, 1), (7, 11)]
        await query(postgresql_url, "DELETE FROM counter")

    await op_roundtrip(
        tmp_path, postgresql_url, setup=setup, upgrade=upgrade, downgrade=downgrade, check=check
    )
    with pytest.raises(sa.exc.IntegrityError):  # x has no identity any more
        await query(postgresql_url, "INSERT INTO counter (note) VALUES ('c')")
