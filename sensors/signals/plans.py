"""Commands from the centre and their checks: a cabinet applies nothing it cannot vouch for.

Two kinds of command arrive on ``{root}/signal/{intersection}/plan`` (docs/asyncapi.yaml):

- ``"kind": "cycle"``: a full plan (phases with green, yellow and all-red seconds) that runs
  cycle after cycle from the next cycle boundary;
- ``"kind": "stage"``: "show phase ``phase`` of the stored table next, and rest in it until
  told otherwise" (stage-by-stage control, as actuated and max-pressure controllers use); the
  cabinet still enforces minimum and maximum green and the intergreens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from trafficsim.sensors.signals.config import IntersectionConfig, PhaseSpec


class PlanRejectedError(ValueError):
    """A command the cabinet refused; ``str()`` is the reason published on the ack topic."""


@dataclass(frozen=True, slots=True)
class CyclePlan:
    plan_id: str
    phases: tuple[PhaseSpec, ...]
    offset_s: float = 0.0
    """Where a cycle starts (mod cycle); only the stored plan has one (at start-up)."""

    @property
    def cycle_s(self) -> float:
        return sum(p.duration_s for p in self.phases)


@dataclass(frozen=True, slots=True)
class StageCommand:
    plan_id: str
    phase: int


def _number(obj: dict[str, Any], key: str, where: str) -> float:
    v = obj.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise PlanRejectedError(f"{where}.{key}: expected a finite number, got {v!r}")
    return float(v)


def parse_command(payload: object, cfg: IntersectionConfig) -> CyclePlan | StageCommand:
    """Check a command against the intersection's configuration; raise with the reason."""
    if not isinstance(payload, dict):
        raise PlanRejectedError("plan: expected a JSON object")
    node = payload.get("intersection")
    if node != cfg.node:
        raise PlanRejectedError(f"intersection: plan is for {node!r}, this is {cfg.node!r}")
    plan_id = payload.get("planId")
    if not isinstance(plan_id, str) or not plan_id:
        raise PlanRejectedError("planId: expected a non-empty string")
    kind = payload.get("kind")
    lim = cfg.limits
    if kind == "stage":
        phase = payload.get("phase")
        if isinstance(phase, bool) or not isinstance(phase, int):
            raise PlanRejectedError(f"phase: expected an integer, got {phase!r}")
        if not 0 <= phase < len(cfg.stored):
            raise PlanRejectedError(
                f"phase: {phase} is not in the phase table (0..{len(cfg.stored) - 1})"
            )
        return StageCommand(plan_id, phase)
    if kind != "cycle":
        raise PlanRejectedError(f"kind: expected 'cycle' or 'stage', got {kind!r}")
    raw = payload.get("phases")
    if not isinstance(raw, list) or not raw:
        raise PlanRejectedError("phases: expected a non-empty list")
    if len(raw) > lim.max_phases:
        raise PlanRejectedError(f"phases: {len(raw)} phases, at most {lim.max_phases}")
    known = set(cfg.groups)
    phases = []
    for i, ph in enumerate(raw):
        where = f"phases[{i}]"
        if not isinstance(ph, dict):
            raise PlanRejectedError(f"{where}: expected an object")
        groups = ph.get("groups")
        if (
            not isinstance(groups, list)
            or not groups
            or not all(isinstance(g, str) for g in groups)
        ):
            raise PlanRejectedError(f"{where}.groups: expected a non-empty list of group names")
        unknown = sorted(set(groups) - known)
        if unknown:
            raise PlanRejectedError(
                f"{where}.groups: unknown signal group(s) {unknown}; known: {sorted(known)}"
            )
        gs = sorted(set(groups))
        for a_i, a in enumerate(gs):
            for b in gs[a_i + 1 :]:
                if cfg.conflicts(a, b):
                    raise PlanRejectedError(
                        f"{where}.groups: {a!r} and {b!r} conflict and cannot be green together"
                    )
        green = _number(ph, "greenSeconds", where)
        yellow = _number(ph, "yellowSeconds", where)
        all_red = _number(ph, "allRedSeconds", where) if "allRedSeconds" in ph else 0.0
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
        if all_red < cfg.min_all_red_s - 1e-9:
            raise PlanRejectedError(
                f"{where}.allRedSeconds: {all_red:g} s is shorter than this intersection's "
                f"all-red {cfg.min_all_red_s:g} s"
            )
        phases.append(PhaseSpec(frozenset(gs), green, yellow, all_red))
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
    # A new plan starts at the cabinet's next cycle boundary; offsets (coordination) are
    # not applied to commands yet, so none is read.
    return CyclePlan(plan_id, tuple(phases))
