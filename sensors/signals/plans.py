"""Commands from the centre and their checks: a cabinet applies nothing it cannot vouch for.

Two kinds of command arrive on ``{root}/signal/{intersection}/plan`` (docs/asyncapi.yaml,
typed in :mod:`trafficsim.sensors.mqtt.messages`):

- ``"kind": "cycle"``: a full plan (phases with green, yellow and all-red seconds, or, for
  a cabinet whose stored plan is in stages, stages with their green and yellow groups) that
  runs cycle after cycle from the next cycle boundary;
- ``"kind": "stage"``: "show phase ``phase`` of the stored table next, and rest in it until
  told otherwise" (stage-by-stage control, as actuated and max-pressure controllers use); the
  cabinet still enforces minimum and maximum green and the intergreens.
"""

from __future__ import annotations

from dataclasses import dataclass

from trafficsim.sensors.mqtt.messages import (
    CycleCommand,
    PayloadError,
    PhaseTiming,
    StageCommand,
    StageTiming,
)
from trafficsim.sensors.mqtt.messages import (
    parse_command as parse_message,
)
from trafficsim.sensors.mqtt.messages.timing import (
    longest_reds_s,
    phases_as_stages,
    stage_starts_s,
)
from trafficsim.sensors.signals.config import IntersectionConfig, PlanRejectedError
from trafficsim.sensors.signals.stage_checks import check_stages

__all__ = ["CyclePlan", "PlanRejectedError", "parse_command"]


@dataclass(frozen=True, slots=True)
class CyclePlan:
    """A checked cycle plan: phases (a phase cabinet) or stages (a group cabinet)."""

    plan_id: str
    phases: tuple[PhaseTiming, ...]
    offset_s: float = 0.0
    """Where a cycle starts (mod cycle); only the stored plan has one (at start-up)."""
    stages: tuple[StageTiming, ...] = ()

    @property
    def cycle_s(self) -> float:
        if self.stages:
            return stage_starts_s(self.stages)[-1]
        return sum(p.duration_s for p in self.phases)


def parse_command(payload: object, cfg: IntersectionConfig) -> CyclePlan | StageCommand:
    """Check a command against the intersection's configuration; raise with the reason.

    The message's fields are checked first (by its type), then what they ask of this
    intersection: its groups, conflicts, minimum and maximum green, yellow and all-red,
    maximum cycle and maximum red per group."""
    node = payload.get("intersection") if isinstance(payload, dict) else None
    if isinstance(payload, dict) and node != cfg.node:
        raise PlanRejectedError(f"intersection: plan is for {node!r}, this is {cfg.node!r}")
    try:
        cmd = parse_message(payload)
    except PayloadError as exc:
        raise PlanRejectedError(exc.reason) from None
    if isinstance(cmd, StageCommand):
        n = len(cfg.phase_table)
        if not 0 <= cmd.phase < n:
            raise PlanRejectedError(f"phase: {cmd.phase} is not in the phase table (0..{n - 1})")
        return cmd
    if cmd.stages:
        if not cfg.stored_stages:
            raise PlanRejectedError(
                "stages: this cabinet runs plans in phases (its stored plan's form); send phases"
            )
        return CyclePlan(cmd.plan_id, (), 0.0, check_stages(cmd.stages, cfg))
    plan = _check_cycle(cmd, cfg)
    if cfg.stored_stages:  # a group cabinet runs phases as the stages they show
        return CyclePlan(plan.plan_id, (), 0.0, check_stages(phases_as_stages(plan.phases), cfg))
    return plan


def _check_cycle(cmd: CycleCommand, cfg: IntersectionConfig) -> CyclePlan:
    lim = cfg.limits
    if len(cmd.phases) > lim.max_phases:
        raise PlanRejectedError(f"phases: {len(cmd.phases)} phases, at most {lim.max_phases}")
    known = set(cfg.groups)
    phases = []
    for i, ph in enumerate(cmd.phases):
        where = f"phases[{i}]"
        unknown = sorted(set(ph.groups) - known)
        if unknown:
            raise PlanRejectedError(
                f"{where}.groups: unknown signal group(s) {unknown}; known: {sorted(known)}"
            )
        gs = sorted(set(ph.groups))
        for k, g1 in enumerate(gs):
            for g2 in gs[k + 1 :]:
                if cfg.conflicts(g1, g2):
                    raise PlanRejectedError(
                        f"{where}.groups: {g1!r} and {g2!r} conflict and cannot be green together"
                    )
        green, yellow, all_red = ph.green_s, ph.yellow_s, ph.all_red_s
        if green < lim.min_green_s - 1e-9:
            raise PlanRejectedError(
                f"{where}.greenSeconds: {green:g} s is below the minimum green "
                f"{lim.min_green_s:g} s"
            )
        if green > lim.max_green_s + 1e-9:
            raise PlanRejectedError(
                f"{where}.greenSeconds: {green:g} s is above the maximum green "
                f"{lim.max_green_s:g} s"
            )
        if yellow < cfg.min_yellow_s - 1e-9:
            raise PlanRejectedError(
                f"{where}.yellowSeconds: {yellow:g} s is shorter than this intersection's "
                f"yellow {cfg.min_yellow_s:g} s"
            )
        if yellow > cfg.max_yellow_s + 1e-9:
            raise PlanRejectedError(
                f"{where}.yellowSeconds: {yellow:g} s is above the maximum yellow "
                f"{cfg.max_yellow_s:g} s"
            )
        if all_red < cfg.min_all_red_s - 1e-9:
            raise PlanRejectedError(
                f"{where}.allRedSeconds: {all_red:g} s is shorter than this intersection's "
                f"all-red {cfg.min_all_red_s:g} s"
            )
        if all_red > cfg.max_all_red_s + 1e-9:
            raise PlanRejectedError(
                f"{where}.allRedSeconds: {all_red:g} s is above the maximum all-red "
                f"{cfg.max_all_red_s:g} s"
            )
        phases.append(PhaseTiming.of(gs, green, yellow, all_red))
    for i, (a, b) in enumerate(zip(phases, phases[1:] + phases[:1], strict=True)):
        if a.groups == b.groups and len(phases) > 1:
            raise PlanRejectedError(f"phases[{i}]: the next phase shows the same groups")
    missing = sorted(known - {g for p in phases for g in p.groups})
    if missing:
        raise PlanRejectedError(f"phases: signal group(s) {missing} never get green")
    cycle = sum(p.duration_s for p in phases)
    if cycle > lim.max_cycle_s + 1e-9:
        raise PlanRejectedError(
            f"phases: cycle {cycle:g} s is longer than the maximum {lim.max_cycle_s:g} s"
        )
    reds = longest_reds_s(tuple(phases))
    starved = [g for g in sorted(reds) if reds[g] > cfg.max_red_s + 1e-9]
    if starved:
        g = starved[0]
        raise PlanRejectedError(
            f"phases: group {g!r} is red for {reds[g]:g} s of each cycle, longer than the "
            f"maximum red {cfg.max_red_s:g} s"
        )
    # A new plan starts at the cabinet's next cycle boundary; offsets (coordination) are
    # not applied to commands yet, so none is read.
    return CyclePlan(cmd.plan_id, tuple(phases))
