"""Template variables for script.py.mako, and the tidying of a written revision's imports."""

from __future__ import annotations

import textwrap

import pytest
import sqlalchemy as sa

from amigrate.autogenerate import AutogenerateOptions, SchemaDiff
from amigrate.autogenerate.diff import Change, Phase
from amigrate.autogenerate.options import resolve_metadata
from amigrate.autogenerate.writer import (
    RenderedMigration,
    describe,
    render_migration,
    template_args,
    tidy_source,
)
from amigrate.errors import ConfigError, ConfigWarning
from amigrate.operations.ops import DropTableOp

TEMPLATE_OUTPUT = '''"""m

Revision ID: a1
"""

from __future__ import annotations

import sqlalchemy as sa

from amigrate import Operations
{imports}
# revision identifiers, used by amigrate.
revision: str = "a1"


async def upgrade(op: Operations) -> None:
    {body}
'''


def test_an_unused_sa_import_goes() -> None:
    source = TEMPLATE_OUTPUT.format(imports="", body='await op.drop_table("t")')
    tidied = tidy_source(source)
    assert "import sqlalchemy" not in tidied
    assert (
        "from __future__ import annotations\n\nfrom amigrate import Operations\n\n# rev" in tidied
    )


def test_imports_are_sorted_as_ruff_sorts_them() -> None:
    imports = (
        "from sqlalchemy.dialects import postgresql\n"
        "import myapp.types\n"
        "from sqlalchemy.dialects import mysql\n"
    )
    body = 'await op.add_column("t", sa.Column("a", postgresql.JSONB(), myapp.types.X()))'
    tidied = tidy_source(TEMPLATE_OUTPUT.format(imports=imports, body=body))
    assert (
        textwrap.dedent(
            """\
        from __future__ import annotations

        import sqlalchemy as sa
        from amigrate import Operations
        from sqlalchemy.dialects import mysql, postgresql

        import myapp.types

        # revision identifiers"""
        )
        in tidied
    )


def test_imports_the_template_lacks_are_added() -> None:
    source = '"""m"""\n\nfrom amigrate import Operations\n\nx = sa.Integer\n'
    tidied = tidy_source(
        source, ["import sqlalchemy as sa", "from sqlalchemy.dialects import mysql"]
    )
    assert tidied == (
        '"""m"""\n\nimport sqlalchemy as sa\nfrom amigrate import Operations\n'
        "from sqlalchemy.dialects import mysql\n\nx = sa.Integer\n"
    )
    bare = '"""m"""\nx = sa.Integer\n'
    assert tidy_source(bare, ["import sqlalchemy as sa"]) == (
        '"""m"""\n\nimport sqlalchemy as sa\n\nx = sa.Integer\n'
    )


def test_what_cannot_be_tidied_is_left_alone() -> None:
    assert tidy_source("def broken(:\n") == "def broken(:\n"
    commented = "import sqlalchemy as sa\n# keep\nimport os\n"
    assert tidy_source(commented) == commented
    assert tidy_source('"""only a docstring"""\n') == '"""only a docstring"""\n'


def test_template_args_for_one_database_and_for_several() -> None:
    one = RenderedMigration("pass", "pass", ("from sqlalchemy.dialects import mysql",), False)
    assert template_args({None: one}) == {
        "imports": "from sqlalchemy.dialects import mysql\n",
        "upgrades": "pass",
        "downgrades": "pass",
    }
    other = RenderedMigration("a", "b", ("import x",), True)
    args = template_args({"main": one, "analytics": other})
    assert args["imports"] == "from sqlalchemy.dialects import mysql\nimport x\n"
    assert (args["main_upgrades"], args["analytics_downgrades"]) == ("pass", "b")


def test_render_migration_indents_for_the_template() -> None:
    change = Change(
        "remove_table",
        "remove table 't'",
        (DropTableOp("t"),),
        (DropTableOp("u"),),
        Phase.DROP_TABLE,
        "t",
    )
    rendered = render_migration(SchemaDiff((change,), "sqlite"))
    assert rendered.upgrades == 'await op.drop_table("t")'
    assert rendered.downgrades == 'await op.drop_table("u")'
    assert not rendered.uses_sa
    empty = render_migration(SchemaDiff((), "sqlite"))
    assert (empty.upgrades, empty.downgrades) == ("pass", "pass")


def test_describe_names_the_database_when_there_are_several() -> None:
    change = Change("remove_table", "remove table 't'", (), (), Phase.DROP_TABLE, "t")
    assert describe([SchemaDiff((change,), "sqlite")]) == ["remove table 't'"]
    assert describe([SchemaDiff((change,), "sqlite", database="main")]) == [
        "main: remove table 't'"
    ]


def test_options_from_an_env_module() -> None:
    import types

    module = types.ModuleType("env")
    module.compare_server_default = True  # type: ignore[attr-defined]
    module.render_as_batch = False  # type: ignore[attr-defined]
    options = AutogenerateOptions.from_env(module)
    assert options.compare_server_default is True
    assert not options.batch_for("sqlite")
    assert AutogenerateOptions().batch_for("sqlite")
    assert not AutogenerateOptions().batch_for("postgresql")
    module.include_object = "nope"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="include_object must be a function"):
        AutogenerateOptions.from_env(module)
    module.include_object = None  # type: ignore[attr-defined]
    module.include_schemas = 1  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="include_schemas must be True or False"):
        AutogenerateOptions.from_env(module)


def test_alembic_settings_without_a_counterpart_are_said() -> None:
    import types

    module = types.ModuleType("env")
    module.render_item = lambda *args: False  # type: ignore[attr-defined]
    module.user_module_prefix = "app."  # type: ignore[attr-defined]
    with pytest.warns(ConfigWarning, match="defines render_item, user_module_prefix, which"):
        AutogenerateOptions.from_env(module)


def test_resolve_metadata() -> None:
    a, b = sa.MetaData(), sa.MetaData()
    assert resolve_metadata(a) == (a,)
    assert resolve_metadata([a, b]) == (a, b)
    assert resolve_metadata({"main": a, "logs": [b]}, "logs") == (b,)
    with pytest.raises(ConfigError, match="no entry for database 'x'"):
        resolve_metadata({"main": a}, "x")
    with pytest.raises(ConfigError, match="sets no target_metadata for database 'main'"):
        resolve_metadata({"main": None}, "main")
