"""revision, merge and the inspection commands, tried as a new user would, text and JSON."""

from __future__ import annotations

import json
import re
import shutil
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import assert_clean_error, run_cli
from tests.projects import Rev, make_project


def ids_by_message(cwd: Path) -> dict[str, str]:
    data = json.loads(run_cli("--json", "history", cwd=cwd).out)
    return {entry["message"]: entry["revision"] for entry in data}


def test_new_user_flow(tmp_path: Path) -> None:
    assert run_cli("init", "migrations", cwd=tmp_path).code == 0
    for message in ("create account", "add email", "add index"):
        result = run_cli("revision", "-m", message, cwd=tmp_path)
        assert result.code == 0, result
        assert re.search(
            r"Generated .*/versions/[0-9a-f]{12}_" + message.replace(" ", "_"), result.out
        )
    ids = ids_by_message(tmp_path)
    first, second, third = ids["create account"], ids["add email"], ids["add index"]

    branch = run_cli(
        "revision",
        "-m",
        "feature work",
        "--head",
        first,
        "--splice",
        "--branch-label",
        "feature",
        cwd=tmp_path,
    )
    assert branch.code == 0, branch
    feature = ids_by_message(tmp_path)["feature work"]
    heads = run_cli("heads", cwd=tmp_path).out.splitlines()
    assert sorted(heads) == sorted([f"{third} (head)", f"{feature} (feature) (head)"])

    merged = run_cli("merge", "heads", "-m", "merge feature", cwd=tmp_path)
    assert merged.code == 0, merged
    merge = ids_by_message(tmp_path)["merge feature"]
    assert run_cli("heads", cwd=tmp_path).out.strip() == f"{merge} (feature) (head)"

    branches = run_cli("branches", cwd=tmp_path).out.splitlines()
    assert branches[0] == f"{first} (branchpoint)"
    assert sorted(line.strip() for line in branches[1:] if line) == sorted(
        [f"-> {second}", f"-> {feature} (feature)"]
    )

    history = run_cli("history", "-r", "base:heads", cwd=tmp_path).out.splitlines()
    parents = ", ".join(sorted([third, feature]))  # 'merge heads' takes them in id order
    assert history[0] == f"{parents} -> {merge} (feature) (head) (mergepoint), merge feature"
    assert history[-1] == f"<base> -> {first} (branchpoint), create account"
    assert len(history) == 5

    shown = run_cli("show", second[:4], cwd=tmp_path)
    assert shown.code == 0, shown
    assert shown.out.startswith(f"Rev: {second}\nParent: {first}\nPath: ")
    assert "    add email" in shown.out

    # the same in JSON, with the stable fields
    data = json.loads(run_cli("show", second[:4], "--json", cwd=tmp_path).out)
    assert len(data) == 1
    assert data[0] == {
        "revision": second,
        "down_revisions": [first],
        "branch_labels": [],
        "depends_on": [],
        "message": "add email",
        "path": data[0]["path"],
        "create_date": data[0]["create_date"],
        "is_head": False,
        "is_base": False,
        "is_branch_point": False,
        "is_merge_point": False,
    }
    assert data[0]["path"].endswith(f"{second}_add_email.py")
    heads_json = json.loads(run_cli("heads", "--json", cwd=tmp_path).out)
    assert [(h["revision"], h["is_merge_point"], h["branch_labels"]) for h in heads_json] == [
        (merge, True, ["feature"])
    ]
    branch_json = json.loads(run_cli("--json", "branches", cwd=tmp_path).out)
    assert branch_json[0]["revision"] == first
    assert sorted(branch_json[0]["branches_into"]) == sorted([second, feature])
    history_json = json.loads(run_cli("history", "--json", cwd=tmp_path).out)
    assert history_json[0]["revision"] == merge
    assert history_json[-1]["is_base"] is True


def test_revision_options(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///x.db", Rev("a1", None), Rev("b2", "a1"))
    result = run_cli("revision", "-m", "dep", "--rev-id", "c3", "--depends-on", "a", cwd=tmp_path)
    assert result.code == 0, result
    text = (tmp_path / "migrations" / "versions" / "c3_dep.py").read_text()
    assert 'down_revision: str | tuple[str, ...] | None = "b2"' in text
    assert 'depends_on: str | tuple[str, ...] | None = "a1"' in text  # the prefix resolved
    assert "Revises: b2" in text

    base = run_cli("revision", "-m", "new base", "--head", "base", "--rev-id", "d4", cwd=tmp_path)
    assert base.code == 0, base
    assert (
        "down_revision: str | tuple[str, ...] | None = None"
        in (tmp_path / "migrations" / "versions" / "d4_new_base.py").read_text()
    )


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("--rev-id", "a1"), "revision id 'a1' already exists"),
        (("--rev-id", "x@y"), "contains '@'"),
        (("--rev-id", "x" * 33), "33 characters long"),
        (("--head", "a1"), "revision a1 is not a head"),
        (("--head", "zz"), "no revision matches 'zz'"),
        (("--depends-on", "nope"), "no revision matches 'nope'"),
        (("--branch-label", "taken"), "branch label 'taken' is already used"),
        # what the reader would reject once written is refused before writing
        (("--rev-id", "head"), "revision head has a reserved word as its id"),
        (("--rev-id", "base"), "revision base has a reserved word as its id"),
        (("--rev-id", "heads"), "revision heads has a reserved word as its id"),
        (("--rev-id", "current"), "revision current has a reserved word as its id"),
        (("--branch-label", "head"), "branch label 'head', which cannot be used in a target"),
        (("--branch-label", "base"), "branch label 'base', which cannot be used in a target"),
        (("--branch-label", "a@b"), "branch label 'a@b', which cannot be used in a target"),
        (("--branch-label", "has space"), "'has space', which cannot be used in a target"),
        (("--branch-label", "b2"), "branch label 'b2', which is the id of revision b2"),
    ],
)
def test_revision_bad_options(tmp_path: Path, args: tuple[str, ...], match: str) -> None:
    make_project(
        tmp_path,
        "sqlite+aiosqlite:///x.db",
        Rev("a1", None, branch_labels=("taken",)),
        Rev("b2", "a1"),
    )
    before = sorted(p.name for p in (tmp_path / "migrations" / "versions").iterdir())
    assert_clean_error(run_cli("revision", "-m", "x", *args, cwd=tmp_path), match=match)
    assert sorted(p.name for p in (tmp_path / "migrations" / "versions").iterdir()) == before


def test_several_heads_need_a_choice(tmp_path: Path) -> None:
    make_project(
        tmp_path, "sqlite+aiosqlite:///x.db", Rev("a1", None), Rev("b1", "a1"), Rev("b2", "a1")
    )
    result = run_cli("revision", "-m", "x", cwd=tmp_path)
    assert_clean_error(result, match="'head' is ambiguous: the history has 2 heads: b1, b2")
    assert "--head" in result.err
    assert "merge" in result.err
    assert_clean_error(run_cli("upgrade", "head", "--sql", cwd=tmp_path), match="b1, b2")
    assert_clean_error(run_cli("merge", "a1", "b1", "-m", "m", cwd=tmp_path), match="descendant")
    assert_clean_error(run_cli("merge", "b1", "-m", "m", cwd=tmp_path), match="nothing to merge")


def test_merge_takes_heads_only(tmp_path: Path) -> None:
    """Merging a revision that is not a head would leave one more head (Alembic refuses too)."""
    make_project(
        tmp_path,
        "sqlite+aiosqlite:///x.db",
        Rev("a1", None),
        Rev("b1", "a1"),
        Rev("c1", "b1"),
        Rev("b2", "a1"),
    )
    versions = tmp_path / "migrations" / "versions"
    before = sorted(p.name for p in versions.iterdir())
    result = run_cli("merge", "b1", "b2", "-m", "m", cwd=tmp_path)
    assert_clean_error(result, match="revision b1 is not a head")
    assert "amigrate heads" in result.err
    assert sorted(p.name for p in versions.iterdir()) == before
    assert run_cli("merge", "c1", "b2", "-m", "m", cwd=tmp_path).code == 0


def test_version_locations_and_file_template(tmp_path: Path) -> None:
    project = make_project(tmp_path, "sqlite+aiosqlite:///x.db", Rev("a1", None))
    other = tmp_path / "plugin_versions"
    other.mkdir()
    project.settings.update(
        {
            "version_locations": f"{project.versions} {other}",
            "file_template": "%%(year)d/%%(rev)s_%%(slug)s",
            "recursive_version_locations": "true",
            "truncate_slug_length": "10",
            "timezone": "UTC",
        }
    )
    project.write_config()
    result = run_cli("revision", "-m", "plugin base table here", "--head", "base", cwd=tmp_path)
    assert_clean_error(result, match="several version locations")
    result = run_cli(
        "revision",
        "-m",
        "plugin base table here",
        "--head",
        "base",
        "--rev-id",
        "p1",
        "--version-path",
        str(other),
        cwd=tmp_path,
    )
    assert result.code == 0, result
    (path,) = other.rglob("p1_*.py")
    assert path.name == "p1_plugin_.py"  # slug cut at a word boundary within 10 characters
    assert path.parent.parent == other  # %(year)d made a subfolder
    assert "+00:00" in path.read_text()  # the create date is in UTC
    # the new file is found again (recursively), and a child lands beside its parent
    assert (
        run_cli("revision", "-m", "next", "--head", "p1", "--rev-id", "p2", cwd=tmp_path).code == 0
    )
    (child,) = other.rglob("p2_*.py")
    assert child.parent == path.parent  # other/<year>/, not other/<year>/<year>/
    heads = run_cli("heads", cwd=tmp_path).out.split()
    assert "a1" in heads
    assert "p2" in heads
    # a merge goes to its first parent's location, with the template's subfolder once
    merged = run_cli("merge", "heads", "-m", "join", "--rev-id", "m1", cwd=tmp_path)
    assert merged.code == 0, merged
    (merge,) = tmp_path.rglob("m1_*.py")
    assert merge.parent.parent in (project.versions, other)
    assert merge.parent.name == path.parent.name


def test_edit_uses_the_editor(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///x.db", Rev("a1b2c3", None))
    editor = tmp_path / "fake-editor"
    editor.write_text(
        f"#!{sys.executable}\nimport sys\nopen(sys.argv[1], 'a').write('# edited\\n')\n"
    )
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    result = run_cli("edit", "a1b", cwd=tmp_path, env={"EDITOR": str(editor), "VISUAL": ""})
    assert result.code == 0, result
    assert (tmp_path / "migrations" / "versions" / "a1b2c3.py").read_text().endswith("# edited\n")
    env = dict.fromkeys(("EDITOR", "VISUAL"), "")
    assert_clean_error(run_cli("edit", "a1b", cwd=tmp_path, env=env), match="no editor")


def test_ruff_post_write_hook_reformats(tmp_path: Path) -> None:
    if shutil.which("ruff", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("ruff is not installed beside this Python")  # pragma: no cover
    assert run_cli("init", "migrations", cwd=tmp_path).code == 0
    ini = tmp_path / "amigrate.ini"
    ini.write_text(
        ini.read_text().replace(
            "[post_write_hooks]",
            "[post_write_hooks]\nhooks = ruff_format\nruff_format.type = console_scripts\n"
            "ruff_format.entrypoint = ruff\n"
            "ruff_format.options = format --line-length 40 REVISION_SCRIPT_FILENAME",
        )
    )
    result = run_cli("revision", "-m", "hooked", "--rev-id", "h1", cwd=tmp_path)
    assert result.code == 0, result
    assert "Ran post-write hook 'ruff_format' ... done" in result.out
    text = (tmp_path / "migrations" / "versions" / "h1_hooked.py").read_text()
    # a 40-column line length makes ruff split the long annotation
    assert "down_revision: (\n" in text or "down_revision: str | tuple[\n" in text


@pytest.mark.parametrize(
    ("hook", "match"),
    [
        ({"type": "exec", "executable": "false"}, "failed with exit status 1"),
        (
            {"type": "exec", "executable": "no-such-tool-xyz"},
            "executable 'no-such-tool-xyz' not found",
        ),
        ({"type": "console_scripts", "entrypoint": "no-such-script-xyz"}, "no console script"),
        ({"type": "module", "module": "no_such_module_xyz"}, "failed with exit status 1"),
    ],
)
def test_failing_hooks_are_reported(tmp_path: Path, hook: dict[str, str], match: str) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    lines = ["", "[post_write_hooks]", "hooks = bad"] + [f"bad.{k} = {v}" for k, v in hook.items()]
    with (tmp_path / "amigrate.ini").open("a") as fh:
        fh.write("\n".join(lines) + "\n")
    result = run_cli("revision", "-m", "x", "--rev-id", "f1", cwd=tmp_path)
    assert_clean_error(result, match=match)
    assert (tmp_path / "migrations" / "versions" / "f1_x.py").exists()  # the file stays


@pytest.mark.parametrize(
    ("hook", "match"),
    [
        ({"type": "magic"}, "has type 'magic'"),
        ({"executable": "true"}, "has type '(none)'"),
        ({"type": "exec", "executable": "echo", "options": '"unclosed REVISION_SCRIPT_FILENAME'},
         "bad.options cannot be split into arguments"),
        ({"type": "exec", "executable": "echo", "options": "${AMIGRATE_NO_SUCH_VAR_XYZ}"},
         "AMIGRATE_NO_SUCH_VAR_XYZ"),
        ({"type": "exec", "executable": "echo", "options": "%(nokey)s"}, "nokey"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("as_json", [False, True])
def test_a_misconfigured_hook_writes_no_file(
    tmp_path: Path, hook: dict[str, str], match: str, as_json: bool
) -> None:
    """Hook settings are checked before the revision is written: an error after it left a
    file that a retry would write a second time (and --json did not name it)."""
    make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    lines = ["", "[post_write_hooks]", "hooks = bad"] + [f"bad.{k} = {v}" for k, v in hook.items()]
    with (tmp_path / "amigrate.ini").open("a") as fh:
        fh.write("\n".join(lines) + "\n")
    json_flag = ["--json"] if as_json else []
    for command in (("revision", "-m", "x", "--rev-id", "f1"), ("merge", "heads")):
        result = run_cli(*json_flag, *command, cwd=tmp_path)
        assert result.code == 1, result
        assert match in (result.out + result.err), result
        assert "Traceback" not in result.err
        assert not list((tmp_path / "migrations" / "versions").glob("*.py"))


def test_a_hook_named_in_mixed_case(tmp_path: Path) -> None:
    """An ini file's keys are lower case: 'RuffFmt.type' is found for hooks = RuffFmt."""
    make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    with (tmp_path / "amigrate.ini").open("a") as fh:
        fh.write("\n[post_write_hooks]\nhooks = MyHook\nMyHook.type = exec\n")
        fh.write("MyHook.executable = true\n")
    result = run_cli("revision", "-m", "x", "--rev-id", "f1", cwd=tmp_path)
    assert result.code == 0, result
    assert "Ran post-write hook 'MyHook' ... done" in result.out


def test_module_and_pyproject_hooks(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.amigrate]\n"
        "[[tool.amigrate.post_write_hooks]]\n"
        'name = "compile"\ntype = "module"\nmodule = "py_compile"\n'
        'options = "REVISION_SCRIPT_FILENAME"\n'
    )
    result = run_cli("--json", "revision", "-m", "x", "--rev-id", "m1", cwd=tmp_path)
    assert result.code == 0, result
    data: dict[str, Any] = json.loads(result.out)
    assert data["revision"] == "m1"
    assert data["hooks"] == [{"name": "compile", "returncode": 0, "output": ""}]


BAD_HISTORIES = [
    ([Rev("a1", None), Rev("a1", None)], "x2.py", "declared in more than one file"),
    ([Rev("a1", None), Rev("b2", "nope")], "b2", "'nope', which is not a known revision"),
    ([Rev("a1", "b2"), Rev("b2", "a1")], "", "cycle"),
    ([Rev("a1", None, branch_labels=("x",)), Rev("b2", None, branch_labels=("x",))], "", "'x'"),
    ([Rev("a1", None, depends_on=("ghost",))], "a1", "ghost"),
]


@pytest.mark.parametrize(("revs", "name", "match"), BAD_HISTORIES)
def test_bad_histories_name_files(tmp_path: Path, revs: list[Rev], name: str, match: str) -> None:
    project = make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    for i, rev in enumerate(revs):
        project.add(rev)
        (project.versions / f"{rev.id}.py").rename(project.versions / f"x{i + 1}.py")
    result = run_cli("heads", cwd=tmp_path)
    assert_clean_error(result, match=match)
    if name:
        assert name in result.err


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ('revision = "a1"\ndown_revision = parent()\n', "x.py:2: down_revision must be a literal"),
        ('revision = "a1\n', "x.py:1: syntax error"),
        ("x = 1\n", "x.py: declares no 'revision'"),
    ],
)
def test_unreadable_revision_files(tmp_path: Path, source: str, match: str) -> None:
    project = make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    (project.versions / "x.py").write_text(source)
    assert_clean_error(run_cli("history", cwd=tmp_path), match=match)


def test_listing_never_imports_revisions(tmp_path: Path) -> None:
    project = make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    down = None
    for i in range(300):
        rid = f"r{i:04d}"
        project.add(Rev(rid, down, extra="raise SystemExit('imported!')"))
        down = rid
    for args in (("heads",), ("history",), ("branches",), ("show", "r0150"), ("upgrade", "--plan")):
        result = run_cli(*args, cwd=tmp_path)
        assert result.code == 0, (args, result)
        assert "imported!" not in result.output
    assert run_cli("heads", cwd=tmp_path).out.strip() == "r0299 (head)"


def test_relative_targets_past_the_ends(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///x.db", Rev("a1", None), Rev("b2", "a1"))
    assert_clean_error(run_cli("history", "-r", "a1+5:", cwd=tmp_path), match="a1+5")
    assert_clean_error(run_cli("show", "b2-3", cwd=tmp_path), match="past base")
    assert run_cli("show", "b2-1", cwd=tmp_path).out.startswith("Rev: a1")


def test_environment_without_script_location_folder(tmp_path: Path) -> None:
    project = make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    shutil.rmtree(project.root / "migrations")
    assert_clean_error(run_cli("heads", cwd=tmp_path), match="does not exist")


def test_unreadable_versions_folder(tmp_path: Path) -> None:
    project = make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    project.versions.rmdir()
    project.versions.write_text("not a folder")  # unreadable as a folder, even for root
    assert_clean_error(run_cli("heads", cwd=tmp_path), match="version folder cannot be read")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (None, ["{path}"]),  # no options: the path is the one argument
        ("-l 79", ["{path}", "-l", "79"]),  # Alembic puts the path in front
        ("--check REVISION_SCRIPT_FILENAME --x", ["--check", "{path}", "--x"]),
    ],
)
def test_hook_gets_the_file_path(tmp_path: Path, options: str | None, expected: list[str]) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    script = tmp_path / "fmt.sh"
    script.write_text(
        '#!/bin/sh\nfor a in "$@"; do echo "arg:$a"; done\ntest -f "$1" || test -f "$2"\n'
    )
    script.chmod(0o755)
    lines = ["", "[post_write_hooks]", "hooks = fmt", "fmt.type = exec"]
    lines.append("fmt.executable = %(here)s/fmt.sh")
    if options is not None:
        lines.append(f"fmt.options = {options}")
    with (tmp_path / "amigrate.ini").open("a") as fh:
        fh.write("\n".join(lines) + "\n")
    result = run_cli("-v", "revision", "-m", "x", "--rev-id", "f1", cwd=tmp_path)
    assert result.code == 0, result
    path = tmp_path / "migrations" / "versions" / "f1_x.py"
    # -v shows the hook's output, as Alembic does
    shown = [line[len("  | arg:") :] for line in result.out.splitlines() if "| arg:" in line]
    assert shown == [arg.format(path=path) for arg in expected]
    quiet = run_cli("revision", "-m", "y", "--rev-id", "f2", cwd=tmp_path)
    assert quiet.code == 0, quiet
    assert "arg:" not in quiet.out
    assert "Ran post-write hook 'fmt' ... done" in quiet.out


def test_quotes_and_backslashes_are_written_as_valid_python(tmp_path: Path) -> None:
    assert run_cli("init", "migrations", cwd=tmp_path).code == 0
    message = "triple \"\"\" quote, \\N and ''' too"
    result = run_cli(
        "revision", "-m", message, "--branch-label", 'q"uote', "--rev-id", "q1", cwd=tmp_path
    )
    assert result.code == 0, result
    (path,) = (tmp_path / "migrations" / "versions").glob("q1_*.py")
    assert "branch_labels: str | tuple[str, ...] | None = 'q\"uote'" in path.read_text()
    (entry,) = json.loads(run_cli("--json", "history", cwd=tmp_path).out)
    assert (entry["message"], entry["branch_labels"]) == (message, ['q"uote'])


def test_a_template_that_renders_invalid_python_writes_nothing(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///x.db")
    mako = tmp_path / "migrations" / "script.py.mako"
    # Alembic's template style: the message goes into the docstring as it is
    mako.write_text('"""${message}"""\nrevision = "${up_revision}"\ndown_revision = None\n')
    result = run_cli("revision", "-m", 'ends with a quote"', "--rev-id", "z1", cwd=tmp_path)
    assert_clean_error(result, match="rendered a revision that is not valid Python")
    assert list((tmp_path / "migrations" / "versions").iterdir()) == []
    # a template whose file the reader cannot read back: the file is removed again
    mako.write_text('revision = "${up_revision}"\ndown_revision = ""\n')
    result = run_cli("revision", "-m", "x", "--rev-id", "z2", cwd=tmp_path)
    assert_clean_error(result, match="cannot be read back, so it was removed")
    assert list((tmp_path / "migrations" / "versions").iterdir()) == []
    assert run_cli("heads", cwd=tmp_path).code == 0


def test_no_message_is_an_empty_message(tmp_path: Path) -> None:
    make_project(tmp_path, "sqlite+aiosqlite:///x.db", Rev("a1", None), Rev("b1", "a1"))
    assert run_cli("revision", "--head", "a1", "--splice", "--rev-id", "c1", cwd=tmp_path).code == 0
    assert (tmp_path / "migrations" / "versions" / "c1_.py").exists()  # as Alembic names it
    assert run_cli("merge", "heads", "--rev-id", "m1", cwd=tmp_path).code == 0
    assert (tmp_path / "migrations" / "versions" / "m1_.py").exists()
    history = run_cli("history", "-r", "a1:", cwd=tmp_path).out.splitlines()
    assert history == [
        "b1, c1 -> m1 (head) (mergepoint), empty message",
        "a1 -> b1, b1",
        "a1 -> c1, empty message",
        "<base> -> a1 (branchpoint), a1",
    ]


@pytest.mark.parametrize(
    ("spec", "hint"),
    [
        ("b2:a1", "write the older revision first: -r a1:b2"),
        ("c1:b2", "different branches"),
        ("a1:base", "names no revision"),
    ],
)
def test_history_range_must_go_up_one_branch(tmp_path: Path, spec: str, hint: str) -> None:
    make_project(
        tmp_path, "sqlite+aiosqlite:///x.db", Rev("a1", None), Rev("b2", "a1"), Rev("c1", "a1")
    )
    result = run_cli("history", "-r", spec, cwd=tmp_path)
    assert_clean_error(result, match="does not go from an ancestor up to a descendant")
    assert hint in result.err
    assert run_cli("history", "-r", "a1:b2", cwd=tmp_path).out.splitlines() == [
        "a1 -> b2 (head), b2",
        "<base> -> a1 (branchpoint), a1",
    ]
    assert len(run_cli("history", "-r", "a1:heads", cwd=tmp_path).out.splitlines()) == 3


def test_a_fresh_clone_without_a_versions_folder(tmp_path: Path) -> None:
    """git keeps no empty folder: a new project cloned has no versions/. The history is
    empty (as in Alembic), and 'revision' creates the folder, a --version-path one too."""
    assert run_cli("init", "migrations", cwd=tmp_path).code == 0
    (tmp_path / "migrations" / "versions").rmdir()
    heads = run_cli("heads", cwd=tmp_path)
    assert (heads.code, heads.out) == (0, ""), heads
    assert run_cli("history", cwd=tmp_path).code == 0
    result = run_cli("revision", "-m", "first", "--rev-id", "a1", cwd=tmp_path)
    assert result.code == 0, result
    assert (tmp_path / "migrations" / "versions" / "a1_first.py").is_file()
    ini = tmp_path / "amigrate.ini"
    ini.write_text(
        ini.read_text().replace(
            "[amigrate]\n",
            "[amigrate]\nversion_locations = %(here)s/migrations/versions %(here)s/extra\n",
            1,
        )
    )
    result = run_cli(
        "revision", "-m", "other", "--rev-id", "b1", "--head", "base",
        "--version-path", "extra", cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result
    assert "does not exist" not in result.err  # it is the folder being made
    assert (tmp_path / "extra" / "b1_other.py").is_file()
    assert run_cli("upgrade", "heads", cwd=tmp_path).code == 0


@pytest.mark.parametrize(
    ("message", "truncate"), [("日本語 " * 100, 200), ("x" * 300, 1000), ("word " * 300, 1000)]
)
def test_a_slug_longer_than_a_file_name_is_cut(tmp_path: Path, message: str, truncate: int) -> None:
    """truncate_slug_length counts characters; a file name is at most 255 bytes (three
    per character here): the slug is cut to fit ('unexpected OSError: File name too long')."""
    make_project(tmp_path, "sqlite+aiosqlite:///x.db", truncate_slug_length=str(truncate))
    result = run_cli("revision", "-m", message, "--rev-id", "a1", cwd=tmp_path)
    assert result.code == 0, result
    (path,) = (tmp_path / "migrations" / "versions").glob("a1_*.py")
    assert len(path.name.encode()) <= 255
    assert len(path.name.encode()) > 200  # cut only as much as needed
    assert run_cli("heads", cwd=tmp_path).out.strip() == "a1 (head)"


def test_a_misspelt_version_location_is_warned_about(tmp_path: Path) -> None:
    """A missing folder holds no revisions (as in Alembic), but one other than the
    environment's own versions/ is likely a typo: the command says so."""
    make_project(tmp_path, "sqlite+aiosqlite:///x.db", Rev("a1", None))
    ini = tmp_path / "amigrate.ini"
    ini.write_text(
        ini.read_text().replace(
            "[amigrate]\n",
            "[amigrate]\nversion_locations = %(here)s/migrations/versions "
            "%(here)s/migrations/verisons\n",
            1,
        )
    )
    result = run_cli("heads", cwd=tmp_path)
    assert result.code == 0, result
    assert result.out.strip() == "a1 (head)"
    assert "migrations/verisons does not exist" in result.err
    (tmp_path / "migrations" / "versions" / "a1.py").rename(tmp_path / "a1.py")
    (tmp_path / "migrations" / "versions").rmdir()
    fresh = run_cli("heads", cwd=tmp_path)
    assert "migrations/versions does not exist" not in fresh.err  # the usual one: no noise
