"""A MySQL/MariaDB column definition split into clauses, and restated with changes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from amigrate.dialects.common import stand_in
from amigrate.dialects.mysql import ModifyColumn
from amigrate.dialects.mysqlcolumn import parse_column
from amigrate.dialects.sqltext import create_table_definitions
from amigrate.operations.ops import AlterColumnOp

SHOW_CREATE = """CREATE TABLE `t` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT 'the id, (first)',
  `a` varchar(10) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL DEFAULT 'it''s' COMMENT 'A',
  `c` timestamp(3) NULL DEFAULT NULL ON UPDATE current_timestamp(3),
  `e` decimal(8,2) unsigned zerofill DEFAULT 000001.50,
  `g` int(11) GENERATED ALWAYS AS (`q` * 2) STORED COMMENT 'gen',
  `h` int(11) DEFAULT (`q` + 5),
  `i` int(11) DEFAULT NULL CHECK (`i` > 0),
  `k` int(11) INVISIBLE DEFAULT 3,
  `l` bit(3) DEFAULT b'101',
  `n` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`n`)),
  `p` double DEFAULT -1.5,
  `s` point NOT NULL /*!80003 SRID 4326 */,
  PRIMARY KEY (`id`),
  KEY `ix_a` (`a`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""


def columns() -> dict[str, tuple[str, list[tuple[str, str]]]]:
    found = {}
    for definition in create_table_definitions(SHOW_CREATE)[:-2]:
        column = parse_column(definition)
        assert f"`{column.name}` {column.sql()}" == definition  # nothing lost
        found[column.name] = (column.type_sql, column.clauses)
    return found


def test_a_definition_splits_into_its_type_and_clauses() -> None:
    found = columns()
    assert found["id"] == (
        "int(10) unsigned",
        [
            ("null", "NOT NULL"),
            ("auto_increment", "AUTO_INCREMENT"),
            ("comment", "COMMENT 'the id, (first)'"),
        ],
    )
    assert found["a"][1][:2] == [
        ("charset", "CHARACTER SET latin1"),
        ("collate", "COLLATE latin1_bin"),
    ]
    assert found["c"][1] == [
        ("null", "NULL"),
        ("default", "DEFAULT NULL"),
        ("on_update", "ON UPDATE current_timestamp(3)"),
    ]
    assert found["e"] == ("decimal(8,2) unsigned zerofill", [("default", "DEFAULT 000001.50")])
    assert found["g"][1] == [
        ("generated", "GENERATED ALWAYS AS (`q` * 2) STORED"),
        ("comment", "COMMENT 'gen'"),
    ]
    assert found["h"][1] == [("default", "DEFAULT (`q` + 5)")]
    assert found["i"][1] == [("default", "DEFAULT NULL"), ("check", "CHECK (`i` > 0)")]
    assert found["k"][1] == [("other", "INVISIBLE"), ("default", "DEFAULT 3")]
    assert found["l"][1] == [("default", "DEFAULT b'101'")]
    assert found["p"][1] == [("default", "DEFAULT -1.5")]
    assert found["s"][1] == [("null", "NOT NULL"), ("other", "/*!80003 SRID 4326 */")]


def definition(name: str) -> str:
    (found,) = [d for d in create_table_definitions(SHOW_CREATE) if d.startswith(f"`{name}`")]
    return found


@pytest.mark.parametrize(
    ("name", "changes", "expected"),
    [
        # Nothing changed (a move): word for word.
        ("a", {}, "varchar(10) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL DEFAULT 'it''s' "
         "COMMENT 'A'"),
        # A text type keeps the character set and collation; another type drops them.
        ("a", {"type_sql": "VARCHAR(20)"}, "VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin "
         "NOT NULL DEFAULT 'it''s' COMMENT 'A'"),
        ("a", {"type_sql": "VARCHAR(20) COLLATE utf8mb4_bin"}, "VARCHAR(20) COLLATE utf8mb4_bin "
         "NOT NULL DEFAULT 'it''s' COMMENT 'A'"),
        ("a", {"type_sql": "INTEGER", "text": False, "default": None, "comment": None},
         "INTEGER NOT NULL"),
        # JSON's CHECK belongs to its type; another CHECK stays, last, as MariaDB wants.
        ("n", {"type_sql": "TEXT"}, "TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL"),
        ("n", {"nullable": False}, "longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL "
         "CHECK (json_valid(`n`))"),
        ("i", {"type_sql": "BIGINT", "text": False, "comment": "'x'"},
         "BIGINT DEFAULT NULL COMMENT 'x' CHECK (`i` > 0)"),
        ("i", {"new_name": "j", "quote": lambda n: f"`{n}`"},
         "int(11) DEFAULT NULL CHECK (`j` > 0)"),
        # A default with its own ON UPDATE replaces the old one; without, it stays.
        ("c", {"default": "CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)"},
         "timestamp(3) NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)"),
        ("c", {"nullable": False, "default": "'2020-01-01'"},
         "timestamp(3) NOT NULL DEFAULT '2020-01-01' ON UPDATE current_timestamp(3)"),
        ("id", {"autoincrement": False, "nullable": True}, "int(10) unsigned NULL "
         "COMMENT 'the id, (first)'"),
        ("e", {"autoincrement": True, "nullable": False},
         "decimal(8,2) unsigned zerofill NOT NULL DEFAULT 000001.50 AUTO_INCREMENT"),
        ("g", {"nullable": False}, "int(11) GENERATED ALWAYS AS (`q` * 2) STORED NOT NULL "
         "COMMENT 'gen'"),
        ("k", {"comment": "'k'"}, "int(11) INVISIBLE DEFAULT 3 COMMENT 'k'"),
    ],
)  # fmt: skip
def test_changes_keep_every_other_clause(
    name: str, changes: dict[str, object], expected: str
) -> None:
    column = parse_column(definition(name))
    assert column.changed(**changes).sql() == expected  # type: ignore[arg-type]
    assert f"`{name}` {column.sql()}" == definition(name)  # the original is left as it was


class Code(sa.types.TypeDecorator[str]):
    impl = sa.String(8)
    cache_ok = True


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        (Code(), "VARCHAR(8) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL"),
        (
            sa.Integer().with_variant(sa.String(3), "mysql"),
            "VARCHAR(3) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL",
        ),
        (sa.Enum("x", "y"), "ENUM('x','y') CHARACTER SET latin1 COLLATE latin1_bin NOT NULL"),
        (sa.Integer(), "INTEGER NOT NULL"),
        (sa.String(3, collation="utf8mb4_bin"), "VARCHAR(3) COLLATE utf8mb4_bin NOT NULL"),
    ],
)
def test_a_new_type_keeps_the_collation_when_it_holds_text(
    type_: sa.types.TypeEngine[object], expected: str
) -> None:
    column = parse_column("`a` varchar(10) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL")
    op = AlterColumnOp("t", "a", type_=type_, insert_before="b")
    statement = ModifyColumn(stand_in("t", None), op, definition=column, first=True)
    assert str(statement.compile(dialect=mysql.dialect())) == (
        f"ALTER TABLE t MODIFY a {expected} FIRST"
    )
