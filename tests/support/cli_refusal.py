"""The promise every bad input must keep, checked one way for every table of cases: exit
status 2, one line on stderr naming the flag, file or field, no traceback, and nothing
written under ``--out`` or in the working directory.

Most cases run the command line's ``main`` in the test process (a refusal comes before any
work, so a process per case would only add a second of imports each); the ones that used to
hang or exhaust memory run as real processes with a timeout, so that a regression fails the
test instead of the suite.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

HANG_TIMEOUT_S = 60
"""Wall time a refused command may take as a process; it refuses in about a second."""


def tree(root: Path) -> list[str]:
    """Every path under ``root``, relative, sorted: what a command must leave unchanged."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def fill(argv: Sequence[str], **places: Path) -> list[str]:
    """``argv`` with ``{in}``, ``{out}`` ... replaced by the given paths."""
    names = {("in" if k == "inputs" else k): str(v) for k, v in places.items()}
    return [a.format(**names) for a in argv]


def check_line(code: int, stderr: str, expected: str) -> str:
    """The one error line, after checking the status and the shape of stderr."""
    assert "Traceback" not in stderr, stderr
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert expected in lines[0], lines[0]
    return lines[0]


def refused_in_process(
    argv: list[str], expected: str, cwd: Path, inputs: Path, capsys: pytest.CaptureFixture[str]
) -> str:
    """Run ``trafficsim ARGV`` through ``main`` in ``cwd``; check the promise."""
    from trafficsim.runner.cli import main

    before = tree(inputs)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    line = check_line(code, err, expected)
    assert tree(cwd) == [], "the command wrote into the working directory or --out"
    assert tree(inputs) == before, "the command changed its inputs"
    return line


def refused_as_process(exe: str, argv: list[str], expected: str, cwd: Path, inputs: Path) -> str:
    """Run ``trafficsim ARGV`` as a process in ``cwd`` with a timeout; check the promise."""
    before = tree(inputs)
    p = subprocess.run(
        [exe, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=HANG_TIMEOUT_S,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    line = check_line(p.returncode, p.stderr, expected)
    assert tree(cwd) == [], "the command wrote into the working directory or --out"
    assert tree(inputs) == before, "the command changed its inputs"
    return line
