"""``trafficsim serve predictor|optimizer``: a service of the centre as its own process,
against a running broker, until stopped."""

from __future__ import annotations

import argparse
import threading
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from trafficsim.sensors.mqtt.clients import OPTIMIZER, PREDICTOR, inbox

if TYPE_CHECKING:
    from trafficsim.sensors.mqtt.transport import BrokerConfig
from trafficsim.runner.cli.common import (
    CONTROLLER_NAMES,
    Subparsers,
    UsageError,
    add_broker_args,
    add_stop_after,
    broker_config,
    broker_reachable,
    client_passwords,
    controller_params,
    topics_from_args,
)


def register(sub: Subparsers) -> None:
    """Add ``serve``."""
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
    sv.add_argument("service", choices=[PREDICTOR, OPTIMIZER])
    add_broker_args(sv)
    sv.add_argument(
        "--model",
        type=Path,
        metavar="DIR",
        help="predictor: a model directory written by 'trafficsim train'",
    )
    sv.add_argument(
        "--controller",
        choices=CONTROLLER_NAMES,
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
        help="clients.toml from 'trafficsim credentials' (the service's own DIR/SERVICE/"
        "clients.toml, or the whole DIR/clients.toml): publish as the service (username "
        "optimizer or predictor) and subscribe as SERVICE-in, each with its password",
    )
    add_stop_after(sv)
    sv.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    import signal

    cfg = broker_config(args)
    topics_from_args(args)  # a bad root is refused before anything loads
    inbox_cfg = cfg
    if args.credentials is not None:
        # Two accounts: the service publishes as itself and subscribes as <service>-in.
        sub_id = inbox(args.service)
        table = client_passwords(args.credentials, [args.service, sub_id])
        inbox_cfg = cfg.with_credentials(sub_id, table[sub_id])
        cfg = cfg.with_credentials(args.service, table[args.service])
    stop = threading.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stop.set())
    console = Console()
    if args.service == OPTIMIZER:
        return _serve_optimizer(args, (cfg, inbox_cfg), stop, console)
    return _serve_predictor(args, (cfg, inbox_cfg), stop, console)


def _serve_predictor(
    args: argparse.Namespace,
    logins: tuple[BrokerConfig, BrokerConfig],
    stop: threading.Event,
    console: Console,
) -> int:
    cfg, inbox_cfg = logins
    from trafficsim.models.persistence import ModelError, load_models
    from trafficsim.models.service import PredictorService
    from trafficsim.sensors.mqtt.bus import serve_handler

    if args.model is None:
        raise UsageError("--model", "the predictor needs --model DIR (from 'trafficsim train')")
    console.print(escape(f"predictor: model {args.model}, broker {cfg.url}"), highlight=False)
    try:
        service = PredictorService(load_models(args.model), topics_from_args(args))
    except ModelError as exc:
        raise UsageError("--model", str(exc)) from None
    with broker_reachable():
        handled = serve_handler(
            cfg,
            service,
            PREDICTOR,
            topics=service.topics,
            stop=stop,
            duration_s=args.duration,
            inbox_cfg=inbox_cfg,
        )
    stats = service.stats
    stats.rejected.update(handled.rejected)
    console.print(
        f"predictor: {stats.readings} readings, {stats.rounds} rounds, {stats.forecasts} "
        f"forecasts, last round {stats.last_round_ms:.1f} ms, rejected "
        f"{sum(stats.rejected.values())} {_top(stats.rejected)}, "
        f"handler errors {sum(handled.errors.values())} {dict(handled.errors)}",
        highlight=False,
        markup=False,
    )
    return 0


def _serve_optimizer(
    args: argparse.Namespace,
    logins: tuple[BrokerConfig, BrokerConfig],
    stop: threading.Event,
    console: Console,
) -> int:
    cfg, inbox_cfg = logins
    from trafficsim.models.optimizer import ControlService, make_controller
    from trafficsim.sensors.mqtt.bus import serve_handler

    topics = topics_from_args(args)
    params = controller_params(args.controller, args.design_flows)
    controller = make_controller(args.controller, topics.root, **params)
    service = ControlService(controller, OPTIMIZER)
    console.print(f"optimizer: {args.controller}, broker {cfg.url}", highlight=False)
    with broker_reachable():
        stats = serve_handler(
            cfg,
            service,
            OPTIMIZER,
            topics=topics,
            stop=stop,
            duration_s=args.duration,
            inbox_cfg=inbox_cfg,
        )
    console.print(
        f"optimizer: {stats.received} messages, {service.stats.rounds} rounds, "
        f"{service.stats.commands} commands, {service.stats.rejected_acks} rejected by "
        f"cabinets, {sum(stats.rejected.values())} unusable messages {_top(stats.rejected)}, "
        f"handler errors {sum(stats.errors.values())} {dict(stats.errors)}",
        highlight=False,
        markup=False,
    )
    return 0


def _top(reasons: Counter[str], n: int = 5) -> dict[str, int]:
    """The commonest reasons (a flood of made-up messages can have thousands)."""
    return dict(reasons.most_common(n))
