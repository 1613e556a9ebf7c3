"""What the centre knows of the network, built from messages alone."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from trafficsim.sensors.mqtt.messages import (
    CabinetMode,
    DeviceMeta,
    Forecast,
    SignalMeta,
    SignalState,
)
from trafficsim.sensors.mqtt.topics import TopicKind, Topics

STUCK_REPEATS = 3
"""Identical non-zero readings in a row after which a device counts as stuck (with noise on
every value, an honest repeat of count, occupancy and speed is very unlikely)."""

FLOW_TIME_CONSTANT_S = 300.0
"""Smoothing of measured flows (exponential, 5 min): long enough to average out a cycle's
platoons, short enough to follow a peak. An assumption, tunable per controller."""


@dataclass
class GroupInfo:
    name: str
    approaches: list[str]
    lane_groups: list[str]
    exits: list[str]
    sat_flow_pcu_per_h: float
    loops: list[str] = field(default_factory=list)
    cameras: list[str] = field(default_factory=list)
    exit_cameras: list[str] = field(default_factory=list)
    """Cameras on the links the group feeds (their approaches at the next crossing)."""


@dataclass
class Intersection:
    """A cabinet as the centre knows it: what it published (``meta``: limits, stored plan,
    timing), its groups with the devices found for them, and what its states showed."""

    meta: SignalMeta
    groups: dict[str, GroupInfo]
    phases: list[frozenset[str]]
    phase: int | None = None  # stored-table index of the green now showing
    green_since_s: float = 0.0
    mode: CabinetMode = CabinetMode.FIXED

    @property
    def node(self) -> str:
        return self.meta.intersection


@dataclass
class DeviceState:
    kind: str
    intersection: str | None
    approach: str | None
    lane_group: str | None
    flow_veh_per_h: float | None = None  # smoothed
    flow_acc: float = 0.0
    flow_weight: float = 0.0
    last_t_s: float = -math.inf
    last_count: int = 0
    last_period_s: float = 0.0
    last_occupancy: float = 0.0
    last_nonzero_t_s: float = -math.inf  # end of the last period with a vehicle
    queue_veh: float = 0.0
    pcu_sum: float = 0.0
    veh_sum: float = 0.0
    signature: tuple[object, ...] = ()
    repeats: int = 0
    forecasts: list[tuple[float, float]] = field(default_factory=list)
    """(issued at s, flow trend: longest / shortest horizon) of the last few forecasts."""


class NetworkView:
    """Cabinet metadata, device metadata and the latest readings, keyed as the wire keys them."""

    def __init__(self, root: str = "hcmc") -> None:
        self.root = root
        self.topics = Topics(root)
        self.intersections: dict[str, Intersection] = {}
        self.devices: dict[str, DeviceState] = {}
        self.ignored = 0
        self.stuck_readings = 0

    # -- input ------------------------------------------------------------------------------
    def observe(self, topic: str, p: dict[str, Any]) -> None:
        """One message; raises :class:`PayloadError` (a ValueError) for one it cannot use."""
        parsed = self.topics.parse(topic)
        kind = parsed.kind if parsed else None
        if kind is TopicKind.SIGNAL_META:
            self._signal_meta(SignalMeta.from_payload(p, topic))
        elif kind is TopicKind.DEVICE_META and parsed:
            self._device_meta(parsed.name, DeviceMeta.from_payload(p, topic))
        elif kind is TopicKind.READING and parsed:
            self._reading(parsed.name, p)
        elif kind is TopicKind.SIGNAL_STATE and parsed:
            self._state(parsed.place, SignalState.from_payload(p, topic))
        elif kind is TopicKind.FORECAST and parsed:
            self._forecast(parsed.name, Forecast.from_payload(p, topic))
        else:
            self.ignored += 1

    def _signal_meta(self, m: SignalMeta) -> None:
        groups = {
            name: GroupInfo(
                name,
                list(g.approaches),
                list(g.lane_groups),
                list(g.exits),
                g.sat_flow_pcu_per_h,
            )
            for name, g in m.groups.items()
        }
        self.intersections[m.intersection] = Intersection(
            m, groups, [frozenset(ph) for ph in m.phases]
        )
        self._link_devices()

    def _device_meta(self, device: str, m: DeviceMeta) -> None:
        kinds = {"inductiveLoop": "loop", "camera": "camera"}
        kind = kinds.get(m.device_type)
        if kind is None:
            return
        self.devices[device] = DeviceState(kind, m.intersection, m.approach, m.lane_group)
        self._link_devices()

    def _link_devices(self) -> None:
        by_lg: dict[str, list[tuple[str, DeviceState]]] = {}
        cams_by_link: dict[str, list[str]] = {}
        for did, d in sorted(self.devices.items()):
            if d.lane_group is not None:
                by_lg.setdefault(d.lane_group, []).append((did, d))
            if d.kind == "camera" and d.approach is not None:
                cams_by_link.setdefault(d.approach, []).append(did)
        for inter in self.intersections.values():
            for g in inter.groups.values():
                found = [x for lg in g.lane_groups for x in by_lg.get(lg, [])]
                g.loops = [did for did, d in found if d.kind == "loop"]
                g.cameras = [did for did, d in found if d.kind == "camera"]
                g.exit_cameras = [c for link in g.exits for c in cams_by_link.get(link, [])]

    def _reading(self, device: str, p: dict[str, Any]) -> None:
        d = self.devices.get(device)
        if d is None:
            self.ignored += 1
            return
        t = float(p["simTimeSeconds"])
        period = float(p.get("periodSeconds") or 0.0)
        count = int(p.get("intensity") or 0)
        occupancy = float(p.get("occupancy") or 0.0)
        # Detector health: a loop or camera that repeats exactly the same non-zero values
        # period after period is stuck; its readings are ignored until they change.
        signature = (count, occupancy, p.get("averageVehicleSpeed"), p.get("queueLengthVehicles"))
        d.repeats = d.repeats + 1 if signature == d.signature else 0
        d.signature = signature
        if d.repeats >= STUCK_REPEATS and (count > 0 or occupancy > 0):
            self.stuck_readings += 1
            return
        d.last_t_s, d.last_count, d.last_period_s = t, count, period
        d.last_occupancy = occupancy
        if count > 0 or occupancy > 0:  # a vehicle passed or stood on the loop
            d.last_nonzero_t_s = t
        if period > 0:
            # Exponential smoothing, divided by the weight seen so far: without that, the
            # first few seconds' count (a 2 s count of 5 is 9,000 veh/h) biases the
            # estimate for many time constants.
            q = count * 3600.0 / period
            a = 1.0 - math.exp(-period / FLOW_TIME_CONSTANT_S)
            d.flow_acc = (1.0 - a) * d.flow_acc + a * q
            d.flow_weight = (1.0 - a) * d.flow_weight + a
            d.flow_veh_per_h = d.flow_acc / d.flow_weight
        if d.kind == "camera":
            d.queue_veh = float(p.get("queueLengthVehicles") or 0.0)
            for cls, n in (p.get("intensityByClass") or {}).items():
                inter = self.intersections.get(str(d.intersection))
                pcu = inter.meta.pcu.get(cls, 1.0) if inter else 1.0
                d.pcu_sum += pcu * n
                d.veh_sum += n

    def _state(self, node: str, m: SignalState) -> None:
        inter = self.intersections.get(node)
        if inter is None:
            return
        if m.phase is not None and m.phase != inter.phase:
            inter.green_since_s = m.sim_time_s
        inter.phase = m.phase
        inter.mode = m.mode

    def _forecast(self, device: str, fc: Forecast) -> None:
        d = self.devices.get(device)
        trend = fc.flow_trend()
        if d is None or trend is None:
            return
        # The forecast's trend, from its shortest to its longest horizon.
        d.forecasts.append((fc.sim_time_s, trend))
        del d.forecasts[:-3]

    # -- derived quantities -------------------------------------------------------------------
    def instrumented(self, inter: Intersection) -> bool:
        """Whether any loop or camera watches the intersection (the others are left to
        their stored plans: a controller without data would only guess)."""
        return any(g.loops or g.cameras for g in inter.groups.values())

    def queue_veh(self, g: GroupInfo) -> float:
        return sum(self.devices[c].queue_veh for c in g.cameras)

    def downstream_queue_veh(self, g: GroupInfo) -> float:
        """Mean queue on the links this group feeds (cameras on those approaches)."""
        if not g.exit_cameras:
            return 0.0
        return sum(self.devices[c].queue_veh for c in g.exit_cameras) / len(g.exits)

    def pcu_per_veh(self, g: GroupInfo) -> float:
        veh = sum(self.devices[c].veh_sum for c in g.cameras)
        pcu = sum(self.devices[c].pcu_sum for c in g.cameras)
        return pcu / veh if veh > 0 else 1.0

    def flow_veh_per_h(self, g: GroupInfo, *, before_s: float | None = None) -> float:
        """Measured (smoothed) arrival flow of a group; with ``before_s``, scaled by the trend
        of the newest forecast issued before that time, where one exists."""
        total = 0.0
        for did in g.loops:
            d = self.devices[did]
            f = d.flow_veh_per_h or 0.0
            if before_s is not None:
                # The newest forecast issued before this tick: over MQTT, the forecast of
                # this very tick may or may not have arrived yet; it is never used.
                # The predictor's trend (longest over shortest horizon) scales the flow
                # measured now: the measurement anchors the level, which a model used
                # outside its training range gets wrong first; the trend says whether the
                # peak is building or fading. Bounded to +-10 % (an assumption).
                usable = [trend for t, trend in d.forecasts if t < before_s]
                if usable:
                    f *= min(1.1, max(0.9, usable[-1]))
            total += f
        return total

    def gap_s(self, g: GroupInfo, now_s: float) -> float:
        """Seconds since a loop of the group last counted a vehicle (period resolution)."""
        if not g.loops:
            return math.inf
        return min(now_s - self.devices[d].last_nonzero_t_s for d in g.loops)

    def demand(self, g: GroupInfo) -> bool:
        """A call: a vehicle waits or was just counted on the group's approaches."""
        if self.queue_veh(g) > 0:
            return True
        return any(
            self.devices[d].last_count > 0 or self.devices[d].last_occupancy > 0 for d in g.loops
        )
