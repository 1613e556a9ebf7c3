"""A SUMO network (``.net.xml``, read with sumolib) as the scenario's nodes, links and
movements.

What becomes what:
- every edge that a road vehicle may use becomes a link: its length, the lanes that admit
  road vehicles (re-indexed from 0 at the right, SUMO's convention, so a sidewalk at
  index 0 is no lane of the link), its speed, its street name and its shape for maps;
- a junction with connections is an intersection: ``signal`` where a traffic light
  controls a connection, ``uncontrolled`` otherwise; a junction without connections
  (the fringe, a dead end) is a ``boundary``. An edge that ends at an intersection with no
  connection onward, or starts at one with no connection into it, gets a boundary node of
  its own at that end (``J-end``), so vehicles can leave or enter there as in SUMO;
- connections become movements, one per pair of edges, with ``lanes`` the indices of
  the lanes they leave from; the right of way (``yield_to``, ``on_red``) and the signal
  groups come from :mod:`~trafficsim.sim.interop.sumo_signals`;
- the junction's crossing (SUMO's internal lanes) is added to the length of the link a
  connection enters (the mean over its connections), so that a route is as long as in
  SUMO: the model has no junction area of its own.
Coordinates are metres from the network's centre, whose longitude and latitude become the
scenario's origin when the network is in UTM (see :mod:`~trafficsim.sim.interop.utm`).
"""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from trafficsim.sim.errors import InputError
from trafficsim.sim.interop import tools
from trafficsim.sim.interop.ids import IdMap
from trafficsim.sim.interop.report import ImportReport
from trafficsim.sim.interop.sumo_signals import Conn, signal_tables, yield_tables
from trafficsim.sim.interop.utm import utm_to_lon_lat, utm_zone
from trafficsim.sim.units import mps_to_kmh

ROAD_CLASSES = ("passenger", "bus", "truck", "motorcycle", "delivery", "taxi", "coach")
"""SUMO vehicle classes that make a lane a road lane of the model (pedestrian, bicycle,
rail and tram lanes are not)."""

_SPECIAL = ("internal", "crossing", "walkingarea")


@dataclass
class Network:
    """A network read from SUMO, as TOML-shaped tables, with what the demand needs."""

    nodes: list[dict[str, Any]]
    links: list[dict[str, Any]]
    movements: list[dict[str, Any]]
    signals: list[dict[str, Any]]
    link_of_edge: dict[str, str]
    """SUMO edge id to link id, for the links kept."""
    origin: tuple[float, float] | None
    """(lat, lon) of x = y = 0, when the network has a known projection."""
    road_type: dict[str, str] = field(default_factory=dict)
    fringe: set[str] = field(default_factory=set)
    """Boundary nodes at junctions SUMO marks as the network's outer fringe
    (``fringe="outer"``, netconvert's ``--fringe.guess``); empty when it marks none."""
    """Link id to the SUMO edge type (``highway.primary`` from OpenStreetMap)."""
    free_time_s: dict[str, float] = field(default_factory=dict)
    successors: dict[str, list[str]] = field(default_factory=dict)


def read_network(path: Path, report: ImportReport, begin_s: float) -> Network:
    """The network of a SUMO ``.net.xml`` (refused if unreadable or without roads)."""
    net = _load(path)
    edges = [e for e in net.getEdges(withInternal=False) if e.getFunction() not in _SPECIAL]
    link_ids, node_ids = IdMap(), IdMap()
    kept: dict[str, Any] = {}
    lanes_of: dict[str, list[int]] = {}
    for e in edges:
        road = [ln.getIndex() for ln in e.getLanes() if _road(ln)]
        if not road:
            report.skip(
                "edges", "no lane admits road vehicles (footway, cycleway, rail)", e.getID()
            )
        elif e.getFromNode() is e.getToNode():
            report.skip("edges", "starts and ends at the same junction", e.getID())
        else:
            kept[e.getID()] = e
            lanes_of[e.getID()] = road
    if not kept:
        raise InputError(str(path), "", "no edge of this SUMO network admits road vehicles")
    conns = _connections(net, kept, lanes_of)
    if not set(kept) - {c.from_edge for c in conns}:
        conns = _fringe_u_turns(conns, report)
    x0, y0, origin = _origin(net, report)
    junctions = {}
    for e in kept.values():
        for j in (e.getFromNode(), e.getToNode()):
            junctions[j.getID()] = j
    node_of = {jid: node_ids(jid) for jid in junctions}
    groups, signals, columns = signal_tables(net, conns, node_of, begin_s, report)
    conns = [c for c in conns if groups.get((c.from_edge, c.to_edge)) != ""]
    conns = _without_traps(conns, kept, report)

    # Junctions: intersections where connections are, boundaries elsewhere.
    at_node = {c.junction for c in conns}
    has_out = {c.from_edge for c in conns}
    has_in = {c.to_edge for c in conns}
    nodes: list[dict[str, Any]] = []
    fringe_of: dict[str, str] = {}

    def fringe(jid: str) -> str:
        """The boundary node beside intersection ``jid`` for links that end or start there."""
        if jid not in fringe_of:
            fringe_of[jid] = node_ids.reserve(f"{node_of[jid]}-end")
            x, y = junctions[jid].getCoord()
            nodes.append(_node(fringe_of[jid], "boundary", x - x0, y - y0))
        return fringe_of[jid]

    # A light without a usable program leaves its junction to the priorities.
    signal_junctions = {c.junction for c in conns if groups.get((c.from_edge, c.to_edge))}
    for jid, j in junctions.items():
        kind = "boundary"
        if jid in at_node:
            kind = "signal" if jid in signal_junctions else "uncontrolled"
            if j.getType() in ("allway_stop", "priority_stop", "zipper"):
                report.skip(
                    "junction rules",
                    f"{j.getType()} is not modelled; the junction keeps SUMO's priorities",
                    jid,
                )
        x, y = j.getCoord()
        nodes.append(_node(node_of[jid], kind, x - x0, y - y0))
    signal_nodes = {node_of[j] for j in signal_junctions}
    signals = [s for s in signals if s["node"] in signal_nodes]

    crossing = _crossing_lengths(net, conns)
    links: list[dict[str, Any]] = []
    link_of_edge: dict[str, str] = {}
    road_type: dict[str, str] = {}
    for eid, e in kept.items():
        a, b = e.getFromNode().getID(), e.getToNode().getID()
        frm = node_of[a] if (a not in at_node or eid in has_in) else fringe(a)
        to = node_of[b] if (b not in at_node or eid in has_out) else fringe(b)
        lid = link_ids(eid)
        link_of_edge[eid] = lid
        road_type[lid] = e.getType()
        length = e.getLength() + crossing.get(eid, 0.0)
        row: dict[str, Any] = {
            "id": lid,
            "from": frm,
            "to": to,
            "length_m": round(length, 2),
            "lanes": len(lanes_of[eid]),
            "speed_kmh": round(mps_to_kmh(max(e.getLane(i).getSpeed() for i in lanes_of[eid])), 2),
        }
        if e.getName():
            row["name"] = e.getName()
        kind = e.getType().split("|")[0]
        if kind.startswith("highway."):
            row["road_class"] = kind.removeprefix("highway.")
        shape = e.getShape()
        if len(shape) >= 2:
            row["shape"] = [[round(x - x0, 2), round(y - y0, 2)] for x, y, *_ in shape]
        links.append(row)
    if crossing:
        report.note(
            "junction crossings (SUMO's internal lanes) are added to the length of the link "
            f"entered, the mean over its connections ({sum(crossing.values()) / len(crossing):.1f}"
            " m per link), so routes are as long as in SUMO"
        )

    yields = yield_tables(net, conns, columns, report)
    movements = _movements(conns, link_of_edge, groups, yields)
    for ids, what in ((link_ids, "link"), (node_ids, "node")):
        if ids.changed:
            src, new = ids.example or ("", "")
            report.note(
                f"{ids.changed} {what} ids changed to the scenario's id rule "
                f"(letters, digits, '_', '.', '-'; at most 64), e.g. {src!r} -> {new!r}"
            )
    out = Network(nodes, links, movements, signals, link_of_edge, origin, road_type)
    for jid, j in junctions.items():
        if j.getFringe() == "outer":
            out.fringe.add(fringe_of.get(jid, node_of[jid]))
    for ln in links:
        out.free_time_s[ln["id"]] = ln["length_m"] / (ln["speed_kmh"] / 3.6)
    for m in movements:
        out.successors.setdefault(m["from"], []).append(m["to"])
    return out


def _load(path: Path) -> Any:
    sumolib = tools.sumolib()
    source = str(path)
    if not path.is_file():
        raise InputError(source, "", "not found" if not path.exists() else "not a file")
    with opened(path) as f:
        head = f.read(2_000_000)  # the root follows the header comment
    if b"<net" not in head:
        raise InputError(source, "", "not a SUMO network: no <net> element")
    try:
        return sumolib.net.readNet(
            source, withInternal=True, withLatestPrograms=True, withConnections=True, lxml=False
        )
    except KeyError as exc:
        raise InputError(source, "", f"a SUMO element lacks its attribute {exc}") from None
    except Exception as exc:  # SAX parse errors and sumolib's own value errors
        raise InputError(source, "", f"not a readable SUMO network: {_xml_error(exc)}") from None


def opened(path: Path) -> IO[bytes]:
    """The file's bytes, unpacked when it is gzipped (``.net.xml.gz``, as SUMO reads it)."""
    with path.open("rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.GzipFile(path, "rb"))
    return path.open("rb")


def _xml_error(exc: Exception) -> str:
    line = getattr(exc, "getLineNumber", None)
    if callable(line):
        return f"XML error at line {line()}, column {exc.getColumnNumber()}: {exc.getMessage()}"  # type: ignore[attr-defined]
    return f"{type(exc).__name__}: {exc}"[:300]


def _road(lane: Any) -> bool:
    return any(lane.allows(c) for c in ROAD_CLASSES)


def _node(nid: str, kind: str, x: float, y: float) -> dict[str, Any]:
    return {"id": nid, "kind": kind, "x_m": round(x, 2), "y_m": round(y, 2)}


def _connections(net: Any, kept: dict[str, Any], lanes_of: dict[str, list[int]]) -> list[Conn]:
    """Connections between road lanes of kept edges, with their junction link index."""
    out = []
    for j in net.getNodes():
        index = 0
        for lane_id in j._incLanes:  # sumolib keeps the junction's incLanes only here
            edge_id, _, k = lane_id.rpartition("_")
            if not net.hasEdge(edge_id):
                continue
            edge = net.getEdge(edge_id)
            if not k.isdigit() or int(k) >= edge.getLaneNumber():
                continue
            for c in edge.getLane(int(k)).getOutgoing():
                to_fn = c.getTo().getFunction()
                if to_fn == "walkingarea" or (
                    edge.getFunction() == "walkingarea" and to_fn != "crossing"
                ):
                    continue
                jx = index
                index += 1
                fe, te = c.getFrom().getID(), c.getTo().getID()
                if fe not in kept or te not in kept:
                    continue
                fl, tl = c.getFromLane().getIndex(), c.getToLane().getIndex()
                if fl not in lanes_of[fe] or tl not in lanes_of[te]:
                    continue
                out.append(
                    Conn(
                        junction=j.getID(),
                        from_edge=fe,
                        to_edge=te,
                        from_lane=lanes_of[fe].index(fl),
                        junction_index=jx,
                        tls=c.getTLSID(),
                        tl_index=c.getTLLinkIndex() if c.getTLSID() else -1,
                        via=c.getViaLaneID(),
                        direction=c.getDirection(),
                    )
                )
    return out


def _fringe_u_turns(conns: list[Conn], report: ImportReport) -> list[Conn]:
    """The connections without U-turns at junctions where a U-turn is all there is.

    Such a junction is the end of the map drawn with a turning loop (synthetic grids put
    one at every fringe node). Where the network has no other way out (no edge without a
    connection onward), every edge would lead only back into it; SUMO's vehicles end their
    routes before the loop, so the junction becomes the network's boundary, where vehicles
    leave and enter.
    """
    kinds: dict[str, set[str]] = {}
    for c in conns:
        kinds.setdefault(c.junction, set()).add("t" if c.direction in ("t", "T") else "o")
    fringe = {j for j, k in kinds.items() if k == {"t"}}
    for c in conns:
        if c.junction in fringe:
            report.skip(
                "connections",
                "U-turns at junctions with no other turn: the junction is a boundary",
                f"{c.from_edge} -> {c.to_edge}",
            )
    return [c for c in conns if c.junction not in fringe]


def _without_traps(conns: list[Conn], kept: dict[str, Any], report: ImportReport) -> list[Conn]:
    """The connections without those into edges from which no exit can be reached.

    An edge without a connection onward is an exit (it ends at a boundary node), so only a
    ring of edges whose every way out is gone can trap a vehicle; its connections into the
    ring are dropped (counted) until every edge reaches an exit, as the scenario requires.
    """
    while True:
        trapped = _trapped(conns, kept)
        if not trapped:
            return conns
        for c in conns:
            if c.from_edge in trapped:
                report.skip(
                    "connections",
                    "inside a ring of edges with no way out left; the edge became an exit",
                    f"{c.from_edge} -> {c.to_edge}",
                )
        conns = [c for c in conns if c.from_edge not in trapped]


def _trapped(conns: list[Conn], kept: dict[str, Any]) -> set[str]:
    """Edges from which no sequence of connections reaches an edge without one onward."""
    into: dict[str, set[str]] = {}
    has_out = set()
    for c in conns:
        into.setdefault(c.to_edge, set()).add(c.from_edge)
        has_out.add(c.from_edge)
    reach = {e for e in kept if e not in has_out}
    todo = list(reach)
    while todo:
        for up in into.get(todo.pop(), ()):
            if up not in reach:
                reach.add(up)
                todo.append(up)
    return set(kept) - reach


def _crossing_lengths(net: Any, conns: list[Conn]) -> dict[str, float]:
    """Mean length of the junction crossing (internal lanes) into each edge."""
    sums: dict[str, list[float]] = {}
    for c in conns:
        total, lane_id, hops = 0.0, c.via, 0
        while lane_id and hops < 4 and net.hasEdge(lane_id.rpartition("_")[0]):
            lane = net.getLane(lane_id)
            total += lane.getLength()
            nxt = [o for o in lane.getOutgoing() if o.getTo().getFunction() == "internal"]
            lane_id = nxt[0].getToLane().getID() if nxt else ""
            hops += 1
        if total > 0:
            sums.setdefault(c.to_edge, []).append(total)
    return {e: sum(v) / len(v) for e, v in sums.items()}


def _origin(net: Any, report: ImportReport) -> tuple[float, float, tuple[float, float] | None]:
    """The centre of the network in its coordinates, and its (lat, lon) when known."""
    loc = getattr(net, "_location", {})
    try:
        xmin, ymin, xmax, ymax = net.getBoundary()
        ox, oy = net.getLocationOffset()
    except (KeyError, ValueError):
        report.note("the network has no <location>: coordinates kept, origin is the default")
        return 0.0, 0.0, None
    zone = utm_zone(str(loc.get("projParameter", "")))
    if zone is None:
        report.note(
            "the network has no UTM projection (a synthetic network): its coordinates are "
            "kept and the origin is the scenario's default (central HCMC)"
        )
        return 0.0, 0.0, None
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    lon, lat = utm_to_lon_lat(cx - ox, cy - oy, *zone)
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return 0.0, 0.0, None
    report.note(
        f"origin_lat/origin_lon: the network's centre ({lat:.6f} N, {lon:.6f} E) from its UTM "
        f"zone {zone[0]}; x_m/y_m and link shapes are metres from it"
    )
    return cx, cy, (round(lat, 7), round(lon, 7))


def _movements(
    conns: list[Conn],
    link_of_edge: dict[str, str],
    groups: dict[tuple[str, str], str],
    yields: dict[tuple[str, str], tuple[list[tuple[str, str]], bool]],
) -> list[dict[str, Any]]:
    """One movement per pair of edges joined by connections."""
    lanes: dict[tuple[str, str], set[int]] = {}
    for c in conns:
        lanes.setdefault((c.from_edge, c.to_edge), set()).add(c.from_lane)
    out = []
    for (fe, te), used in lanes.items():
        row: dict[str, Any] = {"from": link_of_edge[fe], "to": link_of_edge[te]}
        if groups.get((fe, te)):
            row["group"] = groups[(fe, te)]
        row["lanes"] = sorted(used)
        foes, on_red = yields.get((fe, te), ([], False))
        if foes:
            row["yield_to"] = [[link_of_edge[a], link_of_edge[b]] for a, b in foes]
        if on_red:
            row["on_red"] = "yield"
        out.append(row)
    return out
