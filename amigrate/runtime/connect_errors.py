"""One-line connection errors with the password masked (no SQLAlchemy needed)."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from amigrate.config import mask_url
from amigrate.errors import DatabaseError

__all__ = ["connect_error"]

_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "sslpassword"})


def _passwords(url: str) -> list[str]:
    """The passwords in *url*: its userinfo's (with or without a scheme) and its query's."""
    _, sep, rest = url.partition("://")
    try:
        parts = urlsplit(f"//{rest if sep else url}")
        found = [parts.password or ""]
        query = parse_qs(parts.query)
    except ValueError:
        return []
    for key, values in query.items():
        if key.lower() in _QUERY_KEYS:
            found += values
    return [unquote(p) for p in found if p]


def connect_error(url: str, exc: BaseException) -> DatabaseError:
    """A one-line error for a failed connection; the password appears nowhere in it."""
    orig = getattr(exc, "orig", None) or exc
    detail = " ".join(str(orig).split()) or type(orig).__name__
    for password in _passwords(url):
        detail = detail.replace(password, "***")
    return DatabaseError(
        f"cannot connect to {mask_url(url)}: {mask_url(detail)}",
        hint="check that the server is running and the URL's host, port, user, password "
        "and database",
    )
