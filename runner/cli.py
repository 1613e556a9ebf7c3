"""``trafficsim``: the command line.

Bad input (an unknown scenario, a malformed file, a wrong ``--set``) ends with one line that
names the field and the fix, and exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trafficsim.runner.report import Sensitivity
from trafficsim.sim import (
    InputError,
    ScenarioError,
    World,
    compute,
    load_scenario,
    parse_overrides,
)

EXIT_USAGE = 2


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("trafficsim")
    except PackageNotFoundError:
        return "unknown"


SWEEP_OPTIONS = (
    ("--demand-factors", "demand_factors", "demand multipliers"),
    ("--instrumented-shares", "instrumented_shares", "shares of intersections with detectors"),
    ("--fault-factors", "fault_factors", "multipliers of the sensor fault rates"),
)
"""The report's sweep options: flag, :class:`Sensitivity` field, what its values are."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trafficsim",
        description=(
            "Smart-traffic twin of Ho Chi Minh City: simulate signalized road networks with "
            "HCMC's motorcycle-dominated traffic and measure delay, queues and stops."
        ),
        epilog="Run 'trafficsim COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"trafficsim {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="simulate a scenario and write its results",
        description=(
            "Simulate a scenario (built-in name or TOML file) with one seed. Prints a "
            "summary table and writes summary.json, vehicles.csv, queues.csv, network.csv "
            "and queues.png into --out."
        ),
    )
    run.add_argument(
        "--scenario",
        required=True,
        metavar="NAME|PATH",
        help="built-in scenario (see 'trafficsim scenarios') or a .toml file",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="random seed; the same seed gives the same results (default 0)",
    )
    run.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="S",
        help="simulated seconds (overrides the scenario's duration_s)",
    )
    run.add_argument(
        "--out",
        type=Path,
        default=Path("out"),
        metavar="DIR",
        help="directory for the results (default ./out)",
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario parameter, e.g. --set size=6 (repeatable)",
    )
    run.add_argument(
        "--fleet",
        choices=["vn", "hbefa4"],
        help="emission factors: vn (HBEFA4 corrected to Vietnamese measurements, "
        "the default) or hbefa4 (European fleet)",
    )
    run.add_argument("--no-plot", action="store_true", help="skip the PNG plot")
    run.add_argument("--quiet", action="store_true", help="no progress bar or table")
    feed = run.add_argument_group(
        "live MQTT feed",
        "By default the run starts an embedded broker on 127.0.0.1 (port 1883 if free; "
        "Mosquitto if installed, else amqtt), prints its address and publishes every "
        "device's readings.",
    )
    feed.add_argument(
        "--broker",
        metavar="URL",
        help="publish to this broker instead: mqtt://[user:pass@]host:port or mqtts://... (TLS)",
    )
    feed.add_argument(
        "--embedded-broker",
        choices=["auto", "mosquitto", "amqtt"],
        default="auto",
        help="which embedded broker to start (default auto)",
    )
    feed.add_argument("--ca-certs", metavar="FILE", help="CA bundle for mqtts:// brokers")
    feed.add_argument(
        "--credentials",
        type=Path,
        metavar="FILE",
        help="clients.toml from 'trafficsim credentials': each device logs in "
        "with its own password",
    )
    feed.add_argument(
        "--topic-root", default="hcmc", metavar="ROOT", help="root of the topic tree (default hcmc)"
    )
    feed.add_argument(
        "--qos", type=int, choices=[0, 1, 2], default=1, help="QoS of readings (default 1)"
    )
    pace = feed.add_mutually_exclusive_group()
    pace.add_argument(
        "--speed",
        type=float,
        metavar="X",
        help="pace the run at X simulated seconds per wall second",
    )
    pace.add_argument("--realtime", action="store_true", help="same as --speed 1")
    feed.add_argument(
        "--predictor",
        type=Path,
        metavar="MODEL_DIR",
        help="also run the congestion predictor with this model (from "
        "'trafficsim train'); it publishes forecasts on ROOT/forecast/...",
    )
    feed.add_argument(
        "--no-mqtt", action="store_true", help="simulate only: no devices, no broker, no feed"
    )
    ctl = run.add_argument_group(
        "closed-loop signal control",
        "With --controller, field cabinets run the signals and the optimizer sends them plans "
        "over the bus in lock-step (see docs/controllers.md).",
    )
    ctl.add_argument(
        "--controller",
        choices=["fixed", "actuated", "max-pressure", "predictive"],
        help="run the closed loop with this controller",
    )
    ctl.add_argument(
        "--control-step",
        type=float,
        default=2.0,
        metavar="S",
        help="control step: readings, states and commands every S simulated seconds (default 2)",
    )
    ctl.add_argument(
        "--external-optimizer",
        action="store_true",
        help="do not start an optimizer: one runs elsewhere ('trafficsim serve optimizer')",
    )
    ctl.add_argument(
        "--design-flows",
        type=Path,
        metavar="FILE",
        help="fixed: time every plan by Webster on these flows (TOML, docs/controllers.md)",
    )
    ctl.add_argument(
        "--external-predictor",
        action="store_true",
        help="a predictor runs elsewhere ('trafficsim serve predictor'): wait for it each step",
    )
    ctl.add_argument(
        "--deadline",
        type=float,
        default=10.0,
        metavar="S",
        help="wall seconds to wait for the optimizer each step before going on (default 10)",
    )

    wa = sub.add_parser(
        "watch",
        help="show the live MQTT feed as a refreshing table",
        description=(
            "Subscribe to a feed and show, per intersection, the latest loop flow, occupancy "
            "and speed, the camera queues and how many devices are online. Ctrl-C to stop."
        ),
    )
    _broker_args(wa)
    wa.add_argument(
        "--topic",
        metavar="FILTER",
        help="topic filter (default ROOT/#, e.g. 'hcmc/sensors/r0c0/#')",
    )
    wa.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")

    rec = sub.add_parser(
        "record",
        help="record the MQTT feed to Parquet files",
        description=(
            "Subscribe and write every reading to DIR/readings-NNNNNN.parquet, one complete "
            "file every --roll seconds (a killed recorder loses at most that much), counting "
            "lost readings by sequence gaps into DIR/record_stats.json. Unreadable messages "
            "are kept in DIR/rejected.jsonl. Ctrl-C (or SIGTERM) to stop."
        ),
    )
    _broker_args(rec)
    rec.add_argument("--out", type=Path, required=True, metavar="DIR")
    rec.add_argument("--topic", metavar="FILTER", help="topic filter (default ROOT/#)")
    rec.add_argument(
        "--roll", type=float, default=5.0, metavar="S", help="seconds per file (default 5)"
    )
    rec.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")

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
        choices=["hbefa4", "vn"],
        default="hbefa4",
        help="hbefa4 (European fleet, as SUMO) or vn (Vietnamese corrections)",
    )
    em.add_argument(
        "--list-classes",
        action="store_true",
        help="list the classes and their HBEFA4 reference classes",
    )

    sv = sub.add_parser(
        "serve",
        help="run a service of the centre against a broker (predictor or optimizer)",
        description=(
            "Run a service of the centre as its own process. predictor: subscribes to the "
            "loops' readings and the clock, and publishes forecasts on ROOT/forecast/"
            "<intersection>/<device> after every period. optimizer: reads the feed, signal "
            "states and forecasts, and answers every clock tick with commands on ROOT/signal/"
            "<intersection>/plan (pair it with 'trafficsim run --controller NAME "
            "--external-optimizer'). Ctrl-C (or SIGTERM) to stop."
        ),
    )
    sv.add_argument("service", choices=["predictor", "optimizer"])
    _broker_args(sv)
    sv.add_argument(
        "--model",
        type=Path,
        metavar="DIR",
        help="predictor: a model directory written by 'trafficsim train'",
    )
    sv.add_argument(
        "--controller",
        choices=["fixed", "actuated", "max-pressure", "predictive"],
        default="max-pressure",
        help="optimizer: which controller (default max-pressure)",
    )
    sv.add_argument(
        "--design-flows",
        type=Path,
        metavar="FILE",
        help="optimizer, fixed: time every plan by Webster on these flows",
    )
    sv.add_argument(
        "--credentials",
        type=Path,
        metavar="FILE",
        help="clients.toml from 'trafficsim credentials': log in as the service "
        "(username optimizer or predictor) with its password",
    )
    sv.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")

    cp = sub.add_parser(
        "compare",
        help="compare signal controllers over seeds, in parallel on Dask",
        description=(
            "Run every controller on the same seeds (common random numbers) in closed loop, "
            "in parallel on Dask (local processes, or a dask.distributed scheduler), and "
            "write comparison.json and comparison.md: mean and 95%% confidence interval of "
            "each metric, and the reduction vs fixed paired by seed."
        ),
    )
    cp.add_argument("--scenario", required=True, metavar="NAME|PATH")
    cp.add_argument(
        "--controllers",
        default="fixed,actuated,max-pressure,predictive",
        metavar="A,B,...",
        help="controllers to compare (fixed is always included as the baseline)",
    )
    cp.add_argument("--seeds", type=int, default=5, metavar="N", help="seeds 0..N-1 (default 5)")
    cp.add_argument("--duration", type=float, metavar="S", help="simulated seconds")
    cp.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
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
    _dask_args(cp)
    cp.add_argument("--out", type=Path, default=Path("compare"), metavar="DIR")
    cp.add_argument("--quiet", action="store_true")

    rp = sub.add_parser(
        "report",
        help="the impact report: every controller on a scenario, extrapolated to the city",
        description=(
            "Run fixed, actuated, max-pressure and predictive control on the same seeds, "
            "and predictive against fixed under changed demand, detector coverage and sensor "
            "fault rates (all runs on one Dask cluster), and write report.md, report.html "
            "(self-contained), comparison.json, report_data.json and the figures (PNG) into "
            "--out: reductions with 95%% confidence intervals, delay and queues over time, "
            "emissions, maps of delay and CO2 reduction, the sensitivity, the emission "
            "hotspots and a city-wide extrapolation with its assumptions."
        ),
    )
    rp.add_argument("--scenario", default="hcmc-center", metavar="NAME|PATH")
    rp.add_argument("--seeds", type=int, default=5, metavar="N", help="seeds 0..N-1 (default 5)")
    rp.add_argument("--duration", type=float, metavar="S", help="simulated seconds")
    rp.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    _dask_args(rp)
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
    rp.add_argument("--out", type=Path, default=Path("report"), metavar="DIR")
    rp.add_argument("--quiet", action="store_true")

    tr = sub.add_parser(
        "train",
        help="train the congestion predictor on a recorded feed",
        description=(
            "Fit one forecaster per target (speed, occupancy, flow of the loops) and horizon "
            "on the first 80%% of a recording made by 'trafficsim record', score it against "
            "persistence on the last 20%%, and save it with its metadata in --out."
        ),
    )
    src = tr.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--from-recording",
        type=Path,
        metavar="DIR",
        help="directory written by 'trafficsim record'",
    )
    src.add_argument(
        "--scenario",
        metavar="NAME|PATH",
        help="simulate --days days of this scenario with daily demand, weekends, "
        "surges and incidents, record its feed into OUT/recording, and train "
        "on all days but the last, which scores the model",
    )
    tr.add_argument(
        "--days",
        type=int,
        default=7,
        metavar="D",
        help="days to simulate with --scenario (default 7, at least 3)",
    )
    tr.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    tr.add_argument("--out", type=Path, required=True, metavar="DIR")
    tr.add_argument(
        "--horizons",
        default="5,15,30,60",
        metavar="MIN,...",
        help="forecast horizons in minutes (default 5,15,30,60)",
    )
    tr.add_argument(
        "--model", default="gbm", choices=["persistence", "historical-average", "linear", "gbm"]
    )
    tr.add_argument(
        "--max-iter",
        type=int,
        default=100,
        metavar="N",
        help="boosting iterations (default 100; with the default learning rate 0.1 "
        "a live round for 1,000 devices stays under 100 ms)",
    )
    tr.add_argument("--learning-rate", type=float, default=0.1, metavar="R")
    tr.add_argument("--seed", type=int, default=0)

    ev = sub.add_parser(
        "evaluate",
        help="score the congestion predictor on real data (Los-loop, T-GCN protocol)",
        description=(
            "Run the T-GCN protocol on the Los-loop data (207 Los Angeles loop detectors): "
            "first 80%% of time steps train, last 20%% test, 12-step input window, horizons of "
            "3/6/9/12 steps (15-60 min), metrics pooled over steps 1..h and at step h. Prints "
            "every model beside the published T-GCN figure."
        ),
    )
    ev.add_argument("--dataset", choices=["los-loop"], default="los-loop")
    ev.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="directory with los_speed.csv and los_adj.csv (default ../shared/data/los_loop)",
    )
    ev.add_argument(
        "--models",
        default="persistence,historical-average,linear,gbm",
        metavar="M1,M2",
        help="models to score (default: all four)",
    )
    ev.add_argument("--sensors", type=int, metavar="K", help="only the first K sensors (quick)")
    ev.add_argument(
        "--max-iter",
        type=int,
        default=300,
        metavar="N",
        help="boosting iterations of gbm (default 300)",
    )
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--json", action="store_true", help="print the scores as JSON")

    cr = sub.add_parser(
        "credentials",
        help="create per-device broker passwords and a Mosquitto password file",
        description=(
            "Create DIR/passwd (Mosquitto password hashes) and DIR/clients.toml (the "
            "passwords) for every device of a scenario and for the centre's services, for a "
            "broker configured like deploy/mosquitto/mosquitto.conf."
        ),
    )
    cr.add_argument("--scenario", required=True, metavar="NAME|PATH")
    cr.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    cr.add_argument("--out", type=Path, required=True, metavar="DIR")

    sc = sub.add_parser(
        "scenarios",
        help="list built-in scenarios and their parameters",
        description="List the built-in scenarios, or print one as an editable TOML file.",
    )
    sc.add_argument(
        "--show", metavar="NAME|PATH", help="print this scenario as TOML (with any --set applied)"
    )
    sc.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter of the shown scenario (repeatable)",
    )
    sc.add_argument(
        "--design-flows",
        action="store_true",
        help="with --show: print instead the design flows counted from the scenario's demand "
        "in its busiest hour (PCU per signal group), a file for 'run --controller fixed "
        "--design-flows': today's plans retimed to perfect counts",
    )
    return parser


def _broker_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--broker",
        default="mqtt://127.0.0.1:1883",
        metavar="URL",
        help="mqtt://[user:pass@]host:port or mqtts://... (default mqtt://127.0.0.1:1883)",
    )
    p.add_argument("--ca-certs", metavar="FILE", help="CA bundle for mqtts:// brokers")
    p.add_argument(
        "--topic-root", default="hcmc", metavar="ROOT", help="root of the topic tree (default hcmc)"
    )


def _dask_args(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, default=2, metavar="K", help="local worker processes (default 2)"
    )
    where.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="a dask.distributed scheduler to use"
    )


def _scenario(args: argparse.Namespace) -> Any:
    """The scenario of ``--scenario`` with ``--set`` and ``--duration`` applied."""
    overrides = parse_overrides(args.overrides)
    if args.duration is not None:
        if not args.duration > 0:
            raise ScenarioError(
                "--duration", "", f"expected a positive number of seconds, got {args.duration:g}"
            )
        overrides["duration_s"] = args.duration
    return load_scenario(args.scenario, overrides)


def _sweep_seeds(args: argparse.Namespace) -> list[int]:
    """Seeds 0..N-1 of a comparison, and its worker count checked."""
    if args.seeds < 2:
        raise ScenarioError("--seeds", "", "a confidence interval needs at least 2 seeds")
    if args.workers < 1:
        raise ScenarioError("--workers", "", "expected at least 1 worker process")
    return list(range(args.seeds))


def _check_model(path: Path) -> None:
    """Refuse an unusable predictor model before anything starts."""
    from trafficsim.models.persistence import ModelError, load_models

    try:
        load_models(path)
    except ModelError as exc:
        raise ScenarioError("--predictor", "", str(exc)) from None


def _controller_params(controller: str, design_flows: Path | None) -> dict[str, Any]:
    """Controller parameters from ``--design-flows`` (which only time ``fixed``)."""
    if design_flows is None:
        return {}
    if controller != "fixed":
        raise ScenarioError("--design-flows", "", "design flows time the fixed controller")
    from trafficsim.runner.design_flows import load_design_flows

    return load_design_flows(design_flows)


def _passwords(path: Path, clients: list[str]) -> dict[str, str]:
    """The passwords of ``clients`` from a clients.toml; names the first one missing."""
    from trafficsim.runner.credentials_file import load_credentials

    try:
        passwords = load_credentials(path)
    except ValueError as exc:
        raise ScenarioError("--credentials", "", str(exc)) from None
    missing = [c for c in clients if c not in passwords]
    if missing:
        more = f" and {len(missing) - 1} more clients" if len(missing) > 1 else ""
        raise ScenarioError(
            "--credentials",
            "",
            f"{path} has no password for {missing[0]}{more}; "
            "create it for this scenario with 'trafficsim credentials'",
        )
    return passwords


def _broker_config(args: argparse.Namespace) -> Any:
    from trafficsim.sensors.mqtt.transport import BrokerConfig

    try:
        return BrokerConfig.from_url(args.broker, ca_certs=args.ca_certs)
    except ValueError as exc:
        raise ScenarioError("--broker", "", str(exc)) from None


def _progress(console: Console, counter: str | None = None) -> Progress:
    """The one progress bar of every long command: description, bar, counter, elapsed."""
    columns = [TextColumn("[bold]{task.description}"), BarColumn()]
    if counter is not None:
        columns.append(TextColumn(counter))
    return Progress(*columns, TimeElapsedColumn(), console=console, transient=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    err = Console(stderr=True)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "credentials":
            return _credentials(args)
        if args.command in ("watch", "record"):
            return _watch_or_record(args)
        if args.command == "emissions":
            return _emissions(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "train":
            return _train(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "report":
            return _report(args)
        return _scenarios(args)
    except InputError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    console = Console(quiet=args.quiet)
    if args.seed < 0:
        raise ScenarioError("--seed", "", f"expected a non-negative integer, got {args.seed}")
    scenario = _scenario(args)
    speed = 1.0 if args.realtime else args.speed
    if speed is not None and not speed > 0:
        raise ScenarioError("--speed", "", f"expected a positive number, got {speed:g}")
    if args.controller is not None:
        return _run_controlled(args, scenario, speed, console)
    t0 = time.perf_counter()
    world = World(scenario, args.seed)
    end = scenario.duration_s
    step = max(60.0, end / 200.0)
    feed_summary = None
    field = None
    if not args.no_mqtt:
        from trafficsim.sensors.field import Field

        field = Field(world)  # checks the scenario's [sensors] table
    with _progress(console, "{task.completed:>7.0f} / {task.total:.0f} s simulated") as progress:
        task = progress.add_task(f"{scenario.name} seed {args.seed}", total=end)
        if field is None:
            t = 0.0
            while t < end:
                t = min(end, t + step)
                world.step_to(t)
                progress.update(task, completed=t)
        else:
            feed_summary = _run_feed(
                args, world, field, speed, console, lambda t: progress.update(task, completed=t)
            )
    result = compute(world, wall_time_s=time.perf_counter() - t0, fleet=args.fleet)
    from trafficsim.runner.output import write_run

    files = write_run(result, args.out, plot=not args.no_plot)
    if feed_summary is not None:
        # Apart from summary.json, which must not change with the broker's port.
        files.append(args.out / "feed.json")
        files[-1].write_text(json.dumps(feed_summary, indent=2) + "\n", encoding="utf-8")
    _print_summary(console, result.summary)
    if feed_summary is not None:
        k = feed_summary["readings_by_kind"]
        console.print(
            f"published {feed_summary['readings_published']} readings ({k['loop']} loop, "
            f"{k['camera']} camera, {k['probe']} probe) from {feed_summary['devices']} devices "
            f"to {feed_summary['broker']}; unacknowledged: {feed_summary['unacknowledged']}",
            highlight=False,
        )
    console.print(f"wrote {', '.join(str(f) for f in files)}", highlight=False)
    return 0


def _run_feed(
    args: argparse.Namespace,
    world: World,
    field: Any,
    speed: float | None,
    console: Console,
    progress: Any,
) -> dict[str, Any]:
    from trafficsim.runner.live import LiveOptions, run_live
    from trafficsim.sensors.mqtt.transport import BrokerConfig, BrokerUnavailableError

    if args.broker:
        try:
            BrokerConfig.from_url(args.broker)
        except ValueError as exc:
            raise ScenarioError("--broker", "", str(exc)) from None
    passwords = None
    if args.credentials is not None:
        passwords = _passwords(args.credentials, list(field.devices))
    if args.predictor is not None:
        _check_model(args.predictor)
    opts = LiveOptions(
        predictor_model=args.predictor,
        passwords=passwords,
        broker_url=args.broker,
        broker_kind=args.embedded_broker,
        topic_root=args.topic_root,
        qos=args.qos,
        speed=speed,
        ca_certs=args.ca_certs,
    )

    def announce(url: str, kind: str) -> None:
        host_port = url.split("://", 1)[1].split("@")[-1]
        host, _, port = host_port.rpartition(":")
        # Always shown, --quiet or not: without it nobody can subscribe to an embedded broker.
        Console().print(
            f"MQTT: {kind} broker at [bold]{url}[/]; watch the feed with\n"
            f"  mosquitto_sub -h {host} -p {port} -t '{args.topic_root}/#' -v\n"
            f"  trafficsim watch --broker {url}",
            highlight=False,
        )

    try:
        return run_live(world, field, opts, on_broker=announce, on_progress=progress)
    except BrokerUnavailableError as exc:
        raise ScenarioError(
            "--broker", "", f"{exc}. Is the broker running and the URL right?"
        ) from None


def _print_summary(console: Console, s: dict[str, Any]) -> None:
    t = Table(
        title=f"{s['scenario']} · seed {s['seed']} · {s['sim_duration_s']:g} s simulated "
        f"in {s['wall_time_s']:.2f} s",
        show_header=False,
    )
    rows = [
        ("vehicles entered / completed", f"{s['vehicles_entered']} / {s['vehicles_completed']}"),
        (
            "in network / waiting to enter at end",
            f"{s['vehicles_in_network']} / {s['vehicles_waiting_to_enter']}",
        ),
        ("mean travel time", _fmt(s["mean_travel_time_s"], "s")),
        ("mean delay", _fmt(s["mean_delay_s"], "s")),
        ("mean stops per vehicle", _fmt(s["mean_stops"], "")),
        ("mean speed", _fmt(s["mean_speed_kmh"], "km/h")),
        ("distance driven", _fmt(s["total_distance_km"], "km")),
        (
            f"CO2 ({s['emissions_fleet']} fleet)",
            f"{_fmt(s['co2_kg'], 'kg')}  ({_fmt(s['co2_g_per_km'], 'g/km')})",
        ),
        ("fuel", _fmt(s["fuel_l"], "l")),
        (
            "NOx / PM / CO",
            f"{_fmt(s['nox_g'], 'g')} / {_fmt(s['pm_g'], 'g')} / {_fmt(s['co_g'], 'g')}",
        ),
    ]
    for k, v in rows:
        t.add_row(k, v)
    console.print(t)
    apps = sorted(s["approaches"], key=lambda a: -(a["mean_delay_s"] or 0.0))[:10]
    if apps:
        a_t = Table(title=f"approaches (worst {len(apps)} of {len(s['approaches'])} by delay)")
        for col in ("approach", "flow veh/h", "v/c", "delay s", "LOS", "max queue"):
            a_t.add_column(col, justify="right" if col != "approach" else "left")
        for a in apps:
            a_t.add_row(
                a["id"],
                f"{a['arrival_flow_veh_per_h']:.0f}",
                f"{a['v_over_c']:.2f}",
                _fmt(a["mean_delay_s"], ""),
                a["los"] or "-",
                str(a["max_queue_veh"]),
            )
        console.print(a_t)


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    return f"{v:,.2f} {unit}".strip()


def _watch_or_record(args: argparse.Namespace) -> int:
    from trafficsim.sensors.mqtt.transport import BrokerUnavailableError

    cfg = _broker_config(args)
    topic = args.topic or f"{args.topic_root}/#"
    if args.duration is not None and not args.duration > 0:
        raise ScenarioError("--duration", "", "expected a positive number of seconds")
    console = Console()
    try:
        if args.command == "watch":
            from trafficsim.runner.watch import watch

            watch(cfg, topic, args.topic_root, args.duration, console)
            return 0
        from trafficsim.runner.record import record

        if not args.roll > 0:
            raise ScenarioError("--roll", "", "expected a positive number of seconds")
        console.print(
            f"recording {topic} from {cfg.url} into {args.out} (Ctrl-C to stop)", highlight=False
        )
        stats = record(cfg, topic, args.out, args.roll, args.duration).as_dict()
    except BrokerUnavailableError as exc:
        raise ScenarioError("--broker", "", f"{exc}. Is the broker running?") from None
    console.print(
        f"recorded {stats['readings']} readings from {stats['devices']} devices in "
        f"{stats['files']} files; lost by sequence gaps: {stats['lost_by_seq']}; "
        f"rejected: {stats['rejected']}",
        highlight=False,
    )
    return 0


def _emissions(args: argparse.Namespace) -> int:
    from trafficsim.sim.emissions import CLASSES, TraceError, read_trace, trace_report

    if args.list_classes:
        for c in CLASSES:
            sys.stdout.write(f"{c.name:15} {c.reference:36} {c.description}\n")
        return 0
    if not args.trace or not args.vehicle_class:
        raise ScenarioError(
            "trafficsim emissions", "", "give --trace FILE.csv and --class CLASS, or --list-classes"
        )
    try:
        v = read_trace(args.trace)
        report = trace_report(args.vehicle_class, v, args.fleet)
    except TraceError as exc:
        raise ScenarioError("--trace", "", str(exc)) from None
    except KeyError as exc:
        raise ScenarioError("--class", "", str(exc.args[0])) from None
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from trafficsim.models.persistence import ModelError
    from trafficsim.models.service import serve
    from trafficsim.sensors.mqtt.topics import Topics
    from trafficsim.sensors.mqtt.transport import BrokerUnavailableError

    cfg = _broker_config(args)
    if args.credentials is not None:
        table = _passwords(args.credentials, [args.service])
        cfg = cfg.with_credentials(args.service, table[args.service])
    stop = threading.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stop.set())
    console = Console()
    if args.service == "optimizer":
        return _serve_optimizer(args, cfg, stop, console)
    if args.model is None:
        raise ScenarioError(
            "--model", "", "the predictor needs --model DIR (from 'trafficsim train')"
        )
    console.print(f"predictor: model {args.model}, broker {cfg.url}", highlight=False)
    try:
        stats = serve(
            cfg, args.model, topics=Topics(args.topic_root), duration_s=args.duration, stop=stop
        )
    except ModelError as exc:
        raise ScenarioError("--model", "", str(exc)) from None
    except BrokerUnavailableError as exc:
        raise ScenarioError("--broker", "", f"{exc}. Is the broker running?") from None
    console.print(
        f"predictor: {stats.readings} readings, {stats.rounds} rounds, {stats.forecasts} "
        f"forecasts, last round {stats.last_round_ms:.1f} ms, rejected "
        f"{sum(stats.rejected.values())} {dict(stats.rejected)}",
        highlight=False,
    )
    return 0


def _train(args: argparse.Namespace) -> int:
    from trafficsim.models.datasets import DatasetError
    from trafficsim.models.feed_panel import TARGET_COLUMNS, panel_from_recording
    from trafficsim.models.persistence import save_models
    from trafficsim.models.training import train_panels

    try:
        horizons = [int(h) for h in args.horizons.split(",") if h.strip()]
    except ValueError:
        raise ScenarioError("--horizons", "", "expected minutes such as 5,15,30,60") from None
    if not horizons or min(horizons) < 1:
        raise ScenarioError("--horizons", "", "expected positive minutes such as 5,15,30,60")
    holdout = None
    recording = args.from_recording
    if args.scenario:
        from trafficsim.runner.training_data import record_simulated_days

        if args.days < 3:
            raise ScenarioError("--days", "", "expected at least 3 days (2 to train, 1 to score)")
        recording = args.out / "recording"
        with _progress(
            Console(stderr=True), "{task.completed:>9.0f} / {task.total:.0f} s"
        ) as progress:
            task = progress.add_task(f"simulating {args.days} days", total=args.days * 86400.0)
            record_simulated_days(
                args.scenario,
                parse_overrides(args.overrides),
                args.days,
                args.seed,
                recording,
                on_progress=lambda t, end: progress.update(task, completed=t),
            )
    try:
        panels = {t: panel_from_recording(recording, t) for t in TARGET_COLUMNS}
        queue = panel_from_recording(recording, "queue")
        extra = (
            {"queue": queue} if queue.values.size and (queue.values == queue.values).any() else {}
        )  # NaN != NaN: a recording without cameras has no queue series
        if args.scenario:
            first = next(iter(panels.values()))
            holdout = round(86400.0 / first.step_s)  # the last day, never trained on
        console = Console(stderr=True)
        with _progress(console) as progress:
            task = progress.add_task("training", total=len(panels) * len(horizons))
            trained = train_panels(
                panels,
                horizons_min=horizons,
                model=args.model,
                seed=args.seed,
                max_iter=args.max_iter,
                learning_rate=args.learning_rate,
                holdout_periods=holdout,
                extra_panels=extra,
                on_fit=lambda t, h: progress.update(task, advance=1, description=f"{t}, {h} min"),
            )
    except DatasetError as exc:
        raise ScenarioError("--from-recording", "", str(exc)) from None
    meta = save_models(args.out, trained.estimators, trained.metadata, trained.extras())
    (args.out / "training.json").write_text(
        json.dumps({"model_version": meta.version, "holdout": trained.holdout}, indent=2) + "\n",
        encoding="utf-8",
    )
    scored_on = "the last simulated day" if holdout else "the last 20% of the recording"
    t = Table(
        title=f"model {meta.version} ({args.model}) on {scored_on}: RMSE "
        "(improvement on persistence)"
    )
    t.add_column("target")
    for h in horizons:
        t.add_column(f"{h} min", justify="right")
    for target, per in trained.holdout.items():
        t.add_row(
            target,
            *[f"{per[str(h)]['rmse']:.3f} ({per[str(h)]['improvement']:+.0%})" for h in horizons],
        )
    Console().print(t)
    Console().print(f"saved to {args.out}", highlight=False)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from trafficsim.models.datasets import DEFAULT_LOS_LOOP_DIR, DatasetError, load_los_loop
    from trafficsim.models.evaluate import PUBLISHED, evaluate
    from trafficsim.models.forecasters import MODEL_NAMES

    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in MODEL_NAMES]
    if unknown or not names:
        raise ScenarioError(
            "--models", "", f"unknown {unknown}; choose from {', '.join(MODEL_NAMES)}"
        )
    try:
        panel = load_los_loop(args.data or DEFAULT_LOS_LOOP_DIR)
    except DatasetError as exc:
        raise ScenarioError("--data", "", str(exc)) from None
    if args.sensors is not None:
        if not 1 <= args.sensors <= panel.values.shape[1]:
            raise ScenarioError("--sensors", "", f"expected 1..{panel.values.shape[1]}")
        panel = panel.subset(args.sensors)
    console = Console(stderr=True, quiet=args.json)
    with _progress(console) as progress:
        task = progress.add_task("fitting", total=12 * len(names))
        result = evaluate(
            panel,
            names,
            seed=args.seed,
            max_iter=args.max_iter,
            on_step=lambda m, s: progress.update(task, advance=1, description=f"{m}, step {s}"),
        )
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    out = Console()
    if not out.is_terminal:
        out = Console(width=160)  # a file or a pipe: do not wrap the table at 80 columns
    t = Table(
        title=f"Los-loop ({result['sensors']} sensors, {result['train_rows']} train / "
        f"{result['test_rows']} test steps): RMSE / MAE in mph, pooled over steps "
        "1..h (RMSE at step h)"
    )
    t.add_column("model")
    for h in result["horizons"]:
        t.add_column(f"{int(h) * 5} min", justify="right")
    for m in names:
        cells = []
        for h in result["horizons"]:
            s = result["horizons"][h][m]
            cells.append(f"{s['rmse']:.3f} / {s['mae']:.3f} ({s['rmse_at_h']:.3f})")
        t.add_row(m, *cells)
    for ref, scores in PUBLISHED.items():
        t.add_row(
            ref + ", published",
            *[
                f"{scores[int(h)]['rmse']:.4f} / {scores[int(h)]['mae']:.4f}"
                if int(h) in scores
                else "-"
                for h in result["horizons"]
            ],
        )
    out.print(t)
    return 0


def _credentials(args: argparse.Namespace) -> int:
    from trafficsim.sensors.field import Field
    from trafficsim.sensors.mqtt.credentials import write_credentials

    world = World(load_scenario(args.scenario, parse_overrides(args.overrides)), 0)
    ids = list(Field(world).devices)
    cabinets = sorted(world.heads)  # signal cabinets log in under their intersection id
    passwd, clients = write_credentials([*ids, *cabinets], args.out)
    Console().print(
        f"wrote {passwd} and {clients} for {len(ids)} devices, {len(cabinets)} signal "
        "cabinets and the services; "
        "keep clients.toml secret",
        highlight=False,
    )
    return 0


def _scenarios(args: argparse.Namespace) -> int:
    console = Console()
    from trafficsim.sim.builtin import BUILTINS
    from trafficsim.sim.catalog import scenario_data

    if args.design_flows and not args.show:
        raise ScenarioError("--design-flows", "", "name the scenario with --show NAME|PATH")
    if args.show and args.design_flows:
        import tomli_w

        from trafficsim.runner.design_flows import counted_design_flows

        scenario = load_scenario(args.show, parse_overrides(args.overrides))
        params = counted_design_flows(scenario)
        sys.stdout.write(
            f"# design flows of {scenario.name}: its demand in the busiest hour, propagated "
            "through the turning shares;\n# per signal group, in PCU/h (the group's saturation "
            "flow times its most loaded lane group's flow ratio)\n"
        )
        sys.stdout.write(
            tomli_w.dumps({"pcu_per_veh": params["pcu_per_veh"], "flows": params["design_flows"]})
        )
        return 0
    if args.show:
        import tomli_w

        data, source = scenario_data(args.show, parse_overrides(args.overrides))
        load_scenario(args.show, parse_overrides(args.overrides))  # check it before printing
        sys.stdout.write(f"# {source}\n")
        sys.stdout.write(tomli_w.dumps(data))
        return 0
    for b in BUILTINS.values():
        t = Table(title=f"[bold]{b.name}[/]: {b.summary}", title_justify="left")
        t.add_column("parameter (--set KEY=VALUE)")
        t.add_column("default", justify="right")
        t.add_column("meaning")
        for p in b.params:
            default = p.default if not p.choices else f"{p.default} ({'|'.join(p.choices)})"
            t.add_row(p.name, str(default), p.help)
        console.print(t)
    return 0


def _serve_optimizer(args: argparse.Namespace, cfg: Any, stop: Any, console: Console) -> int:
    from trafficsim.models.optimizer import ControlService, make_controller
    from trafficsim.sensors.mqtt.bus import serve_handler
    from trafficsim.sensors.mqtt.topics import Topics
    from trafficsim.sensors.mqtt.transport import BrokerUnavailableError

    params = _controller_params(args.controller, args.design_flows)
    controller = make_controller(args.controller, args.topic_root, **params)
    service = ControlService(controller, "optimizer")
    console.print(f"optimizer: {args.controller}, broker {cfg.url}", highlight=False)
    try:
        stats = serve_handler(
            cfg,
            service,
            "optimizer",
            topics=Topics(args.topic_root),
            stop=stop,
            duration_s=args.duration,
        )
    except BrokerUnavailableError as exc:
        raise ScenarioError("--broker", "", f"{exc}. Is the broker running?") from None
    console.print(
        f"optimizer: {stats.received} messages, {service.stats.rounds} rounds, "
        f"{service.stats.commands} commands, {service.stats.rejected_acks} rejected by "
        f"cabinets, {sum(stats.rejected.values())} unusable messages {dict(stats.rejected)}",
        highlight=False,
    )
    return 0


def _run_controlled(
    args: argparse.Namespace, scenario: Any, speed: float | None, console: Console
) -> int:
    from trafficsim.models.persistence import ModelError
    from trafficsim.runner.closed_loop import LoopOptions, run_closed_loop
    from trafficsim.runner.output import write_run
    from trafficsim.sensors.mqtt.transport import BrokerUnavailableError

    if not args.control_step > 0:
        raise ScenarioError("--control-step", "", "expected a positive number of seconds")
    if args.no_mqtt and (args.external_optimizer or args.external_predictor):
        flag = "--external-optimizer" if args.external_optimizer else "--external-predictor"
        raise ScenarioError(flag, "", "services running elsewhere talk over MQTT: drop --no-mqtt")
    passwords = None
    if args.credentials is not None:
        need = ["trafficsim-simulator-in", *sorted(scenario_clients(scenario))]
        if not args.external_optimizer:
            need.append("optimizer")
        if args.predictor is not None:
            need.append("predictor")
        passwords = _passwords(args.credentials, need)
    params = _controller_params(args.controller, args.design_flows)
    opts = LoopOptions(
        controller=args.controller,
        controller_params=tuple(params.items()),
        step_s=args.control_step,
        transport="memory" if args.no_mqtt else "mqtt",
        broker_url=args.broker,
        broker_kind=args.embedded_broker,
        topic_root=args.topic_root,
        deadline_s=args.deadline,
        external_optimizer=args.external_optimizer,
        external_predictor=args.external_predictor,
        predictor_model=args.predictor,
        passwords=passwords,
        speed=speed,
    )
    t0 = time.perf_counter()
    with _progress(console, "{task.completed:>7.0f} / {task.total:.0f} s simulated") as progress:
        task = progress.add_task(
            f"{scenario.name} seed {args.seed}, {args.controller}", total=scenario.duration_s
        )
        try:
            world, stats = run_closed_loop(
                scenario,
                args.seed,
                opts,
                on_progress=lambda t: progress.update(task, completed=t),
                on_broker=lambda url, kind: console.print(
                    f"MQTT broker: {url} ({kind})", highlight=False
                ),
            )
        except BrokerUnavailableError as exc:
            raise ScenarioError("--broker", "", f"{exc}. Is the broker running?") from None
        except ModelError as exc:
            raise ScenarioError("--predictor", "", str(exc)) from None
        except ValueError as exc:
            raise ScenarioError("--controller", "", str(exc)) from None
    result = compute(world, wall_time_s=time.perf_counter() - t0, fleet=args.fleet)
    files = write_run(result, args.out, plot=not args.no_plot)
    loop = {"controller": args.controller, "transport": opts.transport, **stats.as_dict()}
    files.append(args.out / "control.json")
    files[-1].write_text(json.dumps(loop, indent=2) + "\n", encoding="utf-8")
    _print_summary(console, result.summary)
    console.print(
        f"{args.controller}: {stats.commands} commands ({stats.rejected} rejected), "
        f"{stats.fallbacks} fallbacks, {stats.missed_deadlines} missed deadlines, "
        f"{stats.forecasts} forecasts",
        highlight=False,
    )
    console.print(f"wrote {', '.join(str(f) for f in files)}", highlight=False)
    return 0


def scenario_clients(scenario: Any) -> list[str]:
    """The field clients of a closed-loop run of ``scenario``: devices and cabinets."""
    from trafficsim.sensors.field import Field

    world = World(scenario, 0)
    return [*Field(world).devices, *world.heads]


def _compare(args: argparse.Namespace) -> int:
    from trafficsim.runner.compare import run_comparison, write_comparison

    console = Console(quiet=args.quiet)
    scenario = _scenario(args)
    names = [c.strip() for c in args.controllers.split(",") if c.strip()]
    known = {"fixed", "actuated", "max-pressure", "predictive"}
    bad = [n for n in names if n not in known]
    if bad:
        raise ScenarioError(
            "--controllers", "", f"unknown controller(s) {bad}; choose from {sorted(known)}"
        )
    if "fixed" not in names:
        names.insert(0, "fixed")
    seeds = _sweep_seeds(args)
    fixed_params = _controller_params("fixed", args.design_flows)
    if args.predictor is not None:
        _check_model(args.predictor)  # refuse a bad model before any run starts
    with _progress(console, "{task.completed}/{task.total} runs") as progress:
        task = progress.add_task(
            f"{scenario.name}: {', '.join(names)}", total=len(names) * len(seeds)
        )
        cmp = run_comparison(
            scenario,
            names,
            seeds,
            workers=args.workers,
            scheduler=args.scheduler,
            step_s=args.control_step,
            predictor_model=args.predictor,
            fixed_params=fixed_params,
            on_done=lambda r: progress.advance(task),
        )
    files = write_comparison(cmp, args.out)
    table = Table(title=f"{scenario.name}: reduction vs fixed, % (95% CI), {len(seeds)} seeds")
    table.add_column("controller")
    for key in ("mean_delay_s", "mean_travel_time_s", "co2_kg"):
        table.add_column(key, justify="right")
    for name, red in cmp["reduction_vs_fixed"].items():
        table.add_row(
            name,
            *(
                f"{red[k]['pct']:+.1f} [{red[k]['ci95_pct'][0]:+.1f}, {red[k]['ci95_pct'][1]:+.1f}]"
                for k in ("mean_delay_s", "mean_travel_time_s", "co2_kg")
            ),
        )
    console.print(table)
    console.print(f"wrote {', '.join(str(f) for f in files)}", highlight=False)
    return 0


def _report(args: argparse.Namespace) -> int:
    from trafficsim.runner.report import build_report

    console = Console(quiet=args.quiet)
    scenario = _scenario(args)
    seeds = _sweep_seeds(args)
    if args.predictor is not None:
        _check_model(args.predictor)
    if args.sensitivity_seeds < 2:
        raise ScenarioError("--sensitivity-seeds", "", "a confidence interval needs at least 2")
    if not all(0.0 < x <= 1.0 for x in args.instrumented_shares):
        raise ScenarioError(
            "--instrumented-shares", "", "each share must be in (0, 1], e.g. 0.25,0.5"
        )
    plan = Sensitivity(
        demand_factors=args.demand_factors,
        instrumented_shares=args.instrumented_shares,
        fault_factors=args.fault_factors,
        seeds=args.sensitivity_seeds,
    )
    with _progress(console, "{task.completed}/{task.total} runs") as progress:
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
    console.print(f"wrote {', '.join(str(f) for f in files)}", highlight=False)
    return 0


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


if __name__ == "__main__":
    raise SystemExit(main())
