"""Reading revision files with ast: every shape, every error, nothing imported."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from amigrate.errors import ScriptParseError
from amigrate.scripts.reader import find_revision_files, read_revision_file

TEMPLATE_OUTPUT = '''\
"""add account table

Revision ID: 3512b954651e
Revises: 2b1ae634e5cd
Create Date: 2026-02-24 12:00:00.000000

"""

from __future__ import annotations

import sqlalchemy as sa

from amigrate import Operations

# revision identifiers, used by amigrate.
revision: str = "3512b954651e"
down_revision: str | tuple[str, ...] | None = "2b1ae634e5cd"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


async def upgrade(op: Operations) -> None:
    raise RuntimeError("must never be imported")


async def downgrade(op: Operations) -> None:
    pass
'''


def write(tmp_path: Path, text: str, name: str = "rev.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_template_shape(tmp_path: Path) -> None:
    rf = read_revision_file(write(tmp_path, TEMPLATE_OUTPUT))
    assert rf.revision == "3512b954651e"
    assert rf.down_revision == "2b1ae634e5cd"
    assert rf.branch_labels == ()
    assert rf.depends_on == ()
    assert rf.message == "add account table"
    assert rf.create_date == "2026-02-24 12:00:00.000000"
    assert "Revision ID: 3512b954651e" in rf.docstring
    assert "rev" not in sys.modules


@pytest.mark.parametrize(
    ("source", "down", "labels", "depends"),
    [
        # plain assignments, tuple merge point, list labels
        (
            '"""m"""\nrevision = "c"\ndown_revision = ("a", "b")\nbranch_labels = ["x"]\n',
            ("a", "b"),
            ("x",),
            (),
        ),
        # single quotes, trailing comments, one-element tuple
        ("'''m'''\nrevision = 'c'  # id\ndown_revision = ('a',)  # p\n", ("a",), (), ()),
        # a base
        ('"""m"""\nrevision = "c"\ndown_revision = None\ndepends_on = "d"\n', None, (), ("d",)),
        # multi-line tuple: parsed with ast (tier 2)
        (
            '"""m"""\nrevision = "c"\ndown_revision = (\n    "a",\n    "b",\n)\n'
            "branch_labels = ('l1', 'l2')\n",
            ("a", "b"),
            ("l1", "l2"),
            (),
        ),
        # identifiers after the functions: whole file parsed (tier 3)
        (
            '"""m"""\nasync def upgrade(op):\n    pass\n\nrevision = "c"\ndown_revision = "a"\n',
            "a",
            (),
            (),
        ),
        # a set of labels, as Alembic takes one
        (
            '"""m"""\nrevision = "c"\ndown_revision = "a"\nbranch_labels = {"y", "x"}\n',
            "a",
            ("x", "y"),
            (),
        ),
        # a docstring with an escape and no Create Date
        ('"""m \\\\ n"""\nrevision = "c"\ndown_revision = "a"\n', "a", (), ()),
    ],
)
def test_shapes(
    tmp_path: Path,
    source: str,
    down: str | tuple[str, ...] | None,
    labels: tuple[str, ...],
    depends: tuple[str, ...],
) -> None:
    rf = read_revision_file(write(tmp_path, source))
    assert rf.revision == "c"
    assert rf.down_revision == down
    assert rf.branch_labels == labels
    assert rf.depends_on == depends
    assert rf.message.startswith("m")


def test_assignment_inside_a_string_is_not_read(tmp_path: Path) -> None:
    source = '"""m"""\nNOTES = """\nrevision = "fake"\n"""\nrevision = "real"\n'
    assert read_revision_file(write(tmp_path, source)).revision == "real"


def test_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "rev.py"
    path.write_bytes(b'\xef\xbb\xbf"""msg"""\r\nrevision = "c"\r\ndown_revision = None\r\n')
    rf = read_revision_file(path)
    assert (rf.revision, rf.down_revision, rf.message) == ("c", None, "msg")


def test_no_docstring(tmp_path: Path) -> None:
    rf = read_revision_file(write(tmp_path, 'revision = "c"\ndown_revision = None\n'))
    assert rf.message == ""


@pytest.mark.parametrize(
    ("source", "match", "line"),
    [
        ('"""m"""\nrevision = make_id()\n', "revision must be a literal", 2),
        ('"""m"""\nrevision = "c"\ndown_revision = PARENT\n', "down_revision must be a literal", 3),
        ('"""m"""\nrevision = "c"\ndown_revision = 5\n', "not int", 3),
        ('"""m"""\nrevision = "c\ndown_revision = None\n', "syntax error", 2),
        ('"""m"""\nrevision = ""\n', "non-empty string", 2),
        ('"""m"""\nx = 1\n', "declares no 'revision'", None),
        # down_revision = "" on each read path: docstring first (tier 1), none (ast),
        # an annotated assignment and a file whose identifiers follow the functions
        ('"""m"""\nrevision = "c"\ndown_revision = ""\n', "down_revision = '' names", 3),
        ('revision = "c"\ndown_revision = ""\n', "down_revision = '' names no revision", 2),
        ('"""m"""\nrevision = "c"\ndown_revision: str = \'\'\n', "names no revision", 3),
        ('"""m"""\ndef f():\n    pass\nrevision = "c"\ndown_revision = ""\n', "names no", 5),
    ],
)
def test_errors_name_the_file_and_line(
    tmp_path: Path, source: str, match: str, line: int | None
) -> None:
    path = write(tmp_path, source)
    with pytest.raises(ScriptParseError, match=match) as info:
        read_revision_file(path)
    assert info.value.path == str(path)
    assert info.value.line == line
    expected_prefix = f"{path}:{line}: " if line else f"{path}: "
    assert str(info.value).startswith(expected_prefix)


def test_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "rev.py"
    path.write_bytes(b'"""caf\xe9"""\nrevision = "c"\n')
    with pytest.raises(ScriptParseError, match="not UTF-8") as info:
        read_revision_file(path)
    assert info.value.line == 1


def test_body_syntax_error_is_left_for_load_time(tmp_path: Path) -> None:
    # Listing the history reads only the header; the loader reports the body's error.
    source = TEMPLATE_OUTPUT.replace("pass\n", "pass(\n")
    assert read_revision_file(write(tmp_path, source)).revision == "3512b954651e"


def test_find_revision_files(tmp_path: Path) -> None:
    for name in (
        "b.py",
        "a.py",
        "__init__.py",
        ".#a.py",
        "notes.txt",
        "sub/c.py",
        "__pycache__/a.cpython-311.py",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert [p.name for p in find_revision_files(tmp_path)] == ["a.py", "b.py"]
    assert [
        p.relative_to(tmp_path).as_posix() for p in find_revision_files(tmp_path, recursive=True)
    ] == [
        "a.py",
        "b.py",
        "sub/c.py",
    ]


def test_missing_version_folder_holds_no_revisions(tmp_path: Path) -> None:
    assert list(find_revision_files(tmp_path / "nope")) == []
