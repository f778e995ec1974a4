"""Engines amigrate makes from a URL: a missing driver is named with what to install."""

from __future__ import annotations

import sys

import pytest

from amigrate.errors import ConfigError
from amigrate.runtime.engine import make_engine


def test_a_missing_driver_names_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiomysql", None)  # importing it raises ImportError
    with pytest.raises(ConfigError) as info:
        make_engine("mysql+aiomysql://root:pw-secret@127.0.0.1/test")
    assert "the driver for mysql+aiomysql is not installed" in str(info.value)
    assert info.value.hint == "install it (pip install aiomysql)"
    assert "pw-secret" not in str(info.value)


def test_asyncmy_comes_with_the_mysql_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncmy", None)
    with pytest.raises(ConfigError) as info:
        make_engine("mysql+asyncmy://root@127.0.0.1/test")
    assert info.value.hint == "install it (pip install 'amigrate[mysql]')"
