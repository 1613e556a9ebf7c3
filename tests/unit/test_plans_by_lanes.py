"""Stage programs as phase plans on a common cycle, greens by lanes (sim/plans_by_lanes.py)."""

from __future__ import annotations

import pytest

from trafficsim.sim.plans_by_lanes import MIN_GREEN_S, phases_by_lanes, shares


def _st(d: float, green: str = "", yellow: str = "") -> dict[str, object]:
    return {"duration_s": d, "green": green.split(), "yellow": yellow.split()}


def test_two_stages_share_the_cycle_by_lanes() -> None:
    stages = [_st(39, "g0"), _st(6, yellow="g0"), _st(39, "g1"), _st(6, yellow="g1")]
    a, b = phases_by_lanes(stages, {"g0": 3, "g1": 1}, 90.0, 3.0, 2.0)
    assert a["groups"] == ["g0"] and b["groups"] == ["g1"]
    assert a["yellow_s"] == b["yellow_s"] == 3.0 and a["all_red_s"] == b["all_red_s"] == 2.0
    assert a["green_s"] + b["green_s"] == pytest.approx(80.0)  # 90 - 2 x 5
    assert a["green_s"] == pytest.approx(3 * b["green_s"], abs=0.1)


def test_a_phase_starts_where_a_group_turns_green_and_overlaps_are_dropped() -> None:
    """netconvert's protected turn: g1 runs on after g0's yellow; it stays in g0's phase."""
    stages = [
        _st(16, "g0 g1"), _st(6, "g1", "g0"), _st(6, "g1"), _st(6, yellow="g1"),
        _st(16, "g3"), _st(6, yellow="g3"), _st(6, "g4"), _st(6, yellow="g4"),
        _st(16, "g2"), _st(6, yellow="g2"),
    ]  # fmt: skip
    phases = phases_by_lanes(stages, {}, 90.0, 3.0, 2.0)
    assert [p["groups"] for p in phases] == [["g0", "g1"], ["g3"], ["g4"], ["g2"]]
    greens = [p["green_s"] for p in phases]
    assert sum(greens) == pytest.approx(90.0 - 4 * 5.0, abs=0.2)
    assert greens[0] > greens[1] > greens[2]  # by the program's green: 28, 16 and 6 s
    assert greens[2] == MIN_GREEN_S


def test_a_phase_whose_groups_all_carry_on_has_no_intergreen() -> None:
    stages = [_st(30, "g0"), _st(10, "g0 g2"), _st(4, yellow="g0 g2"), _st(30, "g1"),
              _st(4, yellow="g1")]  # fmt: skip
    a, b, c = phases_by_lanes(stages, {}, 90.0, 3.0, 2.0)
    assert (a["groups"], b["groups"]) == (["g0"], ["g0", "g2"])
    assert a["yellow_s"] == a["all_red_s"] == 0.0  # g0 goes on green into the next phase
    assert b["yellow_s"] == 3.0 and c["yellow_s"] == 3.0
    assert sum(p["green_s"] + p["yellow_s"] + p["all_red_s"] for p in (a, b, c)) == 90.0


def test_a_lone_green_stays_green() -> None:
    (only,) = phases_by_lanes([_st(90, "g0")], {}, 75.0, 3.0, 2.0)
    assert only == {"groups": ["g0"], "green_s": 75.0, "yellow_s": 0.0, "all_red_s": 0.0}


def test_no_green_below_the_minimum_and_the_cycle_grows_when_it_must() -> None:
    assert shares({0: 10.0, 1: 1.0}, 40.0) == {1: MIN_GREEN_S, 0: 30.0}
    assert shares({0: 1.0, 1: 1.0, 2: 1.0}, 20.0) == dict.fromkeys((0, 1, 2), MIN_GREEN_S)
