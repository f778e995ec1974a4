"""Import revision modules and env.py, and check that they define what they must.

A module is imported only when its code is about to run. Every module of a plan
is imported and checked before the first step runs, so a syntax error, an
import error or a sync ``upgrade`` fails the run before anything changes.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from amigrate.errors import ScriptError

__all__ = ["EnvHooks", "check_function", "import_file", "load_env", "prepend_sys_path"]

_NAME_CHARS = re.compile(r"\W")


def prepend_sys_path(paths: Iterable[Path]) -> None:
    """Put *paths* at the front of ``sys.path`` (once each), as Alembic's prepend_sys_path."""
    for path in reversed([str(p) for p in paths]):
        if path not in sys.path:
            sys.path.insert(0, path)


def import_file(path: Path, module_name: str) -> ModuleType:
    """Import the Python file *path* as a module named *module_name*.

    The module is registered in ``sys.modules`` (dataclasses and typing need
    that); a failure leaves no half-imported module behind and is raised as a
    :class:`ScriptError` naming the file and line.
    """
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ScriptError(f"{path} cannot be imported", hint="it must be a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        raise ScriptError(
            f"{exc.filename or path}{f':{exc.lineno}' if exc.lineno else ''}: "
            f"syntax error: {exc.msg}",
            hint="fix the file; nothing was changed in the database",
        ) from None
    except (Exception, SystemExit) as exc:
        # (sys.exit() at import time would end the command silently, with its code.)
        sys.modules.pop(module_name, None)
        line = _failing_line(exc, path)
        where = f"{path}:{line}" if line else str(path)
        did = (
            f"called sys.exit({exc.code!r})"
            if isinstance(exc, SystemExit)
            else f"raised {type(exc).__name__}: {exc}"
        )
        raise ScriptError(
            f"{where}: importing it {did}",
            hint="fix the file (or what it imports); nothing was changed in the database",
        ) from exc
    return module


#: What an env.py written for Alembic has: ``from alembic import context``.
_ALEMBIC_ENV = re.compile(r"^\s*from\s+alembic\s+import\s+.*\bcontext\b", re.M)


def _failing_line(exc: BaseException, path: Path) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def module_name_for(path: Path, revision: str) -> str:
    """A stable module name for a revision file (unique per file and id)."""
    return (
        f"amigrate_revisions.{_NAME_CHARS.sub('_', revision)}_{zlib.crc32(str(path).encode()):08x}"
    )


def check_function(module: ModuleType, name: str, revision: str, path: Path) -> Callable[..., Any]:
    """The coroutine function *name* of a revision module, taking ``op``.

    A missing function, a plain ``def``, or a signature that cannot take one
    argument is a :class:`ScriptError` naming the revision, never a silent
    "applied".
    """
    fn = getattr(module, name, None)
    if fn is None:
        raise ScriptError(
            f"revision {revision} ({path}) has no {name}() function",
            hint=f"define 'async def {name}(op: Operations) -> None'",
        )
    if not inspect.iscoroutinefunction(fn):
        raise ScriptError(
            f"revision {revision} ({path}): {name}() must be a coroutine function, "
            f"'async def {name}(op)'",
            hint=f"write 'async def {name}(op: Operations) -> None' and await each op call",
        )
    code = getattr(fn, "__code__", None)
    if code is not None and code.co_argcount == 1 and not code.co_kwonlyargcount:
        return fn  # type: ignore[no-any-return]  # the usual (op): no need for a Signature
    try:
        inspect.signature(fn).bind(object())
    except TypeError:
        raise ScriptError(
            f"revision {revision} ({path}): {name}() must take one argument, op",
            hint=f"write 'async def {name}(op: Operations) -> None'",
        ) from None
    return fn  # type: ignore[no-any-return]


@dataclass
class EnvHooks:
    """The optional names an environment's env.py defines."""

    path: Path | None = None
    target_metadata: Any = None
    engine_options: dict[str, Any] = field(default_factory=dict)
    create_engine: Callable[..., Any] | None = None
    on_connect: Callable[..., Any] | None = None
    targets: Callable[..., Any] | None = None
    module: ModuleType | None = None


def load_env(script_location: Path, *, sys_path: Iterable[Path] = ()) -> EnvHooks:
    """Import ``env.py`` of *script_location* (if there is one) and collect its hooks."""
    path = script_location / "env.py"
    if not path.is_file():
        return EnvHooks()
    prepend_sys_path(sys_path)
    try:
        module = import_file(path, f"amigrate_env_{zlib.crc32(str(path).encode()):08x}")
    except ScriptError as exc:
        if _ALEMBIC_ENV.search(path.read_text(encoding="utf-8", errors="replace")):
            exc.hint = (
                "this is Alembic's env.py, which amigrate cannot run: replace it with "
                "amigrate's (from 'amigrate init'), see docs/from-alembic.md"
            )
        raise
    hooks = EnvHooks(path=path, module=module)
    hooks.target_metadata = getattr(module, "target_metadata", None)
    options = getattr(module, "engine_options", None) or {}
    if not isinstance(options, dict):
        raise ScriptError(
            f"{path}: engine_options must be a dict, not {type(options).__name__}",
            hint="write engine_options = {'pool_pre_ping': True}, or remove it",
        )
    hooks.engine_options = options
    for name in ("create_engine", "on_connect", "targets"):
        fn = getattr(module, name, None)
        if fn is None:
            continue
        if not inspect.iscoroutinefunction(fn):
            raise ScriptError(
                f"{path}: {name} must be a coroutine function ('async def {name}(...)')",
                hint="see the comments in a new env.py ('amigrate init') for each hook's shape",
            )
        setattr(hooks, name, fn)
    return hooks
