"""The documented example file runs, and the features it shows behave as documented:
protected left-turn lane group, uncontrolled merge, demand per class, profiles, uniform
arrivals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trafficsim.sim import World, compute, load_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "protected_left.toml"
CYCLE_S = 29.0 + 14.0 + 24.0  # three phases: green + yellow + all-red


@pytest.fixture(scope="module")
def world() -> World:
    w = World(load_scenario(str(EXAMPLE)), 21)
    w.run()
    return w


def _passes(world: World, lane_group_id: str) -> np.ndarray:
    rec = world.records()
    index = next(i.index for i in world.lane_group_info if i.id == lane_group_id)
    return rec[rec["lane_group"] == index]


def test_lane_groups_of_the_example(world: World) -> None:
    ids = {i.id: i for i in world.lane_group_info}
    assert ids["N_in:NS"].lanes == 2
    assert ids["N_in:NSL"].lanes == 1
    assert ids["W_in"].kind == "uncontrolled"
    assert ids["U-C:EW"].sat_flow_pcu_per_h == 3 * 1800.0
    s = compute(world).summary
    assert s["vehicles_completed"] > 2000
    nsl = next(a for a in s["approaches"] if a["id"] == "N_in:NSL")
    assert nsl["cycle_s"] == CYCLE_S
    assert nsl["effective_green_s"] == 10.0


def test_protected_left_departs_only_in_its_phase(world: World) -> None:
    t = _passes(world, "N_in:NSL")["t_dep_s"]
    phase = np.mod(t[np.isfinite(t)], CYCLE_S)
    # Left phase: green 29-39 s of the cycle, so effective green [31, 41).
    assert len(phase) > 50
    assert np.all((phase >= 31.0 - 1e-9) & (phase < 41.0 + 1e-9))


def test_demand_per_class_and_profile(world: World) -> None:
    e = _passes(world, "E_in:entry")
    classes = world.veh_class_arr[e["vid"]]
    names = {c.name: k for k, c in enumerate(world.scenario.classes)}
    assert set(np.unique(classes)) == {names["motorcycle"], names["car"]}
    car_share = np.mean(classes == names["car"])
    # 100 of 900 veh/h are cars; 450 vehicles give a standard error of 0.015.
    assert car_share == pytest.approx(100 / 900, abs=0.06)
    n = _passes(world, "N_in:entry")["t_stop_s"]
    # Poisson 1500 veh/h then 2500 veh/h for 900 s each: 375 and 625 expected (sd 19, 25).
    assert abs(np.sum(n < 900) - 375) < 5 * 19.4
    assert abs(np.sum(n >= 900) - 625) < 5 * 25.0


def test_uniform_arrivals_are_evenly_spaced(world: World) -> None:
    t = np.sort(_passes(world, "X_in:entry")["t_stop_s"])
    assert np.allclose(np.diff(t), 12.0)  # 300 veh/h
    assert t[0] == pytest.approx(6.0)  # half a headway in
