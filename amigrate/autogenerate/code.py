"""Python source for generated revisions: calls as a tree, printed the way ruff formats them.

A rendered op is a :class:`Call` of arguments (atoms, keywords, lists,
nested calls). :func:`format_statement` prints it on one line when it fits,
else with the arguments on one indented line, else one argument per line
with a trailing comma — ruff's (and black's) choices, so that a configured
``ruff format`` hook leaves a generated file as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Call", "Kw", "Node", "Seq", "flat", "format_statement", "py_str"]

DEFAULT_WIDTH = 88  # ruff's and black's default line length


@dataclass(frozen=True)
class Call:
    """``func(args...)``."""

    func: str
    args: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Kw:
    """``name=value`` in a call."""

    name: str
    value: Node


@dataclass(frozen=True)
class Seq:
    """A list (``[...]``) or tuple (``(...)``) literal."""

    items: tuple[Node, ...]
    brackets: str = "[]"


Node = str | Call | Kw | Seq


def py_str(value: str) -> str:
    """A string literal, double-quoted as ruff writes it."""
    text = repr(value)
    if text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1] + '"'
    return text


def _open_close(node: Call | Seq) -> tuple[str, str, tuple[Node, ...]]:
    if isinstance(node, Call):
        return node.func + "(", ")", node.args
    return node.brackets[0], node.brackets[1], node.items


def flat(node: Node) -> str:
    """*node* on one line."""
    if isinstance(node, str):
        return node
    if isinstance(node, Kw):
        return f"{node.name}={flat(node.value)}"
    opener, closer, items = _open_close(node)
    inner = ", ".join(flat(item) for item in items)
    if isinstance(node, Seq) and node.brackets == "()" and len(items) == 1:
        inner += ","
    return opener + inner + closer


def _format(node: Node, indent: int, column: int, trailing: int, width: int) -> str:
    """*node* starting at *column* of a line indented by *indent*, *trailing* chars after it."""
    one_line = flat(node)
    if column + len(one_line) + trailing <= width or isinstance(node, str):
        return one_line
    if isinstance(node, Kw):
        prefix = f"{node.name}="
        return prefix + _format(node.value, indent, column + len(prefix), trailing, width)
    opener, closer, items = _open_close(node)
    if not items:
        return one_line
    inner = indent + 4
    body = ", ".join(flat(item) for item in items)
    single_tuple = isinstance(node, Seq) and node.brackets == "()" and len(items) == 1
    if inner + len(body) <= width and not single_tuple:
        return f"{opener}\n{' ' * inner}{body}\n{' ' * indent}{closer}"
    lines = [" " * inner + _format(item, inner, inner, 1, width) + "," for item in items]
    return opener + "\n" + "\n".join(lines) + "\n" + " " * indent + closer


def format_statement(
    node: Node, indent: int = 0, *, prefix: str = "", suffix: str = "", width: int = 0
) -> str:
    """One statement, *prefix* + *node* + *suffix* (``await op.drop_table("t")``), at *indent*."""
    width = width or DEFAULT_WIDTH
    start = indent + len(prefix)
    return " " * indent + prefix + _format(node, indent, start, len(suffix), width) + suffix
