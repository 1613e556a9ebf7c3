"""Design flows for fixed-time plans: the traffic counts an engineer times today's plans with.

A TOML file (see docs/controllers.md)::

    pcu_per_veh = 0.41          # optional; PCU per vehicle of the counted traffic
    [flows."*"]                 # every intersection without a table of its own
    NS = 3700                   # veh/h per signal group
    EW = 1850
    [flows.r0c0]
    NS = 3000
    EW = 2000
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from sim import ScenarioError


def load_design_flows(path: Path) -> dict[str, Any]:
    """Controller parameters for ``fixed`` from a design-flow file; errors name the field."""
    src = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(src, "", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(src, "", f"not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"pcu_per_veh", "flows"})
    if unknown:
        raise ScenarioError(src, unknown[0], "unknown field; expected pcu_per_veh and [flows]")
    pcu = data.get("pcu_per_veh", 1.0)
    if isinstance(pcu, bool) or not isinstance(pcu, int | float) or not 0 < pcu <= 5:
        raise ScenarioError(src, "pcu_per_veh", f"expected a number in (0, 5], got {pcu!r}")
    flows = data.get("flows")
    if not isinstance(flows, dict) or not flows:
        raise ScenarioError(src, "flows", 'expected tables such as [flows."*"] NS = 1200')
    out: dict[str, dict[str, float]] = {}
    for node, table in flows.items():
        if not isinstance(table, dict) or not table:
            raise ScenarioError(src, f"flows.{node}", "expected a table of group = veh/h")
        out[node] = {}
        for group, q in table.items():
            ok = isinstance(q, int | float) and not isinstance(q, bool) and math.isfinite(q)
            if not ok or q < 0:
                raise ScenarioError(
                    src, f"flows.{node}.{group}", f"expected flow >= 0 veh/h, got {q!r}"
                )
            out[node][group] = float(q)
    return {"design_flows": out, "pcu_per_veh": float(pcu)}
