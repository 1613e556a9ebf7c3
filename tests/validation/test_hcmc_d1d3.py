"""``hcmc-d1d3``, the real District 1/3 core: the vendored network keeps OpenStreetMap's
facts, rebuilds byte for byte from the extract, and runs with its plans and demand."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trafficsim.sim import World, compute, load_scenario, lon_lat
from trafficsim.sim.config import NodeKind, Scenario
from trafficsim.sim.core_speed import main_links, speeds_by_window

REPO = Path(__file__).resolve().parents[2]
OSM_DIR = Path(
    os.environ.get("TRAFFICSIM_OSM_HCMC", REPO.parent / "shared" / "data" / "osm" / "hcmc_2018")
)
"""The 2018 extract beside the repository (``../shared``), or where the variable says."""
CORE_ROADS = OSM_DIR / "d1d3_core_2018_roads.osm"
VENDORED = REPO / "sim" / "data" / "hcmc_d1d3_network.toml"

DINH_TIEN_HOANG_LON = 106.6984
"""Links of Điện Biên Phủ starting west of this run towards Đinh Tiên Hoàng, which crosses it
at 106.6985 E; east of the crossing the street is two-way (OSM; the extract's README)."""


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario("hcmc-d1d3", {"duration_s": 600.0})


def _heading_deg(sc: Scenario, link_id: str) -> float:
    """Compass heading of a link from its first to its last shape point."""
    ln = next(x for x in sc.links if x.id == link_id)
    (xa, ya), (xb, yb) = ln.shape_m[0], ln.shape_m[-1]
    return math.degrees(math.atan2(xb - xa, yb - ya)) % 360.0


def _street(sc: Scenario, name: str, west_of: float = 180.0) -> list[tuple[float, float]]:
    """(heading, length) of every link of the named street inside the core, west of a
    longitude."""
    at = {n.id: (n.x_m, n.y_m) for n in sc.nodes}
    out = []
    for ln in sc.links:
        lon, lat = lon_lat(sc.origin_lat, sc.origin_lon, *at[ln.from_node])
        if ln.name == name and 10.770 <= lat <= 10.796 and 106.680 <= lon <= west_of:
            out.append((_heading_deg(sc, ln.id), ln.length_m))
    return out


def _share(links: list[tuple[float, float]], lo: float, hi: float) -> float:
    total = sum(length for _, length in links)
    return sum(length for h, length in links if lo <= h < hi) / total


def test_one_way_streets_run_as_in_openstreetmap(scenario: Scenario) -> None:
    dbp = _street(scenario, "Điện Biên Phủ", west_of=DINH_TIEN_HOANG_LON)
    assert sum(length for _, length in dbp) > 1000.0
    assert _share(dbp, 0.0, 90.0) == 1.0  # north-east-bound only
    vts = _street(scenario, "Võ Thị Sáu")
    assert _share(vts, 180.0, 270.0) == 1.0  # south-west-bound only
    three = sum(ln.length_m for ln in scenario.links if ln.name == "Võ Thị Sáu" and ln.lanes == 3)
    assert three > 0.7 * sum(length for _, length in vts)  # mostly 3 lanes
    assert _share(_street(scenario, "Pasteur"), 270.0, 360.0) == 1.0  # north-west-bound
    assert _share(_street(scenario, "Lý Tự Trọng"), 0.0, 90.0) == 1.0  # north-east-bound
    hbt = _street(scenario, "Hai Bà Trưng")  # two-way: both directions, about equally
    assert 0.4 < _share(hbt, 90.0, 180.0) < 0.6 and 0.4 < _share(hbt, 270.0, 360.0) < 0.6


def test_every_signal_street_name_and_coordinate_is_kept(scenario: Scenario) -> None:
    signals = [n for n in scenario.nodes if n.kind is NodeKind.SIGNAL]
    assert len(signals) == len(scenario.signals) == 89
    main = [ln for ln in scenario.links if ln.road_class in ("primary", "secondary", "tertiary")]
    assert sum(ln.length_m for ln in main if ln.name) > 0.99 * sum(ln.length_m for ln in main)
    assert sum(bool(ln.name) for ln in scenario.links) > 0.85 * len(scenario.links)
    assert all(len(ln.shape_m) >= 2 and ln.road_class for ln in scenario.links)
    for n in scenario.nodes:  # the extract's box (106.675-106.710 E, 10.765-10.800 N), its
        # ways complete: a way that leaves the box keeps its far end
        lon, lat = lon_lat(scenario.origin_lat, scenario.origin_lon, n.x_m, n.y_m)
        assert 10.70 < lat < 10.85 and 106.62 < lon < 106.76, n.id
        if n.kind is NodeKind.SIGNAL:
            assert 10.760 <= lat <= 10.805 and 106.670 <= lon <= 106.715, n.id
    streets = {ln.name for ln in scenario.links}
    assert {"Cách Mạng Tháng Tám", "Võ Thị Sáu", "Điện Biên Phủ", "Nam Kỳ Khởi Nghĩa"} <= streets
    # The Dân Chủ roundabout (Công Trường Dân Chủ), where Cách Mạng Tháng Tám meets Võ Thị
    # Sáu: a ring of one-way links.
    ring = [ln for ln in scenario.links if ln.name == "Công Trường Dân Chủ"]
    assert len(ring) >= 6
    ends = {ln.from_node for ln in ring} & {ln.to_node for ln in ring}
    assert len(ends) >= 4
    head = VENDORED.read_text(encoding="utf-8")[:2000]
    assert "© OpenStreetMap contributors" in head and "ODbL" in head


@pytest.mark.skipif(not CORE_ROADS.is_file(), reason="../shared/data/osm/hcmc_2018 is not here")
def test_lane_km_matches_the_extract(scenario: Scenario) -> None:
    """The lanes times the lengths of the extract's ways of the kept classes, counted here
    from the OSM file itself (lanes tags, else the type map's defaults per direction)."""
    osmium = pytest.importorskip("osmium")
    default = {"trunk": 2, "primary": 2, "secondary": 1, "tertiary": 1}  # osmNetconvert.typ.xml
    main = ("trunk", "primary", "secondary", "tertiary")
    totals = {"osm_main": 0.0, "osm_all": 0.0}
    for way in osmium.FileProcessor(str(CORE_ROADS)).with_locations():
        hw = way.tags.get("highway", "") if way.is_way() else ""
        kind = hw.removesuffix("_link")
        if kind not in (*main, "unclassified", "residential"):
            continue
        nodes = list(way.nodes)
        length = sum(
            6371008.8
            * math.hypot(
                math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2)),
                math.radians(b.lat - a.lat),
            )
            for a, b in itertools.pairwise(nodes)
        )
        per_dir = 1 if hw.endswith("_link") else default.get(kind, 1)
        oneway = way.tags.get("oneway") in ("yes", "1", "-1") or way.tags.get("junction") in (
            "roundabout",
            "circular",
        )
        tagged = way.tags.get("lanes", "")
        lanes = int(tagged) if tagged.isdigit() else (per_dir if oneway else 2 * per_dir)
        if not oneway:
            lanes = max(2, lanes)
        totals["osm_all"] += length * lanes
        if kind in main:
            totals["osm_main"] += length * lanes
    model_main = sum(
        ln.length_m * ln.lanes
        for ln in scenario.links
        if ln.road_class.removesuffix("_link") in main
    )
    model_all = sum(ln.length_m * ln.lanes for ln in scenario.links)
    assert model_main == pytest.approx(totals["osm_main"], rel=0.01)
    # Residential pieces that reach no other road (--remove-edges.isolated) or bar motor
    # vehicles are not in the network: a little less in all.
    assert model_all == pytest.approx(totals["osm_all"], rel=0.025)


@pytest.mark.skipif(not CORE_ROADS.is_file(), reason="../shared/data/osm/hcmc_2018 is not here")
def test_the_script_rebuilds_the_vendored_network_byte_for_byte(tmp_path: Path) -> None:
    pytest.importorskip("sumo")
    out = tmp_path / "net.toml"
    p = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_hcmc_d1d3.py"), "--osm", str(CORE_ROADS),
         "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert out.read_bytes() == VENDORED.read_bytes()


def test_todays_plans_share_a_90_s_cycle_by_lanes() -> None:
    today = load_scenario("hcmc-d1d3", {"duration_s": 60.0})
    netconvert = load_scenario("hcmc-d1d3", {"duration_s": 60.0, "plans": "netconvert"})
    links = {ln.id: ln for ln in today.links}
    lanes: dict[tuple[str, str], int] = {}  # (node, group): lanes of its widest approach
    for m in today.movements:
        ln = links[m.from_link]
        if m.signal_group is not None:
            key = (ln.to_node, m.signal_group)
            lanes[key] = max(lanes.get(key, 0), ln.lanes)
    wider_longer = 0
    for a, b in zip(today.signals, netconvert.signals, strict=True):
        assert a.node == b.node and b.plan.stages and not b.plan.phases
        assert a.plan.phases and a.plan.cycle_s == pytest.approx(90.0, abs=0.5)
        assert {g for ph in a.plan.phases for g in ph.groups} == {
            g for st in b.plan.stages for g in st.green
        }  # every group keeps a green
        mains = [st for st in b.plan.stages if st.green and not st.yellow]
        if len(a.plan.phases) == 2 and len({st.duration_s for st in mains}) == 1:
            x, y = a.plan.phases  # two equal greens in netconvert's program
            wx, wy = (max(lanes.get((a.node, g), 1) for g in ph.groups) for ph in (x, y))
            assert (x.green_s > y.green_s) == (wx > wy) or wx == wy, a.node
            wider_longer += wx != wy
            if wx == wy:
                assert x.green_s == pytest.approx(y.green_s)
    assert wider_longer > 10
    day = load_scenario("hcmc-d1d3", {"period": "day", "duration_s": 60.0})
    assert all(s.plan.cycle_s == pytest.approx(75.0, abs=0.5) for s in day.signals)


def test_width_based_saturation_flow() -> None:
    sc = load_scenario("hcmc-d1d3", {"duration_s": 60.0, "sat_flow": "width"})
    assert {ln.sat_flow_pcu_per_h_per_lane for ln in sc.links} == {2100.0}  # 600 x 3.5 m
    lanes = load_scenario("hcmc-d1d3", {"duration_s": 60.0})
    assert {ln.sat_flow_pcu_per_h_per_lane for ln in lanes.links} == {1800.0}


def test_the_peak_runs_with_fringe_and_interior_trips(scenario: Scenario) -> None:
    assert scenario.start_time.hour == 6 and scenario.start_time.minute == 30
    zones = {z.id for z in scenario.zones}
    assert sum(z.startswith("interior-") for z in zones) == 9
    world = World(scenario, 0)
    world.run()
    s = compute(world).summary
    assert s["vehicles_completed"] > 300
    speed = speeds_by_window(world, main_links(scenario), [(0.0, 300.0)])[0]
    assert speed.speed_kmh is not None and 5.0 < speed.speed_kmh < 40.0
    ods = {(o.from_zone, o.to_zone) for o in scenario.ods}
    assert ("north-in", "interior-r1c1") in ods and ("interior-r1c1", "south-out") in ods
