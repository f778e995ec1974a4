"""The curated namespace of amigrate.revisions."""

from __future__ import annotations

import importlib
import inspect

import amigrate.revisions as revisions

MODULES = ["graph", "planner", "revision", "stamp", "targets", "versions"]


def test_all_is_sorted_and_importable() -> None:
    assert revisions.__all__ == sorted(revisions.__all__)
    for name in revisions.__all__:
        assert getattr(revisions, name) is not None


def test_every_public_name_of_the_modules_is_exported() -> None:
    exported = set(revisions.__all__)
    for module_name in MODULES:
        module = importlib.import_module(f"amigrate.revisions.{module_name}")
        missing = set(module.__all__) - exported
        assert not missing, f"{module_name} exports {sorted(missing)} but the package does not"
        for name in module.__all__:
            assert getattr(revisions, name) is getattr(module, name)


def test_public_names_have_docstrings() -> None:
    for name in revisions.__all__:
        obj = getattr(revisions, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__, f"{name} has no docstring"
