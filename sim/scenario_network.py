"""The road network of a scenario file: ``[[nodes]]``, ``[[links]]``, ``[[movements]]``
(``[[signals]]``: :mod:`~trafficsim.sim.scenario_signals`).

Each part is checked against the ones before it (a link's ends are known nodes, a movement
joins two links that meet), so a mistake is reported where it is made, with the fix,
rather than surfacing later as a vehicle with nowhere to go. Speeds given in km/h become
m/s here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trafficsim.sim.config import LinkSpec, MovementSpec, NodeKind, NodeSpec
from trafficsim.sim.fields import FieldReader, describe
from trafficsim.sim.limits import check_id
from trafficsim.sim.scenario_movements import (
    PRIORITY_KEYS,
    read_lane_fields,
    read_priority_fields,
    resolve_priorities,
)
from trafficsim.sim.units import kmh_to_mps

_LINK_DEFAULT_KEYS = {"lanes", "speed_kmh", "sat_flow_pcu_per_h_per_lane", "length_m"}


def read_nodes(r: FieldReader, data: Mapping[str, Any]) -> tuple[NodeSpec, ...]:
    out = []
    seen: set[str] = set()
    kinds = [k.value for k in NodeKind]
    for p, row in r.rows(data, "nodes", {"id", "kind", "x_m", "y_m"}, required=True):
        nid = r.unique(check_id(r, r.string(row, "id", p), f"{p}.id"), seen, f"{p}.id", "node")
        kind = r.string(row, "kind", p)
        if kind not in kinds:
            raise r.fail(f"{p}.kind", f"expected one of {kinds}, got {kind!r}")
        out.append(
            NodeSpec(
                id=nid,
                kind=NodeKind(kind),
                x_m=r.number(row, "x_m", p, "metres", 0.0, minimum=None),
                y_m=r.number(row, "y_m", p, "metres", 0.0, minimum=None),
            )
        )
    return tuple(out)


def read_links(
    r: FieldReader, data: Mapping[str, Any], node_kind: dict[str, NodeKind]
) -> tuple[LinkSpec, ...]:
    """Links, each field falling back to ``[link_defaults]``."""
    defaults = r.table(data, "link_defaults", "", required=False)
    r.check_keys(defaults, "link_defaults", _LINK_DEFAULT_KEYS)
    out = []
    seen: set[str] = set()
    keys = {"id", "from", "to", "name", "shape", "road_class"} | _LINK_DEFAULT_KEYS
    for p, row in r.rows(data, "links", keys, required=True):
        lid = r.unique(check_id(r, r.string(row, "id", p), f"{p}.id"), seen, f"{p}.id", "link")
        ends = []
        for key in ("from", "to"):
            nid = r.string(row, key, p)
            if nid not in node_kind:
                raise r.fail(f"{p}.{key}", f"unknown node {nid!r}; define it in [[nodes]]")
            ends.append(nid)
        if ends[0] == ends[1]:
            raise r.fail(f"{p}.to", "a link must join two different nodes")
        merged = {**defaults, **row}
        out.append(
            LinkSpec(
                id=lid,
                from_node=ends[0],
                to_node=ends[1],
                length_m=r.number(merged, "length_m", p, "metres"),
                lanes=r.integer(merged, "lanes", p),
                free_speed_mps=kmh_to_mps(r.number(merged, "speed_kmh", p, "km/h")),
                sat_flow_pcu_per_h_per_lane=r.number(
                    merged, "sat_flow_pcu_per_h_per_lane", p, "PCU per hour per lane", 1800.0
                ),
                name=r.string(row, "name", p, "") if "name" in row else "",
                shape_m=_shape(r, row, p),
                road_class=r.string(row, "road_class", p, "") if "road_class" in row else "",
            )
        )
    return tuple(out)


def _shape(r: FieldReader, row: Mapping[str, Any], p: str) -> tuple[tuple[float, float], ...]:
    """A link's optional ``shape``: at least two [x_m, y_m] points (for maps)."""
    if "shape" not in row:
        return ()
    v = row["shape"]
    ok = (
        isinstance(v, list)
        and len(v) >= 2
        and all(
            isinstance(pt, list)
            and len(pt) == 2
            and all(
                isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
                for x in pt
            )
            for pt in v
        )
    )
    if not ok:
        raise r.fail(
            f"{p}.shape",
            "expected at least two [x_m, y_m] points, e.g. [[0, 0], [120.5, 3.2]], got "
            + describe(v),
        )
    return tuple((float(x), float(y)) for x, y in v)


def read_movements(
    r: FieldReader,
    data: Mapping[str, Any],
    links: dict[str, LinkSpec],
    node_kind: dict[str, NodeKind],
    nodes: Mapping[str, NodeSpec] | None = None,
) -> tuple[MovementSpec, ...]:
    """Turning movements, then the checks that need all of them (shares, lane groups, who
    yields to whom); ``nodes`` give positions for turn kinds (``sim.scenario_movements``)."""
    out: list[MovementSpec] = []
    allowed = {"from", "to", "share", "group", "lanes"} | PRIORITY_KEYS
    seen: dict[tuple[str, str], int] = {}
    for p, row in r.rows(data, "movements", allowed, required=False):
        ends = []
        for key in ("from", "to"):
            lid = r.string(row, key, p)
            if lid not in links:
                raise r.fail(f"{p}.{key}", f"unknown link {lid!r}; define it in [[links]]")
            ends.append(links[lid])
        a, b = ends
        if a.to_node != b.from_node:
            raise r.fail(
                f"{p}.to",
                f"link {b.id!r} starts at {b.from_node!r} but {a.id!r} ends at {a.to_node!r}; "
                "a movement joins a link to one that leaves the node it enters",
            )
        if (a.id, b.id) in seen:
            raise r.fail(
                f"{p}.to",
                f"the movement from {a.id!r} to {b.id!r} is already movements"
                f"[{seen[(a.id, b.id)]}]; give it once",
            )
        seen[(a.id, b.id)] = len(out)
        kind = node_kind[a.to_node]
        if kind is NodeKind.BOUNDARY:
            raise r.fail(
                f"{p}.from",
                f"link {a.id!r} ends at boundary node {a.to_node!r}: "
                "vehicles leave the network there, so it has no movements",
            )
        group = row.get("group")
        if kind is NodeKind.SIGNAL:
            group = r.string(row, "group", p)
        elif group is not None:
            raise r.fail(f"{p}.group", f"node {a.to_node!r} is not signalized; remove 'group'")
        lanes, lane_indices = read_lane_fields(r, row, p, a)
        out.append(
            MovementSpec(
                from_link=a.id,
                to_link=b.id,
                share=(
                    r.number(row, "share", p, "fraction of the link's vehicles", maximum=1.0)
                    if "share" in row
                    else None
                ),
                signal_group=group,
                lanes=lanes,
                lane_indices=lane_indices,
                **read_priority_fields(r, row, p, kind),
            )
        )
    _check_movements_per_link(r, tuple(out), links, node_kind)
    return resolve_priorities(r, tuple(out), links, node_kind, nodes)


def _check_movements_per_link(
    r: FieldReader,
    movements: tuple[MovementSpec, ...],
    links: dict[str, LinkSpec],
    node_kind: dict[str, NodeKind],
) -> None:
    """A link with several lane groups needs each group's lane count. (Shares are checked
    once the demand is known, where turn-share vehicles can go: ``sim.turn_shares``.)"""
    by_link: dict[str, list[tuple[int, MovementSpec]]] = {}
    for i, m in enumerate(movements):
        by_link.setdefault(m.from_link, []).append((i, m))
    for lid, ln in links.items():
        if node_kind[ln.to_node] is NodeKind.BOUNDARY:
            continue
        moves = by_link.get(lid)
        if not moves:
            continue
        indexed = [m.lane_indices is not None for _, m in moves]
        if any(indexed):
            if not all(indexed):
                i = next(i for i, m in moves if m.lane_indices is None)
                raise r.fail(
                    f"movements[{i}].lanes",
                    f"other movements of link {lid!r} name their lanes (lanes = [...]); "
                    "name this one's too (0 = rightmost)",
                )
            continue  # movements of one group may use different lanes
        groups: dict[str | None, set[int | None]] = {}
        for _, m in moves:
            groups.setdefault(m.signal_group, set()).add(m.lanes)
        if len(groups) > 1:
            for i, m in moves:
                if m.lanes is None:
                    raise r.fail(
                        f"movements[{i}].lanes",
                        f"link {lid!r} has several signal groups, so each movement "
                        "must say how many lanes its lane group has",
                    )
        for g, lane_set in groups.items():
            if len(lane_set) > 1:
                raise r.fail(
                    f"movements[{moves[0][0]}].lanes",
                    f"movements of link {lid!r} in group {g!r} share one lane group "
                    f"but give different lane counts {sorted(x or 0 for x in lane_set)}",
                )
