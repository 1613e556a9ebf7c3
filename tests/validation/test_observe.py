"""Observation hooks report what happened, once, and only what has happened."""

from __future__ import annotations

import numpy as np
import pytest

from trafficsim.sim import World, load_scenario
from trafficsim.sim.observe import DetectionPoint, TraversalFeed


@pytest.fixture
def world() -> World:
    return World(load_scenario("isolated", {"duration_s": 1800.0}), 6)


def test_stop_line_point_counts_departures_per_period(world: World) -> None:
    point = DetectionPoint(world, "N_in:NS", 0.0)
    far = DetectionPoint(world, "N_in:NS", 120.0)
    counts, far_counts, queues = [], [], []
    for t in np.arange(60.0, 1801.0, 60.0):
        world.step_to(float(t))
        truth = point.read(float(t))
        counts.append(truth.count)
        far_counts.append(far.read(float(t)).count)
        queues.append(truth.queue_veh)
        assert 0.0 <= truth.occupancy <= 1.0
        assert sum(truth.count_by_class) == truth.count
        if truth.count:
            assert 0 < truth.mean_speed_mps <= 50 / 3.6 + 1e-9
    rec = world.records()
    lg = next(i.index for i in world.lane_group_info if i.id == "N_in:NS")
    mine = rec[rec["lane_group"] == lg]
    dep = mine["t_dep_s"]
    expected = np.histogram(dep[dep < 1800.0], bins=np.arange(0.0, 1801.0, 60.0))[0]
    assert counts == expected.tolist()
    # Every vehicle that left the stop line crossed the upstream point too, at most once.
    assert sum(far_counts) >= sum(counts) - 1
    assert sum(far_counts) <= len(mine)
    # Queue at each period end, straight from the records.
    for k, t in enumerate(np.arange(60.0, 1801.0, 60.0)):
        waiting = (mine["t_stop_s"] <= t) & (mine["t_dep_s"] > t)
        assert queues[k] == int(waiting.sum())


def test_occupancy_rises_with_demand() -> None:
    occ = []
    for flow in (600.0, 2600.0):
        w = World(load_scenario("isolated", {"duration_s": 1200.0, "flow_ns_veh_per_h": flow}), 2)
        p = DetectionPoint(w, "N_in:NS", 30.0)
        w.run()
        occ.append(p.read(1200.0).occupancy)
    assert occ[0] < occ[1] <= 1.0


def test_cannot_read_the_future_or_a_missing_lane_group(world: World) -> None:
    point = DetectionPoint(world, "N_in:NS", 10.0)
    world.step_to(100.0)
    with pytest.raises(ValueError, match="cannot observe the future"):
        point.read(160.0)
    with pytest.raises(KeyError, match="no approach lane group 'nope'"):
        DetectionPoint(world, "nope")
    with pytest.raises(ValueError, match="distance_m must be in"):
        DetectionPoint(world, "N_in:NS", 900.0)


def test_traversals_are_reported_once_after_they_end(world: World) -> None:
    feed = TraversalFeed(world)
    seen = []
    for t in (300.0, 600.0, 900.0):
        world.step_to(t)
        batch = feed.read(t)
        assert all(tr.t_out_s <= t for tr in batch)
        seen += [(tr.vid, tr.link) for tr in batch]
    assert len(seen) == len(set(seen)) > 1000


def test_core_speed_over_the_whole_network_and_run_is_the_network_speed() -> None:
    """sim/core_speed.py's Edie speed, over every link and the whole run, is the summary's
    ``network_speed_kmh`` (the same definition); halves of the run bracket it."""
    from trafficsim.sim import World, compute, load_scenario
    from trafficsim.sim.core_speed import speeds_by_window

    sc = load_scenario("grid", {"size": 3, "duration_s": 1200.0, "entry_flow_veh_per_h": 900})
    world = World(sc, 0)
    world.run()
    every = frozenset(ln.id for ln in sc.links)
    whole, first, second = speeds_by_window(world, every, [(0, 1200), (0, 600), (600, 1200)])
    net = compute(world).summary["network_speed_kmh"]
    assert whole.speed_kmh == pytest.approx(net, rel=0.005)
    lo, hi = sorted([first.speed_kmh, second.speed_kmh])
    assert lo <= whole.speed_kmh <= hi
    assert whole.vehicle_km == pytest.approx(first.vehicle_km + second.vehicle_km, rel=1e-9)
