"""Inductive loop detector: counts, occupancy and spot speed at a point of a lane group."""

from __future__ import annotations

import math

from trafficsim.sensors.deployment import DeviceSpec
from trafficsim.sensors.devices.faults import FaultState
from trafficsim.sensors.devices.point import PointDevice
from trafficsim.sensors.readings import DeviceInfo, Reading
from trafficsim.sim import PointTruth, World


class LoopDetector(PointDevice):
    """A loop ``position_m`` upstream of a stop line, aggregated over ``period_s``."""

    def __init__(
        self, world: World, spec: DeviceSpec, faults: FaultState, info: DeviceInfo
    ) -> None:
        super().__init__(world, spec, faults, info, spec.position_m)

    def measure(self, truth: PointTruth, t_s: float) -> Reading:
        f = self.faults
        count = round(f.noisy(truth.count))
        moving = count > 0 and not math.isnan(truth.mean_speed_mps)
        return self._reading(
            truth,
            t_s,
            count=count,
            position_m=self.spec.position_m,
            occupancy=min(1.0, f.noisy(truth.occupancy)),
            speed_mps=f.noisy(truth.mean_speed_mps) if moving else None,
            mean_length_m=truth.mean_length_m if moving else None,
        )
