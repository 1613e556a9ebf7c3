"""A stated default demand for a network without one (OpenStreetMap, or a SUMO network
imported without route files): origin-destination flows between the fringe's links.

Like SUMO's randomTrips (``--fringe-factor``, ``--weights-prefix``), trips start and end at
the fringe (the junctions netconvert's ``--fringe.guess`` marks as the outer fringe, or
boundary nodes near the network's outer edge where a network has no such marks), and each
fringe link weighs its lanes times a factor of its road class, so a primary road gets more
of the traffic than a lane. The fringe is cut into four sectors
around the network's centre (north, east, south, west); each sector is a zone, and the flow
from one zone to each other zone is the level times its entry weight, shared among the
destinations by their exit weights. No trip goes back to its own sector, which would mostly
be a U-turn at the edge of the map. The level (vehicles per hour per entry lane of a major
road) is the user's to set; the default is a light load, stated in the scenario, meant to
be replaced with counts.
"""

from __future__ import annotations

import math
from typing import Any

from trafficsim.sim.interop.report import ImportReport
from trafficsim.sim.interop.sumo_net import Network

DEFAULT_LEVEL_VEH_PER_H_PER_LANE = 200.0
"""Default entry flow per lane of a primary road: about a ninth of a lane's saturation
flow, a light load that leaves the user's counts to set the real level (an assumption)."""

ROAD_CLASS_FACTOR = {
    "motorway": 1.0,
    "trunk": 1.0,
    "primary": 1.0,
    "secondary": 0.8,
    "tertiary": 0.6,
    "unclassified": 0.3,
    "residential": 0.3,
    "living_street": 0.1,
    "service": 0.1,
}
"""Share of a lane's flow by OpenStreetMap road class (``highway=*``, SUMO edge type
``highway.X``), links ``_link`` as their road; other and unknown types take 0.3
(assumptions of this default, stated in the scenario)."""

SECTORS = ("north", "east", "south", "west")
FRINGE_MARGIN_M = 150.0
FRINGE_SHARE = 0.05
"""A boundary node is on the fringe within 150 m or 5 % of the network's extent (the larger)
of its bounding box (an assumption of this default)."""


def class_factor(road_type: str) -> float:
    kind = road_type.split("|")[0].removeprefix("highway.").removesuffix("_link")
    return ROAD_CLASS_FACTOR.get(kind, 0.3)


def fringe_od(
    net: Network, level: float, mix: str, report: ImportReport
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``[[zones]]`` and ``[[od]]`` tables of the default demand."""
    kind = {n["id"]: n["kind"] for n in net.nodes}
    at = {n["id"]: (n["x_m"], n["y_m"]) for n in net.nodes}
    xs = [p[0] for p in at.values()]
    ys = [p[1] for p in at.values()]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    # The fringe: the junctions netconvert marks as the outer fringe, else boundary nodes
    # near the network's outer edge (dead ends inside it, such as alleys, are boundaries
    # too, but no zone's).
    margin = max(FRINGE_MARGIN_M, FRINGE_SHARE * max(max(xs) - min(xs), max(ys) - min(ys)))

    def outer(node: str) -> bool:
        if net.fringe:
            return node in net.fringe
        x, y = at[node]
        return bool(min(x - min(xs), max(xs) - x, y - min(ys), max(ys) - y) <= margin)

    if not any(outer(n) for n, k in kind.items() if k == "boundary"):
        margin = math.inf
        net.fringe.clear()
    entries: dict[str, list[tuple[str, float]]] = {s: [] for s in SECTORS}
    exits: dict[str, list[tuple[str, float]]] = {s: [] for s in SECTORS}
    core = largest_component(net.successors)
    into_core = reaching(core, reverse(net.successors))
    from_core = reaching(core, net.successors)
    dropped = 0
    for ln in net.links:
        w = ln["lanes"] * class_factor(net.road_type.get(ln["id"], ""))
        lid = ln["id"]
        if kind[ln["from"]] == "boundary" and net.successors.get(lid) and outer(ln["from"]):
            if lid in into_core:
                entries[sector(at[ln["from"]], cx, cy)].append((lid, w))
            else:
                dropped += 1
        if kind[ln["to"]] == "boundary" and kind[ln["from"]] != "boundary" and outer(ln["to"]):
            if lid in from_core:
                exits[sector(at[ln["to"]], cx, cy)].append((lid, w))
            else:
                dropped += 1
    if dropped:
        report.note(
            f"demand: {dropped} fringe links left out of the zones: they do not reach (or are "
            "not reached from) the network's largest strongly connected part, so some trips "
            "between the zones would have no route"
        )
    zones: list[dict[str, Any]] = []
    for s in SECTORS:
        for side, rows in (("in", entries[s]), ("out", exits[s])):
            if rows:
                zones.append(
                    {
                        "id": f"{s}-{side}",
                        "links": [r[0] for r in rows],
                        "weights": [round(r[1], 3) for r in rows],
                    }
                )
    od: list[dict[str, Any]] = []
    for a in SECTORS:
        w_in = sum(w for _, w in entries[a])
        dests = [b for b in SECTORS if b != a and exits[b]]
        w_out = sum(w for b in dests for _, w in exits[b])
        if w_in <= 0 or w_out <= 0:
            continue
        for b in dests:
            share = sum(w for _, w in exits[b]) / w_out
            flow = level * w_in * share
            if flow > 0:
                od.append(
                    {
                        "from": f"{a}-in",
                        "to": f"{b}-out",
                        "flow_veh_per_h": round(flow, 1),
                        "mix": mix,
                    }
                )
    total = sum(o["flow_veh_per_h"] for o in od)
    report.note(
        f"demand: none in the source; a stated default of {level:g} veh/h per entry lane of "
        f"a primary road (x lanes x road-class factor), {total:,.0f} veh/h in all, from each "
        "fringe sector to the others (sim/interop/default_demand.py); replace it with counts"
    )
    return zones, od


def reverse(succ: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a, bs in succ.items():
        for b in bs:
            out.setdefault(b, []).append(a)
    return out


def reaching(core: set[str], succ: dict[str, list[str]]) -> set[str]:
    """``core`` and every link it reaches along ``succ`` (reversed: that reach it)."""
    seen = set(core)
    todo = list(core)
    while todo:
        for b in succ.get(todo.pop(), ()):
            if b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


def largest_component(succ: dict[str, list[str]]) -> set[str]:
    """The largest strongly connected set of links (Kosaraju, iteratively): from any of
    them every other one can be reached, so zones at its edges have routes both ways."""
    nodes = set(succ) | {b for bs in succ.values() for b in bs}
    order: list[str] = []
    seen: set[str] = set()
    for start in nodes:
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(succ.get(start, ())))]
        while stack:
            v, it = stack[-1]
            nxt = next((w for w in it if w not in seen), None)
            if nxt is None:
                stack.pop()
                order.append(v)
            else:
                seen.add(nxt)
                stack.append((nxt, iter(succ.get(nxt, ()))))
    back = reverse(succ)
    best: set[str] = set()
    done: set[str] = set()
    for v in reversed(order):
        if v in done:
            continue
        comp, todo = set(), [v]
        done.add(v)
        while todo:
            u = todo.pop()
            comp.add(u)
            for w in back.get(u, ()):
                if w not in done:
                    done.add(w)
                    todo.append(w)
        if len(comp) > len(best):
            best = comp
    return best


def sector(p: tuple[float, float], cx: float, cy: float) -> str:
    angle = math.degrees(math.atan2(p[1] - cy, p[0] - cx))  # 0 = east, 90 = north
    if 45 <= angle < 135:
        return "north"
    if -45 <= angle < 45:
        return "east"
    if -135 <= angle < -45:
        return "south"
    return "west"


INTERIOR_CLASSES = ("secondary", "tertiary", "unclassified", "residential")
"""OpenStreetMap classes of the streets where trips inside an area begin and end (its shops,
offices and homes front them); the arterials carry traffic through (an assumption)."""


def interior_zones(data: dict[str, Any], cells: int) -> list[dict[str, Any]]:
    """``[[zones]]`` of the trips that begin or end inside the network: its streets of
    :data:`INTERIOR_CLASSES` away from the boundary, in a ``cells`` x ``cells`` grid over the
    network's extent (``interior-r{row}c{col}``, row 0 the north), each link weighed by its
    lane-metres (the grid spans these streets, not the nodes, some of which netconvert puts
    far off at the map's edge). Only links of the largest strongly connected part, so that
    every zone reaches every other one."""
    at = {n["id"]: (n.get("x_m", 0.0), n.get("y_m", 0.0)) for n in data["nodes"]}
    boundary = {n["id"] for n in data["nodes"] if n["kind"] == "boundary"}
    succ: dict[str, list[str]] = {}
    for m in data["movements"]:
        succ.setdefault(m["from"], []).append(m["to"])
    core = largest_component(succ)
    mids: list[tuple[str, float, float, float]] = []
    for ln in data["links"]:
        if (
            ln["id"] in core
            and ln.get("road_class", "") in INTERIOR_CLASSES
            and ln["from"] not in boundary
            and ln["to"] not in boundary
        ):
            (xa, ya), (xb, yb) = at[ln["from"]], at[ln["to"]]
            mids.append((ln["id"], (xa + xb) / 2, (ya + yb) / 2, ln["length_m"] * ln["lanes"]))
    if not mids:
        return []
    x0, x1 = min(m[1] for m in mids), max(m[1] for m in mids)
    y0, y1 = min(m[2] for m in mids), max(m[2] for m in mids)
    w, h = (x1 - x0) / cells or 1.0, (y1 - y0) / cells or 1.0
    rows: dict[tuple[int, int], list[tuple[str, float]]] = {}
    for lid, x, y, lane_m in mids:
        c = min(cells - 1, int((x - x0) / w))
        r = min(cells - 1, int((y1 - y) / h))
        rows.setdefault((r, c), []).append((lid, lane_m))
    return [
        {
            "id": f"interior-r{r}c{c}",
            "links": [lid for lid, _ in rows[r, c]],
            "weights": [round(v, 1) for _, v in rows[r, c]],
        }
        for r, c in sorted(rows)
    ]
