<%!
import re


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
<%
    db_names = [name for name in re.split(r"[,\s]+", config.get("databases") or "") if name]
%>\
% for db_name in db_names:


async def upgrade_${db_name}(op: Operations) -> None:
    ${context.get("%s_upgrades" % db_name, "pass")}


async def downgrade_${db_name}(op: Operations) -> None:
    ${context.get("%s_downgrades" % db_name, "pass")}
% endfor
