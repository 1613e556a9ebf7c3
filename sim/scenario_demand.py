"""What travels on the network of a scenario file: ``[[classes]]``, ``[mixes]``,
``[[demand]]`` with its profiles, and ``[[incidents]]``.

Classes fall back to the HCMC defaults and every class is also a mix of its own, so a small
scenario can name demand per class without a ``[mixes]`` table. Speeds given in km/h become
m/s here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trafficsim.sim.config import (
    ArrivalProcess,
    DemandSpec,
    Incident,
    LinkSpec,
    Mix,
    NodeKind,
    VehicleClass,
)
from trafficsim.sim.fields import FieldReader
from trafficsim.sim.units import kmh_to_mps
from trafficsim.sim.vehicles import DEFAULT_CLASSES, DEFAULT_MIXES

_CLASS_KEYS = {
    "name",
    "pcu",
    "length_m",
    "max_speed_kmh",
    "accel_mps2",
    "decel_mps2",
    "emission_class",
    "dawdle_mps",
}


def read_classes(r: FieldReader, data: Mapping[str, Any]) -> tuple[VehicleClass, ...]:
    """The vehicle classes, or the HCMC defaults when the file defines none."""
    if not r.array_of_tables(data, "classes", required=False):
        return DEFAULT_CLASSES
    out = []
    seen: set[str] = set()
    for p, row in r.rows(data, "classes", _CLASS_KEYS, required=False):
        name = r.unique(r.string(row, "name", p), seen, f"{p}.name", "class")
        out.append(
            VehicleClass(
                name=name,
                pcu=r.number(row, "pcu", p, "passenger-car units"),
                length_m=r.number(row, "length_m", p, "metres"),
                max_speed_mps=kmh_to_mps(r.number(row, "max_speed_kmh", p, "km/h")),
                accel_mps2=r.number(row, "accel_mps2", p, "m/s²"),
                decel_mps2=r.number(row, "decel_mps2", p, "m/s²"),
                emission_class=_emission_class(r, row, p),
                dawdle_mps=r.number(row, "dawdle_mps", p, "m/s", 0.0, strict=False),
            )
        )
    return tuple(out)


def _emission_class(r: FieldReader, row: Mapping[str, Any], path: str) -> str | None:
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


def read_mixes(r: FieldReader, data: Mapping[str, Any], class_names: set[str]) -> tuple[Mix, ...]:
    """The default mixes whose classes exist, one mix per class, and the file's own."""
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


def read_demands(
    r: FieldReader,
    data: Mapping[str, Any],
    links: dict[str, LinkSpec],
    node_kind: dict[str, NodeKind],
    mix_names: set[str],
    *,
    required: bool = True,
) -> tuple[DemandSpec, ...]:
    """Entry flows, each constant or a step profile, entering at boundary nodes only.

    ``required``: the scenario has no other demand (no trips, trips file or OD flows)."""
    out = []
    allowed = {"link", "flow_veh_per_h", "profile", "mix", "arrivals"}
    if required and not r.array_of_tables(data, "demand", required=False):
        raise r.fail(
            "demand",
            "missing; add at least one [[demand]] table (turn shares), or give trips "
            "([[trips]], scenario.trips_file) or OD flows ([[od]])",
        )
    for p, row in r.rows(data, "demand", allowed, required=False):
        lid = r.string(row, "link", p)
        if lid not in links:
            raise r.fail(f"{p}.link", f"unknown link {lid!r}")
        if node_kind[links[lid].from_node] is not NodeKind.BOUNDARY:
            raise r.fail(
                f"{p}.link",
                f"link {lid!r} does not start at a boundary node; "
                "demand enters the network only at boundary nodes",
            )
        profile, mix, arr = read_flow(r, row, p, mix_names)
        out.append(DemandSpec(entry_link=lid, profile=profile, mix=mix, arrivals=arr))
    return tuple(out)


def read_flow(
    r: FieldReader, row: Mapping[str, Any], p: str, mix_names: set[str]
) -> tuple[tuple[tuple[float, float], ...], str, ArrivalProcess]:
    """The flow fields a ``[[demand]]`` and an ``[[od]]`` share: ``flow_veh_per_h`` or
    ``profile``, ``mix`` and ``arrivals``."""
    arrivals = [a.value for a in ArrivalProcess]
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
                r.number(row, "flow_veh_per_h", p, "vehicles per hour", minimum=0.0, strict=False),
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
    return profile, mix, ArrivalProcess(arr)


def _profile(r: FieldReader, v: Any, path: str) -> tuple[tuple[float, float], ...]:
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


def read_incidents(
    r: FieldReader, data: Mapping[str, Any], links: dict[str, LinkSpec]
) -> tuple[Incident, ...]:
    """Capacity drops on links for a time (a crash, a stalled bus)."""
    out = []
    allowed = {"link", "start_s", "end_s", "capacity_factor"}
    for p, row in r.rows(data, "incidents", allowed, required=False):
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
