"""What a cycle plan shows each signal group, worked out from its phases or its stages
alone: the centre needs it to make plans a cabinet accepts, the cabinet to check them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trafficsim.sensors.mqtt.messages.control import PhaseTiming, StageTiming


def longest_reds_s(phases: Sequence[PhaseTiming]) -> dict[str, float]:
    """Each group's longest red in a cycle of ``phases`` run as the cabinet runs them: a
    group leaving green shows the outgoing phase's yellow, then red until the next phase
    that shows it turns green (after that phase's predecessor's yellow and all-red); a
    group green in consecutive phases stays green across the change. Groups never red
    (green in every phase) are 0."""
    n = len(phases)
    starts = []  # green start of each phase's entering groups, from 0
    t = 0.0
    for p in phases:
        starts.append(t)
        t += p.duration_s
    cycle = t
    longest: dict[str, float] = {}
    for k, p in enumerate(phases):
        nxt = phases[(k + 1) % n]
        for g in p.groups:
            longest.setdefault(g, 0.0)
            if n == 1 or g in nxt.group_set:
                continue
            red_from = starts[k] + p.green_s + p.yellow_s
            j = (k + 1) % n
            while g not in phases[j].group_set:
                j = (j + 1) % n
            green_at = starts[j] + (cycle if j <= k else 0.0)
            longest[g] = max(longest[g], green_at - red_from)
    return longest


@dataclass(frozen=True, slots=True)
class StageGreen:
    """One green of a group in a cycle of stages (s from the cycle start; ``end_s`` passes
    the cycle length when it runs on into the next cycle), its yellow, and the stages where
    the green and the yellow start (the index a refusal names)."""

    start_s: float
    end_s: float
    yellow_s: float
    stage: int
    yellow_stage: int


def stage_starts_s(stages: Sequence[StageTiming]) -> list[float]:
    """Start of each stage from the cycle start, and the cycle length last."""
    out = [0.0]
    for st in stages:
        out.append(out[-1] + st.duration_s)
    return out


def stage_greens(stages: Sequence[StageTiming]) -> dict[str, list[StageGreen]]:
    """Each group's greens in one cycle of ``stages``: a green runs through consecutive
    stages that show the group green (across the cycle boundary too), its yellow through the
    stages that follow showing it yellow. A group green in every stage has one green, the
    whole cycle, with no yellow."""
    n = len(stages)
    b = stage_starts_s(stages)
    cycle = b[-1]
    groups = dict.fromkeys(g for st in stages for g in st.green)
    out: dict[str, list[StageGreen]] = {}
    for g in groups:
        green = [g in st.green for st in stages]
        if all(green):
            out[g] = [StageGreen(0.0, cycle, 0.0, 0, 0)]
            continue
        yellow = [g in st.yellow and not green[k] for k, st in enumerate(stages)]
        runs = []
        for k in range(n):
            if not green[k] or green[k - 1]:
                continue
            j = k
            while green[(j + 1) % n]:
                j += 1
            y = j
            while yellow[(y + 1) % n] and (y + 1) % n != k:
                y += 1
            end = b[j + 1] if j < n else cycle + b[j + 1 - n]
            yellow_end = b[y + 1] if y < n else cycle + b[y + 1 - n]
            runs.append(StageGreen(b[k], end, yellow_end - end, k, (j + 1) % n))
        out[g] = runs
    return out


def stage_reds_s(stages: Sequence[StageTiming]) -> dict[str, float]:
    """Each group's longest red in a cycle of ``stages`` (from the end of a yellow to the
    next green); 0 for a group green in every stage."""
    cycle = stage_starts_s(stages)[-1]
    out = {}
    for g, greens in stage_greens(stages).items():
        longest = 0.0
        for i, gr in enumerate(greens):
            nxt = greens[(i + 1) % len(greens)]
            red_from = gr.end_s + gr.yellow_s
            green_at = nxt.start_s + (cycle if i + 1 >= len(greens) else 0.0)
            if gr.end_s - gr.start_s < cycle:
                longest = max(longest, green_at - red_from)
        out[g] = longest
    return out


def phases_as_stages(phases: Sequence[PhaseTiming]) -> tuple[StageTiming, ...]:
    """A cycle of phases as the phase cabinet runs it, in stages: each phase's green, then,
    if any group leaves, its yellow for the leaving groups and its all-red, the groups it
    shares with the next phase staying green throughout."""
    out = []
    n = len(phases)
    for k, p in enumerate(phases):
        nxt = phases[(k + 1) % n]
        stay = p.group_set & nxt.group_set if n > 1 else p.group_set
        leaving = p.group_set - stay
        out.append(StageTiming.of(p.green_s, p.groups))
        if leaving:
            if p.yellow_s > 0:
                out.append(StageTiming.of(p.yellow_s, stay, leaving))
            if p.all_red_s > 0:
                out.append(StageTiming.of(p.all_red_s, stay))
    return tuple(out)
