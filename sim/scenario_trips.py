"""Demand by route and by origin-destination in a scenario file: ``[[routes]]``,
``[[trips]]``, ``[scenario] trips_file``, ``[[zones]]``, ``[[od]]`` and ``routing``.

Everything a router would trip over is refused here, at load, with the place to fix it: a
route whose consecutive links no movement joins (naming the route or trip and both links),
a trip whose ``to`` cannot be reached from its ``from``, an OD flow between zones some of
whose links are not connected, unknown links, routes, zones and classes. The engine then
never meets a trip it cannot drive.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trafficsim.sim.config import (
    DEFAULT_REROUTE_PERIOD_S,
    OdSpec,
    RouteSpec,
    Routing,
    TripSpec,
    ZoneSpec,
)
from trafficsim.sim.errors import ScenarioError
from trafficsim.sim.fields import FieldReader, describe
from trafficsim.sim.routes import MovementGraph
from trafficsim.sim.scenario_demand import read_flow
from trafficsim.sim.trips_file import read_trips_file

_TRIP_KEYS = {"id", "depart_s", "class", "route", "links", "from", "to"}


def read_routing(r: FieldReader, head: Mapping[str, Any]) -> tuple[Routing, float]:
    """``[scenario] routing`` and ``reroute_period_s``."""
    names = [x.value for x in Routing]
    value = r.string(head, "routing", "scenario", Routing.FREE_FLOW.value)
    if value not in names:
        raise r.fail("scenario.routing", f"expected one of {names}, got {value!r}")
    routing = Routing(value)
    if "reroute_period_s" in head and routing is not Routing.TIME_DEPENDENT:
        raise r.fail(
            "scenario.reroute_period_s",
            'only time-dependent routing reroutes; set routing = "time-dependent" or remove it',
        )
    period = r.number(head, "reroute_period_s", "scenario", "seconds", DEFAULT_REROUTE_PERIOD_S)
    return routing, period


def _links(
    r: FieldReader, row: Mapping[str, Any], key: str, p: str, graph: MovementGraph
) -> tuple[str, ...]:
    v = row[key]
    if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
        raise r.fail(f"{p}.{key}", f"expected a non-empty list of link ids, got {describe(v)}")
    for lid in v:
        if lid not in graph.index:
            raise r.fail(f"{p}.{key}", f"unknown link {lid!r}; define it in [[links]]")
    return tuple(v)


def _joined(
    r: FieldReader, links: tuple[str, ...], field: str, what: str, graph: MovementGraph
) -> None:
    gap = graph.first_gap(links)
    if gap is not None:
        a, b = gap
        raise r.fail(
            field,
            f"{what}: links {a!r} and {b!r} follow each other but no movement joins them; "
            f"add [[movements]] from = {a!r} to = {b!r}, or fix the route",
        )


def read_routes(
    r: FieldReader, data: Mapping[str, Any], graph: MovementGraph
) -> tuple[RouteSpec, ...]:
    """Named routes, each a chain of links joined by movements."""
    out = []
    seen: set[str] = set()
    for p, row in r.rows(data, "routes", {"id", "links"}, required=False):
        rid = r.unique(r.string(row, "id", p), seen, f"{p}.id", "route")
        if "links" not in row:
            raise r.fail(f"{p}.links", "missing; expected a list of link ids")
        links = _links(r, row, "links", p, graph)
        _joined(r, links, f"{p}.links", f"route {rid!r}", graph)
        out.append(RouteSpec(rid, links))
    return tuple(out)


class _TripReader:
    """Checks trips, inline or from the file, against one network, class list and routes."""

    def __init__(
        self, graph: MovementGraph, routes: tuple[RouteSpec, ...], class_names: set[str]
    ) -> None:
        self.graph = graph
        self.routes = {rt.id: rt for rt in routes}
        self.class_names = class_names
        self.ids: set[str] = set()
        self.reach: dict[str, set[int]] = {}

    def trip(self, r: FieldReader, row: Mapping[str, Any], p: str, default_id: str) -> TripSpec:
        r.check_keys(row, p, _TRIP_KEYS)
        tid = r.unique(r.string(row, "id", p, default_id), self.ids, f"{p}.id", "trip")
        depart_s = r.number(row, "depart_s", p, "seconds", minimum=0.0, strict=False)
        cls = r.string(row, "class", p)
        if cls not in self.class_names:
            raise r.fail(
                f"{p}.class", f"unknown vehicle class {cls!r}; known: {sorted(self.class_names)}"
            )
        given = [k for k in ("route", "links", "from") if k in row]
        if "to" in row and "from" not in row:
            given.append("to")
        if len(given) != 1:
            raise r.fail(
                p,
                f"trip {tid!r}: give exactly one of route (a [[routes]] id), links (a list "
                f"of link ids) or from and to (link ids); got {', '.join(given) or 'none'}",
            )
        graph = self.graph
        if "route" in row:
            rid = r.string(row, "route", p)
            route = self.routes.get(rid)
            if route is None:
                raise r.fail(
                    f"{p}.route", f"unknown route {rid!r}; known: {sorted(self.routes)[:20]}"
                )
            links = route.links
            return TripSpec(tid, depart_s, cls, links[0], links[-1], links, rid)
        if "links" in row:
            links = _links(r, row, "links", p, graph)
            _joined(r, links, f"{p}.links", f"trip {tid!r}", graph)
            return TripSpec(tid, depart_s, cls, links[0], links[-1], links)
        ends = []
        for key in ("from", "to"):
            lid = r.string(row, key, p)
            if lid not in graph.index:
                raise r.fail(f"{p}.{key}", f"unknown link {lid!r}; define it in [[links]]")
            ends.append(lid)
        if not self.connected(ends[0], ends[1]):
            raise r.fail(
                f"{p}.to",
                f"trip {tid!r}: no sequence of movements leads from link {ends[0]!r} to "
                f"link {ends[1]!r}",
            )
        return TripSpec(tid, depart_s, cls, ends[0], ends[1])

    def connected(self, a: str, b: str) -> bool:
        seen = self.reach.get(a)
        if seen is None:
            seen = self.reach[a] = self.graph.reachable(a)
        return self.graph.index[b] in seen


def read_trips(
    r: FieldReader,
    data: Mapping[str, Any],
    graph: MovementGraph,
    routes: tuple[RouteSpec, ...],
    class_names: set[str],
    base_dir: Path,
) -> tuple[TripSpec, ...]:
    """Inline ``[[trips]]``, then the rows of ``[scenario] trips_file`` (relative to
    ``base_dir``, the scenario file's folder), in departure order (stable)."""
    reader = _TripReader(graph, routes, class_names)
    out = []
    for i, row in enumerate(r.array_of_tables(data, "trips", required=False)):
        out.append(reader.trip(r, row, f"trips[{i}]", f"trip{i}"))
    head = data.get("scenario", {})
    if "trips_file" in head:
        name = r.string(head, "trips_file", "scenario")
        path = Path(name)
        if not path.is_absolute():
            path = base_dir / path
        if not path.exists():
            raise r.fail("scenario.trips_file", f"file not found: {path}")
        file_reader = FieldReader(str(path), ScenarioError)
        for label, row in read_trips_file(path, str(path)):
            out.append(reader.trip(file_reader, row, label, f"trip{len(out)}"))
    out.sort(key=lambda t: t.depart_s)
    return tuple(out)


def read_zones(
    r: FieldReader, data: Mapping[str, Any], graph: MovementGraph
) -> tuple[ZoneSpec, ...]:
    """Zones: links where trips start or end, with optional relative weights."""
    out = []
    seen: set[str] = set()
    for p, row in r.rows(data, "zones", {"id", "links", "weights"}, required=False):
        zid = r.unique(r.string(row, "id", p), seen, f"{p}.id", "zone")
        if "links" not in row:
            raise r.fail(f"{p}.links", "missing; expected a list of link ids")
        links = _links(r, row, "links", p, graph)
        if len(set(links)) != len(links):
            raise r.fail(f"{p}.links", f"zone {zid!r} lists a link twice")
        weights = row.get("weights", [1.0] * len(links))
        ok = (
            isinstance(weights, list)
            and len(weights) == len(links)
            and all(
                isinstance(w, int | float) and not isinstance(w, bool) and 0.0 < w < float("inf")
                for w in weights
            )
        )
        if not ok:
            raise r.fail(
                f"{p}.weights",
                f"expected {len(links)} positive numbers (one per link), got {describe(weights)}",
            )
        total = float(sum(weights))
        out.append(ZoneSpec(zid, links, tuple(float(w) / total for w in weights)))
    return tuple(out)


def read_ods(
    r: FieldReader,
    data: Mapping[str, Any],
    zones: tuple[ZoneSpec, ...],
    mix_names: set[str],
    graph: MovementGraph,
) -> tuple[OdSpec, ...]:
    """OD flows between zones; every start link of the origin must reach every end link of
    the destination, so that any draw can be routed."""
    by_id = {z.id: z for z in zones}
    out = []
    allowed = {"from", "to", "flow_veh_per_h", "profile", "mix", "arrivals"}
    reach: dict[str, set[int]] = {}
    for p, row in r.rows(data, "od", allowed, required=False):
        ends = []
        for key in ("from", "to"):
            zid = r.string(row, key, p)
            if zid not in by_id:
                raise r.fail(f"{p}.{key}", f"unknown zone {zid!r}; known: {sorted(by_id)[:20]}")
            ends.append(by_id[zid])
        origin, dest = ends
        for a in origin.links:
            seen = reach.get(a)
            if seen is None:
                seen = reach[a] = graph.reachable(a)
            for b in dest.links:
                if graph.index[b] not in seen:
                    raise r.fail(
                        f"{p}.to",
                        f"no sequence of movements leads from link {a!r} of zone "
                        f"{origin.id!r} to link {b!r} of zone {dest.id!r}; every start link "
                        "of the origin must reach every end link of the destination",
                    )
        profile, mix, arrivals = read_flow(r, row, p, mix_names)
        out.append(OdSpec(origin.id, dest.id, profile, mix, arrivals))
    return tuple(out)
