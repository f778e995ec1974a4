"""Autogenerate's output as a revision file: template variables, then a tidy file.

:func:`render_migration` turns a :class:`SchemaDiff` into the ``upgrades``,
``downgrades`` and ``imports`` that ``script.py.mako`` places (for a multidb
project, ``<name>_upgrades`` and ``<name>_downgrades`` per database).
:func:`write_revision` writes the file through ``ScriptDirectory`` and then
sorts its imports as ruff's isort does (dropping the template's ``import
sqlalchemy as sa`` when nothing uses it), so that the file passes ``ruff
check`` as written.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Dialect

from amigrate.autogenerate.diff import SchemaDiff
from amigrate.autogenerate.literals import RenderContext
from amigrate.autogenerate.render import render_ops

if TYPE_CHECKING:
    from amigrate.scripts.directory import ScriptDirectory

__all__ = [
    "RenderedMigration",
    "describe",
    "render_migration",
    "template_args",
    "tidy_file",
    "tidy_source",
    "write_revision",
]

_THIRD_PARTY = frozenset({"sqlalchemy", "amigrate"})


@dataclass(frozen=True)
class RenderedMigration:
    """The code of one database's ``upgrade`` and ``downgrade``, and the imports it needs.

    ``upgrades`` / ``downgrades`` are function bodies whose first line is not
    indented (the template indents it) and whose other lines are.
    """

    upgrades: str
    downgrades: str
    imports: tuple[str, ...]
    uses_sa: bool


def _body(text: str) -> str:
    return text[4:] if text.startswith("    ") else text


def render_migration(
    diff: SchemaDiff, *, batch: bool = False, dialect: Dialect | None = None, width: int = 0
) -> RenderedMigration:
    """Render *diff*'s upgrade and downgrade ops (*batch*: per-table batch blocks).

    SQL expressions (an ``sa.func.now()`` default) are written for *dialect*,
    by default the diff's own.
    """
    ctx = RenderContext(dialect=dialect or diff.sql_dialect)
    upgrades = render_ops(diff.upgrade_ops(batch=batch), ctx, indent=4, width=width)
    downgrades = render_ops(diff.downgrade_ops(batch=batch), ctx, indent=4, width=width)
    return RenderedMigration(
        _body(upgrades), _body(downgrades), tuple(ctx.import_lines()), ctx.uses_sa
    )


def template_args(rendered: Mapping[str | None, RenderedMigration]) -> dict[str, Any]:
    """``script.py.mako`` variables for one database (key None) or several (by name)."""
    imports = sorted({line for r in rendered.values() for line in r.imports})
    args: dict[str, Any] = {"imports": "".join(f"{line}\n" for line in imports)}
    for name, migration in rendered.items():
        prefix = "" if name is None else f"{name}_"
        args[f"{prefix}upgrades"] = migration.upgrades
        args[f"{prefix}downgrades"] = migration.downgrades
    return args


def _uses_sa(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Name) and node.id == "sa" and not isinstance(node.ctx, ast.Store)
        for node in ast.walk(tree)
    )


def _section(module: str) -> int:
    """0 future, 1 standard library, 2 third party, 3 the project's own (ruff's isort order)."""
    top = module.split(".")[0]
    if top == "__future__":
        return 0
    if top in sys.stdlib_module_names:
        return 1
    return 2 if top in _THIRD_PARTY else 3


def _import_block(imports: list[ast.Import | ast.ImportFrom], keep_sa: bool) -> list[str]:
    """The import statements, sorted and grouped as ruff's isort writes them by default."""
    straight: dict[int, set[str]] = {}
    froms: dict[int, dict[str, set[str]]] = {}
    for node in imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "sqlalchemy" and alias.asname == "sa" and not keep_sa:
                    continue
                text = alias.name + (f" as {alias.asname}" if alias.asname else "")
                straight.setdefault(_section(alias.name), set()).add(text)
        else:
            module = "." * node.level + (node.module or "")
            section = 3 if node.level else _section(module)
            names = froms.setdefault(section, {}).setdefault(module, set())
            names.update(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
    lines: list[str] = []
    for section in sorted({*straight, *froms}):
        if lines:
            lines.append("")
        lines += [f"import {name}" for name in sorted(straight.get(section, ()), key=str.lower)]
        for module, names in sorted(froms.get(section, {}).items(), key=lambda m: m[0].lower()):
            lines.append(f"from {module} import {', '.join(sorted(names))}")
    return lines


def tidy_source(source: str, required: Sequence[str] = ()) -> str:
    """*source* with its leading imports sorted as ruff's isort does by default.

    *required* import lines are added where the template lacks them (a
    template without ``${imports}``); the template's ``import sqlalchemy as
    sa`` goes when nothing uses it. sqlalchemy and amigrate count as third
    party, other modules (your types) as the project's own. Imports with
    comments among them are left alone.
    """
    try:
        tree = ast.parse(source)
        extra = ast.parse("\n".join(required)).body
    except SyntaxError:
        return source  # a template of the user's own making: leave it as it is
    body = list(tree.body)
    start = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        start = body[0].end_lineno or 0
        body = body[1:]  # the docstring
    imports: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if not isinstance(node, ast.Import | ast.ImportFrom):
            break
        imports.append(node)
    lines = source.split("\n")
    if imports:
        first, last = imports[0].lineno - 1, (imports[-1].end_lineno or imports[-1].lineno)
    else:
        first = last = start
    if any(line.strip().startswith("#") for line in lines[first:last]):
        return source
    wanted = [n for n in extra if isinstance(n, ast.Import | ast.ImportFrom)]
    block = _import_block([*imports, *wanted], keep_sa=_uses_sa(tree))
    if not block:
        return source
    if not imports:  # set the new block apart
        block = ["", *block, ""]
    return "\n".join([*lines[:first], *block, *lines[last:]])


def tidy_file(path: Path, required: Sequence[str] = ()) -> None:
    """Sort a freshly written revision's imports (adding *required*, dropping an unused ``sa``)."""
    text = path.read_text(encoding="utf-8")
    tidied = tidy_source(text, required)
    if tidied != text:
        path.write_text(tidied, encoding="utf-8")


def write_revision(
    scripts: ScriptDirectory,
    message: str,
    rendered: Mapping[str | None, RenderedMigration],
    **kwargs: Any,
) -> Path:
    """Write the revision through ``ScriptDirectory.generate_revision`` and tidy it."""
    path: Path = scripts.generate_revision(message, template_args=template_args(rendered), **kwargs)
    required = {line for r in rendered.values() for line in r.imports}
    if any(r.uses_sa for r in rendered.values()):
        required.add("import sqlalchemy as sa")
    tidy_file(path, sorted(required))
    return path


def describe(diffs: Sequence[SchemaDiff]) -> list[str]:
    """One line per change (``main: add table 'x'`` when there are several databases)."""
    several = len(diffs) > 1 or any(d.database for d in diffs)
    return [
        f"{diff.database}: {change.description}"
        if several and diff.database
        else change.description
        for diff in diffs
        for change in diff.changes
    ]
