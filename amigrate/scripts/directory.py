"""A migration environment on disk: its revision files, their graph, new revisions."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

from amigrate.config import Config
from amigrate.errors import AmigrateError, CommandError, ConfigError, ConfigWarning, MultipleHeads
from amigrate.revisions import Revision, RevisionGraph
from amigrate.scripts.loader import import_file, module_name_for, prepend_sys_path
from amigrate.scripts.reader import find_revision_files, read_revision_file
from amigrate.scripts.writer import (
    EMPTY_MESSAGE,
    NewRevision,
    create_date,
    new_rev_id,
    render_revision,
    revision_filename,
    slugify,
    validate_rev_id,
)

__all__ = ["Script", "ScriptDirectory"]


@dataclass(frozen=True)
class Script:
    """A revision file: its graph node and what else its source says."""

    revision: Revision
    path: Path
    docstring: str
    create_date: str | None

    @property
    def id(self) -> str:
        """The revision id."""
        return self.revision.revision


#: The longest file name most file systems take, in bytes.
_NAME_MAX = 255


class ScriptDirectory:
    """The revision files of one environment, read with ``ast`` (never imported to list them).

    ``graph`` is built on first use; building it reads every file in every
    version location and validates the history.
    """

    def __init__(
        self,
        script_location: Path,
        version_locations: Sequence[Path],
        *,
        recursive: bool = False,
        config: Config | None = None,
    ) -> None:
        self.script_location = script_location
        self.version_locations = [Path(p) for p in version_locations]
        self.recursive = recursive
        self.config = config or Config.from_values({"script_location": str(script_location)})
        self._modules: dict[str, ModuleType] = {}
        self._modules_lock = threading.Lock()
        #: The version location a new revision is about to create (no warning that it
        #: does not exist yet).
        self._creating: Path | None = None

    @classmethod
    def from_config(cls, config: Config) -> ScriptDirectory:
        """The environment the config's ``script_location`` names."""
        location = config.script_location
        if not location.is_dir():
            raise ConfigError(
                f"script_location {location} does not exist",
                hint=f"create the environment with 'amigrate init {location.name}', "
                "or fix script_location in the config",
            )
        return cls(
            location,
            config.version_locations,
            recursive=config.recursive_version_locations,
            config=config,
        )

    def will_create(self, version_path: str | Path) -> None:
        """Say that a new revision goes into *version_path*, which it creates if missing
        (reading the history then does not warn that it does not exist)."""
        self._creating = Path(version_path).resolve()

    # -- reading ---------------------------------------------------------------------

    @cached_property
    def _files(self) -> list[Script]:
        scripts = []
        for location in self.version_locations:
            if (
                not location.exists()
                and location != self.script_location / "versions"
                and location.resolve() != self._creating
            ):
                # (the environment's own versions/ may be missing from a fresh clone; another
                # folder that is missing is likely a typo in version_locations)
                warnings.warn(
                    f"version location {location} does not exist: no revisions are read from it",
                    ConfigWarning,
                    stacklevel=2,
                )
            for path in find_revision_files(location, recursive=self.recursive):
                f = read_revision_file(path)
                node = Revision.create(
                    f.revision,
                    f.down_revision,
                    f.branch_labels,
                    f.depends_on,
                    message=f.message,
                    path=str(f.path),
                )
                scripts.append(Script(node, f.path, f.docstring, f.create_date))
        return scripts

    @cached_property
    def graph(self) -> RevisionGraph:
        """The validated revision graph (it reports an id declared by two files)."""
        return RevisionGraph(s.revision for s in self._files)

    @cached_property
    def scripts(self) -> Mapping[str, Script]:
        """Every revision file, by id."""
        self.graph  # noqa: B018 - validate first
        return {s.id: s for s in self._files}

    def script(self, revision: str) -> Script:
        """The file of a revision id (exact)."""
        return self.scripts[self.graph[revision].revision]

    def load_module(self, revision: str) -> ModuleType:
        """Import a revision's module (its code is about to run); once per directory.

        Migrators of several databases share one directory and load from worker
        threads at once, hence the lock.
        """
        script = self.script(revision)
        with self._modules_lock:
            module = self._modules.get(script.id)
            if module is None:
                prepend_sys_path(self._sys_path)
                module = import_file(script.path, module_name_for(script.path, script.id))
                self._modules[script.id] = module
            return module

    @cached_property
    def _sys_path(self) -> list[Path]:
        # Read from the config once: a plan of a thousand revisions imports a thousand.
        return self.config.prepend_sys_path

    @property
    def template_path(self) -> Path:
        """The environment's ``script.py.mako``."""
        return self.script_location / "script.py.mako"

    # -- writing ---------------------------------------------------------------------

    def new_revision_parents(self, head: str = "head", *, splice: bool = False) -> tuple[str, ...]:
        """The parents a new revision on *head* gets, or the error that stops it (checked
        before any work, e.g. before autogenerate reads the database).

        Alembic's rules: *head* must be a head unless *splice*; ``head`` with several
        heads is an error listing them.
        """
        graph = self.graph
        if head == "base":
            return ()
        if head == "head" and len(graph.heads) > 1:
            raise MultipleHeads(
                head,
                graph.heads,
                hint="base the revision on one with --head <id>, or merge them first "
                "('amigrate merge heads -m ...')",
            )
        parents = graph.resolve(head)
        if not splice:
            for parent in parents:
                if not graph.is_head(parent):
                    raise CommandError(
                        f"revision {parent} is not a head",
                        hint="use --splice to start a new branch from it",
                    )
        return parents

    def generate_revision(
        self,
        message: str,
        *,
        head: str = "head",
        splice: bool = False,
        branch_labels: Sequence[str] = (),
        depends_on: Sequence[str] = (),
        rev_id: str | None = None,
        version_path: str | Path | None = None,
        template_args: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write a new revision file on top of *head* and return its path.

        Alembic's rules: *head* must be a head unless *splice*; ``head`` with
        several heads is an error listing them; *depends_on* may be partial ids
        or branch labels; *branch_labels* must be new; with several version
        locations a new base needs *version_path*.
        """
        if version_path is not None:
            self.will_create(version_path)
        graph = self.graph
        rev_id = self._new_id(rev_id)
        parents = self.new_revision_parents(head, splice=splice)
        for label in branch_labels:
            if label in graph.labels:
                raise CommandError(
                    f"branch label {label!r} is already used by revision {graph.labels[label]}",
                    hint="choose another label",
                )
        deps = tuple(d if d in graph.labels else graph.lookup(d) for d in depends_on)
        folder = self._folder_for(parents, version_path)
        down = parents[0] if len(parents) == 1 else (parents or None)
        new = NewRevision(rev_id, message, down, tuple(branch_labels), deps)
        return self._write(new, folder, template_args)

    def generate_merge(
        self,
        revisions: Sequence[str],
        message: str,
        *,
        branch_labels: Sequence[str] = (),
        rev_id: str | None = None,
    ) -> Path:
        """Write a merge revision of *revisions* (``heads`` means every head)."""
        graph = self.graph
        resolved: list[str] = []
        for target in revisions:
            for rid in graph.resolve(target):
                if rid not in resolved:
                    resolved.append(rid)
        if len(resolved) < 2:
            raise CommandError(
                f"nothing to merge: {', '.join(revisions)} names "
                f"{len(resolved)} revision{'s' if len(resolved) != 1 else ''}",
                hint="a merge needs two or more heads; 'amigrate heads' lists them",
            )
        for a in resolved:
            for b in resolved:
                if graph.is_ancestor(a, b):
                    raise CommandError(
                        f"cannot merge {a} with its descendant {b}",
                        hint="merge the heads of separate branches",
                    )
        heads = set(graph.heads)
        for rid in resolved:
            if rid not in heads:  # (Alembic refuses too): the merge would leave a new head
                raise CommandError(
                    f"revision {rid} is not a head, so merging it would fork the history",
                    hint="merge heads ('amigrate heads' lists them; a branch's is label@head)",
                )
        for label in branch_labels:
            if label in graph.labels:
                raise CommandError(f"branch label {label!r} is already used")
        new = NewRevision(self._new_id(rev_id), message, tuple(resolved), tuple(branch_labels))
        return self._write(new, self._location_of(resolved[0]), None)

    def _new_id(self, rev_id: str | None) -> str:
        if rev_id is None:
            return new_rev_id()
        validate_rev_id(rev_id)
        if rev_id in self.graph:
            raise CommandError(
                f"revision id {rev_id!r} already exists ({self.script(rev_id).path})",
                hint="choose another --rev-id, or leave it out for a random one",
            )
        return rev_id

    def _folder_for(self, parents: tuple[str, ...], version_path: str | Path | None) -> Path:
        locations = [p.resolve() for p in self.version_locations]
        if version_path is not None:
            folder = Path(version_path).resolve()
            if not any(
                folder == loc or (self.recursive and folder.is_relative_to(loc))
                for loc in locations
            ):
                raise CommandError(
                    f"--version-path {version_path} is not one of the version locations",
                    hint="version_locations: " + ", ".join(map(str, locations)),
                )
            return folder
        if len(locations) == 1:
            return locations[0]
        if parents:
            return self._location_of(parents[0])
        raise CommandError(
            "there are several version locations and the new revision starts a new branch",
            hint="choose its folder with --version-path (one of: "
            + ", ".join(map(str, locations))
            + ")",
        )

    def _location_of(self, rev_id: str) -> Path:
        """The version location holding *rev_id*'s file: a new revision on top of it goes
        there, never into the subfolder a ``file_template`` made (``year/``), which the
        template would add again."""
        path = self.script(rev_id).path.resolve()
        holding = [loc.resolve() for loc in self.version_locations]
        holding = [loc for loc in holding if path.is_relative_to(loc)]
        return max(holding, key=lambda loc: len(loc.parts)) if holding else path.parent

    def _check_new(self, new: NewRevision) -> None:
        """Refuse, before writing, a revision the reader would reject once written.

        The new node is added to the history and the history is checked by the
        same code that checks files read from disk (reserved ids, labels that
        cannot be used in a target, a label that is a revision id, ...).
        """
        node = Revision.create(new.rev_id, new.down_revision, new.branch_labels, new.depends_on)
        RevisionGraph([*self.graph, node])

    def _write(
        self, new: NewRevision, folder: Path, template_args: Mapping[str, Any] | None
    ) -> Path:
        config = self.config
        created = create_date(config.timezone)
        given = new.message if new.message.strip() else ""
        message = given or EMPTY_MESSAGE
        new = NewRevision(
            new.rev_id, message, new.down_revision, new.branch_labels, new.depends_on, created
        )
        self._check_new(new)
        # No -m: the file is <rev>_.py and its docstring says "empty message", as Alembic's.
        slug = slugify(given, config.truncate_slug_length)
        name = revision_filename(config.file_template, new.rev_id, slug, created)
        while len(f"{name.rsplit('/', 1)[-1]}.py".encode()) > _NAME_MAX:
            if not slug.strip("_"):
                raise ConfigError(
                    f"file_template {config.file_template!r} makes a file name longer than "
                    f"{_NAME_MAX} bytes",
                    hint="shorten file_template",
                )
            # Cut the slug (a word, or a character of a long one) until the name fits the
            # file system: truncate_slug_length counts characters, and one may be 4 bytes.
            shorter = slug.rstrip("_").rsplit("_", 1)[0]
            slug = (shorter if shorter != slug.rstrip("_") else slug.rstrip("_")[:-1]) + "_"
            name = revision_filename(config.file_template, new.rev_id, slug, created)
        if "/" in name and not self.recursive:
            raise ConfigError(
                f"file_template {config.file_template!r} puts revisions in subfolders ({name})",
                hint="set recursive_version_locations = true so that they are found",
            )
        path = folder / f"{name}.py"
        if path.exists():
            raise CommandError(f"{path} already exists", hint="choose another message or --rev-id")
        text = render_revision(self.template_path, new, config=config, context=template_args)
        try:
            compile(text, str(path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise ConfigError(
                f"{self.template_path} rendered a revision that is not valid Python "
                f"(line {exc.lineno}: {exc.msg}); nothing was written",
                hint="fix the template (an unescaped value? a quote next to ${message}?)",
            ) from exc
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self._check_written(path, new)
        for attr in ("_files", "scripts", "graph"):  # the history changed
            self.__dict__.pop(attr, None)
        self._modules.clear()
        return path

    def _check_written(self, path: Path, new: NewRevision) -> None:
        """Read the new file back as every later command will; remove it if that fails."""
        try:
            f = read_revision_file(path)
            if f.revision != new.rev_id:
                raise CommandError(
                    f"{path} declares revision {f.revision!r}, not {new.rev_id!r}",
                    hint=f"fix {self.template_path}: revision = ${{repr(up_revision)}}",
                )
            node = Revision.create(
                f.revision, f.down_revision, f.branch_labels, f.depends_on, path=str(path)
            )
            RevisionGraph([*self.graph, node])
        except AmigrateError as exc:
            path.unlink(missing_ok=True)
            raise CommandError(
                f"the new revision file cannot be read back, so it was removed: {exc}",
                hint=exc.hint or f"fix {self.template_path}",
            ) from exc
