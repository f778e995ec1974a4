"""The ``amigrate`` command line (click).

This package is the only place that starts an event loop and the only place that
prints. Command modules import SQLAlchemy and rich inside their functions, so
``amigrate --help`` and ``--version`` stay fast.
"""

from .main import cli, main

__all__ = ["cli", "main"]
