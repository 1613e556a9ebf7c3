"""Emissions of simulated traffic: conservation, a hand-computed case, and stops cost CO2."""

from __future__ import annotations

import numpy as np
import pytest

from trafficsim.sim import World, compute, load_scenario
from trafficsim.sim.catalog import scenario_data
from trafficsim.sim.emissions import rate_table
from trafficsim.sim.scenario_io import scenario_from_dict


def test_totals_equal_the_sum_over_vehicles_links_classes_and_time() -> None:
    data, _ = scenario_data("isolated", {"duration_s": 2400.0})
    for d in data["demand"]:  # demand stops after 20 min, so every vehicle finishes
        d["profile"] = [[0.0, d.pop("flow_veh_per_h")], [1200.0, 0.0]]
    world = World(scenario_from_dict(data, "isolated-clearing"), 9)
    world.run()
    r = compute(world)
    s = r.summary
    assert s["vehicles_completed"] == s["vehicles_entered"] > 2000
    total_g = s["co2_kg"] * 1000.0
    assert np.nansum(r.vehicles["co2_g"]) == pytest.approx(total_g, rel=1e-6)
    assert sum(x["co2_kg"] for x in r.emissions.links) * 1000 == pytest.approx(total_g, rel=1e-6)
    assert sum(c["co2_kg"] for c in s["by_class"].values()) * 1000 == pytest.approx(
        total_g, rel=1e-5
    )
    assert r.emissions.series["co2_g"].sum() == pytest.approx(total_g, rel=1e-6)
    assert sum(s["co2_share_by_mode"].values()) == pytest.approx(1.0, abs=1e-3)
    assert np.nansum(r.vehicles["nox_g"]) == pytest.approx(s["nox_g"], rel=1e-5)


def test_hand_computed_cruise() -> None:
    """Cars 60 s apart through an uncontrolled node never wait: each emits exactly its
    cruise rate at 36 km/h (10 m/s, a grid point of the table) for 500 m / 10 m/s = 50 s."""
    data = {
        "scenario": {"name": "cruise", "duration_s": 1800.0, "fleet": "hbefa4"},
        "link_defaults": {"lanes": 1, "speed_kmh": 36.0},
        "nodes": [
            {"id": "A", "kind": "boundary"},
            {"id": "U", "kind": "uncontrolled"},
            {"id": "B", "kind": "boundary"},
        ],
        "links": [
            {"id": "A-U", "from": "A", "to": "U", "length_m": 300.0},
            {"id": "U-B", "from": "U", "to": "B", "length_m": 200.0},
        ],
        "movements": [{"from": "A-U", "to": "U-B", "share": 1.0}],
        "demand": [{"link": "A-U", "flow_veh_per_h": 60.0, "mix": "cars", "arrivals": "uniform"}],
    }
    world = World(scenario_from_dict(data, "cruise"), 0)
    world.run()
    r = compute(world)
    expected_g = float(rate_table("car", "co2")[40, 50]) * 50.0 / 1000.0
    done = ~np.isnan(r.vehicles["co2_g"])
    assert done.sum() == 29  # arrivals at 30 s, 90 s, ...; the one at 1770 s is still driving
    assert np.allclose(r.vehicles["co2_g"][done], expected_g, rtol=1e-9)
    assert r.summary["co2_share_by_mode"]["cruise"] == pytest.approx(1.0)
    assert r.summary["mean_stops"] == 0.0


def test_more_stops_emit_more_per_vehicle_km() -> None:
    out = []
    for green_ns, green_ew in ((45.0, 9.0), (9.0, 45.0)):
        sc = load_scenario(
            "isolated",
            {
                "flow_ns_veh_per_h": 1500.0,
                "flow_ew_veh_per_h": 0.0,
                "green_ns_s": green_ns,
                "green_ew_s": green_ew,
                "duration_s": 3600.0,
            },
        )
        w = World(sc, 4)
        w.run()
        out.append(compute(w).summary)
    few, many = out
    assert many["mean_stops"] > few["mean_stops"] + 0.3
    assert many["co2_g_per_km"] > 1.05 * few["co2_g_per_km"]
    assert many["co2_share_by_mode"]["idle"] > few["co2_share_by_mode"]["idle"]


def test_fleet_switch_changes_motorcycles_only() -> None:
    sc = load_scenario("isolated", {"duration_s": 900.0})
    w = World(sc, 2)
    w.run()
    vn = compute(w, fleet="vn").summary
    eu = compute(w, fleet="hbefa4").summary
    assert vn["emissions_fleet"] == "vn" and eu["emissions_fleet"] == "hbefa4"
    assert vn["by_class"]["motorcycle"]["co2_kg"] > 1.1 * eu["by_class"]["motorcycle"]["co2_kg"]
    assert vn["by_class"]["car"]["co2_kg"] == eu["by_class"]["car"]["co2_kg"]
