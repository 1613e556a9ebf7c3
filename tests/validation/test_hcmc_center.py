"""``hcmc-center``: the middle of the OpenStreetMap core, cut from ``hcmc-d1d3``, and the
closed loop on it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from trafficsim.runner.closed_loop import LoopOptions, run_closed_loop
from trafficsim.sim import World, compute, load_scenario, lon_lat
from trafficsim.sim.config import NodeKind, Scenario
from trafficsim.sim.hcmc_center import CENTER_BOX

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def center() -> Scenario:
    return load_scenario("hcmc-center", {"duration_s": 600.0})


@pytest.fixture(scope="module")
def core() -> Scenario:
    return load_scenario("hcmc-d1d3", {"duration_s": 600.0})


def test_it_is_the_core_cut_at_its_box(center: Scenario, core: Scenario) -> None:
    links = {ln.id: ln for ln in core.links}
    assert {ln.id for ln in center.links} < set(links)
    for ln in center.links:  # the same roads, names and shapes
        assert ln == links[ln.id]
    nodes = {n.id: n for n in core.nodes}
    inside = []
    for n in center.nodes:
        lon, lat = lon_lat(center.origin_lat, center.origin_lon, n.x_m, n.y_m)
        if CENTER_BOX.holds(lat, lon):
            assert n.kind is nodes[n.id].kind
            inside.append(n.id)
        else:
            assert n.kind is NodeKind.BOUNDARY  # where the cordon's streets enter and leave
    plans = {s.node: s for s in core.signals}
    assert len(center.signals) == 23
    for s in center.signals:
        assert s.node in inside and s == plans[s.node]
    # Every link of a junction inside is kept, with all of the core's movements there.
    core_moves = {
        (m.from_link, m.to_link) for m in core.movements if links[m.from_link].to_node in inside
    }
    assert core_moves == {(m.from_link, m.to_link) for m in center.movements}
    head = (REPO / "scenarios" / "hcmc-center.toml").read_text(encoding="utf-8")[:3000]
    assert "© OpenStreetMap contributors" in head and "ODbL" in head


def test_its_demand_enters_at_the_cordon_and_runs(center: Scenario) -> None:
    kinds = {n.id: n.kind for n in center.nodes}
    links = {ln.id: ln for ln in center.links}
    for z in center.zones:
        if z.id.endswith("-in"):
            assert all(kinds[links[lk].from_node] is NodeKind.BOUNDARY for lk in z.links)
        elif z.id.endswith("-out"):
            assert all(kinds[links[lk].to_node] is NodeKind.BOUNDARY for lk in z.links)
        else:
            assert z.id.startswith("interior-")
    assert {z.id.split("-")[0] for z in center.zones} >= {"north", "east", "south", "west"}
    world = World(center, 0)
    world.run()
    s = compute(world).summary
    assert (
        s["vehicles_completed"] > 300
        and s["vehicles_waiting_to_enter"] < 0.05 * s["vehicles_generated"]
    )


def test_the_file_in_the_repository_is_the_built_in() -> None:
    from_file = load_scenario(str(REPO / "scenarios" / "hcmc-center.toml"))
    built = load_scenario("hcmc-center")
    assert dataclasses.replace(from_file, source="") == dataclasses.replace(built, source="")


def test_every_controller_runs_its_cabinets_on_it_without_rejections() -> None:
    sc = load_scenario("hcmc-center", {"duration_s": 600.0})
    for controller in ("actuated", "max-pressure", "predictive"):
        _, stats = run_closed_loop(sc, 0, LoopOptions(controller=controller))
        assert stats.commands > 0 and stats.rejected == 0, controller
