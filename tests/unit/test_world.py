"""World behaviour: seeds, time stepping and plan changes."""

from __future__ import annotations

import json

import pytest

from trafficsim.sim import Phase, SignalPlan, World, compute, load_scenario


def _summary(seed: int, **overrides: object) -> str:
    world = World(load_scenario("grid", {"size": 3, "duration_s": 1200.0, **overrides}), seed)
    world.run()
    return json.dumps(compute(world).summary, sort_keys=True)


def test_same_seed_same_results_different_seed_different_results() -> None:
    a, b, c = _summary(7), _summary(7), _summary(8)
    assert a == b
    assert a != c


def test_stepping_in_pieces_equals_one_run() -> None:
    sc = load_scenario("isolated", {"duration_s": 900.0})
    one = World(sc, 2)
    one.run()
    pieces = World(sc, 2)
    for t in (13.0, 100.5, 101.0, 450.0, 900.0):
        pieces.step_to(t)
    assert json.dumps(compute(one).summary) == json.dumps(compute(pieces).summary)
    with pytest.raises(ValueError, match="cannot step back"):
        pieces.step_to(10.0)


def test_new_plan_takes_effect_at_next_cycle() -> None:
    sc = load_scenario("isolated", {"duration_s": 3600.0})
    world = World(sc, 4)
    world.step_to(600.0)
    longer_ns = SignalPlan(phases=(Phase(("NS",), 37.0, 3.0), Phase(("EW",), 17.0, 3.0)))
    world.apply_plan("C", longer_ns)
    world.run()
    assert world.heads["C"].plan_history[-1] == (600.0, longer_ns)
    s = compute(world).summary
    ns = next(a for a in s["approaches"] if a["id"] == "N_in:NS")
    # 600 s at 27 s effective green, then 3000 s at 37 s.
    assert ns["effective_green_s"] == pytest.approx((600 * 27 + 3000 * 37) / 3600, abs=1e-3)
    with pytest.raises(ValueError, match=r"no green to signal group\(s\) \['EW'\]"):
        world.apply_plan("C", SignalPlan(phases=(Phase(("NS",), 30.0, 3.0),)))
    with pytest.raises(KeyError, match="has no signal head"):
        world.apply_plan("N", longer_ns)
