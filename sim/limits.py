"""What a scenario may ask of one run, checked before anything is built.

A scenario that is valid field by field can still ask for a run no machine can hold (a
demand of 10^12 vehicles per hour, a year sampled every nanosecond) or one that never ends
(a ring of links with no way out). Both used to surface deep in the engine as a memory
error, a traceback after minutes, or a hang; here they are refused at load, naming the
field, the estimate and the bound, so the user can fix the file before a run starts.

The bounds are fixed numbers, not the free memory of this machine, so that a scenario
accepted once is accepted everywhere; they are stated in ``docs/scenario-format.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from trafficsim.sim.config import DemandSpec, LinkSpec, MovementSpec, NodeKind, OdSpec, SignalPlan
from trafficsim.sim.fields import FieldReader

MAX_VEHICLES = 2_000_000
"""Expected vehicles entering one run. The engine keeps each vehicle's trajectory for the
metrics: about 4 kB each, measured as the growth of peak memory between two runs of the
``grid`` built-in (``/usr/bin/time -f %M trafficsim run --scenario grid --duration 3600`` and
``--duration 14400 --no-mqtt``: 188 MB with 9,400 vehicles, 301 MB with 38,000). Two million
vehicles are then about 8 GB."""

MAX_SAMPLES = 10_000_000
"""Sample times of the queue and network series (``duration_s / sample_period_s``): each
one is a row per lane group in memory and in ``queues.csv``; ten million is 116 days at 1 s."""

MIN_GREEN_S = 1.0
"""Shortest displayed green of a stored plan. Real minimum greens are longer (HCM 6th ed.
uses 4-15 s by movement); one second only keeps a plan meaningful: a single-phase plan of
a 10^-9 s green made a cabinet switch phases 10^9 times per simulated second, for ever."""

YEARS = (1970, 2100)
"""Years a scenario may start in: the feed stamps readings with dates and Unix times, and a
run starting at 9999-12-31 overflowed the calendar in its first reading."""

DEFAULT_SAMPLE_PERIOD_S = 5.0
"""The ``sample_period_s`` of a scenario that gives none."""

ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
"""Node and link ids become MQTT topic levels (``hcmc/sensors/{intersection}/...``,
``hcmc/probes/{link}``), cabinet logins and FIWARE ids, whatever transport a run uses: the
same rule as device ids (``sensors.deployment``)."""

ID_RULE = "expected 1-64 letters, digits, '_', '.' or '-' (ids are MQTT topic levels and logins)"


def check_id(r: FieldReader, value: str, path: str) -> str:
    """``value`` if it is a usable node or link id; a refusal naming ``path`` otherwise."""
    if ID_PATTERN.fullmatch(value) is None:
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise r.fail(path, f"{ID_RULE}, got {shown!r} ({len(value)} characters)")
    return value


def expected_vehicles(demands: Iterable[DemandSpec | OdSpec], duration_s: float) -> float:
    """The mean number of vehicles entry or OD flows send in over ``[0, duration_s)``."""
    total = 0.0
    for d in demands:
        starts = [p[0] for p in d.profile] + [duration_s]
        for (t0, flow), t1 in zip(d.profile, starts[1:], strict=True):
            total += flow * max(0.0, min(t1, duration_s) - t0) / 3600.0
    return total


def check_run_size(
    r: FieldReader,
    demands: tuple[DemandSpec | OdSpec, ...],
    duration_s: float,
    sample_period_s: float,
    trips: int = 0,
) -> None:
    """Refuse a run above :data:`MAX_VEHICLES` or :data:`MAX_SAMPLES`, with the estimate;
    ``demands`` are the entry and OD flows, ``trips`` the trips departing in the run."""
    samples = duration_s / sample_period_s
    if samples > MAX_SAMPLES:
        # Name the field that is out of the ordinary: a duration too long even at the
        # default period, else the period.
        field = (
            "scenario.duration_s"
            if duration_s / DEFAULT_SAMPLE_PERIOD_S > MAX_SAMPLES
            else "scenario.sample_period_s"
        )
        raise r.fail(
            field,
            f"{duration_s:g} s sampled every {sample_period_s:g} s is {samples:.3g} samples, "
            f"more than the {MAX_SAMPLES:,} one run can hold; shorten duration_s or "
            "raise sample_period_s",
        )
    vehicles = expected_vehicles(demands, duration_s) + trips
    if vehicles > MAX_VEHICLES:
        raise r.fail(
            "demand",
            f"the demand sends about {vehicles:.3g} vehicles in {duration_s:g} s, more than "
            f"the {MAX_VEHICLES:,} one run can hold (about 4 kB each); lower flow_veh_per_h "
            "or shorten scenario.duration_s",
        )


def check_exits(
    r: FieldReader,
    links: tuple[LinkSpec, ...],
    movements: tuple[MovementSpec, ...],
    node_kind: Mapping[str, NodeKind],
    turn_share: set[str] | None = None,
) -> None:
    """Refuse links from which no sequence of movements reaches a boundary node: a vehicle
    there would circulate for ever (the engine used to hang on such a ring). Only links in
    ``turn_share`` (where vehicles without a route go; None: every link) are checked: a
    routed vehicle's trip ends where its route does."""
    into: dict[str, list[str]] = {}
    for m in movements:
        into.setdefault(m.to_link, []).append(m.from_link)
    leave = [ln.id for ln in links if node_kind[ln.to_node] is NodeKind.BOUNDARY]
    reach = set(leave)
    todo = list(leave)
    while todo:
        for up in into.get(todo.pop(), ()):
            if up not in reach:
                reach.add(up)
                todo.append(up)
    trapped = [
        ln.id for ln in links if ln.id not in reach and (turn_share is None or ln.id in turn_share)
    ]
    if trapped:
        more = f" and {len(trapped) - 5} more" if len(trapped) > 5 else ""
        raise r.fail(
            "movements",
            f"no movements lead from link(s) {', '.join(map(repr, trapped[:5]))}{more} to a "
            "boundary node, so vehicles there never leave; add a movement towards an exit",
        )


def check_green_after_lost_time(
    r: FieldReader, plans: Iterable[tuple[str, SignalPlan]], startup_lost_s: float, end_use_s: float
) -> None:
    """Refuse a signal group whose every green is shorter than the start-up lost time: it
    would never discharge (its effective green is 0, so its v/c has no value)."""
    for path, plan in plans:
        for group in plan.groups:
            if plan.effective_green_s(group, startup_lost_s, end_use_s) <= 0.0:
                raise r.fail(
                    "scenario.startup_lost_s",
                    f"{startup_lost_s:g} s is as long as the green of group {group!r} at "
                    f"{path} (plus the yellow used), so it never discharges; give it a "
                    "longer green_s or a shorter startup_lost_s",
                )
