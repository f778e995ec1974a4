"""Printing: JSON for ``--json``, plain lines otherwise.

rich is imported only when a table is drawn, never on the ``--help`` path.
"""

from __future__ import annotations

import json
from typing import Any

import click

__all__ = ["emit_json"]


def emit_json(data: Any) -> None:
    """Print *data* as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, default=str))
