"""Signal-timing controllers: the centre's half of the closed loop.

Each controller sees the network only through messages (retained cabinet and device
metadata, readings, signal states, forecasts) and answers clock ticks with commands for the
cabinets (see :mod:`sensors.signals.plans` for what a cabinet accepts). The same code runs
in memory and behind MQTT (:mod:`models.optimizer.service`).
"""

from trafficsim.models.optimizer.controllers import (
    CONTROLLERS,
    Actuated,
    Controller,
    ControllerName,
    FixedTime,
    MaxPressure,
    Predictive,
    make_controller,
)
from trafficsim.models.optimizer.service import ControlService
from trafficsim.models.optimizer.view import NetworkView

__all__ = [
    "CONTROLLERS",
    "Actuated",
    "ControlService",
    "Controller",
    "ControllerName",
    "FixedTime",
    "MaxPressure",
    "NetworkView",
    "Predictive",
    "make_controller",
]
