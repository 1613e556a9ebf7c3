"""SUMO and OpenStreetMap ids to scenario ids, one to one.

Scenario node and link ids become MQTT topic levels and logins, so they keep to
``[A-Za-z0-9_.-]{1,64}`` (:data:`~trafficsim.sim.limits.ID_PATTERN`); SUMO ids hold ``#``
(``28198821#3``), ``:`` and spaces, and netconvert's joined clusters run to hundreds of
characters. Each character outside the rule becomes ``_``, a long id keeps its head and a
hash of the whole, and a clash takes a numbered suffix, so two source ids never share a
scenario id and the same source gives the same ids every time.
"""

from __future__ import annotations

import hashlib
import re

from trafficsim.sim.limits import ID_PATTERN

_BAD = re.compile(r"[^A-Za-z0-9_.-]")
_MAX = 64


class IdMap:
    """Source ids to scenario ids for one kind of element (nodes or links)."""

    def __init__(self) -> None:
        self._out: dict[str, str] = {}
        self._taken: set[str] = set()
        self.changed = 0
        """Ids that had to change, for the import report."""
        self.example: tuple[str, str] | None = None

    def __call__(self, source_id: str) -> str:
        found = self._out.get(source_id)
        if found is not None:
            return found
        new = source_id if ID_PATTERN.fullmatch(source_id) else self._clean(source_id)
        base, k = new, 2
        while new in self._taken:
            new = f"{base[: _MAX - 1 - len(str(k))]}-{k}"
            k += 1
        if new != source_id:
            self.changed += 1
            if self.example is None:
                self.example = (source_id, new)
        self._out[source_id] = new
        self._taken.add(new)
        return new

    def reserve(self, scenario_id: str) -> str:
        """Take ``scenario_id`` (a node the importer makes) so no source id gets it."""
        base, new, k = scenario_id, scenario_id, 2
        while new in self._taken:
            new = f"{base[: _MAX - 1 - len(str(k))]}-{k}"
            k += 1
        self._taken.add(new)
        return new

    @staticmethod
    def _clean(source_id: str) -> str:
        text = _BAD.sub("_", source_id) or "_"
        if len(text) > _MAX:
            digest = hashlib.sha1(source_id.encode("utf-8"), usedforsecurity=False).hexdigest()
            text = f"{text[: _MAX - 9]}-{digest[:8]}"
        return text

    def items(self) -> dict[str, str]:
        """Source id to scenario id, for every id seen."""
        return dict(self._out)
