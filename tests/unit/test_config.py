"""Config: ini and pyproject.toml, %(here)s, %%, ${VAR}, precedence, unknown keys."""

from __future__ import annotations

import os
import re
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from amigrate.config import (
    Config,
    find_config_files,
    load_config,
    mask_url,
    remember_password,
)
from amigrate.errors import ConfigError, ConfigWarning, MissingEnvironmentVariable


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AMIGRATE_URL", "AMIGRATE_CONFIG", "DB_URL", "DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_here_is_the_ini_folder_and_double_percent_is_literal(tmp_path: Path) -> None:
    ini = write(
        tmp_path / "conf" / "amigrate.ini",
        """
        [amigrate]
        script_location = %(here)s/migrations
        sqlalchemy.url = postgresql+asyncpg://app:p%%40ss@db/app
        """,
    )
    config = load_config(ini)
    assert config.script_location == tmp_path / "conf" / "migrations"
    assert config.url == "postgresql+asyncpg://app:p%40ss@db/app"
    assert config.here == tmp_path / "conf"


def test_single_percent_is_a_clear_error(tmp_path: Path) -> None:
    write(
        tmp_path / "amigrate.ini",
        """
        [amigrate]
        script_location = migrations
        sqlalchemy.url = postgresql+asyncpg://app:p%40ss@db/app
        """,
    )
    config = load_config()  # only reading the URL fails, as in Alembic
    assert config.script_location == tmp_path / "migrations"
    with pytest.raises(ConfigError, match=r"sqlalchemy\.url: a '%' that is not followed") as info:
        config.url  # noqa: B018
    assert info.value.hint is not None
    assert "%%" in info.value.hint
    assert "40ss" not in str(info.value)  # never a part of the password


def test_undefined_interpolation_key_is_named(tmp_path: Path) -> None:
    write(
        tmp_path / "amigrate.ini",
        """
        [amigrate]
        script_location = migrations
        dbdir = %(nothere)s/data
        """,
    )
    with pytest.warns(ConfigWarning, match="dbdir"):
        config = load_config()
    with pytest.raises(ConfigError, match=r"dbdir: %\(nothere\)s refers to 'nothere'") as info:
        config.get("dbdir")
    assert "define nothere in [amigrate]" in (info.value.hint or "")


def test_environment_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path / "amigrate.ini",
        """
        [amigrate]
        script_location = ${MIGRATIONS_DIR:-migrations}
        sqlalchemy.url = ${DB_URL}
        version_table = $${literal}
        """,
    )
    monkeypatch.setenv("DB_URL", "sqlite+aiosqlite:///x.db")
    config = load_config()
    assert config.url == "sqlite+aiosqlite:///x.db"
    assert config.script_location == tmp_path / "migrations"
    assert config.version_table == "${literal}"
    monkeypatch.setenv("MIGRATIONS_DIR", "elsewhere")
    assert config.script_location == tmp_path / "elsewhere"


def test_missing_environment_variable_names_it(tmp_path: Path) -> None:
    write(
        tmp_path / "amigrate.ini",
        """
        [amigrate]
        script_location = migrations
        sqlalchemy.url = postgresql+asyncpg://app:${DB_PASSWORD}@db/app
        """,
    )
    config = load_config()  # not an error until the value is needed
    assert config.script_location == tmp_path / "migrations"
    with pytest.raises(MissingEnvironmentVariable) as info:
        _ = config.url
    assert info.value.name == "DB_PASSWORD"
    assert "DB_PASSWORD" in str(info.value)
    assert "sqlalchemy.url" in str(info.value)


def test_empty_variable_takes_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_URL", "")
    config = Config.from_values({"sqlalchemy.url": "${DB_URL:-sqlite+aiosqlite://}"})
    assert config.url == "sqlite+aiosqlite://"


def test_malformed_reference() -> None:
    config = Config.from_values({"sqlalchemy.url": "${not a name}"})
    with pytest.raises(ConfigError, match="not a valid environment variable reference"):
        _ = config.url


def test_pyproject_values_written_for_alembic(tmp_path: Path) -> None:
    """[tool.alembic] needs %% for a %; renamed to [tool.amigrate] it reads the same."""
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.amigrate]
        script_location = "%(here)s/migrations"
        file_template = "%%(year)d_%%(month).2d-%%(rev)s_%%(slug)s"
        "sqlalchemy.url" = "postgresql+asyncpg://app:p%%40ss@db/app"
        version_locations = ["%(here)s/v", "%%(here)s/literal"]
        """,
    )
    config = load_config()
    assert config.get("file_template") == "%(year)d_%(month).2d-%(rev)s_%(slug)s"
    assert config.url == "postgresql+asyncpg://app:p%40ss@db/app"
    assert config.get_list("version_locations") == [f"{tmp_path}/v", "%(here)s/literal"]
    assert config.script_location == tmp_path / "migrations"


def test_pyproject_only(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
        [project]
        name = "app"

        [tool.amigrate]
        script_location = "%(here)s/db/migrations"
        version_locations = ["%(here)s/db/versions", "%(here)s/more"]
        prepend_sys_path = ["src"]
        recursive_version_locations = true
        truncate_slug_length = 20
        file_template = "%(rev)s_%(slug)s"

        [[tool.amigrate.post_write_hooks]]
        name = "ruff"
        type = "console_scripts"
        entrypoint = "ruff"
        """,
    )
    config = load_config()
    assert config.ini_path is None
    assert config.script_location == tmp_path / "db" / "migrations"
    assert config.version_locations == [tmp_path / "db" / "versions", tmp_path / "more"]
    assert config.prepend_sys_path == [tmp_path / "src"]
    assert config.recursive_version_locations is True
    assert config.truncate_slug_length == 20
    assert config.get_value("post_write_hooks") == [
        {"name": "ruff", "type": "console_scripts", "entrypoint": "ruff"}
    ]
    assert config.url_or_none is None
    with pytest.raises(ConfigError, match="no database URL") as info:
        _ = config.url
    assert "AMIGRATE_URL" in (info.value.hint or "")


def test_pyproject_tables_are_sections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMIGRATE_TEST_ANALYTICS", "sqlite+aiosqlite:///a.db")
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.amigrate]
        script_location = "m"
        databases = ["main", "analytics"]

        [tool.amigrate.main]
        "sqlalchemy.url" = "sqlite+aiosqlite:///%(here)s/main.db"

        [tool.amigrate.analytics]
        "sqlalchemy.url" = "${AMIGRATE_TEST_ANALYTICS}"

        [tool.amigrate.targets]
        acme = "sqlite+aiosqlite:///%(here)s/acme.db"
        """,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # main and analytics are databases, not unknown keys
        config = load_config()
    assert config.get_section("main") == {
        "sqlalchemy.url": f"sqlite+aiosqlite:///{tmp_path}/main.db"
    }
    assert config.get_section("analytics") == {"sqlalchemy.url": "sqlite+aiosqlite:///a.db"}
    assert config.get_section("targets") == {"acme": f"sqlite+aiosqlite:///{tmp_path}/acme.db"}
    assert config.get_section("nope") == {}


def test_ini_and_pyproject_together_ini_wins(tmp_path: Path) -> None:
    write(
        tmp_path / "amigrate.ini",
        """
        [amigrate]
        sqlalchemy.url = sqlite+aiosqlite:///%(here)s/app.db
        truncate_slug_length = 10
        """,
    )
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.amigrate]
        script_location = "migrations"
        truncate_slug_length = 30
        """,
    )
    config = load_config()  # finds the ini, and the pyproject.toml beside it
    assert config.toml_path == tmp_path / "pyproject.toml"
    assert config.script_location == tmp_path / "migrations"
    assert config.truncate_slug_length == 10
    assert config.url == f"sqlite+aiosqlite:///{tmp_path}/app.db"


def test_two_config_files_given_explicitly(tmp_path: Path) -> None:
    ini = write(tmp_path / "deploy" / "prod.ini", "[amigrate]\nsqlalchemy.url = sqlite://\n")
    toml = write(tmp_path / "src" / "pyproject.toml", '[tool.amigrate]\nscript_location = "m"\n')
    config = load_config(ini, toml)
    assert config.ini_path == ini
    assert config.toml_path == toml
    assert config.url == "sqlite://"
    # a relative path is relative to the folder of the file it came from
    assert config.script_location == tmp_path / "deploy" / "m"


def test_two_ini_files_is_an_error(tmp_path: Path) -> None:
    a = write(tmp_path / "a.ini", "[amigrate]\n")
    b = write(tmp_path / "b.ini", "[amigrate]\n")
    with pytest.raises(ConfigError, match="more than one ini file"):
        load_config(a, b)


def test_named_section(tmp_path: Path) -> None:
    write(
        tmp_path / "amigrate.ini",
        """
        [amigrate]
        script_location = migrations
        sqlalchemy.url = sqlite+aiosqlite:///dev.db

        [staging]
        script_location = migrations
        sqlalchemy.url = postgresql+asyncpg://staging/app
        """,
    )
    assert load_config().url.endswith("dev.db")
    assert load_config(name="staging").url == "postgresql+asyncpg://staging/app"
    with pytest.raises(ConfigError, match=r"no \[production\] section") as info:
        load_config(name="production")
    assert "-n" in (info.value.hint or "")


STAGING_TOML = """
[tool.amigrate]
script_location = "%(here)s/m"
"sqlalchemy.url" = "sqlite+aiosqlite:///prod.db"

[tool.amigrate.staging]
"sqlalchemy.url" = "sqlite+aiosqlite:///staging.db"
"""


def test_named_table_of_a_pyproject_alone(tmp_path: Path) -> None:
    """-n NAME with only a pyproject.toml reads [tool.amigrate.NAME] over [tool.amigrate]
    (it was ignored, with a warning, and the command ran on the default database)."""
    write(tmp_path / "pyproject.toml", STAGING_TOML)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_config().url.endswith("prod.db")
        staging = load_config(name="staging")
    assert staging.url.endswith("staging.db")
    assert staging.script_location == tmp_path / "m"
    with pytest.raises(ConfigError, match=r"no \[tool.amigrate.nosuch\] table") as info:
        load_config(name="nosuch")
    assert "-n" in (info.value.hint or "")


def test_named_table_with_an_ini_file_too(tmp_path: Path) -> None:
    """-n NAME with both files: [NAME] of the ini, then [tool.amigrate.NAME], then
    [tool.amigrate] (the table was ignored there)."""
    write(tmp_path / "pyproject.toml", STAGING_TOML + 'version_table = "v_toml"\n')
    write(tmp_path / "amigrate.ini", "[amigrate]\n\n[staging]\nversion_table = v_ini\n")
    staging = load_config(name="staging")
    assert staging.url.endswith("staging.db")
    assert staging.version_table == "v_ini"
    write(tmp_path / "amigrate.ini", "[amigrate]\n")  # no [staging]: the table alone
    assert load_config(name="staging").version_table == "v_toml"
    with pytest.raises(ConfigError, match=r"no \[other\] section"):
        load_config(name="other")


def test_a_misspelt_table_in_toml_is_warned_about(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.amigrate]
        script_location = "m"
        [tool.amigrate.databses.main]
        "sqlalchemy.url" = "sqlite+aiosqlite:///x.db"
        [tool.amigrate.staging]
        version_table = "v2"
        [tool.amigrate.tests]
        version_table = "v3"
        """,
    )
    with pytest.warns(ConfigWarning, match="did you mean 'databases'") as caught:
        load_config()
    assert len(caught) == 1, [str(w.message) for w in caught]  # staging, tests: -n tables


def test_an_unquoted_dotted_key_in_toml_says_to_quote_it(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.amigrate]
        script_location = "m"
        sqlalchemy.url = "sqlite+aiosqlite:///app.db"
        """,
    )
    with pytest.warns(
        ConfigWarning, match=r'sqlalchemy.url .* quote the key in TOML, "sqlalchemy.url"'
    ):
        load_config()


def test_url_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "amigrate.ini", "[amigrate]\nsqlalchemy.url = sqlite:///from-ini.db\n")
    assert load_config().url == "sqlite:///from-ini.db"
    monkeypatch.setenv("AMIGRATE_URL", "sqlite:///from-env.db")
    assert load_config().url == "sqlite:///from-env.db"
    assert load_config(url="sqlite:///from-flag.db").url == "sqlite:///from-flag.db"


def test_config_file_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="no amigrate.ini") as info:
        find_config_files()
    assert "amigrate init" in (info.value.hint or "")
    write(tmp_path / "pyproject.toml", '[tool.amigrate]\nscript_location = "m"\n')
    assert find_config_files() == (None, tmp_path / "pyproject.toml")
    write(tmp_path / "amigrate.ini", "[amigrate]\n")
    assert find_config_files() == (tmp_path / "amigrate.ini", tmp_path / "pyproject.toml")
    other = write(tmp_path / "other" / "x.ini", "[amigrate]\nscript_location = m\n")
    monkeypatch.setenv("AMIGRATE_CONFIG", str(other))
    assert find_config_files() == (other, None)
    assert find_config_files(["amigrate.ini"]) == (
        tmp_path / "amigrate.ini",
        tmp_path / "pyproject.toml",
    )


def test_pyproject_without_tool_section_is_not_a_config(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "app"\n')
    with pytest.raises(ConfigError, match="no amigrate.ini"):
        load_config()


def test_alembics_pyproject_table_gets_a_hint_to_rename_it(tmp_path: Path) -> None:
    """[tool.alembic] was passed over in silence: 'run amigrate init', said the hint."""
    write(tmp_path / "pyproject.toml", '[tool.alembic]\nscript_location = "migrations"\n')
    with pytest.raises(ConfigError, match="no amigrate.ini") as caught:
        load_config()
    assert "rename it [tool.amigrate]" in (caught.value.hint or "")
    with pytest.raises(ConfigError, match=r"no \[tool.amigrate\] table") as caught:
        load_config(str(tmp_path / "pyproject.toml"))
    assert "rename it [tool.amigrate]" in (caught.value.hint or "")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file nope.ini not found"):
        load_config("nope.ini")


def test_malformed_ini(tmp_path: Path) -> None:
    write(tmp_path / "amigrate.ini", "script_location = no section header\n")
    with pytest.raises(ConfigError, match="not a valid ini file"):
        load_config()


def test_malformed_toml(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.amigrate\nscript_location = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config("pyproject.toml")


def test_discovery_reports_a_malformed_toml(tmp_path: Path) -> None:
    # alone, and beside an ini file: the TOML error, not a missing key or file
    write(tmp_path / "pyproject.toml", '[tool.amigrate]\nscript_location = "m"\noops = [\n')
    with pytest.raises(ConfigError, match="pyproject.toml is not valid TOML"):
        load_config()
    write(tmp_path / "amigrate.ini", "[amigrate]\nsqlalchemy.url = sqlite://\n")
    with pytest.raises(ConfigError, match="pyproject.toml is not valid TOML"):
        load_config()


def test_ini_without_section(tmp_path: Path) -> None:
    write(tmp_path / "amigrate.ini", "[loggers]\nkeys = root\n")
    with pytest.raises(ConfigError, match=r"no \[amigrate\] section"):
        load_config()


def test_missing_script_location_is_an_error_when_needed(tmp_path: Path) -> None:
    write(tmp_path / "amigrate.ini", "[amigrate]\nsqlalchemy.url = sqlite://\n")
    config = load_config()
    with pytest.raises(ConfigError, match="no script_location") as info:
        _ = config.script_location
    assert "amigrate init" in (info.value.hint or "")


def test_unknown_key_warns_with_the_nearest_known_key(tmp_path: Path) -> None:
    write(
        tmp_path / "amigrate.ini",
        """
        [amigrate]
        script_location = m
        version_tabel = mine
        sqlalchemy.pool_size = 5
        completely_unrelated_thing = 1
        """,
    )
    with pytest.warns(ConfigWarning) as record:
        load_config()
    messages = [str(w.message) for w in record]
    assert len(messages) == 2, messages
    assert "unknown key 'version_tabel'" in messages[0]
    assert "did you mean 'version_table'?" in messages[0]
    assert "completely_unrelated_thing" in messages[1]


def test_typed_values() -> None:
    config = Config.from_values(
        {
            "transaction_per_migration": "no",
            "lock_timeout": "2.5",
            "version_locations": "a, b  c",
            "recursive_version_locations": "maybe",
        },
        here="/srv/app",
    )
    assert config.transaction_per_migration is False
    assert config.lock_timeout == 2.5
    assert config.version_locations == [Path("/srv/app/a"), Path("/srv/app/b"), Path("/srv/app/c")]
    with pytest.raises(ConfigError, match="not a boolean"):
        _ = config.recursive_version_locations
    config.set("lock_timeout", "soon")
    with pytest.raises(ConfigError, match="not a number"):
        _ = config.lock_timeout
    config.set("version_locations", "a;b c")
    config.set("path_separator", ";")
    assert config.version_locations == [Path("/srv/app/a"), Path("/srv/app/b c")]


def test_defaults() -> None:
    config = Config.from_values({})
    assert config.version_table == "amigrate_version"
    assert config.version_table_schema is None
    assert config.history_table == "amigrate_history"
    assert config.transaction_per_migration is True
    assert config.lock_timeout is None
    assert config.file_template == "%(rev)s_%(slug)s"
    assert config.truncate_slug_length == 40


def test_package_script_location() -> None:
    config = Config.from_values({"script_location": "amigrate:somewhere"})
    import amigrate

    assert amigrate.__file__
    assert config.script_location == Path(amigrate.__file__).parent / "somewhere"
    config.set("script_location", "no_such_package_xyz:m")
    with pytest.raises(ConfigError, match="not importable"):
        _ = config.script_location


def test_package_script_location_found_through_prepend_sys_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As Alembic: prepend_sys_path is on sys.path before ``package:folder`` is looked up."""
    package = tmp_path / "src" / "amigrate_test_pkg_xyz"
    write(package / "__init__.py", "")
    monkeypatch.setattr(sys, "path", list(sys.path))
    config = Config.from_values(
        {"script_location": "amigrate_test_pkg_xyz:migrations", "prepend_sys_path": "src"},
        here=tmp_path,
    )
    assert config.script_location == package / "migrations"
    assert sys.path[0] == str(tmp_path / "src")


def test_sections_and_multidb_keys(tmp_path: Path) -> None:
    write(
        tmp_path / "amigrate.ini",
        """
        [amigrate]
        script_location = m
        databases = main, analytics

        [main]
        sqlalchemy.url = sqlite+aiosqlite:///%(here)s/main.db
        """,
    )
    config = load_config()
    assert config.get_list("databases") == ["main", "analytics"]
    assert config.get_section("main") == {
        "sqlalchemy.url": f"sqlite+aiosqlite:///{tmp_path}/main.db"
    }
    assert config.get_section("nope") == {}


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql+asyncpg://app:s3cret@db:5432/app", "postgresql+asyncpg://app:***@db:5432/app"),
        ("mysql+asyncmy://root@db/app", "mysql+asyncmy://root@db/app"),
        (
            "error connecting to postgresql://u:p%40ss@h/d: refused",
            "error connecting to postgresql://u:***@h/d: refused",
        ),
        ("sqlite+aiosqlite:///tmp/x.db", "sqlite+aiosqlite:///tmp/x.db"),
        # No scheme: still a password.
        ("u:s3cret@127.0.0.1/db", "u:***@127.0.0.1/db"),
        # An unencoded @ in the password: the host is after the last one (as libpq reads it).
        ("-x u=postgresql://u:p@ss@h/db", "-x u=postgresql://u:***@h/db"),
        ("mysql://u:a@b@c@h", "mysql://u:***@h"),
        ("the URL 'u:s3cret@h/db' cannot be parsed", "the URL 'u:***@h/db' cannot be parsed"),
        # In the query string.
        (
            "postgresql+asyncpg://app@db/app?password=s3cret&ssl=true",
            "postgresql+asyncpg://app@db/app?password=***&ssl=true",
        ),
        ("mysql+asyncmy://root@db/app?PASSWD=s3cret", "mysql+asyncmy://root@db/app?PASSWD=***"),
        ("postgresql://h/d?sslpassword=s3cret", "postgresql://h/d?sslpassword=***"),
        (  # an error message after the URL keeps its separator
            "postgresql://h/d?password=s3:c: database does not exist",
            "postgresql://h/d?password=***: database does not exist",
        ),
        ("postgresql://h/d?password=a:b", "postgresql://h/d?password=***"),
        # Not URLs: left alone.
        ("10:30 at noon, see a@b", "10:30 at noon, see a@b"),
        ("sqlite+aiosqlite:///C:/data/x.db", "sqlite+aiosqlite:///C:/data/x.db"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("url", "text", "masked"),
    [
        (
            "postgresql://u:a b@h/d",
            "to postgresql://u:a b@h/d: refused",
            "to postgresql://u:***@h/d: refused",
        ),
        ("mysql://u:p@s:s@h/d", "URL 'mysql://u:p@s:s@h/d' bad", "URL 'mysql://u:***@h/d' bad"),
        ("postgresql://u:x#y?z@h/d", "postgresql://u:x#y?z@h/d", "postgresql://u:***@h/d"),
        ("postgresql://u:p%40ss@h/d", "as given p:p@ss@h", "as given p:***@h"),  # decoded too
        ("mysql+asyncmy//u:pw@h/d", "mysql+asyncmy//u:pw@h/d", "mysql+asyncmy//u:***@h/d"),
    ],
)
def test_mask_url_hides_the_passwords_of_urls_read(url: str, text: str, masked: str) -> None:
    remember_password(url)
    assert mask_url(text) == masked


def test_expand_text_gives_outside_text_what_a_value_gets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A targets_file line: %(here)s, [DEFAULT] names, %%, ${VAR}; a lone % stays."""
    ini = write(
        tmp_path / "conf" / "amigrate.ini",
        """
        [DEFAULT]
        dbs = %(here)s/dbs

        [amigrate]
        script_location = m
        """,
    )
    monkeypatch.setenv("DB_PASSWORD", "pw")
    with warnings.catch_warnings():
        # [DEFAULT]'s names reach [amigrate] but are not unknown keys of it.
        warnings.simplefilter("error", ConfigWarning)
        config = load_config(ini)
    here = tmp_path / "conf"
    assert config.expand_text("a sqlite:///%(here)s/a.db", "f:1") == f"a sqlite:///{here}/a.db"
    assert config.expand_text("%(HERE)s %(__file__)s", "f:1") == f"{here} {ini}"
    assert config.expand_text("%(dbs)s/b.db", "f:1") == f"{here}/dbs/b.db"
    assert config.expand_text("u:${DB_PASSWORD}@h p%40ss 100%% $${x}", "f:1") == (
        "u:pw@h p%40ss 100% ${x}"
    )
    with pytest.raises(ConfigError, match=r"f:2: %\(nope\)s refers to 'nope'"):
        config.expand_text("%(nope)s", "f:2")
    with pytest.raises(MissingEnvironmentVariable, match="in 'f:3'"):
        config.expand_text("${AMIGRATE_TEST_UNSET}", "f:3")
    toml_only = Config.from_values({"script_location": "m"}, here=tmp_path)
    assert toml_only.expand_text("%(here)s", "f:1") == str(tmp_path)
    with pytest.raises(ConfigError, match="__file__"):
        toml_only.expand_text("%(__file__)s", "f:1")


@pytest.mark.parametrize(
    ("setting", "read", "match"),
    [
        ("version_table = 5", "version_table", "version_table = 5 is not text"),
        ('version_table = ["a", "b"]', "version_table", "version_table is a list"),
        ("version_table = {a = 1}", "version_table", "version_table is a table"),
        ("file_template = 5", "file_template", "file_template = 5 is not text"),
        ("truncate_slug_length = 4.5", "truncate_slug_length", "4.5 is not a whole number"),
        ("truncate_slug_length = true", "truncate_slug_length", "True is not a whole number"),
        ("truncate_slug_length = 0", "truncate_slug_length", "below 1"),
        ('history_table = "amigrate_version"', "history_table", "are both 'amigrate_version'"),
        ('path_separator = "bogus"\nversion_locations = "a;b"', "version_locations", "bogus"),
    ],
)
def test_values_of_the_wrong_kind_are_refused(
    tmp_path: Path, setting: str, read: str, match: str
) -> None:
    # They were taken as they came: tables named '5', 'a b' and "{'a': 1}", a slug cut
    # at 4 (4.5) or 1 (true), a folder 'a;b' that does not exist.
    write(tmp_path / "pyproject.toml", f"[tool.amigrate]\n{setting}\n")
    config = Config(toml_path=tmp_path / "pyproject.toml")

    def reading() -> object:
        return config.get_list(read) if read == "version_locations" else getattr(config, read)

    with pytest.raises(ConfigError, match=re.escape(match)):
        reading()


def test_a_negative_slug_length_in_the_ini_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "amigrate.ini", "[amigrate]\ntruncate_slug_length = -1\n")
    with pytest.raises(ConfigError, match="truncate_slug_length = -1 is below 1"):
        _ = Config(ini_path=tmp_path / "amigrate.ini").truncate_slug_length


def test_alembic_s_separator_line_with_its_comment(tmp_path: Path) -> None:
    # alembic init writes it so; a config section taken over from alembic.ini must work.
    write(
        tmp_path / "amigrate.ini",
        """
        [amigrate]
        version_path_separator = os  # Use os.pathsep. Default configuration used for new projects.
        version_locations = a{sep}b
        """.replace("{sep}", os.pathsep),
    )
    config = Config(ini_path=tmp_path / "amigrate.ini")
    assert config.get_list("version_locations") == ["a", "b"]


def test_a_path_object_is_text(tmp_path: Path) -> None:
    config = Config.from_values({"script_location": tmp_path / "migrations"}, here=tmp_path)
    assert config.get("script_location") == str(tmp_path / "migrations")


@pytest.mark.parametrize(
    "text",
    ["ghcr.io/acme/api:1.4@sha256:9f86d08", "see https://example.com/docs/a:b@c for more"],
)
def test_mask_url_leaves_text_that_is_no_url_alone(text: str) -> None:
    assert mask_url(text) == text


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # Alembic's legacy split of prepend_sys_path: commas, spaces and colons.
        ({"prepend_sys_path": ".:src"}, [".", "src"]),
        ({"prepend_sys_path": ". src, lib"}, [".", "src", "lib"]),
        # version_path_separator is for version_locations only (as Alembic reads it).
        ({"prepend_sys_path": ". src", "version_path_separator": "os"}, [".", "src"]),
        ({"prepend_sys_path": ". src", "version_path_separator": ";"}, [".", "src"]),
        # path_separator (Alembic 1.16's) is for both.
        ({"prepend_sys_path": "a;b c", "path_separator": ";"}, ["a", "b c"]),
    ],
)
def test_prepend_sys_path_is_split_as_alembic_splits_it(
    tmp_path: Path, values: dict[str, str], expected: list[str]
) -> None:
    """'.:src' failed with 'unexpected ImportError' (read as a package:folder location),
    and with version_path_separator = os '. src' was one folder."""
    config = Config.from_values({"script_location": "m", **values}, here=tmp_path)
    assert config.prepend_sys_path == [tmp_path / p for p in expected]
