"""amigrate: async-first schema migrations for SQLAlchemy.

The public API. Heavy names (those that import SQLAlchemy) are loaded on first
use, so that importing ``amigrate`` (and running ``amigrate --help``) stays fast.
"""

from __future__ import annotations

from ._version import __version__
from .config import Config, load_config
from .errors import (
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
    MissingEnvironmentVariable,
    MultipleHeads,
    RelativeOutOfRange,
    ResolutionError,
    RevisionError,
    ScriptError,
    ScriptParseError,
    UnknownReference,
    UnknownRevision,
    UnsupportedOperation,
)

__all__ = [
    "AmbiguousRevision",
    "AmigrateError",
    "AmigrateWarning",
    "CheckFailed",
    "CommandError",
    "Config",
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
    "MissingEnvironmentVariable",
    "MultipleHeads",
    "RelativeOutOfRange",
    "ResolutionError",
    "RevisionError",
    "ScriptError",
    "ScriptParseError",
    "UnknownReference",
    "UnknownRevision",
    "UnsupportedOperation",
    "__version__",
    "load_config",
]
