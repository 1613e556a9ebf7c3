"""The congestion predictor's output: ``{root}/forecast/{intersection}/{device}``.

One message per device and model period, with one item per horizon; speeds in km/h and
flows in veh/h as on the wire (the FIWARE readings' units), occupancy 0..1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trafficsim.sensors.mqtt.messages.fields import (
    MAX_FLOW_VEH_PER_H,
    MAX_INTERVAL_S,
    MAX_SIM_TIME_S,
    MAX_SPEED_KMH,
    Fields,
)


@dataclass(frozen=True, slots=True)
class HorizonForecast:
    horizon_min: float
    speed_kmh: float | None = None
    congested: bool | None = None
    occupancy: float | None = None
    flow_veh_per_h: float | None = None

    def to_payload(self) -> dict[str, Any]:
        item: dict[str, Any] = {"horizonMinutes": self.horizon_min}
        if self.speed_kmh is not None:
            item["averageVehicleSpeed"] = self.speed_kmh
            item["congested"] = bool(self.congested)
        if self.occupancy is not None:
            item["occupancy"] = self.occupancy
        if self.flow_veh_per_h is not None:
            item["flowVehPerHour"] = self.flow_veh_per_h
        return item

    @classmethod
    def from_fields(cls, f: Fields) -> HorizonForecast:
        congested = f.obj.get("congested")
        return cls(
            f.number("horizonMinutes", 0, MAX_INTERVAL_S / 60),
            f.opt_number("averageVehicleSpeed", 0, MAX_SPEED_KMH),
            congested if isinstance(congested, bool) else None,
            f.opt_number("occupancy", 0, 1),
            f.opt_number("flowVehPerHour", 0, MAX_FLOW_VEH_PER_H),
        )


@dataclass(frozen=True, slots=True)
class Forecast:
    device_id: str
    intersection: str | None
    sim_time_s: float
    """When it was issued (the clock tick that closed the period)."""
    model_version: str
    items: tuple[HorizonForecast, ...]

    def to_payload(self) -> dict[str, Any]:
        return {
            "deviceId": self.device_id,
            "intersection": self.intersection,
            "simTimeSeconds": self.sim_time_s,
            "modelVersion": self.model_version,
            "forecasts": [it.to_payload() for it in self.items],
        }

    @classmethod
    def from_payload(cls, payload: object, topic: str = "") -> Forecast:
        f = Fields(payload, topic)
        return cls(
            f.text("deviceId"),
            f.opt_text("intersection"),
            f.number("simTimeSeconds", 0, MAX_SIM_TIME_S),
            f.opt_text("modelVersion") or "",
            tuple(HorizonForecast.from_fields(it) for it in f.tables("forecasts")),
        )

    def flow_trend(self) -> float | None:
        """Longest- over shortest-horizon flow, when two horizons have a positive flow."""
        flows = sorted(
            (it.horizon_min, it.flow_veh_per_h)
            for it in self.items
            if it.flow_veh_per_h is not None
        )
        if len(flows) >= 2 and flows[0][1] > 0:
            return flows[-1][1] / flows[0][1]
        return None
