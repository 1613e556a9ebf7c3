"""Field devices: loops, cameras and probe vehicles, with their errors and faults."""

from trafficsim.sensors.devices.camera import Camera
from trafficsim.sensors.devices.faults import FaultState
from trafficsim.sensors.devices.loop import LoopDetector
from trafficsim.sensors.devices.probe import ProbeFleet

__all__ = ["Camera", "FaultState", "LoopDetector", "ProbeFleet"]
