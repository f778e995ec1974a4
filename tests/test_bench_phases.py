"""bench/phases.py times a real command's phases (it wraps amigrate internals, so a
change there must keep it working)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.projects import linear, make_project

ROOT = Path(__file__).resolve().parent.parent


def test_phases_prints_each_phase(sqlite_url: str, tmp_path: Path) -> None:
    make_project(tmp_path, sqlite_url, *linear(3))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "phases.py"), "-q", "upgrade", "head"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line.split()[1:] for line in proc.stderr.splitlines() if line}
    for phase in ("imports", "enter", "load", "apply", "driver", "connect,", "total"):
        assert phase in rows, proc.stderr
    assert rows["driver"][2] != "0"  # the direct path ran: SQLite batches were timed
    assert float(rows["total"][0]) > 0
