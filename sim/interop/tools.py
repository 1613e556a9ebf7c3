"""The SUMO tools the importers drive: sumolib, netconvert and sumo, from the ``import``
extra (``pip install 'trafficsim[import]'``).

They are found through the installed ``eclipse-sumo`` package (``sumo.SUMO_HOME``), never
through ``PATH`` or a ``SUMO_HOME`` that may point at another version, so the binaries are
the ones the project was tested with. A missing tool is bad input of the command (one line
naming the package to install), and so is a tool that refuses its input: its own last
error line is quoted, with the file it was given.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import ModuleType

from trafficsim.sim.errors import InputError

EXTRA = "pip install 'trafficsim[import]'"
"""How a user gets the tools."""


def sumolib() -> ModuleType:
    """The sumolib module, or a refusal naming the extra."""
    try:
        import sumolib as module
    except ImportError:
        raise InputError("sumolib", "", f"not installed; {EXTRA}") from None
    found: ModuleType = module
    return found


def sumo_home() -> Path:
    """The SUMO installation of the ``eclipse-sumo`` wheel."""
    try:
        import sumo
    except ImportError:
        raise InputError("eclipse-sumo", "", f"not installed; {EXTRA}") from None
    return Path(sumo.SUMO_HOME)


def binary(name: str) -> Path:
    """``netconvert``, ``sumo``...: the binary of the installed SUMO."""
    path = sumo_home() / "bin" / name
    if not path.exists():
        raise InputError("eclipse-sumo", "", f"{name} not found at {path}; {EXTRA}")
    return path


def run(name: str, args: list[str], source: str, *, timeout_s: float = 3600.0) -> str:
    """Run the SUMO tool ``name`` with ``args``; its stdout, or an InputError naming
    ``source`` (the file it was given) and the tool's own error."""
    env = {**os.environ, "SUMO_HOME": str(sumo_home())}
    try:
        p = subprocess.run(  # noqa: S603 - the installed SUMO's own binary, no shell
            [str(binary(name)), *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=env,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise InputError(source, "", f"{name} did not finish within {timeout_s:g} s") from None
    if p.returncode != 0:
        said = [ln.strip() for ln in (p.stderr + p.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in said if ln.startswith("Error")] or said or ["no message"]
        raise InputError(source, "", f"{name} refused it: {errors[0][:300]}")
    return p.stdout
