"""Revision ids, slugs, file names and rendering script.py.mako."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

from amigrate.config import Config
from amigrate.errors import CommandError, ConfigError
from amigrate.scripts.templates import templates_root
from amigrate.scripts.writer import (
    NewRevision,
    create_date,
    new_rev_id,
    render_revision,
    revision_filename,
    slugify,
    validate_rev_id,
)


def test_new_ids_are_12_hex_and_unique() -> None:
    ids = {new_rev_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)


@pytest.mark.parametrize("rev_id", ["abc", "0001_initial", "a" * 32])
def test_valid_rev_ids(rev_id: str) -> None:
    assert validate_rev_id(rev_id) == rev_id


@pytest.mark.parametrize(
    ("rev_id", "match"),
    [
        ("a" * 33, "33 characters long"),
        ("", "is empty"),
        ("rev@head", "'@'"),
        ("a-b", "'-'"),
        ("a+1", "'\\+'"),
        ("a:b", "':'"),
        ("a/b", "'/'"),
    ],
)
def test_invalid_rev_ids(rev_id: str, match: str) -> None:
    with pytest.raises(CommandError, match=match):
        validate_rev_id(rev_id)


@pytest.mark.parametrize(
    ("message", "length", "slug"),
    [
        ("Add account table", 40, "add_account_table"),
        ("add 'email' column, again!", 40, "add_email_column_again"),
        ("one two three four", 9, "one_two_"),
        ("averyveryverylongword", 5, "avery_"),
        ("", 40, ""),
    ],
)
def test_slugify(message: str, length: int, slug: str) -> None:
    assert slugify(message, length) == slug


def test_filename_tokens() -> None:
    when = dt.datetime(2026, 2, 4, 5, 6, 7, tzinfo=dt.UTC)
    template = "%(year)d/%(month).2d/%(day).2d_%(hour).2d%(minute).2d%(second).2d_%(rev)s_%(slug)s"
    assert revision_filename(template, "abc", "s", when) == "2026/02/04_050607_abc_s"
    assert (
        revision_filename("%(epoch)s_%(rev)s", "abc", "s", when) == f"{int(when.timestamp())}_abc"
    )


@pytest.mark.parametrize(
    ("template", "match"),
    [("%(nope)s", "unknown token"), ("%(rev)", "malformed"), ("../%(rev)s", "gives the file name")],
)
def test_bad_file_templates(template: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        revision_filename(template, "abc", "s", dt.datetime.now())


def test_create_date_timezone() -> None:
    assert create_date("UTC").utcoffset() == dt.timedelta(0)
    assert create_date(None).tzinfo is None
    assert create_date("utc").utcoffset() == dt.timedelta(0)  # as Alembic reads it
    with pytest.raises(ConfigError, match="not a known time zone"):
        create_date("Mars/Olympus")


def test_render_generic_template() -> None:
    text = render_revision(
        templates_root() / "generic" / "script.py.mako",
        NewRevision("c0ffee", "add it", ("a", "b"), ("feature",), ("d",), dt.datetime(2026, 1, 1)),
        config=Config.from_values({}),
    )
    tree = ast.parse(text)
    assert ast.get_docstring(tree, clean=True).startswith("add it\n\nRevision ID: c0ffee")  # type: ignore[union-attr]
    assert 'down_revision: str | tuple[str, ...] | None = ("a", "b")' in text
    assert 'branch_labels: str | tuple[str, ...] | None = "feature"' in text
    assert 'depends_on: str | tuple[str, ...] | None = "d"' in text
    assert "Create Date: 2026-01-01 00:00:00" in text


def test_render_errors(tmp_path: Path) -> None:
    new = NewRevision("c0ffee", "m", None)
    with pytest.raises(ConfigError, match="does not exist"):
        render_revision(tmp_path / "missing.mako", new, config=None)
    bad = tmp_path / "bad.mako"
    bad.write_text("${undefined_name.attr}\n")
    with pytest.raises(ConfigError, match="failed while rendering"):
        render_revision(bad, new, config=None)
    syntax = tmp_path / "syntax.mako"
    syntax.write_text("% for x in\n")
    with pytest.raises(ConfigError, match="cannot be rendered"):
        render_revision(syntax, new, config=None)
