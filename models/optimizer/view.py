"""What the centre knows of the network, built from messages alone."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

from trafficsim.sensors.mqtt.messages import (
    CabinetMode,
    DeviceMeta,
    Forecast,
    Observation,
    PayloadError,
    SignalMeta,
    SignalState,
)
from trafficsim.sensors.mqtt.messages.reading import MAX_DEVICES, named_by_topic
from trafficsim.sensors.mqtt.topics import TopicKind, Topics

_Placed = TypeVar("_Placed", SignalMeta, SignalState)

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


def _at(place: str, m: _Placed, topic: str) -> _Placed:
    """``m`` if it is about its topic's intersection (identity comes from the topic, which
    the broker's ACL binds to the cabinet's login), else a PayloadError."""
    named_by_topic(m.intersection, place, "intersection", topic)
    return m


class NetworkView:
    """Cabinet metadata, device metadata and the latest readings, keyed as the wire keys them."""

    def __init__(self, root: str = "hcmc") -> None:
        self.root = root
        self.topics = Topics(root)
        self.intersections: dict[str, Intersection] = {}
        self.devices: dict[str, DeviceState] = {}
        self.ignored = 0
        self.stuck_readings = 0
        self._linked = True

    # -- input ------------------------------------------------------------------------------
    def observe(self, topic: str, p: dict[str, Any]) -> None:
        """One message; raises :class:`PayloadError` (a ValueError) for one it cannot use."""
        parsed = self.topics.parse(topic)
        kind = parsed.kind if parsed else None
        if kind is TopicKind.SIGNAL_META and parsed:
            self._signal_meta(_at(parsed.place, SignalMeta.from_payload(p, topic), topic))
        elif kind is TopicKind.DEVICE_META and parsed:
            meta = DeviceMeta.from_payload(p, topic)
            named_by_topic(meta.device_id, parsed.name, "deviceId", topic)
            self._device_meta(parsed.name, meta)
        elif kind is TopicKind.READING and parsed:
            self._reading(Observation.on_topic(parsed, p, topic))
        elif kind is TopicKind.SIGNAL_STATE and parsed:
            self._state(parsed.place, _at(parsed.place, SignalState.from_payload(p, topic), topic))
        elif kind is TopicKind.FORECAST and parsed:
            fc = Forecast.from_payload(p, topic)
            named_by_topic(fc.device_id, parsed.name, "deviceId", topic)
            self._forecast(parsed.name, fc)
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
        if m.intersection not in self.intersections and len(self.intersections) >= MAX_DEVICES:
            raise PayloadError("", f"more than {MAX_DEVICES:,} intersections; not kept")
        self.intersections[m.intersection] = Intersection(
            m, groups, [frozenset(ph) for ph in m.phases]
        )
        self._linked = False

    def _device_meta(self, device: str, m: DeviceMeta) -> None:
        kinds = {"inductiveLoop": "loop", "camera": "camera"}
        kind = kinds.get(m.device_type)
        if kind is None:
            return
        if device not in self.devices and len(self.devices) >= MAX_DEVICES:
            raise PayloadError("", f"more than {MAX_DEVICES:,} devices; not kept")
        self.devices[device] = DeviceState(kind, m.intersection, m.approach, m.lane_group)
        self._linked = False

    def link(self) -> None:
        """Find each group's devices, once the metadata changed: before a decision, not on
        every metadata message (a burst of them, from a restart or a hostile client, would
        otherwise cost the square of their number)."""
        if not self._linked:
            self._link_devices()
            self._linked = True

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

    def _reading(self, obs: Observation) -> None:
        d = self.devices.get(obs.device_id)
        if d is None:
            self.ignored += 1
            return
        t, period, count = obs.sim_time_s, obs.period_s, obs.intensity
        occupancy = obs.occupancy or 0.0
        # Detector health: a loop or camera that repeats exactly the same non-zero values
        # period after period is stuck; its readings are ignored until they change.
        signature = (count, occupancy, obs.speed_kmh, obs.queue_veh)
        d.repeats = d.repeats + 1 if signature == d.signature else 0
        d.signature = signature
        if d.repeats >= STUCK_REPEATS and (count > 0 or occupancy > 0):
            self.stuck_readings += 1
            return
        d.last_t_s, d.last_count, d.last_period_s = t, count, period
        d.last_occupancy = occupancy
        if count > 0 or occupancy > 0:  # a vehicle passed or stood on the loop
            d.last_nonzero_t_s = t
        # Exponential smoothing, divided by the weight seen so far: without that, the
        # first few seconds' count (a 2 s count of 5 is 9,000 veh/h) biases the estimate
        # for many time constants.
        q = count * 3600.0 / period
        a = 1.0 - math.exp(-period / FLOW_TIME_CONSTANT_S)
        d.flow_acc = (1.0 - a) * d.flow_acc + a * q
        d.flow_weight = (1.0 - a) * d.flow_weight + a
        d.flow_veh_per_h = d.flow_acc / d.flow_weight
        if d.kind == "camera":
            d.queue_veh = float(obs.queue_veh or 0)
            inter = self.intersections.get(str(d.intersection))
            for cls, n in (obs.by_class or {}).items():
                pcu = inter.meta.pcu.get(cls, 1.0) if inter else 1.0
                d.pcu_sum += pcu * n
                d.veh_sum += n

    def _state(self, node: str, m: SignalState, topic: str = "") -> None:
        inter = self.intersections.get(node)
        if inter is None:
            return
        if m.phase is not None and not 0 <= m.phase < len(inter.phases):
            raise PayloadError(
                topic, f"phase: {m.phase} is not in the phase table (0..{len(inter.phases) - 1})"
            )
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
