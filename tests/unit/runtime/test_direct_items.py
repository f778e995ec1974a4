"""On asyncpg a step's bookkeeping writes to different tables go as one statement."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from amigrate.runtime.direct import AsyncpgDirect, Combined, Write
from amigrate.runtime.history import HistoryTable
from amigrate.runtime.versions import VersionTable

DIALECT = make_url("postgresql+asyncpg://").get_dialect()()


def _history_row(history: HistoryTable) -> Write:
    row = history.row(
        run_id="run",
        revision="b",
        direction="up",
        from_revisions=["a"],
        to_revisions=["b"],
        message="m",
        checksum=None,
        duration=0.1,
        db_user="u",
        os_user="o",
    )
    return Write(history.insert, row)


def _version(versions: VersionTable, op: str, **params: str) -> Write:
    return Write(versions._online[op], params, 1)


def test_writes_to_different_tables_become_one_statement() -> None:
    versions, history = VersionTable(), HistoryTable()
    update = _version(versions, "update", old_version="a", new_version="b")
    row = _history_row(history)
    (item,) = AsyncpgDirect(None, DIALECT).items([update, row])
    sql, params, check = item
    assert isinstance(check, Combined)
    assert check.writes == (update, row)
    assert sql.startswith("WITH amigrate_w0 AS \n(UPDATE amigrate_version SET version_num=$1")
    assert "INSERT INTO amigrate_history" in sql
    # Every value in the statement's own order: the update's, then the row's.
    assert params[:3] == ("b", "a", "run")
    assert len(params) == 2 + len(row.params)


def test_writes_to_one_table_stay_apart() -> None:
    # A merge deletes one head row and updates the other: two parts of one statement
    # would both see the table as it was, so they run one after the other.
    versions, history = VersionTable(), HistoryTable()
    delete = _version(versions, "delete", old_version="b2")
    update = _version(versions, "update", old_version="c1", new_version="m")
    items = AsyncpgDirect(None, DIALECT).items([delete, update, _history_row(history)])
    assert [type(check).__name__ for _, _, check in items] == ["Write", "Combined"]
    assert items[0][0].startswith("DELETE FROM amigrate_version")


def test_colliding_parameter_names_stay_apart() -> None:
    versions = VersionTable()
    other = VersionTable("other_version")
    first = _version(versions, "update", old_version="a", new_version="b")
    second = _version(other, "update", old_version="x", new_version="y")
    items = AsyncpgDirect(None, DIALECT).items([first, second])
    assert [check for _, _, check in items] == [first, second]


def test_a_table_named_like_the_parts_stays_apart() -> None:
    versions, history = VersionTable("amigrate_w1"), HistoryTable()
    update = _version(versions, "update", old_version="a", new_version="b")
    items = AsyncpgDirect(None, DIALECT).items([update, _history_row(history)])
    assert len(items) == 2


def test_statements_other_than_insert_update_delete_stay_apart() -> None:
    history = HistoryTable()
    query = Write(sa.select(sa.literal(1)), {})
    items = AsyncpgDirect(None, DIALECT).items([query, _history_row(history)])
    assert len(items) == 2
