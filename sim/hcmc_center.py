"""The built-in ``hcmc-center`` scenario: central arterials of Districts 1 and 3, Ho Chi Minh
City, in the morning peak (06:30-09:00).

Geometry is idealised and every number that is not sourced is a parameter or a row of the
tables below (docs/hcmc-center.md lists them all):

- The streets of the centre form two families of roughly parallel streets, one running
  south-east to north-west (away from the Saigon River: Đinh Tiên Hoàng, Hai Bà Trưng,
  Pasteur, Nam Kỳ Khởi Nghĩa, Cách Mạng Tháng Tám) and one south-west to north-east
  (Lý Tự Trọng, Lê Duẩn, Nguyễn Thị Minh Khai, Điện Biên Phủ, Võ Thị Sáu). The model puts
  them on a grid rotated 45 degrees with block lengths typical of the area (ASSUMPTION:
  positions within about 200 m of the real intersections; not surveyed).
- One-way streets: Hai Bà Trưng and Pasteur north-west-bound, Nam Kỳ Khởi Nghĩa south-east-
  bound, Lý Tự Trọng north-east-bound, as the official detours of the 2025 Áo Dài festival
  (SGGP, 2025-03-08) route traffic along them; Điện Biên Phủ one-way south-west-bound is an
  ASSUMPTION from general knowledge; the others two-way (ASSUMPTION for Võ Thị Sáu and Đinh
  Tiên Hoàng).
- Lanes per direction, the fixed-time plans (a common cycle, greens in proportion to the
  lanes of each axis, no offsets) and the demand shape are ASSUMPTIONS.
- The vehicle mix is the HCMC mix of the other built-ins (docs/sources.md); the demand
  level (``demand_scale``) is calibrated by ``scripts/calibrate_hcmc_center.py`` so that the
  network's mean speed under the fixed-time plans lies in the 18-21 km/h that HCMC DOT
  reports for the centre at peak (HCMC_FACTS row 7: AM peak 19 km/h in Dec 2016, 20.7 km/h
  in another DOT statistic).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

ORIGIN_LAT, ORIGIN_LON = 10.7795, 106.6937
"""Where the model's origin (Nam Kỳ Khởi Nghĩa x Nguyễn Thị Minh Khai) sits; ASSUMPTION,
approximate WGS84 position of that intersection."""


@dataclass(frozen=True, slots=True)
class Street:
    id: str
    name: str
    position_m: float  # across the family: u for SE-NW streets, v for SW-NE avenues
    lanes: int  # per direction
    oneway: int  # 0 two-way, +1 towards increasing position along it, -1 the other way
    span: tuple[str, ...] = ()  # the crossing streets it meets, in order; () = all


# South-east -> north-west streets; ``position_m`` along the avenues (north-east positive);
# +1 = north-west-bound.
STREETS = (
    Street("dth", "Đinh Tiên Hoàng", 950.0, 2, 0, ("ld", "ntmk", "dbp", "vts")),
    Street("hbt", "Hai Bà Trưng", 550.0, 4, +1),
    Street("pas", "Pasteur", 250.0, 3, +1),
    Street("nkkn", "Nam Kỳ Khởi Nghĩa", 0.0, 4, -1),
    Street("cmt8", "Cách Mạng Tháng Tám", -700.0, 3, 0, ("ntmk", "dbp", "vts")),
)
# South-west -> north-east avenues; ``position_m`` along the streets (north-west positive);
# +1 = north-east-bound.
AVENUES = (
    Street("ltt", "Lý Tự Trọng", -550.0, 3, +1, ("nkkn", "pas", "hbt")),
    Street("ld", "Lê Duẩn", -300.0, 3, 0, ("nkkn", "pas", "hbt", "dth")),
    Street("ntmk", "Nguyễn Thị Minh Khai", 0.0, 2, 0),
    Street("dbp", "Điện Biên Phủ", 450.0, 4, -1),
    Street("vts", "Võ Thị Sáu", 800.0, 2, 0),
)

_C = math.sqrt(0.5)


def _xy(u: float, v: float) -> tuple[float, float]:
    """Metres east and north of the origin: u along the avenues (towards the north-east),
    v along the streets (towards the north-west)."""
    return (u * _C - v * _C, u * _C + v * _C)


def _crossings() -> list[tuple[str, str]]:
    """(street id, avenue id) of every signalized intersection."""
    out = []
    for s in STREETS:
        for a in AVENUES:
            if (not s.span or a.id in s.span) and (not a.span or s.id in a.span):
                out.append((s.id, a.id))
    return out


def build_hcmc_center(p: dict[str, Any]) -> dict[str, Any]:
    streets = {s.id: s for s in STREETS}
    avenues = {a.id: a for a in AVENUES}
    crossings = _crossings()
    end_m = float(p["approach_length_m"])
    nodes: dict[str, dict[str, Any]] = {}
    # Each street (or avenue) as its ordered list of nodes, boundary to boundary.
    lines: dict[str, list[str]] = {}
    axis: dict[str, str] = {}
    for fam, others, is_street in ((STREETS, avenues, True), (AVENUES, streets, False)):
        for s in fam:
            cross = [
                o for o in others.values() if (s.id, o.id) in crossings or (o.id, s.id) in crossings
            ]
            cross.sort(key=lambda o: o.position_m)
            seq: list[tuple[float, str]] = []
            for o in cross:
                nid = f"{s.id}-{o.id}" if is_street else f"{o.id}-{s.id}"
                u, v = (s.position_m, o.position_m) if is_street else (o.position_m, s.position_m)
                x, y = _xy(u, v)
                nodes[nid] = {"id": nid, "kind": "signal", "x_m": round(x, 1), "y_m": round(y, 1)}
                seq.append((o.position_m, nid))
            first, last = cross[0].position_m - end_m, cross[-1].position_m + end_m
            ends = []
            for tag, pos in (("a", first), ("b", last)):
                u, v = (s.position_m, pos) if is_street else (pos, s.position_m)
                x, y = _xy(u, v)
                bid = f"{s.id}-end-{tag}"
                nodes[bid] = {"id": bid, "kind": "boundary", "x_m": round(x, 1), "y_m": round(y, 1)}
                ends.append(bid)
            lines[s.id] = [ends[0], *[n for _, n in seq], ends[1]]
            axis[s.id] = "S" if is_street else "A"
    links: list[dict[str, Any]] = []
    by_node_in: dict[str, list[dict[str, Any]]] = {}
    by_node_out: dict[str, list[dict[str, Any]]] = {}
    speed = float(p["speed_kmh"])
    for sid, node_seq in lines.items():
        s = streets.get(sid) or avenues[sid]
        directions = [+1, -1] if s.oneway == 0 else [s.oneway]
        for d in directions:
            path = node_seq if d > 0 else node_seq[::-1]
            for a, b in itertools.pairwise(path):  # node ids
                na, nb = nodes[a], nodes[b]
                length = math.hypot(nb["x_m"] - na["x_m"], nb["y_m"] - na["y_m"])
                link: dict[str, Any] = {
                    "id": f"{a}_{b}",
                    "from": a,
                    "to": b,
                    "length_m": round(length, 1),
                    "lanes": s.lanes,
                    "speed_kmh": speed,
                    "_street": sid,
                    "_dir": (nb["x_m"] - na["x_m"], nb["y_m"] - na["y_m"]),
                }
                links.append(link)
                by_node_in.setdefault(b, []).append(link)
                by_node_out.setdefault(a, []).append(link)
    moves = []
    through, turn = float(p["through_share"]), (1.0 - float(p["through_share"])) / 2.0
    for node, ins in by_node_in.items():
        if nodes[node]["kind"] != "signal":
            continue
        for lin in ins:
            options = []
            for lout in by_node_out.get(node, []):
                if lout["to"] == lin["from"]:
                    continue  # no U-turns
                dx1, dy1 = lin["_dir"]
                dx2, dy2 = lout["_dir"]
                cross = dx1 * dy2 - dy1 * dx2
                kind = (
                    "through"
                    if lout["_street"] == lin["_street"]
                    else ("left" if cross > 0 else "right")
                )
                options.append((lout, through if kind == "through" else turn))
            total = sum(w for _, w in options)
            for lout, w in options:
                moves.append(
                    {
                        "from": lin["id"],
                        "to": lout["id"],
                        "share": round(w / total, 6),
                        "group": axis[lin["_street"]],
                    }
                )
    _normalise(moves)  # the shares of a link sum to exactly 1
    cycle = float(p["cycle_s"])
    yellow, all_red = float(p["yellow_s"]), float(p["all_red_s"])
    signals = []
    for node, ins in sorted(by_node_in.items()):
        if nodes[node]["kind"] != "signal":
            continue
        lanes = {"A": 0, "S": 0}
        for lin in ins:
            g = axis[lin["_street"]]
            lanes[g] = max(lanes[g], lin["lanes"])
        groups = [g for g in ("A", "S") if lanes[g] > 0]
        green_total = cycle - len(groups) * (yellow + all_red)
        total_lanes = sum(lanes[g] for g in groups)
        signals.append(
            {
                "node": node,
                "offset_s": 0.0,
                "phases": [
                    {
                        "groups": [g],
                        "green_s": round(green_total * lanes[g] / total_lanes, 1),
                        "yellow_s": yellow,
                        "all_red_s": all_red,
                    }
                    for g in groups
                ],
            }
        )
    scale = float(p["demand_scale"])
    per_lane = float(p["entry_flow_veh_per_h_per_lane"])
    shape = PEAK_SHAPE
    demand = []
    for link in links:
        if nodes[link["from"]]["kind"] != "boundary":
            continue
        q = per_lane * link["lanes"] * scale
        demand.append(
            {
                "link": link["id"],
                "profile": [[t, round(q * f, 1)] for t, f in shape],
                "mix": p["mix"],
                "arrivals": p["arrivals"],
            }
        )
    for link in links:
        del link["_street"], link["_dir"]
    return {
        "scenario": {
            "name": "hcmc-center",
            "description": (
                "central arterials of Districts 1 and 3, Ho Chi Minh City, morning peak "
                "06:30-09:00, fixed-time signals (idealised geometry: docs/hcmc-center.md)"
            ),
            "duration_s": float(p["duration_s"]),
            "start_time": "2026-03-02T06:30:00+07:00",
            "origin_lat": ORIGIN_LAT,
            "origin_lon": ORIGIN_LON,
        },
        "parameters": {k: v for k, v in p.items() if k != "duration_s"},
        "link_defaults": {
            "sat_flow_pcu_per_h_per_lane": float(p["sat_flow_pcu_per_h_per_lane"]),
            "speed_kmh": speed,
            "lanes": 2,
        },
        "nodes": list(nodes.values()),
        "links": links,
        "movements": moves,
        "signals": signals,
        "demand": demand,
    }


PEAK_SHAPE = ((0.0, 0.6), (1800.0, 0.9), (3600.0, 1.0), (5400.0, 0.9), (7200.0, 0.7))
"""Demand over the morning peak relative to its 07:30-08:00 level (ASSUMPTION: a build-up
from 06:30, the peak hour 07:30-08:30, a decline to 09:00; no HCMC counts were found)."""


def _normalise(moves: list[dict[str, Any]]) -> None:
    by_from: dict[str, list[dict[str, Any]]] = {}
    for m in moves:
        by_from.setdefault(m["from"], []).append(m)
    for ms in by_from.values():
        rest = sum(m["share"] for m in ms[:-1])
        ms[-1]["share"] = round(1.0 - rest, 6)
