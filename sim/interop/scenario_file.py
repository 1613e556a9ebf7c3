"""An imported network and demand as a scenario file, written whole or not at all.

The file is the scenario format of ``docs/scenario-format.md`` with the importer's notes as
a comment block at its head: every default the model needs and the source lacks, where it
came from, and what was skipped. Links shorter than one vehicle of the largest class get
the storage a vehicle standing on them really takes (one vehicle per lane, reaching over
the junction), never a refusal of the network. A demand of more than
:data:`TOML_TRIPS_MAX` trips goes to a CSV trips file beside the scenario
(``trips_file``). Both files are written to temporary names in the target folder and
renamed into place, so an interrupted import leaves nothing half-written.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from trafficsim.sim.errors import InputError
from trafficsim.sim.interop import toml_text
from trafficsim.sim.interop.report import ImportReport
from trafficsim.sim.interop.sumo_net import Network
from trafficsim.sim.interop.sumo_routes import EMISSION_CLASS, Demand
from trafficsim.sim.vehicles import DEFAULT_CLASSES, JAM_SPACING_M_PER_PCU

TOML_TRIPS_MAX = 500
"""Trips written as ``[[trips]]`` tables; more go to a CSV file (a table per trip is five
lines of TOML, and the RESCO demands hold thousands)."""

SCENARIO_DAY = datetime(2026, 3, 2)  # noqa: DTZ001 - local time: the scenario's own zone
"""The date of an imported scenario's ``start_time`` (SUMO has times of day, no dates)."""

_MODAL = {c.name: c for c in DEFAULT_CLASSES}


def classes_of(
    demand: Demand, report: ImportReport
) -> tuple[list[dict[str, Any]], float, dict[str, str]]:
    """``[[classes]]`` for the vehicle types used, the jam spacing (the most common car
    type's length plus gap), and each vType's class name."""
    counts = Counter(t.vtype for t in demand.trips)
    cars = [v for v in demand.vtypes.values() if EMISSION_CLASS.get(v.vclass, "car") == "car"]
    jam = JAM_SPACING_M_PER_PCU
    if cars:
        ref = max(cars, key=lambda v: counts[v.id])
        jam = round(ref.length_m + ref.min_gap_m, 3)
        report.note(
            f"jam_spacing_m_per_pcu = {jam:g}: length + minGap of vType {ref.id!r}, the most "
            "common car type (one PCU); other classes' PCU is their length + minGap over it"
        )
    rows, names = [], {}
    for v in sorted(demand.vtypes.values(), key=lambda v: -counts[v.id]):
        kind = EMISSION_CLASS.get(v.vclass, "car")
        name = "car" if v.id == "DEFAULT_VEHTYPE" else v.id
        names[v.id] = name
        modal = _MODAL[kind]
        rows.append(
            {
                "name": name,
                "pcu": round((v.length_m + v.min_gap_m) / jam, 3),
                "length_m": v.length_m,
                "max_speed_kmh": round(v.max_speed_mps * 3.6, 2),
                "accel_mps2": modal.accel_mps2,
                "decel_mps2": modal.decel_mps2,
                "emission_class": kind,
            }
        )
    report.note(
        "classes: one per vType (length, minGap, maxSpeed from the file or SUMO's vClass "
        "defaults); accel/decel are the project's mean modal rates of the class "
        "(sim/vehicles.py), not SUMO's car-following limits"
    )
    return rows, jam, names


def lengthen_short_links(
    links: list[dict[str, Any]], jam_m: float, max_pcu: float, report: ImportReport
) -> None:
    """Give every link room for one vehicle of the largest class per lane."""
    floor = round(jam_m * max_pcu + 0.005, 2)
    short = [ln for ln in links if ln["length_m"] < floor]
    if not short:
        return
    added = [floor - ln["length_m"] for ln in short]
    for ln in short:
        ln["length_m"] = floor
    report.note(
        f"{len(short)} links shorter than one vehicle ({floor:g} m: jam spacing x the "
        "largest PCU) take that length, the road a vehicle standing on them really uses "
        f"(it reaches over the junction): {max(added):.1f} m added at most, "
        f"{sum(added):.1f} m in all"
    )


def trip_rows(demand: Demand, names: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for t in demand.trips:
        row: dict[str, Any] = {
            "id": t.id,
            "depart_s": round(t.depart_s, 3),
            "class": names[t.vtype],
        }
        if t.links is not None:
            row["links"] = t.links
        else:
            row["from"], row["to"] = t.origin, t.destination
        out.append(row)
    return out


def start_time(begin_s: float) -> datetime:
    """The scenario's local start: the import window's begin as a time of day."""
    return SCENARIO_DAY + timedelta(seconds=begin_s % 86400.0)


def header(report: ImportReport, made_by: str, extra: Sequence[str] = ()) -> str:
    lines = [f"# {made_by}", *(f"# {x}" for x in extra)]
    lines.append("# What the import chose and skipped (edit the values below to change them):")
    lines.extend(f"#   {x}" for x in report.lines())
    return "\n".join(lines) + "\n\n"


def scenario_data(
    name: str,
    net: Network,
    duration_s: float,
    begin_s: float,
    *,
    description: str,
    extra_head: dict[str, Any] | None = None,
) -> dict[str, Any]:
    head: dict[str, Any] = {
        "name": name,
        "duration_s": float(duration_s),
        "start_time": start_time(begin_s),
        "description": description,
        **(extra_head or {}),
    }
    if net.origin is not None:
        head["origin_lat"], head["origin_lon"] = net.origin
    return {"scenario": head}


def write(
    out: Path, data: dict[str, Any], head: str, trips: list[dict[str, Any]] | None
) -> list[Path]:
    """Write the scenario (and its trips file when the demand is large); the paths."""
    written: list[Path] = []
    files: list[tuple[Path, str]] = []
    if trips is not None and len(trips) > TOML_TRIPS_MAX:
        trips_path = out.with_name(out.stem + ".trips.csv")
        data["scenario"]["trips_file"] = trips_path.name
        files.append((trips_path, _csv(trips)))
    elif trips:
        data["trips"] = trips
    files.append((out, head + toml_text.dumps(data)))
    temps: list[tuple[str, Path]] = []
    umask = os.umask(0)
    os.umask(umask)
    try:
        for path, text in files:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a scenario is not
            temps.append((tmp, path))
        for tmp, path in temps:
            os.replace(tmp, path)
            written.append(path)
    except OSError as exc:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        for path in written:
            path.unlink(missing_ok=True)
        raise InputError(str(out), "", f"cannot write the scenario: {exc.strerror}") from None
    return written


def _csv(trips: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    routed = "links" in trips[0]
    cols = ["id", "depart_s", "class", "links"] if routed else ["id", "depart_s", "class"]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols if routed else [*cols, "from", "to"])
    for t in trips:
        row = [t["id"], f"{t['depart_s']:g}", t["class"]]
        w.writerow([*row, " ".join(t["links"])] if routed else [*row, t["from"], t["to"]])
    return buf.getvalue()
