"""Operations compiled to SQL per dialect (PostgreSQL, SQLite, MySQL/MariaDB).

``compile_op`` turns an op into statements for a dialect (pure); ``apply_op``
is what the runtime calls to perform one. The generic compilers are registered
here; a dialect's own module (``postgresql``, ``sqlite``, ``mysql``) is imported
the first time an op is compiled for that dialect, so a run on SQLite does not
import SQLAlchemy's PostgreSQL and MySQL dialects.
"""

from amigrate.dialects import batch, generic
from amigrate.dialects.registry import (
    CompiledOp,
    Executor,
    apply_op,
    compile_op,
    register,
    register_applier,
)

__all__ = [
    "CompiledOp",
    "Executor",
    "apply_op",
    "batch",
    "compile_op",
    "generic",
    "register",
    "register_applier",
]
