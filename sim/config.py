"""Scenario configuration: frozen value objects, all in SI units.

A :class:`Scenario` is what the engine runs. It is built from a TOML file or a built-in
generator by :mod:`sim.scenario_io`, which checks every field and converts units; the
objects here only hold values, so the engine never has to re-validate them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trafficsim.sim.emissions import Fleet
from trafficsim.sim.signal_plan import GreenInterval, Phase, SignalPlan, Stage

__all__ = [
    "ArrivalProcess",
    "DemandSpec",
    "GreenInterval",
    "Incident",
    "LinkSpec",
    "Mix",
    "MovementSpec",
    "NodeKind",
    "NodeSpec",
    "Phase",
    "Scenario",
    "SignalPlan",
    "SignalSpec",
    "SignalTiming",
    "Stage",
    "VehicleClass",
]


class NodeKind(enum.Enum):
    """What happens at a node."""

    BOUNDARY = "boundary"
    """Where vehicles enter or leave the network (a zone, not an intersection)."""
    SIGNAL = "signal"
    """A signalized intersection: movements discharge only on their group's green."""
    UNCONTROLLED = "uncontrolled"
    """An intersection without signals: movements discharge whenever there is space."""


class TurnKind(enum.Enum):
    """Which way a movement turns, as a driver sees it (right-hand traffic)."""

    RIGHT = "right"
    THROUGH = "through"
    LEFT = "left"
    UTURN = "uturn"


class OnRed(enum.Enum):
    """What a movement may do while its signal group shows red."""

    STOP = "stop"
    """Wait for green (the default)."""
    YIELD = "yield"
    """Go after giving way to the movements it yields to (right turn on red)."""


class ArrivalProcess(enum.Enum):
    """How vehicles arrive at an entry link."""

    POISSON = "poisson"
    """Random arrivals: exponential headways (non-homogeneous over the profile)."""
    UNIFORM = "uniform"
    """Evenly spaced arrivals at the profile's rate (deterministic, D/D/1 checks)."""


@dataclass(frozen=True, slots=True)
class VehicleClass:
    """A vehicle class: its size in passenger-car units and how it moves.

    The saturation headway of a class in a lane group is ``pcu`` times the lane group's
    headway per PCU (``3600 / (saturation flow per lane x lanes)``), so PCU is what makes
    a motorcycle discharge faster than a bus.
    """

    name: str
    pcu: float
    length_m: float
    max_speed_mps: float
    accel_mps2: float
    decel_mps2: float
    emission_class: str | None = None
    """Which emission class of ``sim.emissions`` stands for it; None: no emissions."""
    dawdle_mps: float = 0.0
    """How far below the speed they could drive its drivers cruise on a free road, on
    average (``sim.dawdling``); the time it costs counts as delay."""


@dataclass(frozen=True, slots=True)
class Mix:
    """Shares by count of vehicle classes in a demand stream (they sum to 1)."""

    name: str
    shares: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class NodeSpec:
    id: str
    kind: NodeKind
    x_m: float = 0.0
    y_m: float = 0.0


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """A directed road section from one node to the next."""

    id: str
    from_node: str
    to_node: str
    length_m: float
    lanes: int
    free_speed_mps: float
    sat_flow_pcu_per_h_per_lane: float
    name: str = ""
    """The street's name, for maps and reports (imported networks carry it)."""
    shape_m: tuple[tuple[float, float], ...] = ()
    """The road's course as (x, y) points in scenario metres, for maps; the model uses
    ``length_m`` only. Empty: the straight line between the nodes."""
    road_class: str = ""
    """The road's class, OpenStreetMap's ``highway=*`` value (``primary``, ``residential``,
    ...) where the network came from OSM; reports select the main roads by it, the model
    does not read it."""


@dataclass(frozen=True, slots=True)
class MovementSpec:
    """A turn from one link into the next, with the share of the link's turn-share traffic
    taking it (routed vehicles take the movement their route names).

    Two ways to give its lanes. The integer form (``lanes`` alone): movements of one link
    with the same signal group share a queue (a lane group) of ``lanes`` lanes; ``lanes``
    defaults to the whole link when the link has one group. The index form
    (``lane_indices``, with ``lanes`` its length): the lanes of ``from_link`` it may use,
    0 the rightmost; lanes used by the same movements form one lane group, and a lane named
    by movements of different groups is shared by them (``sim.approaches``).

    A movement with ``yield_to`` gives way to those movements (``(from_link, to_link)``) by
    gap acceptance with ``critical_gap_s`` and ``follow_up_s``, which the scenario reader
    fills from defaults by turn kind when the file does not give them (``sim.gaps``).
    """

    from_link: str
    to_link: str
    share: float | None
    """None where no turn-share vehicle can reach ``from_link`` (only routed vehicles take
    the movement, so a share would mean nothing)."""
    signal_group: str | None = None
    lanes: int | None = None
    lane_indices: tuple[int, ...] | None = None
    yield_to: tuple[tuple[str, str], ...] = ()
    critical_gap_s: float | None = None
    follow_up_s: float | None = None
    on_red: OnRed = OnRed.STOP
    turn: TurnKind | None = None

    @property
    def key(self) -> tuple[str, str]:
        """``(from_link, to_link)``: how ``yield_to`` names a movement."""
        return (self.from_link, self.to_link)

    @property
    def gives_way(self) -> bool:
        """Whether it discharges by gap acceptance (at least at some times)."""
        return bool(self.yield_to) or self.on_red is OnRed.YIELD


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """The signal plan of one node, and the pairs of its groups that may never be green (or
    yellow) together when the scenario states them (None: not stated; then two groups
    conflict unless the plan shows them green together)."""

    node: str
    plan: SignalPlan
    conflicts: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True, slots=True)
class DemandSpec:
    """Vehicles entering the network on one entry link.

    ``profile`` is piecewise constant: ``((start_s, flow_veh_per_h), ...)``, starting at 0
    and holding each flow until the next start (the last one until the run ends).
    """

    entry_link: str
    profile: tuple[tuple[float, float], ...]
    mix: str
    arrivals: ArrivalProcess = ArrivalProcess.POISSON


class Routing(enum.Enum):
    """How trips given by their ends (``from`` + ``to``, and OD trips) get their route."""

    FREE_FLOW = "free-flow"
    """Shortest free-flow time (each class at its own speed cap), fixed at load."""
    TIME_DEPENDENT = "time-dependent"
    """Trips departing in each period take the shortest route on the free-flow times plus
    the waits measured at each movement's stop line in the period before."""


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """A named sequence of links, each joined to the next by a movement."""

    id: str
    links: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TripSpec:
    """One vehicle with a scheduled departure, entering at the upstream end of its first
    link and leaving at the downstream end of its last.

    ``links`` is its route when the trip names one (``route`` or ``links``); None when only
    its ends are given, and the engine routes it (see :class:`Routing`).
    """

    id: str
    depart_s: float
    vehicle_class: str
    from_link: str
    to_link: str
    links: tuple[str, ...] | None = None
    route: str | None = None
    """The ``[[routes]]`` id the trip named, if any (for reports)."""


@dataclass(frozen=True, slots=True)
class ZoneSpec:
    """Links where trips of a zone start or end, with their weights (they sum to 1)."""

    id: str
    links: tuple[str, ...]
    weights: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class OdSpec:
    """A flow of trips from one zone to another; each trip draws its start and end link by
    the zones' weights and its class by ``mix``, and is routed like a from/to trip."""

    from_zone: str
    to_zone: str
    profile: tuple[tuple[float, float], ...]
    mix: str
    arrivals: ArrivalProcess = ArrivalProcess.POISSON


DEFAULT_REROUTE_PERIOD_S = 300.0
"""Period of time-dependent routing: an assumption (a parameter), five minutes, a common
aggregation interval of urban traffic counts. SUMO's rerouting device leaves its period to
the user (``--device.rerouting.period``)."""


@dataclass(frozen=True, slots=True)
class Incident:
    """A lane blockage (or any capacity loss) on a link for a while: its stop lines
    discharge at ``capacity_factor`` of their saturation flow from ``start_s`` to ``end_s``."""

    link: str
    start_s: float
    end_s: float
    capacity_factor: float


@dataclass(frozen=True, slots=True)
class SignalTiming:
    """How displayed green becomes effective green (HCM 6th ed., Ch. 19).

    Defaults are HCM's: start-up lost time l1 = 2.0 s and extension of effective green
    into yellow e = 2.0 s, so effective green equals displayed green.
    """

    startup_lost_s: float = 2.0
    yellow_end_use_s: float = 2.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything one run needs besides the seed.

    Node coordinates are metres east (x) and north (y) of ``origin_lat``/``origin_lon``
    (WGS84 degrees); the default origin is central Ho Chi Minh City (Nguyễn Huệ walking
    street, District 1), a placement, not a survey.
    """

    name: str
    duration_s: float
    start_time: datetime
    classes: tuple[VehicleClass, ...]
    mixes: tuple[Mix, ...]
    nodes: tuple[NodeSpec, ...]
    links: tuple[LinkSpec, ...]
    movements: tuple[MovementSpec, ...]
    signals: tuple[SignalSpec, ...]
    demands: tuple[DemandSpec, ...]
    routes: tuple[RouteSpec, ...] = ()
    trips: tuple[TripSpec, ...] = ()
    zones: tuple[ZoneSpec, ...] = ()
    ods: tuple[OdSpec, ...] = ()
    routing: Routing = Routing.FREE_FLOW
    reroute_period_s: float = DEFAULT_REROUTE_PERIOD_S
    timing: SignalTiming = field(default_factory=SignalTiming)
    jam_spacing_m_per_pcu: float = 7.5
    sample_period_s: float = 5.0
    incidents: tuple[Incident, ...] = ()
    fleet: Fleet = Fleet.VN
    """Emission factors (HBEFA4 corrected to Vietnamese measurements by default)."""
    origin_lat: float = 10.7769
    origin_lon: float = 106.7009
    source: str = "<memory>"
    parameters: tuple[tuple[str, object], ...] = ()
    sensors: Mapping[str, Any] = field(default_factory=dict)
    """The scenario's ``[sensors]`` table, unchecked: the field devices are not the world's
    business, so ``sensors.deployment`` reads and checks it."""
