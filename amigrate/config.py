"""Configuration: ``amigrate.ini`` and ``[tool.amigrate]`` in pyproject.toml.

The ini file is read the way Alembic reads ``alembic.ini``: one section
(``[amigrate]``, or the one named by ``-n``), ``%(here)s`` is the file's folder
and a literal ``%`` is written ``%%``. Source settings may instead live in
``[tool.amigrate]`` of pyproject.toml (lists as TOML arrays); a key is looked up
in the ini section first, then in ``[tool.amigrate]``.

Any value may reference environment variables as ``${NAME}`` or
``${NAME:-default}`` (``$${`` is a literal ``${``). References are expanded when
a value is read, so a command that never needs the URL never needs its
variable.
"""

from __future__ import annotations

import configparser
import copy
import difflib
import importlib.util
import os
import re
import sys
import tomllib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

from .errors import ConfigError, ConfigWarning, MissingEnvironmentVariable

__all__ = [
    "KNOWN_KEYS",
    "Config",
    "find_config_files",
    "load_config",
    "mask_url",
]

DEFAULT_SECTION: Final = "amigrate"

#: Every key amigrate reads from ``[amigrate]`` / ``[tool.amigrate]``. Keys that
#: start with ``sqlalchemy.`` are engine options and are always accepted.
KNOWN_KEYS: Final = frozenset(
    {
        # Alembic's keys
        "script_location",
        "version_locations",
        "version_path_separator",
        "path_separator",
        "file_template",
        "truncate_slug_length",
        "timezone",
        "prepend_sys_path",
        "recursive_version_locations",
        "output_encoding",
        "revision_environment",
        "sourceless",
        "post_write_hooks",
        "sqlalchemy.url",
        # amigrate's own
        "version_table",
        "version_table_schema",
        "history_table",
        "transaction_per_migration",
        "lock_timeout",
        "validate_on_upgrade",
        "databases",
        "targets",
        "targets_file",
        "concurrency",
    }
)

_ENV_REF = re.compile(r"\$(\$)?\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
# ConfigParser puts its defaults into every section; they are not settings.
_INI_DEFAULTS = ("here", "__file__")
_TOML_PERCENT = re.compile(r"%%|%\(here\)s")
# ``%(name)s`` or ``%%`` in text expanded outside ConfigParser (see Config.expand_text).
_PERCENT_REF = re.compile(r"%%|%\(([^)]+)\)s")


# ``user:password@`` after a scheme (also a mistyped one, ``scheme:/`` or ``scheme//``),
# or where a URL without one starts (the text's start, a space, a quote): ``u:pw@host/db``
# is what a user who forgot the scheme types.
_USERINFO_PASSWORD = re.compile(
    r"""((?:[\w+.-]+(?::/{1,2}|//)|^|(?<=[\s'"(=]))[^:/?#@\s'"]*:)[^/?#\s]*@"""
)
# A password given as a query parameter (``?password=...``), which drivers accept too.
# It ends before ``&``, ``#``, a space or a quote, and before the ``: `` that joins an
# error message to the URL.
_QUERY_PASSWORD = re.compile(
    r"([?&](?:ssl)?(?:password|passwd|pwd)=)[^&#\s'\"]*?(?=:\s|[&#\s'\"]|:?$)", re.IGNORECASE
)


#: The passwords of the URLs this process has read (see :func:`remember_password`).
_PASSWORDS: set[str] = set()
_SCHEME = re.compile(r"\s*[\w+.-]+(?::/{0,2}|//)")


def remember_password(url: str) -> None:
    """Note the password of *url*, a URL amigrate is about to use, so that
    :func:`mask_url` hides it wherever it appears, whatever characters it holds (a
    space, ``/``, ``#``, an ``@``: a pattern cannot tell where such a password ends)."""
    found = _SCHEME.match(url)
    rest = url[found.end() :] if found else url
    at = rest.rfind("@")  # the host follows the last one
    _, colon, password = rest[: max(at, 0)].partition(":")
    if colon and password:
        _PASSWORDS.update({password, unquote(password)})


def mask_url(url: str) -> str:
    """Return *url* (or a text holding URLs) with every password replaced by ``***``.

    For output and logs: the password of ``user:password@`` (with or without a
    scheme) and of a ``password=`` query parameter, and every password of a URL
    this process has read (:func:`remember_password`).
    """
    for password in sorted(_PASSWORDS, key=len, reverse=True):
        url = url.replace(f":{password}@", ":***@")
    return _QUERY_PASSWORD.sub(r"\1***", _USERINFO_PASSWORD.sub(r"\1***@", url))


def _expand_env(value: str, key: str, environ: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        escaped, body = match.group(1), match.group(2)
        if escaped:
            return "${" + body + "}"
        name, sep, default = body.partition(":-")
        if not _ENV_NAME.fullmatch(name):
            raise ConfigError(
                f"{key}: ${{{body}}} is not a valid environment variable reference",
                hint="write ${NAME} or ${NAME:-default}; write $${ for a literal ${",
            )
        if name in environ and (environ[name] or not sep):
            return environ[name]
        if sep:
            return default
        raise MissingEnvironmentVariable(name, key=key)

    return _ENV_REF.sub(substitute, value)


def refers_to(value: Any, name: str) -> bool:
    """Whether *value* (a string, or lists and tables of them) refers to ``${name}``."""
    if isinstance(value, str):
        refs = _ENV_REF.finditer(value)
        return any(not m.group(1) and m.group(2).partition(":-")[0] == name for m in refs)
    if isinstance(value, list):
        return any(refers_to(item, name) for item in value)
    if isinstance(value, dict):
        return any(refers_to(item, name) for item in value.values())
    return False


#: Keys whose value is one piece of text (a list or a table there is a mistake).
_TEXT_KEYS = frozenset(
    {
        "script_location",
        "file_template",
        "timezone",
        "output_encoding",
        "version_table",
        "version_table_schema",
        "history_table",
        "targets_file",
        "path_separator",
        "version_path_separator",
        "sqlalchemy.url",
    }
)
_SEPARATORS = ("os", ":", ";", "colon", "semicolon", "newline", "space")


def _split_paths(value: str, separator: str | None, *, colons: bool = False) -> list[str]:
    if separator:
        # Alembic's template writes 'version_path_separator = os  # Use os.pathsep. ...'.
        separator = re.split(r"\s+[#;]", separator, maxsplit=1)[0].strip()
    if separator and separator not in _SEPARATORS:
        raise ConfigError(
            f"path_separator = {separator!r} is not a separator amigrate knows",
            hint=f"write one of: {', '.join(_SEPARATORS)}",
        )
    seps = {"os": os.pathsep, ":": ":", ";": ";", "colon": ":", "semicolon": ";"}
    if separator in seps:
        parts = value.split(seps[separator])
    elif separator == "newline":
        parts = value.splitlines()
    elif colons:  # (not a Windows drive's colon: C:\\src)
        parts = re.split(r"[,\s]+|(?<!^[A-Za-z])(?<![,\s:][A-Za-z]):", value)
    else:  # Alembic's legacy default (and "space"): commas and/or whitespace
        parts = re.split(r"[,\s]+", value)
    return [part.strip() for part in parts if part.strip()]


def _nearest(key: str, cutoff: float = 0.6) -> str | None:
    match = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1, cutoff=cutoff)
    return match[0] if match else None


class Config:
    """amigrate's configuration for one environment.

    Build it with :func:`load_config` (from files) or :meth:`Config.from_values`
    (from a mapping, for tests and applications that keep no config file).
    Values are looked up in the overrides set with :meth:`set`, then the ini
    section, then ``[tool.amigrate]``. ``x_args`` holds the ``-x key=value``
    pairs; ``attributes`` is a free dict for an application to pass objects to
    its env.py.
    """

    def __init__(
        self,
        *,
        ini_path: Path | None = None,
        toml_path: Path | None = None,
        section: str = DEFAULT_SECTION,
        url: str | None = None,
        x_args: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        here: Path | None = None,
    ) -> None:
        self.ini_path = ini_path.resolve() if ini_path else None
        self.toml_path = toml_path.resolve() if toml_path else None
        self.section = section
        self.x_args: dict[str, str] = dict(x_args or {})
        self.attributes: dict[str, Any] = {}
        self._url = url
        self._overrides: dict[str, Any] = dict(values or {})
        self._ini: configparser.ConfigParser | None = None
        self._ini_values: dict[str, str] = {}
        self._ini_inherited: set[str] = set()
        self._toml_values: dict[str, Any] = {}
        self._toml_named = False  # -n NAME found [tool.amigrate.NAME]
        if here is not None:
            self.here = here.resolve()
        elif self.ini_path:
            self.here = self.ini_path.parent
        elif self.toml_path:
            self.here = self.toml_path.parent
        else:
            self.here = Path.cwd()
        if self.ini_path:
            self._read_ini(self.ini_path)
        if self.toml_path:
            self._read_toml(self.toml_path)
        if (
            self.ini_path
            and section != DEFAULT_SECTION
            and not self._has_ini_section
            and not self._toml_named
        ):
            raise ConfigError(
                f"{self.ini_path} has no [{section}] section",
                hint=f"add a [{section}] section, or choose another with -n/--name",
            )
        if (self.ini_path or self.toml_path) and not (self._has_ini_section or self._toml_values):
            missing = f"[{section}] section" if self.ini_path else "[tool.amigrate] table"
            hint = "run 'amigrate init DIR' to create one, or pass the right file with -c"
            if "alembic" in self.sections():
                hint = "it is Alembic's: read its [alembic] section with -n alembic"
            elif (
                self.toml_path
                and not self.ini_path
                and _has_tool_section(self.toml_path, "alembic")
            ):
                hint = _RENAME_ALEMBIC
            raise ConfigError(
                f"no {missing} in {self.ini_path or self.toml_path}"
                + (" and no [tool.amigrate] table" if self.ini_path and not self.toml_path else ""),
                hint=hint,
            )
        self._warn_unknown_keys()

    # -- construction ---------------------------------------------------------------

    @classmethod
    def from_values(
        cls,
        values: Mapping[str, Any],
        *,
        here: str | os.PathLike[str] | None = None,
        url: str | None = None,
        x_args: Mapping[str, str] | None = None,
    ) -> Config:
        """A config from a mapping (``{"script_location": "migrations", ...}``), no file."""
        return cls(values=values, here=Path(here) if here else None, url=url, x_args=x_args)

    def _read_ini(self, path: Path) -> None:
        # Interpolation reads a default as an ini value: a folder's own '%' must be doubled.
        here, file = (str(p).replace("%", "%%") for p in (path.parent, path))
        parser = configparser.ConfigParser(defaults={"here": here, "__file__": file})
        try:
            with path.open(encoding="utf-8-sig") as fh:  # (as Notepad saves it, with a BOM)
                parser.read_file(fh)
        except OSError as exc:
            raise ConfigError(
                f"cannot read {path}: {exc.strerror}", hint="check the file's permissions"
            ) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path} is not UTF-8 text", hint="save it as UTF-8") from exc
        except configparser.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise ConfigError(
                f"{path} is not a valid ini file: {first}",
                hint="each setting is 'key = value' under a [section] header",
            ) from exc
        self._ini = parser
        if parser.has_section(self.section):
            for key in parser.options(self.section):
                if key in _INI_DEFAULTS:
                    continue
                # Raw here; %(...)s is applied when the value is read, so a bad
                # '%' in a key breaks only the commands that use that key.
                self._ini_values[key] = parser.get(self.section, key, raw=True)
            # [DEFAULT]'s names (for %(name)s) reach every section: not unknown keys here.
            self._ini_inherited = set(parser.defaults())

    def _ini_get(self, section: str, key: str) -> str:
        """A value of the ini file with ``%(name)s`` applied.

        Errors never quote the value: it may be a URL with a password in it.
        """
        assert self._ini is not None
        where = f"{self.ini_path} [{section}] {key}"
        try:
            return self._ini.get(section, key)
        except configparser.InterpolationMissingOptionError as exc:
            raise ConfigError(
                f"{where}: %({exc.reference})s refers to {exc.reference!r}, "
                f"which is not a key of [{section}]",
                hint=f"define {exc.reference} in [{section}] (or [DEFAULT]), or fix the "
                "reference; %(here)s is the ini file's folder, and a literal '%' is written '%%'",
            ) from None
        except configparser.InterpolationSyntaxError:
            raise ConfigError(
                f"{where}: a '%' that is not followed by '%' or '('",
                hint="a literal '%' is written '%%' in the ini file (p%40ss -> p%%40ss)",
            ) from None
        except configparser.InterpolationDepthError:
            raise ConfigError(
                f"{where}: its %(...)s references go too deep (does a key refer to itself?)",
                hint="fix the %(name)s references in the ini file",
            ) from None
        except configparser.Error as exc:  # pragma: no cover - the errors above are all
            raise ConfigError(f"{where}: {type(exc).__name__}") from None

    def _read_toml(self, path: Path) -> None:
        data = _load_toml(path)
        tool = data.get("tool", {})
        section = tool.get("amigrate", {}) if isinstance(tool, dict) else {}
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: [tool.amigrate] must be a table")
        here = str(path.parent)

        def with_here(value: Any) -> Any:
            if isinstance(value, str):
                # Alembic's [tool.alembic] needs a doubled % ("%%(rev)s", "p%%40ss"); a
                # single one is read as written.
                return _TOML_PERCENT.sub(lambda m: "%" if m[0] == "%%" else here, value)
            if isinstance(value, list):
                return [with_here(item) for item in value]
            if isinstance(value, dict):
                return {k: with_here(v) for k, v in value.items()}
            return value

        if self.section != DEFAULT_SECTION:
            # -n NAME: the table [tool.amigrate.NAME], over the settings of
            # [tool.amigrate] it does not give itself (with an ini file, its [NAME]
            # section comes first, as [amigrate] does).
            named = section.get(self.section)
            if isinstance(named, dict):
                section = {k: v for k, v in section.items() if k != self.section} | named
                self._toml_named = True
            elif self.ini_path is None:
                raise ConfigError(
                    f"{path} has no [tool.amigrate.{self.section}] table",
                    hint=f"add a [tool.amigrate.{self.section}] table, or choose another "
                    "with -n/--name",
                )
        self._toml_values = {key: with_here(value) for key, value in section.items()}

    @property
    def _has_ini_section(self) -> bool:
        return self._ini is not None and self._ini.has_section(self.section)

    def _warn_unknown_keys(self) -> None:
        sources = [
            (f"[{self.section}] of {self.ini_path}", self._ini_values),
            (f"[tool.amigrate] of {self.toml_path}", self._toml_values),
        ]
        for where, values in sources:
            for key in values:
                if key in KNOWN_KEYS or key.startswith("sqlalchemy."):
                    continue
                if values is self._ini_values and key in self._ini_inherited:
                    continue
                if self._is_multidb_key(key):
                    continue
                if values is self._toml_values and isinstance(values[key], dict):
                    if key == "sqlalchemy" or any(f"{key}.{k}" in KNOWN_KEYS for k in values[key]):
                        dotted = next(iter(values[key]), "url")
                        warnings.warn(
                            f"{key}.{dotted} in {where} is read as a table {key!r}: quote the "
                            f'key in TOML, "{key}.{dotted}" = ...',
                            ConfigWarning,
                            stacklevel=3,
                        )
                        continue
                    if not _nearest(key, cutoff=0.85):
                        # settings for -n NAME (tests, staging), as an ini file's other
                        # sections; a near miss of a setting's name (databses) is a typo
                        continue
                near = _nearest(key)
                advice = f"did you mean {near!r}?" if near else "see docs/configuration.md"
                warnings.warn(
                    f"unknown key {key!r} in {where}; {advice}", ConfigWarning, stacklevel=3
                )

    def _is_multidb_key(self, key: str) -> bool:
        # multidb projects may put per-database settings in the main section
        # as "<database>.sqlalchemy.url", or in pyproject.toml as a table of their own.
        prefix, _, rest = key.partition(".")
        if isinstance(self._toml_values.get(key), dict):
            return key in self.get_list("databases")
        return bool(rest) and prefix in self.get_list("databases")

    # -- reading values -------------------------------------------------------------

    def _raw(self, key: str) -> Any:
        if key in self._overrides:
            return self._overrides[key]
        if key in self._ini_values:
            return self._ini_get(self.section, key)
        return self._toml_values.get(key)

    def _expand(self, value: Any, key: str) -> Any:
        if isinstance(value, str):
            return _expand_env(value, key, os.environ)
        if isinstance(value, list):
            return [self._expand(item, key) for item in value]
        if isinstance(value, dict):
            return {k: self._expand(v, f"{key}.{k}") for k, v in value.items()}
        return value

    def __contains__(self, key: str) -> bool:
        return self._raw(key) is not None

    def keys(self) -> list[str]:
        """Every key set in any layer, sorted."""
        return sorted({*self._overrides, *self._ini_values, *self._toml_values})

    def derive(self, overrides: Mapping[str, Any], *, url: str | None = None) -> Config:
        """A copy of this config with *overrides* on top (one database of several).

        *url*: that database's URL, which the copy's :attr:`url` then returns (over
        ``--url`` and ``$AMIGRATE_URL``), so env.py's ``create_engine(config)`` hook
        connects to it.
        """
        clone = copy.copy(self)
        clone._overrides = {**self._overrides, **overrides}
        clone.x_args = dict(self.x_args)
        if url is not None:
            clone._url = url.replace("${", "$${")  # already expanded: read as it is
        return clone

    def set(self, key: str, value: Any) -> None:
        """Override *key* for this process (like Alembic's ``set_main_option``)."""
        self._overrides[key] = value

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value of *key* as a string, with ``${VAR}`` references expanded."""
        value = self._expand(self._raw(key), key)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict) or (isinstance(value, list) and key in _TEXT_KEYS):
            kind = "a table" if isinstance(value, dict) else "a list"
            raise ConfigError(f"{key} is {kind}; it must be text", hint=f'write {key} = "..."')
        if isinstance(value, list):
            return " ".join(str(item) for item in value)
        if key in _TEXT_KEYS and isinstance(value, int | float):  # (a TOML number)
            raise ConfigError(f"{key} = {value!r} is not text", hint=f'write {key} = "..."')
        return os.fspath(value) if isinstance(value, os.PathLike) else str(value)

    def get_value(self, key: str) -> Any:
        """The value of *key* as stored (TOML lists and tables stay structured)."""
        return self._expand(self._raw(key), key)

    def get_list(self, key: str) -> list[str]:
        """A list value: a TOML array, or an ini string split on commas/whitespace.

        ``path_separator`` (Alembic's ``version_path_separator``) chooses another
        separator for ini values: ``os``, ``space``, ``newline``, ``:`` or ``;``.
        """
        value = self._expand(self._raw(key), key)
        if value is None:
            return []
        if isinstance(value, list):
            return [str(item) for item in value]
        separator = self.get("path_separator")
        if key == "prepend_sys_path" and not separator:
            # As Alembic: version_path_separator is for version_locations only, and its
            # legacy split of prepend_sys_path takes colons too (".:src").
            return _split_paths(str(value), None, colons=True)
        return _split_paths(str(value), separator or self.get("version_path_separator"))

    def get_bool(self, key: str, default: bool = False) -> bool:
        """A boolean value: true/false, yes/no, on/off or 1/0."""
        value = self._expand(self._raw(key), key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(
            f"{key} = {value!r} is not a boolean", hint="write true or false for this key"
        )

    def get_int(self, key: str, default: int | None = None) -> int | None:
        """An integer value."""
        value = self._expand(self._raw(key), key)
        if value is None or value == "":
            return default
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)  # (int() takes True for 1 and 4.5 for 4)
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{key} = {value!r} is not a whole number", hint=f"write a number for {key}"
            ) from None

    def get_float(self, key: str, default: float | None = None) -> float | None:
        """A number value (e.g. ``lock_timeout`` in seconds)."""
        value = self._expand(self._raw(key), key)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{key} = {value!r} is not a number", hint=f"write a number for {key}"
            ) from None

    def sections(self) -> list[str]:
        """The ini file's section names (empty when there is no ini file)."""
        return self._ini.sections() if self._ini else []

    def get_section(self, name: str, *, expand_env: bool = True) -> dict[str, str]:
        """Every key of ini section *name* (else of the table ``[tool.amigrate.<name>]``),
        ``%(here)s`` applied, ``${VAR}`` expanded (unless *expand_env* is False: for
        values that :meth:`derive` takes, which expands them when they are read)."""

        def expand(value: str, where: str) -> str:
            return _expand_env(value, where, os.environ) if expand_env else value

        if not self._ini or not self._ini.has_section(name):
            table = self._toml_values.get(name)
            if not isinstance(table, dict):
                return {}
            return {
                str(key): expand(str(value), f"[tool.amigrate.{name}] {key}")
                for key, value in table.items()
            }
        return {
            key: expand(self._ini_get(name, key), f"[{name}] {key}")
            for key in self._ini.options(name)
            if key not in _INI_DEFAULTS
        }

    def refers_to_env(self, name: str) -> bool:
        """Whether a value of the config files (a comment is no value) refers to ``${name}``."""
        values: list[Any] = [self._toml_values]
        if self._ini is not None:
            for section in [self._ini.default_section, *self._ini.sections()]:
                values.extend(value for _, value in self._ini.items(section, raw=True))
        return refers_to(values, name)

    def expand_text(self, text: str, where: str) -> str:
        """*text* from outside the config (a ``targets_file`` line) expanded as a value is.

        ``%(here)s`` is the config file's folder, ``%(__file__)s`` the ini file and
        ``%(name)s`` a key of the ini's ``[DEFAULT]``; ``%%`` is a ``%``, and ``${VAR}``
        references are expanded. A ``%`` that starts neither ``%(`` nor ``%%`` stays as
        it is, so a percent-encoded URL (``p%40ss``) needs no doubling. *where* names
        the text's place for errors (never the text: it may hold a password).
        """

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "%%":
                return "%"
            name = match.group(1).lower()  # as configparser reads option names
            if name == "here":
                return str(self.here)
            if name == "__file__" and self.ini_path:
                return str(self.ini_path)
            if self._ini is not None and name in self._ini.defaults():
                return self._ini_get(self._ini.default_section, name)
            raise ConfigError(
                f"{where}: %({match.group(1)})s refers to {name!r}, which is not defined",
                hint="%(here)s is the config file's folder; other names come from the ini "
                "file's [DEFAULT] section",
            )

        return _expand_env(_PERCENT_REF.sub(substitute, text), where, os.environ)

    def items(self) -> Iterator[tuple[str, Any]]:
        """Every setting (ini section over ``[tool.amigrate]``), expanded."""
        for key in self.keys():
            yield key, self.get_value(key)

    # -- typed settings -------------------------------------------------------------

    def _path(self, value: str) -> Path:
        if ":" in value and not os.path.isabs(value) and not re.match(r"^[A-Za-z]:", value):
            # Alembic's "package:folder" form
            package, _, folder = value.partition(":")
            # As Alembic: prepend_sys_path is on sys.path before the package is looked up.
            for entry in reversed(self.prepend_sys_path):
                entry_path = str(entry)
                if entry_path not in sys.path:
                    sys.path.insert(0, entry_path)
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                raise ConfigError(
                    f"script location {value!r} names package {package!r}, which is not importable",
                    hint="install the package or give a folder path",
                )
            return Path(next(iter(spec.submodule_search_locations))) / folder
        return self._folder(value)

    def _folder(self, value: str) -> Path:
        path = Path(value).expanduser()
        # (normalized: %(here)s/../migrations is shown and compared as .../migrations)
        return Path(os.path.normpath(path if path.is_absolute() else (self.here / path)))

    @property
    def script_location(self) -> Path:
        """The environment's folder (env.py, script.py.mako, versions/)."""
        value = self.get("script_location")
        if not value:
            where = self._describe_sources()
            raise ConfigError(
                f"no script_location in {where}",
                hint="add 'script_location = %(here)s/migrations', or run 'amigrate init DIR'",
            )
        return self._path(value)

    @property
    def version_locations(self) -> list[Path]:
        """Folders holding revision files (default: ``<script_location>/versions``)."""
        values = self.get_list("version_locations")
        if not values:
            return [self.script_location / "versions"]
        return [self._path(value) for value in values]

    @property
    def prepend_sys_path(self) -> list[Path]:
        """Folders to put at the front of ``sys.path`` before env.py is imported."""
        return [self._folder(value) for value in self.get_list("prepend_sys_path")]

    @property
    def recursive_version_locations(self) -> bool:
        """Whether version folders are searched recursively."""
        return self.get_bool("recursive_version_locations", False)

    @property
    def file_template(self) -> str:
        """How new revision files are named (``%(rev)s_%(slug)s`` by default)."""
        return self.get("file_template") or "%(rev)s_%(slug)s"

    @property
    def truncate_slug_length(self) -> int:
        """The longest slug a file name gets."""
        length = self.get_int("truncate_slug_length", 40)
        assert length is not None
        if length < 1:
            raise ConfigError(
                f"truncate_slug_length = {length} is below 1",
                hint="give the longest slug a file name gets, 1 or more (the default is 40)",
            )
        return length

    @property
    def timezone(self) -> str | None:
        """The time zone of new revisions' create dates (None: local time)."""
        return self.get("timezone") or None

    @property
    def version_table(self) -> str:
        """The table of current heads (``alembic_version`` adopts an Alembic database)."""
        return self.get("version_table") or "amigrate_version"

    @property
    def version_table_schema(self) -> str | None:
        """The schema of the version table (None: the connection's default)."""
        return self.get("version_table_schema") or None

    @property
    def history_table(self) -> str:
        """The audit table of applied steps."""
        name = self.get("history_table") or "amigrate_history"
        if name == self.version_table:
            raise ConfigError(
                f"history_table and version_table are both {name!r}",
                hint="give them different names (the defaults are amigrate_history and "
                "amigrate_version)",
            )
        return name

    @property
    def transaction_per_migration(self) -> bool:
        """One transaction per revision (default) or one for the whole run."""
        return self.get_bool("transaction_per_migration", True)

    @property
    def lock_timeout(self) -> float | None:
        """Seconds to wait for the migration lock (None: wait as long as it takes)."""
        value = self.get_float("lock_timeout")
        if value is not None and not value >= 0:  # (negative, or NaN)
            raise ConfigError(
                f"lock_timeout = {value} is not a number of seconds",
                hint="give a number of seconds >= 0",
            )
        return value

    @property
    def validate_on_upgrade(self) -> str:
        """What upgrade does about applied revisions whose file changed: warn, strict or off."""
        value = (self.get("validate_on_upgrade") or "warn").strip().lower()
        if value not in ("warn", "strict", "off"):
            raise ConfigError(
                f"validate_on_upgrade = {value!r} is not one of warn, strict, off",
                hint="warn (the default) prints a warning; strict refuses to upgrade",
            )
        return value

    @property
    def url(self) -> str:
        """The database URL: ``--url``, else ``$AMIGRATE_URL``, else ``sqlalchemy.url``."""
        url = self.url_or_none
        if not url:
            raise ConfigError(
                f"no database URL: {self._describe_sources()} has no sqlalchemy.url",
                hint="set sqlalchemy.url in the ini file, export AMIGRATE_URL, or pass --url",
            )
        return url

    @property
    def url_or_none(self) -> str | None:
        """The database URL as :attr:`url` finds it, or None when none is configured."""
        if self._url:
            url: str | None = _expand_env(self._url, "--url", os.environ)
        else:
            url = os.environ.get("AMIGRATE_URL") or self.get("sqlalchemy.url") or None
        if url:
            remember_password(url)
        return url

    @property
    def engine_options(self) -> dict[str, Any]:
        """The ``sqlalchemy.*`` keys other than the URL, as engine options (``sqlalchemy.echo =
        true`` is ``echo="true"``; the engine converts the text, as
        ``engine_from_config`` does)."""
        prefix = "sqlalchemy."
        return {
            key[len(prefix) :]: self.get_value(key)
            for key in self.keys()
            if key.startswith(prefix) and key != "sqlalchemy.url"
        }

    @property
    def has_logging_config(self) -> bool:
        """Whether the ini file has logging sections (``[loggers]`` ...)."""
        return self._ini is not None and self._ini.has_section("loggers")

    def _describe_sources(self) -> str:
        parts = []
        if self.ini_path:
            parts.append(f"[{self.section}] of {self.ini_path}")
        if self.toml_path:
            parts.append(f"[tool.amigrate] of {self.toml_path}")
        return " or ".join(parts) or "the configuration"

    def __repr__(self) -> str:
        files = ", ".join(str(p) for p in (self.ini_path, self.toml_path) if p)
        return f"<Config {files or 'from values'} [{self.section}]>"


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text", hint="save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", hint="fix the line it names") from exc


def _has_tool_section(path: Path, name: str = "amigrate") -> bool:
    # A broken pyproject.toml is reported, not skipped: it may hold the settings
    # (Alembic, too, fails on it), and skipping it blames a missing key instead.
    data = _load_toml(path)
    tool = data.get("tool")
    return isinstance(tool, dict) and name in tool


#: The hint for a pyproject.toml whose settings are Alembic's table.
_RENAME_ALEMBIC = (
    "its [tool.alembic] table is Alembic's: rename it [tool.amigrate] (amigrate reads the "
    "same keys; docs/from-alembic.md)"
)


def find_config_files(
    paths: Sequence[str | os.PathLike[str]] = (), *, cwd: Path | None = None
) -> tuple[Path | None, Path | None]:
    """Choose the ini and pyproject.toml files, as ``(ini, toml)``.

    Explicit *paths* (``-c``, at most one ini and one ``.toml``) first, else
    ``$AMIGRATE_CONFIG``, else ``./amigrate.ini``, else ``./pyproject.toml``.
    With an ini and no explicit toml, a pyproject.toml beside the ini that has
    ``[tool.amigrate]`` is read too.
    """
    base = cwd or Path.cwd()
    chosen = [Path(p) for p in paths]
    if not chosen and os.environ.get("AMIGRATE_CONFIG"):
        chosen = [Path(p) for p in os.environ["AMIGRATE_CONFIG"].split(os.pathsep) if p]
    ini: Path | None = None
    toml: Path | None = None
    if chosen:
        for path in chosen:
            full = path if path.is_absolute() else base / path
            if full.is_dir():
                raise ConfigError(
                    f"config file {path} is a folder" + ("" if paths else " ($AMIGRATE_CONFIG)"),
                    hint="pass the file itself with -c (its amigrate.ini or pyproject.toml)",
                )
            if not full.is_file():
                raise ConfigError(
                    f"config file {path} not found"
                    + ("" if paths else " (named by $AMIGRATE_CONFIG)"),
                    hint="run 'amigrate init DIR' to create one, or pass the right path with -c",
                )
            if full.suffix == ".toml":
                if toml is not None:
                    raise ConfigError(
                        "-c was given more than one .toml file", hint="give at most one"
                    )
                toml = full
            else:
                if ini is not None:
                    raise ConfigError(
                        "-c was given more than one ini file",
                        hint="give at most one ini file (and one pyproject.toml)",
                    )
                ini = full
    else:
        if (base / "amigrate.ini").is_file():
            ini = base / "amigrate.ini"
        elif (base / "pyproject.toml").is_file() and _has_tool_section(base / "pyproject.toml"):
            toml = base / "pyproject.toml"
        else:
            hint = (
                "run 'amigrate init migrations' to create an environment, "
                "or point to one with -c or $AMIGRATE_CONFIG"
            )
            pyproject = base / "pyproject.toml"
            if pyproject.is_file() and _has_tool_section(pyproject, "alembic"):
                hint = f"pyproject.toml has no [tool.amigrate], but {_RENAME_ALEMBIC}"
            raise ConfigError(
                f"no amigrate.ini (or pyproject.toml with [tool.amigrate]) in {base}", hint=hint
            )
    if ini is not None and toml is None:
        beside = ini.parent / "pyproject.toml"
        if beside.is_file() and _has_tool_section(beside):
            toml = beside
    return ini, toml


def load_config(
    *paths: str | os.PathLike[str],
    name: str = DEFAULT_SECTION,
    url: str | None = None,
    x_args: Mapping[str, str] | None = None,
) -> Config:
    """Load the configuration the way the CLI does.

    ``load_config()`` finds ``$AMIGRATE_CONFIG``, ``./amigrate.ini`` or
    ``./pyproject.toml``; ``load_config("amigrate.ini")`` reads that file (and
    a pyproject.toml with ``[tool.amigrate]`` beside it). *name* is the ini
    section, *url* overrides the configured URL.
    """
    ini, toml = find_config_files(paths)
    return Config(ini_path=ini, toml_path=toml, section=name, url=url, x_args=x_args)
