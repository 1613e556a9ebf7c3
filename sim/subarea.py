"""A sub-area of a scenario's network: the junctions inside a box, the links that touch them,
and zones at the new cordon.

As SUMO's ``cutRoutes`` and every cordon study do, the links crossing the box's edge are
kept whole: one whose upstream junction lies outside becomes an entry from a boundary node
there, one whose downstream junction lies outside an exit. Movements, signals and their
plans of the junctions inside stay as they are (every link at such a junction is kept, so
no signal group loses its movements). The zones are new: the entries and exits in four
sectors around the box's centre, weighed as the importer's fringe
(:mod:`~trafficsim.sim.interop.default_demand`: lanes x road-class factor), and interior
zones of the streets inside, only where trips can reach them (the largest strongly
connected set of links).
"""

from __future__ import annotations

import copy
from typing import Any

from trafficsim.sim.core_speed import Box
from trafficsim.sim.geo import lon_lat
from trafficsim.sim.interop.default_demand import (
    SECTORS,
    class_factor,
    interior_zones,
    largest_component,
    reaching,
    reverse,
    sector,
)


def cut(data: dict[str, Any], box: Box, interior_cells: int) -> dict[str, Any]:
    """``data`` (TOML-shaped, with ``nodes``, ``links``, ``movements``, ``signals``) cut to
    ``box``; ``zones`` replaced by the cordon's and ``interior_cells`` x ``interior_cells``
    interior ones, any demand dropped."""
    head = data["scenario"]
    lat0, lon0 = head["origin_lat"], head["origin_lon"]
    where = {n["id"]: n for n in data["nodes"]}

    def ll(node: str) -> tuple[float, float]:
        n = where[node]
        return lon_lat(lat0, lon0, n.get("x_m", 0.0), n.get("y_m", 0.0))

    inside = {
        n["id"]
        for n in data["nodes"]
        if n["kind"] != "boundary" and box.holds(ll(n["id"])[1], ll(n["id"])[0])
    }
    links = [ln for ln in data["links"] if ln["from"] in inside or ln["to"] in inside]
    touched = {ln["from"] for ln in links} | {ln["to"] for ln in links}
    nodes = []
    for n in data["nodes"]:
        if n["id"] in touched:
            n = dict(n)
            if n["id"] not in inside:
                n["kind"] = "boundary"
            nodes.append(n)
    kept = {ln["id"] for ln in links}
    by_id = {ln["id"]: ln for ln in links}
    movements = [
        m
        for m in data["movements"]
        if m["from"] in kept and m["to"] in kept and by_id[m["from"]]["to"] in inside
    ]
    replaced = ("nodes", "links", "movements", "signals", "zones", "od", "demand")
    out = {k: copy.deepcopy(v) for k, v in data.items() if k not in replaced}
    out.update(
        nodes=nodes,
        links=copy.deepcopy(links),
        movements=copy.deepcopy(movements),
        signals=[copy.deepcopy(s) for s in data.get("signals", []) if s["node"] in inside],
    )
    out["zones"] = _cordon_zones(out, inside, ll, box) + interior_zones(out, interior_cells)
    return out


def _cordon_zones(
    data: dict[str, Any], inside: set[str], ll: Any, box: Box
) -> list[dict[str, Any]]:
    succ: dict[str, list[str]] = {}
    for m in data["movements"]:
        succ.setdefault(m["from"], []).append(m["to"])
    core = largest_component(succ)
    into_core = reaching(core, reverse(succ))
    from_core = reaching(core, succ)
    # Sectors around the box's centre in degrees (the cosine of the latitude, 0.98 here,
    # ignored: the box is small).
    cx, cy = (box.west + box.east) / 2, (box.south + box.north) / 2
    rows: dict[str, list[tuple[str, float]]] = {}
    for ln in data["links"]:
        w = ln["lanes"] * class_factor("highway." + ln.get("road_class", ""))
        if ln["from"] not in inside and ln["id"] in into_core:
            rows.setdefault(sector(ll(ln["from"]), cx, cy) + "-in", []).append((ln["id"], w))
        if ln["to"] not in inside and ln["id"] in from_core:
            rows.setdefault(sector(ll(ln["to"]), cx, cy) + "-out", []).append((ln["id"], w))
    return [
        {"id": z, "links": [r[0] for r in rows[z]], "weights": [round(r[1], 3) for r in rows[z]]}
        for s in SECTORS
        for z in (f"{s}-in", f"{s}-out")
        if z in rows
    ]
