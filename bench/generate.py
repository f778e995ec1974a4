"""Write the same N-revision history as an amigrate project and as an Alembic project.

    python bench/generate.py --n 1000 --shape linear          # -> bench/out/linear-1000/
    python bench/generate.py --n 5000 --shape branchy --url postgresql://postgres@127.0.0.1/bench
    python bench/generate.py --check                          # self-test on a tiny history

Each revision creates one table of five columns plus an index on upgrade and drops them
on downgrade. Revision ids are 12 hex characters derived from the revision's index, so
both projects (and every run of this script) share them. Shapes:

- ``linear``: one chain.
- ``branchy``: every block of 50 revisions is a fork point, two interleaved branches and
  a merge of their tips; a short last block stays linear, so there is always one head.

Styles: ``ops`` (default) writes ``op.create_table(...)`` / ``op.create_index(...)``;
``sql`` writes ``op.execute("CREATE TABLE ...")`` with the same portable SQL in both
projects, for when an op is not built yet.

Besides the two projects the output folder holds ``bench.json`` (what was generated) and
``raw/statements.json`` (each revision's DDL compiled for the target dialect, in apply
order) that ``bench/raw.py`` executes as the physical limit.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DEFAULT_OUT = BENCH_DIR / "out"
AMIGRATE_TEMPLATES = REPO_DIR / "templates" / "generic"

# Bump when the generated files change, so run.py regenerates cached histories.
GENERATOR_VERSION = 1
SHAPES = ("linear", "branchy")
STYLES = ("ops", "sql")
BLOCK = 50  # branchy: a fork and a merge every BLOCK revisions
DB_FILE = "bench.db"
EPOCH = dt.datetime(2026, 1, 1)

Shape = Literal["linear", "branchy"]
Style = Literal["ops", "sql"]


@dataclass(frozen=True)
class Rev:
    """One generated revision: its index in apply order, id and parents."""

    index: int
    id: str
    parents: tuple[str, ...]

    @property
    def table(self) -> str:
        return f"t_{self.index:05d}"

    @property
    def index_name(self) -> str:
        return f"ix_{self.table}_name"

    @property
    def down_revision(self) -> str | tuple[str, ...] | None:
        if not self.parents:
            return None
        return self.parents[0] if len(self.parents) == 1 else self.parents

    @property
    def message(self) -> str:
        kind = "merge, " if len(self.parents) > 1 else ""
        return f"{kind}create {self.table}"

    @property
    def slug(self) -> str:
        return re.sub(r"\W+", "_", self.message).strip("_")


def rev_id(index: int) -> str:
    """The revision id of the revision at *index*: 12 hex characters, stable forever."""
    return hashlib.sha1(f"amigrate-bench:{index}".encode()).hexdigest()[:12]


def build_history(n: int, shape: Shape) -> list[Rev]:
    """The revisions of an *n*-revision history, parents before children."""
    if n < 1:
        raise ValueError("n must be at least 1")
    ids = [rev_id(i) for i in range(n)]
    if len(set(ids)) != n:  # 48 bits: never expected, but a collision would corrupt both
        raise ValueError("revision id collision")
    parents: list[tuple[str, ...]] = []
    for i in range(n):
        if shape == "linear":
            parents.append((ids[i - 1],) if i else ())
            continue
        start = i - i % BLOCK
        length = min(BLOCK, n - start)
        pos = i - start
        if pos == 0:  # the fork point hangs off the previous block's merge
            parents.append((ids[i - 1],) if i else ())
        elif length < 4:  # too short for two branches and a merge: stay linear
            parents.append((ids[i - 1],))
        elif pos == length - 1:  # the merge of the two branch tips
            parents.append((ids[i - 2], ids[i - 1]))
        else:  # odd positions on one branch, even on the other; each starts at the fork
            prev = start if pos <= 2 else i - 2
            parents.append((ids[prev],))
    return [Rev(i, ids[i], parents[i]) for i in range(n)]


def heads_of(revs: Iterable[Rev]) -> set[str]:
    revs = list(revs)
    return {r.id for r in revs} - {p for r in revs for p in r.parents}


# --- URLs ------------------------------------------------------------------------------

ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "mysql": "asyncmy"}
# Sync drivers Alembic's standard env.py can use, best first, by the module they need.
SYNC_DRIVERS = {
    "sqlite": [("pysqlite", "sqlite3")],
    "postgresql": [("psycopg2", "psycopg2"), ("psycopg", "psycopg")],
    "mysql": [("pymysql", "pymysql"), ("mysqldb", "MySQLdb")],
}


@dataclass(frozen=True)
class Urls:
    """The URL each project gets, and which of Alembic's env.py templates fits it."""

    backend: str  # sqlite | postgresql | mysql
    amigrate: str
    alembic: str
    alembic_env: Literal["sync", "async"]


def resolve_urls(url: str | None) -> Urls:
    """Derive both projects' URLs from one: amigrate gets the async driver, Alembic a
    sync driver when one is installed (else the async driver and Alembic's async env.py).

    ``None`` means a SQLite file in each project's folder. A driver named in *url* is
    kept for Alembic.
    """
    if url is None:
        return Urls(
            "sqlite",
            f"sqlite+aiosqlite:///%(here)s/{DB_FILE}",
            f"sqlite:///%(here)s/{DB_FILE}",
            "sync",
        )
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    dialect, _, driver = scheme.partition("+")
    backend = "mysql" if dialect == "mariadb" else dialect
    if backend not in ASYNC_DRIVERS:
        raise ValueError(f"unsupported backend {dialect!r}: use sqlite, postgresql or mysql")
    async_driver = driver if driver in ASYNC_DRIVERS.values() else ASYNC_DRIVERS[backend]
    amigrate_url = f"{dialect}+{async_driver}://{rest}"
    if driver:
        env: Literal["sync", "async"] = "async" if driver in ASYNC_DRIVERS.values() else "sync"
        return Urls(backend, amigrate_url, url, env)
    for sync_driver, module in SYNC_DRIVERS[backend]:
        if importlib.util.find_spec(module) is not None:
            return Urls(backend, amigrate_url, f"{dialect}+{sync_driver}://{rest}", "sync")
    return Urls(backend, amigrate_url, amigrate_url, "async")


def ini_escape(url: str) -> str:
    """*url* as an ini value: a literal % is %% (``%(here)s`` is left alone)."""
    return re.sub(r"%(?!\(here\)s)", "%%", url)


# --- revision bodies ---------------------------------------------------------------------


def ops_upgrade(rev: Rev, prefix: str) -> list[str]:
    t = rev.table
    return [
        f"{prefix}op.create_table(",
        f'    "{t}",',
        '    sa.Column("id", sa.Integer(), nullable=False),',
        '    sa.Column("name", sa.String(length=50), nullable=False),',
        '    sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=True),',
        '    sa.Column("created_on", sa.Date(), nullable=True),',
        '    sa.Column("active", sa.Boolean(), nullable=True),',
        '    sa.PrimaryKeyConstraint("id"),',
        ")",
        f'{prefix}op.create_index("{rev.index_name}", "{t}", ["name"], unique=False)',
    ]


def ops_downgrade(rev: Rev, prefix: str) -> list[str]:
    return [
        f'{prefix}op.drop_index("{rev.index_name}", table_name="{rev.table}")',
        f'{prefix}op.drop_table("{rev.table}")',
    ]


def sql_upgrade_statements(rev: Rev) -> list[str]:
    """Portable DDL (SQLite, PostgreSQL, MariaDB/MySQL) for the ``sql`` style."""
    t = rev.table
    return [
        f"CREATE TABLE {t} (id INTEGER NOT NULL, name VARCHAR(50) NOT NULL, "
        "amount NUMERIC(12, 2), created_on DATE, active BOOLEAN, PRIMARY KEY (id))",
        f"CREATE INDEX {rev.index_name} ON {t} (name)",
    ]


def sql_downgrade_statements(rev: Rev) -> list[str]:
    # DROP INDEX has no portable spelling (MySQL wants "ON table"); the index goes
    # with its table on every backend.
    return [f"DROP TABLE {rev.table}"]


def sql_calls(statements: Sequence[str], prefix: str) -> list[str]:
    lines: list[str] = []
    for stmt in statements:
        if len(stmt) <= 70:
            lines.append(f"{prefix}op.execute({json.dumps(stmt)})")
            continue
        cut = stmt.index(", amount")  # the CREATE TABLE, on two lines
        lines += [
            f"{prefix}op.execute(",
            f'    "{stmt[: cut + 1]} "',
            f'    "{stmt[cut + 2 :]}"',
            ")",
        ]
    return lines


def body(lines: Sequence[str]) -> str:
    """Statement lines as the templates' ``${upgrades}`` expects (first line unindented)."""
    return "\n    ".join(lines)


def revision_bodies(rev: Rev, style: Style, tool: str) -> tuple[str, str]:
    prefix = "await " if tool == "amigrate" else ""
    if style == "ops":
        return body(ops_upgrade(rev, prefix)), body(ops_downgrade(rev, prefix))
    up = sql_calls(sql_upgrade_statements(rev), prefix)
    down = sql_calls(sql_downgrade_statements(rev), prefix)
    return body(up), body(down)


def compiled_statements(revs: Sequence[Rev], style: Style, backend: str) -> list[dict[str, Any]]:
    """Each revision's DDL as the backend receives it, in apply order (for bench/raw.py)."""
    if style == "sql":
        return [
            {"id": r.id, "up": sql_upgrade_statements(r), "down": sql_downgrade_statements(r)}
            for r in revs
        ]
    import sqlalchemy as sa
    from sqlalchemy.schema import CreateIndex, CreateTable, DropIndex, DropTable

    dialect_module = {
        "sqlite": "sqlalchemy.dialects.sqlite",
        "postgresql": "sqlalchemy.dialects.postgresql",
        "mysql": "sqlalchemy.dialects.mysql",
    }[backend]
    dialect = __import__(dialect_module, fromlist=["dialect"]).dialect()

    def sql(element: Any) -> str:
        return str(element.compile(dialect=dialect)).strip()

    out = []
    for r in revs:
        table = sa.Table(
            r.table,
            sa.MetaData(),
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=50), nullable=False),
            sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=True),
            sa.Column("created_on", sa.Date(), nullable=True),
            sa.Column("active", sa.Boolean(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        index = sa.Index(r.index_name, table.c.name)
        out.append(
            {
                "id": r.id,
                "up": [sql(CreateTable(table)), sql(CreateIndex(index))],
                "down": [sql(DropIndex(index)), sql(DropTable(table))],
            }
        )
    return out


# --- the two projects ------------------------------------------------------------------


def alembic_templates() -> Path:
    spec = importlib.util.find_spec("alembic")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "error: alembic is not installed\nhint: pip install -e '.[bench]' (from the repo root)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "templates"


def render(template: Path, **values: Any) -> str:
    from mako.template import Template

    return str(Template(filename=str(template)).render(**values))


def format_as_comma(value: str | Sequence[str] | None) -> str:
    """Alembic's ``comma`` template filter."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return ", ".join(value)


def set_ini_url(text: str, url: str) -> str:
    new, count = re.subn(
        r"^sqlalchemy\.url\s*=.*$",
        lambda _: f"sqlalchemy.url = {ini_escape(url)}",
        text,
        count=1,
        flags=re.M,
    )
    if count != 1:
        raise ValueError("the ini template has no sqlalchemy.url line")
    return new


def write_revisions(
    versions: Path, revs: Sequence[Rev], style: Style, tool: str, template_file: Path
) -> None:
    from mako.template import Template

    template = Template(filename=str(template_file))
    versions.mkdir(parents=True)
    for rev in revs:
        upgrades, downgrades = revision_bodies(rev, style, tool)
        text = template.render(
            message=rev.message,
            up_revision=rev.id,
            down_revision=rev.down_revision,
            branch_labels=None,
            depends_on=None,
            create_date=EPOCH + dt.timedelta(minutes=rev.index),
            imports="",
            upgrades=upgrades,
            downgrades=downgrades,
            comma=format_as_comma,
        )
        (versions / f"{rev.id}_{rev.slug}.py").write_text(text, encoding="utf-8")


def write_alembic(
    root: Path, revs: Sequence[Rev], style: Style, urls: Urls, per_migration: bool = False
) -> None:
    """An Alembic project as ``alembic init`` (generic or async template) lays it out.

    *per_migration* adds ``transaction_per_migration=True`` to env.py's online
    ``context.configure()``: one transaction per revision, as amigrate does by default.
    """
    templates = alembic_templates()
    src = templates / ("generic" if urls.alembic_env == "sync" else "async")
    migrations = root / "migrations"
    migrations.mkdir(parents=True)
    for name in ("env.py", "script.py.mako", "README"):
        shutil.copyfile(src / name, migrations / name)
    if per_migration:
        env = migrations / "env.py"
        text, count = re.subn(
            r"(context\.configure\(\s*connection=connection,\s*target_metadata=target_metadata)",
            r"\1, transaction_per_migration=True",
            env.read_text(encoding="utf-8"),
        )
        if count != 1:
            raise SystemExit(f"error: cannot find the online context.configure() in {env}")
        env.write_text(text, encoding="utf-8")
    ini = render(src / "alembic.ini.mako", script_location="%(here)s/migrations")
    (root / "alembic.ini").write_text(set_ini_url(ini, urls.alembic), encoding="utf-8")
    write_revisions(migrations / "versions", revs, style, "alembic", src / "script.py.mako")


MINIMAL_AMIGRATE_INI = """\
[amigrate]
script_location = %(here)s/migrations
sqlalchemy.url = {url}
"""


def write_amigrate(root: Path, revs: Sequence[Rev], style: Style, urls: Urls) -> None:
    """An amigrate project as ``amigrate init migrations`` (generic template) lays it out."""
    migrations = root / "migrations"
    migrations.mkdir(parents=True)
    src = AMIGRATE_TEMPLATES
    mako = src / "script.py.mako"
    if not mako.is_file():
        raise SystemExit(f"error: {mako} is missing (run from an amigrate checkout)")
    shutil.copyfile(mako, migrations / "script.py.mako")
    env = src / "env.py"
    if env.is_file():
        shutil.copyfile(env, migrations / "env.py")
    else:
        (migrations / "env.py").write_text('"""amigrate hooks (none)."""\n', encoding="utf-8")
    (migrations / "README").write_text("amigrate benchmark history.\n", encoding="utf-8")
    ini_template = src / "amigrate.ini.template"
    try:
        text = ini_template.read_text(encoding="utf-8")
        text = text.replace("{{ script_location }}", "%(here)s/migrations")
        text = text.replace("{{ database_file }}", DB_FILE)
        text = set_ini_url(text, urls.amigrate)
        if "script_location = %(here)s/migrations" not in text:
            raise ValueError("unexpected template")
    except (OSError, ValueError):
        text = MINIMAL_AMIGRATE_INI.format(url=ini_escape(urls.amigrate))
    (root / "amigrate.ini").write_text(text, encoding="utf-8")
    write_revisions(migrations / "versions", revs, style, "amigrate", mako)


def default_out(
    n: int,
    shape: str,
    style: str = "ops",
    backend: str = "sqlite",
    alembic_per_migration: bool = False,
) -> Path:
    """``bench/out/<shape>-<n>``, with ``-sql`` / ``-<backend>`` / ``-alembic-tpm`` for
    non-default choices."""
    name = f"{shape}-{n}"
    if style != "ops":
        name += f"-{style}"
    if backend != "sqlite":
        name += f"-{backend}"
    if alembic_per_migration:
        name += "-alembic-tpm"
    return DEFAULT_OUT / name


def generate(
    out: Path,
    n: int,
    shape: Shape,
    style: Style,
    url: str | None,
    alembic_per_migration: bool = False,
) -> dict[str, Any]:
    """Write ``out/amigrate``, ``out/alembic``, ``out/raw`` and ``out/bench.json``; return
    the manifest. An existing *out* is replaced."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}")
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}")
    urls = resolve_urls(url)
    revs = build_history(n, shape)
    if out.exists():
        if any(out.iterdir()) and not (out / "bench.json").is_file():
            raise SystemExit(f"error: {out} is not empty and was not written by generate.py")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    write_amigrate(out / "amigrate", revs, style, urls)
    write_alembic(out / "alembic", revs, style, urls, alembic_per_migration)
    raw = out / "raw"
    raw.mkdir()
    statements = {
        "backend": urls.backend,
        "revisions": compiled_statements(revs, style, urls.backend),
    }
    (raw / "statements.json").write_text(json.dumps(statements, indent=1), encoding="utf-8")
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "n": n,
        "shape": shape,
        "style": style,
        "url": url,
        "backend": urls.backend,
        "amigrate_url": urls.amigrate,
        "alembic_url": urls.alembic,
        "alembic_env": urls.alembic_env,
        "alembic_transaction_per_migration": alembic_per_migration,
        "heads": sorted(heads_of(revs)),
        "base": revs[0].id,
    }
    (out / "bench.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


# --- the self-test -----------------------------------------------------------------------


def read_graph(versions: Path) -> dict[str, tuple[str, ...]]:
    """``revision -> parents`` read with ``ast`` from a versions folder, as amigrate does."""
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted(versions.glob("*.py")):
        values: dict[str, Any] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name):
                values[target.id] = ast.literal_eval(value)
        down = values["down_revision"]
        parents = () if down is None else (down,) if isinstance(down, str) else tuple(down)
        if values["revision"] in graph:
            raise AssertionError(f"duplicate revision {values['revision']} in {path}")
        graph[values["revision"]] = parents
    return graph


def check() -> int:
    """Generate tiny histories into a temporary folder and verify them; 0 when all pass."""
    failures: list[str] = []
    cases: list[tuple[int, Shape, Style]] = [
        (7, "linear", "ops"),
        (123, "branchy", "ops"),
        (54, "branchy", "sql"),
        (53, "branchy", "ops"),
    ]
    per_migration = {"branchy-54-sql"}  # also check the patched env.py runs
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMIGRATE_", "ALEMBIC_"))}
    with tempfile.TemporaryDirectory(prefix="amigrate-bench-check-") as tmp:
        for n, shape, style in cases:
            label = f"{shape}-{n}-{style}"
            out = Path(tmp) / label
            manifest = generate(out, n, shape, style, None, label in per_migration)
            revs = build_history(n, shape)
            expected = {r.id: r.parents for r in revs}
            for tool in ("amigrate", "alembic"):
                graph = read_graph(out / tool / "migrations" / "versions")
                if graph != expected:
                    failures.append(f"{label}: {tool} ids/parents differ from the history")
                for path in (out / tool / "migrations" / "versions").glob("*.py"):
                    compile(path.read_text(encoding="utf-8"), str(path), "exec")
            if len(manifest["heads"]) != 1:
                failures.append(f"{label}: expected one head, got {manifest['heads']}")
            if shape == "branchy" and n >= BLOCK and not any(len(r.parents) == 2 for r in revs):
                failures.append(f"{label}: no merge revision")
            ini = str(out / "alembic" / "alembic.ini")
            for args, want in (
                (["heads"], f"{manifest['heads'][0]} (head)"),
                (["upgrade", "head"], ""),
                (["current"], f"{manifest['heads'][0]} (head)"),
                (["downgrade", "base"], ""),
            ):
                proc = subprocess.run(
                    [sys.executable, "-m", "alembic", "-c", ini, *args],
                    capture_output=True,
                    text=True,
                    env=env,
                    cwd=out / "alembic",
                    check=False,
                )
                if proc.returncode != 0 or want not in proc.stdout:
                    err = (proc.stderr.strip().splitlines() or [""])[-1]
                    failures.append(
                        f"{label}: alembic {' '.join(args)} -> exit {proc.returncode}, "
                        f"stdout {proc.stdout.strip()!r}, expected {want!r}; {err}"
                    )
            # amigrate's side, once its 'heads' exists: the same head from the same files.
            amigrate_ini = str(out / "amigrate" / "amigrate.ini")
            proc = subprocess.run(
                [sys.executable, "-m", "amigrate", "-c", amigrate_ini, "heads"],
                capture_output=True,
                text=True,
                env=env,
                cwd=out / "amigrate",
                check=False,
            )
            if proc.returncode == 2 and "No such command" in proc.stderr:
                amigrate_note = "amigrate heads: not available yet"
            elif proc.returncode != 0 or manifest["heads"][0] not in proc.stdout:
                amigrate_note = "amigrate heads: MISMATCH"
                failures.append(
                    f"{label}: amigrate heads -> exit {proc.returncode}, "
                    f"stdout {proc.stdout.strip()!r}, stderr {proc.stderr.strip()!r}"
                )
            else:
                amigrate_note = "amigrate heads: same head"
            print(f"checked {label}: {n} revisions, head {manifest['heads'][0]}; {amigrate_note}")
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print("check: " + ("FAILED" if failures else "ok"))
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="revisions (default 1000)")
    parser.add_argument("--shape", choices=SHAPES, default="linear")
    parser.add_argument(
        "--style",
        choices=STYLES,
        default="ops",
        help="ops: op.create_table/op.create_index; sql: op.execute with portable SQL",
    )
    parser.add_argument(
        "--url",
        help="database URL for both ini files (default: a SQLite file in each project)",
    )
    parser.add_argument("--out", type=Path, help="output folder (default bench/out/<shape>-<n>)")
    parser.add_argument(
        "--check", action="store_true", help="self-test on tiny histories in a temporary folder"
    )
    parser.add_argument(
        "--alembic-transaction-per-migration",
        action="store_true",
        help="Alembic's env.py commits after each revision (stock Alembic: one transaction)",
    )
    args = parser.parse_args(argv)
    if args.check:
        return check()
    urls = resolve_urls(args.url)
    tpm = args.alembic_transaction_per_migration
    out = args.out or default_out(args.n, args.shape, args.style, urls.backend, tpm)
    manifest = generate(out, args.n, args.shape, args.style, args.url, tpm)
    print(
        f"wrote {out}: {args.n} {args.shape} revisions ({args.style} style), "
        f"head {', '.join(manifest['heads'])}\n"
        f"  amigrate: {manifest['amigrate_url']}\n"
        f"  alembic:  {manifest['alembic_url']} ({manifest['alembic_env']} env.py)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
