"""The revision graph, targets and planner: pure, stdlib only, no I/O.

Build a :class:`RevisionGraph` from :class:`Revision` objects (the scripts layer
reads them from files), parse what the user typed with :func:`parse_target` or
:func:`parse_range`, and plan with :func:`plan_upgrade`, :func:`plan_downgrade`
or :func:`plan_stamp`.  A :class:`Plan` lists :class:`Step` objects; each carries
the :class:`VersionChange` the runtime writes to the version table.
"""

from amigrate.revisions.graph import RevisionGraph
from amigrate.revisions.planner import Direction, Plan, Step, plan_downgrade, plan_upgrade
from amigrate.revisions.revision import Revision
from amigrate.revisions.stamp import plan_stamp
from amigrate.revisions.targets import Target, TargetKind, parse_range, parse_target
from amigrate.revisions.versions import (
    ChangeKind,
    VersionChange,
    VersionTable,
    VersionWrite,
    WriteOp,
    apply_changes,
)

__all__ = [
    "ChangeKind",
    "Direction",
    "Plan",
    "Revision",
    "RevisionGraph",
    "Step",
    "Target",
    "TargetKind",
    "VersionChange",
    "VersionTable",
    "VersionWrite",
    "WriteOp",
    "apply_changes",
    "parse_range",
    "parse_target",
    "plan_downgrade",
    "plan_stamp",
    "plan_upgrade",
]
