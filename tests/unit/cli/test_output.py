"""The one JSON document a failing --json command prints."""

from __future__ import annotations

import json
from typing import Any

import pytest

from amigrate.cli.output import finish_json
from amigrate.cli.state import CliState

FAILURE = {"type": "CheckFailed", "message": "1 problem found", "exit_code": 3}


def printed(capsys: pytest.CaptureFixture[str], *results: Any) -> Any:
    state = CliState()
    state.json_results.extend(results)
    finish_json(state, FAILURE)
    return json.loads(capsys.readouterr().out)


def test_an_object_result_keeps_its_shape_with_the_error_beside(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = {"ok": False, "problems": [{"kind": "changed"}]}
    assert printed(capsys, report) == {**report, "error": FAILURE}


def test_other_results_go_under_result(capsys: pytest.CaptureFixture[str]) -> None:
    assert printed(capsys) == {"error": FAILURE}
    assert printed(capsys, [1, 2]) == {"error": FAILURE, "result": [1, 2]}
    assert printed(capsys, {"a": 1}, {"b": 2}) == {"error": FAILURE, "result": [{"a": 1}, {"b": 2}]}
    # A database named "error" in a multi-database result is not overwritten.
    clash: dict[str, Any] = {"error": {"heads": []}, "main": {"heads": []}}
    assert printed(capsys, clash) == {"error": FAILURE, "result": clash}
