"""Traffic camera on an approach: vehicles by class crossing the stop line, and the queue."""

from __future__ import annotations

from dataclasses import replace

from sensors.deployment import DeviceSpec
from sensors.devices.faults import FaultState, Outcome
from sensors.readings import DeviceInfo, Reading, StatusChange
from sim import DetectionPoint, World


class Camera:
    """Video analytics at a stop line: class counts over ``period_s`` and the standing queue
    at the end of each period (vehicles, and metres per lane)."""

    def __init__(
        self, world: World, spec: DeviceSpec, faults: FaultState, info: DeviceInfo
    ) -> None:
        if spec.lane_group is None:
            raise ValueError(f"device {spec.device_id!r} needs a lane group")
        self.spec = spec
        self.info = info
        self.faults = faults
        self.point = DetectionPoint(world, spec.lane_group, 0.0)
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
            by_class = {
                name: round(f.noisy(n))
                for name, n in zip(self.class_names, truth.count_by_class, strict=True)
            }
            queue = round(f.noisy(truth.queue_veh))
            reading = Reading(
                device_id=self.spec.device_id,
                kind=self.spec.kind,
                seq=self.seq,
                t0_s=truth.t0_s,
                t1_s=t_s,
                intersection=self.info.intersection,
                link=self.info.link,
                lane_group=self.spec.lane_group,
                count=sum(by_class.values()),
                lon=self.info.lon,
                lat=self.info.lat,
                position_m=0.0,
                count_by_class=by_class,
                queue_veh=queue,
                queue_length_m=f.noisy(truth.queue_length_m),
            )
        self._last = reading
        if outcome is not Outcome.DROPPED:
            out.append(reading)
        return out
