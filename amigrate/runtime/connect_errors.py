"""One-line connection errors with the password masked (no SQLAlchemy needed)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from amigrate.config import mask_url
from amigrate.errors import DatabaseError

__all__ = ["connect_error"]


def _password(url: str) -> str | None:
    _, sep, rest = url.partition("://")
    if not sep:
        return None
    try:
        password = urlsplit(f"//{rest}").password
    except ValueError:
        return None
    return unquote(password) if password else None


def connect_error(url: str, exc: BaseException) -> DatabaseError:
    """A one-line error for a failed connection; the password appears nowhere in it."""
    orig = getattr(exc, "orig", None) or exc
    detail = " ".join(str(orig).split()) or type(orig).__name__
    password = _password(url)
    if password:
        detail = detail.replace(password, "***")
    return DatabaseError(
        f"cannot connect to {mask_url(url)}: {mask_url(detail)}",
        hint="check that the server is running and the URL's host, port, user, password "
        "and database",
    )
