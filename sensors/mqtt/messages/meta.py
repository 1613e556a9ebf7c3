"""Retained metadata: what a cabinet accepts, what and where each device is, the scenario.

A controller builds its picture of the network from these alone (with the readings), so
they carry everything it needs: groups with their approaches, lane groups, exits and
saturation flows; the stored phase table and its timing; the cabinet's limits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trafficsim.sensors.mqtt.messages.control import PhaseTiming, StageTiming
from trafficsim.sensors.mqtt.messages.fields import (
    MAX_FLOW_VEH_PER_H,
    MAX_INTERVAL_S,
    MAX_SIM_TIME_S,
    Fields,
)
from trafficsim.sensors.mqtt.payloads import DEVICE_TYPE
from trafficsim.sensors.readings import DeviceInfo


@dataclass(frozen=True, slots=True)
class GroupMeta:
    """A signal group: the approaches and lane groups it serves, the links it feeds, and
    its saturation flow (sum over its lane groups)."""

    approaches: tuple[str, ...]
    lane_groups: tuple[str, ...]
    exits: tuple[str, ...]
    sat_flow_pcu_per_h: float

    def to_payload(self) -> dict[str, Any]:
        return {
            "approaches": list(self.approaches),
            "laneGroups": list(self.lane_groups),
            "exits": list(self.exits),
            "satFlowPcuPerHour": self.sat_flow_pcu_per_h,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> GroupMeta:
        return cls(
            f.texts("approaches"),
            f.texts("laneGroups"),
            f.texts("exits"),
            f.number("satFlowPcuPerHour", 1.0, MAX_FLOW_VEH_PER_H),
        )


MAX_GROUPS = 64
"""Signal groups (and phases) of one cabinet: a large junction has a few dozen."""


@dataclass(frozen=True, slots=True)
class SignalMeta:
    """``{root}/meta/signals/{intersection}``: what the cabinet will accept."""

    intersection: str
    scenario: str
    groups: Mapping[str, GroupMeta]
    phases: tuple[tuple[str, ...], ...]
    """The stored phase table (groups of each phase, sorted): what stage commands index."""
    stored_offset_s: float
    stored_phases: tuple[PhaseTiming, ...]
    min_green_s: float
    max_green_s: float
    max_cycle_s: float
    min_yellow_s: float
    min_all_red_s: float
    fallback_s: float
    startup_lost_s: float
    yellow_end_use_s: float
    pcu: Mapping[str, float]
    """PCU equivalent of each vehicle class, by class name."""
    max_yellow_s: float = math.inf
    max_all_red_s: float = math.inf
    max_red_s: float = math.inf
    """The longest any group of a cycle plan may be red (a starvation bound); inf: none
    published (the field is optional on the wire)."""
    stored_stages: tuple[StageTiming, ...] = ()
    """The stored plan when it is written in stages (then ``stored_phases`` is empty and
    ``phases`` lists the distinct green sets of its stages)."""

    def to_payload(self) -> dict[str, Any]:
        maxima = {
            key: v
            for key, v in (
                ("maxYellowSeconds", self.max_yellow_s),
                ("maxAllRedSeconds", self.max_all_red_s),
                ("maxRedSeconds", self.max_red_s),
            )
            if math.isfinite(v)
        }
        return {
            "intersection": self.intersection,
            "scenario": self.scenario,
            "groups": {name: g.to_payload() for name, g in self.groups.items()},
            "phases": [list(p) for p in self.phases],
            "storedPlan": {
                "offsetSeconds": self.stored_offset_s,
                **(
                    {"stages": [st.to_payload() for st in self.stored_stages]}
                    if self.stored_stages
                    else {"phases": [p.to_payload() for p in self.stored_phases]}
                ),
            },
            "minGreenSeconds": self.min_green_s,
            "maxGreenSeconds": self.max_green_s,
            "maxCycleSeconds": self.max_cycle_s,
            "minYellowSeconds": self.min_yellow_s,
            "minAllRedSeconds": self.min_all_red_s,
            "fallbackSeconds": self.fallback_s,
            "startupLostSeconds": self.startup_lost_s,
            "yellowEndUseSeconds": self.yellow_end_use_s,
            "pcuEquivalents": dict(self.pcu),
            **maxima,
        }

    @classmethod
    def from_payload(cls, payload: object, topic: str = "") -> SignalMeta:
        f = Fields(payload, topic)
        groups_f = f.table("groups")
        if not 0 < len(groups_f.obj) <= MAX_GROUPS:
            raise f.fail("groups", f"expected 1 to {MAX_GROUPS} signal groups")
        groups = {
            str(name): GroupMeta.from_fields(groups_f.table(str(name))) for name in groups_f.obj
        }
        stored = f.table("storedPlan")
        phases = []
        listed = f.obj.get("phases")
        if not isinstance(listed, list) or not 0 < len(listed) <= MAX_GROUPS:
            raise f.fail("phases", f"expected a list of 1 to {MAX_GROUPS} phases")
        for i, ph in enumerate(listed):
            if not isinstance(ph, list) or not all(isinstance(g, str) for g in ph):
                raise f.fail(f"phases[{i}]", "expected a list of group names")
            phases.append(tuple(ph))
        stored_phases: tuple[PhaseTiming, ...] = ()
        stored_stages: tuple[StageTiming, ...] = ()
        if stored.has("stages"):
            if stored.has("phases"):
                raise stored.fail("stages", "a stored plan has phases or stages, not both")
            stored_stages = tuple(
                StageTiming.from_fields(st) for st in stored.tables("stages", non_empty=True)
            )
        else:
            stored_phases = tuple(
                PhaseTiming.from_fields(p) for p in stored.tables("phases", non_empty=True)
            )
        named = [
            *(g for ph in phases for g in ph),
            *(g for p in stored_phases for g in p.groups),
            *(g for st in stored_stages for g in (*st.green, *st.yellow)),
        ]
        unknown = sorted(set(named) - set(groups))
        if unknown:
            raise f.fail("phases", f"group {unknown[0][:40]!r} is not one of the groups")
        return cls(
            intersection=f.text("intersection"),
            scenario=f.opt_text("scenario") or "",
            groups=groups,
            phases=tuple(phases),
            stored_offset_s=stored.number("offsetSeconds", 0, MAX_INTERVAL_S),
            stored_phases=stored_phases,
            min_green_s=f.number("minGreenSeconds", 0, MAX_INTERVAL_S),
            max_green_s=f.number("maxGreenSeconds", 0, MAX_INTERVAL_S),
            max_cycle_s=f.number("maxCycleSeconds", 0, MAX_INTERVAL_S),
            min_yellow_s=f.number("minYellowSeconds", 0, MAX_INTERVAL_S),
            min_all_red_s=f.number("minAllRedSeconds", 0, MAX_INTERVAL_S),
            fallback_s=f.number("fallbackSeconds", 0, MAX_INTERVAL_S),
            startup_lost_s=f.number("startupLostSeconds", 0, MAX_INTERVAL_S),
            yellow_end_use_s=f.number("yellowEndUseSeconds", 0, MAX_INTERVAL_S),
            pcu=f.numbers_by_name("pcuEquivalents", 0.01, 100.0),
            max_yellow_s=_opt_max(f, "maxYellowSeconds"),
            max_all_red_s=_opt_max(f, "maxAllRedSeconds"),
            max_red_s=_opt_max(f, "maxRedSeconds"),
            stored_stages=stored_stages,
        )


def _opt_max(f: Fields, key: str) -> float:
    v = f.opt_number(key, 0, MAX_INTERVAL_S)
    return math.inf if v is None else v


@dataclass(frozen=True, slots=True)
class DeviceMeta:
    """``{root}/meta/devices/{device}``: what a device is, where, and its neighbours."""

    device_id: str
    device_type: str
    """FIWARE-style type: ``inductiveLoop``, ``camera`` or ``probeFleet``."""
    scenario: str = ""
    period_s: float | None = None
    intersection: str | None = None
    approach: str | None = None
    lane_group: str | None = None
    position_m: float | None = None
    upstream: tuple[str, ...] = ()
    downstream: tuple[str, ...] = ()
    lon_lat: tuple[float, float] | None = None

    @classmethod
    def of(cls, info: DeviceInfo, scenario: str) -> DeviceMeta:
        where = None if info.lon is None or info.lat is None else (info.lon, info.lat)
        return cls(
            info.device_id,
            DEVICE_TYPE[info.kind],
            scenario,
            info.period_s,
            info.intersection,
            info.link,
            info.lane_group,
            info.position_m,
            tuple(info.upstream),
            tuple(info.downstream),
            where,
        )

    def to_payload(self) -> dict[str, Any]:
        p: dict[str, Any] = {
            "deviceId": self.device_id,
            "deviceType": self.device_type,
            "scenario": self.scenario,
            "periodSeconds": self.period_s,
            "intersection": self.intersection,
            "approach": self.approach,
            "laneGroup": self.lane_group,
            "positionMeters": self.position_m,
            "upstreamDevices": list(self.upstream),
            "downstreamDevices": list(self.downstream),
        }
        if self.lon_lat is not None:
            p["location"] = {"type": "Point", "coordinates": list(self.lon_lat)}
        return {k: v for k, v in p.items() if v is not None}

    @classmethod
    def from_payload(cls, payload: object, topic: str = "") -> DeviceMeta:
        f = Fields(payload, topic)
        return cls(
            device_id=f.text("deviceId"),
            device_type=f.text("deviceType"),
            scenario=f.opt_text("scenario") or "",
            period_s=f.opt_number("periodSeconds", 0, MAX_INTERVAL_S),
            intersection=f.opt_text("intersection"),
            approach=f.opt_text("approach"),
            lane_group=f.opt_text("laneGroup"),
            position_m=f.opt_number("positionMeters", -1e5, 1e5),
            upstream=f.texts("upstreamDevices") if f.has("upstreamDevices") else (),
            downstream=f.texts("downstreamDevices") if f.has("downstreamDevices") else (),
        )


@dataclass(frozen=True, slots=True)
class NodeMeta:
    id: str
    kind: str
    lon_lat: tuple[float, float]


@dataclass(frozen=True, slots=True)
class LinkMeta:
    id: str
    from_node: str
    to_node: str
    length_m: float
    lanes: int


@dataclass(frozen=True, slots=True)
class ScenarioMeta:
    """``{root}/meta/scenario``: the running scenario, what a subscriber needs to draw it
    (node positions in WGS84, lon/lat rounded to 7 decimals, about 1 cm)."""

    scenario: str
    seed: int
    start_time: str
    duration_s: float
    nodes: tuple[NodeMeta, ...]
    links: tuple[LinkMeta, ...]

    def to_payload(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "startTime": self.start_time,
            "durationSeconds": self.duration_s,
            "nodes": [
                {
                    "id": n.id,
                    "kind": n.kind,
                    "location": {
                        "type": "Point",
                        "coordinates": [round(c, 7) for c in n.lon_lat],
                    },
                }
                for n in self.nodes
            ],
            "links": [
                {
                    "id": ln.id,
                    "from": ln.from_node,
                    "to": ln.to_node,
                    "lengthMeters": ln.length_m,
                    "lanes": ln.lanes,
                }
                for ln in self.links
            ],
        }

    @classmethod
    def from_payload(cls, payload: object, topic: str = "") -> ScenarioMeta:
        f = Fields(payload, topic)
        nodes = []
        for n in f.tables("nodes"):
            coords = n.table("location").obj.get("coordinates")
            if not (
                isinstance(coords, list)
                and len(coords) == 2
                and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords)
            ):
                raise n.fail("location.coordinates", "expected [longitude, latitude]")
            nodes.append(
                NodeMeta(n.text("id"), n.text("kind"), (float(coords[0]), float(coords[1])))
            )
        links = tuple(
            LinkMeta(
                ln.text("id"),
                ln.text("from"),
                ln.text("to"),
                ln.number("lengthMeters", 0, 1e6),
                ln.integer("lanes", 0, 100),
            )
            for ln in f.tables("links")
        )
        return cls(
            f.text("scenario"),
            f.integer("seed"),
            f.text("startTime"),
            f.number("durationSeconds", 0, MAX_SIM_TIME_S),
            tuple(nodes),
            links,
        )
