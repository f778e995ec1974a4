"""What ``repair`` chooses and refuses, and how ``validate`` replays its rows (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from amigrate.errors import AmbiguousRevision, CommandError, UnknownRevision
from amigrate.runtime.history import HistoryEntry
from amigrate.runtime.repair import Repaired, choose_repairs, named_revisions, repair_message
from amigrate.runtime.validation import applied_checksums
from tests.unit.revisions.histories import LINEAR, graph, rev


def entry(
    id: int, revision: str, direction: str, checksum: str | None, to_revisions: str | None = None
) -> HistoryEntry:
    return HistoryEntry(
        id=id,
        run_id="run",
        revision=revision,
        direction=direction,
        from_revisions="",
        to_revisions=revision if to_revisions is None else to_revisions,
        message="",
        checksum=checksum,
        status="applied",
        error=None,
        applied_at=dt.datetime(2026, 1, 1),
        duration=0.0,
        db_user=None,
        os_user="me@here",
        amigrate_version="0",
    )


def test_validate_replays_a_repair_as_the_new_checksum() -> None:
    rows = [
        entry(1, "a", "up", "v1:old-a"),
        entry(2, "b", "up", "v1:old-b"),
        entry(3, "a", "repair", "v1:new-a"),
    ]
    assert applied_checksums(reversed(rows)) == {"a": "v1:new-a", "b": "v1:old-b"}
    # Undone and applied again: the upgrade's checksum counts from then on.
    rows += [
        entry(4, "b", "down", "v1:old-b", to_revisions="a"),
        entry(5, "a", "down", "v1:new-a", to_revisions=""),
        entry(6, "a", "up", "v1:newer-a"),
    ]
    assert applied_checksums(rows) == {"a": "v1:newer-a"}
    # A revision Alembic applied (no row before) gets its first checksum from a repair.
    assert applied_checksums([entry(1, "c", "repair", "v1:c")]) == {"c": "v1:c"}


def test_default_repairs_every_changed_revision_and_keeps_the_rest() -> None:
    recorded = {"a": "v1:a", "b": "v1:b", "c": "v1:c", "gone": "v1:g"}
    files = {"a": "v1:a", "b": "v1:B", "c": "v1:C"}
    paths = {r: f"versions/{r}.py" for r in files}
    repairs, unchanged, remaining = choose_repairs(
        None, recorded, files, paths, ("c", "zz"), known=files
    )
    assert repairs == [
        Repaired("b", "versions/b.py", "v1:b", "v1:B"),
        Repaired("c", "versions/c.py", "v1:c", "v1:C"),
    ]
    assert unchanged == []
    assert [(p.kind, p.revision) for p in remaining] == [
        ("missing", "gone"),
        ("unknown_head", "zz"),
    ]


def test_named_repairs_only_those_named() -> None:
    recorded = {"a": "v1:a", "b": "v1:b", "c": None}
    files = {"a": "v1:a", "b": "v1:B", "c": "v1:c", "d": "v1:d"}
    paths = {r: f"versions/{r}.py" for r in files}
    repairs, unchanged, remaining = choose_repairs(
        ["a", "c", "d"], recorded, files, paths, ("d",), known=files
    )
    # c had no checksum recorded (applied by Alembic); d is applied per the version table.
    assert [(r.revision, r.recorded) for r in repairs] == [("c", None), ("d", None)]
    assert unchanged == ["a"]
    assert [(p.kind, p.revision) for p in remaining] == [("changed", "b")]
    assert "no checksum was recorded" in repair_message(repairs[0])
    assert repair_message(Repaired("b", "", "v1:" + "f" * 64, "v1:B")).endswith(
        "(was v1:ffffffffffff)"
    )


def test_named_revisions_resolve_and_must_be_applied() -> None:
    g = graph(*LINEAR)  # a -> b -> c -> d
    assert named_revisions(g, ["b", "a", "b"], ("c",), {}) == ("b", "a")
    assert named_revisions(g, ["current", "head"], ("d",), {}) == ("d",)
    # applied according to the history only (the version table was reset by hand)
    assert named_revisions(g, ["c"], (), {"c": "v1:c"}) == ("c",)
    with pytest.raises(CommandError, match=r"revision d is not applied .* \(it is at c\)"):
        named_revisions(g, ["d"], ("c",), {})
    with pytest.raises(CommandError, match=r"revision a is not applied .* \(it is at <base>\)"):
        named_revisions(g, ["a"], (), {})
    with pytest.raises(CommandError, match="'base' names no revision"):
        named_revisions(g, ["base"], ("c",), {})
    with pytest.raises(UnknownRevision, match="no revision matches 'zz'"):
        named_revisions(g, ["zz"], ("c",), {})


def test_named_revision_whose_file_is_gone() -> None:
    g = graph(rev("aa"), rev("ab", "aa"))
    with pytest.raises(CommandError, match="revision ac1 is applied, but no revision file") as err:
        named_revisions(g, ["ac"], ("ab", "ac1"), {"ac1": "v1:x"})
    assert "restore the file" in (err.value.hint or "")
    with pytest.raises(AmbiguousRevision):
        named_revisions(g, ["a"], ("ab",), {})
