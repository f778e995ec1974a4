"""Operations compiled to SQL per dialect (PostgreSQL, SQLite, MySQL/MariaDB).

``compile_op`` turns an op into statements for a dialect (pure); ``apply_op``
is what the runtime calls to perform one. The dialect modules are imported here
so that their compilers are registered.
"""

from amigrate.dialects import batch, generic, mysql, postgresql, sqlite
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
    "mysql",
    "postgresql",
    "register",
    "register_applier",
    "sqlite",
]
