"""Helpers shared by the tests: running the real ``amigrate`` command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    """A finished ``amigrate`` process."""

    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        """stdout and stderr together."""
        return self.out + self.err


def run_cli(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> Result:
    """Run ``python -m amigrate ARGS`` in *cwd* and return its exit code and output."""
    return run_python("-m", "amigrate", *args, cwd=cwd, env=env, timeout=timeout)


def run_python(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> Result:
    """Run ``python ARGS`` (this Python) in *cwd*, with the environment's amigrate
    settings left out and *env* added."""
    full_env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("AMIGRATE_URL", "AMIGRATE_CONFIG")
    }
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_clean_error(result: Result, *, code: int = 1, match: str | None = None) -> None:
    """The command failed with *code*, printed one ``error:`` line (plus a hint), no traceback."""
    assert result.code == code, result
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.err.splitlines() if line.strip()]
    if code == 2:  # click's usage errors: "Usage: ..." then "Error: ..."
        assert any(line.startswith("Error:") for line in lines), result.err
    else:
        errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
        assert len(errors) == 1, result.err
        # Progress and warnings may come first; after the error only hints and hook output.
        after = lines[errors[0] + 1 :]
        assert all(line.startswith(("hint: ", "  | ")) for line in after), result.err
    if match is not None:
        assert match in result.err, result.err


def stable_script(sql: str) -> str:
    """An offline script with what changes from run to run and machine to machine (the
    history rows' run id, the user who rendered it, amigrate's version) replaced."""
    from amigrate._version import __version__
    from amigrate.runtime.history import os_identity

    sql = re.sub(r"'[0-9a-f]{32}'", "'<run id>'", sql)
    return sql.replace(f"'{os_identity()}'", "'<os user>'").replace(
        f"'{__version__}'", "'<amigrate version>'"
    )
