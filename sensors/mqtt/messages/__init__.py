"""Every message between the layers, as frozen types with
``to_payload()`` / ``from_payload()``; one :class:`PayloadError` for whatever cannot be used.

- :mod:`.control`: the clock, lock-step markers, commands, acknowledgements, signal states;
- :mod:`.cabinet_status`: a cabinet's retained status (central control or fallback);
- :mod:`.meta`: retained metadata of cabinets, devices and the scenario;
- :mod:`.forecast`: the predictor's forecasts;
- :mod:`.reading`: the FIWARE readings as received, identity from the topic, and what a
  consumer may believe of a device's sequence and times.
"""

from trafficsim.sensors.mqtt.messages.cabinet_status import CabinetStatus
from trafficsim.sensors.mqtt.messages.control import (
    Ack,
    CabinetMode,
    Clock,
    Command,
    CommandKind,
    CycleCommand,
    Display,
    PhaseTiming,
    RoundDone,
    SignalState,
    StageCommand,
    StageTiming,
    parse_command,
)
from trafficsim.sensors.mqtt.messages.forecast import Forecast, HorizonForecast
from trafficsim.sensors.mqtt.messages.meta import (
    DeviceMeta,
    GroupMeta,
    LinkMeta,
    NodeMeta,
    ScenarioMeta,
    SignalMeta,
)
from trafficsim.sensors.mqtt.messages.reading import DeviceType, Observation, Plausibility
from trafficsim.sensors.mqtt.payloads import PayloadError

__all__ = [
    "Ack",
    "CabinetMode",
    "CabinetStatus",
    "Clock",
    "Command",
    "CommandKind",
    "CycleCommand",
    "DeviceMeta",
    "DeviceType",
    "Display",
    "Forecast",
    "GroupMeta",
    "HorizonForecast",
    "LinkMeta",
    "NodeMeta",
    "Observation",
    "PayloadError",
    "PhaseTiming",
    "Plausibility",
    "RoundDone",
    "ScenarioMeta",
    "SignalMeta",
    "SignalState",
    "StageCommand",
    "StageTiming",
    "parse_command",
]
