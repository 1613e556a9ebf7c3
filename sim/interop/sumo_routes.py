"""SUMO demand (``.rou.xml``: vehicle types, routes, vehicles, trips, flows) as the
scenario's classes and trips.

Each vehicle keeps its id, its departure (seconds after the import window's begin) and its
type; a vehicle with a route keeps the route's links, a trip keeps ``from`` and ``to`` (the
engine routes it by free-flow time, as SUMO routes trips at insertion), and a trip with
``via`` points is routed here through them. A ``<flow>`` is expanded into its vehicles
(evenly spaced for ``vehsPerHour``, ``period`` and ``number``; Bernoulli draws per second
for ``probability`` and exponential headways for ``period="exp(r)"``, from a generator
seeded with 0, so an import is reproducible). What the model cannot carry (persons,
containers, bicycles, trips between junctions or TAZ, a route over an edge that is not in
the network, a turn the network has no connection for) is skipped and counted.
"""

from __future__ import annotations

import heapq
import itertools
import math
import xml.etree.ElementTree as ET  # expat >= 2.4 bounds entity expansion
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from trafficsim.sim.errors import InputError
from trafficsim.sim.interop.report import ImportReport
from trafficsim.sim.interop.sumo_net import Network, opened

# SUMO's defaults per vClass ("Vehicle Type Parameter Defaults",
# sumo.dlr.de/docs/Vehicle_Type_Parameter_Defaults.html): length, minGap (m), maxSpeed (m/s).
VCLASS_DEFAULTS: dict[str, tuple[float, float, float]] = {
    "passenger": (5.0, 2.5, 55.56),
    "private": (5.0, 2.5, 55.56),
    "taxi": (5.0, 2.5, 55.56),
    "hov": (5.0, 2.5, 55.56),
    "evehicle": (5.0, 2.5, 55.56),
    "emergency": (6.5, 2.5, 55.56),
    "authority": (5.0, 2.5, 55.56),
    "army": (5.0, 2.5, 55.56),
    "vip": (5.0, 2.5, 55.56),
    "custom1": (5.0, 2.5, 55.56),
    "custom2": (5.0, 2.5, 55.56),
    "delivery": (6.5, 2.5, 55.56),
    "bus": (12.0, 2.5, 27.78),
    "coach": (14.0, 2.5, 27.78),
    "truck": (7.1, 2.5, 36.11),
    "trailer": (16.5, 2.5, 36.11),
    "motorcycle": (2.2, 2.5, 55.56),
    "moped": (2.1, 2.5, 13.89),
}
EMISSION_CLASS = {"bus": "bus", "coach": "bus", "truck": "truck", "trailer": "truck"}
EMISSION_CLASS.update(motorcycle="motorcycle", moped="motorcycle")
"""SUMO vClass to the project's emission class (every other road class: ``car``)."""

DEFAULT_VTYPE = "DEFAULT_VEHTYPE"
_SKIPPED = {"person", "personFlow", "container", "containerFlow", "interval", "include"}


@dataclass
class VType:
    id: str
    vclass: str
    length_m: float
    min_gap_m: float
    max_speed_mps: float
    attrs: dict[str, str] = field(default_factory=dict)
    """The vType's own attributes, for SUMO runs that measure its behaviour."""


@dataclass
class Trip:
    id: str
    depart_s: float
    vtype: str
    links: list[str] | None = None
    origin: str = ""
    destination: str = ""


@dataclass
class Demand:
    vtypes: dict[str, VType]
    trips: list[Trip]


def read_demand(
    paths: list[Path], net: Network, report: ImportReport, begin_s: float, end_s: float | None
) -> Demand:
    """The vehicles of the route files that depart in ``[begin_s, end_s)``."""
    reader = _Reader(net, report, begin_s, end_s)
    for path in paths:
        reader.read(path)
    used = {t.vtype for t in reader.trips}
    types = {k: v for k, v in reader.vtypes.items() if k in used}
    if DEFAULT_VTYPE in used and DEFAULT_VTYPE not in types:
        types[DEFAULT_VTYPE] = VType(DEFAULT_VTYPE, "passenger", *VCLASS_DEFAULTS["passenger"])
    reader.trips.sort(key=lambda t: t.depart_s)
    if any(t.links for t in reader.trips) and any(t.origin for t in reader.trips):
        # One form for every trip, so a large demand fits one trips file: route the
        # from/to trips here, by free-flow time as the engine would.
        for t in reader.trips:
            if t.links is None:
                t.links = reader.shortest(t.origin, t.destination)
                t.origin = t.destination = ""
    return Demand(types, reader.trips)


class _Reader:
    def __init__(
        self, net: Network, report: ImportReport, begin_s: float, end_s: float | None
    ) -> None:
        self.net = net
        self.report = report
        self.begin_s = begin_s
        self.end_s = end_s
        self.vtypes: dict[str, VType] = {}
        self.alias: dict[str, str] = {}
        self.routes: dict[str, list[str]] = {}
        self.trips: list[Trip] = []
        self.rng = np.random.default_rng(0)
        self._trees: dict[str, dict[str, str]] = {}
        self.source = ""

    def read(self, path: Path) -> None:
        self.source = str(path)
        if not path.is_file():
            raise InputError(self.source, "", "not found" if not path.exists() else "not a file")
        try:
            with opened(path) as f:
                self._parse(f)
        except ET.ParseError as exc:
            line, col = exc.position
            raise InputError(
                self.source, "", f"not valid XML (line {line}, column {col}): {exc.msg}"
            ) from None
        except (OSError, EOFError) as exc:
            raise InputError(self.source, "", f"cannot read it: {exc}") from None

    def _parse(self, f: IO[bytes]) -> None:
        """Each element under ``<routes>`` in turn, freed once read (files can be large)."""
        depth = 0
        root: ET.Element | None = None
        for event, el in ET.iterparse(f, events=("start", "end")):  # noqa: S314
            if event == "start":
                depth += 1
                if depth == 1:
                    root = el
                    if el.tag != "routes":
                        raise InputError(self.source, "", f"not a SUMO route file: root <{el.tag}>")
                continue
            depth -= 1
            if depth == 1 and root is not None:
                self._element(el)
                root.clear()

    # -- elements --------------------------------------------------------------------------
    def _element(self, el: ET.Element) -> None:
        tag = el.tag
        if tag == "vType":
            self._vtype(el)
        elif tag == "vTypeDistribution":
            members = [(float(v.get("probability", "1")), v) for v in el.findall("vType")]
            for _, v in members:
                self._vtype(v)
            if members and el.get("id"):
                self.alias[str(el.get("id"))] = str(max(members, key=lambda m: m[0])[1].get("id"))
                self.report.note(
                    "a vTypeDistribution stands for its most probable vType, e.g. "
                    + str(el.get("id"))
                )
        elif tag == "route":
            if el.get("id"):
                self.routes[str(el.get("id"))] = (el.get("edges") or "").split()
        elif tag == "routeDistribution":
            routes = [(float(r.get("probability", "1")), r) for r in el.findall("route")]
            if routes and el.get("id"):
                best = max(routes, key=lambda r: r[0])[1]
                self.routes[str(el.get("id"))] = (best.get("edges") or "").split()
                self.report.note("a routeDistribution stands for its most probable route")
        elif tag in ("vehicle", "trip"):
            self._vehicle(el, self._depart(el))
        elif tag == "flow":
            for k, t in enumerate(self._flow_times(el)):
                self._vehicle(el, t, f"{el.get('id')}.{k}")
        elif tag in _SKIPPED:
            self.report.skip(f"<{tag}>", "not modelled (road vehicles only)", str(el.get("id")))
        else:
            self.report.skip(f"<{tag}>", "not a demand element the importer knows", self.source)

    def _vtype(self, el: ET.Element) -> None:
        vid = el.get("id")
        if not vid:
            raise InputError(self.source, "vType", "a <vType> has no id")
        vclass = el.get("vClass", "passenger")
        length, gap, vmax = VCLASS_DEFAULTS.get(vclass, VCLASS_DEFAULTS["passenger"])
        self.vtypes[vid] = VType(
            vid,
            vclass,
            self._num(el, "length", length),
            self._num(el, "minGap", gap),
            self._num(el, "maxSpeed", vmax),
            dict(el.attrib),
        )

    def _num(self, el: ET.Element, key: str, default: float) -> float:
        text = el.get(key)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise InputError(
                self.source, f"{el.tag} {el.get('id')!r}", f"{key}={text!r} is not a number >= 0"
            )
        return value

    def _depart(self, el: ET.Element) -> float | None:
        text = el.get("depart", "")
        try:
            return float(text)
        except ValueError:
            self.report.skip(
                "vehicles",
                f"depart={text!r} is not a time (triggered departures)",
                el.get("id", ""),
            )
            return None

    def _flow_times(self, el: ET.Element) -> list[float]:
        begin = self._num(el, "begin", self.begin_s)
        end = self._num(el, "end", self.end_s if self.end_s is not None else begin + 3600.0)
        span = max(0.0, end - begin)
        if el.get("number") is not None:
            n = int(self._num(el, "number", 0))
            return [begin + k * span / max(n, 1) for k in range(n)]
        if el.get("vehsPerHour") is not None:
            rate = self._num(el, "vehsPerHour", 0.0) / 3600.0
            return [begin + k / rate for k in range(int(span * rate))] if rate > 0 else []
        period = el.get("period", "")
        if period.startswith("exp(") and period.endswith(")"):
            rate = float(period[4:-1])
            if rate <= 0:
                return []
            times = begin + np.cumsum(self.rng.exponential(1.0 / rate, int(span * rate * 2 + 20)))
            return [float(t) for t in times if t < end]
        if period:
            step = self._num(el, "period", 1.0)
            return [begin + k * step for k in range(int(span / step))] if step > 0 else []
        if el.get("probability") is not None:
            p = self._num(el, "probability", 0.0)
            hits = np.nonzero(self.rng.random(int(span)) < p)[0]
            return [begin + float(k) for k in hits]
        self.report.skip("flows", "no vehsPerHour, period, probability or number", el.get("id", ""))
        return []

    def _vehicle(self, el: ET.Element, depart: float | None, given: str | None = None) -> None:
        if depart is None:
            return
        vid = given or str(el.get("id", ""))
        if depart < self.begin_s or (self.end_s is not None and depart >= self.end_s):
            self.report.skip("vehicles", "depart outside the import window", vid)
            return
        vtype = self.alias.get(el.get("type", DEFAULT_VTYPE), el.get("type", DEFAULT_VTYPE))
        vt = self.vtypes.get(vtype)
        if vtype != DEFAULT_VTYPE and vt is None:
            self.report.skip("vehicles", "of a vType the route files do not define", vid)
            return
        if vt is not None and vt.vclass not in VCLASS_DEFAULTS:
            self.report.skip("vehicles", f"vClass {vt.vclass} is not a road vehicle", vid)
            return
        if any(el.get(k) for k in ("fromJunction", "toJunction", "fromTaz", "toTaz")):
            self.report.skip("vehicles", "trips between junctions or TAZ are not imported", vid)
            return
        if el.find("stop") is not None:
            self.report.note("vehicles' <stop>s are not modelled: they drive through")
        child = el.find("route")
        edges = None
        if child is not None:
            edges = (child.get("edges") or "").split()
        elif el.get("route"):
            edges = self.routes.get(str(el.get("route")))
            if edges is None:
                self.report.skip("vehicles", "route id not defined before use", vid)
                return
        trip = Trip(vid, depart - self.begin_s, vtype)
        if edges is not None:
            trip.links = self._links(edges, vid)
            if trip.links is None:
                return
        else:
            points = [el.get("from", ""), *el.get("via", "").split(), el.get("to", "")]
            ends = self._links(points, vid, check_turns=False)
            if ends is None:
                return
            if len(ends) > 2:
                trip.links = self._route_via(ends, vid)
                if trip.links is None:
                    return
            else:
                if self.shortest(ends[0], ends[-1]) is None:
                    self.report.skip("vehicles", "no route from 'from' to 'to' in the model", vid)
                    return
                trip.origin, trip.destination = ends[0], ends[-1]
        self.trips.append(trip)

    def _links(self, edges: list[str], vid: str, *, check_turns: bool = True) -> list[str] | None:
        if not edges or not all(edges):
            self.report.skip("vehicles", "an empty route or a trip without from/to", vid)
            return None
        links = []
        for e in edges:
            lid = self.net.link_of_edge.get(e)
            if lid is None:
                self.report.skip(
                    "vehicles",
                    "their route names an edge not in the network's roads",
                    f"{vid}: {e}",
                )
                return None
            links.append(lid)
        if check_turns:
            for a, b in itertools.pairwise(links):
                if b not in self.net.successors.get(a, ()):
                    self.report.skip(
                        "vehicles",
                        "their route takes a turn the network has no connection for",
                        f"{vid}: {a} -> {b}",
                    )
                    return None
        return links

    def _route_via(self, points: list[str], vid: str) -> list[str] | None:
        route = [points[0]]
        for a, b in itertools.pairwise(points):
            leg = self.shortest(a, b)
            if leg is None:
                self.report.skip("vehicles", "no route through their via edges", vid)
                return None
            route.extend(leg[1:])
        return route

    def shortest(self, a: str, b: str) -> list[str] | None:
        """The free-flow fastest links from ``a`` to ``b`` (both included), or None."""
        if a == b:
            return [a]
        tree = self._trees.get(a)
        if tree is None:
            tree = self._trees[a] = _dijkstra(a, self.net)
        if b not in tree:
            return None
        path = [b]
        while path[-1] != a:
            path.append(tree[path[-1]])
        return path[::-1]


def _dijkstra(a: str, net: Network) -> dict[str, str]:
    """Predecessor of every link reachable from ``a`` on free-flow fastest routes."""
    cost = {a: 0.0}
    pred: dict[str, str] = {}
    heap: list[tuple[float, str]] = [(0.0, a)]
    succ, free = net.successors, net.free_time_s
    while heap:
        c, u = heapq.heappop(heap)
        if c > cost[u]:
            continue
        for v in succ.get(u, ()):
            nc = c + free[v]
            if nc < cost.get(v, math.inf):
                cost[v] = nc
                pred[v] = u
                heapq.heappush(heap, (nc, v))
    return pred
