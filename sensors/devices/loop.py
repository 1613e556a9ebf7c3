"""Inductive loop detector: counts, occupancy and spot speed at a point of a lane group."""

from __future__ import annotations

import math
from dataclasses import replace

from sensors.deployment import DeviceSpec
from sensors.devices.faults import FaultState, Outcome
from sensors.readings import DeviceInfo, Reading, StatusChange
from sim import DetectionPoint, World


class LoopDetector:
    """A loop ``position_m`` upstream of a stop line, aggregated over ``period_s``."""

    def __init__(
        self, world: World, spec: DeviceSpec, faults: FaultState, info: DeviceInfo
    ) -> None:
        if spec.lane_group is None:
            raise ValueError(f"device {spec.device_id!r} needs a lane group")
        self.spec = spec
        self.info = info
        self.faults = faults
        self.point = DetectionPoint(world, spec.lane_group, spec.position_m)
        self.class_names = [c.name for c in world.scenario.classes]
        self.seq = 0
        self._last: Reading | None = None

    def sample(self, t_s: float) -> list[Reading | StatusChange]:
        truth = self.point.read(t_s)
        outcome, change = self.faults.step(t_s, self.spec.period_s)
        out: list[Reading | StatusChange] = []
        if change is not None:
            out.append(StatusChange(self.spec.device_id, t_s, change))
        if outcome is Outcome.OFFLINE:
            return out
        self.seq += 1
        if outcome is Outcome.STUCK and self._last is not None:
            reading = replace(self._last, seq=self.seq, t0_s=truth.t0_s, t1_s=t_s)
        else:
            f = self.faults
            count = round(f.noisy(truth.count))
            speed = (
                f.noisy(truth.mean_speed_mps)
                if count and not math.isnan(truth.mean_speed_mps)
                else None
            )
            reading = Reading(
                device_id=self.spec.device_id,
                kind=self.spec.kind,
                seq=self.seq,
                t0_s=truth.t0_s,
                t1_s=t_s,
                intersection=self.info.intersection,
                link=self.info.link,
                lane_group=self.spec.lane_group,
                count=count,
                lon=self.info.lon,
                lat=self.info.lat,
                position_m=self.spec.position_m,
                occupancy=min(1.0, f.noisy(truth.occupancy)),
                speed_mps=speed,
                mean_length_m=None
                if math.isnan(truth.mean_length_m) or not count
                else truth.mean_length_m,
            )
        self._last = reading
        if outcome is not Outcome.DROPPED:
            out.append(reading)
        return out
