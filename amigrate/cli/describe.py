"""How revisions are shown: Alembic's one-line and verbose forms, and JSON objects."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amigrate.revisions import RevisionGraph
    from amigrate.scripts.directory import Script

__all__ = ["as_json", "indicators", "one_line", "verbose_block"]


def _parents(graph: RevisionGraph, rid: str) -> str:
    return ", ".join(graph[rid].down_revisions) or "<base>"


def _labels(graph: RevisionGraph, rid: str) -> str:
    labels = graph.branch_labels_of(rid)
    return f" ({', '.join(labels)})" if labels else ""


def indicators(
    graph: RevisionGraph, rid: str, current: Collection[str] = (), *, tree: bool = True
) -> str:
    """`` (head)``, `` (effective head)``, `` (branchpoint)``, `` (mergepoint)``, `` (current)``."""
    marks = []
    if graph.is_head(rid):
        marks.append("head")
    elif graph.is_effective_head(rid):  # pragma: no cover - only heads can be effective heads
        marks.append("effective head")
    if tree and graph.is_branch_point(rid):
        marks.append("branchpoint")
    if tree and graph.is_merge_point(rid):
        marks.append("mergepoint")
    if rid in current:
        # Across several databases, say which of them are at this revision.
        names = current[rid] if isinstance(current, Mapping) else None
        marks.append(f"current: {', '.join(names)}" if names else "current")
    return "".join(f" ({m})" for m in marks)


def one_line(
    graph: RevisionGraph,
    script: Script,
    current: Collection[str] = (),
    *,
    parents: bool = True,
    message: bool = True,
) -> str:
    """``parent -> rev (label) (head), message``, as ``alembic history`` prints it."""
    rid = script.id
    text = f"{rid}{_labels(graph, rid)}{indicators(graph, rid, current, tree=parents)}"
    if parents:
        text = f"{_parents(graph, rid)} -> {text}"
    if message:
        text += f", {script.revision.message}"
    return text


def verbose_block(graph: RevisionGraph, script: Script, current: Collection[str] = ()) -> str:
    """The multi-line form of ``show`` and ``history --verbose``."""
    rid = script.id
    rev = graph[rid]
    lines = [f"Rev: {rid}{indicators(graph, rid, current)}"]
    if rev.is_merge_point:
        lines.append(f"Merges: {', '.join(rev.down_revisions)}")
    else:
        lines.append(f"Parent: {_parents(graph, rid)}")
    if rev.depends_on:
        lines.append(f"Also depends on: {', '.join(rev.depends_on)}")
    if graph.is_branch_point(rid):
        lines.append(f"Branches into: {', '.join(graph.children(rid))}")
    labels = graph.branch_labels_of(rid)
    if labels:
        lines.append(f"Branch names: {', '.join(labels)}")
    lines.append(f"Path: {script.path}")
    lines.append("")
    lines += [f"    {line}".rstrip() for line in (script.docstring or rev.message).splitlines()]
    return "\n".join(lines) + "\n"


def as_json(
    graph: RevisionGraph, script: Script, current: Collection[str] | None = None
) -> dict[str, Any]:
    """The stable JSON object of a revision (``--json`` of every inspection command)."""
    rid = script.id
    rev = graph[rid]
    data: dict[str, Any] = {
        "revision": rid,
        "down_revisions": list(rev.down_revisions),
        "branch_labels": list(graph.branch_labels_of(rid)),
        "depends_on": list(rev.depends_on),
        "message": rev.message,
        "path": str(script.path),
        "create_date": script.create_date,
        "is_head": graph.is_head(rid),
        "is_base": graph.is_base(rid),
        "is_branch_point": graph.is_branch_point(rid),
        "is_merge_point": graph.is_merge_point(rid),
    }
    if current is not None:
        data["is_current"] = rid in current
    return data
