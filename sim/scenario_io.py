"""Scenario files: TOML (or an equivalent dict) to a checked :class:`~sim.config.Scenario`.

The only place in ``sim`` that reads files or converts units from human ones (km/h) to SI.
Every problem raises :class:`~sim.errors.ScenarioError` naming the file, the field as a
dotted path (``links[3].length_m``) and what is expected; unknown fields are reported too,
because a misspelt optional field would otherwise be silently ignored.
The file format is documented in ``docs/scenario-format.md``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from trafficsim.sim.config import (
    ArrivalProcess,
    DemandSpec,
    Incident,
    LinkSpec,
    Mix,
    MovementSpec,
    NodeKind,
    NodeSpec,
    Phase,
    Scenario,
    SignalPlan,
    SignalSpec,
    SignalTiming,
    VehicleClass,
)
from trafficsim.sim.errors import ScenarioError
from trafficsim.sim.units import kmh_to_mps
from trafficsim.sim.vehicles import DEFAULT_CLASSES, DEFAULT_MIXES, JAM_SPACING_M_PER_PCU

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
    p = Path(path)
    source = str(p)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(
            source,
            "",
            "file not found; give a built-in name "
            "(see `trafficsim scenarios`) or a path to a .toml file",
        ) from None
    except OSError as exc:
        raise ScenarioError(source, "", f"cannot read the file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError(source, "", "not UTF-8 text; save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", f"not valid TOML: {exc}") from None
    return data


class _Reader:
    """Typed field access that reports the dotted path of anything wrong."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> ScenarioError:
        return ScenarioError(self.source, path, problem)

    def table(
        self, data: Mapping[str, Any], key: str, path: str, *, required: bool
    ) -> dict[str, Any]:
        if key not in data:
            if required:
                raise self.fail(_join(path, key), "missing table")
            return {}
        v = data[key]
        if not isinstance(v, dict):
            raise self.fail(_join(path, key), f"expected a table, got {_show(v)}")
        return v

    def array_of_tables(
        self, data: Mapping[str, Any], key: str, *, required: bool
    ) -> list[dict[str, Any]]:
        if key not in data:
            if required:
                raise self.fail(key, f"missing; add at least one [[{key}]] table")
            return []
        v = data[key]
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.fail(key, f"expected an array of tables ([[{key}]]), got {_show(v)}")
        if required and not v:
            raise self.fail(key, f"empty; add at least one [[{key}]] table")
        return v

    def check_keys(self, data: Mapping[str, Any], path: str, allowed: set[str]) -> None:
        for k in data:
            if k not in allowed:
                raise self.fail(
                    _join(path, k),
                    f"unknown field; valid fields here: {', '.join(sorted(allowed))}",
                )

    def string(self, data: Mapping[str, Any], key: str, path: str, default: Any = ...) -> str:
        if key not in data:
            if default is ...:
                raise self.fail(_join(path, key), "missing; expected a string")
            return default  # type: ignore[no-any-return]
        v = data[key]
        if not isinstance(v, str) or not v:
            raise self.fail(_join(path, key), f"expected a non-empty string, got {_show(v)}")
        return v

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        unit: str,
        default: float | None = None,
        *,
        minimum: float | None = 0.0,
        strict: bool = True,
        maximum: float | None = None,
    ) -> float:
        if key not in data:
            if default is None:
                raise self.fail(_join(path, key), f"missing; expected a number ({unit})")
            return default
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self.fail(_join(path, key), f"expected a number ({unit}), got {_show(v)}")
        if minimum is not None and (v <= minimum if strict else v < minimum):
            bound = "greater than" if strict else "at least"
            raise self.fail(_join(path, key), f"expected {bound} {minimum:g} ({unit}), got {v!r}")
        if maximum is not None and v > maximum:
            raise self.fail(_join(path, key), f"expected at most {maximum:g} ({unit}), got {v!r}")
        return float(v)

    def integer(
        self, data: Mapping[str, Any], key: str, path: str, default: int | None = None
    ) -> int:
        if key not in data:
            if default is None:
                raise self.fail(_join(path, key), "missing; expected a positive integer")
            return default
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise self.fail(_join(path, key), f"expected a positive integer, got {_show(v)}")
        return v


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(v: Any) -> str:
    text = repr(v)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(v).__name__} {text}"


def scenario_from_dict(data: Mapping[str, Any], source: str) -> Scenario:
    """Check a scenario given as TOML-shaped data and build it."""
    r = _Reader(source)
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
    sample_period_s = r.number(head, "sample_period_s", "scenario", "seconds", 5.0)
    jam = r.number(head, "jam_spacing_m_per_pcu", "scenario", "metres", JAM_SPACING_M_PER_PCU)
    timing = SignalTiming(
        startup_lost_s=r.number(
            head, "startup_lost_s", "scenario", "seconds", 2.0, minimum=0.0, strict=False
        ),
        yellow_end_use_s=r.number(
            head, "yellow_end_use_s", "scenario", "seconds", 2.0, minimum=0.0, strict=False
        ),
    )

    classes = _classes(r, data)
    class_names = {c.name for c in classes}
    mixes = _mixes(r, data, class_names)
    nodes = _nodes(r, data)
    node_kind = {n.id: n.kind for n in nodes}
    links = _links(r, data, node_kind)
    link_by_id = {ln.id: ln for ln in links}
    movements = _movements(r, data, link_by_id, node_kind)
    signals = _signals(r, data, node_kind, movements, link_by_id)
    demands = _demands(r, data, link_by_id, node_kind, {m.name for m in mixes})

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
        incidents=_incidents(r, data, link_by_id),
        source=source,
        parameters=tuple(sorted(params.items())),
        sensors=sensors,
    )


def _start_time(r: _Reader, head: Mapping[str, Any]) -> datetime:
    if "start_time" not in head:
        return DEFAULT_START
    v = head["start_time"]
    if isinstance(v, str):
        try:
            v = datetime.fromisoformat(v)
        except ValueError:
            v = None
    if isinstance(v, datetime):
        return v if v.tzinfo is not None else v.replace(tzinfo=HCMC_TZ)
    if isinstance(v, date | time) or v is None or not isinstance(v, datetime):
        raise r.fail(
            "scenario.start_time",
            "expected a date-time such as 2026-03-02T07:00:00+07:00 "
            "(local time without an offset is taken as Asia/Ho_Chi_Minh)",
        )
    raise AssertionError("unreachable")


def _classes(r: _Reader, data: Mapping[str, Any]) -> tuple[VehicleClass, ...]:
    rows = r.array_of_tables(data, "classes", required=False)
    if not rows:
        return DEFAULT_CLASSES
    out = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        p = f"classes[{i}]"
        r.check_keys(
            row,
            p,
            {
                "name",
                "pcu",
                "length_m",
                "max_speed_kmh",
                "accel_mps2",
                "decel_mps2",
                "emission_class",
            },
        )
        name = r.string(row, "name", p)
        if name in seen:
            raise r.fail(f"{p}.name", f"class {name!r} defined twice")
        seen.add(name)
        out.append(
            VehicleClass(
                name=name,
                pcu=r.number(row, "pcu", p, "passenger-car units"),
                length_m=r.number(row, "length_m", p, "metres"),
                max_speed_mps=kmh_to_mps(r.number(row, "max_speed_kmh", p, "km/h")),
                accel_mps2=r.number(row, "accel_mps2", p, "m/s²"),
                decel_mps2=r.number(row, "decel_mps2", p, "m/s²"),
                emission_class=_emission_class(r, row, p),
            )
        )
    return tuple(out)


def _incidents(
    r: _Reader, data: Mapping[str, Any], links: dict[str, LinkSpec]
) -> tuple[Incident, ...]:
    rows = r.array_of_tables(data, "incidents", required=False)
    out = []
    for i, row in enumerate(rows):
        p = f"incidents[{i}]"
        r.check_keys(row, p, {"link", "start_s", "end_s", "capacity_factor"})
        link = r.string(row, "link", p)
        if link not in links:
            raise r.fail(f"{p}.link", f"unknown link {link!r}")
        start = r.number(row, "start_s", p, "seconds", minimum=0.0, strict=False)
        end = r.number(row, "end_s", p, "seconds")
        if end <= start:
            raise r.fail(f"{p}.end_s", f"must be after start_s ({start:g} s)")
        factor = r.number(
            row, "capacity_factor", p, "share of the saturation flow left", maximum=1.0
        )
        out.append(Incident(link, start, end, factor))
    return tuple(out)


def _fleet(r: _Reader, head: Mapping[str, Any]) -> str:
    from trafficsim.sim.emissions import FLEETS

    fleet = r.string(head, "fleet", "scenario", "vn")
    if fleet not in FLEETS:
        raise r.fail("scenario.fleet", f"expected one of {list(FLEETS)}, got {fleet!r}")
    return fleet


def _emission_class(r: _Reader, row: Mapping[str, Any], path: str) -> str | None:
    from trafficsim.sim.emissions import CLASS_BY_NAME

    if "emission_class" not in row:
        name = row.get("name")
        return name if name in CLASS_BY_NAME else None
    value = r.string(row, "emission_class", path)
    if value not in CLASS_BY_NAME:
        raise r.fail(
            f"{path}.emission_class",
            f"unknown emission class {value!r}; known: {', '.join(CLASS_BY_NAME)}",
        )
    return value


def _mixes(r: _Reader, data: Mapping[str, Any], class_names: set[str]) -> tuple[Mix, ...]:
    table = r.table(data, "mixes", "", required=False)
    mixes = {m.name: m for m in DEFAULT_MIXES if all(c in class_names for c, _ in m.shares)}
    # Every class is also a mix of its own, so demand can be given per class.
    for c in sorted(class_names):
        mixes.setdefault(c, Mix(name=c, shares=((c, 1.0),)))
    for name, shares in table.items():
        p = f"mixes.{name}"
        if not isinstance(shares, dict) or not shares:
            raise r.fail(
                p, "expected a table of class = share, e.g. { motorcycle = 0.9, car = 0.1 }"
            )
        items = []
        for cls in shares:
            if cls not in class_names:
                raise r.fail(f"{p}.{cls}", f"unknown vehicle class; known: {sorted(class_names)}")
            items.append(
                (
                    cls,
                    r.number(
                        shares,
                        cls,
                        p,
                        "share of vehicles by count",
                        minimum=0.0,
                        strict=False,
                        maximum=1.0,
                    ),
                )
            )
        total = sum(s for _, s in items)
        if abs(total - 1.0) > 1e-6:
            raise r.fail(p, f"shares sum to {total:g}; they must sum to 1")
        mixes[name] = Mix(name=name, shares=tuple(items))
    return tuple(mixes.values())


def _nodes(r: _Reader, data: Mapping[str, Any]) -> tuple[NodeSpec, ...]:
    rows = r.array_of_tables(data, "nodes", required=True)
    out = []
    seen: set[str] = set()
    kinds = [k.value for k in NodeKind]
    for i, row in enumerate(rows):
        p = f"nodes[{i}]"
        r.check_keys(row, p, {"id", "kind", "x_m", "y_m"})
        nid = r.string(row, "id", p)
        if nid in seen:
            raise r.fail(f"{p}.id", f"node {nid!r} defined twice")
        seen.add(nid)
        kind = r.string(row, "kind", p)
        if kind not in kinds:
            raise r.fail(f"{p}.kind", f"expected one of {kinds}, got {kind!r}")
        out.append(
            NodeSpec(
                id=nid,
                kind=NodeKind(kind),
                x_m=r.number(row, "x_m", p, "metres", 0.0, minimum=None),
                y_m=r.number(row, "y_m", p, "metres", 0.0, minimum=None),
            )
        )
    return tuple(out)


_LINK_DEFAULT_KEYS = {"lanes", "speed_kmh", "sat_flow_pcu_per_h_per_lane", "length_m"}


def _links(
    r: _Reader, data: Mapping[str, Any], node_kind: dict[str, NodeKind]
) -> tuple[LinkSpec, ...]:
    defaults = r.table(data, "link_defaults", "", required=False)
    r.check_keys(defaults, "link_defaults", _LINK_DEFAULT_KEYS)
    rows = r.array_of_tables(data, "links", required=True)
    out = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        p = f"links[{i}]"
        r.check_keys(row, p, {"id", "from", "to"} | _LINK_DEFAULT_KEYS)
        lid = r.string(row, "id", p)
        if lid in seen:
            raise r.fail(f"{p}.id", f"link {lid!r} defined twice")
        seen.add(lid)
        ends = []
        for key in ("from", "to"):
            nid = r.string(row, key, p)
            if nid not in node_kind:
                raise r.fail(f"{p}.{key}", f"unknown node {nid!r}; define it in [[nodes]]")
            ends.append(nid)
        if ends[0] == ends[1]:
            raise r.fail(f"{p}.to", "a link must join two different nodes")
        merged = {**defaults, **row}
        out.append(
            LinkSpec(
                id=lid,
                from_node=ends[0],
                to_node=ends[1],
                length_m=r.number(merged, "length_m", p, "metres"),
                lanes=r.integer(merged, "lanes", p),
                free_speed_mps=kmh_to_mps(r.number(merged, "speed_kmh", p, "km/h")),
                sat_flow_pcu_per_h_per_lane=r.number(
                    merged, "sat_flow_pcu_per_h_per_lane", p, "PCU per hour per lane", 1800.0
                ),
            )
        )
    return tuple(out)


def _movements(
    r: _Reader,
    data: Mapping[str, Any],
    links: dict[str, LinkSpec],
    node_kind: dict[str, NodeKind],
) -> tuple[MovementSpec, ...]:
    rows = r.array_of_tables(data, "movements", required=False)
    out = []
    for i, row in enumerate(rows):
        p = f"movements[{i}]"
        r.check_keys(row, p, {"from", "to", "share", "group", "lanes"})
        ends = []
        for key in ("from", "to"):
            lid = r.string(row, key, p)
            if lid not in links:
                raise r.fail(f"{p}.{key}", f"unknown link {lid!r}; define it in [[links]]")
            ends.append(links[lid])
        a, b = ends
        if a.to_node != b.from_node:
            raise r.fail(
                f"{p}.to",
                f"link {b.id!r} starts at {b.from_node!r} but {a.id!r} ends at {a.to_node!r}; "
                "a movement joins a link to one that leaves the node it enters",
            )
        kind = node_kind[a.to_node]
        if kind is NodeKind.BOUNDARY:
            raise r.fail(
                f"{p}.from",
                f"link {a.id!r} ends at boundary node {a.to_node!r}: "
                "vehicles leave the network there, so it has no movements",
            )
        group = row.get("group")
        if kind is NodeKind.SIGNAL:
            group = r.string(row, "group", p)
        elif group is not None:
            raise r.fail(f"{p}.group", f"node {a.to_node!r} is not signalized; remove 'group'")
        lanes = r.integer(row, "lanes", p, 0) if "lanes" in row else None
        if lanes is not None and lanes > a.lanes:
            raise r.fail(f"{p}.lanes", f"{lanes} lanes, but link {a.id!r} has {a.lanes}")
        out.append(
            MovementSpec(
                from_link=a.id,
                to_link=b.id,
                share=r.number(row, "share", p, "fraction of the link's vehicles", maximum=1.0),
                signal_group=group,
                lanes=lanes,
            )
        )
    # Every link into a non-boundary node needs movements whose shares sum to 1, and a link
    # with several lane groups needs each group's lane count.
    by_link: dict[str, list[tuple[int, MovementSpec]]] = {}
    for i, m in enumerate(out):
        by_link.setdefault(m.from_link, []).append((i, m))
    for lid, ln in links.items():
        if node_kind[ln.to_node] is NodeKind.BOUNDARY:
            continue
        moves = by_link.get(lid)
        if not moves:
            raise r.fail(
                "movements",
                f"link {lid!r} enters node {ln.to_node!r} but no "
                "movement leaves it; add [[movements]] with from = " + repr(lid),
            )
        total = sum(m.share for _, m in moves)
        if abs(total - 1.0) > 1e-6:
            raise r.fail(
                f"movements[{moves[0][0]}].share",
                f"shares of movements from link {lid!r} sum to {total:g}; they must sum to 1",
            )
        groups: dict[str | None, set[int | None]] = {}
        for _, m in moves:
            groups.setdefault(m.signal_group, set()).add(m.lanes)
        if len(groups) > 1:
            for i, m in moves:
                if m.lanes is None:
                    raise r.fail(
                        f"movements[{i}].lanes",
                        f"link {lid!r} has several signal groups, so each movement "
                        "must say how many lanes its lane group has",
                    )
        for g, lane_set in groups.items():
            if len(lane_set) > 1:
                raise r.fail(
                    f"movements[{moves[0][0]}].lanes",
                    f"movements of link {lid!r} in group {g!r} share one lane group "
                    f"but give different lane counts {sorted(x or 0 for x in lane_set)}",
                )
    return tuple(out)


def _signals(
    r: _Reader,
    data: Mapping[str, Any],
    node_kind: dict[str, NodeKind],
    movements: tuple[MovementSpec, ...],
    links: dict[str, LinkSpec],
) -> tuple[SignalSpec, ...]:
    rows = r.array_of_tables(data, "signals", required=False)
    out = []
    seen: set[str] = set()
    groups_at: dict[str, set[str]] = {}
    for m in movements:
        if m.signal_group is not None:
            groups_at.setdefault(links[m.from_link].to_node, set()).add(m.signal_group)
    for i, row in enumerate(rows):
        p = f"signals[{i}]"
        r.check_keys(row, p, {"node", "offset_s", "phases"})
        node = r.string(row, "node", p)
        if node_kind.get(node) is not NodeKind.SIGNAL:
            raise r.fail(f"{p}.node", f"{node!r} is not a node of kind 'signal'")
        if node in seen:
            raise r.fail(f"{p}.node", f"node {node!r} has two signal plans")
        seen.add(node)
        phase_rows = r.array_of_tables(row, "phases", required=True)
        phases = []
        for j, ph in enumerate(phase_rows):
            pp = f"{p}.phases[{j}]"
            r.check_keys(ph, pp, {"groups", "green_s", "yellow_s", "all_red_s"})
            groups = ph.get("groups")
            if (
                not isinstance(groups, list)
                or not groups
                or not all(isinstance(g, str) and g for g in groups)
            ):
                raise r.fail(
                    f"{pp}.groups", f"expected a list of signal group names, got {_show(groups)}"
                )
            for g in groups:
                if g not in groups_at.get(node, set()):
                    raise r.fail(
                        f"{pp}.groups",
                        f"no movement at node {node!r} is in group {g!r}; "
                        f"groups there: {sorted(groups_at.get(node, set()))}",
                    )
            phases.append(
                Phase(
                    groups=tuple(groups),
                    green_s=r.number(ph, "green_s", pp, "seconds"),
                    yellow_s=r.number(
                        ph, "yellow_s", pp, "seconds", 3.0, minimum=0.0, strict=False
                    ),
                    all_red_s=r.number(
                        ph, "all_red_s", pp, "seconds", 0.0, minimum=0.0, strict=False
                    ),
                )
            )
        plan = SignalPlan(
            phases=tuple(phases),
            offset_s=r.number(row, "offset_s", p, "seconds", 0.0, minimum=0.0, strict=False),
        )
        missing = groups_at.get(node, set()) - set(plan.groups)
        if missing:
            raise r.fail(
                f"{p}.phases",
                f"signal group(s) {sorted(missing)} at node {node!r} "
                "never get green; add them to a phase",
            )
        out.append(SignalSpec(node=node, plan=plan))
    for node, kind in node_kind.items():
        if kind is NodeKind.SIGNAL and node not in seen:
            raise r.fail(
                "signals", f"signal node {node!r} has no plan; add [[signals]] node = {node!r}"
            )
    return tuple(out)


def _demands(
    r: _Reader,
    data: Mapping[str, Any],
    links: dict[str, LinkSpec],
    node_kind: dict[str, NodeKind],
    mix_names: set[str],
) -> tuple[DemandSpec, ...]:
    rows = r.array_of_tables(data, "demand", required=True)
    out = []
    arrivals = [a.value for a in ArrivalProcess]
    for i, row in enumerate(rows):
        p = f"demand[{i}]"
        r.check_keys(row, p, {"link", "flow_veh_per_h", "profile", "mix", "arrivals"})
        lid = r.string(row, "link", p)
        if lid not in links:
            raise r.fail(f"{p}.link", f"unknown link {lid!r}")
        if node_kind[links[lid].from_node] is not NodeKind.BOUNDARY:
            raise r.fail(
                f"{p}.link",
                f"link {lid!r} does not start at a boundary node; "
                "demand enters the network only at boundary nodes",
            )
        if ("flow_veh_per_h" in row) == ("profile" in row):
            raise r.fail(
                p,
                "give exactly one of flow_veh_per_h (constant) or profile "
                "(list of [start_s, flow_veh_per_h] pairs)",
            )
        if "flow_veh_per_h" in row:
            profile: tuple[tuple[float, float], ...] = (
                (
                    0.0,
                    r.number(
                        row, "flow_veh_per_h", p, "vehicles per hour", minimum=0.0, strict=False
                    ),
                ),
            )
        else:
            profile = _profile(r, row["profile"], f"{p}.profile")
        mix = r.string(row, "mix", p, "hcmc")
        if mix not in mix_names:
            raise r.fail(f"{p}.mix", f"unknown mix {mix!r}; known: {sorted(mix_names)}")
        arr = r.string(row, "arrivals", p, "poisson")
        if arr not in arrivals:
            raise r.fail(f"{p}.arrivals", f"expected one of {arrivals}, got {arr!r}")
        out.append(
            DemandSpec(entry_link=lid, profile=profile, mix=mix, arrivals=ArrivalProcess(arr))
        )
    return tuple(out)


def _profile(r: _Reader, v: Any, path: str) -> tuple[tuple[float, float], ...]:
    hint = (
        "expected a list of [start_s, flow_veh_per_h] pairs starting at 0, "
        "e.g. [[0, 600], [1800, 900]]"
    )
    if not isinstance(v, list) or not v:
        raise r.fail(path, hint)
    out = []
    last = -1.0
    for k, pair in enumerate(v):
        ok = (
            isinstance(pair, list)
            and len(pair) == 2
            and all(
                isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
                for x in pair
            )
        )
        if not ok or pair[1] < 0:
            raise r.fail(f"{path}[{k}]", hint)
        if pair[0] <= last:
            raise r.fail(f"{path}[{k}]", "start times must increase")
        last = float(pair[0])
        out.append((float(pair[0]), float(pair[1])))
    if out[0][0] != 0.0:
        raise r.fail(f"{path}[0]", "the profile must start at 0 s")
    return tuple(out)
