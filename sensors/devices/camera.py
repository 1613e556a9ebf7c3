"""Traffic camera on an approach: vehicles by class crossing the stop line, and the queue."""

from __future__ import annotations

from trafficsim.sensors.deployment import DeviceSpec
from trafficsim.sensors.devices.faults import FaultState
from trafficsim.sensors.devices.point import PointDevice
from trafficsim.sensors.readings import DeviceInfo, Reading
from trafficsim.sim import PointTruth, World


class Camera(PointDevice):
    """Video analytics at a stop line: class counts over ``period_s`` and the standing queue
    at the end of each period (vehicles, and metres per lane)."""

    def __init__(
        self, world: World, spec: DeviceSpec, faults: FaultState, info: DeviceInfo
    ) -> None:
        super().__init__(world, spec, faults, info, 0.0)

    def measure(self, truth: PointTruth, t_s: float) -> Reading:
        f = self.faults
        by_class = {
            name: round(f.noisy(n))
            for name, n in zip(self.class_names, truth.count_by_class, strict=True)
        }
        return self._reading(
            truth,
            t_s,
            count=sum(by_class.values()),
            position_m=0.0,
            count_by_class=by_class,
            queue_veh=round(f.noisy(truth.queue_veh)),
            queue_length_m=f.noisy(truth.queue_length_m),
        )
