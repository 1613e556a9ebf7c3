"""Typed access to TOML-shaped data that names the dotted path of anything wrong.

A scenario file, its ``[sensors]`` table and the other TOML inputs are checked through one
:class:`FieldReader`, so that every mistake reads the same way: the file, the field as a
dotted path (``links[3].length_m``, ``sensors.faults.drop``) and what is expected. Unknown
fields are refused too, because a misspelt optional field would otherwise be silently
ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from trafficsim.sim.errors import InputError


def join_path(path: str, key: str) -> str:
    """``path.key``, or ``key`` at the top level."""
    return f"{path}.{key}" if path else key


def describe(value: Any) -> str:
    """A value as an error message shows it: its TOML-ish type and a shortened repr."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


class FieldReader:
    """Typed field access for one source; every check raises ``error`` naming the field.

    Each method takes the table (``data``), the key in it and the dotted path of the table
    (empty at the top level); a missing key takes ``default`` where one is given.
    """

    def __init__(self, source: str, error: type[InputError] = InputError) -> None:
        self.source = source
        self.error = error

    def fail(self, path: str, problem: str) -> InputError:
        """The error to raise for ``path`` (raise it: ``raise r.fail(...)``)."""
        return self.error(self.source, path, problem)

    def table(
        self, data: Mapping[str, Any], key: str, path: str, *, required: bool
    ) -> dict[str, Any]:
        """The sub-table ``key`` (``{}`` when absent and not required)."""
        if key not in data:
            if required:
                raise self.fail(join_path(path, key), "missing table")
            return {}
        v = data[key]
        if not isinstance(v, dict):
            raise self.fail(join_path(path, key), f"expected a table, got {describe(v)}")
        return v

    def array_of_tables(
        self, data: Mapping[str, Any], key: str, *, required: bool, path: str = ""
    ) -> list[dict[str, Any]]:
        """The array of tables ``key`` (``[[key]]`` in TOML); a required one may not be empty."""
        where = join_path(path, key)
        header = re.sub(r"\[\d+\]", "", where)
        if key not in data:
            if required:
                raise self.fail(where, f"missing; add at least one [[{header}]] table")
            return []
        v = data[key]
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.fail(where, f"expected an array of tables ([[{header}]]), got {describe(v)}")
        if required and not v:
            raise self.fail(where, f"empty; add at least one [[{header}]] table")
        return v

    def rows(
        self,
        data: Mapping[str, Any],
        key: str,
        allowed: set[str],
        *,
        required: bool,
        path: str = "",
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each table of the array ``key`` with its path (``key[i]``), its fields checked."""
        where = join_path(path, key)
        for i, row in enumerate(self.array_of_tables(data, key, required=required, path=path)):
            p = f"{where}[{i}]"
            self.check_keys(row, p, allowed)
            yield p, row

    def check_keys(self, data: Any, path: str, allowed: set[str]) -> None:
        """Refuse a value that is not a table, and any field not in ``allowed``."""
        if not isinstance(data, Mapping):
            raise self.fail(path, "expected a table")
        for k in data:
            if k not in allowed:
                raise self.fail(
                    join_path(path, k),
                    f"unknown field; valid fields here: {', '.join(sorted(allowed))}",
                )

    def unique(self, name: str, seen: set[str], path: str, what: str) -> str:
        """``name`` as the id of one row only: a second row with the same id would
        silently stand in for the first, so it is refused; ``seen`` collects the ids."""
        if name in seen:
            raise self.fail(path, f"{what} {name!r} defined twice")
        seen.add(name)
        return name

    def string(self, data: Mapping[str, Any], key: str, path: str, default: Any = ...) -> str:
        """A non-empty string."""
        if key not in data:
            if default is ...:
                raise self.fail(join_path(path, key), "missing; expected a string")
            return default  # type: ignore[no-any-return]
        v = data[key]
        if not isinstance(v, str) or not v:
            raise self.fail(join_path(path, key), f"expected a non-empty string, got {describe(v)}")
        return v

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        unit: str,
        default: float | None = None,
        *,
        minimum: float | None = 0.0,
        strict: bool = True,
        maximum: float | None = None,
    ) -> float:
        """A finite number in ``unit``, above ``minimum`` (or at least it, if not ``strict``)."""
        if key not in data:
            if default is None:
                raise self.fail(join_path(path, key), f"missing; expected a number ({unit})")
            return default
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self.fail(join_path(path, key), f"expected a number ({unit}), got {describe(v)}")
        if minimum is not None and (v <= minimum if strict else v < minimum):
            bound = "greater than" if strict else "at least"
            raise self.fail(
                join_path(path, key), f"expected {bound} {minimum:g} ({unit}), got {v!r}"
            )
        if maximum is not None and v > maximum:
            raise self.fail(
                join_path(path, key), f"expected at most {maximum:g} ({unit}), got {v!r}"
            )
        return float(v)

    def number_in(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        default: float,
        bounds: tuple[float, float],
    ) -> float:
        """An optional number from ``bounds[0]`` to ``bounds[1]``, both included."""
        if key not in data:
            return default
        v = data[key]
        lo, hi = bounds
        if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
            raise self.fail(
                join_path(path, key), f"expected a number from {lo:g} to {hi:g}, got {v!r}"
            )
        return float(v)

    def integer(
        self, data: Mapping[str, Any], key: str, path: str, default: int | None = None
    ) -> int:
        """A positive integer."""
        if key not in data:
            if default is None:
                raise self.fail(join_path(path, key), "missing; expected a positive integer")
            return default
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise self.fail(join_path(path, key), f"expected a positive integer, got {describe(v)}")
        return v

    def boolean(self, data: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        """An optional ``true`` or ``false``."""
        v = data.get(key, default)
        if not isinstance(v, bool):
            raise self.fail(join_path(path, key), f"expected true or false, got {v!r}")
        return v
