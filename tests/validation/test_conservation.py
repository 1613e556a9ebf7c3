"""Vehicles are conserved: every vehicle generated is waiting, in the network or finished."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest

from trafficsim.sim import World, compute, load_scenario


@pytest.fixture(scope="module", params=["isolated", "grid"])
def congested_world(request: pytest.FixtureRequest) -> World:
    # Enough demand that queues spill back to the entries, stopped mid-run so that many
    # vehicles are still on links and at stop lines.
    overrides = (
        {"flow_ns_veh_per_h": 4500.0, "flow_ew_veh_per_h": 3000.0, "duration_s": 1800.0}
        if request.param == "isolated"
        else {"size": 3, "entry_flow_veh_per_h": 3000.0, "duration_s": 1800.0}
    )
    world = World(load_scenario(request.param, overrides), 11)
    world.step_to(1234.5)
    return world


def test_totals_balance(congested_world: World) -> None:
    s = compute(congested_world).summary
    assert s["vehicles_generated"] == s["vehicles_entered"] + s["vehicles_waiting_to_enter"]
    assert s["vehicles_entered"] == s["vehicles_completed"] + s["vehicles_in_network"]
    assert s["vehicles_waiting_to_enter"] > 0  # the entries really were congested
    assert s["vehicles_in_network"] > 0


def test_each_vehicle_in_network_is_on_exactly_one_link(congested_world: World) -> None:
    w = congested_world
    T = w.now_s
    rec = w.records()
    kind = np.array([i.kind for i in w.lane_group_info])[rec["lane_group"]]
    on_link = (kind != "entry") & (rec["t_in_s"] <= T) & (rec["t_dep_s"] > T)
    vids, counts = np.unique(rec["vid"][on_link], return_counts=True)
    assert np.all(counts == 1)
    s = compute(w).summary
    assert len(vids) == s["vehicles_in_network"]


def test_flow_is_conserved_at_every_node_and_link(congested_world: World) -> None:
    w = congested_world
    T = w.now_s
    rec = w.records()
    info = w.lane_group_info
    entries: dict[str, int] = defaultdict(int)
    exits: dict[str, int] = defaultdict(int)
    present: dict[str, int] = defaultdict(int)
    for r in rec:
        li = info[r["lane_group"]]
        if li.kind == "entry":
            continue
        if r["t_in_s"] <= T:
            entries[li.link] += 1
            if r["t_dep_s"] <= T:
                exits[li.link] += 1
            else:
                present[li.link] += 1
    for link in w.links:
        assert entries[link] == exits[link] + present[link], link
    # Into a node = out of it, at every intersection.
    spec = {ln.id: ln for ln in w.scenario.links}
    for node in w.scenario.nodes:
        if node.kind.value == "boundary":
            continue
        inflow = sum(exits[lid] for lid, s in spec.items() if s.to_node == node.id)
        outflow = sum(entries[lid] for lid, s in spec.items() if s.from_node == node.id)
        assert inflow == outflow, node.id


def test_every_route_is_connected_in_time_and_space(congested_world: World) -> None:
    w = congested_world
    rec = np.sort(w.records(), order=["vid", "t_in_s", "t_stop_s"])
    info = w.lane_group_info
    spec = {ln.id: ln for ln in w.scenario.links}
    by_vid: dict[int, list] = defaultdict(list)
    for r in rec:
        by_vid[int(r["vid"])].append(r)
    for vid, rows in by_vid.items():
        assert info[rows[0]["lane_group"]].kind == "entry", vid
        for a, b in itertools.pairwise(rows):
            assert b["t_in_s"] == a["t_dep_s"], vid  # leaves one link as it enters the next
            la, lb = info[a["lane_group"]], info[b["lane_group"]]
            if la.kind != "entry":
                assert spec[la.link].to_node == spec[lb.link].from_node, vid
