"""VersionChange shapes and writes, and the simulated version table."""

from __future__ import annotations

import pytest

from amigrate.errors import RevisionError
from amigrate.revisions import VersionChange, VersionTable, VersionWrite, apply_changes


@pytest.mark.parametrize(
    ("change", "statements"),
    [
        (VersionChange("insert", (), ("a",)), ["insert a"]),
        (VersionChange("delete", ("a",), ()), ["delete a"]),
        (VersionChange("update", ("a",), ("b",)), ["update a -> b"]),
        (
            VersionChange("merge", ("a", "b", "c"), ("m",)),
            ["delete a", "delete b", "update c -> m"],
        ),
        (
            VersionChange("unmerge", ("m",), ("a", "b", "c")),
            ["insert a", "insert b", "update m -> c"],
        ),
    ],
)
def test_writes_follow_alembics_order(change: VersionChange, statements: list[str]) -> None:
    assert [str(w) for w in change.writes] == statements
    assert str(change) == "; ".join(statements)


def test_write_fields() -> None:
    assert VersionChange("update", ("a",), ("b",)).writes == (VersionWrite("update", "a", "b"),)
    assert VersionChange("insert", (), ("a",)).writes == (VersionWrite("insert", None, "a"),)
    assert VersionChange("delete", ("a",), ()).writes == (VersionWrite("delete", "a", None),)


@pytest.mark.parametrize(
    ("kind", "remove", "add"),
    [
        ("insert", ("a",), ("b",)),
        ("delete", (), ()),
        ("update", ("a", "b"), ("c",)),
        ("merge", ("a",), ("b",)),
        ("unmerge", ("a",), ("b",)),
    ],
)
def test_malformed_changes(kind: str, remove: tuple[str, ...], add: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="malformed"):
        VersionChange(kind, remove, add)  # type: ignore[arg-type]  # testing bad input


def test_of_picks_the_kind() -> None:
    assert VersionChange.of((), ("a",)).kind == "insert"
    assert VersionChange.of(("a",), ()).kind == "delete"
    assert VersionChange.of(("a",), ("b",)).kind == "update"
    assert VersionChange.of(("a", "b"), ("m",)).kind == "merge"
    assert VersionChange.of(("m",), ("a", "b")).kind == "unmerge"


def test_apply_changes() -> None:
    changes = [
        VersionChange("insert", (), ("a",)),
        VersionChange("insert", (), ("b",)),
        VersionChange("merge", ("a", "b"), ("m",)),
        VersionChange("unmerge", ("m",), ("x", "y")),
        VersionChange("delete", ("x",), ()),
    ]
    assert apply_changes((), changes) == ("y",)


@pytest.mark.parametrize(
    ("rows", "change", "message"),
    [
        ((), VersionChange("delete", ("a",), ()), "no row 'a' to delete"),
        (("b",), VersionChange("update", ("a",), ("c",)), "no row 'a' to update"),
        (("a",), VersionChange("insert", (), ("a",)), "already has a row 'a'"),
        (("a", "b"), VersionChange("update", ("a",), ("b",)), "already has a row 'b'"),
        (("a",), VersionChange("merge", ("a", "b"), ("m",)), "no row 'b'"),
    ],
)
def test_table_refuses_writes_the_database_would_fail(
    rows: tuple[str, ...], change: VersionChange, message: str
) -> None:
    table = VersionTable(rows)
    with pytest.raises(RevisionError, match=message):
        table.apply(change)
    assert table.rows == tuple(sorted(rows))  # nothing half-applied


def test_update_to_itself_is_allowed() -> None:
    table = VersionTable(["a"])
    table.apply(VersionChange("update", ("a",), ("a",)))
    assert table.rows == ("a",)
    assert "a" in table
