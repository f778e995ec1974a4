"""The CLI's compiling child: code it made is used only for the exact bytes it compiled."""

from __future__ import annotations

import importlib.util
import py_compile
from pathlib import Path
from types import CodeType

import pytest

from amigrate.errors import ScriptError
from amigrate.scripts import precompile
from amigrate.scripts.loader import import_file


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(source, encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    monkeypatch.setattr(precompile, "MIN_FILES", 2)
    return [write(tmp_path, f"r{i}.py", f"VALUE = {i}\nNAME = __name__\n") for i in range(3)]


def started() -> precompile._Child | None:
    return precompile._child


def child_folder() -> Path:
    child = started()
    assert child is not None, "no child was started"
    return child.folder


def test_the_child_compiles_each_file_as_the_loader_would(files: list[Path]) -> None:
    with precompile.compiling(files):
        folder = child_folder()
        for i, path in enumerate(files):
            code = precompile.code_for(str(path), path.read_bytes())
            assert isinstance(code, CodeType)
            assert code.co_filename == str(path)
            namespace: dict[str, object] = {"__name__": f"m{i}"}
            exec(code, namespace)
            assert namespace["VALUE"] == i
        assert precompile.code_for(str(files[0]), files[0].read_bytes()) is None  # once each
    assert started() is None
    assert not folder.exists()  # the temporary folder and the process are gone


def test_a_file_edited_since_is_compiled_here(files: list[Path]) -> None:
    with precompile.compiling(files):
        child = precompile._child
        assert child is not None
        child.process.wait()
        files[0].write_text("VALUE = 'edited'\n", encoding="utf-8")
        assert precompile.code_for(str(files[0]), files[0].read_bytes()) is None
        module = import_file(files[0], "amigrate_test_precompile_edited")
        assert module.VALUE == "edited"
        assert isinstance(precompile.code_for(str(files[1]), files[1].read_bytes()), CodeType)


def test_import_file_takes_the_childs_code(
    files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    given: list[CodeType | None] = []
    original = precompile.code_for

    def spy(path: str, data: bytes) -> CodeType | None:
        given.append(original(path, data))
        return given[-1]

    monkeypatch.setattr(precompile, "code_for", spy)
    with precompile.compiling(files):
        modules = [import_file(p, f"amigrate_test_precompile_{i}") for i, p in enumerate(files)]
    assert [m.VALUE for m in modules] == [0, 1, 2]
    assert [m.NAME for m in modules] == [f"amigrate_test_precompile_{i}" for i in range(3)]
    assert all(isinstance(code, CodeType) for code in given)
    assert len(given) == 3


def test_a_syntax_error_is_reported_by_the_loader_as_without_a_child(files: list[Path]) -> None:
    broken = write(files[0].parent, "broken.py", "VALUE = 1\ndef (:\n")
    with precompile.compiling([*files, broken]):
        assert precompile.code_for(str(broken), broken.read_bytes()) is None
        with pytest.raises(ScriptError, match=r"broken\.py:2: syntax error"):
            import_file(broken, "amigrate_test_precompile_broken")
        assert isinstance(precompile.code_for(str(files[1]), files[1].read_bytes()), CodeType)


def test_a_failing_child_only_costs_the_time(
    files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(precompile, "_CHILD", "raise SystemExit(3)")
    with precompile.compiling(files):
        folder = child_folder()
        assert precompile.code_for(str(files[0]), files[0].read_bytes()) is None
        assert import_file(files[1], "amigrate_test_precompile_failing").VALUE == 1
        assert not folder.exists()


def test_no_child_for_few_files_or_cached_ones(
    files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(precompile, "MIN_FILES", 3)
    py_compile.compile(str(files[0]), cfile=importlib.util.cache_from_source(str(files[0])))
    with precompile.compiling(files):  # two uncached files: below the threshold
        assert started() is None
    monkeypatch.setattr(precompile, "MIN_FILES", 2)
    with precompile.compiling(files):
        child = started()
        assert child is not None
        assert child.paths == {str(files[1]), str(files[2])}


def test_env_py_never_waits_for_the_child(files: list[Path], tmp_path: Path) -> None:
    other = write(tmp_path, "env.py", "X = 1\n")
    with precompile.compiling(files):
        child = precompile._child
        assert child is not None
        assert precompile.code_for(str(other), other.read_bytes()) is None
        assert child.code is None  # the child's output was not waited for
