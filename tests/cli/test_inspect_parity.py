"""heads, branches and history print what Alembic prints for the same history.

The same graph — a fork, a labelled branch, a ``depends_on`` and a merge — is written
by ``alembic revision``/``merge`` (Alembic's Python API) and by ``amigrate
revision``/``merge``, with the same ids; the one-line forms must be the same lines,
and the verbose blocks the same ``Rev:``/``Parent:``/``Also depends on:`` lines.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

from amigrate.cli.describe import indicators
from amigrate.revisions import Revision, RevisionGraph
from tests.helpers import assert_clean_error, run_cli

# (rev id, message, parent ("base" for a new root), splice, branch label, depends_on)
STEPS = [
    ("a1", "first", "base", False, None, None),
    ("a2", "second", "a1", False, None, None),
    ("b1", "feature", "a1", True, "feature", None),
    ("c1", "other root", "base", False, "other", None),
    ("a3", "needs other", "a2", False, None, "c1"),
]


def _alembic(tmp_path: Path) -> tuple[AlembicConfig, io.StringIO]:
    out = io.StringIO()
    cfg = AlembicConfig(str(tmp_path / "alembic.ini"), stdout=out)
    command.init(cfg, str(tmp_path / "al"))
    cfg.set_main_option("script_location", str(tmp_path / "al"))
    # Alembic's env.py runs logging.config.fileConfig, which disables every logger that
    # exists (amigrate's among them) for the rest of this test process.
    env = tmp_path / "al" / "env.py"
    text = env.read_text(encoding="utf-8")
    assert "fileConfig(config.config_file_name)" in text
    env.write_text(text.replace("fileConfig(config.config_file_name)", "pass"), encoding="utf-8")
    out.truncate(0)
    out.seek(0)
    return cfg, out


def _build(tmp_path: Path, *, merge: bool = True) -> tuple[AlembicConfig, io.StringIO, Path]:
    al_dir, am_dir = tmp_path / "alembic", tmp_path / "amigrate"
    al_dir.mkdir()
    am_dir.mkdir()
    cfg, out = _alembic(al_dir)
    assert run_cli("init", "migrations", cwd=am_dir).code == 0
    for rev, message, parent, splice, label, depends in STEPS:
        command.revision(
            cfg,
            message,
            rev_id=rev,
            head=parent,
            splice=splice,
            branch_label=label,
            depends_on=depends,
        )
        args = ["revision", "-m", message, "--rev-id", rev, "--head", parent]
        args += ["--splice"] * splice
        args += ["--branch-label", label] if label else []
        args += ["--depends-on", depends] if depends else []
        result = run_cli(*args, cwd=am_dir)
        assert result.code == 0, result
    if merge:
        command.merge(cfg, ["a3", "b1"], message="merge", rev_id="m1")
        merged = run_cli("merge", "a3", "b1", "-m", "merge", "--rev-id", "m1", cwd=am_dir)
        assert merged.code == 0, merged
    return cfg, out, am_dir


def _take(out: io.StringIO) -> list[str]:
    lines = out.getvalue().splitlines()
    out.truncate(0)
    out.seek(0)
    return lines


def _rev_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if re.match(r"(Rev|Parent|Merges|Also depends on):", line)]


def test_one_line_and_verbose_forms_match_alembic(tmp_path: Path) -> None:
    cfg, out, am_dir = _build(tmp_path)

    command.heads(cfg)
    assert sorted(run_cli("heads", cwd=am_dir).out.splitlines()) == sorted(_take(out))
    command.heads(cfg, resolve_dependencies=True)
    resolved = run_cli("heads", "--resolve-dependencies", cwd=am_dir).out.splitlines()
    assert sorted(resolved) == sorted(_take(out))

    command.history(cfg)
    history = run_cli("history", cwd=am_dir).out.splitlines()
    expected = _take(out)
    assert sorted(history) == sorted(expected)
    # What the new forms look like: the dependency beside the parent, and the root
    # that a3 depends on is only an effective head before the merge.
    assert "a2 (c1) -> a3, needs other" in history

    command.history(cfg, rev_range="a1:a3")
    assert run_cli("history", "-r", "a1:a3", cwd=am_dir).out.splitlines() == _take(out)

    command.history(cfg, verbose=True)
    verbose = run_cli("history", "--verbose", cwd=am_dir).out.splitlines()
    assert sorted(_rev_lines(verbose)) == sorted(_rev_lines(_take(out)))

    # The revisions a branch point branches into: Alembic's order is a set's, amigrate's
    # sorted.
    command.branches(cfg)
    lines = run_cli("branches", cwd=am_dir).out.splitlines()
    assert sorted(lines) == sorted(line for line in _take(out) if line)
    command.branches(cfg, verbose=True)
    alembic_verbose = _take(out)
    verbose = run_cli("branches", "--verbose", cwd=am_dir).out.splitlines()
    assert sorted(_rev_lines(verbose)) == sorted(_rev_lines(alembic_verbose))
    children = sorted(line for line in verbose if line.lstrip().startswith("->"))
    assert children == sorted(line for line in alembic_verbose if line.lstrip().startswith("->"))


def test_effective_head_before_a_merge(tmp_path: Path) -> None:
    """A head that another revision depends on is Alembic's "effective head"."""
    cfg, out, am_dir = _build(tmp_path, merge=False)
    command.heads(cfg)
    heads = run_cli("heads", cwd=am_dir).out.splitlines()
    assert sorted(heads) == sorted(_take(out))
    assert "c1 (other) (effective head)" in heads
    command.history(cfg)
    assert sorted(run_cli("history", cwd=am_dir).out.splitlines()) == sorted(_take(out))


def test_current_matches_alembic(tmp_path: Path) -> None:
    cfg, out, am_dir = _build(tmp_path)
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{tmp_path / 'alembic.db'}")
    # At m1 both also list c1, the tip of a branch m1 depends on (it has no version row).
    for revisions in (["a1"], ["a2", "c1"], ["b1"], ["m1"], ["a3", "b1"]):
        command.stamp(cfg, revisions, purge=True)
        assert run_cli("stamp", *revisions, "--purge", cwd=am_dir).code == 0
        _take(out)
        command.current(cfg)
        current = run_cli("current", cwd=am_dir).out.splitlines()
        # amigrate also names a revision's branch labels.
        assert sorted(re.sub(r" \((feature|other)\)", "", line) for line in current) == sorted(
            _take(out)
        )
    assert run_cli("stamp", "a1", "--purge", cwd=am_dir).code == 0
    assert run_cli("current", cwd=am_dir).out == "a1 (branchpoint)\n"


def test_current_comes_before_the_tree_marks_on_one_line() -> None:
    graph = RevisionGraph([Revision("a", ()), Revision("b", ("a",)), Revision("c", ("a",))])
    assert indicators(graph, "a", ["a"]) == " (current) (branchpoint)"
    assert indicators(graph, "a", ["a"], verbose=True) == " (branchpoint) (current)"
    assert indicators(graph, "b", ["b"]) == " (head) (current)"


def test_check_heads_with_a_head_that_another_revision_depends_on(tmp_path: Path) -> None:
    """c1 is a head of its own branch that a3 depends on: after 'upgrade heads' the
    version table holds m1 only, and that is at the heads (it said "run 'amigrate
    upgrade heads'", which had nothing to do)."""
    _, _, am_dir = _build(tmp_path)
    assert run_cli("upgrade", "heads", cwd=am_dir).code == 0
    assert run_cli("current", "--check-heads", cwd=am_dir).code == 0
    assert run_cli("stamp", "a3", "--purge", cwd=am_dir).code == 0
    behind = run_cli("current", "--check-heads", cwd=am_dir)
    assert_clean_error(behind, code=3, match="the database is at a3, not at the head m1")
