"""Values in generated code: types, server defaults, SQL expressions, plain literals.

Types are written as their constructor calls with the arguments that differ
from the defaults (``sa.String(length=50)``, ``postgresql.JSONB(...)``,
``mysql.INTEGER(display_width=11)``). Generic types use the template's
``sa``; dialect types and your own types add an import (``from
sqlalchemy.dialects import postgresql``, ``import myapp.types``), collected in
:class:`RenderContext` so the file imports exactly what it uses.
"""

from __future__ import annotations

import enum
import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from amigrate.autogenerate.code import Call, Kw, Node, Seq, flat, py_str

__all__ = ["RenderContext", "render_server_default", "render_type", "render_value"]

_DECORATOR_INIT = sa.types.TypeDecorator.__init__
_GENERIC_MODULES = ("sqlalchemy.sql.sqltypes", "sqlalchemy.types", "sqlalchemy.sql.type_api")


@dataclass
class RenderContext:
    """What rendering needs: the dialect (to write SQL expressions) and the imports used."""

    dialect: Dialect | None = None
    imports: set[str] = field(default_factory=set)
    uses_sa: bool = False

    def sa(self, name: str) -> str:
        """``sa.<name>``, noting that the file uses ``sa``."""
        self.uses_sa = True
        return f"sa.{name}"

    def import_lines(self) -> list[str]:
        """The import statements the rendered code needs (besides ``sa``), sorted."""
        return sorted(self.imports, key=lambda line: (line.startswith("from "), line))


def _dialect_module(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["sqlalchemy", "dialects"]:
        return parts[2]
    return None


def type_prefix(cls: type[Any], ctx: RenderContext) -> str:
    """How rendered code names *cls*: ``sa.String``, ``postgresql.JSONB``, ``myapp.types.Money``."""
    name = cls.__name__
    module = cls.__module__
    if module.startswith(_GENERIC_MODULES) or module == "sqlalchemy":
        if getattr(sa, name, None) is cls:
            return ctx.sa(name)
        if getattr(sa.types, name, None) is cls:
            return ctx.sa(f"types.{name}")
    dialect = _dialect_module(module)
    if dialect is not None:
        package = importlib.import_module(f"sqlalchemy.dialects.{dialect}")
        if getattr(package, name, None) is cls:
            ctx.imports.add(f"from sqlalchemy.dialects import {dialect}")
            return f"{dialect}.{name}"
    ctx.imports.add(f"import {module}")
    return f"{module}.{name}"


def _signature_params(cls: type[Any]) -> list[inspect.Parameter]:
    """Keyword parameters of ``cls.__init__``, following ``**kw`` up the class hierarchy."""
    found: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):  # pragma: no cover - C-level __init__
            break
        passes_on = False
        for param in params:
            if param.name == "self":
                continue
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                passes_on = True
            elif param.kind is not inspect.Parameter.VAR_POSITIONAL:
                found.setdefault(param.name, param)
        if not passes_on:
            break
    return list(found.values())


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, TypeEngine) or isinstance(default, TypeEngine):
        return repr(value) == repr(default)
    try:
        return bool(value == default)
    except Exception:  # pragma: no cover - an odd __eq__
        return False


def _type_kwargs(instance: Any, cls: type[Any], ctx: RenderContext) -> list[Node]:
    args: list[Node] = []
    for param in _signature_params(cls):
        if not hasattr(instance, param.name):
            continue
        value = getattr(instance, param.name)
        default = None if param.default is inspect.Parameter.empty else param.default
        if _same(value, default):
            continue
        rendered = render_value(value, ctx, strict=True)
        if rendered is not None:
            args.append(Kw(param.name, rendered))
    return args


def _enum_args(type_: sa.Enum, ctx: RenderContext) -> list[Node]:
    args: list[Node] = [py_str(str(label)) for label in type_.enums]
    if type_.name is not None:
        args.append(Kw("name", py_str(str(type_.name))))
    if type_.schema is not None:
        args.append(Kw("schema", py_str(type_.schema)))
    if not type_.native_enum:
        args.append(Kw("native_enum", "False"))
    if type_.create_constraint:
        args.append(Kw("create_constraint", "True"))
    if type_.length != getattr(type_, "_default_length", type_.length):
        # (A non-native enum's VARCHAR is its longest value's length unless given.)
        args.append(Kw("length", repr(type_.length)))
    return args


def render_type(type_: TypeEngine[Any] | type[TypeEngine[Any]], ctx: RenderContext) -> Node:
    """A type as a constructor call: ``sa.Numeric(precision=8, scale=2)``."""
    if isinstance(type_, type):
        type_ = type_()
    variants: Mapping[str, TypeEngine[Any]] = getattr(type_, "_variant_mapping", {}) or {}
    cls = type(type_)
    func = type_prefix(cls, ctx)
    args: list[Node]
    if isinstance(type_, sa.Enum):
        args = _enum_args(type_, ctx)
    elif cls.__name__ == "SET" and isinstance(getattr(type_, "values", None), tuple):
        # MySQL's SET: its values are its arguments (its length is made from them).
        args = [py_str(str(value)) for value in type_.values]  # type: ignore[attr-defined]
    elif isinstance(type_, sa.types.TypeDecorator) and cls.__init__ is _DECORATOR_INIT:
        # TypeDecorator's own __init__ hands its arguments to the impl (String(50), an
        # Enum's values).
        impl = type_.impl_instance
        if isinstance(impl, sa.Enum):
            args = _enum_args(impl, ctx)
        else:
            args = _type_kwargs(impl, type(impl), ctx)
    else:
        args = _type_kwargs(type_, cls, ctx)
    node: Node = Call(func, tuple(args))
    for dialect_name, variant in sorted(variants.items()):
        node = Call(f"{flat(node)}.with_variant", (render_type(variant, ctx), py_str(dialect_name)))
    return node


def sql(element: Any, ctx: RenderContext) -> str:
    """A SQL expression compiled for the context's dialect, literals inlined."""
    compiled = element.compile(
        dialect=ctx.dialect, compile_kwargs={"literal_binds": True, "include_table": False}
    )
    return str(compiled)


def render_value(value: Any, ctx: RenderContext, *, strict: bool = False) -> Node | None:
    """A Python literal or SQLAlchemy construct as code (``strict``: None if not renderable)."""
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, enum.Enum):
        return py_str(str(value.name))
    if isinstance(value, TypeEngine) or (isinstance(value, type) and issubclass(value, TypeEngine)):
        return render_type(value, ctx)
    if isinstance(value, sa.TextClause):
        return Call(ctx.sa("text"), (py_str(value.text),))
    if isinstance(value, sa.sql.ClauseElement):
        return Call(ctx.sa("text"), (py_str(sql(value, ctx)),))
    if isinstance(value, list | tuple):
        items = [render_value(v, ctx, strict=strict) for v in value]
        if any(item is None for item in items):
            return None
        return Seq(
            tuple(i for i in items if i is not None), "[]" if isinstance(value, list) else "()"
        )
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            return None if strict else repr(value)
        pairs = [(k, render_value(v, ctx, strict=strict)) for k, v in value.items()]
        if any(v is None for _, v in pairs):
            return None
        return Seq(tuple(f"{py_str(k)}: {flat(v)}" for k, v in pairs if v is not None), "{}")
    return None if strict else repr(value)


def render_server_default(default: Any, ctx: RenderContext) -> Node:
    """``server_default=`` of a column or ``alter_column``: a string, ``sa.text(...)``, None."""
    if isinstance(default, sa.DefaultClause):
        default = default.arg
    if default is None or isinstance(default, str):
        return "None" if default is None else py_str(default)
    if isinstance(default, sa.TextClause):
        return Call(ctx.sa("text"), (py_str(default.text),))
    if isinstance(default, sa.sql.ClauseElement):
        return Call(ctx.sa("text"), (py_str(sql(default, ctx)),))
    rendered = render_value(default, ctx)
    return rendered if rendered is not None else repr(default)
