"""Design flows counted from a scenario's own demand: the retimed fixed-time baseline."""

from __future__ import annotations

import dataclasses

import pytest

from trafficsim.runner.design_flows import _counted_in_a_run, _ratios, counted_design_flows
from trafficsim.sim import load_scenario

# The HCMC mix: 89 % motorcycles at 0.3 PCU, 9 % cars at 1, 1 % buses at 3, 1 % trucks at 2.
PCU_PER_VEH = 0.89 * 0.3 + 0.09 * 1.0 + 0.01 * 3.0 + 0.01 * 2.0
SAT_PER_APPROACH = 2 * 1800.0  # two lanes at 1800 PCU/h each


def _flows(sc: object) -> dict[str, float]:
    params = counted_design_flows(sc)  # type: ignore[arg-type]
    assert params["pcu_per_veh"] == 1.0
    return params["design_flows"]["C"]


def test_isolated_groups_carry_their_approaches_flow_in_pcu() -> None:
    sc = load_scenario("isolated")
    flows = _flows(sc)
    # N and S bring 2,000 veh/h each, E and W 1,400: the group's ratio times its two
    # approaches' saturation flow is the sum of their PCU flows here.
    assert flows["NS"] == pytest.approx(2 * 2000 * PCU_PER_VEH, abs=0.1)
    assert flows["EW"] == pytest.approx(2 * 1400 * PCU_PER_VEH, abs=0.1)


def test_the_critical_approach_times_the_group() -> None:
    sc = load_scenario("isolated")
    demands = tuple(
        dataclasses.replace(d, profile=((0.0, 500.0),)) if d.entry_link == "S_in" else d
        for d in sc.demands
    )
    flows = _flows(dataclasses.replace(sc, demands=demands))
    # Webster times a group for its most loaded approach (N), not the mean of N and S.
    ratio = 2000 * PCU_PER_VEH / SAT_PER_APPROACH
    assert flows["NS"] == pytest.approx(ratio * 2 * SAT_PER_APPROACH, abs=0.1)


def test_the_busiest_hour_of_the_whole_network_is_counted() -> None:
    sc = load_scenario("isolated", {"duration_s": 3 * 3600.0})
    surge = ((0.0, 1000.0), (1800.0, 3000.0), (5400.0, 1000.0))
    demands = tuple(
        dataclasses.replace(d, profile=surge) if d.entry_link in ("N_in", "S_in") else d
        for d in sc.demands
    )
    flows = _flows(dataclasses.replace(sc, demands=demands))
    assert flows["NS"] == pytest.approx(2 * 3000 * PCU_PER_VEH, abs=0.1)
    assert flows["EW"] == pytest.approx(2 * 1400 * PCU_PER_VEH, abs=0.1)


def test_every_signal_of_the_hcmc_centre_is_timed_on_its_counted_od_traffic() -> None:
    """OD demand has no turning shares: the counts come from a run of today's plans."""
    sc = load_scenario("hcmc-center", {"duration_s": 1800.0})
    flows = counted_design_flows(sc)["design_flows"]
    assert set(flows) == {s.node for s in sc.signals}
    qs = [q for groups in flows.values() for q in groups.values()]
    assert all(0 <= q < 20_000 for q in qs) and sum(q > 0 for q in qs) > 0.9 * len(qs)


def test_counts_from_a_run_match_the_propagated_turning_shares() -> None:
    """The two ways of counting agree where both apply (a grid of turn-share traffic):
    within the Poisson noise of one hour of arrivals."""
    sc = load_scenario("grid", {"size": 2, "duration_s": 3600.0, "mix": "cars"})
    propagated = counted_design_flows(sc)["design_flows"]
    counted = _ratios(_counted_in_a_run(sc, 3600.0))["design_flows"]
    assert set(counted) == set(propagated)
    for node, groups in propagated.items():
        for g, q in groups.items():
            assert counted[node][g] == pytest.approx(q, rel=0.1), (node, g)
