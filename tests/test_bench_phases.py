"""bench/phases.py times a real command's phases (it wraps amigrate internals, so a
change there must keep it working)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_python
from tests.projects import linear, make_project

ROOT = Path(__file__).resolve().parent.parent


def test_phases_prints_each_phase(sqlite_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, sqlite_url, *linear(3))
    script = ROOT / "bench" / "phases.py"
    env = {"PYTHONPATH": str(ROOT)}
    proc = run_python(script, "-q", "upgrade", "head", cwd=tmp_path, env=env)
    assert proc.code == 0, proc.err
    rows = {line.split()[0]: line.split()[1:] for line in proc.err.splitlines() if line}
    for phase in ("imports", "enter", "load", "apply", "driver", "connect,", "total"):
        assert phase in rows, proc.err
    assert rows["driver"][2] != "0"  # the direct path ran: SQLite batches were timed
    assert float(rows["total"][0]) > 0

    offline = run_python(script, "-q", "upgrade", "head", "--sql", cwd=tmp_path, env=env)
    assert offline.code == 0, offline.err
    assert any(line.startswith("apply ") for line in offline.err.splitlines()), offline.err
