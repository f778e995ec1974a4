"""Many databases at once: a multidb project's databases, or tenants and shards.

Two shapes, both run concurrently from one process, each database behind its
own migration lock:

- **databases** (the ``multidb`` template): ``databases = main, analytics`` in
  ``[amigrate]`` and a section per database (``[main] sqlalchemy.url = ...``,
  any other key overrides the main section's). One revision stream; each
  revision defines ``upgrade_<name>(op)`` / ``downgrade_<name>(op)``.
- **targets** (homogeneous fan-out): the same revisions applied to many
  databases, or to many PostgreSQL schemas of one database. Targets come from a
  ``[targets]`` section (``name = URL [schema=NAME]``), a ``targets_file`` of
  ``name URL [schema=NAME]`` lines, or ``async def targets(config)`` in env.py.

A failure in one database never loses the others' results: every outcome is
returned as a :class:`TargetResult`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import anyio

from amigrate.config import Config, mask_url, remember_password
from amigrate.errors import (
    AmigrateError,
    CommandError,
    ConfigError,
    MigrationFailed,
    MigrationInterrupted,
)
from amigrate.runtime.runner import interruption, mark_interrupted

__all__ = [
    "DatabaseTarget",
    "FanoutResult",
    "TargetEvent",
    "TargetResult",
    "parse_target_lines",
    "run_many",
]

T = TypeVar("T")
Status = Literal["ok", "failed", "cancelled", "skipped"]
DEFAULT_CONCURRENCY = 8


@dataclass(frozen=True)
class DatabaseTarget:
    """One database to migrate: a name, a URL, and optionally a PostgreSQL schema.

    ``function_suffix`` is set for a multidb project's databases
    (``upgrade_<name>``); ``settings`` override the config for this database.
    """

    name: str
    url: str
    schema: str | None = None
    function_suffix: str = ""
    settings: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        remember_password(self.url)

    def __repr__(self) -> str:  # (logged by applications: never the password)
        return (
            f"DatabaseTarget(name={self.name!r}, url={self.display_url!r}, schema={self.schema!r}"
            + (f", function_suffix={self.function_suffix!r}" if self.function_suffix else "")
            + ")"
        )

    @property
    def display_url(self) -> str:
        """The URL with the password masked."""
        return mask_url(self.url)

    def describe(self) -> str:
        """``name (url[, schema x])`` for messages."""
        schema = f", schema {self.schema}" if self.schema else ""
        return f"{self.name} ({self.display_url}{schema})"


@dataclass(frozen=True)
class TargetResult(Generic[T]):
    """What happened to one target: its value, or the error that stopped it."""

    target: DatabaseTarget
    status: Status
    value: T | None = None
    error: BaseException | None = None
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the target completed."""
        return self.status == "ok"

    @property
    def message(self) -> str:
        """The error's message (one line), or ''."""
        if self.error is None:
            return {"cancelled": "cancelled", "skipped": "not started"}.get(self.status, "")
        if isinstance(self.error, AmigrateError):
            return self.error.message
        return f"{type(self.error).__name__}: {self.error}"


@dataclass(frozen=True)
class FanoutResult(Generic[T]):
    """One :class:`TargetResult` per target, in the targets' order."""

    results: tuple[TargetResult[T], ...]

    def __iter__(self) -> Any:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, name: str) -> TargetResult[T]:
        for result in self.results:
            if result.target.name == name:
                return result
        raise KeyError(name)

    @property
    def ok(self) -> bool:
        """True when every target completed."""
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[TargetResult[T]]:
        """The targets that failed (not those cancelled or skipped because of them)."""
        return [r for r in self.results if r.status == "failed"]


@dataclass(frozen=True)
class TargetEvent:
    """Progress: a target started, reached a step, or finished."""

    target: DatabaseTarget
    kind: Literal["start", "step", "done"]
    detail: Any = None


def target_texts(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of the target lines: blank lines and ``#`` comments left out."""
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line.split(" #", 1)[0].strip()


def parse_target_lines(
    lines: Iterable[str], *, source: str, expand: Callable[[str, str], str] | None = None
) -> list[DatabaseTarget]:
    """Targets from ``name URL [schema=NAME]`` lines (``#`` comments, blank lines skipped).

    *expand* (``Config.expand_text``) is applied to each line without its comment.
    """
    targets = []
    for number, line in target_texts(lines):
        if expand is not None:
            line = expand(line, f"{source}:{number}")
        parts = line.split()
        if len(parts) == 1 or len(parts) > 3:
            raise ConfigError(
                f"{source}:{number}: expected 'name URL [schema=NAME]', got {_quoted(line)}",
                hint="one target per line, e.g. 'acme postgresql+asyncpg://app@db/acme'; "
                "a space in the URL is written %20",
            )
        targets.append(_target(parts[0], parts[1:], f"{source}:{number}"))
    return targets


def _quoted(text: str) -> str:
    """*text* quoted for an error, unless it may hold a piece of a password (a URL with
    a space in it, split where no mask can find the password's ends)."""
    if "@" in text:
        return "words it cannot read as that (is there a space in the URL?)"
    return repr(mask_url(text))


def _target(name: str, rest: Sequence[str], where: str) -> DatabaseTarget:
    schema = None
    if len(rest) == 2:
        key, _, value = rest[1].partition("=")
        if key != "schema" or not value:
            raise ConfigError(
                f"{where}: expected 'schema=NAME' after the URL, got {_quoted(rest[1])}",
                hint="write 'name URL schema=tenant_x'; a space in the URL is written %20",
            )
        schema = value
    return DatabaseTarget(name, rest[0], schema)


def configured_databases(
    config: Config, names: Sequence[str] | None = None
) -> list[DatabaseTarget]:
    """A multidb project's databases (``databases`` and a section each): those *names*,
    or all. Only the chosen ones' URLs are read, so ``-d main`` needs no other
    database's ``${VARIABLE}``."""
    listed = config.get_list("databases")
    chosen = select(listed, names or [])
    targets = []
    for name in chosen:
        # ${VAR} stays unexpanded in the settings: the derived config expands what it reads.
        section = config.get_section(name, expand_env=False)
        url = config.get_section(name).get("sqlalchemy.url") or config.get(f"{name}.sqlalchemy.url")
        if not url:
            raise ConfigError(
                f"database {name!r} has no sqlalchemy.url",
                hint=f"add a [{name}] section with 'sqlalchemy.url = ...'",
            )
        settings = {k: v for k, v in section.items() if k != "sqlalchemy.url"}
        targets.append(DatabaseTarget(name, url, function_suffix=f"_{name}", settings=settings))
    return targets


def configured_targets(config: Config) -> list[DatabaseTarget]:
    """Targets from the ``[targets]`` section and the ``targets_file``."""
    targets = [
        _target(name, value.split(), f"[targets] {name}")
        for name, value in config.get_section("targets").items()
    ]
    file = config.get("targets_file")
    if file:
        path = Path(file) if Path(file).is_absolute() else config.here / file
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"targets_file {path} cannot be read: {exc.strerror}",
                hint="fix targets_file in the config",
            ) from None
        targets += parse_target_lines(
            text.splitlines(), source=str(path), expand=config.expand_text
        )
    return targets


def check_unique(targets: Sequence[DatabaseTarget]) -> None:
    """Refuse two targets with one name."""
    seen: set[str] = set()
    for target in targets:
        if target.name in seen:
            raise ConfigError(
                f"target name {target.name!r} is used twice", hint="give every target its own name"
            )
        seen.add(target.name)


TargetT = TypeVar("TargetT", "DatabaseTarget", str)


def select(targets: Sequence[TargetT], names: Sequence[str]) -> list[TargetT]:
    """The targets (or names) named (``-d``), in the order given; all when *names* is empty."""
    if not names:
        return list(targets)
    by_name = {t if isinstance(t, str) else t.name: t for t in targets}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise CommandError(
            f"no database or target named {', '.join(map(repr, unknown))}",
            hint=f"known: {', '.join(by_name) or '(none)'}",
        )
    return [by_name[n] for n in dict.fromkeys(names)]  # (-d a -d a: a once)


Runner = Callable[[DatabaseTarget], Awaitable[T]]
EventCallback = Callable[[TargetEvent], None]


async def run_many(
    targets: Sequence[DatabaseTarget],
    action: Runner[T],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    canary: int = 0,
    on_event: EventCallback | None = None,
) -> FanoutResult[T]:
    """Run *action* on every target, at most *concurrency* at a time.

    By default every target runs and every failure is reported. With
    *fail_fast*, the first failure stops new targets from starting and cancels
    the running ones (their transactions roll back, their locks are released).
    With *canary* K, the first K targets run first; the rest start only if all
    of them succeeded.
    """
    if concurrency < 1:
        raise CommandError("concurrency must be at least 1")
    results: dict[str, TargetResult[T]] = {}
    stop = anyio.Event()

    async def one(target: DatabaseTarget, limiter: anyio.CapacityLimiter) -> None:
        async with limiter:
            if stop.is_set():
                results[target.name] = TargetResult(target, "skipped")
                return
            started = time.perf_counter()
            if on_event is not None:
                on_event(TargetEvent(target, "start"))
            try:
                value = await action(target)
            except anyio.get_cancelled_exc_class() as exc:
                # What the step it interrupted left behind, if one was running.
                results[target.name] = TargetResult(
                    target,
                    "cancelled",
                    error=interruption(exc),
                    duration=time.perf_counter() - started,
                )
                raise
            except Exception as exc:
                result: TargetResult[T] = TargetResult(
                    target, "failed", error=exc, duration=time.perf_counter() - started
                )
                results[target.name] = result
                if fail_fast:
                    stop.set()
                    scope.cancel()
            else:
                result = TargetResult(target, "ok", value, duration=time.perf_counter() - started)
                results[target.name] = result
            if on_event is not None:
                on_event(TargetEvent(target, "done", result))

    async def wave(batch: Sequence[DatabaseTarget]) -> None:
        limiter = anyio.CapacityLimiter(concurrency)
        async with anyio.create_task_group() as tg:
            for target in batch:
                tg.start_soon(one, target, limiter)

    def outcome() -> FanoutResult[T]:
        return FanoutResult(
            tuple(results.get(t.name) or TargetResult(t, "skipped") for t in targets)
        )

    first, rest = (
        (list(targets[:canary]), list(targets[canary:])) if canary else ([], list(targets))
    )
    try:
        with anyio.CancelScope() as scope:
            if first:
                await wave(first)
                if any(results[t.name].status != "ok" for t in first):
                    stop.set()
            if not stop.is_set():
                await wave(rest)
    except anyio.get_cancelled_exc_class() as exc:
        # The caller was cancelled (Ctrl-C): the cancellation goes through, as for one
        # database, saying what each database was left with.
        mark_interrupted(exc, interrupted(outcome()))
        raise
    return outcome()


def interrupted(results: FanoutResult[Any]) -> MigrationInterrupted:
    """What an interrupted fan-out left behind, database by database, as one error."""
    unfinished = [r for r in results if not r.ok]
    parts = []
    hints: dict[str, list[str]] = {}  # what to do -> the databases it concerns
    for r in unfinished:
        name = r.target.name
        if isinstance(r.error, MigrationInterrupted):
            applied = [step.revision for step in r.error.applied]
            before = f"{_revisions(applied)} applied, then " if applied else ""
            parts.append(f"{name}: {before}{r.error.message}")
            if r.error.hint and r.error.hint != _AGAIN:
                hints.setdefault(r.error.hint, []).append(name)
        elif r.status == "failed":
            parts.append(f"{name}: failed: {r.message}")
    groups = {
        "stopped with no revision running": [
            r for r in unfinished if r.status == "cancelled" and r.error is None
        ],
        "not started": [r for r in unfinished if r.status == "skipped"],
        "completed": [r for r in results if r.ok],
    }
    parts += [
        f"{what}: {', '.join(r.target.name for r in rs)}" for what, rs in groups.items() if rs
    ]
    return MigrationInterrupted(
        f"interrupted: {len(unfinished)} of {len(results)} databases did not finish: "
        + "; ".join(parts),
        hint="; ".join(
            [f"{', '.join(names)}: {hint}" for hint, names in hints.items()]
            + [f"{_AGAIN}: it only touches the databases that are behind"]
        ),
        partial=any(isinstance(r.error, MigrationFailed) and r.error.partial for r in results),
        results=results,
    )


_AGAIN = "run the command again to continue"


def _revisions(ids: Sequence[str]) -> str:
    """``a1, b2`` (or ``a1 ... z9 (40 revisions)`` for a long run)."""
    return ", ".join(ids) if len(ids) <= 3 else f"{ids[0]} ... {ids[-1]} ({len(ids)} revisions)"


TargetSpec = DatabaseTarget | tuple[str, str] | tuple[str, str, str] | str
TargetSelection = Literal["all"] | Sequence[TargetSpec]
DatabaseSelection = Literal["all"] | Sequence[str]


async def resolve(
    config: Config,
    *,
    targets: TargetSelection | None = None,
    databases: DatabaseSelection | None = None,
    env_targets: Callable[[Config], Awaitable[Iterable[Any]]] | None = None,
) -> list[DatabaseTarget]:
    """The databases a fan-out runs on.

    *databases* names a multidb project's databases (``"all"`` for every one).
    *targets* is ``"all"`` (every configured target: ``[targets]``,
    ``targets_file`` and env.py's ``targets()``), names among those, or
    explicit ``DatabaseTarget`` objects / ``(name, url[, schema])`` tuples. An empty
    list names no database (an application whose tenant query found none migrates
    none), never every one.
    """
    if databases is not None and databases != "all":
        databases = list(databases)  # (once: it may be an iterator)
        if not databases:
            return []
    if targets is not None and targets != "all":
        targets = list(targets)
        if not targets:
            return []
    if databases is not None:
        if not config.get_list("databases"):
            raise ConfigError(
                "databases= was given but the config lists no databases",
                hint="add 'databases = main, analytics' and a section per database",
            )
        return configured_databases(config, [] if databases == "all" else list(databases))
    explicit = [] if targets in (None, "all") else list(targets or [])
    if explicit and not all(isinstance(t, str) for t in explicit):
        chosen = [_as_target(t) for t in explicit]
        check_unique(chosen)
        return chosen
    known_targets = configured_targets(config)
    if env_targets is not None:
        known_targets += [_as_target(t) for t in await env_targets(config)]
    check_unique(known_targets)
    if not known_targets:
        if config.get_list("databases"):  # (a multidb project: its databases, not targets)
            raise ConfigError(
                "no targets are configured; this project lists databases "
                f"({', '.join(config.get_list('databases'))})",
                hint="select them with databases='all' (or a list of their names)",
            )
        raise ConfigError(
            "no targets are configured",
            hint="add a [targets] section (name = URL [schema=NAME]), a targets_file, "
            "or 'async def targets(config)' in env.py",
        )
    return select(known_targets, [str(t) for t in explicit])


def _as_target(spec: Any) -> DatabaseTarget:
    if isinstance(spec, DatabaseTarget):
        return spec
    # Any sequence of two or three strings: a tuple, a list, a row of a catalog query.
    parts = list(spec) if isinstance(spec, Sequence) and not isinstance(spec, str) else []
    if len(parts) in (2, 3):
        name, url, *rest = parts
        schema = rest[0] if rest else None  # (a catalog's NULL: none)
        if isinstance(name, str) and isinstance(url, str) and isinstance(schema, str | None):
            return DatabaseTarget(name, url, schema)
    raise ConfigError(
        "a target must be a DatabaseTarget or a (name, url[, schema]) tuple of strings, not "
        + mask_url(repr(spec)),
        hint="e.g. ('acme', 'postgresql+asyncpg://app@db/acme')",
    )
