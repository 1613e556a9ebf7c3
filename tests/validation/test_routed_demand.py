"""Routed demand against what it must be: OD counts within Poisson bounds, vehicles
conserved with trips that start and end inside the network, storage respected at an
interior start, SUMO's delay equal to a hand computation, and re-routing that reacts to a
measured queue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from routed_net import trip, two_paths

from trafficsim.sim import World, compute, load_scenario
from trafficsim.sim.metrics import link_peak_occupancy_pcu

OD = """
[[zones]]
id = "origin"
links = ["O_A", "A_M"]
weights = [1, 1]
[[zones]]
id = "dest"
links = ["B_D", "M_B"]
weights = [1, 3]
[[od]]
from = "origin"
to = "dest"
flow_veh_per_h = {flow}
mix = "motorcycle"
arrivals = "{arrivals}"
"""


def _starts_ends(world: World) -> tuple[dict[str, int], dict[str, int]]:
    rec = world.records()
    info = world.lane_group_info
    starts: dict[str, int] = {}
    ends: dict[str, int] = {}
    for r in rec.tolist():
        li = info[r[1]]
        if li.kind == "entry":
            starts[li.link] = starts.get(li.link, 0) + 1
        elif li.kind == "exit":
            ends[li.link] = ends.get(li.link, 0) + 1
    return starts, ends


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_poisson_od_flow_hits_its_rate_and_zone_weights(tmp_path: Path, seed: int) -> None:
    # 1,800 veh/h for an hour: a Poisson count of mean 1,800 (sd 42.4); each bound is 4 sd
    # (two-sided p = 6e-5 per check), so the test fails by chance about once in 10^4 runs.
    path = two_paths(tmp_path, OD.format(flow=1800, arrivals="poisson"), duration_s=3600.0)
    world = World(load_scenario(str(path)), seed)
    world.run()
    n = len(world.veh_t_gen)
    assert abs(n - 1800) < 4 * 1800**0.5, n
    starts, ends = _starts_ends(world)
    # Start links 1:1 and end links 1:3, binomial over n draws.
    for got, p in ((starts["O_A"], 0.5), (ends.get("B_D", 0), 0.25)):
        assert abs(got - n * p) < 4 * (n * p * (1 - p)) ** 0.5 + 1, (got, n * p)


def test_uniform_od_flow_is_exact_and_profiles_hold(tmp_path: Path) -> None:
    path = two_paths(tmp_path, OD.format(flow=720, arrivals="uniform"), duration_s=600.0)
    world = World(load_scenario(str(path)), 0)
    assert len(world.veh_t_gen) == 120  # 720 veh/h for 600 s, evenly spaced
    assert np.allclose(np.diff(world.veh_t_gen), 5.0)
    demand = OD.format(flow=0, arrivals="uniform").replace(
        "flow_veh_per_h = 0", "profile = [[0, 360], [300, 1080]]"
    )
    world = World(load_scenario(str(two_paths(tmp_path, demand, duration_s=600.0))), 0)
    t = world.veh_t_gen
    assert (int((t < 300).sum()), int((t >= 300).sum())) == (30, 90)


@pytest.fixture(scope="module")
def interior_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    # 80 cars all scheduled at t = 0 on the interior link A_M (storage 200 m / 7.5 m = 26.7
    # PCU), ending on the interior link A_B's far end or leaving at D; plus a stream from
    # the entry O_A ending on M_B. Stopped mid-run, with vehicles queued everywhere.
    demand = "".join(trip(0.0, links=["A_M", "M_B"]) for _ in range(40))
    demand += "".join(trip(0.0, from_="A_M", to="B_D") for _ in range(40))
    demand += "".join(trip(2.0 * k, "motorcycle", links=["O_A", "A_M", "M_B"]) for k in range(100))
    demand += "".join(trip(3.0 * k, "car", links=["O_A", "A_B"]) for k in range(60))
    path = two_paths(
        tmp_path_factory.mktemp("interior"),
        demand,
        signal=True,
        duration_s=900.0,
        green_s=10.0,
        red_s=20.0,
    )
    world = World(load_scenario(str(path)), 1)
    world.step_to(95.5)
    return world


def test_interior_starts_and_ends_conserve_vehicles(interior_world: World) -> None:
    w = interior_world
    s = compute(w).summary
    sd = s["sumo_delay"]
    assert sd["vehicles_scheduled"] == sd["vehicles_inserted"] + sd["vehicles_waiting_to_insert"]
    assert sd["vehicles_inserted"] == sd["vehicles_completed"] + sd["vehicles_on_network"]
    assert sd["vehicles_waiting_to_insert"] > 0  # A_M was full: its source queue held them
    assert sd["vehicles_on_network"] > 0 and sd["vehicles_completed"] > 0
    assert (sd["vehicles_scheduled"], sd["vehicles_inserted"], sd["vehicles_completed"]) == (
        s["vehicles_generated"],
        s["vehicles_entered"],
        s["vehicles_completed"],
    )
    # Every vehicle in the network is on exactly one link.
    T = w.now_s
    rec = w.records()
    kind = np.array([i.kind for i in w.lane_group_info])[rec["lane_group"]]
    on = (kind != "entry") & (rec["t_in_s"] <= T) & (rec["t_dep_s"] > T)
    vids, counts = np.unique(rec["vid"][on], return_counts=True)
    assert np.all(counts == 1)
    assert len(vids) == sd["vehicles_on_network"]


def test_interior_start_respects_storage_and_trip_ends_free_it(interior_world: World) -> None:
    w = interior_world
    w.run()
    peak = link_peak_occupancy_pcu(w)
    for spec in w.scenario.links:
        assert peak[spec.id] <= spec.length_m * spec.lanes / 7.5 + 1e-6, spec.id
    assert peak["A_M"] > 20  # it really was filled
    s = compute(w).summary["sumo_delay"]
    assert s["vehicles_completed"] == s["vehicles_scheduled"] == 240  # every trip ended


def _one_red(tmp_path: Path, trips: str) -> World:
    # O_A, A_B and B_D are 200 m at 10 m/s (20 s each). B's cycle is 66 s (direct road
    # green 30 + yellow 3, detour green 30 + yellow 3) starting at offset 50 s, so with the
    # start-up lost time (2 s) and the yellow used (2 s) the direct road's effective green
    # runs from -14 to 16 s and from 52 to 82 s: red for a car arriving at 40 s.
    path = two_paths(tmp_path, trips, direct_m=200.0, signal=True, offset_s=50.0, duration_s=150.0)
    return World(load_scenario(str(path)), 0)


@pytest.mark.parametrize(
    ("t_end_s", "expected"),
    [
        # t = 1: car 1 driving on O_A (no loss); car 2 not yet inserted, scheduled at 0.
        (1.0, [0.0, 1.0]),
        # t = 45: car 1 at B's red since 40 s (5 s); car 2 inserted at 2 s, there since 42.
        (45.0, [5.0, 2.0 + 3.0]),
        # The end: car 1 waited 40 -> 52 s; car 2 42 -> 54 s (one headway behind car 1).
        (150.0, [12.0, 2.0 + 12.0]),
    ],
)
def test_sumo_delay_equals_hand_computation(
    tmp_path: Path, t_end_s: float, expected: list[float]
) -> None:
    # Two cars scheduled at t = 0 on a one-lane entry: the second enters one saturation
    # headway later (3600 / 1800 PCU/h = 2 s: its departure delay). Each then reaches B's
    # stop line 40 s after entering, during the red: delay = red wait + departure delay.
    world = _one_red(tmp_path, trip(0.0, links=["O_A", "A_B", "B_D"]) * 2)
    world.step_to(t_end_s)
    m = compute(world)
    assert m.vehicles["sumo_delay_s"].tolist() == pytest.approx(expected, abs=1e-9)
    s = m.summary["sumo_delay"]
    assert s["mean_delay_s"] == pytest.approx(sum(expected) / 2, abs=1e-4)
    if t_end_s == 150.0:
        # Time loss is trip time minus the route's free-flow time (60 s), by definition.
        trip_s = m.vehicles["t_exit_s"] - m.vehicles["t_enter_s"]
        assert m.vehicles["time_loss_s"].tolist() == pytest.approx((trip_s - 60.0).tolist())
        assert m.vehicles["departure_delay_s"].tolist() == pytest.approx([0.0, 2.0])
        assert s["mean_trip_time_s"] == pytest.approx(72.0)


ONE_OD = """
[[zones]]
id = "o"
links = ["O_A"]
[[zones]]
id = "d"
links = ["B_D"]
[[od]]
from = "o"
to = "d"
flow_veh_per_h = 500
mix = "cars"
"""


def _detour_run(tmp_path: Path, head: str) -> tuple[int, dict]:
    # The direct road (300 m) is shorter than the detour (400 m) but its group has 8 s of
    # green in a 77 s cycle: about 190 veh/h for a demand of 500 veh/h.
    path = two_paths(
        tmp_path,
        ONE_OD,
        direct_m=300.0,
        signal=True,
        green_s=8.0,
        red_s=30.0,
        duration_s=1800.0,
        head=head,
    )
    world = World(load_scenario(str(path)), 0)
    world.run()
    rec = world.records()
    detour = next(i.index for i in world.lane_group_info if i.id == "M_B:detour")
    return len(set(rec["vid"][rec["lane_group"] == detour].tolist())), compute(world).summary


def test_time_dependent_routing_takes_the_detour_free_flow_does_not(tmp_path: Path) -> None:
    n_free, free = _detour_run(tmp_path, "")
    td_head = 'routing = "time-dependent"\nreroute_period_s = 120'
    n_td, td = _detour_run(tmp_path, td_head)
    assert n_free == 0  # free flow: everyone on the shorter, saturated direct road
    # Measured waits at B send more than half of the 234 trips over the detour, and the
    # delay falls (545 s against 57 s with seed 0).
    assert n_td > 0.5 * td["sumo_delay"]["vehicles_scheduled"]
    assert td["sumo_delay"]["mean_delay_s"] < 0.5 * free["sumo_delay"]["mean_delay_s"]
    assert _detour_run(tmp_path, td_head) == (n_td, td)  # still deterministic


def test_routed_trips_drive_exactly_as_the_turn_share_vehicles_they_copy() -> None:
    # Every vehicle of a grid run (all finished: run three times the demand's duration),
    # given back as a trip with the links it drew: the routed run is the same run, pass
    # for pass (lane group, entry, stop line, departure), to the last bit.
    from trafficsim.sim.catalog import scenario_data
    from trafficsim.sim.scenario_io import scenario_from_dict
    from trafficsim.sim.trips import completed_trips

    params = {"size": 3, "duration_s": 900.0}
    turn = World(load_scenario("grid", params), 6)
    turn.step_to(2700.0)
    assert all(t <= turn.now_s for t in turn.veh_t_out)
    data, source = scenario_data("grid", params)
    del data["demand"]
    data["trips"] = completed_trips(turn)
    routed = World(scenario_from_dict(data, source), 6)
    routed.step_to(2700.0)

    def passes(w: World) -> list[tuple]:
        ids = [i.id for i in w.lane_group_info]
        return sorted((r[0], ids[r[1]], *r[2:]) for r in w.records().tolist())

    assert len(turn.veh_t_gen) > 1000
    assert passes(routed) == passes(turn)


DAWDLING_CAR = """
[[classes]]
name = "car"
pcu = 1.0
length_m = 5.0
max_speed_kmh = 100.0
accel_mps2 = 2.6
decel_mps2 = 4.5
dawdle_mps = 2.0
"""


def test_dawdling_drivers_lose_time_on_every_link_and_it_counts_as_delay(tmp_path) -> None:
    # O_A, A_B and B_D are 200 m at 10 m/s; a driver who dawdles 2 m/s cruises at 8 m/s:
    # 25 s a link instead of 20, so 15 s lost over the route, with nothing in the way.
    path = two_paths(
        tmp_path, trip(0.0, links=["O_A", "A_B", "B_D"]) + DAWDLING_CAR, direct_m=200.0
    )
    world = World(load_scenario(str(path)), 0)
    world.step_to(30.0)  # 25 s on O_A (5 s lost), 5 s into A_B (1 s lost)
    m = compute(world)
    assert m.vehicles["time_loss_s"].tolist() == pytest.approx([6.0])
    world.run()
    m = compute(world)
    trip_s = m.vehicles["t_exit_s"] - m.vehicles["t_enter_s"]
    assert trip_s.tolist() == pytest.approx([75.0])
    assert m.vehicles["time_loss_s"].tolist() == pytest.approx([15.0])
    assert m.summary["mean_delay_s"] == pytest.approx(15.0)
    assert m.summary["sumo_delay"]["mean_delay_s"] == pytest.approx(15.0)
    # Stops are waits at stop lines, not dawdling: this car never stopped.
    assert m.summary["mean_stops"] == 0
