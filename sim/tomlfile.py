"""The one reader of TOML files: scenarios, design flows, credentials, all with one error contract.

Every TOML file a user hands the project (a scenario, a design-flow file, a ``clients.toml``)
is read here, so that each way a file can be unusable (missing, a directory, unreadable, not
UTF-8, not TOML) ends the same way: an :class:`~trafficsim.sim.errors.InputError` naming the
file and what is expected, which the command line prints as one line with exit status 2
instead of a traceback. What the data must hold is then checked field by field by the
caller, with :class:`~trafficsim.sim.fields.FieldReader`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from trafficsim.sim.errors import InputError


def read_toml_file(
    path: str | Path, *, error: type[InputError] = InputError, not_found: str = ""
) -> dict[str, Any]:
    """The data of the TOML file at ``path``.

    ``error`` is the :class:`InputError` subclass to raise (a scenario file raises
    :class:`~trafficsim.sim.errors.ScenarioError`, so callers catching that keep working);
    ``not_found`` is the hint added to "file not found" (how to make or name the file).
    """
    p = Path(path)
    source = str(p)
    try:
        with p.open("rb") as f:
            raw = f.read(MAX_TOML_BYTES + 1)  # bounded: /dev/zero is a "file" too
    except FileNotFoundError:
        hint = f"; {not_found}" if not_found else ""
        raise error(source, "", f"file not found{hint}") from None
    except IsADirectoryError:
        raise error(source, "", "is a directory; expected a TOML file") from None
    except OSError as exc:
        raise error(source, "", f"cannot read the file: {exc.strerror}") from None
    if len(raw) > MAX_TOML_BYTES:
        raise error(
            source, "", f"larger than {MAX_TOML_BYTES // 2**20} MB; no input of the project is"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(
            source,
            "",
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}, column {column}); "
            "save the file as UTF-8",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(source, "", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise error(source, "", NESTED_TOO_DEEPLY) from None


MAX_TOML_BYTES = 64 * 2**20
"""Largest TOML file read: the city-centre scenario is 0.1 MB; a TOML parser holds many
times the text in memory, and a device file never ends."""

NESTED_TOO_DEEPLY = (
    "arrays or inline tables nested too deeply to read; no input of the project nests more "
    "than a few levels"
)
"""What a TOML text too deeply nested for the parser is told (tomllib recurses per level,
so a few thousand ``[`` exhaust Python's stack)."""
