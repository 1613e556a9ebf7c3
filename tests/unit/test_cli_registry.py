"""The command line's registry: every command has a handler, a flag error is its own type."""

from __future__ import annotations

import argparse

import pytest

from trafficsim.runner.cli import UsageError, build_parser, main
from trafficsim.sim import InputError, ScenarioError


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_is_registered_with_a_handler_in_the_help_order() -> None:
    commands = _commands(build_parser())
    assert " ".join(commands) == (
        "run watch record emissions serve compare report train evaluate credentials scenarios "
        "import export"
    )
    for name, parser in commands.items():
        assert callable(parser.get_default("handler")), name


def test_a_flag_error_is_an_input_error_but_not_a_scenario_error() -> None:
    err = UsageError("--seeds", "a confidence interval needs at least 2 seeds")
    assert isinstance(err, InputError) and not isinstance(err, ScenarioError)
    assert (err.source, err.field) == ("--seeds", "")
    assert str(err) == "--seeds: a confidence interval needs at least 2 seeds"


def test_main_prints_one_line_and_returns_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--scenario", "grid", "--seeds", "1"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: --seeds: a confidence interval needs at least 2 seeds"
