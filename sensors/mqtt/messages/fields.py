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
            raise self.fail(key, "expected a non-empty string")
        return v

    def opt_text(self, key: str) -> str | None:
        return None if self.obj.get(key) is None else self.text(key)

    def number(self, key: str) -> float:
        v = self.obj.get(key)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self.fail(key, f"expected a finite number, got {v!r}")
        return float(v)

    def opt_number(self, key: str) -> float | None:
        return None if self.obj.get(key) is None else self.number(key)

    def integer(self, key: str) -> int:
        v = self.obj.get(key)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(key, f"expected an integer, got {v!r}")
        return v

    def opt_integer(self, key: str) -> int | None:
        return None if self.obj.get(key) is None else self.integer(key)

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

    def numbers_by_name(self, key: str) -> dict[str, float]:
        out = {}
        for name, v in self.mapping(key).items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise self.fail(f"{key}.{name}", f"expected a finite number, got {v!r}")
            out[str(name)] = float(v)
        return out
