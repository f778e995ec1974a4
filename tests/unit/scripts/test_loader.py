"""check_function: a revision's upgrade/downgrade must be a coroutine function taking op."""

from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from amigrate.errors import ScriptError
from amigrate.scripts.loader import check_function, import_file


def module_with(fn: Any) -> ModuleType:
    module = ModuleType("rev")
    module.upgrade = fn  # type: ignore[attr-defined]
    return module


async def plain(op: Any) -> None: ...
async def with_default(op: Any, extra: int = 1) -> None: ...
async def star_args(*args: Any) -> None: ...
async def optional_keyword(op: Any, *, flag: bool = False) -> None: ...
async def no_argument() -> None: ...
async def two_arguments(op: Any, extra: int) -> None: ...
async def required_keyword(op: Any, *, flag: bool) -> None: ...
def not_async(op: Any) -> None: ...


def wrapped(fn: Any) -> Any:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await fn(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize(
    "fn", [plain, with_default, star_args, optional_keyword, wrapped(plain)], ids=str
)
def test_functions_that_take_op(fn: Any) -> None:
    assert check_function(module_with(fn), "upgrade", "r1", Path("r1.py")) is fn


@pytest.mark.parametrize(
    ("fn", "match"),
    [
        (no_argument, "must take one argument, op"),
        (two_arguments, "must take one argument, op"),
        (required_keyword, "must take one argument, op"),
        (wrapped(no_argument), "must take one argument, op"),
        (not_async, "must be a coroutine function"),
    ],
    ids=str,
)
def test_functions_that_cannot_run(fn: Any, match: str) -> None:
    with pytest.raises(ScriptError, match=match):
        check_function(module_with(fn), "upgrade", "r1", Path("r1.py"))


def test_a_missing_function() -> None:
    with pytest.raises(ScriptError, match=r"has no upgrade\(\) function"):
        check_function(ModuleType("rev"), "upgrade", "r1", Path("r1.py"))


def test_a_syntax_error_without_a_line_names_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "r1.py"
    path.write_bytes(b"x = 1\0\n")
    with pytest.raises(ScriptError, match=r"r1\.py: syntax error: .*null bytes") as info:
        import_file(path, "amigrate_test_loader_nul")
    assert ":None" not in str(info.value)
