"""``trafficsim export sumo``: any scenario as a SUMO network, routes and configuration.

The network is built by SUMO's netconvert from plain XML: nodes (signals as traffic
lights), edges (lanes, speed, the length where the drawing does not give it, and a
link's shape when it has one), connections (one per lane a movement uses, with
the traffic light's link index) and the signal programs (one SUMO phase per interval in
which no signal display changes: ``G`` green, ``g`` green that gives way, ``y`` yellow,
``s`` red with turn on red, ``r`` red). Pairs of links that no movement joins are deleted,
so netconvert guesses no turn of its own. The demand becomes vehicles with their routes:
turn-share demand is drawn here (arrival times and classes as the engine draws them, turns
by the shares) from ``seed``; trips keep their routes or their from/to. Vehicle types take
the classes' lengths and a minimum gap that makes length + gap the class's PCU times the
jam spacing, so a standing queue holds as many vehicles in SUMO as in the scenario, and
no spread of desired speeds (``speedDev="0"``): the scenario has one speed per link.
"""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from trafficsim.sim.config import DemandSpec, NodeKind, Scenario
from trafficsim.sim.demand import arrival_times, draw_classes
from trafficsim.sim.interop import tools
from trafficsim.sim.interop.signal_display import Display, display_cycle

VCLASS = {"motorcycle": "motorcycle", "car": "passenger", "bus": "bus", "truck": "truck"}
MIN_GAP_FLOOR_M = 0.5
"""Smallest minGap exported: SUMO vehicles stop nose to tail below it."""
MAX_ROUTE_LINKS = 10_000
"""A turn-share route longer than this is cut (a loop the shares keep a vehicle in)."""


def export_sumo(scenario: Scenario, out: Path, *, seed: int = 0) -> list[Path]:
    """Write ``out/NAME.{net,rou}.xml`` and ``out/NAME.sumocfg``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    name = _file_name(scenario.name)
    plain = out / f"{name}.plain"
    plain.mkdir(exist_ok=True)
    links = {ln.id: ln for ln in scenario.links}
    at = _positions(scenario)
    nodes = ET.Element("nodes")
    for n in scenario.nodes:
        x, y = at[n.id]
        attrs = {"id": n.id, "x": f"{x:.2f}", "y": f"{y:.2f}", "type": "priority"}
        if n.kind is NodeKind.SIGNAL:
            attrs.update(type="traffic_light", tl=n.id, tlType="static")
        ET.SubElement(nodes, "node", attrs)
    edges = ET.Element("edges")
    for ln in scenario.links:
        attrs = {
            "id": ln.id,
            "from": ln.from_node,
            "to": ln.to_node,
            "numLanes": str(ln.lanes),
            "speed": f"{ln.free_speed_mps:.4f}",
        }
        shape = getattr(ln, "shape_m", ())
        if len(shape) >= 2:
            attrs["shape"] = " ".join(f"{x:.2f},{y:.2f}" for x, y in shape)
        drawn = (
            _polyline_m(shape) if len(shape) >= 2 else math.dist(at[ln.from_node], at[ln.to_node])
        )
        if abs(drawn - ln.length_m) > max(LENGTH_TOLERANCE_M, 0.1 * ln.length_m):
            attrs["length"] = f"{ln.length_m:.2f}"
        ET.SubElement(edges, "edge", attrs)
    cons = _connections(scenario, links)
    files = {"nod": nodes, "edg": edges, "con": cons}
    for ext, root in files.items():
        _write(plain / f"{name}.{ext}.xml", root)
    net = out / f"{name}.net.xml"
    source = f"the exported network of {scenario.source}"
    cmd = ["--node-files", str(plain / f"{name}.nod.xml")]
    cmd += ["--edge-files", str(plain / f"{name}.edg.xml")]
    cmd += ["--connection-files", str(plain / f"{name}.con.xml"), "-o", str(net)]
    common = ["--offset.disable-normalization", "true", "--no-warnings", "true"]
    common += ["--junctions.limit-turn-speed", "-1"]
    tools.run("netconvert", [*cmd, "--no-turnarounds", "true", *common], source)
    if scenario.signals:
        # netconvert numbers a light's connections its own way (clockwise from the
        # north); the programs are written for its numbers and loaded in a second pass.
        tll = _programs(scenario, net)
        _write(plain / f"{name}.tll.xml", tll)
        tll_args = ["--tllogic-files", str(plain / f"{name}.tll.xml")]
        tools.run("netconvert", ["-s", str(net), *tll_args, "-o", str(net), *common], source)
    routes = out / f"{name}.rou.xml"
    _write(routes, _routes(scenario, seed))
    cfg = out / f"{name}.sumocfg"
    _write(cfg, _config(scenario, net.name, routes.name, name))
    return [net, routes, cfg]


LENGTH_TOLERANCE_M = 10.0
"""A link drawn within this (or 10 %) of its length keeps SUMO's own length: node to node,
the junction's crossing included, as the scenario counts it. Forcing the length on such
an edge made SUMO's queues discharge worse (the grid's delay rose from 70 to 91 s)."""
LAYOUT_SPACING_M = 1000.0


def _positions(scenario: Scenario) -> dict[str, tuple[float, float]]:
    """Node positions for netconvert: the scenario's, or, where its links join nodes at
    one point (a scenario written without coordinates), the nodes in a row 1 km apart,
    every link then keeping its length."""
    at = {n.id: (n.x_m, n.y_m) for n in scenario.nodes}
    if all(math.dist(at[ln.from_node], at[ln.to_node]) >= 1.0 for ln in scenario.links):
        return at
    return {n.id: (k * LAYOUT_SPACING_M, 0.0) for k, n in enumerate(scenario.nodes)}


def _polyline_m(points: Any) -> float:
    return sum(math.dist(a, b) for a, b in itertools.pairwise(points))


def _file_name(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return keep.strip(".") or "scenario"


def _write(path: Path, root: ET.Element) -> None:
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _direction(points: list[tuple[float, float]], head: bool) -> float:
    (x0, y0), (x1, y1) = (points[0], points[1]) if head else (points[-2], points[-1])
    return math.atan2(y1 - y0, x1 - x0)


def _shape(scenario: Scenario, link: Any) -> list[tuple[float, float]]:
    shape = list(getattr(link, "shape_m", ()))
    if len(shape) >= 2:
        return shape
    at = {n.id: (n.x_m, n.y_m) for n in scenario.nodes}
    return [at[link.from_node], at[link.to_node]]


def _lanes_of(scenario: Scenario, links: dict[str, Any]) -> dict[tuple[str, str], list[int]]:
    """The lanes each movement leaves from (0 = rightmost).

    A movement that names its lanes keeps them; one that gives a lane count gets lanes
    counted from the right in the order of its turn (rightmost turn first), and a link
    with one group gives every lane to each of its movements.
    """
    out: dict[tuple[str, str], list[int]] = {}
    by_link: dict[str, list[Any]] = {}
    for m in scenario.movements:
        by_link.setdefault(m.from_link, []).append(m)
    for lid, moves in by_link.items():
        n = links[lid].lanes
        heading = _direction(_shape(scenario, links[lid]), head=False)

        def turn(m: Any, heading: float = heading) -> float:
            a = _direction(_shape(scenario, links[m.to_link]), head=True) - heading
            return (a + math.pi) % (2 * math.pi) - math.pi  # right turns negative

        groups: dict[Any, list[Any]] = {}
        for m in sorted(moves, key=turn):
            groups.setdefault(m.signal_group, []).append(m)
        first = 0
        for members in groups.values():
            given = members[0].lanes
            named = [m for m in members if getattr(m, "lane_indices", None)]
            for m in named:
                out[(m.from_link, m.to_link)] = sorted(int(k) for k in m.lane_indices)
            if named:
                continue
            count = given if isinstance(given, int) and len(groups) > 1 else n
            lanes = list(range(first, first + count)) if len(groups) > 1 else list(range(n))
            lanes = [min(k, n - 1) for k in lanes]
            first = min(first + count, n - 1) if len(groups) > 1 else 0
            for m in members:
                out[(m.from_link, m.to_link)] = sorted(set(lanes))
    return out


def _connections(scenario: Scenario, links: dict[str, Any]) -> ET.Element:
    cons = ET.Element("connections")
    lanes = _lanes_of(scenario, links)
    moves = {(m.from_link, m.to_link) for m in scenario.movements}
    for (a, b), used in lanes.items():
        to_lanes = links[b].lanes
        for i, k in enumerate(used):
            attrs = {"from": a, "to": b, "fromLane": str(k), "toLane": str(min(i, to_lanes - 1))}
            ET.SubElement(cons, "connection", attrs)
    # No turn that no movement makes: netconvert would otherwise guess them.
    into: dict[str, list[str]] = {}
    for ln in scenario.links:
        into.setdefault(ln.to_node, []).append(ln.id)
    for ln in scenario.links:
        for up in into.get(ln.from_node, []):
            if (up, ln.id) not in moves:
                ET.SubElement(cons, "delete", {"from": up, "to": ln.id})
    return cons


def _programs(scenario: Scenario, net_path: Path) -> ET.Element:
    """The scenario's plans as static programs over the built network's link indices.

    A green link gives way (``g``) when the scenario says it yields, and also when the
    built junction makes it yield to a link green at the same time (a left turn across
    the opposing through traffic of the same group): SUMO treats ``G`` links as free of
    conflicts, so a ``G`` against a green foe would let both go at once.
    """
    net = tools.sumolib().net.readNet(str(net_path), withPrograms=True)
    moves = {(m.from_link, m.to_link): m for m in scenario.movements}
    tll = ET.Element("tlLogics")
    for sig in scenario.signals:
        tls = net.getTLS(sig.node)
        by_index: dict[int, Any] = {}
        foes: dict[int, set[int]] = {}
        junction_of: dict[int, int] = {}
        conns = tls.getConnections()
        for in_lane, out_lane, idx in conns:
            by_index[idx] = moves[(in_lane.getEdge().getID(), out_lane.getEdge().getID())]
            c = next(o for o in in_lane.getOutgoing() if o.getToLane() is out_lane)
            junction_of[c.getJunctionIndex()] = idx
        node = net.getNode(sig.node)
        for j, idx in junction_of.items():
            response = node._prohibits.get(j, "")  # sumolib's <request response=> table
            foes[idx] = {
                junction_of[k]
                for k, bit in enumerate(reversed(response))
                if bit == "1" and k in junction_of
            }
        members = [by_index[k] for k in range(max(by_index) + 1)]
        logic = ET.SubElement(
            tll,
            "tlLogic",
            {
                "id": sig.node,
                "type": "static",
                "programID": "0",
                "offset": f"{sig.plan.offset_s:g}",
            },
        )
        for duration, show in display_cycle(sig.plan):
            chars = [_char(show.get(m.signal_group, Display.RED), m) for m in members]
            state = "".join(
                "g" if ch == "G" and any(chars[f] in "Gg" for f in foes.get(k, ())) else ch
                for k, ch in enumerate(chars)
            )
            ET.SubElement(logic, "phase", {"duration": f"{duration:g}", "state": state})
    return tll


def _char(display: Display, movement: Any) -> str:
    gives_way = bool(getattr(movement, "yield_to", ()))
    if display is Display.GREEN:
        return "g" if gives_way else "G"
    if display is Display.YELLOW:
        return "y"
    on_red = getattr(movement, "on_red", None)
    return "s" if getattr(on_red, "value", on_red) == "yield" else "r"


def _routes(scenario: Scenario, seed: int) -> ET.Element:
    root = ET.Element("routes")
    jam = scenario.jam_spacing_m_per_pcu
    for c in scenario.classes:
        ET.SubElement(
            root,
            "vType",
            {
                "id": c.name,
                "vClass": VCLASS.get(c.emission_class or "car", "passenger"),
                "length": f"{c.length_m:g}",
                "minGap": f"{max(MIN_GAP_FLOOR_M, c.pcu * jam - c.length_m):.3g}",
                "maxSpeed": f"{c.max_speed_mps:.4f}",
                # Every vehicle of a class drives at the link's speed, as in the scenario
                # (SUMO's default spread of 0.1 raised the grid's delay from 70 to 94 s).
                "speedDev": "0",
            },
        )
    rng = np.random.default_rng(seed)
    vehicles = _turn_share_vehicles(scenario, rng) + _trips(scenario) + _od_trips(scenario, rng)
    vehicles.sort(key=lambda v: v[0])
    for k, (t, cls, route, ends) in enumerate(vehicles):
        attrs = {
            "id": f"v{k}",
            "type": cls,
            "depart": f"{t:.2f}",
            "departLane": "best",
            "departSpeed": "max",
        }
        if route:
            v = ET.SubElement(root, "vehicle", attrs)
            ET.SubElement(v, "route", {"edges": " ".join(route)})
        else:
            ET.SubElement(root, "trip", {**attrs, "from": ends[0], "to": ends[1]})
    return root


Vehicle = tuple[float, str, list[str], tuple[str, str]]


def _turn_share_vehicles(scenario: Scenario, rng: np.random.Generator) -> list[Vehicle]:
    """Turn-share demand drawn as vehicles with routes."""
    mixes = {m.name: m for m in scenario.mixes}
    index = {c.name: i for i, c in enumerate(scenario.classes)}
    names = [c.name for c in scenario.classes]
    nxt: dict[str, list[tuple[float, str]]] = {}
    for m in scenario.movements:
        share = getattr(m, "share", None)
        if share:
            nxt.setdefault(m.from_link, []).append((float(share), m.to_link))
    out: list[Vehicle] = []
    for d in scenario.demands:
        times = arrival_times(d, scenario.duration_s, rng)
        classes = draw_classes(len(times), mixes[d.mix], index, rng)
        for t, c in zip(times.tolist(), classes.tolist(), strict=True):
            route = [d.entry_link]
            while route[-1] in nxt and len(route) < MAX_ROUTE_LINKS:
                route.append(_choose(nxt[route[-1]], rng.random()))
            out.append((t, names[c], route, ("", "")))
    return out


def _choose(options: list[tuple[float, str]], u: float) -> str:
    """The option that ``u`` in [0, 1) falls on, by the options' shares."""
    u *= sum(s for s, _ in options)
    for share, to in options:
        u -= share
        if u <= 0:
            return to
    return options[-1][1]


def _trips(scenario: Scenario) -> list[Vehicle]:
    """Trips of the scenario (``[[trips]]``, a trips file) with their routes or ends."""
    out: list[Vehicle] = []
    for t in getattr(scenario, "trips", ()):
        links = list(t.links or ())
        ends = (t.from_link, t.to_link)
        out.append((float(t.depart_s), str(t.vehicle_class), links, ends))
    return out


def _od_trips(scenario: Scenario, rng: np.random.Generator) -> list[Vehicle]:
    """OD flows drawn as trips: arrival times as the engine draws them, start and end
    links by the zones' weights, classes by the mix; SUMO routes them at insertion."""
    zones = {z.id: z for z in getattr(scenario, "zones", ())}
    mixes = {m.name: m for m in scenario.mixes}
    index = {c.name: i for i, c in enumerate(scenario.classes)}
    names = [c.name for c in scenario.classes]
    out: list[Vehicle] = []
    for od in getattr(scenario, "ods", ()):
        stream = DemandSpec("", od.profile, od.mix, od.arrivals)
        times = arrival_times(stream, scenario.duration_s, rng)
        classes = draw_classes(len(times), mixes[od.mix], index, rng)
        a, b = zones[od.from_zone], zones[od.to_zone]
        starts = rng.choice(len(a.links), size=len(times), p=_weights(a.weights))
        ends = rng.choice(len(b.links), size=len(times), p=_weights(b.weights))
        for t, c, i, j in zip(times.tolist(), classes.tolist(), starts, ends, strict=True):
            out.append((t, names[c], [], (a.links[i], b.links[j])))
    return out


def _weights(w: Any) -> np.ndarray:
    p = np.asarray(w, dtype=float)
    out: np.ndarray = p / float(p.sum())
    return out


def _config(scenario: Scenario, net: str, routes: str, name: str) -> ET.Element:
    root = ET.Element("configuration")
    inp = ET.SubElement(root, "input")
    ET.SubElement(inp, "net-file", value=net)
    ET.SubElement(inp, "route-files", value=routes)
    tm = ET.SubElement(root, "time")
    ET.SubElement(tm, "begin", value="0")
    ET.SubElement(tm, "end", value=f"{scenario.duration_s:g}")
    pr = ET.SubElement(root, "processing")
    ET.SubElement(pr, "time-to-teleport", value="-1")
    outp = ET.SubElement(root, "output")
    ET.SubElement(outp, "tripinfo-output", value=f"{name}.tripinfo.xml")
    ET.SubElement(outp, "tripinfo-output.write-unfinished", value="true")
    return root
