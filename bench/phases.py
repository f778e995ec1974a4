"""Where one amigrate command spends its time: wall and CPU time per phase.

    python bench/phases.py -c bench/out/linear-1000/amigrate/amigrate.ini upgrade head
    python bench/phases.py -c .../amigrate.ini upgrade head --sql     # the same Python, no server

Runs the command in this process (the arguments are amigrate's own) with timers around
its phases and prints, on stderr after the command's own output, for each phase the wall
time and this process's CPU time (``time.process_time``: waiting for the database does
not count):

- ``imports``: importing amigrate's migrator (SQLAlchemy, its asyncio extension, ...);
- ``enter``: reading the history (``Migrator.__aenter__``);
- ``connect + plan``: connecting, locking, setting up the tables, reading the heads;
- ``load``: importing and checking the revision modules of the plan;
- ``apply``: the steps, and within it the trips to the driver (``driver``: what amigrate
  sends beneath SQLAlchemy, see amigrate/runtime/direct.py), summed over the run;
- ``connect, plan, rest``: the remainder (connecting, locking, reading the heads,
  planning, the command line and the teardown).

Comparing ``apply`` online with ``--sql`` (offline) shows what the database and the
round trips add to the same Python. The CPU column is the one to compare across runs:
the wall time moves with the server and the disk.
"""

from __future__ import annotations

import sys
import time
from typing import Any

Marks = list[tuple[str, float, float]]


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _timed_async(owner: Any, name: str, totals: dict[str, list[float]], label: str) -> None:
    original = getattr(owner, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = _now()
        try:
            return await original(*args, **kwargs)
        finally:
            total = totals.setdefault(label, [0.0, 0.0, 0])
            total[0] += time.perf_counter() - wall
            total[1] += time.process_time() - cpu
            total[2] += 1

    setattr(owner, name, wrapper)


def main(argv: list[str]) -> int:
    start = _now()
    from amigrate import migrator
    from amigrate.runtime import direct, offline

    imported = _now()
    totals: dict[str, list[float]] = {}
    _timed_async(migrator.Migrator, "__aenter__", totals, "enter")
    _timed_async(migrator.Migrator, "_load", totals, "load")
    for module in (migrator, offline):  # online, and offline (--sql)
        _timed_async(module, "apply_plan", totals, "apply")
    for cls in (direct.SQLiteDirect, direct.AsyncpgDirect):
        _timed_async(cls, "run", totals, "  driver")

    from amigrate.cli.main import main as cli_main

    code = 0
    try:
        cli_main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    end = _now()

    rows = [("imports", imported[0] - start[0], imported[1] - start[1], 1)]
    known = 0.0
    for label in ("enter", "load", "apply", "  driver"):
        if label in totals:
            wall, cpu, count = totals[label]
            rows.append((label, wall, cpu, int(count)))
            if not label.startswith(" "):
                known += wall
    total_wall = end[0] - start[0]
    rows.append(("connect, plan, rest", total_wall - rows[0][1] - known, float("nan"), 1))
    rows.append(("total", total_wall, end[1] - start[1], 1))
    print(f"{'phase':22s} {'wall s':>8s} {'cpu s':>8s} {'calls':>7s}", file=sys.stderr)
    for label, wall, cpu, count in rows:
        cpu_text = "-" if cpu != cpu else f"{cpu:8.3f}"  # NaN: not measured
        print(f"{label:22s} {wall:8.3f} {cpu_text:>8s} {count:7d}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
