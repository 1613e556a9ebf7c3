"""A stage program (SUMO's, netconvert's guess) as a fixed-time plan in phases, timed to a
common cycle by the lanes each phase serves.

Where no signal plans are public, "today's plans" are an assumption, and the plainest one a
traffic engineer would write is a common cycle whose greens are shared among the phases by
the lanes they serve. Phases rather than stages because Webster's retiming and the
predictive controller time plans in phases (``models/optimizer``).

The phase sequence comes from the stage program: a phase starts at each stage that turns a
group green that was not green in the stage before (cyclically), and holds that stage's
green groups (within a run of stages green sets only shrink, so its groups were all green
together and none conflict). Stages that turn nothing green (a clearance, or a long stage
whose movements were all left out of the network) are dropped. Each phase's green is its
share of the cycle left after the intergreens, weighed by the green the program gave it
times the lanes of the widest approach it serves, never below :data:`MIN_GREEN_S`; a phase
whose groups all carry on into the next one has no intergreen (nothing stops). This keeps
the order of the program and drops its overlaps: a left arrow that ran on after its
through movement gets a phase of its own only where it started one.
"""

from __future__ import annotations

from typing import Any

MIN_GREEN_S = 10.0
"""Shortest green of a phase: an ASSUMPTION (a pedestrian crossing's time)."""


def phases_by_lanes(
    stages: list[dict[str, Any]],
    lanes: dict[str, int],
    cycle_s: float,
    yellow_s: float,
    all_red_s: float,
) -> list[dict[str, Any]]:
    """``[[signals.phases]]`` rows of the stage program ``stages``; ``lanes``: lanes of the
    widest approach of each signal group."""
    runs: list[tuple[set[str], float]] = []  # (groups, the program's green for them)
    n = len(stages)
    for i, st in enumerate(stages):
        green = set(st.get("green", ()))
        before = set(stages[i - 1].get("green", ())) if n > 1 else set()
        if green - before or (n == 1 and green):
            runs.append((green, 0.0))
        if runs and green:
            groups, g = runs[-1]
            if green <= groups:
                runs[-1] = (groups, g + float(st["duration_s"]))
    if not runs:  # a program whose greens all continue from the stage before: one phase
        groups = set().union(*(set(s.get("green", ())) for s in stages))
        runs = [(groups, sum(float(s["duration_s"]) for s in stages))]
    # Whether a phase's intergreen is shown: some group of it stops (a lone phase's never).
    ends = [
        len(runs) > 1 and not groups <= runs[(k + 1) % len(runs)][0]
        for k, (groups, _) in enumerate(runs)
    ]
    lost = sum(yellow_s + all_red_s for e in ends if e)
    weight = {
        k: g * max((lanes.get(x, 1) for x in groups), default=1)
        for k, (groups, g) in enumerate(runs)
    }
    greens = shares(weight, max(cycle_s - lost, MIN_GREEN_S * len(runs)))
    return [
        {
            "groups": sorted(groups),
            "green_s": round(greens[k], 1),
            "yellow_s": yellow_s if ends[k] else 0.0,
            "all_red_s": all_red_s if ends[k] else 0.0,
        }
        for k, (groups, _) in enumerate(runs)
    ]


def shares(weight: dict[int, float], room_s: float) -> dict[int, float]:
    """``room_s`` split by weight, no share below :data:`MIN_GREEN_S` (those take the
    minimum and the rest is split among the others); a room too small for every minimum
    gives every one the minimum, and the cycle grows."""
    fixed: dict[int, float] = {}
    while True:
        free = {i: w for i, w in weight.items() if i not in fixed}
        left = room_s - sum(fixed.values())
        total = sum(free.values())
        share = {i: left * w / total for i, w in free.items()} if total else {}
        short = [i for i, g in share.items() if g < MIN_GREEN_S]
        if not short:
            return {**fixed, **share}
        fixed.update(dict.fromkeys(short, MIN_GREEN_S))
