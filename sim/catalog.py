"""Find a scenario by built-in name or file path, and apply ``--set KEY=VALUE`` overrides.

For a built-in, keys are its parameters (``trafficsim scenarios`` lists them). For a file,
keys are dotted paths into the TOML data; an array of tables is indexed by position or by
the ``id`` (or ``node``/``link``) of its element: ``links.N_in.lanes=3``,
``demand.0.flow_veh_per_h=900``, ``scenario.duration_s=1800``. ``duration_s`` alone works for
both.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from copy import deepcopy
from pathlib import Path
from typing import Any

from trafficsim.sim.builtin import BUILTINS, Builtin
from trafficsim.sim.config import Scenario
from trafficsim.sim.errors import ScenarioError
from trafficsim.sim.scenario_io import read_toml, scenario_from_dict
from trafficsim.sim.tomlfile import NESTED_TOO_DEEPLY


def parse_value(text: str) -> Any:
    """A TOML value (``3``, ``1.5``, ``true``, ``"x"``, ``[1, 2]``), else the bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    except RecursionError:
        raise ScenarioError("--set", text[:40], NESTED_TOO_DEEPLY) from None


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["a=1", "b.c=x"]`` to ``{"a": 1, "b.c": "x"}``; a pair without ``=`` is an error."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError("--set", pair, "expected KEY=VALUE, e.g. --set size=6")
        out[key] = parse_value(value.strip())
    return out


def builtin_params(builtin: Builtin, overrides: Mapping[str, Any]) -> dict[str, Any]:
    source = f"built-in scenario {builtin.name!r}"
    params = {p.name: p.default for p in builtin.params}
    spec = {p.name: p for p in builtin.params}
    for key, value in overrides.items():
        if key not in spec:
            raise ScenarioError(source, key, f"unknown parameter; valid: {', '.join(sorted(spec))}")
        p = spec[key]
        if p.choices:
            if value not in p.choices:
                raise ScenarioError(
                    source, key, f"expected one of {list(p.choices)}, got {value!r}"
                )
        elif p.integer:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ScenarioError(source, key, f"expected an integer, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(source, key, f"expected a number, got {value!r}")
        if p.minimum is not None and not p.choices and value < p.minimum:
            raise ScenarioError(
                source, key, f"expected at least {max(p.minimum, 0):g}, got {value!r}"
            )
        if p.maximum is not None and value > p.maximum:
            raise ScenarioError(
                source, key, f"expected at most {p.maximum:g} ({p.why_maximum}), got {value!r}"
            )
        params[key] = value
    return params


def scenario_data(
    name_or_path: str, overrides: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], str]:
    """The TOML-shaped data of a scenario with overrides applied, and its source name."""
    overrides = dict(overrides or {})
    builtin = BUILTINS.get(name_or_path)
    if builtin is not None:
        return builtin.build(
            builtin_params(builtin, overrides)
        ), f"built-in scenario {name_or_path!r}"
    path = Path(name_or_path)
    if not path.exists():
        raise ScenarioError(
            name_or_path,
            "",
            f"no such built-in scenario or file; built-ins: {', '.join(sorted(BUILTINS))}",
        )
    source = str(path)
    data = read_toml(path)
    for key, value in overrides.items():
        _set_path(data, key, value, source)
    return data, source


def load_scenario(name_or_path: str, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """A checked scenario from a built-in name or a TOML file, with overrides applied."""
    data, source = scenario_data(name_or_path, overrides)
    return scenario_from_dict(deepcopy(data), source)


def _set_path(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    parts = key.split(".")
    if parts == ["duration_s"]:
        parts = ["scenario", "duration_s"]
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, dict):
            if part not in node:
                raise ScenarioError(f"--set {key}", where, f"no such table in {source}")
            node = node[part]
        elif isinstance(node, list):
            node = _element(node, part, f"--set {key}", where)
        else:
            raise ScenarioError(f"--set {key}", where, "is a value, not a table")
    last = parts[-1]
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list):
        target = _element(node, last, f"--set {key}", key)
        raise ScenarioError(f"--set {key}", key, f"is a table ({target!r:.40}), name a field in it")
    else:
        raise ScenarioError(f"--set {key}", key, "is not a table field")


def _element(items: list[Any], part: str, source: str, where: str) -> Any:
    if part.isdigit():
        i = int(part)
        if i < len(items):
            return items[i]
        raise ScenarioError(source, where, f"index {i} out of range (0..{len(items) - 1})")
    for item in items:
        if isinstance(item, dict) and part in (
            item.get("id"),
            item.get("node"),
            item.get("link"),
            item.get("name"),
        ):
            return item
    raise ScenarioError(source, where, f"no element with id {part!r}")
