"""Build amigrate projects on disk for tests: a config, env.py and revision files."""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from amigrate.config import Config
from amigrate.scripts.templates import templates_root


@dataclass
class Rev:
    """A revision to write: its id, parents and the bodies of upgrade/downgrade."""

    id: str
    down: str | tuple[str, ...] | None = None
    upgrade: str = "pass"
    downgrade: str = "pass"
    message: str = ""
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    extra: str = ""
    sync: bool = False


def table_rev(
    rev_id: str, down: str | tuple[str, ...] | None, table: str, *, message: str = ""
) -> Rev:
    """A revision that creates *table* (id + name columns, an index) and drops it."""
    return Rev(
        rev_id,
        down,
        upgrade=(
            f'await op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True), '
            f'sa.Column("name", sa.String(50)))\n'
            f'await op.create_index("ix_{table}_name", "{table}", ["name"])'
        ),
        downgrade=(
            f'await op.drop_index("ix_{table}_name", "{table}")\nawait op.drop_table("{table}")'
        ),
        message=message or f"create {table}",
    )


def render(rev: Rev) -> str:
    def body(code: str) -> str:
        return textwrap.indent(textwrap.dedent(code).strip() or "pass", "    ")

    kind = "def" if rev.sync else "async def"
    return (
        f'"""{rev.message or rev.id}\n\nRevision ID: {rev.id}\n"""\n\n'
        "import sqlalchemy as sa\n\n"
        "from amigrate import Operations\n\n"
        f"revision = {rev.id!r}\n"
        f"down_revision = {rev.down!r}\n"
        f"branch_labels = {rev.branch_labels or None!r}\n"
        f"depends_on = {rev.depends_on or None!r}\n"
        f"{rev.extra}\n\n"
        f"{kind} upgrade(op: Operations) -> None:\n{body(rev.upgrade)}\n\n\n"
        f"{kind} downgrade(op: Operations) -> None:\n{body(rev.downgrade)}\n"
    )


@dataclass
class Project:
    """A project folder with amigrate.ini and migrations/."""

    root: Path
    url: str
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def ini(self) -> Path:
        return self.root / "amigrate.ini"

    @property
    def versions(self) -> Path:
        return self.root / "migrations" / "versions"

    def write_config(self) -> None:
        lines = [
            "[amigrate]",
            "script_location = %(here)s/migrations",
            f"sqlalchemy.url = {self.url.replace('%', '%%')}",
            *(f"{k} = {v}" for k, v in self.settings.items()),
        ]
        self.ini.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def add(self, *revs: Rev) -> None:
        for rev in revs:
            (self.versions / f"{rev.id}.py").write_text(render(rev), encoding="utf-8")

    def env(self, source: str) -> None:
        (self.root / "migrations" / "env.py").write_text(textwrap.dedent(source), encoding="utf-8")

    def config(self, **settings: str) -> Config:
        config = Config(ini_path=self.ini)
        for key, value in settings.items():
            config.set(key, value)
        return config


def make_project(root: Path, url: str, *revs: Rev, **settings: str) -> Project:
    """A project in *root* whose database is *url*, holding *revs*."""
    project = Project(root, url, dict(settings))
    project.versions.mkdir(parents=True)
    template = templates_root() / "generic" / "script.py.mako"
    shutil.copyfile(template, root / "migrations" / "script.py.mako")
    project.write_config()
    project.add(*revs)
    return project


def linear(n: int, prefix: str = "r") -> list[Rev]:
    """``n`` revisions in a line, each creating a table ``t<i>``."""
    revs = []
    down: str | None = None
    for i in range(1, n + 1):
        rid = f"{prefix}{i:03d}"
        revs.append(table_rev(rid, down, f"{prefix}t{i}"))
        down = rid
    return revs
