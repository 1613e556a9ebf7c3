"""What loops and cameras share: a detection point at a stop line, and the fault routine
that turns each period's truth into a reading, a lost reading, a stuck one, or silence."""

from __future__ import annotations

from dataclasses import replace

from trafficsim.sensors.deployment import DeviceSpec
from trafficsim.sensors.devices.faults import FaultState, Outcome
from trafficsim.sensors.readings import DeviceInfo, Reading, StatusChange
from trafficsim.sim import DetectionPoint, PointTruth, World


class PointDevice:
    """A device watching one lane group at ``position`` upstream of its stop line."""

    def __init__(
        self,
        world: World,
        spec: DeviceSpec,
        faults: FaultState,
        info: DeviceInfo,
        position_m: float,
    ) -> None:
        if spec.lane_group is None:
            raise ValueError(f"device {spec.device_id!r} needs a lane group")
        self.spec = spec
        self.info = info
        self.faults = faults
        self.point = DetectionPoint(world, spec.lane_group, position_m)
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
            reading = self.measure(truth, t_s)
        self._last = reading
        if outcome is not Outcome.DROPPED:
            out.append(reading)
        return out

    def measure(self, truth: PointTruth, t_s: float) -> Reading:
        """The reading a working device makes of ``truth`` (with its noise and bias)."""
        raise NotImplementedError

    def _reading(self, truth: PointTruth, t_s: float, **values: object) -> Reading:
        return Reading(
            device_id=self.spec.device_id,
            kind=self.spec.kind,
            seq=self.seq,
            t0_s=truth.t0_s,
            t1_s=t_s,
            intersection=self.info.intersection,
            link=self.info.link,
            lane_group=self.spec.lane_group,
            lon=self.info.lon,
            lat=self.info.lat,
            **values,  # type: ignore[arg-type]
        )
