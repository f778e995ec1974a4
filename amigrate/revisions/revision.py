"""One revision: the identifiers a revision file declares, and nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from amigrate.errors import HistoryError

__all__ = ["Revision"]

#: The longest revision id the version table holds: ``version_num VARCHAR(32)``, Alembic's.
MAX_ID_LENGTH = 32


@dataclass(frozen=True, slots=True)
class Revision:
    """A node of the history: an id, the revisions below it, labels and dependencies.

    ``down_revisions`` is empty for a base, has one id for an ordinary revision and
    several for a merge.  ``depends_on`` names revisions or branch labels that must be
    applied first without being this revision's parents in the version table.
    ``path`` is only used to name the file in error messages.  Build instances with
    :meth:`create` when the values come in Alembic's loose form (None, a string, a
    tuple or a list).
    """

    revision: str
    down_revisions: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    message: str = ""
    path: str | None = None

    @classmethod
    def create(
        cls,
        revision: str,
        down_revision: str | Sequence[str] | None,
        branch_labels: str | Sequence[str] | None = None,
        depends_on: str | Sequence[str] | None = None,
        message: str = "",
        path: str | None = None,
    ) -> Revision:
        """Build a revision from the values a revision file declares, Alembic-style.

        Each of ``down_revision``, ``branch_labels`` and ``depends_on`` may be None,
        one string, or a tuple or list of strings; they are stored as tuples.  A value
        of another type raises :class:`~amigrate.errors.HistoryError` naming ``path``.
        """
        if not isinstance(revision, str) or not revision:
            raise _bad_value(revision, "revision", path, "a non-empty string")
        return cls(
            revision=revision,
            down_revisions=_to_tuple(down_revision, "down_revision", revision, path),
            branch_labels=_to_tuple(branch_labels, "branch_labels", revision, path),
            depends_on=_to_tuple(depends_on, "depends_on", revision, path),
            message=message,
            path=path,
        )

    @property
    def is_base(self) -> bool:
        """True when no ``down_revision`` is declared (``depends_on`` may still be)."""
        return not self.down_revisions

    @property
    def is_merge_point(self) -> bool:
        """True when the revision declares more than one ``down_revision``."""
        return len(self.down_revisions) > 1

    @property
    def where(self) -> str:
        """``"<id> (<path>)"`` or just the id, for messages."""
        return f"{self.revision} ({self.path})" if self.path else self.revision


def _to_tuple(
    value: str | Sequence[str] | None, attribute: str, revision: str, path: str | None
) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, tuple | list):
        items = tuple(value)
        for item in items:
            if not isinstance(item, str) or not item:
                raise _bad_value(value, attribute, path, "non-empty strings", revision)
        return items
    raise _bad_value(value, attribute, path, "None, a string, or a tuple of strings", revision)


def _bad_value(
    value: object, attribute: str, path: str | None, expected: str, revision: str | None = None
) -> HistoryError:
    where = f"revision {revision}" if revision else "a revision"
    if path:
        where += f" ({path})"
    return HistoryError(
        f"{where} has {attribute} = {value!r}; expected {expected}",
        paths=(path,) if path else (),
        hint=f"fix {attribute} in that file",
    )
