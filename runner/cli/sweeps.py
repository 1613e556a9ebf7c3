"""``trafficsim compare`` and ``report``: sweeps of closed-loop runs over controllers and
seeds on Dask, written as a comparison or as the impact report."""

from __future__ import annotations

import argparse
import math
import shlex
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trafficsim.runner.cli.common import (
    CONTROLLER_NAMES,
    RUNS,
    Subparsers,
    UsageError,
    add_dask_args,
    add_overrides,
    add_scenario,
    api_errors,
    check_model,
    output_dir,
    progress_bar,
    scenario_from_args,
    sweep_seeds,
)
from trafficsim.runner.report import Sensitivity
from trafficsim.sim import Scenario

SWEEP_OPTIONS = (
    ("--demand-factors", "demand_factors", "demand multipliers"),
    ("--instrumented-shares", "instrumented_shares", "shares of intersections with detectors"),
    ("--fault-factors", "fault_factors", "multipliers of the sensor fault rates"),
)
"""The report's sweep options: flag, :class:`Sensitivity` field, what its values are."""


def register(sub: Subparsers) -> None:
    """Add ``compare`` and ``report``."""
    cp = sub.add_parser(
        "compare",
        help="compare signal controllers over seeds, in parallel on Dask",
        description=(
            "Run every controller on the same seeds (common random numbers) in closed loop, "
            "in parallel on Dask (local processes, or a dask.distributed scheduler), and "
            "write comparison.json and comparison.md: mean and 95 % confidence interval of "
            "each metric, and the reduction vs fixed paired by seed."
        ),
    )
    add_scenario(cp)
    cp.add_argument(
        "--controllers",
        default=",".join(CONTROLLER_NAMES),
        metavar="A,B,...",
        help="controllers to compare (fixed is always included as the baseline)",
    )
    _add_sweep_scope(cp)
    cp.add_argument("--control-step", type=float, default=2.0, metavar="S")
    cp.add_argument(
        "--predictor",
        type=Path,
        metavar="MODEL_DIR",
        help="run the predictor with this model in the loop of the predictive runs",
    )
    cp.add_argument(
        "--design-flows",
        type=Path,
        metavar="FILE",
        help="time the fixed baseline by Webster on these flows (default: the stored plans)",
    )
    add_dask_args(cp)
    _add_output(cp, "compare")
    cp.set_defaults(handler=_compare)

    rp = sub.add_parser(
        "report",
        help="the impact report: every controller on a scenario, extrapolated to the city",
        description=(
            "Run fixed, actuated, max-pressure and predictive control on the same seeds, "
            "and predictive against fixed under changed demand, detector coverage and sensor "
            "fault rates (all runs on one Dask cluster), and write report.md, report.html "
            "(self-contained), comparison.json, report_data.json and the figures (PNG) into "
            "--out: reductions with 95 % confidence intervals, delay and queues over time, "
            "emissions, maps of delay and CO2 reduction, the sensitivity, the emission "
            "hotspots and a city-wide extrapolation with its assumptions."
        ),
    )
    rp.add_argument("--scenario", default="hcmc-d1d3", metavar="NAME|PATH")
    _add_sweep_scope(rp)
    add_dask_args(rp)
    rp.add_argument(
        "--sensitivity-seeds",
        type=int,
        default=Sensitivity().seeds,
        metavar="N",
        help=f"seeds of each sensitivity case (default {Sensitivity().seeds})",
    )
    for flag, attr, what in SWEEP_OPTIONS:
        default = getattr(Sensitivity(), attr)
        rp.add_argument(
            flag,
            type=_float_list,
            default=default,
            metavar="X,...",
            help=f"sensitivity: {what} (default {','.join(f'{x:g}' for x in default)})",
        )
    rp.add_argument(
        "--predictor",
        type=Path,
        metavar="MODEL_DIR",
        help="run the predictor with this model in the predictive runs (and add a "
        "'predictor switched off' sensitivity case)",
    )
    _add_output(rp, "report")
    rp.set_defaults(handler=_report)


def _add_sweep_scope(p: argparse.ArgumentParser) -> None:
    """What a sweep simulates besides the scenario: how many seeds, how long, ``--set``."""
    p.add_argument("--seeds", type=int, default=5, metavar="N", help="seeds 0..N-1 (default 5)")
    p.add_argument("--duration", type=float, metavar="S", help="simulated seconds")
    add_overrides(p)


def _add_output(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--out", default=default, metavar="DIR")
    p.add_argument("--quiet", action="store_true")


def _compare(args: argparse.Namespace) -> int:
    from trafficsim.runner.api import compare

    console = Console(quiet=args.quiet)
    args.out = output_dir(args.out)
    scenario = scenario_from_args(args)
    names = [c.strip() for c in args.controllers.split(",") if c.strip()]
    bad = [n for n in names if n not in CONTROLLER_NAMES]
    if bad:
        raise UsageError(
            "--controllers", f"unknown controller(s) {bad}; choose from {sorted(CONTROLLER_NAMES)}"
        )
    if "fixed" not in names:
        names.insert(0, "fixed")
    seeds = sweep_seeds(args)
    with progress_bar(console, RUNS) as progress, api_errors():
        task = progress.add_task(
            f"{scenario.name}: {', '.join(names)}", total=len(names) * len(seeds)
        )
        cmp = compare(
            scenario,
            names,
            seeds,
            step_s=args.control_step,
            predictor=args.predictor,
            design_flows=args.design_flows,
            workers=args.workers,
            scheduler=args.scheduler,
            on_done=lambda r: progress.advance(task),
        )
    files = cmp.save(args.out)
    table = Table(title=f"{scenario.name}: reduction vs fixed, % (95% CI), {len(seeds)} seeds")
    table.add_column("controller")
    keys = ("mean_delay_s", "mean_travel_time_s", "co2_kg")
    for key in keys:
        table.add_column(key, justify="right")
    for name, red in cmp.data["reduction_vs_fixed"].items():
        table.add_row(
            name,
            *(
                f"{red[k]['pct']:+.1f} [{red[k]['ci95_pct'][0]:+.1f}, {red[k]['ci95_pct'][1]:+.1f}]"
                for k in keys
            ),
        )
    console.print(table)
    console.print(escape(f"wrote {', '.join(str(f) for f in files)}"), highlight=False)
    return 0


def _report(args: argparse.Namespace) -> int:
    from trafficsim.runner.report import build_report

    console = Console(quiet=args.quiet)
    args.out = output_dir(args.out)
    scenario = scenario_from_args(args)
    seeds = sweep_seeds(args)
    if args.predictor is not None:
        check_model(args.predictor)
    if args.sensitivity_seeds < 2:
        raise UsageError("--sensitivity-seeds", "a confidence interval needs at least 2")
    if not all(0.0 < x <= 1.0 for x in args.instrumented_shares):
        raise UsageError("--instrumented-shares", "each share must be in (0, 1], e.g. 0.25,0.5")
    _check_demand_factors(scenario, tuple(args.demand_factors))
    plan = Sensitivity(
        demand_factors=args.demand_factors,
        instrumented_shares=args.instrumented_shares,
        fault_factors=args.fault_factors,
        seeds=args.sensitivity_seeds,
    )
    with progress_bar(console, RUNS) as progress:
        task = progress.add_task("report: simulating", total=None)
        files = build_report(
            scenario,
            seeds,
            args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            sensitivity=plan,
            predictor_model=args.predictor,
            command=_report_command(args, plan),
            on_total=lambda n: progress.update(task, total=n),
            on_done=lambda r: progress.advance(task),
        )
    console.print(escape(f"wrote {', '.join(str(f) for f in files)}"), highlight=False)
    return 0


def _check_demand_factors(scenario: Scenario, factors: tuple[float, ...]) -> None:
    """Refuse a factor that makes the scenario's demand larger than one run can hold (the
    scaled scenarios are made from the checked one, so the file's check does not see it)."""
    from trafficsim.sim.limits import MAX_VEHICLES, expected_vehicles

    base = expected_vehicles((*scenario.demands, *scenario.ods), scenario.duration_s)
    trips = sum(1 for t in scenario.trips if t.depart_s < scenario.duration_s)
    for f in factors:
        if base * f + trips > MAX_VEHICLES:
            raise UsageError(
                "--demand-factors",
                f"{f:g} times the demand is about {base * f + trips:.3g} vehicles per run, "
                f"more than the {MAX_VEHICLES:,} one run can hold",
            )


def _report_command(args: argparse.Namespace, plan: Sensitivity) -> str:
    """The options that decide the report's numbers (not --out or the workers), so the
    report can say how to reproduce itself and stays the same wherever it is written."""
    parts = ["trafficsim report", f"--scenario {shlex.quote(args.scenario)}"]
    parts.append(f"--seeds {args.seeds}")
    if args.duration is not None:
        parts.append(f"--duration {args.duration:g}")
    parts += [f"--set {shlex.quote(kv)}" for kv in args.overrides]
    default = Sensitivity()
    parts += [f"--sensitivity-seeds {plan.seeds}"] if plan.seeds != default.seeds else []
    for flag, attr, _ in SWEEP_OPTIONS:
        if getattr(plan, attr) != getattr(default, attr):
            parts.append(f"{flag} {','.join(f'{x:g}' for x in getattr(plan, attr))}")
    if args.predictor is not None:
        parts.append(f"--predictor {shlex.quote(str(args.predictor))}")
    return " ".join(parts)


def _float_list(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of numbers, e.g. 0.8,1.2"
        ) from None
    if not values or any(not math.isfinite(x) or x < 0 for x in values):
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more numbers >= 0, e.g. 0.8,1.2")
    return values
