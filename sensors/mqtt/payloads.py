"""Payloads on the wire: FIWARE ``TrafficFlowObserved`` (keyValues) readings, metadata,
status and clock messages, as compact UTF-8 JSON.

Units follow the FIWARE model at this edge: ``averageVehicleSpeed`` in km/h, ``occupancy``
0..1, ``intensity`` vehicles in the observation period. Times are the simulated observation
interval as ISO 8601 with the scenario's UTC offset (+07:00 for Asia/Ho_Chi_Minh).

Fields of our own, beside the FIWARE ones (all documented in docs/asyncapi.yaml):
``deviceId``, ``deviceType``, ``intersection``, ``approach`` (link id), ``laneGroup``,
``positionMeters`` (loop upstream of the stop line), ``periodSeconds``, ``seq`` (per-device
sequence number: a gap means a lost reading), ``simTimeSeconds`` (end of the period, seconds
since scenario start), and for cameras ``intensityByClass``, ``queueLengthVehicles``,
``queueLengthMeters``, for probes ``travelTimeSeconds``.

``congested`` is defined per device type from HCMC's official criteria (HCMC_FACTS row 7c):
a camera queue of at least 200 m; a probe space-mean speed under 10 km/h (the earlier DOT
proposal); a loop occupied more than half the period (standing traffic over the loop).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from trafficsim.sensors.readings import DeviceKind, Reading

KMH_PER_MPS = 3.6
"""1 m/s = 3.6 km/h (exact); the wire may not import sim.units (layering), so it is here."""

CONGESTED_QUEUE_M = 200.0
CONGESTED_SPEED_KMH = 10.0
CONGESTED_OCCUPANCY = 0.5

DEVICE_TYPE = {
    DeviceKind.LOOP: "inductiveLoop",
    DeviceKind.CAMERA: "camera",
    DeviceKind.PROBE: "probeFleet",
}

ONLINE = b"online"
OFFLINE = b"offline"


class PayloadError(ValueError):
    """A message that cannot be used, with its topic and the reason."""

    def __init__(self, topic: str, reason: str) -> None:
        self.topic = topic
        self.reason = reason
        super().__init__(f"{topic}: {reason}" if topic else reason)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text)


def iso_time(start: datetime, t_s: float) -> str:
    """Simulated time ``t_s`` (s since start) as ISO 8601 with the start's offset."""
    t = start + timedelta(seconds=t_s)
    spec = "seconds" if abs(t_s - round(t_s)) < 1e-6 else "milliseconds"
    return t.isoformat(timespec=spec)


def entity_id(scenario: str, device: str, link: str | None = None) -> str:
    tail = f"{_safe(device)}:{_safe(link)}" if link and device == "probe-fleet" else _safe(device)
    return f"urn:ngsi-ld:TrafficFlowObserved:{_safe(scenario)}:{tail}"


def road_segment_id(scenario: str, link: str) -> str:
    return f"urn:ngsi-ld:RoadSegment:{_safe(scenario)}:{_safe(link)}"


class PayloadBuilder:
    """Builds reading payloads for one scenario, caching what repeats (timestamps shared by
    every device of a period, entity and road-segment ids, locations): the feed publishes
    thousands of readings per second, and these strings would otherwise dominate its cost."""

    def __init__(self, scenario: str, start: datetime) -> None:
        self.scenario = scenario
        self.start = start
        self._iso: dict[float, str] = {}
        self._ids: dict[tuple[str, str | None], str] = {}
        self._segments: dict[str, str] = {}

    def iso(self, t_s: float) -> str:
        s = self._iso.get(t_s)
        if s is None:
            if len(self._iso) > 10_000:
                self._iso.clear()
            s = self._iso[t_s] = iso_time(self.start, t_s)
        return s

    def reading(self, r: Reading, period_s: float) -> dict[str, Any]:
        """A reading as a FIWARE TrafficFlowObserved entity in keyValues form."""
        key = (r.device_id, r.link)
        eid = self._ids.get(key)
        if eid is None:
            eid = self._ids[key] = entity_id(self.scenario, r.device_id, r.link)
        t0, t1 = self.iso(r.t0_s), self.iso(r.t1_s)
        p: dict[str, Any] = {
            "id": eid,
            "type": "TrafficFlowObserved",
            "dateObserved": f"{t0}/{t1}",
            "dateObservedFrom": t0,
            "dateObservedTo": t1,
            "intensity": int(r.count),
            "laneDirection": "forward",
        }
        if r.link:
            seg = self._segments.get(r.link)
            if seg is None:
                seg = self._segments[r.link] = road_segment_id(self.scenario, r.link)
            p["refRoadSegment"] = seg
        if r.lon is not None and r.lat is not None:
            p["location"] = {"type": "Point", "coordinates": [round(r.lon, 7), round(r.lat, 7)]}
        speed_kmh = None if r.speed_mps is None else r.speed_mps * KMH_PER_MPS
        if speed_kmh is not None:
            p["averageVehicleSpeed"] = round(speed_kmh, 2)
        kind = r.kind
        if kind is DeviceKind.LOOP:
            occ = r.occupancy or 0.0
            p["occupancy"] = round(occ, 4)
            if r.mean_length_m is not None:
                p["averageVehicleLength"] = round(r.mean_length_m, 2)
            if r.count > 0:
                p["averageHeadwayTime"] = round((r.t1_s - r.t0_s) / r.count, 2)
            p["congested"] = occ > CONGESTED_OCCUPANCY
        elif kind is DeviceKind.CAMERA:
            p["intensityByClass"] = dict(r.count_by_class)
            p["queueLengthVehicles"] = int(r.queue_veh or 0)
            p["queueLengthMeters"] = round(r.queue_length_m or 0.0, 1)
            p["congested"] = (r.queue_length_m or 0.0) >= CONGESTED_QUEUE_M
        else:
            p["travelTimeSeconds"] = round(r.travel_time_s or 0.0, 2)
            p["congested"] = speed_kmh is not None and speed_kmh < CONGESTED_SPEED_KMH
        p["deviceId"] = r.device_id
        p["deviceType"] = DEVICE_TYPE[kind]
        if r.intersection is not None:
            p["intersection"] = r.intersection
        if r.link is not None:
            p["approach"] = r.link
        if r.lane_group is not None:
            p["laneGroup"] = r.lane_group
        if r.position_m is not None:
            p["positionMeters"] = r.position_m
        p["periodSeconds"] = period_s
        p["seq"] = r.seq
        p["simTimeSeconds"] = round(r.t1_s, 3)
        return p


def reading_payload(
    r: Reading, *, scenario: str, start: datetime, period_s: float
) -> dict[str, Any]:
    """A reading as a FIWARE TrafficFlowObserved entity in keyValues form (one-off; the
    feed uses a :class:`PayloadBuilder`)."""
    return PayloadBuilder(scenario, start).reading(r, period_s)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(payload: dict[str, Any]) -> bytes:
    return _ENCODER.encode(payload).encode("utf-8")


MAX_PAYLOAD_BYTES = 262_144
"""The largest message a consumer parses: the shipped Mosquitto's ``max_packet_size``
(deploy/mosquitto/mosquitto.conf), so what the broker lets through is what is read."""

MAX_NESTING = 16
"""Deepest nesting of arrays and objects a message may have. The project's deepest payload
(scenario metadata: nodes, a node, its location, its coordinates) is 4 deep; a hostile 2,000
deep array would otherwise exhaust the parser's recursion."""

MAX_INT_DIGITS = 19
"""Integers have at most 19 digits (int64, the recording's column type): Python parses
integers of any size, and one of thousands of digits would stall or overflow what reads it."""


def _nesting(data: bytes) -> int:
    """Deepest array/object nesting of a JSON text, brackets inside strings aside."""
    depth = deepest = 0
    in_string = escaped = False
    for b in data:
        if in_string:
            if escaped:
                escaped = False
            elif b == 0x5C:  # backslash
                escaped = True
            elif b == 0x22:  # quote
                in_string = False
        elif b == 0x22:
            in_string = True
        elif b in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif b in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    v = float(text)
    if v in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:30]} is out of a float's range")
    return v


def decode(topic: str, data: bytes) -> dict[str, Any]:
    """Parse a JSON object payload; anything else is a :class:`PayloadError`.

    Bounded before parsing (size, nesting) and while parsing (no NaN or Infinity, integers
    of at most 19 digits, floats in range), so no message can exhaust the parser or put a
    value in a consumer that its arithmetic cannot take."""
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadError(topic, f"payload of {len(data):,} bytes (at most {MAX_PAYLOAD_BYTES:,})")
    # Cheap bound first: a payload with few brackets cannot be deeply nested.
    if data.count(b"[") + data.count(b"{") > MAX_NESTING and _nesting(data) > MAX_NESTING:
        raise PayloadError(topic, f"payload nested deeper than {MAX_NESTING} levels")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError(topic, "payload is not UTF-8") from None
    try:
        obj = json.loads(text, parse_constant=_no_constant, parse_int=_int, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise PayloadError(topic, f"payload is not JSON ({exc.msg} at char {exc.pos})") from None
    except ValueError as exc:
        raise PayloadError(topic, f"payload has {exc}") from None
    if not isinstance(obj, dict):
        raise PayloadError(topic, f"payload is JSON {type(obj).__name__}, expected an object")
    return obj
