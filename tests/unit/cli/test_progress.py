"""The fan-out progress view: a live table on a terminal, one line per event otherwise."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from amigrate.cli.fanout import Progress, print_summary
from amigrate.cli.state import CliState
from amigrate.fanout import DatabaseTarget, FanoutResult, TargetEvent, TargetResult
from amigrate.migrator import RunResult
from amigrate.revisions import Step, VersionChange
from amigrate.runtime.runner import StepEvent, StepResult


def events(target: DatabaseTarget) -> list[TargetEvent]:
    step = Step("a1", "up", VersionChange("insert", (), ("a1",)), (), ("a1",))
    result = StepResult("a1", "up", (), ("a1",), "first", 0.01)
    run = RunResult("up", "head", (), ("a1",), (result,), target.display_url)
    return [
        TargetEvent(target, "start"),
        TargetEvent(target, "step", StepEvent(step, "first")),
        TargetEvent(target, "step", StepEvent(step, "first", result)),
        TargetEvent(target, "done", TargetResult(target, "ok", run, duration=0.02)),
    ]


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_lines_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    target = DatabaseTarget("acme", "sqlite+aiosqlite:///acme.db")
    with Progress(CliState(), 1) as view:
        for event in events(target):
            view(event)
    assert capsys.readouterr().err.splitlines() == [
        "acme: started",
        "acme: upgrade <base> -> a1, first",
        "acme: done",
    ]


def test_live_table_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTTY()
    monkeypatch.setattr(sys, "stderr", fake)
    target = DatabaseTarget("acme", "sqlite+aiosqlite:///acme.db")
    view = Progress(CliState(), 1)
    with view:
        assert view.live is not None
        view(events(target)[0])
        view(events(target)[1])
        assert view.running == {"acme": "upgrade <base> -> a1"}
        view(events(target)[3])
        assert view.running == {}
        assert view.done == 1
    assert "1 / 1 done" in fake.getvalue()


def test_summary_text(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ok = events(DatabaseTarget("acme", "sqlite+aiosqlite:///a.db"))[3].detail
    failed: TargetResult[RunResult] = TargetResult(
        DatabaseTarget("globex", "postgresql+asyncpg://u:secret@h/g"),
        "failed",
        error=RuntimeError("boom"),
        duration=0.5,
    )
    print_summary(CliState(), FanoutResult((ok, failed)))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["target", "from", "->", "to", "steps", "duration", "status"]
    assert lines[1].split()[:6] == ["acme", "<base>", "->", "a1", "1", "0.02"]
    assert lines[2].startswith("globex  -")
    assert lines[2].endswith("failed: RuntimeError: boom")


def test_summary_of_a_database_stopped_in_its_first_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Its version table is where it was: the row says so, not '-'."""
    from amigrate.errors import MigrationInterrupted

    step = Step("b2", "up", VersionChange("update", ("a1",), ("b2",)), ("a1",), ("b2",))
    error = MigrationInterrupted("interrupted during upgrade a1 -> b2: rolled back", failed=step)
    stopped: TargetResult[RunResult] = TargetResult(
        DatabaseTarget("acme", "sqlite+aiosqlite:///a.db"), "cancelled", error=error
    )
    print_summary(CliState(), FanoutResult((stopped,)))
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[:5] == ["acme", "a1", "->", "a1", "0"]
    assert row[7:] == ["cancelled:", *error.message.split()]
