"""Errors raised for bad user input (scenario files, overrides, plans)."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario that cannot be built, with the place and the fix.

    The message always names the source (file or built-in), the field as a dotted path
    and what was expected, so a user can fix the file without reading our code.
    """

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {problem}")
