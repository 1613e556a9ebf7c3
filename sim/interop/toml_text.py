"""TOML text of a scenario, compact enough to read: one line per field, arrays inline.

``tomli_w`` writes every array one item per line, so a link's shape or a movement's
``yield_to`` took dozens of lines; an imported city centre became a file nobody scrolls.
This writes the same data (``tomllib`` reads back exactly what was given) with arrays on
one line, and tables and arrays of tables as the scenario format shows them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any


def dumps(data: Mapping[str, Any]) -> str:
    out: list[str] = []
    _table(data, "", out)
    return "\n".join(out).lstrip("\n") + "\n"


def _table(data: Mapping[str, Any], path: str, out: list[str]) -> None:
    nested = []
    for key, value in data.items():
        rows = isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value)
        if isinstance(value, Mapping) or rows:
            nested.append((key, value))
        else:
            out.append(f"{_key(key)} = {_value(value)}")
    for key, value in nested:
        sub = f"{path}.{_key(key)}" if path else _key(key)
        if isinstance(value, Mapping):
            out.extend(["", f"[{sub}]"])
            _table(value, sub, out)
        else:
            for row in value:
                out.extend(["", f"[[{sub}]]"])
                _table(row, sub, out)


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"TOML has no value for {v}")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"no TOML form for {type(v).__name__}")
