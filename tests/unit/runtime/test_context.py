"""What a statement does to the open transaction: read, row change, or DDL (pure)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from amigrate.runtime.context import statement_kind

T = sa.table("t", sa.column("id"))


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("SELECT * FROM t", "read"),
        ("  select pg_sleep(3)", "read"),
        ("(SELECT 1)", "read"),
        ("-- a comment\nSHOW TABLES", "read"),
        ("/* why */ INSERT INTO t VALUES (1)", "dml"),
        ("# mysql comment\nupdate t set id = 2", "dml"),
        ("DELETE FROM t", "dml"),
        ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "dml"),
        ("SET FOREIGN_KEY_CHECKS = 0", "dml"),
        ("CREATE TABLE t2 (id int)", "ddl"),
        ("ALTER TABLE t ADD x int", "ddl"),
        ("DROP INDEX ix", "ddl"),
        ("RENAME TABLE t TO u", "ddl"),
        ("TRUNCATE t", "ddl"),
        ("CALL make_tables()", "ddl"),  # a procedure may run DDL: counted as committing
        ("", "ddl"),
    ],
)
def test_text(statement: str, kind: str) -> None:
    assert statement_kind(statement) == kind
    assert statement_kind(sa.text(statement)) == kind


def test_do_reads_on_mysql_and_runs_code_on_postgresql() -> None:
    assert statement_kind("DO SLEEP(3)", "mysql") == "read"
    assert statement_kind("DO SLEEP(3)", "mariadb") == "read"
    # A DO block may run DDL: in an autocommit block it counts as committed work.
    assert (
        statement_kind("DO $$ BEGIN EXECUTE 'CREATE TABLE t2 (id int)'; END $$", "postgresql")
        == "ddl"
    )
    assert statement_kind("DO SLEEP(3)") == "ddl"  # unknown dialect: the safe side


@pytest.mark.parametrize(
    ("statement", "mysql", "postgresql"),
    [
        ("LOCK TABLES t WRITE", "ddl", "dml"),  # MySQL commits before locking tables
        ("lock table t in exclusive mode", "ddl", "dml"),
        ("SET autocommit = 1", "ddl", "dml"),
        ("SET @@session.autocommit=ON", "ddl", "dml"),
        ("SET autocommit = 0", "dml", "dml"),
        ("SET autocommit = 'ON'", "ddl", "dml"),
        ("SET SESSION autocommit = @on", "ddl", "dml"),
        ('SET autocommit = "off"', "dml", "dml"),
        ("SET @autocommit = 1", "dml", "dml"),  # a user variable
        ("SET @x = 'autocommit=1'", "dml", "dml"),
        ("SET GLOBAL autocommit = 1", "dml", "dml"),  # other sessions'
        ("SET @@global.autocommit = 1", "dml", "dml"),
        ("CREATE OR REPLACE TEMPORARY TABLE tmp (id int)", "dml", "ddl"),
        ("CREATE /* scratch */ TEMPORARY TABLE tmp (id int)", "dml", "ddl"),
        ("SET NAMES utf8mb4", "dml", "dml"),
        ("SET STATEMENT lock_wait_timeout=5 FOR ALTER TABLE t ADD x int", "ddl", "dml"),
        ("SET STATEMENT max_statement_time=60 FOR UPDATE t SET id = 2", "dml", "dml"),
        ("SET STATEMENT max_statement_time=60 FOR SELECT * FROM t", "read", "dml"),
        ("CREATE TEMPORARY TABLE tmp (id int)", "dml", "ddl"),
        ("drop temporary table tmp", "dml", "ddl"),
    ],
)
def test_mysql_implicit_commits(statement: str, mysql: str, postgresql: str) -> None:
    assert statement_kind(statement, "mysql") == mysql
    assert statement_kind(statement, "mariadb") == mysql
    assert statement_kind(statement, "postgresql") == postgresql


def test_constructs() -> None:
    assert statement_kind(sa.select(T)) == "read"
    assert statement_kind(sa.union(sa.select(T), sa.select(T))) == "read"
    assert statement_kind(T.insert().values(id=1)) == "dml"
    assert statement_kind(T.update().values(id=1)) == "dml"
    assert statement_kind(T.delete()) == "dml"
    table = sa.Table("x", sa.MetaData(), sa.Column("id", sa.Integer))
    assert statement_kind(sa.schema.CreateTable(table)) == "ddl"
    assert statement_kind(sa.schema.DropTable(table)) == "ddl"
