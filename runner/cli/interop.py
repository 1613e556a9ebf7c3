"""``trafficsim import sumo|osm`` and ``trafficsim export sumo``: real networks in, any
scenario out to Eclipse SUMO.

The work is :mod:`trafficsim.sim.interop`'s; here are the flags, their checks (each refusal
names its flag, before any work) and the import report printed at the end: what was
imported, the defaults chosen and where they came from, what was skipped.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from trafficsim.runner.cli.common import (
    Subparsers,
    UsageError,
    add_overrides,
    add_scenario,
    output_dir,
)


def register(sub: Subparsers) -> None:
    """Add ``import`` and ``export``."""
    imp = sub.add_parser(
        "import",
        help="import a SUMO network (with its demand) or an OpenStreetMap extract",
        description="Write a scenario file from another simulator's or a map's files.",
    )
    imp.set_defaults(handler=_format_needed)
    fmt = imp.add_subparsers(dest="format", metavar="FORMAT", required=True)
    su = fmt.add_parser(
        "sumo",
        help="a SUMO .net.xml and its route files",
        description=(
            "Import a SUMO network (edges, junctions, connections, traffic lights) and its "
            "demand (vehicles, routes, trips, flows) as a scenario file. What the model needs "
            "and SUMO lacks is written into the file as a default with its source; what the "
            "model cannot use is skipped and counted in the report printed at the end."
        ),
    )
    su.add_argument("--net", required=True, type=Path, metavar="NET.net.xml")
    su.add_argument(
        "--routes",
        nargs="+",
        default=[],
        type=Path,
        metavar="R.rou.xml",
        help="route files (vehicles, trips, flows); without them, a stated default demand",
    )
    su.add_argument("--begin", type=float, metavar="S", help="SUMO time of the scenario's 0")
    su.add_argument("--end", type=float, metavar="S", help="end of the window (SUMO time)")
    _add_common(su)
    su.add_argument(
        "--sat-flow",
        type=float,
        metavar="PCU_PER_H",
        help="saturation flow per lane for every link (default: SUMO's own discharge, "
        "measured in a short SUMO run)",
    )
    su.set_defaults(handler=_import_sumo)

    osm = fmt.add_parser(
        "osm",
        help="an OpenStreetMap extract (.osm or .osm.pbf), through SUMO's netconvert",
        description=(
            "Build a network from OpenStreetMap with SUMO's netconvert (its OSM type maps, "
            "traffic-light guessing and junction joining), import it, and add a stated "
            "default demand between the fringe links, to replace with counts. The scenario "
            "is derived from OpenStreetMap data: © OpenStreetMap contributors, ODbL 1.0."
        ),
    )
    osm.add_argument("--osm", required=True, type=Path, metavar="FILE.osm|FILE.osm.pbf")
    osm.add_argument(
        "--bbox", metavar="W,S,E,N", help="keep the roads inside this box (degrees, WGS84)"
    )
    osm.add_argument(
        "--skip-classes",
        metavar="CLASS,...",
        default="",
        help="leave out roads of these OSM highway classes (and their _link roads), e.g. "
        "service,living_street",
    )
    _add_common(osm)
    osm.set_defaults(handler=_import_osm)

    exp = sub.add_parser("export", help="write a scenario as files another simulator runs (SUMO)")
    exp.set_defaults(handler=_format_needed)
    efmt = exp.add_subparsers(dest="format", metavar="FORMAT", required=True)
    es = efmt.add_parser(
        "sumo",
        help="a SUMO network, routes and .sumocfg",
        description=(
            "Write DIR/NAME.net.xml (built by netconvert from plain nodes, edges, connections "
            "and traffic lights), DIR/NAME.rou.xml and DIR/NAME.sumocfg, so the scenario runs "
            "in SUMO: sumo -c DIR/NAME.sumocfg."
        ),
    )
    add_scenario(es)
    add_overrides(es)
    es.add_argument("--out", required=True, metavar="DIR")
    es.add_argument("--seed", type=int, default=0, help="seed of the demand drawn (default 0)")
    es.set_defaults(handler=_export_sumo)


def _format_needed(args: argparse.Namespace) -> int:
    raise UsageError("FORMAT", "name the format: sumo or osm (import), sumo (export)")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="scenario.toml")
    p.add_argument("--name", help="the scenario's name (default: the file's)")
    p.add_argument(
        "--demand-level",
        type=float,
        metavar="VEH_PER_H",
        help="without route files: vehicles per hour per entry lane of a primary road in "
        "the default demand (default 200)",
    )


def _out_file(text: str) -> Path:
    """``--out``: a .toml file whose folder exists and takes files; refused otherwise."""
    path = Path(text)
    if path.suffix != ".toml":
        raise UsageError("--out", f"expected a .toml file name, got {text!r}")
    if path.is_dir():
        raise UsageError("--out", f"{path} is a directory; name the scenario file")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError("--out", f"folder {parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".trafficsim-check-", dir=parent)
    except OSError as exc:
        raise UsageError("--out", f"cannot write in {parent}: {exc.strerror}") from None
    os.close(fd)
    os.unlink(tmp)
    return path


def _level(args: argparse.Namespace) -> float:
    from trafficsim.sim.interop.default_demand import DEFAULT_LEVEL_VEH_PER_H_PER_LANE

    if args.demand_level is None:
        return DEFAULT_LEVEL_VEH_PER_H_PER_LANE
    if not 0 < args.demand_level < 10_000:
        raise UsageError(
            "--demand-level",
            f"expected vehicles per hour per lane in (0, 10000), got {args.demand_level:g}",
        )
    return float(args.demand_level)


def _import_sumo(args: argparse.Namespace) -> int:
    from trafficsim.sim.interop.sumo_import import Options, import_sumo

    out = _out_file(args.out)
    for flag in ("begin", "end"):
        v = getattr(args, flag)
        if v is not None and not (v >= 0 and v < 1e9):
            raise UsageError(f"--{flag}", f"expected seconds of SUMO time >= 0, got {v:g}")
    if args.sat_flow is not None and not 100 <= args.sat_flow <= 5000:
        raise UsageError("--sat-flow", f"expected 100-5000 PCU/h per lane, got {args.sat_flow:g}")
    options = Options(
        begin_s=args.begin,
        end_s=args.end,
        sat_flow=args.sat_flow,
        name=args.name,
        demand_level=_level(args),
    )
    t0 = time.perf_counter()
    done = import_sumo(args.net, list(args.routes), out, options)
    _print_report(done.report.lines(), done.written, time.perf_counter() - t0)
    return 0


def _import_osm(args: argparse.Namespace) -> int:
    from trafficsim.sim.interop.osm import import_osm, parse_bbox, parse_classes

    out = _out_file(args.out)
    bbox = parse_bbox(args.bbox) if args.bbox is not None else None
    skip = parse_classes(args.skip_classes)
    t0 = time.perf_counter()
    done = import_osm(
        args.osm, out, bbox=bbox, level=_level(args), name=args.name, skip_classes=skip
    )
    _print_report(done.report.lines(), done.written, time.perf_counter() - t0)
    return 0


def _export_sumo(args: argparse.Namespace) -> int:
    from trafficsim.sim import load_scenario, parse_overrides
    from trafficsim.sim.interop.sumo_export import export_sumo

    out = output_dir(args.out)
    if args.seed < 0:
        raise UsageError("--seed", f"expected a non-negative integer, got {args.seed}")
    scenario = load_scenario(args.scenario, parse_overrides(args.overrides))
    t0 = time.perf_counter()
    written = export_sumo(scenario, out, seed=args.seed)
    _print_report([], written, time.perf_counter() - t0)
    return 0


def _print_report(lines: list[str], written: list[Path], wall_s: float) -> None:
    console = Console(highlight=False, soft_wrap=True)
    for line in lines:
        console.print(escape(line))
    console.print(escape(f"wrote {', '.join(map(str, written))} in {wall_s:.1f} s"), style="bold")
