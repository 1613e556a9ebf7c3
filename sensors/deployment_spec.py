"""The scenario's ``[sensors]`` table, parsed once into a frozen, typed :class:`DeploymentSpec`.

A run does not always deploy what the file says: the closed loop wants loops and cameras to
report every control step, the report's sensitivity cases take detectors away from some
intersections or raise the fault rates. Each of those is a method returning a new spec, so
nobody edits the table by its keys and ``Scenario.sensors`` stays what the file said.

A field the table did not set stays ``None`` ("not set") rather than taking its default
here, so that defaults which depend on other fields keep their meaning: the probes' period
is the devices' period unless set, and the closed loop's short periods apply unless the
scenario set its own. :func:`~trafficsim.sensors.deployment.build_deployment` resolves the
defaults and checks what needs the network (lane groups, loop positions against link
lengths); everything else is checked here, with the same messages as any scenario error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from trafficsim.sensors.deployment import (
    DEFAULT_PROBE_SHARE,
    PERIOD_RANGE_S,
    FaultSpec,
    id_problem,
    valid_device_id,
)
from trafficsim.sim import FieldReader, InputError, Scenario, ScenarioError

CONTROL_PROBE_PERIOD_S = 60.0
"""Probe period in a closed loop unless the table sets one: probes report per link left, so
a control step's worth of them says little."""

_TOP_KEYS = {
    "default_deployment",
    "intersections",
    "period_s",
    "loop_position_m",
    "probe_share",
    "probe_period_s",
    "faults",
    "loops",
    "cameras",
}


@dataclass(frozen=True, slots=True)
class FaultOverrides:
    """The fault rates a ``faults`` table sets; the others come from the level above (the
    defaults for ``[sensors.faults]``, the deployment's rates for a device's own table)."""

    noise: float | None = None
    bias: float | None = None
    drop: float | None = None
    stuck: float | None = None
    stuck_mean_s: float | None = None
    offline: float | None = None
    offline_mean_s: float | None = None

    def over(self, base: FaultSpec) -> FaultSpec:
        """``base`` with the rates set here."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(base, **{k: v for k, v in values.items() if v is not None})


@dataclass(frozen=True, slots=True)
class ExplicitDevice:
    """A ``[[sensors.loops]]`` or ``[[sensors.cameras]]`` row. Its lane group and position
    are checked against the network when the deployment is built."""

    lane_group: str | None
    """None: the row named none (an error once the network's lane groups are known)."""
    device_id: str | None = None
    """None: ``loop-<lane group>`` or ``cam-<lane group>``."""
    period_s: float | None = None
    """None: the deployment's period."""
    faults: FaultOverrides = field(default_factory=FaultOverrides)
    position_m: float | None = None
    """Loops only: upstream of the stop line; None: 30 m. Kept as the table gave it, so that
    a position past the link's end is reported as written."""


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    """Which devices a run deploys: the ``[sensors]`` table of ``source``, checked except
    for what needs the network. ``None`` fields were not set (see the module docstring)."""

    source: str = ""
    """The file the table came from, named in the errors found when building."""
    period_s: float | None = None
    """Every device's period (s); None: 60 s."""
    faults: FaultOverrides = field(default_factory=FaultOverrides)
    """Every device's fault rates, over :class:`FaultSpec`'s defaults."""
    default_deployment: bool = True
    """A loop and a camera on every approach and a probe fleet, before the rows below."""
    loop_position_m: float | None = None
    """Default loops' position upstream of the stop line; None: 30 m (at most half the link)."""
    probe_share: float | None = None
    """Share of vehicles reporting as probes; None: 5 %."""
    probe_period_s: float | None = None
    """None: the devices' period."""
    loops: tuple[ExplicitDevice, ...] = ()
    cameras: tuple[ExplicitDevice, ...] = ()
    intersections: frozenset[str] | None = None
    """The default deployment only at these signalized intersections; None: at all."""

    @classmethod
    def of(cls, scenario: Scenario) -> DeploymentSpec:
        """The spec of ``scenario``'s own ``[sensors]`` table."""
        return cls.from_table(scenario.sensors, scenario.source)

    @classmethod
    def from_table(cls, table: Mapping[str, Any], source: str) -> DeploymentSpec:
        """Parse and check a ``[sensors]`` table read from ``source``."""
        r = FieldReader(source, ScenarioError)
        r.check_keys(table, "sensors", _TOP_KEYS)
        period_s = _optional(r, table, "period_s", "sensors", PERIOD_RANGE_S)
        faults = _fault_overrides(r, table.get("faults", {}), "sensors.faults")
        default = r.boolean(table, "default_deployment", "sensors", True)
        position = share = probe_period = None
        if default:  # the defaults' own settings are read only when they apply
            position = _optional(r, table, "loop_position_m", "sensors", (0.0, math.inf))
            share = _optional(r, table, "probe_share", "sensors", (0.0, 1.0))
            if (DEFAULT_PROBE_SHARE if share is None else share) > 0:
                probe_period = _optional(r, table, "probe_period_s", "sensors", PERIOD_RANGE_S)
        where = None
        if "intersections" in table:
            nodes = table["intersections"]
            if not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes):
                raise r.fail(
                    "sensors.intersections",
                    'expected a list of signalized node ids, e.g. ["r0c0", "r0c1"]',
                )
            where = frozenset(nodes)
        return cls(
            source=source,
            period_s=period_s,
            faults=faults,
            default_deployment=default,
            loop_position_m=position,
            probe_share=share,
            probe_period_s=probe_period,
            intersections=where,
            loops=_rows(r, table, "loops"),
            cameras=_rows(r, table, "cameras"),
        )

    def for_control(self, step_s: float) -> DeploymentSpec:
        """Loops and cameras report every control step unless the table set a period
        (actuated control needs short periods); probes keep a minute unless set."""
        period = self.period_s
        if period is None:
            period = _checked(self.source, "period_s", "sensors", step_s, PERIOD_RANGE_S)
        probe = CONTROL_PROBE_PERIOD_S if self.probe_period_s is None else self.probe_period_s
        return replace(self, period_s=period, probe_period_s=probe)

    def covering(self, share: float, scenario: Scenario) -> DeploymentSpec:
        """Only a loop and a camera on each approach of ``share`` of ``scenario``'s
        signalized intersections, spread evenly over their sorted ids (0.5: every other
        one), and no probes; the controllers leave the others on their stored plans.
        Periods and faults stay as set."""
        if not 0.0 < share <= 1.0:
            raise InputError("covering", "share", f"expected a share in (0, 1], got {share!r}")
        signals = sorted(s.node for s in scenario.signals)
        k = max(1, round(share * len(signals)))
        keep = {signals[int(i * len(signals) / k)] for i in range(k)}
        return replace(self, default_deployment=True, intersections=frozenset(keep),
                       probe_share=0.0, loops=(), cameras=())  # fmt: skip

    def with_fault_factor(self, factor: float) -> DeploymentSpec:
        """Every device's lost-reading, stuck and offline rates ``factor`` times the
        defaults, at most 1; the other rates back to the defaults. A device's own fault
        table still applies over these."""
        base = FaultSpec()
        rates = {
            k: _checked(self.source, k, "sensors.faults", min(1.0, getattr(base, k) * factor),
                        (0.0, 1.0))
            for k in ("drop", "stuck", "offline")
        }  # fmt: skip
        return replace(self, faults=FaultOverrides(**rates))


def _optional(
    r: FieldReader, data: Mapping[str, Any], key: str, path: str, bounds: tuple[float, float]
) -> float | None:
    """The number ``key`` from ``bounds[0]`` to ``bounds[1]``, or None when not set."""
    return r.number_in(data, key, path, math.nan, bounds) if key in data else None


def _checked(source: str, key: str, path: str, value: float, bounds: tuple[float, float]) -> float:
    """``value`` checked as if the table had set ``path.key`` to it (same message)."""
    return FieldReader(source, ScenarioError).number_in({key: value}, key, path, value, bounds)


def _fault_overrides(r: FieldReader, data: Any, path: str) -> FaultOverrides:
    r.check_keys(data, path, {f.name for f in fields(FaultOverrides)})
    values = {}
    for k in data:
        hi = math.inf if k.endswith("_s") else 1.0
        lo = -0.5 if k == "bias" else 0.0
        values[k] = r.number_in(data, k, path, 0.0, (lo, hi))
    return FaultOverrides(**values)


def _rows(r: FieldReader, table: Mapping[str, Any], key: str) -> tuple[ExplicitDevice, ...]:
    """The ``[[sensors.<key>]]`` rows; lane groups and positions are left to the build."""
    rows = table.get(key, [])
    if not isinstance(rows, list) or not all(isinstance(x, dict) for x in rows):
        raise r.fail(f"sensors.{key}", f"expected an array of tables [[sensors.{key}]]")
    out = []
    for i, row in enumerate(rows):
        p = f"sensors.{key}[{i}]"
        allowed = {"id", "lane_group", "period_s", "faults"}
        if key == "loops":
            allowed.add("position_m")
        r.check_keys(row, p, allowed)
        lg = row.get("lane_group")
        if lg is not None and not isinstance(lg, str):
            raise r.fail(f"{p}.lane_group", f"expected a lane group id (a string), got {lg!r}")
        did = row.get("id")
        if did is not None and (not isinstance(did, str) or not valid_device_id(did)):
            raise r.fail(f"{p}.id", id_problem(did))
        pos = row.get("position_m")
        if pos is not None and (isinstance(pos, bool) or not isinstance(pos, int | float)):
            raise r.fail(
                f"{p}.position_m", f"expected a number from 0 to the link length, got {pos!r}"
            )
        out.append(
            ExplicitDevice(
                lg,
                did,
                _optional(r, row, "period_s", p, PERIOD_RANGE_S),
                _fault_overrides(r, row.get("faults", {}), f"{p}.faults"),
                pos,
            )
        )
    return tuple(out)
