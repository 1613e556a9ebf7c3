"""The checks of a cycle plan written in stages, one signal group at a time.

A stage plan gives each group its own greens and yellows (a left turn may stay green
through the through movement's yellow), so the cabinet checks what each group sees rather
than what a phase shows: every group gets green, each green lasts from the minimum to the
maximum green, a yellow follows a green and lasts at least the intersection's yellow, no
two conflicting groups are green together, a group turns green only when every group it
conflicts with has ended its yellow at least the intersection's all-red before, and no
group waits longer than the maximum red. Times wrap around the cycle: a plan runs cycle
after cycle, so the last stage is followed by the first.
"""

from __future__ import annotations

from collections.abc import Sequence

from trafficsim.sensors.mqtt.messages import StageTiming
from trafficsim.sensors.mqtt.messages.timing import (
    StageGreen,
    stage_greens,
    stage_reds_s,
    stage_starts_s,
)
from trafficsim.sensors.signals.config import IntersectionConfig, PlanRejectedError

_EPS = 1e-9

Greens = dict[str, list[StageGreen]]


def check_stages(stages: Sequence[StageTiming], cfg: IntersectionConfig) -> tuple[StageTiming, ...]:
    """``stages`` made canonical (groups sorted) if the cabinet may run them; otherwise a
    :class:`PlanRejectedError` naming the stage and what is wrong."""
    lim = cfg.limits
    if len(stages) > lim.max_stages:
        raise PlanRejectedError(f"stages: {len(stages)} stages, at most {lim.max_stages}")
    known = set(cfg.groups)
    out = []
    for i, st in enumerate(stages):
        where = f"stages[{i}]"
        if st.duration_s <= 0:
            raise PlanRejectedError(f"{where}.durationSeconds: a stage lasts more than 0 s")
        for key, names in (("green", st.green), ("yellow", st.yellow)):
            unknown = sorted(set(names) - known)
            if unknown:
                raise PlanRejectedError(
                    f"{where}.{key}: unknown signal group(s) {unknown}; known: {sorted(known)}"
                )
        both = sorted(set(st.green) & set(st.yellow))
        if both:
            raise PlanRejectedError(f"{where}.yellow: {both[0]!r} is green in this stage")
        gs = sorted(set(st.green))
        for k, g1 in enumerate(gs):
            for g2 in gs[k + 1 :]:
                if cfg.conflicts(g1, g2):
                    raise PlanRejectedError(
                        f"{where}.green: {g1!r} and {g2!r} conflict and cannot be green together"
                    )
        out.append(StageTiming.of(st.duration_s, st.green, st.yellow))
    for i, st in enumerate(out):
        before = out[i - 1]
        for g in st.yellow:
            if g not in before.green and g not in before.yellow:
                raise PlanRejectedError(
                    f"stages[{i}].yellow: group {g!r} turns yellow without a green before it"
                )
    greens = stage_greens(out)
    missing = sorted(known - set(greens))
    if missing:
        raise PlanRejectedError(f"stages: signal group(s) {missing} never get green")
    cycle = stage_starts_s(out)[-1]
    if cycle > lim.max_cycle_s + _EPS:
        raise PlanRejectedError(
            f"stages: cycle {cycle:g} s is longer than the maximum {lim.max_cycle_s:g} s"
        )
    _check_greens(greens, cfg, cycle)
    _check_clearances(greens, cfg, cycle)
    reds = stage_reds_s(out)
    starved = [g for g in sorted(reds) if reds[g] > cfg.max_red_s + _EPS]
    if starved:
        g = starved[0]
        raise PlanRejectedError(
            f"stages: group {g!r} is red for {reds[g]:g} s of each cycle, longer than the "
            f"maximum red {cfg.max_red_s:g} s"
        )
    return tuple(out)


def _check_greens(greens: Greens, cfg: IntersectionConfig, cycle: float) -> None:
    lim = cfg.limits
    for g in sorted(greens):
        for gr in greens[g]:
            green = gr.end_s - gr.start_s
            where = f"stages[{gr.stage}]"
            if green < lim.min_green_s - _EPS:
                raise PlanRejectedError(
                    f"{where}: group {g!r} is green for {green:g} s, below the minimum green "
                    f"{lim.min_green_s:g} s"
                )
            if green > lim.max_green_s + _EPS:
                raise PlanRejectedError(
                    f"{where}: group {g!r} is green for {green:g} s, above the maximum green "
                    f"{lim.max_green_s:g} s"
                )
            if green >= cycle - _EPS:
                continue  # green in every stage: never yellow
            where = f"stages[{gr.yellow_stage}].yellow"
            if gr.yellow_s < cfg.min_yellow_s - _EPS:
                raise PlanRejectedError(
                    f"{where}: group {g!r} shows {gr.yellow_s:g} s of yellow, shorter than "
                    f"this intersection's yellow {cfg.min_yellow_s:g} s"
                )
            if gr.yellow_s > cfg.max_yellow_s + _EPS:
                raise PlanRejectedError(
                    f"{where}: group {g!r} shows {gr.yellow_s:g} s of yellow, above the "
                    f"maximum yellow {cfg.max_yellow_s:g} s"
                )


def _check_clearances(greens: Greens, cfg: IntersectionConfig, cycle: float) -> None:
    """Every green of a group starts at least the all-red after the yellow of each group
    it conflicts with ends (on the cycle as a circle: the plan repeats)."""
    for a in sorted(greens):
        for b in sorted(greens):
            if not cfg.conflicts(a, b):
                continue
            for ga in greens[a]:
                busy = ga.end_s + ga.yellow_s - ga.start_s
                for gb in greens[b]:
                    d = (gb.start_s - ga.start_s) % cycle
                    if d >= busy + cfg.min_all_red_s - _EPS:
                        continue
                    where = f"stages[{gb.stage}].green"
                    if d < busy - _EPS:
                        raise PlanRejectedError(
                            f"{where}: group {b!r} turns green while conflicting group {a!r} "
                            "still shows green or yellow"
                        )
                    raise PlanRejectedError(
                        f"{where}: group {b!r} turns green {d - busy:g} s after the yellow of "
                        f"conflicting group {a!r} ends, less than this intersection's all-red "
                        f"{cfg.min_all_red_s:g} s"
                    )
