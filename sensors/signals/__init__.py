"""The signal-controller bridge: the field cabinet between the centre's plans and the signals.

The cabinet (:mod:`sensors.signals.cabinet`) is the safety authority of one intersection: it
checks every command the centre sends (:mod:`sensors.signals.plans`), runs accepted ones from
the next safe phase boundary, and falls back to its stored fixed-time plan when the centre
goes quiet. :mod:`sensors.signals.bridge` connects the cabinets of a run to the simulated
signal heads and to the message bus.
"""

from trafficsim.sensors.mqtt.messages import PhaseTiming, StageCommand
from trafficsim.sensors.mqtt.messages.timing import longest_reds_s
from trafficsim.sensors.signals.cabinet import Cabinet, DisplayChange, ModeChange
from trafficsim.sensors.signals.config import (
    CabinetLimits,
    IntersectionConfig,
    backup_time_s,
)
from trafficsim.sensors.signals.plans import CyclePlan, PlanRejectedError, parse_command

__all__ = [
    "Cabinet",
    "CabinetLimits",
    "CyclePlan",
    "DisplayChange",
    "IntersectionConfig",
    "ModeChange",
    "PhaseTiming",
    "PlanRejectedError",
    "StageCommand",
    "backup_time_s",
    "longest_reds_s",
    "parse_command",
]
