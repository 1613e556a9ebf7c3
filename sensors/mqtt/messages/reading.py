"""A reading as received: the FIWARE ``TrafficFlowObserved`` payload parsed once at the edge,
with its identity taken from the topic, and the plausibility checks a consumer keeps per
device (sequence numbers and times it may believe).

The topic is what the broker's ACL binds to the device's login; the payload is whatever the
device wrote. So a reading names its device by its topic, and a payload whose ``deviceId``
or ``intersection`` disagrees is refused rather than filed under someone else's name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from trafficsim.sensors.mqtt.messages.fields import (
    MAX_INTERVAL_S,
    MAX_SIM_TIME_S,
    MAX_SPEED_KMH,
    Fields,
)
from trafficsim.sensors.mqtt.payloads import PayloadError
from trafficsim.sensors.mqtt.topics import ParsedTopic, TopicKind

MAX_SEQ = 2**63 - 1
"""Sequence numbers are int64 (the recording's column type)."""

MAX_COUNT = 1_000_000
"""Counts and queues of one reading: a million vehicles in one period is beyond any lane."""

MAX_CLASSES = 32
"""Vehicle classes in ``intensityByClass``: the project's fleets have six."""

MIN_READING_INTERVAL_S = 1.0
"""No loop or camera reports more often than once per simulated second (the shortest period
a deployment accepts, ``sensors.deployment.PERIOD_RANGE_S``), so its ``seq`` can grow by at
most one per second: a larger jump is not believed."""

SEQ_SLACK = 10
"""Readings a device may be ahead of that bound (rounding, a reading published at the very
end of its period)."""

AHEAD_OF_CLOCK_S = 3600.0
"""A reading may end at most an hour after the simulator's last clock tick a consumer saw.
MQTT orders only one client's messages, so readings (from the devices' clients) and ticks
(from the simulator's) reach a subscriber in no fixed order, and a simulator at full speed
runs minutes ahead of a slow subscriber's view of the clock; an hour covers that, while a
reading from another day is not from this run's present."""

MAX_DEVICES = 100_000
"""Devices a consumer keeps state for: about ten per signalized intersection of a city of
HCMC's size (1,070 signals, HCMC_FACTS row 6), with room to spare. Past it, readings of new
devices are refused, so names made up by a hostile client cannot grow memory."""


def named_by_topic(got: str | None, expected: str, field: str, topic: str) -> None:
    """Refuse a message whose ``field`` names another device or intersection than its topic
    (``expected``): identity comes from the topic, which the ACL binds to the login."""
    if got != expected:
        what = "device " if field == "deviceId" else ""
        raise PayloadError(topic, f"{field}: not this topic's {what}{expected!r}")


class DeviceType(StrEnum):
    LOOP = "inductiveLoop"
    CAMERA = "camera"
    PROBE = "probeFleet"


@dataclass(frozen=True, slots=True)
class Observation:
    """One loop, camera or probe reading, every field checked (types, finite, in range)."""

    device_id: str
    device_type: DeviceType
    seq: int
    sim_time_s: float
    """End of the observation period, seconds since the scenario's start."""
    period_s: float
    intensity: int
    intersection: str | None = None
    approach: str | None = None
    lane_group: str | None = None
    occupancy: float | None = None
    speed_kmh: float | None = None
    queue_veh: int | None = None
    queue_m: float | None = None
    travel_time_s: float | None = None
    by_class: Mapping[str, int] | None = None
    congested: bool | None = None
    date_from: str | None = None
    date_to: str | None = None

    @classmethod
    def from_payload(cls, payload: object, topic: str = "") -> Observation:
        f = Fields(payload, topic)
        try:
            kind = DeviceType(str(f.obj.get("deviceType")))
        except ValueError:
            raise f.fail("deviceType", "expected inductiveLoop, camera or probeFleet") from None
        by_class = None
        if f.obj.get("intensityByClass") is not None:
            counts = f.numbers_by_name("intensityByClass", 0, MAX_COUNT, most=MAX_CLASSES)
            if any(v != int(v) for v in counts.values()):
                raise f.fail("intensityByClass", "expected whole vehicle counts")
            by_class = {k: int(v) for k, v in counts.items()}
        congested = f.obj.get("congested")
        if congested is not None and not isinstance(congested, bool):
            raise f.fail("congested", "expected true or false")
        return cls(
            device_id=f.text("deviceId"),
            device_type=kind,
            seq=f.integer("seq", 0, MAX_SEQ),
            sim_time_s=f.number("simTimeSeconds", 0, MAX_SIM_TIME_S),
            period_s=f.number("periodSeconds", MIN_READING_INTERVAL_S, MAX_INTERVAL_S),
            intensity=f.integer("intensity", 0, MAX_COUNT),
            intersection=f.opt_text("intersection"),
            approach=f.opt_text("approach"),
            lane_group=f.opt_text("laneGroup"),
            occupancy=f.opt_number("occupancy", 0, 1),
            speed_kmh=f.opt_number("averageVehicleSpeed", 0, MAX_SPEED_KMH),
            queue_veh=f.opt_integer("queueLengthVehicles", 0, MAX_COUNT),
            queue_m=f.opt_number("queueLengthMeters", 0, 1e7),
            travel_time_s=f.opt_number("travelTimeSeconds", 0, MAX_INTERVAL_S),
            by_class=by_class,
            congested=congested,
            date_from=f.opt_text("dateObservedFrom"),
            date_to=f.opt_text("dateObservedTo"),
        )

    @classmethod
    def on_topic(cls, parsed: ParsedTopic, payload: object, topic: str) -> Observation:
        """The reading published on ``topic``: its identity is the topic's, and a payload
        that names another device, intersection or link is refused."""
        obs = cls.from_payload(payload, topic)
        if parsed.kind is TopicKind.READING:
            if obs.device_type is DeviceType.PROBE:
                raise PayloadError(topic, "deviceType: probe readings go on the probes topic")
            if obs.device_id != parsed.name:
                raise PayloadError(
                    topic,
                    f"deviceId: {obs.device_id[:40]!r} is not this topic's device "
                    f"{parsed.name!r} (a device publishes only its own readings)",
                )
            if obs.intersection is not None and obs.intersection != parsed.place:
                raise PayloadError(
                    topic,
                    f"intersection: {obs.intersection[:40]!r} is not this topic's {parsed.place!r}",
                )
        elif parsed.kind is TopicKind.PROBE:
            if obs.device_type is not DeviceType.PROBE:
                raise PayloadError(topic, "deviceType: only probe readings go on this topic")
            if obs.approach != parsed.name:
                raise PayloadError(
                    topic,
                    f"approach: {str(obs.approach)[:40]!r} is not this topic's link "
                    f"{parsed.name!r}",
                )
        else:
            raise PayloadError(topic, "not a reading topic")
        return obs


@dataclass(slots=True)
class _Last:
    seq: int
    sim_time_s: float


class Plausibility:
    """What a consumer may believe of each device's readings: a time not ahead of the
    simulator's clock, and a sequence number that grows no faster than the device can
    report. Bounded to :data:`MAX_DEVICES` devices.

    A refused reading is not forgotten by the caller (the recorder keeps it verbatim with the
    reason); it just does not move the device's sequence or a consumer's window."""

    def __init__(self, max_devices: int = MAX_DEVICES) -> None:
        self.max_devices = max_devices
        self.clock_s: float | None = None
        self._last: dict[str, _Last] = {}

    def tick(self, t_s: float) -> None:
        """The simulator's clock said ``t_s``."""
        self.clock_s = t_s if self.clock_s is None else max(self.clock_s, t_s)

    def check(self, obs: Observation, topic: str = "") -> None:
        """Raise :class:`PayloadError` for a reading not to be believed; else note it. (The
        probe fleet counts one sequence over all its links, so only its time is checked.)"""
        if self.clock_s is not None and obs.sim_time_s > self.clock_s + AHEAD_OF_CLOCK_S:
            raise PayloadError(
                topic,
                f"simTimeSeconds: {obs.sim_time_s:g} is more than {AHEAD_OF_CLOCK_S:g} s "
                f"ahead of the clock ({self.clock_s:g})",
            )
        last = self._last.get(obs.device_id)
        if last is None and len(self._last) >= self.max_devices:
            raise PayloadError(topic, f"more than {self.max_devices:,} devices; not kept")
        if obs.device_type is not DeviceType.PROBE:
            # One reading per period, periods at least a second: the sequence can be at
            # most about one per simulated second since the start, and since the last one.
            most = math.floor(obs.sim_time_s / MIN_READING_INTERVAL_S) + SEQ_SLACK
            if last is not None and obs.seq > last.seq:
                dt = max(0.0, obs.sim_time_s - last.sim_time_s)
                most = min(most, last.seq + math.floor(dt / MIN_READING_INTERVAL_S) + SEQ_SLACK)
            if obs.seq > most:
                raise PayloadError(
                    topic,
                    f"seq: {obs.seq} jumps beyond what the device can have sent by "
                    f"t = {obs.sim_time_s:g} s (at most {most})",
                )
        if last is None:
            self._last[obs.device_id] = _Last(obs.seq, obs.sim_time_s)
        elif obs.seq > last.seq:
            last.seq, last.sim_time_s = obs.seq, obs.sim_time_s

    def __len__(self) -> int:
        return len(self._last)
