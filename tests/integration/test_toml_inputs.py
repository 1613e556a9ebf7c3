"""Unusable TOML files on the command line: one line naming the file, exit status 2, no
traceback and nothing written, whichever option named the file."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BAD_FILES: dict[str, Callable[[Path], Path]] = {
    "latin-1": lambda d: _write(
        d / "latin1.toml", '[flows."*"]\n# café\nNS = 1\n'.encode("latin-1")
    ),
    "directory": lambda d: _mkdir(d / "a-directory"),
    "invalid": lambda d: _write(d / "invalid.toml", b'[flows."*"\nNS = 1\n'),
}
EXPECTED = {
    "latin-1": "not UTF-8 text (byte 0xe9 at line 2, column 6)",
    "directory": "is a directory; expected a TOML file",
    "invalid": "not valid TOML",
}


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _refused(exe: str, out: Path, *args: str) -> str:
    p = subprocess.run(
        [exe, "run", *args, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert not out.exists()  # nothing half-written
    return lines[0]


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_design_flow_file(trafficsim_exe, tmp_path: Path, kind: str) -> None:
    path = BAD_FILES[kind](tmp_path)
    line = _refused(
        trafficsim_exe,
        tmp_path / "out",
        *("--scenario", "grid", "--controller", "fixed", "--design-flows", str(path)),
        *("--no-mqtt", "--duration", "60"),
    )
    assert f"{path}: {EXPECTED[kind]}" in line


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_scenario_file(trafficsim_exe, tmp_path: Path, kind: str) -> None:
    path = BAD_FILES[kind](tmp_path)
    line = _refused(trafficsim_exe, tmp_path / "out", "--scenario", str(path), "--no-mqtt")
    assert f"{path}: {EXPECTED[kind]}" in line


def test_credentials_file_not_utf8(trafficsim_exe, tmp_path: Path) -> None:
    path = _write(tmp_path / "clients.toml", '[clients]\noptimizer = "café"\n'.encode("latin-1"))
    line = _refused(
        trafficsim_exe,
        tmp_path / "out",
        *("--scenario", "grid", "--credentials", str(path), "--duration", "60"),
    )
    assert f"--credentials: {path}: not UTF-8 text" in line
