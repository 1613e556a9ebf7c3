"""Lanes shared by movements of different signal groups: a vehicle waiting for its red
movement holds the lane behind it; with a lane of its own nobody waits behind it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from trafficsim.sim import World, load_scenario
from trafficsim.sim.lanes import MixedLaneGroup
from trafficsim.sim.queues import LaneGroup
from trafficsim.sim.scenario_io import scenario_from_dict

CYCLE_S = 46.0  # through 30 s + 3 s yellow, then left 10 s + 3 s yellow
T_WINDOW = (2.0, 32.0)  # effective green of the through group in each cycle


def _approach(lanes: int, through_lanes: list[int], left_lanes: list[int]) -> dict[str, Any]:
    """S_in carries through (group T) and left turns (group L) in their own phases."""
    return {
        "scenario": {"name": "shared", "duration_s": 3600.0},
        "link_defaults": {"length_m": 300.0, "lanes": 1, "speed_kmh": 50.0},
        "nodes": [
            {"id": "C", "kind": "signal"},
            {"id": "S", "kind": "boundary", "y_m": -300.0},
            {"id": "N", "kind": "boundary", "y_m": 300.0},
            {"id": "W", "kind": "boundary", "x_m": -300.0},
        ],
        "links": [
            {"id": "S_in", "from": "S", "to": "C", "lanes": lanes},
            {"id": "N_out", "from": "C", "to": "N"},
            {"id": "W_out", "from": "C", "to": "W"},
        ],
        "movements": [
            {"from": "S_in", "to": "N_out", "share": 0.7, "group": "T", "lanes": through_lanes},
            {"from": "S_in", "to": "W_out", "share": 0.3, "group": "L", "lanes": left_lanes},
        ],
        "signals": [
            {
                "node": "C",
                "phases": [
                    {"groups": ["T"], "green_s": 30.0, "yellow_s": 3.0},
                    {"groups": ["L"], "green_s": 10.0, "yellow_s": 3.0},
                ],
            }
        ],
        "demand": [{"link": "S_in", "flow_veh_per_h": 300.0, "mix": "cars"}],
    }


def _through(world: World) -> np.ndarray:
    """Stop-line passes of the vehicles that went on to N_out (the through movement)."""
    rec = world.records()
    info = world.lane_group_info
    exit_n = next(i.index for i in info if i.link == "N_out")
    to_n = rec["vid"][rec["lane_group"] == exit_n]
    at_line = np.array([i.link == "S_in" and i.kind == "approach" for i in info])
    sel = at_line[rec["lane_group"]] & np.isin(rec["vid"], to_n) & np.isfinite(rec["t_dep_s"])
    return rec[sel]


def _in_through_green(t: np.ndarray) -> np.ndarray:
    phase = np.mod(t, CYCLE_S)
    return (phase >= T_WINDOW[0]) & (phase < T_WINDOW[1])


def test_through_vehicle_waits_behind_a_left_turner_on_red() -> None:
    shared = World(scenario_from_dict(_approach(1, [0], [0]), "shared"), 5)
    shared.run()
    (lg_info,) = [i for i in shared.lane_group_info if i.kind == "approach"]
    assert lg_info.groups == ("T", "L") and lg_info.lane_indices == (0,)
    assert isinstance(shared.lane_groups[lg_info.index], MixedLaneGroup)
    rec = shared.records()
    rec = rec[(rec["lane_group"] == lg_info.index) & np.isfinite(rec["t_dep_s"])]
    rec = np.sort(rec, order="t_dep_s")
    is_through = np.isin(rec["vid"], _through(shared)["vid"])
    # A through vehicle that reached the line during its own green, behind a left-turner
    # still waiting for its arrow, leaves only after it: in a later cycle.
    prev, cur = rec[:-1], rec[1:]
    behind_left = (
        ~is_through[:-1]
        & is_through[1:]
        & _in_through_green(cur["t_stop_s"])
        & (cur["t_stop_s"] < prev["t_dep_s"])
    )
    assert behind_left.sum() >= 10
    waited = cur[behind_left]
    assert np.all(np.floor(waited["t_dep_s"] / CYCLE_S) > np.floor(waited["t_stop_s"] / CYCLE_S))
    thr = _through(shared)

    separate = World(scenario_from_dict(_approach(2, [0], [1]), "separate"), 5)
    separate.run()
    assert all(type(lg) is LaneGroup for lg in separate.lane_groups)  # nothing shared
    thr2 = _through(separate)
    # With its own lane, no through vehicle arriving on green waits for another cycle.
    blocked2 = _in_through_green(thr2["t_stop_s"]) & (
        np.floor(thr2["t_dep_s"] / CYCLE_S) > np.floor(thr2["t_stop_s"] / CYCLE_S)
    )
    assert blocked2.sum() == 0
    assert (thr2["t_dep_s"] - thr2["t_stop_s"]).mean() < 0.5 * (
        thr["t_dep_s"] - thr["t_stop_s"]
    ).mean()


def test_index_form_without_sharing_matches_the_integer_form() -> None:
    by_index = _approach(2, [0], [1])
    by_count = _approach(2, [0], [1])
    for m in by_count["movements"]:
        m["lanes"] = 1
    a = World(scenario_from_dict(by_index, "index"), 3)
    b = World(scenario_from_dict(by_count, "count"), 3)
    a.run()
    b.run()
    assert [i.id for i in a.lane_group_info] == [i.id for i in b.lane_group_info]
    assert np.array_equal(a.records(), b.records())


def test_vehicles_choose_the_lane_that_moves() -> None:
    """Through traffic may use both lanes; the left lane also holds left-turners waiting
    for their arrow, so through vehicles keep to the right lane while it is shorter."""
    d = _approach(2, [0, 1], [1])
    d["demand"][0]["flow_veh_per_h"] = 500.0
    world = World(scenario_from_dict(d, "choice"), 7)
    world.run()
    ids = {i.id: i for i in world.lane_group_info}
    assert set(ids) >= {"S_in:T", "S_in:T+L"}
    thr = _through(world)
    right = np.count_nonzero(thr["lane_group"] == ids["S_in:T"].index)
    left = np.count_nonzero(thr["lane_group"] == ids["S_in:T+L"].index)
    assert right > 1.3 * left > 0
    # Those that took the shared lane rarely found a left-turner waiting in front.
    single = World(scenario_from_dict(_approach(1, [0], [0]), "single"), 7)
    single.run()
    delay = thr["t_dep_s"] - thr["t_stop_s"]
    thr1 = _through(single)
    assert delay.mean() < 0.5 * (thr1["t_dep_s"] - thr1["t_stop_s"]).mean()


@pytest.mark.parametrize("name", ["grid", "isolated"])
def test_built_in_scenarios_keep_the_plain_lane_groups(name: str) -> None:
    """The synthetic built-ins name no lanes (the OSM ones, from SUMO, do)."""
    sc = load_scenario(name, {"duration_s": 60.0})
    world = World(sc, 0)
    assert all(type(lg) is LaneGroup for lg in world.lane_groups)


def test_sensors_and_closed_loop_see_a_shared_lane_under_each_of_its_groups() -> None:
    import trafficsim
    from trafficsim.sensors.deployment import build_deployment
    from trafficsim.sensors.deployment_spec import DeploymentSpec
    from trafficsim.sensors.signals.bridge import SignalBridge

    sc = scenario_from_dict(_approach(2, [0, 1], [1]), "shared")
    world = World(sc, 1, external_signals=True)
    loops = [d.lane_group for d in build_deployment(world, DeploymentSpec.of(sc)).devices]
    assert {"S_in:T", "S_in:T+L"} <= set(loops)  # a loop and a camera per lane group
    meta = SignalBridge(world).signal_meta("C")
    assert meta.groups["T"].lane_groups == ("S_in:T", "S_in:T+L")
    assert meta.groups["L"].lane_groups == ("S_in:T+L",)
    run = trafficsim.simulate(sc, seed=1, controller="max-pressure")
    s = run.summary
    assert s["vehicles_completed"] > 0.9 * s["vehicles_generated"]


def _turn_bay_overflow() -> dict[str, Any]:
    """Routed traffic from U over A (2 lanes, 150 m: 20 PCU a lane) to a long-green through
    movement on lane 0 and a left arrow of 5 s in 60 s on lane 1, fed faster than it
    serves: the left lane's queue grows until it reaches back to A's start."""
    d = _approach(2, [0], [1])
    d["nodes"].append({"id": "M", "kind": "uncontrolled", "y_m": -450.0})
    d["nodes"][1]["y_m"] = -600.0
    d["links"] = [
        {"id": "U", "from": "S", "to": "M", "lanes": 2, "length_m": 150.0},
        {"id": "S_in", "from": "M", "to": "C", "lanes": 2, "length_m": 150.0},
        {"id": "N_out", "from": "C", "to": "N"},
        {"id": "W_out", "from": "C", "to": "W"},
    ]
    for m in d["movements"]:
        del m["share"]
    d["movements"].append({"from": "U", "to": "S_in"})
    d["signals"][0]["phases"] = [
        {"groups": ["T"], "green_s": 49.0, "yellow_s": 3.0},
        {"groups": ["L"], "green_s": 5.0, "yellow_s": 3.0},
    ]
    del d["demand"]
    d["scenario"]["duration_s"] = 1800.0
    trips = []
    for n in range(int(1800 / 6)):  # one vehicle every 6 s, every other one turning left
        to = "W_out" if n % 2 else "N_out"
        trips.append({"depart_s": 6.0 * n, "class": "car", "links": ["U", "S_in", to]})
    d["trips"] = trips
    return d


def test_a_queue_fills_its_own_lane_and_holds_back_who_is_bound_for_it() -> None:
    """The left lane's 20 PCU hold the left-turn queue; left-bound vehicles then wait
    upstream (on U) although the link as a whole (40 PCU) has room, as on a real road
    where a turning queue cannot use the through lane's space."""
    world = World(scenario_from_dict(_turn_bay_overflow(), "bay"), 1)
    world.run()
    ids = {i.id: i for i in world.lane_group_info}
    rec = world.records()
    left = rec[rec["lane_group"] == ids["S_in:L"].index]
    through = rec[rec["lane_group"] == ids["S_in:T"].index]
    grid = np.arange(0.0, 1800.0, 1.0)

    def on_link(r: np.ndarray) -> np.ndarray:
        t_out = np.where(np.isfinite(r["t_dep_s"]), r["t_dep_s"], np.inf)
        return ((r["t_in_s"][None, :] <= grid[:, None]) & (grid[:, None] < t_out)).sum(1)

    n_left, n_through = on_link(left), on_link(through)
    assert n_left.max() == 20  # the lane filled, and never more than filled
    assert (n_left + n_through).max() < 30  # while the link still had room
    # Left-bound vehicles were held on U: their stop-line pass there waited for room.
    u = rec[rec["lane_group"] == ids["U"].index]
    held = np.isin(u["vid"], left["vid"]) & (u["t_dep_s"] - u["t_stop_s"] > 30.0)
    assert held.sum() >= 20
