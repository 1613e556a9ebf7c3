"""Per-group signal timing: plans written in stages (SUMO's form), each group with its own
green and yellow, against hand-computed discharge; phases and the same plan in stages give
identical runs; a bad stage plan is one clear error naming the file and the field."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from stage_plans import COLOGNE_LIKE
from stage_plans import stage_scenario as _scenario

from trafficsim.sim import ScenarioError, SignalPlan, Stage, World, compute, load_scenario
from trafficsim.sim.config import SignalSpec
from trafficsim.sim.scenario_io import scenario_from_dict


def _departures(world: World) -> dict[str, np.ndarray]:
    rec = world.records()
    out = {}
    for info in world.lane_group_info:
        if info.kind.value == "approach":
            t = np.sort(rec["t_dep_s"][rec["lane_group"] == info.index])
            out[str(info.group)] = t[np.isfinite(t)]
    return out


def test_a_left_turn_green_through_the_through_yellow_discharges_in_its_own_window() -> None:
    sc = scenario_from_dict(_scenario({"stages": COLOGNE_LIKE}), "stages")
    plan = sc.signals[0].plan
    assert plan.cycle_s == 56.0
    # HCM: effective green from 2 s after the green to 2 s into the yellow. The left turn's
    # green ends at 30 s, 10 s after the through's: its window reaches into its own yellow.
    assert plan.effective_windows(2.0, 2.0) == {
        "th": [(2.0, 22.0)],
        "lt": [(2.0, 32.0)],
        "ew": [(35.0, 55.0)],
    }
    world = World(sc, 0)
    world.run()
    dep = _departures(world)
    # Cars (1 PCU) at 1,800 PCU/h per lane: a 2 s headway. Every cycle from the second on
    # starts with a queue, so departures fill each window at 2 s from its start: 10 through
    # cars (2..20 s), 15 left turns (2..30 s), 10 on the cross street (35..53 s).
    for c in range(1, 9):
        t0 = 56.0 * c
        for group, first, count in (("th", 2.0, 10), ("lt", 2.0, 15), ("ew", 35.0, 10)):
            got = dep[group][(dep[group] >= t0) & (dep[group] < t0 + 56.0)] - t0
            assert got.tolist() == [first + 2.0 * i for i in range(count)], (group, c)


def test_the_same_plan_as_phases_and_as_stages_gives_identical_runs() -> None:
    sc = load_scenario("isolated", {"duration_s": 1800.0, "all_red_s": 2.0})
    phases = sc.signals[0].plan
    stages = SignalPlan(stages=phases.as_stages(), offset_s=phases.offset_s)
    assert [(s.duration_s, s.green, s.yellow) for s in stages.stages] == [
        (27.0, ("NS",), ()),
        (3.0, (), ("NS",)),
        (2.0, (), ()),
        (27.0, ("EW",), ()),
        (3.0, (), ("EW",)),
        (2.0, (), ()),
    ]
    assert stages.effective_windows(2.0, 2.0) == phases.effective_windows(2.0, 2.0)
    as_stages = dataclasses.replace(sc, signals=(SignalSpec("C", stages),))
    runs = []
    for scenario in (sc, as_stages):
        world = World(scenario, 3)
        world.run()
        summary = compute(world).summary
        summary.pop("wall_time_s")
        runs.append(json.dumps(summary, sort_keys=True))
    assert runs[0] == runs[1]


def test_a_green_across_the_cycle_boundary_runs_on() -> None:
    """The same plan started two stages later (the cross street's green now runs from the
    last stage into the first) with the offset that keeps its times gives the same run."""
    rotated = [
        {"duration_s": 10, "green": ["ew"]},
        {"duration_s": 3, "yellow": ["ew"]},
        *COLOGNE_LIKE[:4],
        {"duration_s": 10, "green": ["ew"]},
    ]
    a = scenario_from_dict(_scenario({"stages": COLOGNE_LIKE}), "a")
    b = scenario_from_dict(_scenario({"stages": rotated, "offset_s": 43.0}), "b")
    assert b.signals[0].plan.effective_windows(2.0, 2.0)["ew"] == [(48.0, 68.0)]
    assert b.signals[0].plan.effective_green_s("ew", 2.0, 2.0) == 20.0
    deps = []
    for sc in (a, b):
        world = World(sc, 0)
        world.run()
        deps.append({g: t[t < 540.0].tolist() for g, t in _departures(world).items()})
    assert deps[0] == deps[1]


def test_a_group_green_in_every_stage_never_loses_start_up_time() -> None:
    plan = SignalPlan(
        stages=(Stage(30.0, ("a", "b")), Stage(3.0, ("a",), ("b",)), Stage(20.0, ("a",)))
    )
    assert plan.always_green() == {"a"}
    assert plan.effective_windows(2.0, 2.0)["a"] == [(0.0, 53.0)]
    assert plan.effective_green_s("a", 2.0, 2.0) == 53.0
    assert plan.effective_green_s("b", 2.0, 2.0) == 30.0


def _load(tmp_path: Path, signal: dict[str, Any]) -> ScenarioError:
    import tomli_w

    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps(_scenario(signal)), encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(str(path))
    assert exc.value.source == str(path)
    return exc.value


def _with(k: int, **stage: Any) -> list[dict[str, Any]]:
    out = [dict(s) for s in COLOGNE_LIKE]
    out[k] = {**out[k], **stage}
    return out


@pytest.mark.parametrize(
    ("signal", "field", "problem"),
    [
        (
            {"stages": _with(0, green=["th", "rt"])},
            "signals[0].stages[0].green",
            "no movement at node 'C' is in group 'rt'",
        ),
        ({"stages": _with(2, duration_s=0)}, "signals[0].stages[2].duration_s", "greater than 0"),
        ({"stages": _with(2, duration_s=-7)}, "signals[0].stages[2].duration_s", "greater than 0"),
        (
            {
                "stages": [
                    s
                    for s in COLOGNE_LIKE
                    if "ew" not in [*s.get("green", []), *s.get("yellow", [])]
                ]
            },
            "signals[0].stages",
            "['ew'] at node 'C' never get green",
        ),
        (
            {"stages": _with(1, green=["lt", "th"], yellow=["th"])},
            "signals[0].stages[1].yellow",
            "cannot be green and yellow in one stage",
        ),
        (
            {"stages": _with(2, yellow=["ew"])},
            "signals[0].stages[2].yellow",
            "turns yellow without a green before it",
        ),
        (  # the cross street turns green during the left turn's yellow
            {"stages": _with(3, green=["ew"])},
            "signals[0].stages[3].green",
            "group 'ew' turns green while conflicting group 'lt' still shows green or yellow",
        ),
        (  # the intersection needs 2 s of all-red; this plan has none
            {"stages": COLOGNE_LIKE, "min_all_red_s": 2.0},
            "signals[0].stages[0].green",
            "group 'lt' turns green 0 s after the yellow of conflicting group 'ew' ends; "
            "min_all_red_s is 2 s",
        ),
        (
            {"stages": COLOGNE_LIKE, "min_yellow_s": 4.0},
            "signals[0].stages[1].yellow",
            "group 'th' shows 3 s of yellow after its green; min_yellow_s is 4 s",
        ),
        (  # stated conflicts: the left turn crosses the through movement
            {"stages": COLOGNE_LIKE, "conflicts": [["th", "ew"], ["lt", "th"]]},
            "signals[0].stages[0].green",
            "groups 'lt' and 'th' conflict (signals conflicts) but are green together here",
        ),
        (
            {"stages": COLOGNE_LIKE, "conflicts": [["th", "xx"]]},
            "signals[0].conflicts[0]",
            "no movement at node 'C' is in group 'xx'",
        ),
        (
            {"stages": COLOGNE_LIKE, "phases": [{"groups": ["th"], "green_s": 20}]},
            "signals[0].stages",
            "not both",
        ),
        (
            {"stages": _with(0, duration_s=0.5), "min_all_red_s": 0.0},
            "signals[0].stages[0].duration_s",
            "group 'th' is green for 0.5 s from here",
        ),
    ],
)
def test_a_bad_stage_plan_names_the_file_and_the_field(
    tmp_path: Path, signal: dict[str, Any], field: str, problem: str
) -> None:
    err = _load(tmp_path, signal)
    assert err.field == field
    assert problem in err.problem


def test_stated_conflicts_that_the_plan_keeps_load(tmp_path: Path) -> None:
    import tomli_w

    path = tmp_path / "ok.toml"
    signal = {"stages": COLOGNE_LIKE, "conflicts": [["th", "ew"], ["lt", "ew"]]}
    path.write_text(tomli_w.dumps(_scenario(signal)), encoding="utf-8")
    spec = load_scenario(str(path)).signals[0]
    assert spec.conflicts == (("ew", "lt"), ("ew", "th"))
    assert spec.plan.stages[1] == Stage(3.0, ("lt",), ("th",))
