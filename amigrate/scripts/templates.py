"""Environment templates (``amigrate list-templates``) and ``amigrate init``.

A template is a folder under ``templates/`` (shipped inside the wheel as
``amigrate/templates``). ``generic`` is complete; the others hold only the
files in which they differ and take the rest from ``generic``. Files named
``*.template`` are config files: they are written beside the config (not into
the environment) with ``{{ name }}`` placeholders filled in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from amigrate.errors import CommandError, ConfigError

__all__ = ["InitResult", "TemplateInfo", "init_environment", "list_templates", "templates_root"]

BASE_TEMPLATE = "generic"
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class TemplateInfo:
    """One template: its name, the first line of its README, and its folder."""

    name: str
    description: str
    path: Path


@dataclass(frozen=True)
class InitResult:
    """What ``init`` created: the environment folder and every file it wrote."""

    directory: Path
    config_files: tuple[Path, ...]
    files: tuple[Path, ...]
    #: Config files that existed and were added to (pyproject.toml's [tool.amigrate]).
    extended: tuple[Path, ...] = ()


def templates_root() -> Path:
    """The folder holding the templates: inside the package when installed, else the checkout's."""
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (package_dir / "templates", package_dir.parent / "templates"):
        if (candidate / BASE_TEMPLATE).is_dir():
            return candidate
    raise CommandError(
        "amigrate's templates are missing from this installation",
        hint="reinstall amigrate (pip install --force-reinstall amigrate)",
    )


def list_templates() -> list[TemplateInfo]:
    """Every available template, ``generic`` first."""
    root = templates_root()
    infos = []
    for path in sorted(p for p in root.iterdir() if p.is_dir() and (p / "README").is_file()):
        first = (path / "README").read_text(encoding="utf-8").strip().splitlines()[0]
        infos.append(TemplateInfo(path.name, first.strip(), path))
    infos.sort(key=lambda info: (info.name != BASE_TEMPLATE, info.name))
    return infos


def _template_files(template: TemplateInfo) -> dict[str, Path]:
    """Relative name -> source file, the template's own files over generic's."""
    files: dict[str, Path] = {}
    for folder in (templates_root() / BASE_TEMPLATE, template.path):
        for source in folder.rglob("*"):
            if source.is_file() and "__pycache__" not in source.parts:
                files[source.relative_to(folder).as_posix()] = source
    return files


def _render(text: str, values: dict[str, str], source: Path) -> str:
    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:  # a template bug, not a user error
            raise KeyError(f"{source}: unknown placeholder {key!r}")
        return values[key]

    return _PLACEHOLDER.sub(fill, text)


def _script_location_value(directory: Path, config_dir: Path) -> str:
    """Where the environment is, as a config value: from the config file's folder
    (``%(here)s/../migrations`` too, so the project can move), the path's own ``%`` and
    ``${`` escaped (they would be read as a reference)."""
    try:
        relative = Path(os.path.relpath(directory, config_dir)).as_posix()
    except ValueError:  # another drive
        return _literal(directory.as_posix())
    return "%(here)s" if relative == "." else "%(here)s/" + _literal(relative)


def _literal(text: str) -> str:
    """*text* as a config value that reads back as itself (see ``Config``)."""
    return text.replace("%", "%%").replace("${", "$${")


def _toml_string(text: str) -> str:
    """*text* as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _pyproject_text(source: Path, values: dict[str, str], existing: str) -> str:
    """The pyproject.toml to write: *existing* (if any) with the ``[tool.amigrate]`` table."""
    toml_values = {key: _toml_string(value) for key, value in values.items()}
    section = _render(source.read_text(encoding="utf-8"), toml_values, source)
    if not existing:
        return section
    separator = "" if existing.endswith("\n") else "\n"
    return existing + separator + "\n" + section


def _check_pyproject(text: str, path: Path, *, extending: bool) -> None:
    """Refuse, before writing anything, a pyproject.toml that would not read back."""
    try:
        tool = tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError as exc:
        if not extending:  # the template's own text: amigrate's bug
            raise
        raise CommandError(
            f"cannot add a [tool.amigrate] table to {path}: the file would not be valid TOML "
            f"({exc})",
            hint="add the table by hand (see docs/configuration.md), or use the generic template",
        ) from None
    assert isinstance(tool.get("amigrate"), dict), "the template has a [tool.amigrate] table"


def _check_creatable(folder: Path) -> None:
    """Refuse a folder that cannot be made because something on its path is a file."""
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise CommandError(
                    f"cannot create {folder}: {parent} is a file, not a folder",
                    hint="choose a folder path whose parents are folders",
                )
            return


def init_environment(
    directory: str | os.PathLike[str],
    template: str = BASE_TEMPLATE,
    *,
    config_dir: str | os.PathLike[str] | None = None,
    ini_name: str = "amigrate.ini",
    package: bool = False,
) -> InitResult:
    """Create a migration environment in *directory* from *template*.

    The config file(s) go into *config_dir* (default: the current folder).
    Refuses, before writing anything, a *directory* that exists and is not
    empty, an existing ini file, and (pyproject template) a pyproject.toml
    that already has ``[tool.amigrate]``. With *package*, ``__init__.py``
    files make the environment and ``versions/`` importable packages.
    """
    by_name = {info.name: info for info in list_templates()}
    if template not in by_name:
        raise CommandError(
            f"no template named {template!r}",
            hint=f"choose one of: {', '.join(by_name)} (see 'amigrate list-templates')",
        )
    info = by_name[template]
    target = Path(directory).expanduser().resolve()
    conf_dir = Path(config_dir).expanduser().resolve() if config_dir else Path.cwd()
    ini_path = conf_dir / ini_name
    toml_path = conf_dir / "pyproject.toml"
    files = _template_files(info)

    for folder in (target, conf_dir):
        _check_creatable(folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CommandError(
            f"{target} already exists and is not empty",
            hint="choose a new folder name, or empty this one first",
        )
    if ini_path.exists():
        raise CommandError(
            f"{ini_path} already exists; init never overwrites it",
            hint="move it away, or write the new one elsewhere with -c PATH",
        )
    existing_toml = ""
    if "pyproject.toml.template" in files and toml_path.exists():
        existing_toml = toml_path.read_text(encoding="utf-8")
        try:
            parsed = tomllib.loads(existing_toml)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{toml_path} is not valid TOML: {exc}", hint="fix it before running init"
            ) from exc
        if "amigrate" in parsed.get("tool", {}):
            raise CommandError(
                f"{toml_path} already has a [tool.amigrate] table",
                hint="remove it first, or use another template",
            )

    values = {
        "script_location": _script_location_value(target, conf_dir),
        "database_file": "app.db",
    }
    toml_text = None
    if "pyproject.toml.template" in files:
        toml_text = _pyproject_text(files["pyproject.toml.template"], values, existing_toml)
        _check_pyproject(toml_text, toml_path, extending=bool(existing_toml))
    written: list[Path] = []
    config_files: list[Path] = []
    extended: list[Path] = []
    target.mkdir(parents=True, exist_ok=True)
    (target / "versions").mkdir(exist_ok=True)
    for name, source in sorted(files.items()):
        if name == "amigrate.ini.template":
            ini_path.parent.mkdir(parents=True, exist_ok=True)
            ini_path.write_text(
                _render(source.read_text(encoding="utf-8"), values, source), encoding="utf-8"
            )
            config_files.append(ini_path)
        elif name == "pyproject.toml.template":
            assert toml_text is not None
            if existing_toml:
                extended.append(toml_path)
            toml_path.write_text(toml_text, encoding="utf-8")
            config_files.append(toml_path)
        else:
            dest = target / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            written.append(dest)
    if package:
        for folder in (target, target / "versions"):
            init_file = folder / "__init__.py"
            init_file.touch()
            written.append(init_file)
    return InitResult(target, tuple(config_files), tuple(written), tuple(extended))
