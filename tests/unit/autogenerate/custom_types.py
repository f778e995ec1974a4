"""A type of the application's own, for the renderer's tests (it must import it)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


class Money(sa.types.TypeDecorator[Any]):
    """An amount in cents, stored as a NUMERIC of the given precision."""

    impl = sa.Numeric
    cache_ok = True


class Cents(sa.types.TypeDecorator[Any]):
    """A type with a constructor of its own, which takes no arguments."""

    impl = sa.Numeric(12, 0)
    cache_ok = True

    def __init__(self) -> None:
        super().__init__()


class Mood(sa.types.TypeDecorator[Any]):
    """An Enum whose values are given where it is used (TypeDecorator's own __init__)."""

    impl = sa.Enum
    cache_ok = True
