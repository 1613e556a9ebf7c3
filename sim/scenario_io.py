"""Scenario files: TOML (or an equivalent dict) to a checked :class:`~sim.config.Scenario`.

The only place in ``sim`` that turns a scenario file into a scenario: the file is read by
:func:`~trafficsim.sim.tomlfile.read_toml_file`, the ``[scenario]`` head here, the network
by :mod:`~trafficsim.sim.scenario_network` and what travels on it by
:mod:`~trafficsim.sim.scenario_demand`, all through one
:class:`~trafficsim.sim.fields.FieldReader`. Every problem raises
:class:`~sim.errors.ScenarioError` naming the file, the field as a dotted path
(``links[3].length_m``) and what is expected; unknown fields are reported too, because a
misspelt optional field would otherwise be silently ignored.
The file format is documented in ``docs/scenario-format.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from trafficsim.sim.config import Scenario, SignalTiming
from trafficsim.sim.emissions import FLEETS, Fleet
from trafficsim.sim.errors import ScenarioError
from trafficsim.sim.fields import FieldReader
from trafficsim.sim.limits import (
    DEFAULT_SAMPLE_PERIOD_S,
    YEARS,
    check_exits,
    check_green_after_lost_time,
    check_run_size,
)
from trafficsim.sim.scenario_demand import read_classes, read_demands, read_incidents, read_mixes
from trafficsim.sim.scenario_network import read_links, read_movements, read_nodes
from trafficsim.sim.scenario_signals import read_signals
from trafficsim.sim.tomlfile import read_toml_file
from trafficsim.sim.vehicles import JAM_SPACING_M_PER_PCU

HCMC_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
"""Ho Chi Minh City is UTC+7 all year (no daylight saving)."""

DEFAULT_START = datetime(2026, 3, 2, 7, 0, tzinfo=HCMC_TZ)
"""A Monday 07:00 local: the default simulated start (morning peak)."""

_TOP_KEYS = {
    "scenario",
    "classes",
    "mixes",
    "link_defaults",
    "nodes",
    "links",
    "movements",
    "signals",
    "demand",
    "parameters",
    "sensors",
    "incidents",
}


def load_scenario_file(path: str | Path) -> Scenario:
    """Read and check a TOML scenario file."""
    source = str(path)
    return scenario_from_dict(read_toml(path), source)


def read_toml(path: str | Path) -> dict[str, Any]:
    """The TOML data of a scenario file; a ScenarioError naming the file otherwise."""
    return read_toml_file(
        path,
        error=ScenarioError,
        not_found="give a built-in name (see `trafficsim scenarios`) or a path to a .toml file",
    )


def scenario_from_dict(data: Mapping[str, Any], source: str) -> Scenario:
    """Check a scenario given as TOML-shaped data and build it."""
    r = FieldReader(source, ScenarioError)
    r.check_keys(data, "", _TOP_KEYS)
    head = r.table(data, "scenario", "", required=True)
    r.check_keys(
        head,
        "scenario",
        {
            "name",
            "duration_s",
            "start_time",
            "sample_period_s",
            "jam_spacing_m_per_pcu",
            "startup_lost_s",
            "yellow_end_use_s",
            "origin_lat",
            "origin_lon",
            "fleet",
            "description",
        },
    )
    name = r.string(head, "name", "scenario")
    duration_s = r.number(head, "duration_s", "scenario", "seconds")
    start_time = _start_time(r, head)
    sample_period_s = r.number(
        head, "sample_period_s", "scenario", "seconds", DEFAULT_SAMPLE_PERIOD_S
    )
    jam = r.number(head, "jam_spacing_m_per_pcu", "scenario", "metres", JAM_SPACING_M_PER_PCU)
    timing = SignalTiming(
        startup_lost_s=r.number(
            head, "startup_lost_s", "scenario", "seconds", 2.0, minimum=0.0, strict=False
        ),
        yellow_end_use_s=r.number(
            head, "yellow_end_use_s", "scenario", "seconds", 2.0, minimum=0.0, strict=False
        ),
    )

    classes = read_classes(r, data)
    class_names = {c.name for c in classes}
    mixes = read_mixes(r, data, class_names)
    nodes = read_nodes(r, data)
    node_kind = {n.id: n.kind for n in nodes}
    links = read_links(r, data, node_kind)
    link_by_id = {ln.id: ln for ln in links}
    movements = read_movements(r, data, link_by_id, node_kind)
    signals = read_signals(r, data, node_kind, movements, link_by_id)
    demands = read_demands(r, data, link_by_id, node_kind, {m.name for m in mixes})
    check_exits(r, links, movements, node_kind)
    check_green_after_lost_time(
        r,
        ((f"node {s.node!r}", s.plan) for s in signals),
        timing.startup_lost_s,
        timing.yellow_end_use_s,
    )
    check_run_size(r, demands, duration_s, sample_period_s)

    max_pcu = max(c.pcu for c in classes)
    for i, ln in enumerate(links):
        storage = ln.length_m * ln.lanes / jam
        if storage < max_pcu:
            raise r.fail(
                f"links[{i}].length_m",
                f"link {ln.id!r} stores {storage:.2f} PCU, less than one vehicle of "
                f"{max_pcu:g} PCU; make it longer or give it more lanes",
            )
    params = r.table(data, "parameters", "", required=False)
    sensors = r.table(data, "sensors", "", required=False)
    return Scenario(
        name=name,
        duration_s=duration_s,
        start_time=start_time,
        classes=classes,
        mixes=mixes,
        nodes=nodes,
        links=links,
        movements=movements,
        signals=signals,
        demands=demands,
        timing=timing,
        jam_spacing_m_per_pcu=jam,
        sample_period_s=sample_period_s,
        origin_lat=r.number(
            head,
            "origin_lat",
            "scenario",
            "degrees north",
            10.7769,
            minimum=-90.0,
            strict=False,
            maximum=90.0,
        ),
        origin_lon=r.number(
            head,
            "origin_lon",
            "scenario",
            "degrees east",
            106.7009,
            minimum=-180.0,
            strict=False,
            maximum=180.0,
        ),
        fleet=_fleet(r, head),
        incidents=read_incidents(r, data, link_by_id),
        source=source,
        parameters=tuple(sorted(params.items())),
        sensors=sensors,
    )


def _start_time(r: FieldReader, head: Mapping[str, Any]) -> datetime:
    if "start_time" not in head:
        return DEFAULT_START
    v = head["start_time"]
    if isinstance(v, str):
        try:
            v = datetime.fromisoformat(v)
        except ValueError:
            v = None
    if isinstance(v, datetime):
        if not YEARS[0] <= v.year <= YEARS[1] - 1:
            raise r.fail(
                "scenario.start_time",
                f"expected a year from {YEARS[0]} to {YEARS[1] - 1} (readings carry dates "
                f"and Unix times), got {v.year}",
            )
        return v if v.tzinfo is not None else v.replace(tzinfo=HCMC_TZ)
    if isinstance(v, date | time) or v is None or not isinstance(v, datetime):
        raise r.fail(
            "scenario.start_time",
            "expected a date-time such as 2026-03-02T07:00:00+07:00 "
            "(local time without an offset is taken as Asia/Ho_Chi_Minh)",
        )
    raise AssertionError("unreachable")


def _fleet(r: FieldReader, head: Mapping[str, Any]) -> Fleet:
    fleet = r.string(head, "fleet", "scenario", Fleet.VN.value)
    if fleet not in FLEETS:
        raise r.fail("scenario.fleet", f"expected one of {list(FLEETS)}, got {fleet!r}")
    return Fleet(fleet)
