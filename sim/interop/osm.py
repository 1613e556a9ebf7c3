"""``trafficsim import osm``: an OpenStreetMap extract as a scenario, through SUMO's
netconvert and the SUMO importer.

netconvert does what a map needs to become a network (SUMO, "OSM import",
sumo.dlr.de/docs/Networks/Import/OpenStreetMap.html): its OSM type map gives each road
class its lanes and speed where OSM has no tags, ``--tls.guess-signals`` turns the
``highway=traffic_signals`` nodes around a junction into one signal, ``--junctions.join``
and ``--tls.join`` merge the clusters of nodes a dual carriageway crossing is drawn with,
and its default signal programs stand for plans nobody surveyed (said so in the scenario).
A ``.pbf`` file is first written out as OSM XML with osmium (netconvert reads XML only);
``--bbox`` keeps the roads inside the box (``--keep-edges.in-geo-boundary``).

A map has no demand: the scenario gets the stated default of
:mod:`~trafficsim.sim.interop.default_demand` with HCMC's vehicle mix, and HCMC's
defaults for saturation flow and classes. The data are OpenStreetMap's, under the ODbL:
the scenario says "© OpenStreetMap contributors" in its head and its description.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from trafficsim.sim.errors import InputError
from trafficsim.sim.interop import tools
from trafficsim.sim.interop.report import ImportReport
from trafficsim.sim.interop.sumo_import import Imported, Options, import_sumo

ATTRIBUTION = "© OpenStreetMap contributors"
LICENCE = (
    "Data © OpenStreetMap contributors, available under the Open Database Licence (ODbL 1.0, "
    "opendatacommons.org/licenses/odbl/); this scenario is a database derived from it and "
    "is under the ODbL too."
)

NETCONVERT_OSM = (
    "--geometry.remove",
    "--roundabouts.guess",
    "--ramps.guess",
    "--tls.guess-signals",
    "--tls.join",
    "--tls.discard-simple",
    "--junctions.join",
    "--osm.turn-lanes",
    "--output.street-names",
    "--remove-edges.isolated",
    "--no-turnarounds",
    "--fringe.guess",
)
"""netconvert switches of an OSM import (each ``true``): the ones the README of the HCMC
extract was measured with, plus street names for the scenario, no U-turns (a dead end, an
alley or a road cut at the map's edge, is a boundary where vehicles leave) and the outer
fringe marked, where the default demand's zones are."""

ROAD_VCLASSES = "passenger,motorcycle,bus,truck,delivery"


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``W,S,E,N`` in degrees, or a refusal naming ``--bbox``."""
    parts = text.split(",")
    try:
        w, s, e, n = (float(p) for p in parts)
    except ValueError:
        raise InputError(
            "--bbox",
            "",
            f"expected W,S,E,N in degrees, e.g. 106.69,10.77,106.71,10.79, got {text!r}",
        ) from None
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise InputError("--bbox", "", f"expected finite degrees, got {text!r}")
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InputError(
            "--bbox",
            "",
            f"expected west < east in [-180, 180] and south < north in [-90, 90], got {text!r}",
        )
    return w, s, e, n


def parse_classes(text: str) -> tuple[str, ...]:
    """``service,living_street``: OSM ``highway=*`` values, or a refusal naming
    ``--skip-classes``."""
    names = tuple(sorted({c.strip() for c in text.split(",") if c.strip()}))
    bad = [c for c in names if not c.replace("_", "").isalpha() or not c.islower()]
    if bad:
        raise InputError(
            "--skip-classes",
            "",
            f"expected OSM highway values such as service,living_street, got {bad[0]!r}",
        )
    return names


def import_osm(
    osm: Path,
    out: Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    level: float,
    name: str | None = None,
    skip_classes: tuple[str, ...] = (),
) -> Imported:
    """Build the network with netconvert, import it, add the default demand; roads of
    ``skip_classes`` (OSM ``highway=*`` values, with their ``_link`` roads) are left out."""
    source = str(osm)
    if not osm.is_file():
        raise InputError(source, "", "not found" if not osm.exists() else "not a file")
    if not osm.name.endswith((".osm", ".osm.xml", ".osm.gz", ".pbf")):
        raise InputError(source, "", "expected an OpenStreetMap file: .osm, .osm.gz or .osm.pbf")
    report = ImportReport(source)
    home = tools.sumo_home()
    with tempfile.TemporaryDirectory(prefix="trafficsim-osm-") as tmp:
        work = Path(tmp)
        xml = _as_xml(osm, work) if osm.name.endswith(".pbf") else osm
        net = work / "osm.net.xml"
        args = ["--osm-files", str(xml), "-o", str(net)]
        args += ["--type-files", str(home / "data" / "typemap" / "osmNetconvert.typ.xml")]
        for flag in NETCONVERT_OSM:
            args += [flag, "true"]
        args += ["--keep-edges.by-vclass", ROAD_VCLASSES, "--tls.default-type", "static"]
        args += ["--no-warnings", "true"]
        if skip_classes:
            types = [f"highway.{c}{s}" for c in skip_classes for s in ("", "_link")]
            args += ["--remove-edges.by-type", ",".join(types)]
            report.note(f"roads of OSM classes {', '.join(skip_classes)} left out (--skip-classes)")
        if bbox is not None:
            args += ["--keep-edges.in-geo-boundary", ",".join(f"{v:.7f}" for v in bbox)]
        tools.run("netconvert", args, source)
        if not net.exists():
            raise InputError(source, "", "netconvert made no network (no roads in it?)")
        report.note(
            "signals: netconvert's guessed signals and default fixed-time programs "
            "(--tls.guess-signals, --tls.join, static), not the city's plans"
        )
        report.note(
            "lanes and speeds: OSM's tags, else netconvert's OSM type map "
            "(osmNetconvert.typ.xml) for the road class"
        )
        options = Options(
            begin_s=0.0,
            end_s=3600.0,
            measure=False,
            name=name or osm.name.split(".")[0],
            demand_level=level,
            mix="hcmc",
        )
        try:
            return import_sumo(
                net,
                [],
                out,
                options,
                made_by=f"trafficsim import osm --osm {osm}"
                + (f" --bbox {','.join(f'{v:g}' for v in bbox)}" if bbox else "")
                + (f" --skip-classes {','.join(skip_classes)}" if skip_classes else ""),
                description=f"Imported from OpenStreetMap ({osm.name}) through SUMO's netconvert. "
                + LICENCE,
                extra_head=[LICENCE],
                report=report,
            )
        except InputError as exc:
            if exc.source != str(net):
                raise
            # The network is netconvert's temporary file: name the map the user gave.
            raise InputError(
                source, exc.field, f"{exc.problem} (in what netconvert built from it)"
            ) from None


def _as_xml(pbf: Path, work: Path) -> Path:
    """The ``.pbf`` file written out as OSM XML (netconvert reads no PBF)."""
    try:
        import osmium
    except ImportError:
        raise InputError("osmium", "", f"not installed; {tools.EXTRA}") from None
    xml = work / "input.osm"
    try:
        with osmium.SimpleWriter(str(xml)) as writer:
            for obj in osmium.FileProcessor(str(pbf)):
                writer.add(obj)
    except RuntimeError as exc:
        raise InputError(str(pbf), "", f"not a readable OSM PBF file: {exc}") from None
    return xml
