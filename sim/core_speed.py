"""Space-mean speed on a network's main roads by time of day, as route planners measure it.

The observed speeds of the HCMC core (HCMC_FACTS row 21) are car driving times between major
intersections: the sum of the routes' distances over the sum of their times, every signal's
delay included. The model's counterpart is the same ratio over the vehicles on the main
roads inside the observed box, in Edie's form for a time window: the distance they drove
there in the window over the time they spent there (the waits at the signals included).
Over every link and the whole run it is ``network_speed_kmh`` of ``summary.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trafficsim.sim.config import Scenario
from trafficsim.sim.geo import lon_lat
from trafficsim.sim.units import mps_to_kmh
from trafficsim.sim.world import ON_LINKS, World

MAIN_ROAD_CLASSES = ("trunk", "primary", "secondary", "tertiary")
"""OpenStreetMap classes of the roads between the observation's major intersections (and
their ``_link`` ramps): the routes of row 21 run along them."""


@dataclass(frozen=True, slots=True)
class Box:
    """A WGS84 box, degrees."""

    south: float
    west: float
    north: float
    east: float

    def holds(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


ROW_21_BOX = Box(10.770, 106.680, 10.796, 106.706)
"""The D1/D3 core box of the observed routes (HCMC_FACTS row 21)."""


def main_links(
    sc: Scenario, box: Box = ROW_21_BOX, classes: Sequence[str] = MAIN_ROAD_CLASSES
) -> frozenset[str]:
    """Links of the main road classes with both ends inside ``box``."""
    where = {n.id: lon_lat(sc.origin_lat, sc.origin_lon, n.x_m, n.y_m) for n in sc.nodes}
    wanted = set(classes)

    def inside(node: str) -> bool:
        lon, lat = where[node]
        return box.holds(lat, lon)

    return frozenset(
        ln.id
        for ln in sc.links
        if ln.road_class.removesuffix("_link") in wanted
        and inside(ln.from_node)
        and inside(ln.to_node)
    )


@dataclass(frozen=True, slots=True)
class WindowSpeed:
    start_s: float
    end_s: float
    speed_kmh: float | None
    """None: no vehicle was on the links in the window."""
    vehicle_km: float
    passes: int


def speeds_by_window(
    world: World, links: frozenset[str], windows: Sequence[tuple[float, float]]
) -> list[WindowSpeed]:
    """Edie's space-mean speed on ``links`` in each window ``[start_s, end_s)`` (cut at the
    world's time): the distance driven on them inside the window over the time spent on
    them inside it, each pass driving its link from entering to reaching the stop line and
    then waiting there until it leaves. Passes still on a link count up to now, so a jam
    slows the figure instead of hiding from it."""
    info = world.lane_group_info
    chosen = np.array([i.link in links and i.kind in ON_LINKS for i in info], dtype=bool)
    length = np.array([i.length_m for i in info])
    rec = world.records()
    now = world.now_s
    sel = chosen[rec["lane_group"]] & (rec["t_in_s"] < now) if len(rec) else np.zeros(0, bool)
    lg = rec["lane_group"][sel]
    t_in, t_stop = rec["t_in_s"][sel], rec["t_stop_s"][sel]
    t_out = np.minimum(rec["t_dep_s"][sel], now)
    drive = np.maximum(t_stop - t_in, 1e-9)
    out = []
    for a, b in windows:
        lo, hi = a, min(b, now)
        on = np.clip(np.minimum(t_out, hi) - np.maximum(t_in, lo), 0.0, None)
        end = np.minimum(np.minimum(t_stop, t_out), hi)
        driving = np.clip(end - np.maximum(t_in, lo), 0.0, None)
        dist_m = float((length[lg] * driving / drive).sum())
        time_s = float(on.sum())
        speed = round(mps_to_kmh(dist_m / time_s), 3) if time_s > 0 else None
        out.append(WindowSpeed(a, b, speed, round(dist_m / 1000.0, 3), int((on > 0).sum())))
    return out
