"""What to compare and how: the names env.py may define for autogenerate.

Every setting is optional. ``target_metadata`` says what the models are; the
others match Alembic's ``context.configure()`` keywords of the same name, so an
Alembic env.py's functions carry over:

- ``compare_type``: True (the default), False, or
  ``fn(context, inspected_column, metadata_column, inspected_type, metadata_type)``
  returning True (differs), False (same) or None (use the default comparison).
- ``compare_server_default``: False (the default), True, or
  ``fn(context, inspected_column, metadata_column, inspected_default,
  metadata_default, rendered_metadata_default)`` returning the same.
- ``include_schemas``: compare every schema, not only the default one (False).
- ``include_name(name, type_, parent_names)``: a filter on names, run before
  anything is compared; ``type_`` is ``"schema"``, ``"table"``, ``"column"``,
  ``"index"``, ``"unique_constraint"`` or ``"foreign_key_constraint"``.
- ``include_object(object, name, type_, reflected, compare_to)``: a filter on
  the SQLAlchemy objects of both sides.
- ``render_as_batch``: put the changes to an existing table in
  ``async with op.batch_alter_table(...)`` blocks. Default: on SQLite only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from amigrate.errors import ConfigError, ConfigWarning

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

    from amigrate.config import Config

__all__ = [
    "ENV_NAMES",
    "AutogenerateOptions",
    "CompareContext",
    "MetadataSet",
    "resolve_metadata",
]

#: A model set: one ``MetaData``, or several (their tables compared together).
MetadataSet = tuple[sa.MetaData, ...]

#: The env.py names autogenerate reads (besides ``target_metadata``).
ENV_NAMES = (
    "compare_type",
    "compare_server_default",
    "include_schemas",
    "include_name",
    "include_object",
    "render_as_batch",
)

#: Alembic's autogenerate settings that have no counterpart here: said, not ignored.
_ALEMBIC_ONLY = (
    "render_item",
    "process_revision_directives",
    "user_module_prefix",
    "sqlalchemy_module_prefix",
    "alembic_module_prefix",
    "include_symbol",
)

NameFilter = Callable[[str | None, str, Mapping[str, str | None]], bool]
ObjectFilter = Callable[[Any, str | None, str, bool, Any], bool]


@dataclass(frozen=True)
class CompareContext:
    """What the ``compare_type`` / ``compare_server_default`` functions receive first.

    ``dialect`` is the database's SQLAlchemy dialect, ``config`` the amigrate
    configuration, ``database`` the database's name in a multidb project.
    """

    dialect: Dialect
    config: Config | None = None
    database: str | None = None


@dataclass(frozen=True)
class AutogenerateOptions:
    """Autogenerate's settings; :meth:`from_env` reads them from an env.py module.

    ``exclude_tables`` holds ``(schema, name)`` of tables never reported:
    amigrate's version and history tables (by default, under their default
    names; ``Migrator.compare`` puts the configured ones here).
    """

    compare_type: bool | Callable[..., bool | None] = True
    compare_server_default: bool | Callable[..., bool | None] = False
    include_schemas: bool = False
    include_name: NameFilter | None = None
    include_object: ObjectFilter | None = None
    render_as_batch: bool | None = None
    exclude_tables: frozenset[tuple[str | None, str]] = field(
        default_factory=lambda: frozenset({(None, "amigrate_version"), (None, "amigrate_history")})
    )

    @classmethod
    def from_env(cls, module: ModuleType | None, **overrides: Any) -> AutogenerateOptions:
        """The settings env.py *module* defines (missing names keep their defaults)."""
        values: dict[str, Any] = {}
        where = getattr(module, "__file__", "env.py")
        for name in ENV_NAMES:
            if module is None or not hasattr(module, name):
                continue
            value = getattr(module, name)
            _check(name, value, where)
            values[name] = value
        unused = [name for name in _ALEMBIC_ONLY if module is not None and hasattr(module, name)]
        if unused:
            warnings.warn(
                f"{where} defines {', '.join(unused)}, which amigrate's autogenerate does not "
                "use (see docs/autogenerate.md): edit the written revision instead",
                ConfigWarning,
                stacklevel=2,
            )
        values.update(overrides)
        return cls(**values)

    def batch_for(self, dialect_name: str) -> bool:
        """Whether to render batch blocks for this dialect."""
        if self.render_as_batch is None:
            return dialect_name == "sqlite"
        return self.render_as_batch

    def name_included(
        self, name: str | None, type_: str, parents: Mapping[str, str | None] | None = None
    ) -> bool:
        """Run ``include_name`` (True when there is none)."""
        if self.include_name is None:
            return True
        return bool(self.include_name(name, type_, dict(parents or {})))

    def object_included(
        self, obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        """Run ``include_object`` (True when there is none)."""
        if self.include_object is None:
            return True
        return bool(self.include_object(obj, name, type_, reflected, compare_to))


def _check(name: str, value: Any, where: str) -> None:
    flags = {"compare_type", "compare_server_default"}
    if name in flags and not (isinstance(value, bool) or callable(value)):
        raise ConfigError(
            f"{where}: {name} must be True, False or a function, not {type(value).__name__}",
            hint=f"see docs/autogenerate.md for the signature of {name}()",
        )
    if name in ("include_schemas",) and not isinstance(value, bool):
        raise ConfigError(
            f"{where}: {name} must be True or False, not {value!r}",
            hint=f"write {name} = True",
        )
    if name == "render_as_batch" and value is not None and not isinstance(value, bool):
        raise ConfigError(
            f"{where}: render_as_batch must be True, False or None, not {value!r}",
            hint="None (the default) renders batch blocks on SQLite only",
        )
    if name in ("include_name", "include_object") and value is not None and not callable(value):
        raise ConfigError(
            f"{where}: {name} must be a function, not {type(value).__name__}",
            hint=f"see docs/autogenerate.md for the signature of {name}()",
        )


def resolve_metadata(target: Any, database: str | None = None) -> MetadataSet:
    """The model set of env.py's ``target_metadata`` (for *database* in a multidb project).

    ``target_metadata`` is a ``MetaData``, a list of them, or (multidb) a dict
    keyed by database name whose values are either.
    """
    if isinstance(target, Mapping):
        if database is None:
            raise ConfigError(
                "target_metadata is a dict keyed by database name, and no database was chosen",
                hint="a dict is for multidb projects (databases = ...); otherwise assign "
                "a MetaData (or a list of them)",
            )
        if database not in target:
            raise ConfigError(
                f"target_metadata has no entry for database {database!r} "
                f"(it has: {', '.join(map(str, target)) or 'none'})",
                hint=f"add target_metadata[{database!r}] = YourBase.metadata in env.py",
            )
        if target[database] is None:
            return resolve_metadata(None, database)
        return resolve_metadata(target[database])
    if target is None:
        where = f" for database {database!r}" if database else ""
        raise ConfigError(
            f"env.py sets no target_metadata{where}, so there are no models to compare",
            hint="in env.py: from myapp.models import Base; target_metadata = Base.metadata",
        )
    items = list(target) if isinstance(target, list | tuple) else [target]
    for item in items:
        if not isinstance(item, sa.MetaData):
            raise ConfigError(
                f"target_metadata must be a MetaData or a list of them, not {type(item).__name__}",
                hint="use your declarative base's .metadata (Base.metadata)",
            )
    return tuple(items)
