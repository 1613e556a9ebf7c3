"""What field devices report, in SI units, before any wire format is applied.

These value objects are the seam between the devices (which see the simulation) and the
wire (which must not): ``sensors.mqtt`` turns them into payloads without importing ``sim``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class DeviceKind(enum.Enum):
    LOOP = "loop"
    CAMERA = "camera"
    PROBE = "probe"


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """Static description of a device, published as retained metadata."""

    device_id: str
    kind: DeviceKind
    period_s: float
    intersection: str | None
    link: str | None
    lane_group: str | None
    position_m: float | None  # upstream of the stop line
    lon: float | None
    lat: float | None
    upstream: tuple[str, ...] = ()
    downstream: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reading:
    """One aggregated observation of one device over ``[t0_s, t1_s)`` (simulated time)."""

    device_id: str
    kind: DeviceKind
    seq: int
    t0_s: float
    t1_s: float
    intersection: str | None
    link: str | None
    lane_group: str | None
    count: int
    lon: float | None = None
    lat: float | None = None
    position_m: float | None = None
    occupancy: float | None = None
    speed_mps: float | None = None
    mean_length_m: float | None = None
    count_by_class: dict[str, int] = field(default_factory=dict)
    queue_veh: int | None = None
    queue_length_m: float | None = None
    travel_time_s: float | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A device going offline or coming back (a fault, or the end of a run)."""

    device_id: str
    t_s: float
    online: bool
