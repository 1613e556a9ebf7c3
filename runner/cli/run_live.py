"""The ``run`` command's two paths with field devices: the live MQTT feed
(:func:`trafficsim.runner.live.run_live`) and the closed loop with a controller
(:func:`trafficsim.runner.closed_loop.run_closed_loop`), from the parsed options."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from rich.console import Console

from trafficsim.runner.cli.common import (
    SIMULATED,
    UsageError,
    check_model,
    client_passwords,
    controller_params,
    progress_bar,
)
from trafficsim.runner.cli.run_summary import print_summary
from trafficsim.sim import World, compute


def run_feed(
    args: argparse.Namespace,
    world: World,
    field: Any,
    speed: float | None,
    console: Console,
    progress: Any,
) -> dict[str, Any]:
    """Publish every device's readings while the world runs; the feed's summary."""
    from trafficsim.runner.live import LiveOptions, run_live
    from trafficsim.sensors.mqtt.transport import BrokerConfig, BrokerUnavailableError

    if args.broker:
        try:
            BrokerConfig.from_url(args.broker)
        except ValueError as exc:
            raise UsageError("--broker", str(exc)) from None
    passwords = None
    if args.credentials is not None:
        passwords = client_passwords(args.credentials, list(field.devices))
    if args.predictor is not None:
        check_model(args.predictor)
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
        raise UsageError("--broker", f"{exc}. Is the broker running and the URL right?") from None


def run_controlled(
    args: argparse.Namespace, scenario: Any, speed: float | None, console: Console
) -> int:
    """Run the signals in closed loop with ``--controller`` and write the run with its
    control statistics (control.json)."""
    from trafficsim.models.persistence import ModelError
    from trafficsim.runner.closed_loop import LoopOptions, run_closed_loop
    from trafficsim.runner.output import write_run
    from trafficsim.sensors.mqtt.transport import BrokerUnavailableError

    if not args.control_step > 0:
        raise UsageError("--control-step", "expected a positive number of seconds")
    if args.no_mqtt and (args.external_optimizer or args.external_predictor):
        flag = "--external-optimizer" if args.external_optimizer else "--external-predictor"
        raise UsageError(flag, "services running elsewhere talk over MQTT: drop --no-mqtt")
    passwords = None
    if args.credentials is not None:
        need = ["trafficsim-simulator-in", *sorted(scenario_clients(scenario))]
        if not args.external_optimizer:
            need.append("optimizer")
        if args.predictor is not None:
            need.append("predictor")
        passwords = client_passwords(args.credentials, need)
    params = controller_params(args.controller, args.design_flows)
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
    with progress_bar(console, SIMULATED) as progress:
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
            raise UsageError("--broker", f"{exc}. Is the broker running?") from None
        except ModelError as exc:
            raise UsageError("--predictor", str(exc)) from None
        except ValueError as exc:
            raise UsageError("--controller", str(exc)) from None
    result = compute(world, wall_time_s=time.perf_counter() - t0, fleet=args.fleet)
    files = write_run(result, args.out, plot=not args.no_plot)
    loop = {"controller": args.controller, "transport": opts.transport, **stats.as_dict()}
    files.append(args.out / "control.json")
    files[-1].write_text(json.dumps(loop, indent=2) + "\n", encoding="utf-8")
    print_summary(console, result.summary)
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
