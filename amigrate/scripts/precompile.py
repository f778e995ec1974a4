"""Compile revision files in a second process while this one starts up.

A command that runs revisions imports each planned file before step one, and with no
bytecode cache (``PYTHONDONTWRITEBYTECODE``, as many container images set, or a first
run) compiling a thousand files costs about as much CPU as importing SQLAlchemy. The
CLI hands the files without a cache to a child interpreter as soon as it has read the
config; the child compiles them while this process imports SQLAlchemy, reads the
history and connects, and writes the code objects (``marshal``, as a ``.pyc`` holds
them) to a private temporary folder. :func:`code_for` gives the loader a file's code
when the child compiled exactly the bytes the loader read; anything else (the child
failed, the file changed, a syntax error) is compiled here as before, so the outcome
never depends on the child, only the time.

Only the CLI starts a child (:func:`compiling`); the awaitable API never spawns
processes inside an application.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import marshal
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType

__all__ = ["code_for", "compiling"]

log = logging.getLogger(__name__)

MIN_FILES = 64
"""Fewer files than this compile faster here than a child interpreter starts."""

_WAIT_SECONDS = 60.0

# The child: stdlib only (-I -S: no site-packages, no environment, no current folder).
# argv: the file listing the paths (one per line), the output file, the optimize level.
_CHILD = """
import hashlib, marshal, sys
listing, output, optimize = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(listing, encoding="utf-8") as f:
    paths = f.read().splitlines()
compiled = []
for path in paths:
    try:
        with open(path, "rb") as f:
            data = f.read()
        code = compile(data, path, "exec", dont_inherit=True, optimize=optimize)
    except (OSError, SyntaxError, ValueError):
        continue  # compiled (and reported) by the parent
    compiled.append((path, hashlib.blake2b(data, digest_size=16).digest(), code))
with open(output + ".part", "wb") as f:
    marshal.dump(compiled, f)
import os
os.replace(output + ".part", output)
"""


class _Child:
    def __init__(self, paths: list[str]) -> None:
        self.paths = frozenset(paths)
        self.folder = Path(tempfile.mkdtemp(prefix="amigrate-compile-"))  # mode 0700
        self.output = self.folder / "code.marshal"
        listing = self.folder / "paths.txt"
        try:
            listing.write_text("\n".join(paths), encoding="utf-8")
            command = [sys.executable, "-I", "-S", "-c", _CHILD, str(listing), str(self.output)]
            self.process = subprocess.Popen(
                [*command, str(sys.flags.optimize)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self.lock = threading.Lock()
        self.code: dict[str, tuple[bytes, CodeType]] | None = None
        self.used = 0

    def take(self, path: str, data: bytes) -> CodeType | None:
        if path not in self.paths:  # (env.py: never wait for the child)
            return None
        with self.lock:
            if self.code is None:
                self.code = self._collect()
            found = self.code.pop(path, None)
            if found is None or found[0] != hashlib.blake2b(data, digest_size=16).digest():
                return None
            self.used += 1
            return found[1]

    def _collect(self) -> dict[str, tuple[bytes, CodeType]]:
        try:
            self.process.wait(timeout=_WAIT_SECONDS)
            with self.output.open("rb") as f:
                compiled = marshal.load(f)
            return {path: (digest, code) for path, digest, code in compiled}
        except Exception as exc:  # any failure: compile here, as without a child
            log.debug("the compiling child gave nothing (%s); compiling here", exc)
            return {}
        finally:
            self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def report(self) -> None:
        log.debug(
            "%d of %d uncached revision files were compiled by a second process",
            self.used,
            len(self.paths),
        )


_child: _Child | None = None


def code_for(path: str, data: bytes) -> CodeType | None:
    """The code the child compiled from exactly *data* at *path*, or None (compile it)."""
    child = _child
    return child.take(path, data) if child is not None else None


def _uncached(paths: Iterable[Path]) -> list[str]:
    """The files with no bytecode cache beside them (importlib loads the others fast)."""
    if sys.flags.optimize:
        return []  # (caches per level; rare enough to leave to importlib)
    found = []
    for path in paths:
        cache = importlib.util.cache_from_source(str(path))
        if not os.path.exists(cache):
            found.append(str(path))
    return found


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def compiling(paths: Iterable[Path]) -> Iterator[None]:
    """Compile *paths* in a child process for the duration of the block (CLI only).

    Nothing happens with fewer than :data:`MIN_FILES` uncached files, on one CPU, or
    when a child cannot be started; the block runs the same either way.
    """
    global _child
    child = None
    if _child is None and _cpus() > 1 and sys.executable:
        try:
            files = _uncached(paths)
            if len(files) >= MIN_FILES:
                child = _Child(files)
        except Exception as exc:
            log.debug("not compiling in a child: %s", exc)
    _child = child or _child
    try:
        yield
    finally:
        if child is not None:
            _child = None
            with child.lock:
                child.close()
            child.report()
