"""Write new revision files: ids, slugs, file names, and ``script.py.mako``."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amigrate.errors import CommandError, ConfigError
from amigrate.revisions.revision import MAX_ID_LENGTH

__all__ = [
    "EMPTY_MESSAGE",
    "NewRevision",
    "create_date",
    "docstring_text",
    "new_rev_id",
    "render_revision",
    "revision_filename",
    "slugify",
    "validate_rev_id",
]

_WORD = re.compile(r"\w+")
_REV_ID = re.compile(rf"\w{{1,{MAX_ID_LENGTH}}}")
#: The message of a revision made without ``-m`` (Alembic's words).
EMPTY_MESSAGE = "empty message"
_FILE_TOKENS = ("rev", "slug", "epoch", "year", "month", "day", "hour", "minute", "second")


@dataclass(frozen=True)
class NewRevision:
    """Everything a new revision file is rendered from."""

    rev_id: str
    message: str
    down_revision: str | tuple[str, ...] | None
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    created: dt.datetime | None = None


def new_rev_id() -> str:
    """A new revision id: 12 random hex characters, as Alembic makes them."""
    return uuid.uuid4().hex[-12:]


def validate_rev_id(rev_id: str) -> str:
    """Check a user-chosen id (``--rev-id``): 1 to 32 letters, digits or underscores."""
    if not _REV_ID.fullmatch(rev_id):
        bad = sorted({c for c in rev_id if not (c.isalnum() or c == "_")})
        why = (
            f"is {len(rev_id)} characters long (at most {MAX_ID_LENGTH})"
            if len(rev_id) > MAX_ID_LENGTH
            else ("is empty" if not rev_id else f"contains {' '.join(map(repr, bad))}")
        )
        raise CommandError(
            f"revision id {rev_id!r} {why}",
            hint=f"use at most {MAX_ID_LENGTH} letters, digits or underscores "
            "(@ - + : would clash with target syntax such as 'rev@head' and 'rev+1')",
        )
    return rev_id


def docstring_text(message: str) -> str:
    """*message* escaped to sit inside a triple-quoted docstring and read back unchanged.

    Backslashes are doubled and triple quotes escaped; other text is left as is.
    """
    text = message.replace("\\", "\\\\")
    return text.replace('"""', '\\"\\"\\"').replace("'''", "\\'\\'\\'")


def slugify(message: str, truncate: int) -> str:
    """The file-name slug of a message: its words, lower case, joined by underscores.

    Longer than *truncate* characters, it is cut at a word boundary (as Alembic does).
    """
    slug = "_".join(_WORD.findall(message or "")).lower()
    if truncate and len(slug) > truncate:
        head = slug[:truncate]
        slug = (head.rsplit("_", 1)[0] if "_" in head else head) + "_"
    return slug


def create_date(timezone: str | None) -> dt.datetime:
    """Now, in the configured time zone (an IANA name) or local time."""
    if not timezone:
        return dt.datetime.now()
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        try:
            zone = ZoneInfo(timezone)
        except ZoneInfoNotFoundError:
            zone = ZoneInfo(timezone.upper())  # utc, est: Alembic takes these too
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"timezone = {timezone!r} is not a known time zone",
            hint="use an IANA name such as UTC or Europe/Berlin",
        ) from None
    return dt.datetime.now(tz=zone)


def revision_filename(template: str, rev_id: str, slug: str, created: dt.datetime) -> str:
    """The file name (may contain ``/``) that *template* gives, without ``.py``."""
    values: dict[str, Any] = {
        "rev": rev_id,
        "slug": slug,
        "epoch": int(created.timestamp()),
        "year": created.year,
        "month": created.month,
        "day": created.day,
        "hour": created.hour,
        "minute": created.minute,
        "second": created.second,
    }
    try:
        name = template % values
    except KeyError as exc:
        raise ConfigError(
            f"file_template {template!r} uses unknown token %({exc.args[0]})s",
            hint=f"known tokens: {', '.join('%(' + t + ')' for t in _FILE_TOKENS)}",
        ) from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"file_template {template!r} is malformed: {exc}",
            hint="write tokens as %(rev)s or %(month).2d (in an ini file: %%(rev)s)",
        ) from None
    if not name or name.startswith("/") or ".." in Path(name).parts:
        raise ConfigError(
            f"file_template {template!r} gives the file name {name!r}",
            hint="the template must give a relative name inside the versions folder",
        )
    return name


def render_revision(
    template_path: Path,
    new: NewRevision,
    *,
    config: Any,
    context: Mapping[str, Any] | None = None,
) -> str:
    """Render ``script.py.mako`` for *new* with Alembic's template variables.

    ``message`` is escaped for the docstring (:func:`docstring_text`). *context* adds
    or overrides variables: ``imports``, ``upgrades`` and
    ``downgrades`` (autogenerate's output; empty by default), or per-database
    ones such as ``main_upgrades`` for the multidb template.
    """
    from mako.exceptions import MakoException, text_error_template
    from mako.template import Template

    if not template_path.is_file():
        raise ConfigError(
            f"{template_path} does not exist",
            hint="every environment needs a script.py.mako; copy one from 'amigrate init'",
        )
    created = new.created or dt.datetime.now()

    def as_value(items: Sequence[str]) -> str | tuple[str, ...] | None:
        if not items:
            return None
        return items[0] if len(items) == 1 else tuple(items)

    try:
        template = Template(filename=str(template_path), output_encoding=None)
        variables: dict[str, Any] = {
            "message": docstring_text(new.message),
            "up_revision": new.rev_id,
            "down_revision": new.down_revision,
            "branch_labels": as_value(new.branch_labels),
            "depends_on": as_value(new.depends_on),
            "create_date": created,
            "imports": "",
            "upgrades": "",
            "downgrades": "",
            "config": config,
            **(context or {}),
        }
        text: str = template.render_unicode(**variables)
    except MakoException as exc:
        raise ConfigError(
            f"{template_path} cannot be rendered: {exc}",
            hint="fix the template (it is Mako syntax)",
        ) from exc
    except Exception as exc:
        detail = text_error_template().render_unicode().strip().splitlines()[-1]
        raise ConfigError(
            f"{template_path} failed while rendering: {detail}",
            hint="fix the template; its variables are message, up_revision, down_revision, "
            "branch_labels, depends_on, create_date, imports, upgrades, downgrades, config",
        ) from exc
    return text
