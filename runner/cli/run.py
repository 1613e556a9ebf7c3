"""``trafficsim run``: one scenario, one seed; plain, with its live MQTT feed, or in closed
loop with a controller. A layer over :func:`trafficsim.simulate`: flags in, the API's
result printed and saved (its MQTT options from the flags: :mod:`run_mqtt`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from trafficsim.runner.cli.common import (
    CONTROLLER_NAMES,
    SIMULATED,
    Subparsers,
    UsageError,
    add_overrides,
    add_scenario,
    add_topic_root,
    api_errors,
    check_ca_certs,
    output_dir,
    progress_bar,
    require_finite,
    scenario_from_args,
    topics_from_args,
)
from trafficsim.runner.cli.run_mqtt import announcer, check_closed_loop_flags, mqtt_options
from trafficsim.runner.cli.run_summary import print_control, print_feed, print_summary
from trafficsim.runner.cli.stopping import stops_cleanly
from trafficsim.sensors.mqtt.broker import BrokerKind
from trafficsim.sim import Fleet


def register(sub: Subparsers) -> None:
    """Add ``run`` and its options."""
    run = sub.add_parser(
        "run",
        help="simulate a scenario and write its results",
        description=(
            "Simulate a scenario (built-in name or TOML file) with one seed. Prints a "
            "summary table and writes summary.json, vehicles.csv, queues.csv, network.csv "
            "and queues.png into --out."
        ),
    )
    add_scenario(run, "built-in scenario (see 'trafficsim scenarios') or a .toml file")
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
        default="out",
        metavar="DIR",
        help="directory for the results (default ./out)",
    )
    add_overrides(run, "override a scenario parameter, e.g. --set size=6 (repeatable)")
    run.add_argument(
        "--fleet",
        choices=[Fleet.VN.value, Fleet.HBEFA4.value],
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
        choices=[k.value for k in BrokerKind],
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
    add_topic_root(feed)
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
        choices=CONTROLLER_NAMES,
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
    run.set_defaults(handler=stops_cleanly(_run))


def _run(args: argparse.Namespace) -> int:
    from trafficsim.runner.api import simulate

    console = Console(quiet=args.quiet)
    args.out = output_dir(args.out)
    scenario = scenario_from_args(args)
    speed = 1.0 if args.realtime else args.speed  # checked by the API, as are the seed and step
    # Checked whatever the transport: a flag that is wrong is wrong with --no-mqtt too.
    topics_from_args(args)
    require_finite("--deadline", args.deadline, minimum=0.0, what="wall seconds")
    check_ca_certs(args.ca_certs)
    if args.controller is not None:
        check_closed_loop_flags(args)
    elif args.no_mqtt and args.predictor is not None:
        raise UsageError("--predictor", "the predictor reads the live feed: drop --no-mqtt")
    mqtt = None if args.no_mqtt else mqtt_options(args, scenario)
    what = scenario.name + f" seed {args.seed}"
    with progress_bar(console, SIMULATED) as progress, api_errors():
        task = progress.add_task(
            what + (f", {args.controller}" if args.controller else ""), total=scenario.duration_s
        )
        result = simulate(
            scenario,
            args.seed,
            controller=args.controller,
            step_s=args.control_step,
            predictor=args.predictor,
            design_flows=args.design_flows,
            fleet=args.fleet,
            mqtt=mqtt,
            speed=speed,
            on_progress=lambda t: progress.update(task, completed=t),
            on_broker=announcer(args, console),
        )
    files = result.save(args.out, plot=not args.no_plot)
    print_summary(console, result.summary)
    print_feed(console, result.feed)
    print_control(console, result.control)
    console.print(escape(f"wrote {', '.join(str(f) for f in files)}"), highlight=False)
    return 0
