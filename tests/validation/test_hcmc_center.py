"""The HCMC centre scenario: its network, its calibration, and the closed loop on it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from trafficsim.runner.closed_loop import LoopOptions, run_closed_loop
from trafficsim.sim import World, compute, load_scenario, lon_lat
from trafficsim.sim.config import NodeKind

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("hcmc-center")


def test_network_has_the_central_arterials_and_their_one_way_streets(scenario) -> None:
    signals = [n for n in scenario.nodes if n.kind is NodeKind.SIGNAL]
    assert len(signals) >= 20
    for n in scenario.nodes:  # inside central HCMC (Districts 1 and 3)
        lon, lat = lon_lat(scenario.origin_lat, scenario.origin_lon, n.x_m, n.y_m)
        assert 10.765 < lat < 10.795 and 106.680 < lon < 106.708, n.id
    nodes = {n.id: n for n in scenario.nodes}

    # The grid is rotated 45 degrees: a direction is the signs of its east and north steps.
    def on(street: str, node: str) -> bool:
        """Node ids are street-avenue, or street-end-a/b."""
        return node.startswith(street + "-") or node.endswith("-" + street)

    def directions(street: str) -> set[tuple[bool, bool]]:
        out = set()
        for ln in scenario.links:
            if on(street, ln.from_node) and on(street, ln.to_node):
                a, b = nodes[ln.from_node], nodes[ln.to_node]
                out.add((b.x_m > a.x_m, b.y_m > a.y_m))
        return out

    nw, se, ne, sw = (False, True), (True, False), (True, True), (False, False)
    assert directions("hbt") == {nw} and directions("pas") == {nw}
    assert directions("nkkn") == {se}
    assert directions("dbp") == {sw}
    assert directions("ntmk") == {ne, sw} and directions("cmt8") == {nw, se}
    assert directions("ld") == {ne, sw}


def test_the_file_in_the_repository_is_the_built_in(scenario) -> None:
    from_file = load_scenario(str(REPO / "scenarios" / "hcmc-center.toml"))
    assert dataclasses.replace(from_file, source="") == dataclasses.replace(scenario, source="")


def test_fixed_time_baseline_is_inside_the_reported_peak_speed_range(scenario) -> None:
    """scripts/calibrate_hcmc_center.py: AM peak 18-21 km/h (HCMC DOT), off-peak ~20.9."""
    for seed in (0, 1):
        world = World(scenario, seed)
        world.run()
        s = compute(world).summary
        assert 18.0 <= s["network_speed_kmh"] <= 21.0, (seed, s["network_speed_kmh"])
        assert s["vehicles_waiting_to_enter"] <= 0.001 * s["vehicles_generated"]  # no gridlock
    p = dict(scenario.parameters)
    off = load_scenario("hcmc-center", {"demand_scale": 0.6 * float(p["demand_scale"])})
    world = World(off, 0)
    world.run()
    assert compute(world).summary["network_speed_kmh"] == pytest.approx(20.9, abs=0.5)


def test_every_controller_runs_its_cabinets_on_it_without_rejections() -> None:
    sc = load_scenario("hcmc-center", {"duration_s": 900.0})
    for controller in ("actuated", "max-pressure", "predictive"):
        _, stats = run_closed_loop(sc, 0, LoopOptions(controller=controller))
        assert stats.commands > 0 and stats.rejected == 0, controller
