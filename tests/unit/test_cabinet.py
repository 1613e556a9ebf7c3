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


def command(draw: Any, cfg: IntersectionConfig) -> object:
    kind = draw(st.sampled_from(["stage", "stage", "cycle", "cycle", "junk", "bad-stage"]))
    if kind == "stage":
        return {
            "intersection": "X",
            "planId": "p",
            "kind": "stage",
            "phase": draw(st.integers(0, len(cfg.stored) - 1)),
        }
    if kind == "bad-stage":
        return {
            "intersection": "X",
            "planId": "p",
            "kind": "stage",
            "phase": draw(st.integers(-3, 12)),
        }
    if kind == "junk":
        return draw(
            st.one_of(
                st.none(),
                st.integers(),
                st.dictionaries(st.sampled_from(["kind", "phases", "planId"]), st.text(max_size=3)),
            )
        )
    n = draw(st.integers(1, 4))
    phases = []
    for _ in range(n):
        phases.append(
            {
                "groups": draw(st.lists(st.sampled_from(GROUP_NAMES), min_size=1, max_size=3)),
                "greenSeconds": draw(st.floats(0.0, 70.0)),
                "yellowSeconds": draw(st.sampled_from([0.0, 2.0, 3.0, 4.0])),
                "allRedSeconds": draw(st.sampled_from([0.0, 1.0, 2.0])),
            }
        )
    return {"intersection": "X", "planId": "p", "kind": "cycle", "phases": phases}


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
    step = data.draw(st.sampled_from([1.0, 2.0, 5.0]))
    changes = []
    rejected = 0
    t = 0.0
    for _ in range(data.draw(st.integers(20, 200))):
        for _ in range(data.draw(st.integers(0, 2))):
            payload = command(data.draw, cfg)
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
