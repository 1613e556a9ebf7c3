"""Typed access to the fields of a received JSON object, for the messages' ``from_payload``.

Every check raises :class:`~trafficsim.sensors.mqtt.payloads.PayloadError` with the field's
path and what was expected (``phases[1].greenSeconds: expected a finite number, got 'x'``),
so a consumer can count and log the reason of every message it cannot use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trafficsim.sensors.mqtt.payloads import PayloadError

MAX_SIM_TIME_S = 1e9
"""Simulated times on the wire are in ``[0, 1e9]`` s (about 32 years): beyond any run, and
every such time is an exact float, so interval arithmetic on it stays exact to the ms."""

MAX_INTERVAL_S = 86_400.0
"""Durations on the wire (greens, yellows, reporting periods, travel times) are at most a
day: a longer one is no signal timing or reading of this system."""

MAX_SPEED_KMH = 400.0
"""Speeds on the wire are at most 400 km/h: far above any road vehicle, so only a broken or
hostile value is refused."""

MAX_FLOW_VEH_PER_H = 100_000.0
"""Flows and saturation flows on the wire are at most 100,000 veh/h: about fifty lanes at
HCM's base saturation flow of 1,900 pcu/h/lane (HCM 6th ed., eq. 19-8), or motorcycles
filling a wide road (24,335 motorcycles/h on four lanes in Hanoi, HCMC_FACTS row 9), with
room to spare."""


def _show(v: object) -> str:
    """A received value in an error, cut short: the reason of a rejected message is logged
    and kept, and must not carry a megabyte of someone else's text."""
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


class Fields:
    """One JSON object being read; ``where`` prefixes the paths of its errors."""

    __slots__ = ("obj", "topic", "where")

    def __init__(self, obj: object, topic: str = "", where: str = "") -> None:
        if not isinstance(obj, dict):
            problem = f"{where}: expected an object" if where else "expected a JSON object"
            raise PayloadError(topic, problem)
        self.obj: Mapping[str, Any] = obj
        self.topic = topic
        self.where = where

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, problem: str) -> PayloadError:
        return PayloadError(self.topic, f"{self._path(key)}: {problem}")

    def has(self, key: str) -> bool:
        return key in self.obj

    def text(self, key: str) -> str:
        v = self.obj.get(key)
        if not isinstance(v, str) or not v:
            raise self.fail(key, f"expected a non-empty string, got {_show(v)}")
        return v

    def opt_text(self, key: str) -> str | None:
        return None if self.obj.get(key) is None else self.text(key)

    def number(self, key: str, lo: float = -math.inf, hi: float = math.inf) -> float:
        """A finite number in ``[lo, hi]``: a value a consumer's arithmetic can take."""
        v = self.obj.get(key)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self.fail(key, f"expected a finite number, got {_show(v)}")
        if not lo <= v <= hi:
            raise self.fail(key, f"{_show(v)} is out of range [{lo:g}, {hi:g}]")
        return float(v)

    def opt_number(self, key: str, lo: float = -math.inf, hi: float = math.inf) -> float | None:
        return None if self.obj.get(key) is None else self.number(key, lo, hi)

    def integer(self, key: str, lo: int | None = None, hi: int | None = None) -> int:
        v = self.obj.get(key)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(key, f"expected an integer, got {_show(v)}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise self.fail(key, f"{v} is out of range [{lo}, {hi}]")
        return v

    def opt_integer(self, key: str, lo: int | None = None, hi: int | None = None) -> int | None:
        return None if self.obj.get(key) is None else self.integer(key, lo, hi)

    def flag(self, key: str) -> bool:
        v = self.obj.get(key)
        if not isinstance(v, bool):
            raise self.fail(key, f"expected true or false, got {v!r}")
        return v

    def texts(self, key: str, *, non_empty: bool = False) -> tuple[str, ...]:
        v = self.obj.get(key)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.fail(key, "expected a list of strings")
        if non_empty and not v:
            raise self.fail(key, "expected a non-empty list")
        return tuple(v)

    def table(self, key: str) -> Fields:
        return Fields(self.obj.get(key), self.topic, self._path(key))

    def tables(self, key: str, *, non_empty: bool = False) -> list[Fields]:
        v = self.obj.get(key)
        if not isinstance(v, list) or (non_empty and not v):
            raise self.fail(key, "expected a non-empty list" if non_empty else "expected a list")
        return [Fields(x, self.topic, f"{self._path(key)}[{i}]") for i, x in enumerate(v)]

    def mapping(self, key: str) -> dict[str, Any]:
        v = self.obj.get(key)
        if not isinstance(v, dict):
            raise self.fail(key, "expected an object")
        return v

    def numbers_by_name(
        self, key: str, lo: float = -math.inf, hi: float = math.inf, *, most: int = 64
    ) -> dict[str, float]:
        """An object of names to finite numbers in ``[lo, hi]``, at most ``most`` of them."""
        names = self.mapping(key)
        if len(names) > most:
            raise self.fail(key, f"{len(names)} entries, at most {most}")
        sub = Fields(names, self.topic, self._path(key))
        return {str(name): sub.number(name, lo, hi) for name in names}
