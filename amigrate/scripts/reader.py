"""Read revision files with ``ast``, never importing them.

A revision file declares ``revision``, ``down_revision``, ``branch_labels`` and
``depends_on`` as literals (plain or annotated assignments), and its docstring's
first line is its message.

Reading must stay cheap for histories of thousands of files (``ast.parse`` of a
whole file costs ~0.25 ms, over a second for 5,000), so there are three tiers:

1. the common shape -- one-line assignments of strings, tuples of strings or
   None -- is matched by a strict pattern that cannot misread anything else;
2. otherwise the module's header (everything before the first top-level
   ``def``, ``async def``, ``class`` or decorator) is parsed with ``ast``;
3. otherwise the whole file is parsed, which also gives syntax errors their
   line numbers.

A syntax error inside a function body is therefore reported when the revision
is loaded to run, not when the history is listed.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amigrate.errors import ScriptParseError

__all__ = ["IDENTIFIERS", "RevisionFile", "find_revision_files", "read_revision_file"]

IDENTIFIERS = ("revision", "down_revision", "branch_labels", "depends_on")
# Alembic skips editor lock files and package markers the same way.
_SKIP = re.compile(r"^(?:\.|__init__|#)")
_BODY_START = re.compile(r"^(?:async[ \t]+def|def|class|@)\b", re.M)
_CREATE_DATE = re.compile(r"^\s*Create Date:\s*(.+?)\s*$", re.M)
# Tier 1: a docstring without escapes, and one-line literal assignments.
_DOCSTRING = re.compile(r"\A(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*(\"\"\"|''')([^\\]*?)\1")
_STR = r"(?:\"[^\"\\\n]*\"|'[^'\\\n]*')"
_LITERAL = re.compile(
    rf"(?:None|{_STR}|\([ \t]*(?:{_STR}[ \t]*,[ \t]*)*(?:{_STR}[ \t]*)?\)"
    rf"|\[[ \t]*(?:{_STR}[ \t]*,[ \t]*)*(?:{_STR}[ \t]*)?\])[ \t]*(?:#[^\n]*)?"
)
_ASSIGNMENT = re.compile(
    r"^(revision|down_revision|branch_labels|depends_on)[ \t]*(?::[^=\n]*)?=[ \t]*([^\n]*?)[ \t]*$",
    re.M,
)
_STRING_VALUE = re.compile(_STR)


@dataclass(frozen=True, slots=True)
class RevisionFile:
    """The identifiers of one revision file, as literals read from its source."""

    path: Path
    revision: str
    down_revision: str | tuple[str, ...] | None
    branch_labels: tuple[str, ...]
    depends_on: tuple[str, ...]
    message: str
    docstring: str
    create_date: str | None


def find_revision_files(location: Path, *, recursive: bool = False) -> Iterator[Path]:
    """Every ``*.py`` revision file in *location* (and below it, when *recursive*).

    A folder that does not exist holds none, as in Alembic: git keeps no empty folder, so
    a fresh clone of a new project has no ``versions/`` (``revision`` creates it).
    """
    try:
        entries = list(os.scandir(location))
    except FileNotFoundError:
        return
    except (NotADirectoryError, PermissionError) as exc:
        raise ScriptParseError(
            f"version folder cannot be read ({exc.strerror})",
            path=str(location),
            hint="check the folder's permissions and the config's version_locations",
        ) from None
    for entry in sorted(entries, key=lambda e: e.name):
        if _SKIP.match(entry.name):
            continue
        if entry.is_dir():
            if recursive and entry.name != "__pycache__":
                yield from find_revision_files(Path(entry.path), recursive=True)
        elif entry.name.endswith(".py"):
            yield Path(entry.path)


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScriptParseError(
            "is not UTF-8 text", path=str(path), line=line, hint="save the file as UTF-8"
        ) from None


def _parse(path: Path, source: str) -> ast.Module:
    try:
        return ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise ScriptParseError(
            f"syntax error: {exc.msg}",
            path=str(path),
            line=exc.lineno,
            hint="fix the file; revision files must be valid Python",
        ) from None


def _assignments(module: ast.Module) -> dict[str, ast.stmt]:
    found: dict[str, ast.stmt] = {}
    for node in module.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id in IDENTIFIERS:
                found[target.id] = node
    return found


def _literal(path: Path, name: str, node: ast.stmt) -> Any:
    value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
    try:
        return ast.literal_eval(value) if value is not None else None
    except ValueError:
        raise ScriptParseError(
            f"{name} must be a literal (a string, a tuple of strings or None), "
            "so that the history can be read without importing the file",
            path=str(path),
            line=node.lineno,
            hint=f"write {name} = 'abc123' (computed values are not allowed)",
        ) from None


def _strings(path: Path, name: str, node: ast.stmt, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if isinstance(value, set | frozenset) and all(isinstance(v, str) for v in value):
        return tuple(sorted(value))  # (as Alembic takes one; sorted: a set has no order)
    raise ScriptParseError(
        f"{name} must be a string, a tuple of strings or None, not {type(value).__name__}",
        path=str(path),
        line=node.lineno,
    )


def _empty_down_revision(path: Path, line: int) -> ScriptParseError:
    # Alembic takes "" for the id of a revision that does not exist and fails
    # with a KeyError; a base revision says None.
    return ScriptParseError(
        "down_revision = '' names no revision",
        path=str(path),
        line=line,
        hint="write down_revision = None for a base revision, or the id of its parent",
    )


def _read_simple(path: Path, source: str) -> RevisionFile | None:
    """Tier 1: the common shape, or None when the file needs ``ast``."""
    doc = _DOCSTRING.match(source)
    if doc is None:
        return None
    values: dict[str, Any] = {}
    header_end = len(source)
    for start in ("\nasync def ", "\ndef "):
        found = source.find(start, doc.end())
        if found != -1:
            header_end = min(header_end, found)
    for match in _ASSIGNMENT.finditer(source, doc.end(), header_end):
        name, rhs = match.group(1), match.group(2)
        before = match.start()
        inside_string = (source.count('"""', 0, before) + source.count("'''", 0, before)) % 2
        if name in values or inside_string or not _LITERAL.fullmatch(rhs):
            return None
        strings = tuple(s[1:-1] for s in _STRING_VALUE.findall(rhs))
        values[name] = strings[0] if rhs[0] in "\"'" else (strings or None)
        if name == "down_revision" and values[name] == "":
            raise _empty_down_revision(path, source.count("\n", 0, before) + 1)
    revision = values.get("revision")
    if not isinstance(revision, str) or not revision:
        return None
    docstring = _clean_docstring(doc.group(2))
    down = values.get("down_revision")
    return _file(
        path, revision, down, values.get("branch_labels"), values.get("depends_on"), docstring
    )


def _clean_docstring(raw: str) -> str:
    # Module docstrings are rarely indented; cleandoc only when they are.
    return inspect.cleandoc(raw) if "\n " in raw or "\n\t" in raw else raw.strip()


def _file(
    path: Path, revision: str, down: Any, labels: Any, depends: Any, docstring: str
) -> RevisionFile:
    def strings(value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        return (value,) if isinstance(value, str) else tuple(value)

    text = docstring.strip()
    date = _CREATE_DATE.search(docstring)
    return RevisionFile(
        path=path,
        revision=revision,
        down_revision=down,
        branch_labels=strings(labels),
        depends_on=strings(depends),
        message=text.splitlines()[0].strip() if text else "",
        docstring=docstring,
        create_date=date.group(1) if date else None,
    )


def read_revision_file(path: Path) -> RevisionFile:
    """Read the identifiers of one revision file without importing it."""
    source = _decode(path, path.read_bytes())
    simple = _read_simple(path, source)
    if simple is not None:
        return simple
    body = _BODY_START.search(source)
    module: ast.Module | None = None
    if body is not None:
        try:
            module = ast.parse(source[: body.start()], filename=str(path))
        except SyntaxError:
            module = None  # cut inside a string or bracket: parse the whole file
    if module is None or "revision" not in _assignments(module):
        module = _parse(path, source)
    nodes = _assignments(module)
    if "revision" not in nodes:
        raise ScriptParseError(
            "declares no 'revision'",
            path=str(path),
            hint="a revision file sets revision = '<id>' at module level; "
            "move other Python files out of the versions folder",
        )
    values = {name: _literal(path, name, node) for name, node in nodes.items()}
    revision = values["revision"]
    if not isinstance(revision, str) or not revision:
        raise ScriptParseError(
            "revision must be a non-empty string", path=str(path), line=nodes["revision"].lineno
        )

    down = values.get("down_revision")
    down_node = nodes.get("down_revision")
    if down_node is not None:
        if down == "":
            raise _empty_down_revision(path, down_node.lineno)
        parents = _strings(path, "down_revision", down_node, down)
        down = parents[0] if isinstance(down, str) else (parents or None)
    labels = (
        _strings(path, "branch_labels", nodes["branch_labels"], values["branch_labels"])
        if "branch_labels" in nodes
        else ()
    )
    depends = (
        _strings(path, "depends_on", nodes["depends_on"], values["depends_on"])
        if "depends_on" in nodes
        else ()
    )
    docstring = ast.get_docstring(module, clean=True) or ""
    return _file(path, revision, down, labels, depends, docstring)
