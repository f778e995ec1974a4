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
    graph: RevisionGraph,
    rid: str,
    current: Collection[str] = (),
    *,
    tree: bool = True,
    verbose: bool = False,
) -> str:
    """`` (head)``, `` (effective head)``, `` (current)``, `` (branchpoint)``, `` (mergepoint)``.

    As Alembic prints them: in the one-line form a head that another revision
    ``depends_on`` is an "effective head" and ``(current)`` comes before the tree marks;
    the verbose form calls every head a head and puts ``(current)`` last.
    """
    marks = []
    if verbose:
        if graph.is_head(rid):
            marks.append("head")
    elif graph.is_effective_head(rid):
        marks.append("head")
    elif graph.is_head(rid):
        marks.append("effective head")
    current_mark = None
    if rid in current:
        # Across several databases, say which of them are at this revision.
        names = current[rid] if isinstance(current, Mapping) else None
        current_mark = f"current: {', '.join(names)}" if names else "current"
    if current_mark and not verbose:
        marks.append(current_mark)
    if tree and graph.is_branch_point(rid):
        marks.append("branchpoint")
    if tree and graph.is_merge_point(rid):
        marks.append("mergepoint")
    if current_mark and verbose:
        marks.append(current_mark)
    return "".join(f" ({m})" for m in marks)


def one_line(
    graph: RevisionGraph,
    script: Script,
    current: Collection[str] = (),
    *,
    parents: bool = True,
    message: bool = True,
    tree: bool | None = None,
) -> str:
    """``parent (dependency) -> rev (label) (head), message``, as ``alembic history``
    prints it; the branchpoint/mergepoint marks (*tree*) go with the parents unless
    told otherwise."""
    rid = script.id
    marks = indicators(graph, rid, current, tree=parents if tree is None else tree)
    text = f"{rid}{_labels(graph, rid)}{marks}"
    if parents:
        depends = graph[rid].depends_on
        also = f" ({', '.join(depends)})" if depends else ""
        text = f"{_parents(graph, rid)}{also} -> {text}"
    if message:
        text += f", {script.revision.message}"
    return text


def verbose_block(graph: RevisionGraph, script: Script, current: Collection[str] = ()) -> str:
    """The multi-line form of ``show`` and ``history --verbose``."""
    rid = script.id
    rev = graph[rid]
    lines = [f"Rev: {rid}{indicators(graph, rid, current, verbose=True)}"]
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
