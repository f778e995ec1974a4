"""Revision.create: Alembic's loose identifier values, normalised."""

from __future__ import annotations

from typing import Any

import pytest

from amigrate.errors import HistoryError
from amigrate.revisions import Revision


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ("", ()),
        ("a", ("a",)),
        (("a", "b"), ("a", "b")),
        (["a", "b"], ("a", "b")),
        ((), ()),
    ],
)
def test_values_become_tuples(value: Any, expected: tuple[str, ...]) -> None:
    rev = Revision.create("x", value, branch_labels=value, depends_on=value)
    assert rev.down_revisions == rev.branch_labels == rev.depends_on == expected


def test_fields() -> None:
    rev = Revision.create("x", "a", "lab", ["d"], message="add table", path="v/x.py")
    assert rev == Revision("x", ("a",), ("lab",), ("d",), "add table", "v/x.py")
    assert not rev.is_base
    assert not rev.is_merge_point
    assert rev.where == "x (v/x.py)"
    assert Revision("y").is_base
    assert Revision("y").where == "y"
    assert Revision("m", ("a", "b")).is_merge_point


@pytest.mark.parametrize(
    ("kwargs", "attribute"),
    [
        ({"down_revision": 3}, "down_revision"),
        ({"down_revision": ("a", 3)}, "down_revision"),
        ({"down_revision": ("a", "")}, "down_revision"),
        ({"down_revision": None, "branch_labels": {"a"}}, "branch_labels"),
        ({"down_revision": None, "depends_on": 1.5}, "depends_on"),
    ],
)
def test_bad_values_name_the_file(kwargs: dict[str, Any], attribute: str) -> None:
    with pytest.raises(HistoryError) as info:
        Revision.create("x", path="versions/x.py", **kwargs)
    assert attribute in str(info.value)
    assert "revision x (versions/x.py)" in str(info.value)
    assert info.value.paths == ("versions/x.py",)


@pytest.mark.parametrize("revision", ["", None, 5])
def test_bad_revision_id(revision: Any) -> None:
    with pytest.raises(HistoryError, match="revision"):
        Revision.create(revision, None)
