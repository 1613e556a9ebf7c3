"""The cabinet of a plan written in stages runs each signal group on its own and never shows
an unsafe display, whatever the centre sends: minimum green, yellow and all-red hold across
every change of program, conflicting groups are never green together; and its stored plan,
run by it in the closed loop, is exactly the fixed-time head's."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stage_plans import COLOGNE_LIKE, stage_scenario

from trafficsim.runner.closed_loop import LoopOptions, run_closed_loop
from trafficsim.sensors.signals import (
    Cabinet,
    CabinetLimits,
    GroupCabinet,
    IntersectionConfig,
    PhaseTiming,
    StageTiming,
    parse_command,
    phases_as_stages,
)
from trafficsim.sensors.signals.plans import PlanRejectedError
from trafficsim.sim import World, compute
from trafficsim.sim.scenario_io import scenario_from_dict

# The Cologne pattern: the left turn "lt" keeps its green through the through movement's
# yellow, then the cross street "ew" runs (56 s).
STAGES = (
    StageTiming.of(20.0, {"th", "lt"}),
    StageTiming.of(3.0, {"lt"}, {"th"}),
    StageTiming.of(7.0, {"lt"}),
    StageTiming.of(3.0, (), {"lt"}),
    StageTiming.of(20.0, {"ew"}),
    StageTiming.of(3.0, (), {"ew"}),
)


def _cfg(**limits: Any) -> IntersectionConfig:
    return IntersectionConfig.from_stored_stages("X", STAGES, limits=CabinetLimits(**limits))


def _changes(cab: GroupCabinet, t: float, until: float, step: float = 2.0) -> list[tuple]:
    out = []
    while t < until:
        out += [(c.t_s, c.group, c.state.value) for c in cab.advance(t, t + step)]
        t += step
    return out


def test_the_stored_stage_plan_runs_as_written() -> None:
    cfg = _cfg()
    assert cfg.groups == ("lt", "th", "ew")
    assert cfg.phase_table == ({"lt", "th"}, {"lt"}, {"ew"})
    assert (cfg.min_yellow_s, cfg.min_all_red_s) == (3.0, 0.0)
    assert cfg.conflicts("th", "ew") and cfg.conflicts("lt", "ew") and not cfg.conflicts("lt", "th")
    cab = GroupCabinet(cfg)
    assert sorted(_changes(cab, 0.0, 60.0)) == sorted(
        [
            (0.0, "lt", "green"),
            (0.0, "th", "green"),
            (20.0, "th", "yellow"),
            (23.0, "th", "red"),
            (30.0, "lt", "yellow"),
            (33.0, "lt", "red"),
            (33.0, "ew", "green"),
            (53.0, "ew", "yellow"),
            (56.0, "ew", "red"),
            (56.0, "lt", "green"),
            (56.0, "th", "green"),
        ]
    )
    assert cab.mode == "fixed"


def _stage(phase: int, plan_id: str = "s") -> dict:
    return {"intersection": "X", "planId": plan_id, "kind": "stage", "phase": phase}


def test_a_stage_command_keeps_the_minimum_green_the_yellows_and_the_all_red() -> None:
    cab = GroupCabinet(_cfg(min_green_s=5.0))
    assert _changes(cab, 0.0, 2.0) == [(0.0, "lt", "green"), (0.0, "th", "green")]
    assert cab.receive(_stage(2), 2.0)[0]
    # Both greens end at their minimum green (5 s), each shows its own yellow (3 s), and the
    # cross street turns green when both are red.
    assert sorted(_changes(cab, 2.0, 12.0)) == [
        (5.0, "lt", "yellow"),
        (5.0, "th", "yellow"),
        (8.0, "ew", "green"),
        (8.0, "lt", "red"),
        (8.0, "th", "red"),
    ]
    # The left turn alone next, asked for at 12 s: the cross street (green since 8 s) keeps
    # its minimum green to 13 s, then shows its yellow.
    assert cab.receive(_stage(1), 12.0)[0]
    assert sorted(_changes(cab, 12.0, 20.0)) == [
        (13.0, "ew", "yellow"),
        (16.0, "ew", "red"),
        (16.0, "lt", "green"),
    ]
    assert cab.mode == "stage" and cab.plan_id == "s"


def test_stage_control_rests_no_longer_than_the_maximum_green() -> None:
    cab = GroupCabinet(_cfg(max_green_s=30.0))
    changes = _changes(cab, 0.0, 2.0)
    for t in range(2, 62, 20):  # the same stage command, repeated as a heartbeat
        assert cab.receive(_stage(2), float(t))[0]
        changes += _changes(cab, float(t), t + 20.0)
    # The cross street from 8 s rests to its maximum green (38 s); the next phase of the
    # table (through and left turn) gets its minimum green (41-46 s), then it returns.
    assert [c for c in changes if 30.0 <= c[0] < 60.0] == [
        (38.0, "ew", "yellow"),
        (41.0, "ew", "red"),
        (41.0, "lt", "green"),
        (41.0, "th", "green"),
        (46.0, "lt", "yellow"),
        (46.0, "th", "yellow"),
        (49.0, "lt", "red"),
        (49.0, "th", "red"),
        (49.0, "ew", "green"),
    ]


def test_the_cabinet_falls_back_to_its_stored_stages_when_the_centre_goes_quiet() -> None:
    cfg = _cfg(fallback_s=30.0)
    cab = GroupCabinet(cfg)
    assert cab.backup_s == 30.0
    _changes(cab, 0.0, 2.0)
    assert cab.receive(_stage(2), 2.0)[0]
    more = _changes(cab, 2.0, 100.0)
    fell = cab.history[-1]
    assert (fell.t_s, fell.mode, fell.last_command_s) == (32.0, "fallback", 2.0)
    # The stored plan from its first stage at 32 s: the cross street (green since 8 s)
    # shows its yellow, then the through and the left turn get green.
    assert [c for c in more if 32.0 <= c[0] < 36.0] == [
        (32.0, "ew", "yellow"),
        (35.0, "ew", "red"),
        (35.0, "lt", "green"),
        (35.0, "th", "green"),
    ]
    assert cab.on_fallback and cab.stats.fallbacks == 1


def test_a_cycle_plan_in_stages_runs_from_the_next_cycle_boundary() -> None:
    cab = GroupCabinet(_cfg())
    longer = [StageTiming.of(30.0, {"th", "lt"}), *STAGES[1:]]
    payload = {
        "intersection": "X",
        "planId": "c",
        "kind": "cycle",
        "stages": [s.to_payload() for s in longer],
    }
    assert cab.receive(payload, 0.0) == (True, "accepted, runs from the next cycle boundary")
    changes = []
    for t in range(0, 120, 20):  # heartbeats within the backup time (39 s)
        assert cab.receive(payload, float(t))[0]
        changes += _changes(cab, float(t), t + 20.0)
    assert (56.0, "th", "green") in changes and (86.0, "th", "yellow") in changes
    assert cab.mode == "cycle" and cab.history[-1].t_s == 56.0
    assert cab.receive(payload, 120.0)[1] == "accepted (same plan, kept running)"


def _cycle(*stages: dict) -> dict:
    return {"intersection": "X", "planId": "p", "kind": "cycle", "stages": list(stages)}


def _st(duration: float, green: list[str], yellow: list[str] | None = None) -> dict:
    return {"durationSeconds": duration, "green": green, "yellow": yellow or []}


GOOD = [s.to_payload() for s in STAGES]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (_cycle(*GOOD[:4], _st(20, ["ew", "th"]), GOOD[5]), "'ew' and 'th' conflict"),
        (_cycle(_st(20, ["th", "xx"]), *GOOD[1:]), "unknown signal group(s) ['xx']"),
        (_cycle(_st(0, ["th", "lt"]), *GOOD[1:]), "stages[0].durationSeconds"),
        (_cycle(*GOOD[:4]), "signal group(s) ['ew'] never get green"),
        (
            _cycle(_st(3, ["th", "lt"]), *GOOD[1:]),
            "stages[0]: group 'th' is green for 3 s, below the minimum green 5 s",
        ),
        (
            _cycle(GOOD[0], _st(1, ["lt"], ["th"]), *GOOD[2:]),
            "stages[1].yellow: group 'th' shows 1 s of yellow, shorter than this "
            "intersection's yellow 3 s",
        ),
        (  # the cross street during the left turn's yellow: no intergreen
            _cycle(*GOOD[:3], _st(3, ["ew"], ["lt"]), *GOOD[4:]),
            "stages[3].green: group 'ew' turns green while conflicting group 'lt' still shows",
        ),
        (_cycle(*GOOD[:4], _st(125, ["ew"]), GOOD[5]), "above the maximum green"),
        (_cycle(_st(20, ["th", "lt"], ["lt"]), *GOOD[1:]), "'lt' is green in this stage"),
        (
            _cycle(GOOD[0], _st(3, ["lt"], ["ew"]), *GOOD[2:]),
            "group 'ew' turns yellow without a green before it",
        ),
    ],
)
def test_invalid_stage_plans_are_rejected_with_the_reason(payload: dict, reason: str) -> None:
    cab = GroupCabinet(_cfg())
    ok, why = cab.receive(payload, 0.0)
    assert not ok
    assert reason in why
    assert cab.mode == "fixed"


def test_an_all_red_below_the_intersections_is_rejected() -> None:
    stored = (*STAGES[:4], StageTiming.of(1.0), STAGES[4], STAGES[5], StageTiming.of(1.0))
    cfg = IntersectionConfig.from_stored_stages("X", stored)
    assert cfg.min_all_red_s == 1.0
    ok, why = GroupCabinet(cfg).receive(_cycle(*GOOD), 0.0)
    assert not ok
    assert "turns green 0 s after the yellow of conflicting group" in why
    assert "less than this intersection's all-red 1 s" in why


def test_phases_and_stages_go_to_the_cabinet_of_their_form() -> None:
    phase_cfg = IntersectionConfig.from_stored(
        "X", (PhaseTiming.of({"NS"}, 27.0, 3.0), PhaseTiming.of({"EW"}, 27.0, 3.0))
    )
    ok, why = Cabinet(phase_cfg).receive(
        _cycle(_st(27, ["NS"]), _st(3, [], ["NS"]), _st(27, ["EW"]), _st(3, [], ["EW"])), 0.0
    )
    assert not ok and "this cabinet runs plans in phases" in why
    # A group cabinet runs a cycle plan in phases as the stages the phases show.
    phases = [
        {"groups": ["th", "lt"], "greenSeconds": 20, "yellowSeconds": 3},
        {"groups": ["lt"], "greenSeconds": 7, "yellowSeconds": 3},
        {"groups": ["ew"], "greenSeconds": 20, "yellowSeconds": 3},
    ]
    plan = parse_command(
        {"intersection": "X", "planId": "p", "kind": "cycle", "phases": phases}, _cfg()
    )
    assert not isinstance(plan, dict) and plan.stages == STAGES  # type: ignore[union-attr]


# -- whatever the centre sends, the display stays safe ----------------------------------------
GROUPS = ["A", "B", "C", "D", "E"]


@st.composite
def stage_configs(draw: Any) -> IntersectionConfig:
    """Random stored plans of the Cologne kind: phases whose shared groups stay green
    through the others' yellow, written in stages, with random yellows and all-reds."""
    n_groups = draw(st.integers(2, 5))
    groups = GROUPS[:n_groups]
    n_phases = draw(st.integers(2, 4))
    sets = []
    for k in range(n_phases):
        sets.append({groups[k % n_groups]} | draw(st.sets(st.sampled_from(groups), max_size=2)))
    for g in groups[n_phases:]:
        sets[draw(st.integers(0, n_phases - 1))].add(g)
    for a, b in itertools.pairwise(sets + sets[:1]):
        if a == b:
            b.add(groups[-1] if groups[-1] not in b else groups[0])
    yellow = draw(st.sampled_from([3.0, 4.0]))
    all_red = draw(st.sampled_from([0.0, 1.0, 2.0]))
    phases = [PhaseTiming.of(s, draw(st.floats(6.0, 40.0)), yellow, all_red) for s in sets]
    limits = CabinetLimits(fallback_s=draw(st.sampled_from([20.0, 60.0, 120.0])))
    offset = draw(st.floats(0.0, 100.0))
    return IntersectionConfig.from_stored_stages("X", phases_as_stages(phases), offset, limits)


def _command(draw: Any, cfg: IntersectionConfig) -> object:
    kind = draw(st.sampled_from(["stage", "stage", "cycle", "cycle", "phases", "junk"]))
    if kind == "stage":
        return _stage(draw(st.integers(-1, len(cfg.phase_table))))
    if kind == "junk":
        return draw(
            st.one_of(
                st.none(), st.dictionaries(st.sampled_from(["kind", "stages"]), st.text(max_size=3))
            )
        )
    if kind == "phases":
        n = draw(st.integers(1, 3))
        phases = [
            {
                "groups": draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=3)),
                "greenSeconds": draw(st.floats(0.0, 60.0)),
                "yellowSeconds": draw(st.sampled_from([0.0, 3.0, 4.0])),
                "allRedSeconds": draw(st.sampled_from([0.0, 1.0, 2.0])),
            }
            for _ in range(n)
        ]
        return {"intersection": "X", "planId": "p", "kind": "cycle", "phases": phases}
    # The stored stages with random durations: often valid, sometimes too short.
    stages = [
        {
            **s.to_payload(),
            "durationSeconds": draw(st.sampled_from([s.duration_s, 0.5, 1.0, 12.0, 30.0])),
        }
        for s in cfg.stored_stages
    ]
    return _cycle(*stages)


def _check_timeline(cab: GroupCabinet, cfg: IntersectionConfig, changes: list, start: dict) -> None:
    """Replay the display from the cabinet's initial one and check every safety rule."""
    state = dict.fromkeys(cfg.groups, "red")
    since = dict.fromkeys(cfg.groups, -math.inf)
    red_at = dict.fromkeys(cfg.groups, -math.inf)
    t_first = changes[0].t_s
    for i, c in enumerate(changes):
        if i:
            assert c.t_s >= changes[i - 1].t_s, "changes out of order"
        old = state[c.group]
        initial = (
            c.t_s == t_first and old == "red" and all(x.t_s == t_first for x in changes[: i + 1])
        )
        if c.state == "yellow" and not initial:
            assert old == "green", f"{c}: yellow must follow green"
            assert c.t_s - since[c.group] >= cab.min_green_s - 1e-9, f"{c}: green shortened"
        elif c.state == "red" and old == "yellow":
            assert c.t_s - since[c.group] >= cfg.min_yellow_s - 1e-9, f"{c}: yellow shortened"
        elif c.state == "red" and old == "green":
            assert dict(cfg.group_yellow_s)[c.group] == 0, f"{c}: green straight to red"
        if c.state == "red":
            red_at[c.group] = c.t_s
        if c.state == "green" and not initial:
            for other, s in state.items():
                if cfg.conflicts(other, c.group):
                    assert s == "red", f"{c}: {other} is {s}"
                    gap = c.t_s - red_at[other]
                    assert gap >= cfg.min_all_red_s - 1e-9, f"{c}: all-red {gap} s after {other}"
        state[c.group] = c.state
        since[c.group] = start[c.group] if initial else c.t_s
    green_now = [g for g, s in state.items() if s == "green"]
    for a, b in itertools.combinations(green_now, 2):
        assert not cfg.conflicts(a, b)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_no_command_stream_makes_a_group_cabinet_unsafe(data: Any) -> None:
    cfg = data.draw(stage_configs())
    cab = GroupCabinet(cfg)
    start = dict(cab.since)
    step = data.draw(st.sampled_from([1.0, 2.0, 5.0]))
    changes = []
    rejected = 0
    t = 0.0
    for _ in range(data.draw(st.integers(20, 60))):
        for _ in range(data.draw(st.integers(0, 2))):
            payload = _command(data.draw, cfg)
            ok, reason = cab.receive(payload, t)
            if not ok:
                rejected += 1
                assert reason
                with pytest.raises(PlanRejectedError):
                    parse_command(payload, cfg)
        changes += cab.advance(t, t + step)
        t += step
    assert cab.stats.rejected == rejected
    _check_timeline(cab, cfg, changes, start)
    # Silence: back on the stored plan within the backup time, and still safe.
    quiet = t
    while t < quiet + cfg.backup_s + 2 * cfg.stored_cycle_s:
        changes += cab.advance(t, t + step)
        t += step
    _check_timeline(cab, cfg, changes, start)
    assert cab.mode in ("fixed", "fallback")
    if cab.history[-1].mode == "fallback" and cab.last_command_s is not None:
        assert cab.history[-1].t_s <= cab.last_command_s + cfg.backup_s + step + 1e-9


# -- the closed loop on a plan in stages -------------------------------------------------------
def test_the_stored_stage_plan_in_the_closed_loop_is_the_fixed_time_heads() -> None:
    sc = scenario_from_dict(stage_scenario({"stages": COLOGNE_LIKE}, duration_s=600.0), "stages")
    alone = World(sc, 1)
    alone.run()
    looped, stats = run_closed_loop(sc, 1, LoopOptions(controller="fixed"))
    assert stats.accepted > 0 and stats.rejected == 0 and stats.fallbacks == 0
    a, b = compute(alone).summary, compute(looped).summary
    # Every vehicle moves the same; only the per-approach timing is counted differently (a
    # cabinet's head divides the run by its green starts, the fixed-time head knows its
    # cycle), as for plans in phases.
    timing = {"cycle_s", "effective_green_s", "capacity_veh_per_h", "v_over_c"}
    for s in (a, b):
        s.pop("wall_time_s")
        s["approaches"] = [{k: v for k, v in x.items() if k not in timing} for x in s["approaches"]]
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_stage_plans_on_the_wire_meet_the_contract(feed_contract: Any) -> None:
    """A group cabinet's metadata (its stored plan as stages, the phase table of its green
    sets) and a cycle command in stages survive JSON and are valid on their channels; a
    command with both phases and stages is one PayloadError."""
    from trafficsim.sensors.mqtt.messages import CycleCommand, PayloadError, SignalMeta
    from trafficsim.sensors.mqtt.messages import parse_command as parse_message
    from trafficsim.sensors.mqtt.payloads import encode
    from trafficsim.sensors.signals.bridge import SignalBridge

    sc = scenario_from_dict(stage_scenario({"stages": COLOGNE_LIKE}, duration_s=60.0), "stages")
    bridge = SignalBridge(World(sc, 0, external_signals=True))
    assert isinstance(bridge.cabinets["C"], GroupCabinet)
    meta = bridge.signal_meta("C")
    assert meta.stored_phases == () and len(meta.stored_stages) == 6
    assert meta.phases == (("lt", "th"), ("lt",), ("ew",))
    payload = meta.to_payload()
    assert "stages" in payload["storedPlan"] and "phases" not in payload["storedPlan"]
    feed_contract.check("hcmc/meta/signals/C", encode(payload))
    assert SignalMeta.from_payload(json.loads(encode(payload))) == meta
    cmd = CycleCommand("C", "fixed-1", (), 4.0, meta.stored_stages)
    payload = cmd.to_payload()
    feed_contract.check("hcmc/signal/C/plan", encode(payload))
    assert parse_message(json.loads(encode(payload))) == cmd
    both = {**payload, "phases": [{"groups": ["th"], "greenSeconds": 20, "yellowSeconds": 3}]}
    with pytest.raises(PayloadError, match="phases or stages, not both"):
        parse_message(both)
