"""Field devices: loops, cameras and probe vehicles, with their errors and faults."""

from sensors.devices.camera import Camera
from sensors.devices.faults import FaultState
from sensors.devices.loop import LoopDetector
from sensors.devices.probe import ProbeFleet

__all__ = ["Camera", "FaultState", "LoopDetector", "ProbeFleet"]
