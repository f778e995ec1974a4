"""``amigrate init`` for every template, and ``list-templates``."""

from __future__ import annotations

import ast
import importlib.util
import json
import tomllib
from pathlib import Path

import pytest
from mako.template import Template

from amigrate.config import load_config
from amigrate.scripts.templates import list_templates
from tests.helpers import assert_clean_error, run_cli

TEMPLATES = ("generic", "pyproject", "async", "multidb")


def test_list_templates_names_each_with_a_description() -> None:
    result = run_cli("list-templates")
    assert result.code == 0, result
    for name in TEMPLATES:
        line = next(line for line in result.out.splitlines() if line.strip().startswith(name))
        assert len(line.split(None, 1)[1]) > 20
    data = json.loads(run_cli("--json", "list-templates").out)
    assert sorted(t["name"] for t in data) == sorted(TEMPLATES)


def render_revision(script_location: Path, config_path: Path | None = None) -> str:
    config = load_config(*(p for p in [config_path] if p))
    template = Template(filename=str(script_location / "script.py.mako"))
    text: str = template.render_unicode(
        message="create account",
        up_revision="3512b954651e",
        down_revision=("2b1ae634e5cd", "9c0f2a1b7d3e"),
        branch_labels=None,
        depends_on=None,
        create_date="2026-02-24 12:00:00.000000",
        imports="",
        upgrades="",
        downgrades="",
        config=config,
    )
    return text


@pytest.mark.parametrize("template", TEMPLATES)
def test_init_creates_a_complete_environment(tmp_path: Path, template: str) -> None:
    result = run_cli("init", "migrations", "-t", template, cwd=tmp_path)
    assert result.code == 0, result
    env = tmp_path / "migrations"
    for name in ("env.py", "script.py.mako", "README"):
        assert (env / name).is_file(), name
    assert (env / "versions").is_dir()
    assert not list((env / "versions").iterdir())
    assert (tmp_path / "amigrate.ini").is_file()
    assert not list(env.glob("*.template"))

    config = load_config(tmp_path / "amigrate.ini")
    assert config.script_location == env
    if template == "multidb":
        assert config.get_list("databases") == ["main", "analytics"]
        assert config.get_section("main")["sqlalchemy.url"].startswith("sqlite+aiosqlite:///")
    else:
        assert config.url == f"sqlite+aiosqlite:///{tmp_path}/app.db"
    if template == "pyproject":
        assert config.toml_path == tmp_path / "pyproject.toml"
        assert "\nscript_location" not in (tmp_path / "amigrate.ini").read_text()

    # env.py imports cleanly and documents its hooks
    spec = importlib.util.spec_from_file_location(f"env_{template}", env / "env.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert hasattr(module, "target_metadata")
    assert module.__doc__

    # script.py.mako renders the revision shape of DESIGN.md
    source = render_revision(env, tmp_path / "amigrate.ini")
    tree = ast.parse(source)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.AsyncFunctionDef)}
    expected = (
        {"upgrade_main", "downgrade_main", "upgrade_analytics", "downgrade_analytics"}
        if template == "multidb"
        else {"upgrade", "downgrade"}
    )
    assert set(functions) == expected
    assert all(fn.args.args[0].arg == "op" for fn in functions.values())
    assert (
        'down_revision: str | tuple[str, ...] | None = ("2b1ae634e5cd", "9c0f2a1b7d3e")' in source
    )
    assert "Revises: 2b1ae634e5cd, 9c0f2a1b7d3e" in source


def test_package_flag(tmp_path: Path) -> None:
    assert run_cli("init", "--package", "db/migrations", cwd=tmp_path).code == 0
    assert (tmp_path / "db" / "migrations" / "__init__.py").is_file()
    assert (tmp_path / "db" / "migrations" / "versions" / "__init__.py").is_file()
    assert "script_location = %(here)s/db/migrations" in (tmp_path / "amigrate.ini").read_text()


def test_config_path_from_c(tmp_path: Path) -> None:
    result = run_cli("-c", "deploy/dev.ini", "init", "migrations", cwd=tmp_path)
    assert result.code == 0, result
    text = (tmp_path / "deploy" / "dev.ini").read_text()
    # From the ini file's folder, so that a clone elsewhere finds it (it was absolute).
    assert "script_location = %(here)s/../migrations" in text
    config = load_config(tmp_path / "deploy" / "dev.ini")
    assert config.script_location == tmp_path / "migrations"


@pytest.mark.parametrize("template", ["generic", "pyproject"])
@pytest.mark.parametrize("name", ["mig%s", 'mig"x', "mig\\tx", "mig${HOME}", "mig %%(here)s"])
def test_any_folder_name_reads_back(tmp_path: Path, template: str, name: str) -> None:
    """The folder's name is written as a config value that reads back as itself: '%' and
    '${' escaped, and in TOML a quote and a backslash (init wrote what the next command
    could not read)."""
    result = run_cli("init", name, "-t", template, cwd=tmp_path)
    assert result.code == 0, result
    assert load_config(tmp_path / "amigrate.ini").script_location == tmp_path / name
    revision = run_cli("revision", "-m", "first", cwd=tmp_path)
    assert revision.code == 0, revision


def test_a_config_folder_with_a_percent_sign(tmp_path: Path) -> None:
    """%(here)s in a folder whose path holds '%' (it was read as a stray '%')."""
    folder = tmp_path / "pc%t"
    folder.mkdir()
    assert run_cli("init", "migrations", cwd=folder).code == 0
    for command in (("revision", "-m", "x"), ("upgrade", "head"), ("current",)):
        result = run_cli(*command, cwd=folder)
        assert result.code == 0, result
    assert (folder / "app.db").is_file()


def test_an_existing_pyproject_that_would_break_is_left_alone(tmp_path: Path) -> None:
    """A root 'tool = {...}' inline table cannot take a [tool.amigrate] table: init refuses
    before writing anything (it appended one, and the file no longer parsed)."""
    original = "tool = {ruff = {line-length = 100}}\n"
    (tmp_path / "pyproject.toml").write_text(original)
    result = run_cli("init", "migrations", "-t", "pyproject", cwd=tmp_path)
    assert_clean_error(result, match="would not be valid TOML")
    assert (tmp_path / "pyproject.toml").read_text() == original
    assert not (tmp_path / "migrations").exists()
    assert not (tmp_path / "amigrate.ini").exists()


def test_pyproject_template_appends_to_an_existing_file(tmp_path: Path) -> None:
    original = '[project]\nname = "app"\nversion = "1"\n\n[tool.ruff]\nline-length = 88\n'
    (tmp_path / "pyproject.toml").write_text(original)
    assert run_cli("init", "migrations", "-t", "pyproject", cwd=tmp_path).code == 0
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(original)
    data = tomllib.loads(text)
    assert data["project"] == {"name": "app", "version": "1"}
    assert data["tool"]["ruff"] == {"line-length": 88}
    assert data["tool"]["amigrate"]["script_location"] == "%(here)s/migrations"
    # a second pyproject init refuses, and writes nothing
    result = run_cli("-c", "second.ini", "init", "other", "-t", "pyproject", cwd=tmp_path)
    assert_clean_error(result, match="already has a [tool.amigrate] table")
    assert not (tmp_path / "other").exists()
    assert not (tmp_path / "second.ini").exists()


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "keep.txt").write_text("mine")
    result = run_cli("init", "migrations", cwd=tmp_path)
    assert_clean_error(result, match="already exists and is not empty")
    assert not (tmp_path / "amigrate.ini").exists()
    assert [p.name for p in (tmp_path / "migrations").iterdir()] == ["keep.txt"]


def test_init_into_an_empty_existing_folder(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    assert run_cli("init", "migrations", cwd=tmp_path).code == 0


def test_init_never_overwrites_the_ini(tmp_path: Path) -> None:
    (tmp_path / "amigrate.ini").write_text("[amigrate]\n# mine\n")
    result = run_cli("init", "migrations", cwd=tmp_path)
    assert_clean_error(result, match="amigrate.ini already exists")
    assert (tmp_path / "amigrate.ini").read_text() == "[amigrate]\n# mine\n"
    assert not (tmp_path / "migrations").exists()


def test_unknown_template(tmp_path: Path) -> None:
    result = run_cli("init", "migrations", "-t", "flask", cwd=tmp_path)
    assert_clean_error(result, match="no template named 'flask'")
    assert "generic" in result.err
    assert not (tmp_path / "migrations").exists()


def test_templates_have_readme_descriptions() -> None:
    infos = list_templates()
    assert infos[0].name == "generic"
    assert {i.name for i in infos} == set(TEMPLATES)


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_inis_logging_formats_records(tmp_path: Path, template: str) -> None:
    # logging.config.fileConfig reads ``format`` and ``datefmt`` raw (no %% escapes).
    assert run_cli("init", "migrations", "-t", template, cwd=tmp_path).code == 0
    assert run_cli("revision", "-m", "first", cwd=tmp_path).code == 0
    result = run_cli("-v", "upgrade", "head", cwd=tmp_path)
    assert result.code == 0, result
    logged = [line for line in result.err.splitlines() if "[amigrate" in line]
    assert logged, result.err
    assert all(line.startswith("INFO  [amigrate.") for line in logged), logged
    assert "%(" not in result.err


def test_broken_pyproject_is_reported_by_discovery(tmp_path: Path) -> None:
    assert run_cli("init", "-t", "pyproject", "migrations", cwd=tmp_path).code == 0
    with (tmp_path / "pyproject.toml").open("a") as fh:
        fh.write("oops = [\n")
    assert_clean_error(run_cli("heads", cwd=tmp_path), match="pyproject.toml is not valid TOML")


@pytest.mark.parametrize(
    "args", [("init", "afile/sub"), ("-c", "afile/amigrate.ini", "init", "migrations")]
)
def test_init_below_a_file(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "afile").write_text("")
    result = run_cli(*args, cwd=tmp_path)
    assert_clean_error(result, match="afile is a file, not a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_next_step_names_the_config_and_an_extended_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    result = run_cli("-c", "sub/other.ini", "init", "other", "-t", "pyproject", cwd=tmp_path)
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert "created sub/other.ini" in lines
    # the pyproject.toml beside sub/other.ini is new; ./pyproject.toml is left alone
    assert "created sub/pyproject.toml" in lines
    assert lines[-1].endswith("then run 'amigrate -c sub/other.ini revision -m \"...\"'.")
    assert run_cli("-c", "sub/other.ini", "revision", "-m", "one", cwd=tmp_path).code == 0
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "pyproject.toml").write_text('[project]\nname = "app"\n')
    result = run_cli("init", "migrations", "-t", "pyproject", cwd=plain)
    assert result.code == 0, result
    assert "added [tool.amigrate] to pyproject.toml" in result.out.splitlines()
    assert "created pyproject.toml" not in result.out
    assert result.out.splitlines()[-1].endswith("then run 'amigrate revision -m \"...\"'.")


def test_the_config_named_by_c_toml_or_amigrate_config(tmp_path: Path) -> None:
    """init writes the config where the other commands will look: a pyproject.toml named
    with -c, or the file $AMIGRATE_CONFIG names (both were written into ./ instead)."""
    result = run_cli("-c", "sub/pyproject.toml", "init", "-t", "pyproject", "mig", cwd=tmp_path)
    assert result.code == 0, result
    assert (tmp_path / "sub" / "pyproject.toml").is_file()
    assert (tmp_path / "sub" / "amigrate.ini").is_file()
    assert not (tmp_path / "pyproject.toml").exists()
    assert result.out.splitlines()[-1].endswith(
        "'amigrate -c sub/amigrate.ini revision -m \"...\"'."
    )
    assert run_cli("-c", "sub/amigrate.ini", "revision", "-m", "one", cwd=tmp_path).code == 0

    env = {"AMIGRATE_CONFIG": "conf/dev.ini"}
    result = run_cli("init", "migrations", cwd=tmp_path, env=env)
    assert result.code == 0, result
    assert (tmp_path / "conf" / "dev.ini").is_file()
    assert result.out.splitlines()[-1].endswith("then run 'amigrate revision -m \"...\"'.")
    assert run_cli("revision", "-m", "two", cwd=tmp_path, env=env).code == 0


def test_a_toml_config_for_an_ini_template_is_refused(tmp_path: Path) -> None:
    result = run_cli("-c", "pyproject.toml", "init", "migrations", cwd=tmp_path)
    assert_clean_error(result, match="the generic template writes an ini file")
    result = run_cli("-c", "x.toml", "init", "-t", "pyproject", "migrations", cwd=tmp_path)
    assert_clean_error(result, match="init writes pyproject.toml beside the ini file")
    assert sorted(tmp_path.iterdir()) == []
