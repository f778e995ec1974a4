"""The curated public namespace and the error tree."""

from __future__ import annotations

import inspect

import amigrate
from amigrate import errors


def test_all_is_sorted_and_importable() -> None:
    assert amigrate.__all__ == sorted(amigrate.__all__)
    for name in amigrate.__all__:
        assert getattr(amigrate, name) is not None


def test_every_error_is_public() -> None:
    classes = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, (errors.AmigrateError, errors.AmigrateWarning))
    }
    assert classes <= set(amigrate.__all__), sorted(classes - set(amigrate.__all__))
    assert sorted(errors.__all__) == sorted(classes)


def test_error_tree_roots_and_exit_codes() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        if issubclass(cls, Warning):
            assert issubclass(cls, errors.AmigrateWarning)
        else:
            assert issubclass(cls, errors.AmigrateError)
    assert issubclass(errors.LockTimeout, TimeoutError)
    assert errors.LockTimeout("x").exit_code == 4
    assert errors.CheckFailed("x").exit_code == 3
    assert errors.ConfigError("x").exit_code == 1


def test_errors_carry_their_fields_and_a_next_step() -> None:
    err = errors.AmbiguousRevision("ab", ["abd", "abc"])
    assert err.candidates == ("abc", "abd")
    assert "abc, abd" in str(err)
    assert err.hint
    heads = errors.MultipleHeads("head", ["a1", "b2"])
    assert heads.heads == ("a1", "b2")
    assert "heads" in (heads.hint or "")
    failed = errors.MigrationFailed("boom", applied=[1, 2], failed=3)
    assert failed.applied == (1, 2)
    assert failed.failed == 3
    assert failed.partial is False
    interrupted = errors.MigrationInterrupted("interrupted", failed=3, partial=True)
    assert isinstance(interrupted, errors.MigrationFailed)
    assert (interrupted.partial, interrupted.exit_code) == (True, 130)
    missing = errors.MissingEnvironmentVariable("DB_URL", key="sqlalchemy.url")
    assert "DB_URL" in str(missing)
    assert "${DB_URL:-" in (missing.hint or "")
    parse = errors.ScriptParseError("bad", path="v/x.py", line=3)
    assert str(parse).startswith("v/x.py:3: ")
