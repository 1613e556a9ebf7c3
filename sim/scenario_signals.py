"""``[[signals]]`` of a scenario file: one fixed-time plan per signal node, in phases or in
stages, and the checks of its timing.

A plan is written as ``[[signals.phases]]`` (groups, green, yellow, all-red) or as
``[[signals.stages]]`` (SUMO's form: each stage's duration and the groups green and yellow
in it, every other group red), never both. Either way each group gets its own greens and
yellows (:mod:`~trafficsim.sim.signal_plan`), and those are checked the way a signal
engineer checks an intergreen matrix: every group gets green, a yellow follows a green and
lasts at least ``min_yellow_s``, and a group turns green only when every group it
conflicts with has shown its yellow and then ``min_all_red_s`` of red. Conflicts are the
``conflicts`` pairs where the file states them (SUMO's ``<request foes>`` are the real
source), otherwise every pair of groups the plan never shows green together.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from trafficsim.sim.config import LinkSpec, MovementSpec, NodeKind, SignalSpec
from trafficsim.sim.fields import FieldReader, describe
from trafficsim.sim.limits import MIN_GREEN_S
from trafficsim.sim.signal_plan import Phase, SignalPlan, Stage

_EPS = 1e-9

_SIGNAL_KEYS = {
    "node",
    "offset_s",
    "phases",
    "stages",
    "conflicts",
    "min_yellow_s",
    "min_all_red_s",
}

Pair = tuple[str, str]


def read_signals(
    r: FieldReader,
    data: Mapping[str, Any],
    node_kind: dict[str, NodeKind],
    movements: tuple[MovementSpec, ...],
    links: dict[str, LinkSpec],
) -> tuple[SignalSpec, ...]:
    """One plan per signal node, each of its groups green in some phase or stage."""
    out = []
    seen: set[str] = set()
    groups_at: dict[str, set[str]] = {}
    for m in movements:
        if m.signal_group is not None:
            groups_at.setdefault(links[m.from_link].to_node, set()).add(m.signal_group)
    for p, row in r.rows(data, "signals", _SIGNAL_KEYS, required=False):
        node = r.string(row, "node", p)
        if node_kind.get(node) is not NodeKind.SIGNAL:
            raise r.fail(f"{p}.node", f"{node!r} is not a node of kind 'signal'")
        if node in seen:
            raise r.fail(f"{p}.node", f"node {node!r} has two signal plans")
        seen.add(node)
        known = groups_at.get(node, set())
        offset_s = r.number(row, "offset_s", p, "seconds", 0.0, minimum=0.0, strict=False)
        if "stages" in row:
            if "phases" in row:
                raise r.fail(
                    f"{p}.stages", "give [[signals.phases]] or [[signals.stages]], not both"
                )
            plan = SignalPlan(stages=_stages(r, row, p, known, node), offset_s=offset_s)
            form, where = "stages", "the green of a stage"
        else:
            plan = SignalPlan(phases=_phases(r, row, p, known, node), offset_s=offset_s)
            form, where = "phases", "a phase"
        missing = known - set(plan.groups)
        if missing:
            raise r.fail(
                f"{p}.{form}",
                f"signal group(s) {sorted(missing)} at node {node!r} never get green; "
                f"add them to {where}",
            )
        conflicts = _conflicts(r, row, p, known, node)
        min_yellow_s = r.number(row, "min_yellow_s", p, "seconds", 0.0, strict=False)
        min_all_red_s = r.number(row, "min_all_red_s", p, "seconds", 0.0, strict=False)
        _check_timing(r, p, plan, conflicts, min_yellow_s, min_all_red_s)
        out.append(SignalSpec(node=node, plan=plan, conflicts=conflicts))
    for node, kind in node_kind.items():
        if kind is NodeKind.SIGNAL and node not in seen:
            raise r.fail(
                "signals", f"signal node {node!r} has no plan; add [[signals]] node = {node!r}"
            )
    return tuple(out)


def _group_list(
    r: FieldReader, row: Mapping[str, Any], key: str, path: str, known: set[str], node: str
) -> list[str]:
    """A list of the node's signal groups (``required``: non-empty)."""
    groups = row.get(key, [])
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise r.fail(
            f"{path}.{key}", f"expected a list of signal group names, got {describe(groups)}"
        )
    for g in groups:
        if g not in known:
            raise r.fail(
                f"{path}.{key}",
                f"no movement at node {node!r} is in group {g!r}; groups there: {sorted(known)}",
            )
    return groups


def _phases(
    r: FieldReader, row: Mapping[str, Any], p: str, known: set[str], node: str
) -> tuple[Phase, ...]:
    phases = []
    allowed = {"groups", "green_s", "yellow_s", "all_red_s"}
    for pp, ph in r.rows(row, "phases", allowed, required=True, path=p):
        groups = ph.get("groups")
        if not isinstance(groups, list) or not groups:
            raise r.fail(
                f"{pp}.groups", f"expected a list of signal group names, got {describe(groups)}"
            )
        _group_list(r, ph, "groups", pp, known, node)
        phases.append(
            Phase(
                groups=tuple(groups),
                green_s=r.number(ph, "green_s", pp, "seconds", minimum=MIN_GREEN_S, strict=False),
                yellow_s=r.number(ph, "yellow_s", pp, "seconds", 3.0, minimum=0.0, strict=False),
                all_red_s=r.number(ph, "all_red_s", pp, "seconds", 0.0, minimum=0.0, strict=False),
            )
        )
    return tuple(phases)


def _stages(
    r: FieldReader, row: Mapping[str, Any], p: str, known: set[str], node: str
) -> tuple[Stage, ...]:
    stages = []
    for sp, st in r.rows(row, "stages", {"duration_s", "green", "yellow"}, required=True, path=p):
        green = _group_list(r, st, "green", sp, known, node)
        yellow = _group_list(r, st, "yellow", sp, known, node)
        for key, names in (("green", green), ("yellow", yellow)):
            twice = sorted({g for g in names if names.count(g) > 1})
            if twice:
                raise r.fail(f"{sp}.{key}", f"group {twice[0]!r} is listed twice")
        both = sorted(set(green) & set(yellow))
        if both:
            raise r.fail(
                f"{sp}.yellow", f"group {both[0]!r} cannot be green and yellow in one stage"
            )
        stages.append(Stage(r.number(st, "duration_s", sp, "seconds"), tuple(green), tuple(yellow)))
    for k, stage in enumerate(stages):
        before = stages[k - 1]
        for g in stage.yellow:
            if g not in before.green and g not in before.yellow:
                raise r.fail(
                    f"{p}.stages[{k}].yellow",
                    f"group {g!r} turns yellow without a green before it (red in the stage "
                    "before); a yellow ends a green",
                )
    return tuple(stages)


def _conflicts(
    r: FieldReader, row: Mapping[str, Any], p: str, known: set[str], node: str
) -> tuple[Pair, ...] | None:
    """The stated pairs of conflicting groups, sorted; None if the file states none."""
    if "conflicts" not in row:
        return None
    pairs = row["conflicts"]
    if not isinstance(pairs, list):
        raise r.fail(
            f"{p}.conflicts",
            f'expected a list of group pairs such as [["NS", "EW"]], got {describe(pairs)}',
        )
    out: set[Pair] = set()
    for j, pair in enumerate(pairs):
        where = f"{p}.conflicts[{j}]"
        if not isinstance(pair, list) or len(pair) != 2:
            raise r.fail(where, f"expected a pair of group names, got {describe(pair)}")
        for g in pair:
            if not isinstance(g, str) or g not in known:
                raise r.fail(
                    where,
                    f"no movement at node {node!r} is in group {g!r}; groups there: "
                    f"{sorted(known)}",
                )
        a, b = pair
        if a == b:
            raise r.fail(where, f"a group cannot conflict with itself ({a!r})")
        out.add((min(a, b), max(a, b)))
    return tuple(sorted(out))


def conflict_pairs(plan: SignalPlan, stated: tuple[Pair, ...] | None) -> tuple[Pair, ...]:
    """The stated conflicts, or every pair of the plan's groups it never shows green
    together (in one phase, or in one stage)."""
    if stated is not None:
        return stated
    together = [set(p.groups) for p in plan.phases] + [set(s.green) for s in plan.stages]
    return tuple(
        (a, b)
        for a, b in itertools.combinations(sorted(plan.groups), 2)
        if not any(a in shown and b in shown for shown in together)
    )


def clearance_faults(
    plan: SignalPlan, conflicts: tuple[Pair, ...], min_all_red_s: float
) -> Iterator[tuple[str, str, float, float]]:
    """``(a, b, green_start_s, gap_s)`` for every green of ``b`` that starts less than
    ``min_all_red_s`` after the yellow of a conflicting ``a`` ends (``gap_s`` < 0: while
    ``a`` still shows green or yellow), on the cycle seen as a circle."""
    ivs = plan.group_intervals()
    cycle = plan.cycle_s
    for x, y in conflicts:
        for a, b in ((x, y), (y, x)):
            for ia in ivs.get(a, ()):
                busy = ia.end_s + ia.yellow_s - ia.start_s
                for ib in ivs.get(b, ()):
                    d = (ib.start_s - ia.start_s) % cycle
                    if d < busy + min_all_red_s - _EPS:
                        yield a, b, ib.start_s, d - busy


def _check_timing(
    r: FieldReader,
    p: str,
    plan: SignalPlan,
    stated: tuple[Pair, ...] | None,
    min_yellow_s: float,
    min_all_red_s: float,
) -> None:
    starts = _starts(plan)
    kind = "stages" if plan.stages else "phases"
    shown = [(ph.groups, "groups") for ph in plan.phases] + [
        (st.green, "green") for st in plan.stages
    ]
    for a, b in stated or ():
        for k, (groups, key) in enumerate(shown):
            if a in groups and b in groups:
                raise r.fail(
                    f"{p}.{kind}[{k}].{key}",
                    f"groups {a!r} and {b!r} conflict (signals conflicts) but are green "
                    "together here",
                )
    for g, ivs in plan.group_intervals().items():
        for iv in ivs:
            k = _index(starts, iv.start_s)
            if plan.stages and iv.end_s - iv.start_s < MIN_GREEN_S - _EPS:
                raise r.fail(
                    f"{p}.stages[{k}].duration_s",
                    f"group {g!r} is green for {iv.end_s - iv.start_s:g} s from here; a green "
                    f"lasts at least {MIN_GREEN_S:g} s",
                )
            if iv.yellow_s < min_yellow_s - _EPS and g not in plan.always_green():
                if plan.stages:  # the stage its yellow starts in
                    at = f"stages[{_index(starts, iv.end_s % plan.cycle_s)}].yellow"
                else:  # the phase its green ends in
                    at = f"phases[{_index(starts, iv.end_s - 2 * _EPS)}].yellow_s"
                raise r.fail(
                    f"{p}.{at}",
                    f"group {g!r} shows {iv.yellow_s:g} s of yellow after its green; "
                    f"min_yellow_s is {min_yellow_s:g} s",
                )
    for a, b, t_s, gap in clearance_faults(plan, conflict_pairs(plan, stated), min_all_red_s):
        k = _index(starts, t_s)
        at = (
            f"stages[{k}].green"
            if plan.stages
            else f"phases[{(k - 1) % len(plan.phases)}].all_red_s"
        )
        if gap < 0:
            problem = f"while conflicting group {a!r} still shows green or yellow"
        else:
            problem = (
                f"{gap:g} s after the yellow of conflicting group {a!r} ends; "
                f"min_all_red_s is {min_all_red_s:g} s"
            )
        raise r.fail(f"{p}.{at}", f"group {b!r} turns green {problem}")


def _starts(plan: SignalPlan) -> list[float]:
    if plan.stages:
        return list(plan.stage_starts_s()[:-1])
    out, t = [], 0.0
    for ph in plan.phases:
        out.append(t)
        t += ph.duration_s
    return out


def _index(starts: list[float], t_s: float) -> int:
    """The stage (or phase) that starts at ``t_s``, else the last one starting before it."""
    k = 0
    for i, s in enumerate(starts):
        if s <= t_s + _EPS:
            k = i
    return k
