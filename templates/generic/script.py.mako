<%!
def lit(value):
    """A Python literal in the style ruff format writes (double quotes)."""
    if isinstance(value, (tuple, list)):
        inner = ", ".join(lit(v) for v in value)
        return "(" + inner + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1] + '"'  # no quote of either kind inside: nothing to unescape
        return text
    return repr(value)
%>"""${message}

Revision ID: ${up_revision}
Revises:${" " + ", ".join(down_revision) if isinstance(down_revision, (tuple, list)) else (" " + down_revision if down_revision else "")}
Create Date: ${create_date}

"""

from __future__ import annotations

import sqlalchemy as sa
from amigrate import Operations
${imports if imports else ""}
# revision identifiers, used by amigrate.
revision: str = ${lit(up_revision)}
down_revision: str | tuple[str, ...] | None = ${lit(down_revision)}
branch_labels: str | tuple[str, ...] | None = ${lit(branch_labels)}
depends_on: str | tuple[str, ...] | None = ${lit(depends_on)}


async def upgrade(op: Operations) -> None:
    ${upgrades if upgrades else "pass"}


async def downgrade(op: Operations) -> None:
    ${downgrades if downgrades else "pass"}
