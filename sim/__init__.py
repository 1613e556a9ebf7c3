"""The simulated city: a mesoscopic, event-driven model of a signalized road network.

``sim`` knows nothing of MQTT or machine learning. It exposes a :class:`World` that runs a
:class:`Scenario` with one seed, and :func:`load_scenario` to get a scenario from a built-in
name or a TOML file. Every TOML file the project reads goes through :func:`read_toml_file`
and is checked with a :class:`FieldReader`, so bad input is always an :class:`InputError`
naming the file and the field.
"""

from trafficsim.sim.catalog import load_scenario, parse_overrides
from trafficsim.sim.config import Phase, Scenario, SignalPlan, Stage
from trafficsim.sim.emissions import Fleet
from trafficsim.sim.errors import InputError, ScenarioError
from trafficsim.sim.fields import FieldReader
from trafficsim.sim.geo import lon_lat
from trafficsim.sim.metrics import RunMetrics, compute
from trafficsim.sim.observe import DetectionPoint, PointTruth, Traversal, TraversalFeed
from trafficsim.sim.signals import SignalChange, SignalDisplay
from trafficsim.sim.tomlfile import read_toml_file
from trafficsim.sim.world import LaneGroupInfo, LaneGroupKind, World

__all__ = [
    "DetectionPoint",
    "FieldReader",
    "Fleet",
    "InputError",
    "LaneGroupInfo",
    "LaneGroupKind",
    "Phase",
    "PointTruth",
    "RunMetrics",
    "Scenario",
    "ScenarioError",
    "SignalChange",
    "SignalDisplay",
    "SignalPlan",
    "Stage",
    "Traversal",
    "TraversalFeed",
    "World",
    "compute",
    "load_scenario",
    "lon_lat",
    "parse_overrides",
    "read_toml_file",
]
