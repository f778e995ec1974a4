"""Post-write hooks: commands run on each new revision file (formatters, linters).

Configured as Alembic configures them, in the ini file::

    [post_write_hooks]
    hooks = ruff_format
    ruff_format.type = console_scripts
    ruff_format.entrypoint = ruff
    ruff_format.options = format REVISION_SCRIPT_FILENAME

or as ``[[tool.amigrate.post_write_hooks]]`` tables with a ``name`` key. Types:
``console_scripts`` (``entrypoint``: a console-script entry point, or an
executable of that name beside the running Python, which is how ruff installs),
``exec`` (``executable``: a path or a name on PATH) and ``module``
(``module``: run as ``python -m``). ``options`` is split like a shell command
line, with ``REVISION_SCRIPT_FILENAME`` replaced by the file's path; as in
Alembic, when ``options`` does not mention ``REVISION_SCRIPT_FILENAME`` the
path goes first (``black.options = -l 79`` runs ``black <path> -l 79``).
``cwd`` sets the working folder.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from amigrate.errors import ConfigError, HookError

__all__ = ["HookResult", "HookSpec", "hook_arguments", "hook_specs", "run_hooks"]

TOKEN = "REVISION_SCRIPT_FILENAME"
_TYPES = {"console_scripts": "entrypoint", "exec": "executable", "module": "module"}


@dataclass(frozen=True)
class HookSpec:
    """One configured hook."""

    name: str
    type: str
    target: str
    options: str = ""
    cwd: str | None = None


@dataclass(frozen=True)
class HookResult:
    """A hook that ran: its name, command line and output."""

    name: str
    argv: tuple[str, ...]
    returncode: int
    output: str


def _spec(name: str, values: dict[str, Any]) -> HookSpec:
    kind = str(values.get("type") or "")
    if kind not in _TYPES:
        raise ConfigError(
            f"post-write hook {name!r} has type {kind or '(none)'!r}",
            hint=f"set {name}.type to one of: {', '.join(_TYPES)}",
        )
    key = _TYPES[kind]
    target = str(values.get(key) or "")
    if not target:
        raise ConfigError(
            f"post-write hook {name!r} of type {kind} has no {key}",
            hint=f"set {name}.{key}",
        )
    cwd = values.get("cwd")
    options = str(values.get("options") or "")
    try:
        shlex.split(options)
    except ValueError as exc:  # "No closing quotation"
        raise ConfigError(
            f"post-write hook {name!r}: {name}.options cannot be split into arguments: {exc}",
            hint="close the quote, or escape it with a backslash",
        ) from None
    return HookSpec(name, kind, target, options, str(cwd) if cwd else None)


def hook_specs(config: Any) -> list[HookSpec]:
    """The hooks configured in ``[post_write_hooks]`` or ``[tool.amigrate]``, in order."""
    section: dict[str, str] = config.get_section("post_write_hooks")
    if section.get("hooks", "").strip():
        names = [n for n in section["hooks"].replace(",", " ").split() if n]
        return [
            _spec(
                name,
                {
                    key.split(".", 1)[1]: value
                    for key, value in section.items()
                    # (an ini file's keys are lower case, whatever the hook's name)
                    if key.lower().startswith(name.lower() + ".")
                },
            )
            for name in names
        ]
    tables = config.get_value("post_write_hooks")
    if not tables:
        return []
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(
            "post_write_hooks in [tool.amigrate] must be an array of tables",
            hint="write each hook as [[tool.amigrate.post_write_hooks]] with name and type",
        )
    return [_spec(str(t.get("name") or f"hook{i + 1}"), t) for i, t in enumerate(tables)]


def _command(spec: HookSpec) -> list[str]:
    if spec.type == "module":
        return [sys.executable, "-m", spec.target]
    if spec.type == "exec":
        found = shutil.which(spec.target)
        if found is None:
            raise HookError(
                f"post-write hook {spec.name!r}: executable {spec.target!r} not found",
                hint=f"install it, or give {spec.name}.executable as a full path",
            )
        return [found]
    matches = entry_points(group="console_scripts", name=spec.target)
    for ep in matches:
        module, _, attr = ep.value.partition(":")
        call = f"{module}.{attr.strip()}" if attr else module
        return [sys.executable, "-c", f"import sys, {module}; sys.exit({call}())"]
    # Tools shipped as binaries (ruff) install a script, not an entry point.
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / spec.target
        if candidate.is_file():
            return [str(candidate)]
    raise HookError(
        f"post-write hook {spec.name!r}: no console script {spec.target!r} in this environment",
        hint=f"pip install {spec.target}, or use type = exec with a full path",
    )


def hook_arguments(options: str, path: Path) -> list[str]:
    """The arguments after the hook's command: *options* with the file's path in them.

    Alembic puts the path in front when *options* does not contain the token.
    """
    if TOKEN not in options:
        options = f"{TOKEN} {options}"
    return [arg.replace(TOKEN, str(path)) for arg in shlex.split(options)]


def run_hooks(config: Any, path: Path) -> list[HookResult]:
    """Run every configured hook on *path*; raise HookError at the first that fails.

    The revision file stays written whatever the hooks do.
    """
    results: list[HookResult] = []
    for spec in hook_specs(config):
        argv = [*_command(spec), *hook_arguments(spec.options, path)]
        try:
            proc = subprocess.run(
                argv,
                cwd=spec.cwd,
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as exc:
            raise HookError(
                f"post-write hook {spec.name!r} could not start: {exc.strerror}",
                hint="check the hook's executable and cwd",
            ) from exc
        output = (proc.stdout + proc.stderr).strip()
        result = HookResult(spec.name, tuple(argv), proc.returncode, output)
        if proc.returncode != 0:
            raise HookError(
                f"post-write hook {spec.name!r} failed with exit status {proc.returncode} "
                f"on {path}",
                hint="the revision file was written; fix the hook in [post_write_hooks] "
                "or run the tool by hand",
                output=output,
                results=[*results, result],
            )
        results.append(result)
    return results
