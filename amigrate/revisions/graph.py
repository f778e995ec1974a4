"""The revision graph: every revision, how they connect, and questions about them."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence

from amigrate.errors import AmbiguousRevision, UnknownRevision
from amigrate.revisions import _order
from amigrate.revisions._build import build_tables
from amigrate.revisions.revision import Revision
from amigrate.revisions.targets import Target, resolve_target

__all__ = ["RevisionGraph"]


class RevisionGraph:
    """An immutable, validated history built from :class:`Revision` objects.

    Building checks the history the way Alembic does and raises a
    :class:`~amigrate.errors.HistoryError` subclass that names the files:
    :class:`~amigrate.errors.DuplicateRevision`,
    :class:`~amigrate.errors.UnknownReference` (a ``down_revision`` or
    ``depends_on`` naming nothing), :class:`~amigrate.errors.CycleDetected` and
    :class:`~amigrate.errors.DuplicateBranchLabel`.

    Two kinds of edge connect revisions.  ``down_revision`` edges make the
    version table's lineage: :attr:`heads` are revisions no ``down_revision``
    names.  ``depends_on`` edges only order the steps: :attr:`effective_heads`
    also leave out revisions that something depends on.  ``head`` resolves against
    :attr:`heads`; ``heads`` against :attr:`effective_heads`, as in Alembic.

    ``graph[rev_id]`` returns a :class:`Revision` (exact ids only;
    :meth:`lookup` also takes labels and prefixes), ``rev_id in graph`` tests an
    exact id, ``len(graph)`` counts revisions, and iterating yields the revisions
    bases first in a deterministic topological order: the order in which
    ``upgrade heads`` applies them to an empty database.  Tuples of ids returned
    by the properties and methods are sorted by id unless they say otherwise.
    """

    __slots__ = (
        "_bases",
        "_effective_bases",
        "_effective_heads",
        "_heads",
        "_order",
        "_sorted_ids",
        "_tables",
        "_vparents",
    )

    def __init__(self, revisions: Iterable[Revision] = ()) -> None:
        t = build_tables(revisions)
        # Package-internal: targets.py, planner.py and stamp.py read these directly.
        self._tables = t
        revs = t.revisions
        self._vparents: dict[str, tuple[str, ...]] = {
            rid: rev.down_revisions for rid, rev in revs.items()
        }
        self._sorted_ids = sorted(revs)
        self._heads = tuple(rid for rid in self._sorted_ids if not t.children[rid])
        self._effective_heads = tuple(rid for rid in self._heads if not t.dependents[rid])
        self._bases = tuple(rid for rid in self._sorted_ids if revs[rid].is_base)
        self._effective_bases = tuple(rid for rid in self._bases if not revs[rid].depends_on)
        newest_first = _order.walk_down(revs, self._effective_heads, t.down, t.parents, t.level)
        self._order = tuple(reversed(newest_first))

    # -- container protocol -------------------------------------------------------

    def __getitem__(self, revision: str) -> Revision:
        """The revision with exactly this id; :class:`UnknownRevision` if none."""
        try:
            return self._tables.revisions[revision]
        except KeyError:
            raise UnknownRevision(revision) from None

    def get(self, revision: str) -> Revision | None:
        """The revision with exactly this id, or None."""
        return self._tables.revisions.get(revision)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, Revision):
            return self._tables.revisions.get(item.revision) == item
        return item in self._tables.revisions

    def __len__(self) -> int:
        return len(self._tables.revisions)

    def __iter__(self) -> Iterator[Revision]:
        revs = self._tables.revisions
        return (revs[rid] for rid in self._order)

    def __repr__(self) -> str:
        return f"<RevisionGraph {len(self)} revisions, heads={list(self._heads)}>"

    # -- shape ----------------------------------------------------------------------

    @property
    def ids(self) -> tuple[str, ...]:
        """Every revision id, in iteration (topological, bases first) order."""
        return self._order

    @property
    def heads(self) -> tuple[str, ...]:
        """Revisions that no ``down_revision`` names: what ``head`` must be unique among."""
        return self._heads

    @property
    def effective_heads(self) -> tuple[str, ...]:
        """Heads that nothing depends on either: what the ``heads`` target means."""
        return self._effective_heads

    @property
    def bases(self) -> tuple[str, ...]:
        """Revisions without a ``down_revision`` (they may still have ``depends_on``)."""
        return self._bases

    @property
    def effective_bases(self) -> tuple[str, ...]:
        """Bases that depend on nothing either."""
        return self._effective_bases

    @property
    def branch_points(self) -> tuple[str, ...]:
        """Revisions named as ``down_revision`` by more than one revision."""
        return tuple(rid for rid in self._sorted_ids if len(self._tables.children[rid]) > 1)

    @property
    def merge_points(self) -> tuple[str, ...]:
        """Revisions with more than one ``down_revision``."""
        revs = self._tables.revisions
        return tuple(rid for rid in self._sorted_ids if revs[rid].is_merge_point)

    @property
    def labels(self) -> Mapping[str, str]:
        """Each declared branch label, mapped to the revision that declares it."""
        return dict(sorted(self._tables.label_owner.items()))

    def children(self, revision: str, *, include_dependencies: bool = False) -> tuple[str, ...]:
        """Revisions whose ``down_revision`` names this one (and, optionally, dependents)."""
        t = self._tables
        kids = t.children[self[revision].revision]
        if include_dependencies:
            return tuple(sorted(set(kids).union(t.dependents[revision])))
        return kids

    def parents(self, revision: str, *, include_dependencies: bool = False) -> tuple[str, ...]:
        """The ``down_revision`` values (declared order), then resolved dependencies if asked."""
        rev = self[revision]
        return self._tables.parents[revision] if include_dependencies else rev.down_revisions

    def dependencies(self, revision: str) -> tuple[str, ...]:
        """``depends_on`` resolved to revision ids (a label becomes the revision declaring it)."""
        return self._tables.deps[self[revision].revision]

    def branch_labels_of(self, revision: str) -> tuple[str, ...]:
        """Every label that applies to the revision, declared here or propagated.

        A label applies to the revision declaring it, to all its descendants, and
        (as in Alembic) to its ancestors down to the nearest branch or merge point
        when the labelled line above it does not fork.
        """
        return tuple(sorted(self._tables.labels[self[revision].revision]))

    def is_head(self, revision: str) -> bool:
        """True when no ``down_revision`` names the revision."""
        return not self._tables.children[self[revision].revision]

    def is_effective_head(self, revision: str) -> bool:
        """True when nothing names the revision, by ``down_revision`` or ``depends_on``."""
        return self.is_head(revision) and not self._tables.dependents[revision]

    def is_base(self, revision: str) -> bool:
        """True when the revision has no ``down_revision``."""
        return self[revision].is_base

    def is_branch_point(self, revision: str) -> bool:
        """True when two or more revisions name this one as ``down_revision``."""
        return len(self._tables.children[self[revision].revision]) > 1

    def is_merge_point(self, revision: str) -> bool:
        """True when the revision has two or more ``down_revision`` values."""
        return self[revision].is_merge_point

    # -- reachability ---------------------------------------------------------------

    def ancestors(self, revision: str, *, include_dependencies: bool = True) -> frozenset[str]:
        """Every revision below this one (not itself), following ``depends_on`` too by default."""
        edges = self._tables.parents if include_dependencies else self._vparents
        return _order.closure((self[revision].revision,), edges) - {revision}

    def is_fully_applied(self, current_heads: Sequence[str]) -> bool:
        """True when a database at *current_heads* has every revision: ``upgrade heads``
        has nothing to do. (Its rows need not be :attr:`heads`: a head that another
        revision ``depends_on`` has no row of its own once that revision is applied.)"""
        known = [rid for rid in current_heads if rid in self]
        if len(known) != len(current_heads):
            return False
        return len(_order.closure(known, self._tables.parents)) == len(self.ids)

    def applied(self, current_heads: Sequence[str]) -> frozenset[str]:
        """Every revision a database at *current_heads* has: those and all below them
        (through ``depends_on`` too). Unknown ids are left out."""
        known = [rid for rid in current_heads if rid in self]
        return _order.closure(known, self._tables.parents)

    def effective_current(self, current_heads: Sequence[str]) -> tuple[str, ...]:
        """What Alembic's ``current`` lists for a database at *current_heads*: those, then
        the tip of each branch they depend on (``depends_on``), which has no version row
        of its own once a revision that depends on it is applied. Unknown ids are left out.

        The tips are the revisions below *current_heads* (through ``depends_on`` too) none
        of whose children is among them; the added ones sorted by id.
        """
        known = [rid for rid in current_heads if rid in self]
        below = _order.closure(known, self._tables.parents)
        children = self._tables.children
        tips = {rid for rid in below if not any(kid in below for kid in children[rid])}
        extra = [rid for rid in self._sorted_ids if rid in tips and rid not in known]
        return (*known, *extra)

    def descendants(self, revision: str, *, include_dependencies: bool = True) -> frozenset[str]:
        """Every revision above this one (not itself), following ``depends_on`` too by default."""
        t = self._tables
        rid = self[revision].revision
        if include_dependencies:
            return _order.closure((rid,), t.children, t.dependents) - {rid}
        return _order.closure((rid,), t.children) - {rid}

    def is_ancestor(
        self, ancestor: str, descendant: str, *, include_dependencies: bool = True
    ) -> bool:
        """True when ``ancestor`` is strictly below ``descendant``."""
        a, d = self[ancestor].revision, self[descendant].revision
        edges = self._tables.parents if include_dependencies else self._vparents
        return a != d and _order.is_ancestor(a, d, edges, self._tables.level)

    def in_lineage(self, revision: str, of: str, *, include_dependencies: bool = False) -> bool:
        """True when ``revision`` is ``of``, or an ancestor or descendant of it.

        This is Alembic's "shares lineage", which decides what ``label@...``
        targets and stamps touch.
        """
        a, b = self[revision].revision, self[of].revision
        edges = self._tables.parents if include_dependencies else self._vparents
        level = self._tables.level
        return _order.is_ancestor(a, b, edges, level) or _order.is_ancestor(b, a, edges, level)

    def sort(self, revisions: Iterable[str]) -> tuple[str, ...]:
        """The given ids, deduplicated, in the graph's iteration order."""
        wanted = set(revisions)
        unknown = wanted.difference(self._tables.revisions)
        if unknown:
            raise UnknownRevision(min(unknown))
        return tuple(rid for rid in self._order if rid in wanted)

    # -- names ----------------------------------------------------------------------

    def lookup(self, ident: str, *, branch: str | None = None) -> str:
        """The revision id that ``ident`` names: an exact id, a branch label, or a prefix.

        A branch label names the revision that declares it.  A prefix must match
        one id; with ``branch`` (a label or revision), only ids in that branch's
        lineage count.  Raises :class:`~amigrate.errors.UnknownRevision` or
        :class:`~amigrate.errors.AmbiguousRevision` (with ``.candidates``).
        """
        t = self._tables
        if ident in t.revisions:
            return ident
        owner = t.label_owner.get(ident)
        if owner is not None:
            return owner
        ids = self._sorted_ids
        start = bisect.bisect_left(ids, ident)
        end = bisect.bisect_left(ids, ident + "\U0010ffff", lo=start)
        matches = ids[start:end]
        if branch is not None and len(matches) > 1:
            anchor = self.lookup(branch)
            on_branch = [rid for rid in matches if self.in_lineage(rid, anchor)]
            if not on_branch:
                raise UnknownRevision(
                    ident,
                    hint=f"{', '.join(matches)} start with {ident!r}, but none is on that branch",
                )
            matches = on_branch
        if not matches:
            raise UnknownRevision(ident)
        if len(matches) > 1:
            raise AmbiguousRevision(ident, matches)
        return matches[0]

    def resolve(self, target: str | Target, current_heads: Sequence[str] = ()) -> tuple[str, ...]:
        """The revision ids a target names, in id order; ``()`` for ``base``.

        ``target`` is a string in any form :func:`~amigrate.revisions.parse_target`
        accepts, or an already parsed :class:`~amigrate.revisions.Target`.
        ``current_heads`` are the database's version rows; ``current``, ``+N``
        and ``-N`` need them.  ``+N`` walks up as ``upgrade`` does and ``-N``
        down as ``downgrade`` does.
        """
        return resolve_target(self, target, current_heads)
