"""Every error amigrate raises.

All of them derive from :class:`AmigrateError`, so a caller can catch one type.
Each carries a message that says what went wrong and, in ``hint``, what to do
next; the CLI prints ``error: <message>`` and ``hint: <hint>`` and exits with
``exit_code``::

    AmigrateError                         exit 1
    ├── ConfigError                       a config file or value is missing or malformed
    │   └── MissingEnvironmentVariable    a ${NAME} reference to an unset variable
    ├── CommandError                      a command's arguments cannot be acted on
    ├── RevisionError                     the history or a target is wrong
    │   ├── HistoryError                  the revision files do not form a valid history
    │   │   ├── ScriptParseError          a file cannot be read (syntax, non-literal ids)
    │   │   ├── DuplicateRevision         one id in two files
    │   │   ├── UnknownReference          down_revision / depends_on names no revision
    │   │   ├── CycleDetected             the history loops
    │   │   └── DuplicateBranchLabel      one label on two branches
    │   └── ResolutionError               a target cannot be resolved
    │       ├── InvalidTarget             the target's syntax is wrong
    │       ├── UnknownRevision           no revision matches
    │       ├── AmbiguousRevision         a prefix matches several (.candidates)
    │       ├── MultipleHeads             "head" where there are several (.heads)
    │       └── RelativeOutOfRange        +N / -N steps past head or base
    ├── ScriptError                       a revision module fails to import or is malformed
    ├── HookError                         a post-write hook failed
    ├── MigrationError                    applying revisions failed (.results: per database)
    │   ├── MigrationFailed               a step failed (.applied, .failed, .partial, __cause__)
    │   │   └── MigrationInterrupted      exit 130: the CLI was interrupted during a run
    │   ├── PartlyApplied                 refused: a revision failed partway before (stamp)
    │   └── UnsupportedOperation          the dialect cannot do this op here
    ├── DatabaseError                     connecting or talking to the database failed
    ├── CheckFailed                       exit 3: a check found a problem
    └── LockTimeout (also TimeoutError)   exit 4: the migration lock was not acquired

    AmigrateWarning (UserWarning)
    ├── ConfigWarning                     e.g. an unknown key in [amigrate]
    └── ValidationWarning                 an applied revision's file changed

Library code raises these and never prints; the CLI maps them to exit codes in
one place (``amigrate.cli.main``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AmbiguousRevision",
    "AmigrateError",
    "AmigrateWarning",
    "CheckFailed",
    "CommandError",
    "ConfigError",
    "ConfigWarning",
    "CycleDetected",
    "DatabaseError",
    "DuplicateBranchLabel",
    "DuplicateRevision",
    "HistoryError",
    "HookError",
    "InvalidTarget",
    "LockTimeout",
    "MigrationError",
    "MigrationFailed",
    "MigrationInterrupted",
    "MissingEnvironmentVariable",
    "MultipleHeads",
    "PartlyApplied",
    "RelativeOutOfRange",
    "ResolutionError",
    "RevisionError",
    "ScriptError",
    "ScriptParseError",
    "UnknownReference",
    "UnknownRevision",
    "UnsupportedOperation",
    "ValidationWarning",
]


class AmigrateError(Exception):
    """Root of every amigrate error.

    ``str(err)`` is one line that says what went wrong; ``hint`` (may be None)
    says what to do next; ``exit_code`` is what the CLI exits with.
    """

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(AmigrateError):
    """A config file is missing or malformed, or a required value is absent."""


class MissingEnvironmentVariable(ConfigError):
    """A config value references ``${NAME}`` and ``NAME`` is not set."""

    def __init__(self, name: str, *, key: str | None = None) -> None:
        where = f" (in {key!r})" if key else ""
        super().__init__(
            f"environment variable {name} is not set{where}",
            hint=f"export {name}=..., or give a default as ${{{name}:-value}}",
        )
        self.name = name
        self.key = key


class CommandError(AmigrateError):
    """A command's arguments cannot be acted on (e.g. ``init`` into a non-empty folder)."""


class RevisionError(AmigrateError):
    """The revision history, or a target named against it, is wrong."""


class HistoryError(RevisionError):
    """The revision files do not form a valid history.

    ``paths`` names the files involved, so the message can point at them.
    """

    def __init__(self, message: str, *, paths: Sequence[str] = (), hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.paths = tuple(paths)


class ScriptParseError(HistoryError):
    """A revision file cannot be read: a syntax error or a non-literal identifier."""

    def __init__(
        self, message: str, *, path: str, line: int | None = None, hint: str | None = None
    ) -> None:
        location = f"{path}:{line}" if line is not None else path
        super().__init__(f"{location}: {message}", paths=(path,), hint=hint)
        self.path = path
        self.line = line


class DuplicateRevision(HistoryError):
    """The same revision id is declared by two files."""

    def __init__(self, revision: str, paths: Sequence[str]) -> None:
        super().__init__(
            f"revision {revision} is declared in more than one file: {', '.join(paths)}",
            paths=paths,
            hint="give one of them a new id (the 'revision' variable and its file name)",
        )
        self.revision = revision


class UnknownReference(HistoryError):
    """A ``down_revision`` or ``depends_on`` names a revision that no file declares."""

    def __init__(
        self, revision: str, missing: str, *, attribute: str, path: str | None = None
    ) -> None:
        where = f" ({path})" if path else ""
        super().__init__(
            f"revision {revision}{where} has {attribute} {missing!r}, "
            "which is not a known revision",
            paths=(path,) if path else (),
            hint=f"fix {attribute} in that file, or restore the missing revision file",
        )
        self.revision = revision
        self.missing = missing
        self.attribute = attribute


class CycleDetected(HistoryError):
    """The history loops; ``cycle`` lists the revisions on the loop in order."""

    def __init__(self, cycle: Sequence[str], *, paths: Sequence[str] = ()) -> None:
        super().__init__(
            f"the revision history has a cycle: {' -> '.join(cycle)}",
            paths=paths,
            hint="one of these down_revision values must point elsewhere",
        )
        self.cycle = tuple(cycle)


class DuplicateBranchLabel(HistoryError):
    """A branch label is given to two revisions on different branches."""

    def __init__(self, label: str, revisions: Sequence[str], *, paths: Sequence[str] = ()) -> None:
        super().__init__(
            f"branch label {label!r} is used by more than one branch: {', '.join(revisions)}",
            paths=paths,
            hint="branch labels must be unique; rename one of them",
        )
        self.label = label
        self.revisions = tuple(revisions)


class ResolutionError(RevisionError):
    """A target (``head``, an id prefix, ``label@+2``, ...) cannot be resolved."""


class InvalidTarget(ResolutionError):
    """The target's syntax is wrong (e.g. ``head@@``, ``+x``, ``a:b:c``)."""


class UnknownRevision(ResolutionError):
    """No revision matches the target."""

    def __init__(self, target: str, *, hint: str | None = None) -> None:
        super().__init__(
            f"no revision matches {target!r}",
            hint=hint or "run 'amigrate history' to see the revisions",
        )
        self.target = target


class AmbiguousRevision(ResolutionError):
    """A partial id matches several revisions; ``candidates`` lists them."""

    def __init__(self, target: str, candidates: Sequence[str]) -> None:
        self.candidates = tuple(sorted(candidates))
        super().__init__(
            f"{target!r} matches {len(self.candidates)} revisions: {', '.join(self.candidates)}",
            hint="give more characters of the id",
        )
        self.target = target


class MultipleHeads(ResolutionError):
    """``head`` was asked for where the history has several heads."""

    def __init__(self, target: str, heads: Sequence[str], *, hint: str | None = None) -> None:
        self.heads = tuple(heads)
        super().__init__(
            f"{target!r} is ambiguous: the history has {len(self.heads)} heads: "
            f"{', '.join(self.heads)}",
            hint=hint
            or "name one ('<id>' or '<branch label>@head'), use 'heads' for all of them, "
            "or merge them with 'amigrate merge heads'",
        )
        self.target = target


class RelativeOutOfRange(ResolutionError):
    """A relative target (``+N``, ``-N``, ``rev+N``) steps past a head or a base."""


class ScriptError(AmigrateError):
    """A revision module cannot be imported, or does not define what it must."""


class HookError(AmigrateError):
    """A post-write hook failed or could not be found; the revision file stays written.

    ``output`` is what the hook printed; ``results`` the hooks that ran, the failed one last.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        output: str = "",
        results: Sequence[Any] = (),
    ) -> None:
        super().__init__(message, hint=hint)
        self.output = output
        self.results = tuple(results)


class MigrationError(AmigrateError):
    """Applying revisions failed.

    When the error sums up several databases (a fan-out), ``results`` is the
    :class:`~amigrate.fanout.FanoutResult` with each one's outcome; otherwise None.
    """

    def __init__(self, message: str, *, hint: str | None = None, results: Any = None) -> None:
        super().__init__(message, hint=hint)
        self.results = results


class MigrationFailed(MigrationError):
    """A step failed.

    ``applied`` holds the results of the steps that completed before it (and are
    committed), ``failed`` the step that failed; ``partial`` says that the failed
    step committed part of its work (MySQL DDL, or statements before and inside
    ``op.autocommit_block()``), so the database is partly changed and the version
    table does not say so. The driver's error is ``__cause__``.
    """

    def __init__(
        self,
        message: str,
        *,
        applied: Sequence[Any] = (),
        failed: Any = None,
        hint: str | None = None,
        partial: bool = False,
        results: Any = None,
    ) -> None:
        super().__init__(message, hint=hint, results=results)
        self.applied = tuple(applied)
        self.failed = failed
        self.partial = partial


class PartlyApplied(MigrationError):
    """Refused: the history records a revision that failed partway (the database may be
    partly changed) and nothing has resolved it yet; ``amigrate stamp`` (or ``--force``)
    does, once the database is put right."""


class MigrationInterrupted(MigrationFailed):
    """The CLI was interrupted (Ctrl-C) during a step, or during a fan-out; exit code 130.

    The awaitable API lets the cancellation itself through (with a note that says
    what this error says); the CLI reports it as this error. For a fan-out,
    ``results`` holds each database's outcome (an interrupted one's ``error`` is
    the MigrationInterrupted of its own step), and ``partial`` says that at least
    one database may be partly changed.
    """

    exit_code = 130


class UnsupportedOperation(MigrationError):
    """The dialect cannot perform this operation in this form."""


class DatabaseError(AmigrateError):
    """Connecting to or talking to the database failed (outside a migration step)."""


class CheckFailed(AmigrateError):
    """A check found a problem (``current --check-heads``, ``validate``, ``check``)."""

    exit_code = 3


class LockTimeout(AmigrateError, TimeoutError):
    """The migration lock was not acquired within ``lock_timeout``."""

    exit_code = 4


class AmigrateWarning(UserWarning):
    """Root of amigrate's warnings (filter them with the ``warnings`` module)."""


class ConfigWarning(AmigrateWarning):
    """Something in the configuration looks wrong but does not stop the run."""


class ValidationWarning(AmigrateWarning):
    """An applied revision's file changed since it was applied (see ``amigrate validate``)."""
