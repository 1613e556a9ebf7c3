"""The importers' small parts: ids, the TOML writer, UTM, signal displays, default demand."""

from __future__ import annotations

import tomllib
from datetime import datetime

import pytest

from trafficsim.sim.config import Phase, SignalPlan
from trafficsim.sim.interop.default_demand import class_factor
from trafficsim.sim.interop.ids import IdMap
from trafficsim.sim.interop.signal_display import Display, display_cycle
from trafficsim.sim.interop.toml_text import dumps
from trafficsim.sim.interop.utm import utm_to_lon_lat, utm_zone
from trafficsim.sim.limits import ID_PATTERN


def test_ids_follow_the_rule_and_never_collide() -> None:
    ids = IdMap()
    a, b = ids("28198821#3"), ids("28198821_3")
    long = ids("cluster_" + "_".join(str(k) for k in range(40)))
    assert a == "28198821_3" and b != a and ID_PATTERN.fullmatch(b)
    assert ID_PATTERN.fullmatch(long) and len(long) <= 64
    assert ids("28198821#3") == a  # the same source id, the same scenario id
    assert ids.changed == 3 and ids.example == ("28198821#3", "28198821_3")
    assert ids.reserve(a) != a


START = datetime(2026, 3, 2, 7)  # noqa: DTZ001 - TOML's local date-time


def test_the_toml_writer_reads_back_exactly() -> None:
    data = {
        "scenario": {"name": 'a "b"', "duration_s": 3600.0, "start_time": START},
        "link_defaults": {"sat_flow_pcu_per_h_per_lane": 1976},
        "links": [{"id": "x", "shape": [[0.0, 1.5], [2.0, -3.0]], "name": "Lê Duẩn"}],
        "signals": [{"node": "J", "stages": [{"duration_s": 30.0, "green": ["g0"], "yellow": []}]}],
        "movements": [{"from": "x", "to": "y", "yield_to": [["a", "b"]], "lanes": [0, 1]}],
    }
    text = dumps(data)
    assert "shape = [[0.0, 1.5], [2.0, -3.0]]" in text
    back = tomllib.loads(text)
    assert back == data


def test_utm_inverse_on_points_whose_coordinates_are_known() -> None:
    # The central meridian of zone 31 at the equator, and 45 N on it: k0 x the meridian arc
    # of WGS84 to 45 degrees (4,984,944.38 m).
    assert utm_to_lon_lat(500_000.0, 0.0, 31, False) == pytest.approx((3.0, 0.0), abs=1e-9)
    lon, lat = utm_to_lon_lat(500_000.0, 0.9996 * 4_984_944.38, 31, False)
    assert (lon, lat) == pytest.approx((3.0, 45.0), abs=1e-6)
    # South of the equator: the false northing.
    lon, lat = utm_to_lon_lat(500_000.0, 10_000_000.0 - 0.9996 * 4_984_944.38, 31, True)
    assert lat == pytest.approx(-45.0, abs=1e-6)
    # 100 km east of the meridian at the equator is about 0.9 degrees (sphere: 0.8987).
    lon, _ = utm_to_lon_lat(600_000.0, 0.0, 31, False)
    assert 3.89 < lon < 3.91
    assert utm_zone("+proj=utm +zone=48 +ellps=WGS84 +datum=WGS84 +units=m +no_defs") == (48, False)
    assert utm_zone("!") is None


def test_a_phase_plan_shows_green_yellow_and_all_red_per_group() -> None:
    plan = SignalPlan(
        phases=(Phase(("a",), 27.0, 3.0, 1.0), Phase(("b", "c"), 20.0, 3.0, 0.0)), offset_s=5
    )
    cycle = display_cycle(plan)
    assert [d for d, _ in cycle] == [27.0, 3.0, 1.0, 20.0, 3.0]
    assert cycle[1][1] == {"a": Display.YELLOW}
    assert cycle[2][1] == {}
    assert cycle[3][1] == {"b": Display.GREEN, "c": Display.GREEN}


def test_road_classes_weigh_the_default_demand() -> None:
    assert class_factor("highway.primary") == 1.0
    assert class_factor("highway.secondary_link") == 0.8
    assert class_factor("highway.residential|railway.tram") == 0.3
    assert class_factor("") == 0.3


def test_yields_only_where_movements_meet_and_never_in_a_circle() -> None:
    from trafficsim.sim.interop.report import ImportReport
    from trafficsim.sim.interop.right_of_way import break_circles, meet

    assert meet("gGrr", "GGrr") and not meet("ggrr", "rrGG")
    assert meet("srGr", "Grrr")  # a right turn on red against the green it gives way to
    # Right before left at a four-way junction: each approach gives way to the next.
    n, e, s, w = ("n", "x"), ("e", "x"), ("s", "x"), ("w", "x")
    yields = {n: [w], e: [n], s: [e], w: [s]}
    rank = {n: (-3.0, 0, 0), e: (-1.0, 0, 1), s: (-1.0, 0, 2), w: (-1.0, 0, 3)}
    report = ImportReport("test")
    break_circles(yields, lambda m: rank[m], report)
    assert yields == {n: [], e: [n], s: [e], w: [s]}  # the major road keeps priority
    assert "skipped 1 yields" in "\n".join(report.lines())
