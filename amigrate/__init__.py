"""amigrate: async-first schema migrations for SQLAlchemy.

The public API. Heavy names (those that import SQLAlchemy) are loaded on first
use, so that importing ``amigrate`` (and running ``amigrate --help``) stays fast.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from amigrate._version import __version__
from amigrate.config import Config, load_config
from amigrate.errors import (
    AmbiguousRevision,
    AmigrateError,
    AmigrateWarning,
    CheckFailed,
    CommandError,
    ConfigError,
    ConfigWarning,
    CycleDetected,
    DatabaseError,
    DuplicateBranchLabel,
    DuplicateRevision,
    HistoryError,
    HookError,
    InvalidTarget,
    LockTimeout,
    MigrationError,
    MigrationFailed,
    MigrationInterrupted,
    MissingEnvironmentVariable,
    MultipleHeads,
    PartlyApplied,
    RelativeOutOfRange,
    ResolutionError,
    RevisionError,
    ScriptError,
    ScriptParseError,
    UnknownReference,
    UnknownRevision,
    UnsupportedOperation,
    ValidationWarning,
)

if TYPE_CHECKING:
    from amigrate.api import (
        current,
        downgrade,
        ensure_version,
        fan_out,
        log,
        plan,
        repair,
        stamp,
        targets,
        upgrade,
        validate,
    )
    from amigrate.autogenerate import AutogenerateOptions, Change, SchemaDiff, compare
    from amigrate.fanout import DatabaseTarget, FanoutResult, TargetEvent, TargetResult
    from amigrate.migrator import Migrator, RunResult
    from amigrate.operations import BatchOperations, Operations
    from amigrate.revisions import Plan, Step
    from amigrate.runtime.history import HistoryEntry
    from amigrate.runtime.repair import RepairResult
    from amigrate.runtime.runner import StepEvent, StepResult
    from amigrate.runtime.validation import ValidationReport

# A library logs; the application decides where to (the CLI configures logging itself).
# Without this, Python's last-resort handler would print amigrate's warnings to stderr
# in an application that configured no logging.
logging.getLogger("amigrate").addHandler(logging.NullHandler())

# name -> module that defines it; imported on first access (PEP 562).
_LAZY = {
    "AutogenerateOptions": "amigrate.autogenerate",
    "Change": "amigrate.autogenerate",
    "SchemaDiff": "amigrate.autogenerate",
    "compare": "amigrate.autogenerate",
    "BatchOperations": "amigrate.operations",
    "Migrator": "amigrate.migrator",
    "Operations": "amigrate.operations",
    "Plan": "amigrate.revisions",
    "RunResult": "amigrate.migrator",
    "Step": "amigrate.revisions",
    "StepEvent": "amigrate.runtime.runner",
    "StepResult": "amigrate.runtime.runner",
    "current": "amigrate.api",
    "downgrade": "amigrate.api",
    "ensure_version": "amigrate.api",
    "DatabaseTarget": "amigrate.fanout",
    "FanoutResult": "amigrate.fanout",
    "TargetEvent": "amigrate.fanout",
    "TargetResult": "amigrate.fanout",
    "fan_out": "amigrate.api",
    "targets": "amigrate.api",
    "HistoryEntry": "amigrate.runtime.history",
    "ValidationReport": "amigrate.runtime.validation",
    "log": "amigrate.api",
    "plan": "amigrate.api",
    "validate": "amigrate.api",
    "repair": "amigrate.api",
    "RepairResult": "amigrate.runtime.repair",
    "stamp": "amigrate.api",
    "upgrade": "amigrate.api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'amigrate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AmbiguousRevision",
    "AmigrateError",
    "AmigrateWarning",
    "AutogenerateOptions",
    "BatchOperations",
    "Change",
    "CheckFailed",
    "CommandError",
    "Config",
    "ConfigError",
    "ConfigWarning",
    "CycleDetected",
    "DatabaseError",
    "DatabaseTarget",
    "DuplicateBranchLabel",
    "DuplicateRevision",
    "FanoutResult",
    "HistoryEntry",
    "HistoryError",
    "HookError",
    "InvalidTarget",
    "LockTimeout",
    "MigrationError",
    "MigrationFailed",
    "MigrationInterrupted",
    "Migrator",
    "MissingEnvironmentVariable",
    "MultipleHeads",
    "Operations",
    "PartlyApplied",
    "Plan",
    "RelativeOutOfRange",
    "RepairResult",
    "ResolutionError",
    "RevisionError",
    "RunResult",
    "SchemaDiff",
    "ScriptError",
    "ScriptParseError",
    "Step",
    "StepEvent",
    "StepResult",
    "TargetEvent",
    "TargetResult",
    "UnknownReference",
    "UnknownRevision",
    "UnsupportedOperation",
    "ValidationReport",
    "ValidationWarning",
    "__version__",
    "compare",
    "current",
    "downgrade",
    "ensure_version",
    "fan_out",
    "load_config",
    "log",
    "plan",
    "repair",
    "stamp",
    "targets",
    "upgrade",
    "validate",
]
