"""Operations as data: one frozen dataclass per schema operation.

A revision's ``await op.create_table(...)`` builds a :class:`CreateTableOp` and
hands it to the runtime, which compiles it for the connection's dialect
(``amigrate.dialects``) and executes it, or renders it as SQL offline. The same
objects are what autogenerate emits. ``reverse()`` gives the operation that
undoes one, where that is knowable from the operation alone.

The classes live in modules by concept (tables, columns, indexes, constraints,
data, objects, batch); this module gathers them.
"""

from amigrate.operations.base import MigrateOp
from amigrate.operations.batch import BatchAlterTableOp
from amigrate.operations.columns import AddColumnOp, AlterColumnOp, DropColumnOp
from amigrate.operations.constraints import (
    CreateCheckConstraintOp,
    CreateExcludeConstraintOp,
    CreateForeignKeyOp,
    CreatePrimaryKeyOp,
    CreateUniqueConstraintOp,
    DropConstraintOp,
)
from amigrate.operations.data import BulkInsertOp, ExecuteOp
from amigrate.operations.indexes import CreateIndexOp, DropIndexOp
from amigrate.operations.objects import (
    CreateSchemaOp,
    CreateSequenceOp,
    CreateViewOp,
    DropSchemaOp,
    DropSequenceOp,
    DropViewOp,
)
from amigrate.operations.tables import (
    CreateTableCommentOp,
    CreateTableOp,
    DropTableCommentOp,
    DropTableOp,
    RenameTableOp,
)

__all__ = [
    "AddColumnOp",
    "AlterColumnOp",
    "BatchAlterTableOp",
    "BulkInsertOp",
    "CreateCheckConstraintOp",
    "CreateExcludeConstraintOp",
    "CreateForeignKeyOp",
    "CreateIndexOp",
    "CreatePrimaryKeyOp",
    "CreateSchemaOp",
    "CreateSequenceOp",
    "CreateTableCommentOp",
    "CreateTableOp",
    "CreateUniqueConstraintOp",
    "CreateViewOp",
    "DropColumnOp",
    "DropConstraintOp",
    "DropIndexOp",
    "DropSchemaOp",
    "DropSequenceOp",
    "DropTableCommentOp",
    "DropTableOp",
    "DropViewOp",
    "ExecuteOp",
    "MigrateOp",
    "RenameTableOp",
]
