"""Plans: which revisions to run, in which order, and what each does to the version table.

Pure functions of (graph, current heads, target).  The step order is Alembic's:
``upgrade`` runs what the target needs and the database lacks, parents first;
``downgrade`` undoes what sits above the target, children first; both walk one
branch at a time the way Alembic's ``_topological_sort`` does.  Each step's
:class:`~amigrate.revisions.versions.VersionChange` follows Alembic's
``HeadMaintainer``, simulated against the heads as they will be when the step
runs, so the whole plan is checked before anything touches the database.

Where Alembic's choice depends on set iteration order (``PYTHONHASHSEED``) or on
the order files or rows were read, the choice here is fixed: current heads and
start points are taken in id order, merge parents and dependencies in declared
order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from amigrate.errors import InvalidTarget, ResolutionError, RevisionError
from amigrate.revisions import _order
from amigrate.revisions.graph import RevisionGraph
from amigrate.revisions.targets import (
    Target,
    absolute,
    branch_anchor,
    checked_heads,
    downgrade_start_and_walk,
    parse_target,
    resolve_target,
    walk_up,
    with_steps,
)
from amigrate.revisions.versions import VersionChange, VersionTable

__all__ = ["Direction", "Plan", "Step", "plan_downgrade", "plan_upgrade"]

Direction = Literal["up", "down"]


@dataclass(frozen=True, slots=True)
class Step:
    """One migration step: run ``revision``'s upgrade or downgrade, then apply ``change``.

    ``from_revisions`` and ``to_revisions`` are the version ends Alembic logs
    ("Running upgrade a -> b"): for an upgrade, the ``down_revision`` values and
    the revision; for a downgrade the reverse; ``depends_on`` is left out as
    Alembic does.  A stamp step (``is_stamp``) runs no code: it only writes the
    version table; its ``revision`` is the revision stamped, or the row removed
    when stamping to base.
    """

    revision: str
    direction: Direction
    change: VersionChange
    from_revisions: tuple[str, ...] = ()
    to_revisions: tuple[str, ...] = ()
    is_stamp: bool = False

    def __str__(self) -> str:
        verb = "stamp" if self.is_stamp else ("upgrade" if self.direction == "up" else "downgrade")
        old = ", ".join(self.from_revisions) or "base"
        new = ", ".join(self.to_revisions) or "base"
        return f"{verb} {old} -> {new} ({self.change})"


@dataclass(frozen=True, slots=True)
class Plan:
    """An ordered list of steps from ``from_heads`` to ``to_heads``.

    ``direction`` is ``"up"``, ``"down"`` or ``"stamp"``.  With ``purge`` (stamp
    only) the runtime first deletes every version row, whatever it names, and the
    steps start from an empty table.  Heads are sorted by id.  An empty plan means
    there is nothing to do.
    """

    direction: Literal["up", "down", "stamp"]
    steps: tuple[Step, ...]
    from_heads: tuple[str, ...]
    to_heads: tuple[str, ...]
    purge: bool = False

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    @property
    def revisions(self) -> tuple[str, ...]:
        """The revision of each step, in order."""
        return tuple(step.revision for step in self.steps)


def plan_upgrade(graph: RevisionGraph, current_heads: Sequence[str], target: str | Target) -> Plan:
    """Plan ``upgrade target`` from a database whose version rows are ``current_heads``.

    Applies every revision the target needs (its ancestors, dependencies
    included) that the database lacks; a target already applied plans nothing.
    Relative targets: ``+N`` counts up from the current heads, ``rev+N`` and
    ``rev-N`` from a revision; ``-N`` is refused (use downgrade).
    """
    t = parse_target(target)
    if t.kind == "current" and t.steps is not None and t.steps < 0:
        raise InvalidTarget(
            f"upgrade {t.text or t!s} would move down",
            hint=f"use 'downgrade {t.text or t!s}' to go down, or "
            f"'{with_steps(t, -t.steps)}' to go up",
        )
    current = current_heads_of(graph, current_heads)
    tables = graph._tables
    targets = _topmost(graph, resolve_target(graph, t, current))
    needed = _order.closure(targets, tables.parents) - _order.closure(current, tables.parents)
    order = _order.walk_down(needed, targets, tables.down, tables.parents, tables.level)
    order.reverse()
    return _simulate(graph, "up", current, order)


def plan_downgrade(
    graph: RevisionGraph, current_heads: Sequence[str], target: str | Target
) -> Plan:
    """Plan ``downgrade target`` from a database whose version rows are ``current_heads``.

    Undoes every applied revision above the target (its descendants, dependents
    included).  ``label@rev`` and ``label@base`` only undo that label's branch when
    the target has several branches above it; ``-N`` counts down from the one
    current head (or the label's); ``+N`` is refused (use upgrade).  A target that
    is not below the current heads raises :class:`~amigrate.errors.ResolutionError`.
    """
    t = parse_target(target)
    text = t.text or str(t)
    if t.kind == "current" and t.steps is not None and t.steps > 0:
        raise InvalidTarget(
            f"downgrade {text} would move up",
            hint=f"use 'upgrade {text}' to go up, or '{with_steps(t, -t.steps)}' to go down",
        )
    current = current_heads_of(graph, current_heads)
    anchor = branch_anchor(graph, t.branch) if t.branch else None
    dest: str | None
    if t.steps is not None and t.steps < 0:
        anchor, dest = downgrade_start_and_walk(graph, t, current)
    elif t.steps is not None:
        dest = walk_up(graph, t, current)
    else:
        found = absolute(graph, t, current)
        if len(found) > 1:
            raise ResolutionError(
                f"downgrade {text} names {len(found)} revisions: {', '.join(found)}",
                hint="downgrade to one revision, or to '<branch label>@base'",
            )
        dest = found[0] if found else None
    tables = graph._tables
    roots = graph.children(dest) if dest is not None else graph.bases
    if anchor is not None and len(roots) > 1:
        roots = _roots_on_branch(graph, roots, anchor, text)
    applied = _order.closure(current, tables.parents)
    drop = _order.closure(roots, tables.children, tables.dependents) & applied
    # (applied through a depends_on, with nothing above it: nothing to do, not an error)
    if dest is not None and not drop and dest not in applied:
        raise ResolutionError(
            f"cannot downgrade to {dest}: it is not below the current heads "
            f"({', '.join(current) or 'none'})",
            hint="'amigrate current' shows the heads; use upgrade to move up",
        )
    order = _order.walk_down(drop, current, tables.down, tables.parents, tables.level)
    return _simulate(graph, "down", current, order)


def _roots_on_branch(
    graph: RevisionGraph, roots: Sequence[str], anchor: str, text: str
) -> tuple[str, ...]:
    # Alembic keeps the roots below the branch's revision.  When that leaves none
    # (the label sits below the fork, so both sides carry it) Alembic fails;
    # keeping the roots in the branch's lineage then is what the user asked for.
    below = graph.ancestors(anchor, include_dependencies=False) | {anchor}
    kept = tuple(rid for rid in roots if rid in below)
    if not kept:
        kept = tuple(rid for rid in roots if graph.in_lineage(rid, anchor))
    if not kept:
        raise ResolutionError(
            f"downgrade {text}: nothing above the target is on branch {anchor}",
            hint="check the branch label, or downgrade to a revision on that branch",
        )
    return kept


def _topmost(graph: RevisionGraph, targets: tuple[str, ...]) -> tuple[str, ...]:
    # Alembic refuses targets where one is below another ("overlaps"); the lower
    # one is implied by the upper, so drop it instead.
    if len(targets) < 2:
        return targets
    below = _order.strictly_below(targets, graph._tables.parents)
    return tuple(rid for rid in targets if rid not in below)


def current_heads_of(graph: RevisionGraph, current_heads: Sequence[str]) -> tuple[str, ...]:
    """Check the database's heads: known ids, none below another."""
    current = checked_heads(graph, current_heads)
    if len(current) > 1:
        below = _order.strictly_below(current, graph._tables.parents)
        stale = [rid for rid in current if rid in below]
        if stale:
            raise ResolutionError(
                f"the version table is inconsistent: {', '.join(stale)} "
                f"{'is' if len(stale) == 1 else 'are'} below another of its heads "
                f"({', '.join(current)})",
                hint="reset it with 'amigrate stamp --purge <revision>'",
            )
    return current


# -- the version table, the way Alembic's HeadMaintainer keeps it ------------------------


def _simulate(
    graph: RevisionGraph, direction: Direction, current: tuple[str, ...], order: Sequence[str]
) -> Plan:
    table = VersionTable(current)
    revisions, down = graph._tables.revisions, graph._tables.down
    # What the rows stand for; a downgrade needs it to tell which parents another
    # head still stands on.
    applied = set(_order.closure(current, graph._tables.parents)) if direction == "down" else set()
    steps: list[Step] = []
    for rid in order:
        declared = revisions[rid].down_revisions
        if direction == "up":
            change = _upgrade_change(down[rid], table, rid)
            step = Step(rid, "up", change, declared, (rid,))
        else:
            applied.discard(rid)
            change = _downgrade_change(graph, table, rid, applied)
            step = Step(rid, "down", change, (rid,), declared)
        try:
            table.apply(change)
        except RevisionError as err:  # pragma: no cover - the rules above never do this
            raise ResolutionError(f"cannot plan {rid}: {err}") from err
        steps.append(step)
    return Plan(direction, tuple(steps), current, table.rows)


def _upgrade_change(downs: tuple[str, ...], table: VersionTable, rid: str) -> VersionChange:
    present = [d for d in downs if d in table]
    if not present:
        return VersionChange("insert", (), (rid,))
    if len(present) == 1:
        return VersionChange("update", (present[0],), (rid,))
    # Alembic deletes every merged parent but the last and updates the last; with
    # other heads around it takes them in set order, here in declared order.
    return VersionChange("merge", tuple(present), (rid,))


def _downgrade_change(
    graph: RevisionGraph, table: VersionTable, rid: str, applied: set[str]
) -> VersionChange:
    if rid not in table:
        raise ResolutionError(
            f"cannot plan the downgrade of {rid}: the version table does not list it "
            f"(rows: {', '.join(table.rows) or 'none'})",
            hint="the version table disagrees with the history; 'amigrate stamp' can fix it",
        )
    tables = graph._tables
    downs = tables.down[rid]
    if not downs:
        return VersionChange("delete", (rid,), ())
    # A parent that another head still stands on keeps no row of its own.  Alembic
    # asks whether it is below one of the other heads; with rid's children gone
    # already, that is the same as having a child that stays applied.
    to = [
        d
        for d in downs
        if not any(c in applied for c in tables.children[d])
        and not any(c in applied for c in tables.dependents[d])
    ]
    if len(to) > 1:
        # A parent below another parent is implied by it.  Alembic skips this check
        # when other heads remain, and then writes a row below another row.
        to = [
            d
            for d in to
            if not any(
                o != d and _order.is_ancestor(d, o, tables.parents, tables.level) for o in to
            )
        ]
    if not to:
        return VersionChange("delete", (rid,), ())
    # Alembic inserts all but one parent and updates the row to the last one; it
    # picks them in set order, here in declared order (mirroring the upgrade merge).
    return VersionChange.of((rid,), to)
