"""Errors raised for bad user input (files, fields of them, overrides, command-line flags).

Every one names where the problem is and what would be right, so a user can fix the input
without reading our code; the command line prints the message and exits with status 2.
"""

from __future__ import annotations


class InputError(ValueError):
    """Unusable input, with the place and the fix.

    ``source`` is the file (or built-in, or flag) the input came from, ``field`` the dotted
    path inside it (empty when the whole source is wrong) and ``problem`` what was expected.
    """

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {problem}")


class ScenarioError(InputError):
    """A scenario that cannot be built (a file, a built-in's parameter or an override)."""
