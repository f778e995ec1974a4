"""Every snippet in README.md and docs/ runs, so the docs cannot drift from the code.

Each document runs in a folder of its own, its blocks in order:

- ``console``: each ``$ command`` runs in bash, in the folder the previous command
  of the document ended in (a ``cd`` carries over, as in one shell typed into);
  the lines after it are its expected output (stdout and stderr), where ``...``
  within a line matches anything and a line that is only ``...`` matches any
  number of lines. An expected ``error:``
  line means the command must fail, otherwise it must succeed.
- ``python``: executed (top-level ``await`` allowed), the blocks of one document in
  one namespace and one event loop.
- ``ini`` / ``toml``: loaded as an amigrate configuration.
- ``bash`` blocks marked ``<!-- test: NAME -->`` are the README's set-up commands,
  checked by the tests below.
"""

from __future__ import annotations

import ast
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import amigrate
from amigrate.config import Config

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"(?:<!-- test: (?P<tag>[\w-]+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


@dataclass(frozen=True)
class Block:
    lang: str
    body: str
    tag: str | None
    line: int


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return [
        Block(m["lang"], m["body"], m["tag"], text.count("\n", 0, m.start()) + 1)
        for m in FENCE.finditer(text)
    ]


def expected_pattern(expected: list[str]) -> re.Pattern[str]:
    parts = []
    for line in expected:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*".join(re.escape(p) for p in line.rstrip().split("...")) + r"[ \t]*\n")
    return re.compile("".join(parts), re.S)


#: Each command writes the folder it ends in to this file, for the next one's cwd.
CWD_FILE_VAR = "DOC_SNIPPET_CWD_FILE"
CWD_TRAP = f"trap 'pwd > \"${CWD_FILE_VAR}\"' EXIT\n"


def run_console(block: Block, cwd: Path, env: dict[str, str], where: str) -> Path:
    """Run the block's commands from *cwd*; return the folder the last one ended in."""
    commands: list[tuple[str, list[str]]] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
    with tempfile.TemporaryDirectory() as scratch:
        cwd_file = Path(scratch) / "cwd"
        for command, expected in commands:
            proc = subprocess.run(
                ["bash", "-c", CWD_TRAP + command],
                cwd=cwd,
                env={**env, CWD_FILE_VAR: str(cwd_file)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=300,
                check=False,
            )
            out = "\n".join(line.rstrip() for line in proc.stdout.splitlines()) + "\n"
            should_fail = any(line.startswith("error:") for line in expected)
            assert (proc.returncode != 0) == should_fail, f"{where}: $ {command}\n{proc.stdout}"
            if expected:
                assert expected_pattern(expected).fullmatch(out), (
                    f"{where}: $ {command}\nexpected:\n" + "\n".join(expected) + f"\ngot:\n{out}"
                )
            cwd = Path(cwd_file.read_text().strip())
    return cwd


def run_python(
    block: Block, cwd: Path, where: str, namespace: dict[str, object], runner: asyncio.Runner
) -> None:
    code = compile(block.body, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = eval(code, namespace)  # the snippet is the test
        if asyncio.iscoroutine(result):
            runner.run(result)
    finally:
        os.chdir(previous)


def run_config(block: Block, cwd: Path, where: str) -> None:
    name = "snippet.ini" if block.lang == "ini" else "pyproject.toml"
    path = cwd / "snippet-config" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(block.body, encoding="utf-8")
    env_names = set(re.findall(r"\$\{(\w+)", block.body))
    saved = {n: os.environ.get(n) for n in env_names}
    os.environ.update(dict.fromkeys(env_names, "sqlite+aiosqlite://"))
    try:
        config = Config(
            ini_path=path if block.lang == "ini" else None,
            toml_path=path if block.lang == "toml" else None,
        )
        assert config.script_location, where
        for section in config.sections():
            config.get_section(section)
        config.url_or_none  # noqa: B018 - expands ${VAR} references
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


def doc_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMIGRATE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_snippets_run(doc: Path, tmp_path: Path) -> None:
    env = doc_env()
    namespace: dict[str, object] = {"__name__": "__doc_snippet__"}  # shared by a doc's blocks
    with asyncio.Runner() as runner:
        run_blocks(doc, tmp_path, env, namespace, runner)


def run_blocks(
    doc: Path,
    tmp_path: Path,
    env: dict[str, str],
    namespace: dict[str, object],
    runner: asyncio.Runner,
) -> None:
    cwd = tmp_path  # the shell's folder: a `cd` carries over to the next blocks
    for block in blocks(doc):
        where = f"{doc.name}:{block.line}"
        if block.tag:
            continue  # the set-up commands, below
        if block.lang == "console":
            cwd = run_console(block, cwd, env, where)
        elif block.lang == "python":
            run_python(block, cwd, where, namespace, runner)
        elif block.lang in ("ini", "toml"):
            run_config(block, tmp_path, where)
        else:
            pytest.fail(f"{where}: a ```{block.lang} block; mark it or give it a tested language")


def test_a_cd_carries_over_to_the_next_commands(tmp_path: Path) -> None:
    """The console blocks are typed into one shell: `cd` stays in effect."""
    first = Block("console", "$ mkdir -p a/b && cd a\n$ cd b && pwd\n.../a/b\n", None, 1)
    second = Block("console", "$ pwd\n.../a/b\n$ cd ..\n$ pwd\n.../a\n", None, 5)
    cwd = run_console(first, tmp_path, doc_env(), "first")
    assert cwd == tmp_path / "a" / "b"
    assert run_console(second, cwd, doc_env(), "second") == tmp_path / "a"


def readme_code(path: Path) -> str:
    """The indented code block of a template's README."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("    "))
    end = next(i for i in range(start, len(lines)) if lines[i] and not lines[i].startswith(" "))
    return textwrap.dedent("\n".join(lines[start:end]))


def test_async_template_readme_snippet_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """templates/async/README's lifespan snippet runs as copied, with a stand-in myapp."""
    for args in (
        ["init", "-t", "async", "migrations"],
        ["revision", "-m", "first", "--rev-id", "a1"],
    ):
        subprocess.run(
            [sys.executable, "-m", "amigrate", *args],
            cwd=tmp_path,
            env=doc_env(),
            check=True,
            capture_output=True,
        )
    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "__init__.py").write_text("")
    (tmp_path / "myapp" / "db.py").write_text(
        "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
        "engine = create_async_engine('sqlite+aiosqlite:///app.db')\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    namespace: dict[str, object] = {"__name__": "__readme_snippet__"}
    try:
        exec(readme_code(ROOT / "templates" / "async" / "README"), namespace)

        engine: Any = namespace["engine"]
        app: Any = namespace["app"]
        config: Any = namespace["config"]

        async def start_and_stop() -> tuple[str, ...]:
            async with app.router.lifespan_context(app):
                heads = await amigrate.current(config, engine=engine)
            await engine.dispose()
            return heads

        assert asyncio.run(start_and_stop()) == ("a1",)
    finally:
        for name in ("myapp.db", "myapp"):
            sys.modules.pop(name, None)


def tagged(tag: str) -> str:
    (block,) = [b for b in blocks(ROOT / "README.md") if b.tag == tag]
    return block.body.strip()


def test_ci_runs_the_readme_test_command() -> None:
    command = tagged("tests-command")
    test_part = command.split("&&")[-1].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_part in ci.splitlines(), f".ci/run must run {test_part!r}"


#: Untracked files under these paths are copied too (a new module not yet added to
#: git is part of what ``pip install .`` builds); anything else untracked is a user's
#: own work, such as the quickstart's migrations/, amigrate.ini and app.db.
PACKAGE_PATHS = ("amigrate/", "templates/")


def copy_checkout(source: Path, dest: Path) -> list[str]:
    """Copy what a fresh clone of *source* holds (plus new package files) to *dest*."""

    def git_files(*args: str) -> list[str]:
        out = subprocess.run(
            ["git", "ls-files", "-z", *args], cwd=source, capture_output=True, check=True
        ).stdout.decode()
        return [name for name in out.split("\0") if name]

    tracked = git_files("--cached")
    new = git_files("--others", "--exclude-standard", "--", *PACKAGE_PATHS)
    copied = []
    for name in [*tracked, *new]:
        if (source / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, dest / name)
            copied.append(name)
    return copied


def quickstart_env() -> dict[str, str]:
    """The environment of a shell with no virtual environment active."""
    env = doc_env()
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = os.pathsep.join(
        p for p in env["PATH"].split(os.pathsep) if not p.startswith(sys.prefix)
    )
    return env


def test_checkout_copy_leaves_out_the_quickstart_outputs(tmp_path: Path) -> None:
    """The quickstart run in a checkout must not break the next run of the test below.

    The README's set-up commands run in one clone, in order: the quickstart leaves
    migrations/, amigrate.ini, app.db and a lock file in the checkout, and the test
    command then runs the quickstart again in a copy of it.
    """
    source = tmp_path / "clone"
    copy_checkout(ROOT, source)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "clone"]):
        subprocess.run([*git, *args], cwd=source, check=True, capture_output=True)
    # The quickstart's amigrate commands (its venv and pip steps need PyPI: the slow
    # test below runs them all), with this interpreter's amigrate.
    steps = [p.strip() for p in tagged("quickstart").split("&&")]
    amigrate_steps = " && ".join(p for p in steps if p.startswith("amigrate "))
    assert "amigrate init" in amigrate_steps, steps
    env = doc_env()
    run = subprocess.run(
        ["bash", "-c", amigrate_steps], cwd=source, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (source / "amigrate" / "new_module.py").write_text("")  # not yet added to git
    before = {p.relative_to(source) for p in source.rglob("*") if ".git" not in p.parts}

    copy = tmp_path / "copy"
    copied = copy_checkout(source, copy)

    assert {"pyproject.toml", "README.md", "amigrate/new_module.py"} <= set(copied)
    outputs = {"migrations", "amigrate.ini", "app.db", "app.db.amigrate-lock"}
    assert outputs & {str(p) for p in before} == outputs, "the quickstart wrote elsewhere"
    assert not [name for name in copied if name.split("/")[0] in outputs]
    again = subprocess.run(
        ["bash", "-c", amigrate_steps], cwd=copy, env=env, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.slow
def test_quickstart_runs_on_a_fresh_checkout(tmp_path: Path) -> None:
    """The README's first command, verbatim, in a copy of this checkout (pip needs PyPI)."""
    checkout = tmp_path / "checkout"
    copy_checkout(ROOT, checkout)
    proc = subprocess.run(
        ["bash", "-c", tagged("quickstart")],
        cwd=checkout,
        env=quickstart_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, textwrap.shorten(proc.stdout + proc.stderr, 4000)
    assert (checkout / ".venv" / "bin" / "amigrate").is_file()
