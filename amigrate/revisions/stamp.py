"""``stamp``: rewrite the version table to name other revisions, running no migrations.

Follows Alembic's ``ScriptDirectory._stamp_revs`` and the ``HeadMaintainer`` rules
for its ``StampStep``: each destination takes over the current heads in its
lineage (its ancestors and descendants, dependencies included): one head is
updated to it, the others deleted; a destination with no such head is inserted as
a new branch; stamping ``base`` deletes the heads.

One deliberate difference: Alembic gathers the heads in the lineage of *any*
destination and hands all of them to *each* destination, so ``stamp x1 y2`` with
heads ``x1, y1`` deletes ``x1``.  Here each destination takes only the heads in
its own lineage, which gives the same writes for a single destination and the
intended result for several.
"""

from __future__ import annotations

from collections.abc import Sequence

from amigrate.errors import ResolutionError
from amigrate.revisions import _order
from amigrate.revisions.graph import RevisionGraph
from amigrate.revisions.planner import Plan, Step, current_heads_of
from amigrate.revisions.targets import Target, branch_anchor, parse_target, resolve_target
from amigrate.revisions.versions import VersionChange, VersionTable

__all__ = ["plan_stamp"]


def plan_stamp(
    graph: RevisionGraph,
    current_heads: Sequence[str],
    targets: str | Target | Sequence[str | Target],
    *,
    purge: bool = False,
) -> Plan:
    """Plan ``stamp targets``: the version-table writes that make the heads ``targets``.

    ``targets`` is one target or several (``stamp a b``); none means ``base``.
    With ``purge`` the runtime empties the version table first (whatever its rows
    name, so it also repairs rows naming unknown revisions) and the steps start
    from an empty table; ``plan.from_heads`` still shows the rows before.
    Destinations where one is below another, and ``base`` combined with other
    targets, raise :class:`~amigrate.errors.ResolutionError`.
    """
    args = [targets] if isinstance(targets, str | Target) else list(targets)
    parsed = [parse_target(arg) for arg in args] or [parse_target("base")]
    text = " ".join(t.text or str(t) for t in parsed)
    before = tuple(sorted(set(current_heads)))
    current = () if purge else current_heads_of(graph, current_heads)

    dests: list[str] = []
    to_base: list[Target] = []
    for t in parsed:
        found = resolve_target(graph, t, current)
        if not found:
            to_base.append(t)
        dests.extend(rid for rid in found if rid not in dests)
    if dests and to_base:
        raise ResolutionError(
            f"stamp {text}: 'base' cannot be combined with other targets",
            hint="use 'amigrate stamp --purge <revisions>' to replace every row",
        )
    _check_apart(graph, dests, text)

    table = VersionTable(current)
    steps: list[Step] = []
    if not dests:
        for head in _base_heads(graph, current, to_base):
            change = VersionChange("delete", (head,), ())
            table.apply(change)
            steps.append(Step(head, "down", change, (head,), (), is_stamp=True))
    for dest in dests:
        if dest in current:
            continue
        if dest in graph.applied(table.rows) and not any(
            graph.is_ancestor(dest, h, include_dependencies=False) for h in table.rows
        ):
            # Applied already, through a revision that depends_on it: there is no row to
            # write, and the dependent's rows must stay (replacing them would record its
            # branch as never applied).
            continue
        # Every current head in the destination's lineage gives way to it: all of
        # them are below it (an upgrade) or all above it (a downgrade), since the
        # current heads are consistent.  A head an earlier destination took over is
        # no longer in the table.
        heads = tuple(
            h
            for h in current
            if h in table and graph.in_lineage(h, dest, include_dependencies=True)
        )
        up = not any(graph.is_ancestor(dest, h) for h in heads)
        change = VersionChange.of(heads, (dest,))
        table.apply(change)
        steps.append(Step(dest, "up" if up else "down", change, heads, (dest,), is_stamp=True))
    return Plan("stamp", tuple(steps), before, table.rows, purge)


def _base_heads(
    graph: RevisionGraph, current: tuple[str, ...], args: Sequence[Target]
) -> list[str]:
    # 'base' clears every head; 'label@base' only the heads in that label's lineage.
    anchors = [branch_anchor(graph, t.branch) for t in args if t.branch]
    if len(anchors) < len(args):
        return list(current)
    return [
        h
        for h in current
        if any(graph.in_lineage(h, a, include_dependencies=True) for a in anchors)
    ]


def _check_apart(graph: RevisionGraph, dests: Sequence[str], text: str) -> None:
    if len(dests) < 2:
        return
    parents = graph._tables.parents
    below = _order.strictly_below(dests, parents)
    for dest in dests:
        if dest in below:
            other = next(o for o in dests if o != dest and graph.is_ancestor(dest, o))
            raise ResolutionError(
                f"stamp {text}: {dest} is below {other}, so both cannot be heads",
                hint=f"stamp {other} alone; it implies {dest}",
            )
