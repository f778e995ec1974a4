"""Operations compiled to SQL per dialect (pure compilation: no connection here)."""

from amigrate.dialects.registry import CompiledOp, compile_op, register

__all__ = ["CompiledOp", "compile_op", "register"]
