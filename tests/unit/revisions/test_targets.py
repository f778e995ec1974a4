"""Targets: parsing every form, resolving it, and the errors for each way it goes wrong."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from amigrate.errors import (
    AmbiguousRevision,
    InvalidTarget,
    MultipleHeads,
    RelativeOutOfRange,
    ResolutionError,
    UnknownRevision,
)
from amigrate.revisions import Target, parse_range, parse_target

from .histories import BRANCHED, DIAMOND, LABELLED_ROOTS, LINEAR, graph

# -- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("head", Target("head")),
        ("heads", Target("heads")),
        ("base", Target("base")),
        ("current", Target("current")),
        ("ae10", Target("revision", "ae10")),
        ("ae10f3b2c", Target("revision", "ae10f3b2c")),
        ("feature", Target("revision", "feature")),
        ("feature@head", Target("head", branch="feature")),
        ("feature@heads", Target("heads", branch="feature")),
        ("feature@base", Target("base", branch="feature")),
        ("ae10@head", Target("head", branch="ae10")),
        ("feature@ae10", Target("revision", "ae10", branch="feature")),
        ("+2", Target("current", steps=2)),
        ("-1", Target("current", steps=-1)),
        ("ae10+2", Target("revision", "ae10", steps=2)),
        ("ae10-1", Target("revision", "ae10", steps=-1)),
        ("feature@+1", Target("current", branch="feature", steps=1)),
        ("feature@-3", Target("current", branch="feature", steps=-3)),
        ("feature@head-2", Target("head", branch="feature", steps=-2)),
        ("head-1", Target("head", steps=-1)),
        ("base+1", Target("base", steps=1)),
        ("my-feature@head", Target("head", branch="my-feature")),
        ("my-feature-2", Target("revision", "my-feature", steps=-2)),
        ("  head  ", Target("head")),
    ],
)
def test_parse(text: str, expected: Target) -> None:
    parsed = parse_target(text)
    assert (parsed.kind, parsed.ident, parsed.branch, parsed.steps) == (
        expected.kind,
        expected.ident,
        expected.branch,
        expected.steps,
    )
    assert parsed.text == text.strip()
    assert parsed.is_relative == (expected.steps is not None)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "head@@",
        "a@b@c",
        "@head",
        "feature@",
        "+x",
        "+",
        "-",
        "++1",
        "-x",
        "c++1",
        "+0",
        "ae10-0",
        "a:b",
        "a:b:c",
        "head@x",
        "a b",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(InvalidTarget):
        parse_target(text)


def test_str_round_trips() -> None:
    for text in ["head", "feature@head-2", "+2", "-1", "feature@+1", "ae10-1", "base"]:
        assert str(parse_target(text)) == text
        built = parse_target(text)
        assert str(Target(built.kind, built.ident, built.branch, built.steps)) == text


def test_parse_target_passes_targets_through() -> None:
    t = Target("head")
    assert parse_target(t) is t


@pytest.mark.parametrize(
    ("text", "lower", "upper"),
    [
        ("a:b", "a", "b"),
        (":b", None, "b"),
        ("a:", "a", None),
        (":", None, None),
        ("current:head", "current", "head"),
        ("base:feature@head", "base", "feature@head"),
        ("ae10-1:+2", "ae10-1", "+2"),
    ],
)
def test_parse_range(text: str, lower: str | None, upper: str | None) -> None:
    lo, up = parse_range(text)
    assert (lo.text if lo else None, up.text if up else None) == (lower, upper)


@pytest.mark.parametrize("text", ["a", "a:b:c", "a:+x", "@:b"])
def test_parse_range_rejects(text: str) -> None:
    with pytest.raises(InvalidTarget):
        parse_range(text)


# -- resolving ---------------------------------------------------------------------------

branched = graph(*BRANCHED)  # base0 -> r1 -> x1(xb) -> x2 ; r1 -> y1(yb) -> y2


@pytest.mark.parametrize(
    ("target", "current", "expected"),
    [
        ("heads", (), ("x2", "y2")),
        ("base", ("x2",), ()),
        ("xb@head", (), ("x2",)),
        ("yb@heads", (), ("y2",)),
        ("xb@base", (), ()),
        ("x1@head", (), ("x2",)),
        ("r1@heads", (), ("x2", "y2")),
        ("x2", (), ("x2",)),
        ("xb", (), ("x1",)),
        ("xb@x2", (), ("x2",)),
        ("y2", (), ("y2",)),
        ("current", ("x2", "y2"), ("x2", "y2")),
        ("xb@current", ("x2", "y2"), ("x2",)),
        ("+1", (), ("base0",)),
        ("+1", ("x1",), ("x2",)),
        ("xb@+1", ("r1",), ("x1",)),
        ("yb@+2", ("r1",), ("y2",)),
        ("xb@+3", (), ("x1",)),
        ("-1", ("x2",), ("x1",)),
        ("xb@-1", ("x2", "y2"), ("x1",)),
        ("-4", ("x2",), ()),
        ("x2-2", (), ("r1",)),
        ("xb@head-2", (), ("r1",)),
        ("y1+1", (), ("y2",)),
        ("base+1", (), ("base0",)),
        ("xb@r1+1", (), ("x1",)),
        ("yb@base+2", (), ("r1",)),
    ],
)
def test_resolve(target: str, current: Sequence[str], expected: tuple[str, ...]) -> None:
    assert branched.resolve(target, current) == expected


def test_resolve_accepts_a_parsed_target() -> None:
    assert branched.resolve(Target("head", branch="xb")) == ("x2",)


def test_head_with_several_heads_lists_them_and_suggests_label_head() -> None:
    with pytest.raises(MultipleHeads) as info:
        branched.resolve("head")
    err = info.value
    assert err.heads == ("x2", "y2")
    assert "x2, y2" in str(err)
    assert err.hint is not None
    assert "@head" in err.hint
    assert "heads" in err.hint


def test_label_head_with_several_heads_in_the_branch() -> None:
    with pytest.raises(MultipleHeads) as info:
        branched.resolve("r1@head")
    assert info.value.hint is not None
    assert "'r1@heads'" in info.value.hint


def test_ambiguous_prefix_lists_candidates() -> None:
    with pytest.raises(AmbiguousRevision) as info:
        branched.resolve("x")
    assert info.value.candidates == ("x1", "x2")


def test_revision_not_on_branch() -> None:
    with pytest.raises(ResolutionError, match="y2 is not on branch 'xb'"):
        branched.resolve("xb@y2")


def test_unknown_branch() -> None:
    with pytest.raises(UnknownRevision) as info:
        branched.resolve("nope@head")
    assert info.value.hint is not None
    assert "branch" in info.value.hint


def test_unknown_current_head_suggests_purge() -> None:
    with pytest.raises(UnknownRevision) as info:
        branched.resolve("current", ["zz"])
    assert info.value.hint is not None
    assert "stamp --purge" in info.value.hint


@pytest.mark.parametrize(
    ("target", "current", "furthest"),
    [
        ("+2", ("x1",), "1 step"),
        ("x2+1", (), "nothing is above"),
        ("-5", ("x2",), "4 steps ('-4' reaches base)"),
        ("xb@head-5", (), "4 steps ('xb@head-4' reaches base)"),
    ],
)
def test_relative_out_of_range_says_how_far(
    target: str, current: Sequence[str], furthest: str
) -> None:
    with pytest.raises(RelativeOutOfRange) as info:
        branched.resolve(target, current)
    assert info.value.hint is not None
    assert furthest in info.value.hint


def test_below_base() -> None:
    with pytest.raises(RelativeOutOfRange, match="below base"):
        branched.resolve("base-1")


def test_relative_from_nothing_applied() -> None:
    with pytest.raises(RelativeOutOfRange, match="nothing is applied"):
        branched.resolve("-1", ())


@pytest.mark.parametrize(
    ("target", "current", "message"),
    [
        ("+1", ("r1",), "branches at revision r1 into x1, y1"),
        ("+3", (), "branches at revision r1"),
        ("r1+1", (), "branches at revision r1"),
        ("-1", ("x2", "y2"), "several current heads: x2, y2"),
        ("+1", ("x2", "y2"), "several current heads"),
    ],
)
def test_ambiguous_relative(target: str, current: Sequence[str], message: str) -> None:
    with pytest.raises(ResolutionError, match=message):
        branched.resolve(target, current)


def test_walking_down_through_a_merge_is_ambiguous() -> None:
    diamond = graph(*DIAMOND)
    assert diamond.resolve("n-1") == ("m",)
    with pytest.raises(ResolutionError, match="m merges b2, c2") as info:
        diamond.resolve("n-2")
    # The hint names where to stop, not a walk that goes further than asked.
    assert info.value.hint == "name the side to stop on: 'b2', 'c2'"
    with pytest.raises(ResolutionError) as info:
        diamond.resolve("n-3")
    assert info.value.hint == "name the side to stop on: 'b2-1', 'c2-1'"


def test_a_prefix_on_no_revision_of_the_branch_says_so() -> None:
    # x1, x2 start with "x"; branch yb has neither (it said no revision matches 'x').
    with pytest.raises(ResolutionError) as info:
        branched.resolve("yb@x")
    assert "yb@x" in str(info.value)
    assert info.value.hint == "x1, x2 start with 'x', but none is on that branch"


def test_label_relative_when_the_branch_head_is_not_a_current_head() -> None:
    # ac2 depends on the networking line, so n1 is applied without being a head.
    g = graph(*LABELLED_ROOTS)
    assert g.resolve("networking@+1", ["ac3"]) == ("n2",)
    assert g.resolve("networking@-1", ["ac3"]) == ()
    assert g.resolve("accounts@-1", ["ac3", "n3"]) == ("ac2",)


def test_label_relative_with_nothing_of_the_branch_applied() -> None:
    with pytest.raises(ResolutionError, match="nothing on branch 'xb' is applied"):
        branched.resolve("xb@-1", ["y2"])


def test_heads_with_a_step_needs_a_single_head() -> None:
    assert graph(*LINEAR).resolve("heads-1") == ("c",)
    with pytest.raises(MultipleHeads):
        branched.resolve("heads-1")
