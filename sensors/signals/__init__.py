"""The signal-controller bridge: the field cabinet between the centre's plans and the signals.

The cabinet (:mod:`sensors.signals.cabinet`) is the safety authority of one intersection: it
checks every command the centre sends (:mod:`sensors.signals.plans`), runs accepted ones from
the next safe phase boundary, and falls back to its stored fixed-time plan when the centre
goes quiet. An intersection whose plan is written in stages (each group with its own green
and yellow) has a :mod:`sensors.signals.group_cabinet` instead, whose plans are checked group
by group (:mod:`sensors.signals.stage_checks`). :mod:`sensors.signals.bridge` connects the
cabinets of a run to the simulated signal heads and to the message bus.
"""

from trafficsim.sensors.mqtt.messages import PhaseTiming, StageCommand, StageTiming
from trafficsim.sensors.mqtt.messages.timing import longest_reds_s, phases_as_stages
from trafficsim.sensors.signals.cabinet import Cabinet, DisplayChange, ModeChange
from trafficsim.sensors.signals.config import (
    CabinetLimits,
    IntersectionConfig,
    backup_time_s,
)
from trafficsim.sensors.signals.group_cabinet import GroupCabinet
from trafficsim.sensors.signals.plans import CyclePlan, PlanRejectedError, parse_command
from trafficsim.sensors.signals.stage_checks import check_stages

__all__ = [
    "Cabinet",
    "CabinetLimits",
    "CyclePlan",
    "DisplayChange",
    "GroupCabinet",
    "IntersectionConfig",
    "ModeChange",
    "PhaseTiming",
    "PlanRejectedError",
    "StageCommand",
    "StageTiming",
    "backup_time_s",
    "check_stages",
    "longest_reds_s",
    "parse_command",
    "phases_as_stages",
]
