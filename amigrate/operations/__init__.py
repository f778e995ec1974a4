"""Operations as data (``ops``) and the ``Operations`` facade revisions receive (``op``)."""

from amigrate.operations.facade import OpCall, OpContext, Operations
from amigrate.operations.ops import (
    AddColumnOp,
    CreateIndexOp,
    CreateTableOp,
    DropColumnOp,
    DropIndexOp,
    DropTableOp,
    ExecuteOp,
    MigrateOp,
)

__all__ = [
    "AddColumnOp",
    "CreateIndexOp",
    "CreateTableOp",
    "DropColumnOp",
    "DropIndexOp",
    "DropTableOp",
    "ExecuteOp",
    "MigrateOp",
    "OpCall",
    "OpContext",
    "Operations",
]
