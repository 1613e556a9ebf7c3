"""The cabinet never shows an unsafe display, whatever the centre sends and whenever.

Property-based: random stored plans, random command streams (valid, invalid and garbage)
arriving at random steps; the display timeline is checked against the conflict matrix, the
yellow and all-red times and the minimum green.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trafficsim.sensors.signals import (
    Cabinet,
    CabinetLimits,
    IntersectionConfig,
    PhaseTiming,
    parse_command,
)
from trafficsim.sensors.signals.plans import PlanRejectedError

GROUP_NAMES = ["A", "B", "C", "D", "E"]


@st.composite
def stored_plans(draw: Any) -> IntersectionConfig:
    n_groups = draw(st.integers(2, 5))
    groups = GROUP_NAMES[:n_groups]
    n_phases = draw(st.integers(2, 4))
    # Each group appears in at least one phase; phases may share groups (overlaps).
    phases = []
    for k in range(n_phases):
        own = {groups[k % n_groups]}
        extra = draw(st.sets(st.sampled_from(groups), max_size=2))
        phases.append(own | extra)
    for g in groups[n_phases:]:
        phases[draw(st.integers(0, n_phases - 1))].add(g)
    for a, b in itertools.pairwise(phases + phases[:1]):
        if a == b:
            b.add(groups[-1] if groups[-1] not in b else groups[0])
    yellow = draw(st.sampled_from([3.0, 4.0]))
    all_red = draw(st.sampled_from([0.0, 1.0, 2.0]))
    specs = tuple(PhaseTiming.of(p, draw(st.floats(5.0, 40.0)), yellow, all_red) for p in phases)
    limits = CabinetLimits(fallback_s=draw(st.sampled_from([20.0, 60.0, 120.0])))
    offset = draw(st.floats(0.0, 100.0))
    return IntersectionConfig.from_stored("X", specs, offset, limits)


# The strategies of a command, built once. A command stream is drawn as one composite
# strategy: drawn command by command through ``st.data()`` (each such draw saves and
# compares the global random state and is noted for the failure report), Hypothesis's own
# work took three times as long as the cabinet and the checks.
_KINDS = st.sampled_from(["stage", "stage", "cycle", "cycle", "junk", "bad-stage"])
_BAD_PHASE = st.integers(-3, 12)
_JUNK = st.one_of(
    st.none(),
    st.integers(),
    st.dictionaries(st.sampled_from(["kind", "phases", "planId"]), st.text(max_size=3)),
)
_N_PHASES = st.integers(1, 4)
_GROUPS = st.lists(st.sampled_from(GROUP_NAMES), min_size=1, max_size=3)
_GREEN = st.floats(0.0, 70.0)
_YELLOW = st.sampled_from([0.0, 2.0, 3.0, 4.0])
_ALL_RED = st.sampled_from([0.0, 1.0, 2.0])
_PER_STEP = st.integers(0, 2)
_STEP_S = st.sampled_from([1.0, 2.0, 5.0])


def command(draw: Any, cfg: IntersectionConfig) -> object:
    kind = draw(_KINDS)
    if kind == "stage":
        return {
            "intersection": "X",
            "planId": "p",
            "kind": "stage",
            "phase": draw(st.integers(0, len(cfg.stored) - 1)),
        }
    if kind == "bad-stage":
        return {"intersection": "X", "planId": "p", "kind": "stage", "phase": draw(_BAD_PHASE)}
    if kind == "junk":
        return draw(_JUNK)
    n = draw(_N_PHASES)
    phases = []
    for _ in range(n):
        phases.append(
            {
                "groups": draw(_GROUPS),
                "greenSeconds": draw(_GREEN),
                "yellowSeconds": draw(_YELLOW),
                "allRedSeconds": draw(_ALL_RED),
            }
        )
    return {"intersection": "X", "planId": "p", "kind": "cycle", "phases": phases}


@st.composite
def command_streams(draw: Any, cfg: IntersectionConfig, steps: int) -> list[list[object]]:
    """What arrives before each of ``steps`` steps: zero to two commands (one draw of the
    test's ``st.data()`` for the whole stream)."""
    return [[command(draw, cfg) for _ in range(draw(_PER_STEP))] for _ in range(steps)]


def _check_timeline(cfg: IntersectionConfig, changes: list) -> None:
    """Replay the display and check every safety rule."""
    lim = cfg.limits
    state = dict.fromkeys(cfg.groups, "red")
    since: dict[str, float] = dict.fromkeys(cfg.groups, -1e9)
    red_at: dict[str, float] = dict.fromkeys(cfg.groups, -1e9)
    for i, c in enumerate(changes):
        if i:
            assert c.t_s >= changes[i - 1].t_s, "changes out of order"
        old = state[c.group]
        if c.state == "yellow":
            assert old == "green", f"{c}: yellow must follow green"
            green_for = c.t_s - since[c.group]
            assert green_for >= lim.min_green_s - 1e-9, f"{c}: green of {green_for} s"
        elif c.state == "red" and old == "yellow":
            assert c.t_s - since[c.group] >= cfg.min_yellow_s - 1e-9, f"{c}: yellow shortened"
        elif c.state == "red" and old == "green":
            assert cfg.min_yellow_s == 0, f"{c}: green straight to red"
        if c.state == "red":
            red_at[c.group] = c.t_s
        if c.state == "green":
            for other, s in state.items():
                if cfg.conflicts(other, c.group):
                    assert s == "red", f"{c}: {other} is {s}"
                    gap = c.t_s - red_at[other]
                    assert gap >= cfg.min_all_red_s - 1e-9, f"{c}: all-red {gap} s after {other}"
        state[c.group] = c.state
        since[c.group] = c.t_s


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_no_command_stream_makes_the_display_unsafe(data: Any) -> None:
    cfg = data.draw(stored_plans())
    cab = Cabinet(cfg)
    step = data.draw(_STEP_S)
    changes = []
    rejected = 0
    t = 0.0
    for commands in data.draw(command_streams(cfg, data.draw(st.integers(20, 200)))):
        for payload in commands:
            ok, reason = cab.receive(payload, t)
            if not ok:
                rejected += 1
                assert reason, "a rejection must say why"
                with pytest.raises(PlanRejectedError):
                    parse_command(payload, cfg)
        changes += cab.advance(t, t + step)
        t += step
    assert cab.stats.rejected == rejected
    _check_timeline(cfg, changes)


def test_stage_commands_switch_after_min_green_and_fall_back_when_quiet() -> None:
    cfg = IntersectionConfig.from_stored(
        "X",
        (
            PhaseTiming.of({"NS"}, 27.0, 3.0, 1.0),
            PhaseTiming.of({"EW"}, 27.0, 3.0, 1.0),
        ),
        limits=CabinetLimits(min_green_s=5.0, fallback_s=30.0),
    )
    cab = Cabinet(cfg)
    changes = cab.advance(0.0, 2.0)
    assert [(c.group, c.state) for c in changes] == [("NS", "green")]
    ok, _ = cab.receive({"intersection": "X", "planId": "a", "kind": "stage", "phase": 1}, 2.0)
    assert ok
    changes = cab.advance(2.0, 12.0)
    # NS ends at its minimum green (5 s), yellow 3 s, all-red 1 s, then EW.
    assert [(c.t_s, c.group, c.state) for c in changes] == [
        (5.0, "NS", "yellow"),
        (8.0, "NS", "red"),
        (9.0, "EW", "green"),
    ]
    assert cab.mode == "stage"
    # Silence: after 30 s without a valid command the stored plan returns.
    t = 12.0
    while t < 100.0:
        cab.advance(t, t + 2.0)
        t += 2.0
    assert cab.mode == "fallback"
    assert cab.stats.fallbacks == 1


def _ph(groups: list[str], green: float, yellow: float = 3.0) -> dict:
    return {"groups": groups, "greenSeconds": green, "yellowSeconds": yellow}


def _cycle(*phases: dict) -> dict:
    return {"kind": "cycle", "phases": list(phases)}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (_cycle(_ph(["NS", "EW"], 20)), "conflict"),
        (_cycle(_ph(["NS"], 3), _ph(["EW"], 20)), "below the minimum green"),
        (_cycle(_ph(["NS"], 20, 2), _ph(["EW"], 20)), "shorter than this intersection's yellow"),
        (_cycle(_ph(["NS"], 20)), "never get green"),
        (_cycle(_ph(["NS"], 100), _ph(["EW"], 100)), "longer than the maximum"),
        (_cycle(_ph(["XX"], 20)), "unknown signal group"),
        ({"kind": "stage", "phase": 2}, "not in the phase table"),
        ({"kind": "dance"}, "kind"),
        ({"kind": "stage", "phase": 0, "intersection": "Y"}, "plan is for 'Y'"),
    ],
)
def test_invalid_plans_are_rejected_with_the_reason(payload: dict, reason: str) -> None:
    cfg = IntersectionConfig.from_stored(
        "X",
        (PhaseTiming.of({"NS"}, 27.0, 3.0), PhaseTiming.of({"EW"}, 27.0, 3.0)),
    )
    cab = Cabinet(cfg)
    ok, why = cab.receive({"intersection": "X", "planId": "p", **payload}, 0.0)
    assert not ok
    assert reason in why
    assert cab.mode == "fixed"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        # A 60 s yellow, a 60 s all-red, and the 120/5 starvation plan (NS red 123 s).
        (_cycle(_ph(["NS"], 20, 60), _ph(["EW"], 20)), "above the maximum yellow 6 s"),
        (
            _cycle({**_ph(["NS"], 20), "allRedSeconds": 60}, _ph(["EW"], 20)),
            "above the maximum all-red 6 s",
        ),
        (
            _cycle(_ph(["NS"], 5), _ph(["EW"], 120)),
            "group 'NS' is red for 123 s of each cycle, longer than the maximum red 120 s",
        ),
    ],
)
def test_rogue_yellow_all_red_and_starvation_plans_are_rejected(payload: dict, reason: str) -> None:
    cfg = IntersectionConfig.from_stored(
        "X", (PhaseTiming.of({"NS"}, 27.0, 3.0), PhaseTiming.of({"EW"}, 27.0, 3.0))
    )
    cab = Cabinet(cfg)
    ok, why = cab.receive({"intersection": "X", "planId": "p", **payload}, 0.0)
    assert not ok
    assert reason in why
    # Just inside every bound, the same plans are accepted.
    fair = _cycle(_ph(["NS"], 5, 6), {**_ph(["EW"], 111, 3), "allRedSeconds": 6})  # NS red 120 s
    assert cab.receive({"intersection": "X", "planId": "q", **fair}, 0.0)[0]


def test_a_stored_plan_longer_than_the_maximums_is_its_own_bound() -> None:
    cfg = IntersectionConfig.from_stored(
        "X", (PhaseTiming.of({"NS"}, 130.0, 7.0, 7.0), PhaseTiming.of({"EW"}, 10.0, 3.0))
    )
    assert (cfg.max_yellow_s, cfg.max_all_red_s) == (7.0, 7.0)
    assert cfg.max_red_s == 130.0 + 7.0 + 7.0  # EW waits out NS's green and intergreen
    assert parse_command(
        {"intersection": "X", "planId": "p", **_cycle(_ph(["NS"], 100, 7), _ph(["EW"], 20))}, cfg
    )


def test_longest_reds_follow_the_cabinets_phase_changes() -> None:
    from trafficsim.sensors.signals import longest_reds_s

    # B is green in two consecutive phases (no red between them); C only in the last.
    phases = (
        PhaseTiming.of({"A", "B"}, 20.0, 3.0, 1.0),
        PhaseTiming.of({"B"}, 10.0, 3.0, 2.0),
        PhaseTiming.of({"C"}, 15.0, 4.0, 0.0),
    )
    assert longest_reds_s(phases) == {
        "A": 1.0 + 10.0 + 3.0 + 2.0 + 15.0 + 4.0,
        "B": 2.0 + 15.0 + 4.0,
        "C": 20.0 + 3.0 + 1.0 + 10.0 + 3.0 + 2.0,
    }


def _stage(phase: int) -> dict:
    return {"intersection": "X", "planId": f"s{phase}", "kind": "stage", "phase": phase}


def _run_quiet(cab: Cabinet, t: float, until: float, step: float = 2.0) -> tuple[float, list]:
    changes = []
    while t < until:
        changes += cab.advance(t, t + step)
        t += step
    return t, changes


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_the_cabinet_falls_back_within_one_stored_cycle_of_the_last_command(data: Any) -> None:
    """Whatever the centre sent before it went quiet and whenever it stopped, the cabinet is
    back on its stored plan (the last commanded green ended) within one stored cycle of the
    last command it accepted, and the fallback cut no minimum green, yellow or all-red."""
    cfg = data.draw(stored_plans())
    cab = Cabinet(cfg)
    step = data.draw(_STEP_S)
    changes = []
    t = 0.0
    for commands in data.draw(command_streams(cfg, data.draw(st.integers(1, 40)))):
        for payload in commands:
            cab.receive(payload, t)
        changes += cab.advance(t, t + step)
        t += step
    # A last valid command, then silence.
    last = data.draw(st.sampled_from(["stage", "cycle"]))
    if last == "stage":
        payload: object = _stage(data.draw(st.integers(0, len(cfg.stored) - 1)))
    else:
        greens = [data.draw(st.floats(5.0, 25.0)) for _ in cfg.stored]
        payload = {
            "intersection": "X",
            "planId": "c",
            "kind": "cycle",
            "phases": [
                {**p.to_payload(), "greenSeconds": g}
                for p, g in zip(cfg.stored, greens, strict=True)
            ],
        }
    if not cab.receive(payload, t)[0]:  # a stored table that is no valid cycle plan
        assert cab.receive(_stage(0), t)[0]
    t_last = t
    cycle = cfg.stored_cycle_s
    central = cab.mode in ("cycle", "stage")
    more = []
    while t < t_last + 2 * cycle + 60.0:
        more += cab.advance(t, t + step)
        central = central or cab.mode in ("cycle", "stage")
        t += step
    _check_timeline(cfg, changes + more)
    assert cab.mode in ("fixed", "fallback")
    if not central:
        # A cycle plan still waiting for the stored cycle's end when the timer ran out
        # never started: the cabinet stayed on its stored plan.
        return
    fell = cab.history[-1]
    assert fell.mode == "fallback" and fell.last_command_s == t_last
    delay = fell.t_s - t_last
    intergreen = cfg.max_yellow_s + cfg.max_all_red_s
    assert delay <= cfg.backup_s + cfg.limits.min_green_s + intergreen + 1e-6
    if cycle >= 2 * (cfg.limits.min_green_s + intergreen):
        assert delay <= cycle + 1e-6, (delay, cycle)


def test_fallback_alarm_history_and_return_to_central_control() -> None:
    """The 60 s two-phase plan of the grid: backup time 60 - 5 (minimum green) - 12 (the
    longest intergreen the cabinet accepts) = 43 s; the history says when the centre took
    control, when the cabinet fell back and when control came back."""
    cfg = IntersectionConfig.from_stored(
        "X", (PhaseTiming.of({"NS"}, 27.0, 3.0), PhaseTiming.of({"EW"}, 27.0, 3.0))
    )
    assert cfg.backup_s == 43.0
    cab = Cabinet(cfg)
    cab.advance(0.0, 2.0)
    assert cab.receive(_stage(1), 2.0)[0]
    t, _ = _run_quiet(cab, 2.0, 100.0)
    # EW green from 8 s (NS's minimum green, then its 3 s yellow), rests; the timer runs out
    # at 2 + 43 = 45 s and the EW green ends there: the stored plan runs from then on.
    assert [(h.t_s, h.mode, h.last_command_s) for h in cab.history] == [
        (0.0, "fixed", None),
        (2.0, "stage", 2.0),
        (45.0, "fallback", 2.0),
    ]
    assert cab.stats.fallbacks == 1 and cab.on_fallback
    # The centre is back: stage commands take over at once, a cycle plan at the next cycle
    # boundary of the stored plan.
    assert cab.receive(_stage(0), t)[0]
    back = cab.history[-1]
    assert (back.t_s, back.mode, back.last_command_s) == (t, "stage", t)
    t, _ = _run_quiet(cab, t, t + 100.0)
    assert cab.history[-1].mode == "fallback"
    plan = _cycle(_ph(["NS"], 20), _ph(["EW"], 30))
    assert cab.receive({"intersection": "X", "planId": "c", **plan}, t)[0]
    assert cab.mode == "fallback"  # until the stored cycle ends
    t2, _ = _run_quiet(cab, t, t + 30.0)
    assert cab.receive({"intersection": "X", "planId": "c", **plan}, t2)[0]  # heartbeat
    _run_quiet(cab, t2, t + 62.0)
    assert cab.mode == "cycle" and cab.history[-1].mode == "cycle"
    assert cab.history[-1].t_s <= t + 60.0


def test_a_command_before_the_fallback_is_done_calls_it_off() -> None:
    cfg = IntersectionConfig.from_stored(
        "X", (PhaseTiming.of({"NS"}, 27.0, 3.0), PhaseTiming.of({"EW"}, 27.0, 3.0))
    )
    cab = Cabinet(cfg)
    plan = {"intersection": "X", "planId": "c", **_cycle(_ph(["NS"], 40), _ph(["EW"], 40))}
    assert cab.receive(plan, 0.0)[0]
    t, _ = _run_quiet(cab, 0.0, 60.0)  # the plan runs from the stored cycle's end (60 s)
    assert cab.receive(plan, t)[0]
    # NS green 60-100 s, yellow, EW green from 103 s; the timer runs out at 60 + 43 = 103 s
    # and the fallback waits for EW's minimum green: a command at 104 s calls it off.
    t, _ = _run_quiet(cab, t, 104.0)
    assert cab.receive(plan, t)[0]
    _run_quiet(cab, t, 140.0)
    assert cab.mode == "cycle" and cab.stats.fallbacks == 0
