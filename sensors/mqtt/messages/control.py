"""The messages between the layers, as frozen types: one home for every payload but the
FIWARE readings (:class:`~trafficsim.sensors.mqtt.payloads.PayloadBuilder` makes those).

Each type builds its payload with ``to_payload()`` (JSON-native: the memory bus hands it over
as it is) and is parsed once at the consumer's edge with ``from_payload(payload, topic)``,
which checks every field's type and raises
:class:`~trafficsim.sensors.mqtt.payloads.PayloadError` with the field's path. The field names
and units on the wire are those of docs/asyncapi.yaml (seconds, PCU/h, km/h); the types hold
SI values with unit suffixes. What the values mean for a cabinet (minimum green, conflicts)
is checked by the cabinet, not here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from trafficsim.sensors.mqtt.messages.fields import (
    MAX_INTERVAL_S,
    MAX_SIM_TIME_S,
    Fields,
)
from trafficsim.sensors.mqtt.payloads import PayloadError, iso_time


class Display(StrEnum):
    """What a signal group shows."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class CabinetMode(StrEnum):
    """What a cabinet runs: its stored plan, a centre's cycle plan or stage commands, or
    its stored plan again after the centre went quiet."""

    FIXED = "fixed"
    CYCLE = "cycle"
    STAGE = "stage"
    FALLBACK = "fallback"


def _r3(x: float) -> float:
    return round(float(x), 3)


# -- clock and lock-step ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Clock:
    """Simulated time after a publishing step (``{root}/clock``)."""

    sim_time_s: float
    date_observed: str = ""

    @classmethod
    def at(cls, t_s: float, start: datetime) -> Clock:
        return cls(_r3(t_s), iso_time(start, t_s))

    def to_payload(self) -> dict[str, Any]:
        return {"simTimeSeconds": self.sim_time_s, "dateObserved": self.date_observed}

    @classmethod
    def from_payload(cls, payload: object, topic: str = "") -> Clock:
        f = Fields(payload, topic)
        return cls(f.number("simTimeSeconds", 0, MAX_SIM_TIME_S), f.opt_text("dateObserved") or "")


@dataclass(frozen=True, slots=True)
class RoundDone:
    """A service answered the clock tick at ``sim_time_s`` (``{root}/control/{service}/done``);
    ``answers`` is how many commands (optimizer) or forecasts (predictor) it sent."""

    service: str
    sim_time_s: float
    answers: int = 0
    answered_with: str = "commands"
    """What the answers were: ``commands`` (an optimizer) or ``forecasts`` (a predictor)."""

    def to_payload(self) -> dict[str, Any]:
        return {
            "simTimeSeconds": self.sim_time_s,
            "service": self.service,
            self.answered_with: self.answers,
        }

    @classmethod
    def from_payload(cls, payload: object, topic: str = "") -> RoundDone:
        f = Fields(payload, topic)
        service, t_s = f.opt_text("service") or "", f.number("simTimeSeconds", 0, MAX_SIM_TIME_S)
        for key in ("commands", "forecasts"):
            n = f.opt_integer(key, 0, 10**9)
            if n is not None:
                return cls(service, t_s, n, key)
        return cls(service, t_s)


# -- commands and the cabinet's answers ----------------------------------------------------
@dataclass(frozen=True, slots=True)
class PhaseTiming:
    """One phase of a cycle plan: the signal groups green together, then yellow and
    all-red (s)."""

    groups: tuple[str, ...]
    """Sorted and without repeats when made with :meth:`of` (as cabinets and controllers
    make them), so that two phases showing the same groups compare equal."""
    green_s: float
    yellow_s: float
    all_red_s: float = 0.0

    @classmethod
    def of(
        cls, groups: Iterable[str], green_s: float, yellow_s: float, all_red_s: float = 0.0
    ) -> PhaseTiming:
        return cls(tuple(sorted(set(groups))), green_s, yellow_s, all_red_s)

    @property
    def duration_s(self) -> float:
        return self.green_s + self.yellow_s + self.all_red_s

    @property
    def group_set(self) -> frozenset[str]:
        return frozenset(self.groups)

    def to_payload(self) -> dict[str, Any]:
        return {
            "groups": list(self.groups),
            "greenSeconds": self.green_s,
            "yellowSeconds": self.yellow_s,
            "allRedSeconds": self.all_red_s,
        }

    @classmethod
    def from_fields(cls, f: Fields) -> PhaseTiming:
        groups = f.obj.get("groups")
        if (
            not isinstance(groups, list)
            or not groups
            or not all(isinstance(g, str) for g in groups)
        ):
            raise f.fail("groups", "expected a non-empty list of group names")
        span = (0.0, MAX_INTERVAL_S)
        all_red = f.number("allRedSeconds", *span) if f.has("allRedSeconds") else 0.0
        return cls(
            tuple(groups),
            f.number("greenSeconds", *span),
            f.number("yellowSeconds", *span),
            all_red,
        )


@dataclass(frozen=True, slots=True)
class StageTiming:
    """One stage of a cycle plan written in stages (SUMO's form): for ``duration_s`` the
    groups in ``green`` show green, those in ``yellow`` yellow and every other group red."""

    duration_s: float
    green: tuple[str, ...] = ()
    """Sorted and without repeats when made with :meth:`of` (so are ``yellow``)."""
    yellow: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, duration_s: float, green: Iterable[str] = (), yellow: Iterable[str] = ()
    ) -> StageTiming:
        return cls(duration_s, tuple(sorted(set(green))), tuple(sorted(set(yellow))))

    def to_payload(self) -> dict[str, Any]:
        return {
            "durationSeconds": self.duration_s,
            "green": list(self.green),
            "yellow": list(self.yellow),
        }

    @classmethod
    def from_fields(cls, f: Fields) -> StageTiming:
        yellow = f.texts("yellow") if f.has("yellow") else ()
        return cls(f.number("durationSeconds", 0.0, MAX_INTERVAL_S), f.texts("green"), yellow)


class CommandKind(StrEnum):
    CYCLE = "cycle"
    STAGE = "stage"


@dataclass(frozen=True, slots=True)
class CycleCommand:
    """Run this plan cycle after cycle from the cabinet's next cycle boundary: its
    ``phases``, or (for a cabinet whose stored plan is in stages) its ``stages``."""

    intersection: str
    plan_id: str
    phases: tuple[PhaseTiming, ...]
    sim_time_s: float | None = None
    stages: tuple[StageTiming, ...] = ()

    def to_payload(self) -> dict[str, Any]:
        body: dict[str, Any] = (
            {"stages": [s.to_payload() for s in self.stages]}
            if self.stages
            else {"phases": [p.to_payload() for p in self.phases]}
        )
        return {
            **_command_head(self.intersection, self.plan_id, self.sim_time_s),
            "kind": CommandKind.CYCLE.value,
            **body,
        }


@dataclass(frozen=True, slots=True)
class StageCommand:
    """Show phase ``phase`` of the stored phase table next and rest in it."""

    intersection: str
    plan_id: str
    phase: int
    sim_time_s: float | None = None

    def to_payload(self) -> dict[str, Any]:
        return {
            **_command_head(self.intersection, self.plan_id, self.sim_time_s),
            "kind": CommandKind.STAGE.value,
            "phase": self.phase,
        }


Command = CycleCommand | StageCommand


def _command_head(node: str, plan_id: str, t_s: float | None) -> dict[str, Any]:
    head: dict[str, Any] = {"intersection": node, "planId": plan_id}
    if t_s is not None:
        head["simTimeSeconds"] = _r3(t_s)
    return head


def parse_command(payload: object, topic: str = "") -> Command:
    """A command off ``{root}/signal/{intersection}/plan``, its fields checked."""
    if not isinstance(payload, dict):
        raise PayloadError(topic, "plan: expected a JSON object")
    f = Fields(payload, topic)
    node, plan_id = f.text("intersection"), f.text("planId")
    t_s = f.opt_number("simTimeSeconds", 0, MAX_SIM_TIME_S)
    kind = payload.get("kind")
    if kind == CommandKind.STAGE:
        return StageCommand(node, plan_id, f.integer("phase", 0, 10**6), t_s)
    if kind != CommandKind.CYCLE:
        raise f.fail("kind", f"expected 'cycle' or 'stage', got {kind!r}")
    if f.has("stages"):
        if f.has("phases"):
            raise f.fail("stages", "a cycle plan has phases or stages, not both")
        stages = tuple(StageTiming.from_fields(s) for s in f.tables("stages", non_empty=True))
        return CycleCommand(node, plan_id, (), t_s, stages)
    phases = tuple(PhaseTiming.from_fields(p) for p in f.tables("phases", non_empty=True))
    return CycleCommand(node, plan_id, phases, t_s)


@dataclass(frozen=True, slots=True)
class Ack:
    """The cabinet's answer to one command (``{root}/signal/{intersection}/ack``)."""

    intersection: str
    plan_id: str | None
    accepted: bool
    reason: str
    sim_time_s: float

    def to_payload(self) -> dict[str, Any]:
        return {
            "intersection": self.intersection,
            "planId": self.plan_id,
            "accepted": self.accepted,
            "reason": self.reason,
            "simTimeSeconds": _r3(self.sim_time_s),
        }

    @classmethod
    def from_payload(cls, payload: object, topic: str = "") -> Ack:
        f = Fields(payload, topic)
        reason = f.obj.get("reason")
        return cls(
            f.text("intersection"),
            f.opt_text("planId"),
            f.flag("accepted"),
            reason if isinstance(reason, str) else "",
            f.number("simTimeSeconds", 0, MAX_SIM_TIME_S),
        )


@dataclass(frozen=True, slots=True)
class SignalState:
    """The display of every group after a change (``{root}/signal/{intersection}/state``);
    ``phase`` is the stored-table index of the groups now green (None in an intergreen)."""

    intersection: str
    sim_time_s: float
    groups: Mapping[str, Display]
    phase: int | None
    mode: CabinetMode
    plan_id: str

    def to_payload(self) -> dict[str, Any]:
        return {
            "intersection": self.intersection,
            "simTimeSeconds": _r3(max(self.sim_time_s, 0.0)),
            "groups": {g: d.value for g, d in sorted(self.groups.items())},
            "phase": self.phase,
            "mode": self.mode.value,
            "planId": self.plan_id,
        }

    @classmethod
    def from_payload(cls, payload: object, topic: str = "") -> SignalState:
        f = Fields(payload, topic)
        shown = f.mapping("groups")
        try:
            groups = {str(g): Display(d) for g, d in shown.items()}
        except ValueError as exc:
            raise f.fail("groups", str(exc)) from None
        try:
            mode = CabinetMode(f.text("mode"))
        except ValueError as exc:
            raise f.fail("mode", str(exc)) from None
        return cls(
            f.text("intersection"),
            f.number("simTimeSeconds", 0, MAX_SIM_TIME_S),
            groups,
            f.opt_integer("phase", 0, 10**6),
            mode,
            f.text("planId"),
        )
