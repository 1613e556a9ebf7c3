"""``trafficsim emissions``: the emission model on one speed trace, without a simulation
(to check it against other tools' figures)."""

from __future__ import annotations

import argparse
import json
import sys

from trafficsim.runner.cli.common import Subparsers, UsageError
from trafficsim.sim import Fleet


def register(sub: Subparsers) -> None:
    """Add ``emissions``."""
    em = sub.add_parser(
        "emissions",
        help="emissions of one vehicle class over a speed trace",
        description=(
            "Compute the project's emission model (HBEFA4 rates tabulated from Eclipse SUMO, "
            "optionally corrected to the Vietnamese fleet) on a speed trace: a CSV with "
            "header t_s,speed_mps, resampled to 1 s. Prints one JSON object: totals in grams "
            "(co2_g, fuel_g, nox_g, pm_g, co_g, hc_g, fuel_l) and per km."
        ),
    )
    em.add_argument("--trace", metavar="FILE.csv", help="speed trace (t_s,speed_mps)")
    em.add_argument(
        "--class", dest="vehicle_class", metavar="CLASS", help="vehicle class (see --list-classes)"
    )
    em.add_argument(
        "--fleet",
        choices=[f.value for f in Fleet],
        default="hbefa4",
        help="hbefa4 (European fleet, as SUMO) or vn (Vietnamese corrections)",
    )
    em.add_argument(
        "--list-classes",
        action="store_true",
        help="list the classes and their HBEFA4 reference classes",
    )
    em.set_defaults(handler=_emissions)


def _emissions(args: argparse.Namespace) -> int:
    from trafficsim.sim.emissions import CLASSES, TraceError, read_trace, trace_report

    if args.list_classes:
        for c in CLASSES:
            sys.stdout.write(f"{c.name:15} {c.reference:36} {c.description}\n")
        return 0
    if not args.trace or not args.vehicle_class:
        raise UsageError(
            "trafficsim emissions", "give --trace FILE.csv and --class CLASS, or --list-classes"
        )
    try:
        v = read_trace(args.trace)
        report = trace_report(args.vehicle_class, v, args.fleet)
    except TraceError as exc:
        raise UsageError("--trace", str(exc)) from None
    except KeyError as exc:
        raise UsageError("--class", str(exc.args[0])) from None
    sys.stdout.write(json.dumps(report) + "\n")
    return 0
