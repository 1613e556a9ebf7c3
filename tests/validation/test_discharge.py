"""During saturated green, a stop line discharges at its saturation flow (within 3 %)."""

from __future__ import annotations

import numpy as np
import pytest

from trafficsim.sim import World, load_scenario

CYCLE_S, EFFECTIVE_GREEN_S = 60.0, 27.0  # 27 s green - 2 s start-up loss + 2 s of yellow
SAT_PCU_PER_H = 2 * 1800.0


@pytest.mark.parametrize("mix", ["cars", "hcmc"])
def test_saturated_green_discharges_at_saturation_flow(mix: str) -> None:
    # Demand far above capacity keeps every approach queued through every green.
    sc = load_scenario(
        "isolated",
        {
            "mix": mix,
            "flow_ns_veh_per_h": 20000.0,
            "flow_ew_veh_per_h": 20000.0,
            "left_share": 0.0,
            "right_share": 0.0,
            "duration_s": 3600.0,
        },
    )
    world = World(sc, 3)
    world.run()
    rec = world.records()
    pcu = np.array([c.pcu for c in sc.classes])[world.veh_class_arr[rec["vid"]]]
    first, last = 5, 55  # whole cycles well inside the run
    t0, t1 = first * CYCLE_S, last * CYCLE_S
    for info in world.lane_group_info:
        if info.kind != "approach":
            continue
        sel = (rec["lane_group"] == info.index) & (rec["t_dep_s"] >= t0) & (rec["t_dep_s"] < t1)
        # The queue never empties: someone is always waiting when a vehicle leaves.
        waiting = (rec["lane_group"] == info.index) & (rec["t_stop_s"] < t0)
        assert waiting.sum() > 0
        rate_pcu_per_h = pcu[sel].sum() / ((last - first) * EFFECTIVE_GREEN_S) * 3600.0
        assert rate_pcu_per_h == pytest.approx(SAT_PCU_PER_H, rel=0.03), info.id


def test_no_departure_outside_effective_green() -> None:
    sc = load_scenario("isolated", {"duration_s": 1800.0})
    world = World(sc, 1)
    world.run()
    rec = world.records()
    for info in world.lane_group_info:
        if info.kind != "approach":
            continue
        t = rec["t_dep_s"][(rec["lane_group"] == info.index) & np.isfinite(rec["t_dep_s"])]
        phase = np.mod(t, CYCLE_S)
        # NS green 0-27 s (+3 s yellow), EW green 30-57 s (+3 s yellow); effective windows are
        # [2, 29) and [32, 59).
        lo = 2.0 if info.group == "NS" else 32.0
        assert np.all((phase >= lo - 1e-9) & (phase < lo + EFFECTIVE_GREEN_S + 1e-9)), info.id


def test_incident_cuts_discharge_to_its_capacity_factor() -> None:
    from trafficsim.sim.catalog import scenario_data
    from trafficsim.sim.scenario_io import scenario_from_dict

    data, _ = scenario_data(
        "isolated",
        {
            "mix": "cars",
            "flow_ns_veh_per_h": 20000.0,
            "flow_ew_veh_per_h": 20000.0,
            "left_share": 0.0,
            "right_share": 0.0,
            "duration_s": 3600.0,
        },
    )
    data["incidents"] = [
        {"link": "N_in", "start_s": 1200.0, "end_s": 2400.0, "capacity_factor": 0.5}
    ]
    world = World(scenario_from_dict(data, "incident"), 3)
    world.run()
    rec = world.records()
    n_lg = next(i.index for i in world.lane_group_info if i.id == "N_in:NS")
    s_lg = next(i.index for i in world.lane_group_info if i.id == "S_in:NS")

    def rate(lg: int, first: int, last: int) -> float:
        t = rec["t_dep_s"][rec["lane_group"] == lg]
        n = np.sum((t >= first * CYCLE_S) & (t < last * CYCLE_S))
        return n / ((last - first) * EFFECTIVE_GREEN_S) * 3600.0

    assert rate(n_lg, 21, 39) == pytest.approx(0.5 * SAT_PCU_PER_H, rel=0.03)  # during
    assert rate(n_lg, 5, 19) == pytest.approx(SAT_PCU_PER_H, rel=0.03)  # before
    assert rate(s_lg, 21, 39) == pytest.approx(SAT_PCU_PER_H, rel=0.03)  # other arm unaffected
    data["incidents"][0]["end_s"] = 100.0
    with pytest.raises(Exception, match=r"incidents\[0\]\.end_s: must be after start_s"):
        scenario_from_dict(data, "incident")
